//! Cost: dollars per hour of the hardware and per million output tokens (formulas.md §1(i)).

use schemars::JsonSchema;
use serde::Serialize;

use crate::hardware::Hardware;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CostBasis {
    /// The catalog's on-demand price of each GPU.
    CloudPrice,
    /// `--price` per GPU-hour.
    UserPrice,
    /// Board power × `--kwh-price` (local hardware).
    Energy,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Cost {
    pub usd_per_hour: f64,
    pub usd_per_million_output_tokens: f64,
    pub basis: CostBasis,
}

/// Cost of running `gpus` of the machine's GPUs at `aggregate_tokens_per_s`. `None` when nothing
/// prices the hardware (no catalog price, no `--price`, no `--kwh-price`).
pub fn cost(
    hw: &Hardware,
    gpus: u32,
    aggregate_tokens_per_s: f64,
    price_per_gpu_hour: Option<f64>,
    kwh_price: Option<f64>,
) -> Option<Cost> {
    let used = &hw.gpus[..(gpus as usize).min(hw.gpus.len())];
    let (usd_per_hour, basis) = if let Some(p) = price_per_gpu_hour {
        (p * f64::from(gpus.max(1)), CostBasis::UserPrice)
    } else if !used.is_empty() && used.iter().all(|g| g.usd_per_hour.is_some()) {
        (
            used.iter().filter_map(|g| g.usd_per_hour).sum(),
            CostBasis::CloudPrice,
        )
    } else if let Some(kwh) = kwh_price {
        // Board power at full load; the host's own draw is not counted.
        let watts: f64 = used.iter().map(|g| g.tdp_w.unwrap_or(0.0)).sum();
        (watts / 1000.0 * kwh, CostBasis::Energy)
    } else {
        return None;
    };
    let tokens_per_hour = aggregate_tokens_per_s * 3600.0;
    Some(Cost {
        usd_per_hour,
        usd_per_million_output_tokens: if tokens_per_hour > 0.0 {
            usd_per_hour / tokens_per_hour * 1e6
        } else {
            f64::INFINITY
        },
        basis,
    })
}

/// What a fleet costs at the load it carries.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FleetCost {
    pub usd_per_gpu_hour: f64,
    /// Every GPU of every replica, spares included: GPUs × the price of one.
    pub usd_per_hour: f64,
    /// `usd_per_hour` × `hours_per_month`.
    pub usd_per_month: f64,
    pub hours_per_month: f64,
    /// At the output tokens the fleet serves at this load (not at its capacity).
    pub usd_per_million_output_tokens: f64,
    /// At the requests the fleet serves at this load.
    pub usd_per_request: f64,
    pub basis: CostBasis,
}

/// The cost of `total_gpus` GPUs at `usd_per_gpu_hour` serving `requests_per_s` requests and
/// `output_tokens_per_s` output tokens a second. A month is 730 hours (8760 / 12), as budgets read.
pub fn fleet_cost(
    usd_per_gpu_hour: f64,
    basis: CostBasis,
    total_gpus: u32,
    requests_per_s: f64,
    output_tokens_per_s: f64,
) -> FleetCost {
    let usd_per_hour = f64::from(total_gpus) * usd_per_gpu_hour;
    let per = |per_s: f64, unit: f64| {
        if per_s > 0.0 {
            usd_per_hour / (per_s * 3600.0) * unit
        } else {
            f64::INFINITY
        }
    };
    let hours_per_month = crate::quantity::parse::HOURS_PER_MONTH;
    FleetCost {
        usd_per_gpu_hour,
        usd_per_hour,
        usd_per_month: usd_per_hour * hours_per_month,
        hours_per_month,
        usd_per_million_output_tokens: per(output_tokens_per_s, 1e6),
        usd_per_request: per(requests_per_s, 1.0),
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 GPUs at $2.99 serving 2 requests/s of 1000 output tokens: $29.90/h, $21,827/month,
    /// 7,200 requests and 7.2M tokens an hour.
    #[test]
    fn a_fleet_costs_its_gpus_at_the_load_it_serves() {
        let c = fleet_cost(2.99, CostBasis::CloudPrice, 10, 2.0, 2000.0);
        // GPUs × price, as the fleet is billed (10 × 2.99 is 29.900000000000002 in binary)
        assert_eq!(c.usd_per_hour, 10.0 * 2.99);
        assert!((c.usd_per_hour - 29.9).abs() < 1e-12);
        assert_eq!(c.usd_per_month, 10.0 * 2.99 * 730.0);
        assert!((c.usd_per_request - 29.9 / 7200.0).abs() < 1e-12);
        assert!((c.usd_per_million_output_tokens - 29.9 / 7.2).abs() < 1e-9);
    }
}
