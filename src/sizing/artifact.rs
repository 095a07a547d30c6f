//! The file an engine loads for a quant: a published checkpoint (cited in data/models.toml), the
//! 16-bit checkpoint quantized by the engine as it loads, a GGUF file or an Ollama library tag. A
//! quant with none of these is not offered for that engine (issue 10 item 8).

use crate::catalog::model::ModelSource;
use crate::catalog::quant::QuantFormat;
use crate::catalog::{Engine, Model, Quant};

use super::weights::checkpoint_bytes;

/// The Hugging Face Hub stores no file over 50 GB, so bigger GGUFs are published as
/// `-00001-of-0000N` shards (llama.cpp `gguf-split`; unsloth's 671B quants are 49.3 GB parts,
/// models.md §6).
const HUB_FILE_LIMIT_BYTES: f64 = 50e9;

/// What the engine is told to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// A safetensors repo. `cast`: load it as FP16 (`--dtype half`); `online`: the quant the
    /// engine makes of it while loading (vLLM/SGLang `--quantization fp8`, TRT-LLM `quant_config`).
    Repo {
        repo: String,
        cast: bool,
        online: Option<String>,
    },
    /// One GGUF of a hub repo, `repo:TYPE` as llama-server `-hf` and Ollama `hf.co/` take it.
    Gguf { repo: String, tag: String },
    /// A GGUF file on disk that the user brought.
    GgufPath(String),
    /// An Ollama library tag (`deepseek-r1:32b`).
    Ollama(String),
}

impl Artifact {
    /// The name the engine's launch command carries.
    pub fn name(&self) -> String {
        match self {
            Artifact::Repo { repo, .. } | Artifact::GgufPath(repo) | Artifact::Ollama(repo) => {
                repo.clone()
            }
            Artifact::Gguf { repo, tag } => format!("{repo}:{tag}"),
        }
    }
}

/// The artifact `engine` loads to serve `model` at `quant`, or why there is none.
pub fn artifact(model: &Model, quant: &Quant, engine: &Engine) -> Result<Artifact, String> {
    match quant.format {
        _ if engine.gguf => gguf(model, quant, engine),
        QuantFormat::Gguf => gguf(model, quant, engine),
        QuantFormat::Safetensors => safetensors(model, quant, engine),
    }
}

fn gguf(model: &Model, quant: &Quant, engine: &Engine) -> Result<Artifact, String> {
    if model.source == ModelSource::Gguf {
        return Ok(Artifact::GgufPath(model.hf_repo.clone()));
    }
    if engine.library_tags {
        let library = match (quant.id.as_str(), &model.ollama_tag) {
            ("q4_k_m", Some(tag)) => Some(tag.clone()),
            _ => model.ollama_tags.get(&quant.id).cloned(),
        };
        if let Some(tag) = library {
            return Ok(Artifact::Ollama(tag));
        }
    }
    let repo = model.repos.get("gguf").ok_or_else(|| {
        format!(
            "{} has no published GGUF repo for {}",
            model.id,
            quant.id.to_uppercase()
        )
    })?;
    let tag = gguf_type(&quant.id);
    if engine.library_tags {
        let bytes = checkpoint_bytes(model, quant);
        if bytes > HUB_FILE_LIMIT_BYTES {
            // ollama/ollama#5245: `ollama pull hf.co/…` and `FROM` take one GGUF file, not splits.
            return Err(format!(
                "Ollama cannot load a sharded GGUF: {}'s {tag} is {:.0} GB, published in parts of at most 50 GB, and Ollama has no library tag for it; use llama.cpp",
                model.id,
                bytes / 1e9
            ));
        }
        return Ok(Artifact::Ollama(format!("hf.co/{repo}:{tag}")));
    }
    Ok(Artifact::Gguf {
        repo: repo.clone(),
        tag,
    })
}

/// unsloth names files by llama.cpp's type names: Q4_K_M, UD-IQ1_S, BF16, F16.
pub fn gguf_type(quant: &str) -> String {
    match quant {
        "fp16" => "F16".to_string(),
        q => match q.strip_prefix("ud-") {
            Some(rest) => format!("UD-{}", rest.to_uppercase()),
            None => q.to_uppercase(),
        },
    }
}

fn safetensors(model: &Model, quant: &Quant, engine: &Engine) -> Result<Artifact, String> {
    let repo = |repo: &String| Artifact::Repo {
        repo: repo.clone(),
        cast: false,
        online: None,
    };
    // A model the user brought is loaded from the repo or directory it came from, as it is.
    if model.source != ModelSource::Catalog {
        return Ok(Artifact::Repo {
            repo: model.hf_repo.clone(),
            cast: quant.id == "fp16",
            online: None,
        });
    }
    let sixteen_bit = matches!(quant.id.as_str(), "bf16" | "fp16");
    let published = model
        .repos
        .get(&quant.id)
        .or((model.hf_repo_quant == quant.id).then_some(&model.hf_repo));
    if let Some(r) = published
        && (sixteen_bit || engine.prequantized.contains(&quant.id))
    {
        return Ok(repo(r));
    }
    // The 16-bit checkpoint, which FP16 casts and online quantization start from.
    let bf16 = model
        .repos
        .get("bf16")
        .or((model.hf_repo_quant == "bf16").then_some(&model.hf_repo));
    match (quant.id.as_str(), bf16) {
        ("fp16", Some(r)) => Ok(Artifact::Repo {
            repo: r.clone(),
            cast: true,
            online: None,
        }),
        (q, Some(r)) if engine.online_quants.iter().any(|o| o == q) => Ok(Artifact::Repo {
            repo: r.clone(),
            cast: false,
            online: Some(q.to_string()),
        }),
        (q, _) => Err(format!(
            "no published {q} checkpoint of {} that {} loads, and {} does not quantize to {q} while loading",
            model.id, engine.id, engine.id
        )),
    }
}
