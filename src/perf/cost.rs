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
