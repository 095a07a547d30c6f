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
    /// When nothing qualifies: the candidates that run on this machine and miss by the least,
    /// closest first, each with the constraints it misses.
    pub closest: Vec<NearMiss>,
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
    /// False when no benchmark of the quant was published: the quality is an extrapolation.
    pub quality_measured: bool,
    /// The head's commands as a shell script (one line per step).
    pub command: String,
    /// The same launch, structured: program, arguments, environment, files and every node.
    pub launch: crate::decide::launch::LaunchPlan,
    pub why: Vec<String>,
    /// Every constraint with its margin (violations marked with --best-effort).
    pub checks: Vec<CheckResult>,
}

/// A deployment that runs here but misses some constraints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NearMiss {
    pub model: String,
    pub quant: String,
    pub engine: String,
    pub gpus: String,
    /// Each constraint it fails, with its margin.
    pub misses: Vec<CheckResult>,
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
        .map(machine_label)
        .unwrap_or_else(|| "cloud GPUs".into());
    match &doc.recommendation {
        Some(r) => {
            let d = &r.deployment;
            let p = d.performance.as_ref();
            out.push_str(&format!(
                "{} for {} on {target}:\n\n  {} · {} · {} · {}{}, context {} × {}\n",
                if best_effort {
                    "Closest option (does NOT meet every constraint)"
                } else {
                    "Recommended"
                },
                doc.task,
                d.model,
                d.quant,
                d.engine,
                d.hardware.gpus_label(d.placement.gpus as usize),
                if d.placement.tensor_parallel > 1 {
                    format!(", tensor parallel {}", d.placement.tensor_parallel)
                } else {
                    String::new()
                },
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
                    format!("{}{host}", gpu_memory(d))
                };
                out.push_str(&format!(
                    "  quality {}{} · memory {memory} · TTFT {} · {} per token ({:.1} tok/s) · answer in {}{}\n",
                    crate::quantity::score(r.quality),
                    if r.quality_measured { "" } else { " (unmeasured)" },
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
            out.push_str(&format!("\n  launch: {}\n", r.command));
            // Across nodes, what every other node runs (`--emit command` prints them all).
            for (rank, _, text) in r.launch.node_scripts().iter().skip(1) {
                out.push_str(&format!("  node {rank}: {text}\n"));
            }
            out.push_str("\nwhy:\n");
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
                a.hardware.gpus_label(a.placement.gpus as usize),
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
    if !best_effort && !doc.closest.is_empty() {
        out.push_str("\nclosest candidates (run here, miss by the least):\n");
        for c in &doc.closest {
            let misses: Vec<&str> = c.misses.iter().map(|k| k.message.as_str()).collect();
            out.push_str(&format!(
                "  - {} {} {} on {}: {}\n",
                c.model,
                c.quant,
                c.engine,
                c.gpus,
                misses.join("; ")
            ));
        }
    }
    if explain {
        out.push_str("\ndecision path:\n");
        for t in &doc.trace {
            out.push_str(&format!("  - {t}\n"));
        }
        // A layout column only where a row was tried on more than one GPU.
        let layouts = doc.rejected.iter().any(|r| r.layout.is_some());
        let mut header = vec!["rejected", "quant", "engine", "GPUs"];
        if layouts {
            header.push("layout");
        }
        header.extend(["constraint", "reason"]);
        let mut t = table(&header);
        for r in &doc.rejected {
            let mut row = vec![
                r.model.clone(),
                r.quant.clone(),
                r.engine.clone(),
                // Turned down before it reached a machine.
                r.gpus.clone().unwrap_or_else(|| "not sized".into()),
            ];
            if layouts {
                // blank: one GPU, or turned down whatever the layout
                row.push(r.layout.clone().unwrap_or_default());
            }
            row.extend([r.constraint.id().to_string(), r.reason.clone()]);
            t.add_row(row);
        }
        out.push_str(&format!("\n{t}\n"));
    }
    out
}

/// The machine searched: its GPUs by type, or what kind of machine has none.
fn machine_label(h: &HardwareSummary) -> String {
    match (h.gpus.is_empty(), h.source.as_str()) {
        (false, _) => h.gpus_label(h.gpus.len()),
        (true, "probed") => "this machine (no GPU found)".to_string(),
        (true, _) => "a simulated CPU-only machine".to_string(),
    }
}

/// The fullest GPU of each type the deployment uses against what the engine may use there:
/// "47.1 GiB of 48.0 GiB per GPU", or per type on a mixed machine.
fn gpu_memory(d: &DeploymentReport) -> String {
    let groups = d.hardware.groups(d.placement.gpus as usize);
    if groups.len() <= 1 {
        return format!(
            "{} of {} per GPU",
            gib(d.memory.per_gpu_bytes),
            gib(d.memory.per_gpu_capacity_bytes)
        );
    }
    // `devices` lists gpu0, gpu1, … in the order of `hardware.gpus`.
    let mut start = 0;
    groups
        .iter()
        .map(|(g, n)| {
            let devices = d.memory.devices.get(start..start + n).unwrap_or(&[]);
            start += n;
            let used = devices.iter().map(|x| x.total_bytes).max().unwrap_or(0);
            let usable = devices.iter().map(|x| x.capacity_bytes).min().unwrap_or(0);
            let each = if *n > 1 { "each " } else { "the " };
            format!("{} of {} on {each}{}", gib(used), gib(usable), g.name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
