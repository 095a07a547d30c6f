//! AMD GPUs through the amdgpu driver's sysfs files: `/sys/class/drm/cardN/device/` holds `vendor`
//! (0x1002 for AMD), `mem_info_vram_total` and `mem_info_vram_used` (bytes) and, on Instinct parts,
//! `product_name`. No ROCm library is needed.

use std::path::Path;

use super::nvidia::{UNKNOWN_BANDWIDTH_GB_S, match_catalog, squash};
use super::{BandwidthSource, GpuDetail, ProbedGpu, in_use_note};
use crate::catalog::Catalog;
use crate::catalog::gpu::{GpuSpec, Vendor};
use crate::hardware::Gpu;

/// PCI vendor id of AMD (ATI), as the kernel writes it in `device/vendor`.
const AMD_VENDOR: &str = "0x1002";

/// One DRM card as sysfs describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AmdCard {
    /// The DRM card number (N of cardN).
    pub card: u32,
    pub vendor: String,
    pub product_name: Option<String>,
    pub vram_total: Option<u64>,
    pub vram_used: Option<u64>,
}

/// The cards under `<sysfs>/class/drm` (connector entries such as card0-DP-1 are skipped), sorted by
/// number. A missing directory is an empty list: no amdgpu driver.
pub fn read(sysfs: &Path) -> Vec<AmdCard> {
    let Ok(entries) = std::fs::read_dir(sysfs.join("class/drm")) else {
        return vec![];
    };
    let mut cards: Vec<AmdCard> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let card: u32 = name.strip_prefix("card")?.parse().ok()?;
            let dev = e.path().join("device");
            let text = |f: &str| {
                std::fs::read_to_string(dev.join(f))
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let number = |f: &str| text(f).and_then(|s| s.parse::<u64>().ok());
            Some(AmdCard {
                card,
                vendor: text("vendor")?,
                product_name: text("product_name"),
                vram_total: number("mem_info_vram_total"),
                vram_used: number("mem_info_vram_used"),
            })
        })
        .collect();
    cards.sort_by_key(|c| c.card);
    cards
}

/// The AMD cards with VRAM, matched to the catalog by product name where one is given.
pub fn gpus(catalog: &Catalog, cards: &[AmdCard]) -> (Vec<ProbedGpu>, Vec<String>) {
    let mut notes = Vec::new();
    let gpus = cards
        .iter()
        .filter(|c| c.vendor.eq_ignore_ascii_case(AMD_VENDOR))
        .filter_map(|c| Some((c, c.vram_total.filter(|t| *t > 0)?)))
        .map(|(c, total)| {
            let name = c
                .product_name
                .clone()
                .unwrap_or_else(|| format!("AMD GPU (card{})", c.card));
            let label = format!("card{} ({name})", c.card);
            let spec = c.product_name.as_deref().and_then(|p| amd_spec(catalog, p));
            let available = total.saturating_sub(c.vram_used.unwrap_or(0));
            notes.extend(in_use_note(&label, available, total));
            let mut gpu = match spec {
                Some(s) => Gpu::from_spec(s),
                None => {
                    let fp16 = catalog
                        .gpus
                        .iter()
                        .filter(|g| g.vendor == Vendor::Amd)
                        .map(|g| g.fp16_tflops)
                        .fold(f64::INFINITY, f64::min);
                    let fp16 = if fp16.is_finite() { fp16 } else { 0.0 };
                    notes.push(format!(
                        "{label} is not in r1pick's catalog: memory from sysfs, {UNKNOWN_BANDWIDTH_GB_S} GB/s and {fp16} FP16 TFLOPS assumed (conservative); describe it with --hardware FILE"
                    ));
                    Gpu::uncatalogued(
                        name.clone(),
                        Vendor::Amd,
                        total,
                        UNKNOWN_BANDWIDTH_GB_S,
                        fp16,
                    )
                }
            };
            gpu.name = name;
            gpu.memory_bytes = total;
            gpu.available_bytes = available;
            ProbedGpu {
                gpu,
                detail: GpuDetail {
                    index: c.card,
                    source: "sysfs".into(),
                    in_catalog: spec.is_some(),
                    architecture: spec.map(|s| s.arch.clone()),
                    free_bytes: Some(available),
                    used_bytes: c.vram_used,
                    bandwidth_source: if spec.is_some() {
                        BandwidthSource::Catalog
                    } else {
                        BandwidthSource::Default
                    },
                    ..Default::default()
                },
            }
        })
        .collect();
    (gpus, notes)
}

/// The catalog's AMD entry for a product name: an exact name, else the one entry whose name the
/// product name contains ("AMD Instinct MI300X OAM" → mi300x).
fn amd_spec<'a>(catalog: &'a Catalog, product: &str) -> Option<&'a GpuSpec> {
    if let Some(s) = match_catalog(catalog, product).filter(|s| s.vendor == Vendor::Amd) {
        return Some(s);
    }
    let key = squash(product);
    let mut hits = catalog.gpus.iter().filter(|g| {
        g.vendor == Vendor::Amd && g.nvml_names.iter().any(|n| key.contains(&squash(n)))
    });
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    fn card(root: &Path, name: &str, files: &[(&str, &str)]) {
        let dev = root.join("class/drm").join(name).join("device");
        std::fs::create_dir_all(&dev).unwrap();
        for (f, v) in files {
            std::fs::write(dev.join(f), format!("{v}\n")).unwrap();
        }
    }

    #[test]
    fn amd_cards_are_read_from_sysfs_and_matched_by_product_name() -> TestResult {
        let dir = tempfile::tempdir()?;
        let gib = 1u64 << 30;
        card(
            dir.path(),
            "card1",
            &[
                ("vendor", "0x1002"),
                ("product_name", "AMD Instinct MI300X OAM"),
                ("mem_info_vram_total", &(192 * gib).to_string()),
                ("mem_info_vram_used", &(100 * gib).to_string()),
            ],
        );
        card(
            dir.path(),
            "card0",
            &[
                ("vendor", "0x1002"),
                ("mem_info_vram_total", &(16 * gib).to_string()),
                ("mem_info_vram_used", "0"),
            ],
        );
        card(dir.path(), "card2", &[("vendor", "0x10de")]);
        std::fs::create_dir_all(dir.path().join("class/drm/card0-DP-1"))?;

        let cards = read(dir.path());
        assert_eq!(
            cards.iter().map(|c| c.card).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        let c = Catalog::embedded()?;
        let (gpus, notes) = gpus(&c, &cards);
        assert_eq!(gpus.len(), 2, "the NVIDIA card is not AMD's");
        let unknown = &gpus[0].gpu;
        assert_eq!(unknown.id, None);
        assert_eq!(unknown.memory_bytes, 16 * gib);
        assert_eq!(unknown.bandwidth_gb_s, UNKNOWN_BANDWIDTH_GB_S);
        let mi300x = &gpus[1].gpu;
        assert_eq!(mi300x.id.as_deref(), Some("mi300x"));
        assert_eq!(mi300x.available_bytes, 92 * gib);
        assert_eq!(mi300x.bandwidth_gb_s, 5300.0);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("card1") && n.contains("in use"))
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("card0") && n.contains("not in r1pick's catalog"))
        );
        Ok(())
    }

    #[test]
    fn no_drm_directory_means_no_amd_gpu() -> TestResult {
        assert!(read(Path::new("/nonexistent/sys")).is_empty());
        Ok(())
    }
}
