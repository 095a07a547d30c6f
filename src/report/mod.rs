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
pub mod probe;
pub mod recommend;

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
        Format::Table => doc.table(),
    }
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

/// A table for people: condensed borders, no terminal probing, so output is the same in a pipe,
/// a terminal or a test.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    // comfy-table is built without its `tty` feature: it never probes the terminal.
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
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
