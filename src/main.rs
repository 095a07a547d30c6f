//! r1pick's binary: parse, run, print, exit with the documented code. Logic lives in the library.

use std::process::ExitCode;

use r1pick::app;
use r1pick::app::config::{self, ParseError};
use r1pick::app::output::{self, Stdout, line_to_stderr};
use r1pick::error::exit;

/// mimalloc: a `plan --cloud` allocates and frees hundreds of thousands of small blocks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before anything can open a file onto descriptor 1.
    let mut stdout = Stdout::open();
    // Flags, then R1PICK_* variables, then the configuration file.
    let cli = match config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(ParseError::Clap(e)) => return clap_error(e, &stdout),
        Err(ParseError::Input(e)) => {
            line_to_stderr(&format!("error: {e}"));
            return ExitCode::from(e.exit_code());
        }
    };
    match app::run(&cli) {
        Ok(outcome) => {
            for note in &outcome.notes {
                output::note(note);
            }
            match stdout.write(&outcome.stdout) {
                Ok(()) => ExitCode::from(outcome.exit),
                Err(line) => {
                    line_to_stderr(&line);
                    ExitCode::from(exit::ENVIRONMENT)
                }
            }
        }
        Err(e) => {
            line_to_stderr(&format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Help and version print in full (clap chooses colours as it does for any program, following
/// `NO_COLOR`); usage errors print clap's first line only (the bad value and what was expected)
/// and exit 2.
fn clap_error(e: clap::Error, stdout: &Stdout) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let code = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            // Help for a missing subcommand goes to stderr, like clap's; the rest to stdout,
            // under the same rule as every result.
            let written = if e.use_stderr() {
                let _ = e.print();
                Ok(())
            } else if !stdout.is_open() {
                Err(output::closed())
            } else {
                e.print().or_else(|err| output::fault(&err))
            };
            match written {
                Ok(()) => ExitCode::from(code),
                Err(line) => {
                    line_to_stderr(&line);
                    ExitCode::from(exit::ENVIRONMENT)
                }
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
            let first = lines.next().unwrap_or("error: invalid arguments");
            // clap puts the possible values / tip on the following lines, and the missing
            // arguments indented before "Usage:"; keep those on the one line.
            let missing = e.kind() == ErrorKind::MissingRequiredArgument;
            let extra: Vec<&str> = lines
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| {
                    l.contains("possible values")
                        || l.contains("similar")
                        || (missing && l.starts_with(' '))
                })
                .map(str::trim)
                .collect();
            if extra.is_empty() {
                line_to_stderr(first);
            } else {
                line_to_stderr(&format!("{first} ({})", extra.join("; ").trim()));
            }
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}
