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
    let mut out = report.to_string().map_err(|e| super::RenderError {
        format: "JUnit",
        message: e.to_string(),
    })?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}
