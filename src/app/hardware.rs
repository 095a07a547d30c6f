//! Which machine a command plans for: simulated from flags or a file, or this one, probed.

use std::path::PathBuf;

use crate::cli::{HardwareArgs, ProbeArgs};
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::hardware::probe::{
    NvmlSnapshot, NvmlSource, ProbeOptions, ProbeReport, probe as probe_machine,
};
use crate::hardware::simulate::{SimulationRequest, simulate};
use crate::report::probe::ProbeDocument;
use crate::report::render;

use super::{Context, Outcome, read_file};

/// `R1PICK_NVML_LIB`: the NVML library to load instead of `libnvidia-ml.so.1` (a path that does not
/// exist forces the no-GPU path, which the tests use on GPU machines).
const NVML_LIB_ENV: &str = "R1PICK_NVML_LIB";
/// `R1PICK_NVML_SNAPSHOT`: NVML readings recorded on another machine (JSON, as in tests/fixtures),
/// used instead of the driver; a test seam for the probe's NVIDIA path.
const NVML_SNAPSHOT_ENV: &str = "R1PICK_NVML_SNAPSHOT";

/// The machine for a command: simulated when any hardware flag says so, else probed.
pub fn resolve(ctx: &Context, args: &HardwareArgs) -> Result<Hardware> {
    Ok(machine(ctx, args)?.hardware)
}

/// `--cloud` chooses `what` itself ("the GPUs", "the GPU type"), so no flag may name a machine.
pub fn refuse_with_cloud(args: &HardwareArgs, what: &str) -> Result<()> {
    if args.names_machine() {
        return Err(Error::input(format!(
            "--cloud chooses {what} itself; drop --gpu/--gpus/--hardware/--no-gpu"
        )));
    }
    Ok(())
}

/// The machine in the probe's shape. `--hardware`, `--gpu`, `--gpus` and `--no-gpu` simulate and
/// never touch NVML; otherwise this computer is probed and `--ram` / `--cpu-bandwidth` replace what
/// was found.
fn machine(ctx: &Context, args: &HardwareArgs) -> Result<ProbeReport> {
    let simulated = !args.gpu.is_empty() || args.gpus.is_some() || args.no_gpu;
    let network = network(args)?;
    if args.hardware.is_none() && !simulated && (args.nodes.is_some() || network.is_some()) {
        return Err(Error::input(
            "--nodes and --network describe a simulated cluster; give --gpu (e.g. --gpu h100-sxm:16 --nodes 2) or --hardware FILE",
        ));
    }
    if let Some(path) = &args.hardware {
        if simulated {
            return Err(Error::input(
                "--hardware FILE describes the whole machine; drop --gpu, --gpus and --no-gpu (--ram and --cpu-bandwidth still apply)",
            ));
        }
        let text = read_file(path, "hardware")?;
        let described =
            crate::hardware::file::parse(&ctx.catalog, &path.display().to_string(), &text)?;
        let hw = described.hardware(
            &ctx.catalog,
            args.ram,
            args.cpu_bandwidth,
            args.nodes,
            network,
        )?;
        return Ok(ProbeReport::simulated(hw, "file"));
    }
    if simulated {
        let req = SimulationRequest {
            gpu_specs: args.gpu.clone(),
            gpus: args.gpus,
            ram_bytes: args.ram,
            cpu_bandwidth_gb_s: args.cpu_bandwidth,
            no_gpu: args.no_gpu,
            nodes: args.nodes,
            network,
        };
        let hw = simulate(&ctx.catalog, &req).map_err(|e| match &args.gpu_origin {
            Some(origin) => Error::input(format!("{origin}: {e}")),
            None => e,
        })?;
        return Ok(ProbeReport::simulated(hw, "simulated"));
    }
    let mut report = probe_machine(&ctx.catalog, &probe_options()?);
    report.override_host(args.ram, args.cpu_bandwidth)?;
    Ok(report)
}

/// `--network KIND` as a link kind of data/network.toml, with the default's ports per node.
pub fn network(args: &HardwareArgs) -> Result<Option<crate::hardware::Network>> {
    args.network
        .as_deref()
        .map(|k| crate::hardware::Network::of(k, None))
        .transpose()
}

/// Probe settings from the environment.
fn probe_options() -> Result<ProbeOptions> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let nvml = match (env(NVML_SNAPSHOT_ENV), env(NVML_LIB_ENV)) {
        (Some(path), _) => {
            let path = PathBuf::from(path);
            let text = read_file(&path, "NVML snapshot")?;
            let snap = NvmlSnapshot::from_json(&text).map_err(|e| {
                Error::input(format!(
                    "{NVML_SNAPSHOT_ENV}='{}': not an NVML snapshot: {e}",
                    path.display()
                ))
            })?;
            NvmlSource::Snapshot(snap)
        }
        (None, lib) => NvmlSource::Library(lib.map(PathBuf::from).map(library).transpose()?),
    };
    Ok(ProbeOptions {
        nvml,
        cuda_visible_devices: std::env::var("CUDA_VISIBLE_DEVICES").ok(),
        ..ProbeOptions::default()
    })
}

/// `R1PICK_NVML_LIB` must name a regular file when it names anything: loading a FIFO or a device
/// would block or read without end. A path that does not exist still means "no driver here".
fn library(path: PathBuf) -> Result<PathBuf> {
    match std::fs::metadata(&path) {
        Ok(meta) => super::input::regular(&meta)
            .map(|()| path.clone())
            .map_err(|why| Error::input(format!("{NVML_LIB_ENV}='{}': {why}", path.display()))),
        Err(_) => Ok(path),
    }
}

/// `r1pick probe`: what this machine has (or the simulated one), for people or scripts.
pub fn probe(ctx: &Context, args: &ProbeArgs) -> Result<Outcome> {
    let report = machine(ctx, &args.hardware)?;
    if args.require_gpu && report.hardware.gpus.is_empty() {
        let reason = report
            .nvidia
            .reason()
            .unwrap_or_else(|| "none is visible on this machine".into());
        return Err(Error::Environment(format!(
            "--require-gpu: no GPU could be probed: {reason}"
        )));
    }
    Ok(Outcome::ok(render(&ProbeDocument::of(&report), ctx.format)))
}
