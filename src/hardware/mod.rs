//! The machine a deployment is planned for: probed from this computer, or simulated from the catalog.
//!
//! Everything downstream (sizing, perf, decide) sees only [`Hardware`]; it never knows whether the
//! numbers came from NVML or from `--gpu h100-sxm:8`, which is what keeps simulated runs
//! deterministic and lets CI gate deployments for machines it does not have.
//!
//! # Usable memory
//!
//! [`Gpu::available_bytes`] is what a new process can have: the driver's total for a simulated
//! catalog GPU (`driver_total_mib`, e.g. 24,564 MiB on an RTX 4090) less what the driver reserves
//! where that was observed (`driver_reserved_mib`, 480 MiB on an H100), NVML's free memory for a probed
//! one (a GPU in use is sized by what is left), and Metal's working set on unified memory
//! ([`simulate::unified_gpu_budget`]). Sizing multiplies it by the engine's share from
//! `data/engines.toml` `[engine.memory]`: vLLM's `gpu_memory_utilization` 0.9 (formulas.md §5),
//! llama.cpp's whole device less the 1024 MiB `--fit` keeps free (formulas.md §4).

pub mod file;
pub mod network;
pub mod platform;
pub mod probe;
pub mod simulate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::gpu::{GpuSpec, Interconnect, MemoryType, Vendor};
pub use network::Network;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hardware {
    pub gpus: Vec<Gpu>,
    pub host: Host,
    pub source: HardwareSource,
    /// Things the user should know about how this inventory was obtained.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Nodes the GPUs sit in, equal shares in order (GPU g on node g / [`Hardware::node_gpus`]);
    /// 1 for this computer.
    #[serde(default = "one_node")]
    pub nodes: u32,
    /// The network between the nodes (used only when `nodes` > 1).
    #[serde(default)]
    pub network: Network,
}

fn one_node() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HardwareSource {
    Probed,
    Simulated,
}

/// One accelerator as sizing and speed see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gpu {
    /// Catalog id when the device matched a catalog entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub vendor: Vendor,
    /// Total memory (NVML total, catalog size, or the Metal working set on unified memory).
    pub memory_bytes: u64,
    /// Memory free for a new process: total when simulated, NVML free when probed (see
    /// "Usable memory" above for the rule engines apply to it).
    pub available_bytes: u64,
    pub memory_type: MemoryType,
    pub unified_memory: bool,
    pub bandwidth_gb_s: f64,
    pub fp16_tflops: f64,
    /// FP16 tensor rate with FP16 accumulation (GeForce runs it at twice the FP32-accumulate rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16_acc16_tflops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_tflops: Option<f64>,
    /// Dense INT8 tensor rate, TOPS, from the catalog (W8A8 INT8 GEMMs run at it). Kept out of
    /// the JSON documents: `r1pick gpus` already lists it.
    #[serde(skip)]
    pub int8_tops: Option<f64>,
    /// Dense FP4 tensor rate (Blackwell); absent where the GPU has no FP4 tensor cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_tflops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<String>,
    pub interconnect: Interconnect,
    /// GPU-to-GPU bandwidth per direction, GB/s.
    pub interconnect_gb_s: f64,
    /// Host link bandwidth per direction, GB/s.
    pub pcie_gb_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_hour: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    /// MIG enabled: the whole-GPU numbers do not apply.
    #[serde(default)]
    pub mig: bool,
}

impl Gpu {
    /// A catalog GPU, whole and idle.
    pub fn from_spec(spec: &GpuSpec) -> Gpu {
        Gpu {
            id: Some(spec.id.clone()),
            name: spec.name.clone(),
            vendor: spec.vendor,
            memory_bytes: spec.memory_bytes(),
            available_bytes: spec.free_bytes(),
            memory_type: spec.memory_type,
            unified_memory: spec.unified_memory,
            bandwidth_gb_s: spec.bandwidth_gb_s,
            fp16_tflops: spec.fp16_tflops,
            fp16_acc16_tflops: spec.fp16_acc16_tflops,
            fp8_tflops: spec.fp8_tflops,
            int8_tops: spec.int8_tops,
            fp4_tflops: spec.fp4_tflops,
            compute_capability: spec.compute_capability.clone(),
            interconnect: spec.interconnect,
            interconnect_gb_s: spec.interconnect_gb_s,
            pcie_gb_s: spec
                .host_link_gb_s
                .unwrap_or_else(|| pcie_gb_s(spec.pcie_gen, spec.pcie_lanes)),
            usd_per_hour: spec.usd_per_hour,
            tdp_w: spec.tdp_w,
            mig: false,
        }
    }

    /// A GPU the catalog does not know, from what is known of it; the rest is left at what promises
    /// nothing: GDDR, a PCIe 4.0 x16 host link (hardware.md §7: 31.5 GB/s per direction) that is also
    /// its only GPU-to-GPU path, no FP8, no price. Callers set what they learn beyond that.
    pub fn uncatalogued(
        name: String,
        vendor: Vendor,
        memory_bytes: u64,
        bandwidth_gb_s: f64,
        fp16_tflops: f64,
    ) -> Gpu {
        let pcie = pcie_gb_s(Some(4), Some(16));
        Gpu {
            id: None,
            name,
            vendor,
            memory_bytes,
            available_bytes: memory_bytes,
            memory_type: MemoryType::Gddr,
            unified_memory: false,
            bandwidth_gb_s,
            fp16_tflops,
            fp16_acc16_tflops: None,
            fp8_tflops: None,
            int8_tops: None,
            fp4_tflops: None,
            compute_capability: None,
            interconnect: Interconnect::Pcie4,
            interconnect_gb_s: pcie,
            pcie_gb_s: pcie,
            usd_per_hour: None,
            tdp_w: None,
            mig: false,
        }
    }

    /// NVIDIA compute capability as (major, minor).
    pub fn cuda_cc(&self) -> Option<(u32, u32)> {
        if self.vendor != Vendor::Nvidia {
            return None;
        }
        crate::catalog::gpu::parse_cc(self.compute_capability.as_deref()?)
    }
}

/// Per-direction PCIe bandwidth: 15.75 GB/s for Gen3 x16, doubling each generation (hardware.md §7).
pub fn pcie_gb_s(generation: Option<u32>, lanes: Option<u32>) -> f64 {
    match generation {
        Some(g) if g >= 3 => {
            15.75 * f64::from(1u32 << (g - 3).min(4)) * f64::from(lanes.unwrap_or(16)) / 16.0
        }
        Some(_) => 8.0,
        None => 0.0,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Host {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_cores: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_cores: Option<u32>,
    pub ram_bytes: u64,
    pub available_ram_bytes: u64,
    /// Sustainable DRAM bandwidth, GB/s (peak; decode applies the engine's CPU efficiency).
    pub cpu_bandwidth_gb_s: f64,
    /// FP32 FLOPS of the CPU, TFLOPS, for CPU prefill.
    pub cpu_tflops: f64,
}

impl Hardware {
    pub fn gpu_count(&self) -> u32 {
        self.gpus.len() as u32
    }

    /// GPUs of one node (all of them on one node).
    pub fn node_gpus(&self) -> u32 {
        self.gpu_count().div_ceil(self.nodes.max(1)).max(1)
    }

    /// Each GPU's share of its node's network, GB/s per direction.
    pub fn network_gb_s_per_gpu(&self) -> f64 {
        self.network.node_gb_s() / f64::from(self.node_gpus())
    }

    /// Spread the GPUs over `nodes` nodes (default: as many of the default size as they fill)
    /// joined by `network` (default: the assumed one).
    pub fn set_nodes(
        &mut self,
        nodes: Option<u32>,
        network: Option<Network>,
    ) -> crate::error::Result<()> {
        self.nodes = network::nodes(self.gpu_count(), nodes)?;
        if let Some(n) = network {
            self.network = n;
        }
        Ok(())
    }
}
