//! The spec parsers: sizes, durations, token counts, money, budgets and GPU specs.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use r1pick::catalog::Catalog;
use r1pick::cli::units;
use r1pick::decide::constraints;
use r1pick::hardware::simulate::{SimulationRequest, simulate};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

fuzz_target!(|s: &str| {
    if let Ok(b) = units::parse_size(s) {
        assert!(b > 0 && b <= 1 << 60);
    }
    if let Ok(ms) = units::parse_duration_ms(s) {
        assert!(ms > 0.0 && ms <= 86_400_000.0);
    }
    if let Ok(t) = units::parse_tokens(s) {
        assert!(t >= 1 && u64::from(t) <= units::MAX_TOKENS);
    }
    let _ = units::parse_count(s);
    for parse in [
        units::parse_usd,
        units::parse_bandwidth,
        units::parse_score,
        units::parse_speed,
    ] {
        if let Ok(v) = parse(s) {
            assert!(v.is_finite() && v >= 0.0);
        }
    }
    let _ = units::parse_bool(s);
    if let Ok(b) = constraints::budget(catalog(), s) {
        assert!(b.usd_per_hour > 0.0 && b.usd_per_hour.is_finite());
    }
    let req = SimulationRequest {
        gpu_specs: vec![s.to_string()],
        ..SimulationRequest::default()
    };
    if let Err(e) = simulate(catalog(), &req) {
        assert!(!e.to_string().contains('\n'));
    }
});
