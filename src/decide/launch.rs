//! The command that starts a deployment, from the engine's template in data/engines.toml: a
//! structured [`LaunchPlan`] (program, arguments, environment, one entry per node), and the shell
//! line rendered from it.

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::Engine;
use crate::error::{Error, Result};
use crate::sizing::artifact::{Artifact, artifact};
use crate::sizing::capacity::KvRule;
use crate::sizing::{Deployment, KvDtype, MemoryPlan};

/// DeepSeek's recommended sampling for the R1 family: "temperature within 0.5-0.7 (0.6 is
/// recommended)", top-p 0.95 (DeepSeek-R1 README "Usage Recommendations" [S1]; the 0528 cards [S10]).
pub const TEMPERATURE: f64 = 0.6;
pub const TOP_P: f64 = 0.95;

/// How to start a deployment, for a shell or for anything else that starts processes.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LaunchPlan {
    /// `KEY=value` settings the head's serving process reads from its environment.
    pub env: Vec<(String, String)>,
    pub program: String,
    /// The arguments of the head node's serving process.
    pub args: Vec<String>,
    /// Each node that runs a process: the head first. One entry when the engine starts from a
    /// single command.
    pub nodes: Vec<Node>,
    /// Files the processes read, written before they start (TRT-LLM's extra options, Ollama's
    /// Modelfile).
    pub files: Vec<LaunchFile>,
    /// Commands run on the head once its server is up (Ollama pulls and creates the model).
    pub after: Vec<Vec<String>>,
    /// The port the server listens on, and its health endpoint there (none: not a server).
    pub port: Option<u16>,
    pub health_path: String,
}

/// A file a launch needs, with its whole content.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LaunchFile {
    pub path: String,
    pub content: String,
}

/// One machine of a deployment and the process it runs.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Node {
    pub rank: u32,
    pub role: Role,
    pub program: String,
    pub args: Vec<String>,
    /// Commands this node runs first (the Ray head before `vllm serve`).
    pub before: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves the API and coordinates the others.
    Head,
    /// Joins the head.
    Worker,
}

impl LaunchPlan {
    /// The head node's serving command as one shell line.
    pub fn shell(&self) -> String {
        let env = self.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        env.chain(std::iter::once(words(&self.program, &self.args)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Everything the head runs, one shell line per step: its files, its first commands, the
    /// server (in the background when commands follow it), and the commands after it.
    pub fn script(&self) -> String {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("printf '%s' {} > {}", quote(&f.content), quote(&f.path)))
            .collect();
        let head = self.nodes.first();
        lines.extend(head.into_iter().flat_map(|n| &n.before).map(|c| argv(c)));
        if self.after.is_empty() {
            lines.push(self.shell());
        } else {
            lines.push(format!("{} &", self.shell()));
            lines.extend(self.after.iter().map(|c| argv(c)));
        }
        lines.join("\n")
    }

    /// Each node's commands in order, the head first: `(rank, role, lines)`.
    pub fn node_scripts(&self) -> Vec<(u32, Role, String)> {
        self.nodes
            .iter()
            .map(|n| {
                let text = if n.role == Role::Head {
                    self.script()
                } else {
                    n.before
                        .iter()
                        .map(|c| argv(c))
                        .chain(std::iter::once(words(&n.program, &n.args)))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                (n.rank, n.role, text)
            })
            .collect()
    }
}

/// Words as one shell line, each quoted as it needs.
pub fn shell_words(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn words(program: &str, args: &[String]) -> String {
    std::iter::once(quote(program))
        .chain(args.iter().map(|a| quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn argv(c: &[String]) -> String {
    match c.split_first() {
        Some((p, rest)) => words(p, rest),
        None => String::new(),
    }
}

/// A ready-to-run shell script for `d` as placed by `mem`.
pub fn command(d: &Deployment, mem: &MemoryPlan) -> Result<String> {
    Ok(plan(d, mem)?.script())
}

/// The launch of `d` as placed by `mem`. Fails only for a quant with no artifact for the engine,
/// which `sizing::support` refuses before anything is sized.
pub fn plan(d: &Deployment, mem: &MemoryPlan) -> Result<LaunchPlan> {
    let artifact = artifact(d.model, d.quant, d.engine).map_err(Error::Input)?;
    let count = node_count(d, &mem.placement);
    let per_rank = d.engine.launch.contains("{nnodes_flag}") || dp_across_nodes(d, count);
    let fill = |t: &str, rank: u32| template(t, d, mem, &artifact, rank);
    // Across nodes, the head's server runs under the engine's launcher where it has one (TRT-LLM's
    // mpirun starts every node's ranks).
    let head_line = match (&d.engine.launch_across_nodes, count > 1) {
        (Some(t), true) => format!("{} {}", fill(t, 0), fill(&d.engine.launch, 0)),
        _ => fill(&d.engine.launch, 0),
    };
    let (env, program, args) = process(&head_line);
    // vLLM's Ray cluster is for pipeline stages; its DP ranks across nodes need none.
    let ray = !dp_across_nodes(d, count);
    let mut nodes = vec![Node {
        rank: 0,
        role: Role::Head,
        program: program.clone(),
        args: args.clone(),
        before: match (&d.engine.launch_head_before, count > 1 && ray) {
            (Some(t), true) => vec![split(&fill(t, 0))],
            _ => vec![],
        },
    }];
    for rank in 1..count {
        let worker = match &d.engine.launch_worker {
            Some(t) if ray => Some(process(&fill(t, rank))),
            _ if per_rank => Some(process(&fill(&d.engine.launch, rank))),
            _ => None,
        };
        if let Some((_, program, args)) = worker {
            nodes.push(Node {
                rank,
                role: Role::Worker,
                program,
                args,
                before: vec![],
            });
        }
    }
    let mut files = vec![];
    let mut after = vec![];
    match d.engine.id.as_str() {
        "trtllm" => files.push(LaunchFile {
            path: TRTLLM_OPTIONS.to_string(),
            content: trtllm_options(d, mem, &artifact),
        }),
        "ollama" => {
            files.push(LaunchFile {
                path: MODELFILE.to_string(),
                content: modelfile(&artifact),
            });
            let name = ollama_name(d);
            after = vec![
                split("sh -c 'until ollama list >/dev/null 2>&1; do sleep 1; done'"),
                vec!["ollama".into(), "pull".into(), artifact.name()],
                vec![
                    "ollama".into(),
                    "create".into(),
                    name,
                    "-f".into(),
                    MODELFILE.into(),
                ],
            ];
        }
        _ => {}
    }
    Ok(LaunchPlan {
        env,
        program,
        args,
        nodes,
        files,
        after,
        port: d.engine.port,
        health_path: d.engine.health_path.clone(),
    })
}

/// Where TRT-LLM's `--extra_llm_api_options` file and Ollama's Modelfile are written.
pub const TRTLLM_OPTIONS: &str = "/tmp/r1pick-llm-api.yaml";
pub const MODELFILE: &str = "/tmp/r1pick.Modelfile";

/// The name Ollama serves the model under once its Modelfile sets R1's sampling.
pub fn ollama_name(d: &Deployment) -> String {
    format!("{}-{}-r1pick", d.model.id, d.quant.id).replace(['.', ':', '/'], "-")
}

/// An Ollama Modelfile: the tag, and the sampling the library's params leave unset (models.md §5:
/// the params blob sets only stop tokens).
fn modelfile(a: &Artifact) -> String {
    format!(
        "FROM {}\nPARAMETER temperature {TEMPERATURE}\nPARAMETER top_p {TOP_P}\n",
        a.name()
    )
}

/// TRT-LLM's LLM-API options: the KV fraction that was sized, the KV type, the online quant and
/// the dtype (TensorRT-LLM docs, "LLM API" `KvCacheConfig.free_gpu_memory_fraction`,
/// `KvCacheConfig.dtype`, `QuantConfig.quant_algo`; trtllm-serve `--extra_llm_api_options`).
fn trtllm_options(d: &Deployment, mem: &MemoryPlan, a: &Artifact) -> String {
    let mut kv = serde_json::Map::new();
    if let Some(f) = memory_fraction(d, mem) {
        kv.insert("free_gpu_memory_fraction".into(), f.into());
    }
    if d.kv_dtype == KvDtype::Fp8 {
        kv.insert("dtype".into(), "fp8".into());
    }
    let mut top = serde_json::Map::new();
    top.insert("kv_cache_config".into(), kv.into());
    if let Artifact::Repo {
        online: Some(q), ..
    } = a
    {
        let algo = q.to_uppercase();
        top.insert(
            "quant_config".into(),
            serde_json::json!({ "quant_algo": algo }),
        );
    }
    if let Artifact::Repo { cast: true, .. } = a {
        top.insert("dtype".into(), "float16".into());
    }
    // Expert parallelism and attention DP (TensorRT-LLM LLM API `moe_expert_parallel_size`,
    // `enable_attention_dp`; the DeepSeek-R1 best-practice blog's max-throughput config).
    if d.parallel.ep() > 1 {
        top.insert("moe_expert_parallel_size".into(), d.parallel.ep().into());
    }
    if d.parallel.dp() > 1 {
        top.insert("enable_attention_dp".into(), true.into());
    }
    // MTP speculative decoding (the same blog: `speculative_config: {decoding_type: MTP,
    // num_nextn_predict_layers: N}`); TRT-LLM takes no MTP flag on its command line.
    if d.mtp > 0 {
        top.insert(
            "speculative_config".into(),
            serde_json::json!({ "decoding_type": "MTP", "num_nextn_predict_layers": d.mtp }),
        );
    }
    // A small map of strings and numbers always serializes.
    serde_yaml_ng::to_string(&serde_json::Value::Object(top)).unwrap_or_default()
}

/// The engine's KV memory fraction that sized the plan (`data/serving.toml` `kv_rule`): vLLM's
/// `gpu_memory_utilization`, SGLang's `mem_fraction_static` at this TP size, TRT-LLM's
/// `free_gpu_memory_fraction`. `None` for engines that allocate context × slots.
pub fn memory_fraction(d: &Deployment, mem: &MemoryPlan) -> Option<f64> {
    let rule = crate::serving::config::engine(&d.engine.id).ok()?.kv_rule;
    match rule {
        KvRule::TotalFraction { fraction, .. } | KvRule::FreeFraction { fraction } => {
            Some(fraction)
        }
        // The TP size capacity.rs sized the pool with.
        KvRule::StaticFraction { by_tp } => Some(KvRule::static_fraction(
            &by_tp,
            mem.placement.tensor_parallel.max(1),
        )),
        KvRule::Slots | KvRule::Single => None,
    }
}

/// Environment settings, program and arguments of a filled-in command line.
fn process(line: &str) -> (Vec<(String, String)>, String, Vec<String>) {
    let mut words = split(line).into_iter().peekable();
    let mut env = vec![];
    while let Some((k, v)) = words.peek().and_then(|w| env_setting(w)) {
        env.push((k, v));
        words.next();
    }
    let program = words.next().unwrap_or_default();
    (env, program, words.collect())
}

/// `KEY=value` with an upper-case name: an environment setting before the program.
fn env_setting(word: &str) -> Option<(String, String)> {
    let (k, v) = word.split_once('=')?;
    let name = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
    name.then(|| (k.to_string(), v.to_string()))
}

/// Words of a command line: blanks separate them, double or single quotes group them.
fn split(line: &str) -> Vec<String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

/// A word for a POSIX shell: as is when plain, else in double quotes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!(
            "\"{}\"",
            word.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
                .replace('`', "\\`")
        )
    }
}

/// An engine template filled in for node `rank`.
fn template(t: &str, d: &Deployment, mem: &MemoryPlan, a: &Artifact, rank: u32) -> String {
    let m = d.model;
    let p = &mem.placement;
    let w = &d.workload;
    let (cast, online) = match a {
        Artifact::Repo { cast, online, .. } => (*cast, online.as_deref()),
        _ => (false, None),
    };
    // vLLM/SGLang quantize the 16-bit weights to FP8 as they load (`--quantization fp8`).
    let quant_flag = match online {
        Some(q) if d.engine.id != "trtllm" => format!(" --quantization {q}"),
        // ModelOpt NVFP4 checkpoints (SGLang needs the method named; vLLM accepts the same value).
        None if d.quant.id == "nvfp4" && d.engine.id != "trtllm" => {
            " --quantization modelopt_fp4".to_string()
        }
        _ => String::new(),
    };
    // TRT-LLM quantizes while building a TensorRT engine (its PyTorch backend loads published
    // quantized checkpoints only).
    let backend_flag = match online {
        Some(_) if d.engine.id == "trtllm" => " --backend tensorrt",
        _ => "",
    };
    // FP16 where the engine would pick BF16 from the config (GPUs below compute capability 8.0).
    let dtype_flag = if cast && d.engine.id != "trtllm" {
        " --dtype half"
    } else {
        ""
    };
    let kv_flag = kv_cache_flag(d.engine, d.kv_dtype);
    let mtp_flag = mtp_flag(d.engine, d.mtp);
    let parallel_flag = parallel_flag(d, node_count(d, p), rank);
    // vLLM's --max-num-seqs and TRT-LLM's --max_batch_size bound each DP rank (the blog's
    // max_batch_size 128 for 1024 in flight on 8 ranks); SGLang's --max-running-requests is the
    // total it splits over its DP ranks (sglang 0.5.2 managers/tp_worker.py divides it by dp_size
    // under --enable-dp-attention).
    let batch_limit = if d.engine.id == "sglang" {
        w.concurrency
    } else {
        crate::sizing::parallel::rank_sequences(&d.parallel, w.concurrency)
    };
    // vLLM's --tensor-parallel-size is per DP rank; SGLang's --tp and TRT-LLM's --tp_size span all.
    let tp = if d.engine.id == "vllm" {
        crate::sizing::parallel::attention_tp(&d.parallel, p.tensor_parallel)
    } else {
        p.tensor_parallel
    };
    let nodes = node_count(d, p);
    let stages = p.pipeline_stages.max(1);
    let pp_flag = if stages > 1 {
        format!(" --pipeline-parallel-size {stages} --distributed-executor-backend ray")
    } else {
        String::new()
    };
    // mpirun's host list: every node with its ranks, the head first.
    let node_gpus = p.gpus.div_ceil(nodes);
    let hosts: Vec<String> = (0..nodes)
        .map(|n| format!("{}:{node_gpus}", node_address(n)))
        .collect();
    let nnodes_flag = if nodes > 1 {
        format!(" --nnodes {nodes} --node-rank {rank} --dist-init-addr HEAD_NODE_IP:5000")
    } else {
        String::new()
    };
    let split_flag = if p.layer_split {
        // proportions: the layers each GPU holds
        let ratios: Vec<String> = p.layers_per_gpu.iter().map(u32::to_string).collect();
        format!(" --split-mode layer --tensor-split {}", ratios.join(","))
    } else {
        String::new()
    };
    // llama.cpp counts layers from the end: -ngl N puts the last N on the GPUs; the output layer counts.
    let ngl = if p.cpu_layers == 0 {
        m.layers() + 1
    } else {
        p.gpu_layers
    };
    // `--n-cpu-moe N` keeps the experts of layers 0..N on the CPU (R1's first 3 layers are dense,
    // so N counts them): N is one past the last layer whose experts sizing left in host memory.
    let moe_flag = match p.experts_on_gpu.iter().rposition(|on| !on) {
        Some(last) if p.cpu_expert_layers > 0 && p.gpus > 0 => format!(" --n-cpu-moe {}", last + 1),
        _ => String::new(),
    };
    // llama-server: a GGUF the user brought is loaded from its path, not fetched from a hub repo.
    let model_flag = match a {
        Artifact::GgufPath(path) => format!("-m {path}"),
        _ => format!("-hf {}", a.name()),
    };
    let fraction = memory_fraction(d, mem)
        .map(|f| format!("{f}"))
        .unwrap_or_default();
    t.replace("{repo}", &a.name())
        .replace("{model_flag}", &model_flag)
        .replace("{tp}", &tp.to_string())
        .replace("{pp}", &stages.to_string())
        .replace("{gpus}", &p.gpus.to_string())
        .replace("{hosts}", &hosts.join(","))
        .replace("{node_gpus}", &node_gpus.to_string())
        .replace("{pp_flag}", &pp_flag)
        .replace("{nnodes_flag}", &nnodes_flag)
        .replace("{context}", &w.context.to_string())
        .replace("{ctx_total}", &(w.context * w.concurrency).to_string())
        .replace("{concurrency}", &batch_limit.to_string())
        .replace("{memory_fraction}", &fraction)
        .replace("{quant_flag}", &quant_flag)
        .replace("{backend_flag}", backend_flag)
        .replace("{dtype_flag}", dtype_flag)
        .replace("{kv_flag}", &kv_flag)
        .replace("{mtp_flag}", &mtp_flag)
        .replace("{parallel_flag}", &parallel_flag)
        .replace("{ngl}", &ngl.to_string())
        .replace("{split_flag}", &split_flag)
        .replace("{moe_flag}", &moe_flag)
        .replace("{port}", &d.engine.port.unwrap_or_default().to_string())
        .replace("{options_file}", TRTLLM_OPTIONS)
        .replace("{temperature}", &TEMPERATURE.to_string())
        .replace("{top_p}", &TOP_P.to_string())
        .replace("{output}", &w.output.to_string())
}

/// The port vLLM's DP ranks on other nodes reach the head's coordinator on (the docs' example).
pub const VLLM_DP_RPC_PORT: u16 = 13345;

/// How the printed commands name node `n`'s address: `HEAD_NODE_IP` for the head, `WORKER1_NODE_IP`
/// … for the others (the manifests put the leader's address in place of the first).
pub fn node_address(n: u32) -> String {
    if n == 0 {
        "HEAD_NODE_IP".to_string()
    } else {
        format!("WORKER{n}_NODE_IP")
    }
}

/// vLLM's DP attention over several nodes: one `vllm serve` per node, no Ray.
fn dp_across_nodes(d: &Deployment, nodes: u32) -> bool {
    d.engine.id == "vllm" && d.parallel.dp() > 1 && nodes > 1
}

/// The engine's expert-parallel and DP-attention flags on node `rank` of `nodes`: vLLM
/// `--data-parallel-size N --enable-expert-parallel` (docs.vllm.ai serving/expert_parallel_deployment;
/// EP spans TP × DP), across nodes with each node's local ranks, the head's address and RPC port,
/// and `--headless --data-parallel-start-rank` on the others (docs.vllm.ai v0.11.0
/// serving/data_parallel_deployment); SGLang `--enable-dp-attention --dp N --ep-size N
/// --ep-num-redundant-experts N` (docs.sglang.ai "Server Arguments"; its nodes are its --nnodes).
/// TRT-LLM takes them in its options YAML ([`trtllm_options`]).
fn parallel_flag(d: &Deployment, nodes: u32, rank: u32) -> String {
    let p = &d.parallel;
    let mut out = String::new();
    match d.engine.id.as_str() {
        "vllm" => {
            if p.dp() > 1 {
                out.push_str(&format!(" --data-parallel-size {}", p.dp()));
            }
            if dp_across_nodes(d, nodes) {
                let local = p.dp().div_ceil(nodes);
                out.push_str(&format!(
                    " --data-parallel-size-local {local} --data-parallel-address {} --data-parallel-rpc-port {VLLM_DP_RPC_PORT}",
                    node_address(0)
                ));
                if rank > 0 {
                    out.push_str(&format!(
                        " --headless --data-parallel-start-rank {}",
                        rank * local
                    ));
                }
            }
            if p.ep() > 1 {
                out.push_str(" --enable-expert-parallel");
            }
        }
        "sglang" => {
            if p.dp() > 1 {
                out.push_str(&format!(" --enable-dp-attention --dp {}", p.dp()));
            }
            if p.ep() > 1 {
                out.push_str(&format!(" --ep-size {}", p.ep()));
            }
            if p.redundant_experts > 0 {
                out.push_str(&format!(
                    " --ep-num-redundant-experts {}",
                    p.redundant_experts
                ));
            }
        }
        _ => {}
    }
    out
}

/// The engine's MTP speculative-decoding flag (data/engines.toml `[engine.mtp] flag`); nothing
/// without draft steps.
fn mtp_flag(engine: &Engine, steps: u32) -> String {
    match &engine.mtp {
        Some(mtp) if steps > 0 => mtp
            .flag
            .replace("{steps}", &steps.to_string())
            .replace("{draft_tokens}", &(steps + 1).to_string()),
        _ => String::new(),
    }
}

/// Machines the deployment spans: its GPUs over the GPUs of a node (`max_tensor_parallel`, one
/// NVLink node) — pipeline stages of one node each, one TP group across nodes (SGLang), or DP
/// attention ranks spread over nodes.
pub fn node_count(d: &Deployment, p: &crate::sizing::Placement) -> u32 {
    if d.engine.multi_node {
        p.gpus.div_ceil(d.engine.max_tensor_parallel.max(1)).max(1)
    } else {
        1
    }
}

/// The engine's spelling of a quantized KV cache (data/engines.toml `kv_cache_flag`); nothing for
/// the 16-bit default.
fn kv_cache_flag(engine: &Engine, kv: KvDtype) -> String {
    match (&engine.kv_cache_flag, kv) {
        (_, KvDtype::Bf16 | KvDtype::Fp16) | (None, _) => String::new(),
        (Some(flag), k) => flag.replace("{kv}", k.id()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::hardware::simulate::{SimulationRequest, simulate};
    use crate::sizing::{Workload, plan as size};

    fn launch(
        model: &str,
        quant: &str,
        engine: &str,
        gpu: &str,
    ) -> crate::error::Result<LaunchPlan> {
        let c = Catalog::embedded()?;
        let hw = simulate(
            &c,
            &SimulationRequest {
                gpu_specs: vec![gpu.into()],
                ..Default::default()
            },
        )?;
        let workload = Workload {
            context: 8192,
            prompt: 2048,
            output: 4096,
            concurrency: 4,
        };
        let d = Deployment::new(
            c.model(model)?,
            c.quant(quant)?,
            c.engine(engine)?,
            hw.gpu_count(),
            workload,
        );
        let mem = size(&d, &hw)?;
        plan(&d, &mem)
    }

    #[test]
    fn sglang_across_two_nodes_starts_a_head_and_a_worker_of_rank_1() -> crate::error::Result<()> {
        let p = launch("671b", "fp8", "sglang", "h100-sxm:16")?;
        assert_eq!(p.program, "python");
        assert_eq!(p.nodes.len(), 2);
        assert_eq!((p.nodes[0].rank, p.nodes[0].role), (0, Role::Head));
        assert_eq!((p.nodes[1].rank, p.nodes[1].role), (1, Role::Worker));
        let rank = |n: &Node| {
            let i = n.args.iter().position(|a| a == "--node-rank")?;
            n.args.get(i + 1).cloned()
        };
        assert_eq!(rank(&p.nodes[0]).as_deref(), Some("0"));
        assert_eq!(rank(&p.nodes[1]).as_deref(), Some("1"));
        assert_eq!(p.args, p.nodes[0].args);
        Ok(())
    }

    #[test]
    fn ollama_settings_go_to_the_server_and_sampling_to_a_modelfile() -> crate::error::Result<()> {
        let p = launch("32b", "q4_k_m", "ollama", "rtx-4090")?;
        let env: Vec<(&str, &str)> = p
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            env,
            [
                ("OLLAMA_CONTEXT_LENGTH", "8192"),
                ("OLLAMA_NUM_PARALLEL", "4")
            ]
        );
        assert_eq!(p.program, "ollama");
        assert_eq!(p.args, ["serve"]);
        assert_eq!(p.after[1], ["ollama", "pull", "deepseek-r1:32b"]);
        assert_eq!(
            p.files[0].content,
            "FROM deepseek-r1:32b\nPARAMETER temperature 0.6\nPARAMETER top_p 0.95\n"
        );
        Ok(())
    }

    #[test]
    fn vllm_across_two_nodes_starts_a_ray_head_then_serves_and_a_ray_worker_joins()
    -> crate::error::Result<()> {
        let p = launch("671b", "fp8", "vllm", "h100-sxm:16")?;
        assert_eq!(p.nodes.len(), 2);
        assert_eq!(
            p.nodes[0].before,
            [["ray", "start", "--head", "--port=6379"]]
        );
        assert_eq!(p.nodes[0].program, "vllm");
        assert_eq!(p.nodes[1].program, "ray");
        assert_eq!(
            p.nodes[1].args,
            ["start", "--block", "--address=HEAD_NODE_IP:6379"]
        );
        Ok(())
    }

    #[test]
    fn a_quoted_script_is_one_argument_and_is_quoted_again_in_the_shell_line() {
        let words = split("python -c \"print('a b')\" --x 1");
        assert_eq!(words, ["python", "-c", "print('a b')", "--x", "1"]);
        assert_eq!(quote("print('a b')"), "\"print('a b')\"");
        assert_eq!(quote("say \"$HOME\""), "\"say \\\"\\$HOME\\\"\"");
        assert_eq!(quote("37,36"), "37,36");
    }
}
