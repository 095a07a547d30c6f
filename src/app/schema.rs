//! JSON Schemas of every `--json` document, generated from the types that are printed.
//! `schema/<kind>.schema.json` holds the committed copies; a test regenerates and compares them.

use schemars::{JsonSchema, Schema, schema_for};

use crate::report::check::CheckDocument;
use crate::report::estimate::DeploymentDocument;
use crate::report::finetune::FinetuneDocument;
use crate::report::models::{GpusDocument, ModelsDocument};
use crate::report::plan::PlanDocument;
use crate::report::probe::ProbeDocument;
use crate::report::recommend::RecommendDocument;
use crate::report::sweep::SweepDocument;
use crate::report::tasks::TasksDocument;

/// `(kind, schema)` for each document, `kind` as in `"schema": "r1pick.<kind>/v1"`.
pub fn json_schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("models", document::<ModelsDocument>("models")),
        ("gpus", document::<GpusDocument>("gpus")),
        ("size", document::<DeploymentDocument>("size")),
        ("estimate", document::<DeploymentDocument>("estimate")),
        ("check", document::<CheckDocument>("check")),
        ("probe", document::<ProbeDocument>("probe")),
        ("recommend", document::<RecommendDocument>("recommend")),
        ("plan", document::<PlanDocument>("plan")),
        ("finetune", document::<FinetuneDocument>("finetune")),
        ("sweep", document::<SweepDocument>("sweep")),
        ("tasks", document::<TasksDocument>("tasks")),
    ]
}

fn document<T: JsonSchema>(kind: &str) -> Schema {
    let mut s = schema_for!(T);
    s.insert("title".into(), format!("r1pick {kind} --json").into());
    s.insert(
        "$comment".into(),
        format!(
            "r1pick.{kind}/v1 (generated from the Rust types: R1PICK_WRITE_SCHEMA=1 cargo test schema)"
        )
        .into(),
    );
    s
}
