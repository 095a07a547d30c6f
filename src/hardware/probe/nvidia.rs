//! NVML readings as owned data, and what r1pick derives from them.
//!
//! Pure: the live probe (`nvml.rs`, the only file that talks to the driver) fills an
//! [`NvmlSnapshot`]; the tests fill one from `tests/fixtures/nvml-*.json`, real readings of an H100
//! SXM and an H200. Both go through [`gpus`], so the fixtures test the exact path a real GPU takes.

use serde::{Deserialize, Deserializer, Serialize};

use super::{BandwidthSource, GpuDetail, ProbedGpu, in_use_note};
use crate::catalog::Catalog;
use crate::catalog::gpu::{GpuSpec, Interconnect, MemoryType, Vendor};
use crate::hardware::{Gpu, pcie_gb_s};
use crate::quantity::bytes;

/// What NVML said about the machine. Field names follow the fixture files; every reading is
/// optional because each NVML query can fail on its own (`NotSupported`, an old driver missing the
/// symbol, a lost GPU) without making the others wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmlSnapshot {
    /// Driver version, e.g. "580.159.04".
    #[serde(default)]
    pub driver: Option<String>,
    /// CUDA driver API version as NVML encodes it: 1000 × major + 10 × minor (13000 = 13.0).
    #[serde(default)]
    pub cuda: Option<i32>,
    #[serde(default)]
    pub nvml: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub devices: Vec<NvmlDevice>,
    /// Queries that failed, one line each ("GPU 0: memory bus width: …").
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl NvmlSnapshot {
    /// A snapshot recorded as JSON (`R1PICK_NVML_SNAPSHOT`, tests/fixtures/nvml-*.json); the error
    /// is serde's one-line reason.
    pub fn from_json(text: &str) -> Result<NvmlSnapshot, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// One GPU as NVML reports it (units as NVML gives them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmlDevice {
    pub index: u32,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    /// Bytes; NVML v2 memory info (`used` excludes the driver's reservation).
    #[serde(default)]
    pub memory_total: Option<u64>,
    #[serde(default)]
    pub memory_free: Option<u64>,
    #[serde(default)]
    pub memory_used: Option<u64>,
    /// CUDA compute capability [major, minor].
    #[serde(default)]
    pub cc: Option<[i32; 2]>,
    /// `nvmlDeviceArchitecture_t` (9 = Hopper).
    #[serde(default)]
    pub arch: Option<u32>,
    /// Memory bus width, bits.
    #[serde(default)]
    pub bus_width: Option<u32>,
    /// Maximum memory clock, MHz.
    #[serde(default)]
    pub max_mem_clock: Option<u32>,
    #[serde(default)]
    pub max_sm_clock: Option<u32>,
    #[serde(default)]
    pub pcie_gen_max: Option<u32>,
    #[serde(default)]
    pub pcie_width_max: Option<u32>,
    #[serde(default)]
    pub pcie_gen_cur: Option<u32>,
    #[serde(default)]
    pub pcie_width_cur: Option<u32>,
    /// Power management limit, milliwatts.
    #[serde(default)]
    pub power_limit_mw: Option<u32>,
    /// MIG mode [current, pending], 1 = enabled; absent where the GPU has no MIG.
    #[serde(default)]
    pub mig: Option<[u32; 2]>,
    #[serde(default)]
    pub num_cores: Option<u32>,
    #[serde(default)]
    pub brand: Option<u32>,
    #[serde(default)]
    pub serial: Option<String>,
    /// Whether each NVLink is active; empty where NVLink is not exposed (e.g. a single-GPU VM).
    #[serde(default, deserialize_with = "link_states")]
    pub nvlink_states: Vec<bool>,
}

/// Link states as booleans or 0/1 (both appear in NVML dumps).
fn link_states<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum State {
        Flag(bool),
        Code(u64),
    }
    let states: Vec<State> = Deserialize::deserialize(d)?;
    Ok(states
        .into_iter()
        .map(|s| match s {
            State::Flag(b) => b,
            State::Code(c) => c != 0,
        })
        .collect())
}

/// Free memory below this share of total means another process holds the GPU. An idle GPU's
/// driver context takes 0.6% (480 MiB of 81,559 MiB on the H100 fixture, 615 MiB of 143,771 MiB
/// on the H200 fixture), so 10% missing is never the driver alone.
pub const IN_USE_FREE_SHARE: f64 = 0.90;

/// NVML bandwidth further than this from the catalog's figure means the ×2 rule does not hold for
/// that memory type (hardware.md §9 checked it on HBM3, HBM3e and GDDR6X only): keep the catalog's.
pub const BANDWIDTH_TOLERANCE: f64 = 0.10;

/// Bandwidth assumed for an NVIDIA GPU that is neither in the catalog nor reports bus width and
/// clock: 300 GB/s, the slowest data-center part in hardware.md §3 (L4), so nothing is promised.
pub const UNKNOWN_BANDWIDTH_GB_S: f64 = 300.0;

/// Peak memory bandwidth from NVML, GB/s: bus width / 8 × max memory clock × 2 × 1e6 bytes/s
/// (hardware.md §9: 5120 bit × 2619 MHz → 3352 GB/s on the H100 SXM, 6016 bit × 3201 MHz →
/// 4814 GB/s on the H200, 384 bit × 10501 MHz → 1008 GB/s on the RTX 4090).
pub fn nvml_bandwidth_gb_s(bus_width_bits: u32, max_mem_clock_mhz: u32) -> f64 {
    f64::from(bus_width_bits) / 8.0 * f64::from(max_mem_clock_mhz) * 2.0 * 1e6 / 1e9
}

/// The catalog's architecture name for `nvmlDeviceArchitecture_t` (nvml-wrapper-sys bindings:
/// 2 Kepler … 9 Hopper, 10 Blackwell).
pub fn arch_name(code: u32) -> Option<&'static str> {
    Some(match code {
        2 => "kepler",
        3 => "maxwell",
        4 => "pascal",
        5 => "volta",
        6 => "turing",
        7 => "ampere",
        8 => "ada",
        9 => "hopper",
        10 => "blackwell",
        _ => return None,
    })
}

/// The catalog entry NVML's name denotes: an exact NVML name first, then an id or alias (case and
/// punctuation ignored). No partial matching: a wrong match would borrow another GPU's specs.
pub fn match_catalog<'a>(catalog: &'a Catalog, name: &str) -> Option<&'a GpuSpec> {
    let key = squash(name);
    catalog
        .gpus
        .iter()
        .find(|g| g.nvml_names.iter().any(|n| squash(n) == key))
        .or_else(|| {
            catalog.gpus.iter().find(|g| {
                std::iter::once(&g.id)
                    .chain(&g.aliases)
                    .any(|a| squash(a) == key)
            })
        })
}

/// Lowercase letters and digits only: "NVIDIA H100 80GB HBM3" → "nvidiah10080gbhbm3".
pub(super) fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Every GPU in the snapshot as sizing sees it, with what the probe learned, and notes for the
/// user (GPUs in use, in MIG mode, missing from the catalog, readings that were unusable).
pub fn gpus(catalog: &Catalog, snap: &NvmlSnapshot) -> (Vec<ProbedGpu>, Vec<String>) {
    let mut notes = Vec::new();
    let multi = snap.devices.len() > 1;
    let out = snap
        .devices
        .iter()
        .map(|d| device(catalog, d, multi, &mut notes))
        .collect();
    notes.extend(snap.warnings.iter().map(|w| format!("NVML: {w}")));
    (out, notes)
}

fn device(catalog: &Catalog, d: &NvmlDevice, multi: bool, notes: &mut Vec<String>) -> ProbedGpu {
    // The driver's string reaches tables and notes: escaped, so it cannot split or drive them.
    let name = d.name.as_deref().map_or_else(
        || format!("NVIDIA GPU {}", d.index),
        |n| crate::terminal::escape(n).into_owned(),
    );
    let label = format!("GPU {} ({name})", d.index);
    let spec = match_catalog(catalog, &name);
    let arch = d.arch.and_then(arch_name);

    // Readings outside what any GPU could have (a corrupt snapshot, a broken driver) are left
    // out like failed ones, under the catalog's bounds.
    let nvml_bw = match (d.bus_width, d.max_mem_clock) {
        (Some(w), Some(c)) if w > 0 && c > 0 => {
            Some(nvml_bandwidth_gb_s(w, c)).filter(|bw| crate::catalog::bounds::plausible_rate(*bw))
        }
        _ => None,
    };
    let (bandwidth, bandwidth_source) = match (nvml_bw, spec) {
        (Some(bw), Some(s)) if (bw / s.bandwidth_gb_s - 1.0).abs() > BANDWIDTH_TOLERANCE => {
            notes.push(format!(
                "{label}: bus width × memory clock gives {bw:.0} GB/s, far from the catalog's {:.0} GB/s; using the catalog's",
                s.bandwidth_gb_s
            ));
            (s.bandwidth_gb_s, BandwidthSource::Catalog)
        }
        (Some(bw), _) => (bw, BandwidthSource::Nvml),
        (None, Some(s)) => (s.bandwidth_gb_s, BandwidthSource::Catalog),
        (None, None) => (UNKNOWN_BANDWIDTH_GB_S, BandwidthSource::Default),
    };

    let max_bytes = (crate::catalog::bounds::MAX_GPU_GIB as u64) << 30;
    let total = match (d.memory_total.filter(|t| *t <= max_bytes), spec) {
        (Some(t), _) => t,
        (None, Some(s)) => {
            notes.push(format!(
                "{label}: NVML gave no memory size; using the catalog's {}",
                bytes(s.memory_bytes())
            ));
            s.memory_bytes()
        }
        (None, None) => {
            notes.push(format!(
                "{label}: NVML gave no memory size and the GPU is not in the catalog; it cannot hold a model"
            ));
            0
        }
    };
    let available = d.memory_free.unwrap_or(total).min(total);
    notes.extend(in_use_note(&label, available, total));
    let mig = d.mig.is_some_and(|[current, _]| current == 1);
    if mig {
        notes.push(format!(
            "{label} is in MIG mode: r1pick plans whole GPUs only (disable MIG with `nvidia-smi -i {} -mig 0`)",
            d.index
        ));
    }

    let active_links = (!d.nvlink_states.is_empty())
        .then(|| d.nvlink_states.iter().filter(|a| **a).count() as u32);
    let pcie_gen = d.pcie_gen_max.or(d.pcie_gen_cur);
    let pcie_width = d.pcie_width_max.or(d.pcie_width_cur);
    let pcie = match pcie_gen {
        Some(_) => pcie_gb_s(pcie_gen, pcie_width),
        None => spec.map_or(0.0, |s| pcie_gb_s(s.pcie_gen, s.pcie_lanes)),
    };
    let pcie_link = match pcie_gen {
        Some(g) if g >= 5 => Interconnect::Pcie5,
        Some(4) => Interconnect::Pcie4,
        _ => Interconnect::Pcie3,
    };

    let mut gpu = match spec {
        Some(s) => {
            let mut g = Gpu::from_spec(s);
            if multi && s.interconnect.is_fabric() && active_links == Some(0) {
                notes.push(format!(
                    "{label}: the catalog lists {} but NVML reports no active NVLink; GPUs talk over PCIe",
                    s.interconnect.id()
                ));
                g.interconnect = pcie_link;
                g.interconnect_gb_s = pcie;
            }
            g
        }
        None => {
            let fp16 = conservative_fp16(catalog, arch);
            notes.push(format!(
                "{label} is not in r1pick's catalog: memory and bandwidth from NVML, {fp16} FP16 TFLOPS assumed (the slowest catalog GPU of its architecture) and no FP8; describe it with --hardware FILE for better numbers"
            ));
            let (interconnect, interconnect_gb_s) = match (active_links, nvlink_of(arch)) {
                (Some(n), Some(link)) if n > 0 => (
                    link,
                    f64::from(n) * link.nvlink_per_link_gb_s().unwrap_or(0.0),
                ),
                _ => (pcie_link, pcie),
            };
            let mut g = Gpu::uncatalogued(name.clone(), Vendor::Nvidia, total, bandwidth, fp16);
            g.memory_type = memory_type_of(d.bus_width);
            g.interconnect = interconnect;
            g.interconnect_gb_s = interconnect_gb_s;
            g
        }
    };
    gpu.name = name;
    gpu.memory_bytes = total;
    gpu.available_bytes = available;
    gpu.bandwidth_gb_s = bandwidth;
    // A Grace superchip's host link is NVLink-C2C, whatever PCIe NVML reports for it.
    gpu.pcie_gb_s = spec.and_then(|s| s.host_link_gb_s).unwrap_or(pcie);
    gpu.mig = mig;
    if let Some([major, minor]) = d.cc {
        gpu.compute_capability = Some(format!("{major}.{minor}"));
    }
    if let Some(mw) = d.power_limit_mw {
        gpu.tdp_w = Some(f64::from(mw) / 1000.0);
    }
    ProbedGpu {
        gpu,
        detail: GpuDetail {
            index: d.index,
            source: "nvml".into(),
            in_catalog: spec.is_some(),
            uuid: d.uuid.clone(),
            architecture: arch.map(str::to_string),
            free_bytes: d.memory_free,
            used_bytes: d.memory_used,
            bandwidth_source,
            pcie_gen,
            pcie_width,
            nvlink_active_links: active_links,
            mig_pending: d.mig.map(|[_, pending]| pending == 1),
        },
    }
}

/// FP16 TFLOPS for a GPU missing from the catalog: the lowest of the catalog's NVIDIA GPUs of the
/// same architecture, or of all NVIDIA GPUs when the architecture is unknown, so prefill is never
/// promised faster than a known part of its generation.
fn conservative_fp16(catalog: &Catalog, arch: Option<&str>) -> f64 {
    let lowest = |same_arch: bool| {
        catalog
            .gpus
            .iter()
            .filter(|g| g.vendor == Vendor::Nvidia && (!same_arch || Some(g.arch.as_str()) == arch))
            .map(|g| g.fp16_tflops)
            .fold(f64::INFINITY, f64::min)
    };
    Some(lowest(true))
        .filter(|v| v.is_finite())
        .unwrap_or_else(|| lowest(false))
}

/// The NVLink generation of an architecture (hardware.md §7).
fn nvlink_of(arch: Option<&str>) -> Option<Interconnect> {
    Some(match arch? {
        "volta" => Interconnect::Nvlink2,
        "ampere" => Interconnect::Nvlink3,
        "hopper" => Interconnect::Nvlink4,
        "blackwell" => Interconnect::Nvlink5,
        _ => return None,
    })
}

/// HBM stacks have 1024-bit interfaces, so HBM GPUs report buses of 4096 bits and more; GDDR buses
/// are at most 512 bits (RTX 5090, hardware.md §1).
fn memory_type_of(bus_width_bits: Option<u32>) -> MemoryType {
    match bus_width_bits {
        Some(w) if w >= 1024 => MemoryType::Hbm,
        _ => MemoryType::Gddr,
    }
}

/// "13.0" from NVML's 13000.
pub fn cuda_version(code: i32) -> String {
    format!("{}.{}", code / 1000, (code % 1000) / 10)
}

/// Keep the devices `CUDA_VISIBLE_DEVICES` names, as CUDA engines will see only those. Entries are
/// indices or `GPU-…` UUIDs (a prefix is enough, as in CUDA). NVML numbers GPUs in PCI bus order
/// while CUDA defaults to fastest first, so indices are read as NVML's (what
/// `CUDA_DEVICE_ORDER=PCI_BUS_ID` gives) and a note says so.
pub fn restrict_to_visible(snap: &mut NvmlSnapshot, visible: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let mut kept = Vec::new();
    let mut by_index = false;
    for entry in visible.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let found = if let Ok(i) = entry.parse::<i64>() {
            if i < 0 {
                // CUDA stops at the first invalid index.
                break;
            }
            by_index = true;
            snap.devices.iter().find(|d| i64::from(d.index) == i)
        } else {
            let mut matches = snap
                .devices
                .iter()
                .filter(|d| d.uuid.as_deref().is_some_and(|u| u.starts_with(entry)));
            let first = matches.next();
            if first.is_some() && matches.next().is_some() {
                // CUDA takes a UUID prefix only when it names one GPU.
                notes.push(format!(
                    "CUDA_VISIBLE_DEVICES entry '{entry}' is the start of several GPU UUIDs; CUDA treats it as invalid and ignores it and the entries after it"
                ));
                break;
            }
            first
        };
        match found {
            Some(d) if !kept.iter().any(|k: &NvmlDevice| k.index == d.index) => {
                kept.push(d.clone())
            }
            Some(_) => {}
            None => {
                notes.push(format!(
                    "CUDA_VISIBLE_DEVICES entry '{entry}' matches no GPU; CUDA ignores it and the entries after it"
                ));
                break;
            }
        }
    }
    if by_index && snap.devices.len() > 1 {
        notes.insert(
            0,
            "CUDA_VISIBLE_DEVICES indices read in PCI bus order (set CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA agrees)".into(),
        );
    }
    if kept.len() != snap.devices.len() {
        notes.push(format!(
            "CUDA_VISIBLE_DEVICES='{visible}' leaves {} of {} GPUs visible",
            kept.len(),
            snap.devices.len()
        ));
    }
    snap.devices = kept;
    notes
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    fn catalog() -> Catalog {
        Catalog::embedded().unwrap()
    }

    fn h100(index: u32) -> NvmlDevice {
        NvmlDevice {
            index,
            name: Some("NVIDIA H100 80GB HBM3".into()),
            uuid: Some(format!("GPU-{index}abc")),
            memory_total: Some(81_559 << 20),
            memory_free: Some(81_000 << 20),
            bus_width: Some(5120),
            max_mem_clock: Some(2619),
            pcie_gen_max: Some(5),
            pcie_width_max: Some(16),
            ..Default::default()
        }
    }

    #[test]
    fn bandwidth_is_bus_width_times_double_data_rate_clock() -> TestResult {
        assert_eq!(nvml_bandwidth_gb_s(5120, 2619), 3352.32);
        assert_eq!(nvml_bandwidth_gb_s(6016, 3201), 4814.304);
        assert_eq!(nvml_bandwidth_gb_s(384, 10501), 1008.096);
        Ok(())
    }

    #[test]
    fn a_bandwidth_far_from_the_catalog_keeps_the_catalogs() -> TestResult {
        let mut d = h100(0);
        d.max_mem_clock = Some(1000);
        let snap = NvmlSnapshot {
            devices: vec![d],
            ..Default::default()
        };
        let (gpus, notes) = gpus(&catalog(), &snap);
        assert_eq!(gpus[0].gpu.bandwidth_gb_s, 3350.0);
        assert_eq!(gpus[0].detail.bandwidth_source, BandwidthSource::Catalog);
        assert!(
            notes[0].contains("1280 GB/s, far from the catalog's 3350"),
            "{notes:?}"
        );
        Ok(())
    }

    #[test]
    fn nvlink_gpus_without_active_links_talk_over_pcie() -> TestResult {
        let mut a = h100(0);
        let mut b = h100(1);
        a.nvlink_states = vec![false; 18];
        b.nvlink_states = vec![false; 18];
        let snap = NvmlSnapshot {
            devices: vec![a.clone(), b],
            ..Default::default()
        };
        let (gpus, _) = gpus(&catalog(), &snap);
        assert_eq!(gpus[0].gpu.interconnect, Interconnect::Pcie5);
        assert_eq!(gpus[0].gpu.interconnect_gb_s, 63.0);
        assert_eq!(gpus[0].detail.nvlink_active_links, Some(0));

        a.nvlink_states = vec![true; 18];
        let linked = NvmlSnapshot {
            devices: vec![a.clone(), a],
            ..Default::default()
        };
        let (gpus, _) = super::gpus(&catalog(), &linked);
        assert_eq!(gpus[0].gpu.interconnect, Interconnect::Nvlink4);
        assert_eq!(gpus[0].detail.nvlink_active_links, Some(18));
        Ok(())
    }

    #[test]
    fn link_states_read_as_flags_or_numbers() -> TestResult {
        let d: NvmlDevice = serde_json::from_str(r#"{"index": 0, "nvlink_states": [true, 0, 1]}"#)?;
        assert_eq!(d.nvlink_states, vec![true, false, true]);
        Ok(())
    }

    #[test]
    fn cuda_visible_devices_keeps_the_named_gpus() -> TestResult {
        let snap = NvmlSnapshot {
            devices: vec![h100(0), h100(1), h100(2)],
            ..Default::default()
        };
        let mut s = snap.clone();
        restrict_to_visible(&mut s, "2,GPU-0");
        let kept: Vec<u32> = s.devices.iter().map(|d| d.index).collect();
        assert_eq!(kept, vec![2, 0]);

        let mut s = snap.clone();
        let notes = restrict_to_visible(&mut s, "1,7,0");
        assert_eq!(s.devices.len(), 1, "CUDA stops at the first invalid entry");
        assert!(notes.iter().any(|n| n.contains("'7' matches no GPU")));

        let mut s = snap;
        restrict_to_visible(&mut s, "");
        assert!(s.devices.is_empty());
        Ok(())
    }

    #[test]
    fn repeated_entries_note_once_and_ambiguous_uuid_prefixes_are_invalid() {
        let snap = NvmlSnapshot {
            devices: vec![h100(0), h100(1)],
            ..Default::default()
        };
        let mut s = snap.clone();
        let many = vec!["0"; 5000].join(",");
        let notes = restrict_to_visible(&mut s, &many);
        assert_eq!(s.devices.len(), 1);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("CUDA_VISIBLE_DEVICES indices read in PCI bus order"));
        for prefix in ["G", "GPU-"] {
            let mut s = snap.clone();
            let notes = restrict_to_visible(&mut s, prefix);
            assert!(s.devices.is_empty(), "{prefix}");
            assert_eq!(
                notes[0],
                format!(
                    "CUDA_VISIBLE_DEVICES entry '{prefix}' is the start of several GPU UUIDs; CUDA treats it as invalid and ignores it and the entries after it"
                )
            );
        }
        let mut s = snap;
        restrict_to_visible(&mut s, "GPU-1");
        assert_eq!(s.devices[0].index, 1, "a prefix of one UUID selects it");
    }

    #[test]
    fn versions_and_architectures_decode() -> TestResult {
        assert_eq!(cuda_version(13000), "13.0");
        assert_eq!(cuda_version(12040), "12.4");
        assert_eq!(arch_name(9), Some("hopper"));
        assert_eq!(arch_name(u32::MAX), None);
        Ok(())
    }

    #[test]
    fn only_exact_names_match_the_catalog() -> TestResult {
        let c = catalog();
        assert_eq!(
            match_catalog(&c, "NVIDIA GeForce RTX 4090").map(|g| g.id.as_str()),
            Some("rtx-4090")
        );
        assert_eq!(
            match_catalog(&c, "NVIDIA GeForce RTX 4090 D").map(|g| g.id.as_str()),
            Some("rtx-4090d")
        );
        // a laptop part shares a prefix, not its specs
        assert!(match_catalog(&c, "NVIDIA GeForce RTX 4090 Laptop GPU").is_none());
        Ok(())
    }
}
