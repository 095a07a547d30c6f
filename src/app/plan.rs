//! `r1pick plan`: a load, an SLO and a GPU type (or the priced cloud) in; the cheapest fleet of
//! replicas, its cost at that load and the runners-up out.

use std::rc::Rc;

use crate::cli::plan::PlanArgs;
use crate::cli::{HardwareArgs, LoadArgs};
use crate::decide::fleet::{
    CURVE_SCALES, DEFAULT_HEADROOM, DEFAULT_PEAK_FACTOR, Demand, Fleet, FleetRequest, MAX_REPLICAS,
    ReplicaMachine, at_rates, gpu_id, plan as plan_fleet,
};
use crate::decide::load::Traffic;
use crate::decide::search::candidates::{CLOUD_COUNTS, local_counts};
use crate::decide::search::{Machines, Prefer};
use crate::error::{Error, Result, exit};
use crate::hardware::simulate::{SimulationRequest, simulate};
use crate::report::plan::{FleetLoad, FleetReport, LimitReport, PlanDocument};
use crate::report::plot::{FleetPoint, fleet_svg};
use crate::report::{render, schema};
use crate::serving::Load;

use super::request::{self, SearchArgs, search_request};
use super::{Context, Outcome, estimate, hardware};

pub fn plan(ctx: &Context, args: &PlanArgs) -> Result<Outcome> {
    let c = &ctx.catalog;
    let mut notes = vec![];
    let task = request::task(
        c,
        args.request.constraints.task.as_deref(),
        "plan",
        &mut notes,
    )?;
    let f = &args.fleet;
    let users = args.request.deployment.concurrency;
    if let (Some(_), Some(n)) = (f.daily, users) {
        return Err(Error::input(format!(
            "--daily and --concurrency {n} are two load shapes: give --daily (requests a day) or --concurrency (users in flight), not both"
        )));
    }
    if f.peak_factor.is_some() && f.daily.is_none() {
        return Err(Error::input(
            "--peak-factor scales --daily (a day's mean to its busiest hour); with --rate give the busy rate itself",
        ));
    }
    let peak = f
        .daily
        .map(|_| f.peak_factor.unwrap_or(DEFAULT_PEAK_FACTOR));
    let rate = match (args.request.load.rate, f.daily) {
        (Some(r), _) => Some(r),
        (None, Some(d)) => Some(d / 86_400.0 * peak.unwrap_or(DEFAULT_PEAK_FACTOR)),
        (None, None) => None,
    };
    if rate.is_none() && users.is_none() {
        return Err(Error::input(
            "plan needs a load: --rate 20/s, --daily 100k (requests a day) or --concurrency N (users in flight)",
        ));
    }
    // The whole fleet's load, validated as one replica's would be; each replica's share replaces it.
    let traffic = Traffic::from_flags(
        rate,
        users,
        args.request.deployment.prompt,
        args.request.deployment.output,
        args.request.load.percentile,
    )?
    .ok_or_else(|| Error::input("plan needs a load: --rate, --daily or --concurrency"))?;
    let demand = match traffic.load {
        Load::Rate { per_second } => Demand::Rate { per_second },
        Load::Concurrency { requests } => Demand::Users {
            concurrent: requests,
        },
    };
    // A replica is sized for one request at a time (its KV pool queues the rest); the users are
    // the demand, not the replica's workload.
    let deployment = crate::cli::DeploymentArgs {
        concurrency: None,
        ..args.request.deployment.clone()
    };
    let search_args = SearchArgs {
        model: args.model.as_deref(),
        constraints: &args.request.constraints,
        deployment: &deployment,
        cost: &args.request.cost,
        load: &LoadArgs::default(),
        prefer: Prefer::Cost,
    };
    let mut machines = vec![];
    let mut search = "machine";
    let req = search_request(c, task, &search_args, || {
        (machines, search) = replica_machines(ctx, &args.request.hardware, args.cloud, &mut notes)?;
        Ok(Machines::Cloud)
    })?;
    let fleet_req = FleetRequest {
        search: &req,
        machines,
        demand,
        traffic,
        headroom: f.headroom.unwrap_or(DEFAULT_HEADROOM),
        spares: f.spares.unwrap_or(0),
    };
    let emit_format = super::emit::format(&args.emit, ctx.format)?;
    if let Some(path) = &args.plot.plot {
        super::sweep::plot_path_ok(Some(path))?;
        if emit_format.is_some() {
            return Err(Error::input(
                "--plot draws the plan's cost and --emit prints its manifest: give one of them",
            ));
        }
        if rate.is_none() {
            return Err(Error::input(
                "--plot draws cost against the request rate: give the load as --rate or --daily, not --concurrency",
            ));
        }
    }
    let decision = plan_fleet(&fleet_req);
    if let (Some(format), Some(f)) = (emit_format, decision.choice.as_ref()) {
        let e = &f.replica.evaluated;
        let autoscale = crate::report::manifest::autoscale_rule(
            f.replicas,
            f.spares,
            f.requests_per_s / f64::from(f.replicas.max(1)),
            req.constraints.latency_ms,
        );
        let stdout = super::emit::render(
            format,
            &crate::decide::fleet::launched(&f.replica),
            &e.memory,
            &e.hardware,
            f.replicas + f.spares,
            Some(autoscale),
            &mut notes,
        )?;
        return Ok(Outcome {
            stdout,
            exit: exit::OK,
            notes,
        });
    }
    let doc = PlanDocument {
        schema: schema("plan"),
        task: task.id.clone(),
        slo: req.constraints.clone(),
        percentile: traffic.percentile,
        load: FleetLoad {
            shape: match demand {
                Demand::Rate { .. } => "rate".into(),
                Demand::Users { .. } => "users".into(),
            },
            per_second: rate,
            daily: f.daily,
            peak_factor: peak,
            users,
        },
        headroom: fleet_req.headroom,
        max_replicas: MAX_REPLICAS,
        search: search.into(),
        fleet: decision.choice.as_ref().map(fleet_report).transpose()?,
        alternatives: decision
            .runners_up
            .iter()
            .map(fleet_report)
            .collect::<Result<_>>()?,
        limit: decision.miss.as_ref().map(|m| LimitReport {
            constraint: m.constraint,
            message: m.message.clone(),
        }),
        shapes: decision.shapes,
        evaluated: decision.evaluated,
    };
    let code = if doc.fleet.is_some() {
        exit::OK
    } else {
        exit::UNMET
    };
    if let (Some(path), Some(chosen), Some(planned)) =
        (&args.plot.plot, decision.choice.as_ref(), rate)
    {
        let svg = fleet_plot(&fleet_req, chosen, planned)?;
        super::sweep::write_atomically(path, &svg)?;
    }
    let stdout = render(&doc, ctx.format);
    Ok(Outcome {
        stdout,
        exit: code,
        notes,
    })
}

/// The machines replicas may run on, and what kind of search that is. `--cloud`: every priced GPU
/// type; `--gpu TYPE`: that type with 1–32 GPUs per replica (`TYPE:N` or `--gpus N`: N exactly);
/// a `--hardware` file or this machine: copies of it, using 1…all of its GPUs.
fn replica_machines(
    ctx: &Context,
    h: &HardwareArgs,
    cloud: bool,
    notes: &mut Vec<String>,
) -> Result<(Vec<ReplicaMachine>, &'static str)> {
    let network = hardware::network(h)?;
    let of_type = |id: &str, counts: &[u32]| -> Vec<ReplicaMachine> {
        counts
            .iter()
            .filter_map(|&n| {
                let req = SimulationRequest {
                    gpu_specs: vec![format!("{id}:{n}")],
                    ram_bytes: h.ram,
                    cpu_bandwidth_gb_s: h.cpu_bandwidth,
                    network: network.clone(),
                    ..Default::default()
                };
                simulate(&ctx.catalog, &req).ok().map(|hw| ReplicaMachine {
                    hardware: Rc::new(hw),
                    gpu_counts: vec![n],
                    node_gpus: crate::hardware::network::default_node_gpus(),
                })
            })
            .collect()
    };
    if cloud {
        hardware::refuse_with_cloud(h, "the GPU type")?;
        let priced = ctx
            .catalog
            .gpus
            .iter()
            .filter(|g| g.usd_per_hour.is_some())
            .flat_map(|g| of_type(&g.id, &CLOUD_COUNTS))
            .collect();
        return Ok((priced, "cloud"));
    }
    let hw = hardware::resolve(ctx, h)?;
    notes.extend(hw.notes.iter().cloned());
    let single_type = h.hardware.is_none() && !h.gpu.is_empty() && h.gpu.len() == 1;
    if let (true, Some(id)) = (single_type, hw.gpus.first().and_then(|g| g.id.clone())) {
        let pinned = h.gpus.is_some() || h.gpu[0].contains(':');
        let counts = if pinned {
            vec![hw.gpu_count()]
        } else {
            CLOUD_COUNTS.to_vec()
        };
        return Ok((of_type(&id, &counts), "gpu-type"));
    }
    let node_gpus = hw.gpu_count().max(1);
    let counts = local_counts(&hw);
    Ok((
        vec![ReplicaMachine {
            hardware: Rc::new(hw),
            gpu_counts: counts,
            node_gpus,
        }],
        "machine",
    ))
}

fn fleet_report(f: &Fleet) -> Result<FleetReport> {
    let l = f.replica.evaluated.load.as_ref();
    let launch = f.launch.clone()?;
    Ok(FleetReport {
        shape: f.shape(),
        replica: estimate::evaluated_report(&f.replica.evaluated),
        replicas: f.replicas,
        spares: f.spares,
        gpus_per_replica: f.gpus_per_replica(),
        total_gpus: f.total_gpus,
        nodes: f.nodes,
        load_per_replica: f.load_per_replica,
        max_rate_per_replica: f.max_rate_per_replica,
        utilization: l.map_or(0.0, |l| l.estimate.utilization),
        ttft_ms: l.and_then(|l| l.estimate.ttft_ms),
        tpot_ms: l.and_then(|l| l.estimate.tpot_ms),
        e2e_ms: l.and_then(|l| l.estimate.e2e_ms),
        requests_per_s: f.requests_per_s,
        output_tokens_per_s: f.output_tokens_per_s,
        cost: f.cost.clone(),
        command: launch.script(),
        launch,
        lost: (!f.lost.is_empty()).then(|| f.lost.clone()),
    })
}

/// `plan --plot`: the chosen shape planned at [`CURVE_SCALES`] × the planned rate.
fn fleet_plot(req: &FleetRequest, chosen: &Fleet, planned: f64) -> Result<String> {
    let rates: Vec<f64> = CURVE_SCALES.iter().map(|s| s * planned).collect();
    let points: Vec<FleetPoint> = at_rates(req, chosen, &rates)
        .into_iter()
        .filter_map(|(r, f)| {
            f.map(|f| FleetPoint {
                requests_per_s: r,
                replicas: f.replicas_total(),
                usd_per_month: f.cost.map(|c| c.usd_per_month),
            })
        })
        .collect();
    let d = &chosen.replica.evaluated.deployment;
    let title = format!(
        "{} · {} · {} on {}×{} per replica — cost and replicas against the rate",
        d.model.id,
        d.quant.id,
        d.engine.id,
        chosen.gpus_per_replica(),
        gpu_id(&chosen.replica.evaluated.hardware)
    );
    fleet_svg(&title, &points, planned).map_err(Error::Environment)
}
