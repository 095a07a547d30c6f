//! Faults of the process's own files, on the real binary: stdout full or closed, stderr full,
//! special files given as input, and many runs sharing one stderr pipe. Unix only (`/dev/full`,
//! FIFOs, `sh`); the module is not compiled elsewhere.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::r1pick;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_r1pick"));
    c.env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .env_remove("R1PICK_FORMAT")
        .env_remove("R1PICK_CONFIG")
        .env("R1PICK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
        .env_remove("R1PICK_NVML_SNAPSHOT")
        .env_remove("CUDA_VISIBLE_DEVICES");
    c
}

fn full() -> Option<Stdio> {
    let f = std::fs::OpenOptions::new().write(true).open("/dev/full");
    f.ok().map(Stdio::from)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary run by `sh` with `redirect` applied, so descriptors can be closed (`>&-`).
fn in_shell(redirect: &str, args: &[&str]) -> Output {
    let script = format!("exec \"$0\" \"$@\" {redirect}");
    let r1 = bin();
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(script).arg(r1.get_program()).args(args);
    for (k, v) in r1.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// Every path that writes a result: full stdout is exit 3 with one line, help and version too.
#[test]
fn a_full_stdout_is_3_on_every_path() {
    for args in [
        &["models"][..],
        &["size", "7b", "--gpu", "l40s"],
        &["check", "7b", "--gpu", "l40s", "--latency", "1ms"],
        &["--help"],
        &["--version"],
        &["size", "--help"],
        &["completions", "bash"],
    ] {
        let Some(full) = full() else {
            eprintln!("no /dev/full here; skipped");
            return;
        };
        let out = bin().args(args).stdout(full).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert_eq!(
            err, "error: cannot write output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

/// `/dev/null` opened read-write is what Python's `subprocess.DEVNULL` gives a child; a pipeline
/// that discards the output to read the exit code must get the command's own code, never 3. Rust's
/// runtime puts the same `/dev/null` in place of a closed descriptor (`>&-`), so that case gets the
/// command's code too (README "Exit codes").
#[test]
fn dev_null_read_write_or_write_only_keeps_the_exit_code() {
    for args in [
        &["models"][..],
        &["--help"],
        &["--version"],
        &["gpus", "--json"],
    ] {
        for redirect in [">/dev/null", "1<>/dev/null", ">&-"] {
            let out = in_shell(redirect, args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{redirect} {args:?}: {}",
                text(&out.stderr)
            );
            assert!(out.stderr.is_empty(), "{redirect} {args:?}");
        }
    }
    // A failing gate keeps its 1 when a script discards stdout.
    let out = in_shell(
        "1<>/dev/null",
        &["check", "70b", "--quant", "bf16", "--gpu", "rtx-4090"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// A diagnostic that cannot be written never costs the result: the probe's note fails on a full
/// stderr, the table still arrives, exit 0. An error keeps its exit code.
#[test]
fn a_full_or_closed_stderr_keeps_the_result_and_the_code() {
    let Some(full) = full() else {
        eprintln!("no /dev/full here; skipped");
        return;
    };
    let out = bin().args(["size", "7b"]).stderr(full).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with("deepseek-r1-distill-qwen-7b · "),
        "{}",
        text(&out.stdout)
    );
    let out = bin()
        .args(["size", "7b", "--gpu", "h1000"])
        .stderr(full_or_skip())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = in_shell("2>&-", &["size", "7b"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("fits"), "{}", text(&out.stdout));
    let out = in_shell("2>&-", &["size", "13b"]);
    assert_eq!(out.status.code(), Some(2));
}

fn full_or_skip() -> Stdio {
    full().unwrap_or_else(Stdio::null)
}

/// A reader of stderr that goes away: the result is still written and the code kept.
#[test]
fn a_broken_stderr_pipe_keeps_the_result() {
    let mut child = bin()
        .args(["size", "7b"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("fits"));
}

/// 50 runs at once on one stderr pipe: every error line arrives whole (one `write(2)` each).
#[test]
fn fifty_parallel_errors_on_one_pipe_stay_fifty_lines() {
    let (mut reader, writer) = std::io::pipe().unwrap();
    let spec = "h1000-with-a-long-name-so-that-the-line-is-long-enough-to-interleave";
    let children: Vec<_> = (0..50)
        .map(|_| {
            bin()
                .args(["size", "7b", "--gpu", spec])
                .stdout(Stdio::null())
                .stderr(writer.try_clone().unwrap())
                .spawn()
                .unwrap()
        })
        .collect();
    drop(writer);
    let mut all = String::new();
    reader.read_to_string(&mut all).unwrap();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(2));
    }
    let expected = r1pick()
        .args(["size", "7b", "--gpu", spec])
        .output()
        .unwrap()
        .stderr;
    let expected = text(&expected);
    assert!(
        expected.len() > 100 && expected.ends_with('\n'),
        "{expected}"
    );
    let intact = all.lines().filter(|l| format!("{l}\n") == expected).count();
    assert_eq!(all.lines().count(), 50, "{all}");
    assert_eq!(intact, 50, "{all}");
}

/// A loader's command line, its environment, and the one line it must answer.
type Loader<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, String);

/// Each loader, given a FIFO, a character device or a directory: one line naming it, exit 2,
/// without waiting for a writer or reading without end.
#[test]
fn special_files_are_refused_by_every_loader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here; skipped");
        return;
    }
    let cases: [(&Path, &str); 3] = [
        (&fifo, "a FIFO"),
        (Path::new("/dev/zero"), "a character device"),
        (dir.path(), "a directory"),
    ];
    for (path, kind) in cases {
        let p = path.display().to_string();
        let loaders: [Loader; 5] = [
            (
                vec!["--config", &p, "models"],
                vec![],
                format!("cannot read config file '{p}': not a regular file ({kind})"),
            ),
            (
                vec!["--catalog", &p, "models"],
                vec![],
                format!("cannot read catalog file '{p}': not a regular file ({kind})"),
            ),
            (
                vec!["size", "7b", "--hardware", &p],
                vec![],
                format!("cannot read hardware file '{p}': not a regular file ({kind})"),
            ),
            (
                vec!["probe"],
                vec![("R1PICK_NVML_SNAPSHOT", p.as_str())],
                format!("cannot read NVML snapshot file '{p}': not a regular file ({kind})"),
            ),
            (
                vec!["probe"],
                vec![("R1PICK_NVML_LIB", p.as_str())],
                format!("R1PICK_NVML_LIB='{p}': not a regular file ({kind})"),
            ),
        ];
        for (args, env, expected) in loaders {
            let out = r1pick()
                .args(&args)
                .envs(env.iter().copied())
                .timeout(Duration::from_secs(20))
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} {env:?}: {}",
                text(&out.stderr)
            );
            assert_eq!(
                text(&out.stderr),
                format!("error: {expected}\n"),
                "{args:?}"
            );
            assert!(out.stdout.is_empty());
        }
    }
}

/// A regular file over the stated limit is refused before it is parsed.
#[test]
fn a_file_over_4_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big: PathBuf = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; (4 << 20) + 1]).unwrap();
    let p = big.display().to_string();
    let out = r1pick().args(["--config", &p, "models"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("error: cannot read config file '{p}': larger than the 4 MiB limit\n")
    );
}
