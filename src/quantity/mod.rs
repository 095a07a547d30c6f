//! Quantities: how r1pick reads and writes sizes, durations, token counts, rates and money, and
//! how it rounds them. A leaf: every layer may use it, it uses no other module of the crate.
//!
//! Parsing lives in [`parse`] (the units the README documents); display and rounding here.

pub mod parse;
mod unit;

pub use parse::*;
pub use unit::{Unit, score};

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = (1u64 << 30) as f64;

/// Decimals of every time and rate in the JSON (ms, tokens/s): byte-identical across platforms.
pub const SPEED_DECIMALS: i32 = 2;
/// Decimals of a quality score in the JSON (paper scores are quoted to one decimal).
pub const QUALITY_DECIMALS: i32 = 1;
/// Decimals of every amount of money in the JSON (USD per hour, per million tokens).
pub const USD_DECIMALS: i32 = 4;

/// `x` to `decimals` places, half away from zero.
pub fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Bytes for people, in binary units: "22.4 GiB", "512 MiB".
pub fn bytes(b: u64) -> String {
    Unit::Bytes.show(b as f64)
}

/// A parameter count for people: "1.78 B", "671.0 B".
pub fn params(n: u64) -> String {
    let b = n as f64 / 1e9;
    if b >= 100.0 {
        format!("{b:.1} B")
    } else {
        format!("{b:.2} B")
    }
}

/// Milliseconds for people: "4.20 ms", "42 ms", "1.8 s", "3.2 min".
pub fn duration_ms(ms: f64) -> String {
    Unit::Ms.show(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(bytes(24_564 * (1 << 20)), "24.0 GiB");
        assert_eq!(bytes(512 << 20), "512 MiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
    }

    #[test]
    fn durations_print_at_a_readable_scale() {
        assert_eq!(duration_ms(4.2), "4.20 ms");
        assert_eq!(duration_ms(420.0), "420 ms");
        assert_eq!(duration_ms(1800.0), "1.8 s");
        assert_eq!(duration_ms(192_000.0), "3.2 min");
    }

    #[test]
    fn parameter_counts_keep_three_figures() {
        assert_eq!(params(1_777_088_000), "1.78 B");
        assert_eq!(params(671_026_419_200), "671.0 B");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round(2.5, 0), 3.0);
        assert_eq!(round(-0.125, 2), -0.13);
        assert_eq!(round(1.23456, 4), 1.2346);
    }
}
