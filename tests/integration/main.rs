//! One integration-test binary; each module is a topic (ripgrep's layout).

mod bad_input;
mod calibration;
mod catalog;
mod check;
mod config;
mod exit_codes;
mod extremes;
mod hardware;
#[cfg(unix)]
mod io_faults;
mod perf;
mod props;
mod recommend;
mod reliability;
mod schema;
mod sizing;
mod util;
