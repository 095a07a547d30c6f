//! GGUF headers: any bytes are read (header and model) or refused with one line; never a panic,
//! never an allocation past the reader's stated bound.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use r1pick::catalog::import::{from_gguf, gguf};

fuzz_target!(|data: &[u8]| {
    match gguf::read(Cursor::new(data), &gguf::Limits::default()) {
        Ok(header) => {
            if let Err(e) = from_gguf::read(&[header]) {
                assert!(!e.contains('\n'), "multi-line error: {e}");
            }
        }
        Err(e) => assert!(!e.contains('\n'), "multi-line error: {e}"),
    }
});
