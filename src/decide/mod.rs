//! Decisions: constraints and how a deployment measures up against them, the candidate search and
//! its ranking, launch commands. Pure functions over the catalog, the hardware and the speed model.

pub mod constraints;
pub mod fleet;
pub mod launch;
pub mod load;
pub mod pareto;
pub mod search;
pub mod sweep;
