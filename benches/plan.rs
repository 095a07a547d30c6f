//! `r1pick plan`: the fleet planner over every priced GPU type, in-process and as a whole process
//! (issue 12's target: ≤ 100 ms a process on a 2-core machine); and `recommend --rate` over the
//! local 8×H100 search (issue 11's: ≤ 50 ms a process).

use std::hint::black_box;

use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use r1pick::cli::Cli;

const CASES: [&str; 3] = [
    "plan --cloud --task chat --rate 20/s",
    "plan --cloud --task code --rate 20/s --latency 2s",
    "recommend --task chat --rate 4/s --gpu h100-sxm:8",
];

fn benches(cr: &mut Criterion) {
    for case in CASES {
        let words: Vec<&str> = std::iter::once("r1pick")
            .chain(case.split_whitespace())
            .collect();
        let cli = Cli::parse_from(&words);
        cr.bench_function(&format!("{case} (in-process)"), |b| {
            b.iter(|| black_box(r1pick::app::run(&cli).map(|o| o.exit)))
        });
        let exe = env!("CARGO_BIN_EXE_r1pick");
        cr.bench_function(&format!("r1pick {case} (process)"), |b| {
            b.iter(|| {
                let out = std::process::Command::new(exe)
                    .args(&words[1..])
                    .env("R1PICK_NVML_LIB", "/nonexistent")
                    .output()
                    .expect("the binary runs");
                black_box(out.status)
            })
        });
    }
}

criterion_group! {
    name = plan;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(plan);
