//! `--catalog FILE`: any text is loaded and validated, or refused with one line; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use r1pick::catalog::Catalog;

fuzz_target!(|text: &str| {
    if let Err(e) = Catalog::with_override("fuzz.toml", text) {
        assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
    }
});
