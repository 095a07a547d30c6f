//! Attention FLOPs: a prompt's causal S² term (prefill) and a decode step's term per cached token.
//!
//! Decode attention is usually bound by its KV reads, but not MLA's absorbed form: every query head
//! scores the shared 576-element latent (512 compressed + 64 RoPE) and sums its 512-element values,
//! so a cached token costs 128 heads × (576 + 512) × 2 FLOPs per layer for only 1,152 bytes read —
//! 242 FLOPs a byte, above a Hopper GPU's BF16 ridge. With DP attention a rank runs all 128 heads
//! over many long sequences, and the step is then bound by attention compute (formulas.md MLA).

use crate::catalog::engine::MlaKvLayout;
use crate::catalog::{Architecture, Model};

/// Causal attention FLOPs per query token per key token of a prompt, all layers:
/// 2·L·H·(d_qk + d_v) (formulas.md §1(f); MLA prefill runs unabsorbed: d_qk 192, d_v 128).
pub fn prefill_coefficient(model: &Model) -> f64 {
    match &model.arch {
        Architecture::Dense(a) => gqa(a.layers, f64::from(a.heads), a.head_dim),
        Architecture::GqaMoe(a) => gqa(a.layers, f64::from(a.heads), a.head_dim),
        Architecture::Moe(a) => {
            let d = f64::from(a.qk_nope_dim + a.qk_rope_dim + a.v_head_dim);
            2.0 * f64::from(a.layers) * f64::from(a.heads) * d
        }
    }
}

/// Causal attention FLOPs of an `s`-token prompt: coefficient · S²/2.
pub fn prefill_flops(model: &Model, s: f64) -> f64 {
    prefill_coefficient(model) * s * s / 2.0
}

/// Decode attention FLOPs of one query token per cached token, all layers, on one rank whose
/// attention is sharded over `attention_tp` GPUs (heads split, floored at one).
/// * MLA with a latent cache (vLLM, SGLang, TRT-LLM, FlashMLA): the absorbed form, QK over
///   kv_lora + rope and PV over kv_lora per head: 2·L·H·(576 + 512).
/// * MLA expanded (pre-MLA GGUFs, transformers): ordinary heads of d_qk 192 and d_v 128.
/// * Grouped-query attention: 2·L·H·2·head_dim.
pub fn decode_flops_per_cached_token(model: &Model, layout: MlaKvLayout, attention_tp: u32) -> f64 {
    let tp = attention_tp.max(1);
    let per_rank = |heads: u32| f64::from((heads / tp).max(1));
    match &model.arch {
        Architecture::Dense(a) => gqa(a.layers, per_rank(a.heads), a.head_dim),
        Architecture::GqaMoe(a) => gqa(a.layers, per_rank(a.heads), a.head_dim),
        Architecture::Moe(a) => {
            let d = match layout {
                MlaKvLayout::Latent | MlaKvLayout::LatentV => 2 * a.kv_lora_rank + a.qk_rope_dim,
                MlaKvLayout::Expanded => a.qk_nope_dim + a.qk_rope_dim + a.v_head_dim,
            };
            2.0 * f64::from(a.layers) * per_rank(a.heads) * f64::from(d)
        }
    }
}

/// Grouped-query attention FLOPs per query token per key token: 2·L·H·(d_k + d_v), d_k = d_v.
fn gqa(layers: u32, heads: f64, head_dim: u32) -> f64 {
    2.0 * f64::from(layers) * heads * f64::from(2 * head_dim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn model(id: &str) -> Model {
        // the embedded catalog parses (its own tests hold it)
        Catalog::embedded().unwrap().model(id).unwrap().clone()
    }

    #[test]
    fn absorbed_mla_costs_278_kflops_per_layer_per_cached_token() {
        // 2 × 128 heads × (576 + 512) = 278,528 FLOPs a layer; × 61 layers = 16,990,208.
        let r1 = model("deepseek-r1");
        assert_eq!(
            decode_flops_per_cached_token(&r1, MlaKvLayout::Latent, 1),
            16_990_208.0
        );
        // TP8 attention splits the heads: 16 a rank.
        assert_eq!(
            decode_flops_per_cached_token(&r1, MlaKvLayout::Latent, 8),
            16_990_208.0 / 8.0
        );
        // Expanded: 2 × 61 × 128 × (128 + 64 + 128) = 4,997,120.
        assert_eq!(
            decode_flops_per_cached_token(&r1, MlaKvLayout::Expanded, 1),
            4_997_120.0
        );
    }

    #[test]
    fn grouped_query_attention_counts_every_query_head() {
        // Llama-3.1-70B shape (the 70B distill): 80 layers × 64 heads × 2 × 128 × 2 = 2,621,440.
        let m = model("deepseek-r1-distill-llama-70b");
        assert_eq!(
            decode_flops_per_cached_token(&m, MlaKvLayout::Latent, 1),
            2_621_440.0
        );
    }

    #[test]
    fn prefill_is_the_causal_half_of_the_square() {
        // R1: 2 × 61 × 128 × 320 = 4,997,120 per pair; a 1,000-token prompt has 500,000 pairs.
        let r1 = model("deepseek-r1");
        assert_eq!(prefill_coefficient(&r1), 4_997_120.0);
        assert_eq!(prefill_flops(&r1, 1000.0), 4_997_120.0 * 500_000.0);
    }
}
