//! Text that reaches a terminal: control characters and bidirectional overrides from files, NVML or
//! the command line are written escaped (`\n`, `\u{1b}`, `\u{202e}`), so a name can neither split
//! a line nor move the cursor, recolour the screen or reverse what follows it.

use std::borrow::Cow;

/// Whether `c` would act on the terminal instead of being shown: C0/C1 controls, and the Unicode
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) that reorder
/// the rest of a line ("Trojan Source").
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One line: every unsafe character escaped, newlines included.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// Many lines (a rendered table): unsafe characters escaped except the `\n` between lines.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

fn escape_with(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(
            escape("a\nb\u{1b}[31mc\u{202e}d\te"),
            "a\\nb\\u{1b}[31mc\\u{202e}d\\te"
        );
        assert_eq!(escape_lines("a\u{1b}\nb\r"), "a\\u{1b}\nb\\r");
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "H100 · 80 GiB — ok";
        assert!(matches!(escape(s), Cow::Borrowed(x) if x == s));
    }
}
