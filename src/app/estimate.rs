//! `r1pick size` and `r1pick estimate`: one deployment, its memory and (for estimate) its speed and cost.

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::cli::{DeployArgs, EstimateArgs, Format};
use crate::decide::load::{
    Loaded, Traffic, apply, load_label, percentile_label, rate_label, under_load,
};
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
use crate::serving::{Limit, Percentiles, kv_capacity_of};
use crate::sizing::{Deployment, MemoryPlan, plan};

use super::{Context, Outcome, deploy, emit, hardware, request};

/// Everything known about one deployment.
pub struct Evaluated<'a> {
    pub deployment: Deployment<'a>,
    pub hardware: Hardware,
    pub memory: MemoryPlan,
    /// Means under the load, when there is one.
    pub performance: Performance,
    pub load: Option<Loaded>,
    pub cost: Option<Cost>,
}

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
    let memory = plan(&d, &hw)?;
    let mut performance = perf_estimate(&d, &hw, &memory);
    // Under load wherever the engine's KV pool holds a request. The memory plan reserves the
    // full context for every concurrent sequence; the server itself queues what its pool cannot
    // hold, so a plan short of KV still has a load estimate. Without even that, there is none.
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
        hardware: hw,
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
    let report = report(&d, &hw, &memory, None, None, None);
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
    let traffic = request::traffic(&args.deploy.deployment, &args.load)?;
    let e = evaluate(
        &ctx.catalog,
        &args.deploy,
        hw,
        task,
        traffic.as_ref(),
        args.cost.price,
        args.cost.kwh_price,
    )?;
    if let Some(format) = emit::format(&args.emit, ctx.format)? {
        let stdout = emit::render(format, &e.deployment, &e.memory, &e.hardware, 1)?;
        return Ok(Outcome {
            notes: e.hardware.notes.clone(),
            ..Outcome::ok(stdout)
        });
    }
    let report = evaluated_report(&e);
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
        memory: MemoryReport::of(mem, kv_capacity_of(d, hw, mem).ok().as_ref()),
        performance: perf.map(|p| PerformanceReport::of(p, load)),
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
    if let (Some(tokens), Some(seqs), Some(longest)) =
        (m.kv_capacity_tokens, m.max_concurrency, m.max_context)
    {
        out.push_str(&format!(
            "KV capacity by {}'s memory rule: {tokens} tokens, {seqs} sequence(s) of {} tokens at once, or {longest} tokens each for {}\n",
            r.engine, r.workload.context, r.workload.concurrency
        ));
    }
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
    // Under a load the first rows are its means; an unsustainable rate has none.
    let under = p.load.as_ref().filter(|l| l.sustainable);
    let at = |idle: String| match (&p.load, under) {
        (_, Some(l)) => format!("mean at {}", load_label(&l.shape)),
        (Some(_), None) => format!("{idle} (none under this load)"),
        (None, None) => idle,
    };
    let mut t = table(&["metric", "value", "meaning"]);
    t.add_row(vec![
        "time to first token".into(),
        duration_ms(p.ttft_ms),
        at(format!("{}-token prompt, idle server", w.prompt)),
    ]);
    t.add_row(vec![
        "time per output token".into(),
        duration_ms(p.tpot_ms),
        at(format!(
            "{} sequence(s) at {} tokens of context",
            w.concurrency, w.context
        )),
    ]);
    t.add_row(vec![
        "decode speed".into(),
        format!("{:.1} tok/s", p.decode_tokens_per_s),
        "one sequence's streaming speed".into(),
    ]);
    t.add_row(vec![
        "aggregate throughput".into(),
        format!("{:.1} tok/s", p.aggregate_tokens_per_s),
        if p.load.is_some() {
            "output tokens of all requests together".into()
        } else {
            "all sequences together".into()
        },
    ]);
    t.add_row(vec![
        "prefill speed".into(),
        format!("{:.0} tok/s", p.prefill_tokens_per_s),
        "prompt tokens per second".into(),
    ]);
    t.add_row(vec![
        "time to answer".into(),
        duration_ms(p.time_to_answer_ms),
        at(format!("TTFT + {} reasoning and answer tokens", w.output)),
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
    let mut out = format!("\n{t}\n");
    if let Some(l) = &p.load {
        out.push_str(&load_table(l));
    }
    out.push_str("basis:\n");
    for a in &r.basis.assumptions {
        out.push_str(&format!("  - {a}\n"));
    }
    out
}

/// The serving model's figures: percentiles of each latency, throughput, batch and what limits it.
fn load_table(l: &crate::report::deployment::LoadReport) -> String {
    let shape = match l.shape {
        crate::serving::Load::Concurrency { .. } => "closed loop: a new request as one finishes",
        crate::serving::Load::Rate { .. } => "Poisson arrivals",
    };
    let mut out = format!(
        "under load: {} ({shape}; constraints at {})\n",
        load_label(&l.shape),
        percentile_label(l.percentile)
    );
    if l.sustainable {
        let mut t = table(&["latency", "mean", "p50", "p90", "p99"]);
        let rows: [(&str, Option<Percentiles>); 4] = [
            ("time to first token", l.ttft_ms),
            ("time per output token", l.tpot_ms),
            ("inter-token gap", l.itl_ms),
            ("end to end", l.e2e_ms),
        ];
        for (name, v) in rows {
            if let Some(v) = v {
                t.add_row(vec![
                    name.to_string(),
                    duration_ms(v.mean),
                    duration_ms(v.p50),
                    duration_ms(v.p90),
                    duration_ms(v.p99),
                ]);
            }
        }
        align_right(&mut t, &[1, 2, 3, 4]);
        out.push_str(&format!("{t}\n"));
    } else {
        out.push_str(
            "NOT SUSTAINABLE: requests arrive faster than they are served, so the queue and every latency grow without bound\n",
        );
    }
    out.push_str(&format!(
        "throughput {:.2} requests/s · {:.1} output tok/s · {:.1} total tok/s\n",
        l.requests_per_s, l.output_tokens_per_s, l.total_tokens_per_s
    ));
    out.push_str(&format!(
        "batch {:.1} running of at most {}{} · utilization {:.0}% · limited by {} · highest sustainable rate {}\n\n",
        l.batch,
        l.max_batch,
        if l.waves { " (in waves)" } else { "" },
        l.utilization * 100.0,
        limit_label(l.limit),
        rate_label(l.max_rate_per_s)
    ));
    out
}

/// The limiting factor in words.
pub fn limit_label(l: Limit) -> &'static str {
    match l {
        Limit::Compute => "compute",
        Limit::MemoryBandwidth => "memory bandwidth",
        Limit::KvCapacity => "KV-cache capacity",
        Limit::SequenceLimit => "the engine's sequence limit",
        Limit::Queue => "the queue (arrivals outpace service)",
    }
}

/// The deployment object of a searched candidate.
pub fn candidate_report(ch: &Candidate) -> DeploymentReport {
    report(
        &ch.deployment,
        &ch.hardware,
        &ch.memory,
        Some(&ch.performance),
        ch.load.as_ref(),
        ch.cost.as_ref(),
    )
}
