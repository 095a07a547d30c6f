//! GGUF metadata and tensor infos → the architecture and the exact bytes per tensor class.
//!
//! llama.cpp's key names (`{arch}.block_count`, `{arch}.attention.head_count_kv`, …) and tensor
//! names (`blk.N.attn_q.weight`, `blk.N.ffn_up_exps.weight`, …), from llama.cpp's llama-arch.cpp.

use super::gguf::Header;
use super::{Imported, Precision};
use crate::catalog::model::{
    Architecture, DenseArch, GqaMoeArch, MeasuredLayer, MeasuredWeights, MoeArch,
};

type Res<T> = std::result::Result<T, String>;

/// GGUF `general.architecture` values read, and the config.json model_type each stands for.
pub const SUPPORTED: &[(&str, &str)] = &[
    ("qwen2", "qwen2"),
    ("llama", "llama"),
    ("qwen3", "qwen3"),
    ("deepseek2", "deepseek_v3"),
    ("qwen3moe", "qwen3_moe"),
];

/// Read the model of a GGUF file: `shards[0]` holds the metadata, every shard holds tensors.
pub fn read(shards: &[Header]) -> Res<Imported> {
    let h = shards.first().ok_or("no GGUF header")?;
    let gguf_arch = h
        .str("general.architecture")
        .ok_or("GGUF has no general.architecture")?;
    let model_type = SUPPORTED
        .iter()
        .find(|(g, _)| *g == gguf_arch)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let names: Vec<&str> = SUPPORTED.iter().map(|(g, _)| *g).collect();
            format!(
                "GGUF architecture '{gguf_arch}' is not supported (supported: {}; Mistral and Mixtral files use 'llama')",
                names.join(", ")
            )
        })?;
    let key = |k: &str| format!("{gguf_arch}.{k}");
    let req = |k: &str| -> Res<u32> {
        let v = h
            .u64(&key(k))
            .ok_or_else(|| format!("GGUF metadata {} is missing or not a whole number", key(k)))?;
        u32::try_from(v).map_err(|_| format!("GGUF metadata {} = {v} is too large", key(k)))
    };
    let opt = |k: &str| -> Res<Option<u32>> {
        match h.get(&key(k)) {
            None => Ok(None),
            Some(_) => req(k).map(Some),
        }
    };
    let tensors: Vec<_> = shards.iter().flat_map(|s| &s.tensors).collect();
    let find = |name: &str| tensors.iter().find(|t| t.name == name);
    let layers = req("block_count")?;
    let hidden = req("embedding_length")?;
    let heads = req("attention.head_count")?;
    let kv_heads = opt("attention.head_count_kv")?.unwrap_or(heads);
    if heads == 0 {
        return Err(format!(
            "GGUF metadata {} is 0",
            key("attention.head_count")
        ));
    }
    let vocab = match opt("vocab_size")? {
        Some(v) => v,
        None => find("token_embd.weight")
            .and_then(|t| t.dims.get(1))
            .and_then(|v| u32::try_from(*v).ok())
            .ok_or("GGUF has neither a vocab_size nor a token_embd.weight tensor")?,
    };
    let tied = find("output.weight").is_none();
    let head_dim = opt("attention.key_length")?.unwrap_or(hidden / heads);
    let experts = opt("expert_count")?.unwrap_or(0);
    let arch = if model_type == "deepseek_v3" {
        let rope = req("rope.dimension_count")?;
        // MLA GGUFs since llama.cpp's 2025 MLA change keep the per-head sizes in *_mla keys.
        let (k_len, v_len) = match opt("attention.key_length_mla")? {
            Some(k) => (k, req("attention.value_length_mla")?),
            None => (req("attention.key_length")?, req("attention.value_length")?),
        };
        Architecture::Moe(MoeArch {
            layers,
            dense_layers: opt("leading_dense_block_count")?.unwrap_or(0),
            hidden,
            ffn: req("feed_forward_length")?,
            moe_ffn: req("expert_feed_forward_length")?,
            experts,
            experts_per_token: req("expert_used_count")?,
            shared_experts: opt("expert_shared_count")?.unwrap_or(0),
            heads,
            q_lora_rank: opt("attention.q_lora_rank")?.unwrap_or(0),
            kv_lora_rank: req("attention.kv_lora_rank")?,
            qk_nope_dim: k_len.saturating_sub(rope),
            qk_rope_dim: rope,
            v_head_dim: v_len,
            vocab,
            tied_embeddings: tied,
            mtp_layers: 0,
            router_bias: find("blk.3.exp_probs_b.bias").is_some()
                || tensors
                    .iter()
                    .any(|t| t.name.ends_with(".exp_probs_b.bias")),
        })
    } else {
        let qkv_bias = find("blk.0.attn_q.bias").is_some();
        let qk_norm = find("blk.0.attn_q_norm.weight").is_some();
        let sliding_window = opt("attention.sliding_window")?;
        if experts > 0 {
            let moe_ffn = match opt("expert_feed_forward_length")? {
                Some(f) => f,
                None => req("feed_forward_length")?, // Mixtral: experts as wide as the FFN
            };
            Architecture::GqaMoe(GqaMoeArch {
                layers,
                dense_layers: 0,
                hidden,
                ffn: opt("feed_forward_length")?.unwrap_or(moe_ffn),
                moe_ffn,
                experts,
                experts_per_token: req("expert_used_count")?,
                heads,
                kv_heads,
                head_dim,
                vocab,
                tied_embeddings: tied,
                qkv_bias,
                qk_norm,
                sliding_window,
            })
        } else {
            Architecture::Dense(DenseArch {
                layers,
                hidden,
                ffn: req("feed_forward_length")?,
                heads,
                kv_heads,
                head_dim,
                vocab,
                tied_embeddings: tied,
                qkv_bias,
                qk_norm,
                sliding_window,
            })
        }
    };
    let model_type = match (model_type, &arch) {
        ("llama", Architecture::GqaMoe(_)) => "mixtral",
        (m, _) => m,
    };
    let measured = measure(&tensors, layers, experts)?;
    let linear: (u64, u64) = tensors
        .iter()
        .filter(|t| t.name.starts_with("blk.") && t.dims.len() >= 2)
        .fold((0, 0), |(b, n), t| (b + t.bytes, n + t.elements()));
    let bits = if linear.1 == 0 {
        0.0
    } else {
        linear.0 as f64 * 8.0 / linear.1 as f64
    };
    Ok(Imported {
        architecture: model_type.to_string(),
        name: h.str("general.name").map(str::to_string),
        arch,
        max_context: req("context_length")?,
        rope_scaling: h.str(&key("rope.scaling.type")).map(|t| {
            match h.get(&key("rope.scaling.factor")) {
                Some(super::gguf::Meta::Float(f)) => format!("{t} ×{f}"),
                _ => t.to_string(),
            }
        }),
        precision: Precision::Gguf {
            file_type: h.u64("general.file_type"),
            bits,
        },
        checkpoint_bytes: Some(tensors.iter().map(|t| t.bytes).sum()),
        tensors: Some(tensors.len()),
        measured: Some(measured),
    })
}

/// Sort every tensor's bytes into the classes sizing uses.
fn measure(
    tensors: &[&super::gguf::TensorInfo],
    layers: u32,
    experts: u32,
) -> Res<MeasuredWeights> {
    let mut m = MeasuredWeights {
        layers: vec![MeasuredLayer::default(); layers as usize],
        ..MeasuredWeights::default()
    };
    for t in tensors {
        let in_layer = t
            .name
            .strip_prefix("blk.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(i, rest)| i.parse::<usize>().ok().map(|i| (i, rest)));
        match in_layer {
            Some((i, rest)) if i < m.layers.len() => {
                let l = &mut m.layers[i];
                if rest.contains("_exps") {
                    l.routed += t.bytes;
                    l.experts = experts;
                } else if rest.starts_with("ffn_gate_inp") || rest.starts_with("exp_probs_b") {
                    l.router += t.bytes;
                } else if rest.starts_with("ffn_norm") || !rest.starts_with("ffn_") {
                    // the layer's norms count with attention, as in catalog::params
                    l.attention += t.bytes;
                    if rest.starts_with("attn_q_a") || rest.starts_with("attn_kv_a") {
                        l.attention_replicated += t.bytes;
                    }
                } else {
                    l.ffn += t.bytes; // dense FFN and shared experts
                }
            }
            _ if t.name == "token_embd.weight" => m.embedding += t.bytes,
            // output head and norm, and anything outside the decoder layers (MTP blocks, rope_freqs)
            _ => m.output += t.bytes,
        }
    }
    Ok(m)
}
