//! Fit decisions that must match reality.

use r1pick::sizing::{KvDtype, plan};

use crate::util::{catalog, deployed, machine, workload};

fn fits(model: &str, quant: &str, engine: &str, gpu: &str, context: u32) -> bool {
    sized(model, quant, engine, gpu, context, 1).fits
}

#[test]
fn the_671b_in_fp8_needs_more_than_8_h100() {
    assert!(!fits("671b", "fp8", "vllm", "h100-sxm:8", 8192));
    assert!(fits("671b", "fp8", "vllm", "h200:8", 8192));
    assert!(fits("671b", "fp8", "sglang", "h200:8", 32768));
}

#[test]
fn the_70b_in_bf16_does_not_fit_one_80gb_gpu() {
    assert!(!fits("70b", "bf16", "vllm", "h100-sxm", 4096));
    assert!(!fits("70b", "bf16", "vllm", "a100-sxm-80gb", 4096));
    assert!(fits("70b", "bf16", "vllm", "h100-sxm:2", 8192));
}

#[test]
fn the_7b_in_bf16_fits_a_24gb_gpu_at_8k() {
    assert!(fits("7b", "bf16", "vllm", "rtx-4090", 8192));
    assert!(fits("7b", "bf16", "llama.cpp", "rtx-4090", 8192));
    assert!(!fits("14b", "bf16", "vllm", "rtx-4090", 8192));
}

fn sized(
    model: &str,
    quant: &str,
    engine: &str,
    gpu: &str,
    context: u32,
    concurrency: u32,
) -> r1pick::sizing::MemoryPlan {
    let c = catalog();
    let hw = machine(gpu);
    let d = deployed(
        c.model(model).unwrap(),
        c.quant(quant).unwrap(),
        c.engine(engine).unwrap(),
        hw.gpu_count(),
        KvDtype::Bf16,
        workload(context, 1024, 1024, concurrency),
    );
    plan(&d, &hw).unwrap()
}

/// GQA KV heads split across tensor-parallel ranks; the MLA latent is replicated on every rank.
#[test]
fn tensor_parallel_splits_kv_heads_but_replicates_the_mla_latent() {
    let one = sized("70b", "fp8", "vllm", "h100-sxm", 32768, 4);
    let two = sized("70b", "fp8", "vllm", "h100-sxm:2", 32768, 4);
    // 327,680 B/token × 32,768 × 4 sequences on one GPU; half of it on each of two
    assert_eq!(one.gpus[0].kv_cache, 327_680 * 32_768 * 4);
    assert_eq!(two.gpus[0].kv_cache, one.gpus[0].kv_cache / 2);
    assert!(two.gpus[0].weights < one.gpus[0].weights / 2 + (1 << 30));
    let r1_8 = sized("671b", "fp8", "vllm", "h200:8", 32768, 4);
    // vLLM: "8x KV cache duplication" of the one MLA head under -tp 8 (formulas.md §5)
    assert_eq!(r1_8.gpus[0].kv_cache, 70_272 * 32_768 * 4);
    assert_eq!(r1_8.kv_cache_bytes, 8 * 70_272 * 32_768 * 4);
}

/// The 1.5B has 2 KV heads: at TP 4 each rank still holds one (vLLM replicates, never below one).
#[test]
fn kv_heads_never_split_below_one_per_rank() {
    let tp4 = sized("1.5b", "bf16", "vllm", "h100-sxm:4", 8192, 1);
    assert_eq!(tp4.gpus[0].kv_cache, 28 * 2 * 128 * 2 * 8192);
}

#[test]
fn llama_cpp_splits_layers_across_gpus_and_spills_to_host() {
    // 70B Q4_K_M (42.5 GB) on two 24 GB cards: whole layers on each, nothing on the CPU
    let two = sized("70b", "q4_k_m", "llama.cpp", "rtx-4090:2", 8192, 1);
    assert!(two.fits);
    assert_eq!(two.placement.cpu_layers, 0);
    assert_eq!(two.placement.layers_per_gpu.iter().sum::<u32>(), 80);
    assert!(two.placement.layers_per_gpu.iter().all(|&l| l > 30));
    // on one card it spills layers to host memory
    let one = sized("70b", "q4_k_m", "llama.cpp", "rtx-4090", 8192, 1);
    assert!(one.fits, "partial offload fits with the default host RAM");
    assert!(one.placement.cpu_layers > 30 && one.placement.gpu_layers > 30);
    assert!(one.host_bytes > 18 << 30);
    // vLLM cannot offload: the same model does not fit one card
    assert!(!sized("70b", "int4", "vllm", "rtx-4090", 8192, 1).fits);
}

/// llama.cpp --fit moves the routed experts of the 671B to the CPU before whole layers
/// (--n-cpu-moe), keeping attention and shared experts on the GPU.
#[test]
fn the_671b_on_one_gpu_keeps_attention_on_the_gpu_and_experts_in_ram() {
    let c = catalog();
    let hw = crate::util::machine_with_ram("rtx-4090", 256 << 30);
    let d = deployed(
        c.model("r1-0528").unwrap(),
        c.quant("ud-iq1_s").unwrap(),
        c.engine("llama.cpp").unwrap(),
        1,
        KvDtype::Bf16,
        workload(8192, 1024, 1024, 1),
    );
    let p = plan(&d, &hw).unwrap();
    assert!(p.fits);
    assert_eq!(p.placement.cpu_layers, 0);
    assert!(p.placement.cpu_expert_layers >= 50, "{:?}", p.placement);
    assert!(p.host_bytes > 100 << 30);
}

#[test]
fn more_context_and_sequences_need_more_memory() {
    let small = sized("14b", "bf16", "vllm", "h100-sxm", 8192, 1);
    let long = sized("14b", "bf16", "vllm", "h100-sxm", 65536, 1);
    let many = sized("14b", "bf16", "vllm", "h100-sxm", 8192, 8);
    assert!(long.kv_cache_bytes == 8 * small.kv_cache_bytes);
    assert!(many.kv_cache_bytes == 8 * small.kv_cache_bytes);
    assert!(long.total_bytes > small.total_bytes);
}

/// llama.cpp's default layer split is proportional to free memory when everything fits; the JSON
/// gives each device's share.
#[test]
fn a_mixed_pair_splits_layers_by_memory_and_reports_each_device() {
    let out = crate::util::r1pick()
        .args(["size", "32b", "--quant", "q4_k_m", "--engine", "llama.cpp"])
        .args(["--gpu", "rtx-4090", "--gpu", "rtx-3060", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = v["memory"]["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3); // gpu0, gpu1, host
    let weights = |i: usize| devices[i]["weights_bytes"].as_u64().unwrap();
    // 24 GB vs 12 GB: about two thirds of the layers on the 4090
    let share = weights(0) as f64 / (weights(0) + weights(1)) as f64;
    assert!((0.6..0.72).contains(&share), "{share}");
    assert_eq!(devices[2]["device"], "host");
}
