//! Where-clause tests that the `for each` rules over one kind share.
//!
//! Most judgements end at a `where` clause: at 100,000 flows the bundled packs make about
//! 3.8 million judgements, and only 5% of them get past their `where` clauses. Rules of
//! different packs open with the same tests ("the flow leaves China", "the data is
//! personal", "not anonymized"), each compiled with the rule's own variable numbering. A
//! fused pass judges one entity by every rule over its kind, so each distinct test is
//! evaluated at most once per entity, when a rule first needs it; a rule whose shared test
//! is false for the entity is passed over without being interpreted.
//!
//! Passing a rule over never changes a result: `where` clauses only filter, evaluation has
//! no side effects, and a rule is passed over only when one of its `where` clauses is false,
//! where judging it would have stopped too. Every rule that is not passed over is judged in
//! full, exactly as before.

use crate::lang::ir::{Clause, Ex, Query, RuleIr, Slot};

use super::sharing::{renamed, substituted, SameSets};
use super::value::Truth;

/// The distinct shareable tests of a group of `for each` rules over one kind, with the
/// bound entity as slot 0.
#[derive(Debug, Default)]
pub struct SharedTests {
    /// Each distinct test, renumbered: slot 0 is the entity, slots 1.. are bound inside the
    /// test itself (a definition's parameter).
    pub tests: Vec<Ex>,
    /// Slots an evaluator of the tests needs.
    pub slots: usize,
    /// Per rule of the group (in the group's order): the numbers of its tests, in clause order.
    pub per_rule: Vec<Vec<u32>>,
    /// Per rule of the group, per clause: the numbers of a `where` clause's tests when every
    /// conjunct of it is a shared test (then the clause is true when they all are, and the
    /// rule need not evaluate it again); `None` for a `let`, or a `where` with a conjunct
    /// that is not shared.
    pub per_clause: Vec<Vec<Option<Vec<u32>>>>,
}

impl SharedTests {
    /// The shareable tests of `rules` (each a `for each` rule; others get no tests).
    pub fn of(rules: &[&RuleIr], same: &SameSets) -> SharedTests {
        let mut shared = SharedTests {
            slots: 1,
            ..SharedTests::default()
        };
        for rule in rules {
            let mut numbers = Vec::new();
            let mut per_clause = Vec::new();
            if let Query::Each { var, clauses, .. } = &rule.query {
                for clause in clauses {
                    let Clause::Where(condition) = clause else {
                        per_clause.push(None);
                        continue;
                    };
                    let mut conjuncts = Vec::new();
                    conjuncts_of(condition, &mut conjuncts);
                    let mut all_shared = Some(Vec::new());
                    for conjunct in &conjuncts {
                        match shared.add(conjunct, *var, same) {
                            Some(number) => {
                                if !numbers.contains(&number) {
                                    numbers.push(number);
                                }
                                if let Some(list) = &mut all_shared {
                                    list.push(number);
                                }
                            }
                            None => all_shared = None,
                        }
                    }
                    per_clause.push(all_shared);
                }
            }
            shared.per_rule.push(numbers);
            shared.per_clause.push(per_clause);
        }
        shared
    }

    /// The number of `conjunct` among the tests, adding it; `None` when it cannot be shared
    /// (it reads a variable other than the rule's entity, or an aggregate, which belongs to
    /// the rule's own index table).
    fn add(&mut self, conjunct: &Ex, var: Slot, same: &SameSets) -> Option<u32> {
        if !closed_over(conjunct, var, &mut Vec::new()) {
            return None;
        }
        let mut names = vec![var];
        let test = renamed(conjunct, &mut names, same)?;
        self.slots = self.slots.max(names.len());
        let number = match self.tests.iter().position(|t| *t == test) {
            Some(n) => n,
            None => {
                self.tests.push(test);
                self.tests.len().saturating_sub(1)
            }
        };
        u32::try_from(number).ok()
    }
}

/// The conjuncts of a condition: the parts of nested `and`s, and of definitions applied to a
/// variable (`outbound(f)`: the definition's body, with its parameter read as `f`), so that
/// a definition's tests are shared with the same tests written out. The condition is false
/// when any conjunct is.
fn conjuncts_of(condition: &Ex, out: &mut Vec<Ex>) {
    match condition {
        Ex::And(parts) => parts.iter().for_each(|p| conjuncts_of(p, out)),
        Ex::Let(parameter, argument, body) => match &**argument {
            Ex::Var(variable) => match substituted(body, *parameter, *variable) {
                Some(inlined) => conjuncts_of(&inlined, out),
                None => out.push(condition.clone()),
            },
            _ => out.push(condition.clone()),
        },
        other => out.push(other.clone()),
    }
}

/// Whether `ex` reads no variable but `var` and those its own `let`s bind (`bound`).
fn closed_over(ex: &Ex, var: Slot, bound: &mut Vec<Slot>) -> bool {
    match ex {
        Ex::Var(s) => *s == var || bound.contains(s),
        Ex::Aggregate(_) => false,
        Ex::Let(s, value, body) => {
            if !closed_over(value, var, bound) {
                return false;
            }
            bound.push(*s);
            let ok = closed_over(body, var, bound);
            bound.pop();
            ok
        }
        other => other
            .children()
            .into_iter()
            .all(|child| closed_over(child, var, bound)),
    }
}

/// What is known of each shared test for the entity being judged.
pub struct TestMemo {
    /// 0: not evaluated yet; 1: false; 2: true; 3: unknown (a fact is missing).
    states: Vec<u8>,
}

impl TestMemo {
    pub fn new(tests: usize) -> Self {
        TestMemo {
            states: vec![0; tests],
        }
    }

    /// Forgets every result (a new entity).
    pub fn clear(&mut self) {
        self.states.fill(0);
    }

    /// Whether test `number` is false, evaluating it with `truth` the first time.
    pub fn is_false(&mut self, number: u32, truth: impl FnOnce() -> Truth) -> bool {
        match self.states.get_mut(number as usize) {
            Some(0) => {
                let result = truth();
                if let Some(state) = self.states.get_mut(number as usize) {
                    *state = match result {
                        Truth::False => 1,
                        Truth::True => 2,
                        Truth::Unknown(_) => 3,
                    };
                }
                result == Truth::False
            }
            Some(state) => *state == 1,
            None => false,
        }
    }

    /// Whether every test of `numbers` was evaluated and found true.
    pub fn all_true(&self, numbers: &[u32]) -> bool {
        numbers
            .iter()
            .all(|&n| self.states.get(n as usize) == Some(&2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ast::IsWhat;
    use crate::lang::ir::Field;

    fn anonymized(var: Slot) -> Ex {
        Ex::Is(
            Box::new(Ex::Field(Box::new(Ex::Var(var)), Field::FlowAnonymized)),
            IsWhat::True,
        )
    }

    fn rule(var: Slot, clauses: Vec<Clause>) -> RuleIr {
        RuleIr {
            id: "T-1".into(),
            title: String::new(),
            law: "T".into(),
            citation: String::new(),
            severity: crate::findings::Severity::Error,
            effective: None,
            until: None,
            text: None,
            explain: None,
            remedy: String::new(),
            message: None,
            query: Query::Each {
                kind: crate::lang::ir::Kind::Flow,
                var,
                clauses,
            },
            require: None,
            unless: Vec::new(),
            slots: 8,
            aggregates: Vec::new(),
            span: Default::default(),
        }
    }

    #[test]
    fn equal_tests_with_other_variable_numbers_are_one_test() {
        let a = rule(
            0,
            vec![Clause::Where(Ex::And(vec![anonymized(0), Ex::AsOf]))],
        );
        let b = rule(3, vec![Clause::Where(anonymized(3))]);
        let shared = SharedTests::of(&[&a, &b], &SameSets::default());
        assert_eq!(shared.tests.len(), 2);
        assert_eq!(shared.per_rule, vec![vec![0, 1], vec![0]]);
    }

    #[test]
    fn a_test_reading_a_let_or_an_aggregate_is_not_shared() {
        let uses_let = rule(
            0,
            vec![
                Clause::Let(1, Ex::Var(0)),
                Clause::Where(anonymized(1)),
                Clause::Where(Ex::Aggregate(0)),
            ],
        );
        let shared = SharedTests::of(&[&uses_let], &SameSets::default());
        assert!(shared.tests.is_empty());
        assert_eq!(shared.per_rule, vec![Vec::<u32>::new()]);
    }

    #[test]
    fn a_definition_applied_to_the_entity_shares_its_tests_with_the_same_tests_written_out() {
        // `where outbound(f)`, with `outbound(g) = g.anonymized is true and as-of`.
        let body = Ex::And(vec![anonymized(1), Ex::AsOf]);
        let definition = Ex::Let(1, Box::new(Ex::Var(4)), Box::new(body));
        let a = rule(4, vec![Clause::Where(definition)]);
        let b = rule(0, vec![Clause::Where(anonymized(0))]);
        let shared = SharedTests::of(&[&a, &b], &SameSets::default());
        assert_eq!(shared.tests, vec![anonymized(0), Ex::AsOf]);
        assert_eq!(shared.per_rule, vec![vec![0, 1], vec![0]]);
    }

    #[test]
    fn a_definition_applied_to_something_else_is_one_test() {
        let definition = Ex::Let(
            1,
            Box::new(Ex::Field(Box::new(Ex::Var(4)), Field::FlowTo)),
            Box::new(Ex::Is(Box::new(Ex::Var(1)), IsWhat::Present)),
        );
        let a = rule(4, vec![Clause::Where(definition)]);
        let shared = SharedTests::of(&[&a], &SameSets::default());
        assert_eq!(shared.tests.len(), 1);
        assert_eq!(shared.slots, 2);
    }

    #[test]
    fn the_memo_evaluates_a_test_once() {
        let mut memo = TestMemo::new(2);
        let mut runs = 0;
        for _ in 0..3 {
            assert!(memo.is_false(1, || {
                runs += 1;
                Truth::False
            }));
        }
        assert_eq!(runs, 1);
        memo.clear();
        assert!(!memo.is_false(1, || Truth::True));
    }

    #[test]
    fn only_tests_found_true_make_a_clause_known_true() {
        let unknown = Truth::Unknown(crate::engine::value::Missing {
            entity: None,
            field: None,
        });
        let mut memo = TestMemo::new(3);
        assert!(!memo.is_false(0, || Truth::True));
        assert!(!memo.is_false(1, || unknown));
        assert!(memo.all_true(&[0]));
        assert!(memo.all_true(&[]));
        // Unknown (a missing fact) must be evaluated again, to say which fact is missing.
        assert!(!memo.all_true(&[0, 1]));
        // Not evaluated yet: not known.
        assert!(!memo.all_true(&[0, 2]));
        memo.clear();
        assert!(!memo.all_true(&[0]));
    }

    #[test]
    fn a_where_clause_is_known_only_when_every_conjunct_is_shared() {
        let a = rule(
            0,
            vec![
                Clause::Where(Ex::And(vec![anonymized(0), anonymized(0)])),
                Clause::Let(1, Ex::Var(0)),
                // Reads the `let`: not shareable.
                Clause::Where(Ex::And(vec![anonymized(0), anonymized(1)])),
            ],
        );
        let shared = SharedTests::of(&[&a], &SameSets::default());
        assert_eq!(shared.per_clause, vec![vec![Some(vec![0, 0]), None, None]]);
        assert_eq!(shared.per_rule, vec![vec![0]]);
    }
}
