//! Quantization formats (data/quants.toml).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quant {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub format: QuantFormat,
    /// Bits per weight of attention, dense-FFN and shared-expert projections.
    pub linear_bits: f64,
    /// Override of `linear_bits` for MoE models (DeepSeek's block-FP8 scales).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe_linear_bits: Option<f64>,
    /// Bits per weight of attention projections; `linear_bits` when absent (NVFP4 keeps them BF16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_bits: Option<f64>,
    /// Bits per weight of routed experts; `linear_bits` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_bits: Option<f64>,
    pub embedding_bits: f64,
    pub output_bits: f64,
    /// Data type the matrix multiplies run in, which picks the tensor-core rate.
    pub compute: ComputeDtype,
    /// Extra fixed time per MoE layer of a decode step, µs: this format's MoE kernels beyond the
    /// engine's (weight-only W4A16 experts dequantize in a Marlin grouped GEMM).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moe_layer_us: f64,
    /// Only meaningful for MoE models (dynamic expert quants).
    #[serde(default)]
    pub moe_only: bool,
    pub retention: Retention,
    /// False when no benchmark of the quantized model is published: the retention is an
    /// extrapolation, shown as unmeasured and ranked below measured qualities.
    #[serde(default = "measured", skip_serializing_if = "is_measured")]
    pub quality_measured: bool,
    pub source: String,
    /// The size tiers `retention` is given for: the catalog's one table, set on load.
    #[serde(skip)]
    #[schemars(skip)]
    pub tiers: RetentionTiers,
}

fn measured() -> bool {
    true
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_measured(m: &bool) -> bool {
    *m
}

impl Quant {
    pub fn linear_bits_for(&self, moe: bool) -> f64 {
        match (moe, self.moe_linear_bits) {
            (true, Some(b)) => b,
            _ => self.linear_bits,
        }
    }

    pub fn attention_bits_for(&self, moe: bool) -> f64 {
        self.attention_bits.unwrap_or(self.linear_bits_for(moe))
    }

    pub fn expert_bits_for(&self, moe: bool) -> f64 {
        self.expert_bits.unwrap_or(self.linear_bits_for(moe))
    }

    /// Fraction of the unquantized benchmark score kept at this model size (the size tiers of
    /// data/quants.toml `[retention_tiers]`).
    pub fn retention_for(&self, params: u64) -> f64 {
        let b = params as f64 / 1e9;
        if b < self.tiers.small_below_b {
            self.retention.small
        } else if b < self.tiers.large_from_b {
            self.retention.medium
        } else {
            self.retention.large
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuantFormat {
    Safetensors,
    Gguf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDtype {
    Bf16,
    Fp16,
    Fp8,
    Int8,
    /// FP4 tensor cores (NVFP4; Blackwell).
    Fp4,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Models under `small_below_b` parameters.
    pub small: f64,
    /// Between the two cut-offs.
    pub medium: f64,
    /// `large_from_b` and more.
    pub large: f64,
}

/// The model sizes that separate the retention tiers, billions of parameters (data/quants.toml
/// `[retention_tiers]`). Every quant reads the one table; the catalog hands it to each on load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionTiers {
    pub small_below_b: f64,
    pub large_from_b: f64,
}
