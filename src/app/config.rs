//! Defaults from a configuration file and the environment, merged into the parsed flags here and
//! nowhere else, before any command runs.
//!
//! Precedence, highest first: command-line flags, then `R1PICK_*` environment variables, then the
//! configuration file (`--config FILE`, else `$R1PICK_CONFIG`, else `./r1pick.toml` when present),
//! then built-in defaults. Every key of the file is a long flag name with `_` for `-` (`min_quality`);
//! every variable is `R1PICK_` and the key in capitals (`R1PICK_MIN_QUALITY`). Values go through the
//! flags' own parsers, and a bad one is reported with where it came from (`R1PICK_LATENCY: …`,
//! `r1pick.toml: line 3: latency: …`), exit 2.
//!
//! The machine is one setting: `gpu`, `gpus`, `hardware` and `no_gpu` come together from the
//! layer with the highest precedence that names any of them, so `--no-gpu` on the command line is
//! never mixed with a `gpu` list from the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::catalog::one_line_toml_error;
use crate::cli::{
    Cli, Command, ConstraintArgs, CostArgs, DeploymentArgs, Format, HardwareArgs, LoadArgs, span,
};
use crate::error::{Error, Result, unknown};
use crate::quantity::{
    parse_bandwidth, parse_bool, parse_count, parse_duration_ms, parse_percentile, parse_rate,
    parse_score, parse_size, parse_speed, parse_tokens, parse_usd,
};

/// The file looked for in the working directory.
pub const FILE_NAME: &str = "r1pick.toml";

/// Every setting, in the order the README documents them.
pub const KEYS: &[&str] = &[
    "format",
    "catalog",
    "prices",
    "gpu",
    "gpus",
    "ram",
    "cpu_bandwidth",
    "hardware",
    "no_gpu",
    "quant",
    "engine",
    "context",
    "prompt",
    "output",
    "concurrency",
    "rate",
    "percentile",
    "task",
    "latency",
    "tpot",
    "min_speed",
    "answer_within",
    "budget",
    "min_quality",
    "price",
    "kwh_price",
];

/// The keys that together describe the machine.
const MACHINE: &[&str] = &["gpu", "gpus", "hardware", "no_gpu"];

/// Keys whose value is a file path: relative paths in a config file are read from its folder.
const PATHS: &[&str] = &["catalog", "prices", "hardware"];

/// The variable that names a key: `min_quality` → `R1PICK_MIN_QUALITY`.
pub fn env_var(key: &str) -> String {
    format!("R1PICK_{}", key.to_ascii_uppercase())
}

#[derive(Debug, Clone, PartialEq)]
enum Origin {
    Env(String),
    File { name: String, line: usize },
}

#[derive(Debug, Clone, PartialEq)]
struct Value {
    text: String,
    origin: Origin,
}

/// The settings of one layer (the file, or the environment), by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer(BTreeMap<&'static str, Value>);

impl Layer {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.keys().copied()
    }

    /// The value of `key` through `parse`; an error names the variable or the file line.
    fn get<T>(&self, key: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>> {
        let Some(v) = self.0.get(key) else {
            return Ok(None);
        };
        parse(&v.text).map(Some).map_err(|e| {
            Error::input(match &v.origin {
                Origin::Env(var) => format!("{var}: {e}"),
                Origin::File { name, line } => format!("{name}: line {line}: {key}: {e}"),
            })
        })
    }

    /// Where `key` was set, as errors name it: the variable, or the file, line and key.
    fn origin(&self, key: &str) -> Option<String> {
        self.0.get(key).map(|v| match &v.origin {
            Origin::Env(var) => var.clone(),
            Origin::File { name, line } => format!("{name}: line {line}: {key}"),
        })
    }

    /// Fill an empty slot from this layer: a flag, when given, always wins.
    fn fill<T>(
        &self,
        slot: &mut Option<T>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<()> {
        if slot.is_none() {
            *slot = self.get(key, parse)?;
        }
        Ok(())
    }
}

/// The `R1PICK_*` variables that are set and not empty.
pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Layer {
    let mut layer = Layer::default();
    for key in KEYS {
        let var = env_var(key);
        if let Some(text) = env(&var).filter(|t| !t.trim().is_empty()) {
            layer.0.insert(
                key,
                Value {
                    text,
                    origin: Origin::Env(var),
                },
            );
        }
    }
    layer
}

/// A configuration file: flat `key = value` lines, unknown keys refused with their line.
pub fn parse_file(path: &Path, text: &str) -> Result<Layer> {
    let name = path.display().to_string();
    let table: BTreeMap<String, toml::Spanned<Setting>> = toml::from_str(text).map_err(|e| {
        let hint = if e.message().contains("invalid type: map") {
            " (the file is flat: `gpu = \"l40s:2\"`, no [sections])"
        } else {
            ""
        };
        Error::input(format!("{name}: {}{hint}", one_line_toml_error(&e, text)))
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut layer = Layer::default();
    for (key, spanned) in table {
        let line = text[..spanned.span().start.min(text.len())]
            .matches('\n')
            .count()
            + 1;
        let Some(known) = KEYS.iter().find(|k| **k == key) else {
            let e = unknown("key", &key, KEYS);
            return Err(Error::input(format!("{name}: line {line}: {e}")));
        };
        let setting = spanned.into_inner();
        if setting.list && *known != "gpu" {
            return Err(Error::input(format!(
                "{name}: line {line}: {key} takes one value, not a list"
            )));
        }
        let text = if PATHS.contains(known) {
            folder.join(&setting.text).display().to_string()
        } else {
            setting.text
        };
        layer.0.insert(
            known,
            Value {
                text,
                origin: Origin::File {
                    name: name.clone(),
                    line,
                },
            },
        );
    }
    Ok(layer)
}

/// The file's layer with the environment's on top (the machine moves as one setting).
fn merge(file: &Layer, env: &Layer) -> Layer {
    let mut merged = file.clone();
    if MACHINE.iter().any(|k| env.0.contains_key(k)) {
        merged.0.retain(|k, _| !MACHINE.contains(k));
    }
    merged.0.extend(env.0.clone());
    merged
}

/// The flags with every empty slot filled from the environment, then the file. Pure.
pub fn apply(cli: &Cli, env: &Layer, file: &Layer) -> Result<Cli> {
    let layer = merge(file, env);
    let mut cli = cli.clone();
    let g = &mut cli.global;
    if !g.json {
        layer.fill(&mut g.format, "format", parse_format)?;
    }
    layer.fill(&mut g.catalog, "catalog", parse_path)?;
    layer.fill(&mut g.prices, "prices", parse_path)?;
    match &mut cli.command {
        Command::Size(a) => {
            deployment(&layer, &mut a.deployment)?;
            hardware(&layer, &mut a.hardware)?;
        }
        Command::Estimate(a) => {
            deployment(&layer, &mut a.deploy.deployment)?;
            hardware(&layer, &mut a.deploy.hardware)?;
            cost(&layer, &mut a.cost)?;
            load(&layer, &mut a.load)?;
            layer.fill(&mut a.task, "task", parse_text)?;
        }
        Command::Recommend(a) => {
            constraints(&layer, &mut a.constraints)?;
            deployment(&layer, &mut a.deployment)?;
            hardware(&layer, &mut a.hardware)?;
            cost(&layer, &mut a.cost)?;
            load(&layer, &mut a.load)?;
        }
        Command::Check(a) => {
            constraints(&layer, &mut a.constraints)?;
            deployment(&layer, &mut a.deployment)?;
            hardware(&layer, &mut a.hardware)?;
            cost(&layer, &mut a.cost)?;
            load(&layer, &mut a.load)?;
        }
        Command::Plan(a) => {
            constraints(&layer, &mut a.constraints)?;
            deployment(&layer, &mut a.deployment)?;
            hardware(&layer, &mut a.hardware)?;
            cost(&layer, &mut a.cost)?;
            load(&layer, &mut a.load)?;
        }
        Command::Finetune(a) => {
            hardware(&layer, &mut a.hardware)?;
            cost(&layer, &mut a.cost)?;
        }
        Command::Probe(_)
        | Command::Models(_)
        | Command::Gpus
        | Command::Tasks
        | Command::Completions { .. }
        | Command::Man => {}
    }
    Ok(cli)
}

/// The edge: read the environment and the configuration file, then [`apply`] them.
pub fn resolve(cli: &Cli) -> Result<Cli> {
    if matches!(cli.command, Command::Completions { .. } | Command::Man) {
        return Ok(cli.clone());
    }
    let env = |var: &str| std::env::var_os(var).map(|v| v.to_string_lossy().into_owned());
    let path = cli.global.config.clone().or_else(|| {
        env("R1PICK_CONFIG")
            .filter(|p| !p.trim().is_empty())
            .map(PathBuf::from)
    });
    let path = path.or_else(|| Path::new(FILE_NAME).is_file().then(|| FILE_NAME.into()));
    let file = match path {
        Some(p) => parse_file(&p, &super::read_file(&p, "config")?)?,
        None => Layer::default(),
    };
    apply(cli, &from_env(env), &file)
}

fn deployment(l: &Layer, d: &mut DeploymentArgs) -> Result<()> {
    l.fill(&mut d.quant, "quant", parse_text)?;
    l.fill(&mut d.engine, "engine", parse_text)?;
    l.fill(&mut d.context, "context", parse_tokens)?;
    l.fill(&mut d.prompt, "prompt", span)?;
    l.fill(&mut d.output, "output", span)?;
    l.fill(&mut d.concurrency, "concurrency", parse_count)
}

fn load(l: &Layer, a: &mut LoadArgs) -> Result<()> {
    l.fill(&mut a.rate, "rate", parse_rate)?;
    l.fill(&mut a.percentile, "percentile", parse_percentile)
}

fn hardware(l: &Layer, h: &mut HardwareArgs) -> Result<()> {
    let flags_name_the_machine = !h.gpu.is_empty() || h.hardware.is_some() || h.no_gpu;
    if !flags_name_the_machine {
        if let Some(gpus) = l.get("gpu", parse_list)? {
            h.gpu = gpus;
            h.gpu_origin = l.origin("gpu");
        }
        l.fill(&mut h.gpus, "gpus", parse_count)?;
        l.fill(&mut h.hardware, "hardware", parse_path)?;
        h.no_gpu = l.get("no_gpu", parse_bool)?.unwrap_or(false);
    }
    l.fill(&mut h.ram, "ram", parse_size)?;
    l.fill(&mut h.cpu_bandwidth, "cpu_bandwidth", parse_bandwidth)
}

fn constraints(l: &Layer, c: &mut ConstraintArgs) -> Result<()> {
    l.fill(&mut c.task, "task", parse_text)?;
    l.fill(&mut c.latency, "latency", parse_duration_ms)?;
    l.fill(&mut c.tpot, "tpot", parse_duration_ms)?;
    l.fill(&mut c.min_speed, "min_speed", parse_speed)?;
    l.fill(&mut c.answer_within, "answer_within", parse_duration_ms)?;
    l.fill(&mut c.budget, "budget", parse_text)?;
    l.fill(&mut c.min_quality, "min_quality", parse_score)
}

fn cost(l: &Layer, c: &mut CostArgs) -> Result<()> {
    l.fill(&mut c.price, "price", parse_usd)?;
    l.fill(&mut c.kwh_price, "kwh_price", parse_usd)
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_str(s.trim(), true)
        .map_err(|_| format!("'{s}' is not a format (valid: table, json)"))
}

fn parse_text(s: &str) -> Result<String, String> {
    Ok(s.trim().to_string())
}

fn parse_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

/// `h100-sxm:8` or `rtx-4090,rtx-3090`: GPU specs separated by commas.
fn parse_list(s: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = s.split(',').map(|i| i.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(format!(
            "'{s}' has an empty GPU spec; write e.g. h100-sxm:8 or l40s,l40s"
        ));
    }
    Ok(items)
}

/// One file value: a string, number or switch, or (for `gpu`) a list of strings.
struct Setting {
    text: String,
    list: bool,
}

impl<'de> Deserialize<'de> for Setting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(SettingVisitor)
    }
}

struct SettingVisitor;

impl SettingVisitor {
    fn one<E>(text: String) -> std::result::Result<Setting, E> {
        Ok(Setting { text, list: false })
    }
}

impl<'de> Visitor<'de> for SettingVisitor {
    type Value = Setting;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a number, true/false, or a list of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Setting, E> {
        Self::one(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Setting, E> {
        Self::one(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Setting, E> {
        Self::one(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Setting, E> {
        Self::one(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Setting, E> {
        Self::one(v.to_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Setting, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            items.push(item);
        }
        Ok(Setting {
            text: items.join(","),
            list: true,
        })
    }
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use clap::Parser;

    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("r1pick").chain(args.iter().copied())).unwrap()
    }

    fn env(vars: &[(&str, &str)]) -> Layer {
        from_env(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    fn file(text: &str) -> Layer {
        parse_file(Path::new("conf/r1pick.toml"), text).unwrap()
    }

    fn check_args(c: &Cli) -> &crate::cli::CheckArgs {
        match &c.command {
            Command::Check(a) => a,
            other => panic!("not check: {other:?}"),
        }
    }

    #[test]
    fn flags_beat_env_beat_file() -> TestResult {
        let f = file("latency = \"1s\"\ntpot = \"80ms\"\nquant = \"int4\"\ncontext = \"32k\"\n");
        let e = env(&[("R1PICK_LATENCY", "500ms"), ("R1PICK_TPOT", "60ms")]);
        let out = apply(&cli(&["check", "7b", "--tpot", "40ms"]), &e, &f)?;
        let a = check_args(&out);
        assert_eq!(a.constraints.tpot, Some(40.0), "flag");
        assert_eq!(a.constraints.latency, Some(500.0), "env");
        assert_eq!(a.deployment.quant.as_deref(), Some("int4"), "file");
        assert_eq!(
            a.deployment.context,
            Some(32_768),
            "file, through parse_tokens"
        );
        assert_eq!(a.constraints.min_speed, None, "default");
        Ok(())
    }

    #[test]
    fn the_machine_comes_from_one_layer() -> TestResult {
        let f = file("gpu = [\"l40s:2\"]\nram = \"256GiB\"\n");
        let out = apply(&cli(&["check", "7b", "--no-gpu"]), &Layer::default(), &f)?;
        let h = &check_args(&out).hardware;
        assert!(
            h.no_gpu && h.gpu.is_empty(),
            "the flag's machine, not the file's"
        );
        assert_eq!(h.ram, Some(256 << 30), "ram is its own setting");

        let e = env(&[("R1PICK_NO_GPU", "1")]);
        let out = apply(&cli(&["check", "7b"]), &e, &f)?;
        let h = &check_args(&out).hardware;
        assert!(
            h.no_gpu && h.gpu.is_empty(),
            "the environment's machine replaces the file's"
        );

        let out = apply(&cli(&["check", "7b"]), &Layer::default(), &f)?;
        assert_eq!(check_args(&out).hardware.gpu, vec!["l40s:2"]);
        Ok(())
    }

    #[test]
    fn json_and_format_flags_beat_the_environment() -> TestResult {
        let e = env(&[("R1PICK_FORMAT", "json")]);
        let out = apply(&cli(&["models"]), &e, &Layer::default())?;
        assert_eq!(out.global.format, Some(Format::Json));
        let out = apply(
            &cli(&["models", "--format", "table"]),
            &e,
            &Layer::default(),
        )?;
        assert_eq!(out.global.format, Some(Format::Table));
        let f = file("format = \"json\"");
        let out = apply(&cli(&["models"]), &Layer::default(), &f)?;
        assert_eq!(out.global.format, Some(Format::Json));
        Ok(())
    }

    #[test]
    fn a_bad_value_names_its_variable_or_line() -> TestResult {
        let e = env(&[("R1PICK_LATENCY", "fast")]);
        let err = apply(&cli(&["check", "7b"]), &e, &Layer::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "R1PICK_LATENCY: 'fast' is not a duration; write e.g. 200ms or 1.5s"
        );
        let f = file("quant = \"int4\"\n\nlatency = \"fast\"\n");
        let err = apply(&cli(&["check", "7b"]), &Layer::default(), &f).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("conf/r1pick.toml: line 3: latency: 'fast'"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn unknown_keys_and_lists_are_refused_with_their_line() -> TestResult {
        let e = parse_file(
            Path::new("r1pick.toml"),
            "quant = \"int4\"\nlatncy = \"1s\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("r1pick.toml: line 2: unknown key 'latncy'; did you mean 'latency'?"),
            "{e}"
        );
        let e = parse_file(Path::new("r1pick.toml"), "[hardware]\ngpu = \"l40s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") || e.contains("line 1"), "{e}");
        let e = parse_file(Path::new("r1pick.toml"), "latency = [\"1s\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a list"), "{e}");
        Ok(())
    }

    #[test]
    fn paths_in_the_file_are_read_from_its_folder() -> TestResult {
        let f = file("catalog = \"extra.toml\"\nhardware = \"/abs/box.toml\"\n");
        let out = apply(&cli(&["size", "7b"]), &Layer::default(), &f)?;
        assert_eq!(out.global.catalog, Some(PathBuf::from("conf/extra.toml")));
        match &out.command {
            Command::Size(a) => {
                assert_eq!(a.hardware.hardware, Some(PathBuf::from("/abs/box.toml")))
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    #[test]
    fn every_key_reaches_a_flag() -> TestResult {
        // A key nobody applies would be accepted and silently ignored.
        let valid = |key: &str| match key {
            "format" => "json",
            "gpu" => "l40s:2",
            "gpus" | "concurrency" => "2",
            "rate" => "2/s",
            "percentile" => "p99",
            "ram" => "64GiB",
            "cpu_bandwidth" => "90",
            "no_gpu" => "true",
            "context" | "prompt" | "output" => "4k",
            "latency" | "tpot" | "answer_within" => "1s",
            "min_speed" | "min_quality" | "price" | "kwh_price" => "3",
            _ => "some-name",
        };
        let before = cli(&["check", "7b"]);
        for key in KEYS {
            let var = env_var(key);
            let e = env(&[(var.as_str(), valid(key))]);
            let after = apply(&before, &e, &Layer::default())?;
            assert_ne!(format!("{before:?}"), format!("{after:?}"), "{key}");
        }
        Ok(())
    }
}
