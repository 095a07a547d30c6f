//! `r1pick plan`: the flags of the fleet planner, and `--replicas` of `check`.

use clap::Args;

use super::units;
use super::{EmitArgs, PlotArgs, RequestArgs};

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Plan replicas of this model only: a catalog id, a config.json, a .gguf or hf:ORG/NAME
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub emit: EmitArgs,
    #[command(flatten)]
    pub plot: PlotArgs,
    /// Choose the GPU type among those with a price (and the GPUs per replica)
    #[arg(long)]
    pub cloud: bool,
}

/// How much traffic the fleet carries and how much room it keeps.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Fleet")]
pub struct FleetArgs {
    /// Requests per day (k = 1000): 100k, 2.5m; planned at the busiest hour (--peak-factor)
    #[arg(long, value_name = "N", conflicts_with = "rate", allow_hyphen_values = true, value_parser = units::parse_daily)]
    pub daily: Option<f64>,
    /// The busiest hour's rate over the day's mean, with --daily (default 2)
    #[arg(long, value_name = "F", requires = "daily", allow_hyphen_values = true, value_parser = units::parse_peak_factor)]
    pub peak_factor: Option<f64>,
    /// Utilization target: each replica runs at most this share of its highest sustainable rate (default 0.7)
    #[arg(long, value_name = "U", allow_hyphen_values = true, value_parser = units::parse_headroom, env = "R1PICK_HEADROOM")]
    pub headroom: Option<f64>,
    /// Extra replicas beyond the ones the load needs, so one can fail or restart (default 0)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count_or_zero, env = "R1PICK_SPARES")]
    pub spares: Option<u32>,
}
