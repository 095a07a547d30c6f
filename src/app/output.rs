//! Writing the result and the diagnostics, with one rule for every path (README "Exit codes"):
//!
//! * stdout: a reader that goes away early (`r1pick models | head`) is a broken pipe and not an
//!   error, so exit code stays; a stdout that is full (`>/dev/full`) or otherwise fails loses the
//!   result, which is exit 3 with one line on stderr.
//! * stderr: a diagnostic that cannot be written is dropped; it never costs the result or changes
//!   the exit code. Each line goes out in one `write(2)`, so lines from runs sharing one stderr
//!   pipe never interleave (a pipe keeps writes up to `PIPE_BUF`, 4096 bytes on Linux, whole).

use std::io::{ErrorKind, Write};

/// Where the result goes.
pub struct Stdout {
    closed: bool,
}

impl Stdout {
    /// Look at descriptor 1 as the program found it; call first thing in `main`.
    pub fn open() -> Stdout {
        Stdout {
            // Rust's runtime puts `/dev/null` (read-write) in place of a closed descriptor 1
            // before `main`, exactly as `subprocess.DEVNULL` and a shell's `1<>/dev/null` open it,
            // so a closed stdout cannot be told from a script discarding the output: both count as
            // a place to write to.
            closed: false,
        }
    }

    /// Whether there is a stdout at all (`false` when descriptor 1 was closed).
    pub fn is_open(&self) -> bool {
        !self.closed
    }

    /// Write the whole result. `Err` is the line to print before exiting 3.
    pub fn write(&mut self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Ok(());
        }
        if self.closed {
            return Err(closed());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) => fault(&e),
        }
    }
}

/// What to say when stdout is closed.
pub fn closed() -> String {
    "error: cannot write output: stdout is closed".into()
}

/// A write error under the rule above: a broken pipe is fine, anything else loses the result.
pub fn fault(e: &std::io::Error) -> Result<(), String> {
    if e.kind() == ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("error: cannot write output: {e}"))
    }
}

/// One diagnostic line on stderr in a single write; a failure to write it is ignored (see above).
pub fn line_to_stderr(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

/// `note: …`, escaped so that text from NVML or a file cannot split the line or drive the terminal.
pub fn note(text: &str) {
    line_to_stderr(&format!("note: {}", crate::terminal::escape(text)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_quiet_and_a_full_disk_is_not() {
        assert_eq!(fault(&std::io::Error::from(ErrorKind::BrokenPipe)), Ok(()));
        let full = std::io::Error::from_raw_os_error(28);
        assert!(
            fault(&full)
                .unwrap_err()
                .starts_with("error: cannot write output: ")
        );
    }

    #[test]
    fn a_missing_stdout_fails_only_when_there_is_something_to_write() {
        let mut out = Stdout { closed: true };
        assert_eq!(out.write(""), Ok(()));
        assert_eq!(out.write("x\n"), Err(closed()));
    }
}
