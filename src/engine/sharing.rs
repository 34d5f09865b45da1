//! Which aggregate indexes the rules of a run can share.
//!
//! Rules of different packs often ask the same question of the manifests: six rules of the
//! bundled packs ask "which flows carry personal data, not anonymized, into this system?".
//! Each rule compiles its own aggregate, with its own variable numbering, so the engine
//! would build the same index once per rule (at 100,000 flows, about 40 ms each). Two
//! aggregates whose index is built from the same entities, filter and join key, equal up to
//! a consistent renaming of their variables, get one index.

use crate::lang::ir::{Aggregate, Ex, Kind, Slot};

use super::eval::World;

/// Which country sets and which category sets have the same members at the run's date.
/// Each pack compiles its own sets, so "China" is a different set number in PIPL, CAC and
/// CSL; tests and indexes are compared with every set replaced by the first set with the
/// same members.
#[derive(Debug, Default)]
pub struct SameSets {
    countries: Vec<usize>,
    categories: Vec<usize>,
}

impl SameSets {
    pub fn of(world: &World) -> SameSets {
        SameSets {
            countries: first_equal(&world.country_sets),
            categories: first_equal(
                &world
                    .program
                    .category_sets
                    .iter()
                    .map(|set| {
                        let mut members = set.members.clone();
                        members.sort_unstable();
                        members.dedup();
                        members
                    })
                    .collect::<Vec<_>>(),
            ),
        }
    }

    fn country(&self, set: usize) -> usize {
        self.countries.get(set).copied().unwrap_or(set)
    }

    fn category(&self, set: usize) -> usize {
        self.categories.get(set).copied().unwrap_or(set)
    }
}

/// For each item, the position of the first item equal to it. Quadratic in the number of
/// sets of the loaded policies (tens), never in the data.
fn first_equal<T: PartialEq>(items: &[T]) -> Vec<usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| items.iter().position(|other| other == item).unwrap_or(i))
        .collect()
}

/// What an aggregate's index depends on, with its variables numbered in order of first
/// appearance (the aggregate's own variable first).
#[derive(Debug, PartialEq)]
pub struct IndexShape {
    kind: Kind,
    whole_year: bool,
    local: Vec<Ex>,
    join: Option<(Ex, bool)>,
}

/// The shape of `aggregate`'s index; `None` when the index cannot be shared: a filter that
/// uses another aggregate refers to it by its number in the rule's own table.
pub fn index_shape(aggregate: &Aggregate, same: &SameSets) -> Option<IndexShape> {
    let mut names = vec![aggregate.var];
    let mut local = Vec::with_capacity(aggregate.local.len());
    for conjunct in &aggregate.local {
        local.push(renamed(conjunct, &mut names, same)?);
    }
    let join = match &aggregate.join {
        Some(join) => Some((renamed(&join.inner, &mut names, same)?, join.inner_is_list)),
        None => None,
    };
    Some(IndexShape {
        kind: aggregate.kind,
        whole_year: aggregate.whole_year,
        local,
        join,
    })
}

/// For each aggregate, the number of the index it uses, and how many indexes there are:
/// aggregates of equal shape get the same number. Quadratic in the number of aggregates of
/// the run (tens), never in the data.
pub fn share_indexes<'r>(
    aggregates: impl Iterator<Item = &'r Aggregate>,
    same: &SameSets,
) -> (Vec<usize>, usize) {
    let mut shapes: Vec<(IndexShape, usize)> = Vec::new();
    let mut count = 0usize;
    let mut numbers = Vec::new();
    for aggregate in aggregates {
        let shape = index_shape(aggregate, same);
        let found = shape
            .as_ref()
            .and_then(|shape| shapes.iter().find(|(s, _)| s == shape))
            .map(|&(_, n)| n);
        let number = match found {
            Some(n) => n,
            None => {
                let n = count;
                count = count.saturating_add(1);
                if let Some(shape) = shape {
                    shapes.push((shape, n));
                }
                n
            }
        };
        numbers.push(number);
    }
    (numbers, count)
}

fn slot(s: Slot, names: &mut Vec<Slot>) -> Slot {
    match names.iter().position(|&n| n == s) {
        Some(i) => i,
        None => {
            names.push(s);
            names.len().saturating_sub(1)
        }
    }
}

/// `ex` with its slots renumbered by `names` (in order of first appearance) and its sets
/// replaced as `same` says; `None` if it uses an aggregate.
pub(super) fn renamed(ex: &Ex, names: &mut Vec<Slot>, same: &SameSets) -> Option<Ex> {
    rewrite(ex, &mut |s| slot(s, names), same)
}

/// `ex` with slot `from` read as slot `to` (a definition's parameter replaced by its
/// argument; the compiler gives every binding its own slot, so nothing is shadowed).
pub(super) fn substituted(ex: &Ex, from: Slot, to: Slot) -> Option<Ex> {
    let unchanged = SameSets::default();
    rewrite(ex, &mut |s| if s == from { to } else { s }, &unchanged)
}

type SlotMap<'m> = dyn FnMut(Slot) -> Slot + 'm;

fn boxed(ex: &Ex, map: &mut SlotMap, same: &SameSets) -> Option<Box<Ex>> {
    rewrite(ex, map, same).map(Box::new)
}

fn all(exs: &[Ex], map: &mut SlotMap, same: &SameSets) -> Option<Vec<Ex>> {
    exs.iter().map(|e| rewrite(e, map, same)).collect()
}

/// `ex` with every slot mapped by `map` and every set replaced as `same` says; `None` if it
/// uses an aggregate (numbered in its rule's own table).
fn rewrite(ex: &Ex, map: &mut SlotMap, same: &SameSets) -> Option<Ex> {
    Some(match ex {
        Ex::Const(c) => Ex::Const(c.clone()),
        Ex::Var(s) => Ex::Var(map(*s)),
        Ex::Field(e, f) => Ex::Field(boxed(e, map, same)?, *f),
        Ex::Not(e) => Ex::Not(boxed(e, map, same)?),
        Ex::And(es) => Ex::And(all(es, map, same)?),
        Ex::Or(es) => Ex::Or(all(es, map, same)?),
        Ex::Compare(op, a, b) => Ex::Compare(*op, boxed(a, map, same)?, boxed(b, map, same)?),
        Ex::InList(e, list, negated) => {
            Ex::InList(boxed(e, map, same)?, all(list, map, same)?, *negated)
        }
        Ex::InCountries(e, set, negated) => {
            Ex::InCountries(boxed(e, map, same)?, same.country(*set), *negated)
        }
        Ex::HasCategories(e, set, every) => {
            Ex::HasCategories(boxed(e, map, same)?, same.category(*set), *every)
        }
        Ex::HasValue(a, b) => Ex::HasValue(boxed(a, map, same)?, boxed(b, map, same)?),
        Ex::HasAll(e, list) => Ex::HasAll(boxed(e, map, same)?, all(list, map, same)?),
        Ex::HasCountry(e, set, group) => {
            Ex::HasCountry(boxed(e, map, same)?, same.country(*set), group.clone())
        }
        Ex::Is(e, what) => Ex::Is(boxed(e, map, same)?, *what),
        Ex::Leaves(e, set) => Ex::Leaves(boxed(e, map, same)?, same.country(*set)),
        Ex::Enters(e, set) => Ex::Enters(boxed(e, map, same)?, same.country(*set)),
        Ex::Active(e, when) => Ex::Active(boxed(e, map, same)?, *when),
        Ex::Arith(a, op, b) => Ex::Arith(boxed(a, map, same)?, *op, boxed(b, map, same)?),
        Ex::Let(s, value, body) => {
            let value = boxed(value, map, same)?;
            let s = map(*s);
            Ex::Let(s, value, boxed(body, map, same)?)
        }
        Ex::Aggregate(_) => return None,
        Ex::AsOf => Ex::AsOf,
        Ex::CountryOf(e) => Ex::CountryOf(boxed(e, map, same)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ast::IsWhat;
    use crate::lang::ir::{Field, Join};

    fn aggregate(var: Slot, local: Vec<Ex>, join: Option<Ex>) -> Aggregate {
        Aggregate {
            op: crate::lang::ast::AggregateOp::Exists,
            kind: Kind::Flow,
            var,
            value: None,
            local,
            join: join.map(|inner| Join {
                inner,
                inner_is_list: false,
                outer: Ex::Var(0),
                outer_is_list: false,
            }),
            correlated: Vec::new(),
            constant: false,
            whole_year: false,
            span: Default::default(),
        }
    }

    fn not_anonymized(var: Slot) -> Ex {
        Ex::Not(Box::new(Ex::Is(
            Box::new(Ex::Field(Box::new(Ex::Var(var)), Field::FlowAnonymized)),
            IsWhat::True,
        )))
    }

    fn to(var: Slot) -> Ex {
        Ex::Field(Box::new(Ex::Var(var)), Field::FlowTo)
    }

    #[test]
    fn equal_aggregates_with_other_variable_numbers_share_an_index() {
        let a = aggregate(2, vec![not_anonymized(2)], Some(to(2)));
        let b = aggregate(5, vec![not_anonymized(5)], Some(to(5)));
        let (numbers, count) = share_indexes([&a, &b].into_iter(), &SameSets::default());
        assert_eq!(numbers, vec![0, 0]);
        assert_eq!(count, 1);
    }

    #[test]
    fn a_different_filter_or_join_gets_its_own_index() {
        let a = aggregate(1, vec![not_anonymized(1)], Some(to(1)));
        let no_filter = aggregate(1, vec![], Some(to(1)));
        let other_join = aggregate(
            1,
            vec![not_anonymized(1)],
            Some(Ex::Field(Box::new(Ex::Var(1)), Field::FlowFrom)),
        );
        let (numbers, count) = share_indexes(
            [&a, &no_filter, &other_join, &a].into_iter(),
            &SameSets::default(),
        );
        assert_eq!(numbers, vec![0, 1, 2, 0]);
        assert_eq!(count, 3);
    }

    #[test]
    fn a_filter_using_another_aggregate_is_never_shared() {
        let nested = aggregate(1, vec![Ex::Aggregate(0)], None);
        let (numbers, count) = share_indexes([&nested, &nested].into_iter(), &SameSets::default());
        assert_eq!(numbers, vec![0, 1]);
        assert_eq!(count, 2);
    }
}
