//! A personal-information protection impact assessment skeleton (PIPL Art. 55-56), in
//! Markdown, pre-filled with what the manifests declare: processing purposes and methods,
//! the data and people concerned, recipients, outbound transfers, security measures,
//! earlier assessments and the issues lexflow found. The judgements Art. 56 asks for are
//! left blank for the assessor.

use std::fmt::Write;

use super::{downstream, or_not_declared, RecordOptions};
use crate::findings::{CheckResult, Status};
use crate::manifest::model::{country_of, EntityRef, Flow, ManifestSet, SysIdx, System};
use crate::manifest::FlowGraph;
use crate::report::sanitize::markdown as md;

const BLANK: &str = "_To be completed by the assessor._\n\n&nbsp;\n";

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not declared",
    }
}

/// Said of an index outside the set (cannot come from the loader) instead of a name.
const MISSING: &str = "not in the manifests";

fn org_name(set: &ManifestSet, org: crate::manifest::model::OrgIdx) -> String {
    let Some(o) = set.org(org) else {
        return format!("organization {MISSING}");
    };
    match &o.name {
        Some(n) => format!("{n} ({}, {})", o.id, o.country),
        None => format!("{} ({})", o.id, o.country),
    }
}

/// Renders the skeleton. `result`, when given, adds the open findings of the check.
pub fn render_pipia(
    set: &ManifestSet,
    options: &RecordOptions,
    result: Option<&CheckResult>,
) -> String {
    let graph = FlowGraph::build(set);
    let mut out = String::new();
    let names: Vec<String> = set
        .manifests
        .iter()
        .filter_map(|m| m.name.clone())
        .collect();
    let _ = writeln!(
        out,
        "# Personal information protection impact assessment (PIPL Art. 55-56)\n"
    );
    let _ = writeln!(
        out,
        "| | |\n| --- | --- |\n| subject of the assessment | {} |\n| facts as of | {} |\n| prepared from | the data-flow manifests ({}) by lexflow; facts not declared there are marked \"not declared\" |\n| assessor | |\n| date of assessment | |\n",
        if names.is_empty() { "not declared".to_string() } else { md(&names.join("; ")) },
        options.as_of.map(|d| d.to_string()).unwrap_or_else(|| "not given".into()),
        md(&set.sources.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>().join(", "))
    );

    // 1. Triggers.
    let _ = writeln!(out, "## 1. Why an assessment is required (Art. 55)\n");
    let processors: Vec<String> = set
        .systems
        .iter()
        .filter_map(|s| {
            s.processor
                .filter(|p| *p != s.operator)
                .map(|p| format!("{} runs {}", org_name(set, p), s.id))
        })
        .collect();
    let provided: Vec<String> = set
        .flows
        .iter()
        .filter_map(|f| {
            let (from, to) = (set.system(f.from)?, set.system(f.to)?);
            (f.recipient_role(set) != "processor" && to.operator != from.operator)
                .then(|| format!("{} to {}", f.id, org_name(set, to.operator)))
        })
        .collect();
    // Each outbound flow with its target system.
    let outbound: Vec<(&Flow, &System)> = set
        .flows
        .iter()
        .filter_map(|f| {
            let (from, to) = (set.system(f.from)?, set.system(f.to)?);
            (country_of(&from.location) == "CN" && country_of(&to.location) != "CN")
                .then_some((f, to))
        })
        .collect();
    let automated: Vec<String> = set
        .systems
        .iter()
        .filter(|s| matches!(s.automated_decision.as_deref(), Some("partly" | "solely")))
        .map(|s| s.id.clone())
        .chain(
            set.flows
                .iter()
                .filter(|f| {
                    matches!(
                        f.details().automated_decision.as_deref(),
                        Some("partly" | "solely")
                    )
                })
                .map(|f| f.id.to_string()),
        )
        .collect();
    let mut categories: Vec<String> = Vec::new();
    for s in &set.systems {
        for c in &s.collects {
            for d in &c.data {
                if !categories.iter().any(|c| **c == **d) {
                    categories.push(d.to_string());
                }
            }
        }
    }
    for f in &set.flows {
        for d in &f.data {
            if !categories.iter().any(|c| **c == **d) {
                categories.push(d.to_string());
            }
        }
    }
    let public: Vec<String> = set
        .systems
        .iter()
        .filter(|s| s.public_space == Some(true))
        .map(|s| s.id.clone())
        .collect();
    let minors: Vec<String> = set
        .systems
        .iter()
        .flat_map(|s| {
            s.collects.iter().filter_map(move |c| {
                c.youngest_age
                    .filter(|&a| a < 18)
                    .map(|a| format!("{} (from age {a})", s.id))
            })
        })
        .collect();
    let _ = writeln!(
        out,
        "| Art. 55 | what the manifests declare | applies? |\n| --- | --- | --- |"
    );
    let _ = writeln!(
        out,
        "| (1) processing sensitive personal information | categories processed: {} — mark those sensitive under Art. 28 (biometrics, religion, specific identity, health, financial accounts, whereabouts, minors under 14) | |",
        md(&or_not_declared(&categories))
    );
    let _ = writeln!(
        out,
        "| (2) automated decision-making | {} | |",
        md(&if automated.is_empty() {
            "none declared".to_string()
        } else {
            automated.join(", ")
        })
    );
    let _ = writeln!(
        out,
        "| (3) entrusted processing, provision to other processors, public disclosure | entrusted: {}; provided to others: {} | |",
        md(&if processors.is_empty() { "none".to_string() } else { processors.join("; ") }),
        md(&if provided.is_empty() { "none".to_string() } else { provided.join("; ") })
    );
    let _ = writeln!(
        out,
        "| (4) provision abroad | {} | |",
        md(&if outbound.is_empty() {
            "none declared".to_string()
        } else {
            outbound
                .iter()
                .map(|(f, _)| f.id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
    );
    let _ = writeln!(
        out,
        "| (5) other processing with a major impact | public spaces: {}; minors: {} | |\n",
        md(&if public.is_empty() {
            "none declared".to_string()
        } else {
            public.join(", ")
        }),
        md(&if minors.is_empty() {
            "none declared".to_string()
        } else {
            minors.join(", ")
        })
    );

    // 2. Activities.
    let _ = writeln!(
        out,
        "## 2. Processing: purpose, method, scope (Art. 56(1))\n"
    );
    let _ = writeln!(
        out,
        "| system | operator / processor | location | purpose and legal basis | method | personal information | people | retention |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for system in &set.systems {
        if system.collects.is_empty() {
            continue;
        }
        for c in &system.collects {
            let mut method = system.kind.to_string();
            if system.public_space == Some(true) {
                method.push_str(", in a public space");
            }
            if let Some(signage) = system.signage {
                let _ = write!(method, ", signage: {}", yes_no(Some(signage)));
            }
            if let Some(a) = &system.automated_decision {
                let _ = write!(method, ", automated decision: {a}");
            }
            let purpose = format!(
                "{} (basis: {}; consent: {}; notice: {})",
                c.purpose.as_deref().unwrap_or("not declared"),
                c.legal_basis.as_deref().unwrap_or("not declared"),
                c.consent.as_deref().unwrap_or("not declared"),
                yes_no(c.notice)
            );
            let mut people = c.subjects.as_deref().unwrap_or("not declared").to_string();
            if let Some(n) = c.individuals {
                let _ = write!(people, ", about {n} a year");
            }
            if let Some(age) = c.youngest_age {
                let _ = write!(people, ", youngest aged {age}");
            }
            let who = match system.processor {
                Some(p) => format!("{} / {}", org_name(set, system.operator), org_name(set, p)),
                None => org_name(set, system.operator),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&system.id),
                md(&who),
                md(&system.location),
                md(&purpose),
                md(&method),
                md(&c.data.join(", ")),
                md(&people),
                system
                    .retention_days
                    .map(|d| format!("{d} days"))
                    .unwrap_or_else(|| "not declared".into())
            );
        }
    }
    out.push('\n');

    // 3. Flows and recipients.
    let _ = writeln!(out, "## 3. Flows and recipients\n");
    let _ = writeln!(out, "| flow | from | to | recipient | role | personal information | purpose | encrypted in transit |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut reached = vec![false; set.flows.len()];
    for (i, system) in set.systems.iter().enumerate() {
        for c in &system.collects {
            for f in downstream(set, &graph, SysIdx(i as u32), &c.data) {
                if let Some(r) = reached.get_mut(f.0 as usize) {
                    *r = true;
                }
            }
        }
    }
    for (f, &reached) in set.flows.iter().zip(&reached) {
        let to = set.system(f.to);
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
            md(&f.id),
            if reached {
                ""
            } else {
                " (not traced to a declared collection)"
            },
            md(set.system(f.from).map_or(MISSING, |s| s.id.as_str())),
            md(&to.map_or_else(
                || MISSING.to_string(),
                |to| format!("{} ({})", to.id, to.location)
            )),
            md(&to.map_or_else(|| MISSING.to_string(), |to| org_name(set, to.operator))),
            md(f.recipient_role(set)),
            md(&f.data.join(", ")),
            md(f.purpose.as_deref().unwrap_or("not declared")),
            yes_no(f.encrypted)
        );
    }
    out.push('\n');

    // 4. Outbound.
    let _ = writeln!(
        out,
        "## 4. Provision of personal information abroad (Art. 38-40)\n"
    );
    if outbound.is_empty() {
        let _ = writeln!(
            out,
            "No flow from mainland China to a system outside it is declared.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "| flow | to (country) | foreign recipient | personal information | people a year | route | contract (filed) | separate consent |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
        );
        for &(f, to) in &outbound {
            let route = match (&f.transfer, &f.exemption) {
                (Some(t), _) => t.mechanism.as_deref().unwrap_or("not declared").to_string(),
                (None, Some(e)) => format!("exemption: {}", e.basis),
                (None, None) => "NONE DECLARED".to_string(),
            };
            let contract = f
                .transfer
                .as_ref()
                .and_then(|t| t.contract)
                .map(|c| {
                    let Some(c) = set.contract(c) else {
                        return format!("contract {MISSING}");
                    };
                    format!(
                        "{} ({})",
                        c.id,
                        c.filed
                            .map(|d| format!("filed {d}"))
                            .unwrap_or_else(|| "filing not declared".into())
                    )
                })
                .unwrap_or_else(|| "none".into());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&f.id),
                md(&format!("{} ({})", to.id, country_of(&to.location))),
                md(&org_name(set, to.processor.unwrap_or(to.operator))),
                md(&f.data.join(", ")),
                f.individuals
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "not declared".into()),
                md(&route),
                md(&contract),
                md(f.consent.as_deref().unwrap_or("not declared"))
            );
        }
        out.push('\n');
    }

    // 5. Security.
    let _ = writeln!(out, "## 5. Security and protective measures (Art. 51)\n");
    let _ = writeln!(
        out,
        "| system | measures | log retention |\n| --- | --- | --- |"
    );
    for s in &set.systems {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            md(&s.id),
            md(&s
                .security
                .as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| v.join(", "))
                .unwrap_or_else(|| "not declared".into())),
            s.log_retention_days
                .map(|d| format!("{d} days"))
                .unwrap_or_else(|| "not declared".into())
        );
    }
    out.push('\n');

    // 6. Earlier assessments.
    let _ = writeln!(out, "## 6. Earlier assessments\n");
    if set.assessments.is_empty() {
        let _ = writeln!(out, "None declared.\n");
    } else {
        let _ = writeln!(out, "| assessment | kind | covers | date | residual risk | valid until |\n| --- | --- | --- | --- | --- | --- |");
        for a in &set.assessments {
            let covers: Vec<String> = a
                .covers
                .iter()
                .map(|&r: &EntityRef| set.id_and_loc(r).map_or(MISSING, |(id, _)| id).to_string())
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md(&a.id),
                md(&a.kind),
                md(&covers.join(", ")),
                a.date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "not declared".into()),
                md(a.residual_risk.as_deref().unwrap_or("not declared")),
                a.valid_until
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "not declared".into())
            );
        }
        out.push('\n');
    }

    // 7. Findings.
    if let Some(result) = result {
        let _ = writeln!(out, "## 7. Issues found by lexflow\n");
        let open: Vec<_> = result
            .findings
            .iter()
            .filter(|f| f.status == Status::Open)
            .collect();
        if open.is_empty() {
            let _ = writeln!(out, "No open findings.\n");
        } else {
            let _ = writeln!(out, "| severity | rule | citation | subject | finding | remedy |\n| --- | --- | --- | --- | --- | --- |");
            for f in open {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} {} | {} | {} |",
                    f.severity.as_str(),
                    md(&f.rule),
                    md(&f.citation),
                    md(f.subject.kind),
                    md(&f.subject.id),
                    md(&f.message),
                    md(&f.remediation)
                );
            }
            out.push('\n');
        }
    }

    // 8. Judgement.
    let _ = writeln!(out, "## 8. Assessment (Art. 56)\n");
    let _ = writeln!(out, "### 8.1 Are the purpose and method of processing lawful, legitimate and necessary? (Art. 56(1))\n\n{BLANK}");
    let _ = writeln!(out, "### 8.2 Impact on individuals' rights and interests, and security risks (Art. 56(2))\n\n{BLANK}");
    let _ = writeln!(out, "### 8.3 Are the protective measures lawful, effective and proportionate to the risk? (Art. 56(3))\n\n{BLANK}");
    let _ = writeln!(
        out,
        "### 8.4 Conclusion, residual risk (low / medium / high) and measures to take\n\n{BLANK}"
    );
    let _ = writeln!(
        out,
        "## 9. Sign-off\n\n| role | name | date | signature |\n| --- | --- | --- | --- |\n| assessor | | | |\n| personal information protection officer (Art. 52) | | | |\n| approved by | | | |\n\nThe assessment report and the processing records must be kept for at least three years (Art. 56)."
    );
    out
}
