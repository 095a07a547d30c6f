//! KV capacity: how many tokens of KV cache the engine allocates once the weights are loaded, by the
//! engine's own memory rule (issue 10 item 5–6), and what that means for concurrency and context.
//!
//! The rules (data/serving.toml names each engine's):
//! * vLLM: `gpu_memory_utilization` × total memory − weights − non-torch memory − the activation
//!   peak of its profiling run: a forward of `max_num_batched_tokens` tokens, then the sampler's
//!   warm-up on `max_num_seqs` rows of logits, whichever is larger.
//! * SGLang: `mem_fraction_static` × the memory free once its CUDA context and NCCL are up covers
//!   weights + KV pool.
//! * TRT-LLM: `free_gpu_memory_fraction` × (memory free after the weights, the runtime and its
//!   buffers load).
//! * llama.cpp / Ollama: exactly context × slots, as launched.
//! * transformers: one sequence; its cache grows into whatever memory is left.
//!
//! "Free" is what cudaMemGetInfo reports: the total less the driver's reservation and whatever
//! other processes hold (the GPU's `available_bytes`); vLLM's fraction is of the total.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Deployment, MemoryPlan, costs, kv};
use crate::catalog::Architecture;
use crate::hardware::{Gpu, Hardware};

const MIB: f64 = 1024.0 * 1024.0;

/// An engine's rule for the memory its KV pool gets.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KvRule {
    /// vLLM: a fraction of total memory, less weights, non-torch memory and the profiled peak.
    /// `sampler_copies`: fp32 copies of the `max_num_seqs` × vocab logits live at the peak of
    /// the profile's sampler warm-up (data/serving.toml counts them).
    TotalFraction { fraction: f64, sampler_copies: f64 },
    /// SGLang: a fraction by TP size (1, 2, 4, 8, 16) of the memory free at start (free memory
    /// less its CUDA context and NCCL), for weights + KV.
    StaticFraction { by_tp: [f64; 5] },
    /// TRT-LLM: a fraction of what is free after the weights and the runtime buffers (its
    /// activations for `max_num_tokens`, the same forward as vLLM's profile).
    FreeFraction { fraction: f64 },
    /// llama.cpp / Ollama: context × slots.
    Slots,
    /// One sequence at a time.
    Single,
}

impl KvRule {
    /// SGLang's `mem_fraction_static` for a TP size (the table's entry at or below it).
    pub fn static_fraction(by_tp: &[f64; 5], tp: u32) -> f64 {
        match tp {
            0 | 1 => by_tp[0],
            2 | 3 => by_tp[1],
            4..=7 => by_tp[2],
            8..=15 => by_tp[3],
            _ => by_tp[4],
        }
    }
}

/// What one GPU holds besides the KV pool, bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuBudget {
    /// Total memory the driver reports.
    pub total: f64,
    /// What a new process finds free: the total less the driver's reservation and other
    /// processes (NVML's free memory, cudaMemGetInfo's), before the engine allocates anything.
    pub free: f64,
    /// Weights loaded on this rank.
    pub weights: f64,
    /// Activation peak the engine reserves (vLLM's profiling forward).
    pub activation: f64,
    /// CUDA context, NCCL and allocator memory outside the engine's pools (SGLang: what is in use
    /// when it reads the free memory at start).
    pub non_torch: f64,
}

/// KV pool bytes on one GPU under `rule`. Pure arithmetic; never negative.
pub fn pool_bytes(rule: &KvRule, gpu: &GpuBudget, tp: u32) -> f64 {
    let pool = match rule {
        KvRule::TotalFraction { fraction, .. } => {
            fraction * gpu.total - gpu.weights - gpu.non_torch - gpu.activation
        }
        // sglang model_runner.py profile_max_num_token (0.4.9, 0.5.5): rest = free after the
        // weights − free at start × (1 − mem_fraction_static).
        KvRule::StaticFraction { by_tp } => {
            KvRule::static_fraction(by_tp, tp) * (gpu.free - gpu.non_torch) - gpu.weights
        }
        KvRule::FreeFraction { fraction } => {
            fraction * (gpu.free - gpu.weights - gpu.non_torch - gpu.activation)
        }
        KvRule::Slots | KvRule::Single => gpu.free - gpu.weights - gpu.non_torch - gpu.activation,
    };
    pool.max(0.0)
}

/// The peak of one forward of `tokens` tokens (vLLM's profiling run): the MLP's gate/up output
/// (2·ffn), its activation (ffn) and three hidden-state copies, in BF16, on each rank. Fits the
/// three vLLM logs of serving.md §C (Llama-3.1-8B at 20,000 and 29,000 tokens: 2.06 / 2.99 GiB
/// against 2.07 / 2.99 GiB logged; R1-Distill-Qwen-14B TP2 at 2048 tokens: KV within 0.6%).
pub fn forward_peak(d: &Deployment, tokens: u32, tp: u32) -> f64 {
    let (ffn, hidden) = match &d.model.arch {
        Architecture::Dense(a) => (f64::from(a.ffn), f64::from(a.hidden)),
        // MoE: the dense layers' FFN is the widest intermediate a token passes through.
        Architecture::Moe(a) => (f64::from(a.ffn), f64::from(a.hidden)),
        // GQA-MoE (Mixtral, Qwen3-MoE): each token passes its top-k experts' FFNs, or a dense
        // layer's where the model has some.
        Architecture::GqaMoe(a) => {
            let routed = f64::from(a.moe_ffn) * f64::from(a.experts_per_token);
            let dense = if a.dense_layers > 0 {
                f64::from(a.ffn)
            } else {
                0.0
            };
            (routed.max(dense), f64::from(a.hidden))
        }
    };
    f64::from(tokens) * (3.0 * ffn / f64::from(tp.max(1)) + 3.0 * hidden) * 2.0
}

/// The peak of vLLM's sampler warm-up: `copies` fp32 copies of `seqs` × vocab logits. Its
/// profile_run ends with `_dummy_sampler_run` on `max_num_seqs` rows with top-k and top-p set,
/// which sorts the logits (vllm v1/worker/gpu_model_runner.py, v1/sample/ops/topk_topp_sampler.py
/// `apply_top_k_top_p`; V0's driver rank runs the same sort in model_executor/layers/sampler.py).
pub fn sampler_peak(d: &Deployment, seqs: u32, copies: f64) -> f64 {
    copies * f64::from(seqs) * f64::from(d.model.vocab()) * 4.0
}

/// vLLM's profiled activation peak: the larger of the forward of `tokens` tokens and the sampler
/// warm-up on `seqs` rows, which runs while the forward's output hidden states are still held.
pub fn profile_activation(d: &Deployment, tokens: u32, seqs: u32, tp: u32, copies: f64) -> f64 {
    let held = f64::from(tokens) * f64::from(d.model.hidden()) * 2.0;
    forward_peak(d, tokens, tp).max(sampler_peak(d, seqs, copies) + held)
}

/// The memory SGLang reads as free before it loads the weights (model_runner.py
/// init_torch_distributed, the least over the ranks): each GPU's free memory less its CUDA context
/// and NCCL. Its `mem_fraction_static` is a share of this.
pub fn free_at_start(d: &Deployment, hw: &Hardware, gpus: u32) -> f64 {
    least(hw, gpus, |g| g.available_bytes) - costs::context_and_nccl(d, gpus > 1)
}

/// The smallest `bytes` of the first `gpus` GPUs (0 without any): the rank every engine sizes by.
fn least(hw: &Hardware, gpus: u32, bytes: fn(&Gpu) -> u64) -> f64 {
    let least = hw.gpus[..(gpus as usize).min(hw.gpus.len())]
        .iter()
        .map(|g| bytes(g) as f64)
        .fold(f64::INFINITY, f64::min);
    if least.is_finite() { least } else { 0.0 }
}

/// KV capacity of a deployment: the pool, its tokens, and what they allow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct KvCapacity {
    /// KV pool bytes per GPU (the busiest rank).
    pub pool_bytes_per_gpu: u64,
    /// Tokens of KV the pool holds (all sequences together), rounded down to whole blocks.
    pub tokens: u64,
    /// Most sequences of the requested context that fit at once.
    pub max_concurrency: u32,
    /// Longest context each of the requested sequences can have.
    pub max_context: u32,
}

/// The engine's profiling run: the tokens of its forward (vLLM `max_num_batched_tokens`) and the
/// sequences its sampler warms up on (vLLM `max_num_seqs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub tokens: u32,
    pub seqs: u32,
}

/// Capacity of `d` as planned in `mem`, under `rule`. `non_torch_mib` is the memory outside the
/// pools (vLLM's logged non-torch memory; TensorRT-LLM uses its memory plan's per-GPU overhead
/// and SGLang its CUDA context and NCCL instead).
pub fn kv_capacity(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    rule: &KvRule,
    profile: Profile,
    non_torch_mib: f64,
) -> KvCapacity {
    let w = d.workload;
    let block = u64::from(d.engine.memory.kv_block_tokens.max(1));
    let tp = mem.placement.tensor_parallel.max(1);
    // Layers on the busiest device (a pipeline stage or a layer-split GPU).
    let layers_here = f64::from(
        mem.placement
            .layers_per_gpu
            .iter()
            .copied()
            .max()
            .unwrap_or(d.model.layers()),
    );
    // With DP attention each rank's pool holds only its own sequences: the pools add up.
    let atp = super::parallel::attention_tp(&d.parallel, tp);
    let dp = u64::from(d.parallel.dp());
    let per_token = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, atp) * layers_here;
    let tokens = match rule {
        KvRule::Slots => u64::from(w.context) * u64::from(w.concurrency),
        _ => {
            let n = mem.placement.gpus;
            let total = least(hw, n, |g| g.memory_bytes);
            let free = least(hw, n, |g| g.available_bytes);
            let weights = mem.gpus.iter().map(|g| g.weights).max().unwrap_or(0) as f64;
            let activation = match rule {
                KvRule::TotalFraction { sampler_copies, .. } => {
                    profile_activation(d, profile.tokens, profile.seqs, tp, *sampler_copies)
                }
                KvRule::FreeFraction { .. } => forward_peak(d, profile.tokens, tp),
                _ => 0.0,
            };
            // TRT-LLM measures the free memory once everything else is allocated: its runtime
            // (aiconfigurator's other_mem), NCCL buffers — the same per-GPU overhead the memory
            // plan reserves (data/engines.toml). vLLM's own log reports its non-torch memory.
            let non_torch = match rule {
                KvRule::FreeFraction { .. } => costs::overhead(d, mem.placement.gpus > 1),
                // SGLang reads the free memory once torch.distributed is up: its CUDA context
                // and the NCCL communicators are already allocated (model_runner.py
                // init_torch_distributed returns get_available_gpu_memory).
                KvRule::StaticFraction { .. } => costs::context_and_nccl(d, mem.placement.gpus > 1),
                _ => non_torch_mib * MIB,
            };
            let gpu = GpuBudget {
                total,
                free,
                weights,
                activation,
                non_torch,
            };
            let pool = pool_bytes(rule, &gpu, tp);
            if per_token > 0.0 {
                (pool / per_token) as u64 / block * block * dp
            } else {
                0
            }
        }
    };
    let pool = (tokens as f64 / dp as f64 * per_token).round() as u64;
    let ctx_blocks = u64::from(w.context).div_ceil(block) * block;
    let max_concurrency = match rule {
        KvRule::Single => u32::from(tokens >= ctx_blocks),
        KvRule::Slots => w.concurrency,
        _ => u32::try_from(tokens / ctx_blocks.max(1)).unwrap_or(u32::MAX),
    };
    let max_context = (tokens / u64::from(w.concurrency.max(1)) / block * block)
        .min(u64::from(d.model.max_context));
    KvCapacity {
        pool_bytes_per_gpu: pool,
        tokens,
        max_concurrency,
        max_context: u32::try_from(max_context).unwrap_or(u32::MAX),
    }
}
