//! `--hardware FILE`: a machine described in TOML, for planning on hardware this computer is not.
//!
//! ```toml
//! nodes = 2                   # the GPUs below spread over this many equal nodes (before any
//!                             # table; default: nodes of 8, data/network.toml)
//!
//! [host]
//! ram = "256GiB"              # sizes as on the command line (GiB = 2^30, GB = 10^9)
//! cpu_bandwidth_gb_s = 307.2  # peak DRAM bandwidth, GB/s
//!
//! [[gpu]]
//! id = "l40s"                 # a catalog id, alias or NVML name (as --gpu)
//! count = 4
//!
//! [[gpu]]                     # a GPU the catalog does not know, by its specs
//! name = "Acme X1"
//! memory = "96GiB"
//! bandwidth_gb_s = 2400
//! fp16_tflops = 500
//! fp8_tflops = 1000           # optional, like every key below
//! memory_type = "hbm"         # hbm, gddr (default) or lpddr
//! interconnect = "pcie5"      # pcie3/4/5, nvlink2/3/4/5, nvlink3-bridge, nvlink4-bridge, …
//! usd_per_hour = 2.5
//! count = 2
//!
//! [network]                   # the link between nodes (default: InfiniBand NDR, 8 ports, assumed)
//! kind = "roce-400g"          # infiniband-ndr, infiniband-hdr, infiniband-xdr, roce-400g, …
//! ports_per_node = 8
//! ```
//!
//! Unknown keys are errors with their line number (a typo must not silently fall back to a default),
//! and a machine from a file is simulated: the same file gives the same numbers everywhere.

use serde::Deserialize;
use toml::Spanned;

use super::simulate::{MAX_GPUS, check_cpu_bandwidth, cpu_tflops, machine, resolve_gpu};

const GIB: f64 = (1u64 << 30) as f64;
use super::{Gpu, Hardware, Network, pcie_gb_s};
use crate::catalog::bounds::{
    MAX_CORES, MAX_GPU_GIB, MAX_GPU_RATE, MAX_RAM_BYTES, MIN_GPU_GIB, MIN_GPU_RATE, PCIE_GENS,
    plausible_rate,
};
use crate::catalog::gpu::{Interconnect, MemoryType, Vendor};
use crate::catalog::{Catalog, SCHEMA_VERSION, one_line_toml_error};
use crate::error::{Error, Result};
use crate::quantity::parse_size;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineFile {
    schema_version: Option<u32>,
    #[serde(default)]
    host: HostSection,
    #[serde(default, rename = "gpu")]
    gpus: Vec<Spanned<GpuEntry>>,
    nodes: Option<Spanned<u32>>,
    network: Option<Spanned<NetworkSection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkSection {
    kind: Option<Spanned<String>>,
    ports_per_node: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSection {
    ram: Option<Spanned<String>>,
    cpu_bandwidth_gb_s: Option<Spanned<f64>>,
    /// CPU name, shown only.
    cpu: Option<String>,
    /// Cores for CPU prefill.
    cores: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GpuEntry {
    id: Option<Spanned<String>>,
    count: Option<Spanned<u32>>,
    usd_per_hour: Option<Spanned<f64>>,
    name: Option<String>,
    vendor: Option<Vendor>,
    memory: Option<Spanned<String>>,
    bandwidth_gb_s: Option<Spanned<f64>>,
    fp16_tflops: Option<Spanned<f64>>,
    fp8_tflops: Option<Spanned<f64>>,
    memory_type: Option<MemoryType>,
    compute_capability: Option<String>,
    interconnect: Option<Interconnect>,
    interconnect_gb_s: Option<Spanned<f64>>,
    pcie_gen: Option<Spanned<u32>>,
    tdp_w: Option<Spanned<f64>>,
}

/// A machine read from a file, before the command line's `--ram` / `--cpu-bandwidth` apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub gpus: Vec<Gpu>,
    pub ram_bytes: Option<u64>,
    pub cpu_bandwidth_gb_s: Option<f64>,
    pub cpu: Option<String>,
    pub cores: Option<u32>,
    /// `nodes = N` (checked against the GPU count when the machine is built).
    pub nodes: Option<u32>,
    pub network: Option<Network>,
}

impl Machine {
    /// The simulated machine; `ram` and `cpu_bandwidth_gb_s` (flags) win over the file's, and so
    /// do `--nodes` and `--network` over its `nodes` and `[network]`.
    pub fn hardware(
        self,
        catalog: &Catalog,
        ram: Option<u64>,
        cpu_bandwidth_gb_s: Option<f64>,
        nodes: Option<u32>,
        network: Option<Network>,
    ) -> Result<Hardware> {
        let mut hw = machine(
            catalog,
            self.gpus,
            ram.or(self.ram_bytes),
            cpu_bandwidth_gb_s.or(self.cpu_bandwidth_gb_s),
        )?;
        hw.set_nodes(nodes.or(self.nodes), network.or(self.network))?;
        hw.host.cpu = self.cpu;
        if let Some(c) = self.cores {
            hw.host.logical_cores = Some(c);
            hw.host.cpu_tflops = cpu_tflops(c);
        }
        Ok(hw)
    }
}

/// Parse a machine file; `name` (the path) starts every error.
pub fn parse(catalog: &Catalog, name: &str, text: &str) -> Result<Machine> {
    let file: MachineFile = toml::from_str(text)
        .map_err(|e| Error::input(format!("{name}: {}", one_line_toml_error(&e, text))))?;
    let at = |span: std::ops::Range<usize>, msg: String| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        Error::input(format!("{name}: line {line}: {msg}"))
    };
    if let Some(v) = file.schema_version
        && v != SCHEMA_VERSION
    {
        return Err(Error::input(format!(
            "{name}: schema_version {v} is not supported (this r1pick reads {SCHEMA_VERSION})"
        )));
    }
    // The catalog's bounds (crate::catalog::bounds), so a file cannot describe what the catalog
    // would refuse.
    let positive = |v: &Spanned<f64>, key: &str| -> Result<f64> {
        let x = *v.get_ref();
        if plausible_rate(x) {
            Ok(x)
        } else {
            Err(at(
                v.span(),
                // Debug prints 1e300 as "1e300", not 301 digits.
                format!("{key} = {x:?}: give a value from {MIN_GPU_RATE} to {MAX_GPU_RATE}"),
            ))
        }
    };
    let size = |v: &Spanned<String>, key: &str| -> Result<u64> {
        let bytes = parse_size(v.get_ref()).map_err(|e| at(v.span(), format!("{key}: {e}")))?;
        let (lo, hi, range) = if key == "ram" {
            (
                1,
                MAX_RAM_BYTES,
                format!("at most {} TiB", MAX_RAM_BYTES >> 40),
            )
        } else {
            let (lo, hi) = (MIN_GPU_GIB * GIB, MAX_GPU_GIB * GIB);
            (
                lo as u64,
                hi as u64,
                format!("{} MiB to {MAX_GPU_GIB} GiB", MIN_GPU_GIB * 1024.0),
            )
        };
        if (lo..=hi).contains(&bytes) {
            Ok(bytes)
        } else {
            Err(at(
                v.span(),
                format!("{key} = \"{}\": give {range}", v.get_ref()),
            ))
        }
    };

    let h = &file.host;
    let ram_bytes = h.ram.as_ref().map(|r| size(r, "ram")).transpose()?;
    let cpu_bandwidth_gb_s = h
        .cpu_bandwidth_gb_s
        .as_ref()
        .map(|b| {
            // --cpu-bandwidth's own bound, reported at the file's line.
            check_cpu_bandwidth(*b.get_ref()).map_err(|_| {
                at(
                    b.span(),
                    format!(
                        "cpu_bandwidth_gb_s = {:?}: give GB/s between 0 and 100000",
                        b.get_ref()
                    ),
                )
            })
        })
        .transpose()?;
    let cores = match &h.cores {
        Some(c) if !(1..=MAX_CORES).contains(c.get_ref()) => {
            return Err(at(
                c.span(),
                format!("cores = {}: give 1 to {MAX_CORES}", c.get_ref()),
            ));
        }
        c => c.as_ref().map(|c| *c.get_ref()),
    };

    let mut gpus = Vec::new();
    for entry in &file.gpus {
        let span = entry.span();
        let e = entry.get_ref();
        let count = match &e.count {
            None => 1,
            Some(c) if (1..=MAX_GPUS).contains(c.get_ref()) => *c.get_ref(),
            Some(c) => {
                return Err(at(
                    c.span(),
                    format!("count = {}: give 1 to {MAX_GPUS}", c.get_ref()),
                ));
            }
        };
        if gpus.len() + count as usize > MAX_GPUS as usize {
            return Err(at(
                span,
                format!("more than {MAX_GPUS} GPUs in one machine"),
            ));
        }
        if let Some(n) = &e.name
            && n.chars().any(crate::terminal::is_unsafe)
        {
            return Err(at(
                span.clone(),
                format!(
                    "name = \"{}\": a control or bidirectional character is not allowed in a name",
                    crate::terminal::escape(n)
                ),
            ));
        }
        if let Some(g) = &e.pcie_gen
            && !PCIE_GENS.contains(g.get_ref())
        {
            return Err(at(
                g.span(),
                format!("pcie_gen = {}: give 1 to 7", g.get_ref()),
            ));
        }
        let mut gpu = match &e.id {
            Some(id) => {
                let own_specs = [
                    e.name.is_some(),
                    e.vendor.is_some(),
                    e.memory.is_some(),
                    e.bandwidth_gb_s.is_some(),
                    e.fp16_tflops.is_some(),
                    e.fp8_tflops.is_some(),
                    e.memory_type.is_some(),
                    e.compute_capability.is_some(),
                    e.interconnect.is_some(),
                    e.interconnect_gb_s.is_some(),
                    e.pcie_gen.is_some(),
                    e.tdp_w.is_some(),
                ];
                let (id, id_span) = (id.get_ref(), id.span());
                if own_specs.contains(&true) {
                    return Err(at(
                        id_span,
                        format!(
                            "gpu id = \"{id}\" takes its specs from the catalog; with an id give only count and usd_per_hour, or drop the id to describe the GPU by its specs"
                        ),
                    ));
                }
                let spec = resolve_gpu(catalog, id).map_err(|err| at(id_span, err.to_string()))?;
                Gpu::from_spec(spec)
            }
            None => described(e, &positive, &size).map_err(|msg| match msg {
                Described::Missing(keys) => at(
                    span.clone(),
                    format!(
                        "a [[gpu]] needs id = \"<catalog id>\" (see `r1pick gpus`) or its specs; missing: {}",
                        keys.join(", ")
                    ),
                ),
                Described::Invalid(err) => err,
            })?,
        };
        if let Some(p) = &e.usd_per_hour {
            let price = *p.get_ref();
            if !(0.0..=MAX_GPU_RATE).contains(&price) {
                return Err(at(
                    p.span(),
                    format!("usd_per_hour = {price:?}: give 0 to {MAX_GPU_RATE}"),
                ));
            }
            gpu.usd_per_hour = Some(price);
        }
        gpus.extend(std::iter::repeat_n(gpu, count as usize));
    }
    // Checked here so a bad value is blamed on its line; the GPU count is known by now.
    let nodes = match &file.nodes {
        Some(n) => Some(
            super::network::nodes(gpus.len() as u32, Some(*n.get_ref()))
                .map_err(|e| at(n.span(), e.to_string().replacen("--nodes", "nodes =", 1)))?,
        ),
        None => None,
    };
    let network = match &file.network {
        Some(section) => {
            let net = section.get_ref();
            let Some(kind) = &net.kind else {
                return Err(at(
                    section.span(),
                    "[network] needs kind = \"<link kind>\" (e.g. \"infiniband-ndr\")".into(),
                ));
            };
            let ports = net.ports_per_node.as_ref().map(|p| *p.get_ref());
            let span = match (&net.ports_per_node, Network::of(kind.get_ref(), None)) {
                (Some(p), Ok(_)) => p.span(),
                _ => kind.span(),
            };
            Some(
                Network::of(kind.get_ref(), ports)
                    .map_err(|e| at(span, e.to_string().replacen("--network", "kind =", 1)))?,
            )
        }
        None => None,
    };
    Ok(Machine {
        gpus,
        ram_bytes,
        cpu_bandwidth_gb_s,
        cpu: h.cpu.clone(),
        cores,
        nodes,
        network,
    })
}

enum Described {
    Missing(Vec<&'static str>),
    Invalid(Error),
}

/// A GPU given by its specs.
fn described(
    e: &GpuEntry,
    positive: &dyn Fn(&Spanned<f64>, &str) -> Result<f64>,
    size: &dyn Fn(&Spanned<String>, &str) -> Result<u64>,
) -> std::result::Result<Gpu, Described> {
    let missing: Vec<&'static str> = [
        ("name", e.name.is_none()),
        ("memory", e.memory.is_none()),
        ("bandwidth_gb_s", e.bandwidth_gb_s.is_none()),
        ("fp16_tflops", e.fp16_tflops.is_none()),
    ]
    .into_iter()
    .filter_map(|(k, absent)| absent.then_some(k))
    .collect();
    let (Some(name), Some(memory), Some(bw), Some(fp16)) =
        (&e.name, &e.memory, &e.bandwidth_gb_s, &e.fp16_tflops)
    else {
        return Err(Described::Missing(missing));
    };
    let opt =
        |v: &Option<Spanned<f64>>, key: &str| v.as_ref().map(|v| positive(v, key)).transpose();
    let memory = size(memory, "memory").map_err(Described::Invalid)?;
    let bandwidth = positive(bw, "bandwidth_gb_s").map_err(Described::Invalid)?;
    let fp16 = positive(fp16, "fp16_tflops").map_err(Described::Invalid)?;
    let fp8 = opt(&e.fp8_tflops, "fp8_tflops").map_err(Described::Invalid)?;
    let tdp = opt(&e.tdp_w, "tdp_w").map_err(Described::Invalid)?;
    let link_override =
        opt(&e.interconnect_gb_s, "interconnect_gb_s").map_err(Described::Invalid)?;
    let pcie_gen = e
        .pcie_gen
        .as_ref()
        .map(|g| *g.get_ref())
        .unwrap_or(match e.interconnect {
            Some(Interconnect::Pcie3) => 3,
            Some(Interconnect::Pcie5) => 5,
            _ => 4,
        });
    let pcie = pcie_gb_s(Some(pcie_gen), Some(16));
    let interconnect = e.interconnect.unwrap_or(match pcie_gen {
        3 => Interconnect::Pcie3,
        g if g >= 5 => Interconnect::Pcie5,
        _ => Interconnect::Pcie4,
    });
    let mut gpu = Gpu::uncatalogued(
        name.clone(),
        e.vendor.unwrap_or(Vendor::Nvidia),
        memory,
        bandwidth,
        fp16,
    );
    gpu.memory_type = e.memory_type.unwrap_or(MemoryType::Gddr);
    gpu.fp8_tflops = fp8;
    gpu.compute_capability = e.compute_capability.clone();
    gpu.interconnect = interconnect;
    gpu.interconnect_gb_s = link_override.unwrap_or_else(|| link_gb_s(interconnect, pcie));
    gpu.pcie_gb_s = pcie;
    gpu.tdp_w = tdp;
    Ok(gpu)
}

/// GPU-to-GPU bandwidth per direction of a link type, GB/s: the fabric's own figure
/// ([`Interconnect::fabric_gb_s`]); PCIe cards talk over their host link.
fn link_gb_s(link: Interconnect, pcie: f64) -> f64 {
    link.fabric_gb_s().unwrap_or(pcie)
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    fn parse_err(text: &str) -> String {
        let c = Catalog::embedded().unwrap();
        parse(&c, "hw.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn values_are_checked_where_they_are() -> TestResult {
        assert_eq!(
            parse_err("[host]\nram = \"64\"\n"),
            "hw.toml: line 2: ram: '64' needs a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
        );
        assert_eq!(
            parse_err("[[gpu]]\nid = \"l40s\"\ncount = 0\n"),
            "hw.toml: line 3: count = 0: give 1 to 1024"
        );
        assert!(
            parse_err("[[gpu]]\nid = \"nope9000\"\n")
                .starts_with("hw.toml: line 2: unknown GPU 'nope9000'")
        );
        assert!(parse_err("[host]\nram = 64\n").starts_with("hw.toml: line 2: invalid type"));
        Ok(())
    }

    #[test]
    fn nodes_and_network_are_checked_at_their_lines() -> TestResult {
        assert_eq!(
            parse_err("nodes = 3\n[[gpu]]\nid = \"h100-sxm\"\ncount = 16\n"),
            "hw.toml: line 1: nodes = 3 does not split 16 GPUs into equal nodes (valid: 1, 2, 4, 8, 16)"
        );
        assert_eq!(
            parse_err("[network]\nkind = \"myrinet\"\n"),
            "hw.toml: line 2: kind = 'myrinet': unknown link kind (valid: infiniband-ndr, infiniband-hdr, infiniband-xdr, roce-400g, roce-200g, ethernet-100g)"
        );
        assert_eq!(
            parse_err("[network]\nkind = \"roce-400g\"\nports_per_node = 0\n"),
            "hw.toml: line 3: ports_per_node = 0: give 1 to 64"
        );
        let c = Catalog::embedded()?;
        let m = parse(
            &c,
            "hw.toml",
            "nodes = 4\n[network]\nkind = \"infiniband-hdr\"\nports_per_node = 4\n[[gpu]]\nid = \"a100-sxm-80gb\"\ncount = 16\n",
        )?;
        let hw = m.hardware(&c, None, None, None, None)?;
        assert_eq!((hw.nodes, hw.node_gpus()), (4, 4));
        // 4 HDR ports × 200 Gb/s = 100 GB/s per node over its 4 GPUs.
        assert_eq!(hw.network_gb_s_per_gpu(), 25.0);
        assert!(!hw.network.assumed);
        Ok(())
    }

    #[test]
    fn a_described_gpu_gets_link_defaults_from_its_interconnect() -> TestResult {
        let c = Catalog::embedded()?;
        let m = parse(
            &c,
            "hw.toml",
            "[[gpu]]\nname = \"X\"\nmemory = \"48GiB\"\nbandwidth_gb_s = 900\nfp16_tflops = 200\npcie_gen = 5\n",
        )?;
        let g = &m.gpus[0];
        assert_eq!(g.interconnect, Interconnect::Pcie5);
        assert_eq!(g.interconnect_gb_s, 63.0);
        assert_eq!(g.memory_type, MemoryType::Gddr);
        let hw = m.hardware(&c, None, None, None, None)?;
        // No [host]: the simulation's rules (twice the GPU memory, at least 32 GiB).
        assert_eq!(hw.host.ram_bytes, 96 << 30);
        Ok(())
    }
}
