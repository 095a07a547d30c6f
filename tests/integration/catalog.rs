//! The catalog against the primary facts of reference/models.md.

use r1pick::catalog::MlaKvLayout;
use r1pick::catalog::ParamBreakdown;
use r1pick::sizing::kv::{KvDtype, per_token};
use r1pick::sizing::weights::{WeightBytes, checkpoint_bytes};

use crate::util::{DISTILL_PARAMS, assert_within, catalog};

/// Exact recounts from the official configs (models.md §1a "Params, exact recount").
#[test]
fn parameter_counts_match_the_recounts() {
    let c = catalog();
    for (alias, want) in DISTILL_PARAMS {
        let got = ParamBreakdown::of(c.model(alias).unwrap()).total();
        assert_within(alias, got as f64, want as f64, 0.001);
    }
}

/// DeepSeek: "671B total, 37B activated"; recount 671.03B main, 37.55B active, MTP 11.61B unique
/// (models.md §1b); the MTP module is reported apart from the main model.
#[test]
fn the_671b_is_671b_total_and_37b_active() {
    let c = catalog();
    let p = ParamBreakdown::of(c.model("671b").unwrap());
    assert_within("total", p.total() as f64, 671.03e9, 0.001);
    assert_within("active", p.active() as f64, 37.55e9, 0.002);
    assert_within("mtp", p.mtp as f64, 11.61e9, 0.005);
    // 8 routed experts per token out of 256: the rest is never read for one token
    assert!(p.active() < p.total() / 17);
}

#[test]
fn the_0528_qwen3_8b_recount() {
    // models.md §1a: 8.191 B
    let p = ParamBreakdown::of(catalog().model("deepseek-r1-0528-qwen3-8b").unwrap());
    assert_within("0528-qwen3-8b", p.total() as f64, 8.191e9, 0.001);
}

/// models.md §2 and formulas.md §1(b).
#[test]
fn kv_bytes_per_token_in_bf16() {
    let c = catalog();
    let expected = [
        ("1.5b", 28_672.0),
        ("7b", 57_344.0),
        ("8b", 131_072.0),
        ("14b", 196_608.0),
        ("32b", 262_144.0),
        ("70b", 327_680.0),
        ("deepseek-r1-0528-qwen3-8b", 147_456.0),
    ];
    for (alias, want) in expected {
        let got = per_token(c.model(alias).unwrap(), MlaKvLayout::Latent, KvDtype::Bf16);
        assert_eq!(got, want, "{alias}");
    }
}

/// The MLA cache depends on the engine (formulas.md §1(b) "Runtime-dependent values for R1").
#[test]
fn mla_kv_layouts_per_engine() {
    let c = catalog();
    let r1 = c.model("671b").unwrap();
    assert_eq!(per_token(r1, MlaKvLayout::Latent, KvDtype::Bf16), 70_272.0);
    assert_eq!(
        per_token(r1, MlaKvLayout::LatentV, KvDtype::Bf16),
        132_736.0
    );
    assert_eq!(
        per_token(r1, MlaKvLayout::Expanded, KvDtype::Bf16),
        4_997_120.0
    );
    assert_eq!(per_token(r1, MlaKvLayout::Latent, KvDtype::Fp8), 35_136.0);
    // the engines that use each layout
    assert_eq!(c.engine("vllm").unwrap().mla_kv, MlaKvLayout::Latent);
    assert_eq!(c.engine("sglang").unwrap().mla_kv, MlaKvLayout::Latent);
    assert_eq!(c.engine("trtllm").unwrap().mla_kv, MlaKvLayout::Latent);
    assert_eq!(
        c.engine("transformers").unwrap().mla_kv,
        MlaKvLayout::Expanded
    );
}

fn file_gb(model: &str, quant: &str) -> f64 {
    let c = catalog();
    checkpoint_bytes(c.model(model).unwrap(), c.quant(quant).unwrap())
}

/// Ollama's Q4_K_M tags (decimal GB, models.md §5), within 5%.
#[test]
fn q4_k_m_sizes_match_ollama() {
    let published = [
        ("1.5b", 1.1e9),
        ("7b", 4.7e9),
        ("8b", 4.9e9),
        ("14b", 9.0e9),
        ("32b", 20e9),
        ("70b", 43e9),
        ("671b", 404e9),
    ];
    for (alias, gb) in published {
        assert_within(alias, file_gb(alias, "q4_k_m"), gb, 0.05);
    }
}

#[test]
fn q8_0_671b_matches_ollama() {
    assert_within("671b q8_0", file_gb("671b", "q8_0"), 713e9, 0.05);
}

/// unsloth's labels are GiB (models.md §6).
#[test]
fn unsloth_dynamic_quants_match_their_files() {
    let gib = (1u64 << 30) as f64;
    for (quant, size) in [
        ("ud-iq1_s", 131.0),
        ("ud-iq1_m", 158.0),
        ("ud-iq2_xxs", 183.0),
        ("ud-q2_k_xl", 212.0),
    ] {
        assert_within(quant, file_gb("671b", quant), size * gib, 0.05);
    }
}

/// The FP8 checkpoint: 688,586,727,753 bytes (models.md §1b), MTP module included.
#[test]
fn fp8_checkpoint_is_688_gb() {
    assert_within("671b fp8", file_gb("671b", "fp8"), 688.6e9, 0.01);
}

/// HF BF16 files of the distills (models.md §1a): 3.55 / 15.23 / 16.06 GB.
#[test]
fn bf16_files_match_hugging_face() {
    for (alias, gb) in [("1.5b", 3.55e9), ("7b", 15.23e9), ("8b", 16.06e9)] {
        assert_within(alias, file_gb(alias, "bf16"), gb, 0.005);
    }
}

#[test]
fn the_671b_is_dense_nowhere_and_the_70b_is_not_moe() {
    let c = catalog();
    assert!(c.model("671b").unwrap().is_moe());
    assert!(!c.model("70b").unwrap().is_moe());
    // weights in the main model: 671B at FP8 do not fit 640 GB of H100s, before anything else
    let w = WeightBytes::of(c.model("671b").unwrap(), c.quant("fp8").unwrap());
    assert!(w.total() > 8.0 * 80.0 * (1u64 << 30) as f64 * 0.9);
}
