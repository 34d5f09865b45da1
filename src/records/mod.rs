//! Records a city must keep or file, drawn from the manifests: the GDPR Art. 30(1) record
//! of processing activities ([`ropa`]) and a PIPL Art. 55-56 personal-information impact
//! assessment skeleton ([`pipia`]).
//!
//! Both state only what the manifests declare; what they do not declare is written as
//! "not declared", never guessed. Every manifest string is made inert for the output
//! format (CSV, Markdown).

pub mod pipia;
pub mod ropa;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::date::Date;
use crate::lang::Program;
use crate::manifest::model::{country_of, FlowIdx, ManifestSet, SysIdx, Term};
use crate::manifest::FlowGraph;

/// Facts from the rule files the records need: which countries are in the EEA on the
/// as-of date (so a recipient outside it is a "third country" in GDPR's sense).
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// `None` when the loaded policies define no `EEA` group: then every border crossing is
    /// listed as a transfer.
    pub eea: Option<BTreeSet<String>>,
    pub as_of: Option<Date>,
}

impl RecordOptions {
    /// Reads the `EEA` country group in force at `as_of` from the compiled policies.
    pub fn from_program(program: &Program, as_of: Date) -> RecordOptions {
        let eea = program
            .country_sets
            .iter()
            .find(|s| s.name == "EEA")
            .map(|set| {
                set.entries
                    .iter()
                    .filter(|e| {
                        e.from.is_none_or(|d| d <= as_of) && e.until.is_none_or(|d| as_of < d)
                    })
                    .map(|e| e.code.clone())
                    .collect()
            });
        RecordOptions {
            eea,
            as_of: Some(as_of),
        }
    }

    /// Whether data moving from `from` to `to` (locations) is a transfer to a third country:
    /// with an EEA list, when it leaves the EEA (or moves between two non-EEA countries);
    /// without one, whenever the country changes.
    pub fn is_transfer(&self, from: &str, to: &str) -> bool {
        let (a, b) = (country_of(from), country_of(to));
        if a == b {
            return false;
        }
        match &self.eea {
            Some(eea) => !eea.contains(b) || !eea.contains(a),
            None => true,
        }
    }
}

/// Whether two data categories are related: equal, or one lies under the other
/// (`biometric` and `biometric.facial`).
pub(crate) fn related(a: &str, b: &str) -> bool {
    let under = |longer: &str, prefix: &str| {
        longer
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    a == b || under(a, b) || under(b, a)
}

/// The flows that carry data collected at `start` onwards: a breadth-first walk that
/// follows a flow when it carries a category related to what reached its source (the
/// collected categories at the start, then what the flow in carried). Each system is
/// expanded once, so the walk is linear in the graph. Flows in visiting order.
pub(crate) fn downstream(
    set: &ManifestSet,
    graph: &FlowGraph,
    start: SysIdx,
    collected: &[Term],
) -> Vec<FlowIdx> {
    // Indices outside the set (cannot come from the loader) are skipped, never expanded.
    // What the walk reaches is kept by system, only for the systems it reaches: a table of
    // every system for each walk made the records quadratic (one walk per collection).
    let in_set = |s: SysIdx| (s.0 as usize) < set.systems.len();
    let mut carried: HashMap<u32, BTreeSet<Term>> = HashMap::new();
    if in_set(start) {
        carried.insert(start.0, collected.iter().cloned().collect());
    }
    let mut expanded: HashSet<u32> = HashSet::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen_flows = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(node) = queue.pop_front() {
        if !in_set(node) || !expanded.insert(node.0) {
            continue;
        }
        let here = carried.get(&node.0).cloned().unwrap_or_default();
        for &f in graph.flows_out(node) {
            let Some(flow) = set.flow(f) else { continue };
            if !flow.data.iter().any(|d| here.iter().any(|c| related(c, d))) {
                continue;
            }
            if seen_flows.insert(f) {
                out.push(f);
            }
            if in_set(flow.to) {
                carried
                    .entry(flow.to.0)
                    .or_default()
                    .extend(flow.data.iter().cloned());
                if !expanded.contains(&flow.to.0) {
                    queue.push_back(flow.to);
                }
            }
        }
    }
    out
}

/// One value a list, or "not declared".
pub(crate) fn or_not_declared(items: &[String]) -> String {
    if items.is_empty() {
        "not declared".to_string()
    } else {
        items.join("; ")
    }
}

/// Pushes `item` unless already there (keeps first-seen order).
pub(crate) fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}
