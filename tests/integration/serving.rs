//! Serving under load: the calibration set of measured runs (tests/data/serving_runs.toml) predicted
//! through the library, and the shapes a continuously batching server must show.
//! `cargo test --test integration serving -- --nocapture` prints every point and the summary.

use serde::Deserialize;

use r1pick::catalog::model::Model;
use r1pick::catalog::{Engine, Quant};
use r1pick::hardware::Hardware;
use r1pick::perf;
use r1pick::serving::{
    self, Lengths, Limit, Load, LoadEstimate, LoadRequest, SchedulerOverrides, Span,
};
use r1pick::sizing::capacity::{GpuBudget, KvRule, forward_peak, pool_bytes};
use r1pick::sizing::{Deployment, KvDtype, Parallel, plan};

use crate::util::{ReferenceArch, assert_within, catalog, deployed, machine, workload};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    #[allow(dead_code)]
    schema_version: u32,
    reference: Vec<ReferenceArch>,
    sweep: Vec<Sweep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sweep {
    id: String,
    #[allow(dead_code)]
    source: String,
    fit: bool,
    model: String,
    quant: String,
    kv_dtype: String,
    engine: String,
    version: Option<String>,
    gpu: String,
    gpus: u32,
    context: u32,
    prompt: String,
    output: String,
    shape: String,
    stat: Option<String>,
    load: Vec<f64>,
    ttft: Option<Vec<f64>>,
    tpot: Option<Vec<f64>>,
    /// Inter-token latency (token gaps), where the source reports it instead of TPOT.
    itl: Option<Vec<f64>>,
    out_tps: Option<Vec<f64>>,
    total_tps: Option<Vec<f64>>,
}

fn runs() -> Runs {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/serving_runs.toml"
    ))
    .unwrap();
    toml::from_str(&text).expect("tests/data/serving_runs.toml parses")
}

/// A reference architecture of the runs file, by id.
fn reference(id: &str, quant: &str) -> Model {
    let file = runs();
    let r = file.reference.iter().find(|r| r.id == id).unwrap();
    r.model(quant)
}

fn span(s: &str) -> Span {
    match s.split_once("..") {
        Some((a, b)) => Span {
            min: a.parse().unwrap(),
            max: b.parse().unwrap(),
        },
        None => Span::fixed(s.parse().unwrap()),
    }
}

fn kv_dtype(s: &str) -> KvDtype {
    match s {
        "fp8" => KvDtype::Fp8,
        _ => KvDtype::Bf16,
    }
}

struct Point {
    sweep: String,
    group: String,
    fit: bool,
    metric: &'static str,
    load: f64,
    predicted: f64,
    measured: f64,
    /// What the single-stream model predicted before this module (`perf::estimate` at the
    /// concurrency: N sequences' decode step, one request's prefill), for TTFT and TPOT.
    before: Option<f64>,
    /// Running batch, admitted maximum, and what limits, as predicted.
    state: String,
}

impl Point {
    fn error(&self) -> f64 {
        (self.predicted - self.measured) / self.measured
    }
}

/// One estimate under load for a deployment named by parts.
#[allow(clippy::too_many_arguments)]
pub fn under_load(
    model: &Model,
    quant: &Quant,
    engine: &Engine,
    hw: &Hardware,
    kv: KvDtype,
    context: u32,
    lengths: Lengths,
    load: Load,
    version: Option<&str>,
) -> Result<LoadEstimate, r1pick::error::Error> {
    let slots = match load {
        Load::Concurrency { requests } => requests,
        Load::Rate { .. } => 1,
    };
    let slots = if engine.batching == r1pick::catalog::engine::Batching::Slots {
        slots
    } else {
        1
    };
    let d = deployed(
        model,
        quant,
        engine,
        hw.gpu_count(),
        kv,
        workload(context, lengths.prompt.max, lengths.output.max, slots),
    );
    let mem = plan(&d, hw)?;
    serving::estimate(
        &d,
        hw,
        &mem,
        &LoadRequest {
            load,
            lengths,
            scheduler: SchedulerOverrides {
                version,
                ..Default::default()
            },
        },
    )
}

fn points() -> Vec<Point> {
    let file = runs();
    let c = catalog();
    let mut out = vec![];
    for s in &file.sweep {
        let quant = c.quant(&s.quant).unwrap();
        let owned;
        let model = match file.reference.iter().find(|r| r.id == s.model) {
            Some(r) => {
                owned = r.model(&s.quant);
                &owned
            }
            None => c.model(&s.model).unwrap(),
        };
        let engine = c.engine(&s.engine).unwrap();
        let hw = machine(&format!("{}:{}", s.gpu, s.gpus));
        let lengths = Lengths {
            prompt: span(&s.prompt),
            output: span(&s.output),
        };
        let p50 = s.stat.as_deref() == Some("p50");
        for (i, &x) in s.load.iter().enumerate() {
            let load = match s.shape.as_str() {
                "rate" => Load::Rate { per_second: x },
                _ => Load::Concurrency { requests: x as u32 },
            };
            let e = under_load(
                model,
                quant,
                engine,
                &hw,
                kv_dtype(&s.kv_dtype),
                s.context,
                lengths,
                load,
                s.version.as_deref(),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            let old = {
                let n = match load {
                    Load::Concurrency { requests } => requests,
                    Load::Rate { .. } => 1,
                };
                let (isl, osl) = (lengths.prompt.mean() as u32, lengths.output.mean() as u32);
                let d = deployed(
                    model,
                    quant,
                    engine,
                    hw.gpu_count(),
                    kv_dtype(&s.kv_dtype),
                    workload(isl + osl, isl, osl, n),
                );
                plan(&d, &hw).ok().map(|mem| perf::estimate(&d, &hw, &mem))
            };
            let pick = |p: Option<serving::Percentiles>| {
                p.map(|p| if p50 { p.p50 } else { p.mean })
                    .unwrap_or(f64::INFINITY)
            };
            let metrics: [(&'static str, &Option<Vec<f64>>, f64); 5] = [
                ("ttft", &s.ttft, pick(e.ttft_ms)),
                ("tpot", &s.tpot, pick(e.tpot_ms)),
                ("itl", &s.itl, pick(e.itl_ms)),
                ("out_tps", &s.out_tps, e.output_tokens_per_s),
                ("total_tps", &s.total_tps, e.total_tokens_per_s),
            ];
            for (metric, measured, predicted) in metrics {
                let before = old.as_ref().and_then(|o| match metric {
                    "ttft" => Some(o.ttft_ms),
                    "tpot" | "itl" => Some(o.tpot_ms),
                    _ => None,
                });
                if let Some(m) = measured {
                    out.push(Point {
                        sweep: s.id.clone(),
                        group: format!("{} {}", s.engine, s.shape),
                        fit: s.fit,
                        metric,
                        load: x,
                        predicted,
                        measured: m[i],
                        before,
                        state: format!(
                            "b {:.0}/{} {:?}{}",
                            e.batch,
                            e.max_batch,
                            e.limit,
                            if e.waves { " waves" } else { "" }
                        ),
                    });
                }
            }
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// Median |error| of the points that pass `keep`, and their count.
fn summary(points: &[Point], keep: impl Fn(&Point) -> bool) -> (f64, f64, usize) {
    let e: Vec<f64> = points
        .iter()
        .filter(|p| keep(p))
        .map(|p| p.error().abs())
        .collect();
    let worst = e.iter().copied().fold(0.0, f64::max);
    let n = e.len();
    (median(e), worst, n)
}

#[test]
fn serving_calibration_predicts_runs_under_load() {
    let points = points();
    assert_eq!(points.len(), 158, "the README quotes the point count");
    println!(
        "{:<58} {:>6} {:>9} {:>11} {:>11} {:>8}",
        "sweep", "load", "metric", "predicted", "measured", "error"
    );
    for p in &points {
        println!(
            "{:<58} {:>6} {:>9} {:>11.1} {:>11.1} {:>+7.1}%  {}",
            p.sweep,
            p.load,
            p.metric,
            p.predicted,
            p.measured,
            p.error() * 100.0,
            p.state
        );
    }
    let mut groups: Vec<(String, &str)> =
        points.iter().map(|p| (p.group.clone(), p.metric)).collect();
    groups.sort();
    groups.dedup();
    println!(
        "\nper engine, load shape and metric (fit set | held-out check | check* without dstack's early-2025 671B sweeps):"
    );
    for (g, m) in &groups {
        let fit = summary(&points, |p| p.fit && &p.group == g && p.metric == *m);
        let check = summary(&points, |p| !p.fit && &p.group == g && p.metric == *m);
        let recent = summary(&points, |p| {
            !p.fit && !early_671b(p) && &p.group == g && p.metric == *m
        });
        println!(
            "  {g:<20} {m:<9} fit {:>3} pts median {:>6.1}% worst {:>6.1}% | check {:>3} pts median {:>6.1}% worst {:>6.1}% | check* {:>3} pts median {:>6.1}% worst {:>6.1}%",
            fit.2,
            fit.0 * 100.0,
            fit.1 * 100.0,
            check.2,
            check.0 * 100.0,
            check.1 * 100.0,
            recent.2,
            recent.0 * 100.0,
            recent.1 * 100.0
        );
    }
    println!("\noverall (check* = the check without dstack's early-2025 671B sweeps):");
    let mut medians = vec![];
    for m in ["ttft", "tpot", "itl", "out_tps", "total_tps"] {
        let fit = summary(&points, |p| p.fit && p.metric == m);
        let check = summary(&points, |p| !p.fit && p.metric == m);
        let recent = summary(&points, |p| !p.fit && !early_671b(p) && p.metric == m);
        println!(
            "  {m:<9} fit {:>3} pts median {:>6.1}% | check {:>3} pts median {:>6.1}% worst {:>6.1}% | check* {:>3} pts median {:>6.1}% worst {:>6.1}%",
            fit.2,
            fit.0 * 100.0,
            check.2,
            check.0 * 100.0,
            check.1 * 100.0,
            recent.2,
            recent.0 * 100.0,
            recent.1 * 100.0
        );
        medians.push((m, fit.0, recent.0));
        let before: Vec<f64> = points
            .iter()
            .filter(|p| p.metric == m)
            .filter_map(|p| p.before.map(|b| ((b - p.measured) / p.measured).abs()))
            .collect();
        if !before.is_empty() {
            println!(
                "  {m:<9} before (single-stream model at the concurrency), all {} pts: median {:.1}%; now all: median {:.1}%",
                before.len(),
                median(before) * 100.0,
                summary(&points, |p| p.metric == m).0 * 100.0
            );
        }
    }
    // Stated tolerances (median |error|). Fit set: TPOT ≤ 5%, TTFT ≤ 10%, throughput ≤ 5%.
    // Held-out check (without the early-2025 671B engines, whose MLA/MoE kernels were 2–3× slower
    // than the model's — listed in the README): the goal, TPOT ≤ 10%, TTFT ≤ 25%, and
    // output throughput ≤ 10%.
    let limit = |m: &str, fit: bool| match (m, fit) {
        ("tpot", true) | ("out_tps", true) => 0.05,
        ("ttft", true) => 0.10,
        ("tpot", false) => 0.10,
        ("ttft", false) => 0.25,
        ("out_tps", false) => 0.10,
        _ => f64::INFINITY,
    };
    // TensorRT-LLM's offline tables (all held out) run the largest batches, where the attention
    // kernels' KV reads add to the GEMMs' time (step.rs).
    let offline = summary(&points, |p| {
        p.group == "trtllm offline" && p.metric == "out_tps"
    });
    assert_eq!(offline.2, 20);
    assert!(
        offline.0 <= 0.10 && offline.1 <= 0.12,
        "TensorRT-LLM offline tables: median {:.1}%, worst {:.1}% (bounds 10%, 12%)",
        offline.0 * 100.0,
        offline.1 * 100.0
    );
    for (m, fit, check) in medians {
        for (value, is_fit) in [(fit, true), (check, false)] {
            if value.is_finite() {
                assert!(
                    value <= limit(m, is_fit),
                    "{m} median error {:.1}% over {:.0}% ({})",
                    value * 100.0,
                    limit(m, is_fit) * 100.0,
                    if is_fit { "fit" } else { "check" }
                );
            }
        }
    }
}

/// dstack's 8×H200 sweeps ran early-2025 engine builds on the 671B.
fn early_671b(p: &Point) -> bool {
    p.sweep.starts_with("dstack")
}

// ---- shapes a continuously batching server must show ----

/// NIM's Llama-3.3-70B FP8 on 2×H100 (TensorRT-LLM, FP8 KV), 5000 in / 500 out.
fn nim(load: Load) -> LoadEstimate {
    nim_with(
        load,
        Lengths {
            prompt: Span::fixed(5000),
            output: Span::fixed(500),
        },
    )
}

fn nim_with(load: Load, lengths: Lengths) -> LoadEstimate {
    let c = catalog();
    let model = reference("llama-3.3-70b", "fp8");
    under_load(
        &model,
        c.quant("fp8").unwrap(),
        c.engine("trtllm").unwrap(),
        &machine("h100-sxm:2"),
        KvDtype::Fp8,
        8192,
        lengths,
        load,
        None,
    )
    .unwrap()
}

fn closed(n: u32) -> Load {
    Load::Concurrency { requests: n }
}

#[test]
fn throughput_rises_with_concurrency_then_flattens() {
    let loads = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    let tps: Vec<f64> = loads
        .iter()
        .map(|&n| nim(closed(n)).output_tokens_per_s)
        .collect();
    for w in tps.windows(2) {
        assert!(w[1] >= w[0] * 0.999, "throughput fell: {tps:?}");
    }
    assert!(
        tps[4] > 8.0 * tps[0],
        "c=16 should be far above c=1: {tps:?}"
    );
    assert!(tps[9] < tps[8] * 1.01, "flat past saturation: {tps:?}");
}

#[test]
fn past_saturation_ttft_grows_linearly_while_tpot_flattens() {
    let at = |n| nim(closed(n));
    let (a, b, c) = (at(150), at(200), at(250));
    let t = |e: &LoadEstimate| e.ttft_ms.unwrap().mean;
    let step1 = t(&b) - t(&a);
    let step2 = t(&c) - t(&b);
    assert!(step1 > 10_000.0, "TTFT grows by queueing: {step1}");
    assert_within("second 50-request step of TTFT", step2, step1, 0.02);
    let tpot = |e: &LoadEstimate| e.tpot_ms.unwrap().mean;
    assert_within("TPOT at 250 vs 150", tpot(&c), tpot(&a), 0.005);
    assert_eq!(c.limit, Limit::KvCapacity);
    // NIM 1.8.0 measured: +26.9 s and +26.9 s of TTFT per 50 requests; ITL 93.06 / 93.2 ms.
    assert_within("TTFT slope against NIM's", step2, 88605.32 - 61680.22, 0.25);
}

#[test]
fn a_closed_loop_request_waits_for_the_step_running_when_it_arrives() {
    // Short prompts: the prefill queue is negligible, so what c = 2 adds to TTFT over c = 1 is the
    // step the other request is decoding when this one arrives (engines admit at step boundaries).
    let short = Lengths {
        prompt: Span { min: 50, max: 150 },
        output: Span { min: 400, max: 600 },
    };
    let (one, two) = (nim_with(closed(1), short), nim_with(closed(2), short));
    let added = two.ttft_ms.unwrap().mean - one.ttft_ms.unwrap().mean;
    let step = two.tpot_ms.unwrap().mean;
    assert!(
        added >= 0.9 * step && added <= 1.5 * step,
        "c=2 adds {added} ms of TTFT; one decode step is {step} ms"
    );
}

#[test]
fn open_loop_latency_is_unbounded_as_the_rate_nears_capacity() {
    let lengths = Lengths {
        prompt: Span {
            min: 1000,
            max: 9000,
        },
        output: Span { min: 100, max: 900 },
    };
    let max = nim_with(Load::Rate { per_second: 0.01 }, lengths).max_rate_per_s;
    assert!(max > 0.5 && max < 5.0, "capacity {max}/s");
    let p99 = |f: f64| {
        nim_with(
            Load::Rate {
                per_second: f * max,
            },
            lengths,
        )
        .ttft_ms
        .unwrap()
        .p99
    };
    let (a, b, c, d) = (p99(0.5), p99(0.9), p99(0.99), p99(0.999));
    assert!(a < b && b < c && c < d, "{a} {b} {c} {d}");
    assert!(d > 20.0 * a, "p99 must blow up near capacity: {a} → {d}");
    for f in [1.0, 1.5] {
        let e = nim_with(
            Load::Rate {
                per_second: f * max,
            },
            lengths,
        );
        assert!(!e.sustainable);
        assert_eq!(e.limit, Limit::Queue);
        assert!(e.ttft_ms.is_none() && e.tpot_ms.is_none() && e.e2e_ms.is_none());
    }
    let ok = nim_with(
        Load::Rate {
            per_second: 0.5 * max,
        },
        lengths,
    );
    assert!(ok.sustainable);
    assert_within(
        "throughput at half capacity",
        ok.requests_per_s,
        0.5 * max,
        1e-6,
    );
    let t = ok.ttft_ms.unwrap();
    assert!(t.p50 <= t.p90 && t.p90 <= t.p99);
}

/// GPUStack's KV-starved case: Qwen3-32B BF16 on one H100 with vLLM v0.11, 32,000 in / 100 out.
#[test]
fn kv_starved_deployment_has_its_batch_capped_by_kv_capacity() {
    let c = catalog();
    let file = runs();
    let r = file.reference.iter().find(|r| r.id == "qwen3-32b").unwrap();
    let model = r.model("bf16");
    let lengths = Lengths {
        prompt: Span::fixed(32_000),
        output: Span::fixed(100),
    };
    let run = |n| {
        under_load(
            &model,
            c.quant("bf16").unwrap(),
            c.engine("vllm").unwrap(),
            &machine("h100-sxm"),
            KvDtype::Bf16,
            40_960,
            lengths,
            closed(n),
            Some("0.11.0"),
        )
        .unwrap()
    };
    let (a, b) = (run(50), run(100));
    assert_eq!(a.limit, Limit::KvCapacity);
    assert!(a.max_batch <= 2, "batch {}", a.max_batch);
    assert_eq!(a.batch, f64::from(a.max_batch));
    // TTFT grows linearly with the backlog, TPOT stays where one sequence decodes.
    let t = |e: &LoadEstimate| e.ttft_ms.unwrap().mean;
    assert_within("TTFT doubles with the backlog", t(&b), 2.0 * t(&a), 0.05);
    assert_within(
        "TPOT flat",
        b.tpot_ms.unwrap().mean,
        a.tpot_ms.unwrap().mean,
        0.01,
    );
    // GPUStack measured TPOT 43.42 ms; the single-stream decode model gives ~29 ms at 32K context
    // (long-context decode attention is slower than its bytes) — a known gap of `perf`, not checked.
}

/// One request on an idle server is the single-stream model (within 2%: the serving model's soft
/// roofline and per-sequence scheduling cost are the only differences).
#[test]
fn concurrency_one_reproduces_the_single_stream_numbers() {
    let c = catalog();
    let cases = [
        (
            "deepseek-r1-distill-llama-8b",
            "bf16",
            "vllm",
            "h100-sxm:1",
            2048,
            512,
        ),
        (
            "deepseek-r1-distill-llama-70b",
            "fp8",
            "trtllm",
            "h100-sxm:2",
            5000,
            500,
        ),
        (
            "deepseek-r1-distill-qwen-32b",
            "bf16",
            "sglang",
            "h200:2",
            1000,
            4000,
        ),
        ("deepseek-r1", "fp8", "sglang", "h200:8", 3200, 800),
        (
            "deepseek-r1-distill-qwen-14b",
            "q4_k_m",
            "llama.cpp",
            "rtx-4090:1",
            4000,
            1000,
        ),
    ];
    for (m, q, e, gpu, isl, osl) in cases {
        let model = c.model(m).unwrap();
        let quant = c.quant(q).unwrap();
        let engine = c.engine(e).unwrap();
        let hw = machine(gpu);
        let d = deployed(
            model,
            quant,
            engine,
            hw.gpu_count(),
            KvDtype::Bf16,
            workload(isl + osl, isl, osl, 1),
        );
        let mem = plan(&d, &hw).unwrap();
        let single = perf::estimate(&d, &hw, &mem);
        let lengths = Lengths {
            prompt: Span::fixed(isl),
            output: Span::fixed(osl),
        };
        let load = serving::estimate(
            &d,
            &hw,
            &mem,
            &LoadRequest {
                load: closed(1),
                lengths,
                scheduler: SchedulerOverrides::default(),
            },
        )
        .unwrap();
        let what = format!("{m} {q} {e} {gpu}");
        assert_within(
            &format!("{what}: TTFT"),
            load.ttft_ms.unwrap().mean,
            single.ttft_ms,
            0.02,
        );
        assert_within(
            &format!("{what}: time to answer"),
            load.e2e_ms.unwrap().mean,
            single.time_to_answer_ms,
            0.01,
        );
        assert_eq!(load.batch, 1.0);
    }
}

/// MTP with DP attention (issue 13): one request on an idle EP8 / DP-attention server with 3 draft
/// steps is the single-stream step over TRT-LLM's measured 2.82 accepted tokens (within 2%, as for
/// the plain deployments above); the step carries the draft passes, so the gain over no MTP is
/// below the acceptance; and under load the DP ranks share the sequences.
#[test]
fn mtp_with_dp_attention_is_the_step_over_its_accepted_tokens() {
    let c = catalog();
    let hw = machine("h200:8");
    let at = |mtp: u32, concurrency: u32| Deployment {
        mtp,
        parallel: Parallel {
            ep: 8,
            dp: 8,
            redundant_experts: 0,
        },
        ..deployed(
            c.model("deepseek-r1").unwrap(),
            c.quant("fp8").unwrap(),
            c.engine("trtllm").unwrap(),
            hw.gpu_count(),
            KvDtype::Bf16,
            workload(3072, 1024, 2048, concurrency),
        )
    };
    let lengths = Lengths {
        prompt: Span::fixed(1024),
        output: Span::fixed(2048),
    };
    let load = |d: &Deployment, n: u32| {
        let mem = plan(d, &hw).unwrap();
        serving::estimate(
            d,
            &hw,
            &mem,
            &LoadRequest {
                load: closed(n),
                lengths,
                scheduler: SchedulerOverrides::default(),
            },
        )
        .unwrap()
    };
    let d = at(3, 1);
    let single = perf::estimate(&d, &hw, &plan(&d, &hw).unwrap());
    let one = load(&d, 1);
    assert_within(
        "MTP3 + DP attention, c=1: TPOT",
        one.tpot_ms.unwrap().mean,
        single.tpot_ms,
        0.02,
    );
    let plain = load(&at(0, 1), 1).tpot_ms.unwrap().mean;
    let gain = plain / one.tpot_ms.unwrap().mean;
    assert!(gain > 1.0 && gain < 2.82, "MTP3 gain {gain}");
    // 64 in flight over 8 DP ranks: each rank's 8 sequences verify 4 tokens; still faster per
    // token than without MTP at the same load.
    let loaded = load(&at(3, 64), 64);
    let loaded_plain = load(&at(0, 64), 64);
    assert_eq!(loaded.batch, 64.0);
    assert!(
        loaded.tpot_ms.unwrap().mean < loaded_plain.tpot_ms.unwrap().mean,
        "{:?} vs {:?}",
        loaded.tpot_ms,
        loaded_plain.tpot_ms
    );
}

#[test]
fn estimates_under_load_are_deterministic() {
    let lengths = Lengths {
        prompt: Span {
            min: 100,
            max: 8000,
        },
        output: Span { min: 10, max: 2000 },
    };
    for load in [closed(37), Load::Rate { per_second: 0.7 }] {
        let a = serde_json::to_string(&nim_with(load, lengths)).unwrap();
        let b = serde_json::to_string(&nim_with(load, lengths)).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn impossible_loads_are_refused_with_the_valid_forms() {
    let lengths = Lengths {
        prompt: Span::fixed(100),
        output: Span::fixed(100),
    };
    let cases = [
        (closed(0), lengths, "concurrency 0"),
        (Load::Rate { per_second: 0.0 }, lengths, "rate 0/s"),
        (Load::Rate { per_second: -3.0 }, lengths, "rate -3/s"),
        (
            Load::Rate {
                per_second: f64::NAN,
            },
            lengths,
            "rate NaN/s",
        ),
        (Load::Rate { per_second: 5e6 }, lengths, "rate 5000000/s"),
        (
            closed(4),
            Lengths {
                prompt: Span {
                    min: 4000,
                    max: 512,
                },
                output: Span::fixed(10),
            },
            "prompt length 4000..512",
        ),
    ];
    for (load, lengths, needle) in cases {
        let err = serving::validate(&LoadRequest {
            load,
            lengths,
            scheduler: SchedulerOverrides::default(),
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.lines().count(), 1);
        assert_eq!(
            r1pick::error::Error::input("").exit_code(),
            r1pick::error::exit::BAD_INPUT
        );
    }
    // A request longer than the whole KV cache cannot be served.
    let huge = Lengths {
        prompt: Span::fixed(1_000_000),
        output: Span::fixed(100),
    };
    let c = catalog();
    let model = reference("llama-3.3-70b", "fp8");
    let err = under_load(
        &model,
        c.quant("fp8").unwrap(),
        c.engine("trtllm").unwrap(),
        &machine("h100-sxm:2"),
        KvDtype::Fp8,
        8192,
        huge,
        closed(1),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("does not fit"), "{err}");
}

// ---- KV capacity against the engines' own logs (serving.md §C) ----

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn llama_8b() -> Model {
    reference("llama-3.1-8b", "bf16")
}

/// vLLM issue #10517: Llama-3.1-8B BF16 on an RTX 3090 (23.58 GiB), utilisation 0.90, V0 without
/// chunked prefill (the profile forward is max_model_len tokens). Log: weights 14.9888 GiB, non-torch
/// 0.35 GiB; 1952 blocks (31,232 tokens) at max_model_len 20,000, 1478 (23,648) at 29,000.
#[test]
fn vllm_kv_capacity_matches_its_log_on_an_rtx_3090() {
    let c = catalog();
    let model = llama_8b();
    let quant = c.quant("bf16").unwrap();
    let engine = c.engine("vllm").unwrap();
    let per_token = 32.0 * 8.0 * 128.0 * 2.0 * 2.0; // 128 KiB (layers × kv heads × dim × K,V × 2 B)
    for (len, logged) in [(20_000u32, 31_232.0), (29_000, 23_648.0)] {
        let d = deployed(
            &model,
            quant,
            engine,
            1,
            KvDtype::Bf16,
            workload(len, 1, 1, 1),
        );
        let gpu = GpuBudget {
            total: 23.58 * GIB,
            free: 23.58 * GIB,
            weights: 14.9888 * GIB,
            activation: forward_peak(&d, len, 1),
            non_torch: 0.35 * GIB,
        };
        let tokens = pool_bytes(
            &KvRule::TotalFraction {
                fraction: 0.9,
                sampler_copies: 9.5,
            },
            &gpu,
            1,
        ) / per_token;
        assert_within(
            &format!("KV tokens at max_model_len {len}"),
            tokens,
            logged,
            0.03,
        );
    }
}

/// vLLM issue #13061: R1-Distill-Qwen-14B BF16 on 2×RTX 4090, TP2, utilisation 0.98 (23.08 GiB
/// usable per GPU): weights 13.9476 GiB per rank, non-torch 0.25 GiB, KV 8.69 GiB.
#[test]
fn vllm_kv_capacity_pool_matches_its_log_on_two_rtx_4090() {
    let c = catalog();
    let model = c.model("deepseek-r1-distill-qwen-14b").unwrap();
    let d = deployed(
        model,
        c.quant("bf16").unwrap(),
        c.engine("vllm").unwrap(),
        2,
        KvDtype::Bf16,
        workload(131_072, 1, 1, 1),
    );
    // Chunked prefill is on above 32K context in V0: a 2048-token profile forward.
    let gpu = GpuBudget {
        total: 23.08 / 0.98 * GIB,
        free: 23.08 / 0.98 * GIB,
        weights: 13.9476 * GIB,
        activation: forward_peak(&d, 2048, 2),
        non_torch: 0.25 * GIB,
    };
    let pool = pool_bytes(
        &KvRule::TotalFraction {
            fraction: 0.98,
            sampler_copies: 9.5,
        },
        &gpu,
        2,
    );
    assert_within("KV pool GiB", pool / GIB, 8.69, 0.03);
}

#[test]
fn sglang_and_trtllm_pools_follow_their_rules() {
    let gpu = GpuBudget {
        total: 80.0 * GIB,
        free: 80.0 * GIB,
        weights: 40.0 * GIB,
        activation: 0.0,
        non_torch: 0.0,
    };
    let sglang = KvRule::StaticFraction {
        by_tp: [0.88, 0.87, 0.85, 0.81, 0.79],
    };
    // mem_fraction_static covers weights + KV: 0.81 × 80 − 40 at TP8, 0.88 × 80 − 40 at TP1.
    assert_within("SGLang TP8", pool_bytes(&sglang, &gpu, 8) / GIB, 24.8, 1e-9);
    assert_within("SGLang TP1", pool_bytes(&sglang, &gpu, 1) / GIB, 30.4, 1e-9);
    // free_gpu_memory_fraction of what the weights leave: 0.9 × 40.
    let trt = KvRule::FreeFraction { fraction: 0.9 };
    assert_within("TRT-LLM", pool_bytes(&trt, &gpu, 2) / GIB, 36.0, 1e-9);
    let full = GpuBudget {
        weights: 90.0 * GIB,
        ..gpu
    };
    assert_eq!(pool_bytes(&sglang, &full, 1), 0.0);
    // Both read the memory free at start: 10 GiB held by another process (or the driver) comes
    // out of their pools, 0.88 × 70 − 40 and 0.9 × 30; vLLM's fraction is of the total.
    let busy = GpuBudget {
        free: 70.0 * GIB,
        ..gpu
    };
    assert_within(
        "SGLang TP1, busy",
        pool_bytes(&sglang, &busy, 1) / GIB,
        21.6,
        1e-9,
    );
    assert_within(
        "TRT-LLM, busy",
        pool_bytes(&trt, &busy, 2) / GIB,
        27.0,
        1e-9,
    );
    let vllm = KvRule::TotalFraction {
        fraction: 0.9,
        sampler_copies: 3.5,
    };
    assert_eq!(pool_bytes(&vllm, &busy, 1), pool_bytes(&vllm, &gpu, 1));
}

/// The capacity of R1 FP8 on 8×H200 under vLLM's rule: 0.9 × 140.4 GiB less the weights per rank,
/// non-torch memory and the profiling peak. (The vLLM blog of 2025-12-17 says a TP8 deployment
/// "leaves 34 GB free per H200"; this rule gives ~50 GB — the gap, CUDA graphs and MoE workspaces
/// of V1's profile, is not modelled and is printed here, not asserted.)
#[test]
fn r1_kv_capacity_on_eight_h200_counts_latent_tokens() {
    let c = catalog();
    let hw = machine("h200:8");
    let d = deployed(
        c.model("deepseek-r1").unwrap(),
        c.quant("fp8").unwrap(),
        c.engine("vllm").unwrap(),
        8,
        KvDtype::Bf16,
        workload(32_768, 1, 1, 4),
    );
    let mem = plan(&d, &hw).unwrap();
    let kv = serving::kv_capacity_of(&d, &hw, &mem).unwrap();
    println!(
        "R1 FP8 8×H200 vLLM: KV pool {:.1} GB per GPU (vLLM blog: 34 GB), {} tokens",
        kv.pool_bytes_per_gpu as f64 / 1e9,
        kv.tokens
    );
    assert!(kv.pool_bytes_per_gpu > 20_000_000_000 && kv.pool_bytes_per_gpu < 60_000_000_000);
    // The MLA latent cache is 70,272 B per token on every rank.
    assert_eq!(kv.tokens, kv.pool_bytes_per_gpu / 70_272 / 16 * 16);
    assert_eq!(u64::from(kv.max_concurrency), kv.tokens / 32_768);
    // Four sequences could each hold more than the model's 163,840-token maximum.
    assert_eq!(
        u64::from(kv.max_context),
        (kv.tokens / 4 / 16 * 16).min(163_840)
    );
}

/// The fleet planner prepares a deployment's server once and asks it at every replica count's
/// load: each answer must be the estimate itself, field for field (the 70B FP8 on 2×H100 under
/// TensorRT-LLM and the 7B on one H100 under vLLM and SGLang, rates and concurrencies, fixed
/// lengths and a spread; a rate past capacity is the same unsustainable answer).
#[test]
fn a_prepared_server_answers_every_load_exactly_as_the_estimate() -> Result<(), r1pick::error::Error>
{
    let c = catalog();
    let cases = [
        (
            "70b",
            "fp8",
            "trtllm",
            "h100-sxm:2",
            Span::fixed(5000),
            Span::fixed(500),
        ),
        (
            "7b",
            "bf16",
            "vllm",
            "h100-sxm",
            Span::fixed(1024),
            Span::fixed(768),
        ),
        (
            "7b",
            "bf16",
            "sglang",
            "h100-sxm",
            Span {
                min: 512,
                max: 4096,
            },
            Span {
                min: 256,
                max: 2048,
            },
        ),
    ];
    let loads = [
        Load::Rate { per_second: 0.5 },
        Load::Rate { per_second: 3.0 },
        Load::Rate { per_second: 1e6 },
        Load::Concurrency { requests: 1 },
        Load::Concurrency { requests: 64 },
        Load::Concurrency { requests: 250 },
    ];
    for (model, quant, engine, gpu, prompt, output) in cases {
        let hw = machine(gpu);
        let d = deployed(
            c.model(model)?,
            c.quant(quant)?,
            c.engine(engine)?,
            hw.gpu_count(),
            KvDtype::engine_default(c.engine(engine)?),
            workload(8192, prompt.max, output.max, 1),
        );
        let mem = plan(&d, &hw)?;
        let lengths = Lengths { prompt, output };
        let server = serving::Server::new(&d, &hw, &mem, lengths, &SchedulerOverrides::default())?;
        for load in loads {
            let req = LoadRequest {
                load,
                lengths,
                scheduler: SchedulerOverrides::default(),
            };
            let once = serving::estimate(&d, &hw, &mem, &req)?;
            assert_eq!(
                server.at(load)?,
                once,
                "{model} {engine} on {gpu} at {load:?}"
            );
            assert_eq!(server.max_rate_per_s(), once.max_rate_per_s);
        }
    }
    Ok(())
}
