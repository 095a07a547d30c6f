//! `--emit`: the plan's manifest or commands in place of the report.

use crate::cli::{EmitArgs, Format};
use crate::decide::launch;
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::report::manifest::{self, Autoscale, Emit, Target, object_name};
use crate::sizing::{Deployment, MemoryPlan};

/// The format asked for, refusing `--json` beside it (both would claim stdout).
pub fn format(args: &EmitArgs, output: Format) -> Result<Option<Emit>> {
    match (args.emit, output) {
        (Some(e), Format::Json) => Err(Error::input(format!(
            "--emit {} prints a manifest, not JSON; give --emit or --json",
            emit_name(e)
        ))),
        (e, _) => Ok(e),
    }
}

fn emit_name(e: Emit) -> &'static str {
    match e {
        Emit::Kubernetes => "kubernetes",
        Emit::Compose => "compose",
        Emit::Command => "command",
    }
}

/// What deploys `replicas` copies of `d` as placed by `mem` on `hw`; with `autoscale` (a plan
/// under a load), Kubernetes also gets a HorizontalPodAutoscaler, or a note on why not.
pub fn render(
    format: Emit,
    d: &Deployment,
    mem: &MemoryPlan,
    hw: &Hardware,
    replicas: u32,
    autoscale: Option<Autoscale>,
    notes: &mut Vec<String>,
) -> Result<String> {
    let plan = launch::plan(d, mem)?;
    let gpus = mem.placement.gpus;
    let vendor = (gpus > 0)
        .then(|| hw.gpus.first().map(|g| g.vendor))
        .flatten();
    let nodes = plan.nodes.len().max(1) as u32;
    let autoscale = match (format, autoscale, manifest::queue_metric(&d.engine.id)) {
        (Emit::Kubernetes, Some(a), Ok(_)) => Some(a),
        (Emit::Kubernetes, Some(_), Err(why)) => {
            notes.push(format!(
                "no HorizontalPodAutoscaler: {why}, so there is no queue to scale {} on",
                d.engine.id
            ));
            None
        }
        _ => None,
    };
    let target = Target {
        name: object_name(&["r1pick", &d.model.id, &d.quant.id, &d.engine.id]),
        engine: &d.engine.id,
        plan: &plan,
        replicas,
        vendor,
        gpus_per_node: gpus.div_ceil(nodes),
        autoscale,
    };
    manifest::render(&target, format)
}
