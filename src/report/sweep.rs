//! `--sweep`: the `r1pick.sweep/v1` document (one point per row, copied from the deployment object
//! `estimate` prints at that point), its table with a plain-character bar per row, and its markers.

use schemars::JsonSchema;
use serde::Serialize;

use crate::decide::load::{Loaded, percentile_label};
use crate::decide::sweep::{Axis, Reading, knee, knee_threshold};
use crate::quantity::round;
use crate::serving::Limit;

use super::deployment::DeploymentReport;
use super::{align_right, duration_ms, table};

/// `estimate --sweep` / `check --sweep` with `--json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepDocument {
    pub schema: String,
    /// `estimate` or `check`.
    pub command: String,
    pub axis: Axis,
    /// The unit of each point's `value`.
    pub unit: String,
    pub model: String,
    pub quant: String,
    pub engine: String,
    /// The GPUs of the first point ("8 × NVIDIA H100 SXM5 80GB"); a `gpus` sweep changes the count.
    pub hardware: String,
    /// Mean prompt and generated tokens of one request.
    pub prompt: u32,
    pub output: u32,
    /// The percentile of the `*_at_percentile_ms` fields (and of the constraints), when under load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    /// For `check`: every point meets every constraint (the exit code is 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// The rule the knee follows.
    pub knee_rule: String,
    /// The last point after which throughput rises by less than the rule's share; absent when it
    /// keeps rising through the sweep (and on a context sweep, where throughput falls).
    pub knee: Option<Marker>,
    /// The first point that breaks a constraint (for `estimate`: does not fit at all, or a rate
    /// that is not sustainable).
    pub first_break: Option<Marker>,
    pub points: Vec<SweepPoint>,
}

/// A marked point.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Marker {
    /// Index into `points`.
    pub index: usize,
    pub value: f64,
    pub label: String,
}

/// One point: the figures of `estimate` (or `check`) at it, exactly as that command prints them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepPoint {
    /// The axis value (requests in flight, requests/s, tokens or GPUs).
    pub value: f64,
    /// As written on the command line: `64`, `2.5/s`, `32k`.
    pub label: String,
    /// `memory.fits` of the deployment: it holds every sequence's full context.
    pub fits: bool,
    /// False only for a rate at or above the highest sustainable one: no latency then.
    pub sustainable: bool,
    /// `performance.ttft_ms`: the mean under the load (absent when not sustainable).
    pub ttft_ms: Option<f64>,
    /// `performance.load.ttft_ms` at the document's percentile.
    pub ttft_at_percentile_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    pub tpot_at_percentile_ms: Option<f64>,
    /// `performance.decode_tokens_per_s`: one request's streaming speed.
    pub tokens_per_s_per_user: Option<f64>,
    /// `performance.aggregate_tokens_per_s`: output tokens of all requests together.
    pub tokens_per_s: f64,
    /// `tokens_per_s` over the GPUs used.
    pub tokens_per_s_per_gpu: f64,
    pub gpus: u32,
    /// Share of the KV pool the running batch holds, under a load.
    pub kv_use: Option<f64>,
    /// What bounds the deployment at this load.
    pub limit: Option<Limit>,
    pub usd_per_million_output_tokens: Option<f64>,
    /// Constraints this point breaks (`check`: each failed check; `estimate`: "does not fit" with
    /// not even one request held, "rate not sustainable").
    pub breaks: Vec<String>,
}

impl SweepPoint {
    /// The point from the deployment object of its estimate (`r` = `evaluated_report`), the load
    /// behind it, and the constraints it breaks.
    pub fn of(
        axis: Axis,
        value: f64,
        r: &DeploymentReport,
        load: Option<&Loaded>,
        breaks: Vec<String>,
    ) -> SweepPoint {
        let perf = r.performance.as_ref();
        let l = perf.and_then(|p| p.load.as_ref());
        let sustainable = l.is_none_or(|l| l.sustainable);
        let served = |v: Option<f64>| v.filter(|_| sustainable);
        let pct = |p: Option<crate::serving::Percentiles>| {
            l.and_then(|l| p.map(|p| round(p.at(l.percentile), 3)))
        };
        let tokens_per_s = perf.map_or(0.0, |p| p.aggregate_tokens_per_s);
        let gpus = r.placement.gpus.max(1);
        SweepPoint {
            value,
            label: axis.label(value),
            fits: r.memory.fits,
            sustainable,
            ttft_ms: served(perf.map(|p| p.ttft_ms)),
            ttft_at_percentile_ms: pct(l.and_then(|l| l.ttft_ms)),
            tpot_ms: served(perf.map(|p| p.tpot_ms)),
            tpot_at_percentile_ms: pct(l.and_then(|l| l.tpot_ms)),
            tokens_per_s_per_user: served(perf.map(|p| p.decode_tokens_per_s)),
            tokens_per_s,
            tokens_per_s_per_gpu: round(tokens_per_s / f64::from(gpus), 3),
            gpus,
            kv_use: load.map(|l| round(l.estimate.kv_use(), 3)),
            limit: l.map(|l| l.limit),
            usd_per_million_output_tokens: r.cost.as_ref().map(|c| c.usd_per_million_output_tokens),
            breaks,
        }
    }

    fn reading(&self) -> Reading {
        Reading {
            value: self.value,
            // A point that does not fit and has no load estimate has no throughput to compare.
            throughput: (self.fits || self.limit.is_some()).then_some(self.tokens_per_s),
            served: self.sustainable && (self.fits || self.limit.is_some()),
        }
    }
}

/// The knee rule in words, with data/sweep.toml's threshold.
pub fn knee_rule() -> String {
    format!(
        "the last point after which output tok/s rises by less than {:.0}% per doubling of the axis, or the last sustained before a rate that is not",
        knee_threshold() * 100.0
    )
}

/// The knee and first-break markers of `points` along `axis`.
pub fn markers(axis: Axis, points: &[SweepPoint]) -> (Option<Marker>, Option<Marker>) {
    let marker = |i: usize| Marker {
        index: i,
        value: points[i].value,
        label: points[i].label.clone(),
    };
    let readings: Vec<Reading> = points.iter().map(SweepPoint::reading).collect();
    let k = axis
        .has_knee()
        .then(|| knee(&readings, knee_threshold()))
        .flatten();
    let b = points.iter().position(|p| !p.breaks.is_empty());
    (k.map(marker), b.map(marker))
}

/// Width of the bar column, in characters.
const BAR: usize = 24;

/// The sweep as a table: one row per point, a bar of output tok/s per GPU, the markers beside it.
pub fn sweep_table(doc: &SweepDocument) -> String {
    let pct = doc
        .percentile
        .map(percentile_label)
        .unwrap_or_else(|| "p90".into());
    let mut out = format!(
        "{} · {} · {} on {} — prompt {}, output {}; sweep of {} ({})\n",
        doc.model,
        doc.quant,
        doc.engine,
        doc.hardware,
        doc.prompt,
        doc.output,
        doc.axis.id(),
        doc.unit
    );
    let ttft_p = format!("TTFT {pct}");
    let tpot_p = format!("TPOT {pct}");
    let mut t = table(&[
        doc.axis.id(),
        "TTFT",
        &ttft_p,
        "TPOT",
        &tpot_p,
        "tok/s/user",
        "tok/s",
        "tok/s/GPU",
        "KV use",
        "limit",
        "$/1M out",
        "tok/s/GPU bar",
        "",
    ]);
    let top = doc
        .points
        .iter()
        .map(|p| p.tokens_per_s_per_gpu)
        .fold(0.0, f64::max);
    let dash = || "–".to_string();
    let ms = |v: Option<f64>| v.map(duration_ms).unwrap_or_else(dash);
    for (i, p) in doc.points.iter().enumerate() {
        let mut mark = vec![];
        if doc.knee.as_ref().is_some_and(|k| k.index == i) {
            mark.push("← knee".to_string());
        }
        if doc.first_break.as_ref().is_some_and(|b| b.index == i) {
            mark.push(format!("← first break: {}", p.breaks.join(", ")));
        }
        t.add_row(vec![
            p.label.clone(),
            ms(p.ttft_ms),
            ms(p.ttft_at_percentile_ms),
            ms(p.tpot_ms),
            ms(p.tpot_at_percentile_ms),
            p.tokens_per_s_per_user
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(dash),
            format!("{:.1}", p.tokens_per_s),
            format!("{:.1}", p.tokens_per_s_per_gpu),
            p.kv_use
                .map(|v| format!("{:.0}%", v * 100.0))
                .unwrap_or_else(dash),
            p.limit
                .map(|l| limit_word(l).to_string())
                .unwrap_or_else(dash),
            p.usd_per_million_output_tokens
                .map(|v| format!("${v:.2}"))
                .unwrap_or_else(dash),
            bar(p.tokens_per_s_per_gpu, top),
            mark.join(" "),
        ]);
    }
    align_right(&mut t, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&format!("knee: {}", doc.knee_rule));
    match &doc.knee {
        Some(k) => out.push_str(&format!(" — at {}\n", k.label)),
        None if !doc.axis.has_knee() => {
            out.push_str(" — none on a context sweep (throughput falls as context grows)\n")
        }
        None => out.push_str(" — not reached in this sweep\n"),
    }
    if let Some(b) = &doc.first_break {
        out.push_str(&format!(
            "first break: at {} ({})\n",
            b.label,
            doc.points[b.index].breaks.join(", ")
        ));
    }
    out
}

/// `value` of `top` as a bar of `#` in a fixed width (plain characters, so a pipe and a terminal
/// show the same).
fn bar(value: f64, top: f64) -> String {
    let n = if top > 0.0 {
        ((value / top) * BAR as f64).round() as usize
    } else {
        0
    };
    format!("{:<BAR$}", "#".repeat(n.min(BAR)))
}

/// The limit in one or two words, for a narrow column.
fn limit_word(l: Limit) -> &'static str {
    match l {
        Limit::Compute => "compute",
        Limit::MemoryBandwidth => "bandwidth",
        Limit::KvCapacity => "KV cache",
        Limit::SequenceLimit => "seq limit",
        Limit::Queue => "queue",
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_scale_to_the_top_value() {
        assert_eq!(bar(10.0, 10.0), "#".repeat(24));
        assert_eq!(
            bar(5.0, 10.0),
            format!("{}{}", "#".repeat(12), " ".repeat(12))
        );
        assert_eq!(bar(0.0, 0.0), " ".repeat(24));
    }
}
