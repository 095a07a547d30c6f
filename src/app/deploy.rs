//! From flags to a [`Deployment`]: pick defaults the way a user would, and refuse what cannot run.

use crate::catalog::engine::MultiGpu;
use crate::catalog::model::ModelSource;
use crate::catalog::quant::QuantFormat;
use crate::catalog::{Catalog, Engine, Model, Quant, Task};
use crate::cli::DeploymentArgs;
use crate::cli::parallel::ParallelArgs;
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::serving::Span;
use crate::sizing::support::unsupported;
use crate::sizing::{Deployment, KvDtype, Parallel, Workload};

/// Context when neither a flag nor a task gives one.
pub const DEFAULT_CONTEXT: u32 = 8192;
/// Prompt and generated tokens when neither a flag nor a task gives them.
pub const DEFAULT_PROMPT: u32 = 1024;
pub const DEFAULT_OUTPUT: u32 = 4096;

/// The workload from flags, then the task's profile, then the defaults; checked for consistency.
/// A spread (`--prompt 512..4k`) sizes by its mean and must fit the context at its longest.
pub fn workload(model: &Model, args: &DeploymentArgs, task: Option<&Task>) -> Result<Workload> {
    let context = args
        .context
        .or(task.map(|t| t.context))
        .unwrap_or(DEFAULT_CONTEXT.min(model.max_context));
    let prompt = args
        .prompt
        .or(task.map(|t| Span::fixed(t.prompt_tokens)))
        .unwrap_or(Span::fixed(DEFAULT_PROMPT.min(context / 2).max(1)));
    let output = args
        .output
        .or(task.map(|t| Span::fixed(t.reasoning_tokens + t.answer_tokens)))
        .unwrap_or(Span::fixed(
            DEFAULT_OUTPUT
                .min(context.saturating_sub(prompt.max))
                .max(1),
        ));
    let concurrency = args.concurrency.unwrap_or(1);
    if context > model.max_context {
        return Err(Error::input(format!(
            "--context {context} is above {}'s maximum of {} tokens",
            model.id, model.max_context
        )));
    }
    if prompt.max > context {
        return Err(Error::input(format!(
            "--prompt {} is longer than --context {context}: the prompt must fit in the context",
            prompt.max
        )));
    }
    if prompt.max + output.max > context {
        return Err(Error::input(format!(
            "--prompt {} + --output {} = {} tokens do not fit --context {context}",
            prompt.max,
            output.max,
            prompt.max + output.max
        )));
    }
    Ok(Workload {
        context,
        prompt: mean_tokens(prompt),
        output: mean_tokens(output),
        concurrency,
    })
}

/// The mean of a spread in whole tokens (the value itself when fixed).
pub fn mean_tokens(s: Span) -> u32 {
    s.mean().round() as u32
}

/// The engine a user on this hardware would reach for.
pub fn default_engine<'a>(
    catalog: &'a Catalog,
    hw: &Hardware,
    quant: Option<&Quant>,
) -> Result<&'a Engine> {
    let d = &catalog.default_engine;
    let id = match hw.gpus.first() {
        _ if quant.is_some_and(|q| q.format == QuantFormat::Gguf) => &d.gguf,
        None => &d.cpu,
        Some(g) => d.for_vendor(g.vendor),
    };
    catalog.engine(id)
}

/// The quant an engine would load by default: Ollama's default tag (Q4_K_M) for GGUF engines, the
/// released precision (BF16 distills, FP8 671B) for the others.
pub fn default_quant<'a>(
    catalog: &'a Catalog,
    model: &Model,
    engine: &Engine,
) -> Result<&'a Quant> {
    ["q4_k_m"]
        .into_iter()
        .chain(model.native_quant())
        .find(|q| model.quants.iter().any(|m| m == q) && engine.quants.iter().any(|e| e == q))
        .map(|q| catalog.quant(q))
        .unwrap_or_else(|| {
            Err(Error::input(format!(
                "{} has no quant that {} loads by default; pick one with --quant",
                model.id, engine.id
            )))
        })
}

/// A complete deployment from flags: model, quant, engine, GPUs, workload; refused with a one-line
/// reason when the combination cannot run.
pub fn resolve<'a>(
    catalog: &'a Catalog,
    model_name: &str,
    args: &DeploymentArgs,
    hw: &Hardware,
    task: Option<&Task>,
) -> Result<Deployment<'a>> {
    let model = catalog.model(model_name)?;
    // A GGUF file is one quant: without --quant, that one (and so a GGUF engine).
    let file_quant = match (&args.quant, model.source) {
        (None, ModelSource::Gguf) => model.quants.first().map(String::as_str),
        _ => None,
    };
    let quant = args
        .quant
        .as_deref()
        .or(file_quant)
        .map(|q| catalog.quant(q))
        .transpose()?;
    let engine = match args.engine.as_deref() {
        Some(e) => catalog.engine(e)?,
        None => default_engine(catalog, hw, quant)?,
    };
    let quant = match quant {
        Some(q) => q,
        None => default_quant(catalog, model, engine)?,
    };
    let gpus = hw.gpu_count();
    if let Some(why) = unsupported(model, quant, engine, hw, gpus) {
        return Err(Error::input(why));
    }
    let workload = workload(model, args, task)?;
    if args.mla_kv.is_some() && !model.is_moe() {
        return Err(Error::input(format!(
            "--mla-kv applies to the MLA cache of the 671B models; {} has a standard KV cache (drop --mla-kv)",
            model.id
        )));
    }
    if let Some(tp) = args.tp {
        if engine.multi_gpu == MultiGpu::Layer && tp > 1 {
            return Err(Error::input(format!(
                "{} splits layers across GPUs; --tp applies to vllm, sglang and trtllm",
                engine.id
            )));
        }
        if tp > gpus.max(1) {
            return Err(Error::input(format!(
                "--tp {tp} needs {tp} GPUs; the machine has {gpus}"
            )));
        }
    }
    Ok(Deployment {
        model,
        quant,
        engine,
        gpus,
        tensor_parallel: args.tp.filter(|_| engine.multi_gpu == MultiGpu::Tensor),
        kv_dtype: args.kv_dtype.unwrap_or(KvDtype::engine_default(engine)),
        mla_kv: args.mla_kv,
        mtp: mtp_steps(args.mtp, model, quant, engine)?,
        parallel: parallel(&args.parallel, args.tp, gpus),
        workload,
    })
}

/// `--ep`, `--dp-attention`, `--dp`, `--redundant-experts` as sizing reads them: DP attention
/// without `--dp` gives every GPU of the tensor-parallel group its own DP rank (TRT-LLM's
/// `enable_attention_dp`, SGLang's usual `--dp` = `--tp`). Sizing refuses what cannot run.
pub fn parallel(args: &ParallelArgs, tp: Option<u32>, gpus: u32) -> Parallel {
    let dp = match args.dp {
        Some(n) => n,
        None if args.dp_attention => tp.unwrap_or(gpus).max(1),
        None => 1,
    };
    Parallel {
        ep: args.ep.unwrap_or(1),
        dp,
        redundant_experts: args.redundant_experts.unwrap_or(0),
    }
}

/// `--mtp N`: draft steps of the model's MTP module, where the engine, the model and the artifact
/// have one and the engine's acceptance was measured at that depth.
fn mtp_steps(steps: Option<u32>, model: &Model, quant: &Quant, engine: &Engine) -> Result<u32> {
    let Some(n) = steps.filter(|&n| n > 0) else {
        return Ok(0);
    };
    let Some(mtp) = &engine.mtp else {
        return Err(Error::input(format!(
            "--mtp {n}: {} has no MTP speculative decoding (valid engines: vllm, sglang, trtllm)",
            engine.id
        )));
    };
    if crate::catalog::ParamBreakdown::of(model).mtp == 0 {
        return Err(Error::input(format!(
            "--mtp {n}: {} has no MTP module (only the 671B models have one)",
            model.id
        )));
    }
    if quant.format == QuantFormat::Gguf {
        return Err(Error::input(format!(
            "--mtp {n}: the {} GGUF conversion drops the MTP module (valid: fp8, bf16, int4, nvfp4)",
            quant.id
        )));
    }
    if mtp.accepted(n).is_none() {
        let valid: Vec<String> = mtp.acceptance.iter().map(|a| a.steps.to_string()).collect();
        return Err(Error::input(format!(
            "--mtp {n}: {}'s MTP acceptance is measured only at some draft step counts (valid: {})",
            engine.id,
            valid.join(", ")
        )));
    }
    Ok(n)
}
