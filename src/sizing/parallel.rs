//! Expert parallelism and DP attention in sizing (issue 13): which ranks hold which weights and
//! whose MLA cache.
//!
//! In a group of `tp` GPUs with `dp` DP-attention ranks and `ep` expert-parallel ranks:
//! * attention is TP-sharded over `tp / dp` GPUs (replicated across DP ranks), and each DP rank
//!   holds only its own sequences' cache — the MLA latent is no longer replicated on all `tp`;
//! * the dense FFN layers and the shared expert run with attention, per DP rank (DeepSeek's decode:
//!   "2 routed + 1 shared expert per GPU"; TRT-LLM attention DP runs the dense parts data-parallel);
//! * routed experts: `(experts + redundant) / ep` whole experts per EP rank, each sharded over
//!   `tp / ep` GPUs — the same bytes as TP-sharding them, plus the redundant copies;
//! * embedding and lm_head stay vocabulary-parallel over all `tp`.

use crate::catalog::MultiGpu;

use super::plan::{Deployment, Parallel};
use super::weights::LayerBytes;

/// Why `d`'s EP / DP attention cannot run on a group of `tp` GPUs, in one line.
pub fn refusal(d: &Deployment, tp: u32) -> Option<String> {
    let Parallel {
        ep,
        dp,
        redundant_experts,
    } = d.parallel;
    let model = d.model;
    let engine = d.engine;
    if ep > 1 || redundant_experts > 0 {
        let flag = if ep > 1 {
            format!("--ep {ep}")
        } else {
            format!("--redundant-experts {redundant_experts}")
        };
        if !model.is_moe() {
            return Some(format!(
                "{flag}: {} is a dense model with no experts to spread (drop it)",
                model.id
            ));
        }
        if !engine.expert_parallel || engine.multi_gpu != MultiGpu::Tensor {
            return Some(format!(
                "{flag}: {} has no expert parallelism (valid engines: vllm, sglang, trtllm)",
                engine.id
            ));
        }
        let slots = model.routed_experts() + redundant_experts;
        let ep = ep.max(1);
        if ep > slots || !slots.is_multiple_of(ep) {
            let valid: Vec<String> = (1..=slots)
                .filter(|n| slots.is_multiple_of(*n) && *n <= tp.max(1))
                .map(|n| n.to_string())
                .collect();
            return Some(format!(
                "--ep {ep}: {}'s {} routed experts{} do not split evenly over {ep} ranks (valid on {tp} GPUs: {})",
                model.id,
                model.routed_experts(),
                if redundant_experts > 0 {
                    format!(" + {redundant_experts} redundant")
                } else {
                    String::new()
                },
                valid.join(", ")
            ));
        }
        if !tp.is_multiple_of(ep) {
            return Some(format!(
                "--ep {ep}: EP ranks are GPUs of the {tp}-GPU group and {ep} does not divide {tp}"
            ));
        }
    }
    if dp > 1 {
        if !engine.dp_attention || engine.multi_gpu != MultiGpu::Tensor {
            return Some(format!(
                "--dp-attention: {} has no DP attention (valid engines: vllm, sglang, trtllm)",
                engine.id
            ));
        }
        if !tp.is_multiple_of(dp) {
            return Some(format!(
                "--dp {dp} does not divide the {tp} GPUs used (DP-attention ranks split them evenly)"
            ));
        }
    }
    None
}

/// GPUs one DP rank's attention is TP-sharded over.
pub fn attention_tp(p: &Parallel, tp: u32) -> u32 {
    (tp.max(1) / p.dp()).max(1)
}

/// Weight bytes of one layer on one rank of a `tp` group; `touched` routed experts read (all of
/// them for memory, the touched ones for a decode step).
pub fn layer_rank_bytes(l: &LayerBytes, p: &Parallel, tp: u32, routed: f64) -> f64 {
    let tpf = f64::from(tp.max(1));
    let atp = f64::from(attention_tp(p, tp));
    let replicated = l.attention_replicated + l.router;
    let dense = if p.dp() > 1 { atp } else { tpf };
    (l.attention - l.attention_replicated) / atp + l.ffn / dense + routed / tpf + replicated
}

/// Routed-expert bytes of a layer held in memory: every expert and the redundant copies.
pub fn routed_held(l: &LayerBytes, p: &Parallel) -> f64 {
    if l.experts == 0 {
        return 0.0;
    }
    l.expert * f64::from(l.experts + p.redundant_experts)
}

/// Sequences of `concurrency` one DP rank holds (the busiest: rounded up).
pub fn rank_sequences(p: &Parallel, concurrency: u32) -> u32 {
    concurrency.div_ceil(p.dp())
}
