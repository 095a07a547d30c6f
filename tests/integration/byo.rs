//! Models the user brings as config.json: the catalog's entries and published parameter counts
//! come out of the same formulas, and every command takes the file.

use std::path::{Path, PathBuf};

use r1pick::catalog::import::{Imported, hf_config, model};
use r1pick::catalog::model::{Model, ModelSource};
use r1pick::catalog::{MlaKvLayout, ParamBreakdown};
use r1pick::sizing::kv::{KvDtype, per_token};

use crate::util::{assert_within, catalog, json, r1pick};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(text: &str, index: Option<&str>) -> (Imported, Model) {
    let imported = hf_config::read(text, index).expect("config reads");
    let m = model(
        "test",
        "test",
        &imported,
        ModelSource::ConfigJson,
        &catalog().quants,
    );
    (imported, m)
}

fn from_fixture(name: &str) -> Model {
    let text = std::fs::read_to_string(fixture(&format!("configs/{name}/config.json"))).unwrap();
    read(&text, None).1
}

fn kv(m: &Model) -> u64 {
    per_token(m, MlaKvLayout::Latent, KvDtype::Bf16) as u64
}

/// The catalog and a config.json of the same model agree on every number sizing uses.
#[track_caller]
fn same_as_catalog(from_config: &Model, catalog_id: &str) {
    let c = catalog();
    let m = c.model(catalog_id).unwrap();
    let (a, b) = (ParamBreakdown::of(from_config), ParamBreakdown::of(m));
    assert_eq!(a, b, "{catalog_id}: parameters by tensor class");
    assert_eq!(kv(from_config), kv(m), "{catalog_id}: KV bytes per token");
    assert_eq!(
        from_config.max_context, m.max_context,
        "{catalog_id}: context"
    );
}

#[test]
fn real_configs_of_catalog_models_reproduce_their_entries() {
    same_as_catalog(
        &from_fixture("DeepSeek-R1-Distill-Qwen-1.5B"),
        "deepseek-r1-distill-qwen-1.5b",
    );
    same_as_catalog(
        &from_fixture("DeepSeek-R1-Distill-Qwen-7B"),
        "deepseek-r1-distill-qwen-7b",
    );
    same_as_catalog(&from_fixture("DeepSeek-R1-0528"), "deepseek-r1-0528");
    same_as_catalog(&from_fixture("DeepSeek-R1-0528"), "deepseek-r1");
    // the published exact counts (reference/models.md, SOURCES.md)
    assert_eq!(
        ParamBreakdown::of(&from_fixture("DeepSeek-R1-Distill-Qwen-1.5B")).total(),
        1_777_088_000
    );
    assert_eq!(
        ParamBreakdown::of(&from_fixture("DeepSeek-R1-Distill-Qwen-7B")).total(),
        7_615_616_512
    );
    let r1 = ParamBreakdown::of(&from_fixture("DeepSeek-R1-0528"));
    assert_eq!(r1.total(), 671_026_419_200);
    assert_eq!(kv(&from_fixture("DeepSeek-R1-0528")), 70_272);
}

/// A config.json with models.md's architecture table row (§2) for the catalog models without a
/// file in fixtures/configs.
fn table_config(
    model_type: &str,
    l: u32,
    h: u32,
    ffn: u32,
    heads: u32,
    kv: u32,
    vocab: u32,
) -> String {
    let rope = match model_type {
        "llama" => {
            r#""rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},"#
        }
        "qwen3" => {
            r#""rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "rope_type": "yarn"}, "head_dim": 128,"#
        }
        _ => "",
    };
    format!(
        r#"{{"model_type": "{model_type}", {rope} "num_hidden_layers": {l}, "hidden_size": {h},
            "intermediate_size": {ffn}, "num_attention_heads": {heads}, "num_key_value_heads": {kv},
            "vocab_size": {vocab}, "max_position_embeddings": 131072, "tie_word_embeddings": false,
            "torch_dtype": "bfloat16"}}"#
    )
}

#[test]
fn models_md_table_rows_reproduce_the_other_catalog_entries() {
    let rows = [
        (
            "deepseek-r1-distill-llama-8b",
            table_config("llama", 32, 4096, 14336, 32, 8, 128_256),
            8_030_261_248u64,
        ),
        (
            "deepseek-r1-distill-qwen-14b",
            table_config("qwen2", 48, 5120, 13824, 40, 8, 152_064),
            14_770_033_664,
        ),
        (
            "deepseek-r1-distill-qwen-32b",
            table_config("qwen2", 64, 5120, 27648, 40, 8, 152_064),
            32_763_876_352,
        ),
        (
            "deepseek-r1-distill-llama-70b",
            table_config("llama", 80, 8192, 28672, 64, 8, 128_256),
            70_553_706_496,
        ),
        (
            "deepseek-r1-0528-qwen3-8b",
            table_config("qwen3", 36, 4096, 12288, 32, 8, 151_936),
            8_190_735_360,
        ),
    ];
    for (id, text, published) in rows {
        let (_, m) = read(&text, None);
        same_as_catalog(&m, id);
        assert_eq!(ParamBreakdown::of(&m).total(), published, "{id}");
        // RoPE scaling (llama3 ×8, yarn ×4) is never multiplied into the context
        assert_eq!(m.max_context, 131_072, "{id}");
    }
}

#[test]
fn other_architectures_reproduce_their_published_counts() {
    // Mistral-7B-v0.1 and Mixtral-8x7B-v0.1: the exact counts of their safetensors (SOURCES.md)
    let mistral = from_fixture("Mistral-7B-v0.1");
    assert_eq!(ParamBreakdown::of(&mistral).total(), 7_241_732_096);
    assert_eq!(
        kv(&mistral),
        131_072,
        "32 layers × 2 × 8 KV heads × 128 × 2 B"
    );
    assert_eq!(mistral.max_context, 32_768);
    let mixtral = from_fixture("Mixtral-8x7B-v0.1");
    assert_eq!(ParamBreakdown::of(&mixtral).total(), 46_702_792_704);
    // Mistral's card: "12.9B active parameters" of 46.7B
    let active = ParamBreakdown::of(&mixtral).active() as f64;
    assert_eq!((active / 1e8).round() / 10.0, 12.9, "{active}");
    // DeepSeek-V2-Lite card: "15.7B total parameters"; MLA cache = 27 × (512 + 64) × 2 B
    let lite = from_fixture("DeepSeek-V2-Lite");
    assert_within(
        "V2-Lite total",
        ParamBreakdown::of(&lite).total() as f64,
        15.7e9,
        0.001,
    );
    assert_eq!(kv(&lite), 27 * 576 * 2);
    assert_eq!(lite.max_context, 163_840, "YaRN ×40 is not multiplied in");
}

/// Qwen3-30B-A3B's config.json fields (Hugging Face card: 30.5B total, 29.9B non-embedding,
/// 3.3B active, 48 layers, 32 Q / 4 KV heads, 128 experts with 8 active, context 32,768 native).
const QWEN3_30B_A3B: &str = r#"{
  "model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144,
  "moe_intermediate_size": 768, "num_hidden_layers": 48, "num_attention_heads": 32,
  "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128, "num_experts_per_tok": 8,
  "decoder_sparse_step": 1, "mlp_only_layers": [], "vocab_size": 151936,
  "max_position_embeddings": 40960, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "rope_scaling": null, "sliding_window": null, "use_sliding_window": false
}"#;

#[test]
fn qwen3_moe_matches_its_card() {
    let (imported, m) = read(QWEN3_30B_A3B, None);
    let p = ParamBreakdown::of(&m);
    assert_within(
        "non-embedding",
        (p.total() - p.embedding - p.output) as f64,
        29.9e9,
        0.001,
    );
    assert_eq!(
        (p.total() as f64 / 1e8).round() / 10.0,
        30.5,
        "total as the card rounds it"
    );
    assert_eq!(
        (p.active() as f64 / 1e8).round() / 10.0,
        3.4,
        "3.35B active; the card says 3.3B"
    );
    assert_eq!(kv(&m), 48 * 2 * 4 * 128 * 2);
    assert_eq!(imported.architecture, "qwen3_moe");
}

#[test]
fn rope_scaling_is_reported_never_multiplied() {
    let text = QWEN3_30B_A3B.replace(
        r#""rope_scaling": null"#,
        r#""rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}"#,
    );
    let (imported, m) = read(&text, None);
    assert_eq!(m.max_context, 40_960);
    assert_eq!(imported.rope_scaling.as_deref(), Some("yarn ×4 over 32768"));
}

#[test]
fn the_safetensors_index_decides_tied_embeddings_and_gives_the_checkpoint_bytes() {
    let dir = fixture("byo/tied-qwen3");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let index = std::fs::read_to_string(dir.join("model.safetensors.index.json")).unwrap();
    let (imported, m) = read(&config, Some(&index));
    // Qwen3-0.6B's card: 0.6B parameters, 0.44B without embeddings
    let p = ParamBreakdown::of(&m);
    assert_eq!(p.output, 0, "no lm_head.weight in the index: tied");
    assert_eq!(p.total(), 596_049_920);
    assert_within(
        "non-embedding",
        (p.total() - p.embedding) as f64,
        0.44e9,
        0.005,
    );
    assert_eq!(imported.checkpoint_bytes, Some(1_192_099_840));
    // without the index, transformers' default (untied) holds
    let (_, untied) = read(&config, None);
    assert_eq!(ParamBreakdown::of(&untied).output, 151_936 * 1024);
}

#[test]
fn quantization_config_fixes_the_quant() {
    let (_, r1) = read(
        &std::fs::read_to_string(fixture("configs/DeepSeek-R1-0528/config.json")).unwrap(),
        None,
    );
    assert_eq!(r1.quants, vec!["fp8"]);
    let awq = QWEN3_30B_A3B.replace(
        r#""torch_dtype": "bfloat16""#,
        r#""quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}"#,
    );
    assert_eq!(read(&awq, None).1.quants, vec!["int4"]);
    let bf16 = read(QWEN3_30B_A3B, None).1;
    assert!(
        bf16.quants.contains(&"q4_k_m".to_string()) && bf16.quants.contains(&"bf16".to_string())
    );
    assert!(
        !bf16.quants.iter().any(|q| q.starts_with("ud-")),
        "unsloth's 671B recipes stay out"
    );
    let bnb = QWEN3_30B_A3B.replace(
        r#""torch_dtype": "bfloat16""#,
        r#""quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true}"#,
    );
    let e = hf_config::read(&bnb, None).unwrap_err();
    assert!(
        e.contains("'bitsandbytes'") && e.contains("supported: fp8"),
        "{e}"
    );
}

#[test]
fn an_unknown_architecture_names_the_supported_ones() {
    let out = r1pick()
        .args([
            "size",
            fixture("byo/gemma").to_str().unwrap(),
            "--gpu",
            "l40s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("model_type 'gemma3_text' is not supported (supported: qwen2, llama, qwen3, deepseek_v3, deepseek_v2, qwen3_moe, mistral, mixtral)"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_command_takes_a_config_json_or_its_folder() {
    let folder = fixture("configs/DeepSeek-R1-Distill-Qwen-7B");
    let file = folder.join("config.json");
    for m in [folder.to_str().unwrap(), file.to_str().unwrap()] {
        let size = json(&["size", m, "--gpu", "h100-sxm"]);
        assert_eq!(size["model_source"], "config.json");
        // the same deployment as the catalog's 7B, byte for byte in memory
        let catalog = json(&["size", "7b", "--gpu", "h100-sxm"]);
        assert_eq!(size["memory"], catalog["memory"]);
        let est = json(&["estimate", m, "--gpu", "h100-sxm"]);
        assert_eq!(
            est["performance"],
            json(&["estimate", "7b", "--gpu", "h100-sxm"])["performance"]
        );
        let check = json(&["check", m, "--gpu", "h100-sxm", "--latency", "1s"]);
        assert_eq!(check["deployment"]["model_source"], "config.json");
        let rec = json(&[
            "recommend",
            "--model",
            m,
            "--gpu",
            "h100-sxm",
            "--task",
            "chat",
        ]);
        assert_eq!(rec["recommendation"]["model_source"], "config.json");
    }
    assert_eq!(
        json(&["size", "7b", "--gpu", "h100-sxm"])["model_source"],
        "catalog"
    );
}

#[test]
fn quality_is_judged_only_with_a_score_or_a_floor() {
    let m = fixture("configs/Mistral-7B-v0.1");
    let m = m.to_str().unwrap();
    let rec = json(&[
        "recommend",
        "--model",
        m,
        "--gpu",
        "l40s",
        "--task",
        "research",
    ]);
    assert_eq!(rec["recommendation"]["quality_judged"], false);
    assert!(
        rec["trace"][0]
            .as_str()
            .unwrap()
            .contains("quality not judged")
    );
    // a score below research's GPQA floor of 60: nothing qualifies (exit 1)
    let out = r1pick()
        .args([
            "recommend",
            "--model",
            m,
            "--gpu",
            "l40s",
            "--task",
            "research",
            "--score",
            "gpqa_diamond=28.1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // a score above it: judged and recommended
    let rec = json(&[
        "recommend",
        "--model",
        m,
        "--gpu",
        "l40s",
        "--task",
        "research",
        "--score",
        "gpqa_diamond=65",
    ]);
    assert_eq!(rec["recommendation"]["quality_judged"], true);
    // --min-quality without a score cannot be met
    let out = r1pick()
        .args([
            "recommend",
            "--model",
            m,
            "--gpu",
            "l40s",
            "--min-quality",
            "40",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // check --task: the task's floor is not applied to an unscored model
    let check = json(&["check", m, "--gpu", "l40s", "--task", "chat"]);
    assert_eq!(check["ok"], true);
    assert!(
        check["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["constraint"] != "min_quality")
    );
}

#[test]
fn models_from_prints_what_was_read() {
    let doc = json(&[
        "models",
        "--from",
        fixture("configs/Mixtral-8x7B-v0.1").to_str().unwrap(),
    ]);
    let m = &doc["models"][0];
    assert_eq!(m["params"], 46_702_792_704u64);
    assert_eq!(m["kv_bytes_per_token"], 131_072);
    assert_eq!(m["max_context"], 32_768);
    assert_eq!(m["read"]["model_type"], "mixtral");
    assert_eq!(m["read"]["model_source"], "config.json");
    let table = r1pick()
        .args([
            "models",
            "--from",
            fixture("configs/DeepSeek-V2-Lite").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("deepseek_v2")
            && text.contains("15706484224")
            && text.contains("yarn ×40 over 4096"),
        "{text}"
    );
}
