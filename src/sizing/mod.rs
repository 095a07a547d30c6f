//! The memory model: how much GPU and host memory a deployment needs, device by device.
//!
//! Pure functions of the catalog entries, the hardware and the workload. Tensor-parallel engines
//! (vLLM, SGLang, TRT-LLM) shard every layer across GPUs (`tensor`); layer-split engines
//! (llama.cpp, Ollama, transformers) give each GPU whole layers and spill what does not fit to host
//! memory (`layer_split`). `plan` holds the types, `costs` the engine's per-GPU costs.

pub mod artifact;
pub mod capacity;
mod costs;
pub mod kv;
mod layer_split;
pub mod parallel;
mod plan;
pub mod support;
mod tensor;
pub mod weights;

use crate::catalog::engine::{Batching, MultiGpu};
use crate::error::{Error, Result};
use crate::hardware::Hardware;
pub use kv::KvDtype;
pub use plan::{Deployment, DeviceMemory, MemoryPlan, Parallel, Placement, Spread, Workload};
pub use tensor::{stage_layers, stage_weights, stage_weights_with};
pub use weights::WeightBytes;

/// Plan the memory of `d` on `hw`. Errors are impossible requests (bad TP degree, too few GPUs);
/// a deployment that is merely too big returns a plan with `fits: false` and the shortfall.
pub fn plan(d: &Deployment, hw: &Hardware) -> Result<MemoryPlan> {
    plan_with(d, hw, &WeightBytes::of(d.model, d.quant))
}

/// [`plan`] with the model's weight breakdown already computed (the search reuses it).
pub fn plan_with(d: &Deployment, hw: &Hardware, weights: &WeightBytes) -> Result<MemoryPlan> {
    if d.gpus as usize > hw.gpus.len() {
        return Err(Error::input(format!(
            "the deployment wants {} GPUs but the machine has {}",
            d.gpus,
            hw.gpus.len()
        )));
    }
    let w = d.workload;
    if w.concurrency == 0 || w.context == 0 {
        return Err(Error::input("context and concurrency must be at least 1"));
    }
    if w.concurrency > 1 && d.engine.batching == Batching::Single {
        return Err(Error::input(format!(
            "{} serves one sequence at a time; --concurrency {} needs a batching engine (vllm, sglang, trtllm, llama.cpp)",
            d.engine.id, w.concurrency
        )));
    }
    if w.context > d.model.max_context {
        return Err(Error::input(format!(
            "context {} is above {}'s maximum of {} tokens",
            w.context, d.model.id, d.model.max_context
        )));
    }
    if let Some(why) = support::kv_dtype_refusal(d.engine, d.kv_dtype) {
        return Err(Error::input(why));
    }
    let kv_per_token = kv::per_token(d.model, d.mla_layout(), d.kv_dtype);
    // The tensor planner checks EP / DP attention against its group; elsewhere only the engine.
    if (d.gpus == 0 || d.engine.multi_gpu == MultiGpu::Layer)
        && let Some(why) = parallel::refusal(d, d.gpus.max(1))
    {
        return Err(Error::input(why));
    }
    let mut plan = if d.gpus == 0 {
        layer_split::cpu_only(d, hw, weights)
    } else {
        match d.engine.multi_gpu {
            MultiGpu::Tensor => tensor::tensor_parallel(d, hw, weights)?,
            MultiGpu::Layer => layer_split::layer_split(d, hw, weights),
        }
    };
    plan.kv_bytes_per_token = kv_per_token.round() as u64;
    if plan.fits
        && let Some(why) = costs::startup_refusal(d, hw)
    {
        plan.fits = false;
        plan.shortfall = Some(why);
    }
    Ok(plan)
}
