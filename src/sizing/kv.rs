//! KV-cache bytes per token, per architecture and engine layout (formulas.md §1(b)).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{Architecture, Engine, MlaKvLayout, Model};

/// Element type of the KV cache.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum KvDtype {
    #[default]
    Bf16,
    Fp16,
    Fp8,
    /// llama.cpp block type: 34 B per 32 elements.
    #[value(name = "q8_0")]
    Q8_0,
    /// llama.cpp block type: 18 B per 32 elements.
    #[value(name = "q4_0")]
    Q4_0,
}

impl KvDtype {
    /// The `--kv-dtype` spelling (and data/engines.toml `kv_dtypes`).
    pub fn id(self) -> &'static str {
        match self {
            KvDtype::Bf16 => "bf16",
            KvDtype::Fp16 => "fp16",
            KvDtype::Fp8 => "fp8",
            KvDtype::Q8_0 => "q8_0",
            KvDtype::Q4_0 => "q4_0",
        }
    }

    /// The cache an engine allocates when `--kv-dtype` is not given: GGUF engines (llama.cpp,
    /// Ollama) default to f16 (llama.cpp common/common.h `cache_type_k = GGML_TYPE_F16`); vLLM,
    /// SGLang and TRT-LLM use the checkpoint's dtype (`auto`), bf16 for every DeepSeek-R1 variant.
    pub fn engine_default(engine: &Engine) -> KvDtype {
        if engine.gguf {
            KvDtype::Fp16
        } else {
            KvDtype::Bf16
        }
    }

    /// The name a person reads: the engine's own spelling (llama.cpp `-ctk f16`), else the id.
    pub fn name_for(self, engine: &Engine) -> &'static str {
        match self {
            KvDtype::Fp16 if engine.gguf => "f16",
            _ => self.id(),
        }
    }

    pub fn bytes(self) -> f64 {
        match self {
            KvDtype::Bf16 | KvDtype::Fp16 => 2.0,
            KvDtype::Fp8 => 1.0,
            KvDtype::Q8_0 => 34.0 / 32.0,
            KvDtype::Q4_0 => 18.0 / 32.0,
        }
    }
}

/// KV bytes one token adds to one layer on one tensor-parallel rank.
///
/// GQA: 2 (K and V) × KV heads on the rank × head_dim; KV heads split across ranks but never below
/// one (vLLM replicates them when TP > kv_heads). MLA: one latent "head" that every rank keeps whole.
pub fn per_layer_token(model: &Model, layout: MlaKvLayout, dtype: KvDtype, tp: u32) -> f64 {
    let elements = match &model.arch {
        Architecture::Dense(a) => {
            let heads_per_rank = (a.kv_heads / tp.max(1)).max(1);
            2 * heads_per_rank * a.head_dim
        }
        Architecture::GqaMoe(a) => {
            let heads_per_rank = (a.kv_heads / tp.max(1)).max(1);
            2 * heads_per_rank * a.head_dim
        }
        Architecture::Moe(a) => match layout {
            MlaKvLayout::Latent => a.kv_lora_rank + a.qk_rope_dim,
            MlaKvLayout::LatentV => a.kv_lora_rank + a.qk_rope_dim + a.kv_lora_rank,
            // Expanded per-head K and V are ordinary heads: they shard under TP.
            MlaKvLayout::Expanded => {
                a.heads / tp.max(1) * (a.qk_nope_dim + a.qk_rope_dim + a.v_head_dim)
            }
        },
    };
    f64::from(elements) * dtype.bytes()
}

/// KV bytes per token of the whole model on a single device (the number people compare).
pub fn per_token(model: &Model, layout: MlaKvLayout, dtype: KvDtype) -> f64 {
    per_layer_token(model, layout, dtype, 1) * f64::from(model.layers())
}
