//! Service-level constraints and their evaluation against one estimated deployment. Shared by
//! `recommend` (to filter candidates) and `check` (to gate a deployment).

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::{Benchmark, Model, ParamBreakdown, Quant};
use crate::perf::Performance;
use crate::perf::cost::Cost;
use crate::sizing::MemoryPlan;

/// What the user requires. `None` means "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, JsonSchema)]
pub struct Constraints {
    /// Longest time to first token, ms.
    pub latency_ms: Option<f64>,
    /// Longest time per output token, ms.
    pub tpot_ms: Option<f64>,
    /// Slowest streaming speed per sequence, tokens/s.
    pub min_speed: Option<f64>,
    /// Longest time for the whole reasoning answer, ms.
    pub answer_within_ms: Option<f64>,
    /// Most USD per hour.
    pub budget_usd_per_hour: Option<f64>,
    /// Lowest quantization-adjusted score on the task's benchmark.
    pub min_quality: Option<f64>,
}

impl Constraints {
    /// Contradictions no deployment can satisfy, caught before searching.
    pub fn validate(&self) -> crate::error::Result<()> {
        let check = |name: &str, v: Option<f64>| -> crate::error::Result<()> {
            match v {
                Some(x) if !(x > 0.0 && x.is_finite()) => Err(crate::error::Error::input(format!(
                    "{name} must be greater than zero (got {x})"
                ))),
                _ => Ok(()),
            }
        };
        check("--latency", self.latency_ms)?;
        check("--tpot", self.tpot_ms)?;
        check("--min-speed", self.min_speed)?;
        check("--answer-within", self.answer_within_ms)?;
        check("--budget", self.budget_usd_per_hour)?;
        if let (Some(latency), Some(answer)) = (self.latency_ms, self.answer_within_ms)
            && answer < latency
        {
            return Err(crate::error::Error::input(format!(
                "--answer-within {answer:.0}ms is shorter than --latency {latency:.0}ms: the answer cannot finish before its first token"
            )));
        }
        Ok(())
    }
}

/// One constraint's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Check {
    /// `memory`, `quality`, `latency`, `tpot`, `min_speed`, `answer_within`, `budget`.
    pub constraint: String,
    pub required: f64,
    pub actual: f64,
    pub ok: bool,
    /// How far from the limit: positive = headroom, negative = violation, in the constraint's unit.
    pub margin: f64,
    pub unit: String,
}

impl Check {
    fn at_most(name: &str, unit: &str, limit: f64, actual: f64) -> Check {
        Check {
            constraint: name.into(),
            required: limit,
            actual,
            ok: actual <= limit,
            margin: limit - actual,
            unit: unit.into(),
        }
    }

    fn at_least(name: &str, unit: &str, limit: f64, actual: f64) -> Check {
        Check {
            constraint: name.into(),
            required: limit,
            actual,
            ok: actual >= limit,
            margin: actual - limit,
            unit: unit.into(),
        }
    }

    /// Violation relative to the limit (0 when met); compares how close candidates came.
    pub fn shortfall(&self) -> f64 {
        if self.ok {
            0.0
        } else {
            (self.margin.abs() / self.required.abs().max(1e-9)).min(1e6)
        }
    }

    /// "latency: 420 ms > 200 ms (+220 ms)".
    pub fn describe(&self) -> String {
        let (cmp, over) = if self.constraint == "quality" || self.constraint == "min_speed" {
            (if self.ok { "≥" } else { "<" }, -self.margin)
        } else {
            (if self.ok { "≤" } else { ">" }, -self.margin)
        };
        let fmt = |v: f64| match self.unit.as_str() {
            "ms" => crate::report::duration_ms(v),
            "USD/h" => format!("${v:.2}/h"),
            "bytes" => crate::report::gib(v.max(0.0) as u64),
            "tok/s" => format!("{v:.1} tok/s"),
            _ => format!("{v:.1}"),
        };
        let delta = if self.ok {
            String::new()
        } else {
            format!(
                " ({}{})",
                if over > 0.0 { "+" } else { "−" },
                fmt(over.abs())
            )
        };
        format!(
            "{}: {} {cmp} {}{delta}",
            self.constraint,
            fmt(self.actual),
            fmt(self.required)
        )
    }
}

/// Quality of a model in a quant on a benchmark: the paper score × the quant's retention at that size.
pub fn quality(model: &Model, quant: &Quant, benchmark: Benchmark) -> Option<f64> {
    let score = model.scores.get(benchmark)?;
    Some(score * quant.retention_for(ParamBreakdown::of(model).total()))
}

/// Every check for one deployment, in a fixed order: memory, quality, latency, tpot, min_speed,
/// answer_within, budget. Unset constraints produce no check; memory is always checked.
pub fn evaluate(
    c: &Constraints,
    memory: &MemoryPlan,
    perf: &Performance,
    cost: Option<&Cost>,
    quality: Option<f64>,
) -> Vec<Check> {
    let mut checks = vec![memory_check(memory)];
    if let Some(q) = c.min_quality {
        checks.push(Check::at_least(
            "quality",
            "score",
            q,
            quality.unwrap_or(0.0),
        ));
    }
    if let Some(l) = c.latency_ms {
        checks.push(Check::at_most("latency", "ms", l, perf.ttft_ms));
    }
    if let Some(t) = c.tpot_ms {
        checks.push(Check::at_most("tpot", "ms", t, perf.tpot_ms));
    }
    if let Some(s) = c.min_speed {
        checks.push(Check::at_least(
            "min_speed",
            "tok/s",
            s,
            perf.decode_tokens_per_s,
        ));
    }
    if let Some(a) = c.answer_within_ms {
        checks.push(Check::at_most(
            "answer_within",
            "ms",
            a,
            perf.time_to_answer_ms,
        ));
    }
    if let Some(b) = c.budget_usd_per_hour {
        // No price basis: the budget cannot be shown to hold.
        let actual = cost.map(|c| c.usd_per_hour).unwrap_or(f64::INFINITY);
        checks.push(Check::at_most("budget", "USD/h", b, actual));
    }
    checks
}

/// The memory check: the device that is fullest relative to what it may use.
pub fn memory_check(m: &MemoryPlan) -> Check {
    let devices = m
        .gpus
        .iter()
        .chain(std::iter::once(&m.host))
        .filter(|d| d.total > 0);
    let worst = devices
        .max_by(|a, b| {
            let ra = a.total as f64 / a.capacity.max(1) as f64;
            let rb = b.total as f64 / b.capacity.max(1) as f64;
            ra.total_cmp(&rb)
        })
        .copied()
        .unwrap_or_default();
    let mut c = Check::at_most("memory", "bytes", worst.capacity as f64, worst.total as f64);
    c.ok = m.fits;
    c
}
