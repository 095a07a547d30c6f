//! Benchmarks of the pure core: sizing and estimating the whole catalog, and the recommend search.
//! Run with `cargo bench`; CI only builds them (`cargo bench --no-run`).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use r1pick::catalog::Catalog;
use r1pick::decide::constraints::Constraints;
use r1pick::decide::load::Traffic;
use r1pick::decide::search::{Machines, Pins, Prefer, Request, WorkloadSpec, search};
use r1pick::hardware::Hardware;
use r1pick::hardware::simulate::{SimulationRequest, simulate};
use r1pick::perf::estimate;
use r1pick::sizing::{Deployment, Workload, plan};

fn machine(c: &Catalog, gpu: &str) -> Hardware {
    simulate(
        c,
        &SimulationRequest {
            gpu_specs: vec![gpu.into()],
            ..Default::default()
        },
    )
    .unwrap()
}

/// Every variant × quant × engine × GPU count (1, 2, 4, 8 H100s): sizing only, or sizing + speed.
fn every_deployment(c: &Catalog, machines: &[Hardware], with_speed: bool) -> usize {
    let mut n = 0;
    for model in &c.models {
        for engine in &c.engines {
            for quant in c.quants_for(model, engine) {
                for hw in machines {
                    let workload = Workload {
                        context: 8192,
                        prompt: 2048,
                        output: 4096,
                        concurrency: 4,
                    };
                    let d = Deployment::new(model, quant, engine, hw.gpu_count(), workload);
                    if let Ok(mem) = plan(&d, hw) {
                        if with_speed {
                            black_box(estimate(&d, hw, &mem));
                        }
                        black_box(&mem);
                        n += 1;
                    }
                }
            }
        }
    }
    n
}

fn benches(cr: &mut Criterion) {
    let c = Catalog::embedded().unwrap();
    let machines: Vec<Hardware> = ["h100-sxm:1", "h100-sxm:2", "h100-sxm:4", "h100-sxm:8"]
        .iter()
        .map(|g| machine(&c, g))
        .collect();
    println!(
        "deployments per catalog pass: {}",
        every_deployment(&c, &machines, false)
    );
    cr.bench_function("size every variant × quant × engine × GPU count", |b| {
        b.iter(|| every_deployment(&c, &machines, false))
    });
    cr.bench_function(
        "estimate every variant × quant × engine × GPU count",
        |b| b.iter(|| every_deployment(&c, &machines, true)),
    );
    let task = c.task("code").unwrap();
    let request = |machines: Machines| Request {
        catalog: &c,
        task,
        constraints: Constraints {
            latency_ms: Some(200.0),
            min_tokens_per_s: Some(20.0),
            ..Constraints::default()
        },
        prefer: Prefer::Quality,
        pins: Pins::default(),
        traffic: None,
        workload: WorkloadSpec {
            concurrency: 1,
            ..WorkloadSpec::default()
        },
        kv_dtype: None,
        machines,
        price: None,
        kwh_price: None,
    };
    let local = request(Machines::Local(machine(&c, "h100-sxm:8")));
    cr.bench_function("recommend search, 8 × H100", |b| {
        b.iter(|| black_box(search(&local).evaluated))
    });
    // Under a Poisson load every candidate also runs the serving model (goal: ≤ 50 ms a process).
    let rated = Request {
        traffic: Traffic::from_flags(Some(5.0), None, None, None, None).unwrap(),
        ..request(Machines::Local(machine(&c, "h100-sxm:8")))
    };
    println!(
        "candidates under --rate 5/s: {} sized",
        search(&rated).evaluated
    );
    cr.bench_function("recommend search --rate 5/s, 8 × H100", |b| {
        b.iter(|| black_box(search(&rated).evaluated))
    });
    let exe = env!("CARGO_BIN_EXE_r1pick");
    let args: Vec<&str> = "recommend --task code --latency 200ms --gpu h100-sxm:8 --rate 1/s"
        .split_whitespace()
        .collect();
    cr.bench_function(
        "r1pick recommend --rate 1/s --gpu h100-sxm:8 (process)",
        |b| {
            b.iter(|| {
                let out = std::process::Command::new(exe)
                    .args(&args)
                    .env("R1PICK_NVML_LIB", "/nonexistent")
                    .output()
                    .unwrap();
                black_box(out.status)
            })
        },
    );
    let cloud = request(Machines::Cloud);
    cr.bench_function("recommend search, --cloud", |b| {
        b.iter(|| black_box(search(&cloud).evaluated))
    });
}

criterion_group! {
    name = core;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(core);
