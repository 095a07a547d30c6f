//! A 16-point sweep under load, in-process: the whole `estimate --sweep` command (catalog,
//! machine, sixteen estimates under a Poisson rate, the knee, the JSON document), as `app::run`
//! does it for the binary. The process time adds start-up and the catalog parse; the README gives
//! both. Run with `cargo bench --bench sweep`.

use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use r1pick::app;
use r1pick::cli::Cli;

/// The 70B FP8 with vLLM on 8×H100 at 1K/1K, 1 to 16 requests per second.
const SWEEP: &[&str] = &[
    "r1pick",
    "estimate",
    "70b",
    "--quant",
    "fp8",
    "--gpu",
    "h100-sxm:8",
    "--prompt",
    "1k",
    "--output",
    "1k",
    "--sweep",
    "rate=1/s..16/s:16",
    "--json",
];

fn sweep(c: &mut Criterion) {
    let cli = Cli::parse_from(SWEEP);
    let doc: serde_json::Value = app::run(&cli)
        .ok()
        .and_then(|o| serde_json::from_str(&o.stdout).ok())
        .unwrap_or_default();
    assert_eq!(
        doc["points"].as_array().map(Vec::len),
        Some(16),
        "a 16-point sweep"
    );
    c.bench_function(
        "estimate --sweep rate=1/s..16/s:16 (70b fp8, 8×H100)",
        |b| b.iter(|| app::run(black_box(&cli))),
    );
}

criterion_group!(benches, sweep);
criterion_main!(benches);
