//! Task policies (data/tasks.toml): the decision tree as data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::Benchmark;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The benchmark that stands for this kind of work.
    pub benchmark: Benchmark,
    /// Minimum (quantization-adjusted) score on that benchmark.
    pub min_score: f64,
    /// Typical prompt, reasoning and answer lengths in tokens.
    pub prompt_tokens: u32,
    pub reasoning_tokens: u32,
    pub answer_tokens: u32,
    /// Context each sequence needs (prompt + reasoning + answer, rounded up).
    pub context: u32,
    /// Default time-to-first-token target, ms.
    pub latency_ms: f64,
    /// Default slowest streaming speed per sequence, tokens/s.
    pub min_speed: f64,
    pub why: String,
    /// The task `recommend` and `check` assume when none is given (exactly one task has it).
    #[serde(default, skip_serializing)]
    #[schemars(skip)]
    pub default: bool,
}

/// A named budget for `--budget` (data/tasks.toml `[[tier]]`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: String,
    /// Hardware spend the tier allows, USD per hour.
    pub usd_per_hour: f64,
    pub why: String,
}

/// How candidates are ranked (data/tasks.toml `[ranking]`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ranking {
    /// Qualities within this many points of a tier's best count as equal.
    pub quality_tolerance: f64,
}
