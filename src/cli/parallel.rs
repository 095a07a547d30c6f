//! Flags that spread an MoE model's experts and attention (issue 13), shared by `size`,
//! `estimate`, `check`, `recommend` and `plan` through [`super::DeploymentArgs`].

use clap::Args;

use super::units;

#[derive(Debug, Clone, Default, Args)]
pub struct ParallelArgs {
    /// Expert parallelism: routed experts split whole over N ranks (vllm, sglang, trtllm; 671B only; default off)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count)]
    pub ep: Option<u32>,
    /// DP attention: each rank runs attention on its own sequences and holds only their MLA cache (one DP rank per GPU unless --dp)
    #[arg(long)]
    pub dp_attention: bool,
    /// DP attention ranks (implies --dp-attention; must divide the GPUs used)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count)]
    pub dp: Option<u32>,
    /// Redundant expert copies spread over the EP ranks (SGLang --ep-num-redundant-experts, DeepSeek EPLB; default 0)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count_or_zero)]
    pub redundant_experts: Option<u32>,
}
