//! The search's account of itself: rejections with their margins, the relaxations that would let
//! something qualify, the near misses, and the decision path (`--explain`).

use crate::catalog::{Engine, Model, Quant};
use crate::hardware::Hardware;

use super::super::constraints::{CheckResult, Constraint, Unit};
use super::assess::{Candidate, Reason};
use super::candidates::{CLOUD_COUNTS, Judging, models, priced, screen};
use super::rank::Prefer;
use super::{KEEP, Machines, Request};
use crate::quantity::score;

/// Why a candidate was dropped: the first constraint it failed. Printed as is in `recommend --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Rejection {
    pub model: String,
    pub quant: String,
    pub engine: String,
    /// The GPUs it was sized on; null when it was turned down before reaching a machine (below
    /// the quality floor, context, support).
    pub gpus: Option<String>,
    /// How the GPUs split the model: "TP8", "TP4+PP2", "DP8+EP8", "layer split"; null on one GPU
    /// or none, and before sizing unless an EP / DP-attention layout was tried (so the same
    /// model, quant and engine on the same GPUs reads as two different tries).
    pub layout: Option<String>,
    // Serialized as its id (support, context, fits, latency, …): a string, as before the enum.
    #[schemars(with = "String")]
    pub constraint: Reason,
    pub reason: String,
    /// Relative violation; infinite for reasons no relaxation fixes ("cannot run", no score).
    #[serde(skip)]
    pub shortfall: f64,
}

pub fn rejection(
    model: &Model,
    quant: Option<&Quant>,
    engine: Option<&Engine>,
    gpus: Option<&str>,
    constraint: Reason,
    reason: String,
    shortfall: f64,
) -> Rejection {
    Rejection {
        model: model.id.clone(),
        quant: quant.map(|q| q.id.clone()).unwrap_or_else(|| "-".into()),
        engine: engine.map(|e| e.id.clone()).unwrap_or_else(|| "-".into()),
        gpus: gpus.map(str::to_string),
        // named by the search where it sized a layout
        layout: None,
        constraint,
        reason,
        shortfall,
    }
}

/// Closest first; the model id breaks ties (the sort is stable, so search order breaks the rest).
pub fn sort_rejected(rejected: &mut [Rejection]) {
    rejected.sort_by(|a, b| {
        a.shortfall
            .total_cmp(&b.shortfall)
            .then_with(|| a.model.cmp(&b.model))
    });
}

/// A constraint that, relaxed to `needed`, would let `candidate` qualify (every other check holds).
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxation {
    pub constraint: Constraint,
    pub required: f64,
    pub needed: f64,
    pub unit: Unit,
    pub candidate: String,
}

/// Remember the least change to one constraint that would make this candidate qualify.
pub fn note_relaxation(relaxations: &mut Vec<Relaxation>, cand: &Candidate) {
    let failing: Vec<&CheckResult> = cand.checks.iter().filter(|c| !c.ok).collect();
    let [only] = failing.as_slice() else { return };
    let (Some(actual), Some(margin)) = (only.actual, only.margin) else {
        return;
    };
    if matches!(only.constraint, Constraint::Fits | Constraint::MinQuality) {
        return;
    }
    let candidate = cand.label();
    let better = |r: &Relaxation| margin.abs() < (r.needed - r.required).abs();
    match relaxations
        .iter_mut()
        .find(|r| r.constraint == only.constraint)
    {
        Some(r) if better(r) => {
            r.needed = actual;
            r.candidate = candidate;
        }
        Some(_) => {}
        None => relaxations.push(Relaxation {
            constraint: only.constraint,
            required: only.required,
            needed: actual,
            unit: only.unit,
            candidate,
        }),
    }
}

/// Keep the [`KEEP`] candidates that miss by the least (then the best quality).
pub fn keep_closest<'a>(closest: &mut Vec<Candidate<'a>>, cand: Candidate<'a>) {
    closest.push(cand);
    closest.sort_by(|a, b| {
        a.violation()
            .total_cmp(&b.violation())
            .then_with(|| b.quality.total_cmp(&a.quality))
    });
    closest.truncate(KEEP);
}

/// How many deployments ended where, for the trace's summary line.
#[derive(Default)]
pub struct Tally {
    unsupported: usize,
    quality: usize,
    memory: usize,
    speed: usize,
    budget: usize,
    ok: usize,
}

impl Tally {
    pub fn count(&mut self, reason: Reason) {
        match reason {
            Reason::Support | Reason::Context => self.unsupported += 1,
            Reason::Unmet(Constraint::Budget) => self.budget += 1,
            Reason::Unmet(Constraint::Fits) => self.memory += 1,
            Reason::Unmet(Constraint::MinQuality) => self.quality += 1,
            Reason::Unmet(_) => self.speed += 1,
        }
    }

    pub fn qualified(&mut self) {
        self.ok += 1;
    }

    pub fn line(&self, evaluated: usize) -> String {
        format!(
            "{evaluated} deployments sized: {} do not fit, {} miss latency or speed, {} over budget, {} qualify ({} skipped as unsupported, {} below the quality floor)",
            self.memory, self.speed, self.budget, self.ok, self.unsupported, self.quality
        )
    }
}

/// The trace's first lines: the quality floor and the machines searched.
pub fn opening(req: &Request, judging: Judging) -> Vec<String> {
    let task = req.task;
    let floor = judging.floor;
    let first = if judging.unjudged {
        format!(
            "task {}: quality not judged — the model has no published {} score (give --score {}=X or --min-quality); quants rank by retention",
            task.id,
            task.benchmark.label(),
            serde_json::to_value(task.benchmark)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )
    } else {
        format!(
            "task {}: {} ≥ {} — {}",
            task.id,
            task.benchmark.label(),
            score(floor),
            task.why
        )
    };
    let machines = match &req.machines {
        Machines::Local(hw) => format!("hardware: {}", describe_machine(hw)),
        Machines::Cloud => {
            let priced = priced(req.catalog);
            format!(
                "cloud: {} priced GPU types ({}) × {:?} GPUs",
                priced.len(),
                priced
                    .iter()
                    .map(|g| g.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                CLOUD_COUNTS
            )
        }
    };
    vec![first, machines]
}

/// "below the quality floor: 1.5b (28.9), …": the models whose paper score is under the floor.
pub fn below_floor(req: &Request, judging: Judging) -> Option<String> {
    let task = req.task;
    let below: Vec<String> = models(req)
        .into_iter()
        .filter_map(|model| match screen(model, task, &req.workload, judging) {
            Ok((_, paper)) if paper < judging.floor && !judging.unjudged => {
                Some(format!("{} ({})", short(model), score(paper)))
            }
            Err(r) if r.constraint == Reason::Unmet(Constraint::MinQuality) => Some(format!(
                "{} (no comparable {} score)",
                short(model),
                task.benchmark.label()
            )),
            _ => None,
        })
        .collect();
    (!below.is_empty()).then(|| format!("below the quality floor: {}", below.join(", ")))
}

/// The trace's last line: how the winner was ranked, or that nothing qualifies.
pub fn verdict(prefer: Prefer, tolerance: f64, choice: Option<&Candidate>) -> String {
    let Some(ch) = choice else {
        return "nothing meets every constraint".to_string();
    };
    let d = &ch.evaluated.deployment;
    format!(
        "ranked by {}: {} {} on {} with {} (quality {}{})",
        prefer.order(tolerance),
        d.model.id,
        d.quant.id,
        ch.gpus_label(),
        d.engine.id,
        score(ch.quality),
        ch.usd_per_hour()
            .map(|c| format!(", ${c:.2}/h"))
            .unwrap_or_default()
    )
}

fn short(m: &Model) -> &str {
    m.aliases.first().map(String::as_str).unwrap_or(&m.id)
}

/// "1 × NVIDIA GeForce RTX 4090, 48.0 GiB RAM (simulated)": the GPUs named as every other
/// line names them (by type, mixed machines by each type), units as they print elsewhere.
fn describe_machine(hw: &Hardware) -> String {
    let source = match hw.source {
        crate::hardware::HardwareSource::Probed => "probed",
        crate::hardware::HardwareSource::Simulated => "simulated",
    };
    format!(
        "{}, {} RAM ({source})",
        super::gpus_label(hw, hw.gpu_count()),
        crate::quantity::bytes(hw.host.ram_bytes)
    )
}
