//! The JSON contract: committed schemas match the Rust types, and what r1pick prints matches them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::r1pick;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema")
}

fn generated() -> Vec<(&'static str, String)> {
    r1pick::app::json_schemas()
        .into_iter()
        .map(|(kind, s)| {
            let text = serde_json::to_string_pretty(&s).expect("schemas serialize");
            (kind, text + "\n")
        })
        .collect()
}

/// `R1PICK_WRITE_SCHEMA=1 cargo test schema` rewrites schema/ from the types.
#[test]
fn committed_schemas_match_the_rust_types() {
    let dir = schema_dir();
    let write = std::env::var_os("R1PICK_WRITE_SCHEMA").is_some_and(|v| v != "0");
    let mut stale = Vec::new();
    for (kind, text) in generated() {
        let path = dir.join(format!("{kind}.schema.json"));
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "the JSON output changed without its schema: {} differ from the Rust types. If the change is \
         intended (additive keeps /v1; a rename or removal bumps the version), regenerate with \
         `R1PICK_WRITE_SCHEMA=1 cargo test schema` and commit schema/",
        stale.join(", ")
    );
    let kinds: Vec<String> = generated()
        .iter()
        .map(|(k, _)| format!("{k}.schema.json"))
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            kinds.contains(&name),
            "schema/{name} belongs to no document"
        );
    }
}

pub fn schema_of(kind: &str) -> Value {
    let text = std::fs::read_to_string(schema_dir().join(format!("{kind}.schema.json")))
        .expect("committed schema");
    serde_json::from_str(&text).unwrap()
}

fn json_of(args: &[&str], code: i32) -> Value {
    let out = r1pick()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

/// Every document r1pick prints, on simulated hardware, validated against its committed schema.
#[test]
fn printed_documents_conform_to_their_schema() {
    let cases: &[(&str, &[&str], i32)] = &[
        ("models", &["models", "--json"], 0),
        ("gpus", &["gpus", "--json"], 0),
        ("tasks", &["tasks", "--json"], 0),
        ("size", &["size", "70b", "--gpu", "rtx-4090:2", "--json"], 0),
        ("size", &["size", "7b", "--no-gpu", "--json"], 0),
        (
            "estimate",
            &[
                "estimate", "671b", "--quant", "fp8", "--gpu", "h200:8", "--json",
            ],
            0,
        ),
        (
            "estimate",
            &["estimate", "7b", "--gpu", "rtx-4090", "--json"],
            0,
        ),
        (
            "check",
            &[
                "check", "32b", "--quant", "int4", "--gpu", "l40s:2", "--json",
            ],
            0,
        ),
        (
            "check",
            &[
                "check",
                "7b",
                "--gpu",
                "rtx-4090",
                "--task",
                "code",
                "--budget",
                "3/h",
                "--latency",
                "10ms",
                "--json",
            ],
            1,
        ),
        // under load: performance.load, sustainable and not, and the load check
        (
            "estimate",
            &"estimate 7b --gpu h100-sxm --rate 2/s --prompt 512..4k --json"
                .split(' ')
                .collect::<Vec<_>>(),
            0,
        ),
        (
            "check",
            &"check 671b --quant fp8 --gpu h200:8 --rate 50/s --latency 1s --json"
                .split(' ')
                .collect::<Vec<_>>(),
            1,
        ),
        (
            "recommend",
            &"recommend --task chat --gpu h100-sxm:8 --concurrency 32 --json"
                .split(' ')
                .collect::<Vec<_>>(),
            0,
        ),
        (
            "finetune",
            &[
                "finetune",
                "14b",
                "--method",
                "qlora",
                "--gpu",
                "rtx-4090",
                "--max-seq",
                "--tokens",
                "10M",
                "--json",
            ],
            0,
        ),
        (
            "finetune",
            &[
                "finetune",
                "70b",
                "--method",
                "full",
                "--gpu",
                "h100-sxm:8",
                "--sharding",
                "zero3",
                "--json",
            ],
            0,
        ),
        (
            "plan",
            &"plan --task chat --gpu h100-sxm --rate 20/s --spares 1 --json"
                .split(' ')
                .collect::<Vec<_>>(),
            0,
        ),
        (
            "plan",
            &"plan --model 14b --task chat --gpu h100-sxm --rate 50000/s --json"
                .split(' ')
                .collect::<Vec<_>>(),
            1,
        ),
        (
            "check",
            &"check 7b --gpu h100-sxm --rate 4/s --replicas 2 --json"
                .split(' ')
                .collect::<Vec<_>>(),
            0,
        ),
        ("probe", &["probe", "--json"], 0),
        ("probe", &["probe", "--gpu", "h100-sxm:2", "--json"], 0),
        (
            "recommend",
            &["recommend", "--task", "code", "--gpu", "h100-sxm", "--json"],
            0,
        ),
        (
            "recommend",
            &[
                "recommend",
                "--task",
                "code",
                "--latency",
                "200ms",
                "--gpu",
                "rtx-4080",
                "--json",
            ],
            1,
        ),
        (
            "recommend",
            &[
                "recommend",
                "--task",
                "research",
                "--cloud",
                "--budget",
                "3/h",
                "--explain",
                "--json",
            ],
            0,
        ),
        // sweeps: a concurrency sweep with its knee, a check sweep over a rate with its break
        (
            "sweep",
            &[
                "estimate",
                "70b",
                "--quant",
                "fp8",
                "--gpu",
                "h100-sxm:8",
                "--sweep",
                "concurrency=1..2048",
                "--json",
            ],
            0,
        ),
        (
            "sweep",
            &[
                "check",
                "7b",
                "--gpu",
                "l40s",
                "--latency",
                "1s",
                "--sweep",
                "rate=1/s..20/s:3",
                "--json",
            ],
            1,
        ),
    ];
    for (kind, args, code) in cases {
        let doc = json_of(args, *code);
        let schema = schema_of(kind);
        if let Err(e) = conforms(&doc, &schema, &schema, "") {
            panic!("r1pick {}: {e}", args.join(" "));
        }
        if *kind != "probe" {
            assert_eq!(doc["schema"], format!("r1pick.{kind}/v1"), "{args:?}");
        }
    }
}

/// The validator can fail: a key the schema does not know, and a wrong type.
#[test]
fn the_schema_check_catches_drift() {
    let schema = schema_of("check");
    let mut doc = json_of(&["check", "7b", "--gpu", "l40s", "--json"], 0);
    assert!(conforms(&doc, &schema, &schema, "").is_ok());
    doc["checks"][0]["surprise"] = Value::from(1);
    let e = conforms(&doc, &schema, &schema, "").unwrap_err();
    assert!(e.contains("surprise"), "{e}");
    doc["checks"][0].as_object_mut().unwrap().remove("surprise");
    doc["ok"] = Value::from("yes");
    assert!(conforms(&doc, &schema, &schema, "").is_err());
}

/// A small JSON Schema checker for what schemars emits: `$ref` into `$defs`, `type`, `enum`,
/// `const`, `properties` + `required` (a key the schema does not list is an error), `items`,
/// `anyOf` / `oneOf` / `allOf`.
pub fn conforms(v: &Value, s: &Value, root: &Value, at: &str) -> Result<(), String> {
    if s == &Value::Bool(true) {
        return Ok(());
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .ok_or_else(|| format!("{at}: unsupported $ref {r}"))?;
        conforms(v, &root["$defs"][name], root, at)?;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array)
            && !alts.iter().any(|alt| conforms(v, alt, root, at).is_ok())
        {
            return Err(format!("{at}: {v} matches none of {key}"));
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            conforms(v, part, root, at)?;
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            return Err(format!("{at}: {actual} where the schema says {types:?}"));
        }
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {options:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        return Err(format!("{at}: {v} is not {c}"));
    }
    if let Value::Object(map) = v {
        let props = s.get("properties").and_then(Value::as_object);
        for req in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = req.as_str().unwrap_or_default();
            if !map.contains_key(key) {
                return Err(format!("{at}: missing required key {key}"));
            }
        }
        if let Some(props) = props {
            for (key, value) in map {
                let path = format!("{at}.{key}");
                match props.get(key) {
                    Some(ps) => conforms(value, ps, root, &path)?,
                    None if s.get("additionalProperties").is_some_and(Value::is_object) => {
                        conforms(value, &s["additionalProperties"], root, &path)?
                    }
                    None => return Err(format!("{path}: key not in the schema")),
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            conforms(item, item_schema, root, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
