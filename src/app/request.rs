//! One reading of a search request, for `recommend` and for `check --task`: the task's
//! constraints with its defaults, the pinned quant and engine, the workload and the prices.

use crate::catalog::{Catalog, Task};
use crate::cli::{ConstraintArgs, CostArgs, DeploymentArgs, LoadArgs};
use crate::decide::constraints::{Constraints, Limits};
use crate::decide::load::Traffic;
use crate::decide::search::{Machines, ParallelPin, Pins, Prefer, Request, WorkloadSpec};
use crate::error::{Error, Result};

use super::deploy::mean_tokens;

/// The constraint flags, unread.
pub fn limits(args: &ConstraintArgs) -> Limits<'_> {
    Limits {
        latency_ms: args.latency,
        tpot_ms: args.tpot,
        min_tokens_per_s: args.min_speed,
        answer_within_ms: args.answer_within,
        budget: args.budget.as_deref(),
        min_quality: args.min_quality,
    }
}

/// The task `--task` names, or the catalog's default with a note saying so; `command` is the
/// subcommand whose `--help` lists the tasks.
pub fn task<'a>(
    c: &'a Catalog,
    given: Option<&str>,
    command: &str,
    notes: &mut Vec<String>,
) -> Result<&'a Task> {
    if let Some(t) = given {
        return c.task(t);
    }
    let t = c.default_task()?;
    notes.push(format!(
        "no --task given: assuming '{}' (see `r1pick {command} --help` for tasks)",
        t.id
    ));
    Ok(t)
}

/// The flags a search reads.
pub struct SearchArgs<'a> {
    /// `recommend --model`: one model only.
    pub model: Option<&'a str>,
    pub constraints: &'a ConstraintArgs,
    pub deployment: &'a DeploymentArgs,
    pub cost: &'a CostArgs,
    pub load: &'a LoadArgs,
    pub prefer: Prefer,
}

/// The load the flags state (`--rate`, `--concurrency`, spreads, `--percentile`), or none.
pub fn traffic(d: &DeploymentArgs, l: &LoadArgs) -> Result<Option<Traffic>> {
    Traffic::from_flags(l.rate, d.concurrency, d.prompt, d.output, l.percentile)
}

/// The search for `task`: constraints first, then the pins, then the machines (in that order, so
/// the first bad flag is the one reported).
pub fn search_request<'a>(
    c: &'a Catalog,
    task: &'a Task,
    args: &SearchArgs,
    machines: impl FnOnce() -> Result<Machines>,
) -> Result<Request<'a>> {
    let constraints = Constraints::for_task(c, &limits(args.constraints), task)?;
    let traffic = traffic(args.deployment, args.load)?;
    let pins = pins(
        c,
        args.deployment,
        args.model,
        args.constraints.min_quality.is_some(),
    )?;
    Ok(Request {
        catalog: c,
        task,
        constraints,
        prefer: args.prefer,
        pins,
        workload: workload_spec(args.deployment),
        traffic,
        kv_dtype: args.deployment.kv_dtype,
        machines: machines()?,
        price: args.cost.price,
        kwh_price: args.cost.kwh_price,
    })
}

fn workload_spec(args: &DeploymentArgs) -> WorkloadSpec {
    WorkloadSpec {
        context: args.context,
        prompt: args.prompt.map(mean_tokens),
        output: args.output.map(mean_tokens),
        concurrency: args.concurrency.unwrap_or(1),
    }
}

fn pins<'a>(
    c: &'a Catalog,
    args: &DeploymentArgs,
    model: Option<&str>,
    min_quality_given: bool,
) -> Result<Pins<'a>> {
    let model = model.map(|m| c.model(m)).transpose()?;
    let quant = args.quant.as_deref().map(|q| c.quant(q)).transpose()?;
    let engine = args.engine.as_deref().map(|e| c.engine(e)).transpose()?;
    if let (Some(q), Some(e)) = (quant, engine)
        && !e.quants.contains(&q.id)
    {
        return Err(Error::input(format!(
            "--engine {} cannot run --quant {} (it loads: {})",
            e.id,
            q.id,
            e.quants.join(", ")
        )));
    }
    Ok(Pins {
        model,
        min_quality_given,
        quant,
        engine,
        mtp: args.mtp.unwrap_or(0),
        parallel: ParallelPin {
            ep: args.parallel.ep,
            dp_per_gpu: args.parallel.dp_attention,
            dp: args.parallel.dp,
            redundant_experts: args.parallel.redundant_experts,
        },
    })
}
