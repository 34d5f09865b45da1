//! `--format html`: the vendor-vetting report for procurement teams, one self-contained page.
//!
//! A verdict per organization (blocking / sign with conditions / legal review / no findings),
//! the data-flow diagram as inline SVG, the findings grouped by organization and law (citation,
//! explanation, remedy, manifest position), the checklist of clauses missing from processing
//! agreements, and which data leaves which country.
//!
//! Self-contained and script-free: inline CSS and SVG only, no network, no fonts, no images,
//! and a Content-Security-Policy (`default-src 'none'; style-src 'unsafe-inline'`) that
//! forbids anything else. Selecting a finding's "show in diagram" link highlights its witness
//! path through the CSS `:target` selector, so no script is needed. Every manifest-derived
//! string is HTML-escaped ([`sanitize::html`](super::sanitize::html)).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::diagram::{self, GroupBy, ManifestSummary, Marks};
use super::sanitize::html as h;
use super::vendor::{self, ClauseCheck, VendorVerdict, Verdict};
use super::Held;
use super::{RenderContext, TextOut};
use crate::findings::{CheckResult, FindingView, Status};

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;background:#fafbfc;line-height:1.45}\
main{max-width:1180px;margin:0 auto;padding:1.5rem 2rem 3rem}\
h1{font-size:1.7rem;margin:.2rem 0}h2{font-size:1.3rem;margin:2.2rem 0 .6rem;border-bottom:2px solid #e3e7ec;padding-bottom:.3rem}\
h3{font-size:1.12rem;margin:1.6rem 0 .4rem}h4{font-size:1rem;margin:1rem 0 .4rem;color:#34495e}\
.sub{color:#5f6b7a;margin:.2rem 0 1rem}\
table{border-collapse:collapse;margin:.6rem 0;width:100%;background:#fff}\
th,td{border:1px solid #d5dbe3;padding:.35rem .55rem;text-align:left;vertical-align:top;font-size:.92rem}\
th{background:#eef1f5}\
.verdict{font-size:1.3rem;font-weight:bold;padding:.45rem 1rem;display:inline-block;border-radius:6px}\
.fail{background:#fde2e1;color:#8a1111}.pass{background:#e1f5e4;color:#145a1f}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:.8rem}\
.card{background:#fff;border:1px solid #d5dbe3;border-left:6px solid #9aa5b1;border-radius:6px;padding:.7rem .9rem}\
.card.blocking{border-left-color:#c62828}.card.conditions{border-left-color:#e08a00}\
.card.review{border-left-color:#00838f}.card.clear{border-left-color:#2e7d32}\
.card .name{font-weight:bold}.card .meta{color:#5f6b7a;font-size:.85rem}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;font-weight:bold;color:#fff;background:#9aa5b1}\
.badge.blocking,.badge.error{background:#c62828}.badge.conditions,.badge.warning{background:#b36b00}\
.badge.review{background:#00838f}.badge.clear{background:#2e7d32}.badge.waived{background:#7f8c9d}\
.counts{font-size:.85rem;margin-top:.3rem}\
.finding{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:.6rem .9rem;margin:.5rem 0}\
.finding.waived{opacity:.75}\
.finding .head{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline}\
.finding .title{font-weight:bold}.finding .cite{color:#34495e}\
.finding dl{display:grid;grid-template-columns:9rem 1fr;gap:.15rem .8rem;margin:.5rem 0 0}\
.finding dt{color:#5f6b7a}.finding dd{margin:0}\
code{font-size:.92em;background:#eef1f5;padding:0 .2em;border-radius:3px}\
a{color:#1e5aa8}\
.lf-diagram{overflow-x:auto;background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:.5rem}\
.lf-hl{display:block;position:relative;top:-1rem}\
.lf-note{display:none;background:#f3e5f5;border:1px solid #ce93d8;border-radius:6px;padding:.3rem .7rem;margin:.4rem 0}\
.lf-hl:target~.lf-diagram .lf-edge,.lf-hl:target~.lf-diagram .lf-node{opacity:.3}\
.legend{font-size:.85rem;color:#5f6b7a}\
.check{list-style:none;padding-left:0;columns:2}.check li{margin:.1rem 0}\
.ok{color:#2e7d32}.missing{color:#c62828;font-weight:bold}\
footer{color:#7f8c9d;font-size:.8rem;margin-top:2rem}";

/// What the diagram highlights for a finding: its witness path (flows and systems), or else
/// its subject.
fn highlight_targets(summary: &ManifestSummary, f: &FindingView<'_>) -> (Vec<usize>, Vec<usize>) {
    let mut flows: Vec<usize> = f
        .path_flows
        .iter()
        .filter_map(|id| summary.flow_index(id))
        .collect();
    let mut systems: Vec<usize> = f
        .path
        .iter()
        .filter_map(|id| summary.system_index(id))
        .collect();
    match f.subject.kind {
        "flow" => {
            let found = summary
                .flow_index(f.subject.id)
                .and_then(|i| Some((i, summary.flows.get(i)?)));
            if let Some((i, flow)) = found {
                flows.push(i);
                systems.extend(summary.end_index(flow.from));
                systems.extend(summary.end_index(flow.to));
            }
        }
        "system" | "collection" => systems.extend(summary.system_index(f.subject.id)),
        _ => {}
    }
    flows.sort_unstable();
    flows.dedup();
    systems.sort_unstable();
    systems.dedup();
    (flows, systems)
}

fn highlight_css(k: usize, flows: &[usize], systems: &[usize]) -> String {
    let t = format!("#lf-hl-{k}:target~.lf-diagram");
    let mut selectors: Vec<String> = flows.iter().map(|j| format!("{t} .lf-e{j}")).collect();
    selectors.extend(systems.iter().map(|i| format!("{t} .lf-n{i}")));
    let mut css = format!("#lf-hl-{k}:target~.lf-note-{k}{{display:block}}");
    if !selectors.is_empty() {
        let _ = write!(css, "{}{{opacity:1}}", selectors.join(","));
    }
    if !flows.is_empty() {
        let paths: Vec<String> = flows.iter().map(|j| format!("{t} .lf-e{j} path")).collect();
        let _ = write!(
            css,
            "{}{{stroke:#8e24aa;stroke-width:5px}}",
            paths.join(",")
        );
    }
    if !systems.is_empty() {
        let rects: Vec<String> = systems
            .iter()
            .map(|i| format!("{t} .lf-n{i} rect"))
            .collect();
        let _ = write!(
            css,
            "{}{{stroke:#8e24aa;stroke-width:4px;fill:#f8eefa}}",
            rects.join(",")
        );
    }
    css
}

fn status_html(f: &FindingView<'_>) -> String {
    match (&f.status, f.waiver) {
        (Status::Open, _) => "open".to_string(),
        (Status::Waived, Some(w)) => format!(
            "waived until {} by {} ({}): {}",
            h(&w.expires),
            h(&w.approver),
            h(&w.ticket),
            h(&w.justification)
        ),
        (Status::Waived, None) => "waived".to_string(),
    }
}

fn finding_html(
    out: &mut String,
    f: &FindingView<'_>,
    k: usize,
    linked: bool,
    held: &Held<'_>,
    summary: Option<&ManifestSummary>,
) {
    let waived = f.status == Status::Waived;
    let severity = f.severity.as_str();
    let _ = writeln!(
        out,
        "<article class=\"finding {severity}{}\"><div class=\"head\"><span class=\"badge {}\">{}</span>\
<code>{}</code><span class=\"title\">{}</span><span class=\"cite\">{}</span></div><dl>",
        if waived { " waived" } else { "" },
        if waived { "waived" } else { severity },
        if waived { "waived" } else { severity },
        h(f.rule),
        h(f.title),
        h(f.citation),
    );
    let _ = writeln!(out, "<dt>finding</dt><dd>{}</dd>", h(&f.message));
    if let Some(info) = held.rules_checked.iter().find(|r| *r.id == *f.rule) {
        if !info.explanation.is_empty() {
            let _ = writeln!(
                out,
                "<dt>what it means</dt><dd>{}</dd>",
                h(&info.explanation)
            );
        }
    }
    if !f.remediation.is_empty() {
        let _ = writeln!(out, "<dt>remedy</dt><dd>{}</dd>", h(f.remediation));
    }
    let subject_name = summary
        .filter(|_| f.subject.kind == "organization")
        .map(|s| s.org_name(f.subject.id).to_string())
        .filter(|n| n != f.subject.id)
        .map(|n| format!(" ({})", h(&n)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<dt>subject</dt><dd>{} <code>{}</code>{subject_name}</dd>",
        h(f.subject.kind),
        h(f.subject.id)
    );
    let _ = writeln!(
        out,
        "<dt>manifest</dt><dd><code>{}:{}:{}</code></dd>",
        h(f.location.file),
        f.location.line,
        f.location.column
    );
    if !f.path.is_empty() {
        let flows = if f.path_flows.is_empty() {
            String::new()
        } else {
            format!("<br><small>flows: {}</small>", h(&f.path_flows.join(", ")))
        };
        let _ = writeln!(
            out,
            "<dt>path</dt><dd>{}{flows}</dd>",
            h(&super::path_text(f))
        );
    }
    let _ = writeln!(out, "<dt>status</dt><dd>{}</dd>", status_html(f));
    if linked {
        let _ = writeln!(
            out,
            "<dt>diagram</dt><dd><a href=\"#lf-hl-{k}\">show in diagram</a></dd>"
        );
    }
    let _ = writeln!(out, "</dl></article>");
}

fn law_heading(held: &Held<'_>, law: &str) -> String {
    let title = held
        .rules_checked
        .iter()
        .find(|r| r.law == law && !r.law_title.is_empty())
        .map(|r| format!(" — {}", h(&r.law_title)))
        .unwrap_or_default();
    format!("{}{title}", h(law))
}

fn verdict_cards(out: &mut String, verdicts: &[VendorVerdict]) {
    let _ = writeln!(
        out,
        "<section id=\"verdicts\" class=\"verdicts\"><h2>Verdict per organization</h2>"
    );
    let _ = writeln!(
        out,
        "<p class=\"legend\"><b>blocking</b>: open violations, do not sign as proposed · <b>sign with conditions</b>: warnings or contract clauses to add · <b>legal review</b>: points for a lawyer · <b>no findings</b></p>"
    );
    let _ = writeln!(out, "<div class=\"cards\">");
    for v in verdicts {
        let key = v.verdict.key();
        let mut counts = Vec::new();
        if v.errors > 0 {
            counts.push(format!(
                "{} error{}",
                v.errors,
                if v.errors == 1 { "" } else { "s" }
            ));
        }
        if v.warnings > 0 {
            counts.push(format!(
                "{} warning{}",
                v.warnings,
                if v.warnings == 1 { "" } else { "s" }
            ));
        }
        if v.reviews > 0 {
            counts.push(format!("{} to review", v.reviews));
        }
        if v.clause_gaps > 0 {
            counts.push(format!(
                "{} contract clause{} missing",
                v.clause_gaps,
                if v.clause_gaps == 1 { "" } else { "s" }
            ));
        }
        if v.waived > 0 {
            counts.push(format!("{} waived", v.waived));
        }
        let counts = if counts.is_empty() {
            "nothing found".to_string()
        } else {
            counts.join(" · ")
        };
        let roles = if v.roles.is_empty() {
            String::new()
        } else {
            format!(" · {}", v.roles.join(", "))
        };
        let _ = writeln!(
            out,
            "<div class=\"card {key}\" data-verdict=\"{key}\"><div class=\"name\">{}</div>\
<div class=\"meta\"><code>{}</code> · {} · {}{}</div>\
<div><span class=\"badge {key}\">{}</span></div><div class=\"counts\">{counts}</div></div>",
            h(&v.name),
            h(&v.org),
            h(&v.country),
            h(&v.kind),
            h(&roles),
            v.verdict.label(),
        );
    }
    let _ = writeln!(out, "</div></section>");
}

/// Written out check by check (at 100k flows the section is megabytes; held whole, it and
/// the borders' section were 18 MiB of the page's peak).
fn clause_section(out: &mut impl TextOut, summary: &ManifestSummary, checks: &[ClauseCheck<'_>]) {
    let _ = writeln!(
        out,
        "<section id=\"clauses\"><h2>Processing agreements: clause checklist</h2>"
    );
    if checks.is_empty() {
        let _ = writeln!(
            out,
            "<p>No system is run by a processor for another organization: no processing agreement is needed.</p></section>"
        );
        return;
    }
    for c in checks {
        let agreements = if c.agreements.is_empty() {
            "<span class=\"missing\">no processing agreement declared</span>".to_string()
        } else {
            format!("agreement {}", h(&c.agreements.join(", ")))
        };
        let _ = writeln!(
            out,
            "<h3>{} for {}</h3><p class=\"sub\">systems {} · {agreements} · {} clause{} missing</p>",
            h(summary.org_name(c.processor)),
            h(summary.org_name(c.operator)),
            h(&c.systems.join(", ")),
            c.missing(),
            if c.missing() == 1 { "" } else { "s" }
        );
        for list in &c.checklists {
            let citation = list.citation();
            let _ = writeln!(out, "<h4>{citation}</h4><ul class=\"check\">");
            for (clause, meaning, present) in list.items() {
                let (mark, class) = if present {
                    ("☑", "ok")
                } else {
                    ("☐", "missing")
                };
                let _ = writeln!(
                    out,
                    "<li class=\"{class}\"><span aria-hidden=\"true\">{mark}</span> <code>{clause}</code> — {}{}</li>",
                    h(meaning),
                    if present { "" } else { " <b>(add)</b>" }
                );
            }
            let _ = writeln!(out, "</ul>");
        }
        out.spill();
    }
    let _ = writeln!(out, "</section>");
}

/// Written out row by row, as the clause checklist.
fn border_section(out: &mut impl TextOut, summary: &ManifestSummary) {
    let borders = vendor::borders(summary);
    let _ = writeln!(
        out,
        "<section id=\"borders\"><h2>Data leaving a country</h2>"
    );
    if borders.is_empty() {
        let _ = writeln!(
            out,
            "<p>No flow crosses a border: every flow stays in one country.</p></section>"
        );
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"borders\"><tr><th>from</th><th>to</th><th>data categories</th><th>flows (transfer mechanism)</th></tr>"
    );
    for b in &borders {
        let flows: Vec<String> = b
            .flows
            .iter()
            .map(|(id, mechanism)| {
                format!(
                    "<code>{}</code> ({})",
                    h(id),
                    mechanism
                        .as_deref()
                        .map(h)
                        .unwrap_or_else(|| "none declared".into())
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h(b.from_country),
            h(b.to_country),
            h(&b.categories.iter().cloned().collect::<Vec<_>>().join(", ")),
            flows.join("<br>")
        );
        out.spill();
    }
    let _ = writeln!(out, "</table></section>");
}

/// The HTML page, written to `out` as it is made (never held whole).
pub fn write_html(
    result: &CheckResult,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    super::with_held(result, |held| write_html_held(held, ctx, out))
}

/// The HTML page of held findings (see [`write_html`]).
pub fn write_html_held(
    held: &Held<'_>,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut out = super::Spill::new(out);
    let failed = held.fails(ctx.fail_on);
    let s = &held.summary;
    let summary = ctx.manifest.as_ref();

    let title = match summary.map(|s| s.names.join("; ")) {
        Some(names) if !names.is_empty() => format!("lexflow vendor report — {}", h(&names)),
        _ => "lexflow compliance report".to_string(),
    };
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
    );
    let _ = writeln!(out, "<meta name=\"referrer\" content=\"no-referrer\">");
    let _ = writeln!(out, "<title>{title}</title>\n<style>{STYLE}");
    // Highlight links, one a finding that has something to show: each one's style is
    // written as it is made (at 100k flows they are 60 MB together).
    let mut highlights: Vec<bool> = Vec::with_capacity(held.findings.len());
    for (k, f) in held.iter() {
        let targets = summary
            .map(|summary| highlight_targets(summary, &f))
            .filter(|(flows, systems)| !flows.is_empty() || !systems.is_empty());
        highlights.push(targets.is_some());
        if let Some((flows, systems)) = targets {
            let _ = writeln!(out, "{}", highlight_css(k, &flows, &systems));
            out.spill();
        }
    }
    let _ = writeln!(out, "</style>\n</head>\n<body>\n<main>");
    let _ = writeln!(out, "<h1>{title}</h1>");
    let _ = writeln!(
        out,
        "<p class=\"sub\">Fails on {} and above{}. Generated by lexflow {} from the manifests as declared; it is not legal advice.</p>",
        ctx.fail_on.as_str(),
        ctx.as_of.map(|d| format!("; judged as of {d}")).unwrap_or_default(),
        h(&ctx.tool_version)
    );
    let verdicts_and_checks = summary.map(|summary| {
        let checks = vendor::clause_checks(summary, held.rules_checked);
        let verdicts = vendor::verdicts(summary, held, &checks);
        (verdicts, checks)
    });
    let overall = verdicts_and_checks
        .as_ref()
        .map(|(v, _)| vendor::overall(v));
    let _ = writeln!(
        out,
        "<p id=\"overall\"><span class=\"verdict {}\">{}</span>{}</p>",
        if failed { "fail" } else { "pass" },
        if failed { "FAIL" } else { "PASS" },
        overall
            .map(|v| format!(
                " &nbsp;overall: <span class=\"badge {}\">{}</span>",
                v.key(),
                v.label()
            ))
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
        held.rules_checked.len()
    );

    if let (Some(summary), Some((verdicts, checks))) = (summary, &verdicts_and_checks) {
        verdict_cards(&mut out, verdicts);

        let _ = writeln!(out, "<section id=\"diagram\"><h2>Data-flow diagram</h2>");
        let _ = writeln!(
            out,
            "<p class=\"legend\">Systems in columns by country, data flowing left to right. <span style=\"color:{}\"><b>Red</b></span>: flows and systems with open findings, labelled with the rule ids. Choose “show in diagram” on a finding to highlight its path; <a href=\"#diagram\">clear</a>.</p>",
            diagram::RED
        );
        for ((k, f), highlight) in held.iter().zip(&highlights) {
            if *highlight {
                let _ = writeln!(
                    out,
                    "<span class=\"lf-hl\" id=\"lf-hl-{k}\"></span><div class=\"lf-note lf-note-{k}\">Highlighted: <code>{}</code> on {} <code>{}</code>{}</div>",
                    h(f.rule),
                    h(f.subject.kind),
                    h(f.subject.id),
                    if f.path.is_empty() { String::new() } else { format!(" — path {}", h(&super::path_text(&f))) }
                );
                out.spill();
            }
        }
        let marks = Marks::from_findings(summary, held.iter().map(|(_, f)| f));
        let _ = writeln!(out, "<div class=\"lf-diagram\">");
        diagram::write_svg(summary, &marks, GroupBy::Country, &mut out);
        let _ = writeln!(out, "</div></section>");

        let _ = writeln!(
            out,
            "<section id=\"findings\"><h2>Findings by organization and law</h2>"
        );
        if held.findings.is_empty() {
            let _ = writeln!(out, "<p>No findings.</p>");
        }
        for (org, laws) in vendor::findings_by_vendor(summary, verdicts, held) {
            match &org {
                Some(org) => {
                    let verdict = verdicts
                        .iter()
                        .find(|v| &v.org == org)
                        .map(|v| v.verdict)
                        .unwrap_or(Verdict::Clear);
                    let _ = writeln!(
                        out,
                        "<h3>{} <span class=\"badge {}\">{}</span></h3>",
                        h(summary.org_name(org)),
                        verdict.key(),
                        verdict.label()
                    );
                }
                None => {
                    let _ = writeln!(out, "<h3>Findings not tied to one organization</h3>");
                }
            }
            for (law, group) in laws {
                let _ = writeln!(out, "<h4>{}</h4>", law_heading(held, &law));
                for k in group {
                    let Some(f) = held.findings.get(k) else {
                        continue;
                    };
                    finding_html(
                        &mut out,
                        &f,
                        k,
                        highlights.get(k).copied().unwrap_or(false),
                        held,
                        Some(summary),
                    );
                    out.spill();
                }
            }
        }
        let _ = writeln!(out, "</section>");
        clause_section(&mut out, summary, checks);
        border_section(&mut out, summary);
    } else {
        let _ = writeln!(out, "<section id=\"findings\"><h2>Findings</h2>");
        if held.findings.is_empty() {
            let _ = writeln!(out, "<p>No findings.</p>");
        }
        let mut by_law: BTreeMap<&str, Vec<(usize, FindingView<'_>)>> = BTreeMap::new();
        for (k, finding) in held.iter() {
            by_law.entry(finding.law).or_default().push((k, finding));
        }
        for (law, group) in by_law {
            let _ = writeln!(out, "<h3>{}</h3>", law_heading(held, law));
            for (k, f) in group {
                finding_html(&mut out, &f, k, false, held, None);
                out.spill();
            }
        }
        let _ = writeln!(out, "</section>");
    }

    let problems = &held.problems;
    if !problems.is_empty() {
        let _ = writeln!(out, "<section id=\"problems\"><h2>Problems</h2>\n<table class=\"problems\"><tr><th>kind</th><th>location</th><th>message</th></tr>");
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
        let _ = writeln!(out, "</table></section>");
    }
    let _ = writeln!(
        out,
        "<footer>lexflow {} · self-contained report: no scripts, no network</footer>\n</main>\n</body>\n</html>",
        h(&ctx.tool_version)
    );
    out.finish()
}
