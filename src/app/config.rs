//! Defaults from the environment and a configuration file, merged into the command line here and
//! nowhere else, before any command runs.
//!
//! Precedence, highest first: command-line flags, then `R1PICK_*` environment variables, then the
//! configuration file (`--config FILE`, else `$R1PICK_CONFIG`, else `./r1pick.toml` when present),
//! then built-in defaults. The settings are the flags declared with `env` (see
//! [`crate::cli::settings`]): clap reads their variables itself, and a file key is the long flag
//! name with `_` for `-` (`min_quality`). A file value is handed to clap as the flag it names, so
//! it goes through the flag's own parser and rules; a bad value, from a variable or the file, is
//! reported with where it came from (`R1PICK_LATENCY: …`, `r1pick.toml: line 3: latency: …`),
//! exit 2.
//!
//! The machine is one setting: `gpu`, `gpus`, `hardware` and `no_gpu` come together from the
//! layer with the highest precedence that names any of them, so `--no-gpu` on the command line is
//! never mixed with a `gpu` list from the file.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, FromArgMatches, ValueHint};
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::catalog::one_line_toml_error;
use crate::cli::settings::{self, env_name};
use crate::cli::{Cli, Command, HardwareArgs};
use crate::error::{Error, Result, unknown};
use crate::quantity::parse_bool;

/// The file looked for in the working directory.
pub const FILE_NAME: &str = "r1pick.toml";

/// The settings that together describe the machine.
const MACHINE: &[&str] = &["gpu", "gpus", "hardware", "no_gpu"];

/// The setting that names the file: a variable or a flag, never a key of the file itself.
const CONFIG: &str = "config";

/// Why a command line did not become a [`Cli`].
#[derive(Debug)]
pub enum ParseError {
    /// clap's own: help, version, or a bad flag typed on the command line; `main` renders it.
    Clap(clap::Error),
    /// A bad value from a variable or the file, or a file that cannot be read.
    Input(Error),
}

impl From<Error> for ParseError {
    fn from(e: Error) -> Self {
        ParseError::Input(e)
    }
}

impl From<clap::Error> for ParseError {
    fn from(e: clap::Error) -> Self {
        ParseError::Clap(e)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Value {
    items: Vec<String>,
    line: usize,
}

/// The settings of a configuration file, by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    name: String,
    values: BTreeMap<String, Value>,
}

impl Layer {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.values.keys().map(String::as_str)
    }

    /// Where `key` was set, as errors name it: the file, line and key.
    fn origin(&self, key: &str) -> String {
        let line = self.values.get(key).map_or(0, |v| v.line);
        format!("{}: line {line}: {key}", self.name)
    }
}

/// Every key a configuration file may set, in the order `--help` lists the flags.
pub fn keys() -> Vec<String> {
    settings::settings(&settings::command())
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key != CONFIG)
        .collect()
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
    let cmd = settings::command();
    let known: Vec<_> = settings::settings(&cmd)
        .into_iter()
        .filter(|(key, _)| key != CONFIG)
        .collect();
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut values = BTreeMap::new();
    for (key, spanned) in table {
        let line = text[..spanned.span().start.min(text.len())]
            .matches('\n')
            .count()
            + 1;
        let Some((_, arg)) = known.iter().find(|(k, _)| *k == key) else {
            let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
            let e = unknown("key", &key, &names);
            return Err(Error::input(format!("{name}: line {line}: {e}")));
        };
        let setting = spanned.into_inner();
        if setting.list && !matches!(arg.get_action(), ArgAction::Append) {
            return Err(Error::input(format!(
                "{name}: line {line}: {key} takes one value, not a list"
            )));
        }
        let is_path = matches!(
            arg.get_value_hint(),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
        );
        let items = if is_path {
            let within = |p: &String| folder.join(p).display().to_string();
            setting.items.iter().map(within).collect()
        } else {
            setting.items
        };
        values.insert(key, Value { items, line });
    }
    Ok(Layer { name, values })
}

/// The edge: parse the process's command line, with its `R1PICK_*` variables and configuration
/// file.
pub fn parse(argv: Vec<OsString>) -> std::result::Result<Cli, ParseError> {
    let load = |flag: Option<&Path>| -> Result<Option<(PathBuf, String)>> {
        let path = flag.map(Path::to_path_buf).or_else(|| {
            Path::new(FILE_NAME)
                .is_file()
                .then(|| PathBuf::from(FILE_NAME))
        });
        match path {
            Some(p) => super::read_file(&p, "config").map(|text| Some((p, text))),
            None => Ok(None),
        }
    };
    resolve(without_empty_variables(settings::command()), &argv, load)
}

/// An empty variable counts as unset (clap would read it as an empty value).
fn without_empty_variables(cmd: clap::Command) -> clap::Command {
    let empty = |a: &clap::Arg| {
        a.get_env()
            .and_then(std::env::var_os)
            .is_some_and(|v| v.to_string_lossy().trim().is_empty())
    };
    let unset = move |a: clap::Arg| if empty(&a) { a.env(None::<&str>) } else { a };
    cmd.mut_args(unset)
        .mut_subcommands(move |s| s.mut_args(unset))
}

/// `argv` parsed by `cmd` (whose variables clap has read), with the configuration file that
/// `load` finds (given the `--config` or `R1PICK_CONFIG` path, if any) under both. Pure but for
/// `load`.
pub fn resolve(
    cmd: clap::Command,
    argv: &[OsString],
    load: impl Fn(Option<&Path>) -> Result<Option<(PathBuf, String)>>,
) -> std::result::Result<Cli, ParseError> {
    let first = cmd
        .clone()
        .try_get_matches_from(argv)
        .map_err(|e| blame(e, argv, None))?;
    let Some((name, sub)) = first.subcommand() else {
        return Ok(Cli::from_arg_matches(&first)?);
    };
    // Completion scripts and the man page are generated, not configured: no file is read.
    if matches!(name, "completions" | "man") {
        return Ok(Cli::from_arg_matches(&first)?);
    }
    let file = match load(sub.get_one::<PathBuf>(CONFIG).map(PathBuf::as_path))? {
        Some((path, text)) => parse_file(&path, &text)?,
        None => Layer::default(),
    };
    let mut built = cmd.clone();
    built.build();
    let Some(subcmd) = built.find_subcommand(name) else {
        return Ok(Cli::from_arg_matches(&first)?);
    };
    let source = |id: &str| {
        subcmd
            .get_arguments()
            .any(|a| a.get_id() == id)
            .then(|| sub.value_source(id))
            .flatten()
    };
    let typed = |id: &str| source(id) == Some(ValueSource::CommandLine);
    let given = |id: &str| {
        matches!(
            source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    };
    let machine_typed = MACHINE.iter().any(|id| typed(id));
    let machine_given = MACHINE.iter().any(|id| given(id));
    let json = typed("json");

    // Variables this run does not take: the machine's when flags name the machine, the format
    // beside --json.
    let mut ignored: Vec<&str> = Vec::new();
    if machine_typed {
        ignored.extend(
            MACHINE
                .iter()
                .filter(|id| source(id) == Some(ValueSource::EnvVariable)),
        );
    }
    if json && source("format") == Some(ValueSource::EnvVariable) {
        ignored.push("format");
    }

    // The file's values for this command's settings that no flag or variable gave, as flags.
    let mut extra: Vec<OsString> = Vec::new();
    let mut from_file: Vec<&str> = Vec::new();
    for (key, value) in &file.values {
        let Some(arg) = subcmd
            .get_arguments()
            .find(|a| settings::key(a).as_deref() == Some(key.as_str()))
        else {
            continue; // a setting of other commands
        };
        let id = arg.get_id().as_str();
        let machine = MACHINE.contains(&id);
        if given(id) || (machine && machine_given) || (id == "format" && json) {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            let on = value
                .items
                .iter()
                .try_fold(false, |on, item| parse_bool(item).map(|b| on || b));
            let on = on.map_err(|e| Error::input(format!("{}: {e}", file.origin(key))))?;
            if on {
                extra.push(format!("--{long}").into());
            }
        } else {
            extra.extend(value.items.iter().map(|v| format!("--{long}={v}").into()));
        }
        from_file.push(key);
    }

    let cmd = ignore_variables(cmd, name, &ignored);
    // Before a `--`, after which every word is a positional value.
    let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let mut full = argv[..at].to_vec();
    full.extend(extra);
    full.extend_from_slice(&argv[at..]);
    let matches = cmd
        .try_get_matches_from(&full)
        .map_err(|e| blame(e, argv, Some(&file)))?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some(h) = hardware_mut(&mut cli.command) {
        h.gpu_origin = gpu_origin(&matches, &from_file, &file);
    }
    Ok(cli)
}

/// Where the GPU list came from when not from the flags, so an unknown GPU is blamed there.
fn gpu_origin(matches: &ArgMatches, from_file: &[&str], file: &Layer) -> Option<String> {
    if from_file.contains(&"gpu") {
        return Some(file.origin("gpu"));
    }
    let (_, sub) = matches.subcommand()?;
    sub.try_get_raw("gpu").ok()??;
    (sub.value_source("gpu") == Some(ValueSource::EnvVariable)).then(|| env_name("gpu"))
}

fn hardware_mut(command: &mut Command) -> Option<&mut HardwareArgs> {
    match command {
        Command::Size(a) => Some(&mut a.hardware),
        Command::Estimate(a) => Some(&mut a.deploy.hardware),
        Command::Recommend(a) => Some(&mut a.request.hardware),
        Command::Check(a) => Some(&mut a.request.hardware),
        Command::Plan(a) => Some(&mut a.request.hardware),
        Command::Finetune(a) => Some(&mut a.hardware),
        Command::Probe(a) => Some(&mut a.hardware),
        Command::Models(_)
        | Command::Gpus
        | Command::Tasks
        | Command::Completions { .. }
        | Command::Man => None,
    }
}

/// `cmd` with the variables of `ids` (flags of `sub`, or global) left unread.
fn ignore_variables(cmd: clap::Command, sub: &str, ids: &[&str]) -> clap::Command {
    ids.iter().fold(cmd, |cmd, id| {
        let unset = |a: clap::Arg| a.env(None::<&str>);
        if cmd.get_arguments().any(|a| a.get_id() == *id) {
            cmd.mut_arg(id, unset)
        } else {
            // (`mut_subcommand` would move the command last)
            cmd.mut_subcommands(|s| {
                if s.get_name() == sub {
                    s.mut_arg(id, unset)
                } else {
                    s
                }
            })
        }
    })
}

/// A bad value clap found in a variable or the file, named by where it came from; anything else
/// (a typed flag among them) stays clap's error.
fn blame(e: clap::Error, argv: &[OsString], file: Option<&Layer>) -> ParseError {
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return ParseError::Clap(e);
    }
    let (Some(ContextValue::String(flag)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return ParseError::Clap(e);
    };
    let Some(long) = flag
        .split([' ', '='])
        .next()
        .and_then(|f| f.strip_prefix("--"))
    else {
        return ParseError::Clap(e);
    };
    let typed = argv
        .iter()
        .filter_map(|a| a.to_str())
        .any(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")));
    if typed {
        return ParseError::Clap(e);
    }
    let key = long.replace('-', "_");
    let why = match (e.kind(), e.get(ContextKind::ValidValue)) {
        (ErrorKind::InvalidValue, Some(ContextValue::Strings(valid))) => {
            format!("'{value}' is not a {key} (valid: {})", valid.join(", "))
        }
        _ => match e.source() {
            Some(source) => source.to_string(),
            None => format!("'{value}' is not valid"),
        },
    };
    let origin = match file {
        Some(file) if file.values.contains_key(&key) => file.origin(&key),
        _ => env_name(&key),
    };
    ParseError::Input(Error::input(format!("{origin}: {why}")))
}

/// One file value: a string, number or switch, or (for `gpu`) a list of strings.
struct Setting {
    items: Vec<String>,
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
        Ok(Setting {
            items: vec![text],
            list: false,
        })
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
        Ok(Setting { items, list: true })
    }
}

#[cfg(test)]
mod tests {
    //! The file layer, through [`resolve`] with the file given here; the variables are clap's and
    //! are tested through the binary (tests/integration/config.rs).

    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use crate::cli::CheckArgs;
    use crate::sizing::KvDtype;

    const PATH: &str = "conf/r1pick.toml";

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("r1pick")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// `args` with `text` as the configuration file.
    fn with_file(args: &[&str], text: &str) -> std::result::Result<Cli, ParseError> {
        let load = |_: Option<&Path>| Ok(Some((PathBuf::from(PATH), text.to_string())));
        resolve(settings::command(), &argv(args), load)
    }

    fn message(r: std::result::Result<Cli, ParseError>) -> String {
        match r {
            Ok(cli) => format!("parsed: {cli:?}"),
            Err(ParseError::Input(e)) => e.to_string(),
            Err(ParseError::Clap(e)) => format!("clap: {e}"),
        }
    }

    fn check_args(c: &Cli) -> &CheckArgs {
        match &c.command {
            Command::Check(a) => a,
            other => panic!("not check: {other:?}"),
        }
    }

    #[test]
    fn flags_beat_the_file() -> TestResult {
        let f = "latency = \"1s\"\ntpot = \"80ms\"\nquant = \"int4\"\ncontext = \"32k\"\n";
        let out = with_file(&["check", "7b", "--tpot", "40ms"], f).map_err(|e| message(Err(e)))?;
        let a = check_args(&out);
        assert_eq!(a.request.constraints.tpot, Some(40.0), "flag");
        assert_eq!(a.request.constraints.latency, Some(1000.0), "file");
        assert_eq!(a.request.deployment.quant.as_deref(), Some("int4"), "file");
        assert_eq!(
            a.request.deployment.context,
            Some(32_768),
            "file, through --context's parser"
        );
        assert_eq!(a.request.constraints.min_speed, None, "default");
        Ok(())
    }

    #[test]
    fn the_machine_comes_from_one_layer() -> TestResult {
        let f = "gpu = [\"l40s:2\"]\nram = \"256GiB\"\n";
        let out = with_file(&["check", "7b", "--no-gpu"], f).map_err(|e| message(Err(e)))?;
        let h = &check_args(&out).request.hardware;
        assert!(
            h.no_gpu && h.gpu.is_empty(),
            "the flag's machine, not the file's"
        );
        assert_eq!(h.ram, Some(256 << 30), "ram is its own setting");

        let out = with_file(&["check", "7b"], f).map_err(|e| message(Err(e)))?;
        let h = &check_args(&out).request.hardware;
        assert_eq!(h.gpu, vec!["l40s:2"]);
        assert_eq!(
            h.gpu_origin.as_deref(),
            Some("conf/r1pick.toml: line 1: gpu")
        );

        let out = with_file(
            &["check", "7b"],
            "gpu = \"l40s,h100-sxm:2\"\nno_gpu = false\n",
        )
        .map_err(|e| message(Err(e)))?;
        let h = &check_args(&out).request.hardware;
        assert_eq!(h.gpu, vec!["l40s", "h100-sxm:2"], "commas separate specs");
        assert!(!h.no_gpu);
        Ok(())
    }

    #[test]
    fn json_beats_the_files_format() -> TestResult {
        let f = "format = \"table\"";
        let out = with_file(&["models", "--json"], f).map_err(|e| message(Err(e)))?;
        assert_eq!(out.global.format, None);
        let out = with_file(&["models"], "format = \"json\"").map_err(|e| message(Err(e)))?;
        assert_eq!(out.global.format, Some(crate::cli::Format::Json));
        Ok(())
    }

    #[test]
    fn a_bad_value_names_its_line_and_key() {
        let f = "quant = \"int4\"\n\nlatency = \"fast\"\n";
        assert_eq!(
            message(with_file(&["check", "7b"], f)),
            "conf/r1pick.toml: line 3: latency: 'fast' is not a duration; write e.g. 200ms or 1.5s"
        );
        assert_eq!(
            message(with_file(&["check", "7b"], "no_gpu = \"maybe\"")),
            "conf/r1pick.toml: line 1: no_gpu: 'maybe' is not a switch (true/false, 1/0, yes/no, on/off)"
        );
        assert_eq!(
            message(with_file(&["size", "7b"], "kv_dtype = \"fp4\"")),
            "conf/r1pick.toml: line 1: kv_dtype: 'fp4' is not a kv_dtype \
             (valid: bf16, fp16, fp8, q8_0, q4_0)"
        );
        // a typed flag's bad value stays clap's error, whatever the file says
        let typed = message(with_file(
            &["check", "7b", "--latency", "slow"],
            "latency = \"1s\"",
        ));
        assert!(typed.starts_with("clap: "), "{typed}");
    }

    #[test]
    fn a_key_the_flag_list_gained_reaches_its_flag() -> TestResult {
        // `kv_dtype`, `tp`, `prefer`, `headroom` were flags without a configuration key.
        let out = with_file(&["check", "7b"], "kv_dtype = \"fp8\"\ntp = 2\n")
            .map_err(|e| message(Err(e)))?;
        let d = &check_args(&out).request.deployment;
        assert_eq!((d.kv_dtype, d.tp), (Some(KvDtype::Fp8), Some(2)));
        let out = with_file(
            &["plan", "--rate", "2/s"],
            "headroom = 0.5\nprefer = \"cost\"\n",
        )
        .map_err(|e| message(Err(e)))?;
        match &out.command {
            Command::Plan(a) => assert_eq!(a.fleet.headroom, Some(0.5)),
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    #[test]
    fn a_key_of_another_command_is_left_alone() -> TestResult {
        // `headroom` is plan's; `check` neither reads nor parses it.
        let out = with_file(&["check", "7b"], "headroom = \"much\"\nquant = \"int4\"\n")
            .map_err(|e| message(Err(e)))?;
        assert_eq!(
            check_args(&out).request.deployment.quant.as_deref(),
            Some("int4")
        );
        Ok(())
    }

    #[test]
    fn unknown_keys_and_lists_are_refused_with_their_line() {
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
        // the file names no other file, and no flag that is not a setting
        for key in ["config", "explain", "quiet"] {
            let e = parse_file(Path::new("r1pick.toml"), &format!("{key} = \"x\""))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("r1pick.toml: line 1: unknown key '{key}'")),
                "{e}"
            );
        }
        let e = parse_file(Path::new("r1pick.toml"), "[hardware]\ngpu = \"l40s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") || e.contains("line 1"), "{e}");
        let e = parse_file(Path::new("r1pick.toml"), "latency = [\"1s\"]")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "r1pick.toml: line 1: latency takes one value, not a list"
        );
    }

    #[test]
    fn paths_in_the_file_are_read_from_its_folder() -> TestResult {
        let f = "catalog = \"extra.toml\"\nhardware = \"/abs/box.toml\"\n";
        let out = with_file(&["size", "7b"], f).map_err(|e| message(Err(e)))?;
        assert_eq!(out.global.catalog, Some(PathBuf::from("conf/extra.toml")));
        match &out.command {
            Command::Size(a) => {
                assert_eq!(a.hardware.hardware, Some(PathBuf::from("/abs/box.toml")))
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    /// A value each kind of setting accepts, by the flag's value name (or its choices).
    fn sample(arg: &clap::Arg) -> String {
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            return "true".into();
        }
        if let Some(first) = arg.get_possible_values().first() {
            return first.get_name().into();
        }
        let name = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        match name.as_str() {
            "SPEC" => "l40s:2",
            "N" => "2",
            "SIZE" => "64GiB",
            "GB/S" | "USD" | "TOK/S" | "SCORE" => "3",
            "FILE" => "some.toml",
            "TOKENS" => "4k",
            "RATE" => "2/s",
            "P" => "p99",
            "DURATION" => "1s",
            "BUDGET" => "3/h",
            "U" => "0.5",
            _ => "some-name",
        }
        .into()
    }

    #[test]
    fn every_key_reaches_its_flag_in_every_command_that_has_it() -> TestResult {
        // A key nobody applies would be accepted and silently ignored.
        let cmd = settings::command();
        let runs: [&[&str]; 6] = [
            &["size", "7b"],
            &["estimate", "7b"],
            &["recommend"],
            &["plan"],
            &["check", "7b"],
            &["finetune", "7b"],
        ];
        let mut reached = 0;
        for run in runs {
            let Some(sub) = cmd.find_subcommand(run[0]) else {
                panic!("{}", run[0]);
            };
            let before = with_file(run, "").map_err(|e| message(Err(e)))?;
            let args = sub.get_arguments().chain(cmd.get_arguments());
            for arg in args.filter(|a| settings::key(a).is_some_and(|k| k != CONFIG)) {
                let key = settings::key(arg).unwrap_or_default();
                let text = format!("{key} = {:?}\n", sample(arg));
                let after =
                    with_file(run, &text).map_err(|e| format!("{text}: {}", message(Err(e))))?;
                assert_ne!(
                    format!("{before:?}"),
                    format!("{after:?}"),
                    "{run:?}: {key}"
                );
                reached += 1;
            }
        }
        assert!(reached > 100, "{reached}");
        Ok(())
    }
}
