//! The data-flow graph of a [`ManifestSet`]: one node per system, one edge per flow, plus
//! the indexes the engine asks for. Built in O(systems + flows + contracts + assessments).
//! Cycles are normal (a service that writes back to its source).

/// Foldhash: the keys are the program's own numbers, not input an attacker picks to collide
/// (and SipHash showed in profiles of a million-flow city).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

use super::model::{AssessmentIdx, ContractIdx, EntityRef, FlowIdx, ManifestSet, OrgIdx, SysIdx};

/// Node weights are systems, edge weights flows. Node `i` is system `i` and edge `j` is
/// flow `j` (they are added in order), but use [`FlowGraph::node`] / [`FlowGraph::edge`]
/// rather than relying on it.
#[derive(Clone, Debug)]
pub struct FlowGraph {
    pub graph: DiGraph<SysIdx, FlowIdx>,
    node_of: Vec<NodeIndex>,
    edge_of: Vec<EdgeIndex>,
    out: Lists<FlowIdx>,
    inn: Lists<FlowIdx>,
    by_operator: Lists<SysIdx>,
    by_processor: Lists<SysIdx>,
    by_party: Lists<ContractIdx>,
    by_covered: HashMap<EntityRef, Vec<AssessmentIdx>>,
}

/// Flows per unit of parallel work when reading their ends.
const FLOW_CHUNK: usize = 8192;

/// One list per owner (system or organization), all in one array: `items[ends[i-1]..ends[i]]`
/// is owner `i`'s. A million-flow city would otherwise make half a million small vectors.
#[derive(Clone, Debug)]
struct Lists<T> {
    items: Vec<T>,
    ends: Vec<u32>,
}

impl<T: Copy> Lists<T> {
    /// Groups `(owner, item)` pairs by owner, keeping their order within an owner (a
    /// counting sort). Owners past `owners` are dropped.
    fn group(owners: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> Self {
        let mut ends = vec![0u32; owners];
        for (owner, _) in pairs.clone() {
            if let Some(n) = ends.get_mut(owner as usize) {
                *n = n.saturating_add(1);
            }
        }
        let mut total = 0u32;
        for n in &mut ends {
            total = total.saturating_add(*n);
            *n = total;
        }
        // Each owner's next free place, filled from its start.
        let mut next: Vec<u32> = std::iter::once(0)
            .chain(ends.iter().copied())
            .take(owners)
            .collect();
        // Every place is written below; the first item only fills them until then.
        let Some((_, filler)) = pairs.clone().next() else {
            return Lists {
                items: Vec::new(),
                ends,
            };
        };
        let mut items = vec![filler; total as usize];
        for (owner, item) in pairs {
            if let Some(at) = next.get_mut(owner as usize) {
                if let Some(place) = items.get_mut(*at as usize) {
                    *place = item;
                }
                *at = at.saturating_add(1);
            }
        }
        Lists { items, ends }
    }

    fn get(&self, owner: u32) -> &[T] {
        let i = owner as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(u32::MAX) as usize,
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        self.items.get(start..end).unwrap_or(&[])
    }
}

impl FlowGraph {
    pub fn build(set: &ManifestSet) -> FlowGraph {
        use rayon::prelude::*;
        let systems = set.systems.len();
        let orgs = set.organizations.len();
        // Each flow's ends, read once: the graph and both adjacency lists then read this
        // small array instead of striding through the flows three times.
        let ends: Vec<(u32, u32)> = set
            .flows
            .par_iter()
            .with_min_len(FLOW_CHUNK)
            .map(|flow| (flow.from.0, flow.to.0))
            .collect();
        // The parts are independent: built on every core (at a million flows, 100 ms on one).
        let (
            (graph, node_of, edge_of),
            ((out, inn), (by_operator, by_processor, by_party, by_covered)),
        ) = rayon::join(
            || Self::petgraph(systems, &ends),
            || {
                rayon::join(
                    || {
                        let numbered = || ends.iter().zip(0u32..);
                        rayon::join(
                            || {
                                Lists::group(
                                    systems,
                                    numbered().map(|(&(from, _), i)| (from, FlowIdx(i))),
                                )
                            },
                            || {
                                Lists::group(
                                    systems,
                                    numbered().map(|(&(_, to), i)| (to, FlowIdx(i))),
                                )
                            },
                        )
                    },
                    || Self::owners(set, orgs),
                )
            },
        );
        FlowGraph {
            graph,
            node_of,
            edge_of,
            out,
            inn,
            by_operator,
            by_processor,
            by_party,
            by_covered,
        }
    }

    /// The petgraph graph: node `i` is system `i`, edge `j` flow `j`.
    fn petgraph(
        systems: usize,
        ends: &[(u32, u32)],
    ) -> (DiGraph<SysIdx, FlowIdx>, Vec<NodeIndex>, Vec<EdgeIndex>) {
        let mut graph = DiGraph::with_capacity(systems, ends.len());
        let node_of: Vec<NodeIndex> = (0..systems)
            .map(|i| graph.add_node(SysIdx(i as u32)))
            .collect();
        let mut edge_of = Vec::with_capacity(ends.len());
        for (&(from, to), i) in ends.iter().zip(0u32..) {
            let (Some(&a), Some(&b)) = (node_of.get(from as usize), node_of.get(to as usize))
            else {
                continue; // impossible for a loaded set: references are resolved
            };
            edge_of.push(graph.add_edge(a, b, FlowIdx(i)));
        }
        (graph, node_of, edge_of)
    }

    /// Systems by operator and by processor, contracts by party, assessments by what they
    /// cover.
    #[allow(clippy::type_complexity)]
    fn owners(
        set: &ManifestSet,
        orgs: usize,
    ) -> (
        Lists<SysIdx>,
        Lists<SysIdx>,
        Lists<ContractIdx>,
        HashMap<EntityRef, Vec<AssessmentIdx>>,
    ) {
        let all_systems = set.systems.iter().zip(0u32..);
        let by_operator = Lists::group(
            orgs,
            all_systems.clone().map(|(s, i)| (s.operator.0, SysIdx(i))),
        );
        let by_processor = Lists::group(
            orgs,
            all_systems.filter_map(|(s, i)| s.processor.map(|p| (p.0, SysIdx(i)))),
        );
        // A contract naming a party twice is listed once for it.
        let by_party = Lists::group(
            orgs,
            set.contracts.iter().zip(0u32..).flat_map(|(c, i)| {
                c.parties
                    .iter()
                    .enumerate()
                    .filter(|(k, p)| !c.parties.get(..*k).is_some_and(|before| before.contains(p)))
                    .map(move |(_, p)| (p.0, ContractIdx(i)))
            }),
        );
        let mut by_covered: HashMap<EntityRef, Vec<AssessmentIdx>> = HashMap::default();
        for (i, assessment) in set.assessments.iter().enumerate() {
            for covered in &assessment.covers {
                let list = by_covered.entry(*covered).or_default();
                if list.last() != Some(&AssessmentIdx(i as u32)) {
                    list.push(AssessmentIdx(i as u32));
                }
            }
        }
        (by_operator, by_processor, by_party, by_covered)
    }

    /// The graph node of a system.
    pub fn node(&self, system: SysIdx) -> Option<NodeIndex> {
        self.node_of.get(system.0 as usize).copied()
    }

    /// The graph edge of a flow.
    pub fn edge(&self, flow: FlowIdx) -> Option<EdgeIndex> {
        self.edge_of.get(flow.0 as usize).copied()
    }

    /// The system of a graph node.
    pub fn system(&self, node: NodeIndex) -> Option<SysIdx> {
        self.graph.node_weight(node).copied()
    }

    /// Flows leaving a system, in declaration order.
    pub fn flows_out(&self, system: SysIdx) -> &[FlowIdx] {
        self.out.get(system.0)
    }

    /// Flows arriving at a system, in declaration order.
    pub fn flows_in(&self, system: SysIdx) -> &[FlowIdx] {
        self.inn.get(system.0)
    }

    /// Systems an organization operates (is the controller of), in declaration order.
    pub fn systems_by_operator(&self, org: OrgIdx) -> &[SysIdx] {
        self.by_operator.get(org.0)
    }

    /// Systems an organization runs as processor, in declaration order.
    pub fn systems_by_processor(&self, org: OrgIdx) -> &[SysIdx] {
        self.by_processor.get(org.0)
    }

    /// Contracts an organization is a party to, in declaration order.
    pub fn contracts_by_party(&self, org: OrgIdx) -> &[ContractIdx] {
        self.by_party.get(org.0)
    }

    /// Assessments whose `covers` names the entity, in declaration order.
    pub fn assessments_by_covered(&self, entity: EntityRef) -> &[AssessmentIdx] {
        self.by_covered
            .get(&entity)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::Lists;

    #[test]
    fn lists_group_items_by_owner_in_order() {
        let pairs = [(2u32, 'a'), (0, 'b'), (2, 'c'), (9, 'x'), (0, 'd')];
        let lists = Lists::group(4, pairs.iter().copied());
        assert_eq!(lists.get(0), &['b', 'd']);
        assert_eq!(lists.get(1), &[] as &[char]);
        assert_eq!(lists.get(2), &['a', 'c']);
        assert_eq!(lists.get(3), &[] as &[char]);
        assert_eq!(lists.get(4), &[] as &[char], "past the owners");
        let empty: Lists<char> = Lists::group(3, std::iter::empty());
        assert_eq!(empty.get(1), &[] as &[char]);
    }
}
