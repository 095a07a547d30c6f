//! `recommend`: the choice and why, the alternatives, the rejections and the decision path.

use schemars::JsonSchema;
use serde::Serialize;

use super::deployment::{DeploymentReport, HardwareSummary};
use super::estimate::limit_label;
use super::{Render, align_right, duration_ms, gib, table};
use crate::decide::constraints::{CheckResult, Constraints};
use crate::decide::load::{load_label, percentile_label};
use crate::decide::search::Rejection;

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
    /// The table shows the decision path and every rejection (`--explain`).
    #[serde(skip)]
    pub explain: bool,
    /// The recommendation is the closest option, shown with its violations (`--best-effort`).
    #[serde(skip)]
    pub best_effort: bool,
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
    pub launch: crate::decide::launch::LaunchPlan,
    pub why: Vec<String>,
    /// Every constraint with its margin (violations marked with --best-effort).
    pub checks: Vec<CheckResult>,
}

impl Render for RecommendDocument {
    fn table(&self) -> String {
        recommend_table(self)
    }
}

fn recommend_table(doc: &RecommendDocument) -> String {
    let (explain, best_effort) = (doc.explain, doc.best_effort);
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
                    limit_label(l.limit)
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
