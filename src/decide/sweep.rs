//! Sweeps: one deployment at each point of one axis (`--sweep concurrency=1,2,4..256`). This module
//! reads the axis and its points and finds the knee; every point itself is an ordinary single
//! estimate, so a sweep's row is exactly what `estimate` prints at that point.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::quantity::parse::{parse_count, parse_rate, parse_tokens};

/// The most points one sweep may have: a 256-point table is already more than anyone reads, and
/// every point is a full estimate.
pub const MAX_POINTS: usize = 256;

/// What a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// Requests in flight (closed loop, `--concurrency`).
    Concurrency,
    /// Poisson arrivals per second (`--rate`).
    Rate,
    /// Tokens each sequence holds (`--context`).
    Context,
    /// GPUs of the one `--gpu` type (`--gpus`).
    Gpus,
}

pub const AXES: [Axis; 4] = [Axis::Concurrency, Axis::Rate, Axis::Context, Axis::Gpus];

impl Axis {
    pub fn id(self) -> &'static str {
        match self {
            Axis::Concurrency => "concurrency",
            Axis::Rate => "rate",
            Axis::Context => "context",
            Axis::Gpus => "gpus",
        }
    }

    /// The unit of the axis's values, for table headers and plot axes.
    pub fn unit(self) -> &'static str {
        match self {
            Axis::Concurrency => "requests in flight",
            Axis::Rate => "requests/s",
            Axis::Context => "tokens",
            Axis::Gpus => "GPUs",
        }
    }

    /// The flag a point of this axis stands for.
    pub fn flag(self) -> &'static str {
        match self {
            Axis::Concurrency => "--concurrency",
            Axis::Rate => "--rate",
            Axis::Context => "--context",
            Axis::Gpus => "--gpus",
        }
    }

    /// Context adds work per request rather than requests or hardware: throughput falls along it,
    /// so "where throughput stops rising" marks nothing there.
    pub fn has_knee(self) -> bool {
        self != Axis::Context
    }

    fn whole(self) -> bool {
        self != Axis::Rate
    }

    fn value(self, s: &str) -> Result<f64, String> {
        match self {
            Axis::Concurrency | Axis::Gpus => parse_count(s).map(f64::from),
            Axis::Rate => parse_rate(s),
            Axis::Context => parse_tokens(s).map(f64::from),
        }
    }

    /// A point as it is written on the command line: `64`, `2.5/s`, `32k`.
    pub fn label(self, v: f64) -> String {
        match self {
            Axis::Rate => super::load::rate_label(v),
            Axis::Context if v >= 1024.0 && v % 1024.0 == 0.0 => format!("{}k", v / 1024.0),
            _ => format!("{v}"),
        }
    }
}

/// An axis and its points, ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub axis: Axis,
    pub values: Vec<f64>,
}

const FORMS: &str =
    "a list 1,2,8, a doubling range 1..256 (1,2,4..256 continues a list), or N steps 1/s..40/s:10";

/// `AXIS=VALUES`: a list, a doubling range `A..B` (A, 2A, 4A, … and B), `A..B:N` (N evenly spaced
/// points from A to B), or a list ending in either. The points must rise and number at most 256.
pub fn parse(spec: &str) -> Result<Sweep, String> {
    let axes = AXES.map(Axis::id).join(", ");
    let Some((name, list)) = spec.split_once('=') else {
        return Err(format!(
            "'{spec}' needs AXIS=VALUES, e.g. concurrency=1,2,4..256 (axes: {axes})"
        ));
    };
    let name = name.trim().to_ascii_lowercase();
    let Some(axis) = AXES.into_iter().find(|a| a.id() == name) else {
        return Err(format!("unknown sweep axis '{name}' (axes: {axes})"));
    };
    let mut values: Vec<f64> = vec![];
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("'{spec}' has an empty value; write {FORMS}"));
        }
        values.extend(expand(axis, item)?);
        if values.len() > MAX_POINTS {
            return Err(format!(
                "'{spec}' has more than {MAX_POINTS} points; sweep fewer (a doubling range or :N steps)"
            ));
        }
    }
    if let Some(w) = values.windows(2).find(|w| w[1] <= w[0]) {
        return Err(format!(
            "'{spec}' does not rise: {} comes after {} (points must ascend without repeats)",
            axis.label(w[1]),
            axis.label(w[0])
        ));
    }
    Ok(Sweep { axis, values })
}

fn expand(axis: Axis, item: &str) -> Result<Vec<f64>, String> {
    let Some((lo, rest)) = item.split_once("..") else {
        return Ok(vec![axis.value(item)?]);
    };
    let (hi, steps) = match rest.split_once(':') {
        Some((hi, n)) => {
            let n: usize = n.trim().parse().map_err(|_| {
                format!("'{item}': the step count after ':' must be a whole number ≥ 2")
            })?;
            if n < 2 {
                return Err(format!(
                    "'{item}': {n} step(s) cannot span a range; give at least 2"
                ));
            }
            if n > MAX_POINTS {
                return Err(format!(
                    "'{item}' asks for {n} points; at most {MAX_POINTS}"
                ));
            }
            (hi, Some(n))
        }
        None => (rest, None),
    };
    let (a, b) = (axis.value(lo)?, axis.value(hi)?);
    if b < a {
        return Err(format!(
            "range '{item}' runs backwards ({} > {}); write LOW..HIGH",
            axis.label(a),
            axis.label(b)
        ));
    }
    if b == a {
        return Err(format!(
            "range '{item}' is empty ({} to itself); write LOW..HIGH or a single value",
            axis.label(a)
        ));
    }
    let round = |v: f64| if axis.whole() { v.round() } else { v };
    Ok(match steps {
        Some(n) => (0..n)
            .map(|k| round(a + (b - a) * k as f64 / (n - 1) as f64))
            .collect(),
        None => {
            let mut v = vec![];
            let mut x = a;
            // x < b: at most log2(b/a) + 1 doublings, and every parser caps b.
            while x < b && v.len() <= MAX_POINTS {
                v.push(x);
                x *= 2.0;
            }
            v.push(b);
            v
        }
    })
}

/// One point as the knee reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub value: f64,
    /// Output tokens/s of all requests together; `None` where the point has no load estimate.
    pub throughput: Option<f64>,
    /// The point is served as asked (fits, and a rate is sustainable): only such a point is a knee.
    pub served: bool,
}

/// The rise of throughput from `a` to `b`, scaled to a doubling of the axis.
pub fn gain_per_doubling(a: &Reading, b: &Reading) -> Option<f64> {
    let (ta, tb) = (a.throughput?, b.throughput?);
    if ta <= 0.0 || b.value <= a.value {
        return None;
    }
    Some((tb / ta).powf(std::f64::consts::LN_2 / (b.value / a.value).ln()) - 1.0)
}

/// The knee: the first served point after which throughput rises by less than `min_gain` per
/// doubling of the axis, or that is followed by a point not served at all (a rate past capacity,
/// where throughput is pinned at the capacity from there on). `None` when throughput keeps
/// rising through the sweep.
pub fn knee(points: &[Reading], min_gain: f64) -> Option<usize> {
    points.windows(2).position(|w| {
        w[0].served
            && (!w[1].served || gain_per_doubling(&w[0], &w[1]).is_some_and(|g| g < min_gain))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepData {
    #[allow(dead_code)]
    schema_version: u32,
    knee: KneeData,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KneeData {
    min_gain_per_doubling: f64,
}

/// data/sweep.toml's knee threshold: a rise per doubling of the axis (0.10 = 10%).
pub fn knee_threshold() -> f64 {
    static DATA: OnceLock<SweepData> = OnceLock::new();
    // Embedded and parsed by the unit tests below, so a parse error is a build defect.
    DATA.get_or_init(|| {
        toml::from_str(include_str!("../../data/sweep.toml")).expect("data/sweep.toml parses")
    })
    .knee
    .min_gain_per_doubling
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(spec: &str) -> Vec<f64> {
        parse(spec).map(|s| s.values).unwrap_or_default()
    }

    #[test]
    fn lists_doubling_ranges_and_steps_expand() {
        assert_eq!(points("concurrency=1,2,8"), [1.0, 2.0, 8.0]);
        assert_eq!(
            points("concurrency=1,2,4..256"),
            [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]
        );
        // The end of a doubling range is a point even off the doublings.
        assert_eq!(points("gpus=1..6"), [1.0, 2.0, 4.0, 6.0]);
        assert_eq!(
            points("context=4k..128k"),
            [4096.0, 8192.0, 16384.0, 32768.0, 65536.0, 131072.0]
        );
        assert_eq!(points("rate=1/s..40/s:4"), [1.0, 14.0, 27.0, 40.0]);
        assert_eq!(points("rate=60/min..3/s:3"), [1.0, 2.0, 3.0]);
        assert_eq!(points("concurrency=1..10:4"), [1.0, 4.0, 7.0, 10.0]);
        assert_eq!(parse("Rate=2/s").map(|s| s.axis), Ok(Axis::Rate));
    }

    #[test]
    fn bad_sweeps_name_the_value_and_the_forms() {
        let err = |s: &str| parse(s).err().unwrap_or_default();
        assert_eq!(
            err("batch=1,2"),
            "unknown sweep axis 'batch' (axes: concurrency, rate, context, gpus)"
        );
        assert!(err("concurrency").contains("needs AXIS=VALUES"));
        assert!(err("concurrency=").contains("empty value"));
        assert!(err("concurrency=1,,2").contains("empty value"));
        assert_eq!(
            err("concurrency=256..1"),
            "range '256..1' runs backwards (256 > 1); write LOW..HIGH"
        );
        assert!(err("concurrency=8..8").contains("is empty"));
        assert_eq!(
            err("concurrency=1,4,2"),
            "'concurrency=1,4,2' does not rise: 2 comes after 4 (points must ascend without repeats)"
        );
        // rounding to whole requests repeats a point
        assert!(err("concurrency=1..3:5").contains("does not rise"));
        assert!(err("concurrency=1..300:257").contains("at most 256"));
        let many = (1..=257)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(err(&format!("concurrency={many}")).contains("more than 256 points"));
        assert!(err("rate=1..4").contains("needs a period"));
        assert!(err("concurrency=1..8:1").contains("at least 2"));
        assert_eq!(
            points(&format!(
                "gpus={}",
                (1..=256)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ))
            .len(),
            256
        );
    }

    fn r(value: f64, throughput: f64) -> Reading {
        Reading {
            value,
            throughput: Some(throughput),
            served: true,
        }
    }

    #[test]
    fn the_knee_is_where_a_doubling_adds_less_than_the_threshold() {
        // Doubling concurrency: +90%, +60%, +20%, +8% (below 10%), +2%.
        let p = [
            r(1.0, 100.0),
            r(2.0, 190.0),
            r(4.0, 304.0),
            r(8.0, 364.8),
            r(16.0, 393.984),
            r(32.0, 401.86368),
        ];
        assert_eq!(knee(&p, 0.10), Some(3));
        // A step of four doublings is scaled: 1.5× over 1 → 16 is 10.7% per doubling, not a knee;
        // 1.4× is 8.8%.
        assert_eq!(knee(&[r(1.0, 100.0), r(16.0, 150.0)], 0.10), None);
        assert_eq!(knee(&[r(1.0, 100.0), r(16.0, 140.0)], 0.10), Some(0));
        // Linear rate steps 10 → 12/s with throughput following the rate exactly: 100% per doubling.
        let g = gain_per_doubling(&r(10.0, 10.0), &r(12.0, 12.0)).unwrap_or_default();
        assert!((g - 1.0).abs() < 1e-12, "{g}");
        // An unserved point (an unsustainable rate) is never the knee.
        let unserved = Reading {
            served: false,
            ..r(4.0, 300.0)
        };
        assert_eq!(
            knee(&[r(2.0, 290.0), unserved, r(8.0, 300.0)], 0.10),
            Some(0)
        );
        assert_eq!(knee(&[unserved, r(8.0, 300.0)], 0.10), None);
        // A rate sweep: throughput follows the rate to 12/s; 14/s is past capacity (12.5/s).
        let past = Reading {
            served: false,
            ..r(14.0, 12.5)
        };
        assert_eq!(knee(&[r(10.0, 10.0), r(12.0, 12.0), past], 0.10), Some(1));
    }

    #[test]
    fn the_knee_threshold_is_read_from_data() {
        assert_eq!(knee_threshold(), 0.10);
    }
}
