//! The law as it stood on a date, and thresholds counted as the law counts them.

use lexflow::date::Date;
use lexflow::engine::{check, CheckOptions};
use lexflow::findings::CheckResult;
use lexflow::lang::{load_program, PolicySelection};
use lexflow::manifest::load_sources;

/// A Shenzhen logistics company (not a CIIO) exports 150,000 people's contact data to
/// Singapore, split over three flows of 50,000 each, with no transfer mechanism.
fn split_export(ciio: bool, people: u64) -> String {
    let mut m = format!(
        "lexflow: 1
organizations:
  - {{id: sz-logistics, country: CN, kind: company, ciio: {ciio}}}
  - {{id: sg-partner, country: SG, kind: company}}
systems:
  - id: sz-orders
    kind: database
    operator: sz-logistics
    location: CN-GD
    collects:
      - {{data: [contact.phone, contact.address], subjects: customers, individuals: {total}, purpose: service_delivery, legal_basis: contract, notice: true}}
  - {{id: sg-crm, kind: cloud, operator: sg-partner, location: SG}}
flows:
",
        total = people * 3
    );
    for i in 1..=3 {
        m.push_str(&format!(
            "  - {{id: export-{i}, from: sz-orders, to: sg-crm, data: [contact.phone], purpose: service_delivery, legal_basis: contract, individuals: {people}, start: 2021-01-01}}\n"
        ));
    }
    m
}

fn judge(manifest: &str, as_of: &str) -> CheckResult {
    let program = load_program(&PolicySelection {
        bundled: true,
        paths: vec![],
    })
    .unwrap_or_else(|e| panic!("{:?}", e.reports()));
    let (set, _) = load_sources(
        vec![("m.yaml".into(), manifest.to_string())],
        &program.vocab,
    )
    .expect("loads");
    check(
        &program,
        &set,
        &CheckOptions {
            as_of: Date::parse(as_of).unwrap(),
            laws: None,
        },
    )
}

fn fired_on(result: &CheckResult, rule: &str) -> Vec<String> {
    result
        .findings
        .iter()
        .filter(|f| *f.rule == *rule)
        .map(|f| f.subject.id.clone())
        .collect()
}

fn rules(result: &CheckResult) -> Vec<String> {
    let mut r: Vec<String> = result.findings.iter().map(|f| f.rule.to_string()).collect();
    r.sort();
    r.dedup();
    r
}

const ALL: [&str; 3] = ["export-1", "export-2", "export-3"];

#[test]
fn before_pipl_no_chinese_transfer_rule_applies() {
    let result = judge(&split_export(false, 50_000), "2021-06-01");
    let rules = rules(&result);
    assert!(
        rules
            .iter()
            .all(|r| !r.starts_with("PIPL") && !r.starts_with("CAC")),
        "{rules:?}"
    );
}

#[test]
fn in_2023_the_2022_security_assessment_thresholds_apply() {
    let result = judge(&split_export(false, 50_000), "2023-06-01");
    assert_eq!(
        fired_on(&result, "PIPL-38"),
        ALL,
        "PIPL in force: each flow needs a route"
    );
    assert_eq!(
        fired_on(&result, "CAC-SA-4"),
        ALL,
        "150,000 since 1 January of the previous year: assessment"
    );
    assert!(
        fired_on(&result, "CAC-8").is_empty(),
        "the 2024 Provisions are not yet in force"
    );
}

#[test]
fn in_2026_the_split_export_needs_the_standard_contract() {
    let result = judge(&split_export(false, 50_000), "2026-06-01");
    assert_eq!(
        fired_on(&result, "CAC-8"),
        ALL,
        "three 50,000 flows sum to 150,000: the band of Art. 8"
    );
    assert!(
        fired_on(&result, "CAC-SA-4").is_empty(),
        "the 2022 thresholds are superseded"
    );
    assert!(
        fired_on(&result, "CAC-7").is_empty(),
        "below the assessment thresholds"
    );
}

#[test]
fn one_flow_alone_is_below_the_band() {
    let manifest = split_export(false, 50_000)
        .lines()
        .filter(|l| !l.contains("export-2") && !l.contains("export-3"))
        .collect::<Vec<_>>()
        .join("\n");
    let result = judge(&manifest, "2026-06-01");
    assert!(
        fired_on(&result, "CAC-8").is_empty(),
        "50,000 people is exempt under Art. 5(4)"
    );
}

#[test]
fn a_ciio_exporting_ten_people_needs_the_assessment() {
    let manifest = split_export(true, 10)
        .lines()
        .filter(|l| !l.contains("export-2") && !l.contains("export-3"))
        .collect::<Vec<_>>()
        .join("\n");
    let result = judge(&manifest, "2026-06-01");
    assert_eq!(fired_on(&result, "CAC-7"), ["export-1"]);
    assert!(
        fired_on(&result, "CAC-8").is_empty(),
        "CIIOs are outside the contract band"
    );
}
