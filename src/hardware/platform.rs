//! Host platforms and their peak DRAM bandwidth: the per-socket figures of hardware.md §6
//! (MT/s × 8 bytes × channels) and each platform's top core count, one table in
//! data/platforms.toml with a source per row. The probe reads them for the CPU it finds;
//! simulation assumes one of them for the host a simulated GPU sits in.

use std::sync::OnceLock;

use serde::Deserialize;

const TEXT: &str = include_str!("../../data/platforms.toml");

/// The platforms r1pick tells apart. Each has exactly one row in data/platforms.toml
/// (`every_platform_has_one_row`), so looking one up cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformId {
    EpycTurin,
    EpycGenoa,
    EpycMilan,
    EpycUnnamed,
    XeonEmeraldRapids,
    XeonSapphireRapids,
    XeonIceLake,
    XeonUnnamed,
    #[serde(rename = "raspberry-pi-5")]
    RaspberryPi5,
    #[serde(rename = "desktop-ddr5-5600")]
    DesktopDdr5_5600,
    #[serde(rename = "desktop-ddr5-4800")]
    DesktopDdr5_4800,
    DesktopUnnamed,
}

/// A host platform: its peak DRAM bandwidth, GB/s, the most cores one socket of it has (its
/// top part), how it is named in output, and where each figure comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    pub id: PlatformId,
    pub name: String,
    pub gb_s: f64,
    pub bandwidth_source: String,
    pub cores: u32,
    pub cores_source: String,
}

/// The host a simulated GPU is assumed to sit in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulated {
    /// Beside a data-center GPU.
    pub server: PlatformId,
    /// Beside a consumer card, and for CPU-only.
    pub desktop: PlatformId,
    /// Cores of the simulated host's CPU (its prefill FLOPS).
    pub cores: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformData {
    #[allow(dead_code)]
    schema_version: u32,
    simulated: Simulated,
    platform: Vec<Platform>,
}

fn data() -> &'static PlatformData {
    static DATA: OnceLock<PlatformData> = OnceLock::new();
    // Embedded and parsed by the unit tests (`every_platform_has_one_row`), so a parse error is a
    // build defect, not a user error.
    DATA.get_or_init(|| toml::from_str(TEXT).expect("data/platforms.toml parses"))
}

/// The row of `id`.
pub fn platform(id: PlatformId) -> &'static Platform {
    data()
        .platform
        .iter()
        .find(|p| p.id == id)
        // every id has a row: `every_platform_has_one_row`
        .expect("data/platforms.toml has a row for every PlatformId")
}

/// The host simulation assumes.
pub fn simulated() -> &'static Simulated {
    &data().simulated
}

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

    const ALL: [PlatformId; 12] = [
        PlatformId::EpycTurin,
        PlatformId::EpycGenoa,
        PlatformId::EpycMilan,
        PlatformId::EpycUnnamed,
        PlatformId::XeonEmeraldRapids,
        PlatformId::XeonSapphireRapids,
        PlatformId::XeonIceLake,
        PlatformId::XeonUnnamed,
        PlatformId::RaspberryPi5,
        PlatformId::DesktopDdr5_5600,
        PlatformId::DesktopDdr5_4800,
        PlatformId::DesktopUnnamed,
    ];

    #[test]
    fn every_platform_has_one_row() {
        let rows = &data().platform;
        assert_eq!(rows.len(), ALL.len());
        for id in ALL {
            assert_eq!(rows.iter().filter(|p| p.id == id).count(), 1, "{id:?}");
        }
        // every bandwidth is hardware.md §6's; every core count names its source
        for p in rows {
            assert!(
                p.bandwidth_source.starts_with("hardware.md §6"),
                "{:?}",
                p.id
            );
            assert!(
                p.cores_source.starts_with("hardware.md §6") || p.cores_source.contains("https://"),
                "{:?}",
                p.id
            );
        }
    }

    #[test]
    fn the_table_holds_the_published_figures() {
        // hardware.md §6: MT/s × 8 B × channels, per socket
        let gb = |id| platform(id).gb_s;
        assert_eq!(gb(PlatformId::EpycTurin), 576.0);
        assert_eq!(gb(PlatformId::EpycGenoa), 460.8);
        assert_eq!(gb(PlatformId::EpycMilan), 204.8);
        assert_eq!(gb(PlatformId::XeonEmeraldRapids), 358.4);
        assert_eq!(gb(PlatformId::XeonSapphireRapids), 307.2);
        assert_eq!(gb(PlatformId::RaspberryPi5), 17.07);
        assert_eq!(gb(PlatformId::DesktopDdr5_5600), 89.6);
        assert_eq!(gb(PlatformId::DesktopDdr5_4800), 76.8);
        assert_eq!(gb(PlatformId::DesktopUnnamed), 51.2);
        assert_eq!(platform(PlatformId::RaspberryPi5).cores, 4);
        assert_eq!(platform(PlatformId::EpycMilan).cores, 64);
        let s = simulated();
        assert_eq!(
            (s.server, s.desktop, s.cores),
            (PlatformId::EpycGenoa, PlatformId::DesktopDdr5_5600, 16)
        );
    }

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
