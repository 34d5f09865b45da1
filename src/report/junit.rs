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
    let _ = writeln!(text, "{}", inert(finding.message));
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
    let findings = super::sorted_findings(result);
    let held = Held::of(result, &findings);
    write_junit_held(&held, out)
}

/// The JUnit report of held findings (see [`write_junit`]).
pub fn write_junit_held(held: &Held<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let laws = grouped(held);
    let problems = &held.problems;
    let counts: Vec<Counts> = laws.values().map(|rules| Counts::of(rules)).collect();
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
    for ((law, rules), counts) in laws.iter().zip(counts) {
        let law = inert(law);
        start_suite(&mut xml, &law, counts)?;
        for (rule, fired) in rules {
            let rule = inert(rule);
            if fired.is_empty() {
                write_case(&mut xml, &rule, &law, None)?;
                continue;
            }
            for ((kind, id), group) in fired {
                let name = format!("{rule} {} {}", inert(kind), inert(id));
                let classname = format!("{law}.{rule}");
                let group: Vec<FindingView<'_>> =
                    group.iter().filter_map(|&k| held.findings.get(k)).collect();
                write_case(&mut xml, &name, &classname, Some(&group_status(&group)))?;
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

/// law → rule id → subject (kind, id) → findings (their places, and whether each is open),
/// every checked rule present (a rule that fired nowhere has no subjects).
type Laws<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Fired<'a>>>;
type Fired<'a> = BTreeMap<(&'a str, &'a str), Group>;

/// The findings of a rule on a subject: their places, and whether any is open.
#[derive(Default)]
struct Group {
    places: Vec<usize>,
    open: bool,
}

impl std::ops::Deref for Group {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.places
    }
}

fn grouped<'a>(held: &'a Held<'a>) -> Laws<'a> {
    let mut laws: Laws<'_> = BTreeMap::new();
    for rule in held.rules_checked {
        laws.entry(rule.law.as_str())
            .or_default()
            .entry(rule.id.as_str())
            .or_default();
    }
    for (k, finding) in held.iter() {
        let group = laws
            .entry(finding.law)
            .or_default()
            .entry(finding.rule)
            .or_default()
            .entry((finding.subject.kind, finding.subject.id))
            .or_default();
        group.places.push(k);
        group.open |= finding.status == Status::Open;
    }
    laws
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
    fn of(rules: &BTreeMap<&str, Fired<'_>>) -> Counts {
        let mut counts = Counts::default();
        for fired in rules.values() {
            if fired.is_empty() {
                counts.tests += 1;
            }
            for group in fired.values() {
                counts.tests += 1;
                if group.open {
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
/// skipped case listing the waived ones.
fn group_status(group: &[FindingView<'_>]) -> Outcome {
    let open: Vec<FindingView<'_>> = group
        .iter()
        .filter(|f| f.status == Status::Open)
        .cloned()
        .collect();
    let describe_all =
        |findings: &[FindingView<'_>]| findings.iter().map(describe).collect::<Vec<_>>().join("\n");
    match open.first() {
        Some(first) => Outcome {
            tag: "failure",
            message: inert(first.message).into_owned(),
            kind: first.severity.as_str().to_string(),
            description: Some(describe_all(&open)),
        },
        None => Outcome {
            tag: "skipped",
            message: group
                .first()
                .and_then(|f| f.waiver)
                .map(|w| format!("waived: {}", inert(&w.justification)))
                .unwrap_or_else(|| "waived".to_string()),
            kind: "waived".to_string(),
            description: Some(describe_all(group)),
        },
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
