//! Findings: what the engine produces and every report format renders (SPEC §3).
//! Plain data, already resolved to file names and ids, so that reports need nothing else.

use std::sync::Arc;

use serde::Serialize;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Needs a lawyer's judgement (lowest).
    Review,
    /// Likely violation.
    Warning,
    /// Violation.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Review => "review",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "review" => Some(Severity::Review),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Waived,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct Subject {
    /// `system | flow | organization | contract | assessment | manifest` (a fixed word:
    /// not one allocation per finding).
    pub kind: &'static str,
    pub id: String,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct Location {
    /// Shared by every finding in the file (a city-scale run has ~100,000 findings).
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

/// The waiver that accepted a finding, as the waivers file states it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct WaiverInfo {
    pub justification: String,
    pub approver: String,
    pub ticket: String,
    pub expires: String,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Finding {
    pub rule: Arc<str>,
    pub title: Arc<str>,
    pub law: Arc<str>,
    pub citation: Arc<str>,
    pub severity: Severity,
    pub status: Status,
    pub subject: Subject,
    pub location: Location,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path_flows: Vec<String>,
    pub fingerprint: String,
    pub message: String,
    pub remediation: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Boxed: almost every finding has none, and a finding is copied several times.
    pub waiver: Option<Box<WaiverInfo>>,
}

impl Finding {
    /// The semantic identity of a finding: rule id, subject and path, never a line number,
    /// so it survives reformatting and reordering of the manifest. FNV-1a 64, hex.
    pub fn compute_fingerprint(rule: &str, subject: &Subject, path: &[String]) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for &b in bytes {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        };
        feed(rule.as_bytes());
        feed(subject.kind.as_bytes());
        feed(subject.id.as_bytes());
        for step in path {
            feed(step.as_bytes());
        }
        format!("{hash:016x}")
    }

    /// SPEC §3 order: file, line, column, rule id (then the rest, for a total order).
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            &self.rule,
            &self.subject,
            &self.path,
        )
    }
}

/// Something wrong beside the findings: an expired waiver, a waiver matching nothing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Problem {
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub review: usize,
    pub waived: usize,
    pub baselined: usize,
}

/// What the reports need to know about a rule that was checked (SARIF `tool.driver.rules`,
/// JUnit passing test cases).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub law: String,
    pub law_title: String,
    pub citation: String,
    pub severity: Severity,
    pub explanation: String,
    pub remediation: String,
    pub source: Option<String>,
}

/// The result of one `check` run, ready to render.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CheckResult {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    pub summary: Summary,
    /// The rules that were evaluated (in force and in scope), sorted by id.
    pub rules_checked: Vec<RuleInfo>,
}

impl CheckResult {
    /// Recounts the summary from the findings (open ones by severity, waived ones apart),
    /// keeping `baselined` as set by the caller.
    pub fn recount(&mut self) {
        let baselined = self.summary.baselined;
        let mut summary = Summary {
            baselined,
            ..Summary::default()
        };
        for finding in &self.findings {
            summary.count(finding);
        }
        self.summary = summary;
    }
}

/// Findings in SPEC §3 order, written on demand a range at a time, so that a report can
/// render them as they are written instead of holding all of them (the engine's
/// `PendingFindings`; a plain list is one too).
pub trait FindingSource: Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the findings at positions `range` to `out`, in order.
    fn write(&self, range: std::ops::Range<usize>, out: &mut Vec<Finding>);
}

impl FindingSource for [Finding] {
    fn len(&self) -> usize {
        <[Finding]>::len(self)
    }

    fn write(&self, range: std::ops::Range<usize>, out: &mut Vec<Finding>) {
        out.extend_from_slice(self.get(range).unwrap_or(&[]));
    }
}

impl Summary {
    /// Counts one reported finding (open ones by severity, waived ones apart).
    pub fn count(&mut self, finding: &Finding) {
        let n = match (finding.status, finding.severity) {
            (Status::Waived, _) => &mut self.waived,
            (Status::Open, Severity::Error) => &mut self.error,
            (Status::Open, Severity::Warning) => &mut self.warning,
            (Status::Open, Severity::Review) => &mut self.review,
        };
        *n = n.saturating_add(1);
    }

    /// Adds another part's counts.
    pub fn add(&mut self, other: &Summary) {
        self.error = self.error.saturating_add(other.error);
        self.warning = self.warning.saturating_add(other.warning);
        self.review = self.review.saturating_add(other.review);
        self.waived = self.waived.saturating_add(other.waived);
        self.baselined = self.baselined.saturating_add(other.baselined);
    }

    /// Whether an open finding is at or above `fail_on` (the exit code's question).
    pub fn fails(&self, fail_on: Severity) -> bool {
        match fail_on {
            Severity::Error => self.error > 0,
            Severity::Warning => self.error > 0 || self.warning > 0,
            Severity::Review => self.error > 0 || self.warning > 0 || self.review > 0,
        }
    }
}
