//! The embedded catalog as JSON: `data/*.toml` keep their comments (every constant's source) and
//! stay what users read and override, but parsing ~180 KB of TOML was most of a short command
//! (`estimate 7b`: 17 M of its 24 M instructions). Converted here once, the binary reads the same values
//! with serde_json, several times faster. A file that does not parse fails the build.

use std::path::Path;

/// The catalog files `catalog::Catalog::embedded` reads, and the price table.
const FILES: [&str; 6] = ["models", "quants", "engines", "gpus", "tasks", "prices"];

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in FILES {
        let source = format!("data/{name}.toml");
        println!("cargo::rerun-if-changed={source}");
        let text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let value: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
        let json = serde_json::to_string(&value).unwrap_or_else(|e| panic!("{source}: {e}"));
        std::fs::write(Path::new(&out).join(format!("{name}.json")), json)
            .unwrap_or_else(|e| panic!("{out}/{name}.json: {e}"));
    }
}
