//! `r1pick check`: the CI gate. Exit 0 when the deployment fits and meets every constraint given,
//! 1 with each failed constraint and its margin, 2 for bad input.

use crate::cli::{CheckArgs, DeployArgs};
use crate::decide::constraints::{CheckResult, Constraints, Measured, all_ok, evaluate, quality};
use crate::decide::search::{Machines, Prefer, search};
use crate::error::{Error, Result, exit};
use crate::report::check::CheckDocument;
use crate::report::deployment::DeploymentReport;
use crate::report::{render, schema};

use super::request::{SearchArgs, limits, search_request, traffic};
use super::{Context, Outcome, estimate, hardware};

pub fn check(ctx: &Context, args: &CheckArgs) -> Result<Outcome> {
    let Some(model) = args.model.clone() else {
        return match args.constraints.task {
            Some(_) => best_for_task(ctx, args),
            None => Err(Error::input(
                "check needs a MODEL (e.g. r1pick check 32b --gpu l40s:2), or --task to check the best recommendation",
            )),
        };
    };
    let hw = hardware::resolve(ctx, &args.hardware)?;
    let task = args
        .constraints
        .task
        .as_deref()
        .map(|t| ctx.catalog.task(t))
        .transpose()?;
    let mut constraints = Constraints::given(&ctx.catalog, &limits(&args.constraints), task)?;
    // A brought model has no paper score: the task's floor applies only with --score or
    // --min-quality (design: quality is then not judged).
    let mut notes = vec![];
    if let Some(floor) = &constraints.min_quality
        && args.constraints.min_quality.is_none()
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
        deployment: args.deployment.clone(),
        hardware: args.hardware.clone(),
    };
    let traffic = traffic(&args.deployment, &args.load)?;
    let e = estimate::evaluate(
        &ctx.catalog,
        &deploy,
        hw,
        task,
        traffic.as_ref(),
        args.cost.price,
        args.cost.kwh_price,
    )?;
    let report = estimate::evaluated_report(&e);
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
    Ok(verdict(ctx, Some(report), checks, notes))
}

/// The gate's answer: exit 0 when every check holds, 1 otherwise (also when nothing was sized).
fn verdict(
    ctx: &Context,
    deployment: Option<DeploymentReport>,
    checks: Vec<CheckResult>,
    notes: Vec<String>,
) -> Outcome {
    let ok = deployment.is_some() && all_ok(&checks);
    let doc = CheckDocument {
        schema: schema("check"),
        ok,
        deployment,
        checks,
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
    let task = match args.constraints.task.as_deref() {
        Some(t) => c.task(t)?,
        None => c.default_task()?,
    };
    let mut notes = vec![];
    let search_args = SearchArgs {
        model: None,
        constraints: &args.constraints,
        deployment: &args.deployment,
        cost: &args.cost,
        load: &args.load,
        prefer: Prefer::Quality,
    };
    let req = search_request(c, task, &search_args, || {
        let hw = hardware::resolve(ctx, &args.hardware)?;
        notes = hw.notes.clone();
        Ok(Machines::Local(hw))
    })?;
    let d = search(&req);
    let best = d.choice.as_ref().or(d.closest.first());
    Ok(verdict(
        ctx,
        best.map(|b| estimate::evaluated_report(&b.evaluated)),
        best.map(|b| b.checks.clone()).unwrap_or_default(),
        notes,
    ))
}
