//! The command that starts a deployment, from the engine's template in data/engines.toml: a
//! structured [`LaunchPlan`] (program, arguments, environment, one entry per node), and the shell
//! line rendered from it.

use serde::Serialize;

use crate::catalog::model::ModelSource;
use crate::sizing::{Deployment, KvDtype, MemoryPlan};

/// How to start a deployment, for a shell or for anything else that starts processes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaunchPlan {
    /// `KEY=value` settings the process reads from its environment.
    pub env: Vec<(String, String)>,
    pub program: String,
    /// The arguments of the head node's process.
    pub args: Vec<String>,
    /// Each node that runs a process: the head first. One entry when the engine starts from a
    /// single command (also vLLM across nodes: Ray starts the other stages).
    pub nodes: Vec<Node>,
}

/// One machine of a deployment and the arguments of its process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub rank: u32,
    pub role: Role,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves the API and coordinates the others.
    Head,
    /// Joins the head.
    Worker,
}

impl LaunchPlan {
    /// The head node's command as one shell line.
    pub fn shell(&self) -> String {
        let env = self.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        let words = std::iter::once(quote(&self.program)).chain(self.args.iter().map(|a| quote(a)));
        env.chain(words).collect::<Vec<_>>().join(" ")
    }
}

/// A ready-to-run shell command for `d` as placed by `mem`.
pub fn command(d: &Deployment, mem: &MemoryPlan) -> String {
    plan(d, mem).shell()
}

/// The launch of `d` as placed by `mem`.
pub fn plan(d: &Deployment, mem: &MemoryPlan) -> LaunchPlan {
    let ranked = d.engine.launch.contains("{nnodes_flag}");
    let stages = node_count(d, &mem.placement);
    let nodes: Vec<Node> = (0..if ranked { stages } else { 1 })
        .map(|rank| Node {
            rank,
            role: if rank == 0 { Role::Head } else { Role::Worker },
            args: vec![],
        })
        .collect();
    let mut env = vec![];
    let mut program = String::new();
    let mut head_args = vec![];
    let nodes = nodes
        .into_iter()
        .map(|node| {
            let mut words = split(&template(d, mem, node.rank)).into_iter().peekable();
            let mut node_env = vec![];
            while let Some((k, v)) = words.peek().and_then(|w| env_setting(w)) {
                node_env.push((k, v));
                words.next();
            }
            let node_program = words.next().unwrap_or_default();
            let args: Vec<String> = words.collect();
            if node.rank == 0 {
                env = node_env;
                program = node_program;
                head_args = args.clone();
            }
            Node { args, ..node }
        })
        .collect();
    LaunchPlan {
        env,
        program,
        args: head_args,
        nodes,
    }
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

/// The engine's template filled in for node `rank`.
fn template(d: &Deployment, mem: &MemoryPlan, rank: u32) -> String {
    let m = d.model;
    let q = d.quant;
    let p = &mem.placement;
    let w = &d.workload;
    let repo = m.repos.get(&q.id).unwrap_or(&m.hf_repo).clone();
    let gguf_repo = m
        .repos
        .get("gguf")
        .cloned()
        .unwrap_or_else(|| format!("{}-GGUF", m.hf_repo));
    // unsloth names files by type: Q4_K_M, UD-IQ1_S.
    let gguf_tag = match q.id.strip_prefix("ud-") {
        Some(rest) => format!("UD-{}", rest.to_uppercase()),
        None => q.id.to_uppercase(),
    };
    let gguf = format!("{gguf_repo}:{gguf_tag}");
    // vLLM/SGLang quantize BF16 weights to FP8 on load; the 671B ships in FP8 already.
    let quant_flag = match (q.id.as_str(), m.is_moe()) {
        ("fp8", false) => " --quantization fp8".to_string(),
        // ModelOpt NVFP4 checkpoints (SGLang needs it named; vLLM accepts the same value).
        ("nvfp4", _) => " --quantization modelopt_fp4".to_string(),
        _ => String::new(),
    };
    // FP16 where the engine would pick BF16 from the config (GPUs below compute capability 8.0).
    let dtype_flag = if q.id == "fp16" { " --dtype half" } else { "" };
    let kv_flag = kv_cache_flag(d.engine.id.as_str(), d.kv_dtype);
    let mtp_flag = mtp_flag(d.engine.id.as_str(), d.mtp);
    let nodes = node_count(d, p);
    let pp_flag = if nodes > 1 {
        format!(" --pipeline-parallel-size {nodes}")
    } else {
        String::new()
    };
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
    // Ollama: the library tag where one is published, else the GGUF repo through hf.co.
    let ollama_tag = match (q.id.as_str(), &m.ollama_tag) {
        ("q4_k_m", Some(tag)) => tag.clone(),
        _ => m
            .ollama_tags
            .get(&q.id)
            .cloned()
            .unwrap_or_else(|| format!("hf.co/{gguf}")),
    };
    // A GGUF file the user brought is loaded from its path, not fetched from a hub repo.
    let launch = match m.source {
        ModelSource::Gguf => d
            .engine
            .launch
            .replace("-hf {gguf}", &format!("-m {}", m.hf_repo)),
        _ => d.engine.launch.clone(),
    };
    launch
        .replace("{repo}", &repo)
        .replace("{gguf}", &gguf)
        .replace("{tp}", &p.tensor_parallel.to_string())
        .replace("{pp}", &nodes.to_string())
        .replace("{gpus}", &p.gpus.to_string())
        .replace("{pp_flag}", &pp_flag)
        .replace("{nnodes_flag}", &nnodes_flag)
        .replace("{context}", &w.context.to_string())
        .replace("{ctx_total}", &(w.context * w.concurrency).to_string())
        .replace("{concurrency}", &w.concurrency.to_string())
        .replace("{quant_flag}", &quant_flag)
        .replace("{dtype_flag}", dtype_flag)
        .replace("{kv_flag}", &kv_flag)
        .replace("{mtp_flag}", &mtp_flag)
        .replace("{ngl}", &ngl.to_string())
        .replace("{split_flag}", &split_flag)
        .replace("{moe_flag}", &moe_flag)
        .replace("{ollama_tag}", &ollama_tag)
        .replace("{output}", &w.output.to_string())
}

/// The engine's MTP speculative-decoding flags: vLLM's `--speculative-config` with the
/// `deepseek_mtp` method (docs.vllm.ai features/spec_decode), SGLang's EAGLE over the MTP head
/// with top-1 chains (docs.sglang.ai DeepSeek usage).
fn mtp_flag(engine: &str, steps: u32) -> String {
    match (engine, steps) {
        (_, 0) => String::new(),
        ("vllm", n) => format!(
            " --speculative-config '{{\"method\":\"deepseek_mtp\",\"num_speculative_tokens\":{n}}}'"
        ),
        ("sglang", n) => format!(
            " --speculative-algorithm EAGLE --speculative-num-steps {n} --speculative-eagle-topk 1 --speculative-num-draft-tokens {}",
            n + 1
        ),
        _ => String::new(),
    }
}

/// Machines the deployment spans: its pipeline stages, or for one TP group across nodes (SGLang)
/// its GPUs over the GPUs of a node (`max_tensor_parallel`).
fn node_count(d: &Deployment, p: &crate::sizing::Placement) -> u32 {
    if d.engine.tp_across_nodes {
        p.gpus.div_ceil(d.engine.max_tensor_parallel.max(1)).max(1)
    } else {
        p.pipeline_stages.max(1)
    }
}

/// The engine's spelling of a quantized KV cache; nothing for the 16-bit default.
fn kv_cache_flag(engine: &str, kv: KvDtype) -> String {
    match (engine, kv) {
        (_, KvDtype::Bf16 | KvDtype::Fp16) => String::new(),
        ("vllm", k) => format!(" --kv-cache-dtype {}", k.id()),
        ("sglang", KvDtype::Fp8) => " --kv-cache-dtype fp8_e4m3".to_string(),
        ("llama.cpp", k) => format!(" --cache-type-k {0} --cache-type-v {0}", k.id()),
        // Ollama reads the cache type from its environment; quantized caches need flash attention.
        ("ollama", k) => format!(" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE={}", k.id()),
        _ => String::new(),
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
        Ok(plan(&d, &mem))
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
    fn ollama_settings_are_environment_not_arguments() -> crate::error::Result<()> {
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
        assert_eq!(p.args, ["run", "deepseek-r1:32b"]);
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
