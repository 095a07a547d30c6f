//! What this machine has: NVIDIA GPUs through NVML, AMD GPUs through sysfs, Apple Silicon on
//! macOS, and the host through sysinfo.
//!
//! The probe never fails and never panics: a missing driver, a query the GPU does not support or a
//! file that cannot be read becomes a note, and what could be learned is still reported (at worst a
//! CPU-only inventory). Reading (`nvml.rs`, `host.rs`, `amd.rs`, `apple.rs`) is kept apart from
//! deriving (pure functions over owned readings), so the derivations are tested with real
//! readings from machines this one is not.

pub mod amd;
pub mod apple;
pub mod host;
pub mod nvidia;
mod nvml;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use super::simulate::{MAX_GPUS, check_cpu_bandwidth, check_ram, set_unified_budget};
use super::{Gpu, Hardware, HardwareSource};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::quantity::bytes;
pub use nvidia::{NvmlDevice, NvmlSnapshot};

/// Where the probe looks.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub nvml: NvmlSource,
    /// Root of sysfs, where AMD GPUs are found (`/sys`).
    pub sysfs: PathBuf,
    /// `CUDA_VISIBLE_DEVICES`, when set: NVML ignores it, so the probe applies it.
    pub cuda_visible_devices: Option<String>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            nvml: NvmlSource::Library(None),
            sysfs: PathBuf::from("/sys"),
            cuda_visible_devices: None,
        }
    }
}

/// Where NVML's readings come from.
#[derive(Debug, Clone)]
pub enum NvmlSource {
    /// The driver's library: `libnvidia-ml.so.1` from the loader's path, or this file.
    Library(Option<PathBuf>),
    /// Readings recorded on another machine (a test seam: `R1PICK_NVML_SNAPSHOT`).
    Snapshot(NvmlSnapshot),
}

/// The probed machine: what sizing uses, plus what only `r1pick probe` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    pub hardware: Hardware,
    /// One per `hardware.gpus`, in the same order.
    pub gpus: Vec<GpuDetail>,
    pub host: HostDetail,
    pub nvidia: NvidiaStatus,
}

/// A GPU as sizing sees it and as the probe found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbedGpu {
    pub gpu: Gpu,
    pub detail: GpuDetail,
}

/// What the probe learned about a GPU beyond what sizing uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct GpuDetail {
    /// Index in the enumeration of its source (NVML index, DRM card number).
    pub index: u32,
    /// "nvml", "sysfs", "macos", "simulated" or "file".
    pub source: String,
    pub in_catalog: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_bytes: Option<u64>,
    pub bandwidth_source: BandwidthSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcie_gen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcie_width: Option<u32>,
    /// Active NVLinks; absent where NVML does not expose NVLink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvlink_active_links: Option<u32>,
    /// MIG mode after the next GPU reset, where the GPU supports MIG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mig_pending: Option<bool>,
}

/// Where a GPU's bandwidth figure came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BandwidthSource {
    /// Bus width × memory clock × 2 (hardware.md §9).
    Nvml,
    #[default]
    Catalog,
    /// Given in a `--hardware` file.
    File,
    /// A conservative assumption for a GPU nobody described.
    Default,
}

/// How the host figures were obtained.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct HostDetail {
    /// The rule or flag the host memory bandwidth comes from.
    pub cpu_bandwidth_basis: String,
    /// RAM is capped by the container's cgroup limit.
    pub ram_limited_by_cgroup: bool,
    /// Physical cores this process may use (affinity and cgroup CPU quota applied); the
    /// bandwidth is their share of the platform's peak. Absent when simulated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usable_cores: Option<f64>,
    /// Peak DRAM bandwidth of the platform the CPU names, GB/s, before the core share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_cpu_bandwidth_gb_s: Option<f64>,
}

/// What became of the NVIDIA probe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NvidiaStatus {
    /// NVML answered (it may still have found no GPU).
    Found {
        #[serde(skip_serializing_if = "Option::is_none")]
        driver: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cuda: Option<String>,
        devices: u32,
    },
    /// `libnvidia-ml.so.1` could not be loaded: no driver installed, or a container started
    /// without GPU access.
    NoLibrary { reason: String },
    /// The library is there but the kernel module is not loaded.
    DriverNotLoaded,
    /// No permission to talk to `/dev/nvidia*`.
    NoPermission,
    /// Any other NVML failure (a stub or too-old library, …).
    Error { reason: String },
    /// Not asked: simulated hardware, or a platform without NVIDIA GPUs (macOS).
    NotProbed,
}

impl NvidiaStatus {
    /// Why no NVIDIA GPU is listed, for the note and for `--require-gpu`.
    pub fn reason(&self) -> Option<String> {
        Some(match self {
            NvidiaStatus::Found { devices: 0, .. } => "NVML found no devices".into(),
            NvidiaStatus::Found { .. } | NvidiaStatus::NotProbed => return None,
            NvidiaStatus::NoLibrary { reason } => {
                format!("the NVIDIA driver library could not be loaded ({reason})")
            }
            NvidiaStatus::DriverNotLoaded => {
                "the NVIDIA kernel driver is not loaded (NVML: driver not loaded)".into()
            }
            NvidiaStatus::NoPermission => {
                "no permission to query the GPUs through /dev/nvidia* (NVML: no permission)".into()
            }
            NvidiaStatus::Error { reason } => format!("NVML failed: {reason}"),
        })
    }
}

/// Probe this machine. Takes a few milliseconds without a GPU; NVML's initialisation dominates
/// with one.
pub fn probe(catalog: &Catalog, opts: &ProbeOptions) -> ProbeReport {
    let (reading, mut notes) = host::read();
    let (mut host, mut host_detail, host_notes) = host::host(&reading);
    notes.extend(host_notes);
    let mut found: Vec<ProbedGpu> = Vec::new();

    let nvidia = if cfg!(target_os = "macos") {
        NvidiaStatus::NotProbed
    } else {
        let snapshot = match &opts.nvml {
            NvmlSource::Library(path) => nvml::read(path.as_deref()),
            NvmlSource::Snapshot(s) => Ok(s.clone()),
        };
        match snapshot {
            Ok(mut snap) => {
                // What NVML found, before CUDA_VISIBLE_DEVICES hides some (its notes say so).
                let devices = snap.devices.len() as u32;
                if let Some(visible) = &opts.cuda_visible_devices {
                    notes.extend(nvidia::restrict_to_visible(&mut snap, visible));
                }
                // The bound --gpu and --hardware have: more could not be searched in memory.
                if snap.devices.len() > MAX_GPUS as usize {
                    notes.push(format!(
                        "NVML lists {} GPUs; r1pick plans for at most {MAX_GPUS} and uses the first {MAX_GPUS}",
                        snap.devices.len()
                    ));
                    snap.devices.truncate(MAX_GPUS as usize);
                }
                let (gpus, gpu_notes) = nvidia::gpus(catalog, &snap);
                notes.extend(gpu_notes);
                found.extend(gpus);
                NvidiaStatus::Found {
                    driver: snap.driver.clone(),
                    cuda: snap.cuda.map(nvidia::cuda_version),
                    devices,
                }
            }
            Err(status) => status,
        }
    };

    let (amd_gpus, amd_notes) = amd::gpus(catalog, &amd::read(&opts.sysfs));
    found.extend(amd_gpus);
    notes.extend(amd_notes);

    if let Some(chip) = apple::chip_name() {
        match apple::gpu(catalog, &chip, host.ram_bytes) {
            Some(g) => {
                host.cpu_bandwidth_gb_s = g.gpu.bandwidth_gb_s;
                host_detail.cpu_bandwidth_basis =
                    format!("{chip}'s unified memory bandwidth (catalog)");
                found.push(g);
            }
            None => notes.push(format!(
                "{chip} is not in r1pick's catalog; describe it with --hardware FILE to plan for its GPU"
            )),
        }
    }

    if let Some(reason) = nvidia.reason() {
        let cpu_only = if found.is_empty() {
            "; this inventory is CPU-only"
        } else {
            ""
        };
        notes.insert(0, format!("no NVIDIA GPU detected: {reason}{cpu_only}"));
    }
    let (gpus, details) = found.into_iter().map(|p| (p.gpu, p.detail)).unzip();
    ProbeReport {
        hardware: Hardware {
            gpus,
            host,
            source: HardwareSource::Probed,
            notes,
            // This computer is one node.
            nodes: 1,
            network: crate::hardware::Network::default(),
        },
        gpus: details,
        host: host_detail,
        nvidia,
    }
}

impl ProbeReport {
    /// A simulated machine in the probe's shape, so `r1pick probe --gpu …` shows what a command
    /// would plan for.
    pub fn simulated(hardware: Hardware, source: &str) -> ProbeReport {
        let gpus = hardware
            .gpus
            .iter()
            .enumerate()
            .map(|(i, g)| GpuDetail {
                index: i as u32,
                source: source.into(),
                in_catalog: g.id.is_some(),
                bandwidth_source: if g.id.is_some() {
                    BandwidthSource::Catalog
                } else {
                    BandwidthSource::File
                },
                ..Default::default()
            })
            .collect();
        ProbeReport {
            gpus,
            host: HostDetail {
                cpu_bandwidth_basis: "simulated (hardware.md §6 platform defaults unless given)"
                    .into(),
                ram_limited_by_cgroup: false,
                usable_cores: None,
                platform_cpu_bandwidth_gb_s: None,
            },
            nvidia: NvidiaStatus::NotProbed,
            hardware,
        }
    }

    /// `--ram` and `--cpu-bandwidth` replace what the probe found.
    pub fn override_host(
        &mut self,
        ram: Option<u64>,
        cpu_bandwidth_gb_s: Option<f64>,
    ) -> Result<()> {
        override_host(&mut self.hardware, ram, cpu_bandwidth_gb_s)?;
        if cpu_bandwidth_gb_s.is_some() {
            self.host.cpu_bandwidth_basis = "--cpu-bandwidth".into();
        }
        if ram.is_some() {
            self.host.ram_limited_by_cgroup = false;
        }
        Ok(())
    }
}

/// Replace a machine's RAM and host bandwidth; unified-memory GPUs follow the new RAM.
pub fn override_host(
    hw: &mut Hardware,
    ram: Option<u64>,
    cpu_bandwidth_gb_s: Option<f64>,
) -> Result<()> {
    if let Some(r) = ram {
        let r = check_ram(r)?;
        hw.host.ram_bytes = r;
        hw.host.available_ram_bytes = r;
        set_unified_budget(&mut hw.gpus, r);
    }
    if let Some(b) = cpu_bandwidth_gb_s {
        hw.host.cpu_bandwidth_gb_s = check_cpu_bandwidth(b)?;
    }
    Ok(())
}

/// Free memory below [`nvidia::IN_USE_FREE_SHARE`] of total: another process holds the GPU.
pub fn in_use_note(label: &str, free: u64, total: u64) -> Option<String> {
    (total > 0 && (free as f64) < nvidia::IN_USE_FREE_SHARE * total as f64).then(|| {
        format!(
            "{label} is in use: {} of {} free; r1pick sizes it by the free memory",
            bytes(free),
            bytes(total)
        )
    })
}
