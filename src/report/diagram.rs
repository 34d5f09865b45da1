//! The data-flow diagram: an owned summary of the manifests ([`ManifestSummary`]), a layered
//! left-to-right layout computed here (no external binary), and renderings as SVG, Graphviz
//! DOT and Mermaid.
//!
//! Layout: systems are grouped in column bands (by country, or by operating organization);
//! bands are ordered by the longest-path rank of their systems (cycles broken at DFS back
//! edges), each band holds sub-columns by the rank of its systems inside the band, and nodes
//! in a column are ordered by two barycenter sweeps to reduce crossings. Deterministic: the
//! same input gives the same picture.
//!
//! Every manifest string is made inert for the target language: XML-escaped in SVG, quoted
//! and entity-escaped in DOT, `#...;`-escaped in Mermaid. Control characters never pass.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use super::sanitize::{html as xml, inert};
use crate::findings::{CheckResult, FindingView, Status};
use crate::manifest::model::{country_of, ManifestSet, Term};

/// What the procurement reports need to know about the manifests, owned and already
/// resolved to ids, so a [`RenderContext`](super::RenderContext) can carry it.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ManifestSummary {
    /// The `name` of each manifest file that declares one.
    pub names: Vec<String>,
    pub organizations: Vec<OrgSummary>,
    pub systems: Vec<SystemSummary>,
    pub flows: Vec<FlowSummary>,
    pub contracts: Vec<ContractSummary>,
    pub assessments: Vec<AssessmentSummary>,
    /// Where each id is in the lists above, built on the first look-up: the reports look up
    /// the subject of every finding (95,000 at 100k flows), and a scan of the lists for each
    /// made the Markdown and HTML reports quadratic (two minutes at 100k flows).
    pub ids: IdIndex,
}

/// Positions of ids in a [`ManifestSummary`]'s lists (the first, when an id repeats, as a
/// scan would find), built once on first use. A cache, not part of the summary's value:
/// two summaries are equal whether or not it is built.
#[derive(Clone, Debug, Default)]
pub struct IdIndex(std::sync::OnceLock<Ids>);

impl PartialEq for IdIndex {
    fn eq(&self, _: &IdIndex) -> bool {
        true
    }
}

impl Eq for IdIndex {}

#[derive(Clone, Debug, Default)]
pub struct Ids {
    organizations: Positions,
    systems: Positions,
    flows: Positions,
    contracts: Positions,
    assessments: Positions,
}

/// Each id's first position in one of the summary's lists, found by the id's hash: the ids
/// stay in the list, not copied into the index (a copy of every id was 13 MiB of the
/// Markdown report's peak at 100k flows). A look-up checks the id at the position it finds.
#[derive(Clone, Debug, Default)]
struct Positions {
    by_hash: HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Ids whose hash a different, earlier id already has (two ids of one city are not
    /// expected to share 64 bits of hash, but an index must not depend on it).
    collided: HashMap<String, u32>,
}

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(id)
}

impl Positions {
    /// The positions of the ids of `list`'s items, `id_of` giving an item's id.
    fn of<T>(list: &[T], id_of: impl Fn(&T) -> &str) -> Positions {
        let mut positions = Positions::default();
        positions.by_hash.reserve(list.len());
        for (i, item) in list.iter().enumerate() {
            let Ok(at) = u32::try_from(i) else { break };
            let id = id_of(item);
            match positions.by_hash.entry(id_hash(id)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(at);
                }
                std::collections::hash_map::Entry::Occupied(first) => {
                    let same = list
                        .get(*first.get() as usize)
                        .is_some_and(|f| id_of(f) == id);
                    if !same {
                        positions.collided.entry(id.to_string()).or_insert(at);
                    }
                }
            }
        }
        positions
    }

    /// `id`'s first position in `list`, the list the positions were made of.
    fn find<T>(&self, id: &str, list: &[T], id_of: impl Fn(&T) -> &str) -> Option<usize> {
        if let Some(&at) = self.collided.get(id) {
            return Some(at as usize);
        }
        let at = *self.by_hash.get(&id_hash(id))? as usize;
        list.get(at)
            .is_some_and(|item| id_of(item) == id)
            .then_some(at)
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OrgSummary {
    pub id: String,
    pub name: Option<String>,
    pub country: String,
    pub kind: String,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SystemSummary {
    pub id: String,
    pub name: Option<String>,
    pub kind: String,
    /// Organization id of the operator (controller).
    pub operator: String,
    /// Organization id of the processor, if any.
    pub processor: Option<String>,
    /// As declared (`CN`, `CN-GD`).
    pub location: String,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FlowSummary {
    pub id: String,
    /// The end systems, as places in the summary's systems (`None`: a system the manifests
    /// do not hold). An id each was 8 MiB at 100k flows, and every use looked it up again.
    pub from: Option<u32>,
    pub to: Option<u32>,
    /// The data categories, sharing the model's values (at 100k flows a copy of each was
    /// 10 MiB of the Markdown and HTML reports' peak).
    pub data: Vec<Term>,
    /// `transfer.mechanism`, when declared.
    pub mechanism: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContractSummary {
    pub id: String,
    pub kind: String,
    /// Organization ids.
    pub parties: Vec<String>,
    pub clauses: Option<Vec<String>>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AssessmentSummary {
    pub id: String,
    pub kind: String,
    /// Ids of the covered entities.
    pub covers: Vec<String>,
}

/// Written for a reference to an entity the manifests do not hold.
const NOT_IN_SET: &str = "(not in the manifests)";

impl ManifestSummary {
    pub fn from_set(set: &ManifestSet) -> ManifestSummary {
        // An index outside the set cannot come from the loader; should one appear, the
        // summary says so in place of the id (no summary entry has that id).
        let org_id = |i: crate::manifest::model::OrgIdx| {
            set.org(i)
                .map_or_else(|| NOT_IN_SET.to_string(), |o| o.id.clone())
        };
        let system_at = |i: crate::manifest::model::SysIdx| set.system(i).map(|_| i.0);
        ManifestSummary {
            names: set
                .manifests
                .iter()
                .filter_map(|m| m.name.clone())
                .collect(),
            organizations: set
                .organizations
                .iter()
                .map(|o| OrgSummary {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    country: o.country.to_string(),
                    kind: o.kind.to_string(),
                })
                .collect(),
            systems: set
                .systems
                .iter()
                .map(|s| SystemSummary {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    kind: s.kind.to_string(),
                    operator: org_id(s.operator),
                    processor: s.processor.map(org_id),
                    location: s.location.to_string(),
                })
                .collect(),
            flows: set
                .flows
                .iter()
                .map(|f| FlowSummary {
                    id: f.id.to_string(),
                    from: system_at(f.from),
                    to: system_at(f.to),
                    data: f.data.to_vec(),
                    mechanism: f
                        .transfer
                        .as_ref()
                        .and_then(|t| t.mechanism.as_deref().map(str::to_string)),
                })
                .collect(),
            contracts: set
                .contracts
                .iter()
                .map(|c| ContractSummary {
                    id: c.id.clone(),
                    kind: c.kind.to_string(),
                    parties: c.parties.iter().map(|&p| org_id(p)).collect(),
                    clauses: c
                        .clauses
                        .as_ref()
                        .map(|l| l.iter().map(|c| c.to_string()).collect()),
                })
                .collect(),
            assessments: set
                .assessments
                .iter()
                .map(|a| AssessmentSummary {
                    id: a.id.clone(),
                    kind: a.kind.to_string(),
                    covers: a
                        .covers
                        .iter()
                        .map(|&r| {
                            set.id_and_loc(r)
                                .map_or(NOT_IN_SET, |(id, _)| id)
                                .to_string()
                        })
                        .collect(),
                })
                .collect(),
            ids: IdIndex::default(),
        }
    }

    fn ids(&self) -> &Ids {
        self.ids.0.get_or_init(|| Ids {
            organizations: Positions::of(&self.organizations, |o| &o.id),
            systems: Positions::of(&self.systems, |s| &s.id),
            flows: Positions::of(&self.flows, |f| &f.id),
            contracts: Positions::of(&self.contracts, |c| &c.id),
            assessments: Positions::of(&self.assessments, |a| &a.id),
        })
    }

    pub fn system_index(&self, id: &str) -> Option<usize> {
        self.ids().systems.find(id, &self.systems, |s| &s.id)
    }

    pub fn flow_index(&self, id: &str) -> Option<usize> {
        self.ids().flows.find(id, &self.flows, |f| &f.id)
    }

    fn system(&self, id: &str) -> Option<&SystemSummary> {
        self.system_index(id).and_then(|i| self.systems.get(i))
    }

    fn flow(&self, id: &str) -> Option<&FlowSummary> {
        self.flow_index(id).and_then(|i| self.flows.get(i))
    }

    pub fn org(&self, id: &str) -> Option<&OrgSummary> {
        let i = self
            .ids()
            .organizations
            .find(id, &self.organizations, |o| &o.id)?;
        self.organizations.get(i)
    }

    /// The display name of an organization: its name, else its id.
    pub fn org_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.org(id).and_then(|o| o.name.as_deref()).unwrap_or(id)
    }

    /// The place in the systems of a flow's end (`None`: a system the manifests do not
    /// hold).
    pub fn end_index(&self, at: Option<u32>) -> Option<usize> {
        let i = usize::try_from(at?).ok()?;
        (i < self.systems.len()).then_some(i)
    }

    /// The system at a flow's end.
    pub fn end(&self, at: Option<u32>) -> Option<&SystemSummary> {
        self.systems.get(self.end_index(at)?)
    }

    /// The id of the system at a flow's end, as written in the diagrams.
    pub fn end_id(&self, at: Option<u32>) -> &str {
        self.end(at).map_or(NOT_IN_SET, |s| &s.id)
    }

    /// The country of a flow's end system's location (`CN-GD` → `CN`).
    pub fn end_country(&self, at: Option<u32>) -> Option<&str> {
        self.end(at).map(|s| country_of(&s.location))
    }

    /// The organizations a finding concerns: operators and processors of the systems its
    /// subject touches (a flow touches both ends), the organization itself, a contract's
    /// parties, the systems and flows an assessment covers. Sorted, deduplicated.
    pub fn orgs_of_finding(&self, finding: &FindingView<'_>) -> Vec<String> {
        let mut orgs = BTreeSet::new();
        let add = |s: Option<&SystemSummary>, orgs: &mut BTreeSet<String>| {
            if let Some(s) = s {
                orgs.insert(s.operator.clone());
                if let Some(p) = &s.processor {
                    orgs.insert(p.clone());
                }
            }
        };
        let add_system = |id: &str, orgs: &mut BTreeSet<String>| add(self.system(id), orgs);
        let add_ends = |f: &FlowSummary, orgs: &mut BTreeSet<String>| {
            add(self.end(f.from), orgs);
            add(self.end(f.to), orgs);
        };
        let id = finding.subject.id;
        match finding.subject.kind {
            "system" | "collection" => add_system(id, &mut orgs),
            "flow" => {
                if let Some(f) = self.flow(id) {
                    add_ends(f, &mut orgs);
                }
            }
            "organization" => {
                orgs.insert(id.to_string());
            }
            "contract" => {
                let contract = self.ids().contracts.find(id, &self.contracts, |c| &c.id);
                if let Some(c) = contract.and_then(|i| self.contracts.get(i)) {
                    orgs.extend(c.parties.iter().cloned());
                }
            }
            "assessment" => {
                let assessment = self
                    .ids()
                    .assessments
                    .find(id, &self.assessments, |a| &a.id);
                if let Some(a) = assessment.and_then(|i| self.assessments.get(i)) {
                    for covered in &a.covers {
                        add_system(covered, &mut orgs);
                        if let Some(f) = self.flow(covered) {
                            add_ends(f, &mut orgs);
                        }
                    }
                }
            }
            _ => {}
        }
        orgs.into_iter().collect()
    }
}

/// How systems are grouped into column bands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum GroupBy {
    #[default]
    Country,
    Organization,
}

/// The rule ids of open findings on each flow and system (by index in the summary), each
/// list sorted and without repeats. A flow or system holds the place of its list among the
/// distinct ones, and each rule id is one shared string: at 100k flows a set and a string
/// for each marked flow were 20 MiB of the Markdown report's peak, and at 10k a map entry
/// and a list for each were 0.67 MiB.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// For each flow, by index: 1 + the place of its list in `lists`, or 0 (unmarked).
    flows: Vec<u32>,
    /// As `flows`, for each system.
    systems: Vec<u32>,
    lists: Vec<Box<[Arc<str>]>>,
}

impl Marks {
    /// Open findings whose subject is a flow mark that flow; those whose subject is a system
    /// (or one of its collections) mark the node.
    pub fn from_result(summary: &ManifestSummary, result: &CheckResult) -> Marks {
        Marks::from_findings(summary, result.findings.iter().map(|f| f.view()))
    }

    /// As [`Marks::from_result`], of findings in any order.
    pub fn from_findings<'f>(
        summary: &ManifestSummary,
        findings: impl Iterator<Item = FindingView<'f>>,
    ) -> Marks {
        // Each distinct rule id gets a number; each mark is (index, rule number), the
        // systems' indexes after the flows'.
        let mut rule_of: HashMap<&'f str, u32> = HashMap::new();
        let mut rules: Vec<&'f str> = Vec::new();
        let mut hits: Vec<(usize, u32)> = Vec::new();
        let systems_from = summary.flows.len();
        for f in findings {
            if f.status != Status::Open {
                continue;
            }
            let at = match f.subject.kind {
                "flow" => summary.flow_index(f.subject.id),
                "system" | "collection" => summary
                    .system_index(f.subject.id)
                    .and_then(|i| i.checked_add(systems_from)),
                _ => continue,
            };
            let Some(at) = at else { continue };
            let Ok(next) = u32::try_from(rules.len()) else {
                continue;
            };
            let rule = *rule_of.entry(f.rule).or_insert_with(|| {
                rules.push(f.rule);
                next
            });
            hits.push((at, rule));
        }
        // Rule numbers in the order of their ids, so that a list sorted by number is
        // sorted by id.
        let mut by_id: Vec<u32> = (0..u32::try_from(rules.len()).unwrap_or(u32::MAX)).collect();
        by_id.sort_unstable_by_key(|&r| rules.get(r as usize).copied().unwrap_or(""));
        let mut rank = vec![0u32; rules.len()];
        for (n, &r) in by_id.iter().enumerate() {
            if let (Some(slot), Ok(n)) = (rank.get_mut(r as usize), u32::try_from(n)) {
                *slot = n;
            }
        }
        let shared: Vec<Arc<str>> = by_id
            .iter()
            .map(|&r| Arc::from(rules.get(r as usize).copied().unwrap_or("")))
            .collect();
        for hit in &mut hits {
            hit.1 = rank.get(hit.1 as usize).copied().unwrap_or(0);
        }
        hits.sort_unstable();
        hits.dedup();
        let mut marks = Marks {
            flows: vec![0; summary.flows.len()],
            systems: vec![0; summary.systems.len()],
            lists: Vec::new(),
        };
        let mut list_of: HashMap<Vec<u32>, u32> = HashMap::new();
        for run in hits.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(at, _)) = run.first() else {
                continue;
            };
            let key: Vec<u32> = run.iter().map(|h| h.1).collect();
            let next = marks.lists.len().saturating_add(1);
            let list = match list_of.get(&key) {
                Some(&list) => list,
                None => {
                    let Ok(list) = u32::try_from(next) else {
                        continue;
                    };
                    marks.lists.push(
                        key.iter()
                            .filter_map(|&r| shared.get(r as usize).cloned())
                            .collect(),
                    );
                    list_of.insert(key, list);
                    list
                }
            };
            let slot = match at.checked_sub(systems_from) {
                Some(i) => marks.systems.get_mut(i),
                None => marks.flows.get_mut(at),
            };
            if let Some(slot) = slot {
                *slot = list;
            }
        }
        marks
    }

    /// The rule ids marking flow `j`, if any.
    pub fn flow(&self, j: usize) -> Option<&[Arc<str>]> {
        self.list(self.flows.get(j))
    }

    /// The rule ids marking system `i`, if any.
    pub fn system(&self, i: usize) -> Option<&[Arc<str>]> {
        self.list(self.systems.get(i))
    }

    /// The marked systems' indexes, in order.
    pub fn marked_systems(&self) -> impl Iterator<Item = usize> + '_ {
        self.systems
            .iter()
            .enumerate()
            .filter(|(_, &list)| list != 0)
            .map(|(i, _)| i)
    }

    fn list(&self, place: Option<&u32>) -> Option<&[Arc<str>]> {
        let place = (*place?).checked_sub(1)?;
        self.lists.get(place as usize).map(|list| &**list)
    }

    /// Marks flow `j` with `rules` (sorted and without repeats), as a finding would.
    pub fn mark_flow(&mut self, j: usize, rules: &[&str]) {
        let list = self.push_list(rules);
        Self::set(&mut self.flows, j, list);
    }

    /// Marks system `i` with `rules` (sorted and without repeats).
    pub fn mark_system(&mut self, i: usize, rules: &[&str]) {
        let list = self.push_list(rules);
        Self::set(&mut self.systems, i, list);
    }

    fn push_list(&mut self, rules: &[&str]) -> u32 {
        self.lists
            .push(rules.iter().map(|&r| Arc::from(r)).collect());
        u32::try_from(self.lists.len()).unwrap_or(0)
    }

    fn set(places: &mut Vec<u32>, i: usize, list: u32) {
        if places.len() <= i {
            places.resize(i.saturating_add(1), 0);
        }
        if let Some(slot) = places.get_mut(i) {
            *slot = list;
        }
    }
}

pub const NODE_W: f64 = 190.0;
pub const NODE_H: f64 = 52.0;
const COL_GAP: f64 = 200.0;
const ROW_GAP: f64 = 46.0;
const BAND_PAD: f64 = 18.0;
const BAND_GAP: f64 = 40.0;
const TOP: f64 = 44.0;

/// A column band: one country or organization.
#[derive(Clone, Debug)]
pub struct Band {
    pub label: String,
    pub x: f64,
    pub width: f64,
}

/// Computed positions: node `i` is system `i` of the summary.
#[derive(Clone, Debug)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub bands: Vec<Band>,
    /// Top-left corner of each system's box.
    pub nodes: Vec<(f64, f64)>,
    /// Band of each system.
    pub band_of: Vec<usize>,
}

fn group_key(s: &SystemSummary, by: GroupBy) -> String {
    match by {
        GroupBy::Country => country_of(&s.location).to_string(),
        GroupBy::Organization => s.operator.clone(),
    }
}

/// Edges as (from, to) system indices, one per flow (dangling ones dropped).
fn edges(summary: &ManifestSummary) -> Vec<Option<(usize, usize)>> {
    summary
        .flows
        .iter()
        .map(|f| Some((summary.end_index(f.from)?, summary.end_index(f.to)?)))
        .collect()
}

// The layout works on dense per-node lists of length `n` (the summary's systems). Every
// node index is below `n` (from `0..n` or from `edges`, which only yields indexes of
// systems), so the `get`s below always find their entry; they skip rather than panic.

/// Sets `list[i]` (no entry: nothing to set).
fn put<T>(list: &mut [T], i: usize, value: T) {
    if let Some(slot) = list.get_mut(i) {
        *slot = value;
    }
}

/// The edges that close a cycle (to a node on the DFS stack), iterative DFS in declaration
/// order, so that the rest is acyclic.
fn back_edges(n: usize, out: &[Vec<(usize, usize)>]) -> BTreeSet<usize> {
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back = BTreeSet::new();
    // Sources (no incoming flow) first, so cycles are broken where data comes back.
    let mut indegree = vec![0usize; n];
    for &(_, to) in out.iter().flatten() {
        if let Some(d) = indegree.get_mut(to) {
            *d = d.saturating_add(1);
        }
    }
    let nodes_where = |sources: bool| {
        indegree
            .iter()
            .enumerate()
            .filter(move |&(_, &d)| (d == 0) == sources)
            .map(|(i, _)| i)
    };
    let roots: Vec<usize> = nodes_where(true).chain(nodes_where(false)).collect();
    for root in roots {
        if state.get(root) != Some(&0) {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        put(&mut state, root, 1);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(edge, to)) = out.get(node).and_then(|list| list.get(*next)) {
                *next += 1;
                match state.get(to) {
                    Some(0) => {
                        put(&mut state, to, 1);
                        stack.push((to, 0));
                    }
                    Some(1) => {
                        back.insert(edge);
                    }
                    _ => {}
                }
            } else {
                put(&mut state, node, 2);
                stack.pop();
            }
        }
    }
    back
}

/// Longest-path ranks over the edges kept by `keep` (an acyclic subset), restricted to
/// the nodes in `members`.
fn ranks(
    members: &[usize],
    pairs: &[Option<(usize, usize)>],
    keep: impl Fn(usize, usize, usize) -> bool,
    n: usize,
) -> Vec<usize> {
    let inside: Vec<bool> = {
        let mut v = vec![false; n];
        for &m in members {
            put(&mut v, m, true);
        }
        v
    };
    let is_inside = |i: usize| inside.get(i) == Some(&true);
    let mut indegree = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, pair) in pairs.iter().enumerate() {
        if let Some((a, b)) = *pair {
            if is_inside(a) && is_inside(b) && a != b && keep(e, a, b) {
                if let (Some(list), Some(d)) = (out.get_mut(a), indegree.get_mut(b)) {
                    list.push(b);
                    *d = d.saturating_add(1);
                }
            }
        }
    }
    let mut rank = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = members
        .iter()
        .copied()
        .filter(|&m| indegree.get(m) == Some(&0))
        .collect();
    while let Some(a) = queue.pop_front() {
        let next_rank = rank.get(a).copied().unwrap_or(0).saturating_add(1);
        for &b in out.get(a).into_iter().flatten() {
            if let Some(r) = rank.get_mut(b) {
                *r = (*r).max(next_rank);
            }
            if let Some(d) = indegree.get_mut(b) {
                *d = d.saturating_sub(1);
                if *d == 0 {
                    queue.push_back(b);
                }
            }
        }
    }
    rank
}

/// The systems in bands (by country or by operator), with the edges and back edges the
/// bands were ordered by: the first part of the layout, and all a Mermaid diagram needs.
struct Banding {
    pairs: Vec<Option<(usize, usize)>>,
    back: BTreeSet<usize>,
    /// Each band's label and member systems, in declaration order.
    bands: Vec<(String, Vec<usize>)>,
}

fn banding(summary: &ManifestSummary, by: GroupBy) -> Banding {
    let n = summary.systems.len();
    let pairs = edges(summary);
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (e, pair) in pairs.iter().enumerate() {
        if let Some((a, b)) = *pair {
            if let Some(list) = out.get_mut(a) {
                list.push((e, b));
            }
        }
    }
    let back = back_edges(n, &out);
    let all: Vec<usize> = (0..n).collect();
    let global = ranks(&all, &pairs, |e, _, _| !back.contains(&e), n);

    // Bands, ordered by their smallest rank, then first declaration.
    let mut bands: Vec<(String, Vec<usize>)> = Vec::new();
    let mut band_named: HashMap<String, usize> = HashMap::new();
    for (i, system) in summary.systems.iter().enumerate() {
        let key = group_key(system, by);
        match band_named.get(&key).and_then(|&b| bands.get_mut(b)) {
            Some((_, list)) => list.push(i),
            None => {
                band_named.insert(key.clone(), bands.len());
                bands.push((key, vec![i]));
            }
        }
    }
    bands.sort_by_key(|(_, members)| {
        (
            members
                .iter()
                .filter_map(|&m| global.get(m))
                .min()
                .copied()
                .unwrap_or(0),
            members.first().copied(),
        )
    });
    Banding { pairs, back, bands }
}

/// Computes the layered layout.
pub fn layout(summary: &ManifestSummary, by: GroupBy) -> Layout {
    let n = summary.systems.len();
    let Banding { pairs, back, bands } = banding(summary, by);
    let all: Vec<usize> = (0..n).collect();

    // Columns: each band's members by their rank inside the band. The bands' subgraphs are
    // disjoint, so one ranking over the edges inside bands gives each band's own ranks (a
    // longest-path rank does not depend on the order nodes are taken in), without a pass
    // over every edge for each band.
    let mut band_of = vec![0usize; n];
    for (b, (_, members)) in bands.iter().enumerate() {
        for &m in members {
            put(&mut band_of, m, b);
        }
    }
    let same_band = |a: usize, b: usize| band_of.get(a) == band_of.get(b);
    let local = ranks(
        &all,
        &pairs,
        |e, a, b| !back.contains(&e) && same_band(a, b),
        n,
    );
    let mut column_of = vec![0usize; n];
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut band_columns: Vec<(usize, usize)> = Vec::new(); // first column, count
    for (_, members) in bands.iter() {
        let count = members
            .iter()
            .filter_map(|&m| local.get(m))
            .max()
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
        let first = columns.len();
        columns.extend((0..count).map(|_| Vec::new()));
        for &m in members {
            let Some(&rank) = local.get(m) else { continue };
            let column = first.saturating_add(rank);
            put(&mut column_of, m, column);
            if let Some(list) = columns.get_mut(column) {
                list.push(m);
            }
        }
        band_columns.push((first, count));
    }

    // Order inside columns: barycenter sweeps left-to-right then right-to-left.
    let mut pos = vec![0f64; n];
    let set_pos = |columns: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for column in columns {
            for (k, &m) in column.iter().enumerate() {
                put(pos, m, k as f64);
            }
        }
    };
    set_pos(&columns, &mut pos);
    let column = |i: usize| column_of.get(i);
    // Each node's neighbours through an edge, in edge order (the order the barycenter sums
    // in), listed once rather than found by a pass over every edge for each node.
    let mut incident: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in pairs.iter().flatten() {
        if a != b {
            if let Some(list) = incident.get_mut(b) {
                list.push(a);
            }
            if let Some(list) = incident.get_mut(a) {
                list.push(b);
            }
        }
    }
    let neighbours = |m: usize, left: bool| -> Vec<usize> {
        incident
            .get(m)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&other| (column(other) < column(m)) == left)
            .collect()
    };
    for sweep in 0..4 {
        let left = sweep % 2 == 0;
        let order: Vec<usize> = if left {
            (0..columns.len()).collect()
        } else {
            (0..columns.len()).rev().collect()
        };
        for c in order {
            let Some(members) = columns.get_mut(c) else {
                continue;
            };
            let mut keyed: Vec<(f64, usize, usize)> = members
                .iter()
                .enumerate()
                .map(|(k, &m)| {
                    let ns = neighbours(m, left);
                    let bary = if ns.is_empty() {
                        pos.get(m).copied().unwrap_or(0.0)
                    } else {
                        ns.iter().filter_map(|&x| pos.get(x)).sum::<f64>() / ns.len() as f64
                    };
                    (bary, k, m)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *members = keyed.into_iter().map(|(_, _, m)| m).collect();
            for (k, &m) in members.iter().enumerate() {
                put(&mut pos, m, k as f64);
            }
        }
    }

    // Coordinates.
    let mut nodes = vec![(0f64, 0f64); n];
    let mut band_boxes = Vec::new();
    let mut x = 20.0;
    let mut max_rows = 1usize;
    for ((label, _), &(first, count)) in bands.iter().zip(&band_columns) {
        let band_x = x;
        x += BAND_PAD;
        for (c, column) in columns.iter().enumerate().skip(first).take(count) {
            max_rows = max_rows.max(column.len());
            for (k, &m) in column.iter().enumerate() {
                put(
                    &mut nodes,
                    m,
                    (x, TOP + BAND_PAD + k as f64 * (NODE_H + ROW_GAP)),
                );
            }
            x += NODE_W;
            if c + 1 < first + count {
                x += COL_GAP;
            }
        }
        x += BAND_PAD;
        band_boxes.push(Band {
            label: label.clone(),
            x: band_x,
            width: x - band_x,
        });
        x += BAND_GAP.max(COL_GAP - 2.0 * BAND_PAD);
    }
    let width = (x - BAND_GAP.max(COL_GAP - 2.0 * BAND_PAD) + 20.0).max(320.0);
    let height = TOP + 2.0 * BAND_PAD + max_rows as f64 * (NODE_H + ROW_GAP) + 40.0;
    Layout {
        width,
        height,
        bands: band_boxes,
        nodes,
        band_of,
    }
}

/// Shortens text to `max` characters with an ellipsis.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The geometry of one flow: SVG path data and the label anchor (`None` for a node the
/// layout does not have, which `edges` never yields).
fn edge_geometry(layout: &Layout, a: usize, b: usize, lane: usize) -> Option<(String, f64, f64)> {
    let &(ax, ay) = layout.nodes.get(a)?;
    let &(bx, by) = layout.nodes.get(b)?;
    let offset = (lane as f64) * 9.0 - if lane > 0 { 4.0 } else { 0.0 };
    if a == b {
        let x = ax + NODE_W;
        let y = ay + NODE_H / 2.0;
        let d = format!(
            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            x,
            y - 10.0,
            x + 50.0,
            y - 40.0,
            x + 50.0,
            y + 40.0,
            x,
            y + 10.0
        );
        return Some((d, x + 40.0, y));
    }
    if bx > ax + 1.0 {
        let (x0, y0) = (ax + NODE_W, ay + NODE_H / 2.0 + offset);
        let (x3, y3) = (bx, by + NODE_H / 2.0 + offset);
        let dx = (x3 - x0) / 2.0;
        let d = format!(
            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            x0,
            y0,
            x0 + dx,
            y0,
            x3 - dx,
            y3,
            x3,
            y3
        );
        let mx = (x0 + 3.0 * (x0 + dx) + 3.0 * (x3 - dx) + x3) / 8.0;
        let my = (y0 + y3) / 2.0;
        Some((d, mx, my))
    } else {
        // Same column or backwards: leave from the bottom, loop below, enter at the bottom.
        let (x0, y0) = (ax + NODE_W / 2.0 + offset, ay + NODE_H);
        let (x3, y3) = (bx + NODE_W / 2.0 + offset, by + NODE_H);
        let depth = y0.max(y3) + 36.0 + offset.abs();
        let d = format!(
            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            x0, y0, x0, depth, x3, depth, x3, y3
        );
        let mx = (x0 + x3) / 2.0;
        let my = (y0 + 3.0 * depth + 3.0 * depth + y3) / 8.0;
        Some((d, mx, my))
    }
}

pub const RED: &str = "#c62828";
const GREY: &str = "#5f6b7a";

/// The diagram as SVG: `<svg>` with class hooks for highlighting (`lf-n{i}` on system
/// nodes, `lf-e{j}` on flows), tooltips in `<title>`, violating flows red with their rule ids.
pub fn render_svg(summary: &ManifestSummary, marks: &Marks, by: GroupBy) -> String {
    let mut out = String::new();
    write_svg(summary, marks, by, &mut out);
    out
}

/// [`render_svg`], written into `out` a flow or system at a time, so that a report being
/// written out as it is made never holds the whole diagram (57 MB at 100k flows).
pub(crate) fn write_svg(
    summary: &ManifestSummary,
    marks: &Marks,
    by: GroupBy,
    out: &mut impl super::TextOut,
) {
    let layout = layout(summary, by);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lf-diagram-svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"data-flow diagram\" font-family=\"system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif\" font-size=\"12\">",
        w = layout.width,
        h = layout.height
    );
    let _ = writeln!(out, "<title>lexflow data-flow diagram</title>");
    let _ = writeln!(
        out,
        "<defs><marker id=\"lf-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{GREY}\"/></marker>\
<marker id=\"lf-arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{RED}\"/></marker></defs>"
    );
    for band in &layout.bands {
        let _ = writeln!(
            out,
            "<g class=\"lf-band\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"10\" fill=\"#f4f6f9\" stroke=\"#d5dbe3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"bold\" font-size=\"14\" fill=\"#34495e\">{}</text></g>",
            band.x,
            TOP - 26.0,
            band.width,
            layout.height - TOP - 4.0,
            band.x + 10.0,
            TOP - 8.0,
            xml(&fit(&band_label(summary, &band.label, by), 40))
        );
    }
    // Lanes for parallel flows between the same two systems.
    let pairs = edges(summary);
    // Keyed by system places as u32 and sized once: at 10k flows, a map of usize grown by
    // doubling held up to 0.6 MB at its last growth, at the HTML report's peak.
    let place = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut lanes: HashMap<(u32, u32), u32> = HashMap::with_capacity(pairs.len());
    for (j, (flow, pair)) in summary.flows.iter().zip(&pairs).enumerate() {
        let Some((a, b)) = *pair else { continue };
        let key = (place(a.min(b)), place(a.max(b)));
        let lane = *lanes
            .entry(key)
            .and_modify(|l| *l = l.saturating_add(1))
            .or_insert(0);
        let Some((d, lx, ly)) = edge_geometry(&layout, a, b, lane as usize) else {
            continue;
        };
        let rules = marks.flow(j);
        let (color, width, marker) = match rules {
            Some(_) => (RED, 2.5, "lf-arrow-red"),
            None => (GREY, 1.4, "lf-arrow"),
        };
        let data = flow.data.join(", ");
        let _ = writeln!(
            out,
            "<g class=\"lf-edge lf-e{j}{}\"><title>{}: {} → {} ({}){}</title><path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" marker-end=\"url(#{marker})\"/>",
            if rules.is_some() { " lf-violation" } else { "" },
            xml(&flow.id),
            xml(summary.end_id(flow.from)),
            xml(summary.end_id(flow.to)),
            xml(&data),
            rules
                .map(|r| format!(" — {}", xml(&r.join(", "))))
                .unwrap_or_default()
        );
        let label = fit(&flow.id, 28);
        let rule_label = rules.map(|r| fit(&r.join(", "), 34));
        let chars = label
            .chars()
            .count()
            .max(rule_label.as_ref().map(|r| r.chars().count()).unwrap_or(0));
        let bw = chars as f64 * 6.4 + 10.0;
        let bh = if rule_label.is_some() { 30.0 } else { 16.0 };
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/><text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{GREY}\">{}</text>",
            lx - bw / 2.0,
            ly - 12.0,
            ly,
            xml(&label)
        );
        if let Some(rule_label) = rule_label {
            let _ = writeln!(
                out,
                "<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"bold\" fill=\"{RED}\">{}</text>",
                ly + 14.0,
                xml(&rule_label)
            );
        }
        let _ = writeln!(out, "</g>");
        out.spill();
    }
    for (i, (system, &(x, y))) in summary.systems.iter().zip(&layout.nodes).enumerate() {
        let rules = marks.system(i);
        let stroke = if rules.is_some() { RED } else { "#7f8c9d" };
        let operator = summary.org_name(&system.operator);
        let who = match &system.processor {
            Some(p) => format!("{} · run by {}", system.kind, summary.org_name(p)),
            None => format!("{} · {}", system.kind, operator),
        };
        let title = format!(
            "{}{} ({}, {}) operated by {}{}",
            system.id,
            system
                .name
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default(),
            system.kind,
            system.location,
            operator,
            system
                .processor
                .as_ref()
                .map(|p| format!(", processor {}", summary.org_name(p)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "<g class=\"lf-node lf-n{i}{}\"><title>{}{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\" fill=\"#ffffff\" stroke=\"{stroke}\" stroke-width=\"{}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"bold\" fill=\"#1b1b1b\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10.5\" fill=\"{GREY}\">{}</text>",
            if rules.is_some() { " lf-violation" } else { "" },
            xml(&title),
            rules
                .map(|r| format!(" — {}", xml(&r.join(", "))))
                .unwrap_or_default(),
            if rules.is_some() { 2.5 } else { 1.2 },
            x + 10.0,
            y + 20.0,
            xml(&fit(&system.id, 26)),
            x + 10.0,
            y + 38.0,
            xml(&fit(&who, 32)),
        );
        if let Some(rules) = rules {
            let text = fit(&rules.join(", "), 30);
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" font-weight=\"bold\" fill=\"{RED}\">{}</text>",
                x + 4.0,
                y + NODE_H + 14.0,
                xml(&text)
            );
        }
        let _ = writeln!(out, "</g>");
        out.spill();
    }
    let _ = writeln!(out, "</svg>");
}

fn band_label(summary: &ManifestSummary, key: &str, by: GroupBy) -> String {
    match by {
        GroupBy::Country => key.to_string(),
        GroupBy::Organization => summary.org_name(key).to_string(),
    }
}

/// A standalone SVG document (for `lexflow graph --format svg`).
pub fn render_svg_document(summary: &ManifestSummary, marks: &Marks, by: GroupBy) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        render_svg(summary, marks, by)
    )
}

/// Text inside a DOT double-quoted string: inert, `\` and `"` escaped (so `\n`, `\l` and
/// friends cannot be smuggled in), `<`, `>` and `&` as entities.
pub fn dot_str(text: &str) -> String {
    let text = inert(text);
    let mut out = String::with_capacity(text.len().saturating_add(8));
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a Mermaid double-quoted label: inert, and every character Mermaid or the
/// HTML it renders to might read as markup written as a `#code;` entity.
pub fn mermaid_str(text: &str) -> String {
    let text = inert(text);
    let mut out = String::with_capacity(text.len().saturating_add(8));
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\\' => out.push_str("#92;"),
            '*' => out.push_str("#42;"),
            '_' => out.push_str("#95;"),
            '[' | ']' | '{' | '}' | '(' | ')' | ';' | '%' | '@' | '$' | '~' => {
                let _ = write!(out, "#{};", c as u32);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The diagram as Graphviz DOT (`rankdir=LR`, one cluster a band).
pub fn render_dot(summary: &ManifestSummary, marks: &Marks, by: GroupBy) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph lexflow {{");
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11];"
    );
    let _ = writeln!(
        out,
        "  edge [fontname=\"Helvetica\", fontsize=10, color=\"{GREY}\"];"
    );
    // The bands without the rest of the layout (columns, order and coordinates), which the
    // text diagrams do not draw (at 100k flows the whole layout was 15 MiB of the Markdown
    // report's peak), and the edges they were ordered by.
    let Banding { pairs, bands, .. } = banding(summary, by);
    for (b, (label, members)) in bands.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{b} {{");
        let _ = writeln!(
            out,
            "    label=\"{}\"; style=\"rounded,filled\"; fillcolor=\"#f4f6f9\"; color=\"#d5dbe3\";",
            dot_str(&band_label(summary, label, by))
        );
        for &i in members {
            let Some(s) = summary.systems.get(i) else {
                continue;
            };
            let rules = marks.system(i);
            let mut label = format!(
                "{}\\n{} · {}",
                dot_str(&s.id),
                dot_str(&s.kind),
                dot_str(summary.org_name(&s.operator))
            );
            if let Some(p) = &s.processor {
                let _ = write!(label, "\\nrun by {}", dot_str(summary.org_name(p)));
            }
            if let Some(r) = rules {
                let _ = write!(label, "\\n{}", dot_str(&r.join(", ")));
            }
            let extra = if rules.is_some() {
                format!(", color=\"{RED}\", penwidth=2, fontcolor=\"{RED}\"")
            } else {
                String::new()
            };
            let _ = writeln!(out, "    n{i} [label=\"{label}\"{extra}];");
        }
        let _ = writeln!(out, "  }}");
    }
    for (j, (flow, pair)) in summary.flows.iter().zip(pairs).enumerate() {
        let Some((a, b)) = pair else { continue };
        let rules = marks.flow(j);
        let mut label = dot_str(&flow.id);
        let mut extra = String::new();
        if let Some(r) = rules {
            let _ = write!(label, "\\n{}", dot_str(&r.join(", ")));
            extra = format!(", color=\"{RED}\", fontcolor=\"{RED}\", penwidth=2");
        }
        let _ = writeln!(out, "  n{a} -> n{b} [label=\"{label}\"{extra}];");
    }
    let _ = writeln!(out, "}}");
    out
}

/// The diagram as a Mermaid flowchart (no fences).
pub fn render_mermaid(summary: &ManifestSummary, marks: &Marks, by: GroupBy) -> String {
    let mut out = String::new();
    write_mermaid(summary, marks, by, &mut out);
    out
}

/// [`render_mermaid`], written into `out` a system or flow at a time (as [`write_svg`]).
pub(crate) fn write_mermaid(
    summary: &ManifestSummary,
    marks: &Marks,
    by: GroupBy,
    out: &mut impl super::TextOut,
) {
    let _ = writeln!(out, "flowchart LR");
    // The bands without the rest of the layout (columns, order and coordinates), which the
    // text diagrams do not draw (at 100k flows the whole layout was 15 MiB of the Markdown
    // report's peak), and the edges they were ordered by.
    let Banding { pairs, bands, .. } = banding(summary, by);
    for (b, (label, members)) in bands.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph g{b}[\"{}\"]",
            mermaid_str(&band_label(summary, label, by))
        );
        let _ = writeln!(out, "    direction LR");
        for &i in members {
            let Some(s) = summary.systems.get(i) else {
                continue;
            };
            let who = match &s.processor {
                Some(p) => format!("{} · run by {}", s.kind, summary.org_name(p)),
                None => format!("{} · {}", s.kind, summary.org_name(&s.operator)),
            };
            let _ = writeln!(
                out,
                "    n{i}[\"{}<br/>{}\"]",
                mermaid_str(&s.id),
                mermaid_str(&who)
            );
            out.spill();
        }
        let _ = writeln!(out, "  end");
    }
    let mut red_links = Vec::new();
    let mut link = 0usize;
    for (j, (flow, pair)) in summary.flows.iter().zip(pairs).enumerate() {
        let Some((a, b)) = pair else { continue };
        let mut label = mermaid_str(&flow.id);
        if let Some(r) = marks.flow(j) {
            let _ = write!(label, "<br/>{}", mermaid_str(&r.join(", ")));
            red_links.push(link);
        }
        let _ = writeln!(out, "  n{a} -->|\"{label}\"| n{b}");
        out.spill();
        link = link.saturating_add(1);
    }
    if !red_links.is_empty() {
        let list: Vec<String> = red_links.iter().map(|l| l.to_string()).collect();
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{RED},stroke-width:3px,color:{RED}",
            list.join(",")
        );
    }
    if marks.marked_systems().next().is_some() {
        let _ = writeln!(out, "  classDef violation stroke:{RED},stroke-width:3px");
        let list: Vec<String> = marks.marked_systems().map(|i| format!("n{i}")).collect();
        let _ = writeln!(out, "  class {} violation", list.join(","));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_positions_are_the_first_and_checked_against_the_list() {
        let list = ["x", "y", "x", "z"];
        fn id<'x>(item: &'x &str) -> &'x str {
            item
        }
        let positions = Positions::of(&list, id);
        assert_eq!(
            positions.find("x", &list, id),
            Some(0),
            "the first of a repeated id"
        );
        assert_eq!(positions.find("z", &list, id), Some(3));
        assert_eq!(positions.find("w", &list, id), None);
        // A hash that leads to another id is not a match: "w" given "x"'s slot.
        let mut forged = positions.clone();
        forged.by_hash.insert(id_hash("w"), 0);
        assert_eq!(forged.find("w", &list, id), None);
        // An id whose hash an earlier id took is found through the side table.
        let mut collided = Positions::default();
        collided.by_hash.insert(id_hash("x"), 0);
        collided.collided.insert("q".to_string(), 5);
        assert_eq!(collided.find("q", &["x"], id), Some(5));
        assert_eq!(collided.find("x", &["x"], id), Some(0));
    }

    fn sys(id: &str, location: &str) -> SystemSummary {
        SystemSummary {
            id: id.into(),
            name: None,
            kind: "service".into(),
            operator: "city".into(),
            processor: None,
            location: location.into(),
        }
    }

    fn flow(id: &str, from: u32, to: u32) -> FlowSummary {
        FlowSummary {
            id: id.into(),
            from: Some(from),
            to: Some(to),
            data: vec!["identifier.name".into()],
            mechanism: None,
        }
    }

    fn summary() -> ManifestSummary {
        ManifestSummary {
            systems: vec![
                sys("c", "SG"),
                sys("a", "CN"),
                sys("b", "CN-GD"),
                sys("cam", "CN"),
            ],
            flows: vec![
                flow("ab", 1, 2),
                flow("bc", 2, 0),
                flow("ca", 0, 1),
                flow("cam-a", 3, 1),
            ],
            ..ManifestSummary::default()
        }
    }

    #[test]
    fn layout_goes_left_to_right_by_country_and_survives_cycles() {
        let l = layout(&summary(), GroupBy::Country);
        assert_eq!(l.bands.len(), 2);
        assert_eq!(l.bands[0].label, "CN");
        assert_eq!(l.bands[1].label, "SG");
        let (ax, _) = l.nodes[1];
        let (bx, _) = l.nodes[2];
        let (cx, _) = l.nodes[0];
        assert!(ax < bx && bx < cx, "{ax} {bx} {cx}");
    }

    #[test]
    fn diagrams_written_out_as_made_equal_the_held_ones() {
        // Enough systems and flows for several megabytes of SVG: the text is written out
        // many times while the diagram is made.
        let systems: Vec<SystemSummary> = (0..2_000)
            .map(|i| sys(&format!("s{i}"), ["CN", "SG", "DE"][i % 3]))
            .collect();
        let flows: Vec<FlowSummary> = (0..6_000)
            .map(|j| {
                flow(
                    &format!("f{j}"),
                    (j % 2_000) as u32,
                    ((j * 7 + 1) % 2_000) as u32,
                )
            })
            .collect();
        let summary = ManifestSummary {
            systems,
            flows,
            ..ManifestSummary::default()
        };
        let mut marks = Marks::default();
        marks.mark_flow(3, &["PIPL-38"]);
        marks.mark_system(5, &["GDPR-28"]);
        let svg = render_svg(&summary, &marks, GroupBy::Country);
        let mermaid = render_mermaid(&summary, &marks, GroupBy::Country);
        assert!(svg.len() > 2 << 20, "{} bytes", svg.len());
        let mut bytes = Vec::new();
        let mut out = crate::report::Spill::new(&mut bytes);
        write_svg(&summary, &marks, GroupBy::Country, &mut out);
        write_mermaid(&summary, &marks, GroupBy::Country, &mut out);
        out.finish().unwrap();
        assert!(bytes == format!("{svg}{mermaid}").into_bytes());
    }

    #[test]
    fn marks_are_open_findings_rule_ids_one_list_per_distinct_set() {
        use crate::findings::{Finding, Location, Severity, Subject};
        let summary = ManifestSummary {
            systems: (0..3)
                .map(|i| SystemSummary {
                    id: format!("s{i}"),
                    name: None,
                    kind: "camera".into(),
                    operator: "o".into(),
                    processor: None,
                    location: "CN".into(),
                })
                .collect(),
            flows: (0..4)
                .map(|j| FlowSummary {
                    id: format!("f{j}"),
                    from: Some(0),
                    to: Some(1),
                    data: Vec::new(),
                    mechanism: None,
                })
                .collect(),
            ..ManifestSummary::default()
        };
        let finding = |rule: &str, kind: &'static str, id: &str, status: Status| Finding {
            rule: rule.into(),
            title: "t".into(),
            law: "PIPL".into(),
            citation: "c".into(),
            severity: Severity::Error,
            status,
            subject: Subject {
                kind,
                id: id.into(),
            },
            location: Location {
                file: "a.yaml".into(),
                line: 1,
                column: 1,
            },
            path: Vec::new(),
            path_flows: Vec::new(),
            fingerprint: String::new(),
            message: String::new(),
            remediation: "r".into(),
            waiver: None,
        };
        let open = Status::Open;
        let findings = [
            // f0: R-2, R-1 and R-2 again: one list, sorted, each id once.
            finding("R-2", "flow", "f0", open),
            finding("R-1", "flow", "f0", open),
            finding("R-2", "flow", "f0", open),
            // f2: the same rules, so the same list.
            finding("R-1", "flow", "f2", open),
            finding("R-2", "flow", "f2", open),
            // Waived: no mark.
            finding("R-3", "flow", "f3", Status::Waived),
            // A collection marks its system.
            finding("R-3", "collection", "s1", open),
            // Not in the summary, or not a flow or system: no mark.
            finding("R-1", "flow", "f9", open),
            finding("R-1", "organization", "o", open),
        ];
        let marks = Marks::from_findings(&summary, findings.iter().map(Finding::view));
        let ids = |list: Option<&[Arc<str>]>| {
            list.map(|l| l.iter().map(|r| r.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(ids(marks.flow(0)), Some(vec!["R-1".into(), "R-2".into()]));
        assert_eq!(ids(marks.flow(2)), ids(marks.flow(0)));
        assert_eq!(marks.flow(1), None);
        assert_eq!(marks.flow(3), None);
        assert_eq!(marks.flow(9), None);
        assert_eq!(ids(marks.system(1)), Some(vec!["R-3".into()]));
        assert_eq!(marks.marked_systems().collect::<Vec<_>>(), vec![1]);
        assert_eq!(marks.lists.len(), 2, "f0 and f2 share their list");
    }

    #[test]
    fn escapes_for_dot_and_mermaid() {
        assert_eq!(dot_str("a\"b\\n<x>"), "a\\\"b\\\\n&lt;x&gt;");
        assert_eq!(mermaid_str("<b>\"#`|"), "#lt;b#gt;#quot;#35;#96;#124;");
        assert!(!mermaid_str("\x1b[31m").contains('\x1b'));
    }
}
