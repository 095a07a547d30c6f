//! `r1pick recommend`: the task, the constraints and the machine in; the best deployment, its
//! launch command, the runners-up, the rejections and the decision path out.

use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::{Format, Prefer as CliPrefer, RecommendArgs};
use crate::decide::constraints::{CheckResult, Constraint, Constraints, Unit};
use crate::decide::launch;
use crate::decide::load::{load_label, percentile_label};
use crate::decide::search::{
    Candidate, Decision, Machines, Prefer, Reason, Rejection, Request, search,
};
use crate::error::{Error, Result, exit};
use crate::report::deployment::{DeploymentReport, HardwareSummary};
use crate::report::{align_right, duration_ms, gib, schema, table, to_json};
use crate::serving::Load;
use crate::sizing::{Deployment, Workload};

use super::request::{DEFAULT_TASK, SearchArgs, search_request};
use super::{Context, Outcome, emit, estimate, hardware};

#[derive(Debug, Serialize, JsonSchema)]
pub struct RecommendDocument {
    pub schema: String,
    pub task: String,
    pub constraints: Constraints,
    /// "local" (this or the simulated machine) or "cloud".
    pub search: String,
    pub hardware: Option<HardwareSummary>,
    pub recommendation: Option<Recommendation>,
    pub alternatives: Vec<DeploymentReport>,
    pub rejected: Vec<Rejection>,
    /// What would make something qualify, when nothing does.
    pub suggestions: Vec<String>,
    pub trace: Vec<String>,
    /// Deployments sized and estimated.
    pub evaluated: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Recommendation {
    #[serde(flatten)]
    pub deployment: DeploymentReport,
    /// Quantization-adjusted score on the task's benchmark; for a brought model without a score,
    /// 100 × the quant's retention (`quality_judged` false).
    pub quality: f64,
    /// False when the model has no score on the task's benchmark and no floor was asked for.
    pub quality_judged: bool,
    /// The head's commands as a shell script (one line per step).
    pub command: String,
    /// The same launch, structured: program, arguments, environment, files and every node.
    pub launch: launch::LaunchPlan,
    pub why: Vec<String>,
    /// Every constraint with its margin (violations marked with --best-effort).
    pub checks: Vec<CheckResult>,
}

pub fn recommend(ctx: &Context, args: &RecommendArgs) -> Result<Outcome> {
    if args.finetune.is_some() {
        return super::finetune::recommend(ctx, args);
    }
    let emit_format = emit::format(&args.emit, ctx.format)?;
    let c = &ctx.catalog;
    let mut notes = vec![];
    let task = match args.constraints.task.as_deref() {
        Some(t) => c.task(t)?,
        None => {
            notes.push(format!("no --task given: assuming '{DEFAULT_TASK}' (see `r1pick recommend --help` for tasks)"));
            c.task(DEFAULT_TASK)?
        }
    };
    let search_args = SearchArgs {
        model: args.model.as_deref(),
        constraints: &args.constraints,
        deployment: &args.deployment,
        cost: &args.cost,
        load: &args.load,
        prefer: match args.prefer {
            Some(CliPrefer::Cost) => Prefer::Cost,
            Some(CliPrefer::Speed) => Prefer::Speed,
            Some(CliPrefer::Quality) | None => Prefer::Quality,
        },
    };
    let req = search_request(c, task, &search_args, || {
        if !args.cloud {
            return Ok(Machines::Local(hardware::resolve(ctx, &args.hardware)?));
        }
        let h = &args.hardware;
        if !h.gpu.is_empty() || h.gpus.is_some() || h.hardware.is_some() || h.no_gpu {
            return Err(Error::input(
                "--cloud chooses the GPUs itself; drop --gpu/--gpus/--hardware/--no-gpu",
            ));
        }
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
            .map(estimate::candidate_report)
            .collect(),
        rejected: rejected(&decision, args.explain),
        suggestions,
        trace: decision.trace.clone(),
        evaluated: decision.evaluated,
    };
    let emitted = match (emit_format, chosen) {
        (Some(f), Some(ch)) => Some(emit::render(f, &launched(ch), &ch.memory, &ch.hardware, 1)?),
        _ => None,
    };
    let stdout = match (emitted, ctx.format) {
        (Some(manifest), _) => manifest,
        (None, Format::Json) => to_json(&doc),
        (None, Format::Table) => render(&doc, args.explain, best_effort),
    };
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

fn recommendation(ch: &Candidate, task: &crate::catalog::Task) -> Result<Recommendation> {
    let d = &ch.deployment;
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
            "{} {:.1} on {} ≥ {:.1} needed for {} ({} paper score × {:.3} retention of {})",
            task.benchmark.label(),
            ch.quality,
            d.model.id,
            task.min_score,
            task.id,
            d.model.scores.get(task.benchmark).unwrap_or(0.0),
            d.quant
                .retention_for(crate::catalog::ParamBreakdown::of(d.model).total()),
            d.quant.id
        )
    }];
    why.extend(
        ch.checks
            .iter()
            .filter(|c| c.constraint != Constraint::MinQuality)
            .map(|c| c.message.clone()),
    );
    let plan = launch::plan(&launched(ch), &ch.memory)?;
    Ok(Recommendation {
        deployment: estimate::candidate_report(ch),
        quality: (ch.quality * 10.0).round() / 10.0,
        quality_judged: judged,
        command: plan.script(),
        launch: plan,
        why,
        checks: ch.checks.clone(),
    })
}

/// The deployment as launched. Under a rate the server must admit the batch the serving model
/// ran (its `max_batch`), not the one sequence the workload names.
fn launched<'a>(ch: &Candidate<'a>) -> Deployment<'a> {
    let d = ch.deployment;
    match &ch.load {
        Some(l) if matches!(l.estimate.load, Load::Rate { .. }) => Deployment {
            workload: Workload {
                concurrency: l.estimate.max_batch,
                ..d.workload
            },
            ..d
        },
        _ => d,
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
            _ => format!("{:.1}", r.needed),
        };
        out.push(format!(
            "relax {flag} to {value}: {} would then qualify",
            r.candidate
        ));
    }
    if d.relaxations.is_empty()
        && let Some(c) = d.closest.first()
    {
        let misses: Vec<String> = c
            .checks
            .iter()
            .filter(|k| !k.ok)
            .map(|k| k.message.clone())
            .collect();
        out.push(format!(
            "closest: {} {} with {} on {} misses {}",
            c.deployment.model.id,
            c.deployment.quant.id,
            c.deployment.engine.id,
            c.gpus_label(),
            misses.join("; ")
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
                ch.deployment.model.id,
                ch.deployment.quant.id,
                ch.deployment.engine.id
            )),
            None => out.push(
                "no priced cloud hardware in the catalog meets every constraint either".into(),
            ),
        }
    }
    out
}

fn render(doc: &RecommendDocument, explain: bool, best_effort: bool) -> String {
    let mut out = String::new();
    let target = doc
        .hardware
        .as_ref()
        .map(|h| match h.gpus.first() {
            Some(g) => format!("{} × {}", h.gpu_count, g.name),
            None => "this machine (no GPU)".to_string(),
        })
        .unwrap_or_else(|| "cloud GPUs".into());
    match &doc.recommendation {
        Some(r) => {
            let d = &r.deployment;
            let p = d.performance.as_ref();
            out.push_str(&format!(
                "{} for {} on {target}:\n\n  {} · {} · {} · {} GPU(s), tensor parallel {}, context {} × {}\n",
                if best_effort { "Closest option (does NOT meet every constraint)" } else { "Recommended" },
                doc.task,
                d.model,
                d.quant,
                d.engine,
                d.placement.gpus,
                d.placement.tensor_parallel,
                d.workload.context,
                d.workload.concurrency
            ));
            if let Some(p) = p {
                let memory = if d.placement.gpus == 0 {
                    format!(
                        "{} of {} RAM",
                        gib(d.memory.host_bytes),
                        gib(d.hardware.ram_bytes)
                    )
                } else {
                    let host = if d.memory.host_bytes > 0 {
                        format!(" + {} in RAM", gib(d.memory.host_bytes))
                    } else {
                        String::new()
                    };
                    format!(
                        "{} of {} per GPU{host}",
                        gib(d.memory.per_gpu_bytes),
                        gib(d.memory.per_gpu_capacity_bytes)
                    )
                };
                out.push_str(&format!(
                    "  quality {:.1} · memory {memory} · TTFT {} · {} per token ({:.1} tok/s) · answer in {}{}\n",
                    r.quality,
                    duration_ms(p.ttft_ms),
                    duration_ms(p.tpot_ms),
                    p.decode_tokens_per_s,
                    duration_ms(p.time_to_answer_ms),
                    d.cost
                        .as_ref()
                        .map(|c| format!(" · ${:.2}/h (${:.2} per 1M output tokens)", c.usd_per_hour, c.usd_per_million_output_tokens))
                        .unwrap_or_default()
                ));
            }
            if let Some(l) = p.and_then(|p| p.load.as_ref()) {
                out.push_str(&format!(
                    "  under {}: TTFT, TPOT and answer are means; constraints hold at {} · {:.2} requests/s · batch {:.1} of at most {} · limited by {}\n",
                    load_label(&l.shape),
                    percentile_label(l.percentile),
                    l.requests_per_s,
                    l.batch,
                    l.max_batch,
                    estimate::limit_label(l.limit)
                ));
            }
            out.push_str(&format!("\n  launch: {}\n\nwhy:\n", r.command));
            for w in &r.why {
                out.push_str(&format!("  - {w}\n"));
            }
            if best_effort {
                out.push_str("violations:\n");
                for c in r.checks.iter().filter(|c| !c.ok) {
                    out.push_str(&format!("  ✗ {}\n", c.message));
                }
            }
        }
        None => {
            out.push_str(&format!(
                "Nothing qualifies for {} on {target}.\n",
                doc.task
            ));
        }
    }
    if !doc.alternatives.is_empty() {
        let mut t = table(&[
            "alternative",
            "quant",
            "engine",
            "GPUs",
            "TTFT",
            "tok/s",
            "answer",
            "$/h",
        ]);
        for a in &doc.alternatives {
            let p = a.performance.as_ref();
            t.add_row(vec![
                a.model.clone(),
                a.quant.clone(),
                a.engine.clone(),
                format!(
                    "{} × {}",
                    a.placement.gpus,
                    a.hardware
                        .gpus
                        .first()
                        .and_then(|g| g.id.clone())
                        .unwrap_or_else(|| "cpu".into())
                ),
                p.map(|p| duration_ms(p.ttft_ms)).unwrap_or_default(),
                p.map(|p| format!("{:.1}", p.decode_tokens_per_s))
                    .unwrap_or_default(),
                p.map(|p| duration_ms(p.time_to_answer_ms))
                    .unwrap_or_default(),
                a.cost
                    .as_ref()
                    .map(|c| format!("{:.2}", c.usd_per_hour))
                    .unwrap_or_else(|| "–".into()),
            ]);
        }
        align_right(&mut t, &[4, 5, 6, 7]);
        out.push_str(&format!("\n{t}\n"));
    }
    if !doc.suggestions.is_empty() {
        out.push_str("\nwhat would qualify:\n");
        for s in &doc.suggestions {
            out.push_str(&format!("  - {s}\n"));
        }
    }
    if doc.recommendation.is_none() && !doc.rejected.is_empty() && !explain {
        out.push_str("\nclosest candidates:\n");
        for r in doc.rejected.iter().take(5) {
            out.push_str(&format!(
                "  - {} {} {} on {}: {}\n",
                r.model, r.quant, r.engine, r.gpus, r.reason
            ));
        }
    }
    if explain {
        out.push_str("\ndecision path:\n");
        for t in &doc.trace {
            out.push_str(&format!("  - {t}\n"));
        }
        let mut t = table(&[
            "rejected",
            "quant",
            "engine",
            "GPUs",
            "constraint",
            "reason",
        ]);
        for r in &doc.rejected {
            t.add_row(vec![
                r.model.clone(),
                r.quant.clone(),
                r.engine.clone(),
                r.gpus.clone(),
                r.constraint.id().to_string(),
                r.reason.clone(),
            ]);
        }
        out.push_str(&format!("\n{t}\n"));
    }
    out
}
