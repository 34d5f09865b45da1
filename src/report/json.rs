//! `--format json`: the one object of SPEC §3, validated by `findings.schema.json`.

use std::io::Write;

use serde::Serialize;

use crate::findings::{CheckResult, Finding, Problem, Summary};

#[derive(Serialize)]
struct Document<'a> {
    lexflow: u32,
    findings: &'a [Finding],
    problems: &'a [Problem],
    summary: &'a Summary,
}

/// Streams the JSON report of [`render_json`] into `out`.
pub fn write_json(result: &CheckResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let findings = super::sorted_findings(result);
    let problems = super::sorted_problems(result);
    let document = Document {
        lexflow: 1,
        findings: &findings,
        problems: &problems,
        summary: &result.summary,
    };
    // serde_json writes in small pieces (quotes, keys, indentation): a concrete buffer here
    // keeps those calls inlined instead of going through `dyn Write` one by one.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, &document).map_err(std::io::Error::other)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// The JSON report: pretty-printed, keys in a fixed order, findings sorted as SPEC §3 says,
/// ending with a newline. Strings are JSON-escaped (control characters as `\u001b`), so
/// manifest text cannot break the document.
pub fn render_json(result: &CheckResult) -> Result<String, super::RenderError> {
    let mut out = Vec::new();
    write_json(result, &mut out).map_err(super::RenderError::json)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(super::RenderError::json)
}
