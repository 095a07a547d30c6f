//! A small GGUF writer for tests and benches: real header layouts (metadata, tensor infos) with
//! the tensor data left as a sparse hole, so a 400 GB file costs a few MB of header on disk.
//! Independent of r1pick's reader: its own copy of the ggml block sizes (ggml-common.h).
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

pub const F32: u32 = 0;
pub const F16: u32 = 1;
pub const Q8_0: u32 = 8;
pub const Q4_K: u32 = 12;
pub const Q6_K: u32 = 14;
pub const IQ1_S: u32 = 19;

/// (elements per block, bytes per block), ggml-common.h.
fn block(t: u32) -> (u64, u64) {
    match t {
        F32 => (1, 4),
        F16 => (1, 2),
        Q8_0 => (32, 34),
        Q4_K => (256, 144),
        Q6_K => (256, 210),
        IQ1_S => (256, 50),
        _ => (1, 1), // a type ggml does not know, for hostile headers
    }
}

pub enum Val {
    U32(u32),
    F32(f32),
    Str(String),
    /// An array of `n` strings of `len` bytes each (a tokenizer vocabulary's shape).
    Strings(usize, usize),
}

pub struct Tensor {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
}

impl Tensor {
    pub fn bytes(&self) -> u64 {
        let (per, bytes) = block(self.ggml_type);
        // saturating: hostile test headers claim absurd dimensions
        (self.dims.iter().fold(1u64, |a, d| a.saturating_mul(*d)) / per).saturating_mul(bytes)
    }
}

#[derive(Default)]
pub struct Gguf {
    pub kv: Vec<(String, Val)>,
    pub tensors: Vec<Tensor>,
}

const ALIGN: u64 = 32;

fn aligned(n: u64) -> u64 {
    n.div_ceil(ALIGN).saturating_mul(ALIGN)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

impl Gguf {
    pub fn kv(&mut self, key: &str, v: Val) -> &mut Self {
        self.kv.push((key.to_string(), v));
        self
    }

    pub fn tensor(&mut self, name: &str, dims: &[u64], ggml_type: u32) -> &mut Self {
        self.tensors.push(Tensor {
            name: name.to_string(),
            dims: dims.to_vec(),
            ggml_type,
        });
        self
    }

    pub fn data_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| aligned(t.bytes()))
            .fold(0u64, u64::saturating_add)
    }

    /// The header, padded to the data's alignment.
    pub fn header(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(b"GGUF");
        out.extend(3u32.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kv.len() as u64).to_le_bytes());
        for (k, v) in &self.kv {
            put_str(&mut out, k);
            match v {
                Val::U32(x) => {
                    out.extend(4u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Val::F32(x) => {
                    out.extend(6u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Val::Str(s) => {
                    out.extend(8u32.to_le_bytes());
                    put_str(&mut out, s);
                }
                Val::Strings(n, len) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(8u32.to_le_bytes());
                    out.extend((*n as u64).to_le_bytes());
                    let s = "x".repeat(*len);
                    for _ in 0..*n {
                        put_str(&mut out, &s);
                    }
                }
            }
        }
        let mut offset = 0u64;
        for t in &self.tensors {
            put_str(&mut out, &t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(t.ggml_type.to_le_bytes());
            out.extend(offset.to_le_bytes());
            offset = offset.saturating_add(aligned(t.bytes()));
        }
        out.resize(
            (out.len() as u64).div_ceil(ALIGN) as usize * ALIGN as usize,
            0,
        );
        out
    }

    /// Header + a sparse hole the size of the tensor data. Returns the file's length.
    pub fn write(&self, path: &Path) -> u64 {
        let header = self.header();
        let mut f = std::fs::File::create(path).expect("create gguf");
        f.write_all(&header).expect("write gguf header");
        let len = header.len() as u64 + self.data_bytes();
        f.set_len(len).expect("extend gguf");
        len
    }
}

/// llama.cpp's `use_more_bits`: the layers Q4_K_M gives Q6_K attn_v / ffn_down
/// (the first and last eighth, and every third one between).
pub fn more_bits(i: u64, n: u64) -> bool {
    i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
}

pub struct DenseShape<'a> {
    pub arch: &'a str,
    pub layers: u64,
    pub hidden: u64,
    pub ffn: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub vocab: u64,
    pub context: u32,
    pub qkv_bias: bool,
    pub qk_norm: bool,
    /// Routed experts (Mixtral/Qwen3-MoE) with their width; 0 for a dense model.
    pub experts: u64,
    pub experts_used: u32,
    pub moe_ffn: u64,
}

fn tokenizer(g: &mut Gguf, vocab: u64) {
    // The vocabulary and merges as real files carry them (≈ 8 bytes per token on average).
    g.kv("tokenizer.ggml.model", Val::Str("gpt2".into()))
        .kv("tokenizer.ggml.tokens", Val::Strings(vocab as usize, 7))
        .kv(
            "tokenizer.ggml.merges",
            Val::Strings(vocab as usize - 1000, 9),
        );
}

/// A Q4_K_M-mix GGUF of a GQA model (Qwen2, Llama, Qwen3, Mixtral, Qwen3-MoE layouts).
pub fn gqa_q4_k_m(s: &DenseShape) -> Gguf {
    let mut g = Gguf::default();
    let a = s.arch;
    g.kv("general.architecture", Val::Str(a.into()))
        .kv("general.name", Val::Str(format!("test {a}")))
        .kv("general.file_type", Val::U32(15))
        .kv(&format!("{a}.block_count"), Val::U32(s.layers as u32))
        .kv(&format!("{a}.context_length"), Val::U32(s.context))
        .kv(&format!("{a}.embedding_length"), Val::U32(s.hidden as u32))
        .kv(&format!("{a}.feed_forward_length"), Val::U32(s.ffn as u32))
        .kv(
            &format!("{a}.attention.head_count"),
            Val::U32(s.heads as u32),
        )
        .kv(
            &format!("{a}.attention.head_count_kv"),
            Val::U32(s.kv_heads as u32),
        )
        .kv(
            &format!("{a}.attention.key_length"),
            Val::U32(s.head_dim as u32),
        )
        .kv(
            &format!("{a}.attention.value_length"),
            Val::U32(s.head_dim as u32),
        )
        .kv(&format!("{a}.rope.freq_base"), Val::F32(1e6));
    if s.experts > 0 {
        g.kv(&format!("{a}.expert_count"), Val::U32(s.experts as u32))
            .kv(&format!("{a}.expert_used_count"), Val::U32(s.experts_used));
        if s.moe_ffn != s.ffn {
            g.kv(
                &format!("{a}.expert_feed_forward_length"),
                Val::U32(s.moe_ffn as u32),
            );
        }
    }
    tokenizer(&mut g, s.vocab);
    let (h, q, kv) = (s.hidden, s.heads * s.head_dim, s.kv_heads * s.head_dim);
    g.tensor("token_embd.weight", &[h, s.vocab], Q4_K);
    for i in 0..s.layers {
        let b = |t: &str| format!("blk.{i}.{t}");
        let more = more_bits(i, s.layers);
        g.tensor(&b("attn_norm.weight"), &[h], F32)
            .tensor(&b("attn_q.weight"), &[h, q], Q4_K)
            .tensor(&b("attn_k.weight"), &[h, kv], Q4_K)
            .tensor(
                &b("attn_v.weight"),
                &[h, kv],
                if more { Q6_K } else { Q4_K },
            )
            .tensor(&b("attn_output.weight"), &[q, h], Q4_K)
            .tensor(&b("ffn_norm.weight"), &[h], F32);
        if s.qkv_bias {
            g.tensor(&b("attn_q.bias"), &[q], F32)
                .tensor(&b("attn_k.bias"), &[kv], F32)
                .tensor(&b("attn_v.bias"), &[kv], F32);
        }
        if s.qk_norm {
            g.tensor(&b("attn_q_norm.weight"), &[s.head_dim], F32)
                .tensor(&b("attn_k_norm.weight"), &[s.head_dim], F32);
        }
        let down = if more { Q6_K } else { Q4_K };
        if s.experts > 0 {
            let (e, f) = (s.experts, s.moe_ffn);
            g.tensor(&b("ffn_gate_inp.weight"), &[h, e], F32)
                .tensor(&b("ffn_gate_exps.weight"), &[h, f, e], Q4_K)
                .tensor(&b("ffn_up_exps.weight"), &[h, f, e], Q4_K)
                .tensor(&b("ffn_down_exps.weight"), &[f, h, e], down);
        } else {
            g.tensor(&b("ffn_gate.weight"), &[h, s.ffn], Q4_K)
                .tensor(&b("ffn_up.weight"), &[h, s.ffn], Q4_K)
                .tensor(&b("ffn_down.weight"), &[s.ffn, h], down);
        }
    }
    g.tensor("output_norm.weight", &[h], F32)
        .tensor("output.weight", &[h, s.vocab], Q6_K);
    g
}

/// DeepSeek-R1 671B as llama.cpp's `deepseek2` (61 blocks, 3 dense, 256 experts, MLA), with the
/// tensor types of unsloth's UD-IQ1_S: IQ1_S routed experts, Q4_K attention, Q6_K output.
pub fn r1_671b_iq1_s() -> Gguf {
    let mut g = Gguf::default();
    let a = "deepseek2";
    let u = |g: &mut Gguf, k: &str, v: u32| {
        g.kv(&format!("{a}.{k}"), Val::U32(v));
    };
    g.kv("general.architecture", Val::Str(a.into()))
        .kv("general.name", Val::Str("DeepSeek R1".into()))
        .kv("general.file_type", Val::U32(24));
    for (k, v) in [
        ("block_count", 61),
        ("context_length", 163_840),
        ("embedding_length", 7168),
        ("feed_forward_length", 18_432),
        ("attention.head_count", 128),
        ("attention.head_count_kv", 128),
        ("attention.key_length", 192),
        ("attention.value_length", 128),
        ("attention.q_lora_rank", 1536),
        ("attention.kv_lora_rank", 512),
        ("rope.dimension_count", 64),
        ("leading_dense_block_count", 3),
        ("expert_count", 256),
        ("expert_used_count", 8),
        ("expert_shared_count", 1),
        ("expert_feed_forward_length", 2048),
        ("vocab_size", 129_280),
    ] {
        u(&mut g, k, v);
    }
    tokenizer(&mut g, 129_280);
    let (h, vocab) = (7168u64, 129_280u64);
    g.tensor("token_embd.weight", &[h, vocab], Q4_K);
    for i in 0..61u64 {
        let b = |t: &str| format!("blk.{i}.{t}");
        g.tensor(&b("attn_norm.weight"), &[h], F32)
            .tensor(&b("attn_q_a_norm.weight"), &[1536], F32)
            .tensor(&b("attn_kv_a_norm.weight"), &[512], F32)
            .tensor(&b("attn_q_a.weight"), &[h, 1536], Q4_K)
            .tensor(&b("attn_q_b.weight"), &[1536, 128 * 192], Q4_K)
            .tensor(&b("attn_kv_a_mqa.weight"), &[h, 576], Q6_K)
            .tensor(&b("attn_kv_b.weight"), &[512, 128 * 256], Q6_K)
            .tensor(&b("attn_output.weight"), &[128 * 128, h], Q4_K)
            .tensor(&b("ffn_norm.weight"), &[h], F32);
        if i < 3 {
            g.tensor(&b("ffn_gate.weight"), &[h, 18_432], Q4_K)
                .tensor(&b("ffn_up.weight"), &[h, 18_432], Q4_K)
                .tensor(&b("ffn_down.weight"), &[18_432, h], Q6_K);
        } else {
            g.tensor(&b("ffn_gate_inp.weight"), &[h, 256], F32)
                .tensor(&b("exp_probs_b.bias"), &[256], F32)
                .tensor(&b("ffn_gate_exps.weight"), &[h, 2048, 256], IQ1_S)
                .tensor(&b("ffn_up_exps.weight"), &[h, 2048, 256], IQ1_S)
                .tensor(&b("ffn_down_exps.weight"), &[2048, h, 256], IQ1_S)
                .tensor(&b("ffn_gate_shexp.weight"), &[h, 2048], Q4_K)
                .tensor(&b("ffn_up_shexp.weight"), &[h, 2048], Q4_K)
                .tensor(&b("ffn_down_shexp.weight"), &[2048, h], Q6_K);
        }
    }
    g.tensor("output_norm.weight", &[h], F32)
        .tensor("output.weight", &[h, vocab], Q6_K);
    g
}
