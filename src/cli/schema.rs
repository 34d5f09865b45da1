//! `lexflow schema`: prints the JSON Schema of the manifest format (draft 2020-12), made
//! from the loader's field tables and the vocabulary of the loaded policies, for editors:
//!
//! ```sh
//! lexflow schema > lexflow.schema.json
//! ```
//!
//! and, at the top of a manifest, `# yaml-language-server: $schema=lexflow.schema.json`.

use std::io::Write;

use super::{load_policies, InputError, PolicyArgs};
use crate::manifest::schema::manifest_schema;

pub fn run(args: &PolicyArgs) -> Result<i32, InputError> {
    let program = load_policies(args)?;
    let schema = manifest_schema(&program.vocab);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    let mut out = std::io::stdout().lock();
    // A closed pipe (`lexflow schema | head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(0)
}
