//! What can run where: a model's published artifacts, an engine's formats and hardware. Each check
//! returns the one-line reason a user (or the recommender's rejection list) needs.

use crate::catalog::gpu::parse_cc;
use crate::catalog::{Architecture, Engine, Model, Quant, Vendor};
use crate::hardware::Hardware;
use crate::sizing::KvDtype;

/// Why `quant` on `engine` cannot serve `model` on `hw` with `gpus` GPUs, if it cannot.
pub fn unsupported(
    model: &Model,
    quant: &Quant,
    engine: &Engine,
    hw: &Hardware,
    gpus: u32,
) -> Option<String> {
    unrunnable(model, quant, engine).or_else(|| unsupported_on(quant, engine, hw, gpus))
}

/// Why `engine` cannot run `model` in `quant` on any hardware, if it cannot: no such artifact,
/// or the engine does not load it. The part of [`unsupported`] a search asks once per model,
/// quant and engine rather than on every GPU type and count.
pub fn unrunnable(model: &Model, quant: &Quant, engine: &Engine) -> Option<String> {
    if !model.quants.contains(&quant.id) {
        return Some(format!(
            "{} has no published {} artifact (available: {})",
            model.id,
            quant.id,
            model.quants.join(", ")
        ));
    }
    if quant.moe_only && !model.is_moe() {
        return Some(format!("{} is a quant for the 671B MoE only", quant.id));
    }
    if !engine.quants.contains(&quant.id) {
        return Some(format!(
            "{} cannot load {} (it loads: {})",
            engine.id,
            quant.id,
            engine.quants.join(", ")
        ));
    }
    if let Err(why) = super::artifact::artifact(model, quant, engine) {
        return Some(why);
    }
    None
}

/// Why `engine` cannot run `quant` on the first `gpus` GPUs of `hw` (none: on the CPU), if it
/// cannot: the rest of [`unsupported`].
pub fn unsupported_on(quant: &Quant, engine: &Engine, hw: &Hardware, gpus: u32) -> Option<String> {
    if gpus == 0 {
        if !engine.cpu_only {
            return Some(format!(
                "{} needs a GPU; on a CPU-only machine use llama.cpp or ollama",
                engine.id
            ));
        }
        return None;
    }
    for gpu in &hw.gpus[..(gpus as usize).min(hw.gpus.len())] {
        if !engine.vendors.contains(&gpu.vendor) {
            let runs_on: Vec<String> = engine
                .vendors
                .iter()
                .map(|v| format!("{v:?}").to_lowercase())
                .collect();
            let hint = match gpu.vendor {
                Vendor::Apple => "; on Apple Silicon use llama.cpp or ollama",
                Vendor::Intel => "; on Intel Arc r1pick models llama.cpp (SYCL/Vulkan) only",
                _ => "",
            };
            return Some(format!(
                "{} does not run on {} (runs on {}){hint}",
                engine.id,
                gpu.name,
                runs_on.join(", ")
            ));
        }
        if let (Some(min), Some(cc)) = (engine.min_compute_capability.as_deref(), gpu.cuda_cc()) {
            let need = parse_cc(min);
            if need.is_some_and(|need| cc < need) {
                return Some(format!(
                    "{} needs compute capability {min} or newer; {} is {}.{}",
                    engine.id, gpu.name, cc.0, cc.1
                ));
            }
        }
        let off_target = |g: &crate::catalog::engine::Gate| {
            gpu.vendor == Vendor::Amd
                && !g.amd_targets.is_empty()
                && !gpu
                    .compute_capability
                    .as_deref()
                    .is_some_and(|gfx| g.amd_targets.iter().any(|t| t == gfx))
        };
        if let Some(gate) = engine.gates.iter().find(|g| {
            g.quants.contains(&quant.id)
                && (g.vendors.contains(&gpu.vendor)
                    || off_target(g)
                    || g.min_compute_capability
                        .as_deref()
                        .and_then(parse_cc)
                        .zip(gpu.cuda_cc())
                        .is_some_and(|(need, cc)| cc < need))
        }) {
            return Some(format!("{} ({})", gate.reason, gpu.name));
        }
        if gpu.vendor == Vendor::Amd
            && !engine.amd_targets.is_empty()
            && let Some(gfx) = gpu.compute_capability.as_deref()
            && !engine.amd_targets.iter().any(|t| t == gfx)
        {
            return Some(format!(
                "{} does not support {} ({gfx}; its ROCm build supports {})",
                engine.id,
                gpu.name,
                engine.amd_targets.join(", ")
            ));
        }
        if gpu.mig {
            return Some(format!(
                "{} is in MIG mode; its whole-GPU numbers do not apply",
                gpu.name
            ));
        }
    }
    None
}

/// Why `engine` cannot allocate its KV cache as `dtype`, if it cannot. 16-bit caches run
/// everywhere; the quantized types only where the engine lists them (data/engines.toml `kv_dtypes`).
pub fn kv_dtype_refusal(engine: &Engine, dtype: KvDtype) -> Option<String> {
    if matches!(dtype, KvDtype::Bf16 | KvDtype::Fp16)
        || engine.kv_dtypes.iter().any(|k| k == dtype.id())
    {
        return None;
    }
    let mut valid = vec!["bf16", "fp16"];
    valid.extend(engine.kv_dtypes.iter().map(String::as_str));
    Some(format!(
        "{} does not allocate a {} KV cache (--kv-dtype: {})",
        engine.id,
        dtype.id(),
        valid.join(", ")
    ))
}

/// Why tensor parallel `tp` cannot split `model`, if it cannot. vLLM, SGLang and TRT-LLM shard
/// attention by heads and the MLP by columns: the attention heads must divide by TP, the KV heads
/// must divide by TP or TP by them (then each rank keeps a replica), and the FFN width must split
/// (vLLM `ColumnParallelLinear` / `QKVParallelLinear` divide-or-fail, `divide()` in
/// vllm/distributed/utils.py).
pub fn tp_refusal(model: &Model, tp: u32) -> Option<String> {
    let tp = tp.max(1);
    let heads = model.heads();
    if !heads.is_multiple_of(tp) {
        return Some(format!(
            "{} has {heads} attention heads, not divisible by tensor parallel {tp}",
            model.id
        ));
    }
    let (kv_heads, ffn) = match &model.arch {
        Architecture::Dense(a) => (Some(a.kv_heads), vec![a.ffn]),
        Architecture::GqaMoe(a) => (Some(a.kv_heads), vec![a.ffn, a.moe_ffn]),
        // MLA has no KV heads to split; the dense layers' FFN and each expert's must split.
        Architecture::Moe(a) => (None, vec![a.ffn, a.moe_ffn]),
    };
    if let Some(kv) = kv_heads
        && !(kv.is_multiple_of(tp) || tp.is_multiple_of(kv))
    {
        return Some(format!(
            "{} has {kv} KV heads: tensor parallel {tp} neither divides them nor is a multiple of them",
            model.id
        ));
    }
    if let Some(f) = ffn.iter().find(|f| !f.is_multiple_of(tp)) {
        return Some(format!(
            "{}'s FFN width {f} does not split into tensor parallel {tp}",
            model.id
        ));
    }
    None
}

/// Tensor-parallel degrees ≤ `max` that split `model`.
pub fn valid_tp(model: &Model, max: u32) -> Vec<u32> {
    (1..=max.max(1))
        .filter(|&t| tp_refusal(model, t).is_none())
        .collect()
}
