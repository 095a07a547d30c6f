//! The time of one engine step: `decode` sequences at a mean context, plus `prefill` prompt tokens.
//!
//! Built from the single-stream speed model (`perf::estimate`), so a step of one sequence is exactly
//! today's decode step: the weights read once per step (more experts as more tokens route), the KV of
//! every decoding sequence, the FLOPs of every token in the step, the engine's fixed cost per layer
//! and step, the all-reduces (their size grows with the step's tokens), and the scheduler's cost per
//! running sequence. Within the linear layers the weight reads and FLOPs overlap as a soft roofline
//! (data/serving.toml); attention is its own kernels and adds.

use crate::catalog::params::ParamBreakdown;
use crate::catalog::{Architecture, Model};
use crate::hardware::Hardware;
use crate::perf::{Breakdown, estimate_with, rank_weight_bytes};
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Deployment, MemoryPlan, Workload};

use super::config::ModelConstants;

/// Token counts the MoE weight-read table is sampled at (powers of two up to 2^16).
const TABLE_POINTS: usize = 17;

#[derive(Debug, Clone)]
pub struct StepModel {
    fixed_ms: f64,
    /// Weight-read time of a one-token step, ms.
    weights_ms: f64,
    /// weights read at 2^i tokens / weights read at 1 token (MoE touches more experts).
    weight_ratio: [f64; TABLE_POINTS],
    /// KV read per sequence per token of context, ms.
    kv_ms_per_token: f64,
    /// Linear-layer compute per token, ms.
    flop_ms_per_token: f64,
    /// Attention compute per prompt token per token of context before it, ms.
    attention_ms_per_token2: f64,
    comm_ms: f64,
    comm_ms_per_token: f64,
    seq_ms: f64,
    sharpness: f64,
    /// DP-attention ranks: each runs attention and schedules for its own share of the sequences.
    dp: f64,
}

/// Prefill attention FLOPs per query token per key token: 2·L·H·(d_qk + d_v) (formulas.md §1(f)).
fn attention_coefficient(model: &Model) -> f64 {
    match &model.arch {
        Architecture::Dense(a) => {
            2.0 * f64::from(a.layers) * f64::from(a.heads) * f64::from(2 * a.head_dim)
        }
        Architecture::GqaMoe(a) => {
            2.0 * f64::from(a.layers) * f64::from(a.heads) * f64::from(2 * a.head_dim)
        }
        Architecture::Moe(a) => {
            let d = f64::from(a.qk_nope_dim + a.qk_rope_dim + a.v_head_dim);
            2.0 * f64::from(a.layers) * f64::from(a.heads) * d
        }
    }
}

impl StepModel {
    pub fn new(d: &Deployment, hw: &Hardware, mem: &MemoryPlan, k: &ModelConstants) -> Self {
        let w = WeightBytes::of(d.model, d.quant);
        let p = ParamBreakdown::of(d.model);
        Self::with_weights(d, hw, mem, k, &w, &p)
    }

    /// [`StepModel::new`] from the deployment's weights and parameters, already counted.
    pub fn with_weights(
        d: &Deployment,
        hw: &Hardware,
        mem: &MemoryPlan,
        k: &ModelConstants,
        w: &WeightBytes,
        p: &ParamBreakdown,
    ) -> Self {
        let probe = |concurrency: u32, context: u32| -> Breakdown {
            let mut at = *d;
            at.workload = Workload {
                context,
                prompt: 1,
                output: 1,
                concurrency,
            };
            estimate_with(&at, hw, mem, w, p).breakdown
        };
        const CONTEXT: u32 = 4096;
        const WIDE: u32 = 64;
        let one = probe(1, CONTEXT);
        let wide = probe(WIDE, CONTEXT);
        // Under EP / DP attention a rank's read is not a fixed share of the model's: its
        // attention, dense FFN and shared expert stay whole while the experts touched grow.
        let read = |tokens: f64| {
            if d.parallel.is_plain() {
                w.read_per_step(tokens)
            } else {
                rank_weight_bytes(&d.parallel, mem.placement.tensor_parallel, w, tokens)
            }
        };
        let base = read(1.0).max(1.0);
        let mut weight_ratio = [1.0; TABLE_POINTS];
        for (i, r) in weight_ratio.iter_mut().enumerate() {
            *r = read((1u64 << i) as f64) / base;
        }
        // FLOP/s of the deployment as the speed model runs its matmuls (all ranks of a TP group).
        let rate = (one.prefill_tflops * 1e12).max(1.0);
        StepModel {
            fixed_ms: one.fixed_ms,
            weights_ms: one.weights_ms,
            weight_ratio,
            kv_ms_per_token: one.kv_ms / f64::from(CONTEXT),
            flop_ms_per_token: 2.0 * p.non_embedding_active() as f64 / rate * 1e3,
            attention_ms_per_token2: attention_coefficient(d.model) / rate * 1e3,
            comm_ms: one.communication_ms,
            comm_ms_per_token: (wide.communication_ms - one.communication_ms).max(0.0)
                / f64::from(WIDE - 1),
            seq_ms: k.seq_us / 1e3,
            sharpness: k.roofline_sharpness,
            dp: f64::from(d.parallel.dp()),
        }
    }

    /// Weight-read ratio at `tokens`, interpolated in log2.
    fn weights_at(&self, tokens: f64) -> f64 {
        let x = tokens.max(1.0).log2();
        let i = (x.floor() as usize).min(TABLE_POINTS - 2);
        let f = (x - i as f64).clamp(0.0, 1.0);
        self.weights_ms * (self.weight_ratio[i] * (1.0 - f) + self.weight_ratio[i + 1] * f)
    }

    /// One step, ms: `decode` sequences whose mean context is `context`, and `prefill` prompt
    /// tokens whose attention spans `pairs` (query, key) token pairs ([`pairs`]).
    pub fn step_ms(&self, decode: f64, context: f64, prefill: f64, pairs: f64) -> f64 {
        let tokens = (decode + prefill).max(1.0);
        // The linear layers (GEMMs: weight reads and the FLOPs of every token) and attention (the
        // decoding sequences' KV reads, the prompt tokens' S² FLOPs) are separate kernels, one
        // after the other: each is bound by its own resource, and they add.
        let weights = self.weights_at(tokens);
        let linear = tokens * self.flop_ms_per_token;
        // With DP attention each rank attends over its own share of the sequences, in parallel.
        let attention = (self.kv_ms_per_token * decode * context
            + self.attention_ms_per_token2 * pairs)
            / self.dp;
        let k = self.sharpness;
        // A prefill-only step overlaps its weight reads with long GEMMs: the plain roofline, as the
        // single-stream prefill model has it.
        let bound = attention
            + if decode > 0.0 {
                (weights.powf(k) + linear.powf(k)).powf(1.0 / k)
            } else {
                weights.max(linear)
            };
        // A prefill-only step's kernels are long enough to hide the per-layer launch costs that a
        // decode step exposes (the single-stream prefill model counts none either).
        let fixed = if decode > 0.0 { self.fixed_ms } else { 0.0 };
        fixed
            + self.comm_ms
            + self.comm_ms_per_token * (tokens - 1.0)
            + bound
            + self.seq_ms * decode / self.dp
    }

    /// Is a step of this shape bound by memory (true) or compute?
    pub fn memory_bound(&self, decode: f64, context: f64, prefill: f64) -> bool {
        let tokens = (decode + prefill).max(1.0);
        self.weights_at(tokens) + self.kv_ms_per_token * decode * context / self.dp
            >= tokens * self.flop_ms_per_token
    }

    /// Prefill of one prompt in chunks of at most `chunk` tokens, each chunk's step shared with
    /// `decode` sequences at `context`, ms. Closed form over the full chunks and the remainder.
    pub fn prefill_ms(&self, prompt: f64, chunk: f64, decode: f64, context: f64) -> f64 {
        let prompt = prompt.max(1.0);
        let chunk = chunk.max(1.0).min(prompt);
        let full = (prompt / chunk).floor();
        let rest = prompt - full * chunk;
        // Full chunks sit on average halfway through the part of the prompt they cover.
        let mean_offset = ((full - 1.0) * chunk / 2.0).max(0.0);
        let mut t = full * self.step_ms(decode, context, chunk, pairs(mean_offset, chunk));
        if rest > 0.5 {
            t += self.step_ms(decode, context, rest, pairs(full * chunk, rest));
        }
        t
    }
}

/// Causal attention (query, key) pairs of `len` prompt tokens that start `offset` tokens in.
pub fn pairs(offset: f64, len: f64) -> f64 {
    len * (offset + len / 2.0)
}
