//! One integration-test binary; each module is a topic (ripgrep's layout).

mod bad_input;
mod byo;
mod byo_gguf;
mod byo_hf;
mod calibration;
mod catalog;
mod check;
mod config;
mod emit;
mod exit_codes;
mod extremes;
mod finetune;
mod fleet;
mod gates;
#[path = "../common/gguf_writer.rs"]
mod gguf_writer;
mod golden;
mod gpus;
mod hardware;
#[cfg(unix)]
mod io_faults;
mod kv_logs;
mod launch;
mod layers;
mod load;
mod memory;
mod moe;
mod naming;
mod nodes;
mod perf;
mod props;
mod readme;
mod recommend;
mod reliability;
mod rounding;
mod schema;
mod serving;
mod sizing;
mod snapshots;
mod sweep;
mod util;
mod ux;
