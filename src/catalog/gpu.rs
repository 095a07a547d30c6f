//! Accelerator specifications (data/gpus.toml).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// One row of data/gpus.toml: the product as its datasheet describes it. Not `hardware::Gpu`:
// that is one device as sizing sees it, probed or simulated, with what only a running machine
// knows (free memory, MIG, the host link it actually got) and without the catalog's sources,
// aliases, class and prices. `Gpu::from_spec` is the one way from a row to a device.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub nvml_names: Vec<String>,
    pub vendor: Vendor,
    pub class: GpuClass,
    pub arch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<String>,
    /// Memory as sold, read as GiB; for unified-memory parts the largest option.
    pub memory_gib: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_options_gib: Vec<f64>,
    /// Total memory as NVML reports it, where it was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_total_mib: Option<u64>,
    /// What the driver keeps of that total on an idle GPU (`nvidia-smi -q` "Reserved"), where it was
    /// observed: the free memory NVML and cudaMemGetInfo report leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_reserved_mib: Option<u64>,
    pub unified_memory: bool,
    pub memory_type: MemoryType,
    pub bandwidth_gb_s: f64,
    /// Dense FP16/BF16 tensor TFLOPS (FP32 accumulate on GeForce).
    pub fp16_tflops: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16_acc16_tflops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_tflops: Option<f64>,
    /// Dense FP4 tensor TFLOPS (Blackwell, CDNA4); listed, not yet used by the speed model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_tflops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_tops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    pub interconnect: Interconnect,
    /// GPU-to-GPU bandwidth per direction, GB/s.
    pub interconnect_gb_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcie_gen: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcie_lanes: Option<u32>,
    /// Host (CPU) link bandwidth per direction, GB/s, where it is not the PCIe slot: NVLink-C2C on
    /// Grace superchips. Offload traffic runs over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link_gb_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_hour: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_source: Option<String>,
    /// When the price was read (data/prices.toml `date`; the newest when several rows are combined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_cores: Option<u32>,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl GpuSpec {
    /// Total memory in bytes: what the driver reports where observed, else the nominal GiB.
    pub fn memory_bytes(&self) -> u64 {
        match self.driver_total_mib {
            Some(mib) => mib * (1 << 20),
            None => (self.memory_gib * (1u64 << 30) as f64) as u64,
        }
    }

    /// Memory an idle GPU offers a new process: the total less the driver's reservation.
    pub fn free_bytes(&self) -> u64 {
        let reserved = self
            .driver_reserved_mib
            .unwrap_or(0)
            .saturating_mul(1 << 20);
        self.memory_bytes().saturating_sub(reserved)
    }

    /// Compute capability as (major, minor), NVIDIA only.
    pub fn cuda_cc(&self) -> Option<(u32, u32)> {
        if self.vendor != Vendor::Nvidia {
            return None;
        }
        parse_cc(self.compute_capability.as_deref()?)
    }
}

/// A compute capability written "8.9" as (8, 9): the one reading of the catalog's, the probe's
/// and the engines' `min_compute_capability` strings.
pub fn parse_cc(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Nvidia,
    Amd,
    Apple,
    Intel,
    Other,
}

/// DRAM technology: decode reaches a different share of peak bandwidth on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemoryType {
    Hbm,
    Gddr,
    Lpddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GpuClass {
    Consumer,
    Workstation,
    Datacenter,
    Embedded,
    Apple,
    Sbc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Interconnect {
    Pcie3,
    Pcie4,
    Pcie5,
    Nvlink2,
    Nvlink3,
    Nvlink3Bridge,
    Nvlink4,
    Nvlink4Bridge,
    Nvlink5,
    InfinityFabric,
    Unified,
    None,
}

impl Interconnect {
    /// The serde name, as `--hardware` files and `gpus --json` spell it (`nvlink3-bridge`).
    pub fn id(self) -> &'static str {
        match self {
            Interconnect::Pcie3 => "pcie3",
            Interconnect::Pcie4 => "pcie4",
            Interconnect::Pcie5 => "pcie5",
            Interconnect::Nvlink2 => "nvlink2",
            Interconnect::Nvlink3 => "nvlink3",
            Interconnect::Nvlink3Bridge => "nvlink3-bridge",
            Interconnect::Nvlink4 => "nvlink4",
            Interconnect::Nvlink4Bridge => "nvlink4-bridge",
            Interconnect::Nvlink5 => "nvlink5",
            Interconnect::InfinityFabric => "infinity-fabric",
            Interconnect::Unified => "unified",
            Interconnect::None => "none",
        }
    }

    /// Bandwidth of one NVLink per direction, GB/s (hardware.md §7): NVLink 2, 3 and 4 carry
    /// 50 GB/s bidirectional per link, NVLink 5 twice that. None for other links.
    pub fn nvlink_per_link_gb_s(self) -> Option<f64> {
        match self {
            Interconnect::Nvlink2
            | Interconnect::Nvlink3
            | Interconnect::Nvlink3Bridge
            | Interconnect::Nvlink4
            | Interconnect::Nvlink4Bridge => Some(25.0),
            Interconnect::Nvlink5 => Some(50.0),
            _ => None,
        }
    }

    /// GPU-to-GPU bandwidth per direction of the usual fabric of this type, GB/s, half the
    /// bidirectional figures of hardware.md §7: the links of the flagship part (V100 6, A100 12,
    /// H100 and B200 18) × the per-link figure; the bridges as the sheet gives them (NVLink 3
    /// bridge 112.5 → 56.25, NVLink 4 bridge 600 → 300), Infinity Fabric 896 → 448. None for PCIe,
    /// whose cards talk over their host link; 0 where GPUs do not talk to each other.
    pub fn fabric_gb_s(self) -> Option<f64> {
        let links = |n: f64| self.nvlink_per_link_gb_s().map(|l| n * l);
        match self {
            Interconnect::Nvlink2 => links(6.0),
            Interconnect::Nvlink3 => links(12.0),
            Interconnect::Nvlink4 | Interconnect::Nvlink5 => links(18.0),
            Interconnect::Nvlink3Bridge => Some(56.25),
            Interconnect::Nvlink4Bridge => Some(300.0),
            Interconnect::InfinityFabric => Some(448.0),
            Interconnect::Pcie3 | Interconnect::Pcie4 | Interconnect::Pcie5 => None,
            Interconnect::Unified | Interconnect::None => Some(0.0),
        }
    }

    /// A GPU-to-GPU fabric rather than the host PCIe bus.
    pub fn is_fabric(self) -> bool {
        !matches!(
            self,
            Interconnect::Pcie3 | Interconnect::Pcie4 | Interconnect::Pcie5 | Interconnect::None
        )
    }
}
