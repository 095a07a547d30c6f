//! The typed catalog: models, quants, engines, GPUs and tasks from `data/*.toml`.
//!
//! The TOML files are embedded so that one installed binary works anywhere; `--catalog FILE` adds
//! entries or replaces those with the same id. Every file is validated when loaded: unknown keys and
//! wrong types are errors with a line number (serde + toml), and the cross-references (a model's
//! quants, an engine's quants) are checked here.

pub mod bounds;
pub mod engine;
pub mod gpu;
pub mod import;
pub mod model;
pub mod params;
pub mod price;
pub mod quant;
pub mod task;

use serde::Deserialize;

pub use engine::{Engine, MlaKvLayout, MultiGpu};
pub use gpu::{GpuSpec, Vendor};
pub use model::{Architecture, Benchmark, Model};
pub use params::ParamBreakdown;
pub use quant::Quant;
pub use task::{Task, Tier};

use crate::error::{Error, Result, unknown};

/// The catalog files, as build.rs converted them to JSON (parsed several times faster than the
/// TOML; the values are the same), under the names errors would give them.
const EMBEDDED: &[(&str, &str)] = &[
    ("data/models.toml", embedded_json!("models")),
    ("data/quants.toml", embedded_json!("quants")),
    ("data/engines.toml", embedded_json!("engines")),
    ("data/gpus.toml", embedded_json!("gpus")),
    ("data/tasks.toml", embedded_json!("tasks")),
];

/// The JSON build.rs wrote of `data/NAME.toml`.
macro_rules! embedded_json {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/", $name, ".json"))
    };
}
use embedded_json;

/// How a data file is written: TOML (every file a user gives) or the JSON of an embedded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
}

/// The version of the catalog file format this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One catalog file: any of the five tables, each optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    schema_version: Option<u32>,
    #[serde(default)]
    model: Vec<Model>,
    #[serde(default)]
    quant: Vec<Quant>,
    #[serde(default)]
    engine: Vec<Engine>,
    #[serde(default)]
    gpu: Vec<GpuSpec>,
    #[serde(default)]
    task: Vec<Task>,
    #[serde(default)]
    tier: Vec<Tier>,
    ranking: Option<task::Ranking>,
    retention_tiers: Option<quant::RetentionTiers>,
    default_engine: Option<engine::DefaultEngine>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub models: Vec<Model>,
    pub quants: Vec<Quant>,
    pub engines: Vec<Engine>,
    pub gpus: Vec<GpuSpec>,
    pub tasks: Vec<Task>,
    pub tiers: Vec<Tier>,
    /// How qualities are compared when ranking (data/tasks.toml `[ranking]`).
    pub ranking: task::Ranking,
    /// Model sizes between the retention tiers (data/quants.toml `[retention_tiers]`).
    pub retention_tiers: quant::RetentionTiers,
    /// The engine used when none is named (data/engines.toml `[default_engine]`).
    pub default_engine: engine::DefaultEngine,
    /// The price rows in force: data/prices.toml, with a `--prices` file's rows in place of the
    /// table's for each GPU it names.
    pub prices: Vec<price::PriceRow>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn embedded() -> Result<Self> {
        let mut catalog = Catalog::empty();
        for (name, text) in EMBEDDED {
            catalog.merge(parse_as(name, text, Format::Json)?);
        }
        catalog.price_gpus()?;
        catalog.validate("the embedded catalog")?;
        Ok(catalog)
    }

    /// The embedded catalog with a user file's entries added or replacing same-id entries.
    pub fn with_override(name: &str, text: &str) -> Result<Self> {
        let mut catalog = Catalog::embedded()?;
        let file = parse(name, text)?;
        catalog.merge(file);
        catalog.price_gpus()?;
        catalog.validate_with_source(name, text)?;
        Ok(catalog)
    }

    /// Price every GPU that has no price of its own from the embedded table (data/prices.toml).
    fn price_gpus(&mut self) -> Result<()> {
        self.prices = price::parse_as(
            "data/prices.toml",
            price::EMBEDDED,
            Format::Json,
            &self.gpus,
        )?;
        price::apply(&mut self.gpus, &self.prices, false);
        Ok(())
    }

    /// Replace the prices of the GPUs a user's price table names (`--prices FILE`).
    pub fn with_prices(mut self, name: &str, text: &str) -> Result<Self> {
        let rows = price::parse(name, text, &self.gpus)?;
        self.prices.retain(|r| !rows.iter().any(|u| u.gpu == r.gpu));
        price::apply(&mut self.gpus, &rows, true);
        self.prices.extend(rows);
        Ok(self)
    }

    /// The rows that price `gpu`, in table order.
    pub fn prices_of(&self, gpu: &str) -> Vec<&price::PriceRow> {
        self.prices.iter().filter(|r| r.gpu == gpu).collect()
    }

    fn empty() -> Self {
        Catalog {
            models: vec![],
            quants: vec![],
            engines: vec![],
            gpus: vec![],
            tasks: vec![],
            tiers: vec![],
            // replaced by data/tasks.toml's [ranking] on load; 0 ranks by exact quality
            ranking: task::Ranking {
                quality_tolerance: 0.0,
            },
            // replaced by data/quants.toml and data/engines.toml on load; validate checks them
            retention_tiers: quant::RetentionTiers::default(),
            default_engine: engine::DefaultEngine::default(),
            prices: vec![],
        }
    }

    fn merge(&mut self, file: CatalogFile) {
        upsert(&mut self.models, file.model, |m| &m.id);
        upsert(&mut self.quants, file.quant, |q| &q.id);
        upsert(&mut self.engines, file.engine, |e| &e.id);
        upsert(&mut self.gpus, file.gpu, |g| &g.id);
        upsert(&mut self.tasks, file.task, |t| &t.id);
        upsert(&mut self.tiers, file.tier, |t| &t.id);
        if let Some(r) = file.ranking {
            self.ranking = r;
        }
        if let Some(t) = file.retention_tiers {
            self.retention_tiers = t;
        }
        if let Some(d) = file.default_engine {
            self.default_engine = d;
        }
        for q in &mut self.quants {
            q.tiers = self.retention_tiers;
        }
    }

    fn validate(&self, origin: &str) -> Result<()> {
        self.validate_with_source(origin, "")
    }

    /// Cross-reference checks; `text` (the user's file) locates the entry's line when given.
    fn validate_with_source(&self, origin: &str, text: &str) -> Result<()> {
        let at = |id: &str| -> String {
            let needle = format!("\"{id}\"");
            match text
                .lines()
                .position(|l| l.contains("id") && l.contains(&needle))
            {
                Some(i) => format!("{origin}:{}", i + 1),
                None => origin.to_string(),
            }
        };
        let quant_ids: Vec<&str> = self.quants.iter().map(|q| q.id.as_str()).collect();
        for m in &self.models {
            if m.max_context == 0 || u64::from(m.max_context) > crate::quantity::MAX_TOKENS {
                return Err(Error::input(format!(
                    "{}: model '{}' has max_context {} (1..={})",
                    at(&m.id),
                    m.id,
                    m.max_context,
                    crate::quantity::MAX_TOKENS
                )));
            }
            check_arch(m)
                .map_err(|e| Error::input(format!("{}: model '{}': {e}", at(&m.id), m.id)))?;
            for q in &m.quants {
                if !quant_ids.contains(&q.as_str()) {
                    return Err(Error::input(format!(
                        "{}: model '{}' lists unknown quant '{q}' (valid: {})",
                        at(&m.id),
                        m.id,
                        quant_ids.join(", ")
                    )));
                }
            }
        }
        for q in &self.quants {
            let bits = [q.linear_bits, q.embedding_bits, q.output_bits];
            if bits
                .iter()
                .chain(q.expert_bits.iter())
                .any(|b| !(*b > 0.0 && *b <= 32.0))
            {
                return Err(Error::input(format!(
                    "{}: quant '{}' has bits per weight outside 0..32",
                    at(&q.id),
                    q.id
                )));
            }
        }
        for e in &self.engines {
            for q in &e.quants {
                if !quant_ids.contains(&q.as_str()) {
                    return Err(Error::input(format!(
                        "{}: engine '{}' lists unknown quant '{q}'",
                        at(&e.id),
                        e.id
                    )));
                }
            }
        }
        for g in &self.gpus {
            let positive = [g.memory_gib, g.bandwidth_gb_s, g.fp16_tflops];
            if positive.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
                return Err(Error::input(format!(
                    "{}: gpu '{}' needs positive memory_gib, bandwidth_gb_s and fp16_tflops",
                    at(&g.id),
                    g.id
                )));
            }
            // Absurd sizes would overflow byte counts downstream: refuse them here, as bad input.
            let too_big = g.memory_gib > MAX_GPU_GIB
                || g.driver_total_mib
                    .is_some_and(|m| m as f64 > MAX_GPU_GIB * 1024.0)
                || [g.bandwidth_gb_s, g.fp16_tflops, g.interconnect_gb_s]
                    .iter()
                    .chain(&g.tdp_w)
                    .chain(&g.usd_per_hour)
                    .any(|v| !(*v >= 0.0 && *v <= MAX_GPU_RATE));
            if too_big {
                return Err(Error::input(format!(
                    "{}: gpu '{}' has an implausible value (memory above {MAX_GPU_GIB} GiB, or a rate, power or price outside 0..{MAX_GPU_RATE})",
                    at(&g.id),
                    g.id
                )));
            }
            if let Some(reserved) = g.driver_reserved_mib
                && reserved >= g.memory_bytes() >> 20
            {
                return Err(Error::input(format!(
                    "{}: gpu '{}' has driver_reserved_mib {reserved}, not less than its memory ({} MiB)",
                    at(&g.id),
                    g.id,
                    g.memory_bytes() >> 20
                )));
            }
        }
        for t in &self.tasks {
            let tokens = [t.prompt_tokens, t.reasoning_tokens, t.answer_tokens];
            if tokens.iter().map(|n| u64::from(*n)).sum::<u64>() > u64::from(t.context) {
                return Err(Error::input(format!(
                    "{}: task '{}' needs more tokens than its context {}",
                    at(&t.id),
                    t.id,
                    t.context
                )));
            }
        }
        let t = self.retention_tiers;
        if !(t.small_below_b > 0.0
            && t.small_below_b < t.large_from_b
            && t.large_from_b.is_finite())
        {
            return Err(Error::input(format!(
                "{origin}: retention_tiers needs 0 < small_below_b < large_from_b (got {} and {})",
                t.small_below_b, t.large_from_b
            )));
        }
        let engine_ids: Vec<&str> = self.engines.iter().map(|e| e.id.as_str()).collect();
        if let Some(id) = self
            .default_engine
            .ids()
            .into_iter()
            .find(|id| !engine_ids.contains(id))
        {
            return Err(Error::input(format!(
                "{origin}: default_engine names unknown engine '{id}' (valid: {})",
                engine_ids.join(", ")
            )));
        }
        let defaults: Vec<&str> = self
            .tasks
            .iter()
            .filter(|t| t.default)
            .map(|t| t.id.as_str())
            .collect();
        if defaults.len() > 1 {
            return Err(Error::input(format!(
                "{origin}: only one task may have `default = true` (found {}: {})",
                defaults.len(),
                defaults.join(", ")
            )));
        }
        let tolerance = self.ranking.quality_tolerance;
        if !(0.0..=100.0).contains(&tolerance) {
            return Err(Error::input(format!(
                "{origin}: ranking.quality_tolerance {tolerance} must be between 0 and 100 points"
            )));
        }
        for t in &self.tiers {
            if !(t.usd_per_hour > 0.0 && t.usd_per_hour.is_finite()) {
                return Err(Error::input(format!(
                    "{}: tier '{}' needs a positive usd_per_hour",
                    at(&t.id),
                    t.id
                )));
            }
        }
        bounds::check(self, &at).map_err(Error::Input)
    }

    pub fn model(&self, name: &str) -> Result<&Model> {
        find(&self.models, name, |m| (&m.id, &m.aliases))
            .ok_or_else(|| unknown("model", name, &self.model_names()))
    }

    pub fn quant(&self, name: &str) -> Result<&Quant> {
        find(&self.quants, name, |q| (&q.id, &q.aliases)).ok_or_else(|| {
            let ids: Vec<&str> = self.quants.iter().map(|q| q.id.as_str()).collect();
            unknown("quant", name, &ids)
        })
    }

    pub fn engine(&self, name: &str) -> Result<&Engine> {
        find(&self.engines, name, |e| (&e.id, &e.aliases)).ok_or_else(|| {
            let ids: Vec<&str> = self.engines.iter().map(|e| e.id.as_str()).collect();
            unknown("engine", name, &ids)
        })
    }

    pub fn task(&self, name: &str) -> Result<&Task> {
        find(&self.tasks, name, |t| (&t.id, &t.aliases)).ok_or_else(|| {
            let ids: Vec<&str> = self.tasks.iter().map(|t| t.id.as_str()).collect();
            unknown("task", name, &ids)
        })
    }

    /// The task assumed when none is given: the one data/tasks.toml marks `default = true`.
    pub fn default_task(&self) -> Result<&Task> {
        self.tasks.iter().find(|t| t.default).ok_or_else(|| {
            Error::input("no task in the catalog has `default = true`; name one with --task")
        })
    }

    /// A budget tier by name (case-insensitive).
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(name.trim()))
    }

    /// Canonical ids plus the short aliases people type (1.5b … 671b).
    fn model_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .models
            .iter()
            .filter_map(|m| m.aliases.first().map(String::as_str))
            .collect();
        names.extend(self.models.iter().map(|m| m.id.as_str()));
        names
    }

    /// The quants `model` has an artifact for and `engine` can load.
    pub fn quants_for<'a>(&'a self, model: &Model, engine: &Engine) -> Vec<&'a Quant> {
        self.quants
            .iter()
            .filter(|q| model.quants.contains(&q.id) && engine.quants.contains(&q.id))
            .collect()
    }
}

fn parse(name: &str, text: &str) -> Result<CatalogFile> {
    parse_as(name, text, Format::Toml)
}

fn parse_as(name: &str, text: &str, format: Format) -> Result<CatalogFile> {
    let file: CatalogFile = parse_data(name, text, format)?;
    check_schema_version(name, file.schema_version)?;
    let twice = [
        (
            "model",
            bounds::duplicate_id(file.model.iter().map(|m| &m.id)),
        ),
        (
            "quant",
            bounds::duplicate_id(file.quant.iter().map(|q| &q.id)),
        ),
        (
            "engine",
            bounds::duplicate_id(file.engine.iter().map(|e| &e.id)),
        ),
        ("gpu", bounds::duplicate_id(file.gpu.iter().map(|g| &g.id))),
        (
            "task",
            bounds::duplicate_id(file.task.iter().map(|t| &t.id)),
        ),
        (
            "tier",
            bounds::duplicate_id(file.tier.iter().map(|t| &t.id)),
        ),
    ];
    if let Some((kind, Some(id))) = twice.into_iter().find(|(_, d)| d.is_some()) {
        return Err(Error::input(format!(
            "{name}: {kind} '{id}' is defined twice; give each id once"
        )));
    }
    Ok(file)
}

/// A data file in `format`, its errors on one line that names the file.
fn parse_data<T: serde::de::DeserializeOwned>(name: &str, text: &str, format: Format) -> Result<T> {
    match format {
        Format::Toml => parse_toml(name, text),
        Format::Json => {
            serde_json::from_str(text).map_err(|e| Error::input(format!("{name}: {e}")))
        }
    }
}

/// A data file's TOML, its errors on one line that names the file.
fn parse_toml<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T> {
    toml::from_str(text)
        .map_err(|e| Error::input(format!("{name}: {}", one_line_toml_error(&e, text))))
}

/// Every data file may state the format version it was written for; another version is refused.
fn check_schema_version(name: &str, version: Option<u32>) -> Result<()> {
    match version {
        Some(v) if v != SCHEMA_VERSION => Err(Error::input(format!(
            "{name}: schema_version {v} is not supported (this r1pick reads {SCHEMA_VERSION})"
        ))),
        _ => Ok(()),
    }
}

/// toml's errors span several lines with a source excerpt; r1pick reports one line with the line
/// number, so CI logs stay readable.
pub fn one_line_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

use bounds::{MAX_GPU_GIB, MAX_GPU_RATE};

/// Upper bounds of architecture dimensions, far above any real model, low enough that parameter and
/// byte counts cannot overflow.
fn within_bounds(named: &[(&str, u32, u32)]) -> std::result::Result<(), String> {
    for (name, value, max) in named {
        if value > max {
            return Err(format!("{name} {value} is implausible (at most {max})"));
        }
    }
    Ok(())
}

const DIM: u32 = 4096;

/// Dimensions positive, consistent and within bounds; the catalog and imported models alike.
pub fn check_arch(m: &Model) -> std::result::Result<(), String> {
    within_bounds(&[
        ("layers", m.layers(), DIM),
        ("hidden", m.hidden(), 1 << 17),
        ("heads", m.heads(), DIM),
        ("vocab", m.vocab(), 1 << 22),
    ])?;
    match &m.arch {
        Architecture::Dense(a) => {
            let dims = [
                a.layers, a.hidden, a.ffn, a.heads, a.kv_heads, a.head_dim, a.vocab,
            ];
            if dims.contains(&0) {
                return Err("architecture dimensions must be positive".into());
            }
            within_bounds(&[
                ("ffn", a.ffn, 1 << 19),
                ("kv_heads", a.kv_heads, DIM),
                ("head_dim", a.head_dim, DIM),
            ])?;
            grouped(a.heads, a.kv_heads)?;
        }
        Architecture::GqaMoe(a) => {
            let dims = [
                a.layers,
                a.hidden,
                a.moe_ffn,
                a.experts,
                a.experts_per_token,
                a.heads,
                a.kv_heads,
                a.head_dim,
                a.vocab,
            ];
            if dims.contains(&0) {
                return Err("architecture dimensions must be positive".into());
            }
            within_bounds(&[
                ("ffn", a.ffn, 1 << 19),
                ("moe_ffn", a.moe_ffn, 1 << 19),
                ("experts", a.experts, DIM),
                ("kv_heads", a.kv_heads, DIM),
                ("head_dim", a.head_dim, DIM),
            ])?;
            grouped(a.heads, a.kv_heads)?;
            routed(a.experts_per_token, a.experts, a.dense_layers, a.layers)?;
        }
        Architecture::Moe(a) => {
            let dims = [
                a.layers,
                a.hidden,
                a.ffn,
                a.moe_ffn,
                a.experts,
                a.experts_per_token,
                a.heads,
            ];
            if dims.contains(&0) {
                return Err("architecture dimensions must be positive".into());
            }
            within_bounds(&[
                ("ffn", a.ffn, 1 << 19),
                ("moe_ffn", a.moe_ffn, 1 << 19),
                ("experts", a.experts, DIM),
                ("shared_experts", a.shared_experts, 64),
                ("q_lora_rank", a.q_lora_rank, 1 << 16),
                ("kv_lora_rank", a.kv_lora_rank, 1 << 16),
                ("qk_nope_dim", a.qk_nope_dim, DIM),
                ("qk_rope_dim", a.qk_rope_dim, DIM),
                ("v_head_dim", a.v_head_dim, DIM),
                ("mtp_layers", a.mtp_layers, 64),
            ])?;
            routed(a.experts_per_token, a.experts, a.dense_layers, a.layers)?;
        }
    }
    Ok(())
}

/// Grouped-query attention: every KV head serves the same number of query heads.
fn grouped(heads: u32, kv_heads: u32) -> std::result::Result<(), String> {
    if !heads.is_multiple_of(kv_heads) {
        return Err(format!(
            "heads ({heads}) not divisible by kv_heads ({kv_heads})"
        ));
    }
    Ok(())
}

fn routed(
    per_token: u32,
    experts: u32,
    dense: u32,
    layers: u32,
) -> std::result::Result<(), String> {
    if per_token > experts || dense > layers {
        return Err("experts_per_token must not exceed experts, nor dense_layers layers".into());
    }
    Ok(())
}

fn upsert<T>(into: &mut Vec<T>, from: Vec<T>, id: impl Fn(&T) -> &String) {
    for item in from {
        match into.iter().position(|x| id(x) == id(&item)) {
            Some(i) => into[i] = item,
            None => into.push(item),
        }
    }
}

/// Case-insensitive match on id or alias; `_` and `-` are interchangeable.
fn find<'a, T>(
    items: &'a [T],
    name: &str,
    keys: impl Fn(&T) -> (&String, &Vec<String>),
) -> Option<&'a T> {
    let norm = |s: &str| s.trim().to_lowercase().replace('_', "-");
    let wanted = norm(name);
    items.iter().find(|item| {
        let (id, aliases) = keys(item);
        norm(id) == wanted || aliases.iter().any(|a| norm(a) == wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    /// The error a user catalog file `mine.toml` with `text` is refused with, or "" if accepted.
    fn override_error(text: &str) -> String {
        Catalog::with_override("mine.toml", text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn policy_defaults_come_from_the_data() -> TestResult {
        let c = Catalog::embedded()?;
        assert_eq!(c.default_task()?.id, "chat");
        assert_eq!(c.default_engine.for_vendor(Vendor::Nvidia), "vllm");
        assert_eq!(c.default_engine.for_vendor(Vendor::Apple), "llama.cpp");
        assert_eq!(
            (
                c.default_engine.gguf.as_str(),
                c.default_engine.cpu.as_str()
            ),
            ("llama.cpp", "llama.cpp")
        );
        // Neural Magic's 1.5B INT4 ~94%, 7B+ 97%: the cut at 3 B puts 1.5B and 7B apart.
        let int4 = c.quant("int4")?;
        assert_eq!(int4.retention_for(1_777_088_000), 0.94);
        assert_eq!(int4.retention_for(7_615_616_512), 0.97);
        assert_eq!(c.model("671b")?.native_quant(), Some("fp8"));
        assert_eq!(c.model("70b")?.native_quant(), Some("bf16"));
        Ok(())
    }

    #[test]
    fn a_default_engine_must_exist() {
        let err = override_error(
            "[default_engine]\ngguf = \"llama.cpp\"\ncpu = \"llama.cpp\"\nnvidia = \"vlm\"\namd = \"vllm\"\napple = \"llama.cpp\"\nintel = \"llama.cpp\"\nother = \"llama.cpp\"\n",
        );
        assert!(
            err.starts_with("mine.toml: default_engine names unknown engine 'vlm' (valid: vllm, "),
            "{err}"
        );
    }

    #[test]
    fn retention_tiers_must_be_ordered() {
        let err = override_error("[retention_tiers]\nsmall_below_b = 100.0\nlarge_from_b = 3.0\n");
        assert_eq!(
            err,
            "mine.toml: retention_tiers needs 0 < small_below_b < large_from_b (got 100 and 3)"
        );
    }
}
