//! `size` and `estimate`: one deployment's memory per device, and (for estimate) its speed, the
//! serving model's figures under load, cost and the assumptions behind them.

use schemars::JsonSchema;
use serde::Serialize;

use super::deployment::{DeploymentReport, LoadReport};
use super::{Render, align_right, duration_ms, gib, table};
use crate::decide::load::{load_label, percentile_label, rate_label};
use crate::serving::{Limit, Load, Percentiles};

/// `size --json` and `estimate --json`: the deployment object of design.md §5 with its schema tag
/// (`r1pick.size/v1`, `r1pick.estimate/v1`; `size` has no `performance` and a null `cost`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeploymentDocument {
    pub schema: String,
    #[serde(flatten)]
    pub deployment: DeploymentReport,
}

impl Render for DeploymentDocument {
    /// The memory table; the speed table after it when the deployment was estimated.
    fn table(&self) -> String {
        let r = &self.deployment;
        format!("{}{}", memory_table(r), speed_table(r))
    }
}

/// "2 × NVIDIA H100 SXM5 80GB", or "1 × RTX 4090 + 1 × RTX 3090" for a mixed machine.
pub fn gpu_line(r: &DeploymentReport) -> String {
    r.hardware.gpus_label(r.hardware.gpus.len())
}

/// What runs off the GPUs: ", 40 layers on GPU, 40 on CPU", ", experts of 12 layers in RAM".
fn offload(p: &super::deployment::PlacementReport) -> String {
    let mut out = String::new();
    match (p.gpu_layers, p.cpu_layers) {
        (_, 0) => {}
        (0, cpu) => out.push_str(&format!(", all {cpu} layers on CPU")),
        (gpu, cpu) => out.push_str(&format!(", {gpu} layers on GPU, {cpu} on CPU")),
    }
    if p.cpu_expert_layers > 0 {
        out.push_str(&format!(
            ", experts of {} {} in RAM",
            p.cpu_expert_layers,
            plural(p.cpu_expert_layers, "layer", "layers")
        ));
    }
    out
}

/// "1 sequence", "8 sequences".
pub fn sequences(n: u32) -> String {
    format!("{n} {}", plural(n, "sequence", "sequences"))
}

/// The word for `n` things.
pub fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn memory_table(r: &DeploymentReport) -> String {
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
    // Tensor parallelism and pipeline stages are said only where there are several.
    let mut split = String::new();
    if p.tensor_parallel > 1 {
        split.push_str(&format!("; tensor parallel {}", p.tensor_parallel));
    }
    if p.pipeline_stages > 1 {
        split.push_str(&format!(", {} pipeline stages", p.pipeline_stages));
    }
    out.push_str(&format!(
        "context {} tokens × {}{split}{}\n",
        r.workload.context,
        sequences(r.workload.concurrency),
        offload(p)
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
    // `devices` is each GPU (`gpu0`, …) then host RAM, which is shown when it holds something
    // or when there is no GPU at all.
    let gpus = m.devices.iter().filter(|d| d.device != "host").count();
    for (i, d) in m.devices.iter().enumerate() {
        let name = if d.device == "host" {
            if d.total_bytes == 0 && gpus > 0 {
                continue;
            }
            "host RAM".to_string()
        } else {
            format!("GPU {i}")
        };
        t.add_row(vec![
            name,
            gib(d.weights_bytes),
            gib(d.kv_cache_bytes),
            gib(d.activation_bytes),
            gib(d.overhead_bytes),
            gib(d.total_bytes),
            gib(d.capacity_bytes),
            if d.fits { "yes".into() } else { "no".into() },
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
            "KV capacity by {}'s memory rule: {tokens} tokens, {} of {} tokens at once, or {longest} tokens each for {}\n",
            r.engine,
            sequences(seqs),
            r.workload.context,
            r.workload.concurrency
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
            "{} at {} tokens of context",
            sequences(w.concurrency),
            w.context
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
fn load_table(l: &LoadReport) -> String {
    let shape = match l.shape {
        Load::Concurrency { .. } => "closed loop: a new request as one finishes",
        Load::Rate { .. } => "Poisson arrivals",
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
