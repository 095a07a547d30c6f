//! `check`: the CI gate's verdict, the deployment checked and each constraint with its margin.

use schemars::JsonSchema;
use serde::Serialize;

use super::deployment::DeploymentReport;
use super::estimate::gpu_line;
use super::{Render, align_right, table};
use crate::decide::constraints::CheckResult;
use crate::decide::load::{load_label, percentile_label};

/// `check --json`: the verdict, the deployment checked, and one entry per constraint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckDocument {
    pub schema: String,
    /// Every check holds (the exit code is 0).
    pub ok: bool,
    /// The deployment checked. With `--task` and no MODEL: the recommendation, or the closest
    /// candidate when nothing qualifies; absent when no deployment could even be sized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentReport>,
    pub checks: Vec<CheckResult>,
    /// With `--replicas N`: the fleet the deployment is one replica of; the checks hold at its share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<CheckedFleet>,
}

/// `check --rate R --replicas N`: N replicas share R evenly.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct CheckedFleet {
    pub replicas: u32,
    /// The whole fleet's rate.
    pub rate_per_s: f64,
    /// The rate each replica carries, which the checks hold at.
    pub rate_per_replica_per_s: f64,
}

impl Render for CheckDocument {
    fn table(&self) -> String {
        match &self.deployment {
            Some(r) => verdict_table(r, &self.checks, self.fleet, self.ok),
            None => {
                "FAIL: no deployment for this task could be sized on this machine\n".to_string()
            }
        }
    }
}

fn verdict_table(
    r: &DeploymentReport,
    checks: &[CheckResult],
    fleet: Option<CheckedFleet>,
    ok: bool,
) -> String {
    let failed: Vec<&CheckResult> = checks.iter().filter(|c| !c.ok).collect();
    let verdict = match (ok, checks.len(), failed.len()) {
        (true, 1, _) => "PASS: the one check holds".to_string(),
        (true, n, _) => format!("PASS: all {n} checks hold"),
        (false, 1, 1) => "FAIL: the one check fails".to_string(),
        (false, n, k) => format!("FAIL: {k} of {n} checks fail"),
    };
    let load = r
        .performance
        .as_ref()
        .and_then(|p| p.load.as_ref())
        .map(|l| {
            format!(
                ", under {} (latencies at {})",
                load_label(&l.shape),
                percentile_label(l.percentile)
            )
        })
        .unwrap_or_default();
    let fleet = fleet
        .map(|f| {
            format!(
                ", one of {} replicas sharing {}",
                f.replicas,
                crate::decide::load::rate_label(f.rate_per_s)
            )
        })
        .unwrap_or_default();
    let mut out = format!(
        "{verdict} — {} · {} · {} on {}, context {} × {}{load}{fleet}\n",
        r.model,
        r.quant,
        r.engine,
        gpu_line(r),
        r.workload.context,
        r.workload.concurrency
    );
    let mut t = table(&["check", "required", "actual", "margin", "ok"]);
    for c in checks {
        let (required, actual) = match c.actual {
            Some(a) => {
                let (a, r) = c.unit.pair(a, c.required);
                (r, a)
            }
            None => (c.unit.show(c.required), "–".into()),
        };
        t.add_row(vec![
            // The JSON id, so the table and `--json` name a constraint alike.
            c.constraint.id().to_string(),
            format!("{} {required}", c.bound.symbol()),
            actual,
            c.margin
                .map(|m| c.unit.show_signed(m))
                .unwrap_or_else(|| "–".into()),
            if c.ok { "yes".into() } else { "NO".into() },
        ]);
    }
    align_right(&mut t, &[1, 2, 3]);
    out.push_str(&t.to_string());
    out.push('\n');
    for c in &failed {
        out.push_str(&format!("{}\n", c.message));
    }
    out
}
