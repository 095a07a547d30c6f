//! Which machine a command plans for: simulated from flags, or this one, probed.

use crate::cli::{HardwareArgs, ProbeArgs};
use crate::error::Result;
use crate::hardware::Hardware;
use crate::hardware::simulate::{SimulationRequest, simulate};

use super::{Context, Outcome};

/// The machine for a command: simulated when any hardware flag says so, else probed.
pub fn resolve(ctx: &Context, args: &HardwareArgs) -> Result<Hardware> {
    let req = SimulationRequest {
        gpu_specs: args.gpu.clone(),
        gpus: args.gpus,
        ram_bytes: args.ram,
        cpu_bandwidth_gb_s: args.cpu_bandwidth,
        no_gpu: args.no_gpu,
    };
    simulate(&ctx.catalog, &req)
}

pub fn probe(ctx: &Context, _args: &ProbeArgs) -> Result<Outcome> {
    let hw = resolve(
        ctx,
        &HardwareArgs {
            no_gpu: true,
            ..Default::default()
        },
    )?;
    Ok(Outcome::ok(crate::report::to_json(&hw)))
}
