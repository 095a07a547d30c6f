//! Configuration through the real binary: ./r1pick.toml, --config, R1PICK_CONFIG and R1PICK_*
//! variables, with flags > environment > file > defaults.

use std::path::Path;

use serde_json::Value;

use crate::util::r1pick;

fn folder_with(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r1pick.toml"), config).unwrap();
    dir
}

fn json_in(dir: &Path, env: &[(&str, &str)], args: &[&str], code: i32) -> Value {
    let mut cmd = r1pick();
    cmd.current_dir(dir).args(args).arg("--json");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

const SHIPPED: &str =
    "gpu = [\"l40s:2\"]\nquant = \"int4\"\ncontext = \"64k\"\nlatency = \"500ms\"\n";

#[test]
fn r1pick_toml_in_the_working_directory_sets_defaults() {
    let dir = folder_with(SHIPPED);
    let doc = json_in(dir.path(), &[], &["check", "32b"], 0);
    let d = &doc["deployment"];
    assert_eq!(d["quant"], "int4");
    assert_eq!(d["workload"]["context"], 65_536);
    assert_eq!(d["hardware"]["gpu_count"], 2);
    assert_eq!(doc["checks"][1]["constraint"], "latency");
    assert_eq!(doc["checks"][1]["required"], 500);
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let dir = folder_with(SHIPPED);
    let env = [("R1PICK_LATENCY", "1ms"), ("R1PICK_CONTEXT", "32k")];
    // the environment's latency fails the gate; its context replaces the file's
    let doc = json_in(dir.path(), &env, &["check", "32b"], 1);
    assert_eq!(doc["checks"][1]["required"], 1);
    assert_eq!(doc["deployment"]["workload"]["context"], 32_768);
    // a flag beats both
    let doc = json_in(dir.path(), &env, &["check", "32b", "--latency", "2s"], 0);
    assert_eq!(doc["checks"][1]["required"], 2000);
    // and the machine from the environment replaces the file's as a whole
    let doc = json_in(
        dir.path(),
        &[("R1PICK_GPU", "h100-sxm")],
        &["size", "32b"],
        0,
    );
    assert_eq!(doc["hardware"]["gpu_count"], 1);
    assert_eq!(
        doc["quant"], "int4",
        "the file's other settings still apply"
    );
}

#[test]
fn config_flag_and_variable_pick_another_file() {
    let dir = folder_with(SHIPPED);
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "gpu = \"h200\"\nformat = \"json\"\n").unwrap();
    for (env, args) in [
        (vec![], vec!["--config", "other.toml", "size", "7b"]),
        (vec![("R1PICK_CONFIG", "other.toml")], vec!["size", "7b"]),
    ] {
        let mut cmd = r1pick();
        cmd.current_dir(dir.path()).args(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("format = json from the file");
        assert_eq!(doc["hardware"]["gpus"][0]["id"], "h200");
        assert_eq!(
            doc["quant"], "bf16",
            "not the working directory's r1pick.toml"
        );
    }
}

#[test]
fn a_broken_file_is_exit_2_naming_the_line() {
    let dir = folder_with("quant = \"int4\"\ncontext = \"lots\"\n");
    r1pick()
        .current_dir(dir.path())
        .args(["size", "7b", "--gpu", "l40s"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("error: r1pick.toml: line 2: context: 'lots' is not a token count; write e.g. 8192 or 64k\n");
    // commands that do not plan a deployment never parse the deployment settings
    r1pick()
        .current_dir(dir.path())
        .arg("gpus")
        .assert()
        .code(0);
}

/// stderr of a run that fails, in `dir` with `env`.
fn failure_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = r1pick();
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "nothing half-written");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_machine_moves_as_one_setting_between_flags_variables_and_the_file() {
    let dir = folder_with(SHIPPED);
    let cpu = ["size", "7b", "--quant", "q4_k_m", "--engine", "llama.cpp"];
    // a variable's machine replaces the file's GPUs
    let doc = json_in(dir.path(), &[("R1PICK_NO_GPU", "1")], &cpu, 0);
    assert_eq!(doc["hardware"]["gpu_count"], 0);
    // a flag's machine replaces the variable's
    let with_flag: Vec<&str> = cpu.iter().copied().chain(["--no-gpu"]).collect();
    let doc = json_in(dir.path(), &[("R1PICK_GPU", "h100-sxm")], &with_flag, 0);
    assert_eq!(doc["hardware"]["gpu_count"], 0);
    // commas separate GPU specs in the variable
    let doc = json_in(
        dir.path(),
        &[("R1PICK_GPU", "l40s,h100-sxm")],
        &["size", "7b"],
        0,
    );
    assert_eq!(doc["hardware"]["gpus"][0]["id"], "l40s");
    assert_eq!(doc["hardware"]["gpus"][1]["id"], "h100-sxm");
}

#[test]
fn json_beats_the_format_variable_and_empty_variables_are_unset() {
    let dir = tempfile::tempdir().unwrap();
    let doc = json_in(dir.path(), &[("R1PICK_FORMAT", "table")], &["models"], 0);
    assert_eq!(doc["schema"], "r1pick.models/v1");
    let doc = json_in(
        dir.path(),
        &[("R1PICK_LATENCY", ""), ("R1PICK_GPU", " ")],
        &["check", "7b", "--gpu", "l40s"],
        0,
    );
    assert_eq!(doc["ok"], true);
}

#[test]
fn a_setting_the_old_key_list_lacked_reads_its_variable_and_file_key() {
    let dir = folder_with("kv_dtype = \"fp8\"\n");
    let doc = json_in(dir.path(), &[], &["size", "7b", "--gpu", "l40s"], 0);
    assert_eq!(doc["basis"]["kv_dtype"], "fp8", "from the file");
    let doc = json_in(
        dir.path(),
        &[("R1PICK_KV_DTYPE", "q8_0")],
        &[
            "size",
            "7b",
            "--gpu",
            "l40s",
            "--engine",
            "llama.cpp",
            "--quant",
            "q4_k_m",
        ],
        0,
    );
    assert_eq!(
        doc["basis"]["kv_dtype"], "q8_0",
        "the variable beats the file"
    );
    let e = failure_in(dir.path(), &[("R1PICK_KV_DTYPE", "fp4")], &["size", "7b"]);
    assert_eq!(
        e,
        "error: R1PICK_KV_DTYPE: 'fp4' is not a kv_dtype (valid: bf16, fp16, fp8, q8_0, q4_0)\n"
    );
    let e = failure_in(dir.path(), &[("R1PICK_LATENCY", "fast")], &["check", "7b"]);
    assert_eq!(
        e,
        "error: R1PICK_LATENCY: 'fast' is not a duration; write e.g. 200ms or 1.5s\n"
    );
}

#[test]
fn an_unknown_key_is_refused_with_the_nearest_setting() {
    let dir = folder_with("gpu = \"l40s\"\nkv_dtyp = \"fp8\"\n");
    let e = failure_in(dir.path(), &[], &["size", "7b"]);
    assert!(
        e.starts_with(
            "error: r1pick.toml: line 2: unknown key 'kv_dtyp'; did you mean 'kv_dtype'?"
        ),
        "{e}"
    );
}
