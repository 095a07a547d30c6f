//! `models` and `gpus`: the catalog; `models --from`: what r1pick read from a file.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Render, align_right, params, table};
use crate::catalog::GpuSpec;
use crate::catalog::model::{ModelSource, Scores};

#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelsDocument {
    pub schema: String,
    pub models: Vec<ModelEntry>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub hf_repo: String,
    /// The released precision (`Model::native_quant`), the table's "native" column.
    #[serde(skip)]
    #[schemars(skip)]
    pub native_quant: String,
    pub ollama_tag: Option<String>,
    pub license: String,
    pub base_model: String,
    pub architecture: String,
    pub params: u64,
    pub active_params: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtp_params: Option<u64>,
    pub layers: u32,
    pub hidden: u32,
    pub max_context: u32,
    /// KV bytes per token in BF16 (MLA latent layout for the 671B).
    pub kv_bytes_per_token: u64,
    pub scores: Scores,
    pub quants: Vec<QuantSize>,
    /// What was read from the file, for `models --from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<ReadFromFile>,
}

/// What r1pick read from a file the user brought.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadFromFile {
    pub model_source: ModelSource,
    /// config.json `model_type` (or the one a GGUF architecture stands for).
    pub model_type: String,
    pub tied_embeddings: bool,
    /// Weight precision of the file (`bf16`, `fp8`, `gguf, 4.89 bits per weight`, …).
    pub precision: String,
    /// RoPE scaling as declared; never multiplied into `max_context`.
    pub rope_scaling: Option<String>,
    pub sliding_window: Option<u32>,
    /// Bytes of the weights as stored: the safetensors index's total_size or a GGUF's tensors.
    pub checkpoint_bytes: Option<u64>,
    pub tensors: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QuantSize {
    pub quant: String,
    /// Size of the published checkpoint/GGUF in bytes, as r1pick computes it.
    pub file_bytes: u64,
    /// Fraction of the paper score kept (quants.toml).
    pub retention: f64,
}

impl Render for ModelsDocument {
    fn table(&self) -> String {
        let mut t = table(&[
            "model", "alias", "params", "active", "layers", "context", "KV/token", "AIME24",
            "GPQA", "LCB", "Q4_K_M", "native",
        ]);
        for e in &self.models {
            let size = |id: &str| {
                e.quants
                    .iter()
                    .find(|q| q.quant == id)
                    .map(|q| format!("{:.1} GB", q.file_bytes as f64 / 1e9))
                    .unwrap_or_else(|| "–".into())
            };
            let native = e.native_quant.as_str();
            let score =
                |s: Option<f64>| s.map(crate::quantity::score).unwrap_or_else(|| "–".into());
            t.add_row(vec![
                e.id.clone(),
                e.aliases.first().cloned().unwrap_or_default(),
                params(e.params),
                params(e.active_params),
                e.layers.to_string(),
                e.max_context.to_string(),
                format!("{} B", e.kv_bytes_per_token),
                score(e.scores.aime_2024),
                score(e.scores.gpqa_diamond),
                score(e.scores.livecodebench),
                size("q4_k_m"),
                format!("{} {}", native, size(native)),
            ]);
        }
        align_right(&mut t, &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        format!(
            "{t}\nScores: R1 paper (Tables 4–5); 0528 rows from their model cards. 70B is a dense Llama; only the 671B is a mixture of experts.\n"
        )
    }
}

/// `models --from FILE`: the models document of the one model read, whose table is what was read.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ReadDocument(pub ModelsDocument);

impl Render for ReadDocument {
    fn table(&self) -> String {
        self.0
            .models
            .first()
            .map(from_file_table)
            .unwrap_or_default()
    }
}

fn from_file_table(e: &ModelEntry) -> String {
    let Some(r) = &e.read else {
        return String::new();
    };
    let opt = |v: Option<String>| v.unwrap_or_else(|| "–".into());
    let mut t = table(&["read", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("source", r.model_source.label().to_string()),
        ("model_type", r.model_type.clone()),
        ("parameters", format!("{} ({})", e.params, params(e.params))),
        (
            "active parameters",
            format!("{} ({})", e.active_params, params(e.active_params)),
        ),
        ("layers", e.layers.to_string()),
        ("hidden size", e.hidden.to_string()),
        ("tied embeddings", r.tied_embeddings.to_string()),
        (
            "KV bytes per token (bf16)",
            e.kv_bytes_per_token.to_string(),
        ),
        ("max context", e.max_context.to_string()),
        (
            "RoPE scaling (not multiplied in)",
            opt(r.rope_scaling.clone()),
        ),
        (
            "sliding window",
            opt(r.sliding_window.map(|w| w.to_string())),
        ),
        ("precision", r.precision.clone()),
        (
            "checkpoint bytes",
            opt(r.checkpoint_bytes.map(|b| b.to_string())),
        ),
        ("tensors", opt(r.tensors.map(|n| n.to_string()))),
        (
            "quants",
            e.quants
                .iter()
                .map(|q| q.quant.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    format!("{}\n{t}\n", e.id)
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GpusDocument {
    pub schema: String,
    pub gpus: Vec<GpuEntry>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GpuEntry {
    #[serde(flatten)]
    pub spec: GpuSpec,
    pub memory_bytes: u64,
    /// USD per GPU-hour r1pick costs this GPU at: the median of its on-demand rows in
    /// data/prices.toml, or your `--prices` file's; null when no source lists it.
    pub price_usd_per_hour: Option<f64>,
    /// Who the price comes from, short, for the table.
    #[serde(skip)]
    pub price_from: String,
}

impl Render for GpusDocument {
    fn table(&self) -> String {
        let mut t = table(&[
            "id",
            "name",
            "memory",
            "GB/s",
            "FP16 TF",
            "FP8 TF",
            "link",
            "$/GPU-h",
            "price from",
        ]);
        for e in &self.gpus {
            let g = &e.spec;
            t.add_row(vec![
                g.id.clone(),
                g.name.clone(),
                format!("{:.0} GiB", g.memory_gib),
                format!("{:.0}", g.bandwidth_gb_s),
                format!("{:.1}", g.fp16_tflops),
                g.fp8_tflops
                    .map(|f| format!("{f:.0}"))
                    .unwrap_or_else(|| "–".into()),
                g.interconnect.id().to_string(),
                g.usd_per_hour
                    .map(|p| format!("{p:.2}"))
                    .unwrap_or_else(|| "–".into()),
                e.price_from.clone(),
            ]);
        }
        align_right(&mut t, &[2, 3, 4, 5, 7]);
        format!(
            "{t}\nUse an id (or a close spelling such as 4090) with --gpu; add :N for a count.\n\
             Prices: the median of each GPU's on-demand list prices in data/prices.toml (URLs in --json price_source); --prices FILE sets your own.\n"
        )
    }
}
