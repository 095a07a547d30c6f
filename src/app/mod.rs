//! The command layer: turns parsed flags into library calls and rendered output. The only place
//! (with `hardware::probe` and `main`) that touches files, the environment or the machine.

mod byo;
mod check;
pub mod config;
mod deploy;
mod emit;
mod env_names;
mod estimate;
mod finetune;
mod hardware;
mod input;
mod models;
pub mod output;
mod plan;
mod recommend;
mod request;
mod schema;
mod sweep;

pub use schema::json_schemas;

use crate::catalog::Catalog;
use crate::cli::{Cli, Command, Format};
use crate::error::{Error, Result, exit};

/// What a command produced: the text for stdout, the exit code, and notes for stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub stdout: String,
    pub exit: u8,
    pub notes: Vec<String>,
}

impl Outcome {
    pub fn ok(stdout: String) -> Self {
        Outcome {
            stdout,
            exit: exit::OK,
            notes: vec![],
        }
    }
}

/// Settings every command shares.
pub struct Context {
    pub catalog: Catalog,
    pub format: Format,
}

/// Run one command to completion; nothing is printed here, so a failure never leaves half an output.
/// `cli` holds the settings of the environment and the configuration file already
/// ([`config::parse`]).
pub fn run(cli: &Cli) -> Result<Outcome> {
    let mut ctx = context(cli)?;
    byo::register(&mut ctx.catalog, &cli.command)?;
    // Tables fit a terminal; a width the library's caller set (a test) wins over the probe.
    let width = match ctx.format {
        Format::Table => crate::report::width().or_else(terminal_width),
        Format::Json => None,
    };
    let mut outcome = crate::report::with_width(width, || dispatch(&ctx, cli))?;
    // Completion scripts and the man page are generated, not data, and need no notes.
    let generated = matches!(cli.command, Command::Completions { .. } | Command::Man);
    if !generated {
        outcome.notes.extend(env_names::check_environment());
    }
    if cli.global.quiet {
        outcome.stdout.clear();
        outcome.notes.clear();
    }
    // Tables carry names from files and NVML: no control or bidi character reaches the terminal
    // raw (JSON escapes its own).
    if ctx.format == Format::Table
        && !generated
        && let std::borrow::Cow::Owned(safe) = crate::terminal::escape_lines(&outcome.stdout)
    {
        outcome.stdout = safe;
    }
    Ok(outcome)
}

fn dispatch(ctx: &Context, cli: &Cli) -> Result<Outcome> {
    match &cli.command {
        Command::Models(a) => match &a.from {
            Some(from) => models::from_file(ctx, from),
            None => models::models(ctx),
        },
        Command::Gpus => models::gpus(ctx),
        Command::Tasks => Ok(models::tasks(ctx)),
        Command::Size(a) => estimate::size(ctx, a),
        Command::Estimate(a) => estimate::estimate(ctx, a),
        Command::Probe(a) => hardware::probe(ctx, a),
        Command::Recommend(a) => recommend::recommend(ctx, a),
        Command::Plan(a) => plan::plan(ctx, a),
        Command::Check(a) => check::check(ctx, a),
        Command::Finetune(a) => finetune::finetune(ctx, a),
        Command::Completions { shell } => Ok(completions(*shell)),
        Command::Man => man(),
    }
}

/// The width of the terminal stdout is, if it is one: `COLUMNS` when set to a number, else the
/// terminal's own size. A pipe or a file gets `None`, so what scripts read never changes.
fn terminal_width() -> Option<u16> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w > 0)
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| w.0))
}

fn context(cli: &Cli) -> Result<Context> {
    let catalog = match cli.global.catalog.as_ref() {
        Some(path) => {
            let text = read_file(path, "catalog")?;
            Catalog::with_override(&path.display().to_string(), &text)?
        }
        None => Catalog::embedded()?,
    };
    let catalog = match cli.global.prices.as_ref() {
        Some(path) => {
            let text = read_file(path, "prices")?;
            catalog.with_prices(&path.display().to_string(), &text)?
        }
        None => catalog,
    };
    // config::parse has put R1PICK_FORMAT or the file's format here when no flag gave one, and
    // never beside --json: both set means both flags were typed.
    if cli.global.json && cli.global.format == Some(Format::Table) {
        return Err(Error::input(
            "--json contradicts --format table; give one of them",
        ));
    }
    let format = if cli.global.json {
        Format::Json
    } else {
        cli.global.format.unwrap_or(Format::Table)
    };
    Ok(Context { catalog, format })
}

pub use input::{MAX_INPUT_BYTES, read_file};

fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut buf = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::settings::command(),
        "r1pick",
        &mut buf,
    );
    Outcome::ok(String::from_utf8_lossy(&buf).into_owned())
}

fn man() -> Result<Outcome> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(crate::cli::settings::command())
        .render(&mut buf)
        .map_err(|e| Error::Environment(format!("cannot render the man page: {e}")))?;
    Ok(Outcome::ok(String::from_utf8_lossy(&buf).into_owned()))
}
