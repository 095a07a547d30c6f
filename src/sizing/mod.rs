//! The memory model: how much GPU and host memory a deployment needs, device by device.
//!
//! Pure functions of the catalog entries, the hardware and the workload. Tensor-parallel engines
//! (vLLM, SGLang, TRT-LLM) shard every layer across GPUs; layer-split engines (llama.cpp, Ollama,
//! transformers) give each GPU whole layers and spill what does not fit to host memory.

pub mod artifact;
pub mod capacity;
pub mod kv;
pub mod support;
pub mod weights;

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::engine::{ActivationRule, Engine, MultiGpu};
use crate::catalog::{MlaKvLayout, Model, Quant};
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::quantity::bytes;
pub use kv::KvDtype;
pub use weights::WeightBytes;

const MIB: f64 = 1024.0 * 1024.0;

/// What the deployment serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Workload {
    /// Tokens each sequence holds (prompt + generated); sizes the KV cache.
    pub context: u32,
    /// Tokens of one request's prompt.
    pub prompt: u32,
    /// Tokens generated per request (reasoning + answer).
    pub output: u32,
    /// Sequences served at once.
    pub concurrency: u32,
}

/// One deployment to size: what runs, how, on how many of the machine's GPUs.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    pub model: &'a Model,
    pub quant: &'a Quant,
    pub engine: &'a Engine,
    /// GPUs of the machine used (the first `gpus`); 0 runs on the CPU.
    pub gpus: u32,
    /// Tensor-parallel degree asked for; `None` picks the engine's natural one.
    pub tensor_parallel: Option<u32>,
    pub kv_dtype: KvDtype,
    /// MLA cache layout; `None` takes the engine's.
    pub mla_kv: Option<MlaKvLayout>,
    pub workload: Workload,
}

impl<'a> Deployment<'a> {
    /// `model` × `quant` on `engine` over the first `gpus` GPUs, with the engine's own tensor
    /// parallelism and MLA layout and a BF16 KV cache.
    pub fn new(
        model: &'a Model,
        quant: &'a Quant,
        engine: &'a Engine,
        gpus: u32,
        workload: Workload,
    ) -> Self {
        Deployment {
            model,
            quant,
            engine,
            gpus,
            tensor_parallel: None,
            kv_dtype: KvDtype::Bf16,
            mla_kv: None,
            workload,
        }
    }

    /// The MLA cache layout: `--mla-kv`, else the GGUF artifact's own (a pre-MLA conversion),
    /// else the engine's.
    pub fn mla_layout(&self) -> MlaKvLayout {
        let artifact = self
            .model
            .gguf_mla_kv
            .filter(|_| self.quant.format == crate::catalog::quant::QuantFormat::Gguf);
        self.mla_kv.or(artifact).unwrap_or(self.engine.mla_kv)
    }
}

/// How the model is spread over devices.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Placement {
    pub gpus: u32,
    pub tensor_parallel: u32,
    /// Pipeline stages of `tensor_parallel` GPUs each (multi-node).
    pub pipeline_stages: u32,
    /// Whole layers per GPU, run one after another.
    pub layer_split: bool,
    pub gpu_layers: u32,
    pub cpu_layers: u32,
    /// Layers whose routed experts sit in host memory (llama.cpp `--n-cpu-moe`).
    pub cpu_expert_layers: u32,
    /// Weight bytes kept in host memory.
    pub offloaded_bytes: u64,
    /// Layers on each GPU (layer split) or per pipeline stage.
    pub layers_per_gpu: Vec<u32>,
    /// Per layer: routed experts on the GPU (true) or in host memory.
    #[serde(skip)]
    pub experts_on_gpu: Vec<bool>,
}

/// Memory of one device, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, JsonSchema)]
pub struct DeviceMemory {
    pub weights: u64,
    pub kv_cache: u64,
    pub activation: u64,
    pub overhead: u64,
    pub total: u64,
    /// What the engine may use on this device.
    pub capacity: u64,
}

impl DeviceMemory {
    fn new(weights: f64, kv: f64, activation: f64, overhead: f64, capacity: f64) -> Self {
        let r = |x: f64| x.max(0.0).round() as u64;
        DeviceMemory {
            weights: r(weights),
            kv_cache: r(kv),
            activation: r(activation),
            overhead: r(overhead),
            total: r(weights) + r(kv) + r(activation) + r(overhead),
            capacity: r(capacity),
        }
    }

    pub fn fits(&self) -> bool {
        self.total <= self.capacity
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MemoryPlan {
    pub placement: Placement,
    pub gpus: Vec<DeviceMemory>,
    pub host: DeviceMemory,
    /// KV bytes per token of one sequence, whole model, on one device.
    pub kv_bytes_per_token: u64,
    pub weights_bytes: u64,
    pub kv_cache_bytes: u64,
    pub activation_bytes: u64,
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    pub per_gpu_bytes: u64,
    pub per_gpu_capacity_bytes: u64,
    pub host_bytes: u64,
    pub fits: bool,
    /// Why it does not fit, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
}

/// Plan the memory of `d` on `hw`. Errors are impossible requests (bad TP degree, too few GPUs);
/// a deployment that is merely too big returns a plan with `fits: false` and the shortfall.
pub fn plan(d: &Deployment, hw: &Hardware) -> Result<MemoryPlan> {
    plan_with(d, hw, &WeightBytes::of(d.model, d.quant))
}

/// [`plan`] with the model's weight breakdown already computed (the search reuses it).
pub fn plan_with(d: &Deployment, hw: &Hardware, weights: &WeightBytes) -> Result<MemoryPlan> {
    if d.gpus as usize > hw.gpus.len() {
        return Err(Error::input(format!(
            "the deployment wants {} GPUs but the machine has {}",
            d.gpus,
            hw.gpus.len()
        )));
    }
    let w = d.workload;
    if w.concurrency == 0 || w.context == 0 {
        return Err(Error::input("context and concurrency must be at least 1"));
    }
    if w.concurrency > 1 && d.engine.batching == crate::catalog::engine::Batching::Single {
        return Err(Error::input(format!(
            "{} serves one sequence at a time; --concurrency {} needs a batching engine (vllm, sglang, trtllm, llama.cpp)",
            d.engine.id, w.concurrency
        )));
    }
    if w.context > d.model.max_context {
        return Err(Error::input(format!(
            "context {} is above {}'s maximum of {} tokens",
            w.context, d.model.id, d.model.max_context
        )));
    }
    if let Some(why) = support::kv_dtype_refusal(d.engine, d.kv_dtype) {
        return Err(Error::input(why));
    }
    let kv_per_token = kv::per_token(d.model, d.mla_layout(), d.kv_dtype);
    let mut plan = if d.gpus == 0 {
        cpu_only(d, hw, weights)
    } else {
        match d.engine.multi_gpu {
            MultiGpu::Tensor => tensor_parallel(d, hw, weights)?,
            MultiGpu::Layer => layer_split(d, hw, weights),
        }
    };
    plan.kv_bytes_per_token = kv_per_token.round() as u64;
    if plan.fits
        && let Some(why) = startup_refusal(d, hw)
    {
        plan.fits = false;
        plan.shortfall = Some(why);
    }
    Ok(plan)
}

/// Tokens of KV one device must hold for all sequences, rounded up to the engine's blocks.
fn kv_tokens(engine: &Engine, w: &Workload) -> f64 {
    let block = u64::from(engine.memory.kv_block_tokens.max(1));
    let round = |t: u64| t.div_ceil(block) * block;
    match engine.batching {
        crate::catalog::engine::Batching::Continuous => {
            (round(u64::from(w.context)) * u64::from(w.concurrency)) as f64
        }
        // llama-server: one n_ctx shared by all slots, padded as a whole.
        crate::catalog::engine::Batching::Slots | crate::catalog::engine::Batching::Single => {
            round(u64::from(w.context) * u64::from(w.concurrency)) as f64
        }
    }
}

/// Peak activation / compute-buffer bytes on one GPU.
fn activation(d: &Deployment, tp: u32) -> f64 {
    let m = d.model;
    let w = d.workload;
    let h = f64::from(m.hidden());
    match &d.engine.memory.activation {
        ActivationRule::Coefficients {
            dense,
            moe,
            scale,
            floor_mib,
        } => {
            let tokens = f64::from(d.engine.memory.batched_tokens)
                .min(f64::from(w.context) * f64::from(w.concurrency));
            let idx = match tp {
                0 | 1 => 0,
                2 => 1,
                3 | 4 => 2,
                _ => 3,
            };
            let coeff = if m.is_moe() { moe[idx] } else { dense[idx] };
            (2.0 * tokens * h * coeff * scale).max(floor_mib * MIB)
        }
        ActivationRule::ComputeBuffer => {
            let ubatch = f64::from(d.engine.memory.batched_tokens).min(f64::from(w.context));
            4.0 * ubatch * (h + f64::from(m.vocab()))
        }
        ActivationRule::EagerAttention => {
            let s = f64::from(w.prompt.max(1));
            let b = f64::from(w.concurrency);
            let heads = f64::from(m.heads()) / f64::from(tp.max(1));
            // one layer's scores (bf16) + a handful of hidden-state copies + full-prompt fp32 logits
            b * (heads * s * s * 2.0 + 8.0 * s * h * 2.0 + s * f64::from(m.vocab()) * 4.0)
        }
    }
}

/// Fixed per-GPU memory: runtime, CUDA graphs, NCCL buffers, the engine's free margin.
fn overhead(d: &Deployment, multi_gpu: bool) -> f64 {
    let mem = &d.engine.memory;
    let graphs = if d.model.is_moe() {
        mem.cuda_graphs_moe_mib
    } else {
        mem.cuda_graphs_mib
    };
    let nccl = if multi_gpu { mem.nccl_mib } else { 0.0 };
    (mem.runtime_mib + graphs + nccl + mem.margin_mib) * MIB
}

/// Usable bytes of each of the first `n` GPUs under the engine's rule.
fn capacities(d: &Deployment, hw: &Hardware, n: u32) -> Vec<f64> {
    let mem = &d.engine.memory;
    hw.gpus[..n as usize]
        .iter()
        .map(|g| {
            let base = if mem.fraction_of_total {
                g.memory_bytes
            } else {
                g.available_bytes
            };
            base as f64 * mem.gpu_fraction
        })
        .collect()
}

/// vLLM refuses to start on a GPU with less free memory than its utilization × total.
fn startup_refusal(d: &Deployment, hw: &Hardware) -> Option<String> {
    let mem = &d.engine.memory;
    if !mem.fraction_of_total {
        return None;
    }
    hw.gpus[..d.gpus as usize]
        .iter()
        .enumerate()
        .find(|(_, g)| (g.available_bytes as f64) < mem.gpu_fraction * g.memory_bytes as f64)
        .map(|(i, g)| {
            format!(
                "{} refuses to start: GPU {i} has {} free of {}, less than gpu_memory_utilization {} × total ({}); lower it to {:.2} or free the GPU",
                d.engine.name,
                bytes(g.available_bytes),
                bytes(g.memory_bytes),
                mem.gpu_fraction,
                bytes((mem.gpu_fraction * g.memory_bytes as f64) as u64),
                (g.available_bytes as f64 / g.memory_bytes as f64 * 100.0).floor() / 100.0
            )
        })
}

fn tensor_parallel(d: &Deployment, hw: &Hardware, w: &WeightBytes) -> Result<MemoryPlan> {
    let node_tp = d.engine.max_tensor_parallel;
    // One TP group across every GPU when the engine spans nodes that way (size what is launched).
    let max_tp = if d.engine.tp_across_nodes && d.engine.multi_node {
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
    if let Some(why) = support::tp_refusal(d.model, tp) {
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
    let kv_layer_token = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, tp);
    let tokens = kv_tokens(d.engine, &d.workload);
    let act = activation(d, tp);
    let over = overhead(d, d.gpus > 1);
    let caps = capacities(d, hw, d.gpus);
    let stage_memory: Vec<(f64, f64)> = stages
        .iter()
        .enumerate()
        .map(|(s, range)| {
            let weights = stage_weights(w, range.clone(), tp, s == 0, s + 1 == stages.len());
            (weights, kv_layer_token * range.len() as f64 * tokens)
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
    let layers_per_stage = stages.iter().map(|r| r.len() as u32).collect();
    let placement = Placement {
        gpus: d.gpus,
        tensor_parallel: tp,
        pipeline_stages: pp,
        layer_split: false,
        gpu_layers: layers,
        cpu_layers: 0,
        cpu_expert_layers: 0,
        offloaded_bytes: 0,
        layers_per_gpu: layers_per_stage,
        experts_on_gpu: vec![true; layers as usize],
    };
    Ok(finish(
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
    let tpf = f64::from(tp.max(1));
    let mut bytes: f64 = w.layers[layers]
        .iter()
        .map(|l| {
            let replicated = l.attention_replicated + l.router;
            (l.total() - replicated) / tpf + replicated
        })
        .sum();
    if first {
        bytes += w.embedding / tpf;
    }
    if last {
        bytes += w.output / tpf;
    }
    bytes
}

/// Per-GPU costs that do not depend on which layers a GPU holds.
struct SplitCosts {
    kv_per_layer: f64,
    activation: f64,
    overhead: f64,
    capacity: Vec<f64>,
    /// Embedding bytes kept in host memory (llama.cpp) — 0 when it sits on GPU 0.
    host_embedding: f64,
}

/// Which layers sit on which GPU, and which layers keep their routed experts on the GPU.
struct SplitLayout {
    per_gpu: Vec<Vec<usize>>,
    placed: usize,
    experts_on_gpu: Vec<bool>,
}

/// Whole layers on GPUs in order; what does not fit goes to host memory. For MoE models the routed
/// experts leave the GPUs first (llama.cpp `--fit` measures "dense-only" layers first, formulas.md §4).
fn layer_split(d: &Deployment, hw: &Hardware, w: &WeightBytes) -> MemoryPlan {
    let n = d.gpus as usize;
    let layers = w.layers.len();
    let costs = SplitCosts {
        kv_per_layer: kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, 1)
            * kv_tokens(d.engine, &d.workload),
        activation: activation(d, 1),
        overhead: overhead(d, false),
        capacity: capacities(d, hw, d.gpus),
        host_embedding: if d.engine.memory.embeddings_on_host {
            w.embedding
        } else {
            0.0
        },
    };
    // Load of each GPU before any layer: GPU 0 the embedding (unless on host), the last the head.
    let fixed: Vec<f64> = (0..n)
        .map(|i| {
            let mut f = costs.overhead + costs.activation;
            if i == 0 && costs.host_embedding == 0.0 {
                f += w.embedding;
            }
            if i == n - 1 {
                f += w.output;
            }
            f
        })
        .collect();
    let assign = |cost: &dyn Fn(usize) -> f64| -> (Vec<Vec<usize>>, usize) {
        let mut per_gpu = vec![vec![]; n];
        let mut next = 0;
        for (g, list) in per_gpu.iter_mut().enumerate() {
            let mut used = fixed[g];
            while next < layers && used + cost(next) <= costs.capacity[g] {
                used += cost(next);
                list.push(next);
                next += 1;
            }
        }
        (per_gpu, next)
    };
    let full = |l: usize| w.layers[l].total() + costs.kv_per_layer;
    let slim = |l: usize| w.layers[l].non_expert() + costs.kv_per_layer;

    let (mut per_gpu, placed) = assign(&full);
    if placed == layers && n > 1 {
        // Everything fits: llama.cpp's default -sm layer split is proportional to each device's
        // free memory (the front-to-back fill above is what --fit does when it does not).
        if let Some(even) = proportional(layers, &costs.capacity, &fixed, &full) {
            per_gpu = even;
        }
    }
    let mut layout = SplitLayout {
        per_gpu,
        placed,
        experts_on_gpu: vec![true; layers],
    };
    if placed < layers && d.model.is_moe() {
        // Every layer without its routed experts first; then the experts come back from the last
        // layer down while room remains. llama.cpp's `--n-cpu-moe N` keeps the experts of layers
        // 0..N in host memory, so the ones that leave are always the first MoE layers — the one
        // placement sizing, speed and the launch command share.
        let (slim_gpu, slim_placed) = assign(&slim);
        if slim_placed == layers {
            let gpu_of: Vec<usize> = slim_gpu
                .iter()
                .enumerate()
                .flat_map(|(g, list)| list.iter().map(move |_| g))
                .collect();
            let mut used: Vec<f64> = slim_gpu
                .iter()
                .enumerate()
                .map(|(g, list)| fixed[g] + list.iter().map(|&l| slim(l)).sum::<f64>())
                .collect();
            let mut experts_on_gpu: Vec<bool> = w.layers.iter().map(|l| l.experts == 0).collect();
            for l in (0..layers).rev().filter(|&l| w.layers[l].experts > 0) {
                let g = gpu_of[l];
                if used[g] + w.layers[l].routed() > costs.capacity[g] {
                    break;
                }
                used[g] += w.layers[l].routed();
                experts_on_gpu[l] = true;
            }
            layout = SplitLayout {
                per_gpu: slim_gpu,
                placed: layers,
                experts_on_gpu,
            };
        }
    }
    build_layer_plan(d, hw, w, &layout, &costs)
}

/// Layers in proportion to each GPU's capacity (largest remainder), if every GPU still fits.
fn proportional(
    layers: usize,
    capacity: &[f64],
    fixed: &[f64],
    cost: &dyn Fn(usize) -> f64,
) -> Option<Vec<Vec<usize>>> {
    let total: f64 = capacity.iter().sum();
    let shares: Vec<f64> = capacity.iter().map(|c| layers as f64 * c / total).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| s.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        (shares[b] - shares[b].floor()).total_cmp(&(shares[a] - shares[a].floor()))
    });
    for &g in by_remainder
        .iter()
        .take(layers - counts.iter().sum::<usize>())
    {
        counts[g] += 1;
    }
    let mut next = 0;
    let mut per_gpu = Vec::with_capacity(counts.len());
    for (g, &count) in counts.iter().enumerate() {
        let list: Vec<usize> = (next..next + count).collect();
        next += count;
        if fixed[g] + list.iter().map(|&l| cost(l)).sum::<f64>() > capacity[g] {
            return None;
        }
        per_gpu.push(list);
    }
    Some(per_gpu)
}

fn build_layer_plan(
    d: &Deployment,
    hw: &Hardware,
    w: &WeightBytes,
    layout: &SplitLayout,
    costs: &SplitCosts,
) -> MemoryPlan {
    let n = layout.per_gpu.len();
    let layers = w.layers.len();
    let on_gpu = |l: usize| {
        if layout.experts_on_gpu[l] {
            w.layers[l].total()
        } else {
            w.layers[l].non_expert()
        }
    };
    let mut gpus = Vec::with_capacity(n);
    for (g, list) in layout.per_gpu.iter().enumerate() {
        let mut weights: f64 = list.iter().map(|&l| on_gpu(l)).sum();
        if g == 0 && costs.host_embedding == 0.0 {
            weights += w.embedding;
        }
        if g == n - 1 {
            weights += w.output;
        }
        let kv = costs.kv_per_layer * list.len() as f64;
        gpus.push(DeviceMemory::new(
            weights,
            kv,
            costs.activation,
            costs.overhead,
            costs.capacity[g],
        ));
    }
    // Host: the embedding (llama.cpp), layers that did not fit, experts sent to the CPU.
    let cpu_layers = layers - layout.placed;
    let cpu_layer_weights: f64 = (layout.placed..layers).map(|l| w.layers[l].total()).sum();
    let cpu_experts: f64 = (0..layout.placed)
        .filter(|&l| !layout.experts_on_gpu[l])
        .map(|l| w.layers[l].routed())
        .sum();
    let host_kv = costs.kv_per_layer * cpu_layers as f64;
    let host = DeviceMemory::new(
        costs.host_embedding + cpu_layer_weights + cpu_experts,
        host_kv,
        0.0,
        0.0,
        host_capacity(hw, &gpus),
    );
    let placement = Placement {
        gpus: n as u32,
        tensor_parallel: 1,
        pipeline_stages: 1,
        layer_split: n > 1,
        gpu_layers: layout.placed as u32,
        cpu_layers: cpu_layers as u32,
        cpu_expert_layers: layout
            .experts_on_gpu
            .iter()
            .zip(&w.layers)
            .filter(|(on, l)| !**on && l.experts > 0)
            .count() as u32,
        offloaded_bytes: (cpu_layer_weights + cpu_experts).round() as u64,
        layers_per_gpu: layout.per_gpu.iter().map(|l| l.len() as u32).collect(),
        experts_on_gpu: layout.experts_on_gpu.clone(),
    };
    let mut plan = finish(placement, gpus, host);
    if plan.placement.offloaded_bytes > 0 && !d.engine.cpu_offload {
        plan.fits = false;
        plan.shortfall = Some(format!(
            "{} cannot offload layers to host memory",
            d.engine.name
        ));
    }
    plan
}

/// Host memory left for weights: available RAM; on unified memory, what the GPU side leaves.
fn host_capacity(hw: &Hardware, gpus: &[DeviceMemory]) -> f64 {
    let unified = hw.gpus.first().is_some_and(|g| g.unified_memory);
    let ram = hw.host.available_ram_bytes as f64;
    if unified {
        (ram - gpus.iter().map(|g| g.total as f64).sum::<f64>()).max(0.0)
    } else {
        ram
    }
}

fn cpu_only(d: &Deployment, hw: &Hardware, w: &WeightBytes) -> MemoryPlan {
    let layers = d.model.layers();
    let kv = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, 1)
        * f64::from(layers)
        * kv_tokens(d.engine, &d.workload);
    let act = activation(d, 1);
    let host = DeviceMemory::new(w.total(), kv, act, 0.0, hw.host.available_ram_bytes as f64);
    let placement = Placement {
        gpus: 0,
        tensor_parallel: 1,
        pipeline_stages: 1,
        layer_split: false,
        gpu_layers: 0,
        cpu_layers: layers,
        cpu_expert_layers: 0,
        offloaded_bytes: w.total().round() as u64,
        layers_per_gpu: vec![],
        experts_on_gpu: vec![false; layers as usize],
    };
    finish(placement, vec![], host)
}

fn finish(placement: Placement, gpus: Vec<DeviceMemory>, host: DeviceMemory) -> MemoryPlan {
    let sum = |f: fn(&DeviceMemory) -> u64| gpus.iter().map(f).sum::<u64>() + f(&host);
    let per_gpu = gpus.iter().map(|g| g.total).max().unwrap_or(0);
    let per_gpu_capacity = gpus.iter().map(|g| g.capacity).min().unwrap_or(0);
    let gpu_short = gpus.iter().enumerate().find(|(_, g)| !g.fits());
    let shortfall = if let Some((i, g)) = gpu_short {
        Some(format!(
            "GPU {i} needs {} but the engine may use {} ({} short)",
            bytes(g.total),
            bytes(g.capacity),
            bytes(g.total - g.capacity)
        ))
    } else if !host.fits() {
        Some(format!(
            "host memory needs {} but {} is available ({} short)",
            bytes(host.total),
            bytes(host.capacity),
            bytes(host.total - host.capacity)
        ))
    } else {
        None
    };
    MemoryPlan {
        placement,
        weights_bytes: sum(|d| d.weights),
        kv_cache_bytes: sum(|d| d.kv_cache),
        activation_bytes: sum(|d| d.activation),
        overhead_bytes: sum(|d| d.overhead),
        total_bytes: sum(|d| d.total),
        per_gpu_bytes: per_gpu,
        per_gpu_capacity_bytes: per_gpu_capacity,
        host_bytes: host.total,
        fits: shortfall.is_none(),
        shortfall,
        gpus,
        host,
        kv_bytes_per_token: 0,
    }
}
