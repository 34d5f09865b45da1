//! The data-flow graph of a [`ManifestSet`]: one node per system, one edge per flow, plus
//! the indexes the engine asks for. Built in O(systems + flows + contracts + assessments).
//! Cycles are normal (a service that writes back to its source).

use std::collections::HashMap;

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

use super::model::{AssessmentIdx, ContractIdx, EntityRef, FlowIdx, ManifestSet, OrgIdx, SysIdx};

/// Node weights are systems, edge weights flows. Node `i` is system `i` and edge `j` is
/// flow `j` (they are added in order), but use [`FlowGraph::node`] / [`FlowGraph::edge`]
/// rather than relying on it.
#[derive(Clone, Debug, Default)]
pub struct FlowGraph {
    pub graph: DiGraph<SysIdx, FlowIdx>,
    node_of: Vec<NodeIndex>,
    edge_of: Vec<EdgeIndex>,
    out: Vec<Vec<FlowIdx>>,
    inn: Vec<Vec<FlowIdx>>,
    by_operator: Vec<Vec<SysIdx>>,
    by_processor: Vec<Vec<SysIdx>>,
    by_party: Vec<Vec<ContractIdx>>,
    by_covered: HashMap<EntityRef, Vec<AssessmentIdx>>,
}

fn slot<T>(lists: &mut [Vec<T>], index: u32, value: T) {
    if let Some(list) = lists.get_mut(index as usize) {
        list.push(value);
    }
}

fn get<T>(lists: &[Vec<T>], index: u32) -> &[T] {
    lists.get(index as usize).map(Vec::as_slice).unwrap_or(&[])
}

impl FlowGraph {
    pub fn build(set: &ManifestSet) -> FlowGraph {
        let systems = set.systems.len();
        let orgs = set.organizations.len();
        let mut graph = DiGraph::with_capacity(systems, set.flows.len());
        let node_of: Vec<NodeIndex> = (0..systems)
            .map(|i| graph.add_node(SysIdx(i as u32)))
            .collect();
        let mut out = vec![Vec::new(); systems];
        let mut inn = vec![Vec::new(); systems];
        let mut edge_of = Vec::with_capacity(set.flows.len());
        for (i, flow) in set.flows.iter().enumerate() {
            let idx = FlowIdx(i as u32);
            let (Some(&a), Some(&b)) = (
                node_of.get(flow.from.0 as usize),
                node_of.get(flow.to.0 as usize),
            ) else {
                continue; // impossible for a loaded set: references are resolved
            };
            edge_of.push(graph.add_edge(a, b, idx));
            slot(&mut out, flow.from.0, idx);
            slot(&mut inn, flow.to.0, idx);
        }
        let mut by_operator = vec![Vec::new(); orgs];
        let mut by_processor = vec![Vec::new(); orgs];
        for (i, system) in set.systems.iter().enumerate() {
            slot(&mut by_operator, system.operator.0, SysIdx(i as u32));
            if let Some(p) = system.processor {
                slot(&mut by_processor, p.0, SysIdx(i as u32));
            }
        }
        let mut by_party = vec![Vec::new(); orgs];
        for (i, contract) in set.contracts.iter().enumerate() {
            for party in &contract.parties {
                let list = by_party.get_mut(party.0 as usize);
                if let Some(list) = list {
                    if list.last() != Some(&ContractIdx(i as u32)) {
                        list.push(ContractIdx(i as u32));
                    }
                }
            }
        }
        let mut by_covered: HashMap<EntityRef, Vec<AssessmentIdx>> = HashMap::new();
        for (i, assessment) in set.assessments.iter().enumerate() {
            for covered in &assessment.covers {
                let list = by_covered.entry(*covered).or_default();
                if list.last() != Some(&AssessmentIdx(i as u32)) {
                    list.push(AssessmentIdx(i as u32));
                }
            }
        }
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
        get(&self.out, system.0)
    }

    /// Flows arriving at a system, in declaration order.
    pub fn flows_in(&self, system: SysIdx) -> &[FlowIdx] {
        get(&self.inn, system.0)
    }

    /// Systems an organization operates (is the controller of), in declaration order.
    pub fn systems_by_operator(&self, org: OrgIdx) -> &[SysIdx] {
        get(&self.by_operator, org.0)
    }

    /// Systems an organization runs as processor, in declaration order.
    pub fn systems_by_processor(&self, org: OrgIdx) -> &[SysIdx] {
        get(&self.by_processor, org.0)
    }

    /// Contracts an organization is a party to, in declaration order.
    pub fn contracts_by_party(&self, org: OrgIdx) -> &[ContractIdx] {
        get(&self.by_party, org.0)
    }

    /// Assessments whose `covers` names the entity, in declaration order.
    pub fn assessments_by_covered(&self, entity: EntityRef) -> &[AssessmentIdx] {
        self.by_covered
            .get(&entity)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
