//! Weight bytes per tensor class, from the parameter breakdown and the quant's bits per weight.

use crate::catalog::model::MeasuredWeights;
use crate::catalog::params::{LayerParams, ParamBreakdown, experts_touched};
use crate::catalog::quant::QuantFormat;
use crate::catalog::{Model, Quant};

/// Bits of the tensors every format keeps in 16 bit: norms, biases, the MoE router.
const HIGH_PRECISION_BITS: f64 = 16.0;

/// Bytes of one decoder layer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerBytes {
    /// Attention tensors (sharded under TP), including the replicated part.
    pub attention: f64,
    /// Attention tensors TP replicates on every rank (MLA q_a / kv_a projections).
    pub attention_replicated: f64,
    /// Dense FFN or shared experts.
    pub ffn: f64,
    /// Router (replicated).
    pub router: f64,
    /// One routed expert.
    pub expert: f64,
    pub experts: u32,
}

impl LayerBytes {
    pub fn routed(&self) -> f64 {
        self.expert * f64::from(self.experts)
    }

    /// Everything but the routed experts.
    pub fn non_expert(&self) -> f64 {
        self.attention + self.ffn + self.router
    }

    pub fn total(&self) -> f64 {
        self.non_expert() + self.routed()
    }
}

/// Bytes of a model's weights in one quant format, by where they live.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightBytes {
    pub embedding: f64,
    /// lm_head plus the final norm.
    pub output: f64,
    pub layers: Vec<LayerBytes>,
    pub experts_per_token: u32,
}

impl WeightBytes {
    pub fn of(model: &Model, quant: &Quant) -> Self {
        if let Some(m) = model.measured.as_deref().filter(|m| m.quant == quant.id) {
            return Self::measured(m, ParamBreakdown::of(model).experts_per_token);
        }
        let p = ParamBreakdown::of(model);
        let moe = model.is_moe();
        let linear = quant.linear_bits_for(moe);
        let expert = quant.expert_bits_for(moe);
        let attention = quant.attention_bits_for(moe);
        let bytes = |params: u64, bits: f64| params as f64 * bits / 8.0;
        WeightBytes {
            embedding: bytes(p.embedding, quant.embedding_bits),
            output: bytes(p.output, quant.output_bits) + bytes(p.final_norm, HIGH_PRECISION_BITS),
            layers: p
                .layers
                .iter()
                .map(|l: &LayerParams| LayerBytes {
                    attention: bytes(l.attention, attention),
                    attention_replicated: bytes(l.attention_replicated, attention),
                    ffn: bytes(l.ffn, linear),
                    router: bytes(l.router, HIGH_PRECISION_BITS),
                    expert: bytes(l.expert, expert),
                    experts: l.experts,
                })
                .collect(),
            experts_per_token: p.experts_per_token,
        }
    }

    /// The real tensor bytes of a GGUF file: per-layer mixes (Q6_K attn_v in some layers) kept.
    fn measured(m: &MeasuredWeights, experts_per_token: u32) -> Self {
        WeightBytes {
            embedding: m.embedding as f64,
            output: m.output as f64,
            layers: m
                .layers
                .iter()
                .map(|l| LayerBytes {
                    attention: l.attention as f64,
                    attention_replicated: l.attention_replicated as f64,
                    ffn: l.ffn as f64,
                    router: l.router as f64,
                    expert: l.routed as f64 / f64::from(l.experts.max(1)),
                    experts: l.experts,
                })
                .collect(),
            experts_per_token,
        }
    }

    pub fn total(&self) -> f64 {
        self.embedding + self.output + self.layers.iter().map(LayerBytes::total).sum::<f64>()
    }

    /// Bytes one decode step reads when `tokens` tokens are routed together: everything dense, the
    /// experts those tokens touch (uniform routing), not the embedding table (a row lookup).
    pub fn read_per_step(&self, tokens: f64) -> f64 {
        self.output + self.layer_reads(tokens).map(|(_, read)| read).sum::<f64>()
    }

    /// Each layer with [`WeightBytes::layer_read`] of it, the experts touched (a `powf`) computed
    /// once per run of layers with the same expert count: a MoE model's expert layers all have
    /// the same, and the step model's table asks 17 step sizes of every layer.
    pub fn layer_reads(&self, tokens: f64) -> impl Iterator<Item = (&LayerBytes, f64)> + '_ {
        let mut last: Option<(u32, f64)> = None;
        self.layers.iter().map(move |l| {
            if l.experts == 0 {
                return (l, l.non_expert());
            }
            let touched = match last {
                Some((experts, touched)) if experts == l.experts => touched,
                _ => experts_touched(l.experts, self.experts_per_token, tokens),
            };
            last = Some((l.experts, touched));
            (l, l.non_expert() + touched * l.expert)
        })
    }

    /// Bytes of one layer read in a step of `tokens` tokens.
    pub fn layer_read(&self, l: &LayerBytes, tokens: f64) -> f64 {
        if l.experts == 0 {
            return l.non_expert();
        }
        let touched = experts_touched(l.experts, self.experts_per_token, tokens);
        l.non_expert() + touched * l.expert
    }
}

/// Size of the published checkpoint file(s) in bytes. Safetensors checkpoints of the 671B also ship
/// the MTP module with its own copies of embedding and head (the "685B" on Hugging Face); GGUF
/// conversions drop it.
pub fn checkpoint_bytes(model: &Model, quant: &Quant) -> f64 {
    let w = WeightBytes::of(model, quant);
    let p = ParamBreakdown::of(model);
    let mtp = match quant.format {
        QuantFormat::Gguf => 0.0,
        QuantFormat::Safetensors if p.mtp > 0 => {
            p.mtp as f64 * quant.linear_bits_for(model.is_moe()) / 8.0 + w.embedding + w.output
        }
        QuantFormat::Safetensors => 0.0,
    };
    w.total() + mtp
}
