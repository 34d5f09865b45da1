//! The GDPR Art. 30(1) record of processing activities (ROPA).
//!
//! One row per processing activity: each `collects` entry of a system is an activity, with
//! the flows that carry its data onwards (to recipients, across borders); a system that
//! sends data without declaring any collection of its own gets one activity for what it
//! sends. Columns follow Art. 30(1)(a)-(g).

use std::fmt::Write;

use super::{downstream, or_not_declared, push_unique, RecordOptions};
use crate::manifest::model::{
    country_of, ContractIdx, FlowIdx, ManifestSet, OrgIdx, SysIdx, System, Term,
};
use crate::manifest::FlowGraph;
use crate::report::sanitize::{inert, markdown as md};

/// One row of the record.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Activity {
    /// `system-id` for the first collection of a system, `system-id#2` for the second...
    pub id: String,
    pub system: String,
    /// Manifest position of the collection (or of the system).
    pub position: String,
    /// (a) controller: name, id, country.
    pub controller: String,
    /// (a) contact details: the manifest has no contact field, so this says where to add it.
    pub contact: String,
    /// (a) representative (GDPR Art. 27 / PIPL Art. 53).
    pub representative: String,
    /// (a) data protection officer.
    pub dpo: String,
    /// (b) purposes, with the legal basis of each.
    pub purposes: Vec<String>,
    /// (c) categories of data subjects.
    pub subjects: Vec<String>,
    /// (c) categories of personal data.
    pub categories: Vec<String>,
    /// (d) recipients, with their country.
    pub recipients: Vec<String>,
    /// (e) transfers to third countries, with the safeguard.
    pub transfers: Vec<String>,
    /// (f) time limits for erasure.
    pub retention: Vec<String>,
    /// (g) technical and organisational security measures.
    pub security: Vec<String>,
}

/// The CSV / Markdown column headers, in Art. 30(1) order.
pub const COLUMNS: [&str; 14] = [
    "activity",
    "system",
    "Art. 30(1)(a) controller",
    "Art. 30(1)(a) contact details",
    "Art. 30(1)(a) representative",
    "Art. 30(1)(a) data protection officer",
    "Art. 30(1)(b) purposes of the processing",
    "Art. 30(1)(c) categories of data subjects",
    "Art. 30(1)(c) categories of personal data",
    "Art. 30(1)(d) recipients (incl. in third countries)",
    "Art. 30(1)(e) transfers to third countries and safeguards",
    "Art. 30(1)(f) time limits for erasure",
    "Art. 30(1)(g) technical and organisational security measures",
    "manifest",
];

impl Activity {
    pub fn cells(&self) -> [String; 14] {
        [
            self.id.clone(),
            self.system.clone(),
            self.controller.clone(),
            self.contact.clone(),
            self.representative.clone(),
            self.dpo.clone(),
            or_not_declared(&self.purposes),
            or_not_declared(&self.subjects),
            or_not_declared(&self.categories),
            if self.recipients.is_empty() {
                "none declared".to_string()
            } else {
                self.recipients.join("; ")
            },
            if self.transfers.is_empty() {
                "none".to_string()
            } else {
                self.transfers.join("; ")
            },
            or_not_declared(&self.retention),
            or_not_declared(&self.security),
            self.position.clone(),
        ]
    }
}

/// `name [id], country`; an index outside the set (cannot come from the loader) is said
/// so in the cell rather than guessed.
fn org_label(set: &ManifestSet, org: OrgIdx) -> String {
    let Some(o) = set.org(org) else {
        return "organization not in the manifests".to_string();
    };
    match &o.name {
        Some(name) => format!("{name} [{}], {}", o.id, o.country),
        None => format!("{} [{}], {}", o.id, o.id, o.country),
    }
}

fn position(set: &ManifestSet, loc: crate::source::Loc) -> String {
    format!("{}:{}", set.sources.name(loc.file), loc.line)
}

/// Sets `covered[f]`; an index outside the list (cannot happen: one entry per flow) is
/// ignored.
fn mark(covered: &mut [bool], f: FlowIdx) {
    if let Some(c) = covered.get_mut(f.0 as usize) {
        *c = true;
    }
}

fn system_facts(system: &System, activity: &mut Activity) {
    let retention = match system.retention_days {
        Some(days) => format!("{}: {days} days", system.id),
        None => format!("{}: not declared", system.id),
    };
    push_unique(&mut activity.retention, retention);
    if let Some(security) = &system.security {
        if !security.is_empty() {
            push_unique(
                &mut activity.security,
                format!("{}: {}", system.id, security.join(", ")),
            );
        }
    }
}

fn flow_facts(
    set: &ManifestSet,
    f: FlowIdx,
    controller: OrgIdx,
    options: &RecordOptions,
    activity: &mut Activity,
) {
    let Some(flow) = set.flow(f) else { return };
    let (Some(to), Some(from)) = (set.system(flow.to), set.system(flow.from)) else {
        return;
    };
    if let Some(purpose) = &flow.purpose {
        let basis = flow
            .legal_basis
            .as_ref()
            .map(|b| format!(" (basis: {b})"))
            .unwrap_or_default();
        push_unique(&mut activity.purposes, format!("{purpose}{basis}"));
    }
    let country = country_of(&to.location);
    if to.operator != controller {
        push_unique(
            &mut activity.recipients,
            format!(
                "{} as {} in {country} (flow {})",
                org_label(set, to.operator),
                flow.recipient_role(set),
                flow.id
            ),
        );
    }
    if let Some(p) = to.processor {
        if p != controller {
            push_unique(
                &mut activity.recipients,
                format!(
                    "{} as processor running {} in {country}",
                    org_label(set, p),
                    to.id
                ),
            );
        }
    }
    if options.is_transfer(&from.location, &to.location) {
        let safeguard = match &flow.transfer {
            Some(t) => {
                let mut text = t
                    .mechanism
                    .as_deref()
                    .unwrap_or("mechanism not declared")
                    .to_string();
                if let Some(c) = t.contract {
                    let _ = write!(text, " (contract {})", contract_id(set, c));
                }
                text
            }
            None => match &flow.exemption {
                Some(e) => format!("no mechanism; exemption claimed: {}", e.basis),
                None => "NO SAFEGUARD DECLARED".to_string(),
            },
        };
        push_unique(
            &mut activity.transfers,
            format!(
                "{}: {} → {} ({}), {}",
                flow.id,
                country_of(&from.location),
                country,
                flow.data.join(", "),
                safeguard
            ),
        );
    }
    if flow.encrypted == Some(true) {
        push_unique(
            &mut activity.security,
            format!("{}: encrypted in transit", flow.id),
        );
    }
    system_facts(to, activity);
}

fn contract_id(set: &ManifestSet, c: ContractIdx) -> &str {
    set.contract(c)
        .map_or("not in the manifests", |c| c.id.as_str())
}

fn new_activity(set: &ManifestSet, id: String, system: &System, position: String) -> Activity {
    let controller = set.org(system.operator);
    Activity {
        id,
        system: system.id.clone(),
        position,
        controller: org_label(set, system.operator),
        contact: "not declared (add the controller's contact details)".to_string(),
        representative: match controller.and_then(|c| c.representative_in.as_ref()) {
            Some(list) if !list.is_empty() => format!("appointed in {}", list.join(", ")),
            Some(_) | None => "not declared".to_string(),
        },
        dpo: match controller.and_then(|c| c.dpo) {
            Some(true) => "appointed".to_string(),
            Some(false) => "none".to_string(),
            None => "not declared".to_string(),
        },
        purposes: Vec::new(),
        subjects: Vec::new(),
        categories: Vec::new(),
        recipients: Vec::new(),
        transfers: Vec::new(),
        retention: Vec::new(),
        security: Vec::new(),
    }
}

/// Builds the record: activities sorted by controller, then system declaration order.
pub fn activities(set: &ManifestSet, options: &RecordOptions) -> Vec<Activity> {
    let graph = FlowGraph::build(set);
    let mut rows: Vec<(String, Activity)> = Vec::new();
    let mut covered = vec![false; set.flows.len()];
    for (i, system) in set.systems.iter().enumerate() {
        let s = SysIdx(i as u32);
        for (n, collection) in system.collects.iter().enumerate() {
            let id = if n == 0 {
                system.id.clone()
            } else {
                format!("{}#{}", system.id, n.saturating_add(1))
            };
            let mut a = new_activity(set, id, system, position(set, collection.loc));
            if let Some(purpose) = &collection.purpose {
                let basis = collection
                    .legal_basis
                    .as_ref()
                    .map(|b| format!(" (basis: {b})"))
                    .unwrap_or_default();
                push_unique(&mut a.purposes, format!("{purpose}{basis}"));
            }
            let mut subjects = collection
                .subjects
                .as_deref()
                .unwrap_or("not declared")
                .to_string();
            if let Some(places) = &collection.subjects_in {
                let _ = write!(subjects, " (in {})", places.join(", "));
            }
            if let Some(age) = collection.youngest_age {
                let _ = write!(subjects, ", youngest aged {age}");
            }
            if let Some(n) = collection.individuals {
                let _ = write!(subjects, ", about {n} people a year");
            }
            push_unique(&mut a.subjects, subjects);
            for d in &collection.data {
                push_unique(&mut a.categories, d.to_string());
            }
            if let Some(p) = system.processor {
                if p != system.operator {
                    push_unique(
                        &mut a.recipients,
                        format!(
                            "{} as processor running {} in {}",
                            org_label(set, p),
                            system.id,
                            country_of(&system.location)
                        ),
                    );
                }
            }
            system_facts(system, &mut a);
            for f in downstream(set, &graph, s, &collection.data) {
                mark(&mut covered, f);
                flow_facts(set, f, system.operator, options, &mut a);
                for d in set.flow(f).iter().flat_map(|flow| &flow.data) {
                    push_unique(&mut a.categories, d.to_string());
                }
            }
            rows.push((org_id(set, system.operator), a));
        }
    }
    // Systems that send data not traced to any declared collection.
    for (i, system) in set.systems.iter().enumerate() {
        let s = SysIdx(i as u32);
        let uncovered: Vec<FlowIdx> = graph
            .flows_out(s)
            .iter()
            .copied()
            .filter(|f| !covered.get(f.0 as usize).copied().unwrap_or(false))
            .collect();
        if uncovered.is_empty() {
            continue;
        }
        let mut a = new_activity(
            set,
            format!("{} (sent data)", system.id),
            system,
            position(set, system.loc),
        );
        push_unique(
            &mut a.subjects,
            "not declared (no collection on this system)".into(),
        );
        system_facts(system, &mut a);
        let data: Vec<Term> = uncovered
            .iter()
            .filter_map(|&f| set.flow(f))
            .flat_map(|flow| flow.data.clone())
            .collect();
        for f in uncovered {
            mark(&mut covered, f);
            flow_facts(set, f, system.operator, options, &mut a);
        }
        for f in downstream(set, &graph, s, &data) {
            mark(&mut covered, f);
            flow_facts(set, f, system.operator, options, &mut a);
        }
        for d in data {
            push_unique(&mut a.categories, d.to_string());
        }
        rows.push((org_id(set, system.operator), a));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter().map(|(_, a)| a).collect()
}

/// The sort key of a row: its controller's id (empty for an index outside the set).
fn org_id(set: &ManifestSet, org: OrgIdx) -> String {
    set.org(org).map(|o| o.id.clone()).unwrap_or_default()
}

/// A CSV cell: inert, quoted when needed, and a leading `=`, `+`, `-`, `@`, tab or CR
/// neutralised with a `'` so spreadsheets do not run it as a formula.
pub fn csv_cell(text: &str) -> String {
    let mut text = inert(text).into_owned();
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The record as CSV (RFC 4180, CRLF line ends), one row per activity.
pub fn render_csv(activities: &[Activity]) -> String {
    let mut out = String::new();
    let header: Vec<String> = COLUMNS.iter().map(|c| csv_cell(c)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for a in activities {
        let cells: Vec<String> = a.cells().iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The record as a Markdown table, one row per activity.
pub fn render_markdown(
    activities: &[Activity],
    names: &[String],
    options: &RecordOptions,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Record of processing activities (GDPR Art. 30(1))\n");
    if !names.is_empty() {
        let _ = writeln!(out, "Manifests: {}\n", md(&names.join("; ")));
    }
    if let Some(date) = options.as_of {
        let _ = writeln!(out, "As of {date}. ");
    }
    let _ = writeln!(
        out,
        "Drawn from the data-flow manifests by lexflow: what they do not declare is marked \"not declared\" and must be completed by the controller.\n"
    );
    let _ = writeln!(out, "| {} |", COLUMNS.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(COLUMNS.len()));
    for a in activities {
        let cells: Vec<String> = a.cells().iter().map(|c| md(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}
