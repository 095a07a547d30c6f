//! The plan types: what is sized (workload, deployment) and what sizing returns (placement,
//! per-device memory, the plan).

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::engine::Engine;
use crate::catalog::{MlaKvLayout, Model, Quant};
use crate::quantity::bytes;

use super::kv::KvDtype;
use super::weights::WeightBytes;

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
    /// MTP speculative draft steps per decode step; 0 is off.
    pub mtp: u32,
    /// Expert parallelism and DP attention of an MoE model; off by default.
    pub parallel: Parallel,
    pub workload: Workload,
}

/// How an MoE deployment spreads its experts and attention over a tensor-parallel group
/// (reference/serving.md B2–B5): vLLM `--enable-expert-parallel --data-parallel-size`, SGLang
/// `--ep-size --enable-dp-attention --dp`, TRT-LLM `moe_expert_parallel_size` / `enable_attention_dp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parallel {
    /// Expert-parallel ranks: each holds routed experts / `ep` whole experts; 0 or 1 is off (the
    /// experts are then TP-sharded like every other matrix).
    pub ep: u32,
    /// Data-parallel attention ranks: attention is TP-sharded over tp / `dp` GPUs only and each rank
    /// holds only its own sequences' MLA cache; 0 or 1 is off.
    pub dp: u32,
    /// Extra expert copies spread over the EP ranks (SGLang `--ep-num-redundant-experts`, DeepSeek's
    /// EPLB: 32 in its prefill deployment); 0 by default.
    pub redundant_experts: u32,
}

impl Parallel {
    pub fn ep(&self) -> u32 {
        self.ep.max(1)
    }

    pub fn dp(&self) -> u32 {
        self.dp.max(1)
    }

    /// Plain tensor parallelism: no EP, no DP attention, no redundant experts.
    pub fn is_plain(&self) -> bool {
        self.ep() == 1 && self.dp() == 1 && self.redundant_experts == 0
    }

    /// The layout as the engines' flags name it, for a `tp`-wide group in `pp` pipeline stages:
    /// "TP8", "TP8+PP2", "DP8+EP8", "DP2×TP4+EP8" (DP-attention ranks, each TP-sharded over the
    /// rest), "+32 redundant experts".
    pub fn layout(&self, tp: u32, pp: u32) -> String {
        let atp = super::parallel::attention_tp(self, tp);
        let mut s = match (self.dp(), atp) {
            (1, _) => format!("TP{}", tp.max(1)),
            (dp, 1) => format!("DP{dp}"),
            (dp, atp) => format!("DP{dp}×TP{atp}"),
        };
        if self.ep() > 1 {
            s.push_str(&format!("+EP{}", self.ep()));
        }
        if self.redundant_experts > 0 {
            s.push_str(&format!("+{} redundant experts", self.redundant_experts));
        }
        if pp > 1 {
            s.push_str(&format!("+PP{pp}"));
        }
        s
    }
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
            kv_dtype: KvDtype::engine_default(engine),
            mla_kv: None,
            mtp: 0,
            parallel: Parallel::default(),
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

/// How the GPUs share the model's layers.
#[derive(Debug, Clone, PartialEq)]
pub enum Spread {
    /// No GPU: everything in host memory.
    Cpu,
    /// Groups of `tp` GPUs sharding every layer, one group per pipeline stage.
    Tensor {
        tp: u32,
        /// Layers of each pipeline stage.
        stage_layers: Vec<u32>,
    },
    /// Whole layers per GPU (the list: layers on each GPU, in order).
    Layers(Vec<u32>),
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

impl Placement {
    /// How the GPUs split the model under `p`: [`Parallel::layout`], or "layer split" (whole
    /// layers per GPU). `None` on one GPU or none, where there is only one way.
    pub fn layout(&self, p: &Parallel) -> Option<String> {
        match (self.gpus, self.layer_split) {
            (0 | 1, _) => None,
            (_, true) => Some("layer split".into()),
            (_, false) => Some(p.layout(self.tensor_parallel, self.pipeline_stages)),
        }
    }

    /// The placement of `w`'s layers under `spread`: the first layers sit on the GPUs, the rest in
    /// host memory; `experts_on_gpu` says, per layer, where its routed experts are;
    /// `offloaded_bytes` are the weight bytes in host memory.
    pub fn new(spread: Spread, w: &WeightBytes, experts_on_gpu: Vec<bool>, offloaded: f64) -> Self {
        // One entry per layer of the deployed model.
        let layers = experts_on_gpu.len() as u32;
        let (gpus, tensor_parallel, pipeline_stages, layer_split, layers_per_gpu) = match spread {
            Spread::Cpu => (0, 1, 1, false, vec![]),
            Spread::Tensor { tp, stage_layers } => {
                let stages = stage_layers.len() as u32;
                (tp * stages, tp, stages, false, stage_layers)
            }
            Spread::Layers(per_gpu) => {
                let n = per_gpu.len() as u32;
                (n, 1, 1, n > 1, per_gpu)
            }
        };
        let gpu_layers = if gpus == 0 {
            0
        } else {
            layers_per_gpu.iter().sum::<u32>()
        };
        // Of the layers on GPUs, those whose routed experts were sent to host memory.
        let cpu_expert_layers = experts_on_gpu
            .iter()
            .zip(&w.layers)
            .take(gpu_layers as usize)
            .filter(|(on, l)| !**on && l.experts > 0)
            .count() as u32;
        Placement {
            gpus,
            tensor_parallel,
            pipeline_stages,
            layer_split,
            gpu_layers,
            cpu_layers: layers - gpu_layers,
            cpu_expert_layers,
            offloaded_bytes: offloaded.round() as u64,
            layers_per_gpu,
            experts_on_gpu,
        }
    }
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
    pub(super) fn new(
        weights: f64,
        kv: f64,
        activation: f64,
        overhead: f64,
        capacity: f64,
    ) -> Self {
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

impl MemoryPlan {
    /// The plan of these devices: totals summed, the first device short of memory named.
    pub(super) fn of(placement: Placement, gpus: Vec<DeviceMemory>, host: DeviceMemory) -> Self {
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
}

#[cfg(test)]
mod tests {
    use super::Parallel;

    #[test]
    fn a_layout_reads_as_the_engines_flags_name_it() {
        let p = |ep, dp, redundant_experts| Parallel {
            ep,
            dp,
            redundant_experts,
        };
        assert_eq!(p(0, 0, 0).layout(8, 1), "TP8");
        assert_eq!(p(1, 1, 0).layout(8, 2), "TP8+PP2");
        assert_eq!(p(8, 8, 0).layout(8, 1), "DP8+EP8");
        assert_eq!(p(8, 2, 0).layout(8, 1), "DP2×TP4+EP8");
        assert_eq!(p(8, 1, 0).layout(8, 1), "TP8+EP8");
        assert_eq!(
            p(16, 16, 32).layout(16, 1),
            "DP16+EP16+32 redundant experts"
        );
    }
}
