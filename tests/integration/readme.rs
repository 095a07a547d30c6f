//! The README is true (issue 15 item 16): its examples are run and compared with what it says.
//! Each test names the README passage it holds to.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::util::r1pick;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// The README text from `heading` to the next heading of the same or a higher level.
fn section(heading: &str) -> String {
    let text = readme();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has '{heading}'"));
    let level = heading.split(' ').next().unwrap_or("#");
    let body = &text[start + heading.len() + 2..];
    let end = body
        .lines()
        .scan(0, |at, l| {
            let here = *at;
            *at += l.len() + 1;
            Some((here, l))
        })
        .find(|(_, l)| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            hashes > 0 && hashes <= level.len() && l.chars().nth(hashes) == Some(' ')
        })
        .map(|(at, _)| at)
        .unwrap_or(body.len());
    body[..end].to_string()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = r1pick().args(args).output().expect("r1pick runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

fn stdout(args: &[&str]) -> String {
    run(args).1
}

#[track_caller]
fn says(text: &str, claim: &str) {
    assert!(text.contains(claim), "the README no longer says: {claim}");
}

/// "## Commands": the list is the CLI's subcommands, no more, no fewer.
#[test]
fn the_command_list_is_the_clis() {
    let listed: BTreeSet<String> = section("## Commands")
        .lines()
        .filter_map(|l| l.strip_prefix("r1pick "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let help = stdout(&["--help"]);
    let commands: BTreeSet<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // a wrapped description continues further in
        .filter_map(|l| l.strip_prefix("  ").filter(|l| !l.starts_with(' ')))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(commands.contains("completions") && commands.contains("man"));
    assert_eq!(listed, commands);
}

fn quality_holds(model: &str, quant: &str, task: &str) -> bool {
    let out = stdout(&[
        "check", model, "--quant", quant, "--gpu", "h100-sxm", "--task", task, "--json",
    ]);
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    doc["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["constraint"] == "min_quality"))
        .map(|c| c["ok"] == true)
        .expect("a min_quality check")
}

/// The task table: the 1.5B passes MATH-500 ≥ 80 down to Q5_K_M, not "only at 8 bits" as it said.
#[test]
fn the_classification_row_names_the_quants_of_the_1_5b_that_pass() {
    says(
        &readme(),
        "| classification, extraction | MATH-500 ≥ 80 | every distill (the 1.5B at Q5_K_M or more bits) |",
    );
    for q in ["bf16", "fp8", "q8_0", "int8", "q6_k", "q5_k_m"] {
        assert!(quality_holds("1.5b", q, "classification"), "1.5b {q}");
    }
    for q in ["q4_k_m", "w4a16", "q3_k_m"] {
        assert!(!quality_holds("1.5b", q, "classification"), "1.5b {q}");
    }
    assert!(quality_holds("7b", "q4_k_m", "classification"));
}

/// "### Units": memory in binary units; the file sizes `models` lists in decimal GB.
#[test]
fn memory_prints_binary_units_and_file_sizes_decimal_gb() {
    says(
        &readme(),
        "Memory always prints in binary units (`22.4 GiB`, `512 MiB`); the file sizes `r1pick models` lists",
    );
    let size = stdout(&["size", "70b", "--quant", "q4_k_m", "--gpu", "rtx-4090:2"]);
    assert!(size.contains(" GiB") && !size.contains(" GB"), "{size}");
    let models = stdout(&["models"]);
    assert!(models.contains("  bf16 3.6 GB"), "{models}");
    assert!(!models.contains("GiB"), "{models}");
}

fn usable(gpu: &str, engine: &str) -> String {
    let out = stdout(&["size", "7b", "--gpu", gpu, "--engine", engine]);
    let row = out
        .lines()
        .find(|l| l.starts_with("│ GPU 0"))
        .unwrap_or_else(|| panic!("no GPU row:\n{out}"));
    let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).collect();
    // │ device ┆ weights ┆ KV cache ┆ activations ┆ overhead ┆ total ┆ usable ┆ fits │
    format!("usable {} overhead {}", cells[7], cells[5])
}

/// "### Memory a GPU can really give": what the `size` table shows as usable.
#[test]
fn an_rtx_4090_gives_the_engines_what_the_readme_says() {
    says(
        &readme(),
        "So an RTX 4090 gives vLLM 21.6 GiB, and llama.cpp all 24.0 GiB with its 1024 MiB reserve counted as\noverhead; an H100 SXM gives vLLM 71.7 GiB and SGLang 71.3 GiB.",
    );
    assert!(usable("rtx-4090", "vllm").starts_with("usable 21.6 GiB"));
    assert!(usable("h100-sxm", "vllm").starts_with("usable 71.7 GiB"));
    // SGLang's share is of the memory an idle H100 offers: 81,559 − 480 MiB reserved.
    assert!(usable("h100-sxm", "sglang").starts_with("usable 71.3 GiB"));
    // the 7B's llama.cpp overhead is the reserve plus its compute buffer, so at least 1.0 GiB
    let llama = usable("rtx-4090", "llama.cpp");
    assert!(llama.starts_with("usable 24.0 GiB overhead 1."), "{llama}");
}

/// "## `check`: gate a deployment": the console example is what r1pick prints, byte for byte.
#[test]
fn the_check_console_example_is_what_r1pick_prints() {
    let text = section("## `check`: gate a deployment");
    let block = text
        .split("```console\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a console block");
    let mut lines = block.lines();
    let command = lines
        .next()
        .and_then(|l| l.strip_prefix("$ r1pick "))
        .expect("the block starts with the command");
    let shown: Vec<&str> = lines.collect();
    let echo = shown
        .iter()
        .position(|l| *l == "$ echo $?")
        .expect("the exit code is shown");
    let args: Vec<&str> = command.split_whitespace().collect();
    let (code, out) = run(&args);
    assert_eq!(out, format!("{}\n", shown[..echo].join("\n")));
    assert_eq!(code.to_string(), shown[echo + 1]);
}

/// "### `--gpu SPEC`": every spelling it calls ambiguous is refused, listing the matches.
#[test]
fn every_spelling_the_readme_calls_ambiguous_is_refused() {
    let text = section("### `--gpu SPEC`");
    let list = text
        .split("A\nspelling that fits several GPUs (")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .expect("the list of ambiguous spellings");
    let spellings: Vec<&str> = list.split(", ").map(|s| s.trim_matches('`')).collect();
    assert_eq!(spellings.len(), 6, "{spellings:?}");
    for s in spellings {
        let out = r1pick()
            .args(["size", "7b", "--gpu", s])
            .output()
            .expect("r1pick runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{s}: {err}");
        assert!(
            err.contains(&format!("GPU '{s}' is ambiguous; it matches ")),
            "{s}: {err}"
        );
    }
}

/// Every `NAME.md` or `PATH/NAME.md` in `text`: "formulas.md §4" → "formulas.md".
fn cited_files(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices(".md") {
        let name: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let next = text[at + 3..].chars().next();
        if !name.is_empty() && !next.is_some_and(|c| c.is_ascii_alphanumeric()) {
            out.insert(format!("{name}.md"));
        }
    }
    out
}

/// The fact sheets output and README cite (`models.md §7b`, `hardware.md §6`) ship in
/// docs/reference/, so a user can open each one.
#[test]
fn every_fact_sheet_the_output_or_the_readme_cites_ships() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // a bare name is a fact sheet in docs/reference/; a path is from the repository root
    let shipped = |name: &str| match name.contains('/') {
        true => root.join(name).is_file(),
        false => root.join("docs/reference").join(name).is_file(),
    };
    let corpus = [
        vec!["models", "--json"],
        vec!["gpus", "--json"],
        vec!["tasks", "--json"],
        vec!["probe", "--json"],
        vec!["probe", "--no-gpu", "--json"],
        vec![
            "recommend",
            "--task",
            "chat",
            "--gpu",
            "rtx-4090",
            "--explain",
            "--json",
        ],
        vec!["estimate", "671b", "--gpu", "h200:8", "--json"],
        vec!["estimate", "7b", "--gpu", "m2-max", "--json"],
    ];
    let mut cited = cited_files(&readme());
    for args in &corpus {
        cited.extend(cited_files(&stdout(args)));
    }
    for must in ["models.md", "hardware.md", "formulas.md"] {
        assert!(cited.contains(must), "{cited:?}");
    }
    let missing: Vec<&String> = cited.iter().filter(|n| !shipped(n)).collect();
    assert!(
        missing.is_empty(),
        "cited but not in the repository: {missing:?}"
    );
    says(&readme(), "docs/reference/");
}

/// "Examples" under "## Commands": 8 × H200 holds the 671B in FP8, 8 × H100 80GB does not, and
/// its FP8 weights are 681 GB in memory (688.6 GB is the checkpoint on disk, MTP included).
#[test]
fn the_671b_examples_fit_where_the_readme_says() {
    says(
        &readme(),
        "r1pick size 671b --quant fp8 --gpu h100-sxm:8          # … on 8×H100 80GB? (no: 681 GB of FP8 weights)",
    );
    let h200 = stdout(&["size", "671b", "--quant", "fp8", "--gpu", "h200:8"]);
    assert!(
        h200.lines().next().is_some_and(|l| l.ends_with("— fits")),
        "{h200}"
    );
    let h100 = stdout(&[
        "size",
        "671b",
        "--quant",
        "fp8",
        "--gpu",
        "h100-sxm:8",
        "--json",
    ]);
    let doc: Value = serde_json::from_str(&h100).expect("JSON");
    assert_eq!(doc["memory"]["fits"], false);
    let weights = doc["memory"]["weights_bytes"].as_f64().expect("bytes");
    assert_eq!((weights / 1e9).round(), 681.0);
}

/// "When nothing qualifies": the relaxation the README quotes is what r1pick says (exit 1).
#[test]
fn the_quoted_relaxation_is_what_r1pick_suggests() {
    says(
        &readme(),
        "(`recommend --task code --latency 100ms --gpu rtx-4090`: \"relax\n   --latency to 184ms: deepseek-r1-distill-qwen-14b int8 with vllm on 1 × NVIDIA GeForce RTX 4090\n   would then qualify\")",
    );
    let (code, out) = run(&[
        "recommend",
        "--task",
        "code",
        "--latency",
        "100ms",
        "--gpu",
        "rtx-4090",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("  - relax --latency to 184ms: deepseek-r1-distill-qwen-14b int8 with vllm on 1 × NVIDIA GeForce RTX 4090 would then qualify\n"),
        "{out}"
    );
}
