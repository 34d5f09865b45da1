//! The attributes a rule can read on each kind of entity, with their types: the rule
//! language's view of the manifest format (SPEC §1). The checker resolves `f.to.location`
//! through this table; the engine reads the fields it names.

use super::ir::{Field, Kind, Ty};

fn list(t: Ty) -> Ty {
    Ty::List(Box::new(t))
}

fn text(vocab: &'static str) -> Ty {
    Ty::Text(Some(vocab))
}

/// The attribute names of a kind, in the order the manifest format lists them.
pub fn fields(kind: Kind) -> &'static [(&'static str, Field)] {
    use Field::*;
    match kind {
        Kind::Organization => &[
            ("id", OrgId),
            ("name", OrgName),
            ("country", OrgCountry),
            ("kind", OrgKind),
            ("ciio", OrgCiio),
            ("ciio_designated_by", OrgCiioDesignatedBy),
            ("representative_in", OrgRepresentativeIn),
            ("dpo", OrgDpo),
            ("pi_protection_officer", OrgPiProtectionOfficer),
            ("employees", OrgEmployees),
            ("dpf_certified", OrgDpfCertified),
            ("dpf_certified_since", OrgDpfCertifiedSince),
            ("important_data_notified", OrgImportantDataNotified),
        ],
        Kind::System => &[
            ("id", SysId),
            ("name", SysName),
            ("kind", SysKind),
            ("operator", SysOperator),
            ("processor", SysProcessor),
            ("location", SysLocation),
            ("public_space", SysPublicSpace),
            ("private_space", SysPrivateSpace),
            ("signage", SysSignage),
            ("retention_days", SysRetentionDays),
            ("log_retention_days", SysLogRetentionDays),
            ("security", SysSecurity),
            ("automated_decision", SysAutomatedDecision),
            ("significant_effect", SysSignificantEffect),
            ("collected", SysCollected),
            ("individuals", SysIndividuals),
        ],
        Kind::Collection => &[
            ("system", ColSystem),
            ("data", ColData),
            ("subjects", ColSubjects),
            ("subjects_in", ColSubjectsIn),
            ("individuals", ColIndividuals),
            ("youngest_age", ColYoungestAge),
            ("purpose", ColPurpose),
            ("legal_basis", ColLegalBasis),
            ("basis_reference", ColBasisReference),
            ("special_condition", ColSpecialCondition),
            ("consent", ColConsent),
            ("notice", ColNotice),
        ],
        Kind::Flow => &[
            ("id", FlowId),
            ("from", FlowFrom),
            ("to", FlowTo),
            ("data", FlowData),
            ("purpose", FlowPurpose),
            ("legal_basis", FlowLegalBasis),
            ("basis_reference", FlowBasisReference),
            ("special_condition", FlowSpecialCondition),
            ("consent", FlowConsent),
            ("individuals", FlowIndividuals),
            ("encrypted", FlowEncrypted),
            ("start", FlowStart),
            ("end", FlowEnd),
            ("remote_access", FlowRemoteAccess),
            ("recipient_role", FlowRecipientRole),
            ("anonymized", FlowAnonymized),
            ("pseudonymized", FlowPseudonymized),
            ("important_data", FlowImportantData),
            ("foreign_authority", FlowForeignAuthority),
            ("authority_approval", FlowAuthorityApproval),
            ("automated_decision", FlowAutomatedDecision),
            ("significant_effect", FlowSignificantEffect),
            ("transfer", FlowTransfer),
            ("exemption", FlowExemption),
        ],
        Kind::Transfer => &[
            ("mechanism", TransferMechanism),
            ("contract", TransferContract),
            ("since", TransferSince),
            ("until", TransferUntil),
        ],
        Kind::Exemption => &[("basis", ExemptionBasis), ("evidence", ExemptionEvidence)],
        Kind::Contract => &[
            ("id", ContractId),
            ("parties", ContractParties),
            ("kind", ContractKind),
            ("since", ContractSince),
            ("until", ContractUntil),
            ("filed", ContractFiled),
            ("clauses", ContractClauses),
        ],
        Kind::Assessment => &[
            ("id", AssessmentId),
            ("kind", AssessmentKind),
            ("covers", AssessmentCovers),
            ("date", AssessmentDate),
            ("residual_risk", AssessmentResidualRisk),
            ("consulted_authority", AssessmentConsultedAuthority),
            ("valid_until", AssessmentValidUntil),
        ],
        Kind::Path => &[
            ("length", PathLength),
            ("source", PathSource),
            ("target", PathTarget),
        ],
    }
}

/// The type of a field.
pub fn field_type(field: Field) -> Ty {
    use Field::*;
    match field {
        OrgId | OrgName | OrgCiioDesignatedBy | SysId | SysName | FlowId | ContractId
        | AssessmentId | ColBasisReference | FlowBasisReference | ExemptionEvidence => {
            Ty::Text(None)
        }
        OrgCountry | SysLocation => Ty::Country,
        OrgKind => text("organization_kind"),
        SysKind => text("system_kind"),
        ColSubjects => text("subjects"),
        ColPurpose | FlowPurpose => text("purpose"),
        ColLegalBasis | FlowLegalBasis => text("legal_basis"),
        ColConsent | FlowConsent => text("consent"),
        ColSpecialCondition | FlowSpecialCondition => text("special_condition"),
        TransferMechanism => text("transfer_mechanism"),
        ContractKind => text("contract_kind"),
        AssessmentKind => text("assessment_kind"),
        FlowRecipientRole => text("recipient_role"),
        SysAutomatedDecision | FlowAutomatedDecision => text("automated_decision"),
        AssessmentResidualRisk => text("residual_risk"),
        ExemptionBasis => text("exemption_basis"),
        OrgCiio
        | OrgDpo
        | OrgPiProtectionOfficer
        | OrgDpfCertified
        | OrgImportantDataNotified
        | SysPublicSpace
        | SysPrivateSpace
        | SysSignage
        | SysSignificantEffect
        | ColNotice
        | FlowEncrypted
        | FlowRemoteAccess
        | FlowAnonymized
        | FlowPseudonymized
        | FlowImportantData
        | FlowForeignAuthority
        | FlowAuthorityApproval
        | FlowSignificantEffect
        | AssessmentConsultedAuthority => Ty::Bool,
        OrgEmployees | SysRetentionDays | SysLogRetentionDays | SysIndividuals | ColIndividuals
        | ColYoungestAge | FlowIndividuals | PathLength => Ty::Number,
        OrgDpfCertifiedSince | FlowStart | FlowEnd | TransferSince | TransferUntil
        | ContractSince | ContractUntil | ContractFiled | AssessmentDate | AssessmentValidUntil => {
            Ty::Date
        }
        OrgRepresentativeIn | ColSubjectsIn => list(Ty::Country),
        SysSecurity => list(text("security")),
        ContractClauses => list(text("contract_clause")),
        SysOperator | SysProcessor => Ty::Entity(Kind::Organization),
        ContractParties => list(Ty::Entity(Kind::Organization)),
        ColSystem | FlowFrom | FlowTo | PathSource | PathTarget => Ty::Entity(Kind::System),
        TransferContract => Ty::Entity(Kind::Contract),
        FlowTransfer => Ty::Entity(Kind::Transfer),
        FlowExemption => Ty::Entity(Kind::Exemption),
        AssessmentCovers => list(Ty::AnyEntity),
        SysCollected | ColData | FlowData => Ty::Categories,
    }
}

/// The name of a field, for messages ("fact missing: legal_basis").
pub fn field_name(field: Field) -> &'static str {
    for kind in [
        Kind::Organization,
        Kind::System,
        Kind::Collection,
        Kind::Flow,
        Kind::Transfer,
        Kind::Exemption,
        Kind::Contract,
        Kind::Assessment,
        Kind::Path,
    ] {
        if let Some((name, _)) = fields(kind).iter().find(|(_, f)| *f == field) {
            return name;
        }
    }
    "?"
}
