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
    // The 70B distill (GPQA Diamond 65.2 in BF16; an 8-bit copy within the 1-point tier may win on
    // speed), a measured quality.
    assert_eq!(r["model"], "deepseek-r1-distill-llama-70b");
    assert_eq!(r["quality_measured"], true);
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

/// TRT-LLM min-latency on 8×B200, R1-FP4, 1K in / 2K out, concurrency 1, across MTP 0–5: 111 / 198 /
/// 250 / 253 / 245 / 239 tok/s per user (reference/serving.md B3). The acceptance per depth is data;
/// the draft-step cost is one constant for all five MTP rows. Held within 15%.
#[test]
fn trtllm_b200_fp4_single_user_across_mtp_depths_within_15_percent() {
    let rows = [
        (0, 111.0),
        (1, 198.0),
        (2, 250.0),
        (3, 253.0),
        (4, 245.0),
        (5, 239.0),
    ];
    for (steps, measured) in rows {
        let mut args = vec![
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
        ];
        let depth = steps.to_string();
        if steps > 0 {
            args.extend(["--mtp", depth.as_str()]);
        }
        let tps = json(&args)["performance"]["decode_tokens_per_s"]
            .as_f64()
            .unwrap();
        assert_within(&format!("8×B200 FP4 MTP{steps}"), tps, measured, 0.15);
    }
}

#[test]
fn mtp_launches_with_the_engines_flags_and_holds_its_module() {
    let command = |engine: &str, mtp: &str| {
        pick(&[
            "--task", "research", "--gpu", "h200:8", "--engine", engine, "--mtp", mtp,
        ])["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let vllm = command("vllm", "1");
    assert!(
        vllm.contains(
            r#"--speculative-config "{\"method\":\"deepseek_mtp\",\"num_speculative_tokens\":1}""#
        ),
        "{vllm}"
    );
    let sglang = command("sglang", "3");
    assert!(
        sglang.contains(
            "--speculative-algorithm EAGLE --speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4"
        ),
        "{sglang}"
    );
    // The MTP module (one more MoE decoder layer and its eh_proj, about 11.7 GB in FP8, sharded
    // over 8 ranks) sits on the GPUs.
    let weights = |extra: &[&str]| {
        let mut args = vec![
            "estimate",
            "671b",
            "--quant",
            "fp8",
            "--gpu",
            "h200:8",
            "--context",
            "8k",
            "--engine",
            "sglang",
        ];
        args.extend_from_slice(extra);
        json(&args)["memory"]["devices"][7]["weights_bytes"]
            .as_f64()
            .unwrap()
    };
    let module = weights(&["--mtp", "3"]) - weights(&[]);
    assert_within("MTP module per GPU, bytes", module, 11.7e9 / 8.0, 0.10);
}

fn size(extra: &[&str]) -> Value {
    let mut args = vec![
        "size",
        "671b",
        "--quant",
        "fp8",
        "--engine",
        "sglang",
        "--gpu",
        "h200:8",
        "--context",
        "3k",
        "--concurrency",
        "1024",
    ];
    args.extend_from_slice(extra);
    json(&args)
}

/// With DP attention each of the 8 ranks holds only its own 128 sequences' MLA cache (576 latent
/// elements × 2 bytes × 61 layers = 70,272 B per token) instead of all 1024: what lets TRT-LLM run
/// 1024 sequences on 8×H200 (reference/serving.md B3).
#[test]
fn dp_attention_holds_each_ranks_own_mla_cache() {
    let per_token = 576.0 * 2.0 * 61.0;
    let kv = |v: &Value| {
        v["memory"]["devices"][0]["kv_cache_bytes"]
            .as_f64()
            .unwrap()
    };
    let tp = size(&[]);
    let dp = size(&["--ep", "8", "--dp-attention"]);
    assert_eq!(kv(&tp), 1024.0 * 3072.0 * per_token);
    assert_eq!(kv(&dp), 128.0 * 3072.0 * per_token);
    assert_eq!(tp["memory"]["fits"], false);
    assert_eq!(dp["memory"]["fits"], true);
    // The pools of the 8 ranks add up. Each rank's pool is smaller than under TP (it holds the
    // attention, dense FFN and shared expert of its DP rank whole, ~12.5 GB more), so the total
    // is 5.3× the replicated cache's 526,128 tokens, not 8×.
    let tokens = |v: &Value| v["memory"]["kv_capacity_tokens"].as_f64().unwrap();
    assert_eq!(tokens(&tp), 526_128.0);
    assert!(
        tokens(&dp) > 5.0 * tokens(&tp),
        "{} vs {}",
        tokens(&dp),
        tokens(&tp)
    );
}

/// 32 redundant experts (DeepSeek's prefill EPLB) over 8 ranks: 4 more experts per rank in each of
/// the 58 MoE layers, 3 × 7168 × 2048 FP8 weights each (44.0 MB with block scales ≈ 0.1%).
#[test]
fn redundant_experts_add_their_copies_per_rank() {
    let w = |v: &Value| v["memory"]["devices"][0]["weights_bytes"].as_f64().unwrap();
    let plain = size(&["--ep", "8", "--dp-attention"]);
    let redundant = size(&["--ep", "8", "--dp-attention", "--redundant-experts", "32"]);
    let expert = 3.0 * 7168.0 * 2048.0;
    assert_within(
        "redundant expert bytes per GPU",
        w(&redundant) - w(&plain),
        4.0 * 58.0 * expert,
        0.02,
    );
}

#[test]
fn ep_and_dp_attention_launch_with_the_engines_flags() {
    let command = |engine: &str| {
        pick(&[
            "--task",
            "research",
            "--gpu",
            "h200:8",
            "--engine",
            engine,
            "--quant",
            "fp8",
            "--ep",
            "8",
            "--dp-attention",
            "--concurrency",
            "256",
            "--min-speed",
            "1",
            "--latency",
            "60s",
        ])["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let sglang = command("sglang");
    assert!(
        sglang.contains("--tp 8") && sglang.contains("--enable-dp-attention --dp 8 --ep-size 8"),
        "{sglang}"
    );
    assert!(sglang.contains("--max-running-requests 256"), "{sglang}");
    let vllm = command("vllm");
    assert!(
        vllm.contains("--tensor-parallel-size 1")
            && vllm.contains("--data-parallel-size 8 --enable-expert-parallel")
            && vllm.contains("--max-num-seqs 32"),
        "{vllm}"
    );
}
