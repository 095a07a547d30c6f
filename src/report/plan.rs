//! `r1pick plan`: the fleet document (`r1pick.plan/v1`) and its table.

use schemars::JsonSchema;
use serde::Serialize;

use crate::decide::constraints::{Constraint, Constraints};
use crate::decide::launch::LaunchPlan;
use crate::perf::cost::FleetCost;
use crate::quantity::duration_ms;
use crate::serving::{Load, Percentiles};

use super::deployment::DeploymentReport;
use super::{Render, align_right, table};

#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanDocument {
    pub schema: String,
    pub task: String,
    /// The constraints every replica meets at the load it carries.
    pub slo: Constraints,
    /// The percentile the time constraints hold at.
    pub percentile: f64,
    pub load: FleetLoad,
    /// Highest share of a replica's sustainable rate it runs at.
    pub headroom: f64,
    /// The replica search stops at this count.
    pub max_replicas: u32,
    /// "cloud" (every priced GPU type), "gpu-type" (one type, any GPUs per replica) or "machine".
    pub search: String,
    /// The cheapest fleet; absent when nothing meets the SLO.
    #[serde(flatten)]
    pub fleet: Option<FleetReport>,
    /// The next cheapest shapes, each with why it lost.
    pub alternatives: Vec<FleetReport>,
    /// When nothing qualifies: the constraint that stops the closest shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitReport>,
    /// Replica shapes that run on the hardware and were weighed.
    pub shapes: usize,
    /// Serving estimates made.
    pub evaluated: usize,
}

/// The load of the whole fleet, as given and as planned.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FleetLoad {
    /// "rate" or "users".
    pub shape: String,
    /// The planned arrival rate (with `--daily`: the busiest hour's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LimitReport {
    pub constraint: Constraint,
    pub message: String,
}

/// One fleet: a replica shape × a replica count.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FleetReport {
    /// "8 × 1×h100-sxm (TP1)".
    pub shape: String,
    /// One replica, estimated at the load one serving replica carries.
    pub replica: DeploymentReport,
    /// Replicas the load needs.
    pub replicas: u32,
    /// Standing by beyond them (`--spares`).
    pub spares: u32,
    pub gpus_per_replica: u32,
    pub total_gpus: u32,
    /// 8-GPU nodes (or machines of the `--hardware` file), replicas packed into them.
    pub nodes: u32,
    pub load_per_replica: Load,
    pub max_rate_per_replica: f64,
    /// Request rate of one replica over its highest sustainable one.
    pub utilization: f64,
    /// Latency percentiles of one replica at its load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_ms: Option<Percentiles>,
    /// Requests and output tokens per second the fleet serves.
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    /// Absent when nothing prices the GPUs (no catalog price, no --price or --kwh-price).
    #[serde(flatten)]
    pub cost: Option<FleetCost>,
    /// One replica's launch command.
    pub command: String,
    /// The same launch, structured (program, arguments, environment, nodes).
    #[schemars(with = "serde_json::Value")]
    pub launch: LaunchPlan,
    /// Why this shape lost to the choice (alternatives only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
}

impl Render for PlanDocument {
    fn table(&self) -> String {
        plan_table(self)
    }
}

fn plan_table(doc: &PlanDocument) -> String {
    let mut out = String::new();
    let load = match (doc.load.per_second, doc.load.users) {
        (Some(r), _) => match (doc.load.daily, doc.load.peak_factor) {
            (Some(d), Some(f)) => format!(
                "{} requests/day × peak factor {f} = {}/s at the busiest hour",
                d,
                crate::quantity::round(r, 3)
            ),
            _ => format!("{}/s", crate::quantity::round(r, 3)),
        },
        (None, Some(u)) => format!("{u} concurrent users"),
        (None, None) => String::new(),
    };
    let pct = crate::decide::load::percentile_label(doc.percentile);
    match &doc.fleet {
        Some(f) => {
            let d = &f.replica;
            out.push_str(&format!(
                "Fleet for {} at {load} ({} search, utilization ≤ {:.0}%):\n\n",
                doc.task,
                doc.search,
                doc.headroom * 100.0
            ));
            out.push_str(&format!(
                "  {} replica{}{} of {} · {} · {} on {} GPU(s) (tensor parallel {}, pipeline stages {})\n",
                f.replicas,
                if f.replicas == 1 { "" } else { "s" },
                if f.spares > 0 { format!(" + {} spare", f.spares) } else { String::new() },
                d.model,
                d.quant,
                d.engine,
                f.gpus_per_replica,
                d.placement.tensor_parallel,
                d.placement.pipeline_stages
            ));
            out.push_str(&format!(
                "  {} GPUs in {} node(s) · {} per replica ({:.0}% of its highest {}/s)\n",
                f.total_gpus,
                f.nodes,
                load_label(&f.load_per_replica),
                f.utilization * 100.0,
                crate::quantity::round(f.max_rate_per_replica, 3)
            ));
            let mut t = table(&["latency per replica", "mean", "p50", "p90", "p99"]);
            for (name, p) in [
                ("time to first token", &f.ttft_ms),
                ("time per output token", &f.tpot_ms),
                ("whole answer", &f.e2e_ms),
            ] {
                if let Some(p) = p {
                    t.add_row(vec![
                        name.to_string(),
                        duration_ms(p.mean),
                        duration_ms(p.p50),
                        duration_ms(p.p90),
                        duration_ms(p.p99),
                    ]);
                }
            }
            align_right(&mut t, &[1, 2, 3, 4]);
            out.push_str(&format!("\n{t}\n  the SLO holds at {pct}\n\n"));
            match &f.cost {
                Some(c) => out.push_str(&format!(
                    "  cost: ${:.2}/h · ${:.0}/month ({} h) · ${:.2} per 1M output tokens · ${:.4} per request (at {:.2} requests/s)\n",
                    c.usd_per_hour,
                    c.usd_per_month,
                    c.hours_per_month,
                    c.usd_per_million_output_tokens,
                    c.usd_per_request,
                    f.requests_per_s
                )),
                None => out.push_str("  cost: unpriced (pass --price or --kwh-price)\n"),
            }
            out.push_str(&format!("\n  launch (each replica): {}\n", f.command));
        }
        None => {
            out.push_str(&format!(
                "No fleet meets the SLO for {} at {load} ({} search, up to {} replicas at ≤ {:.0}% utilization).\n",
                doc.task,
                doc.search,
                doc.max_replicas,
                doc.headroom * 100.0
            ));
            if let Some(l) = &doc.limit {
                out.push_str(&format!("  limiting constraint: {}\n", l.message));
            }
        }
    }
    if !doc.alternatives.is_empty() {
        let mut t = table(&[
            "runner-up",
            "model",
            "quant",
            "engine",
            "GPUs",
            "$/h",
            "why it lost",
        ]);
        for a in &doc.alternatives {
            t.add_row(vec![
                a.shape.clone(),
                a.replica.model.clone(),
                a.replica.quant.clone(),
                a.replica.engine.clone(),
                a.total_gpus.to_string(),
                a.cost
                    .as_ref()
                    .map(|c| format!("{:.2}", c.usd_per_hour))
                    .unwrap_or_else(|| "–".into()),
                a.lost.clone().unwrap_or_default(),
            ]);
        }
        align_right(&mut t, &[4, 5]);
        out.push_str(&format!("\n{t}\n"));
    }
    out
}

fn load_label(l: &Load) -> String {
    match l {
        Load::Rate { per_second } => format!("{}/s", crate::quantity::round(*per_second, 3)),
        Load::Concurrency { requests } => format!("{requests} users"),
    }
}
