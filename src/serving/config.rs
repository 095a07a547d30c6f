//! data/serving.toml: each engine's scheduler defaults (by version) and KV rule, and the fitted
//! constants of the step model. Embedded in the binary and parsed once.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sizing::capacity::KvRule;

const TEXT: &str = include_str!("../../data/serving.toml");

/// GPUs with at least this much memory get vLLM's larger defaults (arg_utils.py: 70 GiB, and not an
/// A100).
const LARGE_GPU_BYTES: f64 = 70.0 * 1024.0 * 1024.0 * 1024.0;

/// Does vLLM's "large GPU" branch of its defaults apply to this GPU?
pub fn large_gpu(memory_bytes: f64, name: &str) -> bool {
    memory_bytes >= LARGE_GPU_BYTES && !name.to_ascii_lowercase().contains("a100")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingData {
    #[allow(dead_code)]
    schema_version: u32,
    pub model: ModelConstants,
    pub engine: Vec<EngineScheduler>,
}

/// Fitted constants of the step model.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConstants {
    pub roofline_sharpness: f64,
    pub seq_us: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineScheduler {
    pub id: String,
    #[serde(flatten)]
    pub defaults: SchedulerDefaults,
    pub kv_rule: KvRule,
    pub non_torch_mib: f64,
    #[allow(dead_code)]
    sources: Vec<String>,
    /// Older releases whose defaults differ, each valid for versions below `until`.
    #[serde(default)]
    pub version: Vec<VersionDefaults>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerDefaults {
    pub token_budget: u32,
    pub token_budget_small_gpu: u32,
    pub max_seqs: u32,
    pub max_seqs_small_gpu: u32,
    pub prefill_first: bool,
    pub packs_prompts: bool,
    pub reserves_output: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionDefaults {
    pub until: String,
    #[serde(flatten)]
    pub defaults: SchedulerDefaults,
}

/// The scheduler a deployment runs with, resolved for its engine version and GPU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Scheduler {
    /// Tokens one step may carry (decode + prefill).
    pub token_budget: u32,
    /// Sequences one step may carry.
    pub max_seqs: u32,
    /// Waiting prefills run before decodes.
    pub prefill_first: bool,
    /// Prefill steps take whole prompts.
    pub packs_prompts: bool,
    /// Admission reserves KV for the whole answer.
    pub reserves_output: bool,
}

/// What a caller may pin instead of the engine's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SchedulerOverrides<'a> {
    /// Engine release, "0.7.3"; `None` is the current one.
    pub version: Option<&'a str>,
    pub token_budget: Option<u32>,
    pub max_seqs: Option<u32>,
}

pub fn data() -> &'static ServingData {
    static DATA: OnceLock<ServingData> = OnceLock::new();
    // The file is embedded and parsed by the unit tests (`every_engine_has_a_profile` reads it), so a parse error
    // here is a build defect, not a user error.
    DATA.get_or_init(|| toml::from_str(TEXT).expect("data/serving.toml parses"))
}

pub fn engine(id: &str) -> Result<&'static EngineScheduler> {
    data().engine.iter().find(|e| e.id == id).ok_or_else(|| {
        Error::input(format!(
            "no serving profile for engine '{id}' (known: {})",
            data()
                .engine
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// "0.7.3" < "0.8": numeric comparison of dotted parts; non-numeric parts compare as 0.
fn older(version: &str, until: &str) -> bool {
    let parts = |v: &str| -> Vec<u32> {
        v.trim_start_matches('v')
            .split(['.', '-', '+'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(version) < parts(until)
}

impl EngineScheduler {
    /// Defaults for `version` on a large or small GPU ([`large_gpu`]), with the caller's pins applied.
    /// `max_context` fills a budget of 0 (whole prompts, vLLM V0), `slots` a max_seqs of 0.
    pub fn resolve(
        &self,
        o: &SchedulerOverrides,
        large: bool,
        max_context: u32,
        slots: u32,
    ) -> Scheduler {
        let mut d = self.defaults;
        if let Some(v) = o.version {
            // The first listed range the version falls in (ranges are listed oldest last).
            if let Some(old) = self.version.iter().find(|r| older(v, &r.until)) {
                d = old.defaults;
            }
        }
        let budget = if large {
            d.token_budget
        } else {
            d.token_budget_small_gpu
        };
        let seqs = if large {
            d.max_seqs
        } else {
            d.max_seqs_small_gpu
        };
        Scheduler {
            token_budget: o.token_budget.unwrap_or(match budget {
                0 => max_context.max(2048),
                b => b,
            }),
            max_seqs: o.max_seqs.unwrap_or(match seqs {
                0 => slots.max(1),
                s => s,
            }),
            prefill_first: d.prefill_first,
            packs_prompts: d.packs_prompts,
            reserves_output: d.reserves_output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a100_gets_the_small_defaults() {
        assert!(large_gpu(85e9, "NVIDIA H100 80GB HBM3"));
        assert!(!large_gpu(85e9, "NVIDIA A100-SXM4-80GB"));
        assert!(!large_gpu(25e9, "NVIDIA GeForce RTX 4090"));
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(older("0.7.3", "0.8"));
        assert!(older("v0.7.0", "0.8"));
        assert!(!older("0.8.0", "0.8"));
        assert!(!older("0.11.0", "0.8"));
    }

    #[test]
    fn every_engine_has_a_profile() {
        for id in [
            "vllm",
            "sglang",
            "trtllm",
            "llama.cpp",
            "ollama",
            "transformers",
        ] {
            assert!(engine(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn vllm_v0_packs_whole_prompts_up_to_the_model_length() {
        let e = engine("vllm").unwrap();
        let pins = SchedulerOverrides {
            version: Some("0.7.3"),
            ..Default::default()
        };
        let s = e.resolve(&pins, true, 163_840, 1);
        assert_eq!(s.token_budget, 163_840);
        assert_eq!(s.max_seqs, 256);
        assert!(s.prefill_first && s.packs_prompts);
        let now = e.resolve(&SchedulerOverrides::default(), true, 163_840, 1);
        assert_eq!((now.token_budget, now.max_seqs), (8192, 1024));
        let small = e.resolve(&SchedulerOverrides::default(), false, 131_072, 1);
        assert_eq!((small.token_budget, small.max_seqs), (2048, 256));
    }
}
