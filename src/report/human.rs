//! `--format human`: the terminal report, compiler-style.
//!
//! ```text
//! error[PIPL-39] Cross-border transfer without a legal basis
//!   --> city.yaml:58:5
//!    = law: PIPL Art. 39
//!    = subject: flow analytics-to-backup
//!    = path: street-cameras → face-analytics → sg-backup
//!            via flows cams-to-analytics, analytics-to-backup
//!    = face data leaves China without separate consent
//!    = help: obtain separate consent ...
//! ```
//!
//! Every manifest-derived string goes through [`inert`](super::sanitize::inert), so escape
//! sequences in a system name are printed as `\u{1b}[31m`, never interpreted.

use std::io::Write;

use super::sanitize::{inert, inert_multiline};
use super::RenderContext;
use crate::findings::{
    CheckResult, FindingSource, FindingView, Problem, Severity, Status, Summary,
};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BLUE: &str = "\x1b[1;34m";
const GREEN: &str = "\x1b[1;32m";

struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.on {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

fn severity_style(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
        Severity::Review => CYAN,
    }
}

/// Indents every line after the first by `indent`.
fn indent_rest(text: &str, indent: &str) -> String {
    text.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// The terminal report. `ctx.color` turns ANSI colours on; nothing else does.
pub fn render_human(result: &CheckResult, ctx: &RenderContext) -> String {
    let mut out = Vec::new();
    for finding in super::sorted_findings(result).iter() {
        push_finding(&mut out, &finding.view(), ctx);
    }
    push_trailer(
        &mut out,
        &super::sorted_problems(result),
        &result.summary,
        super::fails(result, ctx.fail_on),
        result.rules_checked.len(),
        ctx,
    );
    super::text_of(out)
}

/// The terminal report of findings written as the engine writes them (the default
/// format, at city scale): never held, as [`super::json::write_json_streamed`].
pub fn write_human_streamed(
    source: &dyn FindingSource,
    triage: &super::Triage,
    rules_checked: usize,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> (Summary, std::io::Result<()>) {
    super::write_text_streamed(
        source,
        triage,
        out,
        |text, finding| {
            push_finding(text, finding, ctx);
            Ok(())
        },
        |text, problems, summary| {
            let failed = summary.fails(ctx.fail_on);
            push_trailer(text, problems, summary, failed, rules_checked, ctx);
        },
    )
}

/// One finding's block.
fn push_finding(out: &mut Vec<u8>, finding: &FindingView, ctx: &RenderContext) {
    let p = Paint { on: ctx.color };
    let (label, style) = match finding.status {
        Status::Open => (
            finding.severity.as_str().to_string(),
            severity_style(finding.severity),
        ),
        Status::Waived => (format!("waived {}", finding.severity.as_str()), DIM),
    };
    let _ = writeln!(
        out,
        "{} {}",
        p.paint(style, &format!("{label}[{}]", inert(finding.rule))),
        p.paint(BOLD, &inert(finding.title))
    );
    let _ = writeln!(
        out,
        "  {} {}:{}:{}",
        p.paint(BLUE, "-->"),
        inert(finding.location.file),
        finding.location.line,
        finding.location.column
    );
    let bar = p.paint(BLUE, "   =");
    let _ = writeln!(out, "{bar} law: {}", inert(finding.citation));
    let _ = writeln!(
        out,
        "{bar} subject: {} {}",
        inert(finding.subject.kind),
        inert(finding.subject.id)
    );
    if !finding.path.is_empty() {
        let path: Vec<_> = finding.path.iter().map(inert).collect();
        let _ = writeln!(out, "{bar} path: {}", path.join(" → "));
        if !finding.path_flows.is_empty() {
            let flows: Vec<_> = finding.path_flows.iter().map(inert).collect();
            let _ = writeln!(out, "           via flows {}", flows.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "{bar} {}",
        indent_rest(&inert_multiline(&finding.message), "     ")
    );
    if !finding.remediation.is_empty() {
        let _ = writeln!(
            out,
            "{bar} {} {}",
            p.paint(GREEN, "help:"),
            indent_rest(&inert_multiline(finding.remediation), "     ")
        );
    }
    if let Some(waiver) = &finding.waiver {
        let _ = writeln!(out, "{bar} waived {}", super::waiver_terms(waiver));
    }
    out.push(b'\n');
}

/// The problems, then the verdict and summary line.
fn push_trailer(
    out: &mut Vec<u8>,
    problems: &[Problem],
    summary: &Summary,
    failed: bool,
    rules_checked: usize,
    ctx: &RenderContext,
) {
    let p = Paint { on: ctx.color };
    for problem in problems {
        let _ = writeln!(
            out,
            "{} {}",
            p.paint(YELLOW, &format!("problem[{}]", inert(&problem.kind))),
            inert(&problem.message)
        );
        if let Some(loc) = &problem.location {
            let _ = writeln!(
                out,
                "  {} {}:{}:{}",
                p.paint(BLUE, "-->"),
                inert(&loc.file),
                loc.line,
                loc.column
            );
        }
        out.push(b'\n');
    }
    let verdict = if failed {
        p.paint(RED, "FAIL")
    } else {
        p.paint(GREEN, "PASS")
    };
    let as_of = ctx
        .as_of
        .map(|d| format!(" (as of {d})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{verdict}: {} ({rules_checked} rules checked){as_of}",
        super::summary_text(summary),
    );
}
