//! r1pick: which DeepSeek-R1 variant to run, how, and on what.
//!
//! The flow follows the folders: catalog → hardware → sizing / perf → decide → report.
//! Everything but `hardware::probe` and the command layer (`app`) is a pure function of its inputs.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod decide;
pub mod error;
pub mod hardware;
pub mod perf;
pub mod quantity;
pub mod report;
pub mod serving;
pub mod sizing;
pub mod terminal;
pub mod training;
