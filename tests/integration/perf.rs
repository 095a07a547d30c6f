//! Facts any speed model must respect (issue 4, "sanity facts").

use r1pick::catalog::ParamBreakdown;
use r1pick::perf::{Performance, estimate};
use r1pick::sizing::weights::WeightBytes;
use r1pick::sizing::{Deployment, KvDtype, plan};

use crate::util::{assert_refused, assert_within, catalog, deployed, machine, r1pick, workload};

struct Setup<'a> {
    model: &'a str,
    quant: &'a str,
    engine: &'a str,
    gpu: &'a str,
    context: u32,
    prompt: u32,
    concurrency: u32,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Setup {
            model: "7b",
            quant: "bf16",
            engine: "vllm",
            gpu: "h100-sxm",
            context: 4096,
            prompt: 1024,
            concurrency: 1,
        }
    }
}

/// The deployment of `s` on `gpus` GPUs.
fn deployment<'c>(c: &'c r1pick::catalog::Catalog, s: &Setup, gpus: u32) -> Deployment<'c> {
    deployed(
        c.model(s.model).unwrap(),
        c.quant(s.quant).unwrap(),
        c.engine(s.engine).unwrap(),
        gpus,
        KvDtype::Bf16,
        workload(s.context, s.prompt, 1024, s.concurrency),
    )
}

fn perf(s: Setup) -> Performance {
    let c = catalog();
    let hw = machine(s.gpu);
    let d = deployment(&c, &s, hw.gpu_count());
    let mem = plan(&d, &hw).unwrap();
    assert!(mem.fits, "{} {} on {} should fit", s.model, s.quant, s.gpu);
    estimate(&d, &hw, &mem)
}

#[test]
fn fewer_bytes_decode_faster_at_batch_1() {
    let q4 = perf(Setup {
        quant: "q4_k_m",
        engine: "llama.cpp",
        gpu: "rtx-4090",
        ..Setup::default()
    });
    let q8 = perf(Setup {
        quant: "q8_0",
        engine: "llama.cpp",
        gpu: "rtx-4090",
        ..Setup::default()
    });
    let bf16 = perf(Setup {
        quant: "bf16",
        engine: "llama.cpp",
        gpu: "rtx-4090",
        ..Setup::default()
    });
    assert!(
        q4.tpot_ms < q8.tpot_ms && q8.tpot_ms < bf16.tpot_ms,
        "{} {} {}",
        q4.tpot_ms,
        q8.tpot_ms,
        bf16.tpot_ms
    );
    // roughly proportional to bytes: bf16 reads 3.3x the bytes of q4_k_m
    assert!(bf16.tpot_ms / q4.tpot_ms > 2.0);
}

#[test]
fn more_sequences_raise_aggregate_and_lower_per_sequence_speed() {
    let one = perf(Setup::default());
    let many = perf(Setup {
        concurrency: 32,
        ..Setup::default()
    });
    assert!(many.aggregate_tokens_per_s > 10.0 * one.aggregate_tokens_per_s);
    assert!(many.decode_tokens_per_s < one.decode_tokens_per_s);
}

#[test]
fn layer_split_is_not_faster_but_nvlink_tensor_parallel_is() {
    let split1 = perf(Setup {
        model: "32b",
        quant: "q4_k_m",
        engine: "llama.cpp",
        gpu: "rtx-3090",
        ..Setup::default()
    });
    let split2 = perf(Setup {
        model: "32b",
        quant: "q4_k_m",
        engine: "llama.cpp",
        gpu: "rtx-3090:2",
        ..Setup::default()
    });
    assert!(
        split2.tpot_ms >= split1.tpot_ms,
        "layer split: {} vs {}",
        split2.tpot_ms,
        split1.tpot_ms
    );
    let tp1 = perf(Setup {
        model: "32b",
        quant: "fp8",
        gpu: "h100-sxm",
        ..Setup::default()
    });
    let tp2 = perf(Setup {
        model: "32b",
        quant: "fp8",
        gpu: "h100-sxm:2",
        ..Setup::default()
    });
    assert!(
        tp2.tpot_ms < 0.75 * tp1.tpot_ms,
        "tensor parallel: {} vs {}",
        tp2.tpot_ms,
        tp1.tpot_ms
    );
}

#[test]
fn the_671b_reads_its_active_parameters_and_more_with_batch() {
    let c = catalog();
    let r1 = c.model("671b").unwrap();
    let w = WeightBytes::of(r1, c.quant("fp8").unwrap());
    let p = ParamBreakdown::of(r1);
    // at batch 1 FP8 weights read ≈ active parameters × ~1 byte (+ BF16 head), not 671 GB
    let one = w.read_per_step(1.0);
    let active_non_embedding = (p.active() - p.embedding) as f64;
    assert!(
        one > active_non_embedding * 0.98 && one < active_non_embedding * 1.1,
        "{one} vs {active_non_embedding}"
    );
    // 8 of 256 experts per token: 57 distinct at 8 tokens, 163 at 32 (formulas.md §1(e))
    let eight = w.read_per_step(8.0);
    let thirty_two = w.read_per_step(32.0);
    assert!(eight > 3.0 * one && thirty_two > 2.0 * eight && thirty_two < w.total());
}

#[test]
fn a_2048_token_prompt_on_a_7b_on_an_h100_takes_tens_of_milliseconds() {
    let p = perf(Setup {
        prompt: 2048,
        ..Setup::default()
    });
    assert!(
        p.ttft_ms > 10.0 && p.ttft_ms < 100.0,
        "TTFT {} ms",
        p.ttft_ms
    );
}

#[test]
fn time_to_answer_covers_the_reasoning_tokens() {
    let p = perf(Setup::default());
    // 1024 output tokens at ~6.5 ms each plus TTFT
    assert!(
        p.time_to_answer_ms > 1000.0 * p.tpot_ms * 0.9
            && p.time_to_answer_ms < 1024.0 * p.tpot_ms + p.ttft_ms + 1.0
    );
}

#[test]
fn cost_per_million_tokens_follows_price_and_throughput() {
    let out = r1pick()
        .args([
            "estimate",
            "7b",
            "--gpu",
            "h100-sxm",
            "--concurrency",
            "16",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let usd_h = v["cost"]["usd_per_hour"].as_f64().unwrap();
    let tps = v["performance"]["aggregate_tokens_per_s"].as_f64().unwrap();
    let per_m = v["cost"]["usd_per_million_output_tokens"].as_f64().unwrap();
    assert_eq!(usd_h, 2.99); // DigitalOcean 8x H100 list price per GPU (hardware.md §8)
    assert!((per_m - usd_h / (tps * 3600.0) * 1e6).abs() < 0.01);
}

#[test]
fn energy_cost_for_local_hardware() {
    let out = r1pick()
        .args([
            "estimate",
            "7b",
            "--quant",
            "q4_k_m",
            "--gpu",
            "rtx-4090",
            "--kwh-price",
            "0.30",
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cost"]["basis"], "energy");
    // 450 W board power × $0.30/kWh
    assert!((v["cost"]["usd_per_hour"].as_f64().unwrap() - 0.135).abs() < 1e-9);
}

#[test]
fn impossible_workloads_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "estimate",
                "7b",
                "--gpu",
                "h100-sxm",
                "--context",
                "4k",
                "--prompt",
                "8k",
            ],
            "longer than --context",
        ),
        (
            &["estimate", "7b", "--gpu", "m2-ultra", "--engine", "vllm"],
            "does not run on",
        ),
        (
            &[
                "estimate", "7b", "--gpu", "h100-sxm", "--engine", "vllm", "--quant", "q4_k_m",
            ],
            "vllm cannot load q4_k_m",
        ),
        (
            &["estimate", "7b", "--gpu", "h100-sxm", "--concurrency", "0"],
            "'0' must be at least 1",
        ),
        (
            &["estimate", "7b", "--gpu", "h100-sxm", "--quant", "ud-iq1_s"],
            "no published ud-iq1_s",
        ),
        (
            &["estimate", "7b", "--gpu", "h100-sxm", "--context", "1m"],
            "maximum of 131072",
        ),
    ];
    for (args, needle) in cases {
        assert_refused(args, needle);
    }
}

/// Tensor-parallel ranks step together: a fast GPU paired with a slow one runs at the slow one's pace.
#[test]
fn tensor_parallel_over_mixed_gpus_runs_at_the_slowest() {
    let tpot = |gpus: &[&str]| {
        let mut cmd = r1pick();
        cmd.args([
            "estimate", "14b", "--quant", "bf16", "--engine", "vllm", "--json",
        ]);
        for g in gpus {
            cmd.args(["--gpu", g]);
        }
        let out = cmd.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["performance"]["tpot_ms"].as_f64().unwrap()
    };
    let fast = tpot(&["rtx-4090:2"]);
    let mixed = tpot(&["rtx-4090", "rtx-3060"]);
    assert!(mixed > 2.0 * fast, "{mixed} vs {fast}");
}

#[test]
fn int8_w8a8_prefills_at_the_gpus_int8_rate_where_the_engine_has_int8_kernels() {
    // Prefill runs at 55% of the rate (data/engines.toml prefill_mfu.hbm for vLLM and SGLang).
    // A100: 624 INT8 TOPS against 312 BF16 TFLOPS (NVIDIA A100 datasheet, dense).
    let at = |quant, engine, gpu| {
        perf(Setup {
            model: "8b",
            quant,
            engine,
            gpu,
            ..Setup::default()
        })
        .breakdown
        .prefill_tflops
    };
    // (quant, engine, GPU, dense tensor rate of the datasheet)
    let cases = [
        ("int8", "vllm", "a100-sxm-80gb", 624.0),
        ("int8", "sglang", "a100-sxm-80gb", 624.0),
        ("bf16", "vllm", "a100-sxm-80gb", 312.0),
        // H100 SXM: INT8 1979 TOPS = its FP8 rate.
        ("int8", "vllm", "h100-sxm", 1979.0),
        // GeForce INT8 accumulates in INT32 at full rate: the RTX 4090's 660.6 TOPS, 2× its FP8
        // (FP32-accumulate) rate.
        ("int8", "vllm", "rtx-4090", 660.6),
    ];
    for (quant, engine, gpu, rate) in cases {
        let what = format!("{quant} on {engine}, {gpu}");
        assert_within(&what, at(quant, engine, gpu), 0.55 * rate, 1e-3);
    }
}

#[test]
fn a_placement_on_gpus_the_machine_lacks_is_computed_on_the_host_not_a_panic() {
    // The speed model is public: a caller may pair a GPU plan with a machine without GPUs.
    let c = catalog();
    let hw = machine("h100-sxm:2");
    let d = deployment(&c, &Setup::default(), 2);
    let mem = plan(&d, &hw).unwrap();
    let on_gpus = estimate(&d, &hw, &mem);
    let mut bare = hw.clone();
    bare.gpus.clear();
    let on_host = estimate(&d, &bare, &mem);
    assert!(on_host.tpot_ms.is_finite() && on_host.ttft_ms.is_finite());
    // host memory bandwidth is a small fraction of two H100s' 6.7 TB/s
    assert!(
        on_host.tpot_ms > 10.0 * on_gpus.tpot_ms,
        "{} vs {}",
        on_host.tpot_ms,
        on_gpus.tpot_ms
    );
}
