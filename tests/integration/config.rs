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
