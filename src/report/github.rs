//! `--format github`: GitHub Actions workflow commands, one annotation a finding.
//!
//! `::error file=city.yaml,line=58,col=5,title=PIPL-39 ...::message`; `warning` for
//! warnings, `notice` for review findings and for waived ones. Data is escaped as the runner
//! requires (`%` `\r` `\n`), properties additionally `:` and `,`; control characters are
//! first made visible so that no escape sequence or `::command::` reaches the log raw.

use std::fmt::Write as _;
use std::io::Write as _;

use super::sanitize::inert;
use crate::findings::{
    CheckResult, FindingSource, FindingView, Problem, Severity, Status, Summary,
};

/// Escapes the message part of a workflow command.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            _ => out.push(c),
        }
    }
    out
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Review => "notice",
    }
}

/// The annotations, then a plain summary line.
pub fn render_github(result: &CheckResult) -> String {
    let mut out = Vec::new();
    for finding in super::sorted_findings(result).iter() {
        push_finding(&mut out, &finding.view());
    }
    push_trailer(&mut out, &super::sorted_problems(result), &result.summary);
    super::text_of(out)
}

/// The annotations of findings written as the engine writes them, never held (as
/// [`super::json::write_json_streamed`]), then the summary line.
pub fn write_github_streamed(
    source: &dyn FindingSource,
    triage: &super::Triage,
    out: &mut dyn std::io::Write,
) -> (Summary, std::io::Result<()>) {
    super::write_text_streamed(
        source,
        triage,
        out,
        |text, finding| {
            push_finding(text, finding);
            Ok(())
        },
        push_trailer,
    )
}

/// One finding's annotation.
fn push_finding(out: &mut Vec<u8>, finding: &FindingView) {
    let (cmd, prefix) = match finding.status {
        Status::Open => (command(finding.severity), ""),
        Status::Waived => ("notice", "[waived] "),
    };
    let title = format!(
        "{prefix}{} {} ({})",
        inert(finding.rule),
        inert(finding.title),
        inert(finding.citation)
    );
    let mut message = format!(
        "{} {}: {}",
        inert(finding.subject.kind),
        inert(finding.subject.id),
        inert(&finding.message)
    );
    if !finding.path.is_empty() {
        let path: Vec<_> = finding.path.iter().map(inert).collect();
        let _ = write!(message, "\nPath: {}", path.join(" → "));
        if !finding.path_flows.is_empty() {
            let flows: Vec<_> = finding.path_flows.iter().map(inert).collect();
            let _ = write!(message, " (flows {})", flows.join(", "));
        }
    }
    if !finding.remediation.is_empty() {
        let _ = write!(message, "\nRemedy: {}", inert(finding.remediation));
    }
    if let Some(waiver) = &finding.waiver {
        let _ = write!(message, "\nWaived {}", super::waiver_terms(waiver));
    }
    let _ = writeln!(
        out,
        "::{cmd} file={},line={},col={},title={}::{}",
        escape_property(&inert(finding.location.file)),
        finding.location.line,
        finding.location.column,
        escape_property(&title),
        escape_data(&message)
    );
}

/// The problems as warnings, then the summary line.
fn push_trailer(out: &mut Vec<u8>, problems: &[Problem], summary: &Summary) {
    for problem in problems {
        let mut props = Vec::new();
        if let Some(loc) = &problem.location {
            props.push(format!("file={}", escape_property(&inert(&loc.file))));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.column));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("lexflow {}", inert(&problem.kind)))
        ));
        let _ = writeln!(
            out,
            "::warning {}::{}",
            props.join(","),
            escape_data(&inert(&problem.message))
        );
    }
    let _ = writeln!(out, "lexflow: {}", super::summary_text(summary));
}
