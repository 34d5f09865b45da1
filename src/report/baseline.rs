//! Baselines (SPEC §4): record today's findings, report only new ones later.
//!
//! A baseline file is JSON, sorted by fingerprint, with the rule and subject beside each
//! fingerprint so that a reviewer can read it; no line numbers, no timestamps, so it only
//! changes when the findings do:
//!
//! ```json
//! {
//!   "lexflow_baseline": 1,
//!   "findings": [
//!     {"fingerprint": "0c1f...", "rule": "PIPL-39", "subject": "flow:analytics-to-backup"}
//!   ]
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::findings::{CheckResult, Finding};

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    lexflow_baseline: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    subject: String,
    /// The witness path (system ids), when the finding has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    path: Vec<String>,
}

/// A baseline file that cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BaselineError {
    #[error("the baseline is not valid JSON: {message} (line {line}, column {column})")]
    #[diagnostic(
        code(lexflow::baseline),
        help("write a baseline with `lexflow check --write-baseline FILE`")
    )]
    Syntax {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("unsupported baseline version {0}")]
    #[diagnostic(
        code(lexflow::baseline),
        help("this lexflow reads baselines of version 1; write a new one with --write-baseline")
    )]
    Version(u32),
}

/// The baseline of a result: every finding's fingerprint (open or waived), deduplicated and
/// sorted, pretty-printed JSON ending with a newline.
pub fn write_baseline(result: &CheckResult) -> Result<String, super::RenderError> {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for finding in super::sorted_findings(result).iter() {
        entries
            .entry(finding.fingerprint.clone())
            .or_insert_with(|| Entry {
                fingerprint: finding.fingerprint.clone(),
                rule: finding.rule.to_string(),
                subject: format!("{}:{}", finding.subject.kind, finding.subject.id),
                path: finding.path.clone(),
            });
    }
    let file = BaselineFile {
        lexflow_baseline: 1,
        findings: entries.into_values().collect(),
    };
    let mut out = serde_json::to_string_pretty(&file).map_err(|e| super::RenderError {
        format: "baseline",
        message: e.to_string(),
    })?;
    out.push('\n');
    Ok(out)
}

/// Drops the findings whose fingerprint is in the baseline, adds their number to
/// `summary.baselined` and recounts. Returns how many were dropped.
pub fn apply_baseline(
    result: &mut CheckResult,
    baseline_text: &str,
) -> Result<usize, BaselineError> {
    let baseline = Baseline::parse(baseline_text)?;
    let before = result.findings.len();
    result
        .findings
        .retain(|finding| !baseline.contains(finding));
    // `retain` only removes, so this never saturates.
    let dropped = before.saturating_sub(result.findings.len());
    result.summary.baselined = result.summary.baselined.saturating_add(dropped);
    result.recount();
    Ok(dropped)
}

/// The fingerprints of a baseline file: the findings it accepts.
pub struct Baseline {
    known: BTreeSet<String>,
}

impl Baseline {
    pub fn parse(baseline_text: &str) -> Result<Baseline, BaselineError> {
        let file: BaselineFile =
            serde_json::from_str(baseline_text).map_err(|e| BaselineError::Syntax {
                message: e.to_string(),
                line: e.line(),
                column: e.column(),
            })?;
        if file.lexflow_baseline != 1 {
            return Err(BaselineError::Version(file.lexflow_baseline));
        }
        Ok(Baseline {
            known: file.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// Whether the baseline holds this fingerprint.
    pub fn contains_fingerprint(&self, fingerprint: &str) -> bool {
        self.known.contains(fingerprint)
    }

    /// Whether the baseline accepts `finding` (by fingerprint, computed if missing).
    pub fn contains(&self, finding: &Finding) -> bool {
        if finding.fingerprint.is_empty() {
            let fingerprint =
                Finding::compute_fingerprint(&finding.rule, &finding.subject, &finding.path);
            self.known.contains(&fingerprint)
        } else {
            self.known.contains(&finding.fingerprint)
        }
    }
}
