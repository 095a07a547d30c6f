//! design.md §6 end to end: each outcome has its exit code; errors are one line on stderr with
//! nothing on stdout; nothing is ever coloured when NO_COLOR is set.

use std::process::{Command, Stdio};

use crate::util::r1pick;

#[test]
fn success_is_0_with_the_result_on_stdout_only() {
    for args in [
        &["models"][..],
        &["gpus", "--json"],
        &["size", "7b", "--gpu", "l40s"],
        &["estimate", "7b", "--gpu", "l40s", "--json"],
        &["completions", "bash"],
        &["man"],
    ] {
        let out = r1pick().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_unmet_constraint_is_1() {
    r1pick()
        .args(["check", "70b", "--quant", "bf16", "--gpu", "h100-sxm"])
        .assert()
        .code(1)
        .stderr("");
}

/// Exit 3: the environment failed. Writing the result to a full device is one such failure that
/// every Linux machine can produce.
#[test]
fn an_unwritable_stdout_is_3_with_one_line() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        eprintln!("no /dev/full here; skipped");
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_r1pick"))
        .args(["models", "--json"])
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: cannot write output"), "{stderr}");
}

/// A closed pipe (`r1pick models | head -1`) is not an error.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_r1pick"))
        .args(["gpus", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_backtrace_even_when_asked_for() {
    r1pick()
        .env("RUST_BACKTRACE", "1")
        .args(["size", "13b", "--gpu", "l40s"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::is_match("^error: unknown model '13b'[^\n]*\n$").unwrap());
}

fn escapes(args: &[&str], no_color: bool) -> usize {
    let mut cmd = r1pick();
    cmd.env("CLICOLOR_FORCE", "1");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.args(args).output().unwrap();
    out.stdout
        .iter()
        .chain(&out.stderr)
        .filter(|b| **b == 0x1b)
        .count()
}

/// clap colours help when forced to; NO_COLOR wins over that, and r1pick's own output is plain.
#[test]
fn no_color_means_no_escape_codes() {
    assert!(
        escapes(&["--help"], false) > 0,
        "CLICOLOR_FORCE colours help"
    );
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["size"],
        &["models", "--format", "yaml"],
        &["size", "13b"],
        &["estimate", "7b", "--gpu", "l40s"],
        &["check", "7b", "--gpu", "l40s", "--latency", "1ms"],
        &["models"],
    ] {
        assert_eq!(escapes(args, true), 0, "{args:?}");
    }
    // and r1pick's tables carry no colour even when forced
    assert_eq!(escapes(&["estimate", "7b", "--gpu", "l40s"], false), 0);
}

/// The keys of a JSON document, recursively (array items merged), values ignored.
fn shape(v: &serde_json::Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let path = format!("{at}.{k}");
                out.insert(path.clone());
                shape(x, &path, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| shape(x, &format!("{at}[]"), out)),
        _ => {}
    }
}

/// Scripts see the same exit codes and the same JSON shape whether the machine was probed (here:
/// no GPU, NVML absent) or simulated (`--no-gpu`).
#[test]
fn probed_and_simulated_machines_give_the_same_codes_and_shapes() {
    let commands: &[&[&str]] = &[
        &["size", "7b"],
        &["estimate", "7b"],
        &["check", "7b", "--latency", "1h"],
        &["check", "7b", "--latency", "1ms"],
        &["recommend", "--task", "code", "--latency", "200ms"],
        &[
            "recommend",
            "--task",
            "classification",
            "--latency",
            "10m",
            "--min-speed",
            "0.5",
        ],
    ];
    for args in commands {
        let run = |extra: &[&str]| {
            let out = crate::util::r1pick()
                .args(*args)
                .args(extra)
                .arg("--json")
                .output()
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut keys = std::collections::BTreeSet::new();
            shape(&v, "", &mut keys);
            (out.status.code(), keys)
        };
        let (probed_code, probed) = run(&[]);
        let (simulated_code, simulated) = run(&["--no-gpu"]);
        assert_eq!(probed_code, simulated_code, "{args:?}");
        assert_eq!(probed, simulated, "{args:?}");
    }
}
