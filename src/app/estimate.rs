//! `r1pick size` and `r1pick estimate`: one deployment, its memory and (for estimate) its speed and cost.

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::cli::{DeployArgs, EstimateArgs, Format};
use crate::decide::search::Candidate;
use crate::error::Result;
use crate::hardware::Hardware;
use crate::perf::cost::{Cost, cost};
use crate::perf::{Performance, estimate as perf_estimate};
use crate::report::deployment::{
    Basis, CostReport, DeploymentReport, HardwareSummary, MemoryReport, PerformanceReport,
    PlacementReport,
};
use crate::report::{align_right, duration_ms, gib, schema, table, to_json};
use crate::sizing::{Deployment, MemoryPlan, plan};

use super::{Context, Outcome, deploy, hardware};

/// Everything known about one deployment.
pub struct Evaluated<'a> {
    pub deployment: Deployment<'a>,
    pub hardware: Hardware,
    pub memory: MemoryPlan,
    pub performance: Performance,
    pub cost: Option<Cost>,
}

pub fn evaluate<'a>(
    catalog: &'a Catalog,
    args: &DeployArgs,
    hw: Hardware,
    task: Option<&crate::catalog::Task>,
    price: Option<f64>,
    kwh_price: Option<f64>,
) -> Result<Evaluated<'a>> {
    let d = deploy::resolve(catalog, &args.model, &args.deployment, &hw, task)?;
    let memory = plan(&d, &hw)?;
    let performance = perf_estimate(&d, &hw, &memory);
    let cost = cost(
        &hw,
        d.gpus,
        performance.aggregate_tokens_per_s,
        price,
        kwh_price,
    );
    Ok(Evaluated {
        deployment: d,
        hardware: hw,
        memory,
        performance,
        cost,
    })
}

pub fn size(ctx: &Context, args: &DeployArgs) -> Result<Outcome> {
    let hw = hardware::resolve(ctx, &args.hardware)?;
    let d = deploy::resolve(&ctx.catalog, &args.model, &args.deployment, &hw, None)?;
    let memory = plan(&d, &hw)?;
    let report = report(&d, &hw, &memory, None, None);
    let stdout = match ctx.format {
        Format::Table => memory_table(&report, &memory),
        Format::Json => to_json(&DeploymentDocument {
            schema: schema("size"),
            deployment: report,
        }),
    };
    Ok(Outcome {
        notes: hw.notes.clone(),
        ..Outcome::ok(stdout)
    })
}

pub fn estimate(ctx: &Context, args: &EstimateArgs) -> Result<Outcome> {
    let hw = hardware::resolve(ctx, &args.deploy.hardware)?;
    let task = args
        .task
        .as_deref()
        .map(|t| ctx.catalog.task(t))
        .transpose()?;
    let e = evaluate(
        &ctx.catalog,
        &args.deploy,
        hw,
        task,
        args.cost.price,
        args.cost.kwh_price,
    )?;
    let report = report(
        &e.deployment,
        &e.hardware,
        &e.memory,
        Some(&e.performance),
        e.cost.as_ref(),
    );
    let stdout = match ctx.format {
        Format::Table => format!(
            "{}{}",
            memory_table(&report, &e.memory),
            speed_table(&report)
        ),
        Format::Json => to_json(&DeploymentDocument {
            schema: schema("estimate"),
            deployment: report,
        }),
    };
    Ok(Outcome {
        notes: e.hardware.notes.clone(),
        ..Outcome::ok(stdout)
    })
}

/// `size --json` and `estimate --json`: the deployment object of design.md §5 with its schema tag
/// (`r1pick.size/v1`, `r1pick.estimate/v1`; `size` has no `performance` and a null `cost`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeploymentDocument {
    pub schema: String,
    #[serde(flatten)]
    pub deployment: DeploymentReport,
}

/// The contract object of design.md §5.
pub fn report(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    perf: Option<&Performance>,
    cost: Option<&Cost>,
) -> DeploymentReport {
    let mut basis = Basis {
        kv_dtype: format!("{:?}", d.kv_dtype).to_lowercase(),
        weights_bits_per_weight: d.quant.linear_bits_for(d.model.is_moe()),
        ..Basis::default()
    };
    let m = &d.engine.memory;
    basis.assumptions.push(format!(
        "{} may use {:.0}% of each GPU's memory, keeping {:.0} MiB free; runtime {:.0} MiB, CUDA graphs {:.0} MiB, NCCL {:.0} MiB per GPU",
        d.engine.name,
        m.gpu_fraction * 100.0,
        m.margin_mib,
        m.runtime_mib,
        if d.model.is_moe() { m.cuda_graphs_moe_mib } else { m.cuda_graphs_mib },
        if d.gpus > 1 { m.nccl_mib } else { 0.0 }
    ));
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
        memory: MemoryReport::of(mem),
        performance: perf.map(PerformanceReport::of),
        cost: cost.map(CostReport::of),
        basis,
    }
}

/// "2 × NVIDIA H100 SXM5 80GB", or "1 × RTX 4090 + 1 × RTX 3090" for a mixed machine.
pub fn gpu_line(r: &DeploymentReport) -> String {
    let mut groups: Vec<(&str, u32)> = vec![];
    for g in &r.hardware.gpus {
        match groups.last_mut() {
            Some((name, n)) if *name == g.name => *n += 1,
            _ => groups.push((&g.name, 1)),
        }
    }
    if groups.is_empty() {
        return "CPU only".to_string();
    }
    groups
        .iter()
        .map(|(name, n)| format!("{n} × {name}"))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn memory_table(r: &DeploymentReport, mem: &MemoryPlan) -> String {
    let m = &r.memory;
    let verdict = if m.fits { "fits" } else { "DOES NOT FIT" };
    let mut out = format!(
        "{} · {} · {} on {} — {}\n",
        r.model,
        r.quant,
        r.engine,
        gpu_line(r),
        verdict
    );
    let p = &r.placement;
    out.push_str(&format!(
        "context {} tokens × {} sequence(s); tensor parallel {}{}{}\n",
        r.workload.context,
        r.workload.concurrency,
        p.tensor_parallel,
        if p.pipeline_stages > 1 {
            format!(", {} pipeline stages", p.pipeline_stages)
        } else {
            String::new()
        },
        if p.cpu_layers > 0 || p.cpu_expert_layers > 0 {
            format!(
                ", {} layers on GPU, {} on CPU, experts of {} layers in RAM",
                p.gpu_layers, p.cpu_layers, p.cpu_expert_layers
            )
        } else {
            String::new()
        }
    ));
    let mut t = table(&[
        "device",
        "weights",
        "KV cache",
        "activations",
        "overhead",
        "total",
        "usable",
        "fits",
    ]);
    for (i, g) in mem.gpus.iter().enumerate() {
        t.add_row(vec![
            format!("GPU {i}"),
            gib(g.weights),
            gib(g.kv_cache),
            gib(g.activation),
            gib(g.overhead),
            gib(g.total),
            gib(g.capacity),
            if g.fits() { "yes".into() } else { "no".into() },
        ]);
    }
    if mem.host.total > 0 || mem.gpus.is_empty() {
        let h = &mem.host;
        t.add_row(vec![
            "host RAM".to_string(),
            gib(h.weights),
            gib(h.kv_cache),
            gib(h.activation),
            gib(h.overhead),
            gib(h.total),
            gib(h.capacity),
            if h.fits() { "yes".into() } else { "no".into() },
        ]);
    }
    align_right(&mut t, &[1, 2, 3, 4, 5, 6]);
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&format!(
        "KV cache: {} bytes per token of one sequence\n",
        m.kv_bytes_per_token
    ));
    if let Some(s) = &m.shortfall {
        out.push_str(&format!("does not fit: {s}\n"));
    }
    out
}

fn speed_table(r: &DeploymentReport) -> String {
    let Some(p) = &r.performance else {
        return String::new();
    };
    let w = &r.workload;
    let mut t = table(&["metric", "value", "meaning"]);
    t.add_row(vec![
        "time to first token".into(),
        duration_ms(p.ttft_ms),
        format!("{}-token prompt, idle server", w.prompt),
    ]);
    t.add_row(vec![
        "time per output token".into(),
        duration_ms(p.tpot_ms),
        format!(
            "{} sequence(s) at {} tokens of context",
            w.concurrency, w.context
        ),
    ]);
    t.add_row(vec![
        "decode speed".into(),
        format!("{:.1} tok/s", p.decode_tokens_per_s),
        "one sequence's streaming speed".into(),
    ]);
    t.add_row(vec![
        "aggregate throughput".into(),
        format!("{:.1} tok/s", p.aggregate_tokens_per_s),
        "all sequences together".into(),
    ]);
    t.add_row(vec![
        "prefill speed".into(),
        format!("{:.0} tok/s", p.prefill_tokens_per_s),
        "prompt tokens per second".into(),
    ]);
    t.add_row(vec![
        "time to answer".into(),
        duration_ms(p.time_to_answer_ms),
        format!("TTFT + {} reasoning and answer tokens", w.output),
    ]);
    if let Some(c) = &r.cost {
        t.add_row(vec![
            "cost".into(),
            format!("${:.2}/h", c.usd_per_hour),
            format!("{} basis", c.basis),
        ]);
        t.add_row(vec![
            "cost per 1M output tokens".into(),
            format!("${:.2}", c.usd_per_million_output_tokens),
            "at the aggregate throughput".into(),
        ]);
    }
    align_right(&mut t, &[1]);
    let mut out = format!("\n{t}\nbasis:\n");
    for a in &r.basis.assumptions {
        out.push_str(&format!("  - {a}\n"));
    }
    out
}

/// The deployment object of a searched candidate.
pub fn candidate_report(ch: &Candidate) -> DeploymentReport {
    report(
        &ch.deployment,
        &ch.hardware,
        &ch.memory,
        Some(&ch.performance),
        ch.cost.as_ref(),
    )
}
