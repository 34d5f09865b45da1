//! `--format markdown`: a report for pull-request comments and procurement files.
//!
//! A verdict, a summary table, then the findings in one table a law, with citation,
//! location, subject, path and remedy. Every manifest-derived cell goes through
//! [`sanitize::markdown`](super::sanitize::markdown): `|` cannot break a table, `<script>`
//! is shown as text, `@team` mentions no one.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::diagram::{self, GroupBy, ManifestSummary, Marks};
use super::sanitize::markdown as md;
use super::vendor;
use super::{Held, RenderContext};
use crate::findings::{CheckResult, FindingView, Status};

fn status_cell(finding: &FindingView<'_>) -> String {
    match (&finding.status, finding.waiver) {
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

/// The Markdown report, written to `out` as it is made (never held whole).
pub fn write_markdown(
    result: &CheckResult,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    super::with_held(result, |held| write_markdown_held(held, ctx, out))
}

/// The Markdown report of held findings (see [`write_markdown`]).
pub fn write_markdown_held(
    held: &Held<'_>,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut out = super::Spill::new(out);
    let failed = held.fails(ctx.fail_on);
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
    let s = &held.summary;
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
        held.rules_checked.len()
    );

    if let Some(summary) = &ctx.manifest {
        procurement_sections(&mut out, held, summary);
    } else if held.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    } else {
        let mut by_law: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (k, finding) in held.iter() {
            by_law.entry(finding.law).or_default().push(k);
        }
        let _ = writeln!(out, "## Findings\n");
        for (law, group) in by_law {
            let _ = writeln!(out, "### {}{}\n", md(law), law_title(held, law));
            findings_table(&mut out, held, &group);
            out.push('\n');
        }
    }

    let problems = &held.problems;
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
    out.finish()
}

/// One table of findings (severity, rule, citation, subject, location, finding, path,
/// remedy, status).
fn findings_table(out: &mut super::Spill, held: &Held<'_>, group: &[usize]) {
    let _ = writeln!(
        out,
        "| severity | rule | citation | subject | location | finding | path | remedy | status |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for f in group.iter().filter_map(|&k| held.findings.get(k)) {
        let path = if f.path.is_empty() {
            String::new()
        } else {
            let mut text = md(&super::path_text(&f));
            if !f.path_flows.is_empty() {
                let _ = write!(text, "<br>flows: {}", md(&f.path_flows.join(", ")));
            }
            text
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} {} | {}:{}:{} | **{}**<br>{} | {} | {} | {} |",
            f.severity.as_str(),
            md(f.rule),
            md(f.citation),
            md(f.subject.kind),
            md(f.subject.id),
            md(f.location.file),
            f.location.line,
            f.location.column,
            md(f.title),
            md(&f.message),
            path,
            md(f.remediation),
            status_cell(&f)
        );
        out.spill();
    }
}

fn law_title(held: &Held<'_>, law: &str) -> String {
    held.rules_checked
        .iter()
        .find(|r| r.law == law && !r.law_title.is_empty())
        .map(|r| format!(" — {}", md(&r.law_title)))
        .unwrap_or_default()
}

/// The procurement view: verdicts, findings by organization and law, the clause checklist,
/// data leaving a country and the Mermaid diagram.
fn procurement_sections(out: &mut super::Spill, held: &Held<'_>, summary: &ManifestSummary) {
    let checks = vendor::clause_checks(summary, held.rules_checked);
    let verdicts = vendor::verdicts(summary, held, &checks);
    let _ = writeln!(out, "## Verdict per organization\n");
    let _ = writeln!(
        out,
        "| organization | country | role | verdict | errors | warnings | to review | clauses missing | waived |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for v in &verdicts {
        let _ = writeln!(
            out,
            "| {} ({}) | {} | {} | **{}** | {} | {} | {} | {} | {} |",
            md(&v.name),
            md(&v.org),
            md(&v.country),
            md(&v.roles.join(", ")),
            v.verdict.label(),
            v.errors,
            v.warnings,
            v.reviews,
            v.clause_gaps,
            v.waived
        );
    }
    out.push('\n');

    let _ = writeln!(out, "## Findings by organization and law\n");
    if held.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    }
    for (org, laws) in vendor::findings_by_vendor(summary, &verdicts, held) {
        match &org {
            Some(org) => {
                let verdict = verdicts
                    .iter()
                    .find(|v| &v.org == org)
                    .map(|v| v.verdict.label())
                    .unwrap_or("");
                let _ = writeln!(out, "### {} — {verdict}\n", md(summary.org_name(org)));
            }
            None => {
                let _ = writeln!(out, "### Findings not tied to one organization\n");
            }
        }
        for (law, group) in laws {
            let _ = writeln!(out, "#### {}{}\n", md(&law), law_title(held, &law));
            findings_table(out, held, &group);
            out.push('\n');
        }
    }

    let _ = writeln!(out, "## Processing agreements: clause checklist\n");
    if checks.is_empty() {
        let _ = writeln!(
            out,
            "No system is run by a processor for another organization: no processing agreement is needed.\n"
        );
    }
    for c in &checks {
        let agreements = if c.agreements.is_empty() {
            "**no processing agreement declared**".to_string()
        } else {
            format!("agreement {}", md(&c.agreements.join(", ")))
        };
        let _ = writeln!(
            out,
            "### {} for {}\n\nSystems {}; {agreements}; {} clause(s) missing.\n",
            md(summary.org_name(c.processor)),
            md(summary.org_name(c.operator)),
            md(&c.systems.join(", ")),
            c.missing()
        );
        for list in &c.checklists {
            let citation = list.citation();
            let _ = writeln!(out, "{citation}:\n");
            for (clause, meaning, present) in list.items() {
                let _ = writeln!(
                    out,
                    "- [{}] `{clause}` — {}",
                    if present { "x" } else { " " },
                    md(meaning)
                );
            }
            out.push('\n');
        }
        out.spill();
    }

    let _ = writeln!(out, "## Data leaving a country\n");
    let borders = vendor::borders(summary);
    if borders.is_empty() {
        let _ = writeln!(out, "No flow crosses a border.\n");
    } else {
        let _ = writeln!(
            out,
            "| from | to | data categories | flows (transfer mechanism) |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for b in &borders {
            let flows: Vec<String> = b
                .flows
                .iter()
                .map(|(id, m)| {
                    format!(
                        "{} ({})",
                        md(id),
                        m.as_deref()
                            .map(md)
                            .unwrap_or_else(|| "none declared".into())
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(b.from_country),
                md(b.to_country),
                md(&b.categories.iter().cloned().collect::<Vec<_>>().join(", ")),
                flows.join("<br>")
            );
            out.spill();
        }
        out.push('\n');
    }

    // Each section's parts go before the diagram's are made.
    drop((verdicts, checks, borders));
    let _ = writeln!(out, "## Data-flow diagram\n");
    let marks = Marks::from_findings(summary, held.iter().map(|(_, f)| f));
    let _ = writeln!(out, "```mermaid");
    diagram::write_mermaid(summary, &marks, GroupBy::Country, out);
    let _ = writeln!(out, "```\n");
}
