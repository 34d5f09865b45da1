//! The syntax tree of a rule file, with spans. Produced by [`super::parse`], consumed by
//! the checker and by `fmt`. No meaning is attached yet: names are unresolved.

use crate::date::Date;
use crate::source::FileId;

/// A byte range in one policy file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, PartialEq, Debug)]
pub struct PolicyFile {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, PartialEq, Debug)]
pub enum Item {
    Import(Name),
    Taxonomy(Vec<CategoryNode>),
    Countries(Vec<Name>),
    Group(GroupDecl),
    Vocabulary(VocabularyDecl),
    Define(Define),
    Law(Law),
}

#[derive(Clone, PartialEq, Debug)]
pub struct CategoryNode {
    pub name: Name,
    pub children: Vec<CategoryNode>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct GroupDecl {
    pub name: Name,
    pub terms: Vec<GroupTerm>,
}

#[derive(Clone, PartialEq, Debug)]
pub enum GroupTerm {
    /// Another group, by name.
    Group(Name),
    List(Vec<GroupEntry>),
}

#[derive(Clone, PartialEq, Debug)]
pub struct GroupEntry {
    pub code: Name,
    pub from: Option<Date>,
    pub until: Option<Date>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct VocabularyDecl {
    pub name: Name,
    pub extends: bool,
    pub values: Vec<Name>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Define {
    pub name: Name,
    pub param: Option<(EntityKindName, Name)>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Law {
    pub name: Name,
    pub title: String,
    pub version: Option<String>,
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub source: Option<String>,
    pub applies: Option<Expr>,
    pub off_by_default: bool,
    pub defines: Vec<Define>,
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SeverityLevel {
    Error,
    Warning,
    Review,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Rule {
    pub id: Name,
    pub title: String,
    pub cite: Option<(String, Span)>,
    pub severity: Option<SeverityLevel>,
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub text: Option<String>,
    pub explain: Option<String>,
    pub query: Option<Query>,
    pub require: Option<Expr>,
    pub unless: Vec<Expr>,
    pub message: Option<(String, Span)>,
    pub remedy: Option<String>,
    pub span: Span,
}

/// The entity kinds a quantifier ranges over.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EntityKindName {
    System,
    Flow,
    Organization,
    Contract,
    Assessment,
    Collection,
}

impl EntityKindName {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim_end_matches('s') {
            "system" => Self::System,
            "flow" => Self::Flow,
            "organization" => Self::Organization,
            "contract" => Self::Contract,
            "assessment" => Self::Assessment,
            "collection" => Self::Collection,
            _ => return None,
        })
    }

    pub fn singular(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Flow => "flow",
            Self::Organization => "organization",
            Self::Contract => "contract",
            Self::Assessment => "assessment",
            Self::Collection => "collection",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Self::System => "systems",
            Self::Flow => "flows",
            Self::Organization => "organizations",
            Self::Contract => "contracts",
            Self::Assessment => "assessments",
            Self::Collection => "collections",
        }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct Binding {
    pub kind: EntityKindName,
    pub var: Name,
}

#[derive(Clone, PartialEq, Debug)]
#[allow(clippy::large_enum_variant)] // one per rule; boxing buys nothing
pub enum Query {
    Each {
        binding: Binding,
        clauses: Vec<Clause>,
        span: Span,
    },
    Path {
        path_var: Name,
        source: Binding,
        source_where: Option<Expr>,
        target: Binding,
        target_where: Option<Expr>,
        step: Binding,
        step_where: Option<Expr>,
        clauses: Vec<Clause>,
        span: Span,
    },
}

#[derive(Clone, PartialEq, Debug)]
pub enum Clause {
    Where(Expr),
    Let(Name, Expr),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddOp {
    Plus,
    Minus,
    Union,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IsWhat {
    Missing,
    Present,
    True,
    False,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ActiveWhen {
    AsOfYear,
    AsOfDate,
    /// Since 1 January of the year before the as-of year (the 2022 CAC measures' window).
    SincePreviousYear,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DurationUnit {
    Days,
    WorkingDays,
    Months,
    Years,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AggregateOp {
    Count,
    CountDistinct,
    Sum,
    Exists,
    NoneExists,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, PartialEq, Debug)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        set: Box<Expr>,
        negated: bool,
    },
    Has {
        value: Box<Expr>,
        set: Box<Expr>,
        all: bool,
    },
    Is(Box<Expr>, IsWhat),
    Leaves(Box<Expr>, Box<Expr>),
    Enters(Box<Expr>, Box<Expr>),
    Active(Box<Expr>, ActiveWhen),
    /// `a + b - c | d`, left to right.
    Arith(Box<Expr>, Vec<(AddOp, Expr)>),
    Number(i64),
    Date(Date),
    Duration(i64, DurationUnit),
    Text(String),
    List(Vec<Expr>),
    /// `f.to.operator.country`, or a bare name (`CN`, `biometric`, `separate`).
    Path(Vec<Name>),
    Call(Name, Box<Expr>),
    AsOf,
    Aggregate {
        op: AggregateOp,
        /// The summed or counted-distinct expression.
        value: Option<Box<Expr>>,
        binding: Binding,
        filter: Option<Box<Expr>>,
    },
}
