//! Inference engine profiles (data/engines.toml): what each engine runs, how it spends memory, and
//! the efficiencies its speed is computed with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::gpu::Vendor;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Quant ids this engine loads.
    pub quants: Vec<String>,
    /// GPU vendors it runs on.
    pub vendors: Vec<Vendor>,
    /// It loads GGUF files, whatever the quant (llama.cpp, Ollama: BF16 and FP16 are GGUFs too).
    #[serde(default)]
    pub gguf: bool,
    /// Quantized checkpoints it loads as published (a model's FP8/INT8/INT4 repo); the 16-bit
    /// checkpoints and GGUF files are the `quants` themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prequantized: Vec<String>,
    /// Quants it makes from the 16-bit checkpoint while loading (vLLM `--quantization fp8`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub online_quants: Vec<String>,
    /// Lowest NVIDIA compute capability it supports, "major.minor".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_compute_capability: Option<String>,
    /// KV-cache element types it allocates (`--kv-dtype` ids); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kv_dtypes: Vec<String>,
    /// The launch line's request for a quantized KV cache, `{kv}` the dtype id; none: the engine
    /// is launched with its default cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache_flag: Option<String>,
    /// Loads models by library tag (`ollama pull`), and a hub GGUF only as one file.
    #[serde(default)]
    pub library_tags: bool,
    /// Quant × hardware combinations the engine refuses, each with its own reason and source.
    #[serde(default, rename = "gate", skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
    /// AMD gfx targets it supports (its ROCm build's list); empty means every AMD GPU.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amd_targets: Vec<String>,
    /// Can it run on a machine without a GPU (CPU only)?
    pub cpu_only: bool,
    /// Can it keep part of the weights in host memory?
    pub cpu_offload: bool,
    pub multi_gpu: MultiGpu,
    /// Largest tensor-parallel group inside one node.
    pub max_tensor_parallel: u32,
    /// Can it span nodes (pipeline stages of `max_tensor_parallel` GPUs)?
    pub multi_node: bool,
    /// Across nodes it runs one tensor-parallel group over every GPU (SGLang `--tp 16 --nnodes 2`)
    /// instead of pipeline stages.
    #[serde(default)]
    pub tp_across_nodes: bool,
    /// Expert parallelism for MoE models: routed experts split whole across ranks (vLLM
    /// `--enable-expert-parallel`, SGLang `--ep-size`, TRT-LLM `moe_expert_parallel_size`).
    #[serde(default)]
    pub expert_parallel: bool,
    /// Data-parallel attention: each rank runs attention on its own sequences and holds only their
    /// MLA cache (vLLM `--data-parallel-size`, SGLang `--enable-dp-attention --dp`, TRT-LLM
    /// `enable_attention_dp`).
    #[serde(default)]
    pub dp_attention: bool,
    /// Serves several sequences in one decode step.
    pub batching: Batching,
    /// How it stores DeepSeek's MLA cache.
    pub mla_kv: MlaKvLayout,
    pub memory: EngineMemory,
    pub speed: EngineSpeed,
    /// Multi-token-prediction speculative decoding with the model's MTP module, where the engine has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtp: Option<EngineMtp>,
    /// Launch command template; placeholders are filled by `decide::launch::command`: {repo} {gguf}
    /// {model_flag} {tp} {pp} {gpus} {pp_flag} {nnodes_flag} {context} {ctx_total} {concurrency}
    /// {memory_fraction} {quant_flag} {backend_flag} {dtype_flag} {kv_flag} {ngl} {split_flag}
    /// {moe_flag} {mtp_flag} {parallel_flag} {port} {options_file} {temperature} {top_p} {output}.
    pub launch: String,
    /// What the head node runs before `launch` when the deployment spans nodes (the Ray head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_head_before: Option<String>,
    /// What every other node runs (a Ray worker); `None`: `launch` with its `{nnodes_flag}` rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_worker: Option<String>,
    /// What the head's serving process runs under when the deployment spans nodes: one launcher
    /// that starts every rank on every node (TRT-LLM's `mpirun … trtllm-llmapi-launch`; {hosts}:
    /// the host list, {gpus}: all ranks, {node_gpus}: ranks per node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_across_nodes: Option<String>,
    /// The port its server listens on and the path that answers 200 once it serves; `None` for
    /// an engine that is not a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_path: String,
    pub sources: Vec<String>,
}

/// A refusal of the engine: `quants` on GPUs below `min_compute_capability` (NVIDIA), of one of
/// `vendors`, or on an AMD GPU outside `amd_targets`. The reason is the engine's own, in one line.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub quants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_compute_capability: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<Vendor>,
    /// On AMD the quants run only on these gfx targets (e.g. FP8 needs the MI300's gfx942).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amd_targets: Vec<String>,
    pub reason: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MultiGpu {
    /// Megatron-style tensor parallelism: every GPU holds a slice of every layer.
    Tensor,
    /// Whole layers per GPU, run one after another (llama.cpp `-sm layer`, accelerate device_map).
    Layer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Batching {
    /// Continuous batching over a paged KV pool.
    Continuous,
    /// A fixed number of slots sharing one context (llama-server `-np`).
    Slots,
    /// One sequence at a time (`generate` without a batching server).
    Single,
}

/// MLA cache layouts seen in engines (formulas.md §1(b)).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum MlaKvLayout {
    /// kv_lora_rank + qk_rope_dim per layer (vLLM, SGLang, TRT-LLM, llama.cpp since Jan 2026).
    Latent,
    /// Latent K (576) plus a separate V (512): llama.cpp MLA GGUFs Apr 2025 – Jan 2026.
    LatentV,
    /// Full per-head K (192) and V (128): pre-MLA GGUFs and HF transformers.
    Expanded,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineMemory {
    /// Share of each GPU's total memory the engine allows itself (vLLM gpu_memory_utilization).
    pub gpu_fraction: f64,
    /// The engine takes `gpu_fraction` of the *total* memory and refuses to start when less than
    /// that is free (vLLM's startup check); otherwise the fraction applies to what is free.
    #[serde(default)]
    pub fraction_of_total: bool,
    /// Memory kept free on each GPU (llama.cpp --fit target).
    pub margin_mib: f64,
    /// CUDA context and library workspaces per GPU.
    pub runtime_mib: f64,
    /// CUDA-graph pool per GPU, dense models.
    pub cuda_graphs_mib: f64,
    /// CUDA-graph pool per GPU, MoE models.
    pub cuda_graphs_moe_mib: f64,
    /// NCCL buffers per GPU when tensor parallel.
    pub nccl_mib: f64,
    pub activation: ActivationRule,
    /// Tokens in one prefill step (vLLM max_num_batched_tokens, llama.cpp n_ubatch).
    pub batched_tokens: u32,
    /// The KV cache is allocated in blocks of this many tokens.
    pub kv_block_tokens: u32,
    /// Token embeddings stay in host memory (llama.cpp keeps tok_embd on the CPU).
    pub embeddings_on_host: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActivationRule {
    /// aiconfigurator: 2 B × tokens × hidden × coeff[min(TP, 8)] × scale, at least `floor_mib`.
    Coefficients {
        dense: [f64; 4],
        moe: [f64; 4],
        scale: f64,
        floor_mib: f64,
    },
    /// llama.cpp compute buffer with flash attention: 4 B × n_ubatch × (hidden + vocab).
    ComputeBuffer,
    /// Eager attention (`attn_implementation="eager"`): scores of one layer, heads × prompt² × 2 B,
    /// plus hidden states and the whole prompt's logits.
    EagerAttention,
    /// PyTorch SDPA (transformers' default attention): no score matrix; the prompt's forward peaks
    /// in the MLP, and `generate` keeps only the last token's logits.
    Sdpa,
}

/// How an engine runs DeepSeek's MTP module as a draft model.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineMtp {
    /// Mean tokens accepted per decode step (the verified token included) at each measured number
    /// of draft steps; `--mtp N` at an unmeasured depth is refused.
    pub acceptance: Vec<Acceptance>,
    /// Fixed time of one draft step beyond the MTP layer's own work (sampling, acceptance), µs.
    pub draft_step_us: f64,
    /// The launch line's flag, `{steps}` the draft steps and `{draft_tokens}` one more; empty
    /// where the engine takes MTP from an options file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub flag: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub steps: u32,
    pub accepted: f64,
}

impl EngineMtp {
    /// Tokens accepted per step with `steps` draft steps, where measured.
    pub fn accepted(&self, steps: u32) -> Option<f64> {
        self.acceptance
            .iter()
            .find(|a| a.steps == steps)
            .map(|a| a.accepted)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineSpeed {
    /// Fraction of peak DRAM bandwidth reached by decode.
    pub bw_efficiency: PerDevice,
    /// Fixed cost of one dense decoder layer per decode step, µs (launches, small kernels, syncs).
    pub layer_us: PerDevice,
    /// Extra fixed cost of a MoE layer over a dense one per decode step, µs (router, top-k,
    /// permute, grouped GEMM).
    pub moe_layer_us: f64,
    /// Fixed cost per decode step, µs (sampling, scheduling, host sync).
    pub step_us: f64,
    /// Fraction of dense tensor FLOPS reached in prefill (and in compute-bound decode).
    pub prefill_mfu: PerDevice,
    /// Its matmuls accumulate in FP16, so GeForce cards run at their FP16-accumulate rate.
    #[serde(default)]
    pub fp16_accumulate: bool,
    /// It has W8A8 INT8 GEMM kernels on INT8 tensor cores, so INT8 checkpoints run at the GPU's
    /// `int8_tops`; without them INT8 weights are widened and multiplied at the 16-bit rate.
    #[serde(default)]
    pub int8_gemm: bool,
    /// Latency of one small all-reduce over a GPU fabric (NVLink/xGMI), µs.
    pub allreduce_fabric_us: f64,
    /// Latency of one small all-reduce over PCIe, µs.
    pub allreduce_pcie_us: f64,
    /// Cost of handing activations from one layer-split device (or pipeline stage) to the next, µs.
    pub split_hop_us: f64,
    /// GPU generations on which the routed experts' grouped GEMMs read at another share of the
    /// bandwidth than `bw_efficiency` (the engine's MoE kernels differ by architecture).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expert_bw: Vec<ExpertBandwidth>,
}

/// The routed experts' read efficiency on NVIDIA GPUs of compute capability `min` ≤ cc < `below`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpertBandwidth {
    pub min_compute_capability: String,
    pub below_compute_capability: String,
    pub bw_efficiency: f64,
    pub source: String,
}

/// A constant that differs by device family. The memory technology stands for the family:
/// HBM = data-center GPUs, GDDR = consumer and workstation cards, unified = Apple / Jetson (Metal),
/// cpu = the host CPU.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerDevice {
    pub hbm: f64,
    pub gddr: f64,
    pub unified: f64,
    pub cpu: f64,
}

/// The engine a user reaches for when none is named (data/engines.toml `[default_engine]`): per GPU
/// vendor, with no GPU, and for a GGUF quant whatever the hardware.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultEngine {
    pub gguf: String,
    pub cpu: String,
    pub nvidia: String,
    pub amd: String,
    pub apple: String,
    pub intel: String,
    pub other: String,
}

impl DefaultEngine {
    /// The engine id for a GPU of `vendor`.
    pub fn for_vendor(&self, vendor: super::Vendor) -> &str {
        use super::Vendor;
        match vendor {
            Vendor::Nvidia => &self.nvidia,
            Vendor::Amd => &self.amd,
            Vendor::Apple => &self.apple,
            Vendor::Intel => &self.intel,
            Vendor::Other => &self.other,
        }
    }

    /// Every id the table names, to check they exist.
    pub fn ids(&self) -> [&str; 7] {
        [
            &self.gguf,
            &self.cpu,
            &self.nvidia,
            &self.amd,
            &self.apple,
            &self.intel,
            &self.other,
        ]
    }
}
