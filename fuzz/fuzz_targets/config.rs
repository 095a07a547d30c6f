//! `r1pick.toml`: any text is loaded (and applied to a `check` command line) or refused with one
//! line; never a panic.
#![no_main]

use std::path::Path;

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use r1pick::app::config;
use r1pick::cli::Cli;

fuzz_target!(|text: &str| {
    let layer = match config::parse_file(Path::new("r1pick.toml"), text) {
        Ok(layer) => layer,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
            return;
        }
    };
    let cli = Cli::try_parse_from(["r1pick", "check", "7b"]).expect("a valid command line");
    if let Err(e) = config::apply(&cli, &config::Layer::default(), &layer) {
        assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
    }
});
