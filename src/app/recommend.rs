//! `r1pick recommend`: the task, the constraints and the machine in; the best deployment, its
//! launch command, the runners-up, the rejections and the decision path out.

use crate::cli::{Prefer as CliPrefer, RecommendArgs};
use crate::decide::constraints::{Constraint, Unit};
use crate::decide::launch;
use crate::decide::load::launched;
use crate::decide::search::{
    Candidate, Decision, Machines, Prefer, Reason, Rejection, Request, search,
};
use crate::error::{Error, Result, exit};
use crate::quantity::{QUALITY_DECIMALS, round, score};
use crate::report::deployment::HardwareSummary;
use crate::report::plot::{ParetoPoint, pareto_svg};
use crate::report::recommend::{NearMiss, RecommendDocument, Recommendation};
use crate::report::{render, schema};
use crate::serving::Load;

use super::request::{self, SearchArgs, search_request};
use super::{Context, Outcome, emit, estimate, hardware};

pub fn recommend(ctx: &Context, args: &RecommendArgs) -> Result<Outcome> {
    if args.finetune.is_some() {
        return super::finetune::recommend(ctx, args);
    }
    super::sweep::plot_path_ok(args.plot.plot.as_deref())?;
    let emit_format = emit::format(&args.emit, ctx.format)?;
    let c = &ctx.catalog;
    let mut notes = vec![];
    let task = request::task(
        c,
        args.request.constraints.task.as_deref(),
        "recommend",
        &mut notes,
    )?;
    let search_args = SearchArgs {
        model: args.model.as_deref(),
        constraints: &args.request.constraints,
        deployment: &args.request.deployment,
        cost: &args.request.cost,
        load: &args.request.load,
        prefer: match args.prefer {
            Some(CliPrefer::Cost) => Prefer::Cost,
            Some(CliPrefer::Speed) => Prefer::Speed,
            Some(CliPrefer::Quality) | None => Prefer::Quality,
        },
    };
    let req = search_request(c, task, &search_args, || {
        if !args.cloud {
            return Ok(Machines::Local(hardware::resolve(
                ctx,
                &args.request.hardware,
            )?));
        }
        hardware::refuse_with_cloud(&args.request.hardware, "the GPUs")?;
        Ok(Machines::Cloud)
    })?;
    let constraints = req.constraints.clone();
    if let Machines::Local(hw) = &req.machines {
        notes.extend(hw.notes.iter().cloned());
    }
    let decision = search(&req);
    let suggestions = if decision.choice.is_none() {
        suggest(&req, &decision)
    } else {
        vec![]
    };
    let best_effort = decision.choice.is_none() && args.best_effort;
    if best_effort && decision.closest.is_empty() {
        // Every candidate fell before sizing (below the quality floor, which no hardware raises,
        // or unsupported here): say so in one line rather than leave a bare null.
        let nearest = decision
            .rejected
            .iter()
            .min_by(|a, b| a.shortfall.total_cmp(&b.shortfall))
            .map(|r| {
                format!(
                    "; the nearest, {} {} with {}: {}",
                    r.model, r.quant, r.engine, r.reason
                )
            })
            .unwrap_or_default();
        notes.push(format!(
            "--best-effort: no candidate for {} gets past the quality floor and the support checks here, so there is no closest option to size{nearest}",
            task.id
        ));
    }
    let chosen = decision.choice.as_ref().or(if best_effort {
        decision.closest.first()
    } else {
        None
    });
    let doc = RecommendDocument {
        schema: schema("recommend"),
        task: task.id.clone(),
        constraints,
        search: if args.cloud {
            "cloud".into()
        } else {
            "local".into()
        },
        hardware: match &req.machines {
            Machines::Local(hw) => Some(HardwareSummary::of(hw)),
            Machines::Cloud => None,
        },
        recommendation: chosen.map(|ch| recommendation(ch, task)).transpose()?,
        alternatives: decision
            .alternatives
            .iter()
            .map(|c| estimate::evaluated_report(&c.evaluated))
            .collect(),
        rejected: rejected(&decision, args.explain),
        closest: if decision.choice.is_none() {
            decision.closest.iter().map(near_miss).collect()
        } else {
            vec![]
        },
        suggestions,
        trace: decision.trace.clone(),
        evaluated: decision.evaluated,
        explain: args.explain,
        best_effort,
    };
    if let Some(path) = &args.plot.plot {
        match pareto_chart(&doc, &decision) {
            Some(svg) => super::sweep::write_atomically(path, &svg?)?,
            None => notes.push(format!(
                "--plot {}: no candidate passed, so there is nothing to draw",
                path.display()
            )),
        }
    }
    let emitted = match (emit_format, chosen) {
        (Some(f), Some(ch)) => {
            // Under a rate the one replica recommended may grow as a fleet would.
            let autoscale = match ch.evaluated.load.as_ref().map(|l| l.estimate.load) {
                Some(Load::Rate { per_second }) => Some(crate::report::manifest::autoscale_rule(
                    1,
                    0,
                    per_second,
                    req.constraints.latency_ms,
                )),
                _ => None,
            };
            Some(emit::render(
                f,
                &launched(&ch.evaluated.deployment, ch.evaluated.load.as_ref()),
                &ch.evaluated.memory,
                &ch.evaluated.hardware,
                1,
                autoscale,
                &mut notes,
            )?)
        }
        _ => None,
    };
    let stdout = emitted.unwrap_or_else(|| render(&doc, ctx.format));
    let code = if doc.recommendation.is_some() {
        exit::OK
    } else {
        exit::UNMET
    };
    Ok(Outcome {
        stdout,
        exit: code,
        notes,
    })
}

/// The passing candidates as `--plot` draws them, titled with the task, the machine and the
/// workload; `None` when nothing passed.
fn pareto_chart(doc: &RecommendDocument, d: &Decision) -> Option<Result<String>> {
    let pick = doc.recommendation.as_ref().filter(|_| d.choice.is_some())?;
    let r = &pick.deployment;
    let machine = match doc.search.as_str() {
        "cloud" => "priced cloud GPUs".to_string(),
        _ => crate::report::estimate::gpu_line(r),
    };
    let load = r
        .performance
        .as_ref()
        .and_then(|p| p.load.as_ref())
        .map(|l| format!(", {}", crate::decide::load::load_label(&l.shape)))
        .unwrap_or_default();
    let title = format!(
        "{}: the candidates that pass on {machine} — prompt {}, output {} tokens{load}",
        doc.task, r.workload.prompt, r.workload.output,
    );
    let pick_label = format!(
        "{} {} {}, {} GPU(s)",
        pick.deployment.model, r.quant, r.engine, r.placement.gpus
    );
    let points: Vec<ParetoPoint> = d
        .passed
        .iter()
        .map(|&(per_gpu, per_user)| ParetoPoint {
            tokens_per_s_per_gpu: per_gpu,
            tokens_per_s_per_user: per_user,
        })
        .collect();
    Some(pareto_svg(&title, &points, 0, &pick_label).map_err(Error::Environment))
}

fn recommendation(ch: &Candidate, task: &crate::catalog::Task) -> Result<Recommendation> {
    let d = &ch.evaluated.deployment;
    let judged = d.model.scores.get(task.benchmark).is_some();
    let mut why = vec![if !judged {
        format!(
            "quality not judged: {} has no published {} score (give --score or --min-quality); {} ranked by its retention {:.3}",
            d.model.id,
            task.benchmark.label(),
            d.quant.id,
            d.quant
                .retention_for(crate::catalog::ParamBreakdown::of(d.model).total())
        )
    } else {
        format!(
            "{} {} on {} ≥ {} needed for {} ({} paper score × {:.3} retention of {})",
            task.benchmark.label(),
            score(ch.quality),
            d.model.id,
            score(task.min_score),
            task.id,
            d.model.scores.get(task.benchmark).unwrap_or(0.0),
            d.quant
                .retention_for(crate::catalog::ParamBreakdown::of(d.model).total()),
            d.quant.id
        )
    }];
    if !d.quant.quality_measured {
        why.push(format!(
            "quality unmeasured: no benchmark of {} is published, its retention is an extrapolation; it ranks below any measured quality that meets the floor",
            d.quant.id
        ));
    }
    why.extend(
        ch.checks
            .iter()
            .filter(|c| c.constraint != Constraint::MinQuality)
            .map(|c| c.message.clone()),
    );
    why.extend(estimate::network_assumption(
        &ch.evaluated.hardware,
        &ch.evaluated.memory,
    ));
    let plan = launch::plan(
        &launched(&ch.evaluated.deployment, ch.evaluated.load.as_ref()),
        &ch.evaluated.memory,
    )?;
    Ok(Recommendation {
        deployment: estimate::evaluated_report(&ch.evaluated),
        quality: round(ch.quality, QUALITY_DECIMALS),
        quality_judged: judged,
        quality_measured: d.quant.quality_measured,
        command: plan.script(),
        launch: plan,
        why,
        checks: ch.checks.clone(),
    })
}

/// A sized candidate that runs here, with the constraints it misses and by how much.
fn near_miss(c: &Candidate) -> NearMiss {
    let d = &c.evaluated.deployment;
    NearMiss {
        model: d.model.id.clone(),
        quant: d.quant.id.clone(),
        engine: d.engine.id.clone(),
        gpus: c.gpus_label(),
        misses: c.checks.iter().filter(|k| !k.ok).cloned().collect(),
    }
}

/// All rejections with --explain; otherwise the 20 that came closest.
fn rejected(d: &Decision, explain: bool) -> Vec<Rejection> {
    let keep = if explain { d.rejected.len() } else { 20 };
    d.rejected
        .iter()
        .filter(|r| explain || r.constraint != Reason::Support)
        .take(keep)
        .cloned()
        .collect()
}

/// What would make something qualify: each constraint's smallest sufficient relaxation, and the
/// cheapest priced hardware on which everything holds.
fn suggest(req: &Request, d: &Decision) -> Vec<String> {
    let mut out = vec![];
    for r in &d.relaxations {
        let flag = r.constraint.flag();
        let value = match r.unit {
            Unit::Ms => format!("{:.0}ms", r.needed.ceil()),
            Unit::UsdPerHour => format!("{:.2}/h", r.needed),
            // just under the highest sustainable rate, which itself is not sustainable
            Unit::RequestsPerS => format!("{:.2}/s", (r.needed * 100.0).ceil() / 100.0 - 0.01),
            Unit::Score => score(r.needed),
            _ => format!("{:.1}", r.needed),
        };
        out.push(format!(
            "relax {flag} to {value}: {} would then qualify",
            r.candidate
        ));
    }
    if matches!(req.machines, Machines::Local(_)) {
        let cloud = Request {
            machines: Machines::Cloud,
            prefer: Prefer::Cost,
            constraints: req.constraints.clone(),
            ..*req
        };
        match search(&cloud).choice {
            Some(ch) => out.push(format!(
                "cheapest hardware that meets every constraint: {} ({}) running {} {} with {}",
                ch.gpus_label(),
                ch.usd_per_hour()
                    .map(|c| format!("${c:.2}/h"))
                    .unwrap_or_else(|| "unpriced".into()),
                ch.evaluated.deployment.model.id,
                ch.evaluated.deployment.quant.id,
                ch.evaluated.deployment.engine.id
            )),
            None => out.push(
                "no priced cloud hardware in the catalog meets every constraint either".into(),
            ),
        }
    }
    out
}
