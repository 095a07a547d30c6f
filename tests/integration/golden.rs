//! Golden values that pin what the rest of the suite let slip: the fixed per-GPU overhead lines
//! (runtime, CUDA graphs, NCCL buffers) of each engine, the launch command of every engine, and the
//! time to answer, which reads the KV cache the answer really holds, not the context reserved.

use r1pick::decide::launch;
use r1pick::hardware::Hardware;
use r1pick::perf::estimate;
use r1pick::sizing::{Deployment, MemoryPlan, Workload, plan};

use crate::util::{catalog, deployment, machine, machine_with_ram, workload};

const MIB: u64 = 1 << 20;

// The lines as r1pick computed them when these tests were written (weights, KV cache, activation,
// overhead, total, capacity, in bytes). The KV lines are derived by hand in each comment; the
// overhead lines are asserted from data/engines.toml in each test.

/// KV: 8192 tokens × 4 sequences × 57,344 B (Qwen2 7B: 28 layers × 4 KV heads × 128 × K,V × 2 B).
const GOLDEN_VLLM_7B_1: [u64; 6] = [
    // BF16 weights: the 7,615,616,512-parameter recount × 2 B, embedding and lm_head both loaded
    // (was 14,141,238,272 with one vocabulary table dropped, issue 10 item 1).
    7_615_616_512 * 2,
    8192 * 4 * 57_344,
    645_922_816,
    1_224_736_768,
    18_980_940_800,
    // vLLM's 0.9 is of the total: 0.9 × 81,559 MiB.
    76_968_728_986,
];
/// Tensor parallel 2 splits the KV heads: half the KV of one GPU each.
const GOLDEN_VLLM_7B_2: [u64; 6] = [
    // Each rank holds half of every tensor, both vocabulary shards included: half the checkpoint.
    7_615_616_512,
    8192 * 4 * 57_344 / 2,
    381_681_664,
    1_635_778_560,
    10_572_600_832,
    // vLLM's 0.9 is of the total: 0.9 × 81,559 MiB.
    76_968_728_986,
];
/// KV: MLA latent (512 + 64 rope) × 61 layers × 2 B = 70,272 B per token, replicated on every GPU.
const GOLDEN_SGLANG_671B_8: [u64; 6] = [
    // + 231,669,760 B: the embedding shard (129,280 × 7,168 × 2 B / 8) every TP rank holds.
    85_138_811_999,
    8192 * 4 * 70_272,
    1_755_735_654,
    4_051_697_664,
    93_248_918_213,
    // 0.9 × (143,771 − 616) MiB: the H200's total less the driver's reservation.
    135_098_007_552,
];
/// KV: Llama 70B: 80 layers × 8 KV heads × 128 × K,V × 2 B = 327,680 B per token, × 8192 × 8
/// sequences over 4 GPUs.
const GOLDEN_TRTLLM_70B_4: [u64; 6] = [
    // + 525,336,576 B: the embedding shard (128,256 × 8,192 × 2 B / 4) every TP rank holds.
    18_163_765_248,
    8192 * 8 * 327_680 / 4,
    671_088_640,
    4_169_138_176,
    28_372_701_184,
    // 0.9 × (81,559 − 480) MiB: the H100's total less the driver's reservation.
    76_515_744_154,
];
/// One sequence: all 80 layers on the cards, 40 each with their KV; the second also holds the output.
const GOLDEN_LLAMA_70B_2: [[u64; 6]; 2] = [
    [
        20_535_705_600,
        8192 * 327_680 / 2,
        279_445_504,
        1_073_741_824,
        23_231_070_208,
        25_757_220_864,
    ],
    [
        21_397_602_304,
        8192 * 327_680 / 2,
        279_445_504,
        1_073_741_824,
        24_092_966_912,
        25_757_220_864,
    ],
];

// The head's script of each launch: files first, then its commands (review changes by hand: each
// flag is what the plan sized, see tests/integration/launch.rs).
const GOLDEN_LAUNCH: [&str; 8] = [
    r#"vllm serve deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --host 0.0.0.0 --port 8000 --tensor-parallel-size 2 --max-model-len 8192 --max-num-seqs 4 --gpu-memory-utilization 0.9 --reasoning-parser deepseek_r1 --override-generation-config "{\"temperature\": 0.6, \"top_p\": 0.95}""#,
    r#"vllm serve deepseek-ai/DeepSeek-R1-Distill-Qwen-14B --host 0.0.0.0 --port 8000 --tensor-parallel-size 1 --max-model-len 8192 --max-num-seqs 4 --gpu-memory-utilization 0.9 --quantization fp8 --reasoning-parser deepseek_r1 --override-generation-config "{\"temperature\": 0.6, \"top_p\": 0.95}""#,
    r#"python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1 --host 0.0.0.0 --port 30000 --tp 8 --context-length 8192 --max-running-requests 4 --mem-fraction-static 0.81 --reasoning-parser deepseek-r1"#,
    r#"python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1 --host 0.0.0.0 --port 30000 --tp 16 --nnodes 2 --node-rank 0 --dist-init-addr HEAD_NODE_IP:5000 --context-length 8192 --max-running-requests 4 --mem-fraction-static 0.79 --reasoning-parser deepseek-r1"#,
    r#"printf '%s' "kv_cache_config:
  free_gpu_memory_fraction: 0.9
quant_config:
  quant_algo: FP8
" > /tmp/r1pick-llm-api.yaml
trtllm-serve deepseek-ai/DeepSeek-R1-Distill-Llama-70B --host 0.0.0.0 --port 8000 --backend tensorrt --tp_size 4 --pp_size 1 --max_seq_len 8192 --max_batch_size 4 --reasoning_parser deepseek-r1 --extra_llm_api_options /tmp/r1pick-llm-api.yaml"#,
    r#"llama-server -hf unsloth/DeepSeek-R1-Distill-Llama-70B-GGUF:Q4_K_M --host 0.0.0.0 --port 8080 --ctx-size 32768 --parallel 4 --n-gpu-layers 73 --split-mode layer --tensor-split 37,36 --flash-attn enabled --temp 0.6 --top-p 0.95"#,
    r#"printf '%s' "FROM deepseek-r1:32b
PARAMETER temperature 0.6
PARAMETER top_p 0.95
" > /tmp/r1pick.Modelfile
OLLAMA_CONTEXT_LENGTH=8192 OLLAMA_NUM_PARALLEL=4 ollama serve &
sh -c "until ollama list >/dev/null 2>&1; do sleep 1; done"
ollama pull deepseek-r1:32b
ollama create deepseek-r1-distill-qwen-32b-q4_k_m-r1pick -f /tmp/r1pick.Modelfile"#,
    r#"python -c "from transformers import pipeline; p = pipeline('text-generation', model='deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', device_map='auto', torch_dtype='auto'); print(p('...', max_new_tokens=4096))""#,
];

/// 53 of the 58 MoE layers keep their routed experts in host RAM; -ngl 62 = 61 layers + output.
/// The 0528 GGUF: an MLA conversion (the January 2025 R1 GGUF caches 4.77 MiB per token instead).
/// 53 expert blocks in host memory are those of layers 3..56: `--n-cpu-moe 56` (it printed 53,
/// which moves only 50 because layers 0–2 are dense).
const GOLDEN_LAUNCH_OFFLOAD: &str = "llama-server -hf unsloth/DeepSeek-R1-0528-GGUF:UD-IQ1_S --host 0.0.0.0 --port 8080 --ctx-size 8192 --parallel 1 --n-gpu-layers 62 --n-cpu-moe 56 --flash-attn enabled --temp 0.6 --top-p 0.95";

fn planned(d: &Deployment, hw: &Hardware) -> MemoryPlan {
    plan(d, hw).unwrap()
}

/// (weights, kv_cache, activation, overhead, total, capacity) of one device.
fn lines(d: &r1pick::sizing::DeviceMemory) -> [u64; 6] {
    [
        d.weights,
        d.kv_cache,
        d.activation,
        d.overhead,
        d.total,
        d.capacity,
    ]
}

// ---- per-device memory ------------------------------------------------------------------------

/// The overhead line is data/engines.toml's fixed costs, summed by hand: runtime + CUDA graphs
/// (+ NCCL buffers only when GPUs talk) + margin, in MiB.
#[test]
fn vllm_7b_on_one_h100_has_no_nccl_buffers() {
    let c = catalog();
    let hw = machine("h100-sxm");
    let d = deployment(&c, "7b", "bf16", "vllm", 1, workload(8192, 2048, 4096, 4));
    let m = planned(&d, &hw);
    assert_eq!(m.gpus.len(), 1);
    // 400 runtime + 768 CUDA graphs, no NCCL on one GPU
    assert_eq!(m.gpus[0].overhead, (400 + 768) * MIB);
    assert_eq!(lines(&m.gpus[0]), GOLDEN_VLLM_7B_1);
}

#[test]
fn vllm_7b_on_two_h100s_adds_nccl_buffers_on_each() {
    let c = catalog();
    let hw = machine("h100-sxm:2");
    let d = deployment(&c, "7b", "bf16", "vllm", 2, workload(8192, 2048, 4096, 4));
    let m = planned(&d, &hw);
    assert_eq!(m.placement.tensor_parallel, 2);
    for g in &m.gpus {
        // 400 runtime + 768 CUDA graphs + 392 NCCL
        assert_eq!(g.overhead, (400 + 768 + 392) * MIB);
    }
    assert_eq!(lines(&m.gpus[0]), GOLDEN_VLLM_7B_2);
    assert_eq!(lines(&m.gpus[1]), GOLDEN_VLLM_7B_2);
    assert_eq!(m.overhead_bytes, 2 * (400 + 768 + 392) * MIB);
}

#[test]
fn sglang_671b_fp8_on_eight_h200s_carries_moe_cuda_graphs_and_nccl() {
    let c = catalog();
    let hw = machine("h200:8");
    let d = deployment(
        &c,
        "671b",
        "fp8",
        "sglang",
        8,
        workload(8192, 2048, 4096, 4),
    );
    let m = planned(&d, &hw);
    assert!(m.fits);
    for g in &m.gpus {
        // 400 runtime + 3072 CUDA graphs of an MoE + 392 NCCL
        assert_eq!(g.overhead, (400 + 3072 + 392) * MIB);
    }
    assert_eq!(lines(&m.gpus[0]), GOLDEN_SGLANG_671B_8);
}

#[test]
fn trtllm_70b_on_four_h100s_reserves_its_runtime_and_nccl() {
    let c = catalog();
    let hw = machine("h100-sxm:4");
    let d = deployment(&c, "70b", "fp8", "trtllm", 4, workload(8192, 2048, 4096, 8));
    let m = planned(&d, &hw);
    for g in &m.gpus {
        // 3584 runtime (no CUDA-graph line: TensorRT-LLM counts them in its runtime) + 392 NCCL
        assert_eq!(g.overhead, (3584 + 392) * MIB);
    }
    assert_eq!(lines(&m.gpus[0]), GOLDEN_TRTLLM_70B_4);
}

#[test]
fn llama_cpp_70b_on_two_4090s_keeps_1_gib_free_per_card_and_no_nccl() {
    let c = catalog();
    let hw = machine("rtx-4090:2");
    let d = deployment(
        &c,
        "70b",
        "q4_k_m",
        "llama.cpp",
        2,
        workload(8192, 2048, 4096, 1),
    );
    let m = planned(&d, &hw);
    for g in &m.gpus {
        assert_eq!(g.overhead, 1024 * MIB);
    }
    assert_eq!(lines(&m.gpus[0]), GOLDEN_LLAMA_70B_2[0]);
    assert_eq!(lines(&m.gpus[1]), GOLDEN_LLAMA_70B_2[1]);
}

// ---- launch commands --------------------------------------------------------------------------

fn launched(model: &str, quant: &str, engine: &str, gpu: &str, w: Workload) -> String {
    let c = catalog();
    let hw = machine(gpu);
    let d = deployment(&c, model, quant, engine, hw.gpu_count(), w);
    launch::command(&d, &planned(&d, &hw)).unwrap()
}

#[test]
fn every_engine_launches_with_its_own_flags() {
    // model, quant, engine, machine, sequences
    let cases = [
        ("7b", "bf16", "vllm", "h100-sxm:2", 4),
        ("14b", "fp8", "vllm", "h100-sxm", 4),
        ("671b", "fp8", "sglang", "h200:8", 4),
        ("671b", "fp8", "sglang", "h100-sxm:16", 4),
        ("70b", "fp8", "trtllm", "h100-sxm:4", 4),
        ("70b", "q4_k_m", "llama.cpp", "rtx-4090:2", 4),
        ("32b", "q4_k_m", "ollama", "rtx-4090", 4),
        ("7b", "bf16", "transformers", "l40s", 1),
    ];
    for ((model, quant, engine, gpu, n), expected) in cases.into_iter().zip(GOLDEN_LAUNCH) {
        let w = workload(8192, 2048, 4096, n);
        assert_eq!(launched(model, quant, engine, gpu, w), expected);
    }
}

#[test]
fn llama_cpp_keeps_the_experts_it_cannot_fit_on_the_host() {
    let c = catalog();
    let hw = machine_with_ram("rtx-4090", 256 << 30);
    let d = deployment(
        &c,
        "r1-0528",
        "ud-iq1_s",
        "llama.cpp",
        1,
        workload(8192, 2048, 4096, 1),
    );
    let m = planned(&d, &hw);
    assert_eq!(m.placement.cpu_expert_layers, 53);
    assert_eq!(launch::command(&d, &m).unwrap(), GOLDEN_LAUNCH_OFFLOAD);
}

// ---- time to answer ---------------------------------------------------------------------------

/// The answer's steps read the cache the answer holds (prompt + half the output on average), so
/// reserving 64K of context instead of 8K for the same 2K-prompt, 4K-answer request changes the
/// time to answer by nothing but rounding; computed at the full context it would grow by
/// (4096 − 1) steps × the KV read of the extra 56K tokens.
#[test]
fn time_to_answer_reads_the_cache_the_answer_holds() {
    let c = catalog();
    let hw = machine("h100-sxm");
    let answer = |context| {
        let d = deployment(
            &c,
            "7b",
            "bf16",
            "vllm",
            1,
            workload(context, 2048, 4096, 1),
        );
        estimate(&d, &hw, &planned(&d, &hw)).time_to_answer_ms
    };
    let (short, long) = (answer(8192), answer(65536));
    assert!(
        (long - short).abs() < 1e-6 * short,
        "{short} ms vs {long} ms"
    );
}

/// Time to answer = TTFT + (output − 1) decode steps at the mean cache of the answer. By hand for
/// the 7B (Qwen2 7B: 28 layers × 4 KV heads × 128 dims × K and V × 2 bytes = 57,344 bytes per token)
/// on one H100 SXM (3,350 GB/s) under vLLM (η 0.80): the mean step after the first token reads the
/// cache at 2048 + 4096/2 = 4096 tokens, 4096 × 57,344 B = 234.9 MB, 0.0876 ms more than the
/// weights-and-fixed step at an empty cache.
#[test]
fn time_to_answer_is_ttft_plus_the_remaining_steps_at_the_mean_cache() {
    let c = catalog();
    let hw = machine("h100-sxm");
    let d = deployment(&c, "7b", "bf16", "vllm", 1, workload(8192, 2048, 4096, 1));
    let m = planned(&d, &hw);
    assert_eq!(m.kv_bytes_per_token, 28 * 4 * 128 * 2 * 2);
    let p = estimate(&d, &hw, &m);
    let kv_at_mean_ms = 4096.0 * 57_344.0 / (0.80 * 3350e9) * 1e3;
    let empty_step = p.tpot_ms - p.breakdown.kv_ms;
    let by_hand = p.ttft_ms + 4095.0 * (empty_step + kv_at_mean_ms);
    crate::util::assert_within("time to answer", p.time_to_answer_ms, by_hand, 1e-9);
}
