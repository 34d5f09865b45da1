//! `--format junit`: JUnit XML for CI test dashboards.
//!
//! One `<testsuite>` a law (sorted), one `<testcase>` per rule × subject that fired (a
//! `<failure>` when any of its findings is open, `<skipped>` when all are waived), and one
//! passing `<testcase>` per checked rule that did not fire. Problems (expired or unused
//! waivers) form a last suite, `lexflow.problems`, as `<error>`s. No timestamps, no ids.

use std::collections::BTreeMap;
use std::fmt::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::sanitize::inert;
use crate::findings::{CheckResult, Finding, Status};

fn describe(finding: &Finding) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} {} [{}]",
        finding.severity.as_str(),
        inert(&finding.rule),
        inert(&finding.citation)
    );
    let _ = writeln!(text, "{}", inert(&finding.title));
    let _ = writeln!(
        text,
        "at {}:{}:{}",
        inert(&finding.location.file),
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
        let _ = writeln!(text, "remedy: {}", inert(&finding.remediation));
    }
    if let Some(waiver) = &finding.waiver {
        let _ = writeln!(text, "waived {}", super::waiver_terms(waiver));
    }
    text
}

/// The JUnit XML report.
pub fn render_junit(result: &CheckResult) -> Result<String, super::RenderError> {
    super::held_text("JUnit", |out| write_junit(result, out))
}

/// The JUnit report, written to `out` as quick-junit serializes it: the XML of a 100k-flow
/// city is tens of megabytes, not worth holding beside the test cases it is made from.
pub fn write_junit(result: &CheckResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    /// Remembers the last byte written, so that the report ends with exactly one newline,
    /// and the first failed write, so that its error (not quick-junit's wrapping of it) is
    /// what the caller sees.
    struct Tail<'w> {
        out: &'w mut dyn std::io::Write,
        last: Option<u8>,
        failed: Option<std::io::Error>,
    }
    impl std::io::Write for Tail<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let written = self.out.write(bytes).inspect_err(|e| {
                if self.failed.is_none() {
                    self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
                }
            })?;
            if let Some(last) = bytes.get(..written).and_then(|b| b.last()) {
                self.last = Some(*last);
            }
            Ok(written)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.out.flush()
        }
    }
    let report = junit_report(result);
    let mut tail = Tail {
        out,
        last: None,
        failed: None,
    };
    if let Err(e) = report.serialize(&mut tail) {
        return Err(tail.failed.unwrap_or_else(|| std::io::Error::other(e)));
    }
    if tail.last != Some(b'\n') {
        tail.out.write_all(b"\n")?;
    }
    Ok(())
}

/// The test suites: one a law, one test case a rule that fired nowhere and one a rule and
/// subject it fired on.
fn junit_report(result: &CheckResult) -> Report {
    // law → rule id → subject (kind, id) → findings
    type Fired<'a> = BTreeMap<(&'a str, &'a str), Vec<&'a Finding>>;
    let findings = super::sorted_findings(result);
    let mut laws: BTreeMap<&str, BTreeMap<&str, Fired>> = BTreeMap::new();
    for rule in &result.rules_checked {
        laws.entry(rule.law.as_str())
            .or_default()
            .entry(rule.id.as_str())
            .or_default();
    }
    for finding in findings.iter() {
        laws.entry(&*finding.law)
            .or_default()
            .entry(&*finding.rule)
            .or_default()
            .entry((finding.subject.kind, finding.subject.id.as_str()))
            .or_default()
            .push(finding);
    }

    let mut report = Report::new("lexflow");
    for (law, rules) in &laws {
        let mut suite = TestSuite::new(inert(law));
        for (rule, fired) in rules {
            if fired.is_empty() {
                let mut case = TestCase::new(inert(rule), TestCaseStatus::success());
                case.set_classname(inert(law));
                suite.add_test_case(case);
                continue;
            }
            for ((kind, id), group) in fired {
                let open: Vec<_> = group.iter().filter(|f| f.status == Status::Open).collect();
                let status = if let Some(first) = open.first() {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(inert(&first.message));
                    status.set_type(first.severity.as_str());
                    status.set_description(
                        open.iter()
                            .map(|f| describe(f))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    status
                } else {
                    let mut status = TestCaseStatus::skipped();
                    let reason = group
                        .first()
                        .and_then(|f| f.waiver.as_ref())
                        .map(|w| format!("waived: {}", inert(&w.justification)))
                        .unwrap_or_else(|| "waived".to_string());
                    status.set_message(reason);
                    status.set_type("waived");
                    status.set_description(
                        group
                            .iter()
                            .map(|f| describe(f))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    status
                };
                let name = format!("{} {} {}", inert(rule), inert(kind), inert(id));
                let mut case = TestCase::new(name, status);
                case.set_classname(format!("{}.{}", inert(law), inert(rule)));
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    let problems = super::sorted_problems(result);
    if !problems.is_empty() {
        let mut suite = TestSuite::new("lexflow.problems");
        for problem in &problems {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(inert(&problem.message));
            status.set_type(inert(&problem.kind));
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
            let mut case = TestCase::new(name, status);
            case.set_classname("lexflow.problems");
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
}
