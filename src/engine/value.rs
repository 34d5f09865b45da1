//! Runtime values of rule evaluation, with three-valued logic: a fact the manifest does not
//! declare is `Unknown`, carrying which fact was missing so the finding can say so.

use crate::date::Date;
use crate::lang::ir::{Duration, Field};

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

#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    Unknown(Missing),
    Bool(bool),
    Num(i64),
    Date(Date),
    Dur(Duration),
    Text(&'a str),
    Ent(Ent),
    List(Vec<Val<'a>>),
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
