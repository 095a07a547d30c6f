//! The deployment object of design.md §5, shared by size, estimate, check and recommend.

use schemars::JsonSchema;
use serde::Serialize;

use crate::hardware::Hardware;
use crate::quantity::{SPEED_DECIMALS, USD_DECIMALS, round};
use crate::sizing::{MemoryPlan, Workload};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HardwareSummary {
    pub gpus: Vec<GpuSummary>,
    pub gpu_count: u32,
    pub ram_bytes: u64,
    /// "probed" or "simulated".
    pub source: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GpuSummary {
    pub id: Option<String>,
    pub name: String,
    pub memory_bytes: u64,
    pub bandwidth_gb_s: f64,
}

impl HardwareSummary {
    /// The machine, with identical GPUs listed once each as they appear.
    pub fn of(hw: &Hardware) -> Self {
        HardwareSummary {
            gpus: hw
                .gpus
                .iter()
                .map(|g| GpuSummary {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    memory_bytes: g.memory_bytes,
                    bandwidth_gb_s: g.bandwidth_gb_s,
                })
                .collect(),
            gpu_count: hw.gpu_count(),
            ram_bytes: hw.host.ram_bytes,
            source: match hw.source {
                crate::hardware::HardwareSource::Probed => "probed".into(),
                crate::hardware::HardwareSource::Simulated => "simulated".into(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlacementReport {
    pub gpus: u32,
    pub tensor_parallel: u32,
    pub pipeline_stages: u32,
    pub layer_split: bool,
    pub gpu_layers: u32,
    pub cpu_layers: u32,
    /// Layers whose routed experts are kept in host memory.
    pub cpu_expert_layers: u32,
    pub offloaded_bytes: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryReport {
    pub weights_bytes: u64,
    pub kv_cache_bytes: u64,
    pub activation_bytes: u64,
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    /// The fullest GPU.
    pub per_gpu_bytes: u64,
    /// What the engine may use on the smallest GPU.
    pub per_gpu_capacity_bytes: u64,
    pub host_bytes: u64,
    pub fits: bool,
    pub kv_bytes_per_token: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
    /// Each GPU, then host RAM: what it holds and what the engine may use there.
    pub devices: Vec<DeviceReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeviceReport {
    /// `gpu0`, `gpu1`, … or `host`.
    pub device: String,
    pub weights_bytes: u64,
    pub kv_cache_bytes: u64,
    pub activation_bytes: u64,
    pub overhead_bytes: u64,
    pub total_bytes: u64,
    pub capacity_bytes: u64,
    pub fits: bool,
}

impl DeviceReport {
    fn of(device: String, d: &crate::sizing::DeviceMemory) -> Self {
        DeviceReport {
            device,
            weights_bytes: d.weights,
            kv_cache_bytes: d.kv_cache,
            activation_bytes: d.activation,
            overhead_bytes: d.overhead,
            total_bytes: d.total,
            capacity_bytes: d.capacity,
            fits: d.fits(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PerformanceReport {
    pub ttft_ms: f64,
    pub tpot_ms: f64,
    pub decode_tokens_per_s: f64,
    pub aggregate_tokens_per_s: f64,
    pub prefill_tokens_per_s: f64,
    pub time_to_answer_ms: f64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CostReport {
    pub usd_per_hour: f64,
    pub usd_per_million_output_tokens: f64,
    /// "cloud-price", "user-price" or "energy".
    pub basis: String,
}

/// The assumptions behind the numbers, so a reader can audit them.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Basis {
    pub kv_dtype: String,
    pub weights_bits_per_weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_efficiency: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_mfu: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// A deployment as scripts see it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeploymentReport {
    pub model: String,
    /// Where the model's architecture came from: "catalog", "config.json", "gguf" or "hf".
    pub model_source: crate::catalog::model::ModelSource,
    pub quant: String,
    pub engine: String,
    pub hardware: HardwareSummary,
    pub placement: PlacementReport,
    pub workload: Workload,
    pub memory: MemoryReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformanceReport>,
    pub cost: Option<CostReport>,
    pub basis: Basis,
}

impl PerformanceReport {
    /// Rounded to 2 decimals, so JSON stays readable and byte-identical across platforms.
    pub fn of(p: &crate::perf::Performance) -> Self {
        PerformanceReport {
            ttft_ms: round(p.ttft_ms, SPEED_DECIMALS),
            tpot_ms: round(p.tpot_ms, SPEED_DECIMALS),
            decode_tokens_per_s: round(p.decode_tokens_per_s, SPEED_DECIMALS),
            aggregate_tokens_per_s: round(p.aggregate_tokens_per_s, SPEED_DECIMALS),
            prefill_tokens_per_s: round(p.prefill_tokens_per_s, SPEED_DECIMALS),
            time_to_answer_ms: round(p.time_to_answer_ms, SPEED_DECIMALS),
        }
    }
}

impl CostReport {
    pub fn of(c: &crate::perf::cost::Cost) -> Self {
        use crate::perf::cost::CostBasis;
        CostReport {
            usd_per_hour: round(c.usd_per_hour, USD_DECIMALS),
            usd_per_million_output_tokens: round(c.usd_per_million_output_tokens, USD_DECIMALS),
            basis: match c.basis {
                CostBasis::CloudPrice => "cloud-price",
                CostBasis::UserPrice => "user-price",
                CostBasis::Energy => "energy",
            }
            .into(),
        }
    }
}

impl MemoryReport {
    pub fn of(p: &MemoryPlan) -> Self {
        MemoryReport {
            weights_bytes: p.weights_bytes,
            kv_cache_bytes: p.kv_cache_bytes,
            activation_bytes: p.activation_bytes,
            overhead_bytes: p.overhead_bytes,
            total_bytes: p.total_bytes,
            per_gpu_bytes: p.per_gpu_bytes,
            per_gpu_capacity_bytes: p.per_gpu_capacity_bytes,
            host_bytes: p.host_bytes,
            fits: p.fits,
            kv_bytes_per_token: p.kv_bytes_per_token,
            shortfall: p.shortfall.clone(),
            devices: p
                .gpus
                .iter()
                .enumerate()
                .map(|(i, g)| DeviceReport::of(format!("gpu{i}"), g))
                .chain(std::iter::once(DeviceReport::of("host".into(), &p.host)))
                .collect(),
        }
    }
}

impl PlacementReport {
    pub fn of(p: &MemoryPlan) -> Self {
        let pl = &p.placement;
        PlacementReport {
            gpus: pl.gpus,
            tensor_parallel: pl.tensor_parallel,
            pipeline_stages: pl.pipeline_stages,
            layer_split: pl.layer_split,
            gpu_layers: pl.gpu_layers,
            cpu_layers: pl.cpu_layers,
            cpu_expert_layers: pl.cpu_expert_layers,
            offloaded_bytes: pl.offloaded_bytes,
        }
    }
}
