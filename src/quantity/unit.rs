//! The units a required/actual pair is compared in, and the one rule for printing such a pair:
//! each number at its own scale, unless two different numbers would then read alike; then both at
//! one scale with as many decimals as it takes (a failing check never reads "1.0 s > 1.0 s").

use schemars::JsonSchema;
use serde::Serialize;

use super::{GIB, MIB, QUALITY_DECIMALS, SPEED_DECIMALS};

/// The unit of `required`, `actual` and `margin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Unit {
    #[serde(rename = "bytes")]
    Bytes,
    #[serde(rename = "ms")]
    Ms,
    #[serde(rename = "tokens/s")]
    TokensPerS,
    #[serde(rename = "usd/h")]
    UsdPerHour,
    /// Benchmark points (percent, or a Codeforces rating).
    #[serde(rename = "score")]
    Score,
    #[serde(rename = "requests/s")]
    RequestsPerS,
}

/// More decimals than this cannot separate two numbers a check compared (they are rounded to
/// `SPEED_DECIMALS` of their unit first, and bytes are whole).
const MAX_EXTRA: usize = 10;

impl Unit {
    /// Decimals a value of this unit is compared and reported at: a quality at the one decimal
    /// paper scores are quoted to (as `recommend` reports it), the others at the report's
    /// `SPEED_DECIMALS`, so a check's `actual` equals the number in the deployment object.
    pub fn decimals(self) -> i32 {
        match self {
            Unit::Score => QUALITY_DECIMALS,
            _ => SPEED_DECIMALS,
        }
    }

    /// A value for people: "420 ms", "22.4 GiB", "33.0 tok/s", "$3.14/h", "59.1".
    pub fn show(self, v: f64) -> String {
        self.at(v, v.abs(), 0).0
    }

    /// A signed difference: "+220 ms", "-5.0 tok/s"; a difference that is not zero never prints
    /// as zero ("-0.02 tok/s", not "-0.0 tok/s").
    pub fn show_signed(self, v: f64) -> String {
        let sign = if v < 0.0 { '-' } else { '+' };
        let mut extra = 0;
        loop {
            let (text, value) = self.at(v.abs(), v.abs(), extra);
            if value != 0.0 || v == 0.0 || extra >= MAX_EXTRA {
                return format!("{sign}{text}");
            }
            extra += 1;
        }
    }

    /// Two compared values, each at its own scale, unless different values would then read as
    /// equal ("1.0 s" against "1.0 s", or "1000 ms" against "1.0 s"): then both at the scale of
    /// the larger, with the fewest extra decimals that tell them apart. (1046 ms, 1000 ms) →
    /// ("1.05 s", "1.00 s"); (19 ms, 1000 ms) → ("19 ms", "1.0 s").
    pub fn pair(self, a: f64, b: f64) -> (String, String) {
        let ((x, xv), (y, yv)) = (self.at(a, a.abs(), 0), self.at(b, b.abs(), 0));
        if xv != yv || a == b {
            return (x, y);
        }
        let scale = a.abs().max(b.abs());
        let mut extra = 1;
        loop {
            let ((x, xv), (y, yv)) = (self.at(a, scale, extra), self.at(b, scale, extra));
            if xv != yv || extra >= MAX_EXTRA {
                return (x, y);
            }
            extra += 1;
        }
    }

    /// `v` in the unit `scale` picks (ms or s, MiB or GiB), `extra` decimals beyond the usual,
    /// and the value the text reads as (in this unit's base: ms, bytes, …).
    fn at(self, v: f64, scale: f64, extra: usize) -> (String, f64) {
        let (div, decimals, unit) = match self {
            Unit::Ms if scale < 10.0 => (1.0, 2, " ms"),
            Unit::Ms if scale < 1000.0 => (1.0, 0, " ms"),
            Unit::Ms if scale < 120_000.0 => (1000.0, 1, " s"),
            Unit::Ms => (60_000.0, 1, " min"),
            Unit::Bytes if scale >= GIB => (GIB, 1, " GiB"),
            Unit::Bytes => (MIB, 0, " MiB"),
            Unit::TokensPerS => (1.0, 1, " tok/s"),
            Unit::UsdPerHour => (1.0, 2, "/h"),
            Unit::Score => (1.0, 1, ""),
            Unit::RequestsPerS => (1.0, 2, "/s"),
        };
        let v = match self {
            Unit::Bytes => v.max(0.0).round(),
            _ => v,
        };
        let d = decimals + extra;
        // the one rule for a quality: rounded half away from zero, then printed, so 50.45 reads
        // alike wherever it appears (formatting alone rounds the binary value, half to even)
        let number = match self {
            Unit::Score if extra == 0 => score(v),
            _ => format!("{:.*}", d, v / div),
        };
        let reads = number.parse::<f64>().unwrap_or(f64::NAN) * div;
        let text = match self {
            Unit::UsdPerHour => format!("${number}{unit}"),
            _ => format!("{number}{unit}"),
        };
        (text, reads)
    }
}

/// A quality score for people: one decimal, rounded half away from zero, the same in `recommend`,
/// `check` and `--explain`.
pub fn score(q: f64) -> String {
    format!("{:.1}", super::round(q, QUALITY_DECIMALS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(u: Unit, a: f64, b: f64) -> (String, String) {
        u.pair(a, b)
    }

    fn texts(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn a_failing_latency_prints_the_digits_that_differ() {
        // issue 15 item 6: "latency: 1.0 s > 1.0 s (+46 ms)"
        assert_eq!(pair(Unit::Ms, 1046.0, 1000.0), texts("1.05 s", "1.00 s"));
        assert_eq!(
            pair(Unit::Ms, 1000.4, 1000.0),
            texts("1.0004 s", "1.0000 s")
        );
        assert_eq!(pair(Unit::Ms, 920.68, 920.6), texts("920.7 ms", "920.6 ms"));
        // "1000 ms" and "1.0 s" read alike: one scale for both
        assert_eq!(pair(Unit::Ms, 999.6, 1000.4), texts("0.9996 s", "1.0004 s"));
    }

    #[test]
    fn values_that_read_differently_keep_their_own_scale() {
        assert_eq!(pair(Unit::Ms, 230.0, 200.0), texts("230 ms", "200 ms"));
        assert_eq!(pair(Unit::Ms, 19.0, 1000.0), texts("19 ms", "1.0 s"));
        assert_eq!(pair(Unit::Ms, 999.0, 1000.0), texts("999 ms", "1.0 s"));
        assert_eq!(pair(Unit::Ms, 1000.0, 1000.0), texts("1.0 s", "1.0 s"));
        assert_eq!(pair(Unit::Score, 45.0, 45.0), texts("45.0", "45.0"));
        let gib = (1u64 << 30) as f64;
        assert_eq!(
            pair(Unit::Bytes, 512.0 * MIB, 24.0 * gib),
            texts("512 MiB", "24.0 GiB")
        );
    }

    #[test]
    fn other_units_widen_alike() {
        assert_eq!(
            pair(Unit::TokensPerS, 29.98, 30.0),
            texts("29.98 tok/s", "30.00 tok/s")
        );
        assert_eq!(
            pair(Unit::UsdPerHour, 3.004, 3.0),
            texts("$3.004/h", "$3.000/h")
        );
        assert_eq!(
            pair(Unit::RequestsPerS, 5.001, 5.0),
            texts("5.001/s", "5.000/s")
        );
        let gib = (1u64 << 30) as f64;
        assert_eq!(
            pair(Unit::Bytes, 24.0 * gib - 4.0 * MIB, 24.0 * gib),
            texts("23.996 GiB", "24.000 GiB")
        );
    }

    #[test]
    fn a_difference_that_is_not_zero_never_prints_as_zero() {
        assert_eq!(Unit::TokensPerS.show_signed(-0.02), "-0.02 tok/s");
        assert_eq!(Unit::Ms.show_signed(46.0), "+46 ms");
        assert_eq!(Unit::Ms.show_signed(0.3), "+0.30 ms");
        assert_eq!(Unit::Score.show_signed(0.0), "+0.0");
    }

    #[test]
    fn a_quality_prints_one_way() {
        // 50.45 is stored just above 50.45 and 0.15 just below: both round half away from zero
        assert_eq!(score(50.45), "50.5");
        assert_eq!(score(0.15), "0.2");
        assert_eq!(Unit::Score.show(50.45), "50.5");
        assert_eq!(score(50.449), "50.4");
        assert_eq!(pair(Unit::Score, 44.96, 45.0), texts("44.96", "45.00"));
    }
}
