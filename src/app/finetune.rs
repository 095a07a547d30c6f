//! `r1pick finetune MODEL`: memory per GPU, speed, time and cost of a fine-tuning run.

use crate::cli::Format;
use crate::cli::finetune::FinetuneArgs;
use crate::error::{Error, Result};
use crate::perf::cost::cost;
use crate::report::deployment::HardwareSummary;
use crate::report::finetune::{
    FinetuneDocument, MaxSeqReport, SetupReport, TimeReport, TrainCost, finetune_table,
};
use crate::report::{schema, to_json};
use crate::training::lora::targeted;
use crate::training::settings::settings;
use crate::training::{
    Method, Sharding, TrainSetup, TrainingConstants, dense_arch, max_seq, memory, speed, validate,
};

use super::{Context, Outcome, hardware};

/// The base checkpoints a trainer loads; everything else in the catalog is an inference format.
const TRAINABLE_QUANTS: [&str; 2] = ["bf16", "fp16"];

pub fn finetune(ctx: &Context, a: &FinetuneArgs) -> Result<Outcome> {
    let c = TrainingConstants::embedded()?;
    c.framework(&a.framework)?;
    let model = ctx.catalog.model(&a.model)?;
    let arch = dense_arch(model)?;
    let base_precision = base_precision(ctx, a)?;
    let hw = hardware::resolve(ctx, &a.hardware)?;
    if hw.gpus.is_empty() {
        return Err(Error::input(
            "finetune needs a GPU: give --gpu ID[:N] (e.g. --gpu rtx-4090) or --hardware FILE",
        ));
    }
    let gpus = hw.gpu_count();
    let mut setup = TrainSetup {
        method: a.method,
        rank: a.lora_rank,
        targets: a.lora_targets,
        optimizer: a.optimizer,
        seq: a.seq,
        micro_batch: a.micro_batch,
        checkpointing: a.checkpointing,
        sharding: a.sharding.unwrap_or(if gpus > 1 {
            Sharding::Ddp
        } else {
            Sharding::None
        }),
        gpus,
        offload_optimizer: a.offload_optimizer,
        optimizer_in_backward: a.optimizer_in_backward,
        framework: a.framework.clone(),
    };
    validate(model, &setup)?;
    // Mixed machines train at the pace and within the memory of their smallest GPU.
    let capacity = hw.gpus.iter().map(|g| g.available_bytes).min().unwrap_or(0);
    let tflops = hw
        .gpus
        .iter()
        .map(|g| g.fp16_tflops)
        .fold(f64::INFINITY, f64::min);
    let host = hw.host.ram_bytes;
    let max_seq_report = if a.max_seq {
        let found = max_seq(&c, model, &setup, capacity, host)?;
        let tokens = found.map(|t| t.min(model.max_context));
        if let Some(t) = tokens {
            setup.seq = t;
        }
        Some(MaxSeqReport {
            memory_tokens: found,
            max_context: model.max_context,
            tokens,
        })
    } else {
        None
    };
    let mem = memory(&c, model, &setup, capacity, host)?;
    let sp = speed(&c, model, &setup, tflops)?;
    let trained = a
        .tokens
        .or(a.dataset_tokens.map(|d| d * a.epochs.unwrap_or(1.0)));
    let time = trained.map(|tokens| TimeReport {
        tokens,
        hours: tokens / sp.tokens_per_s / 3600.0,
    });
    let train_cost =
        cost(&hw, gpus, sp.tokens_per_s, a.cost.price, a.cost.kwh_price).map(|k| TrainCost {
            usd_per_hour: k.usd_per_hour,
            usd_total: time.as_ref().map(|t| t.hours * k.usd_per_hour),
            usd_per_million_tokens: k.usd_per_million_output_tokens,
            basis: k.basis,
        });
    let lora = setup.method != Method::Full;
    let doc = FinetuneDocument {
        schema: schema("finetune"),
        model: model.id.clone(),
        method: setup.method,
        setup: SetupReport {
            lora_rank: lora.then_some(setup.rank),
            lora_targets: lora.then_some(setup.targets),
            target_modules: if lora {
                targeted(arch, setup.targets)
                    .iter()
                    .map(|m| m.name.to_string())
                    .collect()
            } else {
                vec![]
            },
            optimizer: setup.optimizer,
            optimizer_in_backward: setup.optimizer_in_backward,
            seq: setup.seq,
            micro_batch: setup.micro_batch,
            checkpointing: setup.checkpointing,
            sharding: setup.sharding,
            gpus,
            offload_optimizer: setup.offload_optimizer,
            framework: setup.framework.clone(),
            base_precision: if setup.method == Method::Qlora {
                "nf4".into()
            } else {
                base_precision.into()
            },
        },
        hardware: HardwareSummary::of(&hw),
        memory: mem,
        speed: sp,
        max_seq: max_seq_report,
        time,
        cost: train_cost,
        frameworks: settings(arch, &model.base_model, &setup),
        basis: basis(&c),
    };
    let stdout = match ctx.format {
        Format::Table => finetune_table(&doc),
        Format::Json => to_json(&doc),
    };
    Ok(Outcome {
        notes: hw.notes.clone(),
        ..Outcome::ok(stdout)
    })
}

/// `--quant`: only a 16-bit checkpoint can be trained; QLoRA makes its NF4 copy from it.
fn base_precision(ctx: &Context, a: &FinetuneArgs) -> Result<&'static str> {
    let Some(q) = a.quant.as_deref() else {
        return Ok("bf16");
    };
    let quant = ctx.catalog.quant(q)?;
    match TRAINABLE_QUANTS.iter().find(|t| **t == quant.id) {
        Some(t) if a.method != Method::Qlora => Ok(t),
        Some(_) => Ok("bf16"),
        None if a.method == Method::Qlora => Err(Error::input(format!(
            "--method qlora quantizes the bf16 checkpoint to NF4 itself; --quant {} is an inference-engine format (valid: bf16, fp16)",
            quant.id
        ))),
        None => Err(Error::input(format!(
            "fine-tuning trains a 16-bit checkpoint; --quant {} is an inference-engine format (valid: bf16, fp16; or --method qlora for a 4-bit base)",
            quant.id
        ))),
    }
}

fn basis(c: &TrainingConstants) -> Vec<String> {
    vec![
        format!(
            "NF4 with double quantization: {:.3} bits per weight (QLoRA, Dettmers et al. 2023)",
            c.nf4.bits_per_weight()
        ),
        "activations: saved tensors per layer counted as Korthikanti et al. 2022, for a Llama/Qwen layer with FlashAttention and no dropout".into(),
        format!(
            "speed: FLOPs per token over {:.0}% of the dense BF16 tensor rate (Llama 3 paper: 38–43% MFU); data-parallel communication not modelled",
            c.speed.mfu * 100.0
        ),
        "constants and sources: data/training.toml; calibration: data/training-calibration.toml".into(),
    ]
}
