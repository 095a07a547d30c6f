//! `r1pick finetune MODEL`: memory per GPU, speed, time and cost of a fine-tuning run.

use crate::catalog::{Model, Vendor};
use crate::cli::RecommendArgs;
use crate::cli::finetune::FinetuneArgs;
use crate::error::{Error, Result, exit};
use crate::hardware::Hardware;
use crate::hardware::simulate::{SimulationRequest, simulate};
use crate::perf::cost::cost;
use crate::report::deployment::HardwareSummary;
use crate::report::finetune::{
    CloudOption, CloudSearch, FinetuneDocument, MaxSeqReport, SetupReport, TimeReport, TrainCost,
};
use crate::report::{render, schema};
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
    dense_arch(model)?;
    let base = base_precision(ctx, a)?;
    let (doc, notes) = if a.cloud {
        match cloud(ctx, &c, a, model, base)? {
            Some(doc) => (doc, vec![]),
            // Nothing fits: a constraint is not met (exit 1), as when recommend finds nothing.
            None => {
                return Ok(Outcome {
                    stdout: String::new(),
                    exit: exit::UNMET,
                    notes: vec![format!(
                        "no priced GPU type with up to 8 GPUs fits this {} run; try --method qlora, a smaller --seq, or --offload-optimizer",
                        model.id
                    )],
                });
            }
        }
    } else {
        let hw = hardware::resolve(ctx, &a.hardware)?;
        if hw.gpus.is_empty() {
            return Err(Error::input(
                "finetune needs a GPU: give --gpu ID[:N] (e.g. --gpu rtx-4090), --hardware FILE or --cloud",
            ));
        }
        let doc = plan(&c, a, model, base, &hw, a.sharding)?;
        (doc, hw.notes.clone())
    };
    let stdout = render(&doc, ctx.format);
    Ok(Outcome {
        notes,
        ..Outcome::ok(stdout)
    })
}

/// `recommend --finetune METHOD --model MODEL [--cloud]`: `finetune MODEL --method METHOD [--cloud]`
/// with finetune's defaults for everything else (its clap definition is the one source of them).
pub fn recommend(ctx: &Context, r: &RecommendArgs) -> Result<Outcome> {
    use clap::{Args, FromArgMatches};
    let (Some(method), Some(model)) = (r.finetune, r.model.as_deref()) else {
        return Err(Error::input(
            "recommend --finetune needs --model (e.g. --finetune lora --model 14b)",
        ));
    };
    let matches = FinetuneArgs::augment_args(clap::Command::new("finetune"))
        .try_get_matches_from(["finetune", model])
        .map_err(|e| Error::input(e.to_string()))?;
    let mut a =
        FinetuneArgs::from_arg_matches(&matches).map_err(|e| Error::input(e.to_string()))?;
    a.method = method;
    a.cloud = r.cloud;
    a.hardware = r.request.hardware.clone();
    a.cost = r.request.cost.clone();
    finetune(ctx, &a)
}

/// GPU counts `--cloud` tries: one node, because the sharding model has no inter-node term.
const CLOUD_COUNTS: [u32; 4] = [1, 2, 4, 8];
/// Strategies tried on several GPUs when `--sharding` is not given, least communication first.
/// ZeRO-3 needs the same memory as FSDP; it is reached when FSDP is refused (optimizer offload).
const CLOUD_SHARDINGS: [Sharding; 4] = [
    Sharding::Ddp,
    Sharding::Zero2,
    Sharding::Fsdp,
    Sharding::Zero3,
];
/// Cheapest alternatives listed beside the choice.
const CLOUD_ALTERNATIVES: usize = 5;

/// `--cloud`: every priced NVIDIA GPU type × 1/2/4/8, the cheapest per trained token that fits
/// (`None` when nothing does).
fn cloud(
    ctx: &Context,
    c: &TrainingConstants,
    a: &FinetuneArgs,
    model: &Model,
    base: &'static str,
) -> Result<Option<FinetuneDocument>> {
    let h = &a.hardware;
    hardware::refuse_with_cloud(h, "the GPUs")?;
    let mut fitting: Vec<FinetuneDocument> = vec![];
    let mut evaluated = 0;
    // Per GPU type the fewest GPUs that fit: more of the same type cost the same per token here
    // (communication is not modelled) and only finish sooner.
    'types: for gpu in ctx
        .catalog
        .gpus
        .iter()
        .filter(|g| g.usd_per_hour.is_some() && g.vendor == Vendor::Nvidia)
    {
        for n in CLOUD_COUNTS {
            let req = SimulationRequest {
                gpu_specs: vec![format!("{}:{n}", gpu.id)],
                ram_bytes: h.ram,
                cpu_bandwidth_gb_s: h.cpu_bandwidth,
                ..Default::default()
            };
            let hw = simulate(&ctx.catalog, &req)?;
            let shardings: Vec<Option<Sharding>> = match (n, a.sharding) {
                (1, _) => vec![None],
                (_, Some(s)) => vec![Some(s)],
                _ => CLOUD_SHARDINGS.iter().copied().map(Some).collect(),
            };
            for sharding in shardings {
                evaluated += 1;
                // Settings this machine cannot take (FSDP on one GPU, …) are skipped, not errors.
                let Ok(doc) = plan(c, a, model, base, &hw, sharding) else {
                    continue;
                };
                if doc.memory.fits && doc.cost.is_some() {
                    fitting.push(doc);
                    continue 'types;
                }
            }
        }
    }
    let per_token = |d: &FinetuneDocument| {
        d.cost
            .as_ref()
            .map_or(f64::INFINITY, |k| k.usd_per_million_tokens)
    };
    fitting.sort_by(|x, y| {
        per_token(x)
            .total_cmp(&per_token(y))
            .then(x.setup.gpus.cmp(&y.setup.gpus))
    });
    let options: Vec<CloudOption> = fitting.iter().map(CloudOption::of).collect();
    let Some(mut chosen) = fitting.into_iter().next() else {
        return Ok(None);
    };
    chosen.cloud = Some(CloudSearch {
        evaluated,
        fitting: options.len() as u32,
        cheapest: options.into_iter().take(CLOUD_ALTERNATIVES).collect(),
    });
    Ok(Some(chosen))
}

/// The plan of `a` on the machine `hw`.
fn plan(
    c: &TrainingConstants,
    a: &FinetuneArgs,
    model: &Model,
    base: &'static str,
    hw: &Hardware,
    sharding: Option<Sharding>,
) -> Result<FinetuneDocument> {
    let arch = dense_arch(model)?;
    let gpus = hw.gpu_count();
    let mut setup = TrainSetup {
        method: a.method,
        rank: a.lora_rank,
        targets: a.lora_targets,
        optimizer: a.optimizer,
        seq: a.seq,
        micro_batch: a.micro_batch,
        checkpointing: a.checkpointing,
        sharding: sharding.unwrap_or(if gpus > 1 {
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
        let found = max_seq(c, model, &setup, capacity, host)?;
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
    let mem = memory(c, model, &setup, capacity, host)?;
    let sp = speed(c, model, &setup, tflops)?;
    let trained = a
        .tokens
        .or(a.dataset_tokens.map(|d| d * a.epochs.unwrap_or(1.0)));
    let time = trained.map(|tokens| TimeReport {
        tokens,
        hours: tokens / sp.tokens_per_s / 3600.0,
    });
    let train_cost =
        cost(hw, gpus, sp.tokens_per_s, a.cost.price, a.cost.kwh_price).map(|k| TrainCost {
            usd_per_hour: k.usd_per_hour,
            usd_total: time.as_ref().map(|t| t.hours * k.usd_per_hour),
            usd_per_million_tokens: k.usd_per_million_output_tokens,
            basis: k.basis,
        });
    let lora = setup.method != Method::Full;
    Ok(FinetuneDocument {
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
                base.into()
            },
        },
        hardware: HardwareSummary::of(hw),
        memory: mem,
        speed: sp,
        max_seq: max_seq_report,
        time,
        cost: train_cost,
        frameworks: settings(arch, &model.base_model, &setup),
        cloud: None,
        basis: basis(c),
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
