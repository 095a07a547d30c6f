//! Apple Silicon: the chip name from `sysctl -n machdep.cpu.brand_string` ("Apple M3 Max") on
//! macOS, matched to the catalog; the GPU's memory is the share of unified RAM Metal lets it use
//! ([`unified_gpu_budget`]). Only the sysctl call is macOS-only; the matching is plain code, tested
//! on every platform.

use super::nvidia::squash;
use super::{BandwidthSource, GpuDetail, ProbedGpu};
use crate::catalog::Catalog;
use crate::catalog::gpu::{GpuSpec, Vendor};
use crate::hardware::Gpu;
use crate::hardware::simulate::unified_gpu_budget;

/// The chip's name on macOS; `None` elsewhere or when sysctl fails.
#[cfg(target_os = "macos")]
pub fn chip_name() -> Option<String> {
    let out = std::process::Command::new("sysctl")
        .args(["-n", "machdep.cpu.brand_string"])
        .output()
        .ok()?;
    let name = String::from_utf8(out.stdout).ok()?.trim().to_string();
    name.starts_with("Apple").then_some(name)
}

/// The chip's name on macOS; `None` elsewhere or when sysctl fails.
#[cfg(not(target_os = "macos"))]
pub fn chip_name() -> Option<String> {
    None
}

/// The GPU of an Apple chip with `ram` bytes of unified memory. Chips sold with two GPU sizes
/// under one name (M3 Max 30/40-core, M4 Max 32/40-core) are told apart by the memory options
/// each was sold with; failing that, the first catalog entry.
pub fn gpu(catalog: &Catalog, chip: &str, ram: u64) -> Option<ProbedGpu> {
    let key = squash(chip);
    let candidates: Vec<&GpuSpec> = catalog
        .gpus
        .iter()
        .filter(|g| g.vendor == Vendor::Apple && g.nvml_names.iter().any(|n| squash(n) == key))
        .collect();
    let ram_gib = (ram as f64 / (1u64 << 30) as f64).round();
    let spec = candidates
        .iter()
        .find(|g| {
            g.memory_options_gib
                .iter()
                .any(|o| (o - ram_gib).abs() < 0.5)
        })
        .or(candidates.first())?;
    let mut gpu = Gpu::from_spec(spec);
    gpu.memory_bytes = unified_gpu_budget(ram);
    gpu.available_bytes = gpu.memory_bytes;
    Some(ProbedGpu {
        gpu,
        detail: GpuDetail {
            index: 0,
            source: "macos".into(),
            in_catalog: true,
            architecture: Some(spec.arch.clone()),
            bandwidth_source: BandwidthSource::Catalog,
            ..Default::default()
        },
    })
}
