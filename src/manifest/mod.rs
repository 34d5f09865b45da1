//! Manifests: YAML/JSON files → typed model with positions → data-flow graph.
//!
//! Entry points: [`load_paths`] (files and folders) and [`load_sources`] (texts), both
//! giving a [`ManifestSet`](model::ManifestSet) and a [`LoadReport`], or [`LoadErrors`]
//! (every problem of the run, each a miette diagnostic).

pub mod error;
pub mod fields;
pub mod graph;
pub mod json;
pub mod load;
pub mod model;
pub mod schema;
pub mod testing;
pub mod yaml;

pub use error::{LoadError, LoadErrorKind, LoadErrors, NamedLoadError};
pub use graph::FlowGraph;
pub use load::{load_paths, load_paths_sized, load_sources, LoadReport, MAX_FILE_BYTES};
