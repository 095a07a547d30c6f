//! Engine costs on each GPU that do not depend on the placement: KV tokens held, activation peak,
//! fixed overhead, usable capacity, and vLLM's start-up check.

use crate::catalog::engine::{ActivationRule, Batching, Engine};
use crate::hardware::Hardware;
use crate::quantity::bytes;

use super::plan::{Deployment, Workload};

pub(super) const MIB: f64 = 1024.0 * 1024.0;

/// Tokens of KV one device must hold for all sequences, rounded up to the engine's blocks.
pub(super) fn kv_tokens(engine: &Engine, w: &Workload) -> f64 {
    let block = u64::from(engine.memory.kv_block_tokens.max(1));
    let round = |t: u64| t.div_ceil(block) * block;
    match engine.batching {
        Batching::Continuous => (round(u64::from(w.context)) * u64::from(w.concurrency)) as f64,
        // llama-server: one n_ctx shared by all slots, padded as a whole.
        Batching::Slots | Batching::Single => {
            round(u64::from(w.context) * u64::from(w.concurrency)) as f64
        }
    }
}

/// Peak activation / compute-buffer bytes on one GPU.
pub(super) fn activation(d: &Deployment, tp: u32) -> f64 {
    let m = d.model;
    let w = d.workload;
    let h = f64::from(m.hidden());
    match &d.engine.memory.activation {
        ActivationRule::Coefficients {
            dense,
            moe,
            scale,
            floor_mib,
        } => {
            let tokens = f64::from(d.engine.memory.batched_tokens)
                .min(f64::from(w.context) * f64::from(w.concurrency));
            let idx = match tp {
                0 | 1 => 0,
                2 => 1,
                3 | 4 => 2,
                _ => 3,
            };
            let coeff = if m.is_moe() { moe[idx] } else { dense[idx] };
            (2.0 * tokens * h * coeff * scale).max(floor_mib * MIB)
        }
        ActivationRule::ComputeBuffer => {
            let ubatch = f64::from(d.engine.memory.batched_tokens).min(f64::from(w.context));
            4.0 * ubatch * (h + f64::from(m.vocab()))
        }
        ActivationRule::EagerAttention => {
            let s = f64::from(w.prompt.max(1));
            let b = f64::from(w.concurrency);
            let heads = f64::from(m.heads()) / f64::from(tp.max(1));
            // one layer's scores (bf16) + a handful of hidden-state copies + full-prompt fp32 logits
            b * (heads * s * s * 2.0 + 8.0 * s * h * 2.0 + s * f64::from(m.vocab()) * 4.0)
        }
        ActivationRule::Sdpa => {
            let s = w.prompt.max(1);
            let b = f64::from(w.concurrency);
            // SDPA's fused kernels never hold the S² scores: the prefill peaks in one layer's MLP
            // (the same forward vLLM profiles), and generate() computes the lm_head for the last
            // position only (`logits_to_keep`), upcast to fp32.
            b * (super::capacity::forward_peak(d, s, tp) + f64::from(m.vocab()) * 4.0)
        }
    }
}

/// Fixed per-GPU memory: runtime, CUDA graphs, NCCL buffers, the engine's free margin.
pub(super) fn overhead(d: &Deployment, multi_gpu: bool) -> f64 {
    let mem = &d.engine.memory;
    let graphs = if d.model.is_moe() {
        mem.cuda_graphs_moe_mib
    } else {
        mem.cuda_graphs_mib
    };
    let nccl = if multi_gpu { mem.nccl_mib } else { 0.0 };
    (mem.runtime_mib + graphs + nccl + mem.margin_mib) * MIB
}

/// The CUDA context and NCCL buffers of one GPU: what an engine has allocated before it loads
/// anything (part of [`overhead`]).
pub(super) fn context_and_nccl(d: &Deployment, multi_gpu: bool) -> f64 {
    let mem = &d.engine.memory;
    let nccl = if multi_gpu { mem.nccl_mib } else { 0.0 };
    (mem.runtime_mib + nccl) * MIB
}

/// Usable bytes of each of the first `n` GPUs under the engine's rule.
pub(super) fn capacities(d: &Deployment, hw: &Hardware, n: u32) -> Vec<f64> {
    let mem = &d.engine.memory;
    hw.gpus[..n as usize]
        .iter()
        .map(|g| {
            let base = if mem.fraction_of_total {
                g.memory_bytes
            } else {
                g.available_bytes
            };
            base as f64 * mem.gpu_fraction
        })
        .collect()
}

/// vLLM refuses to start on a GPU with less free memory than its utilization × total.
pub(super) fn startup_refusal(d: &Deployment, hw: &Hardware) -> Option<String> {
    let mem = &d.engine.memory;
    if !mem.fraction_of_total {
        return None;
    }
    hw.gpus[..d.gpus as usize]
        .iter()
        .enumerate()
        .find(|(_, g)| (g.available_bytes as f64) < mem.gpu_fraction * g.memory_bytes as f64)
        .map(|(i, g)| {
            format!(
                "{} refuses to start: GPU {i} has {} free of {}, less than gpu_memory_utilization {} × total ({}); lower it to {:.2} or free the GPU",
                d.engine.name,
                bytes(g.available_bytes),
                bytes(g.memory_bytes),
                mem.gpu_fraction,
                bytes((mem.gpu_fraction * g.memory_bytes as f64) as u64),
                (g.available_bytes as f64 / g.memory_bytes as f64 * 100.0).floor() / 100.0
            )
        })
}
