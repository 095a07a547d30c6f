//! The errors r1pick reports, each tied to one documented exit code (design.md §6).

use std::fmt;

/// Exit codes are a public interface: CI jobs branch on them. Never renumber.
pub mod exit {
    /// Success; for `check`, every constraint holds.
    pub const OK: u8 = 0;
    /// A constraint is not met: `check` failed, or `recommend` found nothing that qualifies.
    pub const UNMET: u8 = 1;
    /// Bad usage or bad input: unknown names, malformed TOML, impossible values.
    pub const BAD_INPUT: u8 = 2;
    /// The environment failed where it was required (e.g. `--require-gpu` and no GPU).
    pub const ENVIRONMENT: u8 = 3;
}

/// An error a user caused or can fix, with the exit code it maps to.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad input: one line naming the bad value and the valid choices (exit 2).
    Input(String),
    /// The environment could not provide what was required (exit 3).
    Environment(String),
}

impl Error {
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => exit::BAD_INPUT,
            Error::Environment(_) => exit::ENVIRONMENT,
        }
    }
}

impl fmt::Display for Error {
    /// Always one line: control and bidi characters that came in with user input (a newline inside
    /// a GPU spec, a TOML string) are written escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Error::Input(m) | Error::Environment(m)) = self;
        // One write of the whole escaped text, not one per character.
        f.write_str(&crate::terminal::escape(m))
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// "unknown model 'x'; did you mean 'y'? valid: a, b, c" — the shape of every lookup error.
pub fn unknown(kind: &str, given: &str, valid: &[&str]) -> Error {
    let mut msg = format!("unknown {kind} '{given}'");
    if let Some(best) = closest(given, valid) {
        msg.push_str(&format!("; did you mean '{best}'?"));
    }
    msg.push_str(&format!(" (valid: {})", valid.join(", ")));
    Error::Input(msg)
}

/// The valid name nearest to `given` by edit distance, if it is plausibly a typo.
pub fn closest<'a>(given: &str, valid: &[&'a str]) -> Option<&'a str> {
    let given = given.to_lowercase();
    valid
        .iter()
        .map(|v| (edit_distance(&given, &v.to_lowercase()), *v))
        .filter(|(d, v)| *d <= (v.len().max(given.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Levenshtein distance between two strings, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_a_close_spelling() {
        assert_eq!(
            closest("q4_k_n", &["q4_k_m", "q8_0", "bf16"]),
            Some("q4_k_m")
        );
        assert_eq!(closest("banana", &["q4_k_m", "q8_0", "bf16"]), None);
    }

    #[test]
    fn messages_stay_on_one_line() {
        let e = unknown("GPU", "h\n100\u{0}", &["h100"]);
        assert_eq!(
            e.to_string(),
            "unknown GPU 'h\\n100\\u{0}'; did you mean 'h100'? (valid: h100)"
        );
    }

    #[test]
    fn unknown_lists_the_valid_choices() {
        let e = unknown("quant", "q4_k_n", &["q4_k_m", "q8_0"]);
        assert_eq!(
            e.to_string(),
            "unknown quant 'q4_k_n'; did you mean 'q4_k_m'? (valid: q4_k_m, q8_0)"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
