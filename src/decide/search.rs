//! Candidate search and ranking: every deployment r1pick could recommend for a task on the given
//! machine (or, with `--cloud`, on any priced GPU type and count), each sized and estimated with
//! the same models as `estimate`, dropped at the first constraint it fails, the rest ranked.

use std::cmp::Ordering;

use crate::catalog::ParamBreakdown;
use crate::catalog::engine::MultiGpu;
use crate::catalog::model::ModelSource;
use crate::catalog::{Catalog, Engine, Model, Quant, Task};
use crate::hardware::Hardware;
use crate::hardware::simulate::{SimulationRequest, simulate};
use crate::perf::cost::{Cost, cost};
use crate::perf::{Performance, estimate_with};
use crate::sizing::support::unsupported;
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Deployment, KvDtype, MemoryPlan, Workload, plan_with};

use super::constraints::{
    CheckResult, Constraint, Constraints, Measured, QualityFloor, Unit, evaluate,
};
use super::load::{Loaded, Traffic, apply, under_load};

/// What wins among deployments that meet every constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// Highest quality, then lowest cost.
    Quality,
    /// Lowest cost per hour, then highest quality.
    Cost,
    /// Shortest time to answer, then highest quality.
    Speed,
}

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
    pub kv_dtype: KvDtype,
    pub machines: Machines,
    pub price: Option<f64>,
    pub kwh_price: Option<f64>,
}

/// A deployment that was sized and estimated.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub deployment: Deployment<'a>,
    pub hardware: Hardware,
    pub memory: MemoryPlan,
    /// Means under the load, when there is one (see [`apply`]).
    pub performance: Performance,
    pub load: Option<Loaded>,
    pub cost: Option<Cost>,
    pub quality: f64,
    pub checks: Vec<CheckResult>,
}

impl Candidate<'_> {
    pub fn qualifies(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// Sum of relative violations: how far from qualifying.
    pub fn violation(&self) -> f64 {
        self.checks.iter().map(shortfall).sum()
    }

    pub fn usd_per_hour(&self) -> Option<f64> {
        self.cost.as_ref().map(|c| c.usd_per_hour)
    }

    /// "2 × NVIDIA H100 SXM5 80GB" or "CPU".
    pub fn gpus_label(&self) -> String {
        gpus_label(&self.hardware, self.deployment.gpus)
    }
}

/// How far a check misses, relative to its limit (0 when it holds; large when unknown).
pub fn shortfall(c: &CheckResult) -> f64 {
    if c.ok {
        return 0.0;
    }
    match c.margin {
        Some(m) => (m.abs() / c.required.abs().max(1e-9)).min(1e6),
        None => 1e6,
    }
}

pub fn gpus_label(hw: &Hardware, gpus: u32) -> String {
    match hw.gpus.first() {
        Some(g) if gpus > 0 => format!("{gpus} × {}", g.name),
        _ => "CPU".to_string(),
    }
}

/// Why a candidate was dropped: the first constraint it failed. Printed as is in `recommend --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Rejection {
    pub model: String,
    pub quant: String,
    pub engine: String,
    pub gpus: String,
    // Serialized as its id (support, context, fits, latency, …): a string, as before the enum.
    #[schemars(with = "String")]
    pub constraint: Reason,
    pub reason: String,
    /// Relative violation; infinite for reasons no relaxation fixes ("cannot run", no score).
    #[serde(skip)]
    pub shortfall: f64,
}

/// Why a candidate was dropped, as scripts read it in `rejected[].constraint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The engine cannot run this model, quant or GPU count there.
    Support,
    /// The workload's context is above the model's maximum.
    Context,
    /// A constraint does not hold (`fits` when it does not fit).
    Unmet(Constraint),
}

impl Reason {
    /// The id scripts see: `support`, `context`, or the constraint's id.
    pub fn id(self) -> &'static str {
        match self {
            Reason::Support => "support",
            Reason::Context => "context",
            Reason::Unmet(c) => c.id(),
        }
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A deployment [`assess`] turned down before it could be checked: why, in words, and how far off.
#[derive(Debug, Clone, PartialEq)]
pub struct Turned {
    pub reason: Reason,
    pub message: String,
    /// Relative violation; infinite when no relaxation fixes it.
    pub shortfall: f64,
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

pub struct Decision<'a> {
    pub choice: Option<Candidate<'a>>,
    /// One relaxation per failing constraint, the smallest that would make something qualify.
    pub relaxations: Vec<Relaxation>,
    pub alternatives: Vec<Candidate<'a>>,
    pub rejected: Vec<Rejection>,
    /// The candidates that came closest, when nothing qualifies (best first).
    pub closest: Vec<Candidate<'a>>,
    pub trace: Vec<String>,
    pub evaluated: usize,
}

/// How many near misses and alternatives are kept.
const KEEP: usize = 5;
/// GPU counts tried on the cloud: one node of up to 8, or up to 4 nodes.
const CLOUD_COUNTS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// Run the search. Pure: no I/O; the machine is in the request.
pub fn search<'a>(req: &Request<'a>) -> Decision<'a> {
    let c = req.catalog;
    let task = req.task;
    // The quality floor is on the task's benchmark: --min-quality when given, else the task's.
    let floor = req
        .constraints
        .min_quality
        .as_ref()
        .map_or(task.min_score, |q| q.min_score);
    // A model the user brought has no paper score: without --score or --min-quality its quality
    // is not judged, and its quants rank by their retention alone (×100).
    let unjudged = req.pins.model.is_some_and(|m| {
        m.source != ModelSource::Catalog && m.scores.get(task.benchmark).is_none()
    }) && !req.pins.min_quality_given;
    let constraints = Constraints {
        min_quality: (!unjudged).then(|| QualityFloor {
            benchmark: task.benchmark,
            min_score: floor,
            task: Some(task.id.clone()),
        }),
        ..req.constraints.clone()
    };
    let mut trace = vec![if unjudged {
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
            "task {}: {} ≥ {floor:.1} — {}",
            task.id,
            task.benchmark.label(),
            task.why
        )
    }];
    let mut rejected = Vec::new();
    let mut passing: Vec<Candidate<'a>> = Vec::new();
    let mut closest: Vec<Candidate<'a>> = Vec::new();
    let mut evaluated = 0usize;
    let mut counts = Tally::default();
    let mut relaxations: Vec<Relaxation> = Vec::new();

    let machines: Vec<(Hardware, Vec<u32>)> = match &req.machines {
        Machines::Local(hw) => {
            trace.push(format!("hardware: {}", describe_machine(hw)));
            vec![(hw.clone(), local_counts(hw))]
        }
        Machines::Cloud => {
            let priced: Vec<_> = c.gpus.iter().filter(|g| g.usd_per_hour.is_some()).collect();
            trace.push(format!(
                "cloud: {} priced GPU types ({}) × {:?} GPUs",
                priced.len(),
                priced
                    .iter()
                    .map(|g| g.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                CLOUD_COUNTS
            ));
            priced
                .iter()
                .flat_map(|g| CLOUD_COUNTS.iter().map(move |n| (g, *n)))
                .filter_map(|(g, n)| {
                    let req = SimulationRequest {
                        gpu_specs: vec![format!("{}:{n}", g.id)],
                        ..Default::default()
                    };
                    simulate(c, &req).ok().map(|hw| (hw, vec![n]))
                })
                .collect()
        }
    };

    let models: Vec<&Model> = match req.pins.model {
        Some(m) => vec![m],
        None => c.models.iter().collect(),
    };
    let mut below_floor = Vec::new();
    for model in models {
        let workload = match workload(model, task, &req.workload) {
            Ok(w) => w,
            Err(reason) => {
                rejected.push(rejection(
                    model,
                    None,
                    None,
                    "-",
                    Reason::Context,
                    reason,
                    f64::INFINITY,
                ));
                continue;
            }
        };
        let Some(paper) = model
            .scores
            .get(task.benchmark)
            .or(unjudged.then_some(100.0))
        else {
            below_floor.push(format!(
                "{} (no comparable {} score)",
                short(model),
                task.benchmark.label()
            ));
            rejected.push(rejection(
                model,
                None,
                None,
                "-",
                Reason::Unmet(Constraint::MinQuality),
                format!("no comparable {} score published", task.benchmark.label()),
                f64::INFINITY,
            ));
            continue;
        };
        if paper < floor && !unjudged {
            below_floor.push(format!("{} ({paper:.1})", short(model)));
        }
        let params = ParamBreakdown::of(model);
        let engines: Vec<&Engine> = match req.pins.engine {
            Some(e) => vec![e],
            None => c.engines.iter().collect(),
        };
        for engine in engines {
            let quants: Vec<&Quant> = match req.pins.quant {
                Some(q) => vec![q],
                None => c.quants_for(model, engine),
            };
            for quant in quants {
                let q = paper * quant.retention_for(params.total());
                if q < floor && !unjudged {
                    counts.quality += 1;
                    rejected.push(rejection(
                        model,
                        Some(quant),
                        Some(engine),
                        "-",
                        Reason::Unmet(Constraint::MinQuality),
                        format!("{} {q:.1} < {floor:.1}", task.benchmark.label()),
                        (floor - q) / floor,
                    ));
                    continue;
                }
                let weights = WeightBytes::of(model, quant);
                let subject = Subject {
                    model,
                    quant,
                    engine,
                    workload,
                    quality: q,
                    weights: &weights,
                    params: &params,
                };
                for (hw, gpu_counts) in &machines {
                    for &gpus in gpu_counts {
                        if gpus as usize > hw.gpus.len()
                            || !count_suits(model, engine, gpus, &req.machines)
                        {
                            continue;
                        }
                        match assess(req, &constraints, &subject, hw, gpus) {
                            Err(turned) => {
                                counts.count(turned.reason);
                                // a deployment that does not fit was sized all the same
                                evaluated +=
                                    usize::from(turned.reason == Reason::Unmet(Constraint::Fits));
                                let label = gpus_label(hw, gpus);
                                rejected.push(rejection(
                                    model,
                                    Some(quant),
                                    Some(engine),
                                    &label,
                                    turned.reason,
                                    turned.message,
                                    turned.shortfall,
                                ));
                            }
                            Ok(cand) if cand.qualifies() => {
                                evaluated += 1;
                                counts.ok += 1;
                                passing.push(cand);
                            }
                            Ok(cand) => {
                                evaluated += 1;
                                let first = cand
                                    .checks
                                    .iter()
                                    .find(|c| !c.ok)
                                    .expect("a candidate that does not qualify fails a check");
                                counts.count(Reason::Unmet(first.constraint));
                                let (reason, shortfall) = (first.message.clone(), cand.violation());
                                rejected.push(rejection(
                                    model,
                                    Some(quant),
                                    Some(engine),
                                    &cand.gpus_label(),
                                    Reason::Unmet(first.constraint),
                                    reason,
                                    shortfall,
                                ));
                                // an idle-server miss says nothing of what relaxing it would do under load
                                if req.traffic.is_none() || cand.load.is_some() {
                                    note_relaxation(&mut relaxations, &cand);
                                }
                                keep_closest(&mut closest, cand);
                            }
                        }
                    }
                }
            }
        }
    }
    if !below_floor.is_empty() {
        trace.push(format!(
            "below the quality floor: {}",
            below_floor.join(", ")
        ));
    }
    trace.push(format!(
        "{evaluated} deployments sized: {} do not fit, {} miss latency or speed, {} over budget, {} qualify ({} skipped as unsupported, {} below the quality floor)",
        counts.memory, counts.speed, counts.budget, counts.ok, counts.unsupported, counts.quality
    ));

    passing.sort_by(|a, b| rank(req.prefer, a, b));
    let mut passing = passing.into_iter();
    let choice = passing.next();
    let mut alternatives: Vec<Candidate<'a>> = Vec::new();
    for cand in passing {
        if alternatives.len() >= KEEP {
            break;
        }
        let same = |x: &Candidate| {
            x.deployment.model.id == cand.deployment.model.id
                && x.deployment.quant.id == cand.deployment.quant.id
                && x.hardware.gpus.first().map(|g| &g.id)
                    == cand.hardware.gpus.first().map(|g| &g.id)
        };
        // one alternative per model × quant × GPU type: the best-ranked engine and count
        if choice.as_ref().is_some_and(same) || alternatives.iter().any(same) {
            continue;
        }
        alternatives.push(cand);
    }
    match &choice {
        Some(ch) => trace.push(format!(
            "ranked by {}: {} {} on {} with {} (quality {:.1}{})",
            match req.prefer {
                Prefer::Quality => "quality (2-point bands), then time to answer, then cost",
                Prefer::Cost => "cost, then quality, then time to answer",
                Prefer::Speed => "time to answer, then quality",
            },
            ch.deployment.model.id,
            ch.deployment.quant.id,
            ch.gpus_label(),
            ch.deployment.engine.id,
            ch.quality,
            ch.usd_per_hour()
                .map(|c| format!(", ${c:.2}/h"))
                .unwrap_or_default()
        )),
        None => trace.push("nothing meets every constraint".to_string()),
    }
    rejected.sort_by(|a, b| {
        a.shortfall
            .total_cmp(&b.shortfall)
            .then_with(|| a.model.cmp(&b.model))
    });
    relaxations.sort_by_key(|r| r.constraint.id());
    Decision {
        choice,
        relaxations,
        alternatives,
        rejected,
        closest,
        trace,
        evaluated,
    }
}

#[derive(Default)]
struct Tally {
    unsupported: usize,
    quality: usize,
    memory: usize,
    speed: usize,
    budget: usize,
    ok: usize,
}

impl Tally {
    fn count(&mut self, reason: Reason) {
        match reason {
            Reason::Support | Reason::Context => self.unsupported += 1,
            Reason::Unmet(Constraint::Budget) => self.budget += 1,
            Reason::Unmet(Constraint::Fits) => self.memory += 1,
            Reason::Unmet(Constraint::MinQuality) => self.quality += 1,
            Reason::Unmet(_) => self.speed += 1,
        }
    }
}

fn short(m: &Model) -> &str {
    m.aliases.first().map(String::as_str).unwrap_or(&m.id)
}

fn rejection(
    model: &Model,
    quant: Option<&Quant>,
    engine: Option<&Engine>,
    gpus: &str,
    constraint: Reason,
    reason: String,
    shortfall: f64,
) -> Rejection {
    Rejection {
        model: model.id.clone(),
        quant: quant.map(|q| q.id.clone()).unwrap_or_else(|| "-".into()),
        engine: engine.map(|e| e.id.clone()).unwrap_or_else(|| "-".into()),
        gpus: gpus.to_string(),
        constraint,
        reason,
        shortfall,
    }
}

/// One model × quant × engine, with the work that is the same on every machine.
pub struct Subject<'a, 'w> {
    pub model: &'a Model,
    pub quant: &'a Quant,
    pub engine: &'a Engine,
    pub workload: Workload,
    /// Quantization-adjusted score on the task's benchmark.
    pub quality: f64,
    pub weights: &'w WeightBytes,
    pub params: &'w ParamBreakdown,
}

/// Size, estimate and check one deployment on `gpus` GPUs of `hw`. `Err` says why it cannot even
/// be estimated: it cannot run there ([`Reason::Support`]) or does not fit, with how far off.
pub fn assess<'a>(
    req: &Request<'a>,
    constraints: &Constraints,
    s: &Subject<'a, '_>,
    hw: &Hardware,
    gpus: u32,
) -> Result<Candidate<'a>, Turned> {
    let unrunnable = |message| Turned {
        reason: Reason::Support,
        message,
        shortfall: f64::INFINITY,
    };
    if let Some(why) = unsupported(s.model, s.quant, s.engine, hw, gpus) {
        return Err(unrunnable(why));
    }
    let d = Deployment {
        model: s.model,
        quant: s.quant,
        engine: s.engine,
        gpus,
        tensor_parallel: None,
        kv_dtype: req.kv_dtype,
        mla_kv: None,
        workload: s.workload,
    };
    let memory = plan_with(&d, hw, s.weights).map_err(|e| unrunnable(e.to_string()))?;
    if !memory.fits {
        let over = memory
            .gpus
            .iter()
            .chain(std::iter::once(&memory.host))
            .filter(|d| d.total > d.capacity)
            .map(|d| (d.total - d.capacity) as f64 / d.capacity.max(1) as f64)
            .fold(0.0, f64::max);
        return Err(Turned {
            reason: Reason::Unmet(Constraint::Fits),
            message: memory.shortfall.clone().unwrap_or_default(),
            shortfall: over,
        });
    }
    let mut performance = estimate_with(&d, hw, &memory, s.weights, s.params);
    let judge = |performance: &Performance, load: Option<&Loaded>| {
        let cost = cost(
            hw,
            gpus,
            performance.aggregate_tokens_per_s,
            req.price,
            req.kwh_price,
        );
        let checks = evaluate(
            constraints,
            &Measured {
                memory: &memory,
                performance,
                cost: cost.as_ref(),
                quality: Some(s.quality),
                load,
            },
        );
        (cost, checks)
    };
    let (mut cost, mut checks) = judge(&performance, None);
    let mut load = None;
    if let Some(t) = &req.traffic {
        if let Some(miss) = hopeless(&checks) {
            // Load only adds waiting and batch: the idle server's miss stands (and the search
            // skips the serving model, most of its cost under --rate).
            for c in checks.iter_mut().filter(|c| c.constraint == miss) {
                c.message = format!("{} on an idle server, slower under load", c.message);
            }
        } else {
            let l = under_load(&d, hw, &memory, t).map_err(|e| Turned {
                reason: Reason::Unmet(Constraint::Fits),
                message: e.to_string(),
                shortfall: f64::INFINITY,
            })?;
            apply(&mut performance, &l);
            (cost, checks) = judge(&performance, Some(&l));
            load = Some(l);
        }
    }
    Ok(Candidate {
        deployment: d,
        hardware: hw.clone(),
        memory,
        performance,
        load,
        cost,
        quality: s.quality,
        checks,
    })
}

/// How far the idle server may miss a time limit before no load can meet it: the serving model
/// at concurrency 1 is the idle server within 2% (`concurrency_one_reproduces_the_single_stream_numbers`),
/// and load only adds waiting and batch, so a miss of more than 10% holds under any load.
const IDLE_MISS: f64 = 0.10;

/// The first speed or cost limit the idle server already misses for good, if any.
fn hopeless(checks: &[CheckResult]) -> Option<Constraint> {
    checks
        .iter()
        .find(|c| match c.constraint {
            Constraint::Latency
            | Constraint::Tpot
            | Constraint::MinSpeed
            | Constraint::AnswerWithin => shortfall(c) > IDLE_MISS,
            // the price per hour does not depend on the load
            Constraint::Budget => !c.ok,
            _ => false,
        })
        .map(|c| c.constraint)
}

/// Remember the least change to one constraint that would make this candidate qualify.
fn note_relaxation(relaxations: &mut Vec<Relaxation>, cand: &Candidate) {
    let failing: Vec<&CheckResult> = cand.checks.iter().filter(|c| !c.ok).collect();
    let [only] = failing.as_slice() else { return };
    let (Some(actual), Some(margin)) = (only.actual, only.margin) else {
        return;
    };
    if matches!(only.constraint, Constraint::Fits | Constraint::MinQuality) {
        return;
    }
    let candidate = format!(
        "{} {} with {} on {}",
        cand.deployment.model.id,
        cand.deployment.quant.id,
        cand.deployment.engine.id,
        cand.gpus_label()
    );
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

fn keep_closest<'a>(closest: &mut Vec<Candidate<'a>>, cand: Candidate<'a>) {
    closest.push(cand);
    closest.sort_by(|a, b| {
        a.violation()
            .total_cmp(&b.violation())
            .then_with(|| b.quality.total_cmp(&a.quality))
    });
    closest.truncate(KEEP);
}

/// The task's workload with the user's overrides, if the model can hold it.
fn workload(model: &Model, task: &Task, spec: &WorkloadSpec) -> Result<Workload, String> {
    let context = spec.context.unwrap_or(task.context);
    if context > model.max_context {
        return Err(format!(
            "context {context} is above the model's maximum of {}",
            model.max_context
        ));
    }
    let prompt = spec.prompt.unwrap_or(task.prompt_tokens).min(context);
    let output = spec
        .output
        .unwrap_or(task.reasoning_tokens + task.answer_tokens)
        .min(context.saturating_sub(prompt))
        .max(1);
    Ok(Workload {
        context,
        prompt,
        output,
        concurrency: spec.concurrency.max(1),
    })
}

/// GPU counts worth trying on a local machine: 1, 2, 4, … and all of them; none without GPUs.
fn local_counts(hw: &Hardware) -> Vec<u32> {
    let n = hw.gpu_count();
    if n == 0 {
        return vec![0];
    }
    let mut v: Vec<u32> = (0..6).map(|i| 1u32 << i).filter(|&c| c <= n).collect();
    if !v.contains(&n) {
        v.push(n);
    }
    v
}

/// Skip counts an engine would not use: tensor parallelism needs the heads to divide; layer
/// split engines stay inside one node.
fn count_suits(model: &Model, engine: &Engine, gpus: u32, machines: &Machines) -> bool {
    match engine.multi_gpu {
        MultiGpu::Tensor => {
            gpus <= engine.max_tensor_parallel
                || (engine.multi_node
                    && gpus.is_multiple_of(engine.max_tensor_parallel)
                    && model.is_moe())
        }
        // Ollama/llama.cpp/transformers on the cloud: one node.
        MultiGpu::Layer => !matches!(machines, Machines::Cloud) || gpus <= 8,
    }
}

fn describe_machine(hw: &Hardware) -> String {
    let gpus = match hw.gpus.first() {
        Some(g) => format!("{} × {}", hw.gpu_count(), g.name),
        None => "no GPU".to_string(),
    };
    format!(
        "{gpus}, {} RAM ({:?})",
        crate::quantity::bytes(hw.host.ram_bytes),
        hw.source
    )
    .to_lowercase()
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

/// Quality scores are compared in bands of this many points. The benchmarks behind them have a
/// sampling error of about 3 points (GPQA Diamond: 198 questions ⇒ standard error ≈ 3.4 points at
/// 60%), so a 1-point gain from a bigger quant is noise, not a reason to run slower or costlier.
pub const QUALITY_BAND: f64 = 2.0;

/// Times are compared in bands 10% wide: closer than that is within the speed model's error.
const TIME_BAND: f64 = 1.1;

fn time_band(ms: f64) -> f64 {
    (ms.max(1e-3).ln() / TIME_BAND.ln()).floor()
}

/// Ranking. Measured qualities before unmeasured ones; then by default the highest quality (in
/// bands), then the fastest answer (in bands), then the lowest cost and fewest GPUs; engine order of the catalog breaks remaining ties (the sort is
/// stable). Every key is a plain number, so the order is total.
fn rank(prefer: Prefer, a: &Candidate, b: &Candidate) -> Ordering {
    let cost = |c: &Candidate| c.usd_per_hour().unwrap_or(0.0);
    let band = |c: &Candidate| (c.quality / QUALITY_BAND).round();
    let quality = cmp_f64(band(b), band(a));
    let exact_quality = cmp_f64(b.quality, a.quality);
    let cheaper = cmp_f64(cost(a), cost(b)).then(a.deployment.gpus.cmp(&b.deployment.gpus));
    let answer = |c: &Candidate| time_band(c.performance.time_to_answer_ms);
    let faster = cmp_f64(answer(a), answer(b));
    let ttft = cmp_f64(
        time_band(a.performance.ttft_ms),
        time_band(b.performance.ttft_ms),
    );
    // A quality no benchmark measured ranks below every measured one (both met the floor).
    let measured = b
        .deployment
        .quant
        .quality_measured
        .cmp(&a.deployment.quant.quality_measured);
    let key = match prefer {
        Prefer::Quality => quality
            .then(faster)
            .then(cheaper)
            .then(exact_quality)
            .then(ttft),
        Prefer::Cost => cheaper.then(quality).then(faster).then(exact_quality),
        Prefer::Speed => faster.then(quality).then(cheaper).then(exact_quality),
    };
    measured.then(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::simulate::{SimulationRequest, simulate};

    #[test]
    fn reasons_serialize_to_the_ids_scripts_read() {
        let ids = [
            (Reason::Support, "\"support\""),
            (Reason::Context, "\"context\""),
            (Reason::Unmet(Constraint::Fits), "\"fits\""),
            (Reason::Unmet(Constraint::MinQuality), "\"min_quality\""),
            (Reason::Unmet(Constraint::AnswerWithin), "\"answer_within\""),
        ];
        for (reason, json) in ids {
            assert_eq!(serde_json::to_string(&reason).ok().as_deref(), Some(json));
        }
    }

    /// The 671B in BF16 (1.34 TB of weights) on one 48 GB L40S: sized, then turned down as not
    /// fitting; the 7B on the same card is assessed with its checks.
    #[test]
    fn assess_turns_down_what_does_not_fit_and_checks_the_rest() -> crate::error::Result<()> {
        let c = Catalog::embedded()?;
        let hw = simulate(
            &c,
            &SimulationRequest {
                gpu_specs: vec!["l40s".into()],
                ..Default::default()
            },
        )?;
        let task = c.task("chat")?;
        let req = Request {
            catalog: &c,
            task,
            constraints: Constraints::default(),
            prefer: Prefer::Quality,
            pins: Pins::default(),
            workload: WorkloadSpec::default(),
            traffic: None,
            kv_dtype: KvDtype::Bf16,
            machines: Machines::Local(hw.clone()),
            price: None,
            kwh_price: None,
        };
        let subject = |model, quant| -> crate::error::Result<(&Model, &Quant, &Engine)> {
            Ok((c.model(model)?, c.quant(quant)?, c.engine("vllm")?))
        };
        let w = Workload {
            context: 8192,
            prompt: 2048,
            output: 4096,
            concurrency: 1,
        };
        for (model, quant, fits) in [("671b", "bf16", false), ("7b", "bf16", true)] {
            let (model, quant, engine) = subject(model, quant)?;
            let (weights, params) = (WeightBytes::of(model, quant), ParamBreakdown::of(model));
            let s = Subject {
                model,
                quant,
                engine,
                workload: w,
                quality: 50.0,
                weights: &weights,
                params: &params,
            };
            match assess(&req, &req.constraints, &s, &hw, 1) {
                Ok(cand) => {
                    assert!(fits, "{} was assessed", model.id);
                    assert_eq!(cand.checks[0].constraint, Constraint::Fits);
                    assert!(cand.qualifies());
                }
                Err(turned) => {
                    assert!(!fits, "{} was turned down: {}", model.id, turned.message);
                    assert_eq!(turned.reason, Reason::Unmet(Constraint::Fits));
                    assert!(turned.shortfall > 10.0, "{}", turned.shortfall);
                }
            }
        }
        Ok(())
    }
}
