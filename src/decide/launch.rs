//! The command that starts a deployment, from the engine's template in data/engines.toml.

use crate::catalog::model::ModelSource;
use crate::sizing::{Deployment, MemoryPlan};

/// A ready-to-run command for `d` as placed by `mem`.
pub fn command(d: &Deployment, mem: &MemoryPlan) -> String {
    let m = d.model;
    let q = d.quant;
    let p = &mem.placement;
    let w = &d.workload;
    let repo = m.repos.get(&q.id).unwrap_or(&m.hf_repo).clone();
    let gguf_repo = m
        .repos
        .get("gguf")
        .cloned()
        .unwrap_or_else(|| format!("{}-GGUF", m.hf_repo));
    // unsloth names files by type: Q4_K_M, UD-IQ1_S.
    let gguf_tag = match q.id.strip_prefix("ud-") {
        Some(rest) => format!("UD-{}", rest.to_uppercase()),
        None => q.id.to_uppercase(),
    };
    let gguf = format!("{gguf_repo}:{gguf_tag}");
    // vLLM/SGLang quantize BF16 weights to FP8 on load; the 671B ships in FP8 already.
    let quant_flag = match (q.id.as_str(), m.is_moe()) {
        ("fp8", false) => " --quantization fp8".to_string(),
        _ => String::new(),
    };
    let nodes = p.pipeline_stages.max(1);
    let pp_flag = if nodes > 1 {
        format!(" --pipeline-parallel-size {nodes}")
    } else {
        String::new()
    };
    let nnodes_flag = if nodes > 1 {
        format!(" --nnodes {nodes} --node-rank 0 --dist-init-addr HEAD_NODE_IP:5000")
    } else {
        String::new()
    };
    let split_flag = if p.layer_split {
        // proportions: the layers each GPU holds
        let ratios: Vec<String> = p.layers_per_gpu.iter().map(u32::to_string).collect();
        format!(" --split-mode layer --tensor-split {}", ratios.join(","))
    } else {
        String::new()
    };
    // llama.cpp counts layers from the end: -ngl N puts the last N on the GPUs; the output layer counts.
    let ngl = if p.cpu_layers == 0 {
        m.layers() + 1
    } else {
        p.gpu_layers
    };
    let moe_flag = if p.cpu_expert_layers > 0 {
        format!(" --n-cpu-moe {}", p.cpu_expert_layers)
    } else {
        String::new()
    };
    // Ollama: the library tag where one is published, else the GGUF repo through hf.co.
    let ollama_tag = match (q.id.as_str(), &m.ollama_tag) {
        ("q4_k_m", Some(tag)) => tag.clone(),
        _ => m
            .ollama_tags
            .get(&q.id)
            .cloned()
            .unwrap_or_else(|| format!("hf.co/{gguf}")),
    };
    // A GGUF file the user brought is loaded from its path, not fetched from a hub repo.
    let launch = match m.source {
        ModelSource::Gguf => d
            .engine
            .launch
            .replace("-hf {gguf}", &format!("-m {}", m.hf_repo)),
        _ => d.engine.launch.clone(),
    };
    launch
        .replace("{repo}", &repo)
        .replace("{gguf}", &gguf)
        .replace("{tp}", &p.tensor_parallel.to_string())
        .replace("{pp}", &nodes.to_string())
        .replace("{gpus}", &p.gpus.to_string())
        .replace("{pp_flag}", &pp_flag)
        .replace("{nnodes_flag}", &nnodes_flag)
        .replace("{context}", &w.context.to_string())
        .replace("{ctx_total}", &(w.context * w.concurrency).to_string())
        .replace("{concurrency}", &w.concurrency.to_string())
        .replace("{quant_flag}", &quant_flag)
        .replace("{ngl}", &ngl.to_string())
        .replace("{split_flag}", &split_flag)
        .replace("{moe_flag}", &moe_flag)
        .replace("{ollama_tag}", &ollama_tag)
        .replace("{output}", &w.output.to_string())
}
