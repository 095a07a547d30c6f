//! The deployment object of design.md §5, shared by size, estimate, check and recommend.

use schemars::JsonSchema;
use serde::Serialize;

use crate::decide::load::Loaded;
use crate::hardware::Hardware;
use crate::quantity::{SPEED_DECIMALS, USD_DECIMALS, round};
use crate::serving::{Limit, Load, Percentiles};
use crate::sizing::capacity::KvCapacity;
use crate::sizing::{MemoryPlan, Workload};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HardwareSummary {
    pub gpus: Vec<GpuSummary>,
    pub gpu_count: u32,
    pub ram_bytes: u64,
    /// "probed" or "simulated".
    pub source: String,
    /// Nodes the GPUs sit in; absent on one node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// The network between the nodes (`assumed`: nothing named it); absent on one node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::hardware::Network>,
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
            nodes: (hw.nodes > 1).then_some(hw.nodes),
            network: (hw.nodes > 1).then(|| hw.network.clone()),
        }
    }
}

impl HardwareSummary {
    /// The first `n` GPUs by type, in order: "2 × NVIDIA L40S + 1 × Acme X1"; "CPU only" for none.
    /// A GPU is named by its catalog name, or the name its file or driver gave it.
    pub fn gpus_label(&self, n: usize) -> String {
        crate::decide::search::group_label(self.gpus.iter().take(n).map(|g| g.name.as_str()))
    }

    /// The first `n` GPUs as runs of one type: each run's first GPU and its length.
    pub fn groups(&self, n: usize) -> Vec<(&GpuSummary, usize)> {
        let mut groups: Vec<(&GpuSummary, usize)> = vec![];
        for g in self.gpus.iter().take(n) {
            match groups.last_mut() {
                Some((first, k)) if first.name == g.name => *k += 1,
                _ => groups.push((g, 1)),
            }
        }
        groups
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

// The memory object of the /v1 JSON. Not `sizing::MemoryPlan` itself: the plan keeps the
// placement and per-device structs the planner works with, while this contract adds the engine's
// KV capacity (`kv_capacity_tokens`, `max_concurrency`, `max_context`, from `sizing::capacity`),
// lists GPUs and host as one `devices` array with their names, and must keep its field names
// whatever the planner's types become.
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
    /// Tokens of KV cache the engine allocates by its own memory rule (all sequences together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_capacity_tokens: Option<u64>,
    /// Most sequences of the requested context that fit that cache at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Longest context each of the requested sequences can have in that cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_context: Option<u32>,
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

// The performance object of the /v1 JSON. Not `perf::Performance` itself: that keeps the full
// precision the constraints and the search compare, and its own breakdown; this contract rounds every time and rate to `SPEED_DECIMALS`, so output is
// byte-identical across platforms, and nests the load estimate.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PerformanceReport {
    /// Mean under the stated load (`load`), else one request on an idle server.
    pub ttft_ms: f64,
    /// Mean under the stated load, else the decode step of `workload.concurrency` sequences.
    pub tpot_ms: f64,
    pub decode_tokens_per_s: f64,
    pub aggregate_tokens_per_s: f64,
    pub prefill_tokens_per_s: f64,
    pub time_to_answer_ms: f64,
    /// The serving model under the stated load; absent without `--rate`, `--concurrency`, a
    /// spread or `--percentile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadReport>,
}

/// A continuously batching server under the stated load (`serving::estimate`). Latencies are
/// absent when the rate is not sustainable.
// Not `serving::LoadEstimate` itself: the estimate is unrounded and carries the scheduler and KV
// working it used, which decide reads; this /v1 contract rounds to `SPEED_DECIMALS`, spells the
// load as `shape` / `requests` / `per_second` and adds the percentile the constraints hold at.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LoadReport {
    /// The load as the estimate saw it (rendered as the three fields below).
    #[serde(skip)]
    pub shape: Load,
    /// `concurrency` (closed loop) or `rate` (Poisson arrivals).
    #[serde(rename = "shape")]
    pub shape_name: String,
    /// Requests in flight, for `concurrency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// Arrivals per second, for `rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    /// The percentile (percent) the latency constraints hold at.
    pub percentile: f64,
    pub sustainable: bool,
    /// Highest request rate sustained with these lengths, per second.
    pub max_rate_per_s: f64,
    /// Fixed-length closed-loop traffic on a prefill-first scheduler runs in waves.
    pub waves: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<Percentiles>,
    /// Gaps between consecutive tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub itl_ms: Option<Percentiles>,
    /// End-to-end latency: first token plus the whole answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_ms: Option<Percentiles>,
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
    /// Mean sequences running (the steady-state batch).
    pub batch: f64,
    /// Sequences the KV cache and the sequence limit admit at once.
    pub max_batch: u32,
    /// Request throughput over the highest sustainable one.
    pub utilization: f64,
    /// What bounds the deployment at this load.
    pub limit: Limit,
}

impl LoadReport {
    /// Rounded like the rest of the performance object.
    pub fn of(l: &Loaded) -> Self {
        let e = &l.estimate;
        let r = |x: f64| round(x, SPEED_DECIMALS);
        let pct = |p: Option<Percentiles>| {
            p.map(|p| Percentiles {
                mean: r(p.mean),
                p50: r(p.p50),
                p90: r(p.p90),
                p99: r(p.p99),
            })
        };
        LoadReport {
            shape: e.load,
            shape_name: match e.load {
                Load::Concurrency { .. } => "concurrency",
                Load::Rate { .. } => "rate",
            }
            .into(),
            requests: match e.load {
                Load::Concurrency { requests } => Some(requests),
                Load::Rate { .. } => None,
            },
            per_second: match e.load {
                Load::Rate { per_second } => Some(per_second),
                Load::Concurrency { .. } => None,
            },
            percentile: l.percentile,
            sustainable: e.sustainable,
            max_rate_per_s: r(e.max_rate_per_s),
            waves: e.waves,
            ttft_ms: pct(e.ttft_ms),
            tpot_ms: pct(e.tpot_ms),
            itl_ms: pct(e.itl_ms),
            e2e_ms: pct(e.e2e_ms),
            requests_per_s: r(e.requests_per_s),
            output_tokens_per_s: r(e.output_tokens_per_s),
            total_tokens_per_s: r(e.total_tokens_per_s),
            batch: r(e.batch),
            max_batch: e.max_batch,
            utilization: r(e.utilization),
            limit: e.limit,
        }
    }
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
    pub fn of(p: &crate::perf::Performance, load: Option<&Loaded>) -> Self {
        PerformanceReport {
            load: load.map(LoadReport::of),
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
    /// The plan, with the engine's KV capacity where the serving model knows the engine.
    pub fn of(p: &MemoryPlan, kv: Option<&KvCapacity>) -> Self {
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
            kv_capacity_tokens: kv.map(|k| k.tokens),
            max_concurrency: kv.map(|k| k.max_concurrency),
            max_context: kv.map(|k| k.max_context),
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
