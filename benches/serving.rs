//! One estimate under load, in-process: what `recommend` pays per candidate (goal ≤ 1 ms).
//! Run with `cargo bench --bench serving`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use r1pick::catalog::Catalog;
use r1pick::hardware::simulate::{SimulationRequest, simulate};
use r1pick::serving::{Lengths, Load, LoadRequest, SchedulerOverrides, Span, estimate};
use r1pick::sizing::{Deployment, KvDtype, Workload, plan};

fn bench(c: &mut Criterion) {
    let cat = Catalog::embedded().unwrap();
    let cases = [
        (
            "deepseek-r1-distill-llama-70b",
            "fp8",
            "trtllm",
            "h100-sxm:2",
        ),
        ("deepseek-r1", "fp8", "sglang", "h200:8"),
        ("deepseek-r1-distill-qwen-14b", "bf16", "vllm", "h100-sxm:1"),
    ];
    for (m, q, e, gpu) in cases {
        let hw = simulate(
            &cat,
            &SimulationRequest {
                gpu_specs: vec![gpu.into()],
                ..Default::default()
            },
        )
        .unwrap();
        let d = Deployment {
            model: cat.model(m).unwrap(),
            quant: cat.quant(q).unwrap(),
            engine: cat.engine(e).unwrap(),
            gpus: hw.gpu_count(),
            tensor_parallel: None,
            kv_dtype: KvDtype::Bf16,
            mla_kv: None,
            mtp: 0,
            parallel: Default::default(),
            workload: Workload {
                context: 16_384,
                prompt: 4096,
                output: 1024,
                concurrency: 1,
            },
        };
        let mem = plan(&d, &hw).unwrap();
        let spread = Lengths {
            prompt: Span {
                min: 512,
                max: 8192,
            },
            output: Span {
                min: 128,
                max: 2048,
            },
        };
        let fixed = Lengths {
            prompt: Span::fixed(3200),
            output: Span::fixed(800),
        };
        for (name, load, lengths) in [
            ("rate", Load::Rate { per_second: 2.0 }, spread),
            ("concurrency", Load::Concurrency { requests: 64 }, spread),
            ("waves", Load::Concurrency { requests: 64 }, fixed),
        ] {
            let req = LoadRequest {
                load,
                lengths,
                scheduler: SchedulerOverrides::default(),
            };
            c.bench_function(&format!("under load {name}: {m} {e} {gpu}"), |b| {
                b.iter(|| black_box(estimate(&d, &hw, &mem, &req)))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
