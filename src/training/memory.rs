//! Memory per GPU of one training step at its peak, tensor class by tensor class.

use schemars::JsonSchema;
use serde::Serialize;

use super::constants::TrainingConstants;
use super::lora::{adapter_params, block_linears, linear_params, targeted};
use super::{Checkpointing, Method, Optimizer, Sharding, TrainSetup, dense_arch};
use crate::catalog::{Model, ParamBreakdown};
use crate::error::Result;

const HALF: f64 = 2.0;
const SINGLE: f64 = 4.0;

/// Bytes per GPU, and what lives in host RAM.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TrainMemory {
    /// Base weights on this GPU: 16-bit (LoRA, full) or NF4 with its block scales (QLoRA); a
    /// shard under FSDP / ZeRO-3.
    pub weights_bytes: u64,
    /// LoRA adapter weights (A and B of every targeted projection).
    pub adapter_bytes: u64,
    /// fp32 master copy of the trained weights (full fine-tuning with mixed precision).
    pub master_weights_bytes: u64,
    /// Gradients of the trainable parameters (and DDP's bucket copy).
    pub gradient_bytes: u64,
    /// Optimizer state kept on the GPU.
    pub optimizer_bytes: u64,
    /// Saved activations (or checkpoints) plus one layer's backward working set.
    pub activation_bytes: u64,
    /// Logits and their gradient, as the framework's loss materialises them.
    pub logits_bytes: u64,
    /// Whole units gathered from shards (FSDP / ZeRO-3) and dequantized weight copies (QLoRA).
    pub working_weights_bytes: u64,
    /// CUDA context, library workspaces and allocator slack.
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    /// What one GPU can hold.
    pub capacity_bytes: u64,
    pub fits: bool,
    /// Bytes over capacity (0 when it fits).
    pub shortfall_bytes: u64,
    /// Paged optimizer state: unified memory that bitsandbytes evicts to host RAM when the GPU is
    /// full, so it is not part of `total_bytes`.
    pub paged_bytes: u64,
    /// Host RAM the whole machine needs: offloaded optimizer state and offloaded checkpoints.
    pub host_bytes: u64,
    pub host_capacity_bytes: u64,
    pub total_params: u64,
    pub trainable_params: u64,
}

/// The memory plan of `setup` on GPUs of `capacity_bytes` each, with `host_capacity_bytes` of RAM.
pub fn memory(
    c: &TrainingConstants,
    model: &Model,
    s: &TrainSetup,
    capacity_bytes: u64,
    host_capacity_bytes: u64,
) -> Result<TrainMemory> {
    let a = dense_arch(model)?;
    let fw = c.framework(&s.framework)?;
    let p = ParamBreakdown::of(model);
    let total = p.total();
    let linear = linear_params(a);
    let n = f64::from(s.gpus.max(1));
    let tokens = s.tokens_per_gpu() as f64;
    let (h, f) = (f64::from(a.hidden), f64::from(a.ffn));
    let kv_width = f64::from(a.kv_heads) * f64::from(a.head_dim);
    let layers = f64::from(a.layers);

    // Base weights and the bytes each parameter class is stored in.
    let nf4_bytes = c.nf4.bits_per_weight() / 8.0;
    let weights_full = match s.method {
        Method::Qlora => linear as f64 * nf4_bytes + (total - linear) as f64 * HALF,
        Method::Lora | Method::Full => total as f64 * HALF,
    };
    let weight_share = if s.sharding.shards_weights() { n } else { 1.0 };
    let state_share = if s.sharding.shards_state() { n } else { 1.0 };

    // Trainable parameters, their dtype, gradients and optimizer state.
    let adapters = if s.is_lora() {
        adapter_params(a, s.targets, s.rank)
    } else {
        0
    };
    let trainable = if s.is_lora() { adapters } else { total };
    let trainable_dtype = if s.is_lora() && !fw.pure_bf16 {
        SINGLE
    } else {
        HALF
    };
    let master = if s.method == Method::Full && !fw.pure_bf16 {
        SINGLE
    } else {
        0.0
    };
    let moments = match s.optimizer {
        Optimizer::Adamw if fw.pure_bf16 => c.optimizer.adamw_bf16,
        Optimizer::Adamw => c.optimizer.adamw_fp32,
        Optimizer::Adamw8bit | Optimizer::PagedAdamw8bit => c.optimizer.adamw8bit,
        Optimizer::Sgd => c.optimizer.sgd,
    };
    let adapter_bytes = adapters as f64 * trainable_dtype / weight_share;
    let mut gradients = if s.optimizer_in_backward {
        // Only the largest trainable tensor's gradient exists at once.
        largest_trainable(s, a, &p) as f64 * trainable_dtype
    } else {
        trainable as f64 * trainable_dtype / state_share
    };
    if s.sharding == Sharding::Ddp {
        gradients *= 1.0 + f64::from(c.overhead.ddp_gradient_copies);
    }
    let master_bytes = trainable as f64 * master / state_share;
    let optimizer_bytes = trainable as f64 * moments / state_share;
    let paged = s.optimizer == Optimizer::PagedAdamw8bit;
    let (gpu_optimizer, gpu_master, host_state) = if s.offload_optimizer {
        (0.0, 0.0, (optimizer_bytes + master_bytes) * n)
    } else if paged {
        (0.0, master_bytes, 0.0)
    } else {
        (optimizer_bytes, master_bytes, 0.0)
    };

    // Activations per token (Korthikanti et al. 2022, counted for a Llama/Qwen layer).
    let act = &c.activations;
    let lora_modules = if s.is_lora() {
        targeted(a, s.targets).len() as f64
    } else {
        0.0
    };
    let saved_layer = HALF
        * (f64::from(act.hidden_saved) * h
            + f64::from(act.kv_saved) * kv_width
            + f64::from(act.ffn_saved) * f
            + f64::from(act.lora_intermediate) * lora_modules * f64::from(s.rank));
    let backward = HALF * f64::from(act.ffn_backward) * f;
    let checkpoint = HALF * f64::from(act.checkpoint_tensors) * h * layers;
    let (per_token, host_per_token) = match s.checkpointing {
        Checkpointing::Off => (layers * saved_layer + backward, 0.0),
        Checkpointing::On => (checkpoint + saved_layer + backward, 0.0),
        Checkpointing::Offload => (saved_layer + backward, checkpoint),
    };
    let activations = tokens * per_token;
    let logits = tokens * f64::from(a.vocab) * fw.logits_bytes_per_vocab;

    // Working copies of weights: gathered units under FSDP / ZeRO-3, dequantized NF4 weights.
    let mut working = 0.0;
    if s.sharding.shards_weights() {
        let mut units = unit_bytes(s.method, a, &p, nf4_bytes);
        units.sort_by(|x, y| y.total_cmp(x));
        working += units
            .iter()
            .take(c.overhead.gathered_units as usize)
            .sum::<f64>();
    }
    if s.method == Method::Qlora {
        let largest = block_linears(a)
            .iter()
            .map(|m| m.params())
            .max()
            .unwrap_or(0);
        working += f64::from(c.nf4.dequant_buffers) * largest as f64 * HALF;
    }

    let overhead = (c.overhead.cuda_context_mib << 20) as f64;
    let parts = [
        weights_full / weight_share,
        adapter_bytes,
        gpu_master,
        gradients,
        gpu_optimizer,
        activations,
        logits,
        working,
        overhead,
    ];
    let total_bytes = parts.iter().sum::<f64>().ceil() as u64;
    let host_bytes = (host_state + host_per_token * tokens * n).ceil() as u64;
    let fits = total_bytes <= capacity_bytes && host_bytes <= host_capacity_bytes;
    let round = |x: f64| x.ceil() as u64;
    Ok(TrainMemory {
        weights_bytes: round(parts[0]),
        adapter_bytes: round(parts[1]),
        master_weights_bytes: round(parts[2]),
        gradient_bytes: round(parts[3]),
        optimizer_bytes: round(parts[4]),
        activation_bytes: round(parts[5]),
        logits_bytes: round(parts[6]),
        working_weights_bytes: round(parts[7]),
        overhead_bytes: round(parts[8]),
        total_bytes,
        capacity_bytes,
        fits,
        shortfall_bytes: total_bytes.saturating_sub(capacity_bytes),
        paged_bytes: if paged && !s.offload_optimizer {
            round(optimizer_bytes)
        } else {
            0
        },
        host_bytes,
        host_capacity_bytes,
        total_params: total,
        trainable_params: trainable,
    })
}

/// Parameters of the largest trainable tensor: the embedding (full) or the widest adapter matrix.
fn largest_trainable(
    s: &TrainSetup,
    a: &crate::catalog::model::DenseArch,
    p: &ParamBreakdown,
) -> u64 {
    if s.is_lora() {
        targeted(a, s.targets)
            .iter()
            .map(|m| u64::from(s.rank) * m.inputs.max(m.outputs))
            .max()
            .unwrap_or(0)
    } else {
        p.embedding.max(p.output)
    }
}

/// Bytes of each FSDP / ZeRO-3 unit (every decoder layer, the embedding, the untied head).
fn unit_bytes(
    method: Method,
    a: &crate::catalog::model::DenseArch,
    p: &ParamBreakdown,
    nf4_bytes: f64,
) -> Vec<f64> {
    let layer_linear = block_linears(a).iter().map(|m| m.params()).sum::<u64>();
    let layer = |l: &crate::catalog::params::LayerParams| match method {
        Method::Qlora => layer_linear as f64 * nf4_bytes + (l.total() - layer_linear) as f64 * HALF,
        _ => l.total() as f64 * HALF,
    };
    let mut units: Vec<f64> = p.layers.iter().map(layer).collect();
    units.push(p.embedding as f64 * HALF);
    if p.output > 0 {
        units.push(p.output as f64 * HALF);
    }
    units
}
