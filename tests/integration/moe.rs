//! The 671B as it is really served (issue 13): honest picks around the 1–2-bit dynamic quants, the
//! 4-bit and NVFP4 checkpoints for the tensor-parallel engines, and the measured rows of
//! reference/serving.md B with the tolerance each is held to.

use serde_json::Value;

use crate::util::{assert_refused, assert_within, r1pick};

fn json(args: &[&str]) -> Value {
    let out = r1pick().args(args).arg("--json").output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn pick(args: &[&str]) -> Value {
    let mut full = vec!["recommend"];
    full.extend_from_slice(args);
    let v = json(&full);
    assert!(
        v["recommendation"].is_object(),
        "{args:?}: nothing recommended: {v}"
    );
    v["recommendation"].clone()
}

fn is_dynamic_low_bit(quant: &str) -> bool {
    quant.starts_with("ud-")
}

#[test]
fn code_on_one_h200_is_a_measured_32b_not_a_1_bit_671b() {
    let r = pick(&["--task", "code", "--gpu", "h200"]);
    assert!(!is_dynamic_low_bit(r["quant"].as_str().unwrap()), "{r}");
    // LiveCodeBench 57.2 is the paper score of the 32B distill, kept whole in BF16.
    assert_eq!(r["model"], "deepseek-r1-distill-qwen-32b");
    assert_eq!(r["quant"], "bf16");
    assert_eq!(r["quality"], 57.2);
    assert_eq!(r["quality_measured"], true);
}

#[test]
fn research_on_two_a100_80gb_is_not_a_1_bit_671b() {
    let r = pick(&["--task", "research", "--gpu", "a100-sxm-80gb:2"]);
    assert!(!is_dynamic_low_bit(r["quant"].as_str().unwrap()), "{r}");
    // GPQA Diamond 65.2: the 70B distill's paper score.
    assert_eq!(r["model"], "deepseek-r1-distill-llama-70b");
    assert_eq!(r["quality"], 65.2);
}

#[test]
fn a_pinned_dynamic_quant_is_served_and_marked_unmeasured() {
    let pinned = [
        "recommend",
        "--task",
        "code",
        "--gpu",
        "h200",
        "--quant",
        "ud-iq1_m",
        "--latency",
        "10s",
    ];
    let r = json(&pinned)["recommendation"].clone();
    assert_eq!(r["model"], "deepseek-r1");
    assert_eq!(r["quant"], "ud-iq1_m");
    assert_eq!(r["quality_measured"], false);
    let why = r["why"].to_string();
    assert!(why.contains("quality unmeasured"), "{why}");
    let out = r1pick().args(pinned).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(unmeasured)"), "{text}");
}

#[test]
fn hardest_on_eight_h100_runs_a_tensor_parallel_engine() {
    let r = pick(&["--task", "hardest", "--gpu", "h100-sxm:8"]);
    let engine = r["engine"].as_str().unwrap();
    assert!(
        ["vllm", "sglang", "trtllm"].contains(&engine),
        "hardest on 8×H100 picked {engine}: {r}"
    );
    // The 0528 W4A16 AWQ checkpoint: 4-bit is what fits one node of 80 GB GPUs.
    assert_eq!(r["model"], "deepseek-r1-0528");
    assert_eq!(r["quant"], "int4");
    assert!(
        r["command"]
            .as_str()
            .unwrap()
            .contains("cognitivecomputations/DeepSeek-R1-0528-AWQ"),
        "{r}"
    );
}

#[test]
fn nvfp4_is_refused_on_a_gpu_without_fp4() {
    assert_refused(
        &[
            "size", "671b", "--quant", "nvfp4", "--engine", "trtllm", "--gpu", "h200:8",
        ],
        "NVFP4 only on GPUs with FP4 tensor cores",
    );
}

/// TRT-LLM min-latency on 8×B200, R1-FP4, 1K in / 2K out, concurrency 1, no MTP: 111 tok/s per
/// user (reference/serving.md B3, the MTP table's "no MTP" row). Held within 15%.
#[test]
fn trtllm_b200_fp4_single_user_without_mtp_within_15_percent() {
    let v = json(&[
        "estimate",
        "671b",
        "--quant",
        "nvfp4",
        "--engine",
        "trtllm",
        "--gpu",
        "b200:8",
        "--context",
        "3k",
        "--prompt",
        "1k",
        "--output",
        "2k",
    ]);
    let tps = v["performance"]["decode_tokens_per_s"].as_f64().unwrap();
    assert_within("8×B200 FP4 TRT-LLM c=1 tok/s", tps, 111.0, 0.15);
}

/// The W4A16 AWQ 671B on vLLM, single user (reference/serving.md B5): the model card's 61.5 tok/s
/// on 8×H100 (2 in / 2K out) and 58.4 on 4×H200, which fit the Marlin MoE cost per layer, and
/// Tenstorrent's 8×H100 R1-0528-AWQ TPOT of 16.1 ms (128 in / 128 out), which checks it. Within 10%.
#[test]
fn awq_671b_single_user_speeds_match_the_card_and_tenstorrent_within_10_percent() {
    let tpot = |model: &str, gpu: &str, prompt: &str, output: &str| {
        json(&[
            "estimate",
            model,
            "--quant",
            "int4",
            "--engine",
            "vllm",
            "--gpu",
            gpu,
            "--context",
            "4k",
            "--prompt",
            prompt,
            "--output",
            output,
        ])["performance"]["tpot_ms"]
            .as_f64()
            .unwrap()
    };
    assert_within(
        "8×H100 AWQ",
        1000.0 / tpot("671b", "h100-sxm:8", "2", "2k"),
        61.5,
        0.10,
    );
    assert_within(
        "4×H200 AWQ",
        1000.0 / tpot("671b", "h200:4", "2", "2k"),
        58.4,
        0.10,
    );
    assert_within(
        "8×H100 0528-AWQ TPOT",
        tpot("0528", "h100-sxm:8", "128", "128"),
        16.1,
        0.10,
    );
}
