//! A GGUF header reader: metadata and tensor infos, never tensor data.
//!
//! Every count and length is checked against [`Limits`] and against the bytes left in the file
//! before anything is allocated, so a hostile or truncated file fails with one line and the reader
//! holds at most about 50 MiB whatever the file claims (65,536 tensor infos of ≤ 64-byte names,
//! 65,536 metadata keys of ≤ 256 bytes with values kept only up to 256 bytes). Arrays (the
//! tokenizer's 150k strings) are skipped, not stored. Format: ggml's docs/gguf.md, versions 2 and 3.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

type Res<T> = std::result::Result<T, String>;

const MAGIC: &[u8; 4] = b"GGUF";

/// Bounds on what a header may claim.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tensors: u64,
    pub max_metadata: u64,
    /// Longest key or tensor name, bytes.
    pub max_key: u64,
    /// Longest string value read (longer ones are skipped, not kept).
    pub max_string: u64,
    /// Most elements of one metadata array.
    pub max_array: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_tensors: 1 << 16,
            max_metadata: 1 << 16,
            max_key: 256,
            // The chat template of a real file is ~10 KB; tokenizer strings are far shorter.
            max_string: 1 << 20,
            // Vocabularies are ≤ 262,144 tokens; merges about as many.
            max_array: 1 << 24,
        }
    }
}

/// Longest tensor name llama.cpp accepts (GGML_MAX_NAME).
const MAX_TENSOR_NAME: u64 = 64;
/// Longest string value kept in memory; longer ones (chat templates) are skipped.
const KEEP_STRING: u64 = 256;
/// GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;

/// A metadata value r1pick keeps: scalars and short strings; arrays by length only.
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A string too long to keep, or an array: only its length.
    Skipped(u64),
}

impl Meta {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Meta::Uint(v) => Some(*v),
            Meta::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub offset: u64,
    /// Exact bytes of the tensor data (elements / block size × block bytes).
    pub bytes: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u32,
    pub metadata: BTreeMap<String, Meta>,
    pub tensors: Vec<TensorInfo>,
    /// Where the tensor data starts (aligned).
    pub data_offset: u64,
    pub file_len: u64,
}

impl Header {
    pub fn get(&self, key: &str) -> Option<&Meta> {
        self.metadata.get(key)
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(Meta::as_u64)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Meta::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn tensor_bytes(&self) -> u64 {
        self.tensors.iter().map(|t| t.bytes).sum()
    }
}

/// (elements per block, bytes per block) of a ggml type, from ggml-common.h; `None` for types
/// ggml removed or never stores.
pub fn block(ggml_type: u32) -> Option<(u64, u64)> {
    Some(match ggml_type {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (256, 84),  // Q2_K
        11 => (256, 110), // Q3_K
        12 => (256, 144), // Q4_K
        13 => (256, 176), // Q5_K
        14 => (256, 210), // Q6_K
        15 => (256, 292), // Q8_K
        16 => (256, 66),  // IQ2_XXS
        17 => (256, 74),  // IQ2_XS
        18 => (256, 98),  // IQ3_XXS
        19 => (256, 50),  // IQ1_S
        20 => (32, 18),   // IQ4_NL
        21 => (256, 110), // IQ3_S
        22 => (256, 82),  // IQ2_S
        23 => (256, 136), // IQ4_XS
        24 => (1, 1),     // I8
        25 => (1, 2),     // I16
        26 => (1, 4),     // I32
        27 => (1, 8),     // I64
        28 => (1, 8),     // F64
        29 => (256, 56),  // IQ1_M
        30 => (1, 2),     // BF16
        34 => (256, 54),  // TQ1_0
        35 => (256, 66),  // TQ2_0
        39 => (32, 17),   // MXFP4
        _ => return None,
    })
}

/// Read the header of a GGUF stream. The stream's length bounds every claim in it.
pub fn read<R: Read + Seek>(inner: R, limits: &Limits) -> Res<Header> {
    let mut r = Cursor::new(inner)?;
    let magic = r.bytes(4)?;
    if magic != MAGIC {
        return Err(format!(
            "not a GGUF file: it starts with {:02x?}, not \"GGUF\"",
            &magic[..]
        ));
    }
    let version = r.u32()?;
    if !(version == 2 || version == 3) {
        return Err(format!(
            "GGUF version {version} is not supported (2 or 3; version 1 and big-endian files are not read)"
        ));
    }
    let tensor_count = r.u64()?;
    let kv_count = r.u64()?;
    // Each tensor info takes at least 8 + 4 + 8 + 4 + 8 bytes, each key-value at least 8 + 4 + 1.
    claim(tensor_count, "tensors", limits.max_tensors, 32, r.left())?;
    claim(
        kv_count,
        "metadata entries",
        limits.max_metadata,
        13,
        r.left(),
    )?;
    let mut metadata = BTreeMap::new();
    for _ in 0..kv_count {
        let key = r.string(limits.max_key, "metadata key")?;
        let value_type = r.u32()?;
        let value = r.value(value_type, limits, &key)?;
        metadata.insert(key, value);
    }
    let mut tensors = Vec::with_capacity(tensor_count as usize);
    for _ in 0..tensor_count {
        let name = r.string(MAX_TENSOR_NAME, "tensor name")?;
        let n_dims = r.u32()?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(format!(
                "tensor '{name}' has {n_dims} dimensions (1..={MAX_DIMS})"
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.u64()?);
        }
        let ggml_type = r.u32()?;
        let offset = r.u64()?;
        let bytes = tensor_bytes(&name, &dims, ggml_type)?;
        tensors.push(TensorInfo {
            name,
            dims,
            ggml_type,
            offset,
            bytes,
        });
    }
    let alignment = match metadata.get("general.alignment") {
        None => 32,
        Some(m) => match m.as_u64() {
            Some(a) if a.is_power_of_two() && a <= 1 << 20 => a,
            _ => return Err(format!("general.alignment {m:?} is not a power of two")),
        },
    };
    let data_offset = r.pos.div_ceil(alignment) * alignment;
    let file_len = r.len;
    for t in &tensors {
        let end = data_offset
            .checked_add(t.offset)
            .and_then(|o| o.checked_add(t.bytes));
        if t.offset % alignment != 0 || end.is_none_or(|e| e > file_len) {
            return Err(format!(
                "tensor '{}' ({} bytes at offset {}) lies past the end of the file ({file_len} bytes): truncated or corrupt",
                t.name, t.bytes, t.offset
            ));
        }
    }
    Ok(Header {
        version,
        metadata,
        tensors,
        data_offset,
        file_len,
    })
}

/// A count from the header: within its limit, and small enough for the bytes left to hold
/// `count` entries of at least `min_bytes` each.
fn claim(count: u64, what: &str, max: u64, min_bytes: u64, left: u64) -> Res<()> {
    if count > max {
        return Err(format!("GGUF claims {count} {what} (at most {max})"));
    }
    if count.saturating_mul(min_bytes) > left {
        return Err(format!(
            "GGUF claims {count} {what}, more than the {left} bytes left can hold: truncated or corrupt"
        ));
    }
    Ok(())
}

fn tensor_bytes(name: &str, dims: &[u64], ggml_type: u32) -> Res<u64> {
    let (per_block, block_bytes) = block(ggml_type)
        .ok_or_else(|| format!("tensor '{name}' has unknown ggml type {ggml_type}"))?;
    let elements = dims
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(*d))
        .filter(|n| *n < 1 << 48)
        .ok_or_else(|| format!("tensor '{name}' has implausible dimensions {dims:?}"))?;
    if !dims[0].is_multiple_of(per_block) {
        return Err(format!(
            "tensor '{name}': row of {} elements is not a whole number of {per_block}-element blocks",
            dims[0]
        ));
    }
    Ok(elements / per_block * block_bytes)
}

/// Position-tracking reader that refuses any read past the stream's end before allocating.
struct Cursor<R> {
    r: BufReader<R>,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Cursor<R> {
    fn new(mut inner: R) -> Res<Self> {
        let len = inner
            .seek(SeekFrom::End(0))
            .and_then(|l| inner.seek(SeekFrom::Start(0)).map(|_| l))
            .map_err(|e| format!("cannot read: {e}"))?;
        Ok(Cursor {
            r: BufReader::with_capacity(1 << 16, inner),
            pos: 0,
            len,
        })
    }

    fn left(&self) -> u64 {
        self.len - self.pos
    }

    fn need(&self, n: u64) -> Res<()> {
        if n > self.left() {
            return Err(format!(
                "truncated GGUF header: {n} bytes needed at byte {}, the file has {}",
                self.pos, self.len
            ));
        }
        Ok(())
    }

    fn fill<const N: usize>(&mut self) -> Res<[u8; N]> {
        self.need(N as u64)?;
        let mut buf = [0u8; N];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| format!("cannot read the GGUF header: {e}"))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn bytes(&mut self, n: u64) -> Res<Vec<u8>> {
        self.need(n)?;
        let mut buf = vec![0u8; n as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| format!("cannot read the GGUF header: {e}"))?;
        self.pos += n;
        Ok(buf)
    }

    fn skip(&mut self, n: u64) -> Res<()> {
        self.need(n)?;
        // Most skips (tokenizer strings) land inside the buffer.
        let buffered = self.r.buffer().len() as u64;
        if n <= buffered {
            self.r.consume(n as usize);
        } else {
            self.r
                .seek_relative(n as i64)
                .map_err(|e| format!("cannot read the GGUF header: {e}"))?;
        }
        self.pos += n;
        Ok(())
    }

    /// Skip `count` strings (a vocabulary: 150k of them) straight from the read buffer; an entry
    /// that straddles the buffer's end goes the slow way.
    fn skip_strings(&mut self, count: u64, max: u64, key: &str) -> Res<()> {
        let too_long =
            |len: u64| format!("GGUF string in array '{key}' is {len} bytes (at most {max})");
        let mut left = count;
        while left > 0 {
            let (at, bad) = {
                let buf = self
                    .r
                    .fill_buf()
                    .map_err(|e| format!("cannot read the GGUF header: {e}"))?;
                let mut at = 0usize;
                let mut bad = None;
                while left > 0 && buf.len() - at >= 8 {
                    let mut n = [0u8; 8];
                    n.copy_from_slice(&buf[at..at + 8]);
                    let len = u64::from_le_bytes(n);
                    if len > max {
                        bad = Some(len);
                        break;
                    }
                    let end = at as u64 + 8 + len;
                    if end > buf.len() as u64 {
                        break;
                    }
                    at = end as usize;
                    left -= 1;
                }
                (at, bad)
            };
            // what the buffer held lies inside the file: the reader never reads past its end
            self.r.consume(at);
            self.pos += at as u64;
            if let Some(len) = bad {
                return Err(too_long(len));
            }
            if left > 0 {
                let len = self.u64()?;
                if len > max {
                    return Err(too_long(len));
                }
                self.skip(len)?;
                left -= 1;
            }
        }
        Ok(())
    }

    fn u32(&mut self) -> Res<u32> {
        self.fill::<4>().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Res<u64> {
        self.fill::<8>().map(u64::from_le_bytes)
    }

    fn string(&mut self, max: u64, what: &str) -> Res<String> {
        let len = self.u64()?;
        if len > max {
            return Err(format!(
                "GGUF {what} of {len} bytes at byte {} (at most {max})",
                self.pos - 8
            ));
        }
        let raw = self.bytes(len)?;
        String::from_utf8(raw).map_err(|_| format!("GGUF {what} at byte {} is not UTF-8", self.pos))
    }

    /// A value of `value_type`; strings past [`KEEP_STRING`] and arrays are skipped.
    fn value(&mut self, value_type: u32, limits: &Limits, key: &str) -> Res<Meta> {
        Ok(match value_type {
            0 => Meta::Uint(u64::from(self.fill::<1>()?[0])),
            1 => Meta::Int(i64::from(self.fill::<1>()?[0] as i8)),
            2 => Meta::Uint(u64::from(u16::from_le_bytes(self.fill::<2>()?))),
            3 => Meta::Int(i64::from(i16::from_le_bytes(self.fill::<2>()?))),
            4 => Meta::Uint(u64::from(self.u32()?)),
            5 => Meta::Int(i64::from(self.u32()? as i32)),
            6 => Meta::Float(f64::from(f32::from_le_bytes(self.fill::<4>()?))),
            7 => Meta::Bool(self.fill::<1>()?[0] != 0),
            8 => {
                let len = self.u64()?;
                if len > limits.max_string {
                    return Err(format!(
                        "GGUF string value of '{key}' is {len} bytes (at most {})",
                        limits.max_string
                    ));
                }
                if len > KEEP_STRING {
                    self.skip(len)?;
                    Meta::Skipped(len)
                } else {
                    let raw = self.bytes(len)?;
                    Meta::Str(String::from_utf8_lossy(&raw).into_owned())
                }
            }
            9 => {
                let item = self.u32()?;
                let count = self.u64()?;
                if count > limits.max_array {
                    return Err(format!(
                        "GGUF array '{key}' claims {count} elements (at most {})",
                        limits.max_array
                    ));
                }
                match item {
                    8 => self.skip_strings(count, limits.max_string, key)?,
                    9 => return Err(format!("GGUF array '{key}' holds arrays (not supported)")),
                    _ => {
                        let size = scalar_size(item).ok_or_else(|| {
                            format!("GGUF array '{key}' has unknown item type {item}")
                        })?;
                        self.skip(count.saturating_mul(size))?;
                    }
                }
                Meta::Skipped(count)
            }
            10 => Meta::Uint(self.u64()?),
            11 => Meta::Int(self.u64()? as i64),
            12 => Meta::Float(f64::from_le_bytes(self.fill::<8>()?)),
            other => return Err(format!("GGUF key '{key}' has unknown value type {other}")),
        })
    }
}

fn scalar_size(t: u32) -> Option<u64> {
    Some(match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}
