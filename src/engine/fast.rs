//! Shared `where` tests of the commonest shapes, evaluated by direct code instead of the
//! interpreter.
//!
//! A fused pass evaluates about twelve shared tests per flow (at 100k flows, 1.2 million
//! evaluations), and most have one of a few shapes: `f leaves CN`, `f.data has personal`,
//! `f.from.location in CN`, `not f.anonymized is true`, `f.transfer.mechanism is present`.
//! Interpreting one walks three or four nested expressions, each returning a value through
//! the interpreter's big `match`. [`FastTest::compile`] recognises these shapes once per
//! run, and [`FastTest::eval`] computes the very value the interpreter would, reading the
//! same world columns; where it cannot tell (an entity of an unexpected kind, a number out
//! of range) it answers `None` and the interpreter runs instead. A test below holds the
//! two equal on every shared test of the bundled packs over a generated city.

use crate::lang::ast::{CmpOp, IsWhat};
use crate::lang::ir::{Const, Ex, Field};

use super::eval::{compare, const_value, country_slot, Evaluator};
use super::value::{Ent, Val};

/// The fields read from the bound entity, outermost last: `f.from.operator` is
/// `[FlowFrom, SysOperator]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPath(Vec<Field>);

impl FieldPath {
    /// The path of `ex` when it is fields read from slot 0 (`Var(0)` alone is the empty
    /// path).
    fn of(ex: &Ex) -> Option<FieldPath> {
        let mut fields = Vec::new();
        let mut at = ex;
        loop {
            match at {
                Ex::Var(0) => break,
                Ex::Field(inner, field) => {
                    fields.push(*field);
                    at = inner;
                }
                _ => return None,
            }
        }
        fields.reverse();
        Some(FieldPath(fields))
    }

    /// The value the interpreter gives the path with `entity` bound to slot 0: each field
    /// of an entity is read, an unknown value passes through, anything else is unknown.
    fn eval<'a>(&self, ev: &Evaluator<'a>, entity: Ent) -> Val<'a> {
        let mut value = Val::Ent(entity);
        for &field in &self.0 {
            value = match value {
                Val::Ent(e) => ev.field(e, field),
                unknown @ Val::Unknown(_) => unknown,
                _ => Val::unknown(),
            };
        }
        value
    }
}

/// A shared test in a shape evaluated directly (slot 0 is the entity judged).
#[derive(Clone, Debug, PartialEq)]
pub enum FastTest {
    /// `e leaves S` (`true`) or `e enters S` (`false`), `e` the bound flow.
    Border {
        set: usize,
        leaves: bool,
    },
    /// `path is missing / present / true / false`.
    Is(FieldPath, IsWhat),
    /// `path.location in S` or `path.country in S` (negated: `not in`), `path` leading to
    /// a system or an organization: the slot kept in the world's columns.
    ColumnIn {
        owner: FieldPath,
        field: Field,
        set: usize,
        negated: bool,
    },
    /// `path has S`: some category of the path's list is under the set.
    HasAny(FieldPath, usize),
    /// `path in S` for a path to a country code (an organization's `country`).
    CountryIn {
        country: FieldPath,
        set: usize,
        negated: bool,
    },
    /// `path op constant`.
    Compare(CmpOp, FieldPath, Const),
    Not(Box<FastTest>),
    Or(Vec<FastTest>),
    And(Vec<FastTest>),
}

impl FastTest {
    /// The fast form of a shared test, if it has one of the shapes above.
    pub fn compile(test: &Ex) -> Option<FastTest> {
        match test {
            Ex::Leaves(flow, set) | Ex::Enters(flow, set) if **flow == Ex::Var(0) => {
                Some(FastTest::Border {
                    set: *set,
                    leaves: matches!(test, Ex::Leaves(..)),
                })
            }
            Ex::Is(inner, what) => Some(FastTest::Is(FieldPath::of(inner)?, *what)),
            Ex::InCountries(value, set, negated) => match &**value {
                Ex::Field(owner, field @ (Field::SysLocation | Field::OrgCountry)) => {
                    Some(FastTest::ColumnIn {
                        owner: FieldPath::of(owner)?,
                        field: *field,
                        set: *set,
                        negated: *negated,
                    })
                }
                other => Some(FastTest::CountryIn {
                    country: FieldPath::of(other)?,
                    set: *set,
                    negated: *negated,
                }),
            },
            Ex::Compare(op, value, constant) => match &**constant {
                Ex::Const(c) => Some(FastTest::Compare(*op, FieldPath::of(value)?, c.clone())),
                _ => None,
            },
            Ex::Or(parts) => Some(FastTest::Or(
                parts.iter().map(FastTest::compile).collect::<Option<_>>()?,
            )),
            Ex::And(parts) => Some(FastTest::And(
                parts.iter().map(FastTest::compile).collect::<Option<_>>()?,
            )),
            Ex::HasCategories(value, set, false) => {
                Some(FastTest::HasAny(FieldPath::of(value)?, *set))
            }
            Ex::Not(inner) => Some(FastTest::Not(Box::new(FastTest::compile(inner)?))),
            _ => None,
        }
    }

    /// The value the interpreter gives the test with `entity` bound to slot 0, or `None`
    /// where the interpreter must decide.
    pub fn eval<'a>(&'a self, ev: &Evaluator<'a>, entity: Ent) -> Option<Val<'a>> {
        let world = ev.world;
        match self {
            FastTest::Border { set, leaves } => {
                let Ent::Flow(i) = entity else { return None };
                let facts = world.flow_facts.get(i as usize)?;
                let from_in = ev.slot_in(world.system_country(facts.from), *set);
                let to_in = ev.slot_in(world.system_country(facts.to), *set);
                Some(Val::Bool(if *leaves {
                    from_in && !to_in
                } else {
                    !from_in && to_in
                }))
            }
            FastTest::Is(path, what) => {
                let v = path.eval(ev, entity);
                Some(Val::Bool(match what {
                    IsWhat::Missing => v.is_unknown(),
                    IsWhat::Present => !v.is_unknown(),
                    IsWhat::True => v == Val::Bool(true),
                    IsWhat::False => v == Val::Bool(false),
                }))
            }
            FastTest::ColumnIn {
                owner,
                field,
                set,
                negated,
            } => match owner.eval(ev, entity) {
                Val::Ent(e) => {
                    // Another entity's location or country: the interpreter says what.
                    let slot = world.country_column(e, *field)?;
                    Some(Val::Bool(ev.slot_in(slot, *set) != *negated))
                }
                // None, or unknown: the interpreter says what.
                _ => None,
            },
            FastTest::HasAny(path, set) => match path.eval(ev, entity) {
                Val::Cats(ids) => {
                    let Some(categories) = world.program.category_sets.get(*set) else {
                        return Some(Val::Bool(false));
                    };
                    Some(Val::Bool(ids.iter().any(|&c| {
                        categories.covers.get(c as usize).copied().unwrap_or(false)
                    })))
                }
                other => Some(other),
            },
            FastTest::CountryIn {
                country,
                set,
                negated,
            } => match country.eval(ev, entity) {
                Val::Text(code) => {
                    Some(Val::Bool(ev.slot_in(country_slot(code), *set) != *negated))
                }
                other => Some(other),
            },
            FastTest::Compare(op, value, constant) => Some(compare(
                *op,
                &value.eval(ev, entity),
                &const_value(constant),
            )),
            FastTest::Not(inner) => match inner.eval(ev, entity)? {
                Val::Bool(b) => Some(Val::Bool(!b)),
                other => Some(other),
            },
            // As the interpreter: the first decisive part ends it, else the first unknown
            // part's missing fact, else the neutral answer.
            FastTest::Or(parts) | FastTest::And(parts) => {
                let decisive = matches!(self, FastTest::Or(_));
                let mut first_unknown = None;
                for part in parts {
                    match part.eval(ev, entity)? {
                        Val::Bool(b) if b == decisive => return Some(Val::Bool(decisive)),
                        Val::Unknown(m) => {
                            first_unknown.get_or_insert(m);
                        }
                        _ => {}
                    }
                }
                Some(first_unknown.map_or(Val::Bool(!decisive), Val::Unknown))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::conjuncts::SharedTests;
    use crate::engine::eval::{RuleIndexes, World};
    use crate::engine::sharing::SameSets;
    use crate::engine::value::Truth;
    use crate::lang::ir::{Kind, Query};

    /// Every shared test of the bundled packs that has a fast form gives, for every entity
    /// of its kind in a generated city, the value the interpreter gives.
    #[test]
    fn fast_tests_agree_with_the_interpreter() {
        let program = crate::lang::load_program(&crate::lang::PolicySelection {
            bundled: true,
            paths: Vec::new(),
        })
        .unwrap_or_else(|_| panic!("bundled packs compile"));
        let generated = crate::gen::generate(&crate::gen::GenOptions {
            flows: 3000,
            seed: 7,
            files: 1,
            format: crate::gen::Format::Json,
        });
        let (set, _) = crate::manifest::load_sources(generated.files, &program.vocab)
            .unwrap_or_else(|_| panic!("generated city loads"));
        let graph = crate::manifest::graph::FlowGraph::build(&set);
        let as_of = crate::date::Date::parse("2026-06-01").unwrap_or_else(|| panic!("date"));
        let world = World::new(&program, &set, &graph, as_of);
        let same = SameSets::of(&world);
        let mut compiled = 0;
        let mut shapes_or_compare = 0;
        let mut compared = 0;
        for kind in [
            Kind::Flow,
            Kind::System,
            Kind::Organization,
            Kind::Collection,
            Kind::Contract,
            Kind::Assessment,
        ] {
            let rules: Vec<_> = program
                .laws
                .iter()
                .flat_map(|law| &law.rules)
                .filter(|rule| matches!(&rule.query, Query::Each { kind: k, .. } if *k == kind))
                .collect();
            let shared = SharedTests::of(&rules, &same);
            let fast_forms: Vec<Option<FastTest>> =
                shared.tests.iter().map(FastTest::compile).collect();
            let no_indexes = RuleIndexes::new(&[]);
            let mut ev = Evaluator::new(&world, shared.slots, &[], &no_indexes);
            for (test, fast) in shared.tests.iter().zip(&fast_forms) {
                let Some(fast) = fast else {
                    continue;
                };
                compiled += 1;
                shapes_or_compare +=
                    usize::from(matches!(fast, FastTest::Or(_) | FastTest::Compare(..)));
                for entity in world.entities(kind, true) {
                    ev.bind(0, Val::Ent(entity));
                    let interpreted = ev.eval(test);
                    if let Some(v) = fast.eval(&ev, entity) {
                        assert_eq!(v, interpreted, "{test:?} on {entity:?}");
                        assert_eq!(Truth::of(&v), Truth::of(&interpreted));
                        compared += 1;
                    }
                }
            }
        }
        assert!(
            compiled >= 10,
            "only {compiled} shared tests have a fast form"
        );
        assert!(compared > 10_000, "only {compared} comparisons");
        assert!(
            shapes_or_compare >= 3,
            "only {shapes_or_compare} or / compare tests have a fast form"
        );
    }
}
