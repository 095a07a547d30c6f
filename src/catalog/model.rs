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
    /// The quant `hf_repo` holds (`bf16` for the distills, `fp8` for the 671B).
    #[serde(default = "bf16", skip_serializing_if = "is_bf16")]
    pub hf_repo_quant: String,
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
    /// Where the entry came from: the catalog, or a file the user brought (`MODEL` as a path).
    #[serde(skip)]
    pub source: ModelSource,
    /// Exact tensor bytes read from a GGUF file, used instead of parameters × bits for that quant.
    #[serde(skip)]
    pub measured: Option<std::sync::Arc<MeasuredWeights>>,
}

fn bf16() -> String {
    "bf16".to_string()
}

fn is_bf16(q: &str) -> bool {
    q == "bf16"
}

impl Model {
    /// The precision the weights were released in: `hf_repo_quant` for a catalog model
    /// (data/models.toml), the file's own precision (its first quant) for a model read from a file.
    pub fn native_quant(&self) -> Option<&str> {
        match self.source {
            ModelSource::Catalog => Some(&self.hf_repo_quant),
            _ => self.quants.first().map(String::as_str),
        }
    }
}

/// Where a model's architecture was read from (JSON `model_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub enum ModelSource {
    #[default]
    #[serde(rename = "catalog")]
    Catalog,
    #[serde(rename = "config.json")]
    ConfigJson,
    #[serde(rename = "gguf")]
    Gguf,
    #[serde(rename = "hf")]
    Hf,
}

impl ModelSource {
    pub fn label(self) -> &'static str {
        match self {
            ModelSource::Catalog => "catalog",
            ModelSource::ConfigJson => "config.json",
            ModelSource::Gguf => "gguf",
            ModelSource::Hf => "hf",
        }
    }
}

/// Bytes of every tensor of a GGUF file by class, as llama.cpp loads them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeasuredWeights {
    /// The catalog quant id these bytes stand for (the file's type).
    pub quant: String,
    pub embedding: u64,
    /// output.weight plus output_norm.
    pub output: u64,
    pub layers: Vec<MeasuredLayer>,
}

/// One `blk.N` of a GGUF file.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeasuredLayer {
    pub attention: u64,
    pub attention_replicated: u64,
    pub ffn: u64,
    pub router: u64,
    /// All routed experts of the layer together.
    pub routed: u64,
    pub experts: u32,
}

impl Model {
    pub fn is_moe(&self) -> bool {
        !matches!(self.arch, Architecture::Dense(_))
    }

    pub fn layers(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.layers,
            Architecture::Moe(a) => a.layers,
            Architecture::GqaMoe(a) => a.layers,
        }
    }

    pub fn hidden(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.hidden,
            Architecture::Moe(a) => a.hidden,
            Architecture::GqaMoe(a) => a.hidden,
        }
    }

    pub fn vocab(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.vocab,
            Architecture::Moe(a) => a.vocab,
            Architecture::GqaMoe(a) => a.vocab,
        }
    }

    pub fn heads(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(a) => a.heads,
            Architecture::Moe(a) => a.heads,
            Architecture::GqaMoe(a) => a.heads,
        }
    }

    /// Routed experts of each MoE layer (0 for a dense model).
    pub fn routed_experts(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(_) => 0,
            Architecture::Moe(a) => a.experts,
            Architecture::GqaMoe(a) => a.experts,
        }
    }

    /// Layers with routed experts.
    pub fn moe_layers(&self) -> u32 {
        match &self.arch {
            Architecture::Dense(_) => 0,
            Architecture::Moe(a) => a.layers - a.dense_layers,
            Architecture::GqaMoe(a) => a.layers - a.dense_layers,
        }
    }
}

/// The fields of config.json that size a model.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    Dense(DenseArch),
    Moe(MoeArch),
    /// Grouped-query attention with routed experts (Mixtral, Qwen3-MoE).
    #[serde(rename = "gqa_moe")]
    GqaMoe(GqaMoeArch),
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
    /// Attention window (Mistral); shown, not applied: llama.cpp and vLLM size the cache for the
    /// whole context unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<u32>,
}

/// Mixtral / Qwen3-MoE decoder: GQA attention, a router, routed experts and no shared expert.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GqaMoeArch {
    pub layers: u32,
    /// Layers with a dense FFN instead of experts (Qwen3-MoE `mlp_only_layers`).
    #[serde(default)]
    pub dense_layers: u32,
    pub hidden: u32,
    /// FFN width of the dense layers.
    pub ffn: u32,
    pub moe_ffn: u32,
    pub experts: u32,
    pub experts_per_token: u32,
    pub heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub vocab: u32,
    pub tied_embeddings: bool,
    #[serde(default)]
    pub qkv_bias: bool,
    #[serde(default)]
    pub qk_norm: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<u32>,
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
    /// 0 when queries are projected directly (DeepSeek-V2-Lite has no q LoRA).
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
    /// The router's score-correction bias (V3's `noaux_tc` routing; V2 has none).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub router_bias: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
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
    /// Set one score (a user's `--score BENCH=X` for a model without published ones).
    pub fn set(&mut self, b: Benchmark, value: f64) {
        let slot = match b {
            Benchmark::Aime2024 => &mut self.aime_2024,
            Benchmark::Math500 => &mut self.math_500,
            Benchmark::GpqaDiamond => &mut self.gpqa_diamond,
            Benchmark::Livecodebench => &mut self.livecodebench,
            Benchmark::Codeforces => &mut self.codeforces,
        };
        *slot = Some(value);
    }

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
