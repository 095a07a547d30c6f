//! The frameworks' own settings for a plan, so a user can reproduce it.

use schemars::JsonSchema;
use serde::Serialize;

use super::lora::targeted;
use super::{Checkpointing, Method, Optimizer, Sharding, TrainSetup};
use crate::catalog::model::DenseArch;

/// One framework's configuration line, in its own syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FrameworkSetting {
    /// peft, bitsandbytes, transformers, deepspeed, torchtune, unsloth.
    pub framework: String,
    pub setting: String,
}

fn line(framework: &str, setting: String) -> FrameworkSetting {
    FrameworkSetting {
        framework: framework.into(),
        setting,
    }
}

/// The decoder-layer class FSDP wraps, from the base model's family.
fn layer_class(base_model: &str) -> &'static str {
    if base_model.starts_with("Qwen3") {
        "Qwen3DecoderLayer"
    } else if base_model.starts_with("Qwen") {
        "Qwen2DecoderLayer"
    } else {
        "LlamaDecoderLayer"
    }
}

pub fn settings(a: &DenseArch, base_model: &str, s: &TrainSetup) -> Vec<FrameworkSetting> {
    let modules: Vec<String> = targeted(a, s.targets)
        .iter()
        .map(|m| format!("\"{}\"", m.name))
        .collect();
    let checkpointing = s.checkpointing != Checkpointing::Off;
    let mut out = Vec::new();
    match s.framework.as_str() {
        "torchtune" => out.push(line("torchtune", torchtune(s, &modules))),
        "unsloth" => out.push(line("unsloth", unsloth(s, &modules))),
        _ => {
            if s.is_lora() {
                out.push(line(
                    "peft",
                    format!(
                        "LoraConfig(r={}, lora_alpha={}, lora_dropout=0.0, target_modules=[{}], task_type=\"CAUSAL_LM\")",
                        s.rank,
                        2 * s.rank,
                        modules.join(", ")
                    ),
                ));
            }
            if s.method == Method::Qlora {
                // FSDP shards the packed NF4 data only when it is stored in the float dtype.
                let storage = if s.sharding.shards_weights() {
                    ", bnb_4bit_quant_storage=torch.bfloat16"
                } else {
                    ""
                };
                out.push(line(
                    "bitsandbytes",
                    format!("BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"nf4\", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16{storage})"),
                ));
            }
            let mut args = format!(
                "TrainingArguments(per_device_train_batch_size={}, gradient_checkpointing={}, bf16=True, optim=\"{}\"",
                s.micro_batch,
                if checkpointing { "True" } else { "False" },
                hf_optim(s.optimizer)
            );
            if s.sharding == Sharding::Fsdp {
                args.push_str(&format!(
                    ", fsdp=\"full_shard auto_wrap\", fsdp_config={{\"transformer_layer_cls_to_wrap\": [\"{}\"]}}",
                    layer_class(base_model)
                ));
            }
            args.push(')');
            out.push(line("transformers", args));
            // One GPU with optimizer offload is DeepSpeed's ZeRO-Offload: stage 2 on one rank.
            if matches!(s.sharding, Sharding::Zero2 | Sharding::Zero3) || s.offload_optimizer {
                let stage = if s.sharding == Sharding::Zero3 { 3 } else { 2 };
                let offload = if s.offload_optimizer {
                    ", \"offload_optimizer\": {\"device\": \"cpu\"}"
                } else {
                    ""
                };
                out.push(line(
                    "deepspeed",
                    format!("{{\"zero_optimization\": {{\"stage\": {stage}{offload}}}, \"bf16\": {{\"enabled\": true}}}}"),
                ));
            }
            if s.gpus > 1 {
                out.push(line(
                    "launch",
                    format!("torchrun --nproc_per_node {} train.py", s.gpus),
                ));
            }
        }
    }
    out
}

fn hf_optim(o: Optimizer) -> &'static str {
    match o {
        Optimizer::Adamw => "adamw_torch",
        Optimizer::Adamw8bit => "adamw_bnb_8bit",
        Optimizer::PagedAdamw8bit => "paged_adamw_8bit",
        Optimizer::Sgd => "sgd",
    }
}

fn torchtune(s: &TrainSetup, modules: &[String]) -> String {
    let attn: Vec<&str> = modules
        .iter()
        .filter_map(|m| match m.trim_matches('"') {
            "q_proj" => Some("q_proj"),
            "k_proj" => Some("k_proj"),
            "v_proj" => Some("v_proj"),
            "o_proj" => Some("output_proj"),
            _ => None,
        })
        .collect();
    let mlp = modules.iter().any(|m| m.contains("gate_proj"));
    let optimizer = match s.optimizer {
        Optimizer::Adamw => "torch.optim.AdamW",
        Optimizer::Adamw8bit => "bitsandbytes.optim.AdamW8bit",
        Optimizer::PagedAdamw8bit => "bitsandbytes.optim.PagedAdamW8bit",
        Optimizer::Sgd => "torch.optim.SGD",
    };
    let mut t = format!(
        "batch_size: {}, dtype: bf16, optimizer._component_: {optimizer}, enable_activation_checkpointing: {}, enable_activation_offloading: {}",
        s.micro_batch,
        s.checkpointing != Checkpointing::Off,
        s.checkpointing == Checkpointing::Offload
    );
    if s.is_lora() {
        t = format!(
            "lora_rank: {}, lora_alpha: {}, lora_attn_modules: [{}], apply_lora_to_mlp: {mlp}, {t}",
            s.rank,
            2 * s.rank,
            attn.join(", ")
        );
    }
    if s.optimizer_in_backward {
        t.push_str(", optimizer_in_bwd: True");
    }
    if s.sharding == Sharding::Fsdp {
        t.push_str(&format!(", (tune run --nproc_per_node {})", s.gpus));
    }
    t
}

fn unsloth(s: &TrainSetup, modules: &[String]) -> String {
    let checkpointing = match s.checkpointing {
        Checkpointing::Off => "False",
        Checkpointing::On => "True",
        Checkpointing::Offload => "\"unsloth\"",
    };
    format!(
        "FastLanguageModel.from_pretrained(load_in_4bit={}, max_seq_length={}); FastLanguageModel.get_peft_model(r={}, lora_alpha={}, lora_dropout=0, target_modules=[{}], use_gradient_checkpointing={checkpointing})",
        if s.method == Method::Qlora {
            "True"
        } else {
            "False"
        },
        s.seq,
        s.rank,
        2 * s.rank,
        modules.join(", ")
    )
}
