//! `--format html`: one self-contained page a vendor, for procurement teams.
//!
//! Inline CSS only: no scripts, no external fonts, styles or images, and a
//! Content-Security-Policy that forbids them, so the page can be mailed and archived. Every
//! manifest-derived string is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::sanitize::html as h;
use super::RenderContext;
use crate::findings::{CheckResult, Finding, Status};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:1rem 0;width:100%}\
th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left;vertical-align:top}\
th{background:#f2f2f2}.verdict{font-size:1.4rem;font-weight:bold;padding:.6rem 1rem;display:inline-block}\
.fail{background:#fde2e1;color:#8a1111}.pass{background:#e1f5e4;color:#145a1f}\
.error{color:#b00020;font-weight:bold}.warning{color:#8a5a00;font-weight:bold}\
.review{color:#00607a;font-weight:bold}.waived{color:#666}code{font-size:.95em}";

fn row(out: &mut String, f: &Finding) {
    let severity = f.severity.as_str();
    let status = match (&f.status, &f.waiver) {
        (Status::Open, _) => "open".to_string(),
        (Status::Waived, Some(w)) => format!(
            "waived until {} by {} ({}): {}",
            h(&w.expires),
            h(&w.approver),
            h(&w.ticket),
            h(&w.justification)
        ),
        (Status::Waived, None) => "waived".to_string(),
    };
    let path = if f.path.is_empty() {
        String::new()
    } else if f.path_flows.is_empty() {
        h(&super::path_text(f))
    } else {
        format!(
            "{}<br><small>flows: {}</small>",
            h(&super::path_text(f)),
            h(&f.path_flows.join(", "))
        )
    };
    let class = if f.status == Status::Waived {
        "waived"
    } else {
        severity
    };
    let _ = writeln!(
        out,
        "<tr class=\"{class}\"><td class=\"{severity}\">{severity}</td><td><code>{}</code></td>\
<td>{}</td><td>{} <code>{}</code></td><td><code>{}:{}:{}</code></td>\
<td><strong>{}</strong><br>{}</td><td>{path}</td><td>{}</td><td>{status}</td></tr>",
        h(&f.rule),
        h(&f.citation),
        h(&f.subject.kind),
        h(&f.subject.id),
        h(&f.location.file),
        f.location.line,
        f.location.column,
        h(&f.title),
        h(&f.message),
        h(&f.remediation),
    );
}

/// The HTML page.
pub fn render_html(result: &CheckResult, ctx: &RenderContext) -> String {
    let mut out = String::new();
    let failed = super::fails(result, ctx.fail_on);
    let s = &result.summary;
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    );
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    );
    let _ = writeln!(
        out,
        "<title>lexflow compliance report</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    );
    let _ = writeln!(out, "<h1>lexflow compliance report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"verdict {}\">{}</p>",
        if failed { "fail" } else { "pass" },
        if failed { "FAIL" } else { "PASS" }
    );
    let _ = writeln!(
        out,
        "<p>Fails on {} and above{}.</p>",
        ctx.fail_on.as_str(),
        ctx.as_of
            .map(|d| format!("; as of {d}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "<table class=\"summary\"><tr><th>open errors</th><th>open warnings</th><th>to review</th>\
<th>waived</th><th>baselined</th><th>rules checked</th></tr>\n<tr><td>{}</td><td>{}</td><td>{}</td>\
<td>{}</td><td>{}</td><td>{}</td></tr></table>",
        s.error,
        s.warning,
        s.review,
        s.waived,
        s.baselined,
        result.rules_checked.len()
    );
    let findings = super::sorted_findings(result);
    if findings.is_empty() {
        let _ = writeln!(out, "<p>No findings.</p>");
    } else {
        let mut by_law: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for finding in &findings {
            by_law
                .entry(finding.law.as_str())
                .or_default()
                .push(finding);
        }
        let _ = writeln!(out, "<h2>Findings</h2>");
        for (law, group) in by_law {
            let law_title = result
                .rules_checked
                .iter()
                .find(|r| r.law == law && !r.law_title.is_empty())
                .map(|r| format!(" — {}", h(&r.law_title)))
                .unwrap_or_default();
            let _ = writeln!(out, "<h3>{}{law_title}</h3>", h(law));
            let _ = writeln!(
                out,
                "<table class=\"findings\"><tr><th>severity</th><th>rule</th><th>citation</th><th>subject</th>\
<th>location</th><th>finding</th><th>path</th><th>remedy</th><th>status</th></tr>"
            );
            for f in group {
                row(&mut out, f);
            }
            let _ = writeln!(out, "</table>");
        }
    }
    let problems = super::sorted_problems(result);
    if !problems.is_empty() {
        let _ = writeln!(out, "<h2>Problems</h2>\n<table class=\"problems\"><tr><th>kind</th><th>location</th><th>message</th></tr>");
        for p in problems {
            let location = p
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}", h(&l.file), l.line, l.column))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{location}</code></td><td>{}</td></tr>",
                h(&p.kind),
                h(&p.message)
            );
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(
        out,
        "<footer><small>lexflow {}</small></footer>\n</body>\n</html>",
        h(&ctx.tool_version)
    );
    out
}
