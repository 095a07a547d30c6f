//! `r1pick finetune`: the flags of a fine-tuning plan.

use clap::Args;

use super::{CostArgs, HardwareArgs};
use crate::quantity::parse::{self as units, parse_dataset_tokens, parse_epochs};
use crate::training::{Checkpointing, Method, Optimizer, Sharding, Targets};

#[derive(Debug, Clone, Args)]
pub struct FinetuneArgs {
    /// Model id or alias (1.5b 7b 8b 14b 32b 70b, deepseek-r1-distill-qwen-14b, …)
    pub model: String,
    /// What is trained: low-rank adapters on a 16-bit base, on an NF4 base, or every weight
    #[arg(long, value_enum, default_value = "lora", help_heading = "Fine-tuning")]
    pub method: Method,
    /// LoRA rank r (1 to the model's hidden size)
    #[arg(
        long,
        value_name = "R",
        default_value_t = 16,
        help_heading = "Fine-tuning"
    )]
    pub lora_rank: u32,
    /// Projections that get adapters: attn (q/k/v/o), mlp (gate/up/down) or all
    #[arg(long, value_enum, default_value = "all", help_heading = "Fine-tuning")]
    pub lora_targets: Targets,
    /// Optimizer and its state precision
    #[arg(
        long,
        value_enum,
        default_value = "adamw",
        help_heading = "Fine-tuning"
    )]
    pub optimizer: Optimizer,
    /// Apply and free each gradient during backward (torchtune optimizer_in_bwd; one GPU)
    #[arg(long, help_heading = "Fine-tuning")]
    pub optimizer_in_backward: bool,
    /// Tokens per training sequence (e.g. 2048, 8k)
    #[arg(long, value_name = "TOKENS", value_parser = units::parse_tokens, default_value = "2048", help_heading = "Fine-tuning")]
    pub seq: u32,
    /// Sequences per GPU per step
    #[arg(long, value_name = "N", value_parser = units::parse_count, default_value = "1", help_heading = "Fine-tuning")]
    pub micro_batch: u32,
    /// Gradient checkpointing per decoder layer; offload keeps the checkpoints in host RAM
    #[arg(long, value_enum, default_value = "on", help_heading = "Fine-tuning")]
    pub checkpointing: Checkpointing,
    /// Multi-GPU strategy (default: none on one GPU, ddp on several)
    #[arg(long, value_enum, help_heading = "Fine-tuning")]
    pub sharding: Option<Sharding>,
    /// Keep the optimizer state (and fp32 master weights) in host RAM (DeepSpeed/FSDP CPU offload)
    #[arg(long, help_heading = "Fine-tuning")]
    pub offload_optimizer: bool,
    /// Framework whose kernels and defaults apply: hf (transformers + peft), torchtune, unsloth
    #[arg(
        long,
        value_name = "FRAMEWORK",
        default_value = "hf",
        help_heading = "Fine-tuning"
    )]
    pub framework: String,
    /// Base checkpoint precision: bf16 or fp16 (QLoRA quantizes it to NF4 itself)
    #[arg(long, value_name = "QUANT", help_heading = "Fine-tuning")]
    pub quant: Option<String>,
    /// Report the longest --seq that fits at this --micro-batch
    #[arg(long, help_heading = "Fine-tuning")]
    pub max_seq: bool,
    /// Tokens to train on, decimal (e.g. 50M, 2B)
    #[arg(long, value_name = "N", value_parser = parse_dataset_tokens, conflicts_with = "dataset_tokens", help_heading = "Time")]
    pub tokens: Option<f64>,
    /// Tokens in the dataset, decimal (e.g. 20M); with --epochs
    #[arg(long, value_name = "N", value_parser = parse_dataset_tokens, help_heading = "Time")]
    pub dataset_tokens: Option<f64>,
    /// Passes over the dataset (default 1)
    #[arg(long, value_name = "E", value_parser = parse_epochs, requires = "dataset_tokens", help_heading = "Time")]
    pub epochs: Option<f64>,
    /// Choose the GPU type and count: the cheapest priced NVIDIA option per trained token that fits
    #[arg(long)]
    pub cloud: bool,
    #[command(flatten)]
    pub hardware: HardwareArgs,
    #[command(flatten)]
    pub cost: CostArgs,
}
