//! Issue 16's remaining cases: the NVML path under hostile readings (replayed through
//! `R1PICK_NVML_SNAPSHOT`: an inventory too large to plan, readings no GPU could have, names that
//! would drive the terminal), full-width GPU names, mistyped variables and `--best-effort` with
//! nothing to size.

use serde_json::{Value, json};

use crate::util::r1pick;

fn probe(snapshot: &Value, json_out: bool) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let mut cmd = r1pick();
    cmd.env("R1PICK_NVML_SNAPSHOT", &path).arg("probe");
    if json_out {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn more_than_1024_probed_gpus_are_planned_on_the_first_1024() {
    let devices: Vec<Value> = (0..5000)
        .map(|i| json!({"index": i, "name": "NVIDIA H100 80GB HBM3", "memory_total": 85_520_809_984u64}))
        .collect();
    let (code, out, err) = probe(&json!({"count": 5000, "devices": devices}), true);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["gpus"].as_array().unwrap().len(), 1024);
    let note = "NVML lists 5000 GPUs; r1pick plans for at most 1024 and uses the first 1024";
    assert!(
        doc["notes"].as_array().unwrap().contains(&json!(note)),
        "{out}"
    );
}

#[test]
fn impossible_readings_are_dropped_and_names_escaped() {
    let snap = json!({"count": 1, "devices": [{
        "index": 0,
        "name": "Evil\u{1b}[2J\nGPU\u{202e}",
        "memory_total": u64::MAX,
        "bus_width": u32::MAX,
        "max_mem_clock": u32::MAX,
    }]});
    let (code, out, err) = probe(&snap, false);
    assert_eq!(code, 0, "{err}");
    for text in [&out, &err] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
    }
    assert!(out.contains("Evil\\u{1b}[2J\\nGPU\\u{202e}"), "{out}");
    assert!(
        out.contains("NVML gave no memory size and the GPU is not in the catalog"),
        "{out}"
    );
    let (_, out, _) = probe(&snap, true);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let schema = crate::schema::schema_of("probe");
    crate::schema::conforms(&doc, &schema, &schema, "").unwrap();
    assert_eq!(doc["gpus"][0]["bandwidth_gb_s"], json!(300.0), "{out}");
}

/// Full-width letters from an East Asian input method name the same GPU.
#[test]
fn full_width_gpu_names_resolve() {
    let out = r1pick()
        .args(["probe", "--gpu", "Ｈ１００-ＳＸＭ:2", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["gpus"].as_array().unwrap().len(), 2);
}

#[test]
fn a_mistyped_variable_gets_a_note() {
    let out = r1pick()
        .env("R1PICK_LATNCY", "5ms")
        .args(["size", "7b", "--gpu", "l40s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "note: R1PICK_LATNCY is not a variable r1pick reads; did you mean R1PICK_LATENCY?\n"
    );
}

/// `--best-effort` with every candidate below the floor: exit 1 and one note that says why, and
/// with near misses that were sized: the closest, exit 0.
/// `recommend … --best-effort --json` on one RTX 4090: exit code, document, stderr.
fn best_effort(task_args: &[&str]) -> (Option<i32>, Value, String) {
    let out = r1pick()
        .arg("recommend")
        .args(task_args)
        .args(["--gpu", "rtx-4090", "--best-effort", "--json"])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap();
    (
        out.status.code(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn best_effort_returns_the_closest_or_says_why_there_is_none() {
    let (code, doc, err) = best_effort(&["--task", "hardest"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["recommendation"], Value::Null);
    assert_eq!(
        err,
        "note: --best-effort: no candidate for hardest gets past the quality floor and the support checks here, so there is no closest option to size; the nearest, deepseek-r1 ud-q2_k_xl with llama.cpp: GPQA Diamond 67.9 < 70.0\n"
    );
    let (code, doc, _) = best_effort(&["--task", "code", "--latency", "10ms"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        doc["recommendation"]["model"],
        json!("deepseek-r1-distill-qwen-14b"),
        "{doc}"
    );
}
