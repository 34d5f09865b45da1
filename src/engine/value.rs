//! Runtime values of rule evaluation, with three-valued logic: a fact the manifest does not
//! declare is `Unknown`, carrying which fact was missing so the finding can say so.

use crate::date::Date;
use crate::lang::ir::{Duration, Field};
use crate::manifest::model::{EntityRef, OrgIdx, Term};

/// A reference to something a rule variable can hold.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Ent {
    Org(u32),
    Sys(u32),
    Flow(u32),
    Contract(u32),
    Assessment(u32),
    /// System index, entry index in its `collects`.
    Collection(u32, u32),
    Transfer(u32),
    Exemption(u32),
    /// Index of a witness path in the rule's path table.
    Path(u32),
}

/// Which fact was absent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Missing {
    pub entity: Option<Ent>,
    pub field: Option<Field>,
}

/// A list the manifest declares, borrowed from the model: its items are made as they are
/// read, so that a value is copied, never cloned or dropped (values are made and dropped
/// at every step of every rule: a list held in a `Vec` gave them all a destructor).
#[derive(Clone, Copy, Debug)]
pub enum List<'a> {
    Texts(&'a [Term]),
    Organizations(&'a [OrgIdx]),
    Entities(&'a [EntityRef]),
}

impl<'a> List<'a> {
    pub fn len(self) -> usize {
        match self {
            List::Texts(items) => items.len(),
            List::Organizations(items) => items.len(),
            List::Entities(items) => items.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn get(self, i: usize) -> Option<Val<'a>> {
        match self {
            List::Texts(items) => items.get(i).map(|t| Val::Text(t)),
            List::Organizations(items) => items.get(i).map(|o| Val::Ent(Ent::Org(o.0))),
            List::Entities(items) => items.get(i).map(|&r| Val::Ent(super::entity_of(r))),
        }
    }

    pub fn iter(self) -> impl Iterator<Item = Val<'a>> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

impl PartialEq for List<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val<'a> {
    Unknown(Missing),
    Bool(bool),
    Num(i64),
    Date(Date),
    Dur(Duration),
    Text(&'a str),
    Ent(Ent),
    List(List<'a>),
    /// Category ids of the taxonomy.
    Cats(&'a [u32]),
}

impl<'a> Val<'a> {
    pub fn unknown() -> Self {
        Val::Unknown(Missing {
            entity: None,
            field: None,
        })
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown(_))
    }
}

/// A hashable form of a value, for indexes and `count distinct`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Key<'a> {
    Bool(bool),
    Num(i64),
    Date(Date),
    Text(&'a str),
    Ent(Ent),
}

impl<'a> Key<'a> {
    pub fn of(value: &Val<'a>) -> Option<Key<'a>> {
        Some(match value {
            Val::Bool(b) => Key::Bool(*b),
            Val::Num(n) => Key::Num(*n),
            Val::Date(d) => Key::Date(*d),
            Val::Text(t) => Key::Text(t),
            Val::Ent(e) => Key::Ent(*e),
            _ => return None,
        })
    }
}

/// Kleene truth value of a condition's result.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Truth {
    True,
    False,
    Unknown(Missing),
}

impl Truth {
    pub fn of(value: &Val) -> Truth {
        match value {
            Val::Bool(true) => Truth::True,
            Val::Unknown(m) => Truth::Unknown(*m),
            _ => Truth::False,
        }
    }
}
