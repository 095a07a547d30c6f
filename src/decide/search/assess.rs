//! One deployment → evaluated and checked, or a typed rejection: what the search does to each
//! candidate, public so a single deployment can be judged the same way.

use std::rc::Rc;

use crate::catalog::ParamBreakdown;
use crate::catalog::{Engine, Model, Quant};
use crate::hardware::Hardware;
use crate::perf::cost::{Cost, cost};
use crate::perf::{Performance, estimate_with};
use crate::sizing::support::unsupported_on;
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Deployment, MemoryPlan, Parallel, Workload, plan_with};

use super::super::constraints::{CheckResult, Constraint, Constraints, Measured, Words, checks};
use super::super::load::{Loaded, apply, memory_basis, under_load_with};
use super::Request;

/// Everything known about one deployment once it is sized and estimated: what `estimate` shows,
/// and what a search [`Candidate`] is judged on.
#[derive(Debug, Clone)]
pub struct Evaluated<'a> {
    pub deployment: Deployment<'a>,
    /// Shared by every candidate on the machine (a clone of its GPUs' names was a tenth of a
    /// `plan --cloud`).
    pub hardware: Rc<Hardware>,
    pub memory: MemoryPlan,
    /// Means under the load, when there is one (see [`apply`]).
    pub performance: Performance,
    pub load: Option<Loaded>,
    pub cost: Option<Cost>,
}

/// A deployment the search sized and estimated, with its quality on the task and its checks.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub evaluated: Evaluated<'a>,
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
        self.evaluated.cost.as_ref().map(|c| c.usd_per_hour)
    }

    /// "2 × NVIDIA H100 SXM5 80GB" or "CPU".
    pub fn gpus_label(&self) -> String {
        gpus_label(&self.evaluated.hardware, self.evaluated.deployment.gpus)
    }

    /// "MODEL QUANT with ENGINE on GPUS", as relaxations and suggestions name a candidate.
    pub fn label(&self) -> String {
        let d = &self.evaluated.deployment;
        format!(
            "{} {} with {} on {}",
            d.model.id,
            d.quant.id,
            d.engine.id,
            self.gpus_label()
        )
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

/// The first `gpus` GPUs of the machine by type: "2 × NVIDIA L40S + 1 × Acme X1"; "CPU only".
pub fn gpus_label(hw: &Hardware, gpus: u32) -> String {
    group_label(hw.gpus.iter().take(gpus as usize).map(|g| g.name.as_str()))
}

/// GPU names as runs of one type, in order: "2 × NVIDIA L40S + 1 × Acme X1"; "CPU only" for none.
pub fn group_label<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut groups: Vec<(&str, u32)> = vec![];
    for name in names {
        match groups.last_mut() {
            Some((last, n)) if *last == name => *n += 1,
            _ => groups.push((name, 1)),
        }
    }
    if groups.is_empty() {
        return "CPU only".to_string();
    }
    groups
        .iter()
        .map(|(name, n)| format!("{n} × {name}"))
        .collect::<Vec<_>>()
        .join(" + ")
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
    /// The layout tried ([`crate::sizing::Placement::layout`]); before sizing, only an EP /
    /// DP-attention one is named.
    pub layout: Option<String>,
}

/// One model × quant × engine, with the work that is the same on every machine (shared, not
/// recomputed, by every GPU count it is tried on).
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub model: &'a Model,
    pub quant: &'a Quant,
    pub engine: &'a Engine,
    pub workload: Workload,
    /// Quantization-adjusted score on the task's benchmark.
    pub quality: f64,
    pub weights: Rc<WeightBytes>,
    pub params: Rc<ParamBreakdown>,
    /// Expert parallelism and DP attention of this candidate.
    pub parallel: Parallel,
    /// Why the engine cannot run this model and quant anywhere
    /// ([`crate::sizing::support::unrunnable`]), asked once for every GPU type and count.
    pub refusal: Option<Rc<str>>,
}

/// The pinned MTP depth where this engine measured it and the artifact carries the module (GGUF
/// conversions drop it); else off.
fn mtp_steps(steps: u32, s: &Subject) -> u32 {
    let measured = s
        .engine
        .mtp
        .as_ref()
        .and_then(|m| m.accepted(steps))
        .is_some();
    let module = s.params.mtp > 0 && s.quant.format != crate::catalog::quant::QuantFormat::Gguf;
    if steps > 0 && measured && module {
        steps
    } else {
        0
    }
}

/// Size, estimate and check one deployment on `gpus` GPUs of `hw`. `Err` says why it cannot even
/// be estimated: it cannot run there ([`Reason::Support`]) or does not fit, with how far off.
pub fn assess<'a>(
    req: &Request<'a>,
    constraints: &Constraints,
    s: &Subject<'a>,
    hw: &Rc<Hardware>,
    gpus: u32,
) -> Result<Candidate<'a>, Turned> {
    assess_with(req, constraints, s, hw, gpus, Words::Full)
}

/// [`assess`], its checks worded or not ([`Words::None`]: verdicts and margins only, see
/// [`worded`]).
pub fn assess_with<'a>(
    req: &Request<'a>,
    constraints: &Constraints,
    s: &Subject<'a>,
    hw: &Rc<Hardware>,
    gpus: u32,
    words: Words,
) -> Result<Candidate<'a>, Turned> {
    // Not sized: the EP / DP layout as the search proposes it, one TP group of every GPU.
    let unsized_layout = (!s.parallel.is_plain() && gpus > 1).then(|| s.parallel.layout(gpus, 1));
    let unrunnable = |message| Turned {
        reason: Reason::Support,
        message,
        shortfall: f64::INFINITY,
        layout: unsized_layout.clone(),
    };
    if let Some(why) = s.refusal.as_deref().map(str::to_string) {
        return Err(unrunnable(why));
    }
    if let Some(why) = unsupported_on(s.quant, s.engine, hw, gpus) {
        return Err(unrunnable(why));
    }
    let d = Deployment {
        model: s.model,
        quant: s.quant,
        engine: s.engine,
        gpus,
        tensor_parallel: None,
        kv_dtype: req
            .kv_dtype
            .unwrap_or(crate::sizing::KvDtype::engine_default(s.engine)),
        mla_kv: None,
        mtp: mtp_steps(req.pins.mtp, s),
        parallel: s.parallel,
        workload: s.workload,
    };
    let memory = plan_with(&memory_basis(&d, req.traffic.is_some()), hw, &s.weights)
        .map_err(|e| unrunnable(e.to_string()))?;
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
            layout: memory.placement.layout(&s.parallel),
        });
    }
    let performance = estimate_with(&d, hw, &memory, &s.weights, &s.params);
    let mut evaluated = Evaluated {
        deployment: d,
        hardware: Rc::clone(hw),
        memory,
        performance,
        load: None,
        cost: None,
    };
    // Under a load the idle checks only decide whether the load is worth estimating: unworded.
    let idle_words = if req.traffic.is_some() {
        Words::None
    } else {
        words
    };
    let checks;
    (evaluated.cost, checks) = judge(req, constraints, &evaluated, s.quality, idle_words);
    let mut cand = Candidate {
        evaluated,
        quality: s.quality,
        checks,
    };
    if let Some(t) = &req.traffic {
        match hopeless(&cand.checks) {
            // Load only adds waiting and batch: the idle server's miss stands (and the search
            // skips the serving model, most of its cost under --rate).
            Some(_) => {
                if words != Words::None {
                    cand.checks = worded_as(req, constraints, &cand, words);
                }
            }
            None => {
                let e = &cand.evaluated;
                let layout = e.memory.placement.layout(&e.deployment.parallel);
                let l = under_load_with(&e.deployment, hw, &e.memory, t, &s.weights, &s.params)
                    .map_err(|err| Turned {
                        reason: Reason::Unmet(Constraint::Fits),
                        message: err.to_string(),
                        shortfall: f64::INFINITY,
                        layout,
                    })?;
                cand = with_load(req, constraints, cand, l, words);
            }
        }
    }
    Ok(cand)
}

/// An idle assessment `c` under the load `l` estimated for it: the means under load replace the
/// idle numbers and the checks are taken again. What [`assess`] does under traffic, public so a
/// search that estimates one deployment at several loads sizes it once.
pub fn with_load<'a>(
    req: &Request,
    constraints: &Constraints,
    mut c: Candidate<'a>,
    l: Loaded,
    words: Words,
) -> Candidate<'a> {
    apply(&mut c.evaluated.performance, &l);
    c.evaluated.load = Some(l);
    (c.evaluated.cost, c.checks) = judge(req, constraints, &c.evaluated, c.quality, words);
    c
}

/// The checks of `c` with their messages (taken again: the same verdicts, now worded).
pub fn worded(req: &Request, constraints: &Constraints, c: &Candidate) -> Vec<CheckResult> {
    worded_as(req, constraints, c, Words::Full)
}

/// The checks of `c` with only the first that fails worded: all a rejected row or a miss shows.
pub fn worded_miss(req: &Request, constraints: &Constraints, c: &Candidate) -> Vec<CheckResult> {
    match c.checks.iter().find(|k| !k.ok) {
        Some(k) => worded_as(req, constraints, c, Words::Only(k.constraint)),
        None => c.checks.clone(),
    }
}

/// The checks of `c` taken again, worded as `words` asks. A candidate judged under a load but
/// not estimated under it missed a limit for good on the idle server, and says so.
pub fn worded_as(
    req: &Request,
    constraints: &Constraints,
    c: &Candidate,
    words: Words,
) -> Vec<CheckResult> {
    let mut checks = judge(req, constraints, &c.evaluated, c.quality, words).1;
    if req.traffic.is_some()
        && c.evaluated.load.is_none()
        && let Some(miss) = hopeless(&checks)
        && words.says(miss)
    {
        for k in checks.iter_mut().filter(|k| k.constraint == miss) {
            k.message = format!("{} on an idle server, slower under load", k.message);
        }
    }
    checks
}

/// The cost and the checks of an evaluated deployment, at its load when it has one.
fn judge(
    req: &Request,
    constraints: &Constraints,
    e: &Evaluated,
    quality: f64,
    words: Words,
) -> (Option<Cost>, Vec<CheckResult>) {
    let cost = cost(
        &e.hardware,
        e.deployment.gpus,
        e.performance.aggregate_tokens_per_s,
        req.price,
        req.kwh_price,
    );
    let checks = checks(
        constraints,
        &Measured {
            memory: &e.memory,
            performance: &e.performance,
            cost: cost.as_ref(),
            quality: Some(quality),
            load: e.load.as_ref(),
        },
        words,
    );
    (cost, checks)
}

/// How far the idle server may miss a time limit before no load can meet it: the serving model
/// at concurrency 1 is the idle server within 2% (`concurrency_one_reproduces_the_single_stream_numbers`),
/// and load only adds waiting and batch, so a miss of more than 10% holds under any load.
const IDLE_MISS: f64 = 0.10;

/// The first speed or cost limit the idle server already misses for good, if any.
pub(crate) fn hopeless(checks: &[CheckResult]) -> Option<Constraint> {
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

#[cfg(test)]
mod tests {
    use super::super::{Machines, Pins, Prefer, WorkloadSpec};
    use super::*;
    use crate::catalog::Catalog;
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
            kv_dtype: None,
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
            let s = Subject {
                model,
                quant,
                engine,
                workload: w,
                quality: 50.0,
                weights: Rc::new(WeightBytes::of(model, quant)),
                params: Rc::new(ParamBreakdown::of(model)),
                parallel: Parallel::default(),
                refusal: crate::sizing::support::unrunnable(model, quant, engine).map(Rc::from),
            };
            match assess(&req, &req.constraints, &s, &Rc::new(hw.clone()), 1) {
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
