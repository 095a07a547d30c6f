//! `r1pick size` and `r1pick estimate`: one deployment, its memory and (for estimate) its speed and cost.

use crate::catalog::Catalog;
use crate::cli::{DeployArgs, EstimateArgs};
use crate::decide::load::{Loaded, Traffic, apply, memory_basis, under_load};
use crate::decide::search::Evaluated;
use crate::error::Result;
use crate::hardware::Hardware;
use crate::perf::cost::{Cost, cost};
use crate::perf::{Performance, estimate as perf_estimate};
use crate::report::deployment::{
    Basis, CostReport, DeploymentReport, HardwareSummary, MemoryReport, PerformanceReport,
    PlacementReport,
};
use crate::report::estimate::DeploymentDocument;
use crate::report::{render, schema};
use crate::serving::kv_capacity_of;
use crate::sizing::{Deployment, MemoryPlan, plan};

use super::{Context, Outcome, deploy, emit, hardware, request};

pub fn evaluate<'a>(
    catalog: &'a Catalog,
    args: &DeployArgs,
    hw: Hardware,
    task: Option<&crate::catalog::Task>,
    traffic: Option<&Traffic>,
    price: Option<f64>,
    kwh_price: Option<f64>,
) -> Result<Evaluated<'a>> {
    let d = deploy::resolve(catalog, &args.model, &args.deployment, &hw, task)?;
    let memory = plan(&memory_basis(&d, traffic.is_some()), &hw)?;
    let mut performance = perf_estimate(&d, &hw, &memory);
    // Under load wherever the engine's KV pool holds a request: memory is checked for one
    // full-length request and the server queues what its pool cannot hold. Without even that,
    // there is no load estimate.
    let load = match traffic.map(|t| under_load(&d, &hw, &memory, t)) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) if memory.fits => return Err(e),
        Some(Err(_)) | None => None,
    };
    if let Some(l) = &load {
        apply(&mut performance, l);
    }
    let cost = cost(
        &hw,
        d.gpus,
        performance.aggregate_tokens_per_s,
        price,
        kwh_price,
    );
    Ok(Evaluated {
        deployment: d,
        hardware: std::rc::Rc::new(hw),
        memory,
        performance,
        load,
        cost,
    })
}

pub fn size(ctx: &Context, args: &DeployArgs) -> Result<Outcome> {
    let hw = hardware::resolve(ctx, &args.hardware)?;
    let d = deploy::resolve(&ctx.catalog, &args.model, &args.deployment, &hw, None)?;
    let memory = plan(&d, &hw)?;
    let doc = DeploymentDocument {
        schema: schema("size"),
        deployment: report(&d, &hw, &memory, None, None, None),
    };
    let stdout = render(&doc, ctx.format);
    Ok(Outcome {
        notes: hw.notes.clone(),
        ..Outcome::ok(stdout)
    })
}

pub fn estimate(ctx: &Context, args: &EstimateArgs) -> Result<Outcome> {
    if let Some(sweep) = &args.sweep.sweep {
        return super::sweep::estimate(ctx, args, sweep);
    }
    super::sweep::no_plot_without_sweep(&args.sweep)?;
    let hw = hardware::resolve(ctx, &args.deploy.hardware)?;
    let e = estimate_on(ctx, args, hw)?;
    if let Some(format) = emit::format(&args.emit, ctx.format)? {
        let mut notes = e.hardware.notes.clone();
        let stdout = emit::render(
            format,
            &crate::decide::load::launched(&e.deployment, e.load.as_ref()),
            &e.memory,
            &e.hardware,
            1,
            None,
            &mut notes,
        )?;
        return Ok(Outcome {
            notes,
            ..Outcome::ok(stdout)
        });
    }
    let doc = DeploymentDocument {
        schema: schema("estimate"),
        deployment: evaluated_report(&e),
    };
    let stdout = render(&doc, ctx.format);
    Ok(Outcome {
        notes: e.hardware.notes.clone(),
        ..Outcome::ok(stdout)
    })
}

/// `estimate` on a resolved machine: one estimate, and each point of a sweep.
pub fn estimate_on<'a>(
    ctx: &'a Context,
    args: &EstimateArgs,
    hw: Hardware,
) -> Result<Evaluated<'a>> {
    let task = args
        .task
        .as_deref()
        .map(|t| ctx.catalog.task(t))
        .transpose()?;
    let traffic = request::traffic(&args.deploy.deployment, &args.load)?;
    evaluate(
        &ctx.catalog,
        &args.deploy,
        hw,
        task,
        traffic.as_ref(),
        args.cost.price,
        args.cost.kwh_price,
    )
}

/// The deployment object of an evaluated deployment.
pub fn evaluated_report(e: &Evaluated) -> DeploymentReport {
    report(
        &e.deployment,
        &e.hardware,
        &e.memory,
        Some(&e.performance),
        e.load.as_ref(),
        e.cost.as_ref(),
    )
}

/// What a deployment across nodes was timed on: the nodes, the network and its share per GPU, and
/// whether that network was assumed. `None` inside one node.
pub fn network_assumption(hw: &Hardware, mem: &MemoryPlan) -> Option<String> {
    let per_node = hw.node_gpus();
    let nodes = mem.placement.gpus.div_ceil(per_node);
    if nodes <= 1 {
        return None;
    }
    let n = &hw.network;
    Some(format!(
        "across {nodes} nodes of {per_node} GPUs: collectives between nodes on {} ({:.1} GB/s per GPU){}",
        n.label(),
        hw.network_gb_s_per_gpu(),
        if n.assumed {
            " — assumed (the DGX H100/H200 compute fabric); --network KIND or a hardware file's [network] names yours"
        } else {
            ""
        }
    ))
}

/// The contract object of design.md §5.
pub fn report(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    perf: Option<&Performance>,
    load: Option<&Loaded>,
    cost: Option<&Cost>,
) -> DeploymentReport {
    let mut basis = Basis {
        kv_dtype: d.kv_dtype.name_for(d.engine).to_string(),
        weights_bits_per_weight: d.quant.linear_bits_for(d.model.is_moe()),
        ..Basis::default()
    };
    let m = &d.engine.memory;
    // Only the fixed costs this engine has here: no CUDA graphs on Metal or CPU engines, no NCCL
    // on one GPU, no GPU line at all on a CPU-only deployment.
    let graphs = if d.model.is_moe() {
        m.cuda_graphs_moe_mib
    } else {
        m.cuda_graphs_mib
    };
    let nccl = if d.gpus > 1 { m.nccl_mib } else { 0.0 };
    let fixed: Vec<String> = [
        ("runtime", m.runtime_mib),
        ("CUDA graphs", graphs),
        ("NCCL", nccl),
    ]
    .iter()
    .filter(|(_, mib)| *mib > 0.0)
    .map(|(what, mib)| format!("{what} {mib:.0} MiB"))
    .collect();
    if d.gpus == 0 {
        basis.assumptions.push(format!(
            "{} on the CPU: weights, KV cache and activations in host RAM",
            d.engine.name
        ));
    } else {
        basis.assumptions.push(format!(
            "{} may use {:.0}% of each GPU's memory, keeping {:.0} MiB free{}",
            d.engine.name,
            m.gpu_fraction * 100.0,
            m.margin_mib,
            if fixed.is_empty() {
                String::new()
            } else {
                format!("; {} per GPU", fixed.join(", "))
            }
        ));
    }
    if let Some(l) = load
        && memory_basis(d, true).workload.concurrency != d.workload.concurrency
    {
        basis.assumptions.push(format!(
            "under load, memory is planned for one request of the full context: the KV pool admits at most {} at once and the rest queue",
            l.estimate.max_batch
        ));
    }
    if let Some(line) = network_assumption(hw, mem) {
        basis.assumptions.push(line);
    }
    if d.model.is_moe() {
        basis.assumptions.push(format!(
            "MLA cache layout {:?}; experts touched per step assume uniform routing",
            d.mla_layout()
        ));
    }
    if let Some(p) = perf {
        basis.bandwidth_efficiency = Some(p.breakdown.bandwidth_efficiency);
        basis.prefill_mfu = Some(p.breakdown.prefill_mfu);
        basis.assumptions.push(format!(
            "decode step: {:.2} ms weights + {:.2} ms KV + {:.2} ms fixed + {:.2} ms communication + {:.2} ms compute-bound; {:.1} GB read per step",
            p.breakdown.weights_ms,
            p.breakdown.kv_ms,
            p.breakdown.fixed_ms,
            p.breakdown.communication_ms,
            p.breakdown.compute_bound_ms,
            p.breakdown.bytes_per_step / 1e9
        ));
        basis.assumptions.push(format!(
            "prefill at {:.0} TFLOPS ({:.0}% of dense tensor peak)",
            p.breakdown.prefill_tflops,
            p.breakdown.prefill_mfu * 100.0
        ));
    }
    basis.sources.push(d.quant.source.clone());
    basis.sources.extend(d.engine.sources.iter().cloned());
    DeploymentReport {
        model: d.model.id.clone(),
        model_source: d.model.source,
        quant: d.quant.id.clone(),
        engine: d.engine.id.clone(),
        hardware: HardwareSummary::of(hw),
        placement: PlacementReport::of(mem),
        workload: d.workload,
        memory: MemoryReport::of(mem, kv_capacity_of(d, hw, mem).ok().as_ref()),
        performance: perf.map(|p| PerformanceReport::of(p, load)),
        cost: cost.map(CostReport::of),
        basis,
    }
}
