//! Waivers (SPEC §4): accepted findings, each with rule, subject, justification, approver,
//! ticket and expiry, all required.
//!
//! ```yaml
//! waivers:
//!   - rule: GDPR-44            # `*` matches any run of characters (GDPR-*)
//!     subject: eu-db-to-us-hq  # the finding's subject id; `*` allowed
//!     justification: SCCs signed 2026-03-01, transfer impact assessment pending
//!     approver: dpo@city.example
//!     ticket: PRIV-1234
//!     expires: 2026-12-31
//! ```
//!
//! A waived finding stays in the report, marked waived. A waiver is in force up to and
//! including its expiry date; after it, it waives nothing and is listed in `problems`, as is
//! a waiver that matches no finding.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::date::Date;
use crate::findings::{CheckResult, Finding, Location, Problem, Status, WaiverInfo};
use crate::source::offset_of_line_col;

/// One waiver as loaded, with where it stands in its file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Waiver {
    /// Rule id glob (`*` = any run of characters).
    pub rule: String,
    /// Subject id glob.
    pub subject: String,
    pub justification: String,
    pub approver: String,
    pub ticket: String,
    pub expires: Date,
    /// The entry's position (its first key) in the waivers file.
    pub location: Location,
}

impl Waiver {
    /// Whether this waiver's globs match a finding's rule id and subject id.
    pub fn matches(&self, rule: &str, subject: &str) -> bool {
        glob_match(&self.rule, rule) && glob_match(&self.subject, subject)
    }

    /// In force on `as_of` (the expiry day included).
    pub fn in_force(&self, as_of: Date) -> bool {
        as_of <= self.expires
    }

    pub fn info(&self) -> WaiverInfo {
        WaiverInfo {
            justification: self.justification.clone(),
            approver: self.approver.clone(),
            ticket: self.ticket.clone(),
            expires: self.expires.to_string(),
        }
    }
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == text;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with backtracking to the last star: O(|p|·|t|) worst case.
    // `p` and `t` are what is left to match; `star` is the pattern after the last star
    // seen and the text from where that star's match would end.
    let (mut p, mut t): (&[char], &[char]) = (&p, &t);
    let mut star: Option<(&[char], &[char])> = None;
    while let Some((tc, t_after)) = t.split_first() {
        match p.split_first() {
            Some(('*', p_after)) => {
                star = Some((p_after, t));
                p = p_after;
            }
            Some((pc, p_after)) if pc == tc => {
                p = p_after;
                t = t_after;
            }
            _ => {
                // The last star takes one more character; none left means no match.
                let Some((after_star, (_, t_next))) =
                    star.and_then(|(after, from)| Some((after, from.split_first()?)))
                else {
                    return false;
                };
                p = after_star;
                t = t_next;
                star = Some((after_star, t_next));
            }
        }
    }
    p.iter().all(|&c| c == '*')
}

/// A waivers file that cannot be used: a miette diagnostic pointing at the entry (or the
/// field) at fault, with a hint on how to fix it.
#[derive(Debug)]
pub struct WaiverError {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    message: String,
    label: String,
    help: Option<String>,
    line: u32,
    column: u32,
    offset: usize,
    src: NamedSource<String>,
}

impl WaiverError {
    fn new(
        name: &str,
        text: &str,
        (line, column): (u32, u32),
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> WaiverError {
        let (line, column) = (line.max(1), column.max(1));
        WaiverError {
            inner: Box::new(Inner {
                message: message.into(),
                label: label.into(),
                help,
                line,
                column,
                offset: offset_of_line_col(text, line, column),
                src: NamedSource::new(name, text.to_string()),
            }),
        }
    }

    /// 1-based line of the fault.
    pub fn line(&self) -> u32 {
        self.inner.line
    }

    /// 1-based column of the fault.
    pub fn column(&self) -> u32 {
        self.inner.column
    }

    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for WaiverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for WaiverError {}

impl Diagnostic for WaiverError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("lexflow::waivers"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.inner.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(self.inner.label.clone()),
            self.inner.offset,
            0,
        ))))
    }
}

const FIELDS: &str = "rule, subject, justification, approver, ticket, expires";

/// A YAML scalar of any type, kept as its text (`ticket: 1234` is the string "1234").
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a plain value (text, number or date)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waivers: Option<Vec<Spanned<RawEntry>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Option<Spanned<Scalar>>,
    subject: Option<Spanned<Scalar>>,
    justification: Option<Spanned<Scalar>>,
    approver: Option<Spanned<Scalar>>,
    ticket: Option<Spanned<Scalar>>,
    expires: Option<Spanned<Scalar>>,
}

/// The field named in serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

fn pos(location: &serde_saphyr::Location) -> (u32, u32) {
    (
        u32::try_from(location.line()).unwrap_or(u32::MAX),
        u32::try_from(location.column()).unwrap_or(u32::MAX),
    )
}

/// Loads a waivers file. `name` is the file name as the user gave it (for locations and
/// diagnostics). An empty file has no waivers.
pub fn load_waivers(name: &str, text: &str) -> Result<Vec<Waiver>, WaiverError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|err| {
        let at = err.location().map(|l| pos(&l)).unwrap_or((1, 1));
        let plain = err.without_snippet().to_string();
        let mut message = plain
            .lines()
            .next()
            .unwrap_or("invalid waivers file")
            .to_string();
        // The position is in the diagnostic already.
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        let (label, help) = match unknown_field(&message) {
            Some(field) => {
                let hint = ["waivers", "rule", "subject", "justification", "approver", "ticket", "expires"]
                    .into_iter()
                    .filter(|known| strsim::jaro_winkler(known, &field) > 0.8)
                    .max_by(|a, b| {
                        strsim::jaro_winkler(a, &field).total_cmp(&strsim::jaro_winkler(b, &field))
                    })
                    .map(|known| format!("did you mean `{known}`? "))
                    .unwrap_or_default();
                (
                    "unknown field",
                    format!(
                        "{hint}a waivers file is `waivers:` followed by a list of entries; each entry has exactly these fields: {FIELDS}"
                    ),
                )
            }
            None => (
                "here",
                format!(
                    "expected `waivers:` followed by a list of entries with {FIELDS} (expires as YYYY-MM-DD)"
                ),
            ),
        };
        WaiverError::new(
            name,
            text,
            at,
            format!("invalid waivers file: {message}"),
            label,
            Some(help),
        )
    })?;
    let mut waivers = Vec::new();
    for entry in raw.waivers.unwrap_or_default() {
        let at = pos(&entry.referenced);
        let e = entry.value;
        let mut missing = Vec::new();
        let mut take = |field: &'static str, value: Option<Spanned<Scalar>>| match value {
            Some(v) if !v.value.0.trim().is_empty() => Some(v),
            _ => {
                missing.push(field);
                None
            }
        };
        let rule = take("rule", e.rule);
        let subject = take("subject", e.subject);
        let justification = take("justification", e.justification);
        let approver = take("approver", e.approver);
        let ticket = take("ticket", e.ticket);
        let expires = take("expires", e.expires);
        let (
            Some(rule),
            Some(subject),
            Some(justification),
            Some(approver),
            Some(ticket),
            Some(expires),
        ) = (rule, subject, justification, approver, ticket, expires)
        else {
            let list = missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(WaiverError::new(
                name,
                text,
                at,
                format!("waiver is missing {list}"),
                "this waiver",
                Some(format!(
                    "every waiver needs all of: {FIELDS}; an accepted risk must say why, who approved it, where it is tracked and until when"
                )),
            ));
        };
        let date_text = expires.value.0.trim().to_string();
        let Some(date) = Date::parse(&date_text) else {
            return Err(WaiverError::new(
                name,
                text,
                pos(&expires.referenced),
                format!("`expires` is not a date: `{date_text}`"),
                "expected YYYY-MM-DD",
                Some("write the expiry as a calendar date, e.g. `expires: 2026-12-31`".to_string()),
            ));
        };
        waivers.push(Waiver {
            rule: rule.value.0.trim().to_string(),
            subject: subject.value.0.trim().to_string(),
            justification: justification.value.0.trim().to_string(),
            approver: approver.value.0.trim().to_string(),
            ticket: ticket.value.0.trim().to_string(),
            expires: date,
            location: Location {
                file: name.into(),
                line: at.0,
                column: at.1,
            },
        });
    }
    Ok(waivers)
}

/// Applies waivers to a result: the first matching waiver in force waives an open finding
/// (status `waived`, `waiver` filled in); an expired waiver that matches adds an
/// `expired_waiver` problem and waives nothing; a waiver in force matching no finding adds
/// an `unused_waiver` problem. Then the summary is recounted.
pub fn apply_waivers(result: &mut CheckResult, waivers: &[Waiver], as_of: Date) {
    let mut matched = vec![false; waivers.len()];
    let index = WaiverIndex::new(waivers);
    for finding in &mut result.findings {
        waive(finding, waivers, &index, as_of, &mut matched);
    }
    result
        .problems
        .extend(waiver_problems(waivers, &matched, as_of));
    result.recount();
}

/// Applies the waivers to one finding: the first matching waiver in force waives it, if
/// open; each matching waiver is marked in `matched` (one flag per waiver).
pub fn waive(
    finding: &mut Finding,
    waivers: &[Waiver],
    index: &WaiverIndex,
    as_of: Date,
    matched: &mut [bool],
) {
    let open = finding.status == Status::Open;
    let chosen = waiver_for(
        waivers,
        index,
        as_of,
        &finding.rule,
        &finding.subject.id,
        open,
        matched,
    );
    if let Some(waiver) = chosen.and_then(|i| waivers.get(i)) {
        finding.status = Status::Waived;
        finding.waiver = Some(Box::new(waiver.info()));
    }
}

/// The number of the waiver that waives a finding of `rule` about `subject`, if the finding
/// is `open`: the first matching waiver in force. Each matching waiver is marked in
/// `matched` (one flag per waiver).
pub fn waiver_for(
    waivers: &[Waiver],
    index: &WaiverIndex,
    as_of: Date,
    rule: &str,
    subject: &str,
    open: bool,
    matched: &mut [bool],
) -> Option<usize> {
    let mut chosen: Option<usize> = None;
    let exact = index
        .exact
        .get(rule)
        .and_then(|by_subject| by_subject.get(subject))
        .map_or(&[][..], Vec::as_slice);
    let patterns = index
        .patterns
        .iter()
        .copied()
        .filter(|&i| waivers.get(i).is_some_and(|w| w.matches(rule, subject)));
    for i in exact.iter().copied().chain(patterns) {
        if let Some(flag) = matched.get_mut(i) {
            *flag = true;
        }
        let in_force = waivers.get(i).is_some_and(|w| w.in_force(as_of));
        if open && in_force && chosen.is_none_or(|c| i < c) {
            chosen = Some(i);
        }
    }
    chosen
}

/// The waivers by what they match: those without a `*` by rule and subject (a look-up per
/// finding), the others in a list matched one by one. A city's waivers file may list
/// thousands of findings: matching each finding against every waiver made a check with
/// 2,000 waivers take 10 s at 100k flows instead of 0.6 s.
#[derive(Debug, Default)]
pub struct WaiverIndex {
    exact: std::collections::HashMap<String, std::collections::HashMap<String, Vec<usize>>>,
    patterns: Vec<usize>,
}

impl WaiverIndex {
    pub fn new(waivers: &[Waiver]) -> WaiverIndex {
        let mut index = WaiverIndex::default();
        for (i, waiver) in waivers.iter().enumerate() {
            if waiver.rule.contains('*') || waiver.subject.contains('*') {
                index.patterns.push(i);
            } else {
                index
                    .exact
                    .entry(waiver.rule.clone())
                    .or_default()
                    .entry(waiver.subject.clone())
                    .or_default()
                    .push(i);
            }
        }
        index
    }
}

/// The problems of a waivers file once every finding went through [`waive`]: an
/// `expired_waiver` for each expired waiver, an `unused_waiver` for each waiver in force
/// that matched nothing.
pub fn waiver_problems(waivers: &[Waiver], matched: &[bool], as_of: Date) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (waiver, &matched) in waivers.iter().zip(matched) {
        let what = format!(
            "waiver for rule `{}` and subject `{}` ({})",
            waiver.rule, waiver.subject, waiver.ticket
        );
        if !waiver.in_force(as_of) {
            let tail = if matched {
                "; its findings are open again"
            } else {
                ""
            };
            problems.push(Problem {
                kind: "expired_waiver".to_string(),
                message: format!("{what} expired on {}{tail}", waiver.expires),
                location: Some(waiver.location.clone()),
            });
        } else if !matched {
            problems.push(Problem {
                kind: "unused_waiver".to_string(),
                message: format!("{what} matches no finding"),
                location: Some(waiver.location.clone()),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `waiver_for` answered before the index: every waiver matched in turn.
    fn scan(
        waivers: &[Waiver],
        as_of: Date,
        rule: &str,
        subject: &str,
        open: bool,
        matched: &mut [bool],
    ) -> Option<usize> {
        let mut chosen = None;
        for (i, (waiver, matched)) in waivers.iter().zip(matched.iter_mut()).enumerate() {
            if !waiver.matches(rule, subject) {
                continue;
            }
            *matched = true;
            if chosen.is_none() && open && waiver.in_force(as_of) {
                chosen = Some(i);
            }
        }
        chosen
    }

    #[test]
    fn the_index_answers_as_a_scan_of_every_waiver() {
        let waiver = |rule: &str, subject: &str, expires: &str| Waiver {
            rule: rule.into(),
            subject: subject.into(),
            justification: "j".into(),
            approver: "a".into(),
            ticket: "t".into(),
            expires: Date::parse(expires).unwrap(),
            location: Location {
                file: "w.yaml".into(),
                line: 1,
                column: 1,
            },
        };
        let waivers = vec![
            waiver("GDPR-44", "f-1", "2025-01-01"),
            waiver("GDPR-*", "f-*", "2027-01-01"),
            waiver("GDPR-44", "f-1", "2027-01-01"),
            waiver("GDPR-44", "f-1", "2028-01-01"),
            waiver("PIPL-38", "f-2", "2027-01-01"),
            waiver("*", "*", "2024-01-01"),
            waiver("PIPL-38", "f-2", "2027-01-01"),
            waiver("CSL-21", "s-9", "2027-01-01"),
        ];
        let index = WaiverIndex::new(&waivers);
        let as_of = Date::parse("2026-06-01").unwrap();
        let findings = [
            ("GDPR-44", "f-1"),
            ("GDPR-44", "f-3"),
            ("GDPR-9", "s-1"),
            ("PIPL-38", "f-2"),
            ("PIPL-38", "f-1"),
            ("CSL-21", "s-9"),
            ("NONE", "x"),
        ];
        for open in [true, false] {
            let mut by_index = vec![false; waivers.len()];
            let mut by_scan = vec![false; waivers.len()];
            for (rule, subject) in findings {
                assert_eq!(
                    waiver_for(&waivers, &index, as_of, rule, subject, open, &mut by_index),
                    scan(&waivers, as_of, rule, subject, open, &mut by_scan),
                    "{rule} {subject}"
                );
            }
            assert_eq!(by_index, by_scan);
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("GDPR-*", "GDPR-44"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*-44", "GDPR-44"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("GDPR-4", "GDPR-44"));
        assert!(!glob_match("a*b", "aXXc"));
        assert!(glob_match("PIPL-39", "PIPL-39"));
    }

    /// The index-based matcher this module used before, as a reference.
    fn reference(pattern: &str, text: &str) -> bool {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ti));
                pi += 1;
            } else if pi < p.len() && p[pi] == t[ti] {
                pi += 1;
                ti += 1;
            } else if let Some((sp, st)) = star {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }

    /// Every string over `alphabet` up to `len` characters.
    fn strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn globs_agree_with_the_reference() {
        for pattern in strings(&['a', 'b', '*'], 4) {
            for text in strings(&['a', 'b', '*', 'é'], 4) {
                assert_eq!(
                    glob_match(&pattern, &text),
                    reference(&pattern, &text),
                    "{pattern:?} {text:?}"
                );
            }
        }
    }
}
