//! The decision tree on simulated hardware (issue 5, "must show").

use serde_json::Value;

use crate::util::{assert_refused, catalog, r1pick};

fn recommend(args: &[&str]) -> (i32, Value) {
    let out = r1pick()
        .arg("recommend")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (code, v)
}

fn chosen(v: &Value) -> &Value {
    &v["recommendation"]
}

fn params_b(model_id: &str) -> f64 {
    let c = catalog();
    r1pick::catalog::ParamBreakdown::of(c.model(model_id).unwrap()).total() as f64 / 1e9
}

#[test]
fn code_at_200ms_on_this_gpu_less_machine_says_what_would_qualify() {
    // R1PICK_NVML_LIB points nowhere (util.rs): the probe finds no GPU, as on CI.
    let out = r1pick()
        .args(["recommend", "--task", "code", "--latency", "200ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Nothing qualifies for code"), "{text}");
    assert!(
        text.contains("cheapest hardware that meets every constraint"),
        "{text}"
    );
    let (code, v) = recommend(&["--task", "code", "--latency", "200ms", "--no-gpu"]);
    assert_eq!(code, 1);
    assert!(chosen(&v).is_null());
    assert!(
        v["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("$"))
    );
    assert!(!v["rejected"].as_array().unwrap().is_empty());
}

#[test]
fn code_at_200ms_on_an_h100_meets_the_floor_and_the_latency() {
    let (code, v) = recommend(&["--task", "code", "--latency", "200ms", "--gpu", "h100-sxm"]);
    assert_eq!(code, 0);
    let r = chosen(&v);
    assert!(r["quality"].as_f64().unwrap() >= 50.0);
    assert!(r["performance"]["ttft_ms"].as_f64().unwrap() < 200.0);
    assert!(params_b(r["model"].as_str().unwrap()) >= 14.0);
    assert!(r["memory"]["fits"].as_bool().unwrap());
    assert!(!r["command"].as_str().unwrap().is_empty());
}

#[test]
fn code_at_200ms_on_a_4080_is_honest_about_the_conflict() {
    let (code, v) = recommend(&["--task", "code", "--latency", "200ms", "--gpu", "rtx-4080"]);
    assert_eq!(
        code, 1,
        "the 14B floor cannot prefill 2K tokens in 200 ms on a 4080 (16 GB: no room for the 14B INT8 a 4090 runs)"
    );
    let suggestions: Vec<&str> = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        suggestions
            .iter()
            .any(|s| s.starts_with("relax --latency to")),
        "{suggestions:?}"
    );
    // --best-effort returns the closest option, violations marked, exit 0
    let (code, v) = recommend(&[
        "--task",
        "code",
        "--latency",
        "200ms",
        "--gpu",
        "rtx-4080",
        "--best-effort",
    ]);
    assert_eq!(code, 0);
    let checks = chosen(&v)["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["constraint"] == "latency" && c["ok"] == false)
    );
}

#[test]
fn classification_on_a_laptop_gpu_picks_a_small_distill() {
    // laptop-class: 8 GB GeForce cards and an M3 Pro (a base M1 prefills a 512-token prompt in ~0.9 s
    // even on the 1.5B, above the task's 500 ms target: r1pick says so instead of recommending)
    for gpu in ["rtx-4060", "rtx-3050", "m3-pro"] {
        let (code, v) = recommend(&["--task", "classification", "--gpu", gpu]);
        assert_eq!(code, 0, "{gpu}");
        let model = chosen(&v)["model"].as_str().unwrap();
        assert!(params_b(model) < 9.0, "{gpu}: {model}");
    }
}

#[test]
fn code_on_one_24gb_gpu_picks_a_14b_or_larger_at_4_or_5_bits() {
    // 4–6 bits: the 32B fits 24 GB at Q4_K_M; where it is too slow (A10) the 14B's Q5_K_M is within
    // the 1-point quality tolerance of its Q8_0 and faster, while its Q4_K_M is not (data/tasks.toml)
    for gpu in ["rtx-4090", "rtx-3090", "a10"] {
        let (code, v) = recommend(&["--task", "code", "--gpu", gpu]);
        assert_eq!(code, 0, "{gpu}");
        let r = chosen(&v);
        let quant = r["quant"].as_str().unwrap();
        assert!(params_b(r["model"].as_str().unwrap()) >= 14.0, "{gpu}: {r}");
        let bits = catalog().quant(quant).unwrap().linear_bits;
        assert!(
            (4.0..6.0).contains(&bits),
            "{gpu}: {quant} is not a 4- or 5-bit quant"
        );
    }
}

#[test]
fn research_on_8_h200_picks_the_671b_in_fp8() {
    let (code, v) = recommend(&["--task", "research", "--gpu", "h200:8"]);
    assert_eq!(code, 0);
    let r = chosen(&v);
    assert!(params_b(r["model"].as_str().unwrap()) > 600.0, "{r}");
    assert_eq!(r["quant"], "fp8");
    assert_eq!(r["placement"]["gpus"], 8);
}

#[test]
fn the_671b_is_never_recommended_where_it_does_not_fit() {
    for gpu in [
        "h100-sxm:8",
        "a100-sxm-80gb:8",
        "rtx-4090:4",
        "h200:4",
        "mi300x:8",
        "l40s:8",
    ] {
        for task in ["hardest", "research", "math"] {
            let (code, v) = recommend(&["--task", task, "--gpu", gpu, "--latency", "60s"]);
            if code != 0 {
                continue;
            }
            for r in std::iter::once(chosen(&v)).chain(v["alternatives"].as_array().unwrap()) {
                if params_b(r["model"].as_str().unwrap()) > 600.0 {
                    let m = &r["memory"];
                    assert!(m["fits"].as_bool().unwrap(), "{gpu} {task}: {r}");
                    assert!(m["per_gpu_bytes"].as_u64() <= m["per_gpu_capacity_bytes"].as_u64());
                    assert!(
                        m["host_bytes"].as_u64().unwrap()
                            <= v["hardware"]["ram_bytes"].as_u64().unwrap()
                    );
                }
            }
        }
    }
}

#[test]
fn a_cloud_budget_is_never_exceeded() {
    for task in ["chat", "code", "research", "classification"] {
        let (code, v) = recommend(&["--task", task, "--budget", "3/h", "--cloud"]);
        assert_eq!(code, 0, "{task}");
        for r in std::iter::once(chosen(&v)).chain(v["alternatives"].as_array().unwrap()) {
            assert!(
                r["cost"]["usd_per_hour"].as_f64().unwrap() <= 3.0,
                "{task}: {r}"
            );
        }
    }
}

#[test]
fn prefer_cost_is_never_costlier_than_the_default() {
    for (task, hw) in [
        ("chat", "--cloud"),
        ("code", "--cloud"),
        ("research", "--cloud"),
        ("code", "h100-sxm:8"),
    ] {
        let hw_args: Vec<&str> = if hw == "--cloud" {
            vec!["--cloud"]
        } else {
            vec!["--gpu", hw]
        };
        let mut base = vec!["--task", task];
        base.extend(&hw_args);
        let (_, default) = recommend(&base);
        let mut cheap = base.clone();
        cheap.extend(["--prefer", "cost"]);
        let (_, by_cost) = recommend(&cheap);
        let usd = |v: &Value| chosen(v)["cost"]["usd_per_hour"].as_f64().unwrap();
        assert!(
            usd(&by_cost) <= usd(&default),
            "{task} {hw}: {} > {}",
            usd(&by_cost),
            usd(&default)
        );
    }
}

#[test]
fn the_json_has_the_contract_fields() {
    let (_, v) = recommend(&["--task", "code", "--gpu", "h100-sxm", "--explain"]);
    assert_eq!(v["schema"], "r1pick.recommend/v1");
    for key in [
        "task",
        "constraints",
        "hardware",
        "recommendation",
        "alternatives",
        "rejected",
        "trace",
    ] {
        assert!(!v[key].is_null(), "{key}");
    }
    let r = chosen(&v);
    for key in [
        "model",
        "quant",
        "engine",
        "placement",
        "workload",
        "memory",
        "performance",
        "command",
        "why",
    ] {
        assert!(!r[key].is_null(), "{key}");
    }
    assert!(v["trace"].as_array().unwrap().len() >= 3);
    let rejected = v["rejected"].as_array().unwrap();
    assert!(rejected.iter().any(|r| r["constraint"] == "min_quality"));
    assert!(
        rejected
            .iter()
            .all(|r| !r["reason"].as_str().unwrap().is_empty())
    );
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["recommend", "--task", "poetry-slam"],
            "unknown task 'poetry-slam'",
        ),
        (
            &["recommend", "--task", "code", "--latency", "0ms"],
            "greater than zero",
        ),
        (
            &[
                "recommend",
                "--task",
                "code",
                "--engine",
                "vllm",
                "--quant",
                "q4_k_m",
            ],
            "cannot run --quant q4_k_m",
        ),
        (
            &["recommend", "--task", "code", "--budget", "-3/h"],
            "--budget",
        ),
        (
            &["recommend", "--task", "code", "--cloud", "--gpu", "h100"],
            "--cloud",
        ),
    ];
    for (args, needle) in cases {
        assert_refused(args, needle);
    }
}

#[test]
fn launch_commands_name_real_artifacts() {
    let cmd = |args: &[&str]| {
        let (_, v) = recommend(args);
        chosen(&v)["command"].as_str().unwrap().to_string()
    };
    let vllm = cmd(&[
        "--task", "code", "--gpu", "h100-sxm", "--engine", "vllm", "--quant", "fp8",
    ]);
    assert!(
        vllm.starts_with("vllm serve deepseek-ai/DeepSeek-R1-Distill-"),
        "{vllm}"
    );
    assert!(
        vllm.contains("--tensor-parallel-size 1 --max-model-len 8192"),
        "{vllm}"
    );
    assert!(vllm.contains("--quantization fp8"), "{vllm}");
    let ollama = cmd(&[
        "--task", "code", "--gpu", "rtx-4090", "--engine", "ollama", "--quant", "q4_k_m",
    ]);
    // Q4_K_M is the library's default tag: deepseek-r1:14b, :32b …
    assert!(
        ollama.contains("ollama pull deepseek-r1:") && !ollama.contains("hf.co"),
        "{ollama}"
    );
    let split = cmd(&[
        "--task",
        "chat",
        "--gpu",
        "rtx-4090:2",
        "--engine",
        "llama.cpp",
        "--quant",
        "q8_0",
        // pinned: the 0528-8B on one card ties the 32B on quality and answers sooner
        "--model",
        "32b",
    ]);
    assert!(
        split.contains("--split-mode layer --tensor-split "),
        "{split}"
    );
    let multinode = cmd(&[
        "--task",
        "hardest",
        "--gpu",
        "h100-sxm:16",
        "--engine",
        "sglang",
    ]);
    assert!(multinode.contains("--tp 16 --nnodes 2"), "{multinode}");
}

/// Issue 15 item 7: qualities within the tolerance (data/tasks.toml `[ranking]`, 1 point) of the
/// best are equal, and the faster answer wins. On an RTX 4090 the 0528-8B's BF16 (61.1) streams at
/// 52.5 tok/s; a `round(q/2)` band put it alone in band 31 and picked it. Its Q5_K_M (61.1 × 0.985
/// = 60.2) is within a point and faster; its Q4_K_M (61.1 × 0.97 = 59.3) is not within a point.
#[test]
fn a_few_tenths_of_quality_do_not_outweigh_a_large_speed_gap_on_a_4090() {
    let (code, v) = recommend(&["--task", "chat", "--gpu", "rtx-4090"]);
    assert_eq!(code, 0);
    let r = chosen(&v);
    assert_eq!(r["model"], "deepseek-r1-0528-qwen3-8b");
    assert_eq!(r["quant"], "q5_k_m");
    assert_eq!(r["quality"], 60.2);
    let alternatives = v["alternatives"].as_array().cloned().unwrap_or_default();
    assert!(
        alternatives.iter().any(|a| a["quant"] == "bf16"),
        "BF16 is ranked below, not dropped"
    );
}

/// The second case of the issue: 4×L40S for code at concurrency 16 picks the 32B in FP8 (56.9)
/// over BF16 (57.2), which is slower per sequence.
#[test]
fn the_32b_in_fp8_beats_bf16_for_code_on_four_l40s_at_concurrency_16() {
    let (code, v) = recommend(&["--task", "code", "--gpu", "l40s:4", "--concurrency", "16"]);
    assert_eq!(code, 0);
    let r = chosen(&v);
    assert_eq!(r["model"], "deepseek-r1-distill-qwen-32b");
    assert_eq!(r["quant"], "fp8");
}
