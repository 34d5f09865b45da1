//! `--format junit`: JUnit XML for CI test dashboards.
//!
//! One `<testsuite>` a law (sorted), one `<testcase>` per rule × subject that fired (a
//! `<failure>` when any of its findings is open, `<skipped>` when all are waived), and one
//! passing `<testcase>` per checked rule that did not fire. Problems (expired or unused
//! waivers) form a last suite, `lexflow.problems`, as `<error>`s. No timestamps, no ids.

use std::collections::BTreeMap;
use std::fmt::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::sanitize::inert;
use super::Held;
use crate::findings::{CheckResult, FindingView, Status};

/// A finding as a test case's description lists it: severity, rule and citation, title,
/// place, path, message, remedy and waiver, one inert line each.
pub fn describe(finding: &FindingView<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} {} [{}]",
        finding.severity.as_str(),
        inert(finding.rule),
        inert(finding.citation)
    );
    let _ = writeln!(text, "{}", inert(finding.title));
    let _ = writeln!(
        text,
        "at {}:{}:{}",
        inert(finding.location.file),
        finding.location.line,
        finding.location.column
    );
    if !finding.path.is_empty() {
        let _ = writeln!(text, "path: {}", inert(&super::path_text(finding)));
        if !finding.path_flows.is_empty() {
            let _ = writeln!(text, "flows: {}", inert(&finding.path_flows.join(", ")));
        }
    }
    let _ = writeln!(text, "{}", inert(&finding.message));
    if !finding.remediation.is_empty() {
        let _ = writeln!(text, "remedy: {}", inert(finding.remediation));
    }
    if let Some(waiver) = finding.waiver {
        let _ = writeln!(text, "waived {}", super::waiver_terms(waiver));
    }
    text
}

/// The JUnit XML report.
pub fn render_junit(result: &CheckResult) -> Result<String, super::RenderError> {
    super::held_text("JUnit", |out| write_junit(result, out))
}

/// The JUnit report, written to `out` one test case at a time with quick-xml (the XML
/// writer quick-junit uses, with the same indentation and escaping): a city-scale report is
/// tens of megabytes, and quick-junit holds the whole report before it writes any of it
/// (at 100k flows that raised the peak from 127 to 164 MiB). Only the grouping (references
/// to the findings) and one test case's text are held.
pub fn write_junit(result: &CheckResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    super::with_held(result, |held| write_junit_held(held, out))
}

/// The JUnit report of held findings (see [`write_junit`]).
pub fn write_junit_held(held: &Held<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let placed = |k: usize| {
        held.findings.get(k).map(|f| Placed {
            law: f.law,
            rule: f.rule,
            kind: f.subject.kind,
            id: f.subject.id,
            open: f.status == Status::Open,
        })
    };
    let groups = Grouping::of(held.findings.len(), &placed, held.rules_checked);
    write_grouped(
        &groups,
        &placed,
        &held.problems,
        out,
        &mut |places, visit| {
            for f in places.iter().filter_map(|&k| held.findings.get(k)) {
                visit(&f);
            }
        },
    )
}

/// The JUnit report of the findings of `source`, each passed through `triage` (waivers,
/// then the baseline), while the model they are written from is at hand: the test cases
/// are grouped by law, rule and subject, not in report order, so the findings are visited
/// twice. First each is written, triaged and its place in the groups noted (its law and
/// rule as numbers, its subject id copied: 32 bytes a finding beside the id); then the
/// groups' findings are written again as their test cases are. Nothing else is held: at
/// 10k flows the live heap peaks at 6.3 MiB, under the JSON report's run (7.0 MiB, while
/// loading). Returns the summary reported, and whether the report was written.
pub fn write_junit_streamed(
    source: &dyn crate::findings::FindingSource,
    triage: &super::Triage,
    rules_checked: &[crate::findings::RuleInfo],
    out: &mut dyn std::io::Write,
) -> (crate::findings::Summary, std::io::Result<()>) {
    /// A finding kept: where it is in `source`, its group, and how triage left it.
    struct Kept<'t> {
        position: usize,
        /// Its (law, rule id) in `rules`.
        rule: u32,
        /// Its subject id, in `ids`.
        id: u32,
        id_len: u32,
        /// Its subject's kind, in `kinds`.
        kind: u8,
        open: bool,
        waiver: Option<&'t crate::findings::WaiverInfo>,
    }
    let mut kept: Vec<Kept<'_>> = Vec::with_capacity(source.len());
    // (law, rule id) of each rule that fired, the subjects' kinds, and every subject id, one
    // after another.
    let mut rules: Vec<(String, String)> = Vec::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut ids = String::new();
    let mut matched = vec![false; triage.waiver_count()];
    let mut summary = crate::findings::Summary::default();
    let mut position = 0usize;
    let mut too_many = false;
    source.view(0..source.len(), &mut |finding| {
        let at = position;
        position = position.saturating_add(1);
        let waiver = match triage.triage(&finding, &mut matched, &mut summary) {
            super::Triaged::Dropped => return,
            super::Triaged::Kept => None,
            super::Triaged::Waived(info) => Some(info),
        };
        let rule = match rules
            .iter()
            .rposition(|(law, rule)| law == finding.law && rule == finding.rule)
        {
            Some(r) => r,
            None => {
                rules.push((finding.law.to_string(), finding.rule.to_string()));
                rules.len() - 1
            }
        };
        let kind = match kinds.iter().position(|k| *k == finding.subject.kind) {
            Some(k) => k,
            None => {
                kinds.push(finding.subject.kind);
                kinds.len() - 1
            }
        };
        let start = ids.len();
        ids.push_str(finding.subject.id);
        let places = (
            u32::try_from(rule),
            u32::try_from(start),
            u32::try_from(finding.subject.id.len()),
            u8::try_from(kind),
        );
        let (Ok(rule), Ok(id), Ok(id_len), Ok(kind)) = places else {
            too_many = true;
            return;
        };
        kept.push(Kept {
            position: at,
            rule,
            id,
            id_len,
            kind,
            open: waiver.is_none() && finding.status == Status::Open,
            waiver,
        });
    });
    if too_many {
        let e = std::io::Error::other(crate::findings::TooManyFindings);
        return (summary, Err(e));
    }
    let mut problems = triage.problems(&matched);
    super::sort_problems(&mut problems);
    let placed = |k: usize| {
        let f = kept.get(k)?;
        let (law, rule) = rules.get(f.rule as usize)?;
        let start = f.id as usize;
        Some(Placed {
            law,
            rule,
            kind: kinds.get(usize::from(f.kind))?,
            id: ids.get(start..start.checked_add(f.id_len as usize)?)?,
            open: f.open,
        })
    };
    let groups = Grouping::of(kept.len(), &placed, rules_checked);
    let mut positions = Vec::new();
    let written = write_grouped(&groups, &placed, &problems, out, &mut |places, visit| {
        positions.clear();
        positions.extend(
            places
                .iter()
                .filter_map(|&k| kept.get(k))
                .map(|f| f.position),
        );
        let mut places = places.iter().filter_map(|&k| kept.get(k));
        source.view_at(&positions, &mut |finding| {
            let Some(f) = places.next() else {
                return;
            };
            match f.waiver {
                Some(info) => visit(&FindingView {
                    status: Status::Waived,
                    waiver: Some(info),
                    ..finding
                }),
                None => visit(&finding),
            }
        });
    });
    (summary, written)
}

/// Where a finding goes in the report's groups.
struct Placed<'a> {
    law: &'a str,
    rule: &'a str,
    kind: &'static str,
    id: &'a str,
    open: bool,
}

/// The finding at a place in report order, as the groups see it.
type Place<'a> = dyn Fn(usize) -> Option<Placed<'a>> + 'a;

/// The findings in the report's groups: by law, rule and subject, every checked rule
/// present (a rule that fired nowhere has no findings). Held as the findings' places,
/// sorted, and a range of them per rule: a map entry a subject took 150 bytes a finding.
struct Grouping<'a> {
    /// law → rule id → the rule's findings, a range of `sorted`.
    laws: BTreeMap<&'a str, BTreeMap<&'a str, std::ops::Range<usize>>>,
    /// The findings' places, by law, rule, subject (kind, id), then place.
    sorted: Vec<usize>,
}

impl<'a> Grouping<'a> {
    fn of(
        count: usize,
        placed: &Place<'a>,
        rules_checked: &'a [crate::findings::RuleInfo],
    ) -> Grouping<'a> {
        let key = |k: usize| placed(k).map(|p| (p.law, p.rule, p.kind, p.id));
        let mut sorted: Vec<usize> = (0..count).filter(|&k| placed(k).is_some()).collect();
        sorted.sort_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
        let mut laws: BTreeMap<&str, BTreeMap<&str, std::ops::Range<usize>>> = BTreeMap::new();
        for rule in rules_checked {
            laws.entry(rule.law.as_str())
                .or_default()
                .entry(rule.id.as_str())
                .or_insert(0..0);
        }
        let mut start = 0;
        while let Some(first) = sorted.get(start).and_then(|&k| placed(k)) {
            let end = start
                + sorted
                    .get(start..)
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|&&k| {
                        placed(k).is_some_and(|p| p.law == first.law && p.rule == first.rule)
                    })
                    .count();
            laws.entry(first.law)
                .or_default()
                .insert(first.rule, start..end);
            start = end;
        }
        Grouping { laws, sorted }
    }

    /// The subjects a rule fired on, each with its findings' places (in report order) and
    /// whether any is open.
    fn subjects<'g>(
        &'g self,
        range: std::ops::Range<usize>,
        placed: &'g Place<'a>,
    ) -> impl Iterator<Item = ((&'static str, &'a str), &'g [usize], bool)> + 'g {
        let mut rest = self.sorted.get(range).unwrap_or(&[]);
        std::iter::from_fn(move || {
            let first = placed(*rest.first()?)?;
            let len = rest
                .iter()
                .take_while(|&&k| {
                    placed(k).is_some_and(|p| p.kind == first.kind && p.id == first.id)
                })
                .count()
                .max(1);
            let (group, after) = rest.split_at(len.min(rest.len()));
            rest = after;
            let open = group.iter().any(|&k| placed(k).is_some_and(|p| p.open));
            Some(((first.kind, first.id), group, open))
        })
    }
}

/// Shows `visit` the findings at the given places, in that order.
type Visit<'v> = dyn FnMut(&[usize], &mut dyn FnMut(&FindingView<'_>)) + 'v;

/// The report of findings grouped in `laws`: `visit` shows each group's findings as its
/// test case is written.
fn write_grouped<'a>(
    groups: &Grouping<'a>,
    placed: &Place<'a>,
    problems: &[crate::findings::Problem],
    out: &mut dyn std::io::Write,
    visit: &mut Visit<'_>,
) -> std::io::Result<()> {
    let counts: Vec<Counts> = groups
        .laws
        .values()
        .map(|rules| Counts::of(groups, rules, placed))
        .collect();
    let mut total = Counts {
        errors: problems.len(),
        tests: problems.len(),
        ..Counts::default()
    };
    for law in &counts {
        total.add(*law);
    }
    let mut xml = Writer::new_with_indent(out, b' ', 4);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut suites = BytesStart::new("testsuites");
    suites.extend_attributes([
        ("name", "lexflow"),
        ("tests", &*total.tests.to_string()),
        ("skipped", &*total.skipped.to_string()),
        ("failures", &*total.failures.to_string()),
        ("errors", &*total.errors.to_string()),
    ]);
    xml.write_event(Event::Start(suites))?;
    for ((law, rules), counts) in groups.laws.iter().zip(counts) {
        let law = inert(law);
        start_suite(&mut xml, &law, counts)?;
        for (rule, fired) in rules {
            let rule = inert(rule);
            if fired.is_empty() {
                write_case(&mut xml, &rule, &law, None)?;
                continue;
            }
            for ((kind, id), group, _) in groups.subjects(fired.clone(), placed) {
                let name = format!("{rule} {} {}", inert(kind), inert(id));
                let classname = format!("{law}.{rule}");
                let mut status = GroupStatus::default();
                visit(group, &mut |finding| status.add(finding));
                write_case(&mut xml, &name, &classname, Some(&status.outcome()))?;
            }
        }
        xml.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    if !problems.is_empty() {
        let counts = Counts {
            tests: problems.len(),
            errors: problems.len(),
            ..Counts::default()
        };
        start_suite(&mut xml, "lexflow.problems", counts)?;
        for problem in problems {
            let name = match &problem.location {
                Some(loc) => format!(
                    "{} {}:{}:{}",
                    inert(&problem.kind),
                    inert(&loc.file),
                    loc.line,
                    loc.column
                ),
                None => inert(&problem.kind).into_owned(),
            };
            let status = Outcome {
                tag: "error",
                message: inert(&problem.message).into_owned(),
                kind: inert(&problem.kind).into_owned(),
                description: None,
            };
            write_case(&mut xml, &name, "lexflow.problems", Some(&status))?;
        }
        xml.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuites")))?;
    // The report ends with one newline.
    xml.write_indent()
}

/// The counts a `<testsuites>` or `<testsuite>` element states.
#[derive(Clone, Copy, Default)]
struct Counts {
    tests: usize,
    skipped: usize,
    failures: usize,
    errors: usize,
}

impl Counts {
    /// One law's: a passing test case a rule that fired nowhere, and a failure (any finding
    /// open) or a skipped case (all waived) a rule and subject it fired on.
    fn of<'a>(
        groups: &Grouping<'a>,
        rules: &BTreeMap<&'a str, std::ops::Range<usize>>,
        placed: &Place<'a>,
    ) -> Counts {
        let mut counts = Counts::default();
        for fired in rules.values() {
            if fired.is_empty() {
                counts.tests += 1;
            }
            for (_, _, open) in groups.subjects(fired.clone(), placed) {
                counts.tests += 1;
                if open {
                    counts.failures += 1;
                } else {
                    counts.skipped += 1;
                }
            }
        }
        counts
    }

    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.skipped += other.skipped;
        self.failures += other.failures;
        self.errors += other.errors;
    }
}

/// A test case's `<failure>`, `<skipped>` or `<error>` element. Every text in the report
/// went through [`inert`], which shows each control character as an escape: nothing XML
/// cannot hold remains (but the line breaks between a description's lines), so quick-junit's
/// clean-up of ANSI escapes and control characters had nothing left to do.
struct Outcome {
    tag: &'static str,
    message: String,
    kind: String,
    description: Option<String>,
}

/// A failure listing the open findings of a rule and subject, or, when all are waived, a
/// skipped case listing the waived ones: made as the group's findings are shown, one at a
/// time.
#[derive(Default)]
struct GroupStatus {
    /// The first open finding's message and severity.
    first_open: Option<(String, &'static str)>,
    /// The open findings' descriptions, a blank line apart.
    open: String,
    /// Every finding's descriptions (for a group that is all waived).
    all: String,
    /// The first finding's waiver's justification, if it has a waiver.
    first_waiver: Option<Option<String>>,
}

impl GroupStatus {
    fn add(&mut self, finding: &FindingView<'_>) {
        let text = describe(finding);
        let append = |list: &mut String| {
            if !list.is_empty() {
                list.push('\n');
            }
            list.push_str(&text);
        };
        if self.first_waiver.is_none() {
            self.first_waiver = Some(finding.waiver.map(|w| inert(&w.justification).into_owned()));
        }
        if finding.status == Status::Open {
            if self.first_open.is_none() {
                self.first_open = Some((
                    inert(&finding.message).into_owned(),
                    finding.severity.as_str(),
                ));
            }
            append(&mut self.open);
        } else if self.first_open.is_none() {
            append(&mut self.all);
        }
    }

    fn outcome(self) -> Outcome {
        match self.first_open {
            Some((message, severity)) => Outcome {
                tag: "failure",
                message,
                kind: severity.to_string(),
                description: Some(self.open),
            },
            None => Outcome {
                tag: "skipped",
                message: match self.first_waiver.flatten() {
                    Some(justification) => format!("waived: {justification}"),
                    None => "waived".to_string(),
                },
                kind: "waived".to_string(),
                description: Some(self.all),
            },
        }
    }
}

fn start_suite<W: std::io::Write>(
    xml: &mut Writer<W>,
    name: &str,
    counts: Counts,
) -> std::io::Result<()> {
    let mut suite = BytesStart::new("testsuite");
    suite.extend_attributes([
        ("name", name),
        ("tests", &*counts.tests.to_string()),
        ("skipped", &*counts.skipped.to_string()),
        ("errors", &*counts.errors.to_string()),
        ("failures", &*counts.failures.to_string()),
    ]);
    xml.write_event(Event::Start(suite))
}

/// A `<testcase>`: empty when it passed.
fn write_case<W: std::io::Write>(
    xml: &mut Writer<W>,
    name: &str,
    classname: &str,
    status: Option<&Outcome>,
) -> std::io::Result<()> {
    let mut case = BytesStart::new("testcase");
    case.extend_attributes([("name", name), ("classname", classname)]);
    let Some(status) = status else {
        return xml.write_event(Event::Empty(case));
    };
    xml.write_event(Event::Start(case))?;
    let mut tag = BytesStart::new(status.tag);
    tag.extend_attributes([("message", &*status.message), ("type", &*status.kind)]);
    match &status.description {
        Some(description) => {
            xml.write_event(Event::Start(tag))?;
            xml.write_event(Event::Text(BytesText::new(description)))?;
            xml.write_event(Event::End(BytesEnd::new(status.tag)))?;
        }
        None => xml.write_event(Event::Empty(tag))?,
    }
    xml.write_event(Event::End(BytesEnd::new("testcase")))
}
