//! Host platforms and their peak DRAM bandwidth: the per-socket figures of hardware.md §6
//! (MT/s × 8 bytes × channels). The probe reads them for the CPU it finds; simulation assumes
//! one of them for the host a simulated GPU sits in. One table, so the two never disagree.

/// A host platform: its peak DRAM bandwidth, GB/s, and how it is named in output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platform {
    pub gb_s: f64,
    pub name: &'static str,
}

const fn platform(gb_s: f64, name: &'static str) -> Platform {
    Platform { gb_s, name }
}

pub const EPYC_TURIN: Platform = platform(576.0, "EPYC 9005 (Turin): 12-channel DDR5-6000");
pub const EPYC_GENOA: Platform = platform(460.8, "EPYC 9004 (Genoa): 12-channel DDR5-4800");
pub const EPYC_MILAN: Platform = platform(204.8, "EPYC 7003 (Milan): 8-channel DDR4-3200");
pub const EPYC_UNNAMED: Platform = platform(
    204.8,
    "EPYC of unnamed generation: 8-channel DDR4-3200, the lowest EPYC platform",
);
pub const XEON_EMERALD_RAPIDS: Platform =
    platform(358.4, "Xeon 5th gen (Emerald Rapids): 8-channel DDR5-5600");
pub const XEON_SAPPHIRE_RAPIDS: Platform =
    platform(307.2, "Xeon 4th gen (Sapphire Rapids): 8-channel DDR5-4800");
pub const XEON_ICE_LAKE: Platform =
    platform(204.8, "Xeon 3rd gen (Ice Lake-SP): 8-channel DDR4-3200");
pub const XEON_UNNAMED: Platform = platform(
    204.8,
    "Xeon of unnamed generation: 8-channel DDR4-3200, the lowest server platform",
);
pub const RASPBERRY_PI_5: Platform = platform(17.07, "Raspberry Pi 5: LPDDR4X-4267, 32-bit");
pub const DESKTOP_DDR5_5600: Platform = platform(
    89.6,
    "Ryzen 9000 / Core Ultra 200S desktop: 2-channel DDR5-5600",
);
pub const DESKTOP_DDR5_4800: Platform = platform(76.8, "Ryzen 7000 desktop: 2-channel DDR5-4800");
pub const DESKTOP_UNNAMED: Platform = platform(
    51.2,
    "desktop of unnamed platform: 2-channel DDR4-3200, the lowest desktop platform",
);

/// The host simulation assumes beside a data-center GPU: a 12-channel DDR5-4800 server.
pub const SIMULATED_SERVER: Platform = EPYC_GENOA;
/// The host simulation assumes beside a consumer card, and for CPU-only: a DDR5-5600 desktop.
pub const SIMULATED_DESKTOP: Platform = DESKTOP_DDR5_5600;
