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
        let hash = fingerprint_hash(rule, subject.kind, &subject.id, path.iter().map(|s| &**s));
        String::from_utf8_lossy(&fingerprint_hex(hash)).into_owned()
    }

    /// The finding as a view, borrowing its strings: what the JSON report renders.
    pub fn view(&self) -> FindingView<'_> {
        FindingView {
            rule: &self.rule,
            title: &self.title,
            law: &self.law,
            citation: &self.citation,
            severity: self.severity,
            status: self.status,
            subject: SubjectView {
                kind: self.subject.kind,
                id: &self.subject.id,
            },
            location: LocationView {
                file: &self.location.file,
                line: self.location.line,
                column: self.location.column,
            },
            path: Ids::Owned(&self.path),
            path_flows: Ids::Owned(&self.path_flows),
            fingerprint: &self.fingerprint,
            message: &self.message,
            remediation: &self.remediation,
            waiver: self.waiver.as_deref(),
        }
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

/// FNV-1a 64 over the rule id, subject and path: a finding's semantic identity.
pub fn fingerprint_hash<'s>(
    rule: &str,
    kind: &str,
    id: &str,
    path: impl Iterator<Item = &'s str>,
) -> u64 {
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
    feed(kind.as_bytes());
    feed(id.as_bytes());
    for step in path {
        feed(step.as_bytes());
    }
    hash
}

/// A fingerprint as 16 lower-case hex digits (as `format!("{hash:016x}")` writes it).
pub fn fingerprint_hex(hash: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; 16];
    for (i, place) in out.iter_mut().enumerate() {
        let nibble = (hash >> (60 - 4 * i)) & 0xf;
        *place = DIGITS.get(nibble as usize).copied().unwrap_or(b'0');
    }
    out
}

/// A finding whose strings are borrowed from where they live (the model, the rule, a
/// writer's buffers), so that a report can render a finding without it owning a copy of
/// each. Serializes exactly as [`Finding`] does (same fields, order and omissions).
#[derive(Clone, Debug, Serialize)]
pub struct FindingView<'a> {
    pub rule: &'a str,
    pub title: &'a str,
    pub law: &'a str,
    pub citation: &'a str,
    pub severity: Severity,
    pub status: Status,
    pub subject: SubjectView<'a>,
    pub location: LocationView<'a>,
    #[serde(skip_serializing_if = "Ids::is_empty")]
    pub path: Ids<'a>,
    #[serde(skip_serializing_if = "Ids::is_empty")]
    pub path_flows: Ids<'a>,
    pub fingerprint: &'a str,
    pub message: &'a str,
    pub remediation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<&'a WaiverInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SubjectView<'a> {
    pub kind: &'static str,
    pub id: &'a str,
}

#[derive(Clone, Debug, Serialize)]
pub struct LocationView<'a> {
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
}

/// A list of ids: a finding's own, or borrowed from the model.
#[derive(Clone, Copy, Debug)]
pub enum Ids<'a> {
    Owned(&'a [String]),
    Borrowed(&'a [&'a str]),
}

impl<'a> Ids<'a> {
    pub fn is_empty(&self) -> bool {
        match self {
            Ids::Owned(ids) => ids.is_empty(),
            Ids::Borrowed(ids) => ids.is_empty(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (owned, borrowed): (&'a [String], &'a [&'a str]) = match *self {
            Ids::Owned(ids) => (ids, &[]),
            Ids::Borrowed(ids) => (&[], ids),
        };
        owned
            .iter()
            .map(|s| s.as_str())
            .chain(borrowed.iter().copied())
    }
}

impl Serialize for Ids<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
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
/// `PendingFindings`).
pub trait FindingSource: Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shows `visit` the findings at positions `range`, in order, each as a view that lives
    /// only for the call (its strings may sit in buffers reused for the next one).
    fn view(&self, range: std::ops::Range<usize>, visit: &mut dyn FnMut(FindingView<'_>));
}

impl Summary {
    /// Counts one reported finding (open ones by severity, waived ones apart).
    pub fn count(&mut self, finding: &Finding) {
        self.count_one(finding.status, finding.severity);
    }

    /// Counts one reported finding of this status and severity.
    pub fn count_one(&mut self, status: Status, severity: Severity) {
        let n = match (status, severity) {
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
