//! What a user sees (issue 15): headlines that name the hardware, no placeholders, one word per
//! thing, the `tasks` command. Each test pins a line that was wrong before.

use crate::util::{argv, r1pick};

/// Exit code and stdout of a command run where the snapshot fixtures (machine.toml) are.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = r1pick()
        .current_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/snapshots"
        ))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

fn stdout(args: &[&str]) -> String {
    run(args).1
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with '{needle}' in:\n{text}"))
}

#[test]
fn the_cloud_headline_names_the_gpu_type() {
    let out = stdout(&argv("recommend --task research --cloud --budget 3/h"));
    assert_eq!(
        out.lines().nth(2),
        Some(
            "  deepseek-r1-distill-llama-70b · fp8 · sglang · 2 × NVIDIA GH200 Grace Hopper Superchip (GPU, 96GB HBM3), tensor parallel 2, context 16384 × 1"
        )
    );
}

#[test]
fn a_mixed_machine_is_named_by_its_composition_and_its_memory_per_gpu_type() {
    let out = stdout(&[
        "recommend",
        "--task",
        "summarization",
        "--hardware",
        "machine.toml",
        "--tpot",
        "50ms",
        // pinned: the 2-bit 671B is the plan that spans both GPU types (unmeasured quants rank
        // below measured ones otherwise)
        "--quant",
        "ud-iq2_xxs",
    ]);
    assert_eq!(
        out.lines().next(),
        Some("Recommended for summarization on 2 × NVIDIA L40S + 1 × Acme X1:")
    );
    let memory = line_with(&out, "quality 75.3");
    assert!(
        memory.contains(
            "memory 47.1 GiB of 48.0 GiB on each NVIDIA L40S, 90.7 GiB of 96.0 GiB on the Acme X1 + 497 MiB in RAM"
        ),
        "{memory}"
    );
    // The custom GPU is named in the alternatives too, never "cpu".
    assert!(!out.contains("× cpu"), "{out}");

    let out = stdout(&argv("recommend --task chat --gpu rtx-4090 --gpu rtx-3090"));
    assert_eq!(
        out.lines().next(),
        Some("Recommended for chat on 1 × NVIDIA GeForce RTX 4090 + 1 × NVIDIA GeForce RTX 3090:")
    );
}

#[test]
fn no_gpu_is_a_simulated_cpu_only_machine() {
    let out = stdout(&argv("recommend --task extraction --no-gpu --ram 64GiB"));
    assert_eq!(
        out.lines().next(),
        Some("Nothing qualifies for classification on a simulated CPU-only machine.")
    );
}

#[test]
fn no_placeholders_for_what_a_deployment_does_not_have() {
    let cpu = stdout(&["size", "14b", "--no-gpu", "--ram", "64GiB"]);
    assert_eq!(
        cpu.lines().nth(1),
        Some("context 8192 tokens × 1 sequence, all 48 layers on CPU")
    );
    let cpu = stdout(&["estimate", "14b", "--no-gpu", "--ram", "64GiB"]);
    assert!(!cpu.contains("CUDA graphs"), "{cpu}");
    assert!(!cpu.contains("(s)"), "{cpu}");

    let apple = stdout(&["estimate", "8b", "--gpu", "m3-max-40c"]);
    assert!(!apple.contains("CUDA graphs"), "{apple}");
    assert!(!apple.contains("NCCL"), "{apple}");

    let one = stdout(&["size", "7b", "--gpu", "h100-sxm"]);
    assert_eq!(one.lines().nth(1), Some("context 8192 tokens × 1 sequence"));
    let dense = stdout(&argv(
        "size 70b --quant q4_k_m --engine llama.cpp --gpu rtx-4090",
    ));
    assert!(!dense.contains("experts of"), "{dense}");

    let check = stdout(&["check", "7b", "--gpu", "l40s", "--task", "chat"]);
    assert!(check.starts_with("PASS: all 2 checks hold — "), "{check}");
}

#[test]
fn tasks_lists_each_policy_as_a_table_and_as_json() {
    let table = stdout(&["tasks"]);
    assert_eq!(
        line_with(&table, "│ code "),
        "│ code           ┆ LiveCodeBench ≥ 50 ┆   2048 ┆      4096 ┆   1024 ┆    8192 ┆  2.0 s ┆      20 │"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["tasks", "--json"])).expect("json");
    assert_eq!(json["schema"], "r1pick.tasks/v1");
    let tasks = json["tasks"].as_array().expect("tasks");
    let ids: Vec<&str> = tasks.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "classification",
            "chat",
            "summarization",
            "writing",
            "long-document",
            "code",
            "math",
            "research",
            "hardest"
        ]
    );
    let research = &tasks[7];
    assert_eq!(research["benchmark"], "gpqa_diamond");
    assert_eq!(research["min_score"], 60.0);
    assert_eq!(research["latency_ms"], 3000.0);
}

/// The library's run with tables fitted to `width` (what a terminal of that width gets).
fn at_width(width: Option<u16>, line: &str) -> String {
    use clap::Parser;
    let cli =
        r1pick::cli::Cli::try_parse_from(std::iter::once("r1pick").chain(line.split_whitespace()))
            .expect("flags parse");
    r1pick::report::with_width(width, || r1pick::app::run(&cli))
        .expect("the command runs")
        .stdout
}

/// Commands whose output was wider than 100 columns.
const WIDE: &[&str] = &[
    "models",
    "gpus",
    "tasks",
    "probe --gpu h100-sxm:8",
    "probe --gpu rtx-4090 --gpu rtx-3090:2",
    "recommend --task chat --gpu rtx-4090 --explain",
    "recommend --task extraction --no-gpu --ram 64GiB",
    "estimate 7b --gpu h100-sxm --rate 2/s --prompt 512..4k --output 256..2k",
    "size 671b --quant ud-iq1_s --engine llama.cpp --gpu rtx-4090:4 --ram 256GiB",
    "check 7b --gpu l40s --task chat --latency 100ms",
    "finetune 8b --gpu rtx-4090",
];

#[test]
fn every_table_fits_a_100_column_terminal() {
    for line in WIDE {
        let out = at_width(Some(100), line);
        for l in out.lines() {
            // A launch command stays whole, to be copied as one line.
            if l.trim_start().starts_with("launch: ") {
                continue;
            }
            assert!(
                l.chars().count() <= 100,
                "r1pick {line}: {} columns:\n{l}",
                l.chars().count()
            );
        }
    }
    // Without a terminal the output is as wide as its content, as before.
    let piped = at_width(None, "models");
    assert!(piped.lines().any(|l| l.chars().count() > 100));
}

#[test]
fn json_is_the_same_whatever_the_width() {
    for line in [
        "models --json",
        "recommend --task chat --gpu rtx-4090 --explain --json",
    ] {
        assert_eq!(at_width(Some(100), line), at_width(None, line), "{line}");
        assert_eq!(at_width(Some(40), line), at_width(None, line), "{line}");
    }
}

#[test]
fn closest_means_runs_here_and_misses_by_the_least() {
    // On a machine without a GPU the README's first command says what misses, locally and in the cloud.
    let (code, out) = run(&argv(
        "recommend --task code --latency 200ms --no-gpu --ram 64GiB",
    ));
    assert_eq!(code, Some(1));
    assert_eq!(
        out.matches("closest").count(),
        1,
        "one closest list:\n{out}"
    );
    assert!(
        out.contains("cheapest hardware that meets every constraint: "),
        "{out}"
    );
    let list = out
        .split("closest candidates (run here, miss by the least):\n")
        .nth(1)
        .expect("the closest list");
    assert_eq!(list.lines().count(), 5, "{list}");
    for l in list.lines() {
        // Sized on this machine, with each constraint it misses and the margin.
        assert!(l.contains(" on CPU only: latency: "), "{l}");
        assert!(!l.contains(" on -"), "{l}");
    }
    // Nothing turned down before sizing (below the quality floor) names a GPU: null, never "-".
    let (_, json) = run(&argv(
        "recommend --task extraction --no-gpu --ram 64GiB --explain --json",
    ));
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rejected = doc["rejected"].as_array().expect("rejected");
    assert!(rejected.iter().any(|r| r["gpus"].is_null()));
    assert!(rejected.iter().all(|r| r["gpus"] != "-"));
    let closest = doc["closest"].as_array().expect("closest");
    assert_eq!(closest[0]["gpus"], "CPU only");
    assert_eq!(closest[0]["misses"][0]["constraint"], "latency");
}

#[test]
fn the_readme_first_command_on_a_machine_without_a_gpu_says_nothing_local_qualifies() {
    // The probe with no NVIDIA driver (util::r1pick points NVML at a missing library).
    let (code, text) = run(&["recommend", "--task", "code", "--latency", "200ms"]);
    if !text.contains("(no GPU found)") {
        // A machine with a GPU the probe finds without NVML (Apple, AMD) recommends instead.
        return;
    }
    assert_eq!(code, Some(1));
    assert_eq!(
        text.lines().next(),
        Some("Nothing qualifies for code on this machine (no GPU found).")
    );
    assert!(text.contains("cheapest hardware that meets every constraint: "));
    assert!(text.contains("closest candidates (run here, miss by the least):"));
}

/// Issue 15 item 8: llama.cpp's default cache type is f16 (common.h `cache_type_k`), vLLM's
/// `auto` is the checkpoint's bf16.
#[test]
fn the_kv_cache_is_named_as_each_engine_allocates_it() {
    let gguf = stdout(&argv(
        "estimate 7b --quant q4_k_m --engine llama.cpp --gpu rtx-4090 --json",
    ));
    assert!(gguf.contains(r#""kv_dtype": "f16""#), "{gguf}");
    let vllm = stdout(&argv(
        "estimate 7b --quant bf16 --engine vllm --gpu rtx-4090 --json",
    ));
    assert!(vllm.contains(r#""kv_dtype": "bf16""#), "{vllm}");
}

/// Issue 15 item 8: the check table names a constraint by its JSON id.
#[test]
fn the_check_table_names_constraints_by_their_json_ids() {
    let (_, out) = run(&argv(
        "check 7b --quant q4_k_m --engine llama.cpp --gpu rtx-4090 --latency 1ms",
    ));
    assert!(
        line_with(&out, "≤ 24.0 GiB")
            .trim_start_matches('│')
            .trim()
            .starts_with("fits"),
        "{out}"
    );
    assert!(!out.contains("│ memory"), "{out}");
}

/// Issue 15 item 8: `gpus` spells links as `--hardware` files take them.
#[test]
fn gpus_prints_links_as_hardware_files_spell_them() {
    let out = stdout(&["gpus"]);
    assert!(
        line_with(&out, "rtx-3090 ").contains("nvlink3-bridge"),
        "{out}"
    );
    assert!(
        !out.contains("nvlink3bridge") && !out.contains("infinityfabric"),
        "{out}"
    );
}
