//! Benchmarks of `finetune`: one memory plan, the `--max-seq` bisection, and the whole `--cloud`
//! command (every priced GPU type × 1/2/4/8 × sharding, sized, ranked and rendered).
//! Run with `cargo bench --bench finetune`.

use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use r1pick::app;
use r1pick::catalog::Catalog;
use r1pick::cli::Cli;
use r1pick::training::{
    Checkpointing, Method, Optimizer, Sharding, Targets, TrainSetup, TrainingConstants, max_seq,
    memory,
};

fn benches(cr: &mut Criterion) {
    let catalog = Catalog::embedded().unwrap();
    let c = TrainingConstants::embedded().unwrap();
    let model = catalog.model("8b").unwrap();
    let setup = TrainSetup {
        method: Method::Qlora,
        rank: 32,
        targets: Targets::All,
        optimizer: Optimizer::Adamw,
        seq: 2048,
        micro_batch: 1,
        checkpointing: Checkpointing::Offload,
        sharding: Sharding::None,
        gpus: 1,
        offload_optimizer: false,
        optimizer_in_backward: false,
        framework: "unsloth".into(),
    };
    cr.bench_function("finetune memory plan (8B QLoRA)", |b| {
        b.iter(|| black_box(memory(&c, model, &setup, 80 << 30, 1 << 40).unwrap()))
    });
    cr.bench_function("finetune --max-seq (8B QLoRA, 80 GiB)", |b| {
        b.iter(|| black_box(max_seq(&c, model, &setup, 80 << 30, 1 << 40).unwrap()))
    });
    let cli = Cli::parse_from([
        "r1pick", "finetune", "32b", "--cloud", "--tokens", "100M", "--json",
    ]);
    cr.bench_function("finetune 32b --cloud (whole command)", |b| {
        b.iter(|| black_box(app::run(&cli).unwrap()))
    });
}

criterion_group!(finetune, benches);
criterion_main!(finetune);
