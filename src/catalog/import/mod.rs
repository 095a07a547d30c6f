//! Models the user brings: a Hugging Face `config.json` or a GGUF header, read into the same
//! [`Model`] the catalog builds, so sizing, speed and cost use one set of formulas.
//!
//! Pure parsing; the files are read (bounded) in `app::byo`.

pub mod from_gguf;
pub mod gguf;
pub mod hf_config;

use std::sync::Arc;

use super::model::{Architecture, MeasuredWeights, Model, ModelSource, Scores};
use super::quant::{Quant, QuantFormat};

/// What a file says about a model.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The `model_type` (config.json) or the matching one for a GGUF `general.architecture`.
    pub architecture: String,
    /// `_name_or_path` or `general.name`, when given.
    pub name: Option<String>,
    pub arch: Architecture,
    /// `max_position_embeddings` / `context_length`; RoPE scaling is never multiplied in.
    pub max_context: u32,
    /// The RoPE scaling the file declares, in words ("yarn ×40 over 4096").
    pub rope_scaling: Option<String>,
    pub precision: Precision,
    /// Bytes of the weights as stored: the index's `total_size`, or a GGUF's tensor data.
    pub checkpoint_bytes: Option<u64>,
    /// Tensors listed (safetensors index, GGUF header).
    pub tensors: Option<usize>,
    /// A GGUF's exact tensor bytes by class.
    pub measured: Option<MeasuredWeights>,
}

/// The weights' precision as the file has them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Precision {
    Bf16,
    Fp16,
    Fp32,
    Fp8,
    Int8,
    Int4,
    /// A GGUF file: `general.file_type` and the average bits per weight of its linear tensors.
    Gguf {
        file_type: Option<u64>,
        bits: f64,
    },
}

impl Precision {
    pub fn label(&self) -> String {
        match self {
            Precision::Bf16 => "bf16".into(),
            Precision::Fp16 => "fp16".into(),
            Precision::Fp32 => "fp32".into(),
            Precision::Fp8 => "fp8".into(),
            Precision::Int8 => "int8".into(),
            Precision::Int4 => "int4".into(),
            Precision::Gguf { bits, .. } => format!("gguf, {bits:.2} bits per weight"),
        }
    }
}

/// llama.cpp's `general.file_type` (llama_ftype) → the catalog quant of that name.
fn gguf_quant_id(file_type: u64, moe: bool) -> Option<&'static str> {
    Some(match file_type {
        1 => "fp16",
        2 => "q4_0",
        7 => "q8_0",
        10 => "q2_k",
        12 => "q3_k_m",
        15 => "q4_k_m",
        17 => "q5_k_m",
        18 => "q6_k",
        32 => "bf16",
        // unsloth's dynamic 671B quants carry the file type of their dominant expert type.
        19 if moe => "ud-iq2_xxs",
        24 if moe => "ud-iq1_s",
        31 if moe => "ud-iq1_m",
        _ => return None,
    })
}

/// The quants a model from this file can run at: what a quantized file is; for a 16/32-bit
/// checkpoint, every quant (converted or quantized on load), except the unsloth recipes tuned for
/// the 671B (`moe_only`).
pub fn quants_for(imported: &Imported, quants: &[Quant]) -> Vec<String> {
    let moe = !matches!(imported.arch, Architecture::Dense(_));
    let fixed = match imported.precision {
        Precision::Bf16 | Precision::Fp16 | Precision::Fp32 => {
            return quants
                .iter()
                .filter(|q| !q.moe_only)
                .map(|q| q.id.clone())
                .collect();
        }
        Precision::Fp8 => "fp8",
        Precision::Int8 => "int8",
        Precision::Int4 => "int4",
        Precision::Gguf { file_type, bits } => {
            match file_type.and_then(|t| gguf_quant_id(t, moe)) {
                Some(id) => id,
                // An unnamed mix: the catalog GGUF quant nearest in bits per weight.
                None => {
                    return quants
                        .iter()
                        .filter(|q| q.format == QuantFormat::Gguf && (moe || !q.moe_only))
                        .min_by(|a, b| {
                            (a.linear_bits_for(moe) - bits)
                                .abs()
                                .total_cmp(&(b.linear_bits_for(moe) - bits).abs())
                        })
                        .map(|q| vec![q.id.clone()])
                        .unwrap_or_default();
                }
            }
        }
    };
    vec![fixed.to_string()]
}

/// The catalog entry for an imported model. `id` is what the user typed, so reports name the file.
pub fn model(
    id: &str,
    repo: &str,
    imported: &Imported,
    source: ModelSource,
    quants: &[Quant],
) -> Model {
    let quant_ids = quants_for(imported, quants);
    let measured = imported.measured.clone().map(|mut m| {
        m.quant = quant_ids.first().cloned().unwrap_or_default();
        Arc::new(m)
    });
    Model {
        id: id.to_string(),
        name: imported.name.clone().unwrap_or_else(|| id.to_string()),
        aliases: vec![],
        hf_repo: repo.to_string(),
        hf_repo_quant: "bf16".to_string(),
        ollama_tag: None,
        license: String::new(),
        base_model: String::new(),
        max_context: imported.max_context,
        quants: quant_ids,
        note: None,
        ollama_tags: Default::default(),
        repos: Default::default(),
        // An imported GGUF's cache layout is the engine's (r1pick does not read head_count_kv yet).
        gguf_mla_kv: None,
        arch: imported.arch.clone(),
        scores: Scores::default(),
        source,
        measured,
    }
}
