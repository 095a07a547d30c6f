//! A DeepSeek-R1 variant: identity, architecture and published scores.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub hf_repo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ollama_tag: Option<String>,
    pub license: String,
    pub base_model: String,
    /// Longest context the model was configured for (max_position_embeddings).
    pub max_context: u32,
    /// Quant ids with a published artifact for this variant.
    pub quants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Ollama library tags of quants other than the default (`ollama_tag`, Q4_K_M).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ollama_tags: std::collections::BTreeMap<String, String>,
    /// Checkpoints per quant id (`int4`, `int8`, `bf16`) or `gguf`, when not `hf_repo`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub repos: std::collections::BTreeMap<String, String>,
    /// MLA cache layout its GGUF files force on every llama.cpp build: a pre-MLA conversion
    /// (`head_count_kv = 128`) caches full per-head K and V. `None`: the engine's own layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_mla_kv: Option<super::MlaKvLayout>,
    pub arch: Architecture,
    #[serde(default)]
    pub scores: Scores,
}

impl Model {
    pub fn is_moe(&self) -> bool {
        matches!(self.arch, Architecture::Moe(_))
    }

    pub fn layers(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.layers,
            Architecture::Moe(a) => a.layers,
        }
    }

    pub fn hidden(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.hidden,
            Architecture::Moe(a) => a.hidden,
        }
    }

    pub fn vocab(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.vocab,
            Architecture::Moe(a) => a.vocab,
        }
    }

    pub fn heads(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.heads,
            Architecture::Moe(a) => a.heads,
        }
    }
}

/// The fields of config.json that size a model.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    Dense(DenseArch),
    Moe(MoeArch),
}

/// Qwen2 / Llama / Qwen3 decoder with grouped-query attention.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DenseArch {
    pub layers: u32,
    pub hidden: u32,
    pub ffn: u32,
    pub heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub vocab: u32,
    pub tied_embeddings: bool,
    pub qkv_bias: bool,
    /// Qwen3's per-head RMSNorm on q and k.
    #[serde(default)]
    pub qk_norm: bool,
}

/// DeepSeek-V3 architecture: multi-head latent attention + DeepSeekMoE.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoeArch {
    pub layers: u32,
    /// The first layers use a dense FFN (`first_k_dense_replace`).
    pub dense_layers: u32,
    pub hidden: u32,
    /// FFN width of the dense layers.
    pub ffn: u32,
    /// FFN width of one expert.
    pub moe_ffn: u32,
    pub experts: u32,
    pub experts_per_token: u32,
    pub shared_experts: u32,
    pub heads: u32,
    pub q_lora_rank: u32,
    pub kv_lora_rank: u32,
    pub qk_nope_dim: u32,
    pub qk_rope_dim: u32,
    pub v_head_dim: u32,
    pub vocab: u32,
    pub tied_embeddings: bool,
    /// Multi-token-prediction modules shipped beside the main model.
    #[serde(default)]
    pub mtp_layers: u32,
}

/// Benchmark scores (pass@1 %, Codeforces as a rating) from the R1 paper or the model card.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aime_2024: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub math_500: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpqa_diamond: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub livecodebench: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codeforces: Option<f64>,
}

/// The benchmarks a task policy can stand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    #[serde(rename = "aime_2024")]
    Aime2024,
    #[serde(rename = "math_500")]
    Math500,
    GpqaDiamond,
    Livecodebench,
    Codeforces,
}

impl Benchmark {
    pub fn label(self) -> &'static str {
        match self {
            Benchmark::Aime2024 => "AIME 2024",
            Benchmark::Math500 => "MATH-500",
            Benchmark::GpqaDiamond => "GPQA Diamond",
            Benchmark::Livecodebench => "LiveCodeBench",
            Benchmark::Codeforces => "Codeforces rating",
        }
    }
}

impl Scores {
    pub fn get(&self, b: Benchmark) -> Option<f64> {
        match b {
            Benchmark::Aime2024 => self.aime_2024,
            Benchmark::Math500 => self.math_500,
            Benchmark::GpqaDiamond => self.gpqa_diamond,
            Benchmark::Livecodebench => self.livecodebench,
            Benchmark::Codeforces => self.codeforces,
        }
    }
}
