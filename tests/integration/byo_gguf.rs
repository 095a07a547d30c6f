//! Models the user brings as GGUF: header-only reads of real layouts (written sparse by the test
//! writer), sized within 0.5% of the file, and hostile headers refused with one line.

use std::io::Cursor;
use std::path::Path;

use r1pick::catalog::ParamBreakdown;
use r1pick::catalog::import::{from_gguf, gguf, model};
use r1pick::catalog::model::ModelSource;
use r1pick::sizing::weights::WeightBytes;

use crate::gguf_writer::{self, DenseShape, Gguf, Val};
use crate::util::{assert_within, catalog, json, r1pick};

const QWEN2_1_5B: DenseShape = DenseShape {
    arch: "qwen2",
    layers: 28,
    hidden: 1536,
    ffn: 8960,
    heads: 12,
    kv_heads: 2,
    head_dim: 128,
    vocab: 151_936,
    context: 131_072,
    qkv_bias: true,
    qk_norm: false,
    experts: 0,
    experts_used: 0,
    moe_ffn: 0,
};

const LLAMA_8B: DenseShape = DenseShape {
    arch: "llama",
    layers: 32,
    hidden: 4096,
    ffn: 14336,
    heads: 32,
    kv_heads: 8,
    head_dim: 128,
    vocab: 128_256,
    context: 131_072,
    qkv_bias: false,
    qk_norm: false,
    experts: 0,
    experts_used: 0,
    moe_ffn: 0,
};

/// Mixtral-8x7B as llama.cpp converts it: architecture `llama` with 8 experts.
const MIXTRAL: DenseShape = DenseShape {
    arch: "llama",
    layers: 32,
    hidden: 4096,
    ffn: 14336,
    heads: 32,
    kv_heads: 8,
    head_dim: 128,
    vocab: 32_000,
    context: 32_768,
    qkv_bias: false,
    qk_norm: false,
    experts: 8,
    experts_used: 2,
    moe_ffn: 14336,
};

const QWEN3_30B_A3B: DenseShape = DenseShape {
    arch: "qwen3moe",
    layers: 48,
    hidden: 2048,
    ffn: 6144,
    heads: 32,
    kv_heads: 4,
    head_dim: 128,
    vocab: 151_936,
    context: 40_960,
    qkv_bias: false,
    qk_norm: true,
    experts: 128,
    experts_used: 8,
    moe_ffn: 768,
};

fn header(g: &Gguf, path: &Path) -> (gguf::Header, u64) {
    let len = g.write(path);
    let file = std::fs::File::open(path).unwrap();
    (
        gguf::read(file, &gguf::Limits::default()).expect("header reads"),
        len,
    )
}

/// (file length, weights as r1pick sizes them, parameters as r1pick counts them)
fn sized(g: &Gguf, name: &str) -> (u64, WeightBytes, ParamBreakdown, r1pick::catalog::Model) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let (h, len) = header(g, &path);
    let imported = from_gguf::read(std::slice::from_ref(&h)).expect("model reads");
    let c = catalog();
    let m = model(name, name, &imported, ModelSource::Gguf, &c.quants);
    let q = c.quant(&m.quants[0]).unwrap();
    (len, WeightBytes::of(&m, q), ParamBreakdown::of(&m), m)
}

#[test]
fn real_layouts_are_sized_within_half_a_percent_of_the_file() {
    let cases = [
        (
            "qwen2-1.5b-q4_k_m.gguf",
            gguf_writer::gqa_q4_k_m(&QWEN2_1_5B),
            1_777_088_000u64,
        ),
        (
            "llama-8b-q4_k_m.gguf",
            gguf_writer::gqa_q4_k_m(&LLAMA_8B),
            8_030_261_248,
        ),
        (
            "mixtral-q4_k_m.gguf",
            gguf_writer::gqa_q4_k_m(&MIXTRAL),
            46_702_792_704,
        ),
        (
            "qwen3-30b-a3b-q4_k_m.gguf",
            gguf_writer::gqa_q4_k_m(&QWEN3_30B_A3B),
            30_532_122_624,
        ),
        (
            "r1-ud-iq1_s.gguf",
            gguf_writer::r1_671b_iq1_s(),
            671_026_419_200,
        ),
    ];
    for (name, g, params) in cases {
        let (len, w, p, m) = sized(&g, name);
        assert_within(name, w.total(), len as f64, 0.005);
        // the tensors are exactly the config's parameters
        assert_eq!(p.total(), params, "{name}: parameters from the metadata");
        let elements: u64 = g
            .tensors
            .iter()
            .map(|t| t.dims.iter().product::<u64>())
            .sum();
        assert_eq!(elements, params, "{name}: parameters in the tensors");
        // each layer's bytes are its tensors' bytes (Q6_K attn_v / ffn_down only in some layers)
        for (i, l) in w.layers.iter().enumerate() {
            let prefix = format!("blk.{i}.");
            let real: u64 = g
                .tensors
                .iter()
                .filter(|t| t.name.starts_with(&prefix))
                .map(|t| t.bytes())
                .sum();
            assert_eq!(l.total().round() as u64, real, "{name} layer {i}");
        }
        assert!(m.measured.is_some());
    }
}

#[test]
fn the_file_type_picks_the_catalog_quant() {
    assert_eq!(
        sized(&gguf_writer::gqa_q4_k_m(&QWEN2_1_5B), "a.gguf")
            .3
            .quants,
        vec!["q4_k_m"]
    );
    assert_eq!(
        sized(&gguf_writer::r1_671b_iq1_s(), "b.gguf").3.quants,
        vec!["ud-iq1_s"]
    );
}

#[test]
fn q4_k_m_layer_split_uses_real_layer_sizes() {
    // use_more_bits layers carry Q6_K attn_v and ffn_down: heavier than their neighbours
    let (_, w, _, _) = sized(&gguf_writer::gqa_q4_k_m(&LLAMA_8B), "l.gguf");
    assert!(gguf_writer::more_bits(0, 32) && !gguf_writer::more_bits(4, 32));
    assert!(w.layers[0].total() > w.layers[4].total());
}

#[test]
fn the_671b_header_holds_the_r1_architecture() {
    let (_, _, p, m) = sized(&gguf_writer::r1_671b_iq1_s(), "r1.gguf");
    let c = catalog();
    let r1 = ParamBreakdown::of(c.model("671b").unwrap());
    assert_eq!(p.layers, r1.layers, "every layer as the catalog's R1");
    assert_eq!(p.active(), r1.active());
    assert_eq!(m.max_context, 163_840);
}

#[test]
fn every_command_takes_a_gguf_and_its_first_shard() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qwen2.gguf");
    let len = gguf_writer::gqa_q4_k_m(&QWEN2_1_5B).write(&path);
    let p = path.to_str().unwrap();
    let size = json(&["size", p, "--gpu", "rtx-4090"]);
    assert_eq!(size["model_source"], "gguf");
    assert_eq!(size["quant"], "q4_k_m");
    assert_eq!(size["engine"], "llama.cpp");
    assert_within(
        "weights",
        size["memory"]["weights_bytes"].as_f64().unwrap(),
        len as f64,
        0.005,
    );
    json(&["estimate", p, "--gpu", "rtx-4090"]);
    assert_eq!(json(&["check", p, "--gpu", "rtx-4090"])["ok"], true);
    let rec = json(&["recommend", "--model", p, "--gpu", "rtx-4090"]);
    assert_eq!(
        rec["recommendation"]["quant"], "q4_k_m",
        "a GGUF leaves no quant choice"
    );
    let models = json(&["models", "--from", p]);
    assert_eq!(models["models"][0]["read"]["model_source"], "gguf");
    assert_eq!(models["models"][0]["params"], 1_777_088_000u64);

    // a split file: every shard's tensors count
    let full = gguf_writer::gqa_q4_k_m(&LLAMA_8B);
    let (first, second) = full.tensors.split_at(150);
    let mut a = Gguf {
        kv: full.kv,
        tensors: vec![],
    };
    a.tensors.extend(first.iter().map(|t| gguf_writer::Tensor {
        name: t.name.clone(),
        dims: t.dims.clone(),
        ggml_type: t.ggml_type,
    }));
    let b = Gguf {
        kv: vec![("general.architecture".into(), Val::Str("llama".into()))],
        tensors: second
            .iter()
            .map(|t| gguf_writer::Tensor {
                name: t.name.clone(),
                dims: t.dims.clone(),
                ggml_type: t.ggml_type,
            })
            .collect(),
    };
    let s1 = dir.path().join("llama-00001-of-00002.gguf");
    let total = a.write(&s1) + b.write(&dir.path().join("llama-00002-of-00002.gguf"));
    let split = json(&["models", "--from", s1.to_str().unwrap()]);
    assert_eq!(split["models"][0]["params"], 8_030_261_248u64);
    assert_within(
        "split",
        split["models"][0]["quants"][0]["file_bytes"]
            .as_f64()
            .unwrap(),
        total as f64,
        0.005,
    );
    let out = r1pick()
        .args([
            "size",
            dir.path()
                .join("llama-00002-of-00002.gguf")
                .to_str()
                .unwrap(),
            "--gpu",
            "l40s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass the first shard"));
}

/// Hostile and broken headers: each is one line, exit 2, nothing on stdout.
fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = gguf_writer::gqa_q4_k_m(&QWEN2_1_5B).header();
    let mut cases = vec![];
    let mut wrong_magic = good.clone();
    wrong_magic[..4].copy_from_slice(b"GGML");
    cases.push(("magic", wrong_magic, "not a GGUF file"));
    for v in [1u32, 4, 0x0300_0000] {
        let mut bad = good.clone();
        bad[4..8].copy_from_slice(&v.to_le_bytes());
        cases.push(("version", bad, "GGUF version"));
    }
    let mut huge_tensors = good.clone();
    huge_tensors[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    cases.push(("tensor count", huge_tensors, "tensors (at most 65536"));
    let mut huge_kv = good.clone();
    huge_kv[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    cases.push(("kv count", huge_kv, "metadata entries (at most 65536"));
    cases.push((
        "truncated",
        good[..good.len() / 2].to_vec(),
        "truncated GGUF header",
    ));
    cases.push(("empty", vec![], "truncated GGUF header"));
    // the first key's length, past the end of the file
    let mut long_key = good.clone();
    long_key[24..32].copy_from_slice(&(1u64 << 62).to_le_bytes());
    cases.push(("key length", long_key, "metadata key of"));
    // a string value claiming more bytes than the file has
    let mut g = Gguf::default();
    g.kv("general.architecture", Val::Str("qwen2".into()));
    let mut past_end = g.header();
    // after the 24-byte preamble: key length, key, value type, then the string's length
    let pos = 24 + 8 + "general.architecture".len() + 4;
    past_end[pos..pos + 8].copy_from_slice(&1_000_000u64.to_le_bytes());
    cases.push(("string past the end", past_end, "truncated GGUF header"));
    // an array claiming 2^40 strings
    let mut g = Gguf::default();
    g.kv("tokenizer.ggml.tokens", Val::Strings(1, 1));
    let mut array = g.header();
    let pos = 24 + 8 + "tokenizer.ggml.tokens".len() + 4 + 4;
    array[pos..pos + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    cases.push(("array count", array, "claims 1099511627776 elements"));
    // tensor data missing: the header alone, not extended to its tensors
    cases.push((
        "no tensor data",
        good.clone(),
        "lies past the end of the file",
    ));
    // a tensor of unknown type, and dimensions that overflow
    let mut g = Gguf::default();
    g.tensor("x", &[256], 99);
    cases.push(("ggml type", g.header(), "unknown ggml type 99"));
    let mut g = Gguf::default();
    g.tensor("x", &[1 << 40, 1 << 40], 0);
    cases.push(("dims", g.header(), "implausible dimensions"));
    cases
}

#[test]
fn hostile_headers_are_refused_by_the_reader() {
    for (what, bytes, says) in hostile() {
        let e = gguf::read(Cursor::new(&bytes), &gguf::Limits::default()).unwrap_err();
        assert!(e.contains(says), "{what}: {e}");
        assert!(!e.contains('\n'), "{what}: {e}");
    }
}

#[test]
fn hostile_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (what, bytes, says) in hostile() {
        let path = dir.path().join(format!("{}.gguf", what.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let out = r1pick()
            .args(["size", path.to_str().unwrap(), "--gpu", "l40s"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{what}: {err}"
        );
    }
}

#[test]
fn limits_bound_what_a_header_may_claim() {
    // a tight limit refuses a real header before reading its tensors
    let g = gguf_writer::gqa_q4_k_m(&QWEN2_1_5B);
    let limits = gguf::Limits {
        max_tensors: 100,
        ..gguf::Limits::default()
    };
    let e = gguf::read(Cursor::new(&g.header()), &limits).unwrap_err();
    assert!(e.contains("claims 339 tensors (at most 100"), "{e}");
}
