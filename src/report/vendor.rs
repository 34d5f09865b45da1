//! The procurement view of a result, shared by the HTML and Markdown reports: a verdict per
//! organization, findings grouped by organization and law, the checklist of clauses missing
//! from processing agreements, and which data leaves which country.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::diagram::{ContractSummary, ManifestSummary};
use super::Held;
use crate::findings::{RuleInfo, Severity, Status};
use crate::manifest::model::country_of;

/// What procurement should do about a vendor, worst first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Verdict {
    /// Open errors: do not sign as proposed.
    Blocking,
    /// Warnings or contract gaps: sign only with the conditions listed.
    Conditions,
    /// Points a lawyer must judge before signing.
    Review,
    /// Nothing found.
    Clear,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Blocking => "blocking",
            Verdict::Conditions => "sign with conditions",
            Verdict::Review => "legal review",
            Verdict::Clear => "no findings",
        }
    }

    /// A CSS class / short key.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Blocking => "blocking",
            Verdict::Conditions => "conditions",
            Verdict::Review => "review",
            Verdict::Clear => "clear",
        }
    }
}

/// One organization's verdict and the counts behind it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VendorVerdict {
    pub org: String,
    pub name: String,
    pub country: String,
    pub kind: String,
    /// "operator of 2 systems", "processor of 1 system".
    pub roles: Vec<String>,
    pub verdict: Verdict,
    pub errors: usize,
    pub warnings: usize,
    pub reviews: usize,
    pub waived: usize,
    /// Clauses missing from its processing agreements (as processor).
    pub clause_gaps: usize,
}

/// GDPR Art. 28(3): the clause vocabulary with the letters it stands for.
pub const GDPR_28_CLAUSES: [(&str, &str); 7] = [
    (
        "instructions",
        "Art. 28(3)(a): processes only on documented instructions",
    ),
    (
        "confidentiality",
        "Art. 28(3)(b): persons authorised are bound to confidentiality",
    ),
    (
        "security",
        "Art. 28(3)(c): takes the Art. 32 security measures",
    ),
    (
        "subprocessors",
        "Art. 28(3)(d): engages sub-processors only as Art. 28(2), (4) allow",
    ),
    (
        "assistance",
        "Art. 28(3)(e)-(f): assists with data subjects' rights and Art. 32-36 duties",
    ),
    (
        "deletion",
        "Art. 28(3)(g): deletes or returns the data at the end of the service",
    ),
    (
        "audit",
        "Art. 28(3)(h): makes information available and allows audits",
    ),
];

/// PIPL Art. 21: what an entrustment agreement must settle.
pub const PIPL_21_CLAUSES: [(&str, &str); 6] = [
    ("purpose", "Art. 21: purpose of the entrusted processing"),
    ("duration", "Art. 21: duration"),
    ("method", "Art. 21: method of processing"),
    ("categories", "Art. 21: categories of personal information"),
    ("security", "Art. 21: protection measures"),
    (
        "rights_obligations",
        "Art. 21: rights and obligations of both sides",
    ),
];

/// One law's checklist for one operator–processor pair.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LawChecklist {
    /// "GDPR" (Art. 28(3)) or "PIPL" (Art. 21).
    pub law: &'static str,
    /// Bit `i` is set when clause `i` of the law's list is in an agreement (a list of
    /// thirteen flags a pair was 0.86 MiB of a 10k-flow Markdown report).
    present: u16,
}

impl LawChecklist {
    /// The law's clauses: (clause, what it means).
    pub fn clauses(&self) -> &'static [(&'static str, &'static str)] {
        if self.law == "GDPR" {
            &GDPR_28_CLAUSES
        } else {
            &PIPL_21_CLAUSES
        }
    }

    /// The article the clauses come from, as the reports head the list.
    pub fn citation(&self) -> &'static str {
        if self.law == "GDPR" {
            "GDPR Art. 28(3)(a)-(h)"
        } else {
            "PIPL Art. 21"
        }
    }

    /// (clause, what it means, present in an agreement), in the law's order.
    pub fn items(&self) -> impl Iterator<Item = (&'static str, &'static str, bool)> + '_ {
        self.clauses()
            .iter()
            .enumerate()
            .map(|(i, &(clause, meaning))| (clause, meaning, self.present & (1 << i) != 0))
    }
}

/// The processing agreements between the operator and the processor of some systems (ids
/// borrowed from the summary).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClauseCheck<'s> {
    pub operator: &'s str,
    pub processor: &'s str,
    pub systems: Vec<&'s str>,
    /// Ids of the `processing_agreement` contracts between the two.
    pub agreements: Vec<&'s str>,
    pub checklists: Vec<LawChecklist>,
}

impl ClauseCheck<'_> {
    pub fn missing(&self) -> usize {
        self.checklists
            .iter()
            .map(|c| c.items().filter(|i| !i.2).count())
            .sum()
    }
}

/// The laws whose clause lists apply: those among the checked rules (GDPR, UK-GDPR → Art. 28;
/// PIPL → Art. 21); both when the result names neither (a custom policy).
fn clause_laws(rules_checked: &[RuleInfo]) -> Vec<&'static str> {
    let laws: BTreeSet<&str> = rules_checked.iter().map(|r| r.law.as_str()).collect();
    let mut out = Vec::new();
    if laws.contains("GDPR") || laws.contains("UK-GDPR") {
        out.push("GDPR");
    }
    if laws.contains("PIPL") {
        out.push("PIPL");
    }
    if out.is_empty() {
        out = vec!["GDPR", "PIPL"];
    }
    out
}

/// The clause checklist of every operator–processor pair (systems whose processor is
/// another organization), in order of first declaration.
pub fn clause_checks<'s>(
    summary: &'s ManifestSummary,
    rules_checked: &[RuleInfo],
) -> Vec<ClauseCheck<'s>> {
    let laws = clause_laws(rules_checked);
    let mut pairs: Vec<ClauseCheck<'s>> = Vec::new();
    // Look-ups by id, not scans: a city has thousands of pairs and contracts.
    let mut pair_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut agreements_of: HashMap<&str, Vec<&ContractSummary>> = HashMap::new();
    for contract in summary
        .contracts
        .iter()
        .filter(|c| c.kind == "processing_agreement")
    {
        let parties: BTreeSet<&str> = contract.parties.iter().map(String::as_str).collect();
        for party in parties {
            agreements_of.entry(party).or_default().push(contract);
        }
    }
    for system in &summary.systems {
        let Some(processor) = &system.processor else {
            continue;
        };
        if *processor == system.operator {
            continue;
        }
        if let Some(check) = pair_of
            .get(&(system.operator.as_str(), processor.as_str()))
            .and_then(|&i| pairs.get_mut(i))
        {
            check.systems.push(&system.id);
            continue;
        }
        pair_of.insert((&system.operator, processor), pairs.len());
        // In the order of the contracts, as a scan of them would list them.
        let agreements: Vec<&ContractSummary> = agreements_of
            .get(system.operator.as_str())
            .map(|contracts| {
                contracts
                    .iter()
                    .copied()
                    .filter(|c| c.parties.contains(processor))
                    .collect()
            })
            .unwrap_or_default();
        let present: BTreeSet<&str> = agreements
            .iter()
            .flat_map(|c| c.clauses.iter().flatten().map(String::as_str))
            .collect();
        let checklists = laws
            .iter()
            .map(|&law| {
                let mut list = LawChecklist { law, present: 0 };
                for (i, (clause, _)) in list.clauses().iter().enumerate() {
                    if present.contains(clause) {
                        list.present |= 1 << i;
                    }
                }
                list
            })
            .collect();
        pairs.push(ClauseCheck {
            operator: &system.operator,
            processor,
            systems: vec![&system.id],
            agreements: agreements.iter().map(|c| c.id.as_str()).collect(),
            checklists,
        });
    }
    pairs
}

/// Verdicts for every declared organization, worst first, then by name.
pub fn verdicts(
    summary: &ManifestSummary,
    held: &Held<'_>,
    checks: &[ClauseCheck<'_>],
) -> Vec<VendorVerdict> {
    // Counts by organization in one pass each, not a scan of the systems per organization.
    let mut operated_by: HashMap<&str, usize> = HashMap::new();
    let mut processed_by: HashMap<&str, usize> = HashMap::new();
    for system in &summary.systems {
        *operated_by.entry(&system.operator).or_default() += 1;
        if let Some(processor) = &system.processor {
            *processed_by.entry(processor).or_default() += 1;
        }
    }
    let mut gaps_of: HashMap<&str, usize> = HashMap::new();
    for check in checks {
        let gaps = gaps_of.entry(check.processor).or_default();
        *gaps = gaps.saturating_add(check.missing());
    }
    let mut out: Vec<VendorVerdict> = summary
        .organizations
        .iter()
        .map(|o| {
            let operated = operated_by.get(o.id.as_str()).copied().unwrap_or(0);
            let processed = processed_by.get(o.id.as_str()).copied().unwrap_or(0);
            let plural = |n: usize| if n == 1 { "system" } else { "systems" };
            let mut roles = Vec::new();
            if operated > 0 {
                roles.push(format!("operator of {operated} {}", plural(operated)));
            }
            if processed > 0 {
                roles.push(format!("processor of {processed} {}", plural(processed)));
            }
            VendorVerdict {
                org: o.id.clone(),
                name: o.name.clone().unwrap_or_else(|| o.id.clone()),
                country: o.country.clone(),
                kind: o.kind.clone(),
                roles,
                verdict: Verdict::Clear,
                errors: 0,
                warnings: 0,
                reviews: 0,
                waived: 0,
                clause_gaps: gaps_of.get(o.id.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    // The first verdict of each organization id, as a scan would find.
    let mut verdict_of: HashMap<String, usize> = HashMap::new();
    for (i, v) in out.iter().enumerate() {
        verdict_of.entry(v.org.clone()).or_insert(i);
    }
    for (_, finding) in held.iter() {
        for org in summary.orgs_of_finding(&finding) {
            let Some(v) = verdict_of.get(&org).and_then(|&i| out.get_mut(i)) else {
                continue;
            };
            match (finding.status, finding.severity) {
                (Status::Waived, _) => v.waived = v.waived.saturating_add(1),
                (Status::Open, Severity::Error) => v.errors = v.errors.saturating_add(1),
                (Status::Open, Severity::Warning) => v.warnings = v.warnings.saturating_add(1),
                (Status::Open, Severity::Review) => v.reviews = v.reviews.saturating_add(1),
            }
        }
    }
    for v in &mut out {
        v.verdict = if v.errors > 0 {
            Verdict::Blocking
        } else if v.warnings > 0 || v.clause_gaps > 0 {
            Verdict::Conditions
        } else if v.reviews > 0 {
            Verdict::Review
        } else {
            Verdict::Clear
        };
    }
    out.sort_by(|a, b| (a.verdict, &a.name, &a.org).cmp(&(b.verdict, &b.name, &b.org)));
    out
}

/// Findings of one organization (`None`: of none), by law: their places in report order.
pub type VendorGroup = (Option<String>, BTreeMap<String, Vec<usize>>);

/// Findings grouped by organization (in the order of `verdicts`), then by law. Findings that
/// concern no declared organization come last under `None`. A finding that concerns several
/// organizations is listed under each.
pub fn findings_by_vendor(
    summary: &ManifestSummary,
    verdicts: &[VendorVerdict],
    held: &Held<'_>,
) -> Vec<VendorGroup> {
    let mut groups: Vec<VendorGroup> = verdicts
        .iter()
        .map(|v| (Some(v.org.clone()), BTreeMap::new()))
        .collect();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (i, v) in verdicts.iter().enumerate() {
        group_of.entry(v.org.clone()).or_insert(i);
    }
    let mut other: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, finding) in held.iter() {
        let orgs = summary.orgs_of_finding(&finding);
        let mut placed = false;
        for org in &orgs {
            if let Some((_, laws)) = group_of.get(org).and_then(|&i| groups.get_mut(i)) {
                laws.entry(finding.law.to_string()).or_default().push(k);
                placed = true;
            }
        }
        if !placed {
            other.entry(finding.law.to_string()).or_default().push(k);
        }
    }
    groups.retain(|(_, laws)| !laws.is_empty());
    if !other.is_empty() {
        groups.push((None, other));
    }
    groups
}

/// Data that leaves a country: flows whose ends lie in different countries (texts
/// borrowed from the summary).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Border<'s> {
    pub from_country: &'s str,
    pub to_country: &'s str,
    pub categories: BTreeSet<&'s str>,
    /// (flow id, transfer mechanism if declared)
    pub flows: Vec<(&'s str, Option<&'s str>)>,
}

/// One row per (from country, to country), sorted.
pub fn borders(summary: &ManifestSummary) -> Vec<Border<'_>> {
    let mut map: BTreeMap<(&str, &str), Border<'_>> = BTreeMap::new();
    for flow in &summary.flows {
        let (Some(from), Some(to)) = (summary.end_country(flow.from), summary.end_country(flow.to))
        else {
            continue;
        };
        if from == to {
            continue;
        }
        let entry = map.entry((from, to)).or_insert_with(|| Border {
            from_country: from,
            to_country: to,
            categories: BTreeSet::new(),
            flows: Vec::new(),
        });
        for category in &flow.data {
            entry.categories.insert(category);
        }
        entry.flows.push((&flow.id, flow.mechanism.as_deref()));
    }
    map.into_values().collect()
}

/// The overall verdict of a set of verdicts (the worst).
pub fn overall(verdicts: &[VendorVerdict]) -> Verdict {
    verdicts
        .iter()
        .map(|v| v.verdict)
        .min()
        .unwrap_or(Verdict::Clear)
}

/// Country of a location, re-exported for the renderers.
pub fn country(location: &str) -> &str {
    country_of(location)
}
