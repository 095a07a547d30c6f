//! The unit parsers moved to [`crate::quantity`], the leaf every layer reads; this path stays so
//! code written against it keeps building.

pub use crate::quantity::parse::*;
