//! Memory as the engines really allocate it (issue 10): the weights each tensor-parallel rank
//! loads, the KV capacity the engine's rule leaves, and the engines' log lines (serving.md §C).

use r1pick::sizing::capacity::{GpuBudget, KvRule, forward_peak, pool_bytes, profile_activation};
use r1pick::sizing::support::valid_tp;
use r1pick::sizing::weights::checkpoint_bytes;
use r1pick::sizing::{Deployment, KvDtype, MemoryPlan, plan};

use r1pick::catalog::Catalog;
use r1pick::catalog::engine::ActivationRule;

use crate::util::{self, DISTILL_PARAMS, assert_within, catalog, machine};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One sequence of `context` tokens of `model` × `quant` on `engine` over `gpus` GPUs.
fn deployment<'a>(
    c: &'a Catalog,
    model: &str,
    quant: &str,
    engine: &str,
    gpus: u32,
    context: u32,
) -> Deployment<'a> {
    util::deployment(
        c,
        model,
        quant,
        engine,
        gpus,
        util::workload(context, 1, 1, 1),
    )
}

fn sized(model: &str, quant: &str, engine: &str, gpu: &str, context: u32) -> MemoryPlan {
    let c = catalog();
    let hw = machine(gpu);
    plan(
        &deployment(&c, model, quant, engine, hw.gpu_count(), context),
        &hw,
    )
    .unwrap()
}

/// Weight bytes rank `g` loads.
fn rank_weights(p: &MemoryPlan, g: usize) -> f64 {
    p.gpus[g].weights as f64
}

/// Exact parameter recounts of the distills' config.json (models.md §1a): the BF16 checkpoint is
/// 2 bytes each. Every rank holds an embedding shard and an lm_head shard, so the ranks together
/// load the checkpoint once — not one vocabulary table short (−13% for the 1.5B before).
#[test]
fn tensor_parallel_ranks_together_load_the_bf16_checkpoint() {
    let c = catalog();
    let mut checked = 0;
    for (alias, params) in DISTILL_PARAMS {
        let valid = valid_tp(c.model(alias).unwrap(), 4);
        for tp in [1u32, 2, 4].into_iter().filter(|t| valid.contains(t)) {
            let p = sized(alias, "bf16", "vllm", &format!("h200:{tp}"), 4096);
            let sum: f64 = (0..tp as usize).map(|g| rank_weights(&p, g)).sum();
            assert_within(
                &format!("{alias} BF16 TP{tp}"),
                sum,
                params as f64 * 2.0,
                0.01,
            );
            checked += 1;
        }
    }
    // TP 1, 2 and 4 split every distill (the 7B's 28 heads and 4 KV heads, the 1.5B's 12 and 2).
    assert_eq!(checked, 18);
}

/// INT4 keeps the 16-bit embedding and head (W4A16 quantizes the linear layers only): the ranks
/// together still load the whole checkpoint, vocab shards once per rank. The 1.5B was −29% before.
#[test]
fn tensor_parallel_ranks_together_load_the_int4_checkpoint() {
    let c = catalog();
    for alias in [
        "1.5b",
        "7b",
        "8b",
        "14b",
        "32b",
        "70b",
        "deepseek-r1-0528-qwen3-8b",
    ] {
        let model = c.model(alias).unwrap();
        if !model.quants.iter().any(|q| q == "int4") {
            continue;
        }
        let file = checkpoint_bytes(model, c.quant("int4").unwrap());
        for tp in [1u32, 2, 4] {
            let p = sized(alias, "int4", "trtllm", &format!("h200:{tp}"), 4096);
            let sum: f64 = (0..tp as usize).map(|g| rank_weights(&p, g)).sum();
            assert_within(&format!("{alias} INT4 TP{tp}"), sum, file, 0.01);
        }
    }
}

/// HabanaAI/vllm-fork #809: DeepSeek-R1 FP8 on 8 devices, TP8, "weights 79.41 GiB per device".
#[test]
fn r1_fp8_loads_79_4_gib_per_gpu_on_eight_h200() {
    let p = sized("671b", "fp8", "vllm", "h200:8", 8192);
    for g in 0..8 {
        assert_within(
            "R1 FP8 TP8 GiB per rank",
            rank_weights(&p, g) / GIB,
            79.41,
            0.005,
        );
    }
}

/// Two pipeline stages of 61 layers: vLLM's get_pp_indices gives the first 31 and the second 30;
/// the first holds the embedding, the second the head. Each is sized by what it holds, not an
/// average of 30.5 layers.
#[test]
fn pipeline_stages_are_sized_by_the_layers_they_hold() {
    let p = sized("671b", "fp8", "vllm", "h100-sxm:16", 8192);
    assert_eq!(p.placement.pipeline_stages, 2);
    assert_eq!(p.placement.layers_per_gpu, vec![31, 30]);
    // KV: 70,272 B per token over 61 layers is 1,152 B per layer-token; 8,192 tokens.
    assert_eq!(p.gpus[0].kv_cache, 1_152 * 31 * 8192);
    assert_eq!(p.gpus[8].kv_cache, 1_152 * 30 * 8192);
    // The first stage's 31 layers are R1's 3 dense ones and 28 MoE; the second's 30 are all MoE
    // (≈ 1.3 GiB per rank each in FP8): the second stage is the heavier by about two MoE layers
    // less three dense ones, and the plan is sized by it.
    let heavier = rank_weights(&p, 8) - rank_weights(&p, 0);
    assert!(
        heavier > 2.0 * GIB && heavier < 3.0 * GIB,
        "{}",
        heavier / GIB
    );
    assert_eq!(p.per_gpu_bytes, p.gpus[8].total);
}

// ---- The engines' log lines against r1pick (serving.md §C; README "Memory against engine logs") ----

/// vLLM #10517: Llama-3.1-8B BF16 (R1-Distill-Llama-8B's architecture) on an RTX 3090:
/// "Loading model weights took 14.9888 GB" (GiB).
#[test]
fn log_vllm_llama_8b_weights() {
    let p = sized("8b", "bf16", "vllm", "rtx-3090", 4096);
    assert_within("weights GiB", rank_weights(&p, 0) / GIB, 14.9888, 0.03);
}

/// vLLM #13061: R1-Distill-Qwen-14B BF16 on 2×RTX 4090, TP2: 13.9476 GiB per rank.
#[test]
fn log_vllm_qwen_14b_tp2_weights() {
    let p = sized("14b", "bf16", "vllm", "rtx-4090:2", 4096);
    for g in 0..2 {
        assert_within(
            "weights GiB per rank",
            rank_weights(&p, g) / GIB,
            13.9476,
            0.03,
        );
    }
}

/// vLLM PR #12569: Llama-3.1-70B W8A8 (R1-Distill-Llama-70B's architecture) on one GPU: 67.7229 GiB.
#[test]
fn log_vllm_llama_70b_w8a8_weights() {
    let c = catalog();
    let hw = machine("h200");
    let d = deployment(&c, "70b", "int8", "vllm", 1, 2048);
    let p = plan(&d, &hw).unwrap();
    assert_within("weights GiB", rank_weights(&p, 0) / GIB, 67.7229, 0.03);
}

/// vLLM #10517 again, end to end: r1pick's own weights (not the logged ones) through vLLM's rule
/// (0.90 × 23.58 GiB − weights − 0.35 GiB non-torch − the profiling peak of a max_model_len forward,
/// V0 without chunked prefill) give the logged KV capacity: 31,232 tokens at max_model_len 20,000
/// and 23,648 at 29,000.
#[test]
fn log_vllm_llama_8b_kv_capacity_tokens() {
    let c = catalog();
    let weights = rank_weights(&sized("8b", "bf16", "vllm", "rtx-3090", 4096), 0);
    for (len, logged) in [(20_000u32, 31_232.0), (29_000, 23_648.0)] {
        let d = deployment(&c, "8b", "bf16", "vllm", 1, len);
        let gpu = GpuBudget {
            total: 23.58 * GIB,
            free: 23.58 * GIB,
            weights,
            // V0 on one GPU: the sampler's warm-up on 256 sequences (1.31 GiB with the
            // forward's output) stays below the forward's peak, 2.06 / 2.99 GiB.
            activation: profile_activation(&d, len, 256, 1, 9.5),
            non_torch: 0.35 * GIB,
        };
        let pool = pool_bytes(
            &KvRule::TotalFraction {
                fraction: 0.9,
                sampler_copies: 9.5,
            },
            &gpu,
            1,
        );
        let tokens = pool / 131_072.0;
        assert_within(&format!("KV tokens at {len}"), tokens, logged, 0.03);
    }
}

/// vLLM #13061 end to end: utilisation 0.98 of 23.55 GiB per 4090, r1pick's 14B TP2 rank weights,
/// 0.25 GiB non-torch, a 2048-token profile forward: "KV cache 8.69 GiB" per rank. That line is
/// rank 1's: the capacity of 81,536 tokens is the driver's (next test).
#[test]
fn log_vllm_qwen_14b_tp2_kv_pool() {
    let c = catalog();
    let weights = rank_weights(&sized("14b", "bf16", "vllm", "rtx-4090:2", 4096), 0);
    let d = deployment(&c, "14b", "bf16", "vllm", 2, 131_072);
    let gpu = GpuBudget {
        total: 23.08 / 0.98 * GIB,
        free: 23.08 / 0.98 * GIB,
        weights,
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
    assert_within("KV pool GiB per rank", pool / GIB, 8.69, 0.03);
}

/// vLLM #13061's other figure, "max tokens in KV cache (81536)": 8.69 GiB at 96 KiB per token per
/// rank (48 layers × 4 of the 8 KV heads × 128 × K,V × 2 B) would be 94,918 tokens. V0 gathers the
/// logits to the driver rank, which alone samples in the profile run: 256 sequences (max_num_seqs)
/// × 152,064 vocab, sorted for top-k/top-p, 9.5 fp32 copies at the peak (data/serving.toml) plus
/// the forward's 2048 hidden states = 1.40 GiB, where rank 1 peaks at 0.19 GiB. vLLM takes the
/// smaller rank's pool. From the logged weights and non-torch memory: 81,744 tokens, +0.26%.
#[test]
fn log_vllm_qwen_14b_tp2_driver_rank_sampler_sets_the_kv_capacity() {
    let c = catalog();
    let d = deployment(&c, "14b", "bf16", "vllm", 2, 131_072);
    let activation = profile_activation(&d, 2048, 256, 2, 9.5);
    assert_within("driver's profile peak GiB", activation / GIB, 1.397, 0.001);
    let gpu = GpuBudget {
        total: 23.08 / 0.98 * GIB,
        free: 23.08 / 0.98 * GIB,
        weights: 13.9476 * GIB,
        activation,
        non_torch: 0.25 * GIB,
    };
    let rule = KvRule::TotalFraction {
        fraction: 0.98,
        sampler_copies: 9.5,
    };
    let tokens = (pool_bytes(&rule, &gpu, 2) / 98_304.0) as u64 / 16 * 16;
    assert_eq!(tokens, 81_744);
    assert_within("driver rank's KV tokens", tokens as f64, 81_536.0, 0.005);
}

/// The KV dtype is part of the plan's KV bytes: FP8 halves vLLM's cache.
#[test]
fn fp8_kv_cache_is_half_of_bf16() {
    let c = catalog();
    let hw = machine("h100-sxm");
    let mut d = deployment(&c, "8b", "bf16", "vllm", 1, 8192);
    let bf16 = plan(&d, &hw).unwrap().gpus[0].kv_cache;
    d.kv_dtype = KvDtype::Fp8;
    assert_eq!(plan(&d, &hw).unwrap().gpus[0].kv_cache * 2, bf16);
}

/// The 671B GGUF cache layout belongs to the file: unsloth's January 2025 R1 quants are pre-MLA
/// conversions (4,997,120 B per token on every llama.cpp build; Ollama #8447 logged 9760 MiB at
/// n_ctx 2048 = 4,997,120 × 2048 B), the 0528 conversions are MLA (70,272 B on current builds).
/// `--mla-kv` still overrides; vLLM loads the FP8 safetensors with its latent cache.
#[test]
fn the_671b_gguf_cache_layout_follows_the_artifact() {
    use r1pick::catalog::MlaKvLayout;
    let c = catalog();
    let hw = machine("h200:8");
    let per_token = |model: &str, quant: &str, engine: &str, layout: Option<MlaKvLayout>| {
        let mut d = deployment(&c, model, quant, engine, 8, 2048);
        d.mla_kv = layout;
        plan(&d, &hw).unwrap().kv_bytes_per_token
    };
    assert_eq!(
        per_token("deepseek-r1", "ud-iq1_s", "llama.cpp", None),
        4_997_120
    );
    assert_eq!(
        per_token("deepseek-r1", "q4_k_m", "ollama", None),
        4_997_120
    );
    let ollama = plan(
        &deployment(&c, "deepseek-r1", "q4_k_m", "ollama", 8, 2048),
        &hw,
    )
    .unwrap();
    assert_eq!(ollama.kv_cache_bytes, 9760 << 20);
    assert_eq!(
        per_token("deepseek-r1-0528", "ud-iq1_s", "llama.cpp", None),
        70_272
    );
    assert_eq!(per_token("deepseek-r1", "fp8", "vllm", None), 70_272);
    let latent_v = Some(MlaKvLayout::LatentV);
    assert_eq!(
        per_token("deepseek-r1", "ud-iq1_s", "llama.cpp", latent_v),
        132_736
    );
}

/// `--n-cpu-moe N` keeps the experts of layers 0..N on the CPU, and R1's first 3 layers are
/// dense: the command prints 3 + the expert blocks sizing moved, and those are the first MoE
/// layers, the same ones the GPU's bytes leave out (issue 10 item 3: it printed the count, so
/// three fewer blocks left than were sized).
#[test]
fn n_cpu_moe_counts_layers_from_the_first_and_sizing_agrees() {
    use r1pick::decide::launch;
    use r1pick::sizing::WeightBytes;
    let c = catalog();
    let hw = crate::util::machine_with_ram("h100-sxm", 512 << 30);
    let d = deployment(&c, "r1-0528", "ud-iq1_s", "llama.cpp", 1, 8192);
    let p = plan(&d, &hw).unwrap();
    let moved = p.placement.cpu_expert_layers as usize;
    assert!(moved > 0 && moved < 58, "{moved}");
    let n = 3 + moved;
    let command = launch::command(&d, &p).unwrap();
    assert!(command.contains(&format!(" --n-cpu-moe {n} ")), "{command}");
    let w = WeightBytes::of(d.model, d.quant);
    for (l, on) in p.placement.experts_on_gpu.iter().enumerate() {
        assert_eq!(*on, l >= n || w.layers[l].experts == 0, "layer {l}");
    }
    // GPU: every layer's attention and shared expert, the routed experts of layers n.., the head.
    let gpu: f64 = w.layers.iter().map(|l| l.non_expert()).sum::<f64>()
        + w.layers[n..].iter().map(|l| l.routed()).sum::<f64>()
        + w.output;
    assert_within("GPU weights", p.gpus[0].weights as f64, gpu, 1e-9);
    assert_within(
        "host weights",
        p.host.weights as f64,
        w.embedding + w.layers[..n].iter().map(|l| l.routed()).sum::<f64>(),
        1e-9,
    );
}

/// SGLang across two nodes launches one TP16 group (`--tp 16 --nnodes 2`), so it is sized as TP16:
/// every rank holds 1/16 of the sharded weights and the whole MLA cache of all 61 layers (it was
/// sized as TP8 × PP2, half the cache per GPU of what runs).
#[test]
fn sglang_across_two_nodes_is_sized_as_the_tp16_it_launches() {
    use r1pick::decide::launch;
    let c = catalog();
    let hw = machine("h100-sxm:16");
    let d = deployment(&c, "671b", "fp8", "sglang", 16, 8192);
    let p = plan(&d, &hw).unwrap();
    assert_eq!(p.placement.tensor_parallel, 16);
    assert_eq!(p.placement.pipeline_stages, 1);
    for g in &p.gpus {
        assert_eq!(g.kv_cache, 70_272 * 8192);
    }
    let command = launch::command(&d, &p).unwrap();
    assert!(
        command.contains(" --tp 16 --nnodes 2 --node-rank 0 "),
        "{command}"
    );
}

/// SGLang's KV pool is its fraction of the memory free at start: 20 GiB held by another process on
/// a probed H100 takes 0.88 × 20 GiB out of it, in bytes and tokens (the 7B's 56 KiB per token);
/// a simulated idle H100 already offers its total less the driver's 480 MiB.
#[test]
fn sglang_sizes_its_pool_from_the_free_memory_of_a_probed_gpu() {
    let c = catalog();
    let d = deployment(&c, "7b", "bf16", "sglang", 1, 4096);
    let idle = machine("h100-sxm");
    assert_eq!(idle.gpus[0].available_bytes, (81_559 - 480) << 20);
    let mut busy = idle.clone();
    busy.gpus[0].available_bytes -= 20 << 30;
    let pool = |hw: &r1pick::hardware::Hardware| {
        let mem = plan(&d, hw).unwrap();
        r1pick::serving::kv_capacity_of(&d, hw, &mem)
            .unwrap()
            .pool_bytes_per_gpu as f64
    };
    assert_within(
        "pool given up to the other process, GiB",
        (pool(&idle) - pool(&busy)) / GIB,
        0.88 * 20.0,
        0.001,
    );
}

/// vLLM takes gpu_memory_utilization (0.9) of the total memory and refuses to start when less
/// than that is free: a probed H100 with 30 GiB free does not run vLLM at all (it was sized into
/// 0.9 × 30 GiB), while llama.cpp uses what is free.
#[test]
fn vllm_refuses_a_gpu_with_less_free_than_its_utilization() {
    let c = catalog();
    let mut hw = machine("h100-sxm");
    hw.gpus[0].available_bytes = 30 << 30;
    let vllm = plan(&deployment(&c, "1.5b", "bf16", "vllm", 1, 4096), &hw).unwrap();
    assert!(!vllm.fits);
    let why = vllm.shortfall.unwrap();
    assert!(
        why.contains("vLLM refuses to start: GPU 0 has 30.0 GiB free of 79.6 GiB, less than gpu_memory_utilization 0.9 × total (71.7 GiB); lower it to 0.37"),
        "{why}"
    );
    let llama = plan(&deployment(&c, "1.5b", "q4_k_m", "llama.cpp", 1, 4096), &hw).unwrap();
    assert!(llama.fits);
    assert_eq!(llama.gpus[0].capacity, 30 << 30);
    // an idle GPU: 0.9 of the total
    let idle = plan(
        &deployment(&c, "1.5b", "bf16", "vllm", 1, 4096),
        &machine("h100-sxm"),
    )
    .unwrap();
    assert_eq!(
        idle.gpus[0].capacity,
        (0.9 * 85_520_809_984f64).round() as u64
    );
}

/// transformers attends with SDPA by default and generate() keeps the last position's logits
/// only (issue 10 item 5): a 32B at an 8K prompt holds one layer's MLP forward, 2 B × 8192 ×
/// (3 · 27,648 + 3 · 5,120) = 1,610,612,736 B, plus 152,064 fp32 logits = 1,611,220,992 B. The
/// eager rule (`attn_implementation="eager"`) holds 40 heads × 8192² × 2 B of scores, 8 hidden-
/// state copies and the whole prompt's fp32 logits: 11,022,630,912 B. SDPA is 9.41 GB less, the
/// ≈10 GB the issue names.
#[test]
fn transformers_sdpa_sizes_a_32b_8k_prompt_without_the_score_matrix() {
    let v = util::json(&[
        "size",
        "32b",
        "--engine",
        "transformers",
        "--gpu",
        "h100-sxm",
        "--prompt",
        "8k",
        "--context",
        "16k",
    ]);
    let sdpa = v["memory"]["activation_bytes"].as_u64().unwrap();
    assert_eq!(sdpa, 1_611_220_992);
    let c = catalog();
    let mut engine = c.engine("transformers").unwrap().clone();
    engine.memory.activation = ActivationRule::EagerAttention;
    let mut d = deployment(&c, "32b", "bf16", "transformers", 1, 16_384);
    d.engine = &engine;
    d.workload.prompt = 8192;
    let eager = plan(&d, &machine("h100-sxm")).unwrap().gpus[0].activation;
    assert_eq!(eager, 11_022_630_912);
    assert_eq!(eager - sdpa, 9_411_409_920);
}
