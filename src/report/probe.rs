//! `r1pick probe`: the machine as found (or simulated), as a table and as `r1pick.probe/v1` JSON.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Render, align_right, gib, schema, table};
use crate::hardware::probe::{GpuDetail, HostDetail, NvidiaStatus, ProbeReport};
use crate::hardware::{Gpu, HardwareSource, Host};

/// `r1pick probe --json`. Each GPU carries the fields sizing uses (as in `Hardware`) and what the
/// probe learned (`index`, `source`, `uuid`, `free_bytes`, `pcie_gen`, …); `gpus` is `[]` on a
/// machine without GPUs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeDocument {
    pub schema: String,
    pub source: HardwareSource,
    pub gpu_count: u32,
    pub gpus: Vec<ProbeGpu>,
    pub nvidia: NvidiaStatus,
    pub host: ProbeHost,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeGpu {
    #[serde(flatten)]
    pub gpu: Gpu,
    #[serde(flatten)]
    pub detail: GpuDetail,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeHost {
    #[serde(flatten)]
    pub host: Host,
    #[serde(flatten)]
    pub detail: HostDetail,
}

impl ProbeDocument {
    pub fn of(r: &ProbeReport) -> Self {
        ProbeDocument {
            schema: schema("probe"),
            source: r.hardware.source,
            gpu_count: r.hardware.gpu_count(),
            gpus: r
                .hardware
                .gpus
                .iter()
                .zip(&r.gpus)
                .map(|(g, d)| ProbeGpu {
                    gpu: g.clone(),
                    detail: d.clone(),
                })
                .collect(),
            nvidia: r.nvidia.clone(),
            host: ProbeHost {
                host: r.hardware.host.clone(),
                detail: r.host.clone(),
            },
            notes: r.hardware.notes.clone(),
        }
    }
}

impl Render for ProbeDocument {
    fn table(&self) -> String {
        probe_table(self)
    }
}

/// The machine for people: a GPU table, the driver, the host, then the notes.
fn probe_table(r: &ProbeDocument) -> String {
    let source = match r.source {
        HardwareSource::Probed => "probed",
        HardwareSource::Simulated => "simulated",
    };
    let mut out = String::new();
    if r.gpus.is_empty() {
        out.push_str(&format!("GPUs ({source}): none\n"));
    } else {
        let mut t = table(&[
            "#", "GPU", "catalog", "memory", "free", "GB/s", "FP16 TF", "CC", "PCIe", "NVLink",
            "MIG",
        ]);
        for ProbeGpu { gpu: g, detail: d } in &r.gpus {
            let dash = || "–".to_string();
            t.add_row(vec![
                d.index.to_string(),
                g.name.clone(),
                g.id.clone().unwrap_or_else(|| "not in catalog".into()),
                gib(g.memory_bytes),
                gib(g.available_bytes),
                format!("{:.0}", g.bandwidth_gb_s),
                format!("{:.1}", g.fp16_tflops),
                g.compute_capability.clone().unwrap_or_else(dash),
                match (d.pcie_gen, d.pcie_width) {
                    (Some(gen_), Some(w)) => format!("Gen{gen_} x{w}"),
                    (Some(gen_), None) => format!("Gen{gen_}"),
                    _ => dash(),
                },
                d.nvlink_active_links
                    .map(|n| format!("{n} active"))
                    .unwrap_or_else(dash),
                if g.mig { "on".into() } else { "off".into() },
            ]);
        }
        align_right(&mut t, &[0, 3, 4, 5, 6]);
        out.push_str(&format!("GPUs ({source})\n{t}\n"));
    }
    if let NvidiaStatus::Found { driver, cuda, .. } = &r.nvidia {
        out.push_str(&format!(
            "NVIDIA driver {}, CUDA {}\n",
            driver.as_deref().unwrap_or("unknown"),
            cuda.as_deref().unwrap_or("unknown")
        ));
    }
    let h = &r.host.host;
    let cores = match (h.physical_cores, h.logical_cores) {
        (Some(p), Some(l)) => format!("{p} physical, {l} logical"),
        (None, Some(l)) => format!("{l} logical"),
        (Some(p), None) => format!("{p} physical"),
        (None, None) => "unknown".into(),
    };
    let mut t = table(&["host", ""]);
    t.add_row(vec![
        "CPU".into(),
        h.cpu.clone().unwrap_or_else(|| "unknown".into()),
    ]);
    t.add_row(vec!["cores".into(), cores]);
    let cgroup = if r.host.detail.ram_limited_by_cgroup {
        " (cgroup limit)"
    } else {
        ""
    };
    t.add_row(vec![
        "RAM".into(),
        format!(
            "{}{cgroup}, {} available",
            gib(h.ram_bytes),
            gib(h.available_ram_bytes)
        ),
    ]);
    t.add_row(vec![
        "memory bandwidth".into(),
        format!(
            "{:.1} GB/s, {}",
            h.cpu_bandwidth_gb_s, r.host.detail.cpu_bandwidth_basis
        ),
    ]);
    t.add_row(vec![
        "CPU FP32".into(),
        format!("{:.2} TFLOPS", h.cpu_tflops),
    ]);
    out.push_str(&format!("{t}\n"));
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
