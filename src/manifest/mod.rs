//! Manifests: YAML/JSON files → typed model with positions → data-flow graph.

pub mod error;
pub mod model;
pub mod yaml;
