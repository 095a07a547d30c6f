//! The tensor/pipeline planner: vLLM, SGLang and TRT-LLM shard every layer across a TP group;
//! across nodes, pipeline stages of TP groups each hold a run of layers.

use crate::error::{Error, Result};
use crate::hardware::Hardware;

use super::costs::{activation, capacities, kv_tokens, overhead};
use super::plan::{Deployment, DeviceMemory, MemoryPlan, Parallel, Placement, Spread, Workload};
use super::weights::WeightBytes;
use super::{kv, parallel, support};

pub(super) fn tensor_parallel(
    d: &Deployment,
    hw: &Hardware,
    w: &WeightBytes,
) -> Result<MemoryPlan> {
    let node_tp = d.engine.max_tensor_parallel;
    let dp = d.parallel.dp();
    // One TP group across every GPU when the engine spans nodes that way (size what is launched);
    // with DP attention the group is every GPU too: attention only spans tp / dp of them.
    let max_tp = if (d.engine.tp_across_nodes || dp > 1) && d.engine.multi_node {
        node_tp.max(d.gpus)
    } else {
        node_tp
    };
    let tp = d.tensor_parallel.unwrap_or(d.gpus.min(max_tp));
    if tp == 0 || !d.gpus.is_multiple_of(tp) {
        return Err(Error::input(format!(
            "tensor parallel {tp} does not divide the {} GPUs used",
            d.gpus
        )));
    }
    if tp > max_tp {
        return Err(Error::input(format!(
            "{} runs at most tensor parallel {max_tp} inside one node",
            d.engine.name
        )));
    }
    if let Some(why) = parallel::refusal(d, tp) {
        return Err(Error::input(why));
    }
    let atp = parallel::attention_tp(&d.parallel, tp);
    if dp > 1 && atp > node_tp {
        return Err(Error::input(format!(
            "{} runs attention tensor parallel at most {node_tp} inside one node; --dp {dp} leaves {atp}",
            d.engine.name
        )));
    }
    if let Some(why) = support::tp_refusal(d.model, atp) {
        return Err(Error::input(format!(
            "{why} (valid: {})",
            support::valid_tp(d.model, d.gpus.min(max_tp))
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let pp = d.gpus / tp;
    if pp > 1 && !d.engine.multi_node {
        return Err(Error::input(format!(
            "{} does not span nodes; at most {max_tp} GPUs",
            d.engine.name
        )));
    }
    let layers = d.model.layers();
    if pp > layers {
        return Err(Error::input(format!(
            "{pp} pipeline stages for {layers} layers"
        )));
    }
    let stages = stage_layers(layers, pp);
    let kv_layer_token = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, atp);
    // With DP attention each rank holds only its own sequences' cache.
    let rank_workload = Workload {
        concurrency: parallel::rank_sequences(&d.parallel, d.workload.concurrency),
        ..d.workload
    };
    let tokens = kv_tokens(d.engine, &rank_workload);
    let act = activation(d, tp);
    let over = overhead(d, d.gpus > 1);
    let caps = capacities(d, hw, d.gpus);
    // With MTP on, the last stage also holds the MTP module: one more decoder layer (sharded like
    // the others) with its own KV, and its eh_proj (2h × h); embedding and head are shared.
    let mtp_layer = w.layers.last().filter(|_| d.mtp > 0);
    let (mtp_weights, mtp_kv) = mtp_layer.map_or((0.0, 0.0), |l| {
        let h = f64::from(d.model.hidden());
        let eh_proj = 2.0 * h * h * d.quant.linear_bits_for(true) / 8.0;
        let replicated = l.attention_replicated + l.router;
        let sharded = (l.total() - replicated + eh_proj) / f64::from(tp.max(1)) + replicated;
        (sharded, kv_layer_token * tokens)
    });
    let stage_memory: Vec<(f64, f64)> = stages
        .iter()
        .enumerate()
        .map(|(s, range)| {
            let last = s + 1 == stages.len();
            let mut weights = stage_weights_with(w, range.clone(), tp, s == 0, last, &d.parallel);
            let mut kv = kv_layer_token * range.len() as f64 * tokens;
            if last {
                weights += mtp_weights;
                kv += mtp_kv;
            }
            (weights, kv)
        })
        .collect();
    // GPU g belongs to pipeline stage g / tp (vLLM/SGLang rank order: TP inner, PP outer).
    let gpus: Vec<DeviceMemory> = caps
        .iter()
        .enumerate()
        .map(|(g, &cap)| {
            let (weights, kv) = stage_memory[g / tp as usize];
            DeviceMemory::new(weights, kv, act, over, cap)
        })
        .collect();
    let spread = Spread::Tensor {
        tp,
        stage_layers: stages.iter().map(|r| r.len() as u32).collect(),
    };
    let placement = Placement::new(spread, w, vec![true; layers as usize], 0.0);
    Ok(MemoryPlan::of(
        placement,
        gpus,
        DeviceMemory::new(0.0, 0.0, 0.0, 0.0, hw.host.available_ram_bytes as f64),
    ))
}

/// Layers of each pipeline stage, as vLLM's `get_pp_indices` splits them: ⌊L/pp⌋ each, the
/// remainder one apiece to the stages before the last (the last also holds the head).
pub fn stage_layers(layers: u32, pp: u32) -> Vec<std::ops::Range<usize>> {
    let pp = pp.max(1) as usize;
    let layers = layers as usize;
    let mut counts = vec![layers / pp; pp];
    for i in 0..layers % pp {
        counts[pp - 2 - i % (pp - 1).max(1)] += 1;
    }
    let mut start = 0;
    counts
        .iter()
        .map(|&c| {
            let r = start..start + c;
            start += c;
            r
        })
        .collect()
}

/// Weight bytes one tensor-parallel rank of a pipeline stage loads: its layers' shards plus the
/// replicated tensors, and the vocabulary tables the stage holds. With one stage every rank holds
/// both an embedding shard and an lm_head shard (vLLM `VocabParallelEmbedding` + `ParallelLMHead`,
/// the same in SGLang and TRT-LLM); with several, only the first holds the embedding and the last
/// the head.
pub fn stage_weights(
    w: &WeightBytes,
    layers: std::ops::Range<usize>,
    tp: u32,
    first: bool,
    last: bool,
) -> f64 {
    stage_weights_with(w, layers, tp, first, last, &Parallel::default())
}

/// [`stage_weights`] under expert parallelism and DP attention ([`parallel`]).
pub fn stage_weights_with(
    w: &WeightBytes,
    layers: std::ops::Range<usize>,
    tp: u32,
    first: bool,
    last: bool,
    p: &Parallel,
) -> f64 {
    let tpf = f64::from(tp.max(1));
    let mut bytes: f64 = w.layers[layers]
        .iter()
        .map(|l| parallel::layer_rank_bytes(l, p, tp, parallel::routed_held(l, p)))
        .sum();
    if first {
        bytes += w.embedding / tpf;
    }
    if last {
        bytes += w.output / tpf;
    }
    bytes
}
