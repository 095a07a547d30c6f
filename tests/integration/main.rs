//! One integration-test binary; each module is a topic (ripgrep's layout).

mod bad_input;
mod calibration;
mod catalog;
mod check;
mod config;
mod exit_codes;
mod gates;
mod golden;
mod hardware;
mod layers;
mod memory;
mod perf;
mod props;
mod recommend;
mod schema;
mod serving;
mod sizing;
mod snapshots;
mod util;
