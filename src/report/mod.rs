//! Renderers: tables for people, JSON for scripts. The commands in `app/` return one of the
//! documents here; [`render`] turns it into the chosen format, so a new format is one function
//! here, not an arm in every command. The JSON types are the public contract of design.md §5 —
//! rename nothing without bumping the schema version.

pub mod check;
pub mod deployment;
pub mod estimate;
pub mod finetune;
pub mod manifest;
pub mod models;
pub mod plan;
pub mod plot;
pub mod probe;
pub mod recommend;
pub mod sweep;
pub mod tasks;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use serde::Serialize;

use crate::cli::Format;

/// The display of quantities renderers use; defined once in [`crate::quantity`].
pub use crate::quantity::{bytes as gib, duration_ms, params};

/// A document a command returns: JSON from its serialized fields, a table from [`Render::table`].
pub trait Render: Serialize {
    /// The document for people.
    fn table(&self) -> String;
}

/// The document in the format asked for.
pub fn render<D: Render>(doc: &D, format: Format) -> String {
    match format {
        Format::Json => to_json(doc),
        Format::Table => match width() {
            Some(w) => fit_prose(&doc.table(), usize::from(w)),
            None => doc.table(),
        },
    }
}

/// Lines of prose wider than `width` wrapped at spaces, continuing two columns in. Tables fit
/// already (comfy-table); a launch command stays one line so that it can be copied whole.
pub fn fit_prose(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if body.chars().count() <= width || body.trim_start().starts_with("launch: ") {
            out.push_str(line);
            continue;
        }
        let lead = body.len() - body.trim_start().len();
        let indent = " ".repeat(lead + 2);
        let mut current = body[..lead].to_string();
        let mut at_start = true;
        for word in body[lead..].split(' ') {
            let len = current.chars().count();
            if !at_start && len + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current = format!("{indent}{word}");
            } else {
                if !at_start {
                    current.push(' ');
                }
                current.push_str(word);
            }
            at_start = false;
        }
        out.push_str(&current);
        out.push_str(end);
    }
    out
}

/// Every JSON document names its kind and version: `r1pick.<kind>/v1`.
pub fn schema(kind: &str) -> String {
    format!("r1pick.{kind}/v1")
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of numbers and strings cannot fail.
    let mut s = serde_json::to_string_pretty(value).expect("report types serialize");
    s.push('\n');
    s
}

thread_local! {
    /// The terminal width tables fit, when stdout is a terminal (set by [`with_width`]).
    static WIDTH: std::cell::Cell<Option<u16>> = const { std::cell::Cell::new(None) };
}

/// Run `f` with tables fitted to `width` columns (`None`: as wide as their content, as in a pipe).
/// The caller (`app`) reads the terminal; renderers stay free of I/O.
pub fn with_width<T>(width: Option<u16>, f: impl FnOnce() -> T) -> T {
    let before = WIDTH.replace(width);
    let out = f();
    WIDTH.set(before);
    out
}

/// The width tables fit now, if any.
pub fn width() -> Option<u16> {
    WIDTH.get()
}

/// A table for people: condensed borders; as wide as its content, unless [`with_width`] gives a
/// terminal's width, which it then fits by wrapping cells. It never probes the terminal itself.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    // comfy-table is built without its `tty` feature: it never probes the terminal.
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    match width() {
        Some(w) => t
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w),
        None => t.set_content_arrangement(ContentArrangement::Disabled),
    };
    t
}

/// Right-align the given columns (numbers).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_prose_wraps_at_spaces_and_keeps_its_indent() {
        let text = "  quality 61.1 · memory 9.6 GiB · TTFT 226 ms\n  launch: vllm serve a b c d e f\nshort\n";
        assert_eq!(
            fit_prose(text, 24),
            "  quality 61.1 · memory\n    9.6 GiB · TTFT 226\n    ms\n  launch: vllm serve a b c d e f\nshort\n"
        );
    }
}
