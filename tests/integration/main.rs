//! One integration-test binary; each module is a topic (ripgrep's layout).

mod catalog;
mod schema;
mod sizing;
mod util;
