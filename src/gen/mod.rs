//! A seeded generator of city-scale manifests, for benchmarks and scale tests
//! (`lexflow gen`, hidden). The same seed and size always give byte-identical files.
//!
//! The city: organizations in several countries (city bodies, vendors, clouds; some CIIOs,
//! some DPF-certified), systems of every kind with `collects` entries on the collecting kinds,
//! flows mostly inside one operator or one country and some across borders (CN → SG backups,
//! EU → US analytics, onward chains abroad), processing agreements, CAC standard contracts and
//! assessments. Violations of the benchmark subset (`benches/subset.policy`) are planted at
//! fixed rates; [`Generated::expected`] counts them by each rule's definition (for the path rule,
//! by a plain breadth-first search in this module), so a test can compare an engine's findings
//! with a number the generator knows.

// The generator indexes its own fixed tables and counters (never user input), each
// drawn below the length of a non-empty table: indexing is its natural idiom here.
#![allow(clippy::indexing_slicing)]

pub mod rego;

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

/// Output syntax of the generated manifests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "yaml" | "yml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}` (yaml or json)")),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    pub flows: usize,
    pub seed: u64,
    /// Number of files the city is split over (at least 1). References cross files.
    pub files: usize,
    pub format: Format,
}

/// The generated manifests and the violation counts planted in them.
#[derive(Clone, Debug)]
pub struct Generated {
    /// `(file name, text)`, e.g. `city-000.yaml`.
    pub files: Vec<(String, String)>,
    /// Subset rule id → number of subjects that violate it (see module docs).
    pub expected: BTreeMap<&'static str, usize>,
    pub organizations: usize,
    pub systems: usize,
    pub flows: usize,
}

impl Generated {
    pub fn total_bytes(&self) -> usize {
        self.files.iter().map(|(_, t)| t.len()).sum()
    }
}

/// SplitMix64: small, fast, good enough for test data, and stable across platforms.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) % n.max(1) as u64) as usize
    }
    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total as usize) as u32;
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        items[0].0
    }
}

// ---------------------------------------------------------------------------------------
// Reference data (mirrors policies/countries.policy and taxonomy.policy at 2026).

const COUNTRIES: &[(&str, u32)] = &[
    ("CN", 40),
    ("DE", 10),
    ("FR", 7),
    ("NL", 4),
    ("IE", 3),
    ("US", 12),
    ("SG", 7),
    ("GB", 5),
    ("JP", 4),
    ("HK", 4),
    ("IN", 4),
];
const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];
const EU_ADEQUATE: &[&str] = &[
    "AD", "AR", "CA", "CH", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "UY", "GB", "BR",
];
const CN_PROVINCES: &[&str] = &["CN-GD", "CN-SH", "CN-BJ", "CN-ZJ"];
const PERSONAL_ROOTS: &[&str] = &[
    "contact",
    "identifier",
    "location",
    "biometric",
    "image",
    "audio",
    "health",
    "genetic",
    "financial",
    "behavior",
    "demographic",
    "ethnicity",
    "religion",
    "political",
    "trade_union",
    "sex_life",
    "criminal",
    "employment",
    "education",
];
const SPECIAL_ROOTS: &[&str] = &[
    "health",
    "genetic",
    "biometric",
    "ethnicity",
    "religion",
    "political",
    "trade_union",
    "sex_life",
];
const CAC_ROUTES: &[&str] = &[
    "cac_security_assessment",
    "cac_standard_contract",
    "cac_certification",
];

fn country_of(location: &str) -> &str {
    location.split('-').next().unwrap_or(location)
}
fn in_eea(location: &str) -> bool {
    EEA.contains(&country_of(location))
}
fn in_cn(location: &str) -> bool {
    country_of(location) == "CN"
}
fn root(category: &str) -> &str {
    category.split('.').next().unwrap_or(category)
}
fn has_personal(data: &[&str]) -> bool {
    data.iter().any(|c| PERSONAL_ROOTS.contains(&root(c)))
}
fn has_special(data: &[&str]) -> bool {
    data.iter().any(|c| SPECIAL_ROOTS.contains(&root(c)))
}

/// System kinds with what they collect (empty: the kind does not collect) and a purpose.
struct KindProfile {
    kind: &'static str,
    weight: u32,
    collects: &'static [&'static [&'static str]],
    subjects: &'static str,
    purpose: &'static str,
}

const KINDS: &[KindProfile] = &[
    KindProfile {
        kind: "camera",
        weight: 8,
        collects: &[
            &["biometric.facial", "image.video", "location.precise"],
            &["image.video", "location.precise"],
            &["identifier.license_plate", "image.video"],
        ],
        subjects: "public",
        purpose: "public_security",
    },
    KindProfile {
        kind: "microphone",
        weight: 2,
        collects: &[&["audio.recording", "location.precise"]],
        subjects: "public",
        purpose: "public_security",
    },
    KindProfile {
        kind: "sensor",
        weight: 6,
        collects: &[
            &["non_personal.environmental"],
            &["non_personal.traffic_count"],
            &["location.precise", "identifier.device"],
        ],
        subjects: "public",
        purpose: "traffic_management",
    },
    KindProfile {
        kind: "wifi_tracker",
        weight: 3,
        collects: &[&["identifier.device", "location.track", "behavior.movement"]],
        subjects: "public",
        purpose: "footfall_counting",
    },
    KindProfile {
        kind: "meter",
        weight: 3,
        collects: &[&[
            "behavior.energy_usage",
            "identifier.account",
            "contact.address",
        ]],
        subjects: "residents",
        purpose: "billing",
    },
    KindProfile {
        kind: "app",
        weight: 6,
        collects: &[
            &["contact.email", "identifier.account", "location.coarse"],
            &["health.medical", "identifier.name", "demographic.age"],
            &["financial.payment", "identifier.account"],
        ],
        subjects: "users",
        purpose: "service_delivery",
    },
    KindProfile {
        kind: "kiosk",
        weight: 2,
        collects: &[&[
            "identifier.national_id",
            "contact.phone",
            "biometric.facial",
        ]],
        subjects: "residents",
        purpose: "identity_verification",
    },
    KindProfile {
        kind: "gate",
        weight: 2,
        collects: &[
            &["biometric.facial", "identifier.name"],
            &["identifier.license_plate"],
        ],
        subjects: "passengers",
        purpose: "access_control",
    },
    KindProfile {
        kind: "website",
        weight: 3,
        collects: &[&[
            "identifier.online",
            "behavior.browsing",
            "identifier.ip_address",
        ]],
        subjects: "users",
        purpose: "analytics",
    },
    KindProfile {
        kind: "service",
        weight: 25,
        collects: &[],
        subjects: "",
        purpose: "analytics",
    },
    KindProfile {
        kind: "database",
        weight: 18,
        collects: &[],
        subjects: "",
        purpose: "service_delivery",
    },
    KindProfile {
        kind: "cloud",
        weight: 10,
        collects: &[],
        subjects: "",
        purpose: "backup",
    },
    KindProfile {
        kind: "dashboard",
        weight: 6,
        collects: &[],
        subjects: "",
        purpose: "planning",
    },
];

/// Data an internal system (service, database...) holds and passes on.
const HELD: &[&[&str]] = &[
    &["biometric.facial", "location.precise"],
    &["image.video"],
    &["identifier.device", "location.track"],
    &["contact.email", "identifier.account"],
    &["health.medical", "identifier.name"],
    &["financial.payment", "identifier.account"],
    &["behavior.energy_usage", "contact.address"],
    &["identifier.license_plate", "location.precise"],
    &["non_personal.aggregate"],
    &["non_personal.traffic_count"],
    &["ethnicity", "demographic.age"],
];

const SPECIAL_CONDITIONS: &[&str] = &[
    "explicit_consent",
    "substantial_public_interest",
    "health_care",
    "employment",
];

// ---------------------------------------------------------------------------------------
// The in-memory city.

struct Org {
    country: &'static str,
    kind: &'static str,
    ciio: bool,
    dpf: bool,
}

struct Collect {
    data: &'static [&'static str],
    subjects: &'static str,
    individuals: u64,
    purpose: &'static str,
    legal_basis: &'static str,
    consent: &'static str,
}

struct Sys {
    kind: &'static str,
    operator: usize,
    processor: Option<usize>,
    location: &'static str,
    collects: Option<Collect>,
    held: &'static [&'static str],
    purpose: &'static str,
}

struct Transfer {
    mechanism: &'static str,
    contract: Option<usize>,
}

struct FlowRec {
    from: usize,
    to: usize,
    data: Vec<&'static str>,
    purpose: &'static str,
    legal_basis: &'static str,
    consent: Option<&'static str>,
    special_condition: Option<&'static str>,
    individuals: Option<u64>,
    encrypted: bool,
    transfer: Option<Transfer>,
}

struct ContractRec {
    parties: [usize; 2],
    kind: &'static str,
    filed: bool,
}

struct AssessmentRec {
    kind: &'static str,
    covers: Vec<Covered>,
}

enum Covered {
    System(usize),
    Flow(usize),
}

struct City {
    orgs: Vec<Org>,
    systems: Vec<Sys>,
    flows: Vec<FlowRec>,
    contracts: Vec<ContractRec>,
    assessments: Vec<AssessmentRec>,
}

fn legal_basis_for(org: &Org, rng: &mut Rng) -> &'static str {
    match org.kind {
        "state_organ" | "public_authority" => {
            if rng.chance(85) {
                "public_task"
            } else {
                "legal_obligation"
            }
        }
        _ => rng.pick(&["consent", "contract", "legitimate_interests", "consent"]),
    }
}

fn build(options: &GenOptions) -> City {
    let mut rng = Rng::new(options.seed);
    let n_flows = options.flows;
    let n_systems = (n_flows / 4).max(12);
    let n_orgs = (n_flows / 40).max(8);

    // Organizations: the first few cover every country, so every size has a border to cross.
    let mut orgs = Vec::with_capacity(n_orgs);
    for i in 0..n_orgs {
        let country = if let Some(&(first, _)) = COUNTRIES.get(i) {
            first
        } else {
            rng.weighted(COUNTRIES)
        };
        let kind = if country == "CN" {
            rng.weighted(&[
                ("state_organ", 20),
                ("public_authority", 30),
                ("company", 50),
            ])
        } else {
            rng.weighted(&[("public_authority", 30), ("company", 60), ("nonprofit", 10)])
        };
        let ciio = match kind {
            "state_organ" | "public_authority" => rng.chance(30),
            _ => rng.chance(8),
        };
        let dpf = country == "US" && kind == "company" && rng.chance(50);
        orgs.push(Org {
            country,
            kind,
            ciio,
            dpf,
        });
    }
    let companies: Vec<usize> = (0..n_orgs).filter(|&i| orgs[i].kind == "company").collect();

    // Systems: most where their operator is; clouds and some services abroad.
    let kind_weights: Vec<(usize, u32)> = KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| (i, k.weight))
        .collect();
    let mut systems = Vec::with_capacity(n_systems);
    for i in 0..n_systems {
        let operator = if i < n_orgs { i } else { rng.below(n_orgs) };
        let profile = &KINDS[rng.weighted(&kind_weights)];
        let home = orgs[operator].country;
        let abroad = matches!(profile.kind, "cloud") && rng.chance(25) || rng.chance(3);
        let location: &'static str = if abroad {
            rng.weighted(COUNTRIES)
        } else if home == "CN" && rng.chance(20) {
            rng.pick(CN_PROVINCES)
        } else {
            home
        };
        let processor = if !companies.is_empty() && rng.chance(30) {
            Some(rng.pick(&companies))
        } else {
            None
        };
        let (collects, held) = if profile.collects.is_empty() {
            (None, rng.pick(HELD))
        } else {
            let data = rng.pick(profile.collects);
            let legal_basis = legal_basis_for(&orgs[operator], &mut rng);
            let consent = if legal_basis == "consent" {
                rng.pick(&["separate", "general", "explicit"])
            } else {
                "none"
            };
            let collect = Collect {
                data,
                subjects: profile.subjects,
                individuals: 100 + rng.below(2_000_000) as u64,
                purpose: profile.purpose,
                legal_basis,
                consent,
            };
            (Some(collect), data)
        };
        systems.push(Sys {
            kind: profile.kind,
            operator,
            processor,
            location,
            collects,
            held,
            purpose: profile.purpose,
        });
    }

    // Indexes for picking targets.
    let mut by_operator: Vec<Vec<usize>> = vec![Vec::new(); n_orgs];
    let mut by_country: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in systems.iter().enumerate() {
        by_operator[s.operator].push(i);
        by_country
            .entry(country_of(s.location))
            .or_default()
            .push(i);
    }
    let countries: Vec<&str> = by_country.keys().copied().collect();

    let mut flows = Vec::with_capacity(n_flows);
    let mut contracts: Vec<ContractRec> = Vec::new();
    let mut assessments: Vec<AssessmentRec> = Vec::new();
    let mut scc_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for _ in 0..n_flows {
        let from = rng.below(n_systems);
        let src = &systems[from];
        let here = country_of(src.location);
        let cross = rng.chance(12);
        let to = if cross {
            let others: Vec<&str> = countries.iter().copied().filter(|c| *c != here).collect();
            if others.is_empty() {
                rng.below(n_systems)
            } else {
                let country = rng.pick(&others);
                rng.pick(&by_country[country])
            }
        } else {
            let own = &by_operator[src.operator];
            if own.len() > 1 && rng.chance(70) {
                rng.pick(own)
            } else {
                rng.pick(&by_country[here])
            }
        };
        // No flow from a system to itself: take the next system instead.
        let to = if to == from { (to + 1) % n_systems } else { to };
        let dst = &systems[to];
        // One to all of what the source holds.
        let held = src.held;
        let take = 1 + rng.below(held.len());
        let start = rng.below(held.len());
        let mut data: Vec<&'static str> =
            (0..take).map(|k| held[(start + k) % held.len()]).collect();
        data.sort_unstable();
        let operator = &orgs[src.operator];
        let legal_basis = legal_basis_for(operator, &mut rng);
        let mut consent = (legal_basis == "consent")
            .then(|| rng.pick(&["separate", "separate", "general", "explicit"]));
        if consent.is_some() && rng.chance(3) {
            consent = None; // a fact left out
        }
        let leaves_cn = in_cn(src.location) && !in_cn(dst.location);
        let from_eea = in_eea(src.location);
        let leaves_eea =
            from_eea && !in_eea(dst.location) && !EU_ADEQUATE.contains(&country_of(dst.location));
        let personal = has_personal(&data);
        let mut transfer = None;
        if leaves_cn && personal {
            let recipient = dst.operator;
            let mut mechanism = if operator.ciio && rng.chance(75) {
                "cac_security_assessment"
            } else {
                rng.weighted(&[
                    ("cac_standard_contract", 60),
                    ("cac_certification", 10),
                    ("scc", 5),
                    ("", 25),
                ])
            };
            if mechanism == "cac_security_assessment" && !operator.ciio && rng.chance(50) {
                mechanism = "cac_standard_contract";
            }
            if !mechanism.is_empty() {
                let contract = (mechanism == "cac_standard_contract").then(|| {
                    let next = contracts.len();
                    *scc_of.entry((src.operator, recipient)).or_insert_with(|| {
                        contracts.push(ContractRec {
                            parties: [src.operator, recipient],
                            kind: "cac_standard_contract",
                            filed: true,
                        });
                        next
                    })
                });
                transfer = Some(Transfer {
                    mechanism,
                    contract,
                });
            }
        } else if leaves_eea && personal {
            let recipient = &orgs[dst.operator];
            let mechanism = if recipient.dpf && rng.chance(60) {
                "dpf"
            } else {
                rng.weighted(&[("scc", 55), ("bcr", 15), ("", 30)])
            };
            if !mechanism.is_empty() {
                transfer = Some(Transfer {
                    mechanism,
                    contract: None,
                });
            }
        } else if !in_cn(src.location)
            && !in_cn(dst.location)
            && country_of(src.location) != country_of(dst.location)
            && personal
            && rng.chance(50)
        {
            transfer = Some(Transfer {
                mechanism: "scc",
                contract: None,
            });
        }
        let special_condition = if has_special(&data) && rng.chance(80) {
            Some(rng.pick(SPECIAL_CONDITIONS))
        } else {
            None
        };
        let individuals = (cross || rng.chance(20)).then(|| 50 + rng.below(500_000) as u64);
        let index = flows.len();
        if (leaves_cn || leaves_eea) && rng.chance(30) {
            let kind = if leaves_cn { "pipia" } else { "tia" };
            assessments.push(AssessmentRec {
                kind,
                covers: vec![Covered::Flow(index), Covered::System(from)],
            });
        }
        flows.push(FlowRec {
            from,
            to,
            data,
            purpose: if rng.chance(80) {
                src.purpose
            } else {
                rng.pick(&["analytics", "backup", "research", "planning", "marketing"])
            },
            legal_basis,
            consent,
            special_condition,
            individuals,
            encrypted: rng.chance(90),
            transfer,
        });
    }
    // Processing agreements for systems run by a processor (one per operator/processor pair).
    let mut agreements: BTreeMap<(usize, usize), ()> = BTreeMap::new();
    for s in &systems {
        if let Some(p) = s.processor {
            if p != s.operator && agreements.insert((s.operator, p), ()).is_none() && rng.chance(85)
            {
                contracts.push(ContractRec {
                    parties: [s.operator, p],
                    kind: "processing_agreement",
                    filed: false,
                });
            }
        }
    }
    // DPIAs for a share of the cameras.
    for (i, s) in systems.iter().enumerate() {
        if s.kind == "camera" && rng.chance(40) {
            assessments.push(AssessmentRec {
                kind: "dpia",
                covers: vec![Covered::System(i)],
            });
        }
    }
    City {
        orgs,
        systems,
        flows,
        contracts,
        assessments,
    }
}

/// Violations of the subset rules, counted by each rule's definition.
fn expected(city: &City) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for name in [
        "SUB-PIPL-38",
        "SUB-PIPL-39",
        "SUB-PIPL-40",
        "SUB-PIPL-38-PATH",
        "SUB-GDPR-9",
        "SUB-GDPR-44",
    ] {
        counts.insert(name, 0);
    }
    let mechanism = |f: &FlowRec| f.transfer.as_ref().map(|t| t.mechanism);
    let cac = |f: &FlowRec| mechanism(f).is_some_and(|m| CAC_ROUTES.contains(&m));
    let mut step = vec![false; city.flows.len()];
    for (i, f) in city.flows.iter().enumerate() {
        let from = &city.systems[f.from];
        let to = &city.systems[f.to];
        let personal = has_personal(&f.data);
        let leaves_cn = in_cn(from.location) && !in_cn(to.location);
        if leaves_cn && personal {
            *counts.entry("SUB-PIPL-38").or_default() += usize::from(!cac(f));
            let bad_consent = f.legal_basis == "consent" && f.consent != Some("separate");
            *counts.entry("SUB-PIPL-39").or_default() += usize::from(bad_consent);
            let ciio = city.orgs[from.operator].ciio;
            *counts.entry("SUB-PIPL-40").or_default() +=
                usize::from(ciio && mechanism(f) != Some("cac_security_assessment"));
        }
        if in_eea(from.location) {
            if has_special(&f.data) && f.special_condition.is_none() {
                *counts.entry("SUB-GDPR-9").or_default() += 1;
            }
            let dest = country_of(to.location);
            if !in_eea(to.location)
                && !EU_ADEQUATE.contains(&dest)
                && personal
                && f.transfer.is_none()
            {
                *counts.entry("SUB-GDPR-44").or_default() += 1;
            }
        }
        step[i] = personal && !(leaves_cn && cac(f));
    }
    // Path rule: targets abroad reachable from a CN system that collects personal data.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); city.systems.len()];
    for (i, f) in city.flows.iter().enumerate() {
        if step[i] {
            out[f.from].push(f.to);
        }
    }
    let mut seen = vec![false; city.systems.len()];
    let mut queue = VecDeque::new();
    for (i, s) in city.systems.iter().enumerate() {
        let collects_personal = s.collects.as_ref().is_some_and(|c| has_personal(c.data));
        if in_cn(s.location) && collects_personal {
            for &t in &out[i] {
                if !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
    }
    while let Some(n) = queue.pop_front() {
        for &t in &out[n] {
            if !seen[t] {
                seen[t] = true;
                queue.push_back(t);
            }
        }
    }
    let reached = city
        .systems
        .iter()
        .enumerate()
        .filter(|(i, s)| seen[*i] && !in_cn(s.location))
        .count();
    counts.insert("SUB-PIPL-38-PATH", reached);
    counts
}

// ---------------------------------------------------------------------------------------
// Writing.

fn org_id(i: usize) -> String {
    format!("org-{i:05}")
}
fn sys_id(i: usize) -> String {
    format!("sys-{i:06}")
}
fn flow_id(i: usize) -> String {
    format!("flow-{i:07}")
}
fn contract_id(i: usize, kind: &str) -> String {
    match kind {
        "cac_standard_contract" => format!("scc-{i:05}"),
        _ => format!("dpa-{i:05}"),
    }
}

/// A field writer for the two syntaxes: YAML block style, or JSON with one entity a line.
struct Out {
    format: Format,
    text: String,
    /// JSON: whether the current object has a field yet.
    first: bool,
}

impl Out {
    fn new(format: Format, name: &str) -> Self {
        let mut text = String::new();
        match format {
            Format::Yaml => {
                let _ = writeln!(text, "lexflow: 1\nname: {name}");
            }
            Format::Json => {
                let _ = write!(text, "{{\"lexflow\": 1, \"name\": \"{name}\"");
            }
        }
        Out {
            format,
            text,
            first: true,
        }
    }
    fn section(&mut self, name: &str) {
        match self.format {
            Format::Yaml => {
                let _ = writeln!(self.text, "{name}:");
            }
            Format::Json => {
                let _ = write!(self.text, ",\n\"{name}\": [");
            }
        }
    }
    fn end_section(&mut self) {
        if self.format == Format::Json {
            // Drop the last item's comma.
            if self.text.ends_with(',') {
                self.text.pop();
            }
            self.text.push_str("\n]");
        }
    }
    fn begin(&mut self) {
        match self.format {
            Format::Yaml => self.text.push_str("  - "),
            Format::Json => self.text.push_str("\n  {"),
        }
        self.first = true;
    }
    fn end(&mut self) {
        if self.format == Format::Json {
            self.text.push_str("},");
        }
    }
    fn key(&mut self, key: &str, indent: usize) {
        match self.format {
            Format::Yaml => {
                if self.first {
                    self.first = false;
                } else {
                    for _ in 0..indent {
                        self.text.push(' ');
                    }
                }
                self.text.push_str(key);
                self.text.push_str(": ");
            }
            Format::Json => {
                if !self.first {
                    self.text.push_str(", ");
                }
                self.first = false;
                let _ = write!(self.text, "\"{key}\": ");
            }
        }
    }
    fn str(&mut self, key: &str, value: &str) {
        self.key(key, 4);
        match self.format {
            Format::Yaml => self.text.push_str(value),
            Format::Json => {
                let _ = write!(self.text, "\"{value}\"");
            }
        }
        self.newline();
    }
    fn raw(&mut self, key: &str, value: &str) {
        self.key(key, 4);
        self.text.push_str(value);
        self.newline();
    }
    fn list(&mut self, key: &str, values: &[&str]) {
        self.key(key, 4);
        self.list_value(values);
        self.newline();
    }
    fn list_value(&mut self, values: &[&str]) {
        self.text.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            match self.format {
                Format::Yaml => self.text.push_str(v),
                Format::Json => {
                    let _ = write!(self.text, "\"{v}\"");
                }
            }
        }
        self.text.push(']');
    }
    fn newline(&mut self) {
        if self.format == Format::Yaml {
            self.text.push('\n');
        }
    }
    fn finish(mut self) -> String {
        if self.format == Format::Json {
            self.text.push_str("\n}\n");
        }
        self.text
    }
}

fn write_org(out: &mut Out, i: usize, org: &Org) {
    out.begin();
    out.str("id", &org_id(i));
    out.str("name", &format!("Organization {i}"));
    out.str("country", org.country);
    out.str("kind", org.kind);
    if org.ciio {
        out.raw("ciio", "true");
    }
    if org.dpf {
        out.raw("dpf_certified", "true");
    }
    out.end();
}

fn write_system(out: &mut Out, i: usize, s: &Sys) {
    out.begin();
    out.str("id", &sys_id(i));
    out.str("kind", s.kind);
    out.str("operator", &org_id(s.operator));
    if let Some(p) = s.processor {
        out.str("processor", &org_id(p));
    }
    out.str("location", s.location);
    if let Some(c) = &s.collects {
        let individuals = c.individuals.to_string();
        match out.format {
            Format::Yaml => {
                out.key("collects", 4);
                out.text.push_str("\n      - data: ");
                out.list_value(c.data);
                let _ = write!(
                    out.text,
                    "\n        subjects: {}\n        individuals: {individuals}\n        purpose: {}\n        legal_basis: {}\n        consent: {}\n",
                    c.subjects, c.purpose, c.legal_basis, c.consent
                );
            }
            Format::Json => {
                out.key("collects", 0);
                out.text.push_str("[{\"data\": ");
                out.list_value(c.data);
                let _ = write!(
                    out.text,
                    ", \"subjects\": \"{}\", \"individuals\": {individuals}, \"purpose\": \"{}\", \"legal_basis\": \"{}\", \"consent\": \"{}\"}}]",
                    c.subjects, c.purpose, c.legal_basis, c.consent
                );
            }
        }
    }
    out.end();
}

fn write_flow(out: &mut Out, i: usize, f: &FlowRec, contracts: &[ContractRec]) {
    out.begin();
    out.str("id", &flow_id(i));
    out.str("from", &sys_id(f.from));
    out.str("to", &sys_id(f.to));
    out.list("data", &f.data);
    out.str("purpose", f.purpose);
    out.str("legal_basis", f.legal_basis);
    if let Some(c) = f.consent {
        out.str("consent", c);
    }
    if let Some(c) = f.special_condition {
        out.str("special_condition", c);
    }
    if let Some(n) = f.individuals {
        out.raw("individuals", &n.to_string());
    }
    out.raw("encrypted", if f.encrypted { "true" } else { "false" });
    if let Some(t) = &f.transfer {
        let contract = t.contract.map(|c| contract_id(c, contracts[c].kind));
        match out.format {
            Format::Yaml => {
                out.key("transfer", 4);
                let _ = write!(out.text, "\n      mechanism: {}\n", t.mechanism);
                if let Some(c) = contract {
                    let _ = writeln!(out.text, "      contract: {c}\n      since: 2025-03-01");
                }
            }
            Format::Json => {
                out.key("transfer", 0);
                let _ = write!(out.text, "{{\"mechanism\": \"{}\"", t.mechanism);
                if let Some(c) = contract {
                    let _ = write!(
                        out.text,
                        ", \"contract\": \"{c}\", \"since\": \"2025-03-01\""
                    );
                }
                out.text.push('}');
            }
        }
    }
    out.end();
}

fn write_contract(out: &mut Out, i: usize, c: &ContractRec) {
    out.begin();
    out.str("id", &contract_id(i, c.kind));
    out.list("parties", &[&org_id(c.parties[0]), &org_id(c.parties[1])]);
    out.str("kind", c.kind);
    out.str("since", "2025-03-01");
    if c.filed {
        out.str("filed", "2025-03-10");
    }
    if c.kind == "processing_agreement" {
        out.list(
            "clauses",
            &[
                "instructions",
                "confidentiality",
                "security",
                "purpose",
                "duration",
                "method",
                "categories",
                "rights_obligations",
            ],
        );
    }
    out.end();
}

fn write_assessment(out: &mut Out, i: usize, a: &AssessmentRec) {
    out.begin();
    out.str("id", &format!("{}-{i:06}", a.kind));
    out.str("kind", a.kind);
    let covers: Vec<String> = a
        .covers
        .iter()
        .map(|c| match c {
            Covered::System(s) => sys_id(*s),
            Covered::Flow(f) => flow_id(*f),
        })
        .collect();
    let refs: Vec<&str> = covers.iter().map(String::as_str).collect();
    out.list("covers", &refs);
    out.str("date", "2025-01-10");
    out.end();
}

/// The `part`-th of `parts` contiguous slices of `0..n`.
fn part_range(n: usize, part: usize, parts: usize) -> std::ops::Range<usize> {
    (n * part / parts)..(n * (part + 1) / parts)
}

/// Generates the city (deterministic in `options`).
pub fn generate(options: &GenOptions) -> Generated {
    let city = build(options);
    let expected = expected(&city);
    let parts = options.files.max(1);
    let mut files = Vec::with_capacity(parts);
    for part in 0..parts {
        let name = format!(
            "Generated city (seed {}, {} flows, part {} of {parts})",
            options.seed,
            options.flows,
            part + 1
        );
        let mut out = Out::new(options.format, &name);
        let sections: [(&str, usize); 5] = [
            ("organizations", city.orgs.len()),
            ("systems", city.systems.len()),
            ("flows", city.flows.len()),
            ("contracts", city.contracts.len()),
            ("assessments", city.assessments.len()),
        ];
        for (section, n) in sections {
            let range = part_range(n, part, parts);
            if range.is_empty() {
                continue;
            }
            out.section(section);
            for i in range {
                match section {
                    "organizations" => write_org(&mut out, i, &city.orgs[i]),
                    "systems" => write_system(&mut out, i, &city.systems[i]),
                    "flows" => write_flow(&mut out, i, &city.flows[i], &city.contracts),
                    "contracts" => write_contract(&mut out, i, &city.contracts[i]),
                    _ => write_assessment(&mut out, i, &city.assessments[i]),
                }
            }
            out.end_section();
        }
        let file = if parts == 1 {
            format!("city.{}", options.format.extension())
        } else {
            format!("city-{part:03}.{}", options.format.extension())
        };
        files.push((file, out.finish()));
    }
    Generated {
        files,
        expected,
        organizations: city.orgs.len(),
        systems: city.systems.len(),
        flows: city.flows.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_split() {
        let one = GenOptions {
            flows: 300,
            seed: 7,
            files: 1,
            format: Format::Yaml,
        };
        let a = generate(&one);
        let b = generate(&one);
        assert_eq!(a.files, b.files);
        let three = generate(&GenOptions {
            files: 3,
            ..one.clone()
        });
        assert_eq!(three.files.len(), 3);
        assert_eq!(a.expected, three.expected);
        let json = generate(&GenOptions {
            format: Format::Json,
            ..one
        });
        let value: serde_json::Value = serde_json::from_str(&json.files[0].1).expect("valid JSON");
        assert_eq!(value["flows"].as_array().map(Vec::len), Some(300));
    }
}
