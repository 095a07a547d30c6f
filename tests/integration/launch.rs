//! Launch commands that run as printed (issue 10 item 8, issue 12 item 4): across engines × quants
//! × GPUs, every plan r1pick can size loads an artifact of the sized quant, and its flags are the
//! sized dtype, KV type, context, sequences, memory fraction and placement. The LaunchPlan is read
//! as structured arguments, never parsed back out of the shell line.

use std::collections::{BTreeMap, BTreeSet};

use r1pick::catalog::Catalog;
use r1pick::decide::launch::{self, LaunchPlan};
use r1pick::hardware::Hardware;
use r1pick::sizing::support::unsupported;
use r1pick::sizing::{Deployment, KvDtype, MemoryPlan, Parallel, plan};
use serde::Deserialize;

use crate::util::{catalog, machine, machine_with_ram, workload};

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).map(String::as_str)
}

fn has(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// SGLang's `mem_fraction_static` defaults by TP size (python/sglang/srt/server_args.py, issue 10
/// item 5): 0.88 / 0.87 / 0.85 / 0.81 / 0.79 for TP 1 / 2 / 4 / 8 / 16.
fn sglang_fraction(tp: u32) -> f64 {
    match tp {
        1 => 0.88,
        2 | 3 => 0.87,
        4..=7 => 0.85,
        8..=15 => 0.81,
        _ => 0.79,
    }
}

/// unsloth's file names: `Q4_K_M`, `UD-IQ1_S`, `BF16`, `F16` (llama.cpp's type names).
fn gguf_type(quant: &str) -> String {
    match (quant, quant.strip_prefix("ud-")) {
        ("fp16", _) => "F16".to_string(),
        (_, Some(rest)) => format!("UD-{}", rest.to_uppercase()),
        (q, None) => q.to_uppercase(),
    }
}

struct Case<'a> {
    d: Deployment<'a>,
    mem: MemoryPlan,
    launch: LaunchPlan,
}

/// Every deployment of `engine` on `gpu` the support checks let through and that fits.
fn cases<'a>(c: &'a Catalog, engine: &str, hw: &Hardware, kv: KvDtype) -> Vec<Case<'a>> {
    let e = c.engine(engine).unwrap();
    let mut out = vec![];
    for m in &c.models {
        for q in &c.quants {
            if unsupported(m, q, e, hw, hw.gpu_count()).is_some() {
                continue;
            }
            let mut d = Deployment::new(m, q, e, hw.gpu_count(), workload(8192, 2048, 2048, 8));
            d.kv_dtype = kv;
            let Ok(mem) = plan(&d, hw) else { continue };
            if !mem.fits {
                continue;
            }
            let launch = launch::plan(&d, &mem).unwrap();
            out.push(Case { d, mem, launch });
        }
    }
    out
}

/// The repo a safetensors plan loads is the quant's published checkpoint, or the 16-bit one with
/// the flag that makes the engine cast or quantize it as sized.
fn assert_safetensors_artifact(
    case: &Case,
    repo: &str,
    online_flag: Option<&str>,
    cast_flag: bool,
) {
    let m = case.d.model;
    let q = case.d.quant.id.as_str();
    let what = format!("{} {q} on {}", m.id, case.d.engine.id);
    match (m.repos.get(q), q) {
        (Some(published), _) => {
            assert_eq!(repo, published, "{what}");
            assert!(
                online_flag.is_none(),
                "{what}: a published checkpoint is not re-quantized"
            );
        }
        (None, "bf16" | "fp16") => {
            let bf16 = m.repos.get("bf16").unwrap_or(&m.hf_repo);
            assert_eq!(repo, bf16, "{what}");
            assert_eq!(
                cast_flag,
                q == "fp16",
                "{what}: FP16 is a cast of the BF16 weights"
            );
        }
        (None, "fp8") if m.hf_repo_quant == "fp8" => {
            assert_eq!(repo, m.hf_repo, "{what}: R1 ships in FP8");
            assert!(online_flag.is_none(), "{what}");
        }
        (None, "fp8") => {
            assert_eq!(
                repo, m.hf_repo,
                "{what}: the BF16 weights, quantized on load"
            );
            assert_eq!(m.hf_repo_quant, "bf16");
            assert_eq!(online_flag, Some("fp8"), "{what}");
        }
        (None, other) => panic!("{what}: {other} has no published checkpoint, yet it was offered"),
    }
}

const DATACENTER: [&str; 5] = ["t4", "a100-sxm-80gb", "h100-sxm", "h100-sxm:8", "h200:8"];

#[test]
fn vllm_commands_carry_the_sized_artifact_and_settings() {
    let c = catalog();
    let mut n = 0;
    for gpu in DATACENTER.iter().chain(&["mi300x", "v100-sxm2-32gb"]) {
        let hw = machine(gpu);
        for kv in [KvDtype::Bf16, KvDtype::Fp8] {
            for case in cases(&c, "vllm", &hw, kv) {
                let p = &case.launch;
                let what = format!("{} {} on {gpu}", case.d.model.id, case.d.quant.id);
                assert_eq!(p.program, "vllm", "{what}");
                assert_eq!(p.args[0], "serve");
                assert_safetensors_artifact(
                    &case,
                    &p.args[1],
                    flag(&p.args, "--quantization"),
                    flag(&p.args, "--dtype") == Some("half"),
                );
                let tp = case.mem.placement.tensor_parallel.to_string();
                assert_eq!(
                    flag(&p.args, "--tensor-parallel-size"),
                    Some(tp.as_str()),
                    "{what}"
                );
                assert_eq!(flag(&p.args, "--max-model-len"), Some("8192"), "{what}");
                assert_eq!(flag(&p.args, "--max-num-seqs"), Some("8"), "{what}");
                // vLLM's gpu_memory_utilization default, the fraction its KV pool was sized by.
                assert_eq!(
                    flag(&p.args, "--gpu-memory-utilization"),
                    Some("0.9"),
                    "{what}"
                );
                let kv_flag = flag(&p.args, "--kv-cache-dtype");
                assert_eq!(kv_flag, (kv == KvDtype::Fp8).then_some("fp8"), "{what}");
                assert_eq!(flag(&p.args, "--reasoning-parser"), Some("deepseek_r1"));
                assert_eq!(
                    flag(&p.args, "--override-generation-config"),
                    Some(r#"{"temperature": 0.6, "top_p": 0.95}"#)
                );
                n += 1;
            }
        }
    }
    assert!(n >= 60, "only {n} vLLM plans were checked");
}

#[test]
fn sglang_commands_carry_the_sized_artifact_and_settings() {
    let c = catalog();
    let mut n = 0;
    for gpu in DATACENTER.iter().chain(&["h100-sxm:16", "mi300x"]) {
        let hw = machine(gpu);
        for case in cases(&c, "sglang", &hw, KvDtype::Bf16) {
            let p = &case.launch;
            let what = format!("{} {} on {gpu}", case.d.model.id, case.d.quant.id);
            assert_eq!(flag(&p.args, "-m"), Some("sglang.launch_server"));
            assert_safetensors_artifact(
                &case,
                flag(&p.args, "--model-path").unwrap(),
                flag(&p.args, "--quantization"),
                flag(&p.args, "--dtype") == Some("half"),
            );
            let tp = case.mem.placement.tensor_parallel;
            assert_eq!(
                flag(&p.args, "--tp"),
                Some(hw.gpu_count().to_string().as_str())
            );
            assert_eq!(flag(&p.args, "--context-length"), Some("8192"), "{what}");
            assert_eq!(flag(&p.args, "--max-running-requests"), Some("8"), "{what}");
            let fraction: f64 = flag(&p.args, "--mem-fraction-static")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(fraction, sglang_fraction(tp), "{what}");
            assert_eq!(flag(&p.args, "--reasoning-parser"), Some("deepseek-r1"));
            // One process per node, each with its rank.
            for (rank, node) in p.nodes.iter().enumerate() {
                let r = rank.to_string();
                let expect = (p.nodes.len() > 1).then_some(r.as_str());
                assert_eq!(flag(&node.args, "--node-rank"), expect, "{what}");
            }
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} SGLang plans were checked");
}

#[test]
fn trtllm_commands_carry_the_sized_fraction_in_their_options_file() {
    let c = catalog();
    let mut n = 0;
    for gpu in DATACENTER {
        let hw = machine(gpu);
        for kv in [KvDtype::Bf16, KvDtype::Fp8] {
            for case in cases(&c, "trtllm", &hw, kv) {
                let p = &case.launch;
                let what = format!("{} {} on {gpu}", case.d.model.id, case.d.quant.id);
                assert_eq!(p.program, "trtllm-serve");
                let file = &p.files[0];
                assert_eq!(
                    flag(&p.args, "--extra_llm_api_options"),
                    Some(file.path.as_str())
                );
                let options: serde_json::Value = serde_yaml_ng::from_str(&file.content).unwrap();
                // KvCacheConfig.free_gpu_memory_fraction, TRT-LLM's default the pool was sized by.
                assert_eq!(
                    options["kv_cache_config"]["free_gpu_memory_fraction"], 0.9,
                    "{what}"
                );
                let kv_type = options["kv_cache_config"]["dtype"].as_str();
                assert_eq!(kv_type, (kv == KvDtype::Fp8).then_some("fp8"), "{what}");
                let online = options["quant_config"]["quant_algo"].as_str();
                assert_safetensors_artifact(
                    &case,
                    &p.args[0],
                    online.map(|_| "fp8"),
                    options["dtype"] == "float16",
                );
                assert_eq!(
                    online.is_some(),
                    flag(&p.args, "--backend") == Some("tensorrt")
                );
                let tp = case.mem.placement.tensor_parallel.to_string();
                assert_eq!(flag(&p.args, "--tp_size"), Some(tp.as_str()), "{what}");
                assert_eq!(flag(&p.args, "--max_seq_len"), Some("8192"), "{what}");
                assert_eq!(flag(&p.args, "--max_batch_size"), Some("8"), "{what}");
                n += 1;
            }
        }
    }
    assert!(n >= 30, "only {n} TensorRT-LLM plans were checked");
}

#[test]
fn trtllm_is_not_offered_int4_or_int8_without_a_checkpoint_it_loads() {
    let c = catalog();
    let hw = machine("h100-sxm");
    let why = unsupported(
        c.model("14b").unwrap(),
        c.quant("int4").unwrap(),
        c.engine("trtllm").unwrap(),
        &hw,
        1,
    )
    .unwrap();
    assert!(why.contains("no published int4 checkpoint"), "{why}");
}

#[test]
fn llama_cpp_commands_load_the_gguf_of_the_sized_quant_with_its_placement() {
    let c = catalog();
    let mut n = 0;
    for gpu in ["rtx-4090", "rtx-4090:2", "h100-sxm", "rtx-3060"] {
        let hw = machine(gpu);
        for kv in [KvDtype::Bf16, KvDtype::Q8_0] {
            for case in cases(&c, "llama.cpp", &hw, kv) {
                let p = &case.launch;
                let m = case.d.model;
                let what = format!("{} {} on {gpu}", m.id, case.d.quant.id);
                let expected = format!("{}:{}", m.repos["gguf"], gguf_type(&case.d.quant.id));
                assert_eq!(flag(&p.args, "-hf"), Some(expected.as_str()), "{what}");
                assert_eq!(
                    flag(&p.args, "--ctx-size"),
                    Some("65536"),
                    "{what}: 8 slots of 8K"
                );
                assert_eq!(flag(&p.args, "--parallel"), Some("8"), "{what}");
                let pl = &case.mem.placement;
                let ngl: u32 = flag(&p.args, "--n-gpu-layers").unwrap().parse().unwrap();
                if pl.cpu_layers == 0 {
                    assert_eq!(ngl, m.layers() + 1, "{what}: every layer and the output");
                }
                match flag(&p.args, "--tensor-split") {
                    Some(split) => {
                        let layers: u32 = split.split(',').map(|x| x.parse::<u32>().unwrap()).sum();
                        assert_eq!(layers, pl.gpu_layers.min(m.layers()), "{what}");
                        assert_eq!(split.split(',').count() as u32, hw.gpu_count());
                    }
                    None => assert_eq!(hw.gpu_count(), 1, "{what}"),
                }
                let cache = flag(&p.args, "--cache-type-k");
                assert_eq!(cache, (kv == KvDtype::Q8_0).then_some("q8_0"), "{what}");
                assert_eq!(flag(&p.args, "--temp"), Some("0.6"));
                assert_eq!(flag(&p.args, "--top-p"), Some("0.95"));
                n += 1;
            }
        }
    }
    assert!(n >= 60, "only {n} llama.cpp plans were checked");
}

#[test]
fn ollama_serves_with_its_settings_in_the_environment_and_never_a_sharded_gguf() {
    let c = catalog();
    let mut n = 0;
    for gpu in ["rtx-4090", "rtx-4090:2", "h100-sxm:8"] {
        let hw = machine(gpu);
        for case in cases(&c, "ollama", &hw, KvDtype::Bf16) {
            let p = &case.launch;
            let m = case.d.model;
            let q = case.d.quant.id.as_str();
            let what = format!("{} {q} on {gpu}", m.id);
            assert_eq!(
                (p.program.as_str(), p.args.as_slice()),
                ("ollama", &["serve".to_string()][..])
            );
            let env = |k: &str| p.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(env("OLLAMA_CONTEXT_LENGTH"), Some("8192"), "{what}");
            assert_eq!(env("OLLAMA_NUM_PARALLEL"), Some("8"), "{what}");
            let pulled = &p.after[1];
            let library = match q {
                "q4_k_m" => m.ollama_tag.clone(),
                _ => m.ollama_tags.get(q).cloned(),
            };
            match library {
                Some(tag) => assert_eq!(pulled[2], tag, "{what}"),
                None => {
                    let expected = format!("hf.co/{}:{}", m.repos["gguf"], gguf_type(q));
                    assert_eq!(pulled[2], expected, "{what}");
                    let bytes = r1pick::sizing::weights::checkpoint_bytes(m, case.d.quant);
                    assert!(
                        bytes <= 50e9,
                        "{what}: a {:.0} GB GGUF is sharded",
                        bytes / 1e9
                    );
                }
            }
            assert!(p.files[0].content.contains("PARAMETER temperature 0.6\n"));
            assert!(p.files[0].content.contains("PARAMETER top_p 0.95\n"));
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} Ollama plans were checked");
}

#[test]
fn ollama_refuses_the_sharded_january_671b_and_runs_the_0528_library_tag() {
    let c = catalog();
    let hw = machine("h100-sxm:8");
    let ollama = c.engine("ollama").unwrap();
    let why = unsupported(
        c.model("671b").unwrap(),
        c.quant("ud-iq1_s").unwrap(),
        ollama,
        &hw,
        8,
    )
    .unwrap();
    assert!(why.contains("Ollama cannot load a sharded GGUF"), "{why}");
    // ollama.com/library/deepseek-r1: the 671b tag holds R1-0528.
    assert_eq!(c.model("deepseek-r1:671b").unwrap().id, "deepseek-r1-0528");
}

#[test]
fn the_t4_chat_recommendation_loads_what_it_sized() {
    let c = catalog();
    let hw = machine("t4");
    // The 0528 Qwen3-8B has no published INT4/INT8 checkpoint: nothing offers them.
    let why = unsupported(
        c.model("r1-0528-8b").unwrap(),
        c.quant("int4").unwrap(),
        c.engine("vllm").unwrap(),
        &hw,
        1,
    )
    .unwrap();
    assert!(why.contains("no published int4 artifact"), "{why}");
    // FP16 on a T4 (compute capability 7.5): the BF16 repo cast with --dtype half.
    let d = crate::util::deployment(&c, "7b", "fp16", "vllm", 1, workload(8192, 1024, 1024, 4));
    let p = launch::plan(&d, &plan(&d, &hw).unwrap()).unwrap();
    assert_eq!(p.args[1], "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B");
    assert_eq!(flag(&p.args, "--dtype"), Some("half"));
}

#[test]
fn recommend_launches_every_pick_with_the_plan_it_printed() {
    // The JSON's `launch` is the LaunchPlan of the recommended deployment.
    for args in [
        "recommend --task chat --gpu t4 --engine vllm --json",
        "recommend --task code --gpu h100-sxm --json",
        "recommend --task chat --gpu rtx-4090 --engine llama.cpp --json",
        "recommend --task chat --gpu rtx-4090 --engine ollama --json",
        "recommend --task math --gpu h100-sxm:2 --engine sglang --json",
        "recommend --task code --gpu l40s:4 --engine trtllm --json",
    ] {
        let out = crate::util::r1pick()
            .args(args.split_whitespace())
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &doc["recommendation"];
        assert!(r.is_object(), "{args}: {doc}");
        let d = r;
        let launch = &r["launch"];
        let args_of = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect()
        };
        let a = args_of(&launch["args"]);
        let context = d["workload"]["context"].to_string();
        let seqs = d["workload"]["concurrency"].to_string();
        match d["engine"].as_str().unwrap() {
            "vllm" => {
                assert_eq!(
                    flag(&a, "--max-model-len"),
                    Some(context.as_str()),
                    "{args}"
                );
                assert_eq!(flag(&a, "--max-num-seqs"), Some(seqs.as_str()), "{args}");
                let fp16 = d["quant"] == "fp16";
                assert_eq!(flag(&a, "--dtype") == Some("half"), fp16, "{args}");
            }
            "sglang" => {
                assert_eq!(
                    flag(&a, "--context-length"),
                    Some(context.as_str()),
                    "{args}"
                );
                assert_eq!(
                    flag(&a, "--max-running-requests"),
                    Some(seqs.as_str()),
                    "{args}"
                );
            }
            "trtllm" => {
                assert_eq!(flag(&a, "--max_seq_len"), Some(context.as_str()), "{args}");
                assert_eq!(flag(&a, "--max_batch_size"), Some(seqs.as_str()), "{args}");
            }
            "llama.cpp" => {
                assert_eq!(flag(&a, "--parallel"), Some(seqs.as_str()), "{args}");
            }
            "ollama" => {
                assert_eq!(a, ["serve"], "{args}");
            }
            other => panic!("{args}: {other}"),
        }
        assert_eq!(launch["nodes"][0]["role"], "head");
        assert!(!has(&a, "HEAD_NODE_IP"));
    }
}

/// tests/data/engine_options.toml: the options each engine's own parser defines.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineParsers {
    engine: Vec<EngineParser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineParser {
    id: String,
    /// The word after which the serving process's options start.
    marker: String,
    /// The package and version the options were read in.
    read_in: String,
    option: Vec<ParserOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParserOption {
    name: String,
    /// Where the engine's parser defines it.
    at: String,
    /// The values the parser accepts, where it takes a fixed set.
    #[serde(default)]
    values: Vec<String>,
}

/// Every launch plan r1pick makes for `engine` over a spread of machines, cache types and the
/// 671B's parallel layouts: one GPU to two nodes, MTP, EP with DP attention, experts in host RAM.
fn launch_plans(c: &Catalog, engine: &str) -> Vec<LaunchPlan> {
    let gpus = [
        "t4",
        "v100-sxm2-32gb",
        "a100-sxm-80gb",
        "l40s:2",
        "rtx-4090:2",
        "h100-sxm",
        "h100-sxm:8",
        "h100-sxm:16",
        "h200:8",
        "b200:8",
        "mi300x",
    ];
    let kv_types = [KvDtype::Bf16, KvDtype::Fp8, KvDtype::Q8_0, KvDtype::Q4_0];
    let mut plans = vec![];
    for gpu in gpus {
        let hw = machine(gpu);
        for kv in kv_types {
            plans.extend(
                cases(c, engine, &hw, kv)
                    .into_iter()
                    .map(|case| case.launch),
            );
        }
    }
    let e = c.engine(engine).unwrap();
    let r1 = c.model("deepseek-r1").unwrap();
    let layouts = [
        (0, Parallel::default()),
        (3, Parallel::default()),
        (
            0,
            Parallel {
                ep: 16,
                dp: 16,
                redundant_experts: 32,
            },
        ),
    ];
    for (gpu, quant) in [
        ("h100-sxm:16", "fp8"),
        ("h200:8", "fp8"),
        ("b200:8", "nvfp4"),
    ] {
        let hw = machine(gpu);
        for (mtp, parallel) in layouts {
            let mut d = Deployment::new(
                r1,
                c.quant(quant).unwrap(),
                e,
                hw.gpu_count(),
                workload(8192, 2048, 2048, 8),
            );
            d.mtp = mtp;
            d.parallel = Parallel {
                ep: parallel.ep.min(hw.gpu_count()),
                dp: parallel.dp.min(hw.gpu_count()),
                ..parallel
            };
            if unsupported(r1, d.quant, e, &hw, hw.gpu_count()).is_some() {
                continue;
            }
            if let Ok(mem) = plan(&d, &hw)
                && mem.fits
                && let Ok(launch) = launch::plan(&d, &mem)
            {
                plans.push(launch);
            }
        }
    }
    // The 671B at 1.58 bits with its experts in host memory (`--n-cpu-moe`).
    let hw = machine_with_ram("h100-sxm", 512 << 30);
    plans.extend(
        cases(c, engine, &hw, KvDtype::engine_default(e))
            .into_iter()
            .map(|case| case.launch),
    );
    plans
}

/// The options of a serving process's command line (`program args…`) after `marker`, each with
/// the word that follows it.
fn options_after<'a>(words: &'a [String], marker: &str) -> Vec<(&'a str, Option<&'a str>)> {
    let Some(start) = words.iter().position(|w| w == marker) else {
        return vec![];
    };
    let rest = &words[start + 1..];
    rest.iter()
        .enumerate()
        .filter(|(_, w)| w.starts_with('-') && w.len() > 1)
        .map(|(i, w)| (w.as_str(), rest.get(i + 1).map(String::as_str)))
        .collect()
}

/// What you print runs (issue 10 item 8): every option of every launch command, on every node, is
/// one the engine's parser defines (vLLM 0.11.0 and 0.9.2, SGLang 0.5.5, llama.cpp, read in their
/// published packages; TensorRT-LLM from its docs), with a value it accepts where it takes a fixed
/// set; and each option listed there is still printed somewhere, so the list is what r1pick uses.
#[test]
fn every_printed_option_is_one_the_engine_parses() {
    let parsers: EngineParsers =
        toml::from_str(include_str!("../data/engine_options.toml")).unwrap();
    let c = catalog();
    for parser in &parsers.engine {
        // Every entry says where it was read: an option without a source is not checked.
        assert!(!parser.read_in.trim().is_empty(), "{}: read_in", parser.id);
        for o in &parser.option {
            assert!(
                !o.at.trim().is_empty(),
                "{} {}: no source",
                parser.id,
                o.name
            );
        }
        let known: BTreeMap<&str, &ParserOption> =
            parser.option.iter().map(|o| (o.name.as_str(), o)).collect();
        let mut seen = BTreeSet::new();
        let plans = launch_plans(&c, &parser.id);
        assert!(plans.len() >= 20, "{}: {} plans", parser.id, plans.len());
        for p in &plans {
            for node in &p.nodes {
                let words: Vec<String> = std::iter::once(node.program.clone())
                    .chain(node.args.iter().cloned())
                    .collect();
                for (name, value) in options_after(&words, &parser.marker) {
                    let line = words.join(" ");
                    let Some(option) = known.get(name) else {
                        panic!(
                            "{}: {name} is not an option of its parser: {line}",
                            parser.id
                        )
                    };
                    if !option.values.is_empty() {
                        let value = value.unwrap_or_default();
                        assert!(
                            option.values.iter().any(|v| v == value),
                            "{}: {name} {value} is not one of {:?}: {line}",
                            parser.id,
                            option.values
                        );
                    }
                    seen.insert(name.to_string());
                }
            }
        }
        let unused: Vec<&str> = known
            .keys()
            .copied()
            .filter(|name| !seen.contains(*name))
            .collect();
        assert!(
            unused.is_empty(),
            "{}: listed but never printed: {unused:?}",
            parser.id
        );
    }
}

/// Under load a paged engine's memory is sized for one request, but the server it prints must admit
/// what the serving model ran: under `estimate --rate` the load's `max_batch` (it printed
/// `--max-num-seqs 1`), under `plan --concurrency` each replica's users.
#[test]
fn a_loaded_server_launches_the_sequences_it_was_modelled_with() {
    let out = crate::util::r1pick()
        .args(
            "plan --task chat --gpu h100-sxm --concurrency 64 --engine vllm --emit command"
                .split(' '),
        )
        .output()
        .unwrap();
    let command = String::from_utf8(out.stdout).unwrap();
    assert!(command.contains(" --max-num-seqs 64 "), "{command}");
    for (engine, flag) in [
        ("vllm", "--max-num-seqs"),
        ("sglang", "--max-running-requests"),
    ] {
        let args = [
            "estimate", "7b", "--quant", "bf16", "--engine", engine, "--gpu", "h100-sxm", "--rate",
            "20/s",
        ];
        let out = crate::util::r1pick()
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let batch = doc["performance"]["load"]["max_batch"].as_u64().unwrap();
        assert!(batch > 100, "{engine}: max_batch {batch}");
        let out = crate::util::r1pick()
            .args(args)
            .args(["--emit", "command"])
            .output()
            .unwrap();
        let command = String::from_utf8(out.stdout).unwrap();
        assert!(
            command.contains(&format!(" {flag} {batch} ")),
            "{engine}: {command}"
        );
    }
}
