//! What can run where: a model's published artifacts, an engine's formats and hardware. Each check
//! returns the one-line reason a user (or the recommender's rejection list) needs.

use crate::catalog::{Engine, Model, Quant, Vendor};
use crate::hardware::Hardware;

/// Why `quant` on `engine` cannot serve `model` on `hw` with `gpus` GPUs, if it cannot.
pub fn unsupported(
    model: &Model,
    quant: &Quant,
    engine: &Engine,
    hw: &Hardware,
    gpus: u32,
) -> Option<String> {
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

fn parse_cc(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
