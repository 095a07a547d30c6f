//! Candidate search and ranking: every deployment r1pick could recommend for a task on the given
//! machine (or, with `--cloud`, on any priced GPU type and count), each sized and estimated with
//! the same models as `estimate`, dropped at the first constraint it fails, the rest ranked.
//!
//! In parts: [`candidates`] proposes deployments, [`assess`] sizes, estimates and checks one,
//! [`rank`] orders those that qualify, [`explain`] keeps the rejections and the decision path.

pub mod assess;
pub mod candidates;
pub mod explain;
pub mod rank;

use crate::catalog::model::ModelSource;
use crate::catalog::{Catalog, Engine, Model, Quant, Task};
use crate::hardware::Hardware;
use crate::sizing::{KvDtype, Parallel};

use super::constraints::{Constraint, Constraints, QualityFloor, Words};
use super::load::Traffic;

pub use assess::{
    Candidate, Evaluated, Reason, Subject, Turned, assess, gpus_label, group_label, shortfall,
};
use assess::{assess_with, worded_as, worded_miss};
pub use explain::{Rejection, Relaxation};
pub use rank::Prefer;

pub use candidates::Judging;
use candidates::{Proposal, machines, proposals};
use explain::{Tally, keep_closest, note_relaxation, rejection};

/// Where deployments may run.
#[derive(Debug, Clone)]
pub enum Machines {
    /// This (probed or simulated) machine, using 1…all of its GPUs.
    Local(Hardware),
    /// Any priced GPU type from the catalog, 1–32 of them.
    Cloud,
}

/// Things the user fixed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pins<'a> {
    /// One model only (`recommend --model`).
    pub model: Option<&'a Model>,
    /// `--min-quality` was given. A brought model without a score on the task's benchmark is then
    /// held to it (and fails); otherwise its quality is not judged.
    pub min_quality_given: bool,
    pub quant: Option<&'a Quant>,
    pub engine: Option<&'a Engine>,
    /// `--mtp N`: MTP draft steps wherever the engine measured that depth and the artifact has the
    /// module; 0 is off.
    pub mtp: u32,
    /// `--ep`, `--dp-attention` / `--dp`, `--redundant-experts`: fixed for every candidate when
    /// given; otherwise the search also tries EP + DP attention where the engine has them.
    pub parallel: ParallelPin,
}

/// The EP / DP-attention flags as given, resolved per candidate's GPU count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParallelPin {
    pub ep: Option<u32>,
    /// `--dp-attention` without `--dp`: one DP rank per GPU.
    pub dp_per_gpu: bool,
    pub dp: Option<u32>,
    pub redundant_experts: Option<u32>,
}

impl ParallelPin {
    pub fn given(&self) -> bool {
        self.ep.is_some()
            || self.dp_per_gpu
            || self.dp.is_some()
            || self.redundant_experts.is_some()
    }

    /// The deployment's parallelism on `gpus` GPUs.
    pub fn on(&self, gpus: u32) -> Parallel {
        let dp = match self.dp {
            Some(n) => n,
            None if self.dp_per_gpu => gpus.max(1),
            None => 1,
        };
        Parallel {
            ep: self.ep.unwrap_or(1),
            dp,
            redundant_experts: self.redundant_experts.unwrap_or(0),
        }
    }
}

/// Workload overrides; the task fills what is not given.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkloadSpec {
    pub context: Option<u32>,
    pub prompt: Option<u32>,
    pub output: Option<u32>,
    pub concurrency: u32,
}

pub struct Request<'a> {
    pub catalog: &'a Catalog,
    pub task: &'a Task,
    pub constraints: Constraints,
    pub prefer: Prefer,
    pub pins: Pins<'a>,
    pub workload: WorkloadSpec,
    /// The load candidates are judged under; `None`: one request on an idle server.
    pub traffic: Option<Traffic>,
    /// `--kv-dtype`; `None`: each engine's own default ([`KvDtype::engine_default`]).
    pub kv_dtype: Option<KvDtype>,
    pub machines: Machines,
    pub price: Option<f64>,
    pub kwh_price: Option<f64>,
}

pub struct Decision<'a> {
    pub choice: Option<Candidate<'a>>,
    /// One relaxation per failing constraint, the smallest that would make something qualify.
    pub relaxations: Vec<Relaxation>,
    pub alternatives: Vec<Candidate<'a>>,
    /// (output tok/s per GPU, tok/s per user) of every candidate that qualifies, best first (the
    /// choice is the first): what `recommend --plot` draws.
    pub passed: Vec<(f64, f64)>,
    pub rejected: Vec<Rejection>,
    /// The candidates that came closest, when nothing qualifies (best first).
    pub closest: Vec<Candidate<'a>>,
    pub trace: Vec<String>,
    pub evaluated: usize,
}

/// How many near misses and alternatives are kept.
const KEEP: usize = 5;

/// How the request judges quality: the floor on the task's benchmark (`--min-quality` when
/// given, else the task's), and whether quality is judged at all — a model the user brought has
/// no paper score, so without `--score` or `--min-quality` its quants rank by retention alone.
pub fn judging(req: &Request) -> Judging {
    let task = req.task;
    let floor = req
        .constraints
        .min_quality
        .as_ref()
        .map_or(task.min_score, |q| q.min_score);
    let unjudged = req.pins.model.is_some_and(|m| {
        m.source != ModelSource::Catalog && m.scores.get(task.benchmark).is_none()
    }) && !req.pins.min_quality_given;
    Judging { floor, unjudged }
}

/// `b` says what `a` said of the same model, quant, engine and GPUs: only the layout differs.
fn same_but_layout(a: &Rejection, b: &Rejection) -> bool {
    (
        &a.model,
        &a.quant,
        &a.engine,
        &a.gpus,
        a.constraint,
        &a.reason,
    ) == (
        &b.model,
        &b.quant,
        &b.engine,
        &b.gpus,
        b.constraint,
        &b.reason,
    )
}

/// Run the search. Pure: no I/O; the machine is in the request.
pub fn search<'a>(req: &Request<'a>) -> Decision<'a> {
    let task = req.task;
    let judging = judging(req);
    let Judging { floor, unjudged } = judging;
    let constraints = Constraints {
        min_quality: (!unjudged).then(|| QualityFloor {
            benchmark: task.benchmark,
            min_score: floor,
            task: Some(task.id.clone()),
        }),
        ..req.constraints.clone()
    };
    let mut trace = explain::opening(req, judging);
    let mut rejected = Vec::new();
    let mut passing: Vec<Candidate<'a>> = Vec::new();
    let mut closest: Vec<Candidate<'a>> = Vec::new();
    let mut evaluated = 0usize;
    let mut counts = Tally::default();
    let mut relaxations: Vec<Relaxation> = Vec::new();

    let machines = machines(req);
    for proposal in proposals(req, judging, &machines) {
        let (subject, hw, gpus) = match proposal {
            Proposal::Model(r) => {
                rejected.push(r);
                continue;
            }
            Proposal::BelowFloor(r) => {
                counts.count(r.constraint);
                rejected.push(r);
                continue;
            }
            Proposal::Deploy {
                subject,
                hardware,
                gpus,
            } => (subject, hardware, gpus),
        };
        // Checks are worded only where the decision shows them (wording is most of a check's cost).
        match assess_with(req, &constraints, &subject, hw, gpus, Words::None) {
            Err(turned) => {
                counts.count(turned.reason);
                // a deployment that does not fit was sized all the same
                evaluated += usize::from(turned.reason == Reason::Unmet(Constraint::Fits));
                let r = Rejection {
                    layout: turned.layout,
                    ..rejection(
                        subject.model,
                        Some(subject.quant),
                        Some(subject.engine),
                        Some(&gpus_label(hw, gpus)),
                        turned.reason,
                        turned.message,
                        turned.shortfall,
                    )
                };
                // An EP / DP layout turned down for the reason its plain twin was (the engine
                // cannot run this quant here, whatever the layout) is the same row to the user.
                if !rejected
                    .last()
                    .is_some_and(|last| same_but_layout(last, &r))
                {
                    rejected.push(r);
                }
            }
            Ok(cand) if cand.qualifies() => {
                evaluated += 1;
                counts.qualified();
                passing.push(cand);
            }
            Ok(cand) => {
                evaluated += 1;
                let Some(first) = cand.checks.iter().find(|c| !c.ok) else {
                    continue; // unreachable: a candidate that does not qualify fails a check
                };
                counts.count(Reason::Unmet(first.constraint));
                let message = worded_miss(req, &constraints, &cand)
                    .into_iter()
                    .find(|c| c.constraint == first.constraint)
                    .map(|c| c.message)
                    .unwrap_or_default();
                let e = &cand.evaluated;
                rejected.push(Rejection {
                    layout: e.memory.placement.layout(&e.deployment.parallel),
                    ..rejection(
                        subject.model,
                        Some(subject.quant),
                        Some(subject.engine),
                        Some(&cand.gpus_label()),
                        Reason::Unmet(first.constraint),
                        message,
                        cand.violation(),
                    )
                });
                // an idle-server miss says nothing of what relaxing it would do under load
                if req.traffic.is_none() || cand.evaluated.load.is_some() {
                    note_relaxation(&mut relaxations, &cand);
                }
                keep_closest(&mut closest, cand);
            }
        }
    }
    trace.extend(explain::below_floor(req, judging));
    trace.push(counts.line(evaluated));

    let tolerance = req.catalog.ranking.quality_tolerance;
    let (choice, alternatives, passed) = rank::choose(req.prefer, tolerance, passing);
    let word = |mut c: Candidate<'a>| {
        c.checks = worded_as(req, &constraints, &c, Words::Full);
        c
    };
    let choice = choice.map(word);
    let alternatives: Vec<_> = alternatives.into_iter().map(word).collect();
    let closest: Vec<_> = closest.into_iter().map(word).collect();
    trace.push(explain::verdict(req.prefer, tolerance, choice.as_ref()));
    explain::sort_rejected(&mut rejected);
    relaxations.sort_by_key(|r| r.constraint.id());
    Decision {
        choice,
        relaxations,
        alternatives,
        passed,
        rejected,
        closest,
        trace,
        evaluated,
    }
}
