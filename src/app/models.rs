//! `r1pick models` and `r1pick gpus`: the catalog.

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::model::{Architecture, ModelSource, Scores};
use crate::catalog::{GpuSpec, ParamBreakdown};
use crate::cli::Format;
use crate::error::Result;
use crate::report::{align_right, params, schema, table, to_json};
use crate::sizing::kv::{KvDtype, per_token};
use crate::sizing::weights::checkpoint_bytes;

use super::{Context, Outcome};

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

/// One model's row: parameters, KV per token, context and file sizes, computed from its architecture.
fn entry(c: &crate::catalog::Catalog, m: &crate::catalog::Model) -> ModelEntry {
    let p = ParamBreakdown::of(m);
    ModelEntry {
        id: m.id.clone(),
        name: m.name.clone(),
        aliases: m.aliases.clone(),
        hf_repo: m.hf_repo.clone(),
        ollama_tag: m.ollama_tag.clone(),
        license: m.license.clone(),
        base_model: m.base_model.clone(),
        architecture: if m.is_moe() {
            "moe".into()
        } else {
            "dense".into()
        },
        params: p.total(),
        active_params: p.active(),
        mtp_params: (p.mtp > 0).then_some(p.mtp),
        layers: m.layers(),
        hidden: m.hidden(),
        max_context: m.max_context,
        kv_bytes_per_token: per_token(m, crate::catalog::MlaKvLayout::Latent, KvDtype::Bf16) as u64,
        scores: m.scores.clone(),
        quants: m
            .quants
            .iter()
            .filter_map(|q| c.quant(q).ok())
            .map(|q| QuantSize {
                quant: q.id.clone(),
                file_bytes: checkpoint_bytes(m, q).round() as u64,
                retention: q.retention_for(p.total()),
            })
            .collect(),
        read: None,
    }
}

/// `models --from FILE`: what r1pick read from a file, so a user can check it against the card.
pub fn from_file(ctx: &Context, from: &str) -> Result<Outcome> {
    let loaded = super::byo::load(&ctx.catalog, from)?;
    let (m, i) = (&loaded.model, &loaded.imported);
    let (tied, window) = match &m.arch {
        Architecture::Dense(a) => (a.tied_embeddings, a.sliding_window),
        Architecture::GqaMoe(a) => (a.tied_embeddings, a.sliding_window),
        Architecture::Moe(a) => (a.tied_embeddings, None),
    };
    let mut e = entry(&ctx.catalog, m);
    e.architecture = i.architecture.clone();
    e.read = Some(ReadFromFile {
        model_source: m.source,
        model_type: i.architecture.clone(),
        tied_embeddings: tied,
        precision: i.precision.label(),
        rope_scaling: i.rope_scaling.clone(),
        sliding_window: window,
        checkpoint_bytes: i.checkpoint_bytes,
        tensors: i.tensors,
    });
    let stdout = match ctx.format {
        Format::Json => to_json(&ModelsDocument {
            schema: schema("models"),
            models: vec![e],
        }),
        Format::Table => from_file_table(&e),
    };
    Ok(Outcome::ok(stdout))
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

pub fn models(ctx: &Context) -> Result<Outcome> {
    let c = &ctx.catalog;
    let entries: Vec<ModelEntry> = c.models.iter().map(|m| entry(c, m)).collect();
    let stdout = match ctx.format {
        Format::Json => to_json(&ModelsDocument {
            schema: schema("models"),
            models: entries,
        }),
        Format::Table => {
            let mut t = table(&[
                "model", "alias", "params", "active", "layers", "context", "KV/token", "AIME24",
                "GPQA", "LCB", "Q4_K_M", "native",
            ]);
            for e in &entries {
                let size = |id: &str| {
                    e.quants
                        .iter()
                        .find(|q| q.quant == id)
                        .map(|q| format!("{:.1} GB", q.file_bytes as f64 / 1e9))
                        .unwrap_or_else(|| "–".into())
                };
                let native = if e.architecture == "moe" {
                    "fp8"
                } else {
                    "bf16"
                };
                let score =
                    |s: Option<f64>| s.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into());
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
    };
    Ok(Outcome::ok(stdout))
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
}

pub fn gpus(ctx: &Context) -> Result<Outcome> {
    let c = &ctx.catalog;
    let stdout = match ctx.format {
        Format::Json => to_json(&GpusDocument {
            schema: schema("gpus"),
            gpus: c
                .gpus
                .iter()
                .map(|g| GpuEntry {
                    spec: g.clone(),
                    memory_bytes: g.memory_bytes(),
                    price_usd_per_hour: g.usd_per_hour,
                })
                .collect(),
        }),
        Format::Table => {
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
            for g in &c.gpus {
                t.add_row(vec![
                    g.id.clone(),
                    g.name.clone(),
                    format!("{:.0} GiB", g.memory_gib),
                    format!("{:.0}", g.bandwidth_gb_s),
                    format!("{:.1}", g.fp16_tflops),
                    g.fp8_tflops
                        .map(|f| format!("{f:.0}"))
                        .unwrap_or_else(|| "–".into()),
                    format!("{:?}", g.interconnect).to_lowercase(),
                    g.usd_per_hour
                        .map(|p| format!("{p:.2}"))
                        .unwrap_or_else(|| "–".into()),
                    price_from(c, g),
                ]);
            }
            align_right(&mut t, &[2, 3, 4, 5, 7]);
            format!(
                "{t}\nUse an id (or a close spelling such as 4090) with --gpu; add :N for a count.\n\
                 Prices: the median of each GPU's on-demand list prices in data/prices.toml (URLs in --json price_source); --prices FILE sets your own.\n"
            )
        }
    };
    Ok(Outcome::ok(stdout))
}

/// Who the price comes from, short: "DigitalOcean 2026-05-28", "Lambda, AWS (median)", "your file".
fn price_from(c: &crate::catalog::Catalog, g: &GpuSpec) -> String {
    let rows = c.prices_of(&g.id);
    match rows.as_slice() {
        [] if g.usd_per_hour.is_some() => "catalog entry".into(),
        [] => "–".into(),
        [one] => format!("{} {}", one.provider, one.date),
        many => {
            let names: Vec<&str> = many.iter().map(|r| r.provider.as_str()).collect();
            format!("median: {}", names.join(", "))
        }
    }
}
