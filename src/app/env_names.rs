//! `R1PICK_*` variables r1pick does not read. An unknown key in the configuration file is an error;
//! a variable cannot be one (other programs may share the prefix), but a mistyped one
//! (`R1PICK_LATNCY`) silently changing nothing is worse than a note that names the nearest setting.

use crate::cli::settings::{command, env_name, settings};

/// Variables read outside the settings (the flags declared with `env`).
const OTHER_VARS: &[&str] = &[
    "R1PICK_NVML_LIB",
    "R1PICK_NVML_SNAPSHOT",
    "R1PICK_WRITE_SCHEMA",
];

/// One note per unknown `R1PICK_*` name among `names`, with the nearest known variable. Pure.
pub fn unknown_vars<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let known: Vec<String> = settings(&command())
        .iter()
        .map(|(key, _)| env_name(key))
        .chain(OTHER_VARS.iter().map(|v| v.to_string()))
        .collect();
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut notes: Vec<String> = names
        .filter(|n| n.starts_with("R1PICK_") && !refs.contains(n))
        .map(|n| {
            let hint = crate::error::closest(n, &refs)
                .map(|best| format!("; did you mean {best}?"))
                .unwrap_or_default();
            format!("{n} is not a variable r1pick reads{hint}")
        })
        .collect();
    notes.sort();
    notes
}

/// The notes for this process's environment.
pub fn check_environment() -> Vec<String> {
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    unknown_vars(names.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_variable_names_the_nearest() {
        let notes = unknown_vars(
            ["R1PICK_LATNCY", "R1PICK_LATENCY", "PATH", "R1PICK_NVML_LIB"].into_iter(),
        );
        assert_eq!(
            notes,
            ["R1PICK_LATNCY is not a variable r1pick reads; did you mean R1PICK_LATENCY?"]
        );
    }
}
