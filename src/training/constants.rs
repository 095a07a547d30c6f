//! The constants of data/training.toml, typed. Each one's source is written beside it in the file.

use serde::Deserialize;

use crate::error::{Error, Result};

const EMBEDDED: &str = include_str!("../../data/training.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConstants {
    pub schema_version: u32,
    pub nf4: Nf4,
    pub optimizer: OptimizerBytes,
    pub activations: Activations,
    pub overhead: Overhead,
    pub speed: Speed,
    pub framework: Vec<FrameworkProfile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nf4 {
    pub data_bits: f64,
    pub block: u32,
    pub absmax_bits: f64,
    pub second_block: u32,
    pub second_bits: f64,
    pub dequant_buffers: u32,
}

impl Nf4 {
    /// Bits per quantized weight, block constants included (4.127 with double quantization).
    pub fn bits_per_weight(&self) -> f64 {
        let block = f64::from(self.block);
        self.data_bits
            + self.absmax_bits / block
            + self.second_bits / (block * f64::from(self.second_block))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerBytes {
    pub adamw_fp32: f64,
    pub adamw_bf16: f64,
    pub adamw8bit: f64,
    pub sgd: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activations {
    pub hidden_saved: u32,
    pub kv_saved: u32,
    pub ffn_saved: u32,
    pub ffn_backward: u32,
    pub checkpoint_tensors: u32,
    pub lora_intermediate: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overhead {
    pub cuda_context_mib: u64,
    pub ddp_gradient_copies: u32,
    pub gathered_units: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Speed {
    pub mfu: f64,
    pub qlora_efficiency: f64,
    pub backward_full: f64,
    pub backward_lora: f64,
}

/// How a framework materialises the loss and keeps its trainable weights.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkProfile {
    pub id: String,
    pub name: String,
    pub logits_bytes_per_vocab: f64,
    pub pure_bf16: bool,
}

impl TrainingConstants {
    /// The constants compiled into the binary.
    pub fn embedded() -> Result<Self> {
        let c: TrainingConstants = toml::from_str(EMBEDDED)
            .map_err(|e| Error::input(format!("data/training.toml: {e}")))?;
        if c.schema_version != 1 {
            return Err(Error::input(format!(
                "data/training.toml: schema_version {} is not supported",
                c.schema_version
            )));
        }
        Ok(c)
    }

    pub fn framework(&self, id: &str) -> Result<&FrameworkProfile> {
        self.framework.iter().find(|f| f.id == id).ok_or_else(|| {
            let ids: Vec<&str> = self.framework.iter().map(|f| f.id.as_str()).collect();
            Error::input(format!(
                "unknown framework '{id}' (valid: {})",
                ids.join(", ")
            ))
        })
    }
}
