//! Shared helpers for the integration tests.
#![allow(dead_code)]

use r1pick::catalog::model::{Architecture, DenseArch, Model, Scores};
use r1pick::catalog::{Catalog, Engine, Quant};
use r1pick::hardware::Hardware;
use r1pick::hardware::simulate::{SimulationRequest, simulate};
use r1pick::sizing::{Deployment, KvDtype, Workload};

/// Exact parameter recounts of the distills' config.json (models.md §1a "Params, exact recount").
pub const DISTILL_PARAMS: [(&str, u64); 6] = [
    ("1.5b", 1_777_088_000),
    ("7b", 7_615_616_512),
    ("8b", 8_030_261_248),
    ("14b", 14_770_033_664),
    ("32b", 32_763_876_352),
    ("70b", 70_553_706_496),
];

pub fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded catalog loads")
}

/// A simulated machine: `machine("h100-sxm:8")`.
pub fn machine(gpu: &str) -> Hardware {
    let req = SimulationRequest {
        gpu_specs: vec![gpu.to_string()],
        ..Default::default()
    };
    simulate(&catalog(), &req).expect("simulated machine")
}

/// A simulated machine with a given host RAM: `machine_with_ram("rtx-4090", 256 << 30)`.
pub fn machine_with_ram(gpu: &str, ram_bytes: u64) -> Hardware {
    let req = SimulationRequest {
        gpu_specs: vec![gpu.to_string()],
        ram_bytes: Some(ram_bytes),
        ..Default::default()
    };
    simulate(&catalog(), &req).expect("simulated machine")
}

pub fn within(actual: f64, expected: f64, tolerance: f64) -> bool {
    ((actual - expected) / expected).abs() <= tolerance
}

#[track_caller]
pub fn assert_within(what: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        within(actual, expected, tolerance),
        "{what}: {actual} is not within {:.1}% of {expected} ({:+.2}%)",
        tolerance * 100.0,
        (actual - expected) / expected * 100.0
    );
}

pub fn r1pick() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("r1pick").expect("binary built");
    cmd.env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .env_remove("R1PICK_FORMAT")
        .env_remove("R1PICK_CONFIG")
        .env("R1PICK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
        .env_remove("R1PICK_NVML_SNAPSHOT")
        .env_remove("CUDA_VISIBLE_DEVICES");
    cmd
}

/// A command line as the tests write it, one string ("recommend --task chat --gpu rtx-4090"),
/// split into its arguments (none of them holds a space).
pub fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// What `r1pick ARGS` prints on stdout, whatever its exit code.
#[track_caller]
pub fn stdout(args: &[&str]) -> String {
    let out = r1pick().args(args).output().expect("r1pick runs");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What `r1pick ARGS --json` prints, as JSON, once it exited with `code` (its stderr in the
/// failure message).
#[track_caller]
pub fn json_exit(args: &[&str], code: i32) -> serde_json::Value {
    let out = r1pick()
        .args(args)
        .arg("--json")
        .output()
        .expect("r1pick runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// [`json_exit`] of a run that succeeds.
#[track_caller]
pub fn json(args: &[&str]) -> serde_json::Value {
    json_exit(args, 0)
}

/// The documented refusal of bad input: exit 2, one line on stderr that contains `needle`, nothing
/// on stdout.
#[track_caller]
pub fn assert_refused(args: &[&str], needle: &str) {
    let out = r1pick().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
}

/// A dense model that is not in the catalog, built from its architecture (Llama / Qwen shapes the
/// published measurements ran).
pub fn dense_model(id: &str, name: &str, a: DenseArch, quant: &str) -> Model {
    model_of(id, name, Architecture::Dense(a), quant)
}

/// A model of any architecture outside the catalog, offered in one quant.
pub fn model_of(id: &str, name: &str, arch: Architecture, quant: &str) -> Model {
    Model {
        id: id.to_string(),
        name: name.to_string(),
        aliases: vec![],
        hf_repo: String::new(),
        hf_repo_quant: "bf16".to_string(),
        ollama_tag: None,
        license: String::new(),
        base_model: String::new(),
        max_context: 131_072,
        quants: vec![quant.to_string()],
        note: None,
        repos: Default::default(),
        gguf_mla_kv: None,
        ollama_tags: Default::default(),
        arch,
        scores: Scores::default(),
        source: Default::default(),
        measured: None,
    }
}

/// A dense reference architecture of a measurement file (tests/data: the calibration rows'
/// `[[reference_model]]`, the serving runs' `[[reference]]`): a model the measurements ran that
/// the catalog does not carry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceArch {
    pub id: String,
    /// As the source names it; the id where the file gives none.
    pub name: Option<String>,
    #[allow(dead_code)]
    pub source: String,
    pub layers: u32,
    pub hidden: u32,
    pub ffn: u32,
    pub heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub vocab: u32,
    #[serde(default)]
    pub tied_embeddings: bool,
    #[serde(default)]
    pub qkv_bias: bool,
    #[serde(default)]
    pub qk_norm: bool,
}

impl ReferenceArch {
    /// The architecture as a model in `quant`.
    pub fn model(&self, quant: &str) -> Model {
        dense_model(
            &self.id,
            self.name.as_deref().unwrap_or(&self.id),
            DenseArch {
                layers: self.layers,
                hidden: self.hidden,
                ffn: self.ffn,
                heads: self.heads,
                kv_heads: self.kv_heads,
                head_dim: self.head_dim,
                vocab: self.vocab,
                tied_embeddings: self.tied_embeddings,
                qkv_bias: self.qkv_bias,
                qk_norm: self.qk_norm,
                sliding_window: None,
            },
            quant,
        )
    }
}

/// `model` × `quant` on `engine` over `gpus` GPUs, by catalog ids or aliases.
pub fn deployment<'a>(
    c: &'a Catalog,
    model: &str,
    quant: &str,
    engine: &str,
    gpus: u32,
    workload: Workload,
) -> Deployment<'a> {
    Deployment::new(
        c.model(model).unwrap(),
        c.quant(quant).unwrap(),
        c.engine(engine).unwrap(),
        gpus,
        workload,
    )
}

/// `model` × `quant` on `engine` over `gpus` GPUs with a `kv` cache: the engine's own tensor
/// parallelism and MLA layout, no MTP, no EP (the deployment the sizing, speed and serving tests
/// share).
pub fn deployed<'a>(
    model: &'a Model,
    quant: &'a Quant,
    engine: &'a Engine,
    gpus: u32,
    kv: KvDtype,
    workload: Workload,
) -> Deployment<'a> {
    Deployment {
        kv_dtype: kv,
        ..Deployment::new(model, quant, engine, gpus, workload)
    }
}

pub fn workload(context: u32, prompt: u32, output: u32, concurrency: u32) -> Workload {
    Workload {
        context,
        prompt,
        output,
        concurrency,
    }
}

/// `estimate` of the 671B FP8 on 2 × 8 H100 with `engine`.
pub fn two_nodes(engine: &str) -> [&str; 8] {
    [
        "estimate",
        "671b",
        "--quant",
        "fp8",
        "--engine",
        engine,
        "--gpu",
        "h100-sxm:16",
    ]
}
