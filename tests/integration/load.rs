//! Serving under load through the CLI: `--concurrency`, `--rate`, `--percentile` and length
//! spreads on `estimate`, `check` and `recommend`, read back from the JSON contract.

use serde_json::Value;

use crate::util::{assert_within, r1pick};

/// Run r1pick; (exit code, parsed stdout).
fn run(args: &str) -> (i32, Value) {
    let out = r1pick()
        .args(args.split_whitespace())
        .output()
        .expect("r1pick runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "`{args}` printed no JSON ({e}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn json(args: &str) -> Value {
    let (code, v) = run(args);
    assert_eq!(code, 0, "`{args}` exit code");
    v
}

fn num(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for key in path.split('.') {
        at = &at[key];
    }
    at.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {at}"))
}

/// NIM's Llama-3.3-70B FP8 on 2×H100 (TensorRT-LLM, FP8 KV), 5000 in / 500 out: R1's Llama-70B
/// distill has the same architecture.
fn nim(concurrency: u32) -> Value {
    json(&format!(
        "estimate 70b --quant fp8 --engine trtllm --kv-dtype fp8 --gpu h100-sxm:2 --context 8k \
         --prompt 5000 --output 500 --concurrency {concurrency} --json"
    ))
}

#[test]
fn without_a_load_the_numbers_are_the_idle_servers_and_carry_no_load_object() {
    let idle = json("estimate 14b --gpu h100-sxm --json");
    assert!(idle["performance"].get("load").is_none());
    let one = json("estimate 14b --gpu h100-sxm --concurrency 1 --json");
    let l = &one["performance"]["load"];
    assert_eq!(l["shape"], "concurrency");
    assert_eq!(l["requests"], 1);
    assert_eq!(l["percentile"], 90.0);
    // The serving model at c=1 is the single-stream model (the library's own bounds: 2% and 1%).
    for (key, tol) in [("ttft_ms", 0.02), ("time_to_answer_ms", 0.01)] {
        assert_within(
            key,
            num(&one, &format!("performance.{key}")),
            num(&idle, &format!("performance.{key}")),
            tol,
        );
    }
    // ttft_ms and tpot_ms are the load's means.
    assert_eq!(
        num(&one, "performance.ttft_ms"),
        num(&one, "performance.load.ttft_ms.mean")
    );
    assert_eq!(
        num(&one, "performance.tpot_ms"),
        num(&one, "performance.load.tpot_ms.mean")
    );
}

#[test]
fn past_the_kv_limit_ttft_grows_linearly_with_clients_while_tpot_and_throughput_flatten() {
    let (a, b, c) = (nim(150), nim(200), nim(250));
    let t = |v: &Value| num(v, "performance.load.ttft_ms.mean");
    let (step1, step2) = (t(&b) - t(&a), t(&c) - t(&b));
    assert_within("second 50-client step of TTFT", step2, step1, 0.02);
    // NIM 1.8.0 measured +26.9 s of TTFT per 50 clients past saturation (61.7 s → 88.6 s).
    assert_within(
        "TTFT per 50 clients against NIM",
        step2,
        88605.32 - 61680.22,
        0.25,
    );
    for v in [&b, &c] {
        let l = &v["performance"]["load"];
        assert_eq!(l["limit"], "kv-capacity");
        // NIM already queues at 100 clients (TTFT 0.8 s at 50, 8.0 s at 100: serving.md); its
        // queueing rows (+26.9 s per 50 clients, 34.8 s at 150) fit about 87 running sequences.
        let max = l["max_batch"].as_u64().expect("max_batch");
        assert!((84..=90).contains(&max), "KV limit {max} sequences");
        assert_eq!(
            l["batch"].as_f64(),
            Some(max as f64),
            "the batch is capped there"
        );
        assert_eq!(
            num(v, "performance.tpot_ms"),
            num(&a, "performance.tpot_ms")
        );
        assert_eq!(
            num(v, "performance.load.output_tokens_per_s"),
            num(&a, "performance.load.output_tokens_per_s")
        );
    }
}

#[test]
fn aggregate_throughput_rises_with_concurrency_until_saturation() {
    let tps: Vec<f64> = [1, 8, 32, 100, 200]
        .iter()
        .map(|&n| num(&nim(n), "performance.aggregate_tokens_per_s"))
        .collect();
    for w in tps.windows(2) {
        assert!(w[1] >= w[0], "throughput falls with concurrency: {tps:?}");
    }
    assert!(tps[1] > 4.0 * tps[0], "batching pays: {tps:?}");
    assert_eq!(tps[3], tps[4], "flat past the KV limit: {tps:?}");
}

#[test]
fn a_kv_starved_deployment_is_capped_by_its_kv_capacity() {
    // Qwen-32B shape in BF16 (65.5 GB of weights) on one 80 GB H100 with the 32,000-token prompts
    // and 100-token answers GPUStack's Qwen3-32B ran there (serving.md A2: one at a time).
    let v = json(
        "estimate 32b --quant bf16 --gpu h100-sxm --context 32100 --prompt 32000 --output 100 --concurrency 16 --json",
    );
    let m = &v["memory"];
    let kv = num(&v, "memory.kv_capacity_tokens");
    assert!(
        (32_112.0..64_224.0).contains(&kv),
        "vLLM's pool holds one 32K-token request, not two: {kv}"
    );
    assert_eq!(m["max_concurrency"], 1, "one 32K sequence at once");
    let l = &v["performance"]["load"];
    assert_eq!(l["max_batch"], 1);
    assert_eq!(l["limit"], "kv-capacity");
}

#[test]
fn near_capacity_p99_grows_without_bound_and_past_it_r1pick_says_unsustainable() {
    let base =
        "estimate 671b --quant fp8 --engine sglang --gpu h200:8 --prompt 1k..3k --output 512..1536";
    let max = num(
        &json(&format!("{base} --rate 0.1/s --json")),
        "performance.load.max_rate_per_s",
    );
    assert!(max > 1.0 && max < 50.0, "capacity {max}/s");
    let p99 = |f: f64| {
        let v = json(&format!("{base} --rate {:.4}/s --json", f * max));
        num(&v, "performance.load.ttft_ms.p99")
    };
    let (a, b, c) = (p99(0.5), p99(0.9), p99(0.995));
    assert!(a < b && b < c, "{a} {b} {c}");
    assert!(c > 10.0 * a, "p99 must blow up near capacity: {a} → {c}");
    let v = json(&format!("{base} --rate {:.4}/s --json", 1.2 * max));
    let l = &v["performance"]["load"];
    assert_eq!(l["sustainable"], false);
    assert_eq!(l["limit"], "queue");
    for key in ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"] {
        assert!(l.get(key).is_none(), "no {key} at an unsustainable rate");
    }
}

#[test]
fn check_rate_is_a_capacity_gate() {
    let base = "check 671b --quant fp8 --engine sglang --gpu h200:8 --prompt 1k --output 1k";
    let (code, ok) = run(&format!("{base} --rate 1/s --json"));
    assert_eq!(code, 0);
    let load = &ok["checks"][1];
    assert_eq!(load["constraint"], "load");
    assert_eq!(load["unit"], "requests/s");
    assert_eq!(load["required"], 1);
    let max = load["actual"].as_f64().expect("highest sustainable rate");
    let (code, over) = run(&format!("{base} --rate {:.2}/s --json", max + 0.5));
    assert_eq!(code, 1, "a rate above capacity fails the gate");
    assert_eq!(over["ok"], false);
    assert_eq!(over["checks"][1]["ok"], false);
    let msg = over["checks"][1]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("not sustainable"), "{msg}");
    // a latency limit has no figure at that rate, and says why
    let (code, late) = run(&format!(
        "{base} --rate {:.2}/s --latency 1s --json",
        max + 0.5
    ));
    assert_eq!(code, 1);
    let msg = late["checks"][2]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("unsustainable"), "{msg}");
    assert!(late["checks"][2]["actual"].is_null());
}

#[test]
fn check_concurrency_gates_the_time_per_token_at_the_percentile() {
    let base = "check 7b --gpu h100-sxm --prompt 1k --output 1k --concurrency 64";
    let v = json(&format!("{base} --tpot 1s --json"));
    let tpot = &v["checks"][1];
    assert_eq!(tpot["constraint"], "tpot");
    let msg = tpot["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("time per token (p90 at concurrency 64)"),
        "{msg}"
    );
    let p90 = tpot["actual"].as_f64().expect("a TPOT");
    assert_eq!(p90, num(&v, "deployment.performance.load.tpot_ms.p90"));
    let tight = format!("{base} --tpot {}ms", (p90 * 0.9).floor());
    assert_eq!(run(&format!("{tight} --json")).0, 1);
    let loose = format!("{base} --tpot {}ms", (p90 * 1.1).ceil());
    assert_eq!(run(&format!("{loose} --json")).0, 0);
}

#[test]
fn a_higher_percentile_is_a_stricter_latency_gate() {
    let base = "check 70b --quant fp8 --engine trtllm --gpu h100-sxm:2 --prompt 1k..8k --output 500 --context 16k --rate 1/s";
    let at = |p: &str| {
        let v = json(&format!("{base} --percentile {p} --latency 1h --json"));
        v["checks"][2]["actual"].as_f64().expect("a TTFT")
    };
    let (p50, p90, p99, p95) = (at("p50"), at("p90"), at("p99"), at("95"));
    assert!(
        p50 < p90 && p90 < p95 && p95 < p99,
        "{p50} {p90} {p95} {p99}"
    );
    let between = format!("{base} --latency {}ms", ((p90 + p99) / 2.0).round());
    assert_eq!(run(&format!("{between} --json")).0, 0, "holds at p90");
    assert_eq!(
        run(&format!("{between} --percentile p99 --json")).0,
        1,
        "fails at p99"
    );
}

#[test]
fn recommend_at_a_rate_picks_a_deployment_that_meets_the_slo_at_that_rate() {
    let v =
        json("recommend --task chat --gpu h100-sxm:8 --rate 20/s --latency 2s --explain --json");
    let r = &v["recommendation"];
    let l = &r["performance"]["load"];
    assert_eq!(l["shape"], "rate");
    assert_eq!(l["per_second"], 20.0);
    assert_eq!(l["sustainable"], true);
    assert!(num(l, "max_rate_per_s") > 20.0);
    assert!(num(l, "ttft_ms.p90") <= 2000.0);
    let checks = r["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|c| c["constraint"] == "load" && c["ok"] == true)
    );
    // The launch command admits the batch the estimate ran, not one sequence.
    let command = r["command"].as_str().unwrap_or_default();
    let admits = format!(" {}", l["max_batch"]);
    assert!(command.contains(&admits), "{command}");
    // Candidates that cannot sustain the rate are rejected for it.
    let rejected = v["rejected"].as_array().expect("rejected");
    assert!(
        rejected.iter().any(|r| r["constraint"] == "load"),
        "some candidate cannot sustain 20/s"
    );
}

#[test]
fn output_under_load_is_the_same_on_every_run() {
    for args in [
        "estimate 671b --quant fp8 --engine sglang --gpu h200:8 --rate 2/s --prompt 512..4k --output 256..2k --json",
        "check 7b --gpu l40s --concurrency 32 --prompt 512..4k --latency 1s",
        "recommend --task code --gpu h100-sxm:8 --rate 5/s",
    ] {
        let once = r1pick()
            .args(args.split_whitespace())
            .output()
            .expect("runs");
        let twice = r1pick()
            .args(args.split_whitespace())
            .output()
            .expect("runs");
        assert_eq!(once.stdout, twice.stdout, "{args}");
        assert!(!once.stdout.is_empty(), "{args}");
    }
}

#[test]
fn the_table_states_the_load_and_the_percentile() {
    let out = r1pick()
        .args("estimate 7b --gpu h100-sxm --rate 120/min".split_whitespace())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("under load: rate 2/s (Poisson arrivals; constraints at p90)"),
        "{text}"
    );
    assert!(
        text.contains("KV capacity by vllm's memory rule:"),
        "{text}"
    );
}

#[test]
fn rate_and_percentile_come_from_the_environment_like_the_other_flags() {
    let out = r1pick()
        .env("R1PICK_RATE", "2/s")
        .env("R1PICK_PERCENTILE", "p99")
        .args("estimate 7b --gpu h100-sxm --json".split_whitespace())
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let l = &v["performance"]["load"];
    assert_eq!(l["per_second"], 2.0);
    assert_eq!(l["percentile"], 99.0);
}

#[test]
fn a_percentile_between_the_reported_ones_follows_an_exponential_tail_exactly() {
    use r1pick::serving::Percentiles;
    // An exponential wait of mean 100 ms: its q quantile is 100·ln(1/(1 − q)).
    let q = |p: f64| 100.0 * (1.0 / (1.0 - p / 100.0)).ln();
    let exp = Percentiles {
        mean: 100.0,
        p50: q(50.0),
        p90: q(90.0),
        p99: q(99.0),
    };
    assert_eq!(exp.at(90.0), exp.p90);
    for (pct, expected) in [(75.0, 138.629), (95.0, 299.573), (99.9, 690.776)] {
        assert_within(&format!("p{pct}"), exp.at(pct), expected, 1e-5);
    }
}

#[test]
fn without_load_flags_there_is_no_traffic_and_two_shapes_are_refused() {
    use r1pick::decide::load::{DEFAULT_PERCENTILE, Traffic};
    use r1pick::serving::{Load, Span};
    assert_eq!(
        Traffic::from_flags(None, None, None, None, None).ok(),
        Some(None)
    );
    let spread = Some(Span {
        min: 512,
        max: 4096,
    });
    let t = Traffic::from_flags(None, None, spread, None, None)
        .ok()
        .flatten()
        .expect("a spread is a load");
    assert_eq!(t.load, Load::Concurrency { requests: 1 });
    assert_eq!(t.percentile, DEFAULT_PERCENTILE);
    assert_eq!(DEFAULT_PERCENTILE, 90.0);
    let both = Traffic::from_flags(Some(5.0), Some(8), None, None, None);
    assert!(both.is_err());
}

#[test]
fn under_a_rate_an_idle_server_miss_is_final_and_suggests_no_relaxation_it_cannot_back() {
    let (code, v) =
        run("recommend --task chat --gpu l40s --rate 1/s --latency 5ms --explain --json");
    assert_eq!(code, 1, "no deployment has a 5 ms first token");
    let rejected = v["rejected"].as_array().expect("rejected");
    let idle = rejected
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .find(|m| m.ends_with("on an idle server, slower under load"));
    assert!(idle.is_some_and(|m| m.starts_with("latency: ")), "{idle:?}");
    let suggestions = v["suggestions"].as_array().expect("suggestions");
    assert!(
        !suggestions.iter().any(|s| s
            .as_str()
            .unwrap_or_default()
            .starts_with("relax --latency")),
        "{suggestions:?}"
    );
}
