//! Simulated hardware: a machine described by flags, built only from the catalog.
//! Never touches NVML or the host, so the same flags give the same numbers on every machine.

use super::platform::{platform, simulated};
use super::{Gpu, Hardware, HardwareSource, Host};
use crate::catalog::Catalog;
use crate::catalog::gpu::GpuSpec;
use crate::error::{Error, Result, edit_distance};

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimulationRequest {
    /// `--gpu SPEC` values, each `name` or `name:count`.
    pub gpu_specs: Vec<String>,
    /// `--gpus N`: count for a single `--gpu` without `:N`.
    pub gpus: Option<u32>,
    pub ram_bytes: Option<u64>,
    pub cpu_bandwidth_gb_s: Option<f64>,
    pub no_gpu: bool,
    /// `--nodes N`: nodes the GPUs are spread over (default: nodes of the default size).
    pub nodes: Option<u32>,
    /// `--network KIND`: the link between nodes (default: the assumed one).
    pub network: Option<super::Network>,
}

impl SimulationRequest {
    pub fn is_empty(&self) -> bool {
        self.gpu_specs.is_empty()
            && !self.no_gpu
            && self.ram_bytes.is_none()
            && self.cpu_bandwidth_gb_s.is_none()
    }
}

/// Most GPUs one simulated machine may hold (a large multi-node cluster).
pub const MAX_GPUS: u32 = 1024;

pub fn simulate(catalog: &Catalog, req: &SimulationRequest) -> Result<Hardware> {
    if req.no_gpu && !req.gpu_specs.is_empty() {
        return Err(Error::input(
            "--no-gpu contradicts --gpu; give one or the other",
        ));
    }
    let mut gpus = Vec::new();
    for spec in &req.gpu_specs {
        let (name, count) = split_count(spec)?;
        let count = match (count, req.gpus) {
            (Some(_), Some(n)) => {
                return Err(Error::input(format!(
                    "--gpu '{spec}' gives a count and --gpus {n} another; give one of them"
                )));
            }
            (Some(c), None) => c,
            (None, Some(n)) if req.gpu_specs.len() == 1 => n,
            (None, Some(n)) => {
                return Err(Error::input(format!(
                    "--gpus {n} counts a single --gpu; with several --gpu give each its count (e.g. --gpu h100-sxm:2)"
                )));
            }
            (None, None) => 1,
        };
        let gpu_spec = resolve_gpu(catalog, name)?;
        if gpus.len() + count as usize > MAX_GPUS as usize {
            return Err(too_many(gpus.len() + count as usize));
        }
        gpus.extend(std::iter::repeat_n(
            Gpu::from_spec(gpu_spec),
            count as usize,
        ));
    }
    if req.gpus.is_some() && req.gpu_specs.is_empty() {
        return Err(Error::input("--gpus N needs --gpu NAME to say which GPU"));
    }
    let mut hw = machine(catalog, gpus, req.ram_bytes, req.cpu_bandwidth_gb_s)?;
    hw.set_nodes(req.nodes, req.network.clone())?;
    Ok(hw)
}

/// A simulated machine from its GPUs and the host settings given (flags or a `--hardware` file);
/// the host values left out follow the rules below, so the result depends on nothing but the input.
pub fn machine(
    catalog: &Catalog,
    mut gpus: Vec<Gpu>,
    ram_bytes: Option<u64>,
    cpu_bandwidth_gb_s: Option<f64>,
) -> Result<Hardware> {
    if gpus.len() > MAX_GPUS as usize {
        return Err(too_many(gpus.len()));
    }
    let gpus_len = gpus.len() as u32;
    let unified = gpus.first().is_some_and(|g| g.unified_memory);
    let vram: u64 = gpus.iter().map(|g| g.memory_bytes).sum();
    let ram = match ram_bytes {
        Some(r) => check_ram(r)?,
        None if unified => vram,
        // No RAM given: twice the GPU memory (server practice, e.g. 2 TB beside 8×80 GB in a DGX
        // H100), at least 32 GiB.
        None => (2 * vram).max(32 << 30),
    };
    if unified {
        set_unified_budget(&mut gpus, ram);
    }
    let cpu_bandwidth = match cpu_bandwidth_gb_s {
        Some(b) => check_cpu_bandwidth(b)?,
        None => default_cpu_bandwidth(catalog, &gpus),
    };
    Ok(Hardware {
        gpus,
        host: Host {
            cpu: None,
            physical_cores: None,
            logical_cores: Some(simulated().cores),
            ram_bytes: ram,
            available_ram_bytes: ram,
            cpu_bandwidth_gb_s: cpu_bandwidth,
            cpu_tflops: cpu_tflops(simulated().cores),
        },
        source: HardwareSource::Simulated,
        notes: vec![],
        nodes: super::network::nodes(gpus_len, None)?,
        network: super::Network::default(),
    })
}

fn too_many(n: usize) -> Error {
    Error::input(format!(
        "{n} GPUs is more than r1pick plans for (at most {MAX_GPUS})"
    ))
}

/// `--ram` as given: any positive size up to the bound every loader shares.
pub fn check_ram(ram: u64) -> Result<u64> {
    use crate::catalog::bounds::MAX_RAM_BYTES;
    if ram == 0 {
        return Err(Error::input(
            "--ram 0: a machine needs some memory (e.g. --ram 64GiB)",
        ));
    }
    if ram > MAX_RAM_BYTES {
        return Err(Error::input(format!(
            "--ram {:.0} TiB: give at most {} TiB",
            ram as f64 / (1u64 << 40) as f64,
            MAX_RAM_BYTES >> 40
        )));
    }
    Ok(ram)
}

/// `--cpu-bandwidth` as given: GB/s in (0, 100000).
pub fn check_cpu_bandwidth(gb_s: f64) -> Result<f64> {
    if !(gb_s > 0.0 && gb_s < 100_000.0) {
        return Err(Error::input(format!(
            "--cpu-bandwidth {gb_s}: give GB/s between 0 and 100000"
        )));
    }
    Ok(gb_s)
}

/// Unified memory: the GPU may use only the Metal working set of the machine's RAM.
pub fn set_unified_budget(gpus: &mut [Gpu], ram: u64) {
    for g in gpus.iter_mut().filter(|g| g.unified_memory) {
        g.memory_bytes = unified_gpu_budget(ram);
        g.available_bytes = g.memory_bytes;
    }
}

/// FP32 TFLOPS of `cores` x86 cores at 3 GHz with two 256-bit FMA pipes (32 FLOP/cycle).
pub fn cpu_tflops(cores: u32) -> f64 {
    f64::from(cores) * 3.0e9 * 32.0 / 1e12
}

/// Memory the GPU of a unified-memory machine may use: Metal's recommendedMaxWorkingSetSize, which
/// macOS sets to about 2/3 of RAM up to 36 GiB and 3/4 above (the value llmfit reads through
/// objc2-metal, anchors.md §1.2; canitrun.dev assumes 75%, hardware.md §5).
pub fn unified_gpu_budget(ram: u64) -> u64 {
    if ram <= 36 << 30 {
        ram / 3 * 2
    } else {
        ram / 4 * 3
    }
}

/// Peak DRAM bandwidth of the host a simulated GPU usually sits in (hardware.md §6): a desktop
/// for consumer cards and CPU-only, a server beside data-center GPUs (both in
/// [`crate::hardware::platform`]), and the chip's own bandwidth on unified memory.
fn default_cpu_bandwidth(catalog: &Catalog, gpus: &[Gpu]) -> f64 {
    let Some(first) = gpus.first() else {
        return platform(simulated().desktop).gb_s;
    };
    if first.unified_memory {
        return first.bandwidth_gb_s;
    }
    let datacenter = first
        .id
        .as_deref()
        .and_then(|id| catalog.gpus.iter().find(|g| g.id == id))
        .is_some_and(|g| g.class == crate::catalog::gpu::GpuClass::Datacenter);
    if datacenter {
        platform(simulated().server).gb_s
    } else {
        platform(simulated().desktop).gb_s
    }
}

/// `h100-sxm:8` → ("h100-sxm", Some(8)).
pub fn split_count(spec: &str) -> Result<(&str, Option<u32>)> {
    match spec.rsplit_once(':') {
        Some((name, _)) if name.contains(':') => Err(Error::input(format!(
            "--gpu '{spec}': give one count after a single ':', e.g. h100-sxm:8"
        ))),
        Some((name, _)) if name.trim().is_empty() => Err(Error::input(format!(
            "--gpu '{spec}': a GPU name must come before ':', e.g. h100-sxm:8"
        ))),
        Some((name, n)) => {
            let count: u32 = n.trim().parse().map_err(|_| {
                Error::input(format!(
                    "--gpu '{spec}': the count after ':' must be a whole number, e.g. h100-sxm:8"
                ))
            })?;
            if count == 0 || count > MAX_GPUS {
                return Err(Error::input(format!(
                    "--gpu '{spec}': the count must be between 1 and {MAX_GPUS}"
                )));
            }
            Ok((name.trim(), Some(count)))
        }
        None => Ok((spec.trim(), None)),
    }
}

/// Catalog id, alias, NVML name, or a spelling that names exactly one GPU ("4090", "H100 SXM").
pub fn resolve_gpu<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a GpuSpec> {
    let key = normalize(name);
    if key.is_empty() {
        return Err(Error::input(format!(
            "--gpu '{name}' has no letters or digits to name a GPU, e.g. --gpu h100-sxm (see `r1pick gpus`)"
        )));
    }
    if let Some(g) = catalog.gpus.iter().find(|g| normalize(&g.id) == key) {
        return Ok(g);
    }
    // An alias or NVML name two variants share ("NVIDIA GeForce RTX 3060" is both the 8 and the
    // 12 GB card) names neither: it is ambiguous like any other spelling that fits several.
    let exact: Vec<&GpuSpec> = catalog
        .gpus
        .iter()
        .filter(|g| {
            g.aliases.iter().any(|a| normalize(a) == key)
                || g.nvml_names.iter().any(|n| normalize(n) == key)
        })
        .collect();
    if let [one] = exact.as_slice() {
        return Ok(one);
    }
    let partial: Vec<&GpuSpec> = if exact.len() > 1 {
        exact
    } else {
        catalog
            .gpus
            .iter()
            .filter(|g| {
                std::iter::once(&g.id)
                    .chain(&g.aliases)
                    .chain(&g.nvml_names)
                    .any(|n| normalize(n).contains(&key))
            })
            .collect()
    };
    match partial.as_slice() {
        [one] => Ok(one),
        [] => {
            let near = nearest_ids(catalog, &key, 5);
            Err(Error::input(format!(
                "unknown GPU '{name}'; closest: {} (see `r1pick gpus` for all {} ids)",
                near.join(", "),
                catalog.gpus.len()
            )))
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|g| g.id.as_str()).collect();
            Err(Error::input(format!(
                "GPU '{name}' is ambiguous; it matches {} — give one of these ids",
                ids.join(", ")
            )))
        }
    }
}

/// The `n` catalog ids whose id, alias or NVML name is nearest to `key` (normalized) by edit
/// distance, nearest first; ties keep catalog order, so the list is deterministic.
fn nearest_ids<'a>(catalog: &'a Catalog, key: &str, n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(usize, usize, &str)> = catalog
        .gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let d = std::iter::once(&g.id)
                .chain(&g.aliases)
                .chain(&g.nvml_names)
                .map(|s| edit_distance(key, &normalize(s)))
                .min()
                .unwrap_or(usize::MAX);
            (d, i, g.id.as_str())
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(n).map(|(_, _, id)| id).collect()
}

fn normalize(s: &str) -> String {
    // Full-width forms (U+FF01..U+FF5E, typed with East Asian input methods) are ASCII.
    let ascii: String = s
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect();
    ascii
        .to_lowercase()
        .replace("nvidia", "")
        .replace("geforce", "")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}
