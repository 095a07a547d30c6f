//! Fine-tuning memory and time: published peaks (data/training-calibration.toml), exact adapter
//! counts, the command's output and its refusals.

use clap::ValueEnum;
use r1pick::catalog::Model;
use r1pick::catalog::model::{Architecture, DenseArch};
use r1pick::training::lora::{adapter_params, linear_params};
use r1pick::training::{
    Checkpointing, Method, Optimizer, Sharding, Targets, TrainSetup, TrainingConstants, max_seq,
    memory,
};
use serde::Deserialize;
use serde_json::Value;

use crate::util::{assert_refused, dense_model, machine, r1pick, within};

const GIB: f64 = (1u64 << 30) as f64;

/// A Llama 3 model from its published config.json (meta-llama/Llama-3.1-8B, Llama-3.3-70B): these
/// are not R1 variants, so they are not in the catalog.
fn llama(id: &str, layers: u32, hidden: u32, ffn: u32, heads: u32) -> Model {
    dense_model(
        id,
        id,
        DenseArch {
            layers,
            hidden,
            ffn,
            heads,
            kv_heads: 8,
            head_dim: 128,
            vocab: 128_256,
            tied_embeddings: false,
            qkv_bias: false,
            qk_norm: false,
            sliding_window: None,
        },
        "bf16",
    )
}

fn model(id: &str) -> Model {
    match id {
        "llama-3.1-8b" => llama(id, 32, 4096, 14336, 32),
        "llama-3.3-70b" => llama(id, 80, 8192, 28672, 64),
        other => panic!("calibration model {other} is not defined here"),
    }
}

fn arch(m: &Model) -> &DenseArch {
    match &m.arch {
        Architecture::Dense(a) => a,
        Architecture::Moe(_) | Architecture::GqaMoe(_) => unreachable!(),
    }
}

#[derive(Deserialize)]
struct Calibration {
    #[allow(dead_code)]
    schema_version: u32,
    peak: Vec<Row>,
    max_context: Vec<Row>,
}

/// One published figure with its settings.
#[derive(Deserialize)]
struct Row {
    name: String,
    model: String,
    #[serde(default)]
    gpu: Option<String>,
    #[serde(default = "one")]
    gpus: u32,
    #[serde(default)]
    gpu_gib: Option<f64>,
    method: String,
    #[serde(default = "one")]
    rank: u32,
    #[serde(default = "all")]
    targets: String,
    framework: String,
    optimizer: String,
    #[serde(default)]
    optimizer_in_backward: bool,
    checkpointing: String,
    #[serde(default = "none")]
    sharding: String,
    #[serde(default = "one")]
    seq: u32,
    micro_batch: u32,
    #[serde(default)]
    peak_gib: Option<f64>,
    #[serde(default)]
    tokens: Option<u32>,
    #[allow(dead_code)]
    assumed: String,
}

fn one() -> u32 {
    1
}
fn all() -> String {
    "all".into()
}
fn none() -> String {
    "none".into()
}

fn value<T: ValueEnum>(s: &str) -> T {
    T::from_str(s, true).unwrap_or_else(|e| panic!("calibration value '{s}': {e}"))
}

impl Row {
    fn setup(&self) -> TrainSetup {
        TrainSetup {
            method: value::<Method>(&self.method),
            rank: self.rank,
            targets: value::<Targets>(&self.targets),
            optimizer: value::<Optimizer>(&self.optimizer),
            seq: self.seq,
            micro_batch: self.micro_batch,
            checkpointing: value::<Checkpointing>(&self.checkpointing),
            sharding: value::<Sharding>(&self.sharding),
            gpus: self.gpus,
            offload_optimizer: false,
            optimizer_in_backward: self.optimizer_in_backward,
            framework: self.framework.clone(),
        }
    }
}

fn calibration() -> Calibration {
    let text = include_str!("../../data/training-calibration.toml");
    toml::from_str(text).expect("data/training-calibration.toml parses")
}

fn constants() -> TrainingConstants {
    TrainingConstants::embedded().expect("data/training.toml loads")
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// "+7.7%" / "−3.4%" (a minus sign, as the README prints it).
fn percent(actual: f64, published: f64) -> String {
    let p = (actual - published) / published * 100.0;
    if p < 0.0 {
        format!("−{:.1}%", -p)
    } else {
        format!("+{p:.1}%")
    }
}

/// 342733 → "342,733".
fn grouped(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, ch) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// torchtune's peaks (PyTorch's counter: r1pick's total less the CUDA context), within 15%.
#[test]
fn calibration_torchtune_peaks_within_15_percent() {
    let c = constants();
    let mut failures = vec![];
    for row in calibration().peak {
        let gpu = row.gpu.as_deref().expect("a peak row names its GPU");
        let hw = machine(&format!("{gpu}:{}", row.gpus));
        let m = memory(
            &c,
            &model(&row.model),
            &row.setup(),
            hw.gpus[0].available_bytes,
            u64::MAX,
        )
        .unwrap();
        let torch = (m.total_bytes - m.overhead_bytes) as f64 / GIB;
        let published = row.peak_gib.expect("a peak row has peak_gib");
        println!(
            "{:<45} published {published:>5.1} GiB  r1pick {torch:>5.1} GiB  {:+.1}%",
            row.name,
            (torch - published) / published * 100.0
        );
        if !within(torch, published, 0.15) {
            failures.push(format!("{}: {torch:.2} GiB vs {published} GiB", row.name));
        }
        let cell = format!("| {torch:.1} GiB ({}) |", percent(torch, published));
        if !readme().contains(&cell) {
            failures.push(format!(
                "README's calibration table lacks `{cell}` ({})",
                row.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// unsloth's longest QLoRA context per GPU size, within 20%.
#[test]
fn calibration_unsloth_max_context_within_20_percent() {
    let c = constants();
    let mut failures = vec![];
    for row in calibration().max_context {
        let capacity = (row.gpu_gib.expect("a max_context row has gpu_gib") * GIB) as u64;
        let found = max_seq(&c, &model(&row.model), &row.setup(), capacity, u64::MAX)
            .unwrap()
            .expect("some context fits") as f64;
        let published = f64::from(row.tokens.expect("a max_context row has tokens"));
        println!(
            "{:<45} published {published:>8.0} tokens  r1pick {found:>8.0}  {:+.1}%",
            row.name,
            (found - published) / published * 100.0
        );
        if !within(found, published, 0.20) {
            failures.push(format!("{}: {found} vs {published}", row.name));
        }
        let cell = format!(
            "| {} ({}) |",
            grouped(found as u64),
            percent(found, published)
        );
        if !readme().contains(&cell) {
            failures.push(format!(
                "README's calibration table lacks `{cell}` ({})",
                row.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Full fine-tuning on `gpus` GPUs with `sharding`, transformers' defaults.
fn full_setup(checkpointing: Checkpointing, sharding: Sharding, gpus: u32) -> TrainSetup {
    TrainSetup {
        method: Method::Full,
        rank: 16,
        targets: Targets::All,
        optimizer: Optimizer::Adamw,
        seq: 2048,
        micro_batch: 1,
        checkpointing,
        sharding,
        gpus,
        offload_optimizer: false,
        optimizer_in_backward: false,
        framework: "hf".into(),
    }
}

/// LoRA adapters add r·(in + out) per targeted projection; the sums below are done by hand from
/// the config shapes.
#[test]
fn adapter_parameters_are_exact() {
    let l8 = model("llama-3.1-8b");
    // q 16·(4096+4096) + k, v 16·(4096+1024) + o 16·(4096+4096) + gate, up, down 16·(4096+14336):
    // 131,072·2 + 81,920·2 + 294,912·3 = 1,310,720 per layer × 32 layers.
    assert_eq!(adapter_params(arch(&l8), Targets::All, 16), 41_943_040);
    // attention only, r = 8: (65,536·2 + 40,960·2) × 32.
    assert_eq!(adapter_params(arch(&l8), Targets::Attn, 8), 6_815_744);
    let l70 = model("llama-3.3-70b");
    // q, o 16·(8192+8192) = 262,144; k, v 16·(8192+1024) = 147,456; × 80 layers.
    assert_eq!(adapter_params(arch(&l70), Targets::Attn, 16), 65_536_000);
    // MLP only, r = 32: 3 · 32·(8192+28672) × 80.
    assert_eq!(adapter_params(arch(&l70), Targets::Mlp, 32), 283_115_520);
    // The catalog's R1-Distill-Qwen-14B (hidden 5120, FFN 13824, 8 KV heads, 48 layers), r = 16:
    // (163,840·2 + 98,304·2 + 303,104·3) × 48.
    let q14 = crate::util::catalog().model("14b").unwrap().clone();
    assert_eq!(adapter_params(arch(&q14), Targets::All, 16), 68_812_800);
}

/// NF4 with double quantization: 4 + 8/64 + 32/(64·256) bits per linear weight, 16-bit elsewhere.
#[test]
fn qlora_base_weights_are_nf4_with_block_scales() {
    let l8 = model("llama-3.1-8b");
    // 7 projections per layer: 2·4096² + 2·4096·1024 + 3·4096·14336 = 218,103,808; × 32.
    assert_eq!(linear_params(arch(&l8)), 6_979_321_856);
    let setup = TrainSetup {
        method: Method::Qlora,
        ..calibration().max_context[0].setup()
    };
    let m = memory(&constants(), &l8, &setup, u64::MAX, u64::MAX).unwrap();
    // 6,979,321,856 × 4.126953125 / 8 = 3,600,416,768 B of NF4, plus the embedding, the head and
    // the norms (1,050,939,392 parameters) at 2 B.
    assert_eq!(m.weights_bytes, 3_600_416_768 + 2_101_878_784);
    assert_eq!(m.trainable_params, 83_886_080);
}

/// 6N per token for full fine-tuning and 8N with checkpointing; 4N and 6N for LoRA.
#[test]
fn training_flops_follow_the_6n_rule() {
    use r1pick::training::speed;
    let l8 = model("llama-3.1-8b");
    let c = constants();
    let base = full_setup(Checkpointing::Off, Sharding::None, 1);
    // Forward: 2 × 7,504,924,672 matmul parameters (all but the embedding) + 2·32·2048·4096.
    let forward = 15_546_720_256.0;
    let full = speed(&c, &l8, &base, 165.2).unwrap();
    assert_eq!(full.forward_flops_per_token, forward);
    assert_eq!(full.flops_per_token, 3.0 * forward);
    let on = TrainSetup {
        checkpointing: Checkpointing::On,
        ..base.clone()
    };
    assert_eq!(
        speed(&c, &l8, &on, 165.2).unwrap().flops_per_token,
        4.0 * forward
    );
    // LoRA: forward + gradients of activations, + the adapters' 2·P·3 (41,943,040 parameters).
    let lora = TrainSetup {
        method: Method::Lora,
        ..base.clone()
    };
    let s = speed(&c, &l8, &lora, 165.2).unwrap();
    assert_eq!(s.flops_per_token, 2.0 * forward + 6.0 * 41_943_040.0);
    // Tokens/s = 0.40 × 165.2 TFLOPS / FLOPs per token.
    assert!(within(
        s.tokens_per_s,
        0.40 * 165.2e12 / s.flops_per_token,
        1e-12
    ));
}

/// Sharding divides what it shards: ZeRO-2 the state, FSDP the weights too.
#[test]
fn sharding_splits_state_and_weights() {
    let l8 = model("llama-3.1-8b");
    let c = constants();
    let setup = |sharding, gpus| full_setup(Checkpointing::On, sharding, gpus);
    let one = memory(&c, &l8, &setup(Sharding::None, 1), u64::MAX, u64::MAX).unwrap();
    // Mixed precision: 2 B weights, 4 B master, 2 B gradients, 8 B moments (ZeRO's 16 B/param).
    assert_eq!(one.weights_bytes, 8_030_261_248 * 2);
    assert_eq!(one.master_weights_bytes, 8_030_261_248 * 4);
    assert_eq!(one.optimizer_bytes, 8_030_261_248 * 8);
    let z2 = memory(&c, &l8, &setup(Sharding::Zero2, 4), u64::MAX, u64::MAX).unwrap();
    assert_eq!(z2.weights_bytes, one.weights_bytes);
    assert_eq!(z2.optimizer_bytes, one.optimizer_bytes / 4);
    assert_eq!(z2.gradient_bytes, one.gradient_bytes / 4);
    let fsdp = memory(&c, &l8, &setup(Sharding::Fsdp, 4), u64::MAX, u64::MAX).unwrap();
    assert_eq!(fsdp.weights_bytes, one.weights_bytes / 4);
    // Two units whole at once: the embedding and the head, 525,336,576 parameters each at 2 B.
    assert_eq!(fsdp.working_weights_bytes, 2 * 525_336_576 * 2);
    // DDP keeps a second copy of the gradients in its buckets.
    let ddp = memory(&c, &l8, &setup(Sharding::Ddp, 4), u64::MAX, u64::MAX).unwrap();
    assert_eq!(ddp.gradient_bytes, 2 * one.gradient_bytes);
    // Offloading the optimizer moves master weights and moments of every rank to host RAM.
    let off = TrainSetup {
        offload_optimizer: true,
        ..setup(Sharding::Zero2, 4)
    };
    let off = memory(&c, &l8, &off, u64::MAX, u64::MAX).unwrap();
    assert_eq!(off.optimizer_bytes, 0);
    assert_eq!(off.host_bytes, 8_030_261_248 * 12);
}

fn finetune_json(args: &[&str]) -> Value {
    let out = r1pick()
        .arg("finetune")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("finetune --json prints JSON")
}

#[test]
fn finetune_json_reports_the_plan_and_the_framework_settings() {
    let v = finetune_json(&[
        "14b", "--method", "qlora", "--gpu", "rtx-4090", "--tokens", "10M",
    ]);
    assert_eq!(v["schema"], "r1pick.finetune/v1");
    assert_eq!(v["model"], "deepseek-r1-distill-qwen-14b");
    assert_eq!(v["memory"]["trainable_params"], 68_812_800);
    assert_eq!(v["memory"]["fits"], true);
    assert_eq!(v["setup"]["base_precision"], "nf4");
    let settings: Vec<String> = v["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["framework"].as_str().unwrap(),
                f["setting"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        settings
            .iter()
            .any(|s| s.starts_with("peft: LoraConfig(r=16, lora_alpha=32")
                && s.contains("\"down_proj\"")),
        "{settings:?}"
    );
    assert!(
        settings
            .iter()
            .any(|s| s.contains("bnb_4bit_quant_type=\"nf4\"")
                && s.contains("bnb_4bit_use_double_quant=True")),
        "{settings:?}"
    );
    // The total is the sum of its parts.
    let m = &v["memory"];
    let parts: u64 = [
        "weights_bytes",
        "adapter_bytes",
        "master_weights_bytes",
        "gradient_bytes",
        "optimizer_bytes",
        "activation_bytes",
        "logits_bytes",
        "working_weights_bytes",
        "overhead_bytes",
    ]
    .iter()
    .map(|k| m[k].as_u64().unwrap())
    .sum();
    let total = m["total_bytes"].as_u64().unwrap();
    assert!(total.abs_diff(parts) <= 9, "{total} vs {parts}");
    // Time = tokens / tokens per second; the RTX 4090 has no cloud price in the catalog.
    let hours = v["time"]["hours"].as_f64().unwrap();
    let rate = v["speed"]["tokens_per_s"].as_f64().unwrap();
    assert!(within(hours, 10e6 / rate / 3600.0, 1e-12));
}

#[test]
fn zero3_on_eight_gpus_names_its_deepspeed_stage_and_prices_the_run() {
    let v = finetune_json(&[
        "70b",
        "--method",
        "full",
        "--gpu",
        "h100-sxm:8",
        "--sharding",
        "zero3",
        "--offload-optimizer",
        "--dataset-tokens",
        "100M",
        "--epochs",
        "2",
    ]);
    assert_eq!(v["setup"]["sharding"], "zero3");
    let deepspeed = v["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["framework"] == "deepspeed")
        .expect("a DeepSpeed setting");
    assert_eq!(
        deepspeed["setting"],
        "{\"zero_optimization\": {\"stage\": 3, \"offload_optimizer\": {\"device\": \"cpu\"}}, \"bf16\": {\"enabled\": true}}"
    );
    assert_eq!(v["time"]["tokens"], 200e6);
    // 8 × $2.99/h (data/gpus.toml), for the run's hours.
    let cost = &v["cost"];
    assert!(within(
        cost["usd_per_hour"].as_f64().unwrap(),
        8.0 * 2.99,
        1e-9
    ));
    let hours = v["time"]["hours"].as_f64().unwrap();
    assert!(within(
        cost["usd_total"].as_f64().unwrap(),
        hours * 8.0 * 2.99,
        1e-9
    ));
}

#[test]
fn max_seq_finds_the_longest_sequence_that_fits() {
    let unsloth = |extra: &[&str]| {
        let mut args = vec![
            "8b",
            "--method",
            "qlora",
            "--lora-rank",
            "32",
            "--framework",
            "unsloth",
            "--checkpointing",
            "offload",
            "--gpu",
            "rtx-4090",
        ];
        args.extend_from_slice(extra);
        finetune_json(&args)
    };
    let v = unsloth(&["--max-seq"]);
    let tokens = v["max_seq"]["tokens"].as_u64().unwrap();
    assert_eq!(v["setup"]["seq"].as_u64().unwrap(), tokens);
    assert_eq!(v["memory"]["fits"], true);
    // One more token does not fit.
    let more = unsloth(&["--seq", &(tokens + 1).to_string()]);
    assert_eq!(more["memory"]["fits"], false);
}

#[test]
fn simulated_finetune_output_is_byte_identical() {
    let run = || {
        r1pick()
            .args([
                "finetune",
                "32b",
                "--gpu",
                "a100-sxm-80gb:4",
                "--sharding",
                "fsdp",
                "--tokens",
                "50M",
            ])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_finetune_input_is_refused_in_one_line() {
    assert_refused(
        &[
            "finetune",
            "8b",
            "--gpu",
            "h100-sxm:2",
            "--sharding",
            "fsdp",
            "--offload-optimizer",
        ],
        "use --sharding zero2 or zero3",
    );
    assert_refused(
        &["finetune", "8b", "--gpu", "rtx-4090", "--lora-rank", "0"],
        "--lora-rank 0",
    );
    assert_refused(
        &["finetune", "8b", "--gpu", "rtx-4090", "--lora-rank", "4097"],
        "hidden size 4096",
    );
    assert_refused(
        &[
            "finetune", "8b", "--gpu", "rtx-4090", "--method", "qlora", "--quant", "q4_k_m",
        ],
        "--quant q4_k_m",
    );
    assert_refused(
        &["finetune", "8b", "--gpu", "rtx-4090", "--seq", "200k"],
        "--seq 204800",
    );
    assert_refused(
        &["finetune", "8b", "--gpu", "rtx-4090", "--sharding", "fsdp"],
        "--sharding fsdp",
    );
    assert_refused(
        &["finetune", "671b", "--gpu", "h200:8"],
        "mixture of experts",
    );
    assert_refused(&["finetune", "8b", "--no-gpu"], "needs a GPU");
    assert_refused(
        &[
            "finetune",
            "8b",
            "--gpu",
            "rtx-4090",
            "--framework",
            "axolotl",
        ],
        "'axolotl'",
    );
}

/// The README's Fine-tuning example is what r1pick prints, byte for byte.
#[test]
fn the_readme_finetune_example_is_what_r1pick_prints() {
    let readme = readme();
    let section = readme
        .split("## Fine-tuning")
        .nth(1)
        .expect("README has a Fine-tuning section");
    let block = section
        .split("```console\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a console block");
    let (command, shown) = block.split_once('\n').unwrap();
    let args: Vec<&str> = command
        .trim_start_matches("$ r1pick ")
        .split_whitespace()
        .collect();
    let out = r1pick()
        .args(&args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(out).unwrap(), shown);
}

/// The README's figures around that example.
#[test]
fn the_readme_fine_tuning_figures_hold() {
    let gib = |v: &Value| v["memory"]["total_bytes"].as_u64().unwrap() as f64 / GIB;
    let lora = finetune_json(&["14b", "--method", "lora", "--gpu", "rtx-4090"]);
    assert_eq!(format!("{:.1}", gib(&lora)), "33.3");
    assert_eq!(lora["memory"]["fits"], false);
    let hf = finetune_json(&["14b", "--method", "qlora", "--gpu", "rtx-4090"]);
    let unsloth = finetune_json(&[
        "14b",
        "--method",
        "qlora",
        "--gpu",
        "rtx-4090",
        "--framework",
        "unsloth",
    ]);
    assert_eq!(format!("{:.1}", gib(&hf)), "15.3");
    assert_eq!(format!("{:.1}", gib(&unsloth)), "12.4");
    // Logits under transformers: 2048 tokens × 152,064 vocabulary entries × 10 B.
    let m = &hf["memory"];
    assert_eq!(m["logits_bytes"], 2048u64 * 152_064 * 10);
    assert_eq!(format!("{:.1}", 2048.0 * 152_064.0 * 10.0 / GIB), "2.9");
    let state: u64 = ["adapter_bytes", "gradient_bytes", "optimizer_bytes"]
        .iter()
        .map(|k| m[k].as_u64().unwrap())
        .sum();
    assert!(m["logits_bytes"].as_u64().unwrap() > state);
}

/// Why the calibration reads torchtune's RTX 4090 runs as activation-offloaded: with the
/// checkpoints on the GPU, LoRA and QLoRA come out 14% and 22% high.
#[test]
fn torchtune_4090_rows_with_checkpoints_on_the_gpu_come_out_high() {
    let c = constants();
    let hw = machine("rtx-4090");
    let errors: Vec<i64> = calibration()
        .peak
        .iter()
        .filter(|r| r.method != "full" && r.gpus == 1)
        .map(|r| {
            let s = TrainSetup {
                checkpointing: Checkpointing::On,
                ..r.setup()
            };
            let m = memory(
                &c,
                &model(&r.model),
                &s,
                hw.gpus[0].available_bytes,
                u64::MAX,
            )
            .unwrap();
            let torch = (m.total_bytes - m.overhead_bytes) as f64 / GIB;
            ((torch / r.peak_gib.unwrap() - 1.0) * 100.0).round() as i64
        })
        .collect();
    assert_eq!(errors, vec![14, 22]);
}

/// unsloth's 8 GB row: 200 MiB of fixed cost moves its answer by about 30%.
#[test]
fn unsloth_small_gpu_row_is_sensitive_to_fixed_cost() {
    let c = constants();
    let row = &calibration().max_context[0];
    let m = model(&row.model);
    let at = |bytes: f64| {
        max_seq(&c, &m, &row.setup(), bytes as u64, u64::MAX)
            .unwrap()
            .unwrap() as f64
    };
    let base = at(8.0 * GIB);
    let less = at(8.0 * GIB - 200.0 * (1 << 20) as f64);
    let moved = (base - less) / row.tokens.unwrap() as f64;
    assert!((0.27..=0.33).contains(&moved), "{moved}");
}

/// `--cloud` and `recommend --finetune`: the cheapest priced GPU type per trained token that fits.
#[test]
fn cloud_chooses_the_cheapest_gpu_type_that_fits() {
    let v = finetune_json(&["14b", "--cloud", "--tokens", "100M"]);
    let cheapest = v["cloud"]["cheapest"].as_array().unwrap();
    let per_token: Vec<f64> = cheapest
        .iter()
        .map(|o| o["usd_per_million_tokens"].as_f64().unwrap())
        .collect();
    assert!(per_token.windows(2).all(|w| w[0] <= w[1]), "{per_token:?}");
    // The plan shown is the first option, and it fits.
    assert_eq!(v["hardware"]["gpus"][0]["id"], cheapest[0]["gpu"]);
    assert_eq!(v["memory"]["fits"], true);
    assert!(within(
        v["cost"]["usd_per_million_tokens"].as_f64().unwrap(),
        per_token[0],
        1e-12
    ));
    // The README's figures: one GH200 at $0.09 per million trained tokens, then one H100 at $0.18
    // (the median on-demand prices of data/prices.toml).
    assert_eq!(cheapest[0]["gpu"], "gh200");
    assert_eq!(cheapest[0]["gpus"], 1);
    assert_eq!(format!("{:.2}", per_token[0]), "0.09");
    assert_eq!(cheapest[1]["gpu"], "h100-sxm");
    assert_eq!(cheapest[1]["gpus"], 1);
    assert_eq!(format!("{:.2}", per_token[1]), "0.18");
    // 16-bit LoRA of the 14B (33.3 GiB) fits none of the 24 GiB cards alone, so none is among the
    // single-GPU options listed.
    assert!(
        cheapest
            .iter()
            .all(|o| o["gpus"] == 1 && o["gpu"] != "a10g")
    );
    // recommend --finetune is the same search.
    let out = r1pick()
        .args([
            "recommend",
            "--finetune",
            "lora",
            "--model",
            "14b",
            "--cloud",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        r["cloud"]["cheapest"],
        v["cloud"]["cheapest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o["hours"] = Value::Null;
                o["usd_total"] = Value::Null;
                o
            })
            .collect::<Value>()
    );
}

#[test]
fn cloud_with_nothing_that_fits_exits_1() {
    let out = r1pick()
        .args(["finetune", "70b", "--method", "full", "--cloud"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no priced GPU type with up to 8 GPUs fits"),
        "{err}"
    );
}

mod props {
    use proptest::prelude::*;
    use r1pick::training::{
        Checkpointing, Method, Optimizer, Sharding, Targets, TrainSetup, memory, validate,
    };

    use super::{constants, model};

    fn setup() -> impl Strategy<Value = TrainSetup> {
        (
            prop_oneof![Just(Method::Lora), Just(Method::Qlora), Just(Method::Full)],
            0u32..10_000,
            prop_oneof![Just(Targets::Attn), Just(Targets::Mlp), Just(Targets::All)],
            prop_oneof![
                Just(Optimizer::Adamw),
                Just(Optimizer::Adamw8bit),
                Just(Optimizer::PagedAdamw8bit),
                Just(Optimizer::Sgd)
            ],
            (0u32..300_000, 0u32..64),
            prop_oneof![
                Just(Checkpointing::Off),
                Just(Checkpointing::On),
                Just(Checkpointing::Offload)
            ],
            prop_oneof![
                Just(Sharding::None),
                Just(Sharding::Ddp),
                Just(Sharding::Fsdp),
                Just(Sharding::Zero2),
                Just(Sharding::Zero3)
            ],
            (1u32..64, any::<bool>(), any::<bool>()),
            prop_oneof![Just("hf"), Just("torchtune"), Just("unsloth")],
        )
            .prop_map(
                |(
                    method,
                    rank,
                    targets,
                    optimizer,
                    (seq, micro_batch),
                    checkpointing,
                    sharding,
                    (gpus, offload, in_bwd),
                    fw,
                )| TrainSetup {
                    method,
                    rank,
                    targets,
                    optimizer,
                    seq,
                    micro_batch,
                    checkpointing,
                    sharding,
                    gpus,
                    offload_optimizer: offload,
                    optimizer_in_backward: in_bwd,
                    framework: fw.into(),
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any accepted setup gets a plan whose total is the sum of its parts, and a longer
        /// sequence never needs less memory.
        #[test]
        fn every_valid_setup_has_a_consistent_plan(s in setup()) {
            let c = constants();
            let m = model("llama-3.1-8b");
            if validate(&m, &s).is_ok() {
                let plan = memory(&c, &m, &s, 80 << 30, 1 << 40).unwrap();
                let parts = plan.weights_bytes + plan.adapter_bytes + plan.master_weights_bytes
                    + plan.gradient_bytes + plan.optimizer_bytes + plan.activation_bytes
                    + plan.logits_bytes + plan.working_weights_bytes + plan.overhead_bytes;
                prop_assert!(plan.total_bytes.abs_diff(parts) <= 9);
                prop_assert_eq!(plan.fits, plan.total_bytes <= 80 << 30 && plan.host_bytes <= 1 << 40);
                let shorter = TrainSetup { seq: s.seq / 2, ..s.clone() };
                if shorter.seq > 0 {
                    prop_assert!(memory(&c, &m, &shorter, 80 << 30, 1 << 40).unwrap().total_bytes <= plan.total_bytes);
                }
            }
        }
    }
}

/// Dataset sizes are decimal (50M = 5·10^7), epochs any positive number.
#[test]
fn dataset_tokens_and_epochs_parse_as_quoted() {
    use r1pick::quantity::parse::{parse_dataset_tokens, parse_epochs};
    assert_eq!(parse_dataset_tokens("50M"), Ok(5e7));
    assert_eq!(parse_dataset_tokens("2B"), Ok(2e9));
    assert_eq!(parse_dataset_tokens("1.5k"), Ok(1500.0));
    assert_eq!(parse_dataset_tokens("123456"), Ok(123_456.0));
    assert!(parse_dataset_tokens("0").is_err());
    assert!(parse_dataset_tokens("5X").is_err());
    assert!(parse_dataset_tokens("NaN").is_err());
    assert_eq!(parse_epochs("2.5"), Ok(2.5));
    assert!(parse_epochs("0").is_err());
    assert!(parse_epochs("-1").is_err());
}
