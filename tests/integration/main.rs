//! One integration-test binary; each module is a topic (ripgrep's layout).

mod bad_input;
mod calibration;
mod catalog;
mod check;
mod config;
mod exit_codes;
mod golden;
mod gpus;
mod hardware;
mod layers;
mod perf;
mod props;
mod recommend;
mod schema;
mod sizing;
mod snapshots;
mod util;
