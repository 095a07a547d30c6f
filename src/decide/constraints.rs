//! Service-level constraints, and how one deployment measures up against them.
//!
//! Pure: the caller hands over the deployment's own numbers (the memory plan, the speed and cost
//! estimates, the quantization-adjusted quality) and gets one [`CheckResult`] per constraint,
//! with the required value, the actual value and the margin between them. `check` prints these;
//! `recommend` can reject candidates with the same results.

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::{Benchmark, Catalog, Model, ParamBreakdown, Quant, Task};
use crate::error::{Error, Result, unknown};
use crate::perf::Performance;
use crate::perf::cost::Cost;
use crate::serving::{Load, LoadEstimate, Percentiles};

use super::load::Loaded;
pub use crate::quantity::Unit;
use crate::quantity::{USD_DECIMALS, parse_budget_rate};
use crate::sizing::MemoryPlan;

/// What a check is about. `fits` is always checked; the others only when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// The deployment fits the memory of every device.
    Fits,
    /// Time to first token (`--latency`).
    Latency,
    /// Time per output token (`--tpot`).
    Tpot,
    /// One sequence's streaming speed (`--min-speed`).
    MinSpeed,
    /// Time to the whole reasoning answer (`--answer-within`).
    AnswerWithin,
    /// Hardware cost per hour (`--budget`).
    Budget,
    /// Quantization-adjusted benchmark score (`--min-quality`, or the task's floor).
    MinQuality,
    /// The request rate is below the highest the deployment sustains (`--rate`).
    Load,
}

/// Whether the required value is a ceiling (`actual ≤ required`) or a floor (`actual ≥ required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Max,
    Min,
}

/// A budget in USD per hour, with how the user spelled it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Budget {
    pub usd_per_hour: f64,
    /// `3/h`, `2000/month` or a tier name, as given.
    pub given: String,
}

/// The lowest acceptable score on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct QualityFloor {
    pub benchmark: Benchmark,
    pub min_score: f64,
    /// The task the benchmark (and, without `--min-quality`, the floor) came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// Every limit a deployment may be held to; `None` means "not asked for".
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Constraints {
    pub latency_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    pub min_tokens_per_s: Option<f64>,
    pub answer_within_ms: Option<f64>,
    pub budget: Option<Budget>,
    pub min_quality: Option<QualityFloor>,
}

/// The constraint flags as given, before a task fills in what they leave open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits<'a> {
    pub latency_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    pub min_tokens_per_s: Option<f64>,
    pub answer_within_ms: Option<f64>,
    /// `3/h`, `2000/month` or a tier name.
    pub budget: Option<&'a str>,
    pub min_quality: Option<f64>,
}

impl Constraints {
    /// The limits as values: the budget read (rate or tier), and the quality floor from
    /// `--min-quality` on the task's benchmark, or the task's own floor, or GPQA Diamond without a
    /// task. What `check MODEL` holds a deployment to.
    pub fn given(catalog: &Catalog, limits: &Limits, task: Option<&Task>) -> Result<Constraints> {
        let min_quality = match (limits.min_quality, task) {
            (None, None) => None,
            (floor, Some(t)) => Some(QualityFloor {
                benchmark: t.benchmark,
                min_score: floor.unwrap_or(t.min_score),
                task: Some(t.id.clone()),
            }),
            (Some(floor), None) => Some(QualityFloor {
                benchmark: Benchmark::GpqaDiamond,
                min_score: floor,
                task: None,
            }),
        };
        Ok(Constraints {
            latency_ms: limits.latency_ms,
            tpot_ms: limits.tpot_ms,
            min_tokens_per_s: limits.min_tokens_per_s,
            answer_within_ms: limits.answer_within_ms,
            budget: limits.budget.map(|b| budget(catalog, b)).transpose()?,
            min_quality,
        })
    }

    /// [`Constraints::given`] with the task's defaults for what the limits leave open: its TTFT
    /// target and (unless a time per token is given) its streaming-speed floor; contradictions
    /// refused. What a search for the task is held to.
    pub fn for_task(catalog: &Catalog, limits: &Limits, task: &Task) -> Result<Constraints> {
        let mut c = Constraints::given(catalog, limits, Some(task))?;
        c.latency_ms = c.latency_ms.or(Some(task.latency_ms));
        if c.tpot_ms.is_none() {
            c.min_tokens_per_s = c.min_tokens_per_s.or(Some(task.min_speed));
        }
        c.validate()?;
        Ok(c)
    }

    /// Contradictions no deployment can satisfy, refused before any search.
    pub fn validate(&self) -> Result<()> {
        if let (Some(latency), Some(answer)) = (self.latency_ms, self.answer_within_ms)
            && answer < latency
        {
            return Err(Error::input(format!(
                "--answer-within {answer:.0}ms is shorter than --latency {latency:.0}ms: an answer cannot finish before its first token"
            )));
        }
        if let (Some(tpot), Some(speed)) = (self.tpot_ms, self.min_tokens_per_s)
            && tpot > 1000.0 / speed
        {
            return Err(Error::input(format!(
                "--tpot {tpot:.0}ms allows slower tokens than --min-speed {speed} tok/s ({:.1} ms per token); give one of them",
                1000.0 / speed
            )));
        }
        Ok(())
    }
}

/// One constraint against one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CheckResult {
    pub constraint: Constraint,
    pub bound: Bound,
    pub unit: Unit,
    #[serde(serialize_with = "number")]
    pub required: f64,
    /// `null` when the deployment has no such number (no price, no published score).
    #[serde(serialize_with = "optional_number")]
    pub actual: Option<f64>,
    pub ok: bool,
    /// `actual − required` in `unit`: above zero is over a `max`, below zero is under a `min`.
    #[serde(serialize_with = "optional_number")]
    pub margin: Option<f64>,
    /// The check in words, e.g. "latency: 420 ms > 200 ms (+220 ms)".
    pub message: String,
}

/// A deployment's numbers.
#[derive(Debug, Clone, Copy)]
pub struct Measured<'a> {
    pub memory: &'a MemoryPlan,
    pub performance: &'a Performance,
    pub cost: Option<&'a Cost>,
    /// Score on the quality floor's benchmark after quantization; `None` when unpublished.
    pub quality: Option<f64>,
    /// The estimate under the stated load, when there is one: the latency constraints then hold
    /// at its percentile.
    pub load: Option<&'a Loaded>,
}

/// The paper score of `model` on `benchmark`, times the retention of `quant` at the model's size.
pub fn quality(model: &Model, quant: &Quant, benchmark: Benchmark) -> Option<f64> {
    let score = model.scores.get(benchmark)?;
    Some(score * quant.retention_for(ParamBreakdown::of(model).total()))
}

/// `3/h`, `2000/month`, or a tier of data/tasks.toml, in USD per hour.
pub fn budget(catalog: &Catalog, given: &str) -> Result<Budget> {
    let usd_per_hour = match parse_budget_rate(given) {
        Some(rate) => {
            rate.map_err(|e| Error::input(format!("--budget '{}': {e}", given.trim())))?
        }
        None => match catalog.tier(given) {
            Some(tier) => tier.usd_per_hour,
            None if given.trim().parse::<f64>().is_ok() => {
                return Err(Error::input(format!(
                    "--budget '{given}' needs a period: {0}/h, {0}/day or {0}/month (or a tier name)",
                    given.trim()
                )));
            }
            None => {
                let tiers: Vec<&str> = catalog.tiers.iter().map(|t| t.id.as_str()).collect();
                return Err(unknown("budget tier", given, &tiers));
            }
        },
    };
    Ok(Budget {
        usd_per_hour,
        given: given.trim().to_string(),
    })
}

/// Every check, `fits` first (then `load` under a rate), then the constraints in the order of
/// [`Constraints`]' fields. Under load the time constraints read the stated percentile.
pub fn evaluate(c: &Constraints, m: &Measured) -> Vec<CheckResult> {
    checks(c, m, Words::Full)
}

/// Which checks carry their messages: a search weighs thousands of deployments and words only
/// what it reports (wording is most of a check's cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    Full,
    None,
    /// Only this constraint's check is worded: what a rejected row shows of a candidate.
    Only(Constraint),
}

impl Words {
    /// Is `constraint`'s check worded?
    pub fn says(self, constraint: Constraint) -> bool {
        match self {
            Words::Full => true,
            Words::None => false,
            Words::Only(only) => only == constraint,
        }
    }
}

/// The checks of [`evaluate`], worded as `words` asks (the verdicts and margins are the same).
pub fn checks(c: &Constraints, m: &Measured, words: Words) -> Vec<CheckResult> {
    let p = m.performance;
    let mut checks = vec![fits(m.memory, words.says(Constraint::Fits))];
    if let Some(l) = &m.load
        && checks[0].ok
        && words.says(Constraint::Fits)
    {
        // Memory under load is one full-length request (load::memory_basis); the KV pool and the
        // sequence limit set how many run at once.
        checks[0].message.push_str(&format!(
            "; under load at most {} request(s) run at once, more wait in the queue",
            l.estimate.max_batch
        ));
    }
    if let Some(l) = &m.load
        && let Load::Rate { per_second } = l.estimate.load
    {
        checks.push(sustainable(
            per_second,
            &l.estimate,
            words.says(Constraint::Load),
        ));
    }
    // (actual, detail): the idle server's number, or the percentile under load.
    let at = |idle: f64, under: fn(&LoadEstimate) -> Option<Percentiles>, w: bool| match &m.load {
        None => (Some(idle), String::new()),
        Some(l) if !w => (
            under(&l.estimate).map(|v| v.at(l.percentile)),
            String::new(),
        ),
        Some(l) => (
            under(&l.estimate).map(|v| v.at(l.percentile)),
            format!(
                " ({} at {})",
                super::load::percentile_label(l.percentile),
                super::load::load_label(&l.estimate.load)
            ),
        ),
    };
    let timed = [
        (
            Constraint::Latency,
            c.latency_ms,
            at(p.ttft_ms, |e| e.ttft_ms, words.says(Constraint::Latency)),
        ),
        (
            Constraint::Tpot,
            c.tpot_ms,
            at(p.tpot_ms, |e| e.tpot_ms, words.says(Constraint::Tpot)),
        ),
        (
            Constraint::AnswerWithin,
            c.answer_within_ms,
            at(
                p.time_to_answer_ms,
                |e| e.e2e_ms,
                words.says(Constraint::AnswerWithin),
            ),
        ),
    ];
    for (constraint, required, (actual, detail)) in timed {
        if let Some(required) = required {
            let w = words.says(constraint);
            checks.push(no_figure(
                compare(constraint, &detail, required, actual, w),
                m,
                w,
            ));
        }
    }
    if let Some(required) = c.min_tokens_per_s {
        let w = words.says(Constraint::MinSpeed);
        // A sequence's speed at the percentile is the inverse of its TPOT there.
        let (tpot, detail) = at(p.tpot_ms, |e| e.tpot_ms, w);
        let speed = match &m.load {
            None => Some(p.decode_tokens_per_s),
            Some(_) => tpot.map(|t| 1000.0 / t.max(1e-9)),
        };
        checks.push(no_figure(
            compare(Constraint::MinSpeed, &detail, required, speed, w),
            m,
            w,
        ));
    }
    if let Some(b) = &c.budget {
        let w = words.says(Constraint::Budget);
        let mut check = compare(
            Constraint::Budget,
            "",
            b.usd_per_hour,
            // at the precision the report quotes a price, so the check shows the report's number
            m.cost
                .map(|c| crate::quantity::round(c.usd_per_hour, USD_DECIMALS)),
            w,
        );
        if m.cost.is_none() && w {
            check.message = "cost: no price: pass --price or --kwh-price".into();
        }
        checks.push(check);
    }
    if let Some(q) = &c.min_quality {
        let w = words.says(Constraint::MinQuality);
        let detail = match &q.task {
            _ if !w => String::new(),
            Some(task) => format!(" ({}, task {task})", q.benchmark.label()),
            None => format!(" ({}, no --task given)", q.benchmark.label()),
        };
        let mut check = compare(Constraint::MinQuality, &detail, q.min_score, m.quality, w);
        if m.quality.is_none() && w {
            check.message = format!(
                "quality{detail}: the model has no published {} score",
                q.benchmark.label()
            );
        }
        checks.push(check);
    }
    checks
}

/// The rate against the highest sustainable one: below it holds (queues stay finite).
fn sustainable(per_second: f64, e: &LoadEstimate, w: bool) -> CheckResult {
    let mut check = compare(Constraint::Load, "", per_second, Some(e.max_rate_per_s), w);
    check.ok = e.sustainable;
    if !w {
        return check;
    }
    let rate = super::load::rate_label(per_second);
    let highest = super::load::rate_label(e.max_rate_per_s);
    check.message = if e.sustainable {
        format!("load: rate {rate} is sustainable (highest {highest})")
    } else {
        format!("load: rate {rate} is not sustainable: the highest sustainable rate is {highest}")
    };
    check
}

/// A time check under a load with no latency figure (an unsustainable rate) says why.
fn no_figure(mut check: CheckResult, m: &Measured, w: bool) -> CheckResult {
    if let Some(l) = &m.load
        && check.actual.is_none()
        && w
    {
        check.message = format!(
            "{}: no figure at an unsustainable rate (highest sustainable {})",
            check.message.trim_end_matches(": unknown"),
            super::load::rate_label(l.estimate.max_rate_per_s)
        );
    }
    check
}

/// Whether every check holds.
pub fn all_ok(checks: &[CheckResult]) -> bool {
    checks.iter().all(|c| c.ok)
}

impl Constraint {
    pub fn bound(self) -> Bound {
        match self {
            Constraint::MinSpeed | Constraint::MinQuality | Constraint::Load => Bound::Min,
            _ => Bound::Max,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Constraint::Fits => Unit::Bytes,
            Constraint::Latency | Constraint::Tpot | Constraint::AnswerWithin => Unit::Ms,
            Constraint::MinSpeed => Unit::TokensPerS,
            Constraint::Budget => Unit::UsdPerHour,
            Constraint::MinQuality => Unit::Score,
            Constraint::Load => Unit::RequestsPerS,
        }
    }

    /// The name scripts see (the serde name): `fits`, `latency`, `min_speed`, …
    pub fn id(self) -> &'static str {
        match self {
            Constraint::Fits => "fits",
            Constraint::Latency => "latency",
            Constraint::Tpot => "tpot",
            Constraint::MinSpeed => "min_speed",
            Constraint::AnswerWithin => "answer_within",
            Constraint::Budget => "budget",
            Constraint::MinQuality => "min_quality",
            Constraint::Load => "load",
        }
    }

    /// The flag that sets this constraint.
    pub fn flag(self) -> &'static str {
        match self {
            Constraint::Fits => "--context/--concurrency",
            Constraint::Latency => "--latency",
            Constraint::Tpot => "--tpot",
            Constraint::MinSpeed => "--min-speed",
            Constraint::AnswerWithin => "--answer-within",
            Constraint::Budget => "--budget",
            Constraint::MinQuality => "--min-quality",
            Constraint::Load => "--rate",
        }
    }

    /// The word a person reads in a check line.
    pub fn label(self) -> &'static str {
        match self {
            Constraint::Fits => "memory",
            Constraint::Latency => "latency",
            Constraint::Tpot => "time per token",
            Constraint::MinSpeed => "speed",
            Constraint::AnswerWithin => "time to answer",
            Constraint::Budget => "cost",
            Constraint::MinQuality => "quality",
            Constraint::Load => "load",
        }
    }
}

impl Bound {
    /// "≤" for a ceiling, "≥" for a floor.
    pub fn symbol(self) -> &'static str {
        match self {
            Bound::Max => "≤",
            Bound::Min => "≥",
        }
    }
}

/// One bound against one number; a missing number fails the check.
fn compare(
    constraint: Constraint,
    detail: &str,
    required: f64,
    actual: Option<f64>,
    w: bool,
) -> CheckResult {
    let bound = constraint.bound();
    let unit = constraint.unit();
    let round = |x: f64| crate::quantity::round(x, unit.decimals());
    let required = round(required);
    let actual = actual.map(round);
    let ok = actual.is_some_and(|a| match bound {
        Bound::Max => a <= required,
        Bound::Min => a >= required,
    });
    let margin = actual.map(|a| round(a - required));
    let message = match (actual, margin) {
        _ if !w => String::new(),
        (Some(a), Some(d)) => {
            let op = match (bound, ok) {
                (Bound::Max, true) => "≤",
                (Bound::Max, false) => ">",
                (Bound::Min, true) => "≥",
                (Bound::Min, false) => "<",
            };
            let (a, required) = unit.pair(a, required);
            format!(
                "{}{detail}: {a} {op} {required} ({})",
                constraint.label(),
                unit.show_signed(d)
            )
        }
        _ => format!("{}{detail}: unknown", constraint.label()),
    };
    CheckResult {
        constraint,
        bound,
        unit,
        required,
        actual,
        ok,
        margin,
        message,
    }
}

/// The device with the least room (the host when nothing runs on a GPU), against its capacity.
fn fits(memory: &MemoryPlan, w: bool) -> CheckResult {
    // The device's index among the GPUs, `None` for the host.
    let gpus = memory.gpus.iter().enumerate().map(|(i, g)| (Some(i), g));
    let host = (memory.host.total > 0 || memory.gpus.is_empty()).then_some((None, &memory.host));
    let over = |d: &crate::sizing::DeviceMemory| d.total as f64 - d.capacity as f64;
    let tightest = gpus
        .chain(host)
        .max_by(|(_, a), (_, b)| over(a).total_cmp(&over(b)));
    let (index, used, capacity) = match tightest {
        Some((i, d)) => (i, d.total as f64, d.capacity as f64),
        None => (None, 0.0, 0.0),
    };
    let device = match index {
        _ if !w => String::new(),
        Some(i) => format!("GPU {i}"),
        None => "host RAM".to_string(),
    };
    let mut check = compare(
        Constraint::Fits,
        &if w {
            format!(" on {device}")
        } else {
            String::new()
        },
        capacity,
        Some(used),
        w,
    );
    // The memory plan is the one source of the verdict (it also knows what an engine cannot do).
    check.ok = memory.fits;
    if !w {
        return check;
    }
    if let Some(why) = &memory.shortfall {
        check.message = format!("memory: does not fit: {why}");
    } else {
        let (used, capacity) = Unit::Bytes.pair(used, capacity);
        check.message = format!("memory on {device}: {used} of {capacity} usable");
    }
    check
}

/// Whole numbers as JSON integers (bytes are integers, design.md §5), the others as they are.
fn number<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

fn optional_number<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => number(v, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use crate::sizing::{DeviceMemory, Placement};

    fn perf(ttft: f64, tpot: f64) -> Performance {
        Performance {
            ttft_ms: ttft,
            tpot_ms: tpot,
            decode_tokens_per_s: 1000.0 / tpot,
            aggregate_tokens_per_s: 1000.0 / tpot,
            prefill_tokens_per_s: 5000.0,
            time_to_answer_ms: ttft + 4096.0 * tpot,
            breakdown: Default::default(),
        }
    }

    fn memory(total: u64, capacity: u64) -> MemoryPlan {
        let gpu = DeviceMemory {
            weights: total,
            total,
            capacity,
            ..Default::default()
        };
        MemoryPlan {
            placement: Placement {
                gpus: 1,
                tensor_parallel: 1,
                pipeline_stages: 1,
                layer_split: false,
                gpu_layers: 1,
                cpu_layers: 0,
                cpu_expert_layers: 0,
                offloaded_bytes: 0,
                layers_per_gpu: vec![],
                experts_on_gpu: vec![],
            },
            gpus: vec![gpu],
            host: DeviceMemory::default(),
            kv_bytes_per_token: 0,
            weights_bytes: total,
            kv_cache_bytes: 0,
            activation_bytes: 0,
            overhead_bytes: 0,
            total_bytes: total,
            per_gpu_bytes: total,
            per_gpu_capacity_bytes: capacity,
            host_bytes: 0,
            fits: total <= capacity,
            shortfall: (total > capacity).then(|| "GPU 0 is short".to_string()),
        }
    }

    #[test]
    fn a_slow_first_token_fails_with_its_margin() -> TestResult {
        let (m, p) = (memory(10, 20), perf(420.0, 30.0));
        let c = Constraints {
            latency_ms: Some(200.0),
            ..Default::default()
        };
        let checks = evaluate(
            &c,
            &Measured {
                memory: &m,
                performance: &p,
                cost: None,
                quality: None,
                load: None,
            },
        );
        assert_eq!(checks.len(), 2);
        assert!(checks[0].ok, "fits");
        let l = &checks[1];
        assert_eq!(l.constraint, Constraint::Latency);
        assert!(!l.ok);
        assert_eq!(l.margin, Some(220.0));
        assert_eq!(l.message, "latency: 420 ms > 200 ms (+220 ms)");
        assert!(!all_ok(&checks));
        Ok(())
    }

    #[test]
    fn floors_pass_above_and_fail_below() -> TestResult {
        let (m, p) = (memory(10, 20), perf(100.0, 40.0)); // 25 tok/s
        let measured = Measured {
            memory: &m,
            performance: &p,
            cost: None,
            quality: Some(57.0),
            load: None,
        };
        let c = Constraints {
            min_tokens_per_s: Some(30.0),
            min_quality: Some(QualityFloor {
                benchmark: Benchmark::GpqaDiamond,
                min_score: 55.0,
                task: None,
            }),
            ..Default::default()
        };
        let checks = evaluate(&c, &measured);
        assert_eq!(checks[1].margin, Some(-5.0));
        assert!(!checks[1].ok);
        assert_eq!(
            checks[1].message,
            "speed: 25.0 tok/s < 30.0 tok/s (-5.0 tok/s)"
        );
        assert!(checks[2].ok);
        assert_eq!(checks[2].margin, Some(2.0));
        assert!(checks[2].message.contains("GPQA Diamond, no --task given"));
        Ok(())
    }

    #[test]
    fn a_budget_without_a_price_fails_and_says_why() -> TestResult {
        let (m, p) = (memory(10, 20), perf(100.0, 40.0));
        let c = Constraints {
            budget: Some(Budget {
                usd_per_hour: 3.0,
                given: "3/h".into(),
            }),
            ..Default::default()
        };
        let measured = Measured {
            memory: &m,
            performance: &p,
            cost: None,
            quality: None,
            load: None,
        };
        let b = &evaluate(&c, &measured)[1];
        assert!(!b.ok);
        assert_eq!(b.actual, None);
        assert!(b.message.contains("no price: pass --price or --kwh-price"));
        Ok(())
    }

    #[test]
    fn fits_follows_the_memory_plan() -> TestResult {
        let (m, p) = (memory(30, 20), perf(100.0, 40.0));
        let measured = Measured {
            memory: &m,
            performance: &p,
            cost: None,
            quality: None,
            load: None,
        };
        let f = &evaluate(&Constraints::default(), &measured)[0];
        assert_eq!(f.constraint, Constraint::Fits);
        assert!(!f.ok);
        assert_eq!(
            (f.required, f.actual, f.margin),
            (20.0, Some(30.0), Some(10.0))
        );
        Ok(())
    }

    #[test]
    fn budgets_read_rates_and_tiers() -> TestResult {
        let c = Catalog::embedded()?;
        assert_eq!(budget(&c, "2190/month")?.usd_per_hour, 3.0);
        assert_eq!(budget(&c, "Startup")?.usd_per_hour, 10.0);
        let e = budget(&c, "startp").unwrap_err().to_string();
        assert!(e.contains("did you mean 'startup'"), "{e}");
        assert!(
            budget(&c, "3")
                .unwrap_err()
                .to_string()
                .contains("needs a period")
        );
        assert!(budget(&c, "-3/h").unwrap_err().to_string().contains("-3"));
        Ok(())
    }

    #[test]
    fn quality_is_the_paper_score_times_retention() -> TestResult {
        let c = Catalog::embedded()?;
        let m = c.model("32b")?;
        let bf16 = quality(m, c.quant("bf16")?, Benchmark::GpqaDiamond).ok_or("no GPQA score")?;
        assert_eq!(bf16, 62.1 * c.quant("bf16")?.retention.medium);
        let int4 = quality(m, c.quant("int4")?, Benchmark::GpqaDiamond).ok_or("no GPQA score")?;
        assert!(int4 < bf16);
        Ok(())
    }
}
