//! The engine: evaluates the compiled rules in force at the as-of date over the manifest
//! set and produces sorted, deterministic findings (SPEC §3).
//!
//! Cost model: a `for each` rule is one pass over its entities; aggregates are answered
//! from hash indexes built once per run (rules asking the same question share one); a path
//! rule is one multi-source breadth-first search over the flows (two when facts are
//! missing), with witness paths read back from predecessor links. Nothing runs a search per
//! node. Rules yield compact hits; a finding's text is written only for the hits reported,
//! after they are sorted and duplicates dropped.

mod conjuncts;
pub mod eval;
mod fast;
mod sharing;
pub mod value;

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use conjuncts::{SharedTests, TestMemo};
use eval::{Evaluator, Members, RuleIndexes, WitnessPath, World};
use sharing::SameSets;
use value::{Ent, Missing, Truth, Val};

use crate::date::Date;
use crate::findings::{CheckResult, Finding, Location, RuleInfo, Severity, Status, Subject};
use crate::lang::ir::{Aggregate, Clause, Ex, LawIr, Program, Query, RuleIr, Slot, TemplatePart};
use crate::lang::schema::field_name;
use crate::manifest::graph::FlowGraph;
use crate::manifest::model::{EntityRef, ManifestSet};
use crate::source::Loc;

/// What to evaluate.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub as_of: Date,
    /// Law short names chosen with `--law` (case-insensitive); `None` = those on by default.
    pub laws: Option<Vec<String>>,
}

pub(crate) fn entity_of(r: EntityRef) -> Ent {
    match r {
        EntityRef::Organization(i) => Ent::Org(i.0),
        EntityRef::System(i) => Ent::Sys(i.0),
        EntityRef::Flow(i) => Ent::Flow(i.0),
        EntityRef::Contract(i) => Ent::Contract(i.0),
        EntityRef::Assessment(i) => Ent::Assessment(i.0),
    }
}

/// Whether a law is selected and in force at the as-of date.
fn law_selected(law: &LawIr, options: &CheckOptions) -> bool {
    let chosen = match &options.laws {
        Some(names) => names.iter().any(|n| n.eq_ignore_ascii_case(&law.name)),
        None => law.on_by_default,
    };
    chosen
        && law.effective.is_none_or(|d| d <= options.as_of)
        && law.until.is_none_or(|d| options.as_of < d)
}

fn rule_in_force(rule: &RuleIr, as_of: Date) -> bool {
    rule.effective.is_none_or(|d| d <= as_of) && rule.until.is_none_or(|d| as_of < d)
}

/// Evaluates every selected law's rules in force over the manifests.
pub fn check(program: &Program, set: &ManifestSet, options: &CheckOptions) -> CheckResult {
    with_findings(program, set, FlowGraph::build(set), options, |pending| {
        let mut result = CheckResult {
            findings: pending.write_all(),
            rules_checked: pending.rules_checked.clone(),
            ..CheckResult::default()
        };
        result.recount();
        result
    })
}

/// Evaluates the rules as [`check`] does, over `graph` (built from `set`), and hands
/// `consume` the findings still unwritten: a report can then write them a range at a time
/// as it renders them, instead of holding all of them (a city-scale run has about a finding
/// per flow). The graph is dropped once the path searches' order is made from it, before
/// the rules run.
pub fn with_findings<R>(
    program: &Program,
    set: &ManifestSet,
    graph: FlowGraph,
    options: &CheckOptions,
    consume: impl FnOnce(&PendingFindings<'_>) -> R,
) -> R {
    let world = World::new(program, set, &graph, options.as_of);
    drop(graph);
    let same = SameSets::of(&world);
    let selected: Vec<&LawIr> = program
        .laws
        .iter()
        .filter(|law| law_selected(law, options))
        .collect();
    // Most packs apply "when exists system s where s.location in CN": one shared index
    // answers all of them.
    let scope_aggregates: Vec<&[Aggregate]> = selected
        .iter()
        .map(|law| {
            law.applies
                .as_ref()
                .map_or(&[][..], |(_, _, a)| a.as_slice())
        })
        .collect();
    let scope_indexes = RuleIndexes::shared(&scope_aggregates, &same);
    let mut rules_checked = Vec::new();
    let mut rules: Vec<&RuleIr> = Vec::new();
    for (law, indexes) in selected.into_iter().zip(&scope_indexes) {
        if let Some((applies, slots, aggregates)) = &law.applies {
            let mut evaluator = Evaluator::new(&world, *slots, aggregates, indexes);
            if evaluator.truth(applies) == Truth::False {
                continue;
            }
        }
        for rule in &law.rules {
            if !rule_in_force(rule, options.as_of) {
                continue;
            }
            rules_checked.push(rule_info(law, rule));
            rules.push(rule);
        }
    }
    rules_checked.sort_by(|a, b| a.id.cmp(&b.id));
    let aggregates: Vec<&[Aggregate]> = rules.iter().map(|r| r.aggregates.as_slice()).collect();
    let indexes = RuleIndexes::shared(&aggregates, &same);
    let hits = evaluate_rules(&world, &rules, &indexes, &same);
    // Sorted, without duplicates.
    let order = reported_order(&world, &rules, &hits);
    let pending = PendingFindings {
        world: &world,
        texts: rules.iter().map(|rule| RuleText::of(rule)).collect(),
        rules,
        indexes: &indexes,
        hits,
        order,
        rules_checked,
    };
    consume(&pending)
}

pub fn rule_info(law: &LawIr, rule: &RuleIr) -> RuleInfo {
    RuleInfo {
        id: rule.id.clone(),
        title: rule.title.clone(),
        law: law.name.clone(),
        law_title: law.title.clone(),
        citation: rule.citation.clone(),
        severity: rule.severity,
        explanation: rule
            .explain
            .clone()
            .or_else(|| rule.text.clone())
            .unwrap_or_default(),
        remediation: rule.remedy.clone(),
        source: law.source.clone(),
    }
}

/// The outcome of a binding's clauses and tests.
enum Verdict {
    Pass,
    Violation(Vec<Missing>),
}

fn run_clauses<'a>(
    ev: &mut Evaluator<'a>,
    clauses: &'a [Clause],
    missing: &mut Vec<Missing>,
) -> bool {
    run_clauses_knowing(ev, clauses, &|_| false, missing)
}

/// [`run_clauses`], skipping the `where` clauses that `known_true` (by clause number) says
/// are true: their shared tests were all evaluated for this entity and found true.
fn run_clauses_knowing<'a>(
    ev: &mut Evaluator<'a>,
    clauses: &'a [Clause],
    known_true: &dyn Fn(usize) -> bool,
    missing: &mut Vec<Missing>,
) -> bool {
    for (number, clause) in clauses.iter().enumerate() {
        match clause {
            Clause::Where(_) if known_true(number) => {}
            Clause::Where(cond) => match ev.truth(cond) {
                Truth::False => return false,
                Truth::Unknown(m) => missing.push(m),
                Truth::True => {}
            },
            Clause::Let(slot, value) => {
                let v = ev.eval(value);
                ev.bind(*slot, v);
            }
        }
    }
    true
}

fn judge<'a>(ev: &mut Evaluator<'a>, rule: &'a RuleIr, mut missing: Vec<Missing>) -> Verdict {
    if let Some(require) = &rule.require {
        match ev.truth(require) {
            Truth::True => return Verdict::Pass,
            Truth::False => {}
            Truth::Unknown(m) => missing.push(m),
        }
    }
    for exception in &rule.unless {
        if ev.truth(exception) == Truth::True {
            return Verdict::Pass;
        }
    }
    Verdict::Violation(missing)
}

/// Entities per unit of parallel work in a fused pass (and findings, when all are written).
/// Each unit makes its rules' evaluators: 4,096 judged all packs 8% faster than 2,048 at
/// 100k flows (two divan runs, when each unit also cached its own aggregate results), with
/// a dozen units per core at 100k flows still to balance the work. Since the results are
/// shared, 1,024 at 10k flows made no difference (101 paired runs).
const CHUNK: usize = 4096;

/// One unit of parallel work.
enum Job {
    /// A path rule: one multi-source search.
    Path(usize),
    /// A slice of one kind's entities, judged by every `for each` rule over that kind
    /// (group number, range of the group's entities).
    Chunk(usize, std::ops::Range<usize>),
}

/// The `for each` rules over one kind, judged together.
struct Group<'w> {
    /// Rule numbers.
    members: Vec<usize>,
    entities: Members<'w>,
    /// Their `where` tests shared across rules.
    tests: SharedTests,
    /// Each shared test's fast form, for the commonest shapes.
    fast: Vec<Option<fast::FastTest>>,
}

/// A rule's verdict against one binding, kept compact while the rules run. A finding's text
/// (message, fingerprint, ids) is written only for the hits that are reported, once they are
/// sorted and duplicates are dropped, so no string is formatted while the rules run.
#[derive(Clone, Debug)]
struct Hit {
    rule: u32,
    /// The finding's subject: the bound entity of a `for each` rule; the last flow of a path
    /// rule's witness (or the target system, for an empty path).
    subject: Ent,
    /// A path rule's witness.
    witness: Option<Box<WitnessPath>>,
    /// At its size: most hits miss nothing, and a list grown by pushes holds room for four.
    missing: Box<[Missing]>,
}

/// Evaluates the rules on every core (rayon) and returns their hits, in rule order.
///
/// The `for each` rules over one kind are fused: each entity is judged by all of them while
/// its facts (the flow, its systems and their operators) are in cache, instead of one pass
/// over the whole model per rule. Path rules are one job each.
fn evaluate_rules<'a>(
    world: &'a World<'a>,
    rules: &[&'a RuleIr],
    indexes: &'a [RuleIndexes<'a>],
    same: &SameSets,
) -> Vec<Hit> {
    use rayon::prelude::*;
    let mut jobs: Vec<Job> = Vec::new();
    let mut kinds: Vec<(crate::lang::ir::Kind, Vec<usize>)> = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        match &rule.query {
            Query::Path { .. } => jobs.push(Job::Path(r)),
            Query::Each { kind, .. } => match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, members)) => members.push(r),
                None => kinds.push((*kind, vec![r])),
            },
        }
    }
    let groups: Vec<Group> = kinds
        .into_iter()
        .map(|(kind, members)| {
            let member_rules: Vec<&RuleIr> = members
                .iter()
                .filter_map(|&r| rules.get(r).copied())
                .collect();
            let tests = SharedTests::of(&member_rules, same);
            Group {
                fast: tests.tests.iter().map(fast::FastTest::compile).collect(),
                tests,
                members,
                entities: world.members(kind),
            }
        })
        .collect();
    for (g, group) in groups.iter().enumerate() {
        let mut start = 0;
        while start < group.entities.len() {
            let end = start.saturating_add(CHUNK).min(group.entities.len());
            jobs.push(Job::Chunk(g, start..end));
            start = end;
        }
    }
    let no_indexes = RuleIndexes::new(&[]);
    let done: Vec<Vec<(usize, Vec<Hit>)>> = jobs
        .par_iter()
        .map(|job| match job {
            Job::Path(r) => {
                let mut hits = Vec::new();
                if let (Some(rule), Some(index)) = (rules.get(*r), indexes.get(*r)) {
                    evaluate_path_rule(world, *r, rule, index, &mut hits);
                }
                vec![(*r, hits)]
            }
            Job::Chunk(g, range) => {
                let Some(group) = groups.get(*g) else {
                    return Vec::new();
                };
                let shared = &group.tests;
                let mut judges: Vec<Judge<'a, '_>> = group
                    .members
                    .iter()
                    .zip(shared.per_rule.iter().zip(&shared.per_clause))
                    .filter_map(|(&r, (tests, per_clause))| {
                        let rule: &'a RuleIr = rules.get(r)?;
                        let index = indexes.get(r)?;
                        let ev = Evaluator::new(world, rule.slots, &rule.aggregates, index);
                        Some((
                            r,
                            rule,
                            ev,
                            (tests.as_slice(), per_clause.as_slice()),
                            Vec::new(),
                        ))
                    })
                    .collect();
                let mut test_ev = Evaluator::new(world, shared.slots, &[], &no_indexes);
                let mut memo = TestMemo::new(shared.tests.len());
                for entity in group.entities.range(range.clone()) {
                    memo.clear();
                    test_ev.bind(0, Val::Ent(entity));
                    for (r, rule, ev, (tests, per_clause), hits) in judges.iter_mut() {
                        let passed_over = tests.iter().any(|&n| {
                            memo.is_false(n, || match shared.tests.get(n as usize) {
                                Some(test) => {
                                    let fast = group.fast.get(n as usize).and_then(Option::as_ref);
                                    match fast.and_then(|f| f.eval(&test_ev, entity)) {
                                        Some(value) => Truth::of(&value),
                                        None => test_ev.truth(test),
                                    }
                                }
                                None => Truth::True,
                            })
                        });
                        if !passed_over {
                            // A `where` whose tests all came out true is not evaluated again.
                            let known_true = |clause: usize| {
                                per_clause
                                    .get(clause)
                                    .and_then(Option::as_deref)
                                    .is_some_and(|numbers| memo.all_true(numbers))
                            };
                            judge_entity(ev, *r, rule, entity, &known_true, hits);
                        }
                    }
                }
                judges
                    .into_iter()
                    .map(|(r, _, _, _, hits)| (r, hits))
                    .collect()
            }
        })
        .collect();
    // Rule order, and within a rule the order of its chunks: the order of a sequential run,
    // which decides which of two duplicates is kept.
    let mut parts: Vec<(usize, Vec<Hit>)> = done.into_iter().flatten().collect();
    parts.sort_by_key(|(r, _)| *r);
    // Sized once: a growing list would be copied as it doubles, beside the parts.
    let mut hits = Vec::with_capacity(parts.iter().map(|(_, part)| part.len()).sum());
    for (_, part) in parts {
        hits.extend(part);
    }
    hits
}

/// A run's findings before they are written: the hits to report, in SPEC §3 order, and
/// what writing each one takes. Findings are written on demand, a range at a time, on the
/// caller's thread ([`FindingSource`]), or all at once on every core ([`Self::write_all`]).
pub struct PendingFindings<'a> {
    world: &'a World<'a>,
    rules: Vec<&'a RuleIr>,
    texts: Vec<RuleText>,
    indexes: &'a [RuleIndexes<'a>],
    hits: Vec<Hit>,
    /// Positions in `hits`, in reported order.
    order: Vec<usize>,
    /// The rules that were evaluated (in force and in scope), sorted by id.
    pub rules_checked: Vec<RuleInfo>,
}

/// An evaluator per rule, each made when a finding of its rule is first written.
type Evaluators<'a> = Vec<Option<Evaluator<'a>>>;

impl<'a> PendingFindings<'a> {
    fn evaluators(&self) -> Evaluators<'a> {
        (0..self.rules.len()).map(|_| None).collect()
    }

    /// The hit reported `n`th, with its rule, texts and evaluator.
    #[allow(clippy::type_complexity)]
    fn prepare<'e>(
        &'e self,
        evaluators: &'e mut Evaluators<'a>,
        n: usize,
    ) -> Option<(&'a RuleIr, &'e RuleText, &'e Hit, &'e mut Evaluator<'a>)> {
        let hit = self.hits.get(*self.order.get(n)?)?;
        let r = hit.rule as usize;
        let rule: &'a RuleIr = self.rules.get(r)?;
        let text = self.texts.get(r)?;
        let index: &'a RuleIndexes<'a> = self.indexes.get(r)?;
        let world = self.world;
        let ev = evaluators
            .get_mut(r)?
            .get_or_insert_with(|| Evaluator::new(world, rule.slots, &rule.aggregates, index));
        Some((rule, text, hit, ev))
    }

    /// Writes the finding reported `n`th.
    fn write_nth(
        &self,
        evaluators: &mut Evaluators<'a>,
        scratch: &mut Scratch<'a>,
        n: usize,
    ) -> Option<Finding> {
        let (rule, text, hit, ev) = self.prepare(evaluators, n)?;
        let path = bind_hit(ev, rule, text, hit);
        Some(make_finding(
            ev,
            rule,
            text,
            hit.subject,
            path,
            &hit.missing,
            scratch,
        ))
    }

    /// Every finding, written on every core.
    pub fn write_all(&self) -> Vec<Finding> {
        use rayon::prelude::*;
        // Each piece of at least `CHUNK` findings makes its own evaluators, as it needs them.
        // An indexed collect writes each finding in its place in one list of the final
        // size. A flattened one gathered each core's findings in lists of their own, then
        // grew the result by doubling (at 10k flows: room for 16,384 findings, 4 MiB, and
        // a live-heap peak 4 MiB higher). `write_nth` misses nothing for a position of
        // `order`.
        let written: Vec<Option<Finding>> = (0..self.order.len())
            .into_par_iter()
            .with_min_len(CHUNK)
            .map_init(
                || (self.evaluators(), Scratch::default()),
                |(evs, scratch), n| self.write_nth(evs, scratch, n),
            )
            .collect();
        // In place (an `Option<Finding>` is the size of a `Finding`: its `Arc`s are never
        // null), where a `flatten` collects into a new, growing list (measured).
        #[allow(clippy::filter_map_identity)]
        written.into_iter().filter_map(|finding| finding).collect()
    }
}

impl crate::findings::FindingSource for PendingFindings<'_> {
    fn len(&self) -> usize {
        self.order.len()
    }

    fn view(
        &self,
        range: std::ops::Range<usize>,
        visit: &mut dyn FnMut(crate::findings::FindingView<'_>),
    ) {
        self.view_each(range, visit);
    }

    fn view_at(
        &self,
        positions: &[usize],
        visit: &mut dyn FnMut(crate::findings::FindingView<'_>),
    ) {
        self.view_each(positions.iter().copied(), visit);
    }
}

impl PendingFindings<'_> {
    /// Shows `visit` the findings at `positions`, in that order, with one evaluator a rule
    /// and one set of buffers for all of them.
    fn view_each(
        &self,
        positions: impl Iterator<Item = usize>,
        visit: &mut dyn FnMut(crate::findings::FindingView<'_>),
    ) {
        use crate::findings::{FindingView, Ids, LocationView, SubjectView};
        let mut evaluators = self.evaluators();
        let mut scratch = Scratch::default();
        let world = self.world;
        for n in positions {
            let Some((rule, text, hit, ev)) = self.prepare(&mut evaluators, n) else {
                continue;
            };
            let path = bind_hit(ev, rule, text, hit);
            let composed = compose(ev, rule, hit.subject, path, &hit.missing, &mut scratch);
            let file = world.file_name(composed.loc.file);
            visit(FindingView {
                rule: &text.id,
                title: &text.title,
                law: &text.law,
                citation: &text.citation,
                severity: composed.severity,
                status: Status::Open,
                subject: SubjectView {
                    kind: composed.kind,
                    id: composed.id,
                },
                location: LocationView {
                    file,
                    line: composed.loc.line.max(1),
                    column: composed.loc.column.max(1),
                },
                path: Ids::Borrowed(&scratch.path),
                path_flows: Ids::Borrowed(&scratch.path_flows),
                fingerprint: crate::findings::Fingerprint::Text(
                    std::str::from_utf8(&scratch.fingerprint).unwrap_or(""),
                ),
                message: std::borrow::Cow::Borrowed(&scratch.message),
                remediation: &text.remedy,
                waiver: None,
            });
        }
    }
}

/// The hits to report, as positions in `hits`: in SPEC §3 order (file, line, column, rule
/// id, then subject and path), and without duplicates (same place, rule, subject and path:
/// the first in rule order is kept; two collections of one system are two places). Sorts
/// small keys, never findings.
fn reported_order(world: &World, rules: &[&RuleIr], hits: &[Hit]) -> Vec<usize> {
    let set = world.set;
    let file_name = |file: usize| world.file_name(crate::source::FileId(file as u32));
    let rank = |names: Vec<&str>| -> Vec<u32> {
        let mut sorted: Vec<(&str, usize)> = names.into_iter().zip(0..).collect();
        sorted.sort();
        let mut ranks = vec![0u32; sorted.len()];
        let mut current = 0u32;
        let mut previous: Option<&str> = None;
        for (name, i) in sorted {
            if previous.is_some_and(|p| p != name) {
                current = current.saturating_add(1);
            }
            previous = Some(name);
            if let Some(r) = ranks.get_mut(i) {
                *r = current;
            }
        }
        ranks
    };
    let files = world.file_names.len().max(set.sources.files.len());
    let file_rank = rank((0..files).map(file_name).collect());
    let rule_rank = rank(rules.iter().map(|r| r.id.as_str()).collect());
    // Small keys sort fast: the subject's kind and id, which break ties of position and
    // rule, are looked up only for those ties.
    struct Key {
        position: (u32, u32, u32, u32),
        hit: u32,
    }
    use rayon::prelude::*;
    let mut keys: Vec<Key> = hits
        .par_iter()
        .enumerate()
        .map(|(hit, h)| {
            let hit = u32::try_from(hit).unwrap_or(u32::MAX);
            let loc = declared(set, h.subject).map_or(Loc::default(), |(_, _, loc)| loc);
            let file = file_rank
                .get(loc.file.0 as usize)
                .copied()
                .unwrap_or(u32::MAX);
            let rule = rule_rank.get(h.rule as usize).copied().unwrap_or(u32::MAX);
            Key {
                position: (file, loc.line.max(1), loc.column.max(1), rule),
                hit,
            }
        })
        .collect();
    let subject = |hit: u32| {
        hits.get(hit as usize)
            .and_then(|h| declared(set, h.subject))
            .map_or(("manifest", "?"), |(kind, id, _)| (kind, id))
    };
    let path_ids = |hit: u32| {
        hits.get(hit as usize)
            .and_then(|h| h.witness.as_deref())
            .map(|w| w.systems.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&s| set.systems.get(s as usize).map_or("", |x| x.id.as_str()))
    };
    // A stable merge sort: the hits come rule by rule, each rule's in the order of its
    // entities, which is nearly always their order in the files; the merge sort finds
    // those runs and merges them (at 1M flows: 56 ms of sorting instead of 73 ms unstable).
    // The hit number ends the key, so the order is the one any sort gives.
    keys.par_sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then_with(|| subject(a.hit).cmp(&subject(b.hit)))
            .then_with(|| path_ids(a.hit).cmp(path_ids(b.hit)))
            .then(a.hit.cmp(&b.hit))
    });
    let mut order: Vec<usize> = Vec::with_capacity(keys.len());
    let mut kept: Option<&Key> = None;
    for key in &keys {
        let duplicate = kept.is_some_and(|k| {
            // Equal ranks are equal rule ids; the same subject is at the same place, so only
            // hits at one place are looked up (a look-up fetches a scattered record).
            k.position == key.position
                && subject(k.hit) == subject(key.hit)
                && path_ids(k.hit).eq(path_ids(key.hit))
        });
        if !duplicate {
            order.push(key.hit as usize);
            kept = Some(key);
        }
    }
    order
}

/// A rule in a fused pass: its index, IR, evaluator, shared tests (all, and per clause)
/// and hits so far.
type Judge<'a, 't> = (
    usize,
    &'a RuleIr,
    Evaluator<'a>,
    (&'t [u32], &'t [Option<Vec<u32>>]),
    Vec<Hit>,
);

/// Judges one entity by one `for each` rule.
fn judge_entity<'a>(
    ev: &mut Evaluator<'a>,
    r: usize,
    rule: &'a RuleIr,
    entity: Ent,
    known_true: &dyn Fn(usize) -> bool,
    hits: &mut Vec<Hit>,
) {
    let Query::Each { var, clauses, .. } = &rule.query else {
        return;
    };
    ev.bind(*var, Val::Ent(entity));
    let mut missing = Vec::new();
    if !run_clauses_knowing(ev, clauses, known_true, &mut missing) {
        return;
    }
    if let Verdict::Violation(missing) = judge(ev, rule, missing) {
        hits.push(Hit {
            rule: r as u32,
            subject: entity,
            witness: None,
            missing: missing.into_boxed_slice(),
        });
    }
}

/// Binds a reported hit as when its rule fired, for writing its finding: the subject (or
/// the witness path), and, when the message reads a `let` value, what the rule's clauses
/// bind. Returns the evaluator's path number of the witness, if any.
fn bind_hit<'a>(
    ev: &mut Evaluator<'a>,
    rule: &'a RuleIr,
    text: &RuleText,
    hit: &Hit,
) -> Option<usize> {
    let mut ignored = Vec::new();
    match (&rule.query, &hit.witness) {
        (Query::Each { var, clauses, .. }, _) => {
            ev.bind(*var, Val::Ent(hit.subject));
            if text.message_reads_lets {
                run_clauses(ev, clauses, &mut ignored);
            }
            None
        }
        (query @ Query::Path { clauses, .. }, Some(witness)) => {
            bind_path(ev, query, (**witness).clone());
            if text.message_reads_lets {
                run_clauses(ev, clauses, &mut ignored);
            }
            Some(0)
        }
        (Query::Path { .. }, None) => None,
    }
}

/// Binds a path rule's source, target and path variables to `witness`, which becomes the
/// evaluator's only path (number 0: a path rule judges one witness at a time).
fn bind_path<'a>(ev: &mut Evaluator<'a>, query: &Query, witness: WitnessPath) {
    if let Query::Path {
        path_var,
        source,
        target,
        ..
    } = query
    {
        if let Some(&first) = witness.systems.first() {
            ev.bind(*source, Val::Ent(Ent::Sys(first)));
        }
        if let Some(&last) = witness.systems.last() {
            ev.bind(*target, Val::Ent(Ent::Sys(last)));
        }
        ev.bind(*path_var, Val::Ent(Ent::Path(0)));
    }
    ev.paths.clear();
    ev.paths.push(witness);
}

fn evaluate_path_rule<'a>(
    world: &'a World<'a>,
    r: usize,
    rule: &'a RuleIr,
    indexes: &'a RuleIndexes<'a>,
    hits: &mut Vec<Hit>,
) {
    let Query::Path {
        source,
        source_where,
        target,
        target_where,
        step,
        step_where,
        clauses,
        ..
    } = &rule.query
    else {
        return;
    };
    let mut ev = Evaluator::new(world, rule.slots, &rule.aggregates, indexes);
    let systems = world.set.systems.len();
    let sources: Vec<Truth> = (0..systems as u32)
        .map(|s| test(&mut ev, *source, Ent::Sys(s), source_where))
        .collect();
    let targets: Vec<Truth> = (0..systems as u32)
        .map(|s| test(&mut ev, *target, Ent::Sys(s), target_where))
        .collect();
    let mut steps: Vec<Truth> = vec![Truth::False; world.set.flows.len()];
    for &f in &world.active_flows {
        if let Some(slot) = steps.get_mut(f as usize) {
            *slot = test(&mut ev, *step, Ent::Flow(f), step_where);
        }
    }
    let any_unknown = sources
        .iter()
        .chain(targets.iter())
        .chain(steps.iter())
        .any(|t| matches!(t, Truth::Unknown(_)));
    let strict = search(world, &sources, &steps, false);
    let mut reported = vec![false; systems];
    let passes: Vec<(Predecessors, bool)> = if any_unknown {
        vec![
            (strict, false),
            (search(world, &sources, &steps, true), true),
        ]
    } else {
        vec![(strict, false)]
    };
    for (pred, lenient) in &passes {
        for t in 0..systems {
            let target_ok = match targets.get(t) {
                Some(Truth::True) => true,
                Some(Truth::Unknown(_)) => *lenient,
                _ => false,
            };
            if !target_ok
                || reported.get(t).copied().unwrap_or(true)
                || pred.get(t).copied().flatten().is_none()
            {
                continue;
            }
            let witness = witness(world, pred, t as u32);
            let mut missing: Vec<Missing> = Vec::new();
            if *lenient {
                let mut note = |truth: Option<&Truth>| {
                    if let Some(Truth::Unknown(m)) = truth {
                        missing.push(*m);
                    }
                };
                note(
                    witness
                        .systems
                        .first()
                        .and_then(|&s| sources.get(s as usize)),
                );
                note(targets.get(t));
                for &f in &witness.flows {
                    note(steps.get(f as usize));
                }
            }
            if let Some(r) = reported.get_mut(t) {
                *r = true;
            }
            let subject = witness
                .flows
                .last()
                .map(|&f| Ent::Flow(f))
                .unwrap_or(Ent::Sys(t as u32));
            bind_path(&mut ev, &rule.query, witness);
            if !run_clauses(&mut ev, clauses, &mut missing) {
                continue;
            }
            if let Verdict::Violation(missing) = judge(&mut ev, rule, missing) {
                hits.push(Hit {
                    rule: r as u32,
                    subject,
                    witness: ev.paths.pop().map(Box::new),
                    missing: missing.into_boxed_slice(),
                });
            }
        }
    }
}

fn test<'a>(
    ev: &mut Evaluator<'a>,
    slot: usize,
    entity: Ent,
    cond: &'a Option<crate::lang::ir::Ex>,
) -> Truth {
    match cond {
        None => Truth::True,
        Some(c) => {
            ev.bind(slot, Val::Ent(entity));
            ev.truth(c)
        }
    }
}

/// Per system: the flow it was first reached by, and whether that flow left a source.
type Predecessors = Vec<Option<(u32, bool)>>;

/// Multi-source breadth-first search over the flows whose step test passes (or is unknown,
/// when `lenient`). Starts from every flow leaving a source, so a source can itself be
/// reached through a cycle. Returns, per system, the flow it was first reached by and
/// whether that flow started at a source.
fn search(
    world: &World,
    sources: &[Truth],
    steps: &[Truth],
    lenient: bool,
) -> Vec<Option<(u32, bool)>> {
    let ok = |t: Option<&Truth>| match t {
        Some(Truth::True) => true,
        Some(Truth::Unknown(_)) => lenient,
        _ => false,
    };
    let systems = world.set.systems.len();
    let mut pred: Vec<Option<(u32, bool)>> = vec![None; systems];
    let mut queue: VecDeque<(usize, bool)> = VecDeque::new();
    // Sources, and the flows out of each system, are taken in id order, not in the order
    // the manifests list them: which of several shortest paths is the witness (and so the
    // finding's subject, path and fingerprint) must not depend on how the input is ordered.
    let order = world.search_order();
    for &s in &order.systems {
        if ok(sources.get(s as usize)) {
            queue.push_back((s as usize, true));
        }
    }

    // Sources are expanded first (their out-flows start paths); every system is then
    // expanded at most once more, when first reached: O(systems + flows).
    let mut expanded = vec![false; systems];
    while let Some((node, is_source_start)) = queue.pop_front() {
        if !is_source_start {
            match expanded.get_mut(node) {
                Some(done) if !*done => *done = true,
                _ => continue,
            }
        }
        for &(f, to) in order.out_of(node) {
            let to = to as usize;
            if !world.flow_active.get(f as usize).copied().unwrap_or(false)
                || !ok(steps.get(f as usize))
            {
                continue;
            }
            if let Some(slot) = pred.get_mut(to) {
                if slot.is_none() {
                    *slot = Some((f, is_source_start));
                    queue.push_back((to, false));
                }
            }
        }
    }
    pred
}

/// Reads a witness path back from predecessor links (each link points to a system reached
/// strictly earlier, so this ends).
fn witness(world: &World, pred: &[Option<(u32, bool)>], target: u32) -> WitnessPath {
    let mut flows = Vec::new();
    let mut systems = vec![target];
    let mut node = target;
    let limit = pred.len().saturating_add(1);
    while let Some(Some((flow, from_source))) = pred.get(node as usize) {
        flows.push(*flow);
        let Some(f) = world.set.flows.get(*flow as usize) else {
            break;
        };
        node = f.from.0;
        systems.push(node);
        if *from_source || flows.len() > limit {
            break;
        }
    }
    flows.reverse();
    systems.reverse();
    WitnessPath { systems, flows }
}

/// The declared entity a runtime reference stands for: its kind as a finding names it, its
/// id and its position. A collection stands for its system (at the collects entry); a
/// transfer or exemption for its flow.
fn declared(set: &ManifestSet, entity: Ent) -> Option<(&'static str, &str, Loc)> {
    match entity {
        Ent::Org(i) => set
            .organizations
            .get(i as usize)
            .map(|o| ("organization", o.id.as_str(), o.loc)),
        Ent::Sys(i) => set
            .systems
            .get(i as usize)
            .map(|s| ("system", s.id.as_str(), s.loc)),
        Ent::Flow(i) | Ent::Transfer(i) | Ent::Exemption(i) => {
            set.flows.get(i as usize).map(|f| ("flow", &*f.id, f.loc))
        }
        Ent::Contract(i) => set
            .contracts
            .get(i as usize)
            .map(|c| ("contract", c.id.as_str(), c.loc)),
        Ent::Assessment(i) => set
            .assessments
            .get(i as usize)
            .map(|a| ("assessment", a.id.as_str(), a.loc)),
        Ent::Collection(s, c) => set.systems.get(s as usize).map(|sys| {
            let loc = sys
                .collects
                .get(c as usize)
                .map(|col| col.loc)
                .unwrap_or(sys.loc);
            ("system", sys.id.as_str(), loc)
        }),
        Ent::Path(_) => None,
    }
}

/// Appends how a message names an entity (`flow \`F-1\``).
fn describe_entity_into(out: &mut String, set: &ManifestSet, entity: Ent) {
    match (entity, declared(set, entity)) {
        (Ent::Collection(_, c), Some((_, id, _))) => {
            let _ = write!(out, "collection #{} of system `{id}`", c.saturating_add(1));
        }
        (_, Some((kind, id, _))) => {
            out.push_str(kind);
            out.push_str(" `");
            out.push_str(id);
            out.push('`');
        }
        (Ent::Path(_), None) => out.push_str("path"),
        (_, None) => out.push_str("an entity not in the manifests"),
    }
}

fn describe_missing(set: &ManifestSet, m: &Missing) -> String {
    let mut text = String::new();
    describe_missing_into(&mut text, set, m);
    text
}

/// Appends how a message names a missing fact (`` `dpo` of organization `O-1` ``).
fn describe_missing_into(out: &mut String, set: &ManifestSet, m: &Missing) {
    let prefix = match m.entity {
        Some(Ent::Transfer(_)) => "transfer.",
        Some(Ent::Exemption(_)) => "exemption.",
        _ => "",
    };
    match (m.entity, m.field) {
        (Some(e), Some(f)) => {
            out.push('`');
            out.push_str(prefix);
            out.push_str(field_name(f));
            out.push_str("` of ");
            describe_entity_into(out, set, e);
        }
        _ => out.push_str("a fact the rule needs"),
    }
}

/// Appends a value as a message shows it.
fn render_value_into(out: &mut String, set: &ManifestSet, value: &Val) {
    match value {
        Val::Unknown(_) => out.push_str("(not declared)"),
        Val::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
        Val::Num(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Date(d) => {
            let _ = write!(out, "{d}");
        }
        Val::Dur(d) => {
            let _ = write!(out, "{} days", eval::approx_days(d));
        }
        Val::Text(t) => out.push_str(t),
        Val::Ent(
            e @ (Ent::Org(_) | Ent::Sys(_) | Ent::Flow(_) | Ent::Contract(_) | Ent::Assessment(_)),
        ) => {
            if let Some((_, id, _)) = declared(set, *e) {
                out.push_str(id);
            }
        }
        Val::Ent(other) => describe_entity_into(out, set, *other),
        Val::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_value_into(out, set, &item);
            }
        }
        Val::Cats(_) => out.push_str("data categories"),
    }
}

/// The strings every finding of a rule repeats, made once per run and shared by its findings.
struct RuleText {
    /// Whether writing the message needs the rule's clauses run again.
    message_reads_lets: bool,
    id: Arc<str>,
    title: Arc<str>,
    law: Arc<str>,
    citation: Arc<str>,
    remedy: Arc<str>,
}

/// Whether a rule's message reads a value that its clauses bind with `let` (or an
/// aggregate, which may read one): only then must the clauses run again to write it.
fn message_reads_lets(rule: &RuleIr) -> bool {
    let (Query::Each { clauses, .. } | Query::Path { clauses, .. }) = &rule.query;
    let bound: Vec<Slot> = clauses
        .iter()
        .filter_map(|clause| match clause {
            Clause::Let(slot, _) => Some(*slot),
            Clause::Where(_) => None,
        })
        .collect();
    let Some(parts) = &rule.message else {
        return false;
    };
    !bound.is_empty()
        && parts.iter().any(|part| match part {
            TemplatePart::Value(ex) => reads_any(ex, &bound),
            TemplatePart::Text(_) => false,
        })
}

/// Whether `ex` reads one of `slots`, or an aggregate (conservatively: its filter may).
fn reads_any(ex: &Ex, slots: &[Slot]) -> bool {
    match ex {
        Ex::Var(s) => slots.contains(s),
        Ex::Aggregate(_) => true,
        other => other
            .children()
            .into_iter()
            .any(|child| reads_any(child, slots)),
    }
}

impl RuleText {
    fn of(rule: &RuleIr) -> RuleText {
        RuleText {
            message_reads_lets: message_reads_lets(rule),
            id: rule.id.as_str().into(),
            title: rule.title.as_str().into(),
            law: rule.law.as_str().into(),
            citation: rule.citation.as_str().into(),
            remedy: rule.remedy.as_str().into(),
        }
    }
}

/// A finding's parts that are not the rule's fixed texts, written into reusable buffers.
struct Composed<'m> {
    severity: Severity,
    kind: &'static str,
    id: &'m str,
    loc: Loc,
}

/// Buffers a finding's text is written into, kept from one finding to the next.
#[derive(Default)]
struct Scratch<'m> {
    message: String,
    path: Vec<&'m str>,
    path_flows: Vec<&'m str>,
    fingerprint: [u8; 16],
}

/// Writes what a reported hit says into `scratch`: message, path ids and fingerprint; and
/// returns its severity, subject and location.
fn compose<'a>(
    ev: &mut Evaluator<'a>,
    rule: &'a RuleIr,
    subject_entity: Ent,
    path: Option<usize>,
    missing: &[Missing],
    scratch: &mut Scratch<'a>,
) -> Composed<'a> {
    let set: &'a ManifestSet = ev.world.set;
    let (kind, id, loc) =
        declared(set, subject_entity).unwrap_or(("manifest", "?", Loc::default()));
    scratch.path.clear();
    scratch.path_flows.clear();
    if let Some(w) = path.and_then(|p| ev.paths.get(p)) {
        scratch.path.extend(
            w.systems
                .iter()
                .filter_map(|&s| set.systems.get(s as usize).map(|x| x.id.as_str())),
        );
        scratch.path_flows.extend(
            w.flows
                .iter()
                .filter_map(|&f| set.flows.get(f as usize).map(|x| &*x.id)),
        );
    }
    let message = &mut scratch.message;
    message.clear();
    let severity = if missing.is_empty() {
        rule.severity
    } else {
        message.push_str("fact missing: ");
        match missing {
            // The common case, written in place (no set of texts to sort).
            [one] => describe_missing_into(message, set, one),
            _ => {
                let facts: BTreeSet<String> =
                    missing.iter().map(|m| describe_missing(set, m)).collect();
                for (i, fact) in facts.iter().take(5).enumerate() {
                    if i > 0 {
                        message.push_str(", ");
                    }
                    message.push_str(fact);
                }
            }
        }
        message.push_str(" — the rule cannot decide without it. ");
        Severity::Review
    };
    match &rule.message {
        Some(parts) => {
            for part in parts {
                match part {
                    TemplatePart::Text(t) => message.push_str(t),
                    TemplatePart::Value(ex) => {
                        let v = ev.eval(ex);
                        render_value_into(message, set, &v);
                    }
                }
            }
        }
        None => {
            message.push_str(&rule.title);
            message.push_str(": ");
            describe_entity_into(message, set, subject_entity);
        }
    }
    if !scratch.path.is_empty() {
        message.push_str(" (path: ");
        for (i, step) in scratch.path.iter().enumerate() {
            if i > 0 {
                message.push_str(" → ");
            }
            message.push_str(step);
        }
        message.push(')');
    }
    let hash = crate::findings::fingerprint_hash(&rule.id, kind, id, scratch.path.iter().copied());
    scratch.fingerprint = crate::findings::fingerprint_hex(hash);
    Composed {
        severity,
        kind,
        id,
        loc,
    }
}

/// The finding of a reported hit, owning its strings. The message is written in `scratch`
/// and copied out at its length: grown in place, a message of 150–250 bytes sat in a
/// 256-byte block, 7 MiB of slack at 100k held findings (the Markdown and HTML reports).
fn make_finding<'a>(
    ev: &mut Evaluator<'a>,
    rule: &'a RuleIr,
    text: &RuleText,
    subject_entity: Ent,
    path: Option<usize>,
    missing: &[Missing],
    scratch: &mut Scratch<'a>,
) -> Finding {
    let Composed {
        severity,
        kind,
        id,
        loc,
    } = compose(ev, rule, subject_entity, path, missing, scratch);
    let set = ev.world.set;
    let file = match ev.world.file_names.get(loc.file.0 as usize) {
        Some(name) => Arc::clone(name),
        None => set.sources.name(loc.file).into(),
    };
    let subject = Subject {
        kind,
        id: id.to_string(),
    };
    let path_systems: Vec<String> = scratch.path.iter().map(|s| s.to_string()).collect();
    let path_flows: Vec<String> = scratch.path_flows.iter().map(|s| s.to_string()).collect();
    let fingerprint = String::from_utf8_lossy(&scratch.fingerprint).into_owned();
    let message = scratch.message.as_str().to_owned();
    Finding {
        rule: Arc::clone(&text.id),
        title: Arc::clone(&text.title),
        law: Arc::clone(&text.law),
        citation: Arc::clone(&text.citation),
        severity,
        status: Status::Open,
        subject,
        location: Location {
            file,
            line: loc.line.max(1),
            column: loc.column.max(1),
        },
        path: path_systems,
        path_flows,
        fingerprint,
        message,
        remediation: Arc::clone(&text.remedy),
        waiver: None,
    }
}
