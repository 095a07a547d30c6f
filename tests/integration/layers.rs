//! The layering the README's Architecture section states: the pure layers never reach up into the
//! command line, the renderers or the commands.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_lower_layer_imports_cli_report_or_app() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in [
        "quantity", "catalog", "hardware", "sizing", "perf", "training", "decide",
    ] {
        sources(&src.join(layer), &mut files);
    }
    assert!(files.len() > 20, "{} files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for upper in ["crate::cli", "crate::report", "crate::app"] {
            assert!(!text.contains(upper), "{} uses {upper}", file.display());
        }
    }
}

#[test]
fn quantity_is_a_leaf() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/quantity");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        assert!(
            !text.contains("crate::"),
            "{} uses the crate",
            file.display()
        );
    }
}
