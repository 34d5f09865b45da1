//! The SPEC §1 base vocabulary built in Rust, for tests (of this module and of the engine,
//! reports, CLI). The real vocabulary comes from the policy files; this mirrors their base.

use std::collections::BTreeSet;

use crate::vocab::Vocabulary;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The base vocabulary of SPEC §1: categories (parents included), a set of ISO 3166-1
/// alpha-2 codes, the groups `EU`, `EEA`, `EU_ADEQUATE`, and every enumerated field.
#[doc(hidden)]
pub fn base_vocabulary() -> Vocabulary {
    let tree: &[(&str, &[&str])] = &[
        ("contact", &["email", "phone", "address"]),
        (
            "identifier",
            &[
                "name",
                "national_id",
                "passport",
                "account",
                "device",
                "ip_address",
                "license_plate",
                "online",
            ],
        ),
        ("location", &["precise", "coarse", "track"]),
        (
            "biometric",
            &["facial", "fingerprint", "iris", "voice", "gait"],
        ),
        ("image", &["video", "photo"]),
        ("audio", &["recording"]),
        ("health", &["medical", "disability"]),
        ("genetic", &[]),
        ("financial", &["account", "payment", "credit"]),
        (
            "behavior",
            &["movement", "purchase", "browsing", "energy_usage", "travel"],
        ),
        ("demographic", &["age", "gender"]),
        ("ethnicity", &[]),
        ("religion", &[]),
        ("political", &[]),
        ("trade_union", &[]),
        ("sex_life", &[]),
        ("criminal", &[]),
        ("employment", &[]),
        ("education", &[]),
        (
            "non_personal",
            &["environmental", "traffic_count", "aggregate"],
        ),
    ];
    let mut categories = BTreeSet::new();
    for (parent, children) in tree {
        categories.insert(parent.to_string());
        for child in *children {
            categories.insert(format!("{parent}.{child}"));
        }
    }
    let countries = set(&[
        "AD", "AE", "AR", "AT", "AU", "BE", "BG", "BR", "CA", "CH", "CN", "CY", "CZ", "DE", "DK",
        "EE", "ES", "FI", "FO", "FR", "GB", "GG", "GR", "HK", "HR", "HU", "IE", "IL", "IM", "IN",
        "IS", "IT", "JE", "JP", "KR", "LI", "LT", "LU", "LV", "MO", "MT", "MY", "NL", "NO", "NZ",
        "PL", "PT", "RO", "RU", "SA", "SE", "SG", "SI", "SK", "TH", "TW", "US", "UY", "VN",
    ]);
    let groups = set(&["EU", "EEA", "EU_ADEQUATE"]);
    let enums: &[(&str, &[&str])] = &[
        (
            "organization_kind",
            &["state_organ", "public_authority", "company", "nonprofit"],
        ),
        (
            "system_kind",
            &[
                "camera",
                "microphone",
                "sensor",
                "wifi_tracker",
                "meter",
                "app",
                "kiosk",
                "gate",
                "service",
                "database",
                "cloud",
                "dashboard",
                "website",
            ],
        ),
        (
            "subjects",
            &[
                "public",
                "residents",
                "customers",
                "employees",
                "pupils",
                "patients",
                "drivers",
                "passengers",
                "users",
            ],
        ),
        (
            "purpose",
            &[
                "public_security",
                "law_enforcement",
                "traffic_management",
                "footfall_counting",
                "access_control",
                "attendance",
                "identity_verification",
                "service_delivery",
                "billing",
                "marketing",
                "advertising",
                "analytics",
                "research",
                "backup",
                "health_care",
                "planning",
                "hr",
                "fraud_prevention",
                "ai_training",
            ],
        ),
        (
            "legal_basis",
            &[
                "consent",
                "contract",
                "legal_obligation",
                "vital_interests",
                "public_task",
                "legitimate_interests",
                "publicly_available",
                "news_reporting",
                "hr_management",
                "emergency",
            ],
        ),
        (
            "consent",
            &[
                "none", "implied", "general", "separate", "written", "explicit", "parental",
            ],
        ),
        (
            "special_condition",
            &[
                "explicit_consent",
                "employment",
                "vital_interests",
                "nonprofit",
                "made_public",
                "legal_claims",
                "substantial_public_interest",
                "health_care",
                "public_health",
                "research",
            ],
        ),
        (
            "transfer_mechanism",
            &[
                "adequacy",
                "scc",
                "bcr",
                "derogation",
                "dpf",
                "cac_security_assessment",
                "cac_standard_contract",
                "cac_certification",
            ],
        ),
        (
            "contract_kind",
            &[
                "processing_agreement",
                "joint_controllers",
                "data_sharing",
                "management_contract",
                "scc",
                "cac_standard_contract",
            ],
        ),
        (
            "contract_clause",
            &[
                "instructions",
                "confidentiality",
                "security",
                "subprocessors",
                "assistance",
                "deletion",
                "audit",
                "purpose",
                "duration",
                "method",
                "categories",
                "rights_obligations",
            ],
        ),
        (
            "assessment_kind",
            &[
                "dpia",
                "pipia",
                "tia",
                "cac_security_assessment",
                "legitimate_interest",
                "frt_filing",
                "compliance_audit",
            ],
        ),
        (
            "security",
            &[
                "encryption_at_rest",
                "encryption_in_transit",
                "access_control",
                "audit_log",
                "pseudonymization",
                "anonymization",
                "mfa",
                "backup",
            ],
        ),
        (
            "recipient_role",
            &["controller", "processor", "joint_controller"],
        ),
        ("automated_decision", &["none", "partly", "solely"]),
        ("residual_risk", &["low", "medium", "high"]),
        (
            "exemption_basis",
            &[
                "cac_contract",
                "cac_hr",
                "cac_emergency",
                "collected_abroad",
                "gdpr_49_1_a",
                "gdpr_49_1_b",
                "gdpr_49_1_c",
                "gdpr_49_1_d",
                "gdpr_49_1_e",
                "gdpr_49_1_f",
                "gdpr_49_1_g",
            ],
        ),
    ];
    Vocabulary {
        categories,
        countries,
        groups,
        enums: enums
            .iter()
            .map(|(name, values)| (name.to_string(), set(values)))
            .collect(),
    }
}
