//! `--format markdown`: a report for pull-request comments and procurement files.
//!
//! A verdict, a summary table, then the findings in one table a law, with citation,
//! location, subject, path and remedy. Every manifest-derived cell goes through
//! [`sanitize::markdown`](super::sanitize::markdown): `|` cannot break a table, `<script>`
//! is shown as text, `@team` mentions no one.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::sanitize::markdown as md;
use super::RenderContext;
use crate::findings::{CheckResult, Finding, Status};

fn status_cell(finding: &Finding) -> String {
    match (&finding.status, &finding.waiver) {
        (Status::Open, _) => "open".to_string(),
        (Status::Waived, Some(w)) => format!(
            "waived until {} by {} ({}): {}",
            md(&w.expires),
            md(&w.approver),
            md(&w.ticket),
            md(&w.justification)
        ),
        (Status::Waived, None) => "waived".to_string(),
    }
}

/// The Markdown report.
pub fn render_markdown(result: &CheckResult, ctx: &RenderContext) -> String {
    let mut out = String::new();
    let failed = super::fails(result, ctx.fail_on);
    let _ = writeln!(out, "# lexflow compliance report\n");
    let _ = writeln!(
        out,
        "**Verdict: {}** (fails on {} and above{})\n",
        if failed { "FAIL" } else { "PASS" },
        ctx.fail_on.as_str(),
        ctx.as_of
            .map(|d| format!("; as of {d}"))
            .unwrap_or_default()
    );
    let s = &result.summary;
    let _ = writeln!(
        out,
        "| open errors | open warnings | to review | waived | baselined | rules checked |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        s.error,
        s.warning,
        s.review,
        s.waived,
        s.baselined,
        result.rules_checked.len()
    );

    let findings = super::sorted_findings(result);
    if findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    } else {
        let mut by_law: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for finding in &findings {
            by_law
                .entry(finding.law.as_str())
                .or_default()
                .push(finding);
        }
        let _ = writeln!(out, "## Findings\n");
        for (law, group) in by_law {
            let law_title = result
                .rules_checked
                .iter()
                .find(|r| r.law == law && !r.law_title.is_empty())
                .map(|r| format!(" — {}", md(&r.law_title)))
                .unwrap_or_default();
            let _ = writeln!(out, "### {}{law_title}\n", md(law));
            let _ = writeln!(
                out,
                "| severity | rule | citation | subject | location | finding | path | remedy | status |"
            );
            let _ = writeln!(
                out,
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
            );
            for f in group {
                let path = if f.path.is_empty() {
                    String::new()
                } else {
                    let mut text = md(&super::path_text(f));
                    if !f.path_flows.is_empty() {
                        let _ = write!(text, "<br>flows: {}", md(&f.path_flows.join(", ")));
                    }
                    text
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} {} | {}:{}:{} | **{}**<br>{} | {} | {} | {} |",
                    f.severity.as_str(),
                    md(&f.rule),
                    md(&f.citation),
                    md(&f.subject.kind),
                    md(&f.subject.id),
                    md(&f.location.file),
                    f.location.line,
                    f.location.column,
                    md(&f.title),
                    md(&f.message),
                    path,
                    md(&f.remediation),
                    status_cell(f)
                );
            }
            out.push('\n');
        }
    }

    let problems = super::sorted_problems(result);
    if !problems.is_empty() {
        let _ = writeln!(out, "## Problems\n");
        let _ = writeln!(out, "| kind | location | message |");
        let _ = writeln!(out, "| --- | --- | --- |");
        for p in problems {
            let location = p
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}", md(&l.file), l.line, l.column))
                .unwrap_or_default();
            let _ = writeln!(out, "| {} | {location} | {} |", md(&p.kind), md(&p.message));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "_lexflow {}_", md(&ctx.tool_version));
    out
}
