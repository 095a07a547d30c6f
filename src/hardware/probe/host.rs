//! The host: CPU, cores and RAM through sysinfo 0.40 (rust.md §A.2), capped by the container's
//! cgroup limits, and an estimate of DRAM bandwidth from the CPU model.
//!
//! The bandwidth is a rule, not a measurement: a live measurement would make every probed run
//! differ a little, and a few hundred milliseconds of copying is more than the whole probe should
//! cost. Set the measured value with `--cpu-bandwidth` (e.g. from STREAM).

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use super::HostDetail;
use crate::hardware::Host;
use crate::hardware::platform::*;
use crate::hardware::simulate::cpu_tflops;
use crate::quantity::bytes;

/// What sysinfo read, unprocessed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostReading {
    pub cpu_brand: Option<String>,
    pub physical_cores: Option<u32>,
    /// Logical CPUs this process may use (cgroup CPU quotas applied).
    pub logical_cores: Option<u32>,
    pub total_ram: u64,
    pub available_ram: u64,
    /// The cgroup's memory limit and what is free under it, when a limit is set.
    pub cgroup_total: Option<u64>,
    pub cgroup_free: Option<u64>,
}

/// Read the host: memory and the CPU list only, which takes under a millisecond (a full
/// `System::new_all()` scans every process and takes tens of milliseconds; rust.md §A.2).
pub fn read() -> (HostReading, Vec<String>) {
    let kind = RefreshKind::nothing()
        .with_memory(MemoryRefreshKind::nothing().with_ram())
        .with_cpu(CpuRefreshKind::nothing());
    let sys = match System::new_with_specifics(kind) {
        Ok(sys) => sys,
        Err(e) => {
            return (
                HostReading::default(),
                vec![format!(
                    "cannot read the host's CPU and memory ({e}); give --ram and --cpu-bandwidth"
                )],
            );
        }
    };
    let cgroup = sys.cgroup_limits();
    let logical = std::thread::available_parallelism()
        .ok()
        .map(|n| n.get())
        .or((!sys.cpus().is_empty()).then(|| sys.cpus().len()));
    let reading = HostReading {
        cpu_brand: sys
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty()),
        physical_cores: System::physical_core_count().ok().map(|n| n as u32),
        logical_cores: logical.map(|n| n as u32),
        total_ram: sys.total_memory(),
        available_ram: sys.available_memory(),
        cgroup_total: cgroup.as_ref().map(|c| c.total_memory),
        cgroup_free: cgroup.as_ref().map(|c| c.free_memory),
    };
    (reading, vec![])
}

/// The host as sizing sees it: RAM capped by the cgroup limit (sysinfo reports the host's
/// /proc/meminfo, not the container's share; rust.md §A.2), bandwidth from [`cpu_bandwidth`].
pub fn host(r: &HostReading) -> (Host, HostDetail, Vec<String>) {
    let mut notes = Vec::new();
    let limited = r.cgroup_total.is_some_and(|c| c < r.total_ram);
    let ram = match r.cgroup_total {
        Some(c) => r.total_ram.min(c),
        None => r.total_ram,
    };
    let available = match r.cgroup_free {
        Some(f) => r.available_ram.min(f),
        None => r.available_ram,
    }
    .min(ram);
    if limited {
        notes.push(format!(
            "RAM capped at {} by the container's cgroup limit (the host has {})",
            bytes(ram),
            bytes(r.total_ram)
        ));
    }
    let (bandwidth, basis) = cpu_bandwidth(r.cpu_brand.as_deref().unwrap_or(""));
    let cores = r.physical_cores.or(r.logical_cores).unwrap_or(1);
    let host = Host {
        cpu: r.cpu_brand.clone(),
        physical_cores: r.physical_cores,
        logical_cores: r.logical_cores,
        ram_bytes: ram,
        available_ram_bytes: available,
        cpu_bandwidth_gb_s: bandwidth,
        cpu_tflops: cpu_tflops(cores),
    };
    let detail = HostDetail {
        cpu_bandwidth_basis: basis,
        ram_limited_by_cgroup: limited,
    };
    (host, detail, notes)
}

/// Peak DRAM bandwidth of the platform a CPU sits on, GB/s, and the rule used (the figures in
/// [`crate::hardware::platform`]); where the CPU model
/// does not name its platform, the lowest figure of its class, so nothing is promised.
pub fn cpu_bandwidth(brand: &str) -> (f64, String) {
    let b = brand.to_ascii_lowercase();
    let model = first_model_number(&b);
    let digit = |i: usize| model.as_deref().and_then(|m| m.chars().nth(i));
    let p = if b.contains("epyc") {
        match (digit(0), digit(3)) {
            (Some('9'), Some('5')) => EPYC_TURIN,
            (Some('9'), Some('4')) => EPYC_GENOA,
            (Some('7'), Some('3')) => EPYC_MILAN,
            _ => EPYC_UNNAMED,
        }
    } else if b.contains("xeon") {
        match digit(1) {
            Some('5') => XEON_EMERALD_RAPIDS,
            Some('4') => XEON_SAPPHIRE_RAPIDS,
            Some('3') => XEON_ICE_LAKE,
            _ => XEON_UNNAMED,
        }
    } else if b.contains("cortex-a76") {
        RASPBERRY_PI_5
    } else if (b.contains("ryzen") && digit(0) == Some('9')) || b.contains("core ultra") {
        DESKTOP_DDR5_5600
    } else if b.contains("ryzen") && digit(0) == Some('7') {
        DESKTOP_DDR5_4800
    } else {
        DESKTOP_UNNAMED
    };
    (p.gb_s, format!("estimate: {} (hardware.md §6)", p.name))
}

/// The first 4-digit model number in a CPU brand ("AMD EPYC 9654 96-Core" → "9654",
/// "Ryzen 7 7800X3D" → "7800").
fn first_model_number(brand: &str) -> Option<String> {
    brand
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            w.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .find(|digits| digits.len() == 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_follows_the_platform_the_cpu_names() {
        let gb = |brand: &str| cpu_bandwidth(brand).0;
        assert_eq!(gb("AMD EPYC 9654 96-Core Processor"), 460.8);
        assert_eq!(gb("AMD EPYC 9755 128-Core Processor"), 576.0);
        assert_eq!(gb("AMD EPYC 7763 64-Core Processor"), 204.8);
        assert_eq!(gb("AMD EPYC"), 204.8);
        assert_eq!(gb("Intel(R) Xeon(R) Platinum 8480+"), 307.2);
        assert_eq!(gb("INTEL(R) XEON(R) PLATINUM 8592+"), 358.4);
        assert_eq!(gb("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"), 204.8);
        assert_eq!(gb("AMD Ryzen 9 9950X 16-Core Processor"), 89.6);
        assert_eq!(gb("AMD Ryzen 7 7800X3D 8-Core Processor"), 76.8);
        assert_eq!(gb("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"), 51.2);
        assert_eq!(gb("Cortex-A76"), 17.07);
        assert_eq!(gb(""), 51.2);
    }

    #[test]
    fn ram_is_capped_by_the_cgroup_limit() {
        let r = HostReading {
            cpu_brand: Some("AMD EPYC 9654".into()),
            physical_cores: Some(96),
            logical_cores: Some(8),
            total_ram: 512 << 30,
            available_ram: 500 << 30,
            cgroup_total: Some(32 << 30),
            cgroup_free: Some(30 << 30),
        };
        let (host, detail, notes) = host(&r);
        assert_eq!(host.ram_bytes, 32 << 30);
        assert_eq!(host.available_ram_bytes, 30 << 30);
        assert!(detail.ram_limited_by_cgroup);
        assert_eq!(notes.len(), 1);
        assert_eq!(host.cpu_tflops, cpu_tflops(96));

        let free = HostReading {
            cgroup_total: None,
            cgroup_free: None,
            ..r
        };
        let (host, detail, notes) = super::host(&free);
        assert_eq!(host.ram_bytes, 512 << 30);
        assert!(!detail.ram_limited_by_cgroup && notes.is_empty());
    }
}
