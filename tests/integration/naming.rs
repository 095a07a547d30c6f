//! One name per GPU across a recommendation (issue 15 item 8): the headline, the alternatives,
//! the rejected table and the `--explain` trace name the machine the same way.

use crate::util::{argv, stdout};

/// The GPU cells of every table row: the cell after the engine, "1 × NVIDIA GeForce RTX 4090".
fn gpu_cells(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('│'))
        .filter_map(|l| l.split('┆').map(str::trim).find(|c| c.contains(" × ")))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_trace_tables_and_headline_name_the_gpu_alike() {
    let out = stdout(&argv("recommend --task chat --gpu rtx-4090 --explain"));
    let name = "1 × NVIDIA GeForce RTX 4090";
    assert!(
        out.starts_with(&format!("Recommended for chat on {name}:")),
        "{out}"
    );
    // the trace said "hardware: 1 × nvidia geforce rtx 4090, 48.0 gib ram (simulated)"
    assert!(
        out.contains(&format!("  - hardware: {name}, 48.0 GiB RAM (simulated)\n")),
        "{out}"
    );
    let cells = gpu_cells(&out);
    // the alternatives and the rejected rows that were sized
    assert!(cells.len() > 100, "{}", cells.len());
    assert!(cells.iter().all(|c| c == name), "{cells:?}");
}

#[test]
fn a_mixed_machine_is_named_by_each_type_in_the_trace() {
    let out = stdout(&argv(
        "recommend --task chat --gpu rtx-4090 --gpu rtx-3090 --explain",
    ));
    let both = "1 × NVIDIA GeForce RTX 4090 + 1 × NVIDIA GeForce RTX 3090";
    assert!(
        out.contains(&format!("  - hardware: {both}, 96.0 GiB RAM (simulated)\n")),
        "{out}"
    );
}
