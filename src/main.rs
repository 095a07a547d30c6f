//! r1pick's binary: parse, run, print, exit with the documented code. Logic lives in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use r1pick::app;
use r1pick::cli::Cli;
use r1pick::error::exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match app::run(&cli) {
        Ok(outcome) => {
            for note in &outcome.notes {
                eprintln!("note: {note}");
            }
            if let Err(e) = std::io::stdout().write_all(outcome.stdout.as_bytes()) {
                // `r1pick models | head` closes the pipe early: not an error.
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("error: cannot write output: {e}");
                    return ExitCode::from(exit::ENVIRONMENT);
                }
            }
            ExitCode::from(outcome.exit)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Help and version print in full; usage errors print clap's first line only (the bad value and
/// what was expected) and exit 2.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    exit::BAD_INPUT
                } else {
                    exit::OK
                },
            )
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
                eprintln!("{first}");
            } else {
                eprintln!("{first} ({})", extra.join("; ").trim());
            }
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}
