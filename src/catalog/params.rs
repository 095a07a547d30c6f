//! Parameter counts computed from the architecture, tensor class by tensor class.
//!
//! Sizing and speed both need to know not only how many parameters a model has but which kind:
//! embeddings and the output head stay at high precision, routed experts are read only when
//! selected, MLA down-projections are replicated under tensor parallelism.

use super::model::{Architecture, DenseArch, GqaMoeArch, Model, MoeArch};

/// Parameters of one decoder layer, by tensor class.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerParams {
    /// Attention projections, their biases and norms, and the layer's two RMSNorms.
    pub attention: u64,
    /// Part of `attention` that tensor parallelism replicates instead of sharding (MLA q_a/kv_a).
    pub attention_replicated: u64,
    /// The dense FFN, or the shared experts of a MoE layer.
    pub ffn: u64,
    /// MoE router weights and bias (replicated, kept in 16 bit).
    pub router: u64,
    /// Parameters of one routed expert (0 in a dense layer).
    pub expert: u64,
    /// Routed experts in this layer.
    pub experts: u32,
}

impl LayerParams {
    pub fn routed(&self) -> u64 {
        self.expert * u64::from(self.experts)
    }

    pub fn total(&self) -> u64 {
        self.attention + self.ffn + self.router + self.routed()
    }
}

/// Every parameter of a model, by where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamBreakdown {
    pub embedding: u64,
    /// lm_head; 0 when tied to the embedding.
    pub output: u64,
    pub final_norm: u64,
    pub layers: Vec<LayerParams>,
    /// Multi-token-prediction module (unique params; shares embedding and head).
    pub mtp: u64,
    /// Experts each token is routed to (0 for dense models).
    pub experts_per_token: u32,
}

impl ParamBreakdown {
    pub fn of(model: &Model) -> Self {
        match &model.arch {
            Architecture::Dense(a) => dense(a),
            Architecture::Moe(a) => moe(a),
            Architecture::GqaMoe(a) => gqa_moe(a),
        }
    }

    /// Main-model parameters (without the MTP module).
    pub fn total(&self) -> u64 {
        self.embedding
            + self.output
            + self.final_norm
            + self.layers.iter().map(LayerParams::total).sum::<u64>()
    }

    /// Parameters one token touches: every dense tensor plus `experts_per_token` routed experts per
    /// MoE layer (embedding and head counted, as DeepSeek's 37B does).
    pub fn active(&self) -> u64 {
        self.total() - self.routed() + self.routed_touched(1.0)
    }

    /// All routed-expert parameters.
    pub fn routed(&self) -> u64 {
        self.layers.iter().map(LayerParams::routed).sum()
    }

    /// Routed-expert parameters read when `tokens` tokens are routed together, assuming uniform
    /// routing: a layer touches E·(1 − (1 − k/E)^B) distinct experts (formulas.md §1(e)).
    pub fn routed_touched(&self, tokens: f64) -> u64 {
        self.layers
            .iter()
            .filter(|l| l.experts > 0)
            .map(|l| {
                let touched = experts_touched(l.experts, self.experts_per_token, tokens);
                (touched * l.expert as f64) as u64
            })
            .sum()
    }

    /// Parameters that multiply activations (everything but the embedding lookup).
    pub fn non_embedding_active(&self) -> u64 {
        self.active() - self.embedding
    }
}

/// Distinct experts a layer of `experts` touches when `tokens` tokens each pick `per_token` of
/// them, assuming uniform routing: E·(1 − (1 − k/E)^B) (formulas.md §1(e)). The one statement of
/// the formula, for parameter counts and for the bytes a step reads.
pub fn experts_touched(experts: u32, per_token: u32, tokens: f64) -> f64 {
    let e = f64::from(experts);
    let k = f64::from(per_token);
    e * (1.0 - (1.0 - k / e).powf(tokens.max(1.0)))
}

/// Grouped-query attention: q, k, v, o projections (+ biases, q/k norms) and the layer's two RMSNorms.
fn gqa_attention(
    h: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    bias: bool,
    qk_norm: bool,
) -> u64 {
    let (h, d) = (u64::from(h), u64::from(head_dim));
    let q = u64::from(heads) * d;
    let kv = u64::from(kv_heads) * d;
    let mut attention = h * q + 2 * h * kv + q * h;
    if bias {
        attention += q + 2 * kv;
    }
    if qk_norm {
        attention += 2 * d;
    }
    attention + 2 * h // input and post-attention RMSNorm
}

fn dense(a: &DenseArch) -> ParamBreakdown {
    let h = u64::from(a.hidden);
    let layer = LayerParams {
        attention: gqa_attention(
            a.hidden, a.heads, a.kv_heads, a.head_dim, a.qkv_bias, a.qk_norm,
        ),
        ffn: 3 * h * u64::from(a.ffn),
        ..LayerParams::default()
    };
    with_embeddings(
        vec![layer; a.layers as usize],
        a.vocab,
        a.hidden,
        a.tied_embeddings,
        0,
        0,
    )
}

fn gqa_moe(a: &GqaMoeArch) -> ParamBreakdown {
    let h = u64::from(a.hidden);
    let attention = gqa_attention(
        a.hidden, a.heads, a.kv_heads, a.head_dim, a.qkv_bias, a.qk_norm,
    );
    let dense_layer = LayerParams {
        attention,
        ffn: 3 * h * u64::from(a.ffn),
        ..LayerParams::default()
    };
    let moe_layer = LayerParams {
        attention,
        router: u64::from(a.experts) * h, // gate weight, no bias (Mixtral, Qwen3-MoE)
        expert: 3 * h * u64::from(a.moe_ffn),
        experts: a.experts,
        ..LayerParams::default()
    };
    let layers = stack(dense_layer, moe_layer, a.dense_layers, a.layers);
    with_embeddings(
        layers,
        a.vocab,
        a.hidden,
        a.tied_embeddings,
        0,
        a.experts_per_token,
    )
}

/// The first `dense` layers dense, the rest MoE.
fn stack(
    dense_layer: LayerParams,
    moe_layer: LayerParams,
    dense: u32,
    layers: u32,
) -> Vec<LayerParams> {
    let mut out = vec![dense_layer; dense as usize];
    out.extend(std::iter::repeat_n(moe_layer, (layers - dense) as usize));
    out
}

fn with_embeddings(
    layers: Vec<LayerParams>,
    vocab: u32,
    hidden: u32,
    tied: bool,
    mtp: u64,
    experts_per_token: u32,
) -> ParamBreakdown {
    let embedding = u64::from(vocab) * u64::from(hidden);
    ParamBreakdown {
        embedding,
        output: if tied { 0 } else { embedding },
        final_norm: u64::from(hidden),
        layers,
        mtp,
        experts_per_token,
    }
}

fn mla_attention(a: &MoeArch) -> (u64, u64) {
    let h = u64::from(a.hidden);
    let heads = u64::from(a.heads);
    let (q_rank, kv_rank) = (u64::from(a.q_lora_rank), u64::from(a.kv_lora_rank));
    let (nope, rope, v) = (
        u64::from(a.qk_nope_dim),
        u64::from(a.qk_rope_dim),
        u64::from(a.v_head_dim),
    );
    // q_a_proj + q_a_layernorm then q_b_proj; without a q LoRA (V2-Lite) one q_proj.
    let (q_a, q_b) = if q_rank == 0 {
        (0, h * heads * (nope + rope))
    } else {
        (h * q_rank + q_rank, q_rank * heads * (nope + rope))
    };
    let kv_a = h * (kv_rank + rope) + kv_rank; // kv_a_proj_with_mqa + kv_a_layernorm
    let kv_b = kv_rank * heads * (nope + v);
    let o = heads * v * h;
    let norms = 2 * h;
    (q_a + kv_a + q_b + kv_b + o + norms, q_a + kv_a)
}

fn moe(a: &MoeArch) -> ParamBreakdown {
    let h = u64::from(a.hidden);
    let (attention, replicated) = mla_attention(a);
    let expert = 3 * h * u64::from(a.moe_ffn);
    let dense_layer = LayerParams {
        attention,
        attention_replicated: replicated,
        ffn: 3 * h * u64::from(a.ffn),
        ..LayerParams::default()
    };
    let moe_layer = LayerParams {
        attention,
        attention_replicated: replicated,
        ffn: u64::from(a.shared_experts) * expert,
        // gate weight + V3's score-correction bias
        router: u64::from(a.experts) * h
            + if a.router_bias {
                u64::from(a.experts)
            } else {
                0
            },
        expert,
        experts: a.experts,
    };
    let layers = stack(dense_layer, moe_layer, a.dense_layers, a.layers);
    // Each MTP module: enorm + hnorm, eh_proj (2h → h), one MoE decoder layer, a final norm.
    let mtp = u64::from(a.mtp_layers) * (2 * h + 2 * h * h + moe_layer.total() + h);
    with_embeddings(
        layers,
        a.vocab,
        a.hidden,
        a.tied_embeddings,
        mtp,
        a.experts_per_token,
    )
}
