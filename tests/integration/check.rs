//! `check` as a pipeline uses it: pass, fail and bad input, with exit codes and JSON.

use serde_json::Value;

use crate::util::r1pick;

/// The ready-to-copy CI example of the README.
const GATE: &[&str] = &[
    "check",
    "32b",
    "--quant",
    "int4",
    "--context",
    "64k",
    "--gpu",
    "l40s:2",
];

fn run(args: &[&str]) -> (i32, String, String) {
    let out = r1pick().args(args).output().expect("r1pick runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (got, stdout, stderr) = run(&all);
    assert_eq!(got, code, "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
    serde_json::from_str(&stdout).expect("check --json prints JSON")
}

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    GATE.iter().copied().chain(extra.iter().copied()).collect()
}

fn find<'a>(doc: &'a Value, constraint: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["constraint"] == constraint)
        .unwrap_or_else(|| panic!("no {constraint} check in {doc}"))
}

#[test]
fn the_readme_gate_passes_with_exit_0() {
    let (code, stdout, stderr) = run(GATE);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("PASS: the one check holds"), "{stdout}");
    assert!(stderr.is_empty());
    let doc = json(GATE, 0);
    assert_eq!(doc["schema"], "r1pick.check/v1");
    assert_eq!(doc["ok"], true);
    let d = &doc["deployment"];
    assert_eq!(d["model"], "deepseek-r1-distill-qwen-32b");
    assert_eq!(d["quant"], "int4");
    assert_eq!(d["workload"]["context"], 65_536);
    assert_eq!(d["hardware"]["gpu_count"], 2);
    let fits = find(&doc, "fits");
    assert_eq!(fits["ok"], true);
    assert_eq!(fits["unit"], "bytes");
    // memory per GPU and its capacity, as integers, from the same plan the deployment reports
    assert_eq!(fits["actual"], d["memory"]["per_gpu_bytes"]);
    assert_eq!(fits["required"], d["memory"]["per_gpu_capacity_bytes"]);
    assert!(fits["margin"].as_i64().unwrap() < 0);
}

/// The deployment inside check is estimate's, number for number.
#[test]
fn check_reports_the_deployment_estimate_reports() {
    let check = json(GATE, 0);
    let mut estimate_args = vec!["estimate"];
    estimate_args.extend(&GATE[1..]);
    let mut estimate = json(&estimate_args, 0);
    estimate.as_object_mut().unwrap().remove("schema");
    assert_eq!(check["deployment"], estimate);
}

#[test]
fn a_missed_latency_fails_with_exit_1_and_its_margin() {
    let args = with(&["--latency", "100ms", "--tpot", "1s"]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.is_empty(),
        "a failed check is a result, not an error: {stderr}"
    );
    assert!(stdout.starts_with("FAIL: 1 of 3 checks fail"), "{stdout}");
    let doc = json(&args, 1);
    assert_eq!(doc["ok"], false);
    let ttft = doc["deployment"]["performance"]["ttft_ms"]
        .as_f64()
        .unwrap();
    let latency = find(&doc, "latency");
    assert_eq!(latency["ok"], false);
    assert_eq!(latency["bound"], "max");
    assert_eq!(latency["unit"], "ms");
    assert_eq!(latency["required"], 100);
    assert_eq!(latency["actual"].as_f64().unwrap(), ttft);
    let margin = latency["margin"].as_f64().unwrap();
    assert!((margin - (ttft - 100.0)).abs() < 0.01, "{margin} vs {ttft}");
    assert!(stdout.contains(&format!("latency: {ttft:.0} ms > 100 ms (+{margin:.0} ms)")));
    let tpot = find(&doc, "tpot");
    assert_eq!(tpot["ok"], true);
    assert!(tpot["margin"].as_f64().unwrap() < 0.0);
}

#[test]
fn a_deployment_that_does_not_fit_fails_whatever_else_holds() {
    let args = ["check", "70b", "--quant", "bf16", "--gpu", "h100-sxm"];
    let (code, stdout, _) = run(&args);
    assert_eq!(code, 1);
    assert!(stdout.contains("does not fit"), "{stdout}");
    let doc = json(&args, 1);
    let fits = find(&doc, "fits");
    assert_eq!(fits["ok"], false);
    assert!(fits["margin"].as_i64().unwrap() > 0);
    assert_eq!(doc["deployment"]["memory"]["fits"], false);
}

#[test]
fn floors_speed_and_quality() {
    // the 7B has LiveCodeBench 37.6: below the code task's floor of 50
    let doc = json(&["check", "7b", "--gpu", "l40s", "--task", "code"], 1);
    let q = find(&doc, "min_quality");
    assert_eq!(q["bound"], "min");
    assert_eq!(q["required"], 50);
    assert!(q["actual"].as_f64().unwrap() < 38.0);
    assert!(
        q["message"]
            .as_str()
            .unwrap()
            .contains("LiveCodeBench, task code")
    );
    // the 14B (53.1) clears it, and the task's 8K context sets the workload
    let doc = json(&["check", "14b", "--gpu", "l40s", "--task", "code"], 0);
    assert_eq!(doc["deployment"]["workload"]["context"], 8192);
    // --min-speed is a floor on one sequence's decode speed
    let doc = json(&with(&["--min-speed", "1000"]), 1);
    let s = find(&doc, "min_speed");
    assert_eq!(
        s["actual"].as_f64(),
        doc["deployment"]["performance"]["decode_tokens_per_s"].as_f64()
    );
    assert!(s["margin"].as_f64().unwrap() < 0.0);
}

#[test]
fn budgets_need_a_price_and_read_tiers() {
    // the catalog has no cloud price for an RTX 4090
    let doc = json(&["check", "7b", "--gpu", "rtx-4090", "--budget", "1/h"], 1);
    let b = find(&doc, "budget");
    assert_eq!(b["actual"], Value::Null);
    assert_eq!(b["margin"], Value::Null);
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("no price: pass --price or --kwh-price")
    );
    // 450 W at $0.30/kWh
    let doc = json(
        &[
            "check",
            "7b",
            "--gpu",
            "rtx-4090",
            "--budget",
            "1/h",
            "--kwh-price",
            "0.30",
        ],
        0,
    );
    assert_eq!(doc["deployment"]["cost"]["basis"], "energy");
    // 2 × L40S at $1.57/h: over the personal tier ($1/h), within startup ($10/h)
    let doc = json(&with(&["--budget", "personal"]), 1);
    assert_eq!(find(&doc, "budget")["margin"], 2.14);
    json(&with(&["--budget", "startup"]), 0);
    json(&with(&["--budget", "3000/month"]), 0); // $4.11/h
    json(&with(&["--budget", "2000/month"]), 1); // $2.74/h
}

#[test]
fn quiet_leaves_only_the_exit_code() {
    for (extra, code) in [(&[][..], 0), (&["--latency", "1ms"][..], 1)] {
        let mut args = with(extra);
        args.push("--quiet");
        let (got, stdout, stderr) = run(&args);
        assert_eq!(got, code);
        assert!(stdout.is_empty() && stderr.is_empty(), "{stdout}{stderr}");
        args.push("--json");
        let (got, stdout, _) = run(&args);
        assert_eq!((got, stdout.as_str()), (code, ""));
    }
}

#[test]
fn bad_input_is_exit_2_with_nothing_on_stdout() {
    for args in [
        &["check", "13b", "--gpu", "l40s"][..],
        &["check", "--gpu", "l40s"],
        &["check", "--task", "poetry", "--gpu", "l40s"],
        &["check", "7b", "--gpu", "l40s", "--budget", "lots"],
        &[
            "check",
            "7b",
            "--gpu",
            "l40s",
            "--latency",
            "soon",
            "--json",
        ],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    let (_, _, stderr) = run(&["check", "--gpu", "l40s"]);
    assert!(stderr.contains("check needs a MODEL"));
}

/// `check --task T` without a MODEL gates on the recommendation for T on the machine.
#[test]
fn check_task_gates_on_the_best_recommendation() {
    let gate = |gpu: &str| {
        let out = r1pick()
            .args([
                "check",
                "--task",
                "code",
                "--latency",
                "200ms",
                "--gpu",
                gpu,
                "--json",
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    let (code, v) = gate("h100-sxm");
    assert_eq!(code, Some(0));
    assert_eq!(v["ok"], true);
    assert!(v["deployment"]["performance"]["ttft_ms"].as_f64().unwrap() <= 200.0);
    // An RTX 4090 passes since W8A8 INT8 prefills at its 660.6 INT8 TOPS: a 14B INT8 in 184 ms.
    let (code, v) = gate("rtx-4090");
    assert_eq!(code, Some(0));
    let d = &v["deployment"];
    assert_eq!(
        (&d["model"], &d["quant"]),
        (&"deepseek-r1-distill-qwen-14b".into(), &"int8".into())
    );
    assert_eq!(d["performance"]["ttft_ms"].as_f64().unwrap().round(), 184.0);
    let (code, v) = gate("rtx-4080");
    assert_eq!(code, Some(1));
    assert_eq!(v["ok"], false);
    let failed: Vec<&Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["constraint"], "latency");
    assert!(failed[0]["margin"].as_f64().unwrap() > 0.0);
}

/// Issue 11: under load a paged KV pool queues what it cannot hold, so 64 requests in flight on
/// the 32B in BF16 on one H100 fit as one request does (the plan of `size` at concurrency 1),
/// and the batch is capped by the KV pool instead of failing memory.
#[test]
fn under_load_memory_fits_as_one_request_and_the_kv_pool_caps_the_batch() {
    let args = ["check", "32b", "--gpu", "h100-sxm", "--concurrency", "64"];
    let doc = json(&args, 0);
    let fits = &doc["checks"][0];
    assert_eq!(fits["constraint"], "fits");
    assert_eq!(fits["ok"], true);
    let d = &doc["deployment"];
    let one: Value = {
        let out = r1pick()
            .args(["size", "32b", "--gpu", "h100-sxm", "--json"])
            .output()
            .expect("r1pick runs");
        serde_json::from_slice(&out.stdout).expect("size --json prints JSON")
    };
    assert_eq!(d["memory"]["total_bytes"], one["memory"]["total_bytes"]);
    let load = &d["performance"]["load"];
    assert_eq!(load["limit"], "kv-capacity");
    let (pool, batch) = (
        d["memory"]["kv_capacity_tokens"].as_u64().unwrap_or(0),
        load["max_batch"].as_u64().unwrap_or(0),
    );
    // 33 600 tokens of pool by vLLM's memory rule (its profile peaks in the sampler warm-up on
    // 1024 sequences, 2.11 GiB, not the 1.50 GiB forward); a request holds at most 1024 + 4096
    // tokens, so at least 6 run at once, and far fewer than the 64 asked for.
    assert_eq!(pool, 33_600);
    assert!((6..64).contains(&batch), "max_batch {batch}");
    let message = fits["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("at most {batch} request(s) run at once")),
        "{message}"
    );
}
