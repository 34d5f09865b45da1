//! The checked, compiled form of the rule files: names resolved, types checked, attribute
//! access turned into field accessors, aggregates analysed for index joins. The engine
//! evaluates this; it never sees the syntax tree.

use std::collections::HashMap;

use super::ast::{ActiveWhen, AddOp, AggregateOp, CmpOp, IsWhat, Span};
use crate::date::Date;
use crate::findings::Severity;
use crate::source::SourceMap;
use crate::vocab::Vocabulary;

pub type Slot = usize;

/// What a variable or a field holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Organization,
    System,
    Flow,
    Contract,
    Assessment,
    Collection,
    Transfer,
    Exemption,
    Path,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::System => "system",
            Kind::Flow => "flow",
            Kind::Contract => "contract",
            Kind::Assessment => "assessment",
            Kind::Collection => "collection",
            Kind::Transfer => "transfer",
            Kind::Exemption => "exemption",
            Kind::Path => "path",
        }
    }
}

/// Static types of the language.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Ty {
    Bool,
    Number,
    Date,
    Duration,
    /// Free text, or a value of the named vocabulary (`purpose`, `consent`...).
    Text(Option<&'static str>),
    /// A location or country code; compared by country (`CN-GD` is in `CN`).
    Country,
    Entity(Kind),
    /// Any entity (an assessment's `covers`).
    AnyEntity,
    List(Box<Ty>),
    /// The data categories of a flow or collection.
    Categories,
    /// A named or literal set of categories.
    CategorySet,
    /// A named or literal set of countries.
    CountrySet,
}

impl Ty {
    pub fn describe(&self) -> String {
        match self {
            Ty::Bool => "a yes/no fact".into(),
            Ty::Number => "a number".into(),
            Ty::Date => "a date".into(),
            Ty::Duration => "a duration".into(),
            Ty::Text(Some(v)) => format!("a {v} value"),
            Ty::Text(None) => "a text".into(),
            Ty::Country => "a country".into(),
            Ty::Entity(k) => format!("a {}", k.as_str()),
            Ty::AnyEntity => "an entity".into(),
            Ty::List(t) => format!(
                "a list of {}",
                t.describe()
                    .trim_start_matches("a ")
                    .trim_start_matches("an ")
            ),
            Ty::Categories => "data categories".into(),
            Ty::CategorySet => "a set of data categories".into(),
            Ty::CountrySet => "a set of countries".into(),
        }
    }
}

/// Every attribute a rule can read. The table in `schema.rs` gives each its name and type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Field {
    // organization
    OrgId,
    OrgName,
    OrgCountry,
    OrgKind,
    OrgCiio,
    OrgCiioDesignatedBy,
    OrgRepresentativeIn,
    OrgDpo,
    OrgPiProtectionOfficer,
    OrgEmployees,
    OrgDpfCertified,
    OrgDpfCertifiedSince,
    OrgImportantDataNotified,
    // system
    SysId,
    SysName,
    SysKind,
    SysOperator,
    SysProcessor,
    SysLocation,
    SysPublicSpace,
    SysPrivateSpace,
    SysSignage,
    SysRetentionDays,
    SysLogRetentionDays,
    SysSecurity,
    SysAutomatedDecision,
    SysSignificantEffect,
    SysCollected,
    SysIndividuals,
    // collection
    ColSystem,
    ColData,
    ColSubjects,
    ColSubjectsIn,
    ColIndividuals,
    ColYoungestAge,
    ColPurpose,
    ColLegalBasis,
    ColBasisReference,
    ColSpecialCondition,
    ColConsent,
    ColNotice,
    // flow
    FlowId,
    FlowFrom,
    FlowTo,
    FlowData,
    FlowPurpose,
    FlowLegalBasis,
    FlowBasisReference,
    FlowSpecialCondition,
    FlowConsent,
    FlowIndividuals,
    FlowEncrypted,
    FlowStart,
    FlowEnd,
    FlowRemoteAccess,
    FlowRecipientRole,
    FlowAnonymized,
    FlowPseudonymized,
    FlowImportantData,
    FlowForeignAuthority,
    FlowAuthorityApproval,
    FlowAutomatedDecision,
    FlowSignificantEffect,
    FlowTransfer,
    FlowExemption,
    // transfer
    TransferMechanism,
    TransferContract,
    TransferSince,
    TransferUntil,
    // exemption
    ExemptionBasis,
    ExemptionEvidence,
    // contract
    ContractId,
    ContractParties,
    ContractKind,
    ContractSince,
    ContractUntil,
    ContractFiled,
    ContractClauses,
    // assessment
    AssessmentId,
    AssessmentKind,
    AssessmentCovers,
    AssessmentDate,
    AssessmentResidualRisk,
    AssessmentConsultedAuthority,
    AssessmentValidUntil,
    // path
    PathLength,
    PathSource,
    PathTarget,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Bool(bool),
    Number(i64),
    Date(Date),
    Duration(Duration),
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub days: i64,
    pub months: i64,
    pub working_days: i64,
}

pub type CountrySetId = usize;
pub type CategorySetId = usize;
pub type AggId = usize;

#[derive(Clone, Debug, PartialEq)]
pub enum Ex {
    Const(Const),
    Var(Slot),
    Field(Box<Ex>, Field),
    Not(Box<Ex>),
    And(Vec<Ex>),
    Or(Vec<Ex>),
    Compare(CmpOp, Box<Ex>, Box<Ex>),
    /// A value in a list of values.
    InList(Box<Ex>, Vec<Ex>, bool),
    /// A country in a country set (at the as-of date); `true` = negated.
    InCountries(Box<Ex>, CountrySetId, bool),
    /// Data categories under any category of the set (`all`: every category of the set is
    /// covered by some data category).
    HasCategories(Box<Ex>, CategorySetId, bool),
    /// A list holds a value.
    HasValue(Box<Ex>, Box<Ex>),
    /// A list holds every value.
    HasAll(Box<Ex>, Vec<Ex>),
    /// A list of countries or group names holds a member of the set or the group's name.
    HasCountry(Box<Ex>, CountrySetId, String),
    Is(Box<Ex>, IsWhat),
    /// The flow goes from inside the set to outside it.
    Leaves(Box<Ex>, CountrySetId),
    Enters(Box<Ex>, CountrySetId),
    Active(Box<Ex>, ActiveWhen),
    Arith(Box<Ex>, AddOp, Box<Ex>),
    /// Binds a slot (a definition's parameter) then evaluates the body.
    Let(Slot, Box<Ex>, Box<Ex>),
    Aggregate(AggId),
    AsOf,
    /// The country part of a location (`CN-GD` → `CN`), so locations compare by country.
    CountryOf(Box<Ex>),
}

impl Ex {
    /// The sub-expressions of this expression, in order, for analyses that walk the tree (an
    /// aggregate's filter belongs to the rule's aggregate table, not to the expression).
    pub fn children(&self) -> Vec<&Ex> {
        match self {
            Ex::Const(_) | Ex::Var(_) | Ex::AsOf | Ex::Aggregate(_) => Vec::new(),
            Ex::Field(e, _)
            | Ex::Not(e)
            | Ex::InCountries(e, ..)
            | Ex::HasCategories(e, ..)
            | Ex::HasCountry(e, ..)
            | Ex::Is(e, _)
            | Ex::Leaves(e, _)
            | Ex::Enters(e, _)
            | Ex::Active(e, _)
            | Ex::CountryOf(e) => vec![e],
            Ex::And(es) | Ex::Or(es) => es.iter().collect(),
            Ex::Compare(_, a, b) | Ex::HasValue(a, b) | Ex::Arith(a, _, b) | Ex::Let(_, a, b) => {
                vec![a, b]
            }
            Ex::InList(e, list, _) | Ex::HasAll(e, list) => {
                std::iter::once(&**e).chain(list).collect()
            }
        }
    }
}

/// A join that lets a correlated aggregate use a hash index instead of a scan:
/// `inner` (over the aggregate's variable) equals, or as a list contains, `outer`.
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub inner: Ex,
    pub inner_is_list: bool,
    pub outer: Ex,
    /// `outer_list has inner`: look up every element of the outer list.
    pub outer_is_list: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub op: AggregateOp,
    pub kind: Kind,
    pub var: Slot,
    pub value: Option<Ex>,
    /// Conjuncts of the filter that use only the aggregate's own variable (evaluated once,
    /// when the index is built).
    pub local: Vec<Ex>,
    pub join: Option<Join>,
    /// Conjuncts that also use outer variables, evaluated per candidate.
    pub correlated: Vec<Ex>,
    /// Whether the aggregate uses no outer variable at all (computed once per run).
    pub constant: bool,
    /// Flows: range over every declared flow, because the filter itself states the window
    /// (`is active in the as-of year`, `... since the start of the previous year`), instead
    /// of the flows active on the as-of date.
    pub whole_year: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    Where(Ex),
    Let(Slot, Ex),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    Each {
        kind: Kind,
        var: Slot,
        clauses: Vec<Clause>,
    },
    /// A path search: one multi-source search per rule over the flows that satisfy
    /// `step_where`, from the systems that satisfy `source_where`, reporting every system
    /// that satisfies `target_where` with one shortest witness path.
    Path {
        path_var: Slot,
        source: Slot,
        source_where: Option<Ex>,
        target: Slot,
        target_where: Option<Ex>,
        step: Slot,
        step_where: Option<Ex>,
        clauses: Vec<Clause>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Value(Ex),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleIr {
    pub id: String,
    pub title: String,
    pub law: String,
    pub citation: String,
    pub severity: Severity,
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub text: Option<String>,
    pub explain: Option<String>,
    pub remedy: String,
    pub message: Option<Vec<TemplatePart>>,
    pub query: Query,
    pub require: Option<Ex>,
    pub unless: Vec<Ex>,
    pub slots: usize,
    pub aggregates: Vec<Aggregate>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LawIr {
    pub name: String,
    pub title: String,
    pub version: Option<String>,
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub source: Option<String>,
    pub on_by_default: bool,
    /// Territorial scope: the law applies when this holds (no variables free).
    pub applies: Option<(Ex, usize, Vec<Aggregate>)>,
    pub rules: Vec<RuleIr>,
    pub span: Span,
}

/// A dated member of a country group.
#[derive(Clone, Debug, PartialEq)]
pub struct CountryEntry {
    pub code: String,
    pub from: Option<Date>,
    pub until: Option<Date>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CountrySet {
    pub name: String,
    pub entries: Vec<CountryEntry>,
}

/// The taxonomy of data categories: every path with its parent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Taxonomy {
    pub paths: Vec<String>,
    pub parent: Vec<Option<usize>>,
    pub index: HashMap<String, usize>,
}

impl Taxonomy {
    /// Whether category `id` is `ancestor` or lies below it.
    pub fn is_under(&self, mut id: usize, ancestor: usize) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.parent.get(id).copied().flatten() {
                Some(p) => id = p,
                None => return false,
            }
        }
    }
}

/// A set of categories, as the ids it names and, for fast tests, a membership vector over
/// the taxonomy (a category is covered when it lies under a member).
#[derive(Clone, Debug, PartialEq)]
pub struct CategorySet {
    pub name: String,
    pub members: Vec<usize>,
    pub covers: Vec<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub sources: SourceMap,
    pub vocab: Vocabulary,
    pub taxonomy: Taxonomy,
    pub country_sets: Vec<CountrySet>,
    pub category_sets: Vec<CategorySet>,
    pub laws: Vec<LawIr>,
    pub warnings: Vec<super::diag::LangError>,
}

impl Program {
    pub fn rules(&self) -> impl Iterator<Item = (&LawIr, &RuleIr)> {
        self.laws
            .iter()
            .flat_map(|law| law.rules.iter().map(move |rule| (law, rule)))
    }

    pub fn find_rule(&self, id: &str) -> Option<(&LawIr, &RuleIr)> {
        self.rules().find(|(_, r)| r.id.eq_ignore_ascii_case(id))
    }
}
