//! Fine-tuning: memory per GPU and time of LoRA, QLoRA and full fine-tuning of a dense model.
//!
//! Pure functions of the model's architecture, the GPUs and the settings; the constants and their
//! sources are in data/training.toml ([`TrainingConstants`]). The memory model counts every tensor
//! a training step keeps at its peak (weights, adapters, gradients, optimizer state, saved
//! activations, logits, gathered shards, CUDA context); the time model is FLOPs over an achievable
//! tensor rate.

pub mod constants;
pub mod lora;
pub mod memory;
pub mod settings;
pub mod speed;

use serde::Serialize;

pub use constants::{FrameworkProfile, TrainingConstants};
pub use lora::Targets;
pub use memory::{TrainMemory, memory};
pub use speed::{TrainSpeed, speed};

use crate::catalog::Model;
use crate::catalog::model::{Architecture, DenseArch};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Frozen 16-bit base, trainable low-rank adapters.
    Lora,
    /// Frozen NF4 base (4-bit, double-quantized block scales), trainable 16/32-bit adapters.
    Qlora,
    /// Every weight trained.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// torch AdamW, 32-bit moments (16-bit under a pure-bf16 framework).
    Adamw,
    /// bitsandbytes 8-bit AdamW.
    Adamw8bit,
    /// bitsandbytes paged 8-bit AdamW: state in unified memory, evicted to host RAM under pressure.
    PagedAdamw8bit,
    /// SGD without momentum.
    Sgd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Checkpointing {
    /// Every layer's activations stay on the GPU until backward.
    Off,
    /// Gradient checkpointing per decoder layer: keep layer inputs, recompute in backward.
    On,
    /// Checkpointing with the layer inputs offloaded to host RAM (unsloth's "unsloth" mode,
    /// torchtune's activation offloading).
    Offload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sharding {
    /// One GPU.
    None,
    /// Data parallel: every GPU holds everything.
    Ddp,
    /// PyTorch FSDP full_shard: weights, gradients and optimizer state sharded.
    Fsdp,
    /// DeepSpeed ZeRO-2: gradients and optimizer state sharded, weights replicated.
    Zero2,
    /// DeepSpeed ZeRO-3: everything sharded (as FSDP).
    Zero3,
}

impl Sharding {
    /// Whether the weights themselves are split across GPUs.
    pub fn shards_weights(self) -> bool {
        matches!(self, Sharding::Fsdp | Sharding::Zero3)
    }

    /// Whether gradients and optimizer state are split across GPUs.
    pub fn shards_state(self) -> bool {
        matches!(self, Sharding::Fsdp | Sharding::Zero2 | Sharding::Zero3)
    }
}

/// What is trained, how, and on how many GPUs.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSetup {
    pub method: Method,
    pub rank: u32,
    pub targets: Targets,
    pub optimizer: Optimizer,
    /// Tokens per sequence.
    pub seq: u32,
    /// Sequences per GPU per step.
    pub micro_batch: u32,
    pub checkpointing: Checkpointing,
    pub sharding: Sharding,
    pub gpus: u32,
    pub offload_optimizer: bool,
    /// Gradients are applied and freed parameter by parameter during backward (torchtune's
    /// optimizer_in_bwd): only the largest gradient exists at once.
    pub optimizer_in_backward: bool,
    /// Framework id of data/training.toml (hf, torchtune, unsloth).
    pub framework: String,
}

impl TrainSetup {
    pub fn tokens_per_gpu(&self) -> u64 {
        u64::from(self.seq) * u64::from(self.micro_batch)
    }

    pub fn is_lora(&self) -> bool {
        self.method != Method::Full
    }

    /// Checkpointing recomputes the forward pass in backward.
    pub fn recomputes(&self) -> bool {
        self.checkpointing != Checkpointing::Off
    }
}

/// The dense architecture a fine-tuning plan needs; the 671B MoE is refused.
pub fn dense_arch(model: &Model) -> Result<&DenseArch> {
    match &model.arch {
        Architecture::Dense(a) => Ok(a),
        Architecture::Moe(_) | Architecture::GqaMoe(_) => Err(Error::input(format!(
            "finetune sizes dense models; {} is a mixture of experts (fine-tune a distill: 1.5b, 7b, 8b, 14b, 32b, 70b)",
            model.id
        ))),
    }
}

/// Refuse settings that cannot run, with one line naming the bad value and the valid range.
pub fn validate(model: &Model, s: &TrainSetup) -> Result<()> {
    let a = dense_arch(model)?;
    if s.is_lora() && (s.rank == 0 || s.rank > a.hidden) {
        return Err(Error::input(format!(
            "--lora-rank {}: the rank must be between 1 and {}'s hidden size {}",
            s.rank, model.id, a.hidden
        )));
    }
    if s.seq > model.max_context {
        return Err(Error::input(format!(
            "--seq {} is above {}'s context of {} tokens (--max-seq finds the longest that fits)",
            s.seq, model.id, model.max_context
        )));
    }
    if s.seq == 0 || s.micro_batch == 0 {
        return Err(Error::input("--seq and --micro-batch must be at least 1"));
    }
    match (s.sharding, s.gpus) {
        (Sharding::None, n) if n > 1 => Err(Error::input(format!(
            "--sharding none trains on one GPU; the machine has {n} (use ddp, fsdp, zero2 or zero3)"
        ))),
        (sharding, 1) if sharding != Sharding::None => Err(Error::input(format!(
            "--sharding {} splits the work across GPUs; the machine has 1 GPU (give --gpu ID:N, or drop --sharding)",
            sharding_id(sharding)
        ))),
        (Sharding::Ddp | Sharding::Fsdp, _) if s.offload_optimizer => Err(Error::input(format!(
            "--offload-optimizer is DeepSpeed's offload_optimizer: use --sharding zero2 or zero3, not {} (FSDP's CPU offload also moves the weights)",
            sharding_id(s.sharding)
        ))),
        _ if s.optimizer_in_backward && s.gpus > 1 => Err(Error::input(
            "--optimizer-in-backward runs on one GPU (torchtune's single-device recipes); drop it or use one GPU",
        )),
        _ => Ok(()),
    }
}

pub fn sharding_id(s: Sharding) -> &'static str {
    match s {
        Sharding::None => "none",
        Sharding::Ddp => "ddp",
        Sharding::Fsdp => "fsdp",
        Sharding::Zero2 => "zero2",
        Sharding::Zero3 => "zero3",
    }
}

/// The longest sequence whose plan fits `capacity` at the setup's micro-batch, ignoring the
/// model's context (unsloth's table goes past it); `None` when not even one token fits.
pub fn max_seq(
    c: &TrainingConstants,
    model: &Model,
    setup: &TrainSetup,
    capacity_bytes: u64,
    host_bytes: u64,
) -> Result<Option<u32>> {
    let fits = |seq: u32| -> Result<bool> {
        let s = TrainSetup {
            seq,
            ..setup.clone()
        };
        Ok(memory(c, model, &s, capacity_bytes, host_bytes)?.fits)
    };
    if !fits(1)? {
        return Ok(None);
    }
    // Memory grows with the sequence: bisect between a length that fits and one that does not.
    let (mut lo, mut hi) = (1u32, 1u32 << 24);
    if fits(hi)? {
        return Ok(Some(hi));
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(lo))
}
