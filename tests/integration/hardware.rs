//! Hardware: the probe fed with real NVML readings, the CPU-only path of this machine, `--gpu`
//! spellings, `--hardware` files, and the memory a GPU can really give an engine.

use std::time::{Duration, Instant};

use predicates::prelude::*;
use r1pick::hardware::probe::nvidia::{self, NvmlSnapshot};
use r1pick::hardware::probe::{self, BandwidthSource, NvmlSource, ProbeOptions, apple};
use r1pick::hardware::simulate::resolve_gpu;
use serde_json::Value;

use crate::util::{catalog, r1pick};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn snapshot(name: &str) -> NvmlSnapshot {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is an NVML snapshot")
}

fn json(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("valid JSON")
}

/// Run r1pick with `args`; it must exit with `code` and say `message` on stderr.
fn fails(args: &[&str], code: i32, message: &str) {
    r1pick()
        .args(args)
        .assert()
        .code(code)
        .stdout("")
        .stderr(predicate::str::contains(message));
}

/// The `memory` object of `r1pick size ARGS --json`.
fn size_memory(args: &[&str]) -> Value {
    json(r1pick().arg("size").args(args).arg("--json"))["memory"].clone()
}

/// `memory.per_gpu_capacity_bytes` of `r1pick size` with these arguments.
fn capacity(args: &[&str]) -> u64 {
    size_memory(args)["per_gpu_capacity_bytes"]
        .as_u64()
        .expect("capacity is a number")
}

// ---- the NVML path, fed with real readings -------------------------------------------------

#[test]
fn the_h100_reading_is_the_h100_sxm_with_nvml_memory_and_bandwidth() {
    let (gpus, notes) = nvidia::gpus(&catalog(), &snapshot("nvml-h100-sxm.json"));
    assert_eq!(gpus.len(), 1);
    let (g, d) = (&gpus[0].gpu, &gpus[0].detail);
    assert_eq!(g.id.as_deref(), Some("h100-sxm"));
    assert_eq!(g.name, "NVIDIA H100 80GB HBM3");
    // 5120 bit / 8 × 2619 MHz × 2 = 3352.32 GB/s (hardware.md §9), not the catalog's 3350.
    assert!(
        (g.bandwidth_gb_s - 3352.32).abs() < 1e-6,
        "{}",
        g.bandwidth_gb_s
    );
    assert_eq!(d.bandwidth_source, BandwidthSource::Nvml);
    // Memory is NVML's 81,559 MiB, not the marketing 80 GB; usable is what is free.
    assert_eq!(g.memory_bytes, 85_520_809_984);
    assert_eq!(g.memory_bytes / MIB, 81_559);
    assert_eq!(g.available_bytes, 85_017_493_504);
    assert_eq!(g.compute_capability.as_deref(), Some("9.0"));
    assert_eq!(d.architecture.as_deref(), Some("hopper"));
    assert_eq!((d.pcie_gen, d.pcie_width), (Some(5), Some(16)));
    assert!(!g.mig);
    assert_eq!(g.tdp_w, Some(700.0));
    // Specs the driver does not know come from the catalog entry.
    assert_eq!(g.fp16_tflops, 989.0);
    assert_eq!(g.fp8_tflops, Some(1979.0));
    assert!(
        notes.is_empty(),
        "an idle, known GPU needs no note: {notes:?}"
    );
}

#[test]
fn the_h200_reading_is_the_h200_with_nvml_memory_and_bandwidth() {
    let (gpus, notes) = nvidia::gpus(&catalog(), &snapshot("nvml-h200.json"));
    let g = &gpus[0].gpu;
    assert_eq!(g.id.as_deref(), Some("h200"));
    // 6016 bit (not the marketing 6144) / 8 × 3201 MHz × 2 = 4814.304 GB/s.
    assert!(
        (g.bandwidth_gb_s - 4814.304).abs() < 1e-6,
        "{}",
        g.bandwidth_gb_s
    );
    assert_eq!(g.memory_bytes / MIB, 143_771);
    assert_eq!(g.available_bytes, 150_109_880_320);
    assert_eq!(gpus[0].detail.pcie_gen, Some(5));
    assert!(!g.mig);
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn probe_reads_a_recorded_snapshot_through_the_binary() {
    let doc = json(
        r1pick()
            .args(["probe", "--json"])
            .env("R1PICK_NVML_SNAPSHOT", fixture("nvml-h100-sxm.json")),
    );
    assert_eq!(doc["schema"], "r1pick.probe/v1");
    assert_eq!(doc["gpu_count"], 1);
    let g = &doc["gpus"][0];
    assert_eq!(g["id"], "h100-sxm");
    assert_eq!(g["uuid"], "GPU-af5b7564-a5c3-ef43-f7e1-0941e7c96de4");
    assert_eq!(g["bandwidth_gb_s"].as_f64().map(f64::round), Some(3352.0));
    assert_eq!(doc["nvidia"]["driver"], "580.159.04");
    assert_eq!(doc["nvidia"]["cuda"], "13.0");
}

#[test]
fn cuda_visible_devices_hides_gpus_from_the_probe() {
    let doc = json(
        r1pick()
            .args(["probe", "--json"])
            .env("R1PICK_NVML_SNAPSHOT", fixture("nvml-h100-sxm.json"))
            .env("CUDA_VISIBLE_DEVICES", ""),
    );
    assert_eq!(doc["gpus"], Value::Array(vec![]));
    assert_eq!(doc["nvidia"]["devices"], 1);
    assert_eq!(
        doc["notes"][0],
        "CUDA_VISIBLE_DEVICES='' leaves 0 of 1 GPUs visible"
    );
}

#[test]
fn a_probed_h200_is_sized_by_its_free_memory() {
    // vLLM takes 0.9 of the total NVML reports (150,754,820,096 B), which the 150,109,880,320 B
    // free covers (below it vLLM refuses to start: tests/integration/memory.rs).
    let cap = json(
        r1pick()
            .args([
                "size", "70b", "--quant", "fp8", "--engine", "vllm", "--json",
            ])
            .env("R1PICK_NVML_SNAPSHOT", fixture("nvml-h200.json")),
    )["memory"]["per_gpu_capacity_bytes"]
        .as_u64();
    assert_eq!(cap, Some((150_754_820_096.0_f64 * 0.9).round() as u64));
}

#[test]
fn a_gpu_in_use_is_sized_by_what_is_free_and_says_so() {
    let mut snap = snapshot("nvml-h100-sxm.json");
    let d = &mut snap.devices[0];
    d.memory_free = Some(30 * GIB);
    d.memory_used = Some(d.memory_total.unwrap() - 30 * GIB);
    let (gpus, notes) = nvidia::gpus(&catalog(), &snap);
    assert_eq!(gpus[0].gpu.available_bytes, 30 * GIB);
    assert_eq!(gpus[0].gpu.memory_bytes, 85_520_809_984);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("is in use: 30.0 GiB of 79.6 GiB free")),
        "{notes:?}"
    );
}

#[test]
fn a_mig_gpu_is_marked_and_refused_by_sizing() {
    let mut snap = snapshot("nvml-h100-sxm.json");
    snap.devices[0].mig = Some([1, 1]);
    let (gpus, notes) = nvidia::gpus(&catalog(), &snap);
    assert!(gpus[0].gpu.mig);
    assert!(notes.iter().any(|n| n.contains("MIG mode")), "{notes:?}");

    let path = std::env::temp_dir().join(format!("r1pick-mig-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    r1pick()
        .args(["size", "7b", "--engine", "vllm", "--quant", "bf16"])
        .env("R1PICK_NVML_SNAPSHOT", &path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MIG mode"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_unknown_nvidia_gpu_keeps_nvml_numbers_and_conservative_compute() {
    let mut snap = snapshot("nvml-h200.json");
    snap.devices[0].name = Some("NVIDIA H300 Prototype".into());
    let (gpus, notes) = nvidia::gpus(&catalog(), &snap);
    let g = &gpus[0].gpu;
    assert_eq!(g.id, None);
    assert!(!gpus[0].detail.in_catalog);
    assert_eq!(g.memory_bytes / MIB, 143_771);
    assert!((g.bandwidth_gb_s - 4814.304).abs() < 1e-6);
    // The slowest Hopper in the catalog is the H20 at 148 dense FP16 TFLOPS.
    assert_eq!(g.fp16_tflops, 148.0);
    assert_eq!(g.fp8_tflops, None);
    assert!(
        notes.iter().any(|n| n.contains("not in r1pick's catalog")),
        "{notes:?}"
    );
}

// ---- this machine: no GPU, no NVML ---------------------------------------------------------

#[test]
fn probe_without_nvml_prints_a_cpu_only_inventory_and_exits_0() {
    r1pick()
        .arg("probe")
        .assert()
        .success()
        .stdout(predicate::str::contains("GPUs (probed): none"))
        .stdout(predicate::str::contains("RAM"))
        .stdout(predicate::str::contains(
            "note: no NVIDIA GPU detected: the NVIDIA driver library could not be loaded",
        ));
}

#[test]
fn probe_json_without_nvml_has_no_gpus_and_the_host() {
    let doc = json(r1pick().args(["probe", "--json"]));
    assert_eq!(doc["schema"], "r1pick.probe/v1");
    assert_eq!(doc["gpus"], Value::Array(vec![]));
    assert_eq!(doc["gpu_count"], 0);
    assert_eq!(doc["nvidia"]["status"], "no_library");
    assert!(doc["host"]["ram_bytes"].as_u64().unwrap() > 0);
    assert!(doc["host"]["cpu_bandwidth_gb_s"].as_f64().unwrap() > 0.0);
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .starts_with("no NVIDIA GPU detected:")
    );
}

#[test]
fn require_gpu_without_one_exits_3() {
    fails(&["probe", "--require-gpu"], 3, "no GPU could be probed");
}

#[test]
fn host_overrides_apply_to_the_probed_machine() {
    let doc = json(r1pick().args([
        "probe",
        "--json",
        "--ram",
        "64GiB",
        "--cpu-bandwidth",
        "120",
    ]));
    assert_eq!(doc["source"], "probed");
    assert_eq!(doc["host"]["ram_bytes"], 64 * GIB);
    assert_eq!(doc["host"]["cpu_bandwidth_gb_s"], 120.0);
    assert_eq!(doc["host"]["cpu_bandwidth_basis"], "--cpu-bandwidth");
}

#[test]
fn a_probe_without_a_gpu_takes_well_under_a_second() {
    let opts = ProbeOptions {
        nvml: NvmlSource::Library(Some("/nonexistent/libnvidia-ml.so.1".into())),
        ..ProbeOptions::default()
    };
    let c = catalog();
    let start = Instant::now();
    let report = probe::probe(&c, &opts);
    let took = start.elapsed();
    assert!(report.hardware.gpus.is_empty());
    assert!(took < Duration::from_secs(1), "probe took {took:?}");
}

// ---- simulation -----------------------------------------------------------------------------

#[test]
fn gpu_spellings_people_use_resolve() {
    let c = catalog();
    for (spelling, id) in [
        ("h100", "h100-sxm"),
        ("H100 SXM", "h100-sxm"),
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("4090", "rtx-4090"),
        ("rtx4090", "rtx-4090"),
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("h200", "h200"),
    ] {
        assert_eq!(
            resolve_gpu(&c, spelling).map(|g| g.id.as_str()),
            Ok(id),
            "{spelling}"
        );
    }
    let doc = json(r1pick().args(["probe", "--json", "--gpu", "rtx4090:2"]));
    assert_eq!(doc["source"], "simulated");
    assert_eq!(doc["gpu_count"], 2);
    assert_eq!(doc["gpus"][1]["id"], "rtx-4090");
}

#[test]
fn an_ambiguous_gpu_lists_what_it_matches() {
    fails(
        &["probe", "--gpu", "a100 pcie"],
        2,
        "GPU 'a100 pcie' is ambiguous; it matches a100-pcie-40gb, a100-pcie-80gb",
    );
}

#[test]
fn an_unknown_gpu_lists_the_closest_ids() {
    fails(
        &["size", "7b", "--gpu", "h1000"],
        2,
        "unknown GPU 'h1000'; closest: h100-sxm",
    );
}

#[test]
fn simulated_hardware_is_deterministic_and_never_probes() {
    // A broken snapshot would fail the command if simulation read it.
    let run = || {
        r1pick()
            .args(["probe", "--json", "--gpu", "l40s:4"])
            .env("R1PICK_NVML_SNAPSHOT", "/nonexistent/snapshot.json")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(run(), run());
}

// ---- --hardware FILE ------------------------------------------------------------------------

fn hardware_file(tag: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("r1pick-hw-{tag}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_hardware_file_describes_catalog_and_unknown_gpus() {
    let path = hardware_file(
        "ok",
        r#"
[host]
ram = "256GiB"
cpu_bandwidth_gb_s = 307.2

[[gpu]]
id = "l40s"
count = 4

[[gpu]]
name = "Acme X1"
memory = "96GiB"
bandwidth_gb_s = 2400
fp16_tflops = 500
interconnect = "nvlink4"
usd_per_hour = 2.5
"#,
    );
    let doc = json(r1pick().args(["probe", "--json", "--hardware"]).arg(&path));
    assert_eq!(doc["gpu_count"], 5);
    assert_eq!(doc["gpus"][0]["id"], "l40s");
    assert_eq!(doc["gpus"][0]["memory_bytes"], 48 * GIB);
    let x1 = &doc["gpus"][4];
    assert_eq!(x1["name"], "Acme X1");
    assert_eq!(x1["id"], Value::Null);
    assert_eq!(x1["memory_bytes"], 96 * GIB);
    assert_eq!(x1["bandwidth_source"], "file");
    assert_eq!(x1["interconnect_gb_s"], 450.0);
    assert_eq!(x1["usd_per_hour"], 2.5);
    assert_eq!(doc["host"]["ram_bytes"], 256 * GIB);
    assert_eq!(doc["host"]["cpu_bandwidth_gb_s"], 307.2);
    // A flag wins over the file.
    let doc = json(
        r1pick()
            .args(["probe", "--json", "--ram", "512GiB", "--hardware"])
            .arg(&path),
    );
    assert_eq!(doc["host"]["ram_bytes"], 512 * GIB);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_typo_in_a_hardware_file_fails_with_its_line() {
    let path = hardware_file(
        "typo",
        "[host]\nram = \"64GiB\"\n\n[[gpu]]\nid = \"l40s\"\ncuont = 2\n",
    );
    let file = path.to_str().unwrap();
    fails(
        &["size", "7b", "--hardware", file],
        2,
        &format!("{file}: line 6: unknown field `cuont`"),
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_incomplete_gpu_in_a_hardware_file_names_what_is_missing() {
    let path = hardware_file("missing", "[[gpu]]\nname = \"X\"\nmemory = \"48GiB\"\n");
    fails(
        &["probe", "--hardware", path.to_str().unwrap()],
        2,
        "line 1: a [[gpu]] needs id = \"<catalog id>\" (see `r1pick gpus`) or its specs; missing: bandwidth_gb_s, fp16_tflops",
    );
    let _ = std::fs::remove_file(path);
}

// ---- memory a GPU can really give ----------------------------------------------------------

#[test]
fn a_24gb_card_gives_vllm_90_percent_and_llama_cpp_all_but_1_gib() {
    // The RTX 4090's driver reports 24,564 MiB. vLLM: gpu_memory_utilization 0.9 of it;
    // llama.cpp --fit: the whole card, with 1024 MiB kept free counted as overhead
    // (data/engines.toml [engine.memory], formulas.md §4–§5).
    let total = 24_564 * MIB;
    assert_eq!(
        capacity(&["7b", "--gpu", "4090", "--engine", "vllm", "--quant", "bf16"]),
        (total as f64 * 0.9).round() as u64
    );
    let llama = size_memory(&[
        "7b",
        "--gpu",
        "4090",
        "--engine",
        "llama.cpp",
        "--quant",
        "q4_k_m",
    ]);
    assert_eq!(llama["per_gpu_capacity_bytes"], total);
    assert_eq!(llama["overhead_bytes"], 1024 * MIB);
}

#[test]
fn an_80gb_card_gives_vllm_90_percent_of_the_driver_total() {
    // H100 SXM: 81,559 MiB as NVML reports it, not 80 GiB.
    assert_eq!(
        capacity(&[
            "14b", "--gpu", "h100", "--engine", "vllm", "--quant", "bf16"
        ]),
        (81_559.0 * MIB as f64 * 0.9).round() as u64
    );
}

#[test]
fn apple_unified_memory_gives_the_metal_working_set() {
    // macOS lets the GPU use about 2/3 of RAM up to 36 GiB and 3/4 above (recommendedMaxWorkingSetSize).
    assert_eq!(
        capacity(&[
            "7b",
            "--gpu",
            "m4-pro",
            "--ram",
            "64GiB",
            "--engine",
            "llama.cpp",
            "--quant",
            "q4_k_m"
        ]),
        48 * GIB
    );
    assert_eq!(
        capacity(&[
            "7b",
            "--gpu",
            "m3-pro",
            "--ram",
            "36GiB",
            "--engine",
            "llama.cpp",
            "--quant",
            "q4_k_m"
        ]),
        24 * GIB
    );
    // The macOS probe path: the chip name picks the catalog entry sold with that much memory.
    let c = catalog();
    let small = apple::gpu(&c, "Apple M3 Max", 36 * GIB).unwrap();
    assert_eq!(small.gpu.id.as_deref(), Some("m3-max-30c"));
    assert_eq!(small.gpu.memory_bytes, 24 * GIB);
    let big = apple::gpu(&c, "Apple M3 Max", 128 * GIB).unwrap();
    assert_eq!(big.gpu.id.as_deref(), Some("m3-max-40c"));
    assert_eq!(big.gpu.memory_bytes, 96 * GIB);
    assert!(apple::gpu(&c, "Apple M9 Hyper", 64 * GIB).is_none());
}
