//! Serving under load: the calibration set of measured runs (tests/data/serving_runs.toml) predicted
//! through the library, and the shapes a continuously batching server must show.
//! `cargo test --test integration serving -- --nocapture` prints every point and the summary.

use serde::Deserialize;

use r1pick::catalog::model::{Architecture, DenseArch, Model, Scores};
use r1pick::catalog::{Catalog, Engine, Quant};
use r1pick::hardware::Hardware;
use r1pick::perf;
use r1pick::serving::{
    self, Lengths, Limit, Load, LoadEstimate, LoadRequest, SchedulerOverrides, Span,
};
use r1pick::sizing::capacity::{GpuBudget, KvRule, pool_bytes, profile_activation};
use r1pick::sizing::{Deployment, KvDtype, Workload, plan};

use crate::util::{assert_within, catalog, machine};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    #[allow(dead_code)]
    schema_version: u32,
    reference: Vec<Reference>,
    sweep: Vec<Sweep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reference {
    id: String,
    #[allow(dead_code)]
    source: String,
    layers: u32,
    hidden: u32,
    ffn: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    vocab: u32,
    qk_norm: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sweep {
    id: String,
    #[allow(dead_code)]
    source: String,
    fit: bool,
    model: String,
    quant: String,
    kv_dtype: String,
    engine: String,
    version: Option<String>,
    gpu: String,
    gpus: u32,
    context: u32,
    prompt: String,
    output: String,
    shape: String,
    stat: Option<String>,
    load: Vec<f64>,
    ttft: Option<Vec<f64>>,
    tpot: Option<Vec<f64>>,
    /// Inter-token latency (token gaps), where the source reports it instead of TPOT.
    itl: Option<Vec<f64>>,
    out_tps: Option<Vec<f64>>,
    total_tps: Option<Vec<f64>>,
}

fn runs() -> Runs {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/serving_runs.toml"
    ))
    .unwrap();
    toml::from_str(&text).expect("tests/data/serving_runs.toml parses")
}

/// A dense model built from its architecture (Llama / Qwen3 shapes not in the catalog).
pub fn dense_model(id: &str, a: DenseArch, quant: &str) -> Model {
    Model {
        id: id.to_string(),
        name: id.to_string(),
        aliases: vec![],
        hf_repo: String::new(),
        ollama_tag: None,
        license: String::new(),
        base_model: String::new(),
        max_context: 131_072,
        quants: vec![quant.to_string()],
        note: None,
        repos: Default::default(),
        ollama_tags: Default::default(),
        arch: Architecture::Dense(a),
        scores: Scores::default(),
    }
}

fn reference_model(r: &Reference, quant: &str) -> Model {
    dense_model(
        &r.id,
        DenseArch {
            layers: r.layers,
            hidden: r.hidden,
            ffn: r.ffn,
            heads: r.heads,
            kv_heads: r.kv_heads,
            head_dim: r.head_dim,
            vocab: r.vocab,
            tied_embeddings: false,
            qkv_bias: false,
            qk_norm: r.qk_norm,
        },
        quant,
    )
}

fn span(s: &str) -> Span {
    match s.split_once("..") {
        Some((a, b)) => Span {
            min: a.parse().unwrap(),
            max: b.parse().unwrap(),
        },
        None => Span::fixed(s.parse().unwrap()),
    }
}

fn kv_dtype(s: &str) -> KvDtype {
    match s {
        "fp8" => KvDtype::Fp8,
        _ => KvDtype::Bf16,
    }
}

struct Point {
    sweep: String,
    group: String,
    fit: bool,
    metric: &'static str,
    load: f64,
    predicted: f64,
    measured: f64,
}

impl Point {
    fn error(&self) -> f64 {
        (self.predicted - self.measured) / self.measured
    }
}

/// One estimate under load for a deployment named by parts.
#[allow(clippy::too_many_arguments)]
pub fn under_load(
    c: &Catalog,
    model: &Model,
    quant: &Quant,
    engine: &Engine,
    hw: &Hardware,
    kv: KvDtype,
    context: u32,
    lengths: Lengths,
    load: Load,
    version: Option<&str>,
) -> Result<LoadEstimate, r1pick::error::Error> {
    let _ = c;
    let slots = match load {
        Load::Concurrency { requests } => requests,
        Load::Rate { .. } => 1,
    };
    let d = Deployment {
        model,
        quant,
        engine,
        gpus: hw.gpu_count(),
        tensor_parallel: None,
        kv_dtype: kv,
        mla_kv: None,
        workload: Workload {
            context,
            prompt: lengths.prompt.max,
            output: lengths.output.max,
            concurrency: if engine.batching == r1pick::catalog::engine::Batching::Slots {
                slots
            } else {
                1
            },
        },
    };
    let mem = plan(&d, hw)?;
    serving::estimate(
        &d,
        hw,
        &mem,
        &LoadRequest {
            load,
            lengths,
            scheduler: SchedulerOverrides {
                version,
                ..Default::default()
            },
        },
    )
}

fn points() -> Vec<Point> {
    let file = runs();
    let c = catalog();
    let mut out = vec![];
    for s in &file.sweep {
        let quant = c.quant(&s.quant).unwrap();
        let owned;
        let model = match file.reference.iter().find(|r| r.id == s.model) {
            Some(r) => {
                owned = reference_model(r, &s.quant);
                &owned
            }
            None => c.model(&s.model).unwrap(),
        };
        let engine = c.engine(&s.engine).unwrap();
        let hw = machine(&format!("{}:{}", s.gpu, s.gpus));
        let lengths = Lengths {
            prompt: span(&s.prompt),
            output: span(&s.output),
        };
        let p50 = s.stat.as_deref() == Some("p50");
        for (i, &x) in s.load.iter().enumerate() {
            let load = match s.shape.as_str() {
                "rate" => Load::Rate { per_second: x },
                _ => Load::Concurrency {
                    requests: x as u32,
                },
            };
            let e = under_load(
                &c,
                model,
                quant,
                engine,
                &hw,
                kv_dtype(&s.kv_dtype),
                s.context,
                lengths,
                load,
                s.version.as_deref(),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            let pick = |p: Option<serving::Percentiles>| {
                p.map(|p| if p50 { p.p50 } else { p.mean })
                    .unwrap_or(f64::INFINITY)
            };
            let metrics: [(&'static str, &Option<Vec<f64>>, f64); 5] = [
                ("ttft", &s.ttft, pick(e.ttft_ms)),
                ("tpot", &s.tpot, pick(e.tpot_ms)),
                ("itl", &s.itl, pick(e.itl_ms)),
                ("out_tps", &s.out_tps, e.output_tokens_per_s),
                ("total_tps", &s.total_tps, e.total_tokens_per_s),
            ];
            for (metric, measured, predicted) in metrics {
                if let Some(m) = measured {
                    out.push(Point {
                        sweep: s.id.clone(),
                        group: format!("{} {}", s.engine, s.shape),
                        fit: s.fit,
                        metric,
                        load: x,
                        predicted,
                        measured: m[i],
                    });
                }
            }
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// Median |error| of the points that pass `keep`, and their count.
fn summary(points: &[Point], keep: impl Fn(&Point) -> bool) -> (f64, f64, usize) {
    let e: Vec<f64> = points
        .iter()
        .filter(|p| keep(p))
        .map(|p| p.error().abs())
        .collect();
    let worst = e.iter().copied().fold(0.0, f64::max);
    let n = e.len();
    (median(e), worst, n)
}

#[test]
fn serving_calibration_predicts_runs_under_load() {
    let points = points();
    println!(
        "{:<58} {:>6} {:>9} {:>11} {:>11} {:>8}",
        "sweep", "load", "metric", "predicted", "measured", "error"
    );
    for p in &points {
        println!(
            "{:<58} {:>6} {:>9} {:>11.1} {:>11.1} {:>+7.1}%",
            p.sweep,
            p.load,
            p.metric,
            p.predicted,
            p.measured,
            p.error() * 100.0
        );
    }
    let mut groups: Vec<(String, &str)> = points
        .iter()
        .map(|p| (p.group.clone(), p.metric))
        .collect();
    groups.sort();
    groups.dedup();
    println!("\nper engine, load shape and metric (fit set | held-out check):");
    for (g, m) in &groups {
        let fit = summary(&points, |p| p.fit && &p.group == g && p.metric == *m);
        let check = summary(&points, |p| !p.fit && &p.group == g && p.metric == *m);
        println!(
            "  {g:<20} {m:<9} fit {:>3} pts median {:>6.1}% worst {:>6.1}% | check {:>3} pts median {:>6.1}% worst {:>6.1}%",
            fit.2,
            fit.0 * 100.0,
            fit.1 * 100.0,
            check.2,
            check.0 * 100.0,
            check.1 * 100.0
        );
    }
    println!("\noverall:");
    for m in ["ttft", "tpot", "itl", "out_tps", "total_tps"] {
        let fit = summary(&points, |p| p.fit && p.metric == m);
        let check = summary(&points, |p| !p.fit && p.metric == m);
        println!(
            "  {m:<9} fit {:>3} pts median {:>6.1}% | check {:>3} pts median {:>6.1}% worst {:>6.1}%",
            fit.2,
            fit.0 * 100.0,
            check.2,
            check.0 * 100.0,
            check.1 * 100.0
        );
    }
}
