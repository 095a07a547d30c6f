//! The host: CPU, cores and RAM through sysinfo 0.40 (rust.md §A.2), capped by the container's
//! cgroup limits, and an estimate of DRAM bandwidth from the CPU model.
//!
//! The bandwidth is a rule, not a measurement: a live measurement would make every probed run
//! differ a little, and a few hundred milliseconds of copying is more than the whole probe should
//! cost. Set the measured value with `--cpu-bandwidth` (e.g. from STREAM).

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use super::HostDetail;
use crate::hardware::Host;
use crate::hardware::platform::{Platform, PlatformId as P, platform, usable_bandwidth};
use crate::hardware::simulate::cpu_tflops;
use crate::quantity::bytes;

/// What sysinfo read, unprocessed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostReading {
    pub cpu_brand: Option<String>,
    pub physical_cores: Option<u32>,
    /// Logical CPUs this process may use: `available_parallelism`, which applies the affinity
    /// mask (`sched_getaffinity`) and the cgroup CPU quota (v2 `cpu.max`, v1 `cfs_quota_us`).
    pub logical_cores: Option<u32>,
    /// Logical CPUs the machine has, usable or not.
    pub machine_logical_cores: Option<u32>,
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
        machine_logical_cores: (!sys.cpus().is_empty()).then(|| sys.cpus().len() as u32),
        total_ram: sys.total_memory(),
        available_ram: sys.available_memory(),
        cgroup_total: cgroup.as_ref().map(|c| c.total_memory),
        cgroup_free: cgroup.as_ref().map(|c| c.free_memory),
    };
    (reading, vec![])
}

/// The host as sizing sees it: RAM capped by the cgroup limit (sysinfo reports the host's
/// /proc/meminfo, not the container's share; rust.md §A.2), bandwidth from [`platform_of`] and
/// the cores the process may use ([`usable_bandwidth`]).
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
    let brand = r.cpu_brand.as_deref().unwrap_or("");
    let p = platform_of(brand);
    let socket_cores = brand_cores(brand).unwrap_or(p.cores);
    let usable = usable_cores(r.logical_cores, r.physical_cores, r.machine_logical_cores);
    let bandwidth = usable
        .map(|u| usable_bandwidth(p.gb_s, socket_cores, u))
        .unwrap_or(p.gb_s);
    let basis = if bandwidth < p.gb_s {
        // the table row reads "6.4 GB/s, 2 of 64 cores usable, their share of …"
        format!(
            "{} of {socket_cores} cores usable, their share of the {} GB/s peak; estimate: {} (hardware.md §6)",
            usable.map(cores_label).unwrap_or_default(),
            p.gb_s,
            p.name
        )
    } else {
        format!("estimate: {} (hardware.md §6)", p.name)
    };
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
        usable_cores: usable,
        platform_cpu_bandwidth_gb_s: Some(p.gb_s),
    };
    (host, detail, notes)
}

/// The platform a CPU sits on (the figures in [`crate::hardware::platform`]); where the CPU
/// model does not name its platform, the lowest figure of its class, so nothing is promised.
pub fn platform_of(brand: &str) -> &'static Platform {
    let b = brand.to_ascii_lowercase();
    let model = first_model_number(&b);
    let digit = |i: usize| model.as_deref().and_then(|m| m.chars().nth(i));
    platform(if b.contains("epyc") {
        match (digit(0), digit(3)) {
            (Some('9'), Some('5')) => P::EpycTurin,
            (Some('9'), Some('4')) => P::EpycGenoa,
            (Some('7'), Some('3')) => P::EpycMilan,
            _ => P::EpycUnnamed,
        }
    } else if b.contains("xeon") {
        match digit(1) {
            Some('5') => P::XeonEmeraldRapids,
            Some('4') => P::XeonSapphireRapids,
            Some('3') => P::XeonIceLake,
            _ => P::XeonUnnamed,
        }
    } else if b.contains("cortex-a76") {
        P::RaspberryPi5
    } else if (b.contains("ryzen") && digit(0) == Some('9')) || b.contains("core ultra") {
        P::DesktopDdr5_5600
    } else if b.contains("ryzen") && digit(0) == Some('7') {
        P::DesktopDdr5_4800
    } else {
        P::DesktopUnnamed
    })
}

/// The cores a CPU's name states ("AMD EPYC 7763 64-Core Processor" → 64); Intel's names do not.
fn brand_cores(brand: &str) -> Option<u32> {
    let b = brand.to_ascii_lowercase();
    let at = b.find("-core")?;
    let digits: String = b[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Physical cores this process may use: its logical CPUs, counted as whole cores only where the
/// machine has no SMT siblings (2 vCPUs of a 1-core, 2-thread VM are one core).
fn usable_cores(usable: Option<u32>, physical: Option<u32>, machine: Option<u32>) -> Option<f64> {
    let usable = f64::from(usable?);
    Some(match (physical, machine) {
        (Some(p), Some(m)) if p > 0 && m >= p => usable * f64::from(p) / f64::from(m),
        _ => usable,
    })
}

/// "2", "0.5", "1.5": a count of cores as the probe states it.
fn cores_label(c: f64) -> String {
    if c.fract() == 0.0 {
        format!("{c:.0}")
    } else {
        format!("{c:.1}")
    }
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
        let gb = |brand: &str| platform_of(brand).gb_s;
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
            cpu_brand: Some("AMD EPYC 9654 96-Core Processor".into()),
            physical_cores: Some(96),
            logical_cores: Some(192),
            machine_logical_cores: Some(192),
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

    fn vm(
        brand: &str,
        usable: u32,
        physical: u32,
        machine: u32,
    ) -> (Host, HostDetail, Vec<String>) {
        host(&HostReading {
            cpu_brand: Some(brand.into()),
            physical_cores: Some(physical),
            logical_cores: Some(usable),
            machine_logical_cores: Some(machine),
            total_ram: 8 << 30,
            available_ram: 7 << 30,
            ..Default::default()
        })
    }

    #[test]
    fn bandwidth_scales_with_the_cores_the_process_may_use() {
        // issue 15 item 10: a 2-vCPU VM on an EPYC 7763 was given the socket's 204.8 GB/s
        let (h, d, notes) = vm("AMD EPYC 7763 64-Core Processor", 2, 2, 2);
        assert_eq!(h.cpu_bandwidth_gb_s, 6.4);
        assert_eq!(d.usable_cores, Some(2.0));
        assert_eq!(d.platform_cpu_bandwidth_gb_s, Some(204.8));
        assert_eq!(
            d.cpu_bandwidth_basis,
            "2 of 64 cores usable, their share of the 204.8 GB/s peak; estimate: EPYC 7003 (Milan): 8-channel DDR4-3200 (hardware.md §6)"
        );
        assert!(notes.is_empty());
        // a Xeon names no core count: the platform's top part (60 cores); 8 threads of a
        // 112-core, 224-thread host are 4 cores
        let (h, d, _) = vm("Intel(R) Xeon(R) Platinum 8480+", 8, 112, 224);
        assert_eq!(d.usable_cores, Some(4.0));
        assert!((h.cpu_bandwidth_gb_s - 20.48).abs() < 1e-9);
        // 2 CPUs (a cgroup quota or an affinity mask) of a 16-core, 32-thread desktop: one core
        let (h, _, _) = vm("AMD Ryzen 9 9950X 16-Core Processor", 2, 16, 32);
        assert_eq!(h.cpu_bandwidth_gb_s, 5.6);
    }

    #[test]
    fn every_core_usable_keeps_the_platform_peak_and_says_nothing() {
        let (h, d, notes) = vm("AMD EPYC 9654 96-Core Processor", 192, 96, 192);
        assert_eq!(h.cpu_bandwidth_gb_s, 460.8);
        assert_eq!(
            d.cpu_bandwidth_basis,
            "estimate: EPYC 9004 (Genoa): 12-channel DDR5-4800 (hardware.md §6)"
        );
        assert!(notes.is_empty());
        assert_eq!(brand_cores("AMD EPYC 9754 128-Core Processor"), Some(128));
        assert_eq!(brand_cores("Intel(R) Xeon(R) Platinum 8480+"), None);
    }
}
