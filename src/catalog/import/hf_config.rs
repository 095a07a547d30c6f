//! A Hugging Face `config.json` (and optional `model.safetensors.index.json`) → the architecture the
//! catalog uses, so a model the user brings is sized by exactly the same formulas.
//!
//! Pure: text in, [`Imported`] out. Every field is read with its transformers default where the
//! config may omit it, and a missing or mistyped required field is one line naming it.

use serde_json::{Map, Value};

use super::{Imported, Precision};
use crate::catalog::model::{Architecture, DenseArch, GqaMoeArch, MoeArch};

/// `model_type`s read, in the order the error lists them.
pub const SUPPORTED: &[&str] = &[
    "qwen2",
    "llama",
    "qwen3",
    "deepseek_v3",
    "deepseek_v2",
    "qwen3_moe",
    "mistral",
    "mixtral",
];

type Res<T> = std::result::Result<T, String>;

struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn opt_u32(&self, key: &str) -> Res<Option<u32>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("{key} is {v}, not a whole number up to {}", u32::MAX)),
        }
    }

    fn u32(&self, key: &str) -> Res<u32> {
        self.opt_u32(key)?
            .ok_or_else(|| format!("{key} is missing"))
    }

    fn bool_or(&self, key: &str, default: bool) -> Res<bool> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(format!("{key} is {v}, not true or false")),
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }
}

/// Read `config.json` text (and the safetensors index when there is one).
pub fn read(config: &str, index: Option<&str>) -> Res<Imported> {
    let value: Value = serde_json::from_str(config).map_err(|e| format!("not JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or("not a JSON object (a config.json holds one object)")?;
    let f = Fields(obj);
    let model_type = f.str("model_type").ok_or("model_type is missing")?;
    let index = index.map(read_index).transpose()?;
    // The index lists lm_head.weight only when the head is a tensor of its own.
    let tied_default = index.as_ref().is_some_and(|i| !i.has_lm_head);
    let tied = f.bool_or("tie_word_embeddings", tied_default)?;
    let layers = f.u32("num_hidden_layers")?;
    let hidden = f.u32("hidden_size")?;
    let heads = f.u32("num_attention_heads")?;
    let kv_heads = f.opt_u32("num_key_value_heads")?.unwrap_or(heads);
    let vocab = f.u32("vocab_size")?;
    if heads == 0 {
        return Err("num_attention_heads is 0".into());
    }
    let head_dim = match f.opt_u32("head_dim")? {
        Some(d) => d,
        None if model_type == "qwen3" || model_type == "qwen3_moe" => 128, // Qwen3Config default
        None => hidden / heads,
    };
    // Qwen2/Qwen3 carry a sliding_window that applies only with use_sliding_window.
    let window = |f: &Fields| -> Res<Option<u32>> {
        let gated = matches!(model_type, "qwen2" | "qwen3" | "qwen3_moe");
        if gated && !f.bool_or("use_sliding_window", false)? {
            return Ok(None);
        }
        f.opt_u32("sliding_window")
    };
    let arch = match model_type {
        "qwen2" | "llama" | "qwen3" | "mistral" => {
            if f.bool_or("mlp_bias", false)? {
                return Err("mlp_bias = true is not supported".into());
            }
            Architecture::Dense(DenseArch {
                layers,
                hidden,
                ffn: f.u32("intermediate_size")?,
                heads,
                kv_heads,
                head_dim,
                vocab,
                tied_embeddings: tied,
                qkv_bias: model_type == "qwen2" || f.bool_or("attention_bias", false)?,
                qk_norm: model_type == "qwen3",
                sliding_window: window(&f)?,
            })
        }
        "mixtral" | "qwen3_moe" => {
            let (experts, moe_ffn, ffn) = if model_type == "mixtral" {
                let ffn = f.u32("intermediate_size")?;
                (f.u32("num_local_experts")?, ffn, ffn)
            } else {
                (
                    f.u32("num_experts")?,
                    f.u32("moe_intermediate_size")?,
                    f.u32("intermediate_size")?,
                )
            };
            let dense_layers = if model_type == "qwen3_moe" {
                qwen3_dense_layers(&f, layers)?
            } else {
                0
            };
            Architecture::GqaMoe(GqaMoeArch {
                layers,
                dense_layers,
                hidden,
                ffn,
                moe_ffn,
                experts,
                experts_per_token: f.u32("num_experts_per_tok")?,
                heads,
                kv_heads,
                head_dim,
                vocab,
                tied_embeddings: tied,
                qkv_bias: f.bool_or("attention_bias", false)?,
                qk_norm: model_type == "qwen3_moe",
                sliding_window: window(&f)?,
            })
        }
        "deepseek_v3" | "deepseek_v2" => {
            if f.opt_u32("moe_layer_freq")?.unwrap_or(1) != 1 {
                return Err("moe_layer_freq other than 1 is not supported".into());
            }
            if f.bool_or("attention_bias", false)? {
                return Err("attention_bias = true is not supported for MLA".into());
            }
            Architecture::Moe(MoeArch {
                layers,
                dense_layers: f.opt_u32("first_k_dense_replace")?.unwrap_or(0),
                hidden,
                ffn: f.u32("intermediate_size")?,
                moe_ffn: f.u32("moe_intermediate_size")?,
                experts: f.u32("n_routed_experts")?,
                experts_per_token: f.u32("num_experts_per_tok")?,
                shared_experts: f.opt_u32("n_shared_experts")?.unwrap_or(0),
                heads,
                q_lora_rank: f.opt_u32("q_lora_rank")?.unwrap_or(0),
                kv_lora_rank: f.u32("kv_lora_rank")?,
                qk_nope_dim: f.u32("qk_nope_head_dim")?,
                qk_rope_dim: f.u32("qk_rope_head_dim")?,
                v_head_dim: f.u32("v_head_dim")?,
                vocab,
                tied_embeddings: tied,
                mtp_layers: f.opt_u32("num_nextn_predict_layers")?.unwrap_or(0),
                // V3's auxiliary-loss-free routing adds e_score_correction_bias; V2's greedy has none.
                router_bias: f.str("topk_method") == Some("noaux_tc"),
            })
        }
        other => {
            return Err(format!(
                "model_type '{other}' is not supported (supported: {})",
                SUPPORTED.join(", ")
            ));
        }
    };
    let max_context = f.u32("max_position_embeddings")?;
    Ok(Imported {
        architecture: model_type.to_string(),
        name: f.str("_name_or_path").map(str::to_string),
        arch,
        // RoPE scaling stretches positions the model was trained for; max_position_embeddings
        // already is the context it serves, so the factor is reported, never multiplied in.
        max_context,
        rope_scaling: rope_scaling(obj.get("rope_scaling")),
        precision: precision(obj)?,
        checkpoint_bytes: index.as_ref().and_then(|i| i.total_size),
        tensors: index.as_ref().map(|i| i.tensors),
        measured: None,
    })
}

/// Qwen3-MoE layers with a dense MLP: those in `mlp_only_layers`, and those off the sparse step.
fn qwen3_dense_layers(f: &Fields, layers: u32) -> Res<u32> {
    let step = f.opt_u32("decoder_sparse_step")?.unwrap_or(1).max(1);
    let only: Vec<u64> = match f.0.get("mlp_only_layers") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).collect(),
        Some(v) => return Err(format!("mlp_only_layers is {v}, not a list")),
    };
    Ok((0..layers)
        .filter(|i| only.contains(&u64::from(*i)) || (i + 1) % step != 0)
        .count() as u32)
}

fn rope_scaling(v: Option<&Value>) -> Option<String> {
    let o = v?.as_object()?;
    let kind = o
        .get("rope_type")
        .or(o.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let factor = o.get("factor").and_then(Value::as_f64);
    let orig = o
        .get("original_max_position_embeddings")
        .and_then(Value::as_u64);
    Some(match (factor, orig) {
        (Some(fa), Some(or)) => format!("{kind} ×{fa} over {or}"),
        (Some(fa), None) => format!("{kind} ×{fa}"),
        _ => kind.to_string(),
    })
}

/// The checkpoint's weight precision: `quantization_config` when present, else `torch_dtype`.
fn precision(obj: &Map<String, Value>) -> Res<Precision> {
    if let Some(q) = obj.get("quantization_config").and_then(Value::as_object) {
        let method = q.get("quant_method").and_then(Value::as_str).unwrap_or("");
        let bits = q.get("bits").and_then(Value::as_u64);
        return match (method, bits) {
            ("fp8" | "fbgemm_fp8", _) => Ok(Precision::Fp8),
            ("awq" | "gptq", Some(4)) => Ok(Precision::Int4),
            ("gptq", Some(8)) => Ok(Precision::Int8),
            ("compressed-tensors", _) => compressed_tensors(q),
            _ => Err(format!(
                "quantization_config quant_method '{method}'{} is not supported (supported: fp8, fbgemm_fp8, awq 4-bit, gptq 4/8-bit, compressed-tensors int4/int8/fp8)",
                bits.map(|b| format!(" with {b} bits")).unwrap_or_default()
            )),
        };
    }
    let dtype = obj
        .get("torch_dtype")
        .or(obj.get("dtype"))
        .and_then(Value::as_str)
        .unwrap_or("bfloat16");
    match dtype {
        "bfloat16" => Ok(Precision::Bf16),
        "float16" => Ok(Precision::Fp16),
        "float32" => Ok(Precision::Fp32),
        other => Err(format!(
            "torch_dtype '{other}' is not supported (supported: bfloat16, float16, float32)"
        )),
    }
}

/// compressed-tensors: the weights' `num_bits` and `type` of the first config group.
fn compressed_tensors(q: &Map<String, Value>) -> Res<Precision> {
    let weights = q
        .get("config_groups")
        .and_then(Value::as_object)
        .and_then(|g| g.values().next())
        .and_then(|g| g.get("weights"))
        .and_then(Value::as_object)
        .ok_or("quantization_config: compressed-tensors without config_groups.*.weights")?;
    let bits = weights.get("num_bits").and_then(Value::as_u64);
    let kind = weights.get("type").and_then(Value::as_str).unwrap_or("int");
    match (kind, bits) {
        ("int", Some(4)) => Ok(Precision::Int4),
        ("int", Some(8)) => Ok(Precision::Int8),
        ("float", Some(8)) => Ok(Precision::Fp8),
        _ => Err(format!(
            "quantization_config: compressed-tensors {kind} {} bits is not supported (supported: int 4, int 8, float 8)",
            bits.map_or("?".to_string(), |b| b.to_string())
        )),
    }
}

struct Index {
    total_size: Option<u64>,
    has_lm_head: bool,
    tensors: usize,
}

fn read_index(text: &str) -> Res<Index> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("model.safetensors.index.json is not JSON: {e}"))?;
    let map = v
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or("model.safetensors.index.json has no weight_map")?;
    Ok(Index {
        total_size: v
            .get("metadata")
            .and_then(|m| m.get("total_size"))
            .and_then(Value::as_u64),
        has_lm_head: map.contains_key("lm_head.weight"),
        tensors: map.len(),
    })
}
