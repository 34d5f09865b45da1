//! The typed manifest model: what the loader produces and the engine reads.
//!
//! Plain data. References between entities are resolved to indices by the loader, so the
//! engine never looks an id up by string. Every legal fact is an `Option`: an absent fact
//! is for the rules to report ("fact missing"), never a load error (SPEC §1).
//! Vocabulary values (purposes, kinds, categories, countries...) are kept as [`Term`]s: the
//! text the manifest wrote, checked by the loader against the vocabulary of the loaded
//! policies and shared by every entity that uses it.

use std::sync::Arc;

use crate::date::Date;
use crate::source::{Loc, SourceMap};

/// A vocabulary value (`consent`, `biometric.facial`, `CN-GD`...). A city has a few hundred
/// distinct values and hundreds of thousands of uses: the loader keeps one copy of each
/// value, and every entity shares it: no allocation per use, and one pointer wide (as is an
/// `Option<Term>`), where an `Arc<str>` is two (a flow holds seven).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Term(Arc<Box<str>>);

impl Term {
    /// Which copy of its value this term shares: two terms with the same identity have the
    /// same text (terms with the same text may still be two copies, one per file).
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.0).addr()
    }
}

impl std::ops::Deref for Term {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Term {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Term {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Term {
    fn from(text: &str) -> Self {
        Term(Arc::new(text.into()))
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self.0, f)
    }
}

impl serde::Serialize for Term {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct OrgIdx(pub u32);
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SysIdx(pub u32);
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct FlowIdx(pub u32);
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ContractIdx(pub u32);
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct AssessmentIdx(pub u32);

/// The kinds of entity a manifest declares (and a finding's subject may be).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum EntityKind {
    Organization,
    System,
    Flow,
    Contract,
    Assessment,
    /// One entry of a system's `collects` list; reported with the system as subject.
    Collection,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Organization => "organization",
            EntityKind::System => "system",
            EntityKind::Flow => "flow",
            EntityKind::Contract => "contract",
            EntityKind::Assessment => "assessment",
            EntityKind::Collection => "collection",
        }
    }
}

/// A reference to any declared entity (used where a field may name several kinds, such as
/// an assessment's `covers`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum EntityRef {
    Organization(OrgIdx),
    System(SysIdx),
    Flow(FlowIdx),
    Contract(ContractIdx),
    Assessment(AssessmentIdx),
}

/// Everything loaded in one run: several files form ONE graph (SPEC §1).
#[derive(Clone, Debug, Default)]
pub struct ManifestSet {
    pub sources: SourceMap,
    pub manifests: Vec<ManifestHeader>,
    pub organizations: Vec<Organization>,
    pub systems: Vec<System>,
    pub flows: Vec<Flow>,
    pub contracts: Vec<Contract>,
    pub assessments: Vec<Assessment>,
}

/// The top of one manifest file.
#[derive(Clone, Debug)]
pub struct ManifestHeader {
    pub version: u32,
    pub name: Option<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Organization {
    pub id: String,
    pub loc: Loc,
    pub name: Option<String>,
    pub country: Term,
    /// `state_organ | public_authority | company | nonprofit`
    pub kind: Term,
    pub ciio: Option<bool>,
    pub ciio_designated_by: Option<String>,
    pub representative_in: Option<Vec<Term>>,
    pub dpo: Option<bool>,
    pub pi_protection_officer: Option<bool>,
    pub employees: Option<u64>,
    pub dpf_certified: Option<bool>,
    pub dpf_certified_since: Option<Date>,
    pub important_data_notified: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct System {
    pub id: String,
    pub loc: Loc,
    pub name: Option<String>,
    pub kind: Term,
    pub operator: OrgIdx,
    pub processor: Option<OrgIdx>,
    /// ISO 3166-1 alpha-2, or ISO 3166-2 (`CN-GD`); the engine compares by country.
    pub location: Term,
    pub public_space: Option<bool>,
    pub private_space: Option<bool>,
    pub signage: Option<bool>,
    pub collects: Vec<Collection>,
    pub retention_days: Option<u64>,
    pub log_retention_days: Option<u64>,
    pub security: Option<Vec<Term>>,
    /// `none | partly | solely`
    pub automated_decision: Option<Term>,
    pub significant_effect: Option<bool>,
}

/// One entry of a system's `collects` list: who is collected from, what, why.
#[derive(Clone, Debug)]
pub struct Collection {
    pub loc: Loc,
    pub data: Vec<Term>,
    pub subjects: Option<Term>,
    pub subjects_in: Option<Vec<Term>>,
    pub individuals: Option<u64>,
    pub youngest_age: Option<u64>,
    pub purpose: Option<Term>,
    pub legal_basis: Option<Term>,
    pub basis_reference: Option<String>,
    pub special_condition: Option<Term>,
    pub consent: Option<Term>,
    pub notice: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub id: Box<str>,
    pub loc: Loc,
    pub from: SysIdx,
    pub to: SysIdx,
    pub data: Box<[Term]>,
    pub purpose: Option<Term>,
    pub legal_basis: Option<Term>,
    pub special_condition: Option<Term>,
    pub consent: Option<Term>,
    pub individuals: Option<u64>,
    pub encrypted: Option<bool>,
    /// Boxed, like `exemption`: most flows have neither, and a flow is one of ~100,000.
    pub transfer: Option<Box<Transfer>>,
    pub exemption: Option<Box<Exemption>>,
    /// The facts most flows leave out, boxed together (`None` when none is declared): read
    /// them through [`Flow::details`].
    pub details: Option<Box<FlowDetails>>,
}

/// A flow's facts that most manifests leave out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowDetails {
    pub basis_reference: Option<Box<str>>,
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub remote_access: Option<bool>,
    /// As declared; `None` means the SPEC default applies (see [`Flow::recipient_role`]).
    pub recipient_role: Option<Term>,
    pub anonymized: Option<bool>,
    pub pseudonymized: Option<bool>,
    pub important_data: Option<bool>,
    pub foreign_authority: Option<bool>,
    pub authority_approval: Option<bool>,
    pub automated_decision: Option<Term>,
    pub significant_effect: Option<bool>,
}

/// The details of a flow that declares none.
static NO_DETAILS: FlowDetails = FlowDetails {
    basis_reference: None,
    start: None,
    end: None,
    remote_access: None,
    recipient_role: None,
    anonymized: None,
    pseudonymized: None,
    important_data: None,
    foreign_authority: None,
    authority_approval: None,
    automated_decision: None,
    significant_effect: None,
};

impl FlowDetails {
    /// Boxed when any fact is declared, else `None`.
    pub fn boxed_if_any(self) -> Option<Box<FlowDetails>> {
        (self != NO_DETAILS).then(|| Box::new(self))
    }
}

#[derive(Clone, Debug)]
pub struct Transfer {
    pub loc: Loc,
    pub mechanism: Option<Term>,
    pub contract: Option<ContractIdx>,
    pub since: Option<Date>,
    pub until: Option<Date>,
}

#[derive(Clone, Debug)]
pub struct Exemption {
    pub loc: Loc,
    pub basis: Term,
    pub evidence: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Contract {
    pub id: String,
    pub loc: Loc,
    pub parties: Vec<OrgIdx>,
    pub kind: Term,
    pub since: Option<Date>,
    pub until: Option<Date>,
    pub filed: Option<Date>,
    pub clauses: Option<Vec<Term>>,
}

#[derive(Clone, Debug)]
pub struct Assessment {
    pub id: String,
    pub loc: Loc,
    pub kind: Term,
    pub covers: Vec<EntityRef>,
    pub date: Option<Date>,
    pub residual_risk: Option<Term>,
    pub consulted_authority: Option<bool>,
    pub valid_until: Option<Date>,
}

/// Look-ups by index. The loader only makes indices into the set it builds, so a `None`
/// means an index from another set: callers skip or report it rather than crash.
impl ManifestSet {
    pub fn org(&self, idx: OrgIdx) -> Option<&Organization> {
        self.organizations.get(idx.0 as usize)
    }
    pub fn system(&self, idx: SysIdx) -> Option<&System> {
        self.systems.get(idx.0 as usize)
    }
    pub fn flow(&self, idx: FlowIdx) -> Option<&Flow> {
        self.flows.get(idx.0 as usize)
    }
    pub fn contract(&self, idx: ContractIdx) -> Option<&Contract> {
        self.contracts.get(idx.0 as usize)
    }
    pub fn assessment(&self, idx: AssessmentIdx) -> Option<&Assessment> {
        self.assessments.get(idx.0 as usize)
    }

    /// Id and position of any entity, for findings and messages; `None` for an index
    /// outside this set.
    pub fn id_and_loc(&self, entity: EntityRef) -> Option<(&str, Loc)> {
        match entity {
            EntityRef::Organization(i) => self.org(i).map(|e| (e.id.as_str(), e.loc)),
            EntityRef::System(i) => self.system(i).map(|e| (e.id.as_str(), e.loc)),
            EntityRef::Flow(i) => self.flow(i).map(|e| (&*e.id, e.loc)),
            EntityRef::Contract(i) => self.contract(i).map(|e| (e.id.as_str(), e.loc)),
            EntityRef::Assessment(i) => self.assessment(i).map(|e| (e.id.as_str(), e.loc)),
        }
    }
}

impl Flow {
    /// The facts most flows leave out (all `None` when the flow declares none of them).
    pub fn details(&self) -> &FlowDetails {
        self.details.as_deref().unwrap_or(&NO_DETAILS)
    }

    /// Whether the flow has started by `started_by` and not ended before `still_on` (no
    /// `start`: started; no `end`: not ended). Active on a date: both that date.
    pub fn is_active(&self, started_by: Date, still_on: Date) -> bool {
        let details = self.details();
        details.start.is_none_or(|s| s <= started_by) && details.end.is_none_or(|e| e >= still_on)
    }

    /// SPEC §1: `processor` when the target system has the sender's operator, else
    /// `controller`, unless declared. `unknown` when an end system is not in `set` (an
    /// index from another set): no role can be derived, and no rule value matches it.
    pub fn recipient_role<'a>(&'a self, set: &ManifestSet) -> &'a str {
        self.recipient_role_by(|system| set.system(system).map(|s| s.operator))
    }

    /// As [`Self::recipient_role`], with each system's operator read by `operator_of`
    /// (`None` for a system not in the set).
    pub fn recipient_role_by(&self, operator_of: impl Fn(SysIdx) -> Option<OrgIdx>) -> &str {
        match &self.details().recipient_role {
            Some(role) => role,
            None => match (operator_of(self.from), operator_of(self.to)) {
                (Some(from), Some(to)) if from == to => "processor",
                (Some(_), Some(_)) => "controller",
                _ => "unknown",
            },
        }
    }
}

/// The country part of a location: `CN-GD` → `CN`.
pub fn country_of(location: &str) -> &str {
    // A byte scan: this runs for every country test of every rule (`str::split` was 15% of a
    // whole check at 100k flows).
    match location.bytes().position(|b| b == b'-') {
        Some(i) => &location[..i],
        None => location,
    }
}
