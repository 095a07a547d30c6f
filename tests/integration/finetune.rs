//! Fine-tuning memory and time: published peaks (data/training-calibration.toml), exact adapter
//! counts, the command's output and its refusals.

use std::collections::BTreeMap;

use clap::ValueEnum;
use r1pick::catalog::Model;
use r1pick::catalog::model::{Architecture, DenseArch, Scores};
use r1pick::training::lora::{adapter_params, linear_params};
use r1pick::training::{
    Checkpointing, Method, Optimizer, Sharding, Targets, TrainSetup, TrainingConstants, max_seq,
    memory,
};
use serde::Deserialize;
use serde_json::Value;

use crate::util::{assert_refused, machine, r1pick, within};

const GIB: f64 = (1u64 << 30) as f64;

/// A Llama 3 model from its published config.json (meta-llama/Llama-3.1-8B, Llama-3.3-70B): these
/// are not R1 variants, so they are not in the catalog.
fn llama(id: &str, layers: u32, hidden: u32, ffn: u32, heads: u32) -> Model {
    Model {
        id: id.into(),
        name: id.into(),
        aliases: vec![],
        hf_repo: format!("meta-llama/{id}"),
        ollama_tag: None,
        license: "Llama 3 community license".into(),
        base_model: "Llama".into(),
        max_context: 131_072,
        quants: vec!["bf16".into()],
        note: None,
        ollama_tags: BTreeMap::new(),
        repos: BTreeMap::new(),
        arch: Architecture::Dense(DenseArch {
            layers,
            hidden,
            ffn,
            heads,
            kv_heads: 8,
            head_dim: 128,
            vocab: 128_256,
            tied_embeddings: false,
            qkv_bias: false,
            qk_norm: false,
        }),
        scores: Scores::default(),
    }
}

fn model(id: &str) -> Model {
    match id {
        "llama-3.1-8b" => llama(id, 32, 4096, 14336, 32),
        "llama-3.3-70b" => llama(id, 80, 8192, 28672, 64),
        other => panic!("calibration model {other} is not defined here"),
    }
}

fn arch(m: &Model) -> &DenseArch {
    match &m.arch {
        Architecture::Dense(a) => a,
        Architecture::Moe(_) => unreachable!(),
    }
}

#[derive(Deserialize)]
struct Calibration {
    #[allow(dead_code)]
    schema_version: u32,
    peak: Vec<Row>,
    max_context: Vec<Row>,
}

/// One published figure with its settings.
#[derive(Deserialize)]
struct Row {
    name: String,
    model: String,
    #[serde(default)]
    gpu: Option<String>,
    #[serde(default = "one")]
    gpus: u32,
    #[serde(default)]
    gpu_gib: Option<f64>,
    method: String,
    #[serde(default = "one")]
    rank: u32,
    #[serde(default = "all")]
    targets: String,
    framework: String,
    optimizer: String,
    #[serde(default)]
    optimizer_in_backward: bool,
    checkpointing: String,
    #[serde(default = "none")]
    sharding: String,
    #[serde(default = "one")]
    seq: u32,
    micro_batch: u32,
    #[serde(default)]
    peak_gib: Option<f64>,
    #[serde(default)]
    tokens: Option<u32>,
    #[allow(dead_code)]
    assumed: String,
}

fn one() -> u32 {
    1
}
fn all() -> String {
    "all".into()
}
fn none() -> String {
    "none".into()
}

fn value<T: ValueEnum>(s: &str) -> T {
    T::from_str(s, true).unwrap_or_else(|e| panic!("calibration value '{s}': {e}"))
}

impl Row {
    fn setup(&self) -> TrainSetup {
        TrainSetup {
            method: value::<Method>(&self.method),
            rank: self.rank,
            targets: value::<Targets>(&self.targets),
            optimizer: value::<Optimizer>(&self.optimizer),
            seq: self.seq,
            micro_batch: self.micro_batch,
            checkpointing: value::<Checkpointing>(&self.checkpointing),
            sharding: value::<Sharding>(&self.sharding),
            gpus: self.gpus,
            offload_optimizer: false,
            optimizer_in_backward: self.optimizer_in_backward,
            framework: self.framework.clone(),
        }
    }
}

fn calibration() -> Calibration {
    let text = include_str!("../../data/training-calibration.toml");
    toml::from_str(text).expect("data/training-calibration.toml parses")
}

fn constants() -> TrainingConstants {
    TrainingConstants::embedded().expect("data/training.toml loads")
}

/// torchtune's peaks (PyTorch's counter: r1pick's total less the CUDA context), within 15%.
#[test]
fn calibration_torchtune_peaks_within_15_percent() {
    let c = constants();
    let mut failures = vec![];
    for row in calibration().peak {
        let gpu = row.gpu.as_deref().expect("a peak row names its GPU");
        let hw = machine(&format!("{gpu}:{}", row.gpus));
        let m = memory(
            &c,
            &model(&row.model),
            &row.setup(),
            hw.gpus[0].available_bytes,
            u64::MAX,
        )
        .unwrap();
        let torch = (m.total_bytes - m.overhead_bytes) as f64 / GIB;
        let published = row.peak_gib.expect("a peak row has peak_gib");
        println!(
            "{:<45} published {published:>5.1} GiB  r1pick {torch:>5.1} GiB  {:+.1}%",
            row.name,
            (torch - published) / published * 100.0
        );
        if !within(torch, published, 0.15) {
            failures.push(format!("{}: {torch:.2} GiB vs {published} GiB", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// unsloth's longest QLoRA context per GPU size, within 20%.
#[test]
fn calibration_unsloth_max_context_within_20_percent() {
    let c = constants();
    let mut failures = vec![];
    for row in calibration().max_context {
        let capacity = (row.gpu_gib.expect("a max_context row has gpu_gib") * GIB) as u64;
        let found = max_seq(&c, &model(&row.model), &row.setup(), capacity, u64::MAX)
            .unwrap()
            .expect("some context fits") as f64;
        let published = f64::from(row.tokens.expect("a max_context row has tokens"));
        println!(
            "{:<45} published {published:>8.0} tokens  r1pick {found:>8.0}  {:+.1}%",
            row.name,
            (found - published) / published * 100.0
        );
        if !within(found, published, 0.20) {
            failures.push(format!("{}: {found} vs {published}", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
