//! lexflow: policy-as-code compliance for smart-city data flows.
//!
//! The pipeline, one module a stage, talking through plain data:
//! `lang` (rule files → checked IR) → `manifest` (YAML/JSON → typed model → graph) →
//! `engine` (IR over the graph → findings) → `report` (human, JSON, SARIF, ...) → `cli`.

// No panics in library code: every failure is a diagnostic or a finding (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cli;
pub mod date;
pub mod findings;
pub mod source;
pub mod vocab;

pub mod engine;
pub mod gen;
pub mod lang;
pub mod lsp;
pub mod manifest;
pub mod records;
pub mod report;
