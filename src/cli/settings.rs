//! Which flags are settings, read from clap's own definitions: a flag declared with
//! `env = "R1PICK_…"` is also read from that variable (clap's `env` feature, which prints the
//! `[env: …]` hint in `--help`) and from the configuration file under its long name with `_` for
//! `-`. That attribute is the only list; a new flag becomes a setting by carrying it.

use clap::{Arg, ArgAction, Command, CommandFactory};

/// What every setting's variable starts with.
pub const ENV_PREFIX: &str = "R1PICK_";

/// The command line as it is parsed, documented and completed.
pub fn command() -> Command {
    super::Cli::command()
        .mut_args(setting)
        .mut_subcommands(|sub| match sub.get_name() {
            // `probe` shows this machine: a machine from the environment or a configuration
            // never replaces it (its own flags do, when typed).
            "probe" => sub.mut_args(|a| a.env(None::<&str>)),
            _ => sub.mut_args(setting),
        })
}

/// A setting's variable shows its name, never its value: help stays the same whatever is set, and
/// a price or path in the environment is not printed. A switch reads `1`, `yes`, `on` as well as
/// `true` from its variable, as the configuration file does.
fn setting(arg: Arg) -> Arg {
    if arg.get_env().is_none() {
        return arg;
    }
    let arg = arg.hide_env_values(true);
    match arg.get_action() {
        ArgAction::SetTrue => arg.value_parser(crate::quantity::parse_bool),
        _ => arg,
    }
}

/// The configuration key of a setting: its long name with `_` for `-` (`min_quality`).
pub fn key(arg: &Arg) -> Option<String> {
    arg.get_env()?;
    Some(arg.get_long()?.replace('-', "_"))
}

/// The variable of a key: `min_quality` → `R1PICK_MIN_QUALITY`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// Every setting of the command line, once per key, in the order `--help` lists them (the global
/// flags, then each command's).
pub fn settings(cmd: &Command) -> Vec<(String, &Arg)> {
    let mut seen: Vec<(String, &Arg)> = Vec::new();
    let args = cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(Command::get_arguments));
    for arg in args {
        if let Some(key) = key(arg)
            && !seen.iter().any(|(k, _)| *k == key)
        {
            seen.push((key, arg));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_the_prefix_and_the_key_in_capitals() {
        let cmd = command();
        let all = cmd
            .get_arguments()
            .chain(cmd.get_subcommands().flat_map(Command::get_arguments));
        let mut count = 0;
        for arg in all {
            if let (Some(key), Some(var)) = (key(arg), arg.get_env()) {
                assert_eq!(var.to_str(), Some(env_name(&key).as_str()), "--{key}");
                count += 1;
            }
        }
        assert!(count >= 30, "{count} settings");
    }

    #[test]
    fn one_key_means_one_kind_of_value_in_every_command() {
        // `--task` is a setting of estimate and of the constraints: the same key must not switch
        // between a list and a single value or a switch.
        let cmd = command();
        for (key, first) in settings(&cmd) {
            for sub in cmd.get_subcommands() {
                for arg in sub.get_arguments() {
                    if super::key(arg).as_deref() == Some(key.as_str()) {
                        assert_eq!(
                            format!("{:?}", arg.get_action()),
                            format!("{:?}", first.get_action()),
                            "{key} in {}",
                            sub.get_name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn probe_reads_no_machine_from_the_environment() {
        let cmd = command();
        let probe = cmd
            .find_subcommand("probe")
            .map(|p| p.get_arguments().filter(|a| a.get_env().is_some()).count());
        assert_eq!(probe, Some(0));
    }
}
