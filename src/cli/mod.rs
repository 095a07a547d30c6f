//! The command line, defined once: `--help`, the man page and the shell completions are all
//! generated from these types.

pub mod finetune;
pub mod parallel;
pub mod plan;
pub mod settings;
pub mod units;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalog::MlaKvLayout;
use crate::decide::sweep::Sweep;
use crate::serving::Span;
use crate::sizing::KvDtype;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "r1pick",
    version,
    about = "Pick the DeepSeek-R1 variant, precision, engine and GPUs for a task — with the numbers behind it",
    long_about = "r1pick matches the DeepSeek-R1 family (1.5B–70B distills and the 671B MoE) against a task's \
quality floor and your latency and budget limits, on this machine's GPUs or on simulated hardware, and \
recommends a ready-to-run configuration with memory, TTFT, time per token, throughput and cost.\n\n\
Exit codes: 0 success; 1 a constraint is not met (check failed, nothing qualifies); 2 bad input; \
3 the environment failed where required (e.g. --require-gpu without a GPU).",
    after_help = "Units: sizes need a unit (GB = 10^9 bytes, GiB = 2^30); durations 200ms, 1.5s; token counts 8192 or 64k (k = 1024)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format
    #[arg(long, global = true, value_enum, env = "R1PICK_FORMAT")]
    pub format: Option<Format>,
    /// Shorthand for --format json
    #[arg(long, global = true)]
    pub json: bool,
    /// Extra catalog TOML: adds models, quants, engines, GPUs or tasks, or replaces same-id entries
    #[arg(long, global = true, value_name = "FILE", env = "R1PICK_CATALOG")]
    pub catalog: Option<PathBuf>,
    /// Your own GPU prices, TOML in the format of data/prices.toml: they replace the listed prices of each GPU they name
    #[arg(long, global = true, value_name = "FILE", env = "R1PICK_PRICES")]
    pub prices: Option<PathBuf>,
    /// Configuration file (default: ./r1pick.toml when present)
    #[arg(long, global = true, value_name = "FILE", env = "R1PICK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print nothing on success; only the exit code and errors (for CI gates)
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// What hardware is here, and what r1pick derives from it
    Probe(ProbeArgs),
    /// The catalog: variants with parameters, context, scores and quant sizes
    Models(ModelsArgs),
    /// Known accelerators (ids usable with --gpu) with specs and prices
    Gpus,
    /// The tasks (--task): benchmark and quality floor, default workload and service level
    Tasks,
    /// Memory breakdown of one deployment, per device
    Size(DeployArgs),
    /// Memory, TTFT, time per token, throughput and cost of one deployment
    Estimate(EstimateArgs),
    /// Choose the variant and configuration for a task under constraints
    Recommend(RecommendArgs),
    /// A fleet for a load under an SLO: replicas, GPUs, nodes and $/month
    Plan(plan::PlanArgs),
    /// CI gate: exit 0 when the deployment fits and meets every given constraint, 1 otherwise
    Check(CheckArgs),
    /// Fine-tuning memory per GPU, time and cost (LoRA, QLoRA, full)
    Finetune(finetune::FinetuneArgs),
    /// Shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Man page (roff)
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Exit 3 when no GPU can be probed
    #[arg(long)]
    pub require_gpu: bool,
    /// With any of these, show the simulated machine instead of probing
    #[command(flatten)]
    pub hardware: HardwareArgs,
}

/// Which machine: none of these probes this computer.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Hardware (default: probe this machine)")]
pub struct HardwareArgs {
    /// Simulate GPUs: catalog id, NVML name or close spelling, with :N for a count (repeatable)
    #[arg(
        long = "gpu",
        value_name = "SPEC",
        value_delimiter = ',',
        env = "R1PICK_GPU"
    )]
    pub gpu: Vec<String>,
    /// Number of GPUs of the single --gpu type
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count, env = "R1PICK_GPUS")]
    pub gpus: Option<u32>,
    /// Host RAM of the simulated machine (e.g. 256GiB)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true, value_parser = units::parse_size, env = "R1PICK_RAM")]
    pub ram: Option<u64>,
    /// Host memory bandwidth in GB/s (CPU decode and offload)
    #[arg(long, value_name = "GB/S", allow_hyphen_values = true, value_parser = units::parse_bandwidth, env = "R1PICK_CPU_BANDWIDTH")]
    pub cpu_bandwidth: Option<f64>,
    /// Machine description TOML (GPUs by catalog id or by their specs)
    #[arg(long, value_name = "FILE", env = "R1PICK_HARDWARE")]
    pub hardware: Option<PathBuf>,
    /// Plan for a machine without GPUs
    #[arg(long, env = "R1PICK_NO_GPU")]
    pub no_gpu: bool,
    /// Nodes the simulated GPUs sit in, equal shares (default: nodes of 8, so h100-sxm:16 is 2)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count, env = "R1PICK_NODES")]
    pub nodes: Option<u32>,
    /// Link between nodes: infiniband-ndr (default, 8 ports per node), infiniband-hdr, infiniband-xdr, roce-400g, roce-200g, ethernet-100g
    #[arg(long, value_name = "KIND", env = "R1PICK_NETWORK")]
    pub network: Option<String>,
    /// Where `gpu` came from when not from the command line ("r1pick.toml: line 3: gpu",
    /// "R1PICK_GPU"), so a GPU the catalog does not know is blamed there.
    #[arg(skip)]
    pub gpu_origin: Option<String>,
}

impl HardwareArgs {
    /// Whether a flag names the machine, which `--cloud` chooses itself.
    pub fn names_machine(&self) -> bool {
        !self.gpu.is_empty() || self.gpus.is_some() || self.hardware.is_some() || self.no_gpu
    }
}

/// How the model is deployed.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Deployment")]
pub struct DeploymentArgs {
    /// Quantization (bf16, fp8, int4, q4_k_m, ud-iq1_s, …)
    #[arg(long, value_name = "QUANT", env = "R1PICK_QUANT")]
    pub quant: Option<String>,
    /// Engine (vllm, sglang, trtllm, llama.cpp, ollama, transformers)
    #[arg(long, value_name = "ENGINE", env = "R1PICK_ENGINE")]
    pub engine: Option<String>,
    /// Tensor-parallel degree (default: all GPUs used, up to 8 per node)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count, env = "R1PICK_TP")]
    pub tp: Option<u32>,
    /// Tokens each sequence holds: prompt + reasoning + answer (e.g. 8k, 64k)
    #[arg(long, value_name = "TOKENS", allow_hyphen_values = true, value_parser = units::parse_tokens, env = "R1PICK_CONTEXT")]
    pub context: Option<u32>,
    /// Prompt tokens of one request, or a uniform spread MIN..MAX (e.g. 512..4k)
    #[arg(long, value_name = "TOKENS", allow_hyphen_values = true, value_parser = span, env = "R1PICK_PROMPT")]
    pub prompt: Option<Span>,
    /// Generated tokens of one request, reasoning included, or a spread MIN..MAX (e.g. 256..2k)
    #[arg(long, value_name = "TOKENS", allow_hyphen_values = true, value_parser = span, env = "R1PICK_OUTPUT")]
    pub output: Option<Span>,
    /// Requests in flight at once (closed loop: a new one as one finishes)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count, env = "R1PICK_CONCURRENCY")]
    pub concurrency: Option<u32>,
    /// KV-cache element type
    #[arg(long, value_enum, value_name = "DTYPE", env = "R1PICK_KV_DTYPE")]
    pub kv_dtype: Option<KvDtype>,
    /// MLA cache layout of the 671B (default: the engine's; latent-v and expanded for older llama.cpp / transformers)
    #[arg(long, value_enum, value_name = "LAYOUT", env = "R1PICK_MLA_KV")]
    pub mla_kv: Option<MlaKvLayout>,
    /// MTP speculative decoding: draft steps of the 671B's MTP module (vllm, sglang, trtllm; default 0, off)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = units::parse_count, env = "R1PICK_MTP")]
    pub mtp: Option<u32>,
    #[command(flatten)]
    pub parallel: parallel::ParallelArgs,
}

/// A token count or spread as the serving model reads it.
pub fn span(s: &str) -> Result<Span, String> {
    units::parse_span(s).map(|(min, max)| Span { min, max })
}

/// The traffic a deployment serves, beyond `--concurrency`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Load")]
pub struct LoadArgs {
    /// Poisson arrivals instead of a fixed concurrency: 2/s, 120/min, 100k/day
    #[arg(long, value_name = "RATE", value_parser = units::parse_rate, allow_hyphen_values = true, env = "R1PICK_RATE")]
    pub rate: Option<f64>,
    /// Percentile the latency constraints hold at under load: p50, p90, p99 or e.g. 95 (default p90)
    #[arg(long, value_name = "P", value_parser = units::parse_percentile, allow_hyphen_values = true, env = "R1PICK_PERCENTILE")]
    pub percentile: Option<f64>,
}

/// One axis evaluated point by point, and its picture.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Sweep")]
pub struct SweepArgs {
    /// Evaluate at each point of one axis: concurrency=1,2,4..256 (a list; A..B doubles from A to B), rate=1/s..40/s:10 (N even steps), context=4k..128k, gpus=1,2,4,8; at most 256 points
    #[arg(long, value_name = "AXIS=VALUES", value_parser = crate::decide::sweep::parse, value_hint = clap::ValueHint::Other)]
    pub sweep: Option<Sweep>,
    #[command(flatten)]
    pub plot: PlotArgs,
}

/// A chart of the result.
#[derive(Debug, Clone, Default, Args)]
pub struct PlotArgs {
    /// Draw the result as an SVG chart into FILE.svg (a sweep; recommend's passing candidates); written whole or not at all
    #[arg(long, value_name = "FILE.svg", value_hint = clap::ValueHint::FilePath)]
    pub plot: Option<PathBuf>,
}

/// Pricing of the hardware.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Cost")]
pub struct CostArgs {
    /// Price per GPU-hour in USD (default: the catalog's cloud price)
    #[arg(long, value_name = "USD", allow_hyphen_values = true, value_parser = units::parse_usd, allow_negative_numbers = true, env = "R1PICK_PRICE")]
    pub price: Option<f64>,
    /// Electricity price per kWh in USD, for local hardware without a cloud price
    #[arg(long, value_name = "USD", allow_hyphen_values = true, value_parser = units::parse_usd, allow_negative_numbers = true, env = "R1PICK_KWH_PRICE")]
    pub kwh_price: Option<f64>,
}

/// Service-level constraints.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Constraints")]
pub struct ConstraintArgs {
    /// Task whose quality floor and token profile apply (code, chat, math, research, …)
    #[arg(long, value_name = "TASK", env = "R1PICK_TASK")]
    pub task: Option<String>,
    /// Longest time to first token, e.g. 200ms
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = units::parse_duration_ms, env = "R1PICK_LATENCY")]
    pub latency: Option<f64>,
    /// Longest time per output token, e.g. 50ms
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = units::parse_duration_ms, env = "R1PICK_TPOT")]
    pub tpot: Option<f64>,
    /// Slowest acceptable streaming speed per sequence, tokens/s
    #[arg(long, value_name = "TOK/S", allow_hyphen_values = true, value_parser = units::parse_speed, allow_negative_numbers = true, env = "R1PICK_MIN_SPEED")]
    pub min_speed: Option<f64>,
    /// Longest time for the whole reasoning answer, e.g. 30s
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = units::parse_duration_ms, env = "R1PICK_ANSWER_WITHIN")]
    pub answer_within: Option<f64>,
    /// Budget: 3/h, 2000/month, or a tier (personal, startup, enterprise, lab)
    #[arg(
        long,
        value_name = "BUDGET",
        allow_hyphen_values = true,
        env = "R1PICK_BUDGET"
    )]
    pub budget: Option<String>,
    /// Lowest quantization-adjusted score on the task's benchmark
    #[arg(long, value_name = "SCORE", allow_hyphen_values = true, value_parser = units::parse_score, allow_negative_numbers = true, env = "R1PICK_MIN_QUALITY")]
    pub min_quality: Option<f64>,
    /// A score of a model you bring (MODEL as a file or hf:), e.g. gpqa_diamond=62.1; repeatable
    #[arg(long, value_name = "BENCH=SCORE")]
    pub score: Vec<String>,
}

/// The flag groups of every command that searches for a task's deployment (`recommend`, `plan`,
/// `check`), flattened in one order so each flag and its place in `--help` is defined once.
#[derive(Debug, Clone, Default, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub constraints: ConstraintArgs,
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    #[command(flatten)]
    pub hardware: HardwareArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub cost: CostArgs,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ModelsArgs {
    /// Show what r1pick reads from a config.json (or its folder), a .gguf, or hf:ORG/NAME
    #[arg(long, value_name = "MODEL")]
    pub from: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Model id or alias (1.5b 7b 8b 14b 32b 70b 671b, r1, …), a config.json or its folder, a .gguf, or hf:ORG/NAME[@REV]
    pub model: String,
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    #[command(flatten)]
    pub hardware: HardwareArgs,
}

/// `--emit`: print what deploys the plan instead of the report.
#[derive(Debug, Clone, Default, Args)]
pub struct EmitArgs {
    /// Print what deploys it instead of the report: kubernetes (Deployment or LeaderWorkerSet +
    /// Service), compose (docker compose file) or command (every node's commands)
    #[arg(long, value_name = "FORMAT")]
    pub emit: Option<crate::report::manifest::Emit>,
}

#[derive(Debug, Clone, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub emit: EmitArgs,
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Task whose prompt/reasoning/answer lengths set the workload
    #[arg(long, value_name = "TASK", env = "R1PICK_TASK")]
    pub task: Option<String>,
    #[command(flatten)]
    pub sweep: SweepArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    Quality,
    Cost,
    Speed,
}

#[derive(Debug, Clone, Args)]
pub struct RecommendArgs {
    /// Rank hardware, quant and engine for this model only (with --finetune: the model to fine-tune): a catalog id, a config.json, a .gguf or hf:ORG/NAME
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    #[command(flatten)]
    pub emit: EmitArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    /// What wins among deployments that meet every constraint
    #[arg(long, value_enum, env = "R1PICK_PREFER")]
    pub prefer: Option<Prefer>,
    /// Choose GPU type and count from the priced cloud catalog instead of this machine
    #[arg(long)]
    pub cloud: bool,
    /// Show the decision trace and every rejected candidate
    #[arg(long)]
    pub explain: bool,
    /// When nothing qualifies, return the closest option with its violations (exit 0)
    #[arg(long)]
    pub best_effort: bool,
    /// Plan fine-tuning of --model instead of a deployment, as `finetune MODEL --method METHOD` (with --cloud: the cheapest GPUs that fit)
    #[arg(long, value_enum, value_name = "METHOD", requires = "model")]
    pub finetune: Option<crate::training::Method>,
    #[command(flatten)]
    pub plot: PlotArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Model to check (omit with --task to check the best recommendation)
    pub model: Option<String>,
    /// Replicas sharing --rate evenly: the gate holds each at rate / N
    #[arg(long, value_name = "N", requires = "rate", allow_hyphen_values = true, value_parser = units::parse_count)]
    pub replicas: Option<u32>,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub sweep: SweepArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
