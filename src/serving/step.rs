//! The time of one engine step: `decode` sequences at a mean context, plus `prefill` prompt tokens.
//!
//! Built from the single-stream speed model (`perf::estimate`), so a step of one sequence is exactly
//! today's decode step: the weights read once per step (more experts as more tokens route), the KV of
//! every decoding sequence, the FLOPs of every token in the step, the engine's fixed cost per layer
//! and step, the all-reduces (their size grows with the step's tokens), and the scheduler's cost per
//! running sequence. Within the linear layers the weight reads and FLOPs overlap as a soft roofline
//! (data/serving.toml); attention is its own kernels and adds, bound by its KV reads or its FLOPs.
//!
//! Under expert parallelism the step waits for the busiest EP rank (`perf::imbalance`); under DP
//! attention a prompt chunk belongs to one rank, whose attention, dense FFN and shared expert run
//! that chunk alone while the other ranks wait at the next MoE layer. With MTP every decoding
//! sequence verifies 1 + k tokens and the step adds k draft passes; it yields the engine's
//! measured accepted tokens per sequence ([`StepModel::accepted`]).

use crate::catalog::engine::MultiGpu;
use crate::catalog::params::ParamBreakdown;
use crate::hardware::Hardware;
use crate::perf::attention::prefill_coefficient;
use crate::perf::imbalance::compute_factor;
use crate::perf::{
    Breakdown, decode_attention_ms, estimate_with, expert_read_scale, mtp_accepted, mtp_drafts_ms,
    rank_weight_bytes,
};
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
    /// A dense model: every step reads the same weights, the table is flat.
    flat: bool,
    /// KV read per sequence per token of context, ms.
    kv_ms_per_token: f64,
    /// Decode attention compute per query token per token of context, ms (one GPU's heads).
    attention_flop_ms: f64,
    /// Linear-layer compute per token, ms: the routed experts (spread over the EP ranks) and the
    /// rest (attention projections, dense FFN, shared expert: per DP rank).
    routed_flop_ms_per_token: f64,
    dense_flop_ms_per_token: f64,
    /// Attention compute per prompt token per token of context before it, ms.
    attention_ms_per_token2: f64,
    comm_ms: f64,
    comm_ms_per_token: f64,
    seq_ms: f64,
    roofline: SoftRoofline,
    /// DP-attention ranks: each runs attention and schedules for its own share of the sequences.
    dp: f64,
    /// Prompt tokens one DP rank's scheduler takes in a step (its token budget).
    rank_budget: f64,
    /// EP ranks and experts per token, for the busiest rank's share of the routed FLOPs.
    ep: u32,
    top_k: f64,
    /// Tokens each decoding sequence runs per step (1 + MTP draft steps) and yields (accepted).
    verify: f64,
    accepted: f64,
    /// The MTP draft passes of a step at 2^i decoding sequences, without their attention, ms.
    drafts_ms: [f64; TABLE_POINTS],
    /// Draft passes' attention per sequence per token of context, ms (one layer, k passes).
    draft_attention_ms: f64,
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
        // Probes without MTP: the step below runs the verify tokens and draft passes itself.
        let plain = |concurrency: u32, context: u32| {
            let mut at = *d;
            at.mtp = 0;
            at.workload = Workload {
                context,
                prompt: 1,
                output: 1,
                concurrency,
            };
            at
        };
        let probe = |concurrency: u32, context: u32| -> Breakdown {
            estimate_with(&plain(concurrency, context), hw, mem, w, p).breakdown
        };
        const CONTEXT: u32 = 4096;
        const WIDE: u32 = 64;
        let one = probe(1, CONTEXT);
        // Communication grows with the step's tokens only where GPUs exchange activations every
        // layer (tensor or expert parallel); one GPU, or a layer split's hand-offs, cost the same
        // at any batch, and the second probe is a fifth of preparing a server.
        let exchanges = mem.placement.gpus > 1 && d.engine.multi_gpu == MultiGpu::Tensor;
        let wide = if exchanges {
            probe(WIDE, CONTEXT)
        } else {
            one.clone()
        };
        // Under EP / DP attention a rank's read is not a fixed share of the model's: its
        // attention, dense FFN and shared expert stay whole while the experts touched grow.
        // Routed experts weighed by their read time where the engine's MoE kernels read slower.
        let scale = hw
            .gpus
            .first()
            .filter(|_| mem.placement.gpus > 0)
            .map_or(1.0, |g| expert_read_scale(&d.engine.speed, g));
        let read = |tokens: f64| {
            if d.parallel.is_plain() {
                let routed: f64 = w
                    .layer_reads(tokens)
                    .map(|(l, read)| read - l.non_expert())
                    .sum();
                w.read_per_step(tokens) + routed * (scale - 1.0)
            } else {
                rank_weight_bytes(&d.parallel, mem.placement.tensor_parallel, w, tokens, scale)
            }
        };
        let one_token = read(1.0);
        let base = one_token.max(1.0);
        // A dense model reads the same bytes at any step size.
        let mut weight_ratio = [one_token / base; TABLE_POINTS];
        let flat = w.layers.iter().all(|l| l.experts == 0);
        if !flat {
            for (i, r) in weight_ratio.iter_mut().enumerate() {
                *r = read((1u64 << i) as f64) / base;
            }
        }
        // FLOP/s of the deployment as the speed model runs its matmuls (all ranks of a TP group).
        let rate = (one.prefill_tflops * 1e12).max(1.0);
        let routed = p.routed_touched(1.0) as f64;
        let dense = p.non_embedding_active() as f64 - routed;
        let kv_ms_per_token = one.kv_ms / f64::from(CONTEXT);
        let attention_flop_ms = decode_attention_ms(&plain(1, CONTEXT), hw, mem);
        let mut drafts_ms = [0.0; TABLE_POINTS];
        if d.mtp > 0 {
            for (i, t) in drafts_ms.iter_mut().enumerate() {
                let n = 1u32 << i;
                let mut at = *d;
                at.workload.concurrency = n.saturating_mul(d.parallel.dp());
                *t = mtp_drafts_ms(&at, hw, mem, w, f64::from(at.workload.concurrency), 0.0);
            }
        }
        let layers = f64::from(d.model.layers().max(1));
        StepModel {
            fixed_ms: one.fixed_ms,
            weights_ms: one.weights_ms,
            weight_ratio,
            flat,
            kv_ms_per_token,
            attention_flop_ms,
            routed_flop_ms_per_token: 2.0 * routed / rate * 1e3,
            dense_flop_ms_per_token: 2.0 * dense / rate * 1e3,
            attention_ms_per_token2: prefill_coefficient(d.model) / rate * 1e3,
            comm_ms: one.communication_ms,
            comm_ms_per_token: (wide.communication_ms - one.communication_ms).max(0.0)
                / f64::from(WIDE - 1),
            seq_ms: k.seq_us / 1e3,
            roofline: SoftRoofline::of(k.roofline_sharpness),
            dp: f64::from(d.parallel.dp()),
            rank_budget: f64::INFINITY,
            ep: d.parallel.ep(),
            top_k: f64::from(w.experts_per_token),
            verify: f64::from(d.mtp + 1),
            accepted: mtp_accepted(d),
            drafts_ms,
            draft_attention_ms: f64::from(d.mtp) * kv_ms_per_token.max(attention_flop_ms) / layers,
        }
    }

    /// The same model with each DP rank's scheduler taking at most `tokens` a step.
    pub fn with_rank_budget(mut self, tokens: f64) -> Self {
        self.rank_budget = tokens.max(1.0);
        self
    }

    /// Tokens a step yields per decoding sequence (the MTP acceptance; 1 without MTP).
    pub fn accepted(&self) -> f64 {
        self.accepted
    }

    /// Prompt tokens on the busiest DP rank of a step carrying `prefill` of them: a rank takes
    /// whole chunks up to its budget (all of them without DP attention).
    fn rank_prefill(&self, prefill: f64) -> f64 {
        if self.dp <= 1.0 {
            return prefill;
        }
        prefill.min(self.rank_budget).max(prefill / self.dp)
    }

    /// Linear-layer compute of a step, ms: the routed experts' FLOPs of every token on the busiest
    /// EP rank, and the other layers' FLOPs on the busiest DP rank (its share of the decode tokens
    /// and its prompt chunk), both at the TP group's rate.
    fn linear_ms(&self, decode_tokens: f64, prefill: f64) -> f64 {
        let tokens = (decode_tokens + prefill).max(1.0);
        let routed = tokens * compute_factor(self.ep, tokens * self.top_k);
        let dense = decode_tokens + self.dp * self.rank_prefill(prefill);
        self.routed_flop_ms_per_token * routed + self.dense_flop_ms_per_token * dense.max(1.0)
    }

    /// Attention of the decoding sequences on a DP rank, per sequence per token of context, ms:
    /// the KV read or the FLOPs of its verify tokens, whichever is longer.
    fn decode_attention_per_token(&self) -> f64 {
        self.kv_ms_per_token
            .max(self.attention_flop_ms * self.verify)
    }

    /// The MTP draft passes of a step of `decode` sequences at `context`, ms.
    fn drafts(&self, decode: f64, context: f64) -> f64 {
        if self.verify <= 1.0 || decode <= 0.0 {
            return 0.0;
        }
        let per_rank = (decode / self.dp).max(1.0);
        let x = per_rank.log2();
        let i = (x.floor() as usize).min(TABLE_POINTS - 2);
        let f = (x - i as f64).clamp(0.0, 1.0);
        self.drafts_ms[i] * (1.0 - f)
            + self.drafts_ms[i + 1] * f
            + self.draft_attention_ms * per_rank * context
    }

    /// Weight-read ratio at `tokens`, interpolated in log2.
    fn weights_at(&self, tokens: f64) -> f64 {
        if self.flat {
            return self.weights_ms * self.weight_ratio[0];
        }
        let x = tokens.max(1.0).log2();
        let i = (x.floor() as usize).min(TABLE_POINTS - 2);
        let f = (x - i as f64).clamp(0.0, 1.0);
        self.weights_ms * (self.weight_ratio[i] * (1.0 - f) + self.weight_ratio[i + 1] * f)
    }

    /// One step, ms: `decode` sequences whose mean context is `context`, and `prefill` prompt
    /// tokens whose attention spans `pairs` (query, key) token pairs ([`pairs`]).
    pub fn step_ms(&self, decode: f64, context: f64, prefill: f64, pairs: f64) -> f64 {
        let decode_tokens = decode * self.verify;
        let tokens = (decode_tokens + prefill).max(1.0);
        // The linear layers (GEMMs: weight reads and the FLOPs of every token) and attention (the
        // decoding sequences' KV reads, the prompt tokens' S² FLOPs) are separate kernels, one
        // after the other: each is bound by its own resource, and they add.
        let weights = self.weights_at(tokens);
        let linear = self.linear_ms(decode_tokens, prefill);
        // With DP attention each rank attends over its own share of the sequences, in parallel;
        // a prompt chunk's S² attention runs on the busiest rank alone, at that rank's rate.
        let prompt_share = if prefill > 0.0 {
            self.dp * self.rank_prefill(prefill) / prefill
        } else {
            0.0
        };
        let attention = self.decode_attention_per_token() * decode * context / self.dp
            + self.attention_ms_per_token2 * pairs * prompt_share;
        // A prefill-only step overlaps its weight reads with long GEMMs: the plain roofline, as the
        // single-stream prefill model has it.
        let bound = attention
            + if decode > 0.0 {
                self.roofline.combine(weights, linear)
            } else {
                weights.max(linear)
            };
        // A prefill-only step's kernels are long enough to hide the per-layer launch costs that a
        // decode step exposes (the single-stream prefill model counts none either).
        let fixed = if decode > 0.0 { self.fixed_ms } else { 0.0 };
        fixed
            + self.drafts(decode, context)
            + self.comm_ms
            + self.comm_ms_per_token * (tokens - 1.0)
            + bound
            + self.seq_ms * decode / self.dp
    }

    /// Is a step of this shape bound by memory (true) or compute?
    pub fn memory_bound(&self, decode: f64, context: f64, prefill: f64) -> bool {
        let decode_tokens = decode * self.verify;
        let tokens = (decode_tokens + prefill).max(1.0);
        let kv = self.kv_ms_per_token * decode * context / self.dp;
        let attention = self.attention_flop_ms * self.verify * decode * context / self.dp;
        self.weights_at(tokens) + kv >= self.linear_ms(decode_tokens, prefill) + attention
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

/// The soft roofline of a decode step's linear layers: weight reads and FLOPs overlap as the
/// k-norm (wᵏ + fᵏ)^(1/k) of their times. `powf` was a third of a search under `--rate`, so the
/// data's sharpness 3 is evaluated as a cube and a cube root.
#[derive(Debug, Clone, Copy)]
enum SoftRoofline {
    Cube,
    Norm(f64),
}

impl SoftRoofline {
    fn of(sharpness: f64) -> Self {
        if sharpness == 3.0 {
            SoftRoofline::Cube
        } else {
            SoftRoofline::Norm(sharpness)
        }
    }

    fn combine(self, weights: f64, linear: f64) -> f64 {
        match self {
            SoftRoofline::Cube => cube_root(weights * weights * weights + linear * linear * linear),
            SoftRoofline::Norm(k) => (weights.powf(k) + linear.powf(k)).powf(1.0 / k),
        }
    }
}

/// Cube root of `x`. `f64::cbrt` is the correctly rounded CORE-MATH routine (about 160
/// instructions, a sixth of a search under `--rate`); the soft roofline needs no last bit, so a
/// first guess from the exponent bits and three Halley steps (cubic convergence: 3% → 1e-5 →
/// 1e-15 → rounding) give it within an ulp or two for a tenth of that.
fn cube_root(x: f64) -> f64 {
    if !(x.is_normal() && x > 0.0) {
        return x.cbrt();
    }
    // The exponent divided by three, the mantissa roughly so (Kahan's constant): within 4%.
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..3 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    y
}

/// Causal attention (query, key) pairs of `len` prompt tokens that start `offset` tokens in.
pub fn pairs(offset: f64, len: f64) -> f64 {
    len * (offset + len / 2.0)
}

#[cfg(test)]
mod tests {
    use super::cube_root;

    /// Within 2 ulps of the correctly rounded root, from 1e-300 to 1e300 and at the edges.
    #[test]
    fn cube_root_is_the_cube_root_to_an_ulp_or_two() {
        let mut x = 1e-300_f64;
        while x < 1e300 {
            for v in [x, x * 1.37, x * 2.9, x * 5.5] {
                let (fast, exact) = (cube_root(v), v.cbrt());
                assert!(
                    (fast - exact).abs() <= 2.0 * f64::EPSILON * exact,
                    "cube_root({v:e}) = {fast:e}, cbrt = {exact:e}"
                );
            }
            x *= 10.0;
        }
        assert_eq!(cube_root(0.0), 0.0);
        assert_eq!(cube_root(8.0), 2.0);
        assert_eq!(cube_root(27e9), 3000.0);
        assert!(cube_root(f64::NAN).is_nan());
        assert_eq!(cube_root(f64::INFINITY), f64::INFINITY);
    }
}
