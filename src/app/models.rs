//! `r1pick models`, `r1pick gpus` and `r1pick tasks`: the catalog.

use crate::catalog::model::Architecture;
use crate::catalog::{GpuSpec, ParamBreakdown};
use crate::error::Result;
use crate::report::models::{
    GpuEntry, GpusDocument, ModelEntry, ModelsDocument, QuantSize, ReadDocument, ReadFromFile,
};
use crate::report::tasks::TasksDocument;
use crate::report::{render, schema};
use crate::sizing::kv::{KvDtype, per_token};
use crate::sizing::weights::checkpoint_bytes;

use super::{Context, Outcome};

/// One model's row: parameters, KV per token, context and file sizes, computed from its architecture.
fn entry(c: &crate::catalog::Catalog, m: &crate::catalog::Model) -> ModelEntry {
    let p = ParamBreakdown::of(m);
    ModelEntry {
        id: m.id.clone(),
        name: m.name.clone(),
        aliases: m.aliases.clone(),
        hf_repo: m.hf_repo.clone(),
        native_quant: m.native_quant().unwrap_or_default().to_string(),
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
    let doc = ReadDocument(ModelsDocument {
        schema: schema("models"),
        models: vec![e],
    });
    Ok(Outcome::ok(render(&doc, ctx.format)))
}

pub fn models(ctx: &Context) -> Result<Outcome> {
    let c = &ctx.catalog;
    let entries: Vec<ModelEntry> = c.models.iter().map(|m| entry(c, m)).collect();
    let doc = ModelsDocument {
        schema: schema("models"),
        models: entries,
    };
    Ok(Outcome::ok(render(&doc, ctx.format)))
}

pub fn gpus(ctx: &Context) -> Result<Outcome> {
    let c = &ctx.catalog;
    let doc = GpusDocument {
        schema: schema("gpus"),
        gpus: c
            .gpus
            .iter()
            .map(|g| GpuEntry {
                spec: g.clone(),
                memory_bytes: g.memory_bytes(),
                price_usd_per_hour: g.usd_per_hour,
                price_from: price_from(c, g),
            })
            .collect(),
    };
    Ok(Outcome::ok(render(&doc, ctx.format)))
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

/// `r1pick tasks`: the task policies, in the catalog's order.
pub fn tasks(ctx: &Context) -> Outcome {
    let doc = TasksDocument {
        schema: schema("tasks"),
        tasks: ctx.catalog.tasks.clone(),
    };
    Outcome::ok(render(&doc, ctx.format))
}
