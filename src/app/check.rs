//! `r1pick check`: the CI gate. Exit 0 when the deployment fits and meets every constraint given,
//! 1 with each failed constraint and its margin, 2 for bad input.

use crate::cli::{CheckArgs, DeployArgs, LoadArgs};
use crate::decide::constraints::{CheckResult, Constraints, Measured, all_ok, evaluate, quality};
use crate::decide::search::{Machines, Prefer, search};
use crate::error::{Error, Result, exit};
use crate::report::check::{CheckDocument, CheckedFleet};
use crate::report::deployment::DeploymentReport;
use crate::report::{render, schema};

use super::request::{SearchArgs, limits, search_request, traffic};
use super::{Context, Outcome, estimate, hardware};

/// The load flags with `--rate` shared by `--replicas` (the fleet, when there is one).
fn shared_load(args: &CheckArgs) -> (LoadArgs, Option<CheckedFleet>) {
    match (args.replicas, args.request.load.rate) {
        (Some(n), Some(rate)) => {
            let each = rate / f64::from(n);
            let load = LoadArgs {
                rate: Some(each),
                ..args.request.load.clone()
            };
            let fleet = CheckedFleet {
                replicas: n,
                rate_per_s: rate,
                rate_per_replica_per_s: each,
            };
            (load, Some(fleet))
        }
        _ => (args.request.load.clone(), None),
    }
}

pub fn check(ctx: &Context, args: &CheckArgs) -> Result<Outcome> {
    if let Some(sweep) = &args.sweep.sweep {
        return super::sweep::check(ctx, args, sweep);
    }
    super::sweep::no_plot_without_sweep(&args.sweep)?;
    let Some(model) = args.model.clone() else {
        return match args.request.constraints.task {
            Some(_) => best_for_task(ctx, args),
            None => Err(Error::input(
                "check needs a MODEL (e.g. r1pick check 32b --gpu l40s:2), or --task to check the best recommendation",
            )),
        };
    };
    let hw = hardware::resolve(ctx, &args.request.hardware)?;
    let c = check_on(ctx, args, model, hw)?;
    let report = estimate::evaluated_report(&c.evaluated);
    Ok(verdict(ctx, Some(report), c.checks, c.fleet, c.notes))
}

/// A deployment and how it measures up.
pub struct Checked<'a> {
    pub evaluated: crate::decide::search::Evaluated<'a>,
    pub checks: Vec<CheckResult>,
    /// The fleet `--replicas` shares the rate over, when given.
    pub fleet: Option<CheckedFleet>,
    pub notes: Vec<String>,
}

/// `check MODEL` on a resolved machine: one gate, and each point of a sweep.
pub fn check_on<'a>(
    ctx: &'a Context,
    args: &CheckArgs,
    model: String,
    hw: crate::hardware::Hardware,
) -> Result<Checked<'a>> {
    let task = args
        .request
        .constraints
        .task
        .as_deref()
        .map(|t| ctx.catalog.task(t))
        .transpose()?;
    let mut constraints =
        Constraints::given(&ctx.catalog, &limits(&args.request.constraints), task)?;
    // A brought model has no paper score: the task's floor applies only with --score or
    // --min-quality (design: quality is then not judged).
    let mut notes = vec![];
    if let Some(floor) = &constraints.min_quality
        && args.request.constraints.min_quality.is_none()
        && let Ok(m) = ctx.catalog.model(&model)
        && m.source != crate::catalog::model::ModelSource::Catalog
        && m.scores.get(floor.benchmark).is_none()
    {
        notes.push(format!(
            "quality not judged: {model} has no {} score (give --score or --min-quality)",
            floor.benchmark.label()
        ));
        constraints.min_quality = None;
    }
    let deploy = DeployArgs {
        model,
        deployment: args.request.deployment.clone(),
        hardware: args.request.hardware.clone(),
    };
    let (load, fleet) = shared_load(args);
    let traffic = traffic(&args.request.deployment, &load)?;
    let e = estimate::evaluate(
        &ctx.catalog,
        &deploy,
        hw,
        task,
        traffic.as_ref(),
        args.request.cost.price,
        args.request.cost.kwh_price,
    )?;
    let measured = Measured {
        memory: &e.memory,
        performance: &e.performance,
        cost: e.cost.as_ref(),
        quality: constraints
            .min_quality
            .as_ref()
            .and_then(|q| quality(e.deployment.model, e.deployment.quant, q.benchmark)),
        load: e.load.as_ref(),
    };
    let checks = evaluate(&constraints, &measured);
    notes.extend(e.hardware.notes.iter().cloned());
    Ok(Checked {
        evaluated: e,
        checks,
        fleet,
        notes,
    })
}

/// The gate's answer: exit 0 when every check holds, 1 otherwise (also when nothing was sized).
fn verdict(
    ctx: &Context,
    deployment: Option<DeploymentReport>,
    checks: Vec<CheckResult>,
    fleet: Option<CheckedFleet>,
    notes: Vec<String>,
) -> Outcome {
    let ok = deployment.is_some() && all_ok(&checks);
    let doc = CheckDocument {
        schema: schema("check"),
        ok,
        deployment,
        checks,
        fleet,
    };
    let stdout = render(&doc, ctx.format);
    Outcome {
        stdout,
        exit: if ok { exit::OK } else { exit::UNMET },
        notes,
    }
}

/// `check --task T` without a MODEL gates on the recommendation for T on this machine, or the
/// closest candidate when nothing qualifies, with its checks against the given constraints plus
/// the task's defaults.
fn best_for_task(ctx: &Context, args: &CheckArgs) -> Result<Outcome> {
    let c = &ctx.catalog;
    let task = match args.request.constraints.task.as_deref() {
        Some(t) => c.task(t)?,
        None => c.default_task()?,
    };
    let mut notes = vec![];
    let (load, fleet) = shared_load(args);
    let search_args = SearchArgs {
        model: None,
        constraints: &args.request.constraints,
        deployment: &args.request.deployment,
        cost: &args.request.cost,
        load: &load,
        prefer: Prefer::Quality,
    };
    let req = search_request(c, task, &search_args, || {
        let hw = hardware::resolve(ctx, &args.request.hardware)?;
        notes = hw.notes.clone();
        Ok(Machines::Local(hw))
    })?;
    let d = search(&req);
    let best = d.choice.as_ref().or(d.closest.first());
    Ok(verdict(
        ctx,
        best.map(|b| estimate::evaluated_report(&b.evaluated)),
        best.map(|b| b.checks.clone()).unwrap_or_default(),
        fleet,
        notes,
    ))
}
