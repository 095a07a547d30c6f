//! `--hardware FILE`: any text is a simulated machine or a one-line refusal; never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use r1pick::catalog::Catalog;
use r1pick::hardware::file;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

fuzz_target!(|text: &str| {
    let result = file::parse(catalog(), "machine.toml", text)
        .and_then(|machine| machine.hardware(catalog(), None, None));
    match result {
        Ok(hw) => assert!(hw.gpu_count() <= 1024),
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
    }
});
