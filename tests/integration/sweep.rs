//! `--sweep` and `--plot`: a sweep's rows are the single estimates at its points, its markers sit
//! where a hand check puts them, and its pictures are well-formed, countable and reproducible.

use serde_json::Value;

use crate::util::r1pick;

const R70: &[&str] = &[
    "70b",
    "--quant",
    "fp8",
    "--gpu",
    "h100-sxm:8",
    "--prompt",
    "1k",
    "--output",
    "1k",
];

fn json(command: &str, base: &[&str], extra: &[&str], code: i32) -> Value {
    let args: Vec<&str> = std::iter::once(command)
        .chain(base.iter().chain(extra).copied())
        .collect();
    crate::util::json_exit(&args, code)
}

/// The row of a sweep against `estimate` (or `check`) run alone with the point's flag: every
/// figure the row carries is the single command's, to the last digit.
fn assert_row_is_the_single_estimate(row: &Value, single: &Value, what: &str) {
    let d = if single["deployment"].is_object() {
        &single["deployment"]
    } else {
        single
    };
    let p = &d["performance"];
    let load = &p["load"];
    let sustainable = load["sustainable"].as_bool().unwrap_or(true);
    assert_eq!(row["fits"], d["memory"]["fits"], "{what}: fits");
    assert_eq!(row["sustainable"], sustainable, "{what}: sustainable");
    assert_eq!(
        row["tokens_per_s"], p["aggregate_tokens_per_s"],
        "{what}: tok/s"
    );
    assert_eq!(row["gpus"], d["placement"]["gpus"], "{what}: gpus");
    assert_eq!(
        row["usd_per_million_output_tokens"], d["cost"]["usd_per_million_output_tokens"],
        "{what}: cost"
    );
    if sustainable {
        assert_eq!(row["ttft_ms"], p["ttft_ms"], "{what}: TTFT");
        assert_eq!(row["tpot_ms"], p["tpot_ms"], "{what}: TPOT");
        assert_eq!(
            row["tokens_per_s_per_user"], p["decode_tokens_per_s"],
            "{what}: per user"
        );
    } else {
        assert!(
            row["ttft_ms"].is_null(),
            "{what}: no TTFT when unsustainable"
        );
    }
    if load.is_object() {
        assert_eq!(row["limit"], load["limit"], "{what}: limit");
        if sustainable {
            assert_eq!(
                row["ttft_at_percentile_ms"], load["ttft_ms"]["p90"],
                "{what}: TTFT p90"
            );
            assert_eq!(
                row["tpot_at_percentile_ms"], load["tpot_ms"]["p90"],
                "{what}: TPOT p90"
            );
        }
    }
}

#[test]
fn a_concurrency_sweeps_rows_equal_the_single_estimates() {
    let doc = json("estimate", R70, &["--sweep", "concurrency=1,4..256"], 0);
    assert_eq!(doc["schema"], "r1pick.sweep/v1");
    assert_eq!(doc["axis"], "concurrency");
    let points = doc["points"].as_array().expect("points");
    let values: Vec<f64> = points.iter().filter_map(|p| p["value"].as_f64()).collect();
    assert_eq!(values, [1.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]);
    for p in points {
        let n = p["label"].as_str().unwrap_or_default();
        let single = json("estimate", R70, &["--concurrency", n], 0);
        assert_row_is_the_single_estimate(p, &single, &format!("concurrency {n}"));
    }
}

#[test]
fn rate_context_and_gpu_sweeps_rows_equal_the_single_estimates() {
    let cases: [(&[&str], &str, &str); 3] = [
        (R70, "rate=2/s..26/s:4", "--rate"),
        (
            &["7b", "--gpu", "h100-sxm", "--concurrency", "8"],
            "context=4k..32k",
            "--context",
        ),
        (
            &["32b", "--gpu", "l40s", "--rate", "1/s"],
            "gpus=1,2,4",
            "--gpus",
        ),
    ];
    for (base, sweep, flag) in cases {
        let doc = json("estimate", base, &["--sweep", sweep], 0);
        for p in doc["points"].as_array().expect("points") {
            let label = p["label"].as_str().unwrap_or_default();
            let single = json("estimate", base, &[flag, label], 0);
            assert_row_is_the_single_estimate(p, &single, &format!("{sweep} at {label}"));
        }
    }
}

#[test]
fn a_check_sweeps_rows_equal_the_single_checks_and_its_exit_code_gates_every_point() {
    let base = [R70, &["--latency", "1s"]].concat();
    let doc = json("check", &base, &["--sweep", "rate=2/s..26/s:4"], 1);
    assert_eq!(doc["ok"], false);
    for p in doc["points"].as_array().expect("points") {
        let label = p["label"].as_str().unwrap_or_default();
        let single_ok = p["breaks"].as_array().is_some_and(Vec::is_empty);
        let single = json(
            "check",
            &base,
            &["--rate", label],
            if single_ok { 0 } else { 1 },
        );
        assert_row_is_the_single_estimate(p, &single, &format!("check at {label}"));
        let failed: Vec<&str> = single["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["ok"] == false)
            .filter_map(|c| c["constraint"].as_str())
            .collect();
        assert_eq!(failed.is_empty(), single_ok, "check at {label}: {failed:?}");
    }
}

/// The 70B FP8 on 8×H100 at 1K/1K under a doubling concurrency (vLLM admits 1024 sequences):
/// each doubling to 256 adds 10% or more output tok/s (128 → 256: +23%), 256 → 512 adds 9.9%
/// (10,189 → 11,200 tok/s), so the knee is at 256. A rate sweep breaks at the first rate past capacity.
#[test]
fn the_knee_and_the_first_break_sit_where_a_hand_check_puts_them() {
    let doc = json("estimate", R70, &["--sweep", "concurrency=1..2048"], 0);
    let points = doc["points"].as_array().expect("points");
    assert_eq!(doc["knee"]["label"], "256");
    assert_eq!(doc["knee"]["index"], 8);
    assert!(doc["first_break"].is_null());
    let t: Vec<f64> = points
        .iter()
        .filter_map(|p| p["tokens_per_s"].as_f64())
        .collect();
    let knee = doc["knee"]["index"].as_u64().expect("a knee") as usize;
    // Hand check of the rule on the printed figures: every doubling before the knee adds 10% or
    // more, the one after it less.
    for i in 0..knee {
        assert!(t[i + 1] >= 1.10 * t[i], "{t:?}: {i}");
    }
    assert!(t[knee + 1] < 1.10 * t[knee], "{t:?}");
    assert_eq!(doc["knee"]["label"], points[knee]["label"]);
    assert!(
        doc["knee_rule"]
            .as_str()
            .unwrap_or_default()
            .contains("less than 10% per doubling"),
        "{}",
        doc["knee_rule"]
    );

    // A rate sweep breaks at the first rate at or above the highest sustainable one.
    let doc = json("estimate", R70, &["--sweep", "rate=2/s..26/s:4"], 0);
    let single = json("estimate", R70, &["--rate", "2/s"], 0);
    let max = single["performance"]["load"]["max_rate_per_s"]
        .as_f64()
        .expect("max rate");
    let points = doc["points"].as_array().expect("points");
    let first = points
        .iter()
        .position(|p| p["value"].as_f64().is_some_and(|v| v >= max))
        .expect("the sweep passes the highest sustainable rate");
    assert_eq!(doc["first_break"]["index"], first);
    assert_eq!(points[first]["breaks"][0], "rate not sustainable");
    assert!(points[..first].iter().all(|p| p["sustainable"] == true));
}

fn svg(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chart.svg");
    let out = r1pick()
        .args(args)
        .arg("--plot")
        .arg(&path)
        .output()
        .expect("r1pick runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        names,
        ["chart.svg"],
        "only the chart is left, no temporary file"
    );
    std::fs::read_to_string(&path).expect("the chart")
}

/// Each of `needed` is the text of a `<text>` element of the chart.
#[track_caller]
fn assert_texts(doc: &roxmltree::Document, needed: &[&str]) {
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for n in needed {
        assert!(texts.contains(n), "no '{n}' in {texts:?}");
    }
}

fn count(doc: &roxmltree::Document, tag: &str) -> usize {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == tag)
        .count()
}

/// The series lines: polylines in a colour (plotters draws the axes and ticks as black ones).
fn series(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == "polyline")
        .filter_map(|n| n.attribute("stroke"))
        .filter(|s| *s != "#000000")
        .map(str::to_string)
        .collect()
}

fn sweep_args() -> Vec<&'static str> {
    [&["estimate"], R70, &["--sweep", "concurrency=1..2048"]].concat()
}

#[test]
fn a_sweep_plot_is_xml_with_one_line_per_series_and_its_markers() {
    let text = svg(&sweep_args());
    let doc = roxmltree::Document::parse(&text).expect("the SVG parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    // output tok/s per GPU, tok/s per user, TTFT p90: one line each, each its own colour
    assert_eq!(series(&doc), ["#1F77B4", "#2CA02C", "#D62728"]);
    // the knee
    assert_eq!(count(&doc, "circle"), 1);
    assert_texts(
        &doc,
        &[
            "deepseek-r1-distill-llama-70b · fp8 · vllm on 8 × NVIDIA H100 SXM5 80GB — prompt 1024, output 1024 tokens",
            "concurrency (requests in flight, log scale)",
            "output tokens/s",
            "TTFT p90 (ms)",
            "output tok/s per GPU",
            "tok/s per user",
        ],
    );
    // No font file, no external reference: text names a generic family only.
    assert!(!text.contains("@font-face") && !text.contains("url(") && !text.contains("href"));
    assert!(
        doc.descendants()
            .filter_map(|n| n.attribute("font-family"))
            .all(|f| f == "sans-serif")
    );
}

#[test]
fn a_rate_sweep_plot_marks_the_first_break() {
    let text = svg(&[&["estimate"], R70, &["--sweep", "rate=2/s..26/s:4"]].concat());
    let doc = roxmltree::Document::parse(&text).expect("XML");
    assert_eq!(count(&doc, "polygon"), 1, "one triangle: the first break");
}

#[test]
fn the_sweep_plot_is_byte_identical_across_runs() {
    let a = svg(&sweep_args());
    assert_eq!(a, svg(&sweep_args()));
    insta::assert_snapshot!("sweep-70b-concurrency-svg", a);
}

#[test]
fn a_plot_into_a_missing_directory_is_exit_3_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing").join("chart.svg");
    let out = r1pick()
        .args(sweep_args())
        .arg("--plot")
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write --plot"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).map(Iterator::count).ok(),
        Some(0)
    );
}

#[test]
fn the_sweep_table_marks_the_knee_and_draws_a_bar_per_row() {
    let out = r1pick().args(sweep_args()).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("sweep-70b-concurrency-table", text);
    assert_eq!(text.matches("← knee").count(), 1);
    assert!(text.lines().any(|l| l.contains("########################")));
}

/// `recommend --model` over the same 70B deployment as [`R70`].
fn pareto() -> Vec<&'static str> {
    ["recommend", "--model"]
        .iter()
        .chain(R70)
        .copied()
        .collect()
}

#[test]
fn the_recommend_plot_draws_every_passing_candidate_the_front_and_one_pick() {
    let text = svg(&pareto());
    let doc = roxmltree::Document::parse(&text).expect("XML");
    // One line: the Pareto front.
    assert_eq!(series(&doc), ["#1F77B4"]);
    // The 11 candidates that pass (vLLM, SGLang and TensorRT-LLM on 1–8 GPUs), one pick.
    assert_eq!(count(&doc, "circle"), 11);
    assert_eq!(count(&doc, "polygon"), 1);
    assert_texts(
        &doc,
        &[
            "chat: the candidates that pass on 8 × NVIDIA H100 SXM5 80GB — prompt 1024, output 1024 tokens",
            "output tokens/s per GPU",
            "tokens/s per user",
            "Pareto front",
            "the pick: deepseek-r1-distill-llama-70b fp8 sglang, 8 GPU(s)",
        ],
    );
    // The README's picture is this command's output, byte for byte.
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/pareto-70b-fp8-h100x8.svg"
    ))
    .expect("docs/pareto-70b-fp8-h100x8.svg");
    assert_eq!(
        text, committed,
        "regenerate docs/ with the README's command"
    );
    assert_eq!(text, svg(&pareto()), "the same bytes on every run");
}

fn plan_args() -> Vec<&'static str> {
    crate::util::argv("plan --task chat --gpu h100-sxm --rate 20/s")
}

/// `plan --plot`: the chosen shape's monthly cost and replicas against the rate, one line each,
/// the planned rate a triangle; the same bytes on every run.
#[test]
fn a_plan_plot_draws_cost_and_replicas_against_the_rate() {
    let text = svg(&plan_args());
    let doc = roxmltree::Document::parse(&text).expect("the SVG parses as XML");
    assert_eq!(series(&doc), ["#1F77B4", "#2CA02C"]);
    assert_eq!(count(&doc, "polygon"), 1, "one triangle: the planned rate");
    assert_texts(
        &doc,
        &[
            "requests/s",
            "USD per month",
            "replicas (spares included)",
            "planned: 20 requests/s",
        ],
    );
    assert_eq!(text, svg(&plan_args()), "byte-identical across runs");
}

#[test]
fn a_plan_plot_with_a_bad_path_is_the_same_error_as_the_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, code, says) in [
        (dir.path().join("chart.png"), 2, "r1pick draws SVG only"),
        (dir.path().to_path_buf(), 2, "is a directory"),
        (
            dir.path().join("missing").join("c.svg"),
            3,
            "does not exist",
        ),
    ] {
        let out = r1pick()
            .args(plan_args())
            .arg("--plot")
            .arg(&path)
            .output()
            .expect("r1pick runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{path:?}: {err}");
        assert!(err.contains(says), "{path:?}: {err}");
        assert!(out.stdout.is_empty(), "nothing printed: {path:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
