//! The linear layers of a decoder block, their shapes, and the LoRA adapters on them.
//!
//! A LoRA adapter of rank r on a linear layer `in → out` adds A (r × in) and B (out × r): r·(in + out)
//! parameters (Hu et al. 2021). The shapes come from the architecture, so the counts are exact.

use serde::Serialize;

use crate::catalog::model::DenseArch;

/// Which projections get adapters (`--lora-targets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    /// q_proj, k_proj, v_proj, o_proj.
    Attn,
    /// gate_proj, up_proj, down_proj.
    Mlp,
    /// All seven linear layers of each block (QLoRA's and unsloth's choice).
    All,
}

/// One linear layer of a decoder block: its Hugging Face module name and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linear {
    pub name: &'static str,
    pub inputs: u64,
    pub outputs: u64,
    pub attention: bool,
}

impl Linear {
    pub fn params(&self) -> u64 {
        self.inputs * self.outputs
    }
}

/// The seven projections of a Llama/Qwen block (peft's module names).
pub fn block_linears(a: &DenseArch) -> [Linear; 7] {
    let h = u64::from(a.hidden);
    let q = u64::from(a.heads) * u64::from(a.head_dim);
    let kv = u64::from(a.kv_heads) * u64::from(a.head_dim);
    let f = u64::from(a.ffn);
    let l = |name, inputs, outputs, attention| Linear {
        name,
        inputs,
        outputs,
        attention,
    };
    [
        l("q_proj", h, q, true),
        l("k_proj", h, kv, true),
        l("v_proj", h, kv, true),
        l("o_proj", q, h, true),
        l("gate_proj", h, f, false),
        l("up_proj", h, f, false),
        l("down_proj", f, h, false),
    ]
}

/// The projections `targets` selects.
pub fn targeted(a: &DenseArch, targets: Targets) -> Vec<Linear> {
    block_linears(a)
        .into_iter()
        .filter(|m| match targets {
            Targets::Attn => m.attention,
            Targets::Mlp => !m.attention,
            Targets::All => true,
        })
        .collect()
}

/// Adapter parameters of rank `rank` on `targets`, over the whole model.
pub fn adapter_params(a: &DenseArch, targets: Targets, rank: u32) -> u64 {
    let per_layer: u64 = targeted(a, targets)
        .iter()
        .map(|m| u64::from(rank) * (m.inputs + m.outputs))
        .sum();
    per_layer * u64::from(a.layers)
}

/// Weights of every block's linear layers (what NF4 quantizes).
pub fn linear_params(a: &DenseArch) -> u64 {
    block_linears(a).iter().map(Linear::params).sum::<u64>() * u64::from(a.layers)
}
