//! One integration-test binary; each module is a topic (ripgrep's layout).

mod calibration;
mod catalog;
mod hardware;
mod perf;
mod recommend;
mod sizing;
mod util;
