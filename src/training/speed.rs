//! Training speed: FLOPs per token over the achievable tensor rate of the GPUs.

use schemars::JsonSchema;
use serde::Serialize;

use super::constants::TrainingConstants;
use super::lora::adapter_params;
use super::{Method, TrainSetup, dense_arch};
use crate::catalog::{Model, ParamBreakdown};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TrainSpeed {
    /// Forward FLOPs of one token: 2 × matmul parameters + causal attention.
    pub forward_flops_per_token: f64,
    /// Forward, backward and (with checkpointing) the recomputed forward.
    pub flops_per_token: f64,
    /// Dense BF16 tensor TFLOPS of one GPU (the GPU catalog's rate).
    pub gpu_tflops: f64,
    /// Model FLOPs utilisation assumed (data/training.toml).
    pub mfu: f64,
    /// Share of the LoRA rate QLoRA keeps while dequantizing (1 otherwise).
    pub dequant_efficiency: f64,
    /// Trained tokens per second over all GPUs.
    pub tokens_per_s: f64,
}

/// Tokens per second of `setup` on `gpus` GPUs of `gpu_tflops` each.
pub fn speed(
    c: &TrainingConstants,
    model: &Model,
    s: &TrainSetup,
    gpu_tflops: f64,
) -> Result<TrainSpeed> {
    let a = dense_arch(model)?;
    let p = ParamBreakdown::of(model);
    let matmul = (p.total() - p.embedding) as f64;
    let attention =
        2.0 * f64::from(a.layers) * f64::from(s.seq) * f64::from(a.heads) * f64::from(a.head_dim);
    let forward = 2.0 * matmul + attention;
    let backward = if s.is_lora() {
        c.speed.backward_lora
    } else {
        c.speed.backward_full
    };
    let recompute = if s.recomputes() { 1.0 } else { 0.0 };
    let mut flops = forward * (1.0 + backward + recompute);
    if s.is_lora() {
        // The adapters: forward 2·P, gradients of their input and of their weights 4·P.
        let adapters = adapter_params(a, s.targets, s.rank) as f64;
        flops += adapters * 2.0 * (3.0 + recompute);
    }
    let dequant_efficiency = if s.method == Method::Qlora {
        c.speed.qlora_efficiency
    } else {
        1.0
    };
    let rate = gpu_tflops * 1e12 * c.speed.mfu * dequant_efficiency * f64::from(s.gpus.max(1));
    Ok(TrainSpeed {
        forward_flops_per_token: forward,
        flops_per_token: flops,
        gpu_tflops,
        mfu: c.speed.mfu,
        dequant_efficiency,
        tokens_per_s: rate / flops,
    })
}
