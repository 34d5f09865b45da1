//! Findings: what the engine produces and every report format renders (SPEC §3).
//! Plain data, already resolved to file names and ids, so that reports need nothing else.

use std::borrow::Cow;
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
            fingerprint: Fingerprint::Text(&self.fingerprint),
            message: Cow::Borrowed(&self.message),
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
    pub fingerprint: Fingerprint<'a>,
    /// Borrowed, but for a packed finding whose message names its subject: that one is
    /// put together again from the message's shared parts (see [`PackedFindings`]).
    pub message: Cow<'a, str>,
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

/// A finding's fingerprint, as held or worked out when read from its rule, subject and path
/// (a packed finding's: see [`PackedFindings`]).
#[derive(Clone, Copy, Debug)]
pub enum Fingerprint<'a> {
    Text(&'a str),
    /// [`fingerprint_hash`] of these, in hexadecimal.
    Derived {
        rule: &'a str,
        kind: &'a str,
        id: &'a str,
        path: Ids<'a>,
    },
}

impl<'a> Fingerprint<'a> {
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            Fingerprint::Text(text) => Cow::Borrowed(text),
            Fingerprint::Derived {
                rule,
                kind,
                id,
                path,
            } => {
                let digits = fingerprint_hex(fingerprint_hash(rule, kind, id, path.iter()));
                Cow::Owned(String::from_utf8_lossy(&digits).into_owned())
            }
        }
    }
}

impl Serialize for Fingerprint<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

/// A list of ids: a finding's own, borrowed from the model, or packed ([`PackedFindings`]).
#[derive(Clone, Copy, Debug)]
pub enum Ids<'a> {
    Owned(&'a [String]),
    Borrowed(&'a [&'a str]),
    /// The ids are `text[bounds[i]..bounds[i + 1]]`, one after another.
    Spans {
        text: &'a str,
        bounds: &'a [u32],
    },
}

impl<'a> Ids<'a> {
    pub fn is_empty(&self) -> bool {
        match self {
            Ids::Owned(ids) => ids.is_empty(),
            Ids::Borrowed(ids) => ids.is_empty(),
            Ids::Spans { bounds, .. } => bounds.len() < 2,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (owned, borrowed, text, bounds): (&'a [String], &'a [&'a str], &'a str, &'a [u32]) =
            match *self {
                Ids::Owned(ids) => (ids, &[], "", &[]),
                Ids::Borrowed(ids) => (&[], ids, "", &[]),
                Ids::Spans { text, bounds } => (&[], &[], text, bounds),
            };
        owned
            .iter()
            .map(|s| s.as_str())
            .chain(borrowed.iter().copied())
            .chain(bounds.windows(2).map(move |w| match w {
                [start, end] => text.get(*start as usize..*end as usize).unwrap_or(""),
                _ => "",
            }))
    }

    /// The ids joined by `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
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

    /// As [`Self::view`], the findings at `positions`, in that order (a report that groups
    /// the findings visits them out of order).
    fn view_at(&self, positions: &[usize], visit: &mut dyn FnMut(FindingView<'_>)) {
        for &n in positions {
            self.view(n..n.saturating_add(1), visit);
        }
    }
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

/// Findings in report order, each at hand by its place: what the grouped reports (JUnit,
/// Markdown, HTML) read, as they visit the findings group by group rather than in order.
pub trait HeldFindings: Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finding at place `k`.
    fn get(&self, k: usize) -> Option<FindingView<'_>>;
}

impl<T: HeldFindings + ?Sized> HeldFindings for &T {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, k: usize) -> Option<FindingView<'_>> {
        (**self).get(k)
    }
}

impl HeldFindings for [Finding] {
    fn len(&self) -> usize {
        <[Finding]>::len(self)
    }

    fn get(&self, k: usize) -> Option<FindingView<'_>> {
        <[Finding]>::get(self, k).map(Finding::view)
    }
}

/// Findings held compactly, for a grouped report of a city-scale run: the texts every
/// finding of a rule shares (rule, title, law, citation, remedy) and file names once, and
/// each finding's own texts (subject id, fingerprint, path ids) one after another in one
/// string. A [`Finding`] is 256 bytes and four to six allocations beside its texts; a
/// packed finding is 48 bytes beside them (at 10k flows, 2.2 MiB instead of 5.8 MiB).
///
/// Messages are held once each with their subject's id cut out: most say the same of
/// different subjects ("No retention period for stored personal information: system
/// `sys-000017`"). At 10k flows the 9,801 messages are 1.2 MB of text, their 1,975 forms
/// 0.37 MB.
#[derive(Clone, Debug, Default)]
pub struct PackedFindings {
    findings: Vec<Packed>,
    /// Each finding's subject id, path ids and path flow ids, in that order.
    text: String,
    /// The fingerprints that are not the hash of their finding's rule, subject and path
    /// (none of the engine's findings), by finding. The others are worked out again when
    /// read: 16 bytes a finding less (157 KB at 10k flows, at the run's peak).
    fingerprints: Vec<(u32, Box<str>)>,
    /// Where each path (then path-flows) list starts and each of its ids ends, in `text`.
    bounds: Vec<u32>,
    /// Each message form: where its parts' bounds start in `form_bounds`, and how many
    /// parts it has (the subject's id goes between two parts).
    forms: Vec<(u32, u32)>,
    /// The forms' parts, one after another.
    form_text: String,
    /// Where each form's parts start and end, in `form_text`.
    form_bounds: Vec<u32>,
    /// The forms by the hash of their parts, while packing (emptied after).
    form_of: std::collections::HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Rule id, title, law, citation and remedy of each rule, as reported.
    rules: Vec<[Box<str>; 5]>,
    files: Vec<Box<str>>,
    kinds: Vec<&'static str>,
    waivers: Vec<WaiverInfo>,
}

/// One packed finding: places in the tables and in [`PackedFindings::text`].
#[derive(Clone, Debug)]
struct Packed {
    /// Where its texts start in `text`: the subject id, then the path's and flows' ids.
    text: u32,
    id_len: u32,
    /// Its message's form, in `forms`.
    message: u32,
    /// Where its path's bounds start in `bounds`: `path` ids, then `flows` ids.
    bounds: u32,
    line: u32,
    column: u32,
    rule: u32,
    file: u32,
    /// The waiver (1 + its place in `waivers`), or 0.
    waiver: u32,
    path: u16,
    flows: u16,
    kind: u8,
    severity: Severity,
    status: Status,
}

/// Packing stops (and says so) before a table outgrows its 32-bit places: 4 GiB of texts,
/// a path of 65,536 steps.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("too many findings to hold for this report (over 4 GiB of text); use --format json")]
pub struct TooManyFindings;

impl PackedFindings {
    /// The room `finding` takes in the texts and the bounds, to size the lists before
    /// packing (grown by doubling, they held up to twice their size, and a copy while they
    /// grew).
    pub fn room_for(finding: &FindingView<'_>) -> (usize, usize) {
        let list = |ids: &Ids<'_>| {
            let mut room = (0usize, 0usize);
            for id in ids.iter() {
                room = (room.0.saturating_add(id.len()), room.1.saturating_add(1));
            }
            // The list's start, beside each id's end.
            (room.0, room.1 + usize::from(room.1 > 0))
        };
        let (path_text, path_bounds) = list(&finding.path);
        let (flows_text, flows_bounds) = list(&finding.path_flows);
        (
            finding
                .subject
                .id
                .len()
                .saturating_add(path_text)
                .saturating_add(flows_text),
            path_bounds.saturating_add(flows_bounds),
        )
    }

    /// Holds the form of `finding`'s message (see [`PackedFindings`]) ahead of its push:
    /// the forms, which cannot be sized beforehand, then grow and are trimmed before the
    /// other lists are made.
    pub fn add_form(&mut self, finding: &FindingView<'_>) -> Result<(), TooManyFindings> {
        self.form(&finding.message, finding.subject.id).map(|_| ())
    }

    /// Gives back the room the forms' lists did not use (their index stays).
    pub fn trim_forms(&mut self) {
        self.forms.shrink_to_fit();
        self.form_text.shrink_to_fit();
        self.form_bounds.shrink_to_fit();
    }

    /// Makes room for `findings` findings taking `text` and `bounds` (see
    /// [`Self::room_for`]).
    pub fn reserve_exact(&mut self, findings: usize, text: usize, bounds: usize) {
        self.findings.reserve_exact(findings);
        self.text.reserve_exact(text);
        self.bounds.reserve_exact(bounds);
    }

    /// Gives back the room the lists did not use, and the forms' index.
    pub fn shrink_to_fit(&mut self) {
        self.findings.shrink_to_fit();
        self.text.shrink_to_fit();
        self.bounds.shrink_to_fit();
        self.fingerprints.shrink_to_fit();
        self.form_of = Default::default();
        self.trim_forms();
    }

    /// The place in `forms` of `message`'s form: the parts between the occurrences of
    /// `id` (the whole message when `id` is empty), added when not held yet. Packing finds
    /// each form twice (sizing, then filling) rather than keeping every finding's form
    /// between the passes: 4 bytes a finding more at the run's peak, for 1% of the time.
    fn form(&mut self, message: &str, id: &str) -> Result<u32, TooManyFindings> {
        let place = |n: usize| u32::try_from(n).map_err(|_| TooManyFindings);
        let parts = || {
            let (whole, split) = if id.is_empty() {
                (Some(message), None)
            } else {
                (None, Some(message.split(id)))
            };
            whole.into_iter().chain(split.into_iter().flatten())
        };
        let hash = {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = foldhash::fast::FixedState::default().build_hasher();
            for part in parts() {
                hasher.write_usize(part.len());
                hasher.write(part.as_bytes());
            }
            hasher.finish()
        };
        if let Some(&at) = self.form_of.get(&hash) {
            if self.form_parts(at).is_some_and(|held| held.eq(parts())) {
                return Ok(at);
            }
        }
        let at = place(self.forms.len())?;
        let start = place(self.form_bounds.len())?;
        self.form_bounds.push(place(self.form_text.len())?);
        let mut n = 0u32;
        for part in parts() {
            self.form_text.push_str(part);
            self.form_bounds.push(place(self.form_text.len())?);
            n = n.checked_add(1).ok_or(TooManyFindings)?;
        }
        self.forms.push((start, n));
        // A different form with the same hash keeps the first one's place in the index
        // (this one is then held again for each message of its form: never wrong).
        self.form_of.entry(hash).or_insert(at);
        Ok(at)
    }

    /// The parts of the form at `at`.
    fn form_parts(&self, at: u32) -> Option<impl Iterator<Item = &str> + '_> {
        let &(start, n) = self.forms.get(at as usize)?;
        let start = start as usize;
        let bounds = self
            .form_bounds
            .get(start..start.checked_add(n as usize)?.checked_add(1)?)?;
        Some(bounds.windows(2).map(|w| match w {
            &[a, b] => self.form_text.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }))
    }

    /// The message of form `at` about the subject `id`.
    fn message(&self, at: u32, id: &str) -> Option<Cow<'_, str>> {
        let mut parts = self.form_parts(at)?;
        let first = parts.next().unwrap_or("");
        let Some(second) = parts.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut message = String::with_capacity(first.len() + id.len() + second.len());
        message.push_str(first);
        message.push_str(id);
        message.push_str(second);
        for part in parts {
            message.push_str(id);
            message.push_str(part);
        }
        Some(Cow::Owned(message))
    }

    /// Appends a finding (the next in report order).
    pub fn push(&mut self, finding: &FindingView<'_>) -> Result<(), TooManyFindings> {
        let place = |n: usize| u32::try_from(n).map_err(|_| TooManyFindings);
        let rule = match self.rules.iter().rposition(|r| {
            *r[0] == *finding.rule
                && *r[1] == *finding.title
                && *r[2] == *finding.law
                && *r[3] == *finding.citation
                && *r[4] == *finding.remediation
        }) {
            Some(r) => r,
            None => {
                self.rules.push([
                    finding.rule.into(),
                    finding.title.into(),
                    finding.law.into(),
                    finding.citation.into(),
                    finding.remediation.into(),
                ]);
                self.rules.len() - 1
            }
        };
        let file = match self
            .files
            .iter()
            .rposition(|f| **f == *finding.location.file)
        {
            Some(f) => f,
            None => {
                self.files.push(finding.location.file.into());
                self.files.len() - 1
            }
        };
        let kind = match self.kinds.iter().position(|k| *k == finding.subject.kind) {
            Some(k) => k,
            None => {
                self.kinds.push(finding.subject.kind);
                self.kinds.len() - 1
            }
        };
        let kind = u8::try_from(kind).map_err(|_| TooManyFindings)?;
        let waiver = match finding.waiver {
            None => 0,
            Some(info) => match self.waivers.iter().rposition(|w| w == info) {
                Some(w) => w + 1,
                None => {
                    self.waivers.push(info.clone());
                    self.waivers.len()
                }
            },
        };
        let message = self.form(&finding.message, finding.subject.id)?;
        let text = place(self.text.len())?;
        let bounds = place(self.bounds.len())?;
        let fingerprint = finding.fingerprint.text();
        let derived = fingerprint_hex(fingerprint_hash(
            finding.rule,
            finding.subject.kind,
            finding.subject.id,
            finding.path.iter(),
        ));
        if fingerprint.as_bytes() != derived {
            self.fingerprints
                .push((place(self.findings.len())?, (*fingerprint).into()));
        }
        self.text.push_str(finding.subject.id);
        let mut list = |ids: &Ids<'_>| -> Result<u16, TooManyFindings> {
            if ids.is_empty() {
                return Ok(0);
            }
            self.bounds.push(place(self.text.len())?);
            let mut n = 0u16;
            for id in ids.iter() {
                self.text.push_str(id);
                self.bounds.push(place(self.text.len())?);
                n = n.checked_add(1).ok_or(TooManyFindings)?;
            }
            Ok(n)
        };
        let path = list(&finding.path)?;
        let flows = list(&finding.path_flows)?;
        self.findings.push(Packed {
            text,
            id_len: place(finding.subject.id.len())?,
            message,
            bounds,
            line: finding.location.line,
            column: finding.location.column,
            rule: place(rule)?,
            file: place(file)?,
            waiver: place(waiver)?,
            path,
            flows,
            kind,
            severity: finding.severity,
            status: finding.status,
        });
        Ok(())
    }
}

impl HeldFindings for PackedFindings {
    fn len(&self) -> usize {
        self.findings.len()
    }

    fn get(&self, k: usize) -> Option<FindingView<'_>> {
        let p = self.findings.get(k)?;
        let [rule, title, law, citation, remediation] = self.rules.get(p.rule as usize)?;
        let start = p.text as usize;
        let id_end = start.checked_add(p.id_len as usize)?;
        let id = self.text.get(start..id_end)?;
        let kind = self.kinds.get(usize::from(p.kind))?;
        let list = |at: usize, n: u16| -> Option<Ids<'_>> {
            if n == 0 {
                return Some(Ids::Spans {
                    text: "",
                    bounds: &[],
                });
            }
            Some(Ids::Spans {
                text: &self.text,
                bounds: self.bounds.get(at..at.checked_add(usize::from(n) + 1)?)?,
            })
        };
        let path_at = p.bounds as usize;
        let flows_at = if p.path == 0 {
            path_at
        } else {
            path_at + usize::from(p.path) + 1
        };
        let path = list(path_at, p.path)?;
        let fingerprint = match self
            .fingerprints
            .binary_search_by_key(&k, |&(at, _)| at as usize)
        {
            Ok(held) => Fingerprint::Text(self.fingerprints.get(held).map(|(_, f)| &**f)?),
            Err(_) => Fingerprint::Derived {
                rule,
                kind,
                id,
                path,
            },
        };
        Some(FindingView {
            rule,
            title,
            law,
            citation,
            severity: p.severity,
            status: p.status,
            subject: SubjectView { kind, id },
            location: LocationView {
                file: self.files.get(p.file as usize)?,
                line: p.line,
                column: p.column,
            },
            path,
            path_flows: list(flows_at, p.flows)?,
            fingerprint,
            message: self.message(p.message, id)?,
            remediation,
            waiver: match p.waiver {
                0 => None,
                w => self.waivers.get(w as usize - 1),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, id: &str, path: &[&str], flows: &[&str], waived: bool) -> Finding {
        let subject = Subject {
            kind: if path.is_empty() { "system" } else { "flow" },
            id: id.to_string(),
        };
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        Finding {
            rule: rule.into(),
            title: format!("title of {rule}").into(),
            law: "PIPL".into(),
            citation: "PIPL Art. 38".into(),
            severity: Severity::Warning,
            status: if waived { Status::Waived } else { Status::Open },
            fingerprint: Finding::compute_fingerprint(rule, &subject, &path),
            subject,
            location: Location {
                file: "city.yaml".into(),
                line: 7,
                column: 3,
            },
            path,
            path_flows: flows.iter().map(|s| s.to_string()).collect(),
            message: format!("{id} does something é"),
            remediation: "fix it".into(),
            waiver: waived.then(|| {
                Box::new(WaiverInfo {
                    justification: "filed".into(),
                    approver: "dpo".into(),
                    ticket: "T-1".into(),
                    expires: "2027-01-01".into(),
                })
            }),
        }
    }

    #[test]
    fn packed_findings_read_back_as_they_were_pushed() {
        let mut findings = [
            finding("PIPL-38", "f-1", &["a", "b", "c"], &["f-1", "f-2"], false),
            finding("PIPL-38", "s-1", &[], &[], true),
            finding("CSL-23", "f-2", &["b", "c"], &[], false),
            finding("PIPL-38", "", &[""], &[""], false),
            finding("PIPL-38", "f-3", &[], &[], false),
            finding("PIPL-38", "f-4", &[], &[], false),
            finding("PIPL-38", "f-5", &[], &[], false),
            finding("PIPL-38", "f-6", &[], &[], false),
        ];
        // Messages naming their subject nowhere, at the start, at the end and twice
        // running; one with a hole of the wrong subject's id.
        findings[4].message = "nothing of it".into();
        findings[5].message = "f-4f-4 about f-4".into();
        findings[6].message = "about f-4 and f-5".into();
        findings[7].message = "about f-4 and f-6".into();
        // Fingerprints that are not their finding's hash (one empty) are held as they are.
        findings[2].fingerprint = "from elsewhere".into();
        findings[6].fingerprint = String::new();
        let mut packed = PackedFindings::default();
        let room = findings
            .iter()
            .map(|f| PackedFindings::room_for(&f.view()))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        packed.reserve_exact(findings.len(), room.0, room.1);
        for f in &findings {
            packed.push(&f.view()).unwrap();
        }
        // The room was exact.
        assert_eq!(packed.text.capacity(), packed.text.len());
        assert_eq!(packed.bounds.capacity(), packed.bounds.len());
        packed.shrink_to_fit();
        assert_eq!(HeldFindings::len(&packed), findings.len());
        for (k, f) in findings.iter().enumerate() {
            let back = packed.get(k).unwrap();
            assert_eq!(
                serde_json::to_value(&back).unwrap(),
                serde_json::to_value(f.view()).unwrap(),
                "finding {k}"
            );
            assert_eq!(back.path.join(" "), f.path.join(" "));
        }
        assert!(packed.get(findings.len()).is_none());
        // The texts shared by a rule's findings are held once.
        assert_eq!(packed.rules.len(), 2);
        // So are the messages' forms: "{id} does something é" (three findings), " does
        // something é" (the subject without an id: nothing cut out), "nothing of it",
        // "{id}{id} about {id}", "about f-4 and {id}" (two).
        assert_eq!(packed.forms.len(), 5);
        // The others are worked out again, each as it was.
        assert_eq!(packed.fingerprints.len(), 2);
        assert!(matches!(
            packed.get(0).unwrap().fingerprint,
            Fingerprint::Derived { .. }
        ));
    }
}
