//! The vocabulary a manifest is checked against: data categories (the taxonomy), country
//! codes and groups, and the enumerated values of fields (purposes, legal bases...).
//!
//! It is plain data produced by compiling the policy files (`policies/taxonomy.policy`,
//! `policies/countries.policy`, `policies/vocabulary.policy`), so that a lawyer changes the
//! vocabulary without touching Rust, and handed to the manifest loader.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    /// Every category path, parents included: `biometric`, `biometric.facial`, ...
    pub categories: BTreeSet<String>,
    /// ISO 3166-1 alpha-2 codes accepted as countries.
    pub countries: BTreeSet<String>,
    /// Country group names (`EU`, `EEA`, `EU_ADEQUATE`...), accepted where a manifest lists
    /// countries or groups (`representative_in`, `subjects_in`).
    pub groups: BTreeSet<String>,
    /// Enumerated fields, keyed by the vocabulary name (see [`EnumField`]).
    pub enums: BTreeMap<String, BTreeSet<String>>,
}

/// The enumerated fields of the manifest format and the vocabulary name each is checked
/// against. The names are the ones `vocabulary NAME = [...]` declares in policy files.
pub const ENUM_FIELDS: &[(&str, &str)] = &[
    ("organization.kind", "organization_kind"),
    ("system.kind", "system_kind"),
    ("subjects", "subjects"),
    ("purpose", "purpose"),
    ("legal_basis", "legal_basis"),
    ("consent", "consent"),
    ("special_condition", "special_condition"),
    ("transfer.mechanism", "transfer_mechanism"),
    ("contract.kind", "contract_kind"),
    ("contract.clauses", "contract_clause"),
    ("assessment.kind", "assessment_kind"),
    ("security", "security"),
    ("recipient_role", "recipient_role"),
    ("automated_decision", "automated_decision"),
    ("residual_risk", "residual_risk"),
    ("exemption.basis", "exemption_basis"),
];

impl Vocabulary {
    pub fn enum_values(&self, vocabulary_name: &str) -> Option<&BTreeSet<String>> {
        self.enums.get(vocabulary_name)
    }

    pub fn is_category(&self, path: &str) -> bool {
        self.categories.contains(path)
    }

    pub fn is_country(&self, code: &str) -> bool {
        self.countries.contains(code)
    }

    /// A location is a country code or an ISO 3166-2 subdivision of one (`CN-GD`).
    pub fn is_location(&self, location: &str) -> bool {
        match location.split_once('-') {
            None => self.is_country(location),
            Some((country, sub)) => {
                self.is_country(country)
                    && !sub.is_empty()
                    && sub.len() <= 3
                    && sub
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
        }
    }
}

/// The closest candidate to `word` for "did you mean" hints: the fewest edits (case
/// ignored), ties broken by Jaro-Winkler similarity; `None` when nothing is close enough to
/// be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let allowed = match word.chars().count() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, f64, &str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let edits = strsim::damerau_levenshtein(&word, &lower);
        let similarity = strsim::jaro_winkler(&word, &lower);
        if edits > allowed && similarity < 0.9 {
            continue;
        }
        let better = match best {
            None => true,
            Some((e, s, _)) => edits < e || (edits == e && similarity > s),
        };
        if better {
            best = Some((edits, similarity, candidate));
        }
    }
    best.map(|(_, _, c)| c)
}
