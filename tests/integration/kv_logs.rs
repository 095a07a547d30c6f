//! The engines' KV-capacity log lines (serving.md §C) against `sizing::capacity`, end to end: the
//! weights r1pick loads per rank, the engine's memory rule and r1pick's KV bytes per token.

use r1pick::catalog::Catalog;
use r1pick::catalog::model::{Architecture, GqaMoeArch, Model};
use r1pick::serving;
use r1pick::sizing::capacity::{
    KvRule, Profile, forward_peak, free_at_start, kv_capacity, profile_activation,
};
use r1pick::sizing::{Deployment, Workload, plan};

use crate::util::{assert_within, catalog, machine, model_of, workload};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Qwen3-235B-A22B (Qwen/Qwen3-235B-A22B config.json): 94 layers, hidden 4096, 64 query and 4 KV
/// heads of 128, 128 experts of 1536 with 8 per token, vocab 151,936, untied embeddings, QK norm.
fn qwen3_235b() -> Model {
    let arch = GqaMoeArch {
        layers: 94,
        dense_layers: 0,
        hidden: 4096,
        ffn: 12288,
        moe_ffn: 1536,
        experts: 128,
        experts_per_token: 8,
        heads: 64,
        kv_heads: 4,
        head_dim: 128,
        vocab: 151_936,
        tied_embeddings: false,
        qkv_bias: false,
        qk_norm: true,
        sliding_window: None,
    };
    model_of(
        "qwen3-235b-a22b",
        "Qwen3-235B-A22B",
        Architecture::GqaMoe(arch),
        "fp8",
    )
}

fn on_four_h100<'a>(c: &'a Catalog, model: &'a Model, engine: &str) -> Deployment<'a> {
    let workload = Workload {
        context: 32_768,
        prompt: 1,
        output: 1,
        concurrency: 1,
    };
    Deployment::new(
        model,
        c.quant("fp8").unwrap(),
        c.engine(engine).unwrap(),
        4,
        workload,
    )
}

/// vLLM issue #21348: Qwen3-235B-A22B-FP8 on 4×H100, TP4. SGLang with `--mem-fraction-static 0.93`
/// logs "KV Cache is allocated. #tokens: 367404, K size: 8.23 GB, V size: 8.23 GB"; vLLM (0.9.x,
/// July 2025) at its default 0.9 logs "Available KV cache memory: 8.11 GiB" and "GPU KV cache size:
/// 178,880 tokens" (the smallest rank's pool; 8.02 GiB at 48,128 B per token).
///
/// r1pick's KV bytes per token per rank reproduce SGLang's K size from its token count (asserted).
/// The pools are printed with what each rule counts, not asserted: both engines keep 1.3 to 2.6 GiB
/// per rank more than their rules explain (see the README's engine-log table).
/// * vLLM: 0.9 × 79.65 GiB − 55.12 weights − 0.34 non-torch − the profile peak, the sampler warm-up
///   on 1024 sequences × 151,936 vocab plus the forward's 8192 hidden states (it exceeds the MoE
///   forward's 0.33 GiB): 2.09 GiB with FlashInfer's sampler (r1pick's default) leaves 14.1 GiB,
///   5.57 GiB with the native sort (a pip install without FlashInfer) 10.6 GiB, not 8.0.
/// * SGLang: 0.93 × (79.18 free on an idle H100 − 0.39 CUDA context − 0.38 NCCL) − 55.12 leaves
///   17.8 GiB, not 16.5.
#[test]
fn qwen3_235b_fp8_kv_bytes_match_sglangs_log_and_its_pools_are_printed() {
    let c = catalog();
    let model = qwen3_235b();
    let hw = machine("h100-sxm:4");
    let d = on_four_h100(&c, &model, "sglang");
    let mem = plan(&d, &hw).unwrap();
    // 94 layers × 1 of the 4 KV heads per rank × 128 × K,V × 2 B.
    let per_rank = mem.kv_bytes_per_token / 4;
    assert_eq!(per_rank, 48_128);
    let k_gib = 367_404.0 * (per_rank / 2) as f64 / GIB;
    assert_within("SGLang's K size, GiB", k_gib, 8.23, 0.005);
    let profile = Profile {
        tokens: 8192,
        seqs: 1024,
    };
    let rule = KvRule::StaticFraction { by_tp: [0.93; 5] };
    let sglang = kv_capacity(&d, &hw, &mem, &rule, profile, 0.0);
    let v = on_four_h100(&c, &model, "vllm");
    let vmem = plan(&v, &hw).unwrap();
    let vllm = serving::kv_capacity_of(&v, &hw, &vmem).unwrap();
    let peak = profile_activation(&v, 8192, 1024, 4, 9.5);
    let native_rule = KvRule::TotalFraction {
        fraction: 0.9,
        sampler_copies: 9.5,
    };
    let native = kv_capacity(&v, &hw, &vmem, &native_rule, profile, 350.0);
    let pool = |tokens: u64| tokens as f64 * per_rank as f64 / GIB;
    println!(
        "Qwen3-235B FP8 4×H100: weights {:.2} GiB per rank; vLLM 0.9 (log 178,880): FlashInfer sampler {} tokens ({:+.0}%, {:.2} GiB per rank unexplained), native sort (peak {:.2} GiB, forward {:.2}) {} tokens ({:+.0}%, {:.2} GiB unexplained); SGLang 0.93: {} tokens (log 367,404, {:+.0}%, {:.2} GiB per rank unexplained)",
        mem.gpus[0].weights as f64 / GIB,
        vllm.tokens,
        (vllm.tokens as f64 / 178_880.0 - 1.0) * 100.0,
        pool(vllm.tokens) - pool(178_880),
        peak / GIB,
        forward_peak(&v, 8192, 4) / GIB,
        native.tokens,
        (native.tokens as f64 / 178_880.0 - 1.0) * 100.0,
        pool(native.tokens) - pool(178_880),
        sglang.tokens,
        (sglang.tokens as f64 / 367_404.0 - 1.0) * 100.0,
        pool(sglang.tokens) - pool(367_404),
    );
}

/// sglang issue #3416 (2025-02-09): DeepSeek-V3 FP8 on 8×H200, TP8, rank 7: "Load weight end.
/// type=DeepseekV3ForCausalLM, dtype=torch.bfloat16, avail mem=58.12 GB" (SGLang's GB are GiB:
/// get_available_gpu_memory divides by 1 << 30). R1 has V3's architecture. r1pick: what an idle
/// H200 offers (143,771 MiB less the driver's 616) less SGLang's CUDA context and NCCL, less the
/// weights it loads per rank; 59.7 GiB, +2.8%. The weights this implies, 80.9 GiB, are 2.0% above
/// r1pick's 79.3 (vLLM's own log of R1 FP8 at TP8 has 79.41 GiB, memory.rs).
#[test]
fn sglang_free_memory_after_loading_v3_on_eight_h200_matches_its_log() {
    let c = catalog();
    let hw = machine("h200:8");
    let d = Deployment::new(
        c.model("deepseek-r1").unwrap(),
        c.quant("fp8").unwrap(),
        c.engine("sglang").unwrap(),
        8,
        workload(8192, 1024, 1024, 1),
    );
    let mem = plan(&d, &hw).unwrap();
    let weights = mem.gpus.iter().map(|g| g.weights).max().unwrap() as f64;
    let after_load = (free_at_start(&d, &hw, 8) - weights) / GIB;
    assert_within(
        "SGLang's free memory after loading, GiB",
        after_load,
        58.12,
        0.03,
    );
}
