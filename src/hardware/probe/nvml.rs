//! The only file that talks to NVIDIA's driver (through nvml-wrapper 0.13, rust.md §A.1).
//!
//! It copies what NVML says into an owned [`NvmlSnapshot`] and nothing more; every conclusion is
//! drawn in `nvidia.rs`, where the fixtures test it. nvml-wrapper opens `libnvidia-ml.so.1` at run
//! time, so this builds and runs on machines without any NVIDIA software.

use std::path::Path;

use nvml_wrapper::enum_wrappers::device::Clock;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};

use super::NvidiaStatus;
use super::nvidia::{NvmlDevice, NvmlSnapshot};

/// NVML's highest NVLink index + 1 (`NVML_NVLINK_MAX_LINKS` in nvml-wrapper-sys; rust.md §A.1).
const NVLINK_MAX_LINKS: u32 = 18;

/// Read every GPU NVML can see. `lib` replaces the default `libnvidia-ml.so.1` (`R1PICK_NVML_LIB`;
/// a path that does not exist forces the no-GPU path on a GPU machine).
pub fn read(lib: Option<&Path>) -> Result<NvmlSnapshot, NvidiaStatus> {
    let nvml = match lib {
        Some(path) => Nvml::builder().lib_path(path.as_os_str()).init(),
        None => Nvml::init(),
    }
    .map_err(classify)?;
    let mut warnings = Vec::new();
    let count = nvml.device_count().map_err(classify)?;
    let mut snap = NvmlSnapshot {
        driver: field(&mut warnings, "driver version", nvml.sys_driver_version()),
        cuda: field(
            &mut warnings,
            "CUDA version",
            nvml.sys_cuda_driver_version(),
        ),
        nvml: field(&mut warnings, "NVML version", nvml.sys_nvml_version()),
        count: Some(count),
        devices: Vec::new(),
        warnings: Vec::new(),
    };
    for index in 0..count {
        match nvml.device_by_index(index) {
            Ok(device) => snap
                .devices
                .push(read_device(index, &device, &mut warnings)),
            Err(e) => warnings.push(format!("GPU {index}: cannot be opened: {e}")),
        }
    }
    snap.warnings = warnings;
    Ok(snap)
}

/// Init failures, told apart as rust.md §A.1 advises: a missing library is "no driver here"; a
/// library without a loaded kernel module, or without access to the device files, is worth its
/// own hint. Never retried with another path, which would mask the latter two.
fn classify(e: NvmlError) -> NvidiaStatus {
    match e {
        NvmlError::LibloadingError(inner) => NvidiaStatus::NoLibrary {
            reason: inner.to_string(),
        },
        NvmlError::DriverNotLoaded => NvidiaStatus::DriverNotLoaded,
        NvmlError::NoPermission => NvidiaStatus::NoPermission,
        other => NvidiaStatus::Error {
            reason: other.to_string(),
        },
    }
}

/// One reading: `NotSupported` is an answer (the part lacks the feature); any other failure is a
/// warning, and the reading is left out rather than the GPU.
fn field<T>(warnings: &mut Vec<String>, what: &str, r: Result<T, NvmlError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(NvmlError::NotSupported) => None,
        Err(e) => {
            warnings.push(format!("{what}: {e}"));
            None
        }
    }
}

fn read_device(index: u32, d: &Device<'_>, warnings: &mut Vec<String>) -> NvmlDevice {
    let mut w = Vec::new();
    let memory = field(&mut w, "memory info", d.memory_info());
    let arch = match d.architecture() {
        Ok(a) => Some(a.as_c()),
        // An architecture newer than nvml-wrapper's enum still has a number.
        Err(NvmlError::UnexpectedVariant(code)) => Some(code),
        Err(e) => field::<u32>(&mut w, "architecture", Err(e)),
    };
    let device = NvmlDevice {
        index,
        name: field(&mut w, "name", d.name()),
        uuid: field(&mut w, "UUID", d.uuid()),
        memory_total: memory.as_ref().map(|m| m.total),
        memory_free: memory.as_ref().map(|m| m.free),
        memory_used: memory.as_ref().map(|m| m.used),
        cc: field(&mut w, "compute capability", d.cuda_compute_capability())
            .map(|c| [c.major, c.minor]),
        arch,
        bus_width: field(&mut w, "memory bus width", d.memory_bus_width()),
        max_mem_clock: field(&mut w, "max memory clock", d.max_clock_info(Clock::Memory)),
        max_sm_clock: field(&mut w, "max SM clock", d.max_clock_info(Clock::SM)),
        pcie_gen_max: field(&mut w, "max PCIe generation", d.max_pcie_link_gen()),
        pcie_width_max: field(&mut w, "max PCIe width", d.max_pcie_link_width()),
        pcie_gen_cur: field(&mut w, "PCIe generation", d.current_pcie_link_gen()),
        pcie_width_cur: field(&mut w, "PCIe width", d.current_pcie_link_width()),
        power_limit_mw: field(&mut w, "power limit", d.power_management_limit()),
        mig: field(&mut w, "MIG mode", d.mig_mode()).map(|m| [m.current, m.pending]),
        num_cores: field(&mut w, "core count", d.num_cores()),
        brand: None,
        serial: None,
        nvlink_states: nvlink_states(d),
    };
    warnings.extend(w.into_iter().map(|m| format!("GPU {index}: {m}")));
    device
}

/// Active flag of each NVLink, until the first link the GPU does not have. A GPU without NVLink,
/// or a VM that hides it, answers `NotSupported` on link 0: no links.
fn nvlink_states(d: &Device<'_>) -> Vec<bool> {
    (0..NVLINK_MAX_LINKS)
        .map_while(|link| d.link_wrapper_for(link).is_active().ok())
        .collect()
}
