//! Expression evaluation over the manifest set: field access, Kleene logic, country and
//! category tests, and aggregates answered from hash indexes built once per run (shared by
//! the rules whose aggregates have the same shape).

// The indexes hash ids and vocabulary values millions of times a run: foldhash's fast
// hasher instead of SipHash, still seeded at random per process so that a crafted manifest
// cannot choose colliding ids. Nothing iterates these maps, so output stays deterministic.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use super::value::{Ent, Key, List, Missing, Truth, Val};
use crate::date::Date;
use crate::lang::ast::{ActiveWhen, AddOp, AggregateOp, CmpOp, IsWhat};
use crate::lang::ir::{Aggregate, Const, Duration, Ex, Field, Kind, Program};
use crate::manifest::graph::FlowGraph;
use crate::manifest::model::{country_of, ManifestSet, OrgIdx, Term};

/// Facts about the run that every rule reads: the as-of date, country sets resolved at it,
/// category ids of every flow and collection, and the flows in force.
pub struct World<'a> {
    pub program: &'a Program,
    pub set: &'a ManifestSet,
    pub as_of: Date,
    pub year_start: Date,
    /// Country sets resolved at the as-of date, as membership over [`country_slot`]s.
    pub country_sets: Vec<Vec<bool>>,
    /// The country slot of each organization's `country` ([`NO_COUNTRY`] for a code that is
    /// not one): `f.from.operator.country in EEA` reads it instead of the organization's
    /// record, which at 1M flows was a cache miss for most flows judged.
    pub org_countries: Vec<u16>,
    /// What rules read most of a system, in 12 bytes instead of its whole record (see
    /// [`SystemFacts`]).
    pub system_facts: Vec<SystemFacts>,
    /// Category ids of each flow's `data`.
    pub flow_cats: CategoryLists,
    /// What rules and index filters read most of a flow, in 12 bytes instead of its whole
    /// record (see [`FlowFacts`]).
    pub flow_facts: Vec<FlowFacts>,
    /// Category ids of each collection's `data`, collections numbered system by system
    /// from `collection_start[system]`.
    pub collection_cats: CategoryLists,
    pub collection_start: Vec<u32>,
    /// Category ids of everything each system collects.
    pub system_cats: CategoryLists,
    /// Flows active on the as-of date (the ones quantifiers and path searches see).
    pub active_flows: Vec<u32>,
    /// Whether each flow is active on the as-of date (path searches skip the others).
    pub flow_active: Vec<bool>,
    /// Each manifest file's name, shared by the findings located in it.
    pub file_names: Vec<std::sync::Arc<str>>,
    /// The order path searches take systems and flows in, and the flows out of each system:
    /// made from the data-flow graph when a rule searches paths. The graph itself is not
    /// kept: nothing else of a check reads it, and its 0.43 MiB at 10k flows were held
    /// through the evaluation, and beside the findings while a grouped report packed them.
    search_order: Option<SearchOrder>,
}

/// An id's first 16 bytes as a number, zero-padded: two ids whose keys differ are in the
/// order of their keys (a shorter id that is a prefix of the other pads with zeros, which
/// sort first); ids with equal keys must be compared whole.
fn id_key(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(id.bytes()) {
        *slot = byte;
    }
    u128::from_be_bytes(bytes)
}

/// Entities `a` and `b` in the order of their ids (by [`id_key`], then whole), then of their
/// numbers.
fn by_id<'s>(
    keys: &[u128],
    id: impl Fn(u32) -> Option<&'s str>,
    a: u32,
    b: u32,
) -> std::cmp::Ordering {
    let key = |i: u32| keys.get(i as usize).copied().unwrap_or(u128::MAX);
    key(a)
        .cmp(&key(b))
        .then_with(|| id(a).cmp(&id(b)))
        .then(a.cmp(&b))
}

/// Systems in id order, and each system's out-flows in flow-id order. A path search takes
/// its sources, and the flows out of a system, in this order rather than the manifests' (see
/// `engine::search`); sorting once serves every search.
pub struct SearchOrder {
    /// System numbers, by id.
    pub systems: Vec<u32>,
    /// Each system's out-flows with their target system, by flow id: system `s`'s are
    /// `out[out_end[s-1]..out_end[s]]`.
    out: Vec<(u32, u32)>,
    out_end: Vec<u32>,
}

/// Some systems' out-flows (flow, target) and where each system's end.
type OutFlows = (Vec<(u32, u32)>, Vec<u32>);

impl SearchOrder {
    /// Systems, and each system's out-flows, in id order (ties, which a loaded set has not,
    /// by number).
    fn of(set: &ManifestSet, graph: &FlowGraph) -> SearchOrder {
        use rayon::prelude::*;
        // Ids compared by their first 16 bytes, read once into a flat array, and whole
        // only where those are equal: sorting by the strings themselves fetched two
        // scattered ids for every comparison (16 ms of a 100k check's evaluation).
        let system_keys: Vec<u128> = set.systems.par_iter().map(|s| id_key(&s.id)).collect();
        let (flow_keys, targets): (Vec<u128>, Vec<u32>) = set
            .flows
            .par_iter()
            .with_min_len(FLOW_CHUNK)
            .map(|f| (id_key(&f.id), f.to.0))
            .unzip();
        let system_id = |s: u32| set.systems.get(s as usize).map(|x| x.id.as_str());
        let flow_id = |f: u32| set.flows.get(f as usize).map(|x| &*x.id);
        let mut systems: Vec<u32> = (0..set.systems.len() as u32).collect();
        systems.par_sort_unstable_by(|&a, &b| by_id(&system_keys, system_id, a, b));
        // Each system's few out-flows sorted on their own: far fewer comparisons than
        // sorting every flow.
        let numbers: Vec<u32> = (0..set.systems.len() as u32).collect();
        let parts: Vec<OutFlows> = numbers
            .par_chunks(FLOW_CHUNK / 4)
            .map(|chunk| {
                let mut out = Vec::new();
                let mut ends = Vec::with_capacity(chunk.len());
                for &s in chunk {
                    let start = out.len();
                    out.extend(
                        graph
                            .flows_out(crate::manifest::model::SysIdx(s))
                            .iter()
                            .map(|f| (f.0, targets.get(f.0 as usize).copied().unwrap_or(s))),
                    );
                    if let Some(own) = out.get_mut(start..) {
                        own.sort_unstable_by(|a, b| by_id(&flow_keys, flow_id, a.0, b.0));
                    }
                    ends.push(u32::try_from(out.len()).unwrap_or(u32::MAX));
                }
                (out, ends)
            })
            .collect();
        let mut out = Vec::with_capacity(set.flows.len());
        let mut out_end = Vec::with_capacity(set.systems.len());
        for (part, ends) in parts {
            let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&part);
            out_end.extend(ends.iter().map(|&end| end.saturating_add(offset)));
        }
        SearchOrder {
            systems,
            out,
            out_end,
        }
    }

    /// The flows out of `system` and their targets, by flow id.
    pub fn out_of(&self, system: usize) -> &[(u32, u32)] {
        let start = match system.checked_sub(1) {
            Some(p) => self.out_end.get(p).copied().unwrap_or(u32::MAX) as usize,
            None => 0,
        };
        let end = self.out_end.get(system).copied().unwrap_or(0) as usize;
        self.out.get(start..end).unwrap_or(&[])
    }
}

/// Sorted category-id lists of many entities, in one flat array (a million flows would
/// otherwise be a million small allocations, scattered in memory).
#[derive(Default)]
pub struct CategoryLists {
    ids: Vec<u32>,
    /// Where each entity's list ends in `ids`.
    ends: Vec<u32>,
}

impl CategoryLists {
    fn with_capacity(lists: usize) -> Self {
        CategoryLists {
            ids: Vec::with_capacity(lists.saturating_mul(2)),
            ends: Vec::with_capacity(lists),
        }
    }

    /// The lists of `parts`, one after another.
    fn concat(parts: Vec<CategoryLists>) -> Self {
        let ids_len = parts.iter().map(|p| p.ids.len()).sum();
        let ends_len = parts.iter().map(|p| p.ends.len()).sum();
        let mut all = CategoryLists {
            ids: Vec::with_capacity(ids_len),
            ends: Vec::with_capacity(ends_len),
        };
        for part in parts {
            let offset = u32::try_from(all.ids.len()).unwrap_or(u32::MAX);
            all.ids.extend_from_slice(&part.ids);
            all.ends
                .extend(part.ends.iter().map(|&end| end.saturating_add(offset)));
        }
        all
    }

    /// Appends the next entity's list, sorted and without repeats.
    fn push(&mut self, ids: impl Iterator<Item = u32>) {
        let start = self.ids.len();
        self.ids.extend(ids);
        if let Some(list) = self.ids.get_mut(start..) {
            list.sort_unstable();
        }
        // Sorted, so repeats are neighbours: drop each equal to the one before it (within
        // this entity's few ids, at the end of the array).
        let mut i = start.saturating_add(1);
        while i < self.ids.len() {
            if self.ids.get(i) == self.ids.get(i - 1) {
                self.ids.remove(i);
            } else {
                i += 1;
            }
        }
        self.ends
            .push(u32::try_from(self.ids.len()).unwrap_or(u32::MAX));
    }

    /// Entity `i`'s list (empty for an index past the end).
    pub fn get(&self, i: usize) -> &[u32] {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(u32::MAX) as usize,
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        self.ids.get(start..end).unwrap_or(&[])
    }
}

/// The taxonomy ids of categories. A city has a few dozen categories and hundreds of
/// thousands of uses: each term is looked up once by its text, then by which copy it is
/// (hashing the text of every use was most of the time spent making the flows' lists).
struct CategoryIds<'p> {
    program: &'p Program,
    known: HashMap<usize, Option<u32>>,
}

impl<'p> CategoryIds<'p> {
    fn new(program: &'p Program) -> Self {
        CategoryIds {
            program,
            known: HashMap::default(),
        }
    }

    /// The ids of `data`'s categories (a term not in the taxonomy has none).
    fn of<'s>(&'s mut self, data: &'s [Term]) -> impl Iterator<Item = u32> + use<'s, 'p> {
        let program = self.program;
        data.iter().filter_map(move |c| {
            *self
                .known
                .entry(c.identity())
                .or_insert_with(|| program.taxonomy.index.get(&**c).map(|&i| i as u32))
        })
    }
}

/// A yes/no fact that may be missing, in two bits: 0 missing (or not known yet), 1 no,
/// 2 yes. The facts' columns and the keyed `exists` answers share it.
fn pack_fact(fact: Option<bool>) -> u8 {
    match fact {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

/// The fact packed at bits `2n..2n+2` of `flags` (see [`pack_fact`]).
fn unpack_fact(flags: u8, n: u8) -> Option<bool> {
    match (flags >> (2 * n)) & 3 {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

/// A flow's ends and its commonest yes/no facts. Building an index over every flow read
/// each flow's whole record for its `to` alone: at 1M flows that streamed a quarter of a
/// gigabyte through the caches per index, for a few bytes a flow.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowFacts {
    pub from: u32,
    pub to: u32,
    /// `anonymized`, then `pseudonymized`, two bits each ([`pack_fact`]).
    flags: u8,
}

impl FlowFacts {
    fn of(flow: &crate::manifest::model::Flow) -> FlowFacts {
        FlowFacts {
            from: flow.from.0,
            to: flow.to.0,
            flags: pack_fact(flow.details().anonymized)
                | (pack_fact(flow.details().pseudonymized) << 2),
        }
    }

    /// Fact `n` (0 anonymized, 1 pseudonymized) as declared.
    fn fact(&self, n: u8) -> Option<bool> {
        unpack_fact(self.flags, n)
    }
}

/// A system's location, operator, processor and yes/no facts, in 12 bytes: flows reach
/// systems in no order, and reading these from the 184-byte record missed the cache
/// (`s.public_space` was 13% of the time spent reading fields at 100k flows, `s.processor`
/// 7%). One record rather than a column each: at 1M flows the operator's column and the
/// facts' were two misses for one system, 31% of the time spent reading fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemFacts {
    /// The operator's number.
    operator: u32,
    /// The processor's number, or `u32::MAX` for none.
    processor: u32,
    /// The country slot of the location (the hot input of `leaves` / `enters` and of
    /// `s.location in CN`), [`NO_COUNTRY`] for a location that is not a country code.
    country: u16,
    /// `public_space`, `private_space`, `signage`, `significant_effect`, two bits each
    /// ([`pack_fact`]).
    flags: u8,
}

impl SystemFacts {
    const NO_PROCESSOR: u32 = u32::MAX;

    fn of(system: &crate::manifest::model::System) -> SystemFacts {
        SystemFacts {
            operator: system.operator.0,
            processor: system.processor.map_or(Self::NO_PROCESSOR, |p| p.0),
            country: packed_country_slot(&system.location),
            flags: pack_fact(system.public_space)
                | (pack_fact(system.private_space) << 2)
                | (pack_fact(system.signage) << 4)
                | (pack_fact(system.significant_effect) << 6),
        }
    }

    fn processor(&self) -> Option<u32> {
        (self.processor != Self::NO_PROCESSOR).then_some(self.processor)
    }

    fn fact(&self, n: u8) -> Option<bool> {
        unpack_fact(self.flags, n)
    }
}

/// Flows per unit of parallel work when the world is made.
const FLOW_CHUNK: usize = 8192;

impl<'a> World<'a> {
    pub fn new(program: &'a Program, set: &'a ManifestSet, graph: &FlowGraph, as_of: Date) -> Self {
        use rayon::prelude::*;
        let country_sets = program
            .country_sets
            .iter()
            .map(|s| {
                let mut members = vec![false; COUNTRY_SLOTS];
                let in_force = s.entries.iter().filter(|e| {
                    e.from.is_none_or(|d| d <= as_of) && e.until.is_none_or(|d| as_of < d)
                });
                for entry in in_force {
                    if let Some(m) = country_slot(&entry.code).and_then(|i| members.get_mut(i)) {
                        *m = true;
                    }
                }
                members
            })
            .collect();
        let org_countries = set
            .organizations
            .iter()
            .map(|o| packed_country_slot(&o.country))
            .collect();
        let system_facts = set.systems.iter().map(SystemFacts::of).collect();
        // The flows' facts and the systems' facts are independent: made side by side, the
        // flows' on every core (at a million flows this was most of the time spent before
        // the first rule ran).
        let year_start = as_of.start_of_year();
        let (
            (flow_cats, (flow_active, active_flows), flow_facts),
            (collection_cats, collection_start, system_cats),
        ) = rayon::join(
            || {
                let flow_cats = CategoryLists::concat(
                    set.flows
                        .par_chunks(FLOW_CHUNK)
                        .map(|flows| {
                            let mut lists = CategoryLists::with_capacity(flows.len());
                            let mut ids = CategoryIds::new(program);
                            for flow in flows {
                                lists.push(ids.of(&flow.data));
                            }
                            lists
                        })
                        .collect(),
                );
                let flow_active: Vec<bool> = set
                    .flows
                    .par_iter()
                    .with_min_len(FLOW_CHUNK)
                    .map(|flow| flow.is_active(as_of, as_of))
                    .collect();
                let active_flows: Vec<u32> = flow_active
                    .iter()
                    .zip(0u32..)
                    .filter_map(|(&active, i)| active.then_some(i))
                    .collect();
                let flow_facts: Vec<FlowFacts> = set
                    .flows
                    .par_iter()
                    .with_min_len(FLOW_CHUNK)
                    .map(FlowFacts::of)
                    .collect();
                (flow_cats, (flow_active, active_flows), flow_facts)
            },
            || {
                let collections: usize = set.systems.iter().map(|s| s.collects.len()).sum();
                let mut collection_cats = CategoryLists::with_capacity(collections);
                let mut collection_start = Vec::with_capacity(set.systems.len());
                let mut category_ids = CategoryIds::new(program);
                let mut system_cats = CategoryLists::with_capacity(set.systems.len());
                for system in &set.systems {
                    let first = collection_cats.ends.len();
                    collection_start.push(u32::try_from(first).unwrap_or(u32::MAX));
                    for collection in &system.collects {
                        collection_cats.push(category_ids.of(&collection.data));
                    }
                    // A system collects what its collections do: their lists, just made.
                    let last = collection_cats.ends.len();
                    let ids = &collection_cats;
                    system_cats.push((first..last).flat_map(|c| ids.get(c).iter().copied()));
                }
                (collection_cats, collection_start, system_cats)
            },
        );
        World {
            program,
            set,
            as_of,
            year_start,
            country_sets,
            org_countries,
            system_facts,
            flow_cats,
            flow_facts,
            collection_cats,
            collection_start,
            system_cats,
            active_flows,
            flow_active,
            file_names: set
                .sources
                .files
                .iter()
                .map(|f| std::sync::Arc::from(f.name.as_str()))
                .collect(),
            search_order: program
                .laws
                .iter()
                .flat_map(|law| &law.rules)
                .any(|rule| matches!(rule.query, crate::lang::ir::Query::Path { .. }))
                .then(|| SearchOrder::of(set, graph)),
        }
    }

    /// The country slot of system `system`'s location (`None`: not a country code, or no
    /// such system).
    pub fn system_country(&self, system: u32) -> Option<usize> {
        unpacked_country_slot(self.system_facts.get(system as usize)?.country)
    }

    /// The country slot a column of the world keeps for `entity`'s `field`: a system's
    /// location, an organization's country (`Some(None)`: not a country code). `None` when
    /// no column has it, and the entity's record must be read.
    pub fn country_column(&self, entity: Ent, field: Field) -> Option<Option<usize>> {
        let packed = match (entity, field) {
            (Ent::Sys(i), Field::SysLocation) => self.system_facts.get(i as usize)?.country,
            (Ent::Org(i), Field::OrgCountry) => *self.org_countries.get(i as usize)?,
            _ => return None,
        };
        Some(unpacked_country_slot(packed))
    }

    /// A manifest file's name, as findings show it.
    pub fn file_name(&self, file: crate::source::FileId) -> &str {
        match self.file_names.get(file.0 as usize) {
            Some(name) => name,
            None => self.set.sources.name(file),
        }
    }

    /// Systems, and each system's out-flows, in id order (ties, which a loaded set has not,
    /// by number); empty when the program has no path rule.
    pub fn search_order(&self) -> &SearchOrder {
        static NONE: SearchOrder = SearchOrder {
            systems: Vec::new(),
            out: Vec::new(),
            out_end: Vec::new(),
        };
        self.search_order.as_ref().unwrap_or(&NONE)
    }

    /// Every entity of a kind in force for the whole run (flows: those active at the as-of
    /// date), as a fused pass splits them into units of work: numbered or borrowed, not
    /// listed (at 1M flows, listing them took 15 ms before any rule ran).
    pub fn members(&self, kind: Kind) -> Members<'_> {
        let set = self.set;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match kind {
            Kind::Organization => Members::Numbered(Ent::Org, count(set.organizations.len())),
            Kind::System => Members::Numbered(Ent::Sys, count(set.systems.len())),
            Kind::Flow => Members::Flows(&self.active_flows),
            Kind::Contract => Members::Numbered(Ent::Contract, count(set.contracts.len())),
            Kind::Assessment => Members::Numbered(Ent::Assessment, count(set.assessments.len())),
            _ => Members::Listed(self.entities(kind, false).collect()),
        }
    }

    /// Every entity of a kind, as quantifiers range over them, streamed (a rule over 100k
    /// flows should not allocate a 100k-entry list first).
    pub fn entities(&self, kind: Kind, whole_year: bool) -> Box<dyn Iterator<Item = Ent> + '_> {
        let set = self.set;
        let count = |n: usize| 0..u32::try_from(n).unwrap_or(u32::MAX);
        match kind {
            Kind::Organization => Box::new(count(set.organizations.len()).map(Ent::Org)),
            Kind::System => Box::new(count(set.systems.len()).map(Ent::Sys)),
            Kind::Flow if whole_year => Box::new(count(set.flows.len()).map(Ent::Flow)),
            Kind::Flow => Box::new(self.active_flows.iter().map(|&i| Ent::Flow(i))),
            Kind::Contract => Box::new(count(set.contracts.len()).map(Ent::Contract)),
            Kind::Assessment => Box::new(count(set.assessments.len()).map(Ent::Assessment)),
            Kind::Collection => {
                Box::new(set.systems.iter().zip(0u32..).flat_map(move |(sys, s)| {
                    count(sys.collects.len()).map(move |c| Ent::Collection(s, c))
                }))
            }
            Kind::Transfer | Kind::Exemption | Kind::Path => Box::new(std::iter::empty()),
        }
    }
}

/// The entities of one kind that a fused pass judges (see [`World::members`]).
pub enum Members<'w> {
    /// Entities `0..n`, made by the constructor.
    Numbered(fn(u32) -> Ent, u32),
    /// Flows by number.
    Flows(&'w [u32]),
    Listed(Vec<Ent>),
}

impl Members<'_> {
    pub fn len(&self) -> usize {
        match self {
            Members::Numbered(_, n) => *n as usize,
            Members::Flows(flows) => flows.len(),
            Members::Listed(list) => list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members at positions `range` (clipped to the members).
    pub fn range(&self, range: std::ops::Range<usize>) -> Box<dyn Iterator<Item = Ent> + '_> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        match self {
            Members::Numbered(make, _) => {
                let start = u32::try_from(start).unwrap_or(u32::MAX);
                let end = u32::try_from(end).unwrap_or(u32::MAX);
                Box::new((start..end).map(*make))
            }
            Members::Flows(flows) => Box::new(
                flows
                    .get(start..end)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&i| Ent::Flow(i)),
            ),
            Members::Listed(list) => Box::new(list.get(start..end).unwrap_or(&[]).iter().copied()),
        }
    }
}

/// Country codes are two capital letters: 26 × 26 slots, so a country test is an array
/// look-up, not a string hash (it runs for every border test of every rule).
pub const COUNTRY_SLOTS: usize = 26 * 26;

/// The country slot of a location that is not a country code.
pub const NO_COUNTRY: u16 = u16::MAX;

/// The slot of a location's country (`CN-GD` → the slot of `CN`); `None` when the
/// location is not a two-letter code, optionally followed by `-` and a subdivision.
pub fn country_slot(location: &str) -> Option<usize> {
    match location.as_bytes() {
        [a @ b'A'..=b'Z', b @ b'A'..=b'Z'] | [a @ b'A'..=b'Z', b @ b'A'..=b'Z', b'-', ..] => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

/// [`country_slot`] in two bytes, [`NO_COUNTRY`] for none: the world's columns keep it so.
fn packed_country_slot(location: &str) -> u16 {
    country_slot(location)
        .and_then(|slot| u16::try_from(slot).ok())
        .unwrap_or(NO_COUNTRY)
}

/// The slot a two-byte column keeps, `None` for [`NO_COUNTRY`].
fn unpacked_country_slot(packed: u16) -> Option<usize> {
    (packed != NO_COUNTRY).then_some(usize::from(packed))
}

/// A witness path: systems visited and flows taken.
#[derive(Clone, Debug, Default)]
pub struct WitnessPath {
    pub systems: Vec<u32>,
    pub flows: Vec<u32>,
}

/// The numbers of an index's join keys, in the order the keys were first met.
///
/// Nearly every join is on an organization or a system (`g.to = s`, `g.from.operator =
/// f.from.operator`): such keys are numbered through a flat array indexed by the entity's
/// own number, made when the first such key is met; other keys through a hash map. Hashing
/// every candidate's key was most of the time spent building a flow index at 100k flows.
#[derive(Default)]
struct KeyNumbers<'a> {
    /// Key number of each organization (`NONE`: not a key).
    organizations: Vec<u32>,
    /// Key number of each system (`NONE`: not a key).
    systems: Vec<u32>,
    other: HashMap<Key<'a>, u32>,
    len: u32,
}

impl<'a> KeyNumbers<'a> {
    const NONE: u32 = u32::MAX;

    fn len(&self) -> usize {
        self.len as usize
    }

    /// The dense array that numbers `key`, if it is an organization or a system.
    fn dense(&self, key: &Key<'a>) -> Option<(&[u32], usize)> {
        match key {
            Key::Ent(Ent::Org(i)) => Some((&self.organizations, *i as usize)),
            Key::Ent(Ent::Sys(i)) => Some((&self.systems, *i as usize)),
            _ => None,
        }
    }

    fn get(&self, key: &Key<'a>) -> Option<u32> {
        match self.dense(key) {
            Some((numbers, i)) => numbers.get(i).copied().filter(|&n| n != Self::NONE),
            None => self.other.get(key).copied(),
        }
    }

    /// The number of `key`, given the next one if it is new. `set` sizes the arrays.
    fn number(&mut self, key: Key<'a>, set: &ManifestSet) -> u32 {
        let next = self.len;
        let (numbers, size, i) = match key {
            Key::Ent(Ent::Org(i)) => (&mut self.organizations, set.organizations.len(), i),
            Key::Ent(Ent::Sys(i)) => (&mut self.systems, set.systems.len(), i),
            _ => return self.number_in_map(key),
        };
        if numbers.is_empty() {
            *numbers = vec![Self::NONE; size];
        }
        let Some(slot) = numbers.get_mut(i as usize) else {
            // An entity outside the set (never, for a loaded set).
            return self.number_in_map(key);
        };
        if *slot == Self::NONE {
            *slot = next;
            self.len = self.len.saturating_add(1);
        }
        *slot
    }

    fn number_in_map(&mut self, key: Key<'a>) -> u32 {
        let next = self.len;
        let n = *self.other.entry(key).or_insert(next);
        if n == next {
            self.len = self.len.saturating_add(1);
        }
        n
    }
}

/// Index of one correlated aggregate: candidates by join key (or all candidates, when the
/// aggregate has no join). Built once per run, on first use, and shared by every thread and
/// every rule asking the same question.
#[derive(Default)]
pub struct AggregateIndex<'a> {
    /// Join key -> its number. Key `n`'s candidates are `candidates[starts[n]..starts[n+1]]`
    /// (one flat list, in entity order within a key, rather than a list per key: a
    /// million-flow index has hundreds of thousands of keys).
    numbers: KeyNumbers<'a>,
    starts: Vec<u32>,
    candidates: Vec<Ent>,
    all: Vec<Ent>,
}

impl<'a> AggregateIndex<'a> {
    fn number_of(&self, key: &Key<'a>) -> Option<u32> {
        self.numbers.get(key)
    }

    fn candidates_at(&self, number: u32) -> &[Ent] {
        let n = number as usize;
        match (self.starts.get(n), self.starts.get(n.saturating_add(1))) {
            (Some(&start), Some(&end)) => self
                .candidates
                .get(start as usize..end as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    fn candidates_of(&self, key: &Key<'a>) -> &[Ent] {
        self.number_of(key)
            .map_or(&[], |number| self.candidates_at(number))
    }

    /// Groups `(key number, entity)` pairs by key (a stable counting sort: each key's
    /// candidates stay in entity order).
    fn from_pairs(numbers: KeyNumbers<'a>, pairs: Vec<(u32, Ent)>) -> Self {
        let mut starts = vec![0u32; numbers.len().saturating_add(1)];
        for &(n, _) in &pairs {
            if let Some(c) = starts.get_mut((n as usize).saturating_add(1)) {
                *c = c.saturating_add(1);
            }
        }
        for i in 1..starts.len() {
            let before = starts.get(i - 1).copied().unwrap_or(0);
            if let Some(c) = starts.get_mut(i) {
                *c = c.saturating_add(before);
            }
        }
        let mut next = starts.clone();
        let mut candidates = vec![Ent::Org(0); pairs.len()];
        for (n, entity) in pairs {
            if let Some(at) = next.get_mut(n as usize) {
                if let Some(slot) = candidates.get_mut(*at as usize) {
                    *slot = entity;
                }
                *at = at.saturating_add(1);
            }
        }
        AggregateIndex {
            numbers,
            starts,
            candidates,
            all: Vec::new(),
        }
    }
}

/// Results of one aggregate of a rule that depend only on its join key (no correlated
/// filter, one key), shared by all the rule's evaluators: each is computed once per run, by
/// the first thread that needs it. Per-evaluator caches had each unit of work recompute
/// the results of the keys it met, which grew faster than the city (a 1M-flow city meets
/// most exporters in every unit).
#[derive(Default)]
struct AggregateResults<'a> {
    /// One cell per key number of the index, made when first needed.
    by_number: OnceLock<Box<[OnceLock<Val<'a>>]>>,
    /// For an `exists` or `none exists`, whose answer is a truth: one byte per key number
    /// ([`pack_fact`]; missing: not computed yet) instead of a cell (a cell is 40 bytes; at
    /// 1M flows the cells of the keys met were scattered over megabytes, and reading them
    /// missed the cache).
    truths: OnceLock<Box<[AtomicU8]>>,
    /// The result for a key the index does not hold (no candidates).
    absent: OnceLock<Val<'a>>,
    /// The result of an aggregate without a join (over all its candidates).
    constant: OnceLock<Val<'a>>,
}

/// The aggregate indexes of one rule (or one law's scope test), each built on first use.
/// A cell may be shared with other rules whose aggregate has the same shape (see
/// [`super::sharing`]).
pub struct RuleIndexes<'a> {
    cells: Vec<Arc<OnceLock<AggregateIndex<'a>>>>,
    /// Per aggregate of the rule (never shared: rules sharing an index may sum or count
    /// different values).
    results: Vec<AggregateResults<'a>>,
}

impl<'a> RuleIndexes<'a> {
    /// Indexes of one rule's aggregates, shared with nothing.
    pub fn new(aggregates: &[Aggregate]) -> Self {
        RuleIndexes {
            cells: (0..aggregates.len())
                .map(|_| Arc::new(OnceLock::new()))
                .collect(),
            results: (0..aggregates.len())
                .map(|_| AggregateResults::default())
                .collect(),
        }
    }

    /// Indexes of the aggregates of every rule of a run, one per distinct shape.
    pub fn shared(rules: &[&[Aggregate]], same: &super::sharing::SameSets) -> Vec<Self> {
        let (numbers, count) =
            super::sharing::share_indexes(rules.iter().flat_map(|r| r.iter()), same);
        let cells: Vec<Arc<OnceLock<AggregateIndex<'a>>>> =
            (0..count).map(|_| Arc::new(OnceLock::new())).collect();
        let mut numbers = numbers.into_iter();
        rules
            .iter()
            .map(|aggregates| RuleIndexes {
                cells: aggregates
                    .iter()
                    .filter_map(|_| numbers.next().and_then(|n| cells.get(n)).cloned())
                    .collect(),
                results: aggregates
                    .iter()
                    .map(|_| AggregateResults::default())
                    .collect(),
            })
            .collect()
    }
}

/// Evaluation state of one rule on one thread: variable slots, witness paths, and the rule's
/// shared aggregate indexes and results.
pub struct Evaluator<'a> {
    pub world: &'a World<'a>,
    pub env: Vec<Option<Val<'a>>>,
    pub paths: Vec<WitnessPath>,
    aggregates: &'a [Aggregate],
    indexes: &'a RuleIndexes<'a>,
}

fn missing(entity: Ent, field: Field) -> Val<'static> {
    Val::Unknown(Missing {
        entity: Some(entity),
        field: Some(field),
    })
}

fn opt_bool<'a>(v: Option<bool>, e: Ent, f: Field) -> Val<'a> {
    v.map(Val::Bool).unwrap_or_else(|| missing(e, f))
}

fn opt_num<'a>(v: Option<u64>, e: Ent, f: Field) -> Val<'a> {
    v.map(|n| Val::Num(i64::try_from(n).unwrap_or(i64::MAX)))
        .unwrap_or_else(|| missing(e, f))
}

fn opt_date<'a>(v: Option<Date>, e: Ent, f: Field) -> Val<'a> {
    v.map(Val::Date).unwrap_or_else(|| missing(e, f))
}

/// A text fact: free text (`String`) or a vocabulary value ([`Term`]).
fn opt_text<'a, T: AsRef<str>>(v: &'a Option<T>, e: Ent, f: Field) -> Val<'a> {
    v.as_ref()
        .map(|t| Val::Text(t.as_ref()))
        .unwrap_or_else(|| missing(e, f))
}

fn opt_texts<'a>(v: &'a Option<Vec<Term>>, e: Ent, f: Field) -> Val<'a> {
    match v {
        Some(list) => Val::List(List::Texts(list)),
        None => missing(e, f),
    }
}

fn add_months(date: Date, months: i64) -> Date {
    let (y, m, d) = date.ymd();
    // Saturating: a rule file may state any duration; dates clamp at the calendar's ends.
    let total = (i64::from(y).saturating_mul(12))
        .saturating_add(i64::from(m) - 1)
        .saturating_add(months)
        .clamp(12, 9999 * 12 + 11);
    let year = total.div_euclid(12) as i32;
    let month = (total.rem_euclid(12) + 1) as u32;
    // Clamp the day to the month's length (31 January + 1 month = 28/29 February).
    (0..4)
        .find_map(|back| Date::from_ymd(year, month, d.saturating_sub(back)))
        .unwrap_or(date)
}

fn add_duration(date: Date, dur: Duration, sign: i64) -> Date {
    let mut result =
        add_months(date, sign.saturating_mul(dur.months)).add_days(sign.saturating_mul(dur.days));
    // Working days: whole weeks at once (5 working days = 7 days), then day by day for the
    // rest, so a huge duration in a rule file costs no more than a small one.
    let working = dur.working_days.max(0);
    result = result.add_days(sign.saturating_mul((working / 5).saturating_mul(7)));
    let mut remaining = working % 5;
    while remaining > 0 {
        result = result.add_days(sign);
        if result.weekday() < 5 {
            remaining -= 1;
        }
    }
    result
}

/// A duration in approximate days, for comparing durations and showing them.
pub fn approx_days(d: &Duration) -> i64 {
    d.days
        .saturating_add(d.months.saturating_mul(30))
        .saturating_add(d.working_days.saturating_mul(7) / 5)
}

impl<'a> Evaluator<'a> {
    pub fn new(
        world: &'a World<'a>,
        slots: usize,
        aggregates: &'a [Aggregate],
        indexes: &'a RuleIndexes<'a>,
    ) -> Self {
        Evaluator {
            world,
            env: vec![None; slots],
            paths: Vec::new(),
            aggregates,
            indexes,
        }
    }

    pub fn bind(&mut self, slot: usize, value: Val<'a>) {
        if let Some(s) = self.env.get_mut(slot) {
            *s = Some(value);
        }
    }

    pub fn truth(&mut self, ex: &'a Ex) -> Truth {
        let v = self.eval(ex);
        Truth::of(&v)
    }

    pub fn field(&self, entity: Ent, field: Field) -> Val<'a> {
        let set: &'a ManifestSet = self.world.set;
        let e = entity;
        use Field::*;
        match entity {
            Ent::Org(i) => {
                let Some(o) = set.organizations.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    OrgId => Val::Text(&o.id),
                    OrgName => opt_text(&o.name, e, field),
                    OrgCountry => Val::Text(&o.country),
                    OrgKind => Val::Text(&o.kind),
                    OrgCiio => opt_bool(o.ciio, e, field),
                    OrgCiioDesignatedBy => opt_text(&o.ciio_designated_by, e, field),
                    OrgRepresentativeIn => opt_texts(&o.representative_in, e, field),
                    OrgDpo => opt_bool(o.dpo, e, field),
                    OrgPiProtectionOfficer => opt_bool(o.pi_protection_officer, e, field),
                    OrgEmployees => opt_num(o.employees, e, field),
                    OrgDpfCertified => opt_bool(o.dpf_certified, e, field),
                    OrgDpfCertifiedSince => opt_date(o.dpf_certified_since, e, field),
                    OrgImportantDataNotified => opt_bool(o.important_data_notified, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Sys(i) => {
                // What rules read most of a system, from the world's columns: the system's
                // record is fetched only for its other facts.
                match field {
                    SysOperator => {
                        if let Some(facts) = self.world.system_facts.get(i as usize) {
                            return Val::Ent(Ent::Org(facts.operator));
                        }
                    }
                    SysCollected if (i as usize) < set.systems.len() => {
                        return Val::Cats(self.world.system_cats.get(i as usize));
                    }
                    SysProcessor | SysPublicSpace | SysPrivateSpace | SysSignage
                    | SysSignificantEffect => {
                        if let Some(facts) = self.world.system_facts.get(i as usize) {
                            return match field {
                                SysProcessor => facts
                                    .processor()
                                    .map(|p| Val::Ent(Ent::Org(p)))
                                    .unwrap_or_else(|| missing(e, field)),
                                SysPublicSpace => opt_bool(facts.fact(0), e, field),
                                SysPrivateSpace => opt_bool(facts.fact(1), e, field),
                                SysSignage => opt_bool(facts.fact(2), e, field),
                                _ => opt_bool(facts.fact(3), e, field),
                            };
                        }
                    }
                    _ => {}
                }
                let Some(s) = set.systems.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    SysId => Val::Text(&s.id),
                    SysName => opt_text(&s.name, e, field),
                    SysKind => Val::Text(&s.kind),
                    SysOperator => Val::Ent(Ent::Org(s.operator.0)),
                    SysProcessor => s
                        .processor
                        .map(|p| Val::Ent(Ent::Org(p.0)))
                        .unwrap_or_else(|| missing(e, field)),
                    SysLocation => Val::Text(&s.location),
                    SysPublicSpace => opt_bool(s.public_space, e, field),
                    SysPrivateSpace => opt_bool(s.private_space, e, field),
                    SysSignage => opt_bool(s.signage, e, field),
                    SysRetentionDays => opt_num(s.retention_days, e, field),
                    SysLogRetentionDays => opt_num(s.log_retention_days, e, field),
                    SysSecurity => opt_texts(&s.security, e, field),
                    SysAutomatedDecision => opt_text(&s.automated_decision, e, field),
                    SysSignificantEffect => opt_bool(s.significant_effect, e, field),
                    SysCollected => Val::Cats(self.world.system_cats.get(i as usize)),
                    SysIndividuals => {
                        let mut total: i64 = 0;
                        for c in &s.collects {
                            match c.individuals {
                                Some(n) => {
                                    total =
                                        total.saturating_add(i64::try_from(n).unwrap_or(i64::MAX))
                                }
                                None => return missing(e, field),
                            }
                        }
                        Val::Num(total)
                    }
                    _ => Val::unknown(),
                }
            }
            Ent::Collection(s, c) => {
                let Some(col) = set
                    .systems
                    .get(s as usize)
                    .and_then(|sys| sys.collects.get(c as usize))
                else {
                    return Val::unknown();
                };
                match field {
                    ColSystem => Val::Ent(Ent::Sys(s)),
                    ColData => Val::Cats(match self.world.collection_start.get(s as usize) {
                        Some(&first) => self
                            .world
                            .collection_cats
                            .get((first as usize).saturating_add(c as usize)),
                        None => &[],
                    }),
                    ColSubjects => opt_text(&col.subjects, e, field),
                    ColSubjectsIn => opt_texts(&col.subjects_in, e, field),
                    ColIndividuals => opt_num(col.individuals, e, field),
                    ColYoungestAge => opt_num(col.youngest_age, e, field),
                    ColPurpose => opt_text(&col.purpose, e, field),
                    ColLegalBasis => opt_text(&col.legal_basis, e, field),
                    ColBasisReference => opt_text(&col.basis_reference, e, field),
                    ColSpecialCondition => opt_text(&col.special_condition, e, field),
                    ColConsent => opt_text(&col.consent, e, field),
                    ColNotice => opt_bool(col.notice, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Flow(i) => {
                // The ends and the commonest facts from the world's column, not the record.
                if let Some(facts) = self.world.flow_facts.get(i as usize) {
                    match field {
                        FlowFrom => return Val::Ent(Ent::Sys(facts.from)),
                        FlowTo => return Val::Ent(Ent::Sys(facts.to)),
                        FlowAnonymized => return opt_bool(facts.fact(0), e, field),
                        FlowPseudonymized => return opt_bool(facts.fact(1), e, field),
                        _ => {}
                    }
                }
                let Some(f) = set.flows.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    FlowId => Val::Text(&f.id),
                    FlowFrom => Val::Ent(Ent::Sys(f.from.0)),
                    FlowTo => Val::Ent(Ent::Sys(f.to.0)),
                    FlowData => Val::Cats(self.world.flow_cats.get(i as usize)),
                    FlowPurpose => opt_text(&f.purpose, e, field),
                    FlowLegalBasis => opt_text(&f.legal_basis, e, field),
                    FlowBasisReference => opt_text(&f.details().basis_reference, e, field),
                    FlowSpecialCondition => opt_text(&f.special_condition, e, field),
                    FlowConsent => opt_text(&f.consent, e, field),
                    FlowIndividuals => opt_num(f.individuals, e, field),
                    FlowEncrypted => opt_bool(f.encrypted, e, field),
                    FlowStart => opt_date(f.details().start, e, field),
                    FlowEnd => opt_date(f.details().end, e, field),
                    FlowRemoteAccess => opt_bool(f.details().remote_access, e, field),
                    FlowRecipientRole => {
                        let facts = &self.world.system_facts;
                        Val::Text(f.recipient_role_by(|s| {
                            facts.get(s.0 as usize).map(|x| OrgIdx(x.operator))
                        }))
                    }
                    FlowAnonymized => opt_bool(f.details().anonymized, e, field),
                    FlowPseudonymized => opt_bool(f.details().pseudonymized, e, field),
                    FlowImportantData => opt_bool(f.details().important_data, e, field),
                    FlowForeignAuthority => opt_bool(f.details().foreign_authority, e, field),
                    FlowAuthorityApproval => opt_bool(f.details().authority_approval, e, field),
                    FlowAutomatedDecision => opt_text(&f.details().automated_decision, e, field),
                    FlowSignificantEffect => opt_bool(f.details().significant_effect, e, field),
                    FlowTransfer => f
                        .transfer
                        .as_ref()
                        .map(|_| Val::Ent(Ent::Transfer(i)))
                        .unwrap_or_else(|| missing(e, field)),
                    FlowExemption => f
                        .exemption
                        .as_ref()
                        .map(|_| Val::Ent(Ent::Exemption(i)))
                        .unwrap_or_else(|| missing(e, field)),
                    _ => Val::unknown(),
                }
            }
            Ent::Transfer(i) => {
                let Some(t) = set.flows.get(i as usize).and_then(|f| f.transfer.as_ref()) else {
                    return Val::unknown();
                };
                match field {
                    TransferMechanism => opt_text(&t.mechanism, e, field),
                    TransferContract => t
                        .contract
                        .map(|c| Val::Ent(Ent::Contract(c.0)))
                        .unwrap_or_else(|| missing(e, field)),
                    TransferSince => opt_date(t.since, e, field),
                    TransferUntil => opt_date(t.until, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Exemption(i) => {
                let Some(x) = set.flows.get(i as usize).and_then(|f| f.exemption.as_ref()) else {
                    return Val::unknown();
                };
                match field {
                    ExemptionBasis => Val::Text(&x.basis),
                    ExemptionEvidence => opt_text(&x.evidence, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Contract(i) => {
                let Some(c) = set.contracts.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    ContractId => Val::Text(&c.id),
                    ContractParties => Val::List(List::Organizations(&c.parties)),
                    ContractKind => Val::Text(&c.kind),
                    ContractSince => opt_date(c.since, e, field),
                    ContractUntil => opt_date(c.until, e, field),
                    ContractFiled => opt_date(c.filed, e, field),
                    ContractClauses => opt_texts(&c.clauses, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Assessment(i) => {
                let Some(a) = set.assessments.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    AssessmentId => Val::Text(&a.id),
                    AssessmentKind => Val::Text(&a.kind),
                    AssessmentCovers => Val::List(List::Entities(&a.covers)),
                    AssessmentDate => opt_date(a.date, e, field),
                    AssessmentResidualRisk => opt_text(&a.residual_risk, e, field),
                    AssessmentConsultedAuthority => opt_bool(a.consulted_authority, e, field),
                    AssessmentValidUntil => opt_date(a.valid_until, e, field),
                    _ => Val::unknown(),
                }
            }
            Ent::Path(i) => {
                let Some(p) = self.paths.get(i as usize) else {
                    return Val::unknown();
                };
                match field {
                    PathLength => Val::Num(p.flows.len() as i64),
                    PathSource => p
                        .systems
                        .first()
                        .map(|&s| Val::Ent(Ent::Sys(s)))
                        .unwrap_or_else(Val::unknown),
                    PathTarget => p
                        .systems
                        .last()
                        .map(|&s| Val::Ent(Ent::Sys(s)))
                        .unwrap_or_else(Val::unknown),
                    _ => Val::unknown(),
                }
            }
        }
    }

    fn country_in(&self, value: &Val<'a>, set: usize) -> Option<bool> {
        match value {
            Val::Text(code) => Some(self.slot_in(country_slot(code), set)),
            _ => None,
        }
    }

    pub(super) fn slot_in(&self, slot: Option<usize>, set: usize) -> bool {
        match (slot, self.world.country_sets.get(set)) {
            (Some(i), Some(members)) => members.get(i).copied().unwrap_or(false),
            _ => false,
        }
    }

    pub fn eval(&mut self, ex: &'a Ex) -> Val<'a> {
        match ex {
            Ex::Const(c) => const_value(c),
            Ex::Var(slot) => self
                .env
                .get(*slot)
                .cloned()
                .flatten()
                .unwrap_or_else(Val::unknown),
            Ex::AsOf => Val::Date(self.world.as_of),
            Ex::Field(inner, field) => match &**inner {
                // The commonest shape (`f.purpose`): read the variable in place, not a copy.
                Ex::Var(slot) => match self.env.get(*slot) {
                    Some(Some(Val::Ent(entity))) => self.field(*entity, *field),
                    Some(Some(Val::Unknown(m))) => Val::Unknown(*m),
                    _ => Val::unknown(),
                },
                _ => match self.eval(inner) {
                    Val::Ent(entity) => self.field(entity, *field),
                    unknown @ Val::Unknown(_) => unknown,
                    _ => Val::unknown(),
                },
            },
            Ex::Not(inner) => match self.eval(inner) {
                Val::Bool(b) => Val::Bool(!b),
                other => other,
            },
            Ex::And(parts) => {
                let mut first_unknown = None;
                for part in parts {
                    match self.eval(part) {
                        Val::Bool(false) => return Val::Bool(false),
                        Val::Unknown(m) => {
                            first_unknown.get_or_insert(m);
                        }
                        _ => {}
                    }
                }
                first_unknown.map(Val::Unknown).unwrap_or(Val::Bool(true))
            }
            Ex::Or(parts) => {
                let mut first_unknown = None;
                for part in parts {
                    match self.eval(part) {
                        Val::Bool(true) => return Val::Bool(true),
                        Val::Unknown(m) => {
                            first_unknown.get_or_insert(m);
                        }
                        _ => {}
                    }
                }
                first_unknown.map(Val::Unknown).unwrap_or(Val::Bool(false))
            }
            Ex::Compare(op, a, b) => {
                let a = self.eval(a);
                let b = self.eval(b);
                compare(*op, &a, &b)
            }
            Ex::InList(value, items, negated) => {
                let v = self.eval(value);
                if let Val::Unknown(m) = v {
                    return Val::Unknown(m);
                }
                let mut found = false;
                for item in items {
                    if compare(CmpOp::Eq, &v, &self.eval(item)) == Val::Bool(true) {
                        found = true;
                        break;
                    }
                }
                Val::Bool(found != *negated)
            }
            Ex::InCountries(value, set, negated) => {
                let v = match &**value {
                    // A system's location or an organization's country: its slot, from the
                    // world's columns.
                    Ex::Field(owner, field @ (Field::SysLocation | Field::OrgCountry)) => {
                        match self.eval(owner) {
                            Val::Ent(entity) => match self.world.country_column(entity, *field) {
                                Some(slot) => {
                                    return Val::Bool(self.slot_in(slot, *set) != *negated)
                                }
                                None => self.field(entity, *field),
                            },
                            unknown @ Val::Unknown(_) => unknown,
                            _ => Val::unknown(),
                        }
                    }
                    _ => self.eval(value),
                };
                match self.country_in(&v, *set) {
                    Some(inside) => Val::Bool(inside != *negated),
                    None => v,
                }
            }
            Ex::HasCategories(value, set, all) => match self.eval(value) {
                Val::Cats(ids) => {
                    let Some(cs) = self.world.program.category_sets.get(*set) else {
                        return Val::Bool(false);
                    };
                    if *all {
                        let tax = &self.world.program.taxonomy;
                        Val::Bool(
                            cs.members
                                .iter()
                                .all(|&m| ids.iter().any(|&c| tax.is_under(c as usize, m))),
                        )
                    } else {
                        Val::Bool(
                            ids.iter()
                                .any(|&c| cs.covers.get(c as usize).copied().unwrap_or(false)),
                        )
                    }
                }
                other => other,
            },
            Ex::HasValue(list, item) => {
                let l = self.eval(list);
                let i = self.eval(item);
                match (&l, &i) {
                    (Val::Unknown(m), _) | (_, Val::Unknown(m)) => Val::Unknown(*m),
                    (Val::List(values), _) => Val::Bool(
                        values
                            .iter()
                            .any(|v| compare(CmpOp::Eq, &v, &i) == Val::Bool(true)),
                    ),
                    _ => Val::Bool(false),
                }
            }
            Ex::HasAll(list, items) => {
                let l = self.eval(list);
                let Val::List(values) = l else { return l };
                for item in items {
                    let i = self.eval(item);
                    if !values
                        .iter()
                        .any(|v| compare(CmpOp::Eq, &v, &i) == Val::Bool(true))
                    {
                        return Val::Bool(false);
                    }
                }
                Val::Bool(true)
            }
            Ex::HasCountry(list, set, label) => {
                let l = self.eval(list);
                let Val::List(values) = l else { return l };
                let found = values.iter().any(|v| {
                    matches!(v, Val::Text(t) if !label.is_empty() && t == label.as_str())
                        || self.country_in(&v, *set) == Some(true)
                });
                Val::Bool(found)
            }
            Ex::Is(inner, what) => {
                let v = self.eval(inner);
                Val::Bool(match what {
                    IsWhat::Missing => v.is_unknown(),
                    IsWhat::Present => !v.is_unknown(),
                    IsWhat::True => v == Val::Bool(true),
                    IsWhat::False => v == Val::Bool(false),
                })
            }
            Ex::Leaves(flow, set) | Ex::Enters(flow, set) => {
                let v = self.eval(flow);
                let Val::Ent(Ent::Flow(i)) = v else { return v };
                let Some(f) = self.world.flow_facts.get(i as usize) else {
                    return Val::unknown();
                };
                let from_in = self.slot_in(self.world.system_country(f.from), *set);
                let to_in = self.slot_in(self.world.system_country(f.to), *set);
                Val::Bool(if matches!(ex, Ex::Leaves(..)) {
                    from_in && !to_in
                } else {
                    !from_in && to_in
                })
            }
            Ex::Active(flow, when) => {
                let v = self.eval(flow);
                let Val::Ent(Ent::Flow(i)) = v else { return v };
                let Some(f) = self.world.set.flows.get(i as usize) else {
                    return Val::unknown();
                };
                let as_of = self.world.as_of;
                let bound = match when {
                    ActiveWhen::AsOfYear => self.world.year_start,
                    ActiveWhen::AsOfDate => as_of,
                    ActiveWhen::SincePreviousYear => {
                        self.world.year_start.add_days(-1).start_of_year()
                    }
                };
                Val::Bool(f.is_active(as_of, bound))
            }
            Ex::Arith(a, op, b) => {
                let a = self.eval(a);
                let b = self.eval(b);
                match (a, op, b) {
                    (Val::Unknown(m), _, _) | (_, _, Val::Unknown(m)) => Val::Unknown(m),
                    (Val::Num(x), AddOp::Plus, Val::Num(y)) => Val::Num(x.saturating_add(y)),
                    (Val::Num(x), AddOp::Minus, Val::Num(y)) => Val::Num(x.saturating_sub(y)),
                    (Val::Date(d), AddOp::Plus, Val::Dur(u)) => Val::Date(add_duration(d, u, 1)),
                    (Val::Date(d), AddOp::Minus, Val::Dur(u)) => Val::Date(add_duration(d, u, -1)),
                    (Val::Date(x), AddOp::Minus, Val::Date(y)) => Val::Num(y.days_until(x)),
                    (Val::Dur(x), AddOp::Plus, Val::Dur(y)) => Val::Dur(Duration {
                        days: x.days.saturating_add(y.days),
                        months: x.months.saturating_add(y.months),
                        working_days: x.working_days.saturating_add(y.working_days),
                    }),
                    _ => Val::unknown(),
                }
            }
            Ex::Let(slot, arg, body) => {
                let value = self.eval(arg);
                let saved = self.env.get(*slot).cloned().flatten();
                self.bind(*slot, value);
                let result = self.eval(body);
                if let Some(s) = self.env.get_mut(*slot) {
                    *s = saved;
                }
                result
            }
            Ex::Aggregate(id) => self.aggregate(*id),
            Ex::CountryOf(inner) => match self.eval(inner) {
                Val::Text(t) => Val::Text(country_of(t)),
                other => other,
            },
        }
    }

    /// Builds aggregate `id`'s index: one pass over its entities.
    fn build_index(&mut self, id: usize) -> AggregateIndex<'a> {
        let aggregates: &'a [Aggregate] = self.aggregates;
        let Some(agg) = aggregates.get(id) else {
            return AggregateIndex::default();
        };
        let mut numbers = KeyNumbers::default();
        let mut pairs: Vec<(u32, Ent)> = Vec::new();
        let mut all = Vec::new();
        let saved = self.env.get(agg.var).cloned().flatten();
        let world = self.world;
        for entity in world.entities(agg.kind, agg.whole_year) {
            if !self.passes_local(agg, entity) {
                continue;
            }
            let Some(join) = &agg.join else {
                all.push(entity);
                continue;
            };
            // A single key is filed as it is, not through a list made for it.
            match (join.inner_is_list, self.eval(&join.inner)) {
                (true, Val::List(values)) => {
                    for key in values.iter().filter_map(|v| Key::of(&v)) {
                        pairs.push((numbers.number(key, world.set), entity));
                    }
                }
                (false, value) => {
                    if let Some(key) = Key::of(&value) {
                        pairs.push((numbers.number(key, world.set), entity));
                    }
                }
                _ => {}
            }
        }
        if let Some(s) = self.env.get_mut(agg.var) {
            *s = saved;
        }
        if agg.join.is_some() {
            AggregateIndex::from_pairs(numbers, pairs)
        } else {
            AggregateIndex {
                all,
                ..AggregateIndex::default()
            }
        }
    }

    fn aggregate(&mut self, id: usize) -> Val<'a> {
        let aggregates: &'a [Aggregate] = self.aggregates;
        let Some(agg) = aggregates.get(id) else {
            return Val::unknown();
        };
        let indexes: &'a RuleIndexes<'a> = self.indexes;
        let (Some(cell), Some(results)) = (indexes.cells.get(id), indexes.results.get(id)) else {
            return Val::unknown();
        };
        if agg.join.is_none()
            && agg.correlated.is_empty()
            && cell.get().is_none()
            && matches!(agg.op, AggregateOp::Exists | AggregateOp::NoneExists)
        {
            // "exists system s where s.location in CN", the scope of most packs: the first
            // entity that passes the filter answers it, without listing all that do.
            return *results
                .constant
                .get_or_init(|| self.exists_without_join(agg));
        }
        // Built by the first thread that needs it; another thread needing it meanwhile
        // waits rather than building it again.
        let index: &'a AggregateIndex<'a> = cell.get_or_init(|| self.build_index(id));
        let Some(join) = &agg.join else {
            // Without a join the filter uses no outer variable (the checker refuses a
            // correlated filter without one): one answer for the whole run.
            return *results.constant.get_or_init(|| self.fold(agg, &index.all));
        };
        let outer = self.eval(&join.outer);
        if let Val::Unknown(m) = outer {
            return Val::Unknown(m);
        }
        if !join.outer_is_list {
            let Some(key) = Key::of(&outer) else {
                return self.fold(agg, &[]);
            };
            let number = index.number_of(&key);
            let candidates = number.map_or(&[][..], |n| index.candidates_at(n));
            if !agg.correlated.is_empty() {
                return self.fold(agg, candidates);
            }
            // The answer depends only on the key: computed once per run.
            if let (Some(n), AggregateOp::Exists | AggregateOp::NoneExists) = (number, agg.op) {
                let truths = results.truths.get_or_init(|| {
                    (0..index.numbers.len())
                        .map(|_| AtomicU8::new(pack_fact(None)))
                        .collect()
                });
                if let Some(truth) = truths.get(n as usize) {
                    if let Some(known) = unpack_fact(truth.load(Ordering::Relaxed), 0) {
                        return Val::Bool(known);
                    }
                    // Two threads may both compute a key's answer at once: it is the same
                    // answer (the evaluation is a function of the key), so either store
                    // is right.
                    let answer = self.fold(agg, candidates);
                    if let Val::Bool(b) = answer {
                        truth.store(pack_fact(Some(b)), Ordering::Relaxed);
                    }
                    return answer;
                }
            }
            let result_cell = match number {
                Some(n) => results
                    .by_number
                    .get_or_init(|| (0..index.numbers.len()).map(|_| OnceLock::new()).collect())
                    .get(n as usize),
                None => Some(&results.absent),
            };
            return match result_cell {
                Some(result) => *result.get_or_init(|| self.fold(agg, candidates)),
                None => self.fold(agg, candidates),
            };
        }
        // A list of keys (`a.covers has f`, outer list): looked up each time; candidates
        // borrow the shared index, only several keys need a merged list.
        let Val::List(values) = outer else {
            return Val::unknown();
        };
        let mut keys: Vec<Key<'a>> = Vec::with_capacity(values.len());
        for key in values.iter().filter_map(|v| Key::of(&v)) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        match keys.as_slice() {
            [key] => self.fold(agg, index.candidates_of(key)),
            _ => {
                let mut merged: Vec<Ent> = keys
                    .iter()
                    .flat_map(|k| index.candidates_of(k).iter().copied())
                    .collect();
                merged.sort_unstable();
                merged.dedup();
                self.fold(agg, &merged)
            }
        }
    }

    /// The answer of an `exists` or `none exists` without a join (whose filter is local):
    /// whether any entity passes the filter, found by testing them in order up to the first
    /// that does.
    fn exists_without_join(&mut self, agg: &'a Aggregate) -> Val<'a> {
        let saved = self.env.get(agg.var).cloned().flatten();
        let world = self.world;
        let found = world
            .entities(agg.kind, agg.whole_year)
            .any(|entity| self.passes_local(agg, entity));
        if let Some(s) = self.env.get_mut(agg.var) {
            *s = saved;
        }
        Val::Bool(found == (agg.op == AggregateOp::Exists))
    }

    /// Binds `entity` to the aggregate's variable and tells whether it passes the
    /// aggregate's local filter (an unknown test does not pass).
    fn passes_local(&mut self, agg: &'a Aggregate, entity: Ent) -> bool {
        self.bind(agg.var, Val::Ent(entity));
        agg.local
            .iter()
            .all(|conjunct| self.truth(conjunct) == Truth::True)
    }

    /// The aggregate's answer over `candidates` (its correlated filter applied to each).
    fn fold(&mut self, agg: &'a Aggregate, candidates: &[Ent]) -> Val<'a> {
        let saved = self.env.get(agg.var).cloned().flatten();
        let mut count: i64 = 0;
        let mut sum: i64 = 0;
        let mut sum_missing = None;
        let mut distinct: HashSet<Key<'a>> = HashSet::default();
        let mut any = false;
        'each: for &entity in candidates {
            self.bind(agg.var, Val::Ent(entity));
            for conjunct in &agg.correlated {
                if self.truth(conjunct) != Truth::True {
                    continue 'each;
                }
            }
            count = count.saturating_add(1);
            any = true;
            match agg.op {
                AggregateOp::Sum => match agg.value.as_ref().map(|v| self.eval(v)) {
                    Some(Val::Num(n)) => sum = sum.saturating_add(n),
                    Some(Val::Unknown(m)) => {
                        sum_missing.get_or_insert(m);
                    }
                    _ => {}
                },
                AggregateOp::CountDistinct => {
                    if let Some(k) = agg
                        .value
                        .as_ref()
                        .map(|v| self.eval(v))
                        .as_ref()
                        .and_then(Key::of)
                    {
                        distinct.insert(k);
                    }
                }
                AggregateOp::Exists | AggregateOp::NoneExists => break 'each,
                AggregateOp::Count => {}
            }
        }
        if let Some(s) = self.env.get_mut(agg.var) {
            *s = saved;
        }
        match agg.op {
            AggregateOp::Count => Val::Num(count),
            AggregateOp::CountDistinct => Val::Num(distinct.len() as i64),
            AggregateOp::Sum => match sum_missing {
                Some(m) => Val::Unknown(m),
                None => Val::Num(sum),
            },
            AggregateOp::Exists => Val::Bool(any),
            AggregateOp::NoneExists => Val::Bool(!any),
        }
    }
}

/// A constant's value.
pub fn const_value(c: &Const) -> Val<'_> {
    match c {
        Const::Bool(b) => Val::Bool(*b),
        Const::Number(n) => Val::Num(*n),
        Const::Date(d) => Val::Date(*d),
        Const::Duration(d) => Val::Dur(*d),
        Const::Text(t) => Val::Text(t.as_str()),
    }
}

/// Compares two values; locations compare by country (`CN-GD` = `CN`).
pub fn compare<'a>(op: CmpOp, a: &Val<'a>, b: &Val<'a>) -> Val<'a> {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Val::Unknown(m), _) | (_, Val::Unknown(m)) => return Val::Unknown(*m),
        (Val::Num(x), Val::Num(y)) => Some(x.cmp(y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(y)),
        (Val::Dur(x), Val::Dur(y)) => Some(approx_days(x).cmp(&approx_days(y))),
        (Val::Text(x), Val::Text(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Ent(x), Val::Ent(y)) => Some(if x == y {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        _ => None,
    };
    let Some(ordering) = ordering else {
        return Val::Bool(matches!(op, CmpOp::Ne));
    };
    Val::Bool(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::CategoryLists;

    proptest::proptest! {
        /// Sorting by the ids' 16-byte keys, then by whole ids, then by number, is sorting
        /// by id and number: ids sharing long prefixes, prefixes of each other, NUL bytes,
        /// non-ASCII, the empty id.
        #[test]
        fn ids_sorted_by_their_keys_are_sorted_by_id(
            ids in proptest::collection::vec("(sys-|flow-0000000|a)?[a-c\\x00ÿé-]{0,20}", 0..40)
        ) {
            let keys: Vec<u128> = ids.iter().map(|id| super::id_key(id)).collect();
            let id = |i: u32| ids.get(i as usize).map(String::as_str);
            let mut by_key: Vec<u32> = (0..ids.len() as u32).collect();
            by_key.sort_by(|&a, &b| super::by_id(&keys, id, a, b));
            let mut by_text: Vec<u32> = (0..ids.len() as u32).collect();
            by_text.sort_by(|&a, &b| id(a).cmp(&id(b)).then(a.cmp(&b)));
            proptest::prop_assert_eq!(by_key, by_text);
        }
    }

    #[test]
    fn category_lists_keep_each_entity_sorted_and_without_repeats() {
        let mut lists = CategoryLists::with_capacity(3);
        lists.push([5, 1, 5, 3, 1].into_iter());
        lists.push(std::iter::empty());
        lists.push([7, 7].into_iter());
        assert_eq!(lists.get(0), &[1, 3, 5]);
        assert_eq!(lists.get(1), &[] as &[u32]);
        assert_eq!(lists.get(2), &[7]);
        assert_eq!(lists.get(3), &[] as &[u32]);
    }

    #[test]
    fn concatenated_lists_keep_each_entity_in_place() {
        let mut first = CategoryLists::with_capacity(2);
        first.push([2, 1].into_iter());
        first.push(std::iter::empty());
        let mut second = CategoryLists::with_capacity(2);
        second.push([9].into_iter());
        second.push([4, 3].into_iter());
        let all = CategoryLists::concat(vec![first, CategoryLists::default(), second]);
        assert_eq!(all.get(0), &[1, 2]);
        assert_eq!(all.get(1), &[] as &[u32]);
        assert_eq!(all.get(2), &[9]);
        assert_eq!(all.get(3), &[3, 4]);
        assert_eq!(all.get(4), &[] as &[u32]);
    }
}
