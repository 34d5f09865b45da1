//! The fields of the manifest format (SPEC §1), one table per entity: name, value type,
//! whether it is required, the vocabulary an enumerated field is checked against, and a
//! description for people writing manifests.
//!
//! Two readers, one source: the loader ([`super::load`]) checks keys against these tables
//! (unknown field, did-you-mean) and asserts in debug builds that it parses each field with
//! the type and required-ness written here; `lexflow schema` ([`super::schema`]) turns them
//! into a JSON Schema for editors.

/// What an entity reference may name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Organization,
    System,
    Contract,
    /// Any declared entity (organization, system, flow, contract or assessment).
    Any,
}

impl Target {
    pub fn describe(self) -> &'static str {
        match self {
            Target::Organization => "an organization",
            Target::System => "a system",
            Target::Contract => "a contract",
            Target::Any => "an entity (organization, system, flow, contract or assessment)",
        }
    }
}

/// The value type of a field, as the loader reads it.
#[derive(Clone, Copy, Debug)]
pub enum Type {
    /// The format version number (an integer of [`super::load::SUPPORTED_VERSIONS`]).
    Version,
    /// Free text.
    Text,
    /// An entity's id: non-empty text, unique across all files of a run.
    Id,
    /// The id of another entity.
    Ref(Target),
    /// A list of ids of other entities (at least one).
    RefList(Target),
    /// `true` or `false`.
    Bool,
    /// A whole number, 0 or more.
    Count,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One value of the named vocabulary (`vocabulary NAME = [...]` in the policy files).
    Enum(&'static str),
    /// A list of values of the named vocabulary.
    EnumList(&'static str),
    /// A list of data categories of the taxonomy (at least one).
    Categories,
    /// A country code (ISO 3166-1 alpha-2) or a subdivision of one (ISO 3166-2, `CN-GD`).
    Location,
    /// A list of country codes, subdivisions or country groups (`EU`).
    Locations,
    /// A nested mapping.
    Object(&'static Entity),
    /// A list of nested mappings.
    List(&'static Entity),
}

/// One field of an entity.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub description: &'static str,
}

impl Field {
    /// The vocabulary an enumerated field is checked against.
    pub fn vocabulary(&self) -> Option<&'static str> {
        match self.ty {
            Type::Enum(v) | Type::EnumList(v) => Some(v),
            _ => None,
        }
    }
}

/// A mapping of the format: the manifest itself, an entity, or a nested part of one.
#[derive(Debug)]
pub struct Entity {
    /// The context name (`organization`, `collects`, `transfer`...), as in messages and in
    /// the schema's `$defs`.
    pub name: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field names, in table order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.fields.iter().map(|f| f.name)
    }
}

const fn req(name: &'static str, ty: Type, description: &'static str) -> Field {
    Field {
        name,
        ty,
        required: true,
        description,
    }
}

const fn opt(name: &'static str, ty: Type, description: &'static str) -> Field {
    Field {
        name,
        ty,
        required: false,
        description,
    }
}

// Descriptions shared by fields that appear on several entities.
const PURPOSE: &str = "Why the data is processed.";
const LEGAL_BASIS: &str = "The legal basis of the processing (GDPR Art. 6, PIPL Art. 13).";
const BASIS_REFERENCE: &str =
    "The statute or instrument a public-task or legal-obligation basis rests on.";
const SPECIAL_CONDITION: &str =
    "The ground for processing sensitive data (GDPR Art. 9(2), PIPL Art. 29).";
const CONSENT: &str = "The kind of consent obtained, if any (`separate`: PIPL Art. 29, 39).";
const AUTOMATED_DECISION: &str =
    "Whether decisions about people are made by automated means (GDPR Art. 22, PIPL Art. 24).";
const SIGNIFICANT_EFFECT: &str =
    "The automated decisions have legal or similarly significant effects on people.";
const INDIVIDUALS: &str =
    "Distinct people whose data is concerned per calendar year (rules with thresholds sum it).";

/// The top level of a manifest file.
pub static MANIFEST: Entity = Entity {
    name: "manifest",
    description: "A lexflow data-flow manifest: the organizations, systems, flows, contracts and assessments of a smart-city data flow. Several files given together form one graph.",
    fields: &[
        req("lexflow", Type::Version, "The manifest format version: `1`."),
        opt("name", Type::Text, "A title for this manifest."),
        opt("organizations", Type::List(&ORGANIZATION), "Legal entities: city bodies, vendors, clouds."),
        opt("systems", Type::List(&SYSTEM), "The nodes of the data-flow graph: sensors, apps, services, stores."),
        opt("flows", Type::List(&FLOW), "The edges of the data-flow graph: who sends what to whom, and why."),
        opt("contracts", Type::List(&CONTRACT), "Contracts between organizations: processing agreements, standard contracts."),
        opt("assessments", Type::List(&ASSESSMENT), "Impact and risk assessments, filings and audits."),
    ],
};

pub static ORGANIZATION: Entity = Entity {
    name: "organization",
    description: "A legal entity: a city body, a vendor, a cloud provider.",
    fields: &[
        req("id", Type::Id, "Unique id of the organization across all manifests of a run."),
        opt("name", Type::Text, "The organization's legal name."),
        req("country", Type::Location, "Where the organization is established: ISO 3166-1 alpha-2 code (`CN`, `DE`)."),
        req("kind", Type::Enum("organization_kind"), "The kind of organization (`state_organ`: PIPL's state organs such as ministries, public security bureaus, courts)."),
        opt("ciio", Type::Bool, "A critical information infrastructure operator (CSL Art. 37, PIPL Art. 40)."),
        opt("ciio_designated_by", Type::Text, "The authority that designated it a CIIO."),
        opt("representative_in", Type::Locations, "Where it has appointed a representative (GDPR Art. 27, PIPL Art. 53): country codes or `EU`."),
        opt("dpo", Type::Bool, "It has appointed a data protection officer (GDPR Art. 37)."),
        opt("pi_protection_officer", Type::Bool, "It has appointed a personal information protection officer (PIPL Art. 52)."),
        opt("employees", Type::Count, "Number of employees."),
        opt("dpf_certified", Type::Bool, "Certified under the EU-US Data Privacy Framework."),
        opt("dpf_certified_since", Type::Date, "Date of the Data Privacy Framework certification."),
        opt("important_data_notified", Type::Bool, "It has notified the authorities of the important data it processes (DSL, NDSMR)."),
    ],
};

pub static SYSTEM: Entity = Entity {
    name: "system",
    description: "A node of the data-flow graph: a sensor, an app, a service, a store.",
    fields: &[
        req(
            "id",
            Type::Id,
            "Unique id of the system across all manifests of a run.",
        ),
        opt("name", Type::Text, "A readable name."),
        req("kind", Type::Enum("system_kind"), "The kind of system."),
        req(
            "operator",
            Type::Ref(Target::Organization),
            "Id of the organization responsible for this system (the controller).",
        ),
        opt(
            "processor",
            Type::Ref(Target::Organization),
            "Id of the organization that runs it on the operator's behalf.",
        ),
        req(
            "location",
            Type::Location,
            "Where it runs or stores data: ISO 3166-1 alpha-2 (`CN`) or ISO 3166-2 (`CN-GD`).",
        ),
        opt(
            "public_space",
            Type::Bool,
            "It observes a publicly accessible space.",
        ),
        opt(
            "private_space",
            Type::Bool,
            "It observes a private space (homes, changing rooms, toilets).",
        ),
        opt(
            "signage",
            Type::Bool,
            "A prominent notice is shown at the point of collection (PIPL Art. 26).",
        ),
        opt(
            "collects",
            Type::List(&COLLECTS),
            "The personal data this system collects from people.",
        ),
        opt(
            "retention_days",
            Type::Count,
            "How many days the data is kept.",
        ),
        opt(
            "log_retention_days",
            Type::Count,
            "How many days access and processing logs are kept.",
        ),
        opt(
            "security",
            Type::EnumList("security"),
            "Security measures in place.",
        ),
        opt(
            "automated_decision",
            Type::Enum("automated_decision"),
            AUTOMATED_DECISION,
        ),
        opt("significant_effect", Type::Bool, SIGNIFICANT_EFFECT),
    ],
};

pub static COLLECTS: Entity = Entity {
    name: "collects",
    description: "One kind of collection by a system: which data, from whom, why and on what basis.",
    fields: &[
        req("data", Type::Categories, "The data categories collected: dotted paths of the taxonomy (`biometric.facial`)."),
        opt("subjects", Type::Enum("subjects"), "Whose data it is."),
        opt("subjects_in", Type::Locations, "Where the people are, when not where the system is: country codes or groups."),
        opt("individuals", Type::Count, INDIVIDUALS),
        opt("youngest_age", Type::Count, "Age of the youngest person whose data is collected (minors: PIPL Art. 31, GDPR Art. 8)."),
        opt("purpose", Type::Enum("purpose"), PURPOSE),
        opt("legal_basis", Type::Enum("legal_basis"), LEGAL_BASIS),
        opt("basis_reference", Type::Text, BASIS_REFERENCE),
        opt("special_condition", Type::Enum("special_condition"), SPECIAL_CONDITION),
        opt("consent", Type::Enum("consent"), CONSENT),
        opt("notice", Type::Bool, "The people were told (GDPR Art. 13-14, PIPL Art. 17)."),
    ],
};

pub static FLOW: Entity = Entity {
    name: "flow",
    description: "An edge of the data-flow graph: data sent from one system to another.",
    fields: &[
        req("id", Type::Id, "Unique id of the flow across all manifests of a run."),
        req("from", Type::Ref(Target::System), "Id of the sending system."),
        req("to", Type::Ref(Target::System), "Id of the receiving system."),
        req("data", Type::Categories, "The data categories the flow carries: dotted paths of the taxonomy."),
        opt("purpose", Type::Enum("purpose"), PURPOSE),
        opt("legal_basis", Type::Enum("legal_basis"), LEGAL_BASIS),
        opt("basis_reference", Type::Text, BASIS_REFERENCE),
        opt("special_condition", Type::Enum("special_condition"), SPECIAL_CONDITION),
        opt("consent", Type::Enum("consent"), CONSENT),
        opt("individuals", Type::Count, INDIVIDUALS),
        opt("encrypted", Type::Bool, "The data is encrypted in transit."),
        opt("start", Type::Date, "First day the flow is active."),
        opt("end", Type::Date, "Last day the flow is active."),
        opt("remote_access", Type::Bool, "The recipient reads data that stays stored at the sender (counts as a transfer)."),
        opt("recipient_role", Type::Enum("recipient_role"), "The recipient's role; default `processor` when the target system has the sender's operator, else `controller`."),
        opt("anonymized", Type::Bool, "The data is anonymized, as claimed by the declarer."),
        opt("pseudonymized", Type::Bool, "The data is pseudonymized, as claimed by the declarer."),
        opt("important_data", Type::Bool, "The flow carries important data (DSL Art. 21, 31)."),
        opt("foreign_authority", Type::Bool, "The recipient is a foreign court or law-enforcement body (PIPL Art. 41, DSL Art. 36)."),
        opt("authority_approval", Type::Bool, "The competent Chinese authority approved the provision to a foreign authority."),
        opt("automated_decision", Type::Enum("automated_decision"), AUTOMATED_DECISION),
        opt("significant_effect", Type::Bool, SIGNIFICANT_EFFECT),
        opt("transfer", Type::Object(&TRANSFER), "The cross-border transfer route claimed for this flow."),
        opt("exemption", Type::Object(&EXEMPTION), "An exemption claimed from a transfer rule, with its evidence."),
    ],
};

pub static TRANSFER: Entity = Entity {
    name: "transfer",
    description: "A cross-border transfer route.",
    fields: &[
        opt("mechanism", Type::Enum("transfer_mechanism"), "The transfer mechanism (`dpf` only for a certified recipient, `adequacy` only for a destination on the adequacy list in force)."),
        opt("contract", Type::Ref(Target::Contract), "Id of the contract that carries the transfer."),
        opt("since", Type::Date, "Date the mechanism took effect."),
        opt("until", Type::Date, "Date the mechanism ends."),
    ],
};

pub static EXEMPTION: Entity = Entity {
    name: "exemption",
    description: "An exemption claimed from a transfer rule.",
    fields: &[
        req(
            "basis",
            Type::Enum("exemption_basis"),
            "The exemption claimed (CAC Provisions Art. 5, GDPR Art. 49(1)(a)-(g)).",
        ),
        opt("evidence", Type::Text, "The text that supports the claim."),
    ],
};

pub static CONTRACT: Entity = Entity {
    name: "contract",
    description: "A contract between organizations.",
    fields: &[
        req(
            "id",
            Type::Id,
            "Unique id of the contract across all manifests of a run.",
        ),
        req(
            "parties",
            Type::RefList(Target::Organization),
            "Ids of the organizations that are parties to it.",
        ),
        req("kind", Type::Enum("contract_kind"), "The kind of contract."),
        opt("since", Type::Date, "Date it took effect."),
        opt("until", Type::Date, "Date it ends."),
        opt(
            "filed",
            Type::Date,
            "Date it was filed with an authority (a CAC standard contract within 10 working days).",
        ),
        opt(
            "clauses",
            Type::EnumList("contract_clause"),
            "The clauses it contains (GDPR Art. 28(3), PIPL Art. 21).",
        ),
    ],
};

pub static ASSESSMENT: Entity = Entity {
    name: "assessment",
    description: "An impact or risk assessment, a filing or an audit.",
    fields: &[
        opt("id", Type::Id, "Unique id of the assessment; default `<kind>-<n>`, n counting this file's assessments from 1."),
        req("kind", Type::Enum("assessment_kind"), "The kind of assessment."),
        req("covers", Type::RefList(Target::Any), "Ids of the systems, flows or other entities it covers."),
        opt("date", Type::Date, "Date it was completed."),
        opt("residual_risk", Type::Enum("residual_risk"), "The residual risk it concluded."),
        opt("consulted_authority", Type::Bool, "The supervisory authority was consulted (GDPR Art. 36)."),
        opt("valid_until", Type::Date, "Date until which it is valid."),
    ],
};

/// Every mapping of the format, the manifest first.
pub static ENTITIES: &[&Entity] = &[
    &MANIFEST,
    &ORGANIZATION,
    &SYSTEM,
    &COLLECTS,
    &FLOW,
    &TRANSFER,
    &EXEMPTION,
    &CONTRACT,
    &ASSESSMENT,
];

/// The entity with this context name.
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().copied().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::ENUM_FIELDS;

    /// The vocabulary `ENUM_FIELDS` assigns to `context.field` (qualified entry first).
    fn enum_fields_vocabulary(context: &str, field: &str) -> Option<&'static str> {
        let qualified = format!("{context}.{field}");
        ENUM_FIELDS
            .iter()
            .find(|(f, _)| *f == qualified)
            .or_else(|| ENUM_FIELDS.iter().find(|(f, _)| *f == field))
            .map(|(_, v)| *v)
    }

    #[test]
    fn enumerated_fields_agree_with_enum_fields() {
        let mut used = std::collections::BTreeSet::new();
        for entity in ENTITIES {
            for field in entity.fields {
                let expected = enum_fields_vocabulary(entity.name, field.name);
                assert_eq!(
                    field.vocabulary(),
                    expected,
                    "{}.{}",
                    entity.name,
                    field.name
                );
                used.extend(expected);
            }
        }
        for (_, v) in ENUM_FIELDS {
            assert!(
                used.contains(v),
                "ENUM_FIELDS vocabulary `{v}` is used by no field"
            );
        }
    }

    #[test]
    fn every_field_is_described_and_unique() {
        for entity in ENTITIES {
            assert!(!entity.description.is_empty());
            for (i, field) in entity.fields.iter().enumerate() {
                assert!(
                    field.description.ends_with('.'),
                    "{}.{}: {}",
                    entity.name,
                    field.name,
                    field.description
                );
                assert!(
                    entity.fields[..i].iter().all(|f| f.name != field.name),
                    "{}.{} twice",
                    entity.name,
                    field.name
                );
            }
        }
    }
}
