//! `MODEL` as a file the user brings: a config.json (or its folder), a .gguf (or its first shard),
//! or `hf:ORG/NAME[@revision]`. The edge that reads files and the network, bounded in size; the
//! parsing is pure, in `catalog::import`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::catalog::import::{Imported, from_gguf, gguf, hf_config, model};
use crate::catalog::model::ModelSource;
use crate::catalog::{Benchmark, Catalog, Model, check_arch};
use crate::cli::Command;
use crate::error::{Error, Result};

/// Largest config.json read (real ones are a few KB).
const MAX_CONFIG: u64 = 4 << 20;
/// Largest safetensors index read (R1's, 91k tensors, is about 9 MB).
const MAX_INDEX: u64 = 64 << 20;
/// Most shards of a split GGUF (unsloth's 671B BF16 has 30).
const MAX_SHARDS: u32 = 256;

/// A model read from a file, with what was read (for `models --from`).
pub struct Loaded {
    pub model: Model,
    pub imported: Imported,
}

/// Does `name` name a file or a hub repo rather than a catalog entry? Catalog ids never hold a
/// slash or end in .json / .gguf.
pub fn is_byo(name: &str) -> bool {
    name.starts_with("hf:")
        || name.contains('/')
        || name.contains('\\')
        || name.ends_with(".json")
        || name.ends_with(".gguf")
        || Path::new(name).is_dir()
}

/// Read the model `name` names, validated like a catalog entry.
pub fn load(catalog: &Catalog, name: &str) -> Result<Loaded> {
    let (imported, source, repo) = if let Some(repo) = name.strip_prefix("hf:") {
        let (imported, repo) = from_hub(repo)?;
        (imported, ModelSource::Hf, repo)
    } else {
        let path = Path::new(name);
        if !path.exists() {
            return Err(Error::input(format!(
                "model file '{name}' does not exist (MODEL is a catalog id, a config.json or its folder, a .gguf, or hf:ORG/NAME)"
            )));
        }
        if name.ends_with(".gguf") {
            (read_gguf(path)?, ModelSource::Gguf, name.to_string())
        } else {
            let config = if path.is_dir() {
                path.join("config.json")
            } else {
                path.to_path_buf()
            };
            let index = config.with_file_name("model.safetensors.index.json");
            let index_text = match index.exists() {
                true => Some(read_bounded(&index, MAX_INDEX)?),
                false => None,
            };
            let text = read_bounded(&config, MAX_CONFIG)?;
            let imported = hf_config::read(&text, index_text.as_deref())
                .map_err(|e| Error::input(format!("{}: {e}", config.display())))?;
            let folder = config
                .parent()
                .unwrap_or(Path::new("."))
                .display()
                .to_string();
            (imported, ModelSource::ConfigJson, folder)
        }
    };
    let m = model(name, &repo, &imported, source, &catalog.quants);
    check_arch(&m).map_err(|e| Error::input(format!("{name}: {e}")))?;
    if m.max_context == 0 || u64::from(m.max_context) > crate::quantity::MAX_TOKENS {
        return Err(Error::input(format!(
            "{name}: maximum context {} is outside 1..={}",
            m.max_context,
            crate::quantity::MAX_TOKENS
        )));
    }
    if m.quants.is_empty() {
        return Err(Error::input(format!(
            "{name}: no catalog quant matches this file"
        )));
    }
    Ok(Loaded { model: m, imported })
}

/// Read at most `max` bytes; a longer file is refused rather than read whole.
fn read_bounded(path: &Path, max: u64) -> Result<String> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::input(format!("cannot read model file '{}': {e}", path.display())))?;
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::input(format!("cannot read model file '{}': {e}", path.display())))?;
    if text.len() as u64 > max {
        return Err(Error::input(format!(
            "model file '{}' is larger than {} MiB; is it a config.json?",
            path.display(),
            max >> 20
        )));
    }
    Ok(text)
}

/// A .gguf, or every shard of a split one given by its first shard (`…-00001-of-00003.gguf`).
fn read_gguf(path: &Path) -> Result<Imported> {
    let shards = shard_paths(path)?;
    let limits = gguf::Limits::default();
    let mut headers = Vec::with_capacity(shards.len());
    for p in &shards {
        let file = std::fs::File::open(p)
            .map_err(|e| Error::input(format!("cannot read model file '{}': {e}", p.display())))?;
        let header =
            gguf::read(file, &limits).map_err(|e| Error::input(format!("{}: {e}", p.display())))?;
        headers.push(header);
    }
    from_gguf::read(&headers).map_err(|e| Error::input(format!("{}: {e}", path.display())))
}

fn shard_paths(path: &Path) -> Result<Vec<PathBuf>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // llama.cpp's gguf-split naming: PREFIX-00001-of-00003.gguf
    let Some(stem) = name.strip_suffix(".gguf") else {
        return Ok(vec![path.to_path_buf()]);
    };
    let parts: Vec<&str> = stem.rsplitn(4, '-').collect();
    let (Some(count), Some("of"), Some(index), Some(prefix)) = (
        parts.first(),
        parts.get(1).copied(),
        parts.get(2),
        parts.get(3),
    ) else {
        return Ok(vec![path.to_path_buf()]);
    };
    let (Ok(n), Ok(i)) = (count.parse::<u32>(), index.parse::<u32>()) else {
        return Ok(vec![path.to_path_buf()]);
    };
    if i != 1 {
        return Err(Error::input(format!(
            "'{}' is shard {i} of {n}: pass the first shard (-00001-of-{count}.gguf)",
            path.display()
        )));
    }
    if n == 0 || n > MAX_SHARDS {
        return Err(Error::input(format!(
            "'{}' claims {n} shards (1..={MAX_SHARDS})",
            path.display()
        )));
    }
    let width = index.len();
    Ok((1..=n)
        .map(|k| path.with_file_name(format!("{prefix}-{k:0width$}-of-{count}.gguf")))
        .collect())
}

/// `ORG/NAME[@revision]` through hf-hub: its cache (HF_HOME), HF_ENDPOINT and HF_TOKEN; only
/// config.json and the safetensors index are fetched.
fn from_hub(spec: &str) -> Result<(Imported, String)> {
    use hf_hub::api::sync::ApiBuilder;
    use hf_hub::{Repo, RepoType};
    let (repo_id, revision) = match spec.split_once('@') {
        Some((r, rev)) => (r, rev.to_string()),
        None => (spec, "main".to_string()),
    };
    let well_formed = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo_id.split_once('/') {
        Some((org, name)) if well_formed(org) && well_formed(name) && well_formed(&revision) => {}
        _ => {
            return Err(Error::input(format!(
                "hf:{spec} is not a repo id: write hf:ORG/NAME or hf:ORG/NAME@REVISION"
            )));
        }
    }
    let mut builder = ApiBuilder::from_env().with_progress(false).with_retries(0);
    if let Ok(token) = std::env::var("HF_TOKEN")
        && !token.is_empty()
    {
        builder = builder.with_token(Some(token));
    }
    let api = builder
        .build()
        .map_err(|e| Error::Environment(format!("cannot set up the Hugging Face client: {e}")))?;
    let repo = api.repo(Repo::with_revision(
        repo_id.to_string(),
        RepoType::Model,
        revision,
    ));
    let fetch = |file: &str| -> Result<Option<PathBuf>> {
        match repo.get(file) {
            Ok(p) => Ok(Some(p)),
            Err(hf_hub::api::sync::ApiError::RequestError(e))
                if matches!(*e, ureq::Error::Status(404, _)) =>
            {
                Ok(None)
            }
            Err(hf_hub::api::sync::ApiError::RequestError(e))
                if matches!(*e, ureq::Error::Status(401 | 403, _)) =>
            {
                Err(Error::input(format!(
                    "hf:{spec}: {file} is gated or private (HTTP {}); set HF_TOKEN",
                    match *e {
                        ureq::Error::Status(code, _) => code,
                        _ => 0,
                    }
                )))
            }
            Err(e) => Err(Error::Environment(format!(
                "cannot fetch {file} of hf:{spec} ({e}); offline? pass a local config.json or .gguf instead"
            ))),
        }
    };
    let config = fetch("config.json")?.ok_or_else(|| {
        Error::input(format!(
            "hf:{spec} has no config.json (HTTP 404): check the repo id and revision"
        ))
    })?;
    // The index is optional: hf-hub caches files, not 404s, so offline with a cached config the
    // index request fails; go on without it then, as when the repo has none.
    let index = match fetch("model.safetensors.index.json") {
        Ok(Some(p)) => Some(read_bounded(&p, MAX_INDEX)?),
        Ok(None) | Err(Error::Environment(_)) => None,
        Err(e) => return Err(e),
    };
    let text = read_bounded(&config, MAX_CONFIG)?;
    let imported = hf_config::read(&text, index.as_deref())
        .map_err(|e| Error::input(format!("hf:{spec} config.json: {e}")))?;
    Ok((imported, repo_id.to_string()))
}

/// The MODEL a command plans for, and the `--score`s given with it.
fn model_arg(command: &Command) -> Option<(&str, &[String])> {
    match command {
        Command::Size(a) => Some((a.model.as_str(), &[][..])),
        Command::Estimate(a) => Some((a.deploy.model.as_str(), &[][..])),
        Command::Check(a) => a
            .model
            .as_deref()
            .map(|m| (m, a.request.constraints.score.as_slice())),
        Command::Plan(a) => a
            .model
            .as_deref()
            .map(|m| (m, a.request.constraints.score.as_slice())),
        Command::Recommend(a) => a
            .model
            .as_deref()
            .map(|m| (m, a.request.constraints.score.as_slice())),
        _ => None,
    }
}

/// Put the model a command names as a file into the catalog (first, so its id wins), with the
/// user's `--score`s. Catalog models keep their published scores.
pub fn register(catalog: &mut Catalog, command: &Command) -> Result<()> {
    let Some((name, scores)) = model_arg(command) else {
        return Ok(());
    };
    if !is_byo(name) {
        if !scores.is_empty() {
            return Err(Error::input(format!(
                "--score applies to a model you bring (MODEL as a file or hf:); '{name}' is a catalog model with published scores"
            )));
        }
        return Ok(());
    }
    let mut m = load(catalog, name)?.model;
    for s in scores {
        let (bench, value) = parse_score(s)?;
        m.scores.set(bench, value);
    }
    catalog.models.insert(0, m);
    Ok(())
}

/// `gpqa_diamond=62.1` → the benchmark and the score.
fn parse_score(s: &str) -> Result<(Benchmark, f64)> {
    const NAMES: &str = "aime_2024, math_500, gpqa_diamond, livecodebench, codeforces";
    let (bench, value) = s.split_once('=').ok_or_else(|| {
        Error::input(format!(
            "--score '{s}' is not BENCH=SCORE (benchmarks: {NAMES})"
        ))
    })?;
    let bench: Benchmark = serde_json::from_value(serde_json::Value::String(
        bench.trim().to_string(),
    ))
    .map_err(|_| {
        Error::input(format!(
            "--score: unknown benchmark '{bench}' (valid: {NAMES})"
        ))
    })?;
    let value = crate::quantity::parse_score(value.trim())
        .map_err(|e| Error::input(format!("--score {s}: {e}")))?;
    Ok((bench, value))
}
