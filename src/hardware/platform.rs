//! Host platforms and their peak DRAM bandwidth: the per-socket figures of hardware.md §6
//! (MT/s × 8 bytes × channels). The probe reads them for the CPU it finds; simulation assumes
//! one of them for the host a simulated GPU sits in. One table, so the two never disagree.

/// A host platform: its peak DRAM bandwidth, GB/s, the most cores one socket of it has (its
/// top part, on the vendor's product page), and how it is named in output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platform {
    pub gb_s: f64,
    pub cores: u32,
    pub name: &'static str,
}

const fn platform(gb_s: f64, cores: u32, name: &'static str) -> Platform {
    Platform { gb_s, cores, name }
}

// Top parts (amd.com / intel.com product pages): EPYC 9965 192 cores (9005), EPYC 9754 128
// (9004, Bergamo), EPYC 7763 64 (7003), Xeon Platinum 8592+ 64 (5th gen), 8490H 60 (4th gen),
// 8380 40 (3rd gen), Core Ultra 9 285K 24, Ryzen 9 7950X 16, Ryzen 9 5950X 16, Raspberry Pi 5 4.
pub const EPYC_TURIN: Platform = platform(576.0, 192, "EPYC 9005 (Turin): 12-channel DDR5-6000");
pub const EPYC_GENOA: Platform = platform(460.8, 128, "EPYC 9004 (Genoa): 12-channel DDR5-4800");
pub const EPYC_MILAN: Platform = platform(204.8, 64, "EPYC 7003 (Milan): 8-channel DDR4-3200");
pub const EPYC_UNNAMED: Platform = platform(
    204.8,
    64,
    "EPYC of unnamed generation: 8-channel DDR4-3200, the lowest EPYC platform",
);
pub const XEON_EMERALD_RAPIDS: Platform = platform(
    358.4,
    64,
    "Xeon 5th gen (Emerald Rapids): 8-channel DDR5-5600",
);
pub const XEON_SAPPHIRE_RAPIDS: Platform = platform(
    307.2,
    60,
    "Xeon 4th gen (Sapphire Rapids): 8-channel DDR5-4800",
);
pub const XEON_ICE_LAKE: Platform =
    platform(204.8, 40, "Xeon 3rd gen (Ice Lake-SP): 8-channel DDR4-3200");
pub const XEON_UNNAMED: Platform = platform(
    204.8,
    64,
    "Xeon of unnamed generation: 8-channel DDR4-3200, the lowest server platform",
);
pub const RASPBERRY_PI_5: Platform = platform(17.07, 4, "Raspberry Pi 5: LPDDR4X-4267, 32-bit");
pub const DESKTOP_DDR5_5600: Platform = platform(
    89.6,
    24,
    "Ryzen 9000 / Core Ultra 200S desktop: 2-channel DDR5-5600",
);
pub const DESKTOP_DDR5_4800: Platform =
    platform(76.8, 16, "Ryzen 7000 desktop: 2-channel DDR5-4800");
pub const DESKTOP_UNNAMED: Platform = platform(
    51.2,
    16,
    "desktop of unnamed platform: 2-channel DDR4-3200, the lowest desktop platform",
);

/// The host simulation assumes beside a data-center GPU: a 12-channel DDR5-4800 server.
pub const SIMULATED_SERVER: Platform = EPYC_GENOA;
/// The host simulation assumes beside a consumer card, and for CPU-only: a DDR5-5600 desktop.
pub const SIMULATED_DESKTOP: Platform = DESKTOP_DDR5_5600;

/// The DRAM bandwidth a process can count on when it may run on `usable` of the platform
/// socket's `cores` cores: each core's fair share of the socket's peak (`peak / cores`, what a
/// core gets when every core streams; a VM's vCPUs on a busy host get no more), times the cores
/// it may use, capped at the peak. `cores` is the part's own count where the CPU names it, else
/// the platform's top part, so nothing is promised. Pure, so it is tested with fixed inputs.
pub fn usable_bandwidth(peak_gb_s: f64, cores: u32, usable: f64) -> f64 {
    let cores = f64::from(cores.max(1));
    peak_gb_s * (usable.max(0.0) / cores).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_core_vm_gets_two_cores_share_of_the_socket() {
        // issue 15 item 10: a 2-core VM on an EPYC 7763 (64 cores) was given all 204.8 GB/s
        assert_eq!(usable_bandwidth(204.8, 64, 2.0), 6.4);
        assert!((usable_bandwidth(460.8, 96, 8.0) - 38.4).abs() < 1e-9);
        // every core, or more (a second socket's), is capped at one socket's peak
        assert_eq!(usable_bandwidth(204.8, 64, 64.0), 204.8);
        assert_eq!(usable_bandwidth(204.8, 64, 128.0), 204.8);
        assert_eq!(usable_bandwidth(89.6, 16, 0.5), 2.8);
    }
}
