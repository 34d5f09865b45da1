//! Conditions that can never be true: `f.consent = separate and f.consent = written`,
//! `f.individuals > 1000 and f.individuals < 10`, `f leaves CN and f enters CN`. The checker
//! warns about them, because a rule whose `where` can never be true never fires (and a
//! `require` that can never be true fires on everything).
//!
//! Only conjunctions of tests on the same value are looked at; anything else is assumed
//! satisfiable. The analysis is sound for "never true": each reported pair excludes itself.

use super::ast::{CmpOp, IsWhat, Span};
use super::ir::{Const, CountrySetId, Ex};

/// What one conjunct says about one value.
enum Fact<'e> {
    /// The value is one of these.
    OneOf(&'e Ex, Vec<&'e Const>),
    /// The value is none of these.
    NoneOf(&'e Ex, Vec<&'e Const>),
    /// A bound: value `op` constant, for numbers and dates.
    Bound(&'e Ex, CmpOp, Ordered),
    Missing(&'e Ex),
    InSet(&'e Ex, CountrySetId, bool),
    Leaves(&'e Ex, CountrySetId),
    Enters(&'e Ex, CountrySetId),
}

#[derive(Clone, Copy, PartialEq, PartialOrd, Debug)]
enum Ordered {
    Number(i64),
    Date(crate::date::Date),
}

fn ordered(c: &Const) -> Option<Ordered> {
    match c {
        Const::Number(n) => Some(Ordered::Number(*n)),
        Const::Date(d) => Some(Ordered::Date(*d)),
        _ => None,
    }
}

fn constant(ex: &Ex) -> Option<&Const> {
    match ex {
        Ex::Const(c) => Some(c),
        Ex::CountryOf(inner) => constant(inner),
        _ => None,
    }
}

fn subject(ex: &Ex) -> &Ex {
    match ex {
        Ex::CountryOf(inner) => inner,
        other => other,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn fact(ex: &Ex) -> Option<Fact<'_>> {
    match ex {
        Ex::Compare(op, a, b) => {
            let (value, c, op) = match (constant(a), constant(b)) {
                (None, Some(c)) => (subject(a), c, *op),
                (Some(c), None) => (subject(b), c, flip(*op)),
                _ => return None,
            };
            match op {
                CmpOp::Eq => Some(Fact::OneOf(value, vec![c])),
                CmpOp::Ne => Some(Fact::NoneOf(value, vec![c])),
                _ => ordered(c).map(|o| Fact::Bound(value, op, o)),
            }
        }
        Ex::InList(value, items, negated) => {
            let consts: Option<Vec<&Const>> = items.iter().map(constant).collect();
            let consts = consts?;
            Some(if *negated {
                Fact::NoneOf(subject(value), consts)
            } else {
                Fact::OneOf(subject(value), consts)
            })
        }
        Ex::Is(value, IsWhat::True) => Some(Fact::OneOf(value, vec![&Const::Bool(true)])),
        Ex::Is(value, IsWhat::False) => Some(Fact::OneOf(value, vec![&Const::Bool(false)])),
        Ex::Is(value, IsWhat::Missing) => Some(Fact::Missing(value)),
        Ex::InCountries(value, set, negated) => Some(Fact::InSet(subject(value), *set, *negated)),
        Ex::Leaves(value, set) => Some(Fact::Leaves(value, *set)),
        Ex::Enters(value, set) => Some(Fact::Enters(value, *set)),
        _ => None,
    }
}

fn satisfies(value: Ordered, op: CmpOp, bound: Ordered) -> bool {
    match (value, bound) {
        (Ordered::Number(_), Ordered::Number(_)) | (Ordered::Date(_), Ordered::Date(_)) => match op
        {
            CmpOp::Lt => value < bound,
            CmpOp::Le => value <= bound,
            CmpOp::Gt => value > bound,
            CmpOp::Ge => value >= bound,
            _ => true,
        },
        _ => true,
    }
}

/// Whether two facts about the same value exclude each other.
fn exclude(a: &Fact, b: &Fact, same_set: &dyn Fn(CountrySetId, CountrySetId) -> bool) -> bool {
    use Fact::*;
    match (a, b) {
        (OneOf(x, p), OneOf(y, q)) if x == y => !p.iter().any(|c| q.contains(c)),
        (OneOf(x, p), NoneOf(y, q)) | (NoneOf(y, q), OneOf(x, p)) if x == y => {
            p.iter().all(|c| q.contains(c))
        }
        (OneOf(x, p), Bound(y, op, bound)) | (Bound(y, op, bound), OneOf(x, p)) if x == y => p
            .iter()
            .all(|c| ordered(c).is_some_and(|v| !satisfies(v, *op, *bound))),
        (Bound(x, op1, b1), Bound(y, op2, b2)) if x == y => {
            let lower_upper = |lo_op: CmpOp, lo: Ordered, hi_op: CmpOp, hi: Ordered| -> bool {
                // value > lo (or >=) and value < hi (or <=): empty when lo is past hi.
                let strict = matches!(lo_op, CmpOp::Gt) || matches!(hi_op, CmpOp::Lt);
                match (lo, hi) {
                    (Ordered::Number(l), Ordered::Number(h)) => {
                        // Integers: `> 5 and < 6` is empty too.
                        let l = if lo_op == CmpOp::Gt {
                            l.saturating_add(1)
                        } else {
                            l
                        };
                        let h = if hi_op == CmpOp::Lt {
                            h.saturating_sub(1)
                        } else {
                            h
                        };
                        l > h
                    }
                    (Ordered::Date(_), Ordered::Date(_)) => lo > hi || (strict && lo == hi),
                    _ => false,
                }
            };
            match (op1, op2) {
                (CmpOp::Gt | CmpOp::Ge, CmpOp::Lt | CmpOp::Le) => lower_upper(*op1, *b1, *op2, *b2),
                (CmpOp::Lt | CmpOp::Le, CmpOp::Gt | CmpOp::Ge) => lower_upper(*op2, *b2, *op1, *b1),
                _ => false,
            }
        }
        (Missing(x), OneOf(y, _) | Bound(y, _, _)) | (OneOf(y, _) | Bound(y, _, _), Missing(x))
            if x == y =>
        {
            true
        }
        (InSet(x, s, n), InSet(y, t, m)) if x == y => n != m && same_set(*s, *t),
        (Leaves(x, s), Enters(y, t)) | (Enters(y, t), Leaves(x, s)) if x == y => same_set(*s, *t),
        _ => false,
    }
}

/// The first pair of conjuncts that exclude each other, as indexes. `same_set` tells whether
/// two country sets hold the same countries.
pub fn find(
    conjuncts: &[&Ex],
    same_set: &dyn Fn(CountrySetId, CountrySetId) -> bool,
) -> Option<(usize, usize)> {
    let facts: Vec<Option<Fact>> = conjuncts.iter().map(|c| fact(c)).collect();
    for (j, b) in facts.iter().enumerate() {
        let Some(b) = b else { continue };
        for (i, a) in facts.iter().take(j).enumerate() {
            if a.as_ref().is_some_and(|a| exclude(a, b, same_set)) {
                return Some((i, j));
            }
        }
    }
    None
}

/// The warning for two conjuncts that exclude each other.
pub fn warning(
    first: Span,
    second: Span,
    first_text: &str,
    second_text: &str,
) -> super::diag::LangError {
    super::diag::LangError::warning(
        "condition can never be true",
        second,
        format!("`{second_text}` contradicts `{first_text}`: both can never hold at once"),
    )
    .with_related(first, "contradicted here")
    .with_help("a value cannot be two things at once: did you mean `or`, or `in [a, b]`?")
}
