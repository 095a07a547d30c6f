//! Reading the files a user names (`--config`, `--catalog`, `--hardware`, `R1PICK_NVML_SNAPSHOT`):
//! regular files only, and at most [`MAX_INPUT_BYTES`], so a FIFO cannot hang r1pick and
//! `/dev/zero` cannot fill its memory. Every refusal is one line that names the file (exit 2).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest file r1pick reads: 4 MiB. The largest embedded data file (data/calibration.toml) is
/// 119 KB and an NVML snapshot of the 1024-GPU limit about 1 MB, so no real input comes near it.
pub const MAX_INPUT_BYTES: u64 = 4 << 20;

/// Read a user file as UTF-8 text, turning every fault into one line that names the file.
pub fn read_file(path: &Path, what: &str) -> Result<String> {
    let fail = |why: String| {
        Error::input(format!(
            "cannot read {what} file '{}': {why}",
            path.display()
        ))
    };
    // Check before opening: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    regular(&meta).map_err(fail)?;
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    // The path may have been replaced between the two looks; the open file is what counts.
    regular(&file.metadata().map_err(|e| fail(e.to_string()))?).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(fail(format!(
            "larger than the {} MiB limit",
            MAX_INPUT_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| fail("stream did not contain valid UTF-8".into()))
}

/// `Ok` for a regular file; otherwise what it is instead.
pub fn regular(meta: &std::fs::Metadata) -> std::result::Result<(), String> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let kind = if t.is_dir() {
        "a directory"
    } else {
        special_kind(&t)
    };
    Err(format!("not a regular file ({kind})"))
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_refused_by_name() {
        let e = read_file(Path::new("."), "catalog").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read catalog file '.': not a regular file (a directory)"
        );
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_without_reading() {
        let e = read_file(Path::new("/dev/zero"), "config").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read config file '/dev/zero': not a regular file (a character device)"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; (MAX_INPUT_BYTES + 1) as usize]).unwrap();
        let e = read_file(&path, "hardware").unwrap_err().to_string();
        assert!(e.ends_with("big.toml': larger than the 4 MiB limit"), "{e}");
        std::fs::write(&path, vec![b'#'; MAX_INPUT_BYTES as usize]).unwrap();
        assert_eq!(
            read_file(&path, "hardware").unwrap().len() as u64,
            MAX_INPUT_BYTES
        );
    }
}
