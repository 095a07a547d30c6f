//! Decisions: which deployments meet which constraints.

pub mod constraints;
