//! The engine runs rules written only in the language: a new rule file, with its own path
//! and aggregation queries, fires as expected without any Rust change.

use lexflow::date::Date;
use lexflow::engine::{check, CheckOptions};
use lexflow::findings::{CheckResult, Severity};
use lexflow::lang::compile_texts;
use lexflow::manifest::load_sources;

const POLICY: &str = r#"
law EUTEST "A test pack written only in the rule language" {
  effective 2018-05-25
  applies when exists system s where s.location in EEA

  # A path query: personal data collected in the EEA that reaches the United States
  # through any chain of flows, whatever the intermediate hops.
  rule EU-PATH-US "EEA personal data reaches the United States" {
    cite "Art. 44"
    severity warning
    for each path p from system s where s.location in EEA and s.collected has personal
                    to system t where t.location in [US]
                    along flows g where g.data has personal
    message "personal data reaches {t.id} in {t.location} in {p.length} hops"
    remedy "Put a Chapter V mechanism on the hop that leaves the EEA."
  }

  # An aggregation: quasi-identifying datasets from different operators converge on one
  # system, each claimed pseudonymised — a re-identification risk.
  rule EU-CONVERGE "Pseudonymised datasets from several sources meet at one system" {
    cite "Recital 26"
    severity review
    for each system s
      let sources = count distinct g.from.operator over flows g
          where g.to = s and g.pseudonymized is true and g.data has quasi_identifiers
      where sources >= 2
    message "{s.id} joins pseudonymised quasi-identifiers from {sources} operators"
    remedy "Assess re-identification risk before joining."
  }

  # A sum over flows grouped by the recipient operator.
  rule EU-VOLUME "Large volume received by one operator" {
    cite "Art. 35(3)(b)"
    for each organization o
      let received = sum g.individuals over flows g where g.to.operator = o
      where received >= 1_000_000
    require exists assessment a where a.kind = dpia and a.covers has o
    remedy "Carry out a DPIA."
  }

  rule EU-BASIS "A legal basis on every flow" {
    cite "Art. 6(1)"
    for each flow f where f.data has personal
    require f.legal_basis is present
    remedy "Declare the legal basis."
  }
}
"#;

const MANIFEST: &str = r#"lexflow: 1
organizations:
  - {id: city, country: DE, kind: public_authority}
  - {id: telco, country: FR, kind: company}
  - {id: us-cloud, country: US, kind: company}
systems:
  - id: sensors
    kind: wifi_tracker
    operator: city
    location: DE
    collects:
      - {data: [identifier.device, location.precise], subjects: public, purpose: footfall_counting}
  - {id: telco-feed, kind: service, operator: telco, location: FR}
  - {id: hub, kind: database, operator: city, location: DE}
  - {id: analytics, kind: cloud, operator: us-cloud, location: US}
flows:
  - {id: s-to-hub, from: sensors, to: hub, data: [identifier.device], pseudonymized: true, legal_basis: public_task, individuals: 600000}
  - {id: telco-to-hub, from: telco-feed, to: hub, data: [location.track], pseudonymized: true, legal_basis: contract, individuals: 500000}
  - {id: hub-to-us, from: hub, to: analytics, data: [location.precise], individuals: 10}
  - {id: back, from: analytics, to: hub, data: [non_personal.aggregate], legal_basis: contract}
"#;

fn run(manifest: &str, as_of: &str) -> CheckResult {
    check_with(&[("eutest.policy", POLICY)], manifest, as_of)
}

/// Checks `manifest` against the bundled packs and `policies` at `as_of`.
fn check_with(policies: &[(&str, &str)], manifest: &str, as_of: &str) -> CheckResult {
    let program = match compile_texts(policies, true) {
        Ok(p) => p,
        Err(e) => panic!("{:?}", e.reports()),
    };
    let (set, _) = load_sources(vec![("city.yaml".into(), manifest.into())], &program.vocab)
        .expect("manifest loads");
    check(
        &program,
        &set,
        &CheckOptions {
            as_of: Date::parse(as_of).unwrap(),
            laws: None,
        },
    )
}

fn fired(result: &CheckResult, rule: &str) -> Vec<String> {
    result
        .findings
        .iter()
        .filter(|f| *f.rule == *rule)
        .map(|f| f.subject.id.clone())
        .collect()
}

#[test]
fn path_query_reports_the_witness_path() {
    let result = run(MANIFEST, "2026-06-01");
    let finding = result
        .findings
        .iter()
        .find(|f| &*f.rule == "EU-PATH-US")
        .expect("path rule fires");
    assert_eq!(finding.path, ["sensors", "hub", "analytics"]);
    assert_eq!(finding.path_flows, ["s-to-hub", "hub-to-us"]);
    assert_eq!(finding.subject.id, "hub-to-us");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding
            .message
            .starts_with("personal data reaches analytics in US in 2 hops"),
        "{}",
        finding.message
    );
    assert_eq!(&*finding.citation, "EUTEST Art. 44");
    assert_eq!(
        (&*finding.location.file, finding.location.line),
        ("city.yaml", 19)
    );
}

#[test]
fn aggregation_counts_distinct_sources_per_system() {
    let result = run(MANIFEST, "2026-06-01");
    assert_eq!(fired(&result, "EU-CONVERGE"), ["hub"]);
    // The message sees the rule's `let` values as they were when the rule fired (findings
    // are written after all rules ran, from compact hits).
    let converge = result
        .findings
        .iter()
        .find(|f| &*f.rule == "EU-CONVERGE")
        .expect("fires");
    assert_eq!(
        converge.message,
        "hub joins pseudonymised quasi-identifiers from 2 operators"
    );
    // One pseudonymised source is not a convergence.
    let single = MANIFEST.replace(
        "pseudonymized: true, legal_basis: contract",
        "legal_basis: contract",
    );
    assert!(fired(&run(&single, "2026-06-01"), "EU-CONVERGE").is_empty());
}

#[test]
fn sums_group_by_the_link_and_exceptions_come_from_indexes() {
    let result = run(MANIFEST, "2026-06-01");
    assert_eq!(
        fired(&result, "EU-VOLUME"),
        ["city"],
        "1.1M people flow into the city's hub"
    );
    let with_dpia = format!("{MANIFEST}assessments:\n  - {{kind: dpia, covers: [city]}}\n");
    assert!(fired(&run(&with_dpia, "2026-06-01"), "EU-VOLUME").is_empty());
}

#[test]
fn a_missing_fact_is_reported_for_review_not_passed() {
    let result = run(MANIFEST, "2026-06-01");
    let finding = result
        .findings
        .iter()
        .find(|f| &*f.rule == "EU-BASIS")
        .expect("fires on hub-to-us");
    assert_eq!(finding.subject.id, "hub-to-us");
    // `is present` decides definitely: the rule's own severity applies.
    assert_eq!(finding.severity, Severity::Error);
}

#[test]
fn law_not_yet_in_force_is_not_applied() {
    let result = run(MANIFEST, "2017-01-01");
    assert!(result.findings.is_empty());
    assert!(result.rules_checked.is_empty());
}

#[test]
fn cycles_do_not_hang_and_paths_stay_simple() {
    let mut manifest = String::from("lexflow: 1\norganizations:\n  - {id: o, country: DE, kind: company}\n  - {id: u, country: US, kind: company}\nsystems:\n");
    let n = 2000;
    for i in 0..n {
        manifest.push_str(&format!("  - {{id: s{i}, kind: service, operator: o, location: DE, collects: [{{data: [contact.email]}}]}}\n"));
    }
    manifest.push_str("  - {id: us, kind: cloud, operator: u, location: US}\nflows:\n");
    for i in 0..n {
        manifest.push_str(&format!(
            "  - {{id: f{i}, from: s{i}, to: s{}, data: [contact.email], legal_basis: consent}}\n",
            (i + 1) % n
        ));
    }
    manifest.push_str(
        "  - {id: exit, from: s0, to: us, data: [contact.email], legal_basis: consent}\n",
    );
    let result = run(&manifest, "2026-06-01");
    let finding = result
        .findings
        .iter()
        .find(|f| &*f.rule == "EU-PATH-US")
        .expect("reaches US");
    assert_eq!(finding.path_flows, ["exit"], "the shortest witness");
}

#[test]
fn a_sum_over_a_missing_count_is_a_missing_fact_not_zero() {
    let manifest = MANIFEST.replace(
        "pseudonymized: true, legal_basis: contract, individuals: 500000",
        "pseudonymized: true, legal_basis: contract",
    );
    let result = run(&manifest, "2026-06-01");
    let finding = result
        .findings
        .iter()
        .find(|f| &*f.rule == "EU-VOLUME")
        .expect("reported for review");
    assert_eq!(finding.severity, Severity::Review);
    assert!(
        finding
            .message
            .contains("fact missing: `individuals` of flow `telco-to-hub`"),
        "{}",
        finding.message
    );
}

#[test]
fn joins_run_both_ways_and_windows_reach_the_previous_year() {
    const EXTRA: &str = r#"
law JOINS "Join directions" {
  rule J-1 "An operator named by a contract runs a system" {
    cite "Art. 1"
    for each contract c
      where exists system s where c.parties has s.operator
  }
  rule J-2 "Flows since the start of the previous year" {
    cite "Art. 2"
    for each organization o
      let n = count flows g where g.from.operator = o and g is active since the start of the previous year
      where n >= 2
  }
}
"#;
    let program = compile_texts(&[("joins.policy", EXTRA)], true)
        .unwrap_or_else(|e| panic!("{:?}", e.reports()));
    let manifest = format!(
        "{}contracts:\n  - {{id: c1, parties: [lawfirm, telco], kind: data_sharing}}\n  - {{id: c2, parties: [lawfirm], kind: data_sharing}}\n",
        MANIFEST.replace("organizations:\n", "organizations:\n  - {id: lawfirm, country: DE, kind: company}\n").replace("individuals: 10}", "individuals: 10, start: 2025-02-01, end: 2025-03-01}")
            .replace("{id: s-to-hub,", "{id: s-to-hub, start: 2025-01-01, end: 2025-02-01,")
    );
    let (set, _) = load_sources(vec![("m.yaml".into(), manifest)], &program.vocab).expect("loads");
    let result = check(
        &program,
        &set,
        &CheckOptions {
            as_of: Date::parse("2026-06-01").unwrap(),
            laws: None,
        },
    );
    let fired = |rule: &str| -> Vec<String> {
        result
            .findings
            .iter()
            .filter(|f| *f.rule == *rule)
            .map(|f| f.subject.id.clone())
            .collect()
    };
    assert_eq!(
        fired("J-1"),
        ["c1"],
        "telco runs telco-feed; the law firm, c2's only party, runs no system"
    );
    assert_eq!(
        fired("J-2"),
        ["city"],
        "two city flows ran in 2025, none in 2026"
    );
}

#[test]
fn huge_durations_in_a_rule_file_neither_hang_nor_overflow() {
    const HUGE: &str = r#"
law HUGE "Durations at the edge" {
  rule H-1 "Far future" {
    cite "Art. 1"
    for each flow f
      where as-of + 999_999_999_999 working days > as-of
        and as-of - 9_000_000_000_000_000 years < as-of
        and 9_000_000_000_000_000_000 days > 1 days
  }
}
"#;
    let program = compile_texts(&[("huge.policy", HUGE)], true)
        .unwrap_or_else(|e| panic!("{:?}", e.reports()));
    let (set, _) =
        load_sources(vec![("m.yaml".into(), MANIFEST.into())], &program.vocab).expect("loads");
    let result = check(
        &program,
        &set,
        &CheckOptions {
            as_of: Date::parse("2026-06-01").unwrap(),
            laws: None,
        },
    );
    assert_eq!(
        result.findings.iter().filter(|f| &*f.rule == "H-1").count(),
        4,
        "every flow, evaluated in bounded time"
    );
}

/// `exists` and `no` without a join have one answer for the whole run, found by testing the
/// entities in order up to the first that passes: wherever that one is, or when none does.
#[test]
fn exists_and_no_without_a_join_see_every_entity() {
    const POLICY: &str = r#"
law ANYTEST "Exists and no, without a join" {
  effective 2018-05-25
  applies when exists system s where s.location in EEA

  rule ANY-US "Some system is in the United States" {
    cite "Art. 1"
    for each organization o where exists system s where s.location in [US]
    remedy "None: a test."
  }

  rule NO-CN "No system is in China" {
    cite "Art. 2"
    for each organization o where no system s where s.location in [CN]
    remedy "None: a test."
  }
}
"#;
    let run = |locations: &[&str]| -> CheckResult {
        let mut manifest = String::from(
            "lexflow: 1\norganizations:\n  - {id: city, country: DE, kind: public_authority}\nsystems:\n",
        );
        for (i, location) in locations.iter().enumerate() {
            manifest.push_str(&format!(
                "  - {{id: s{i}, kind: database, operator: city, location: {location}}}\n"
            ));
        }
        check_with(&[("anytest.policy", POLICY)], &manifest, "2026-06-01")
    };
    // The system that answers is last, after many that do not.
    let mut last_in_us = vec!["DE"; 50];
    last_in_us.push("US");
    let result = run(&last_in_us);
    assert_eq!(fired(&result, "ANY-US"), ["city"]);
    assert_eq!(fired(&result, "NO-CN"), ["city"]);
    let mut last_in_cn = vec!["FR"; 50];
    last_in_cn.push("CN");
    let result = run(&last_in_cn);
    assert!(fired(&result, "ANY-US").is_empty());
    assert!(fired(&result, "NO-CN").is_empty());
    // The law's scope: no system in the EEA, none of its rules checked (the bundled packs'
    // are).
    let result = run(&["US", "CN"]);
    let checked: Vec<&str> = result.rules_checked.iter().map(|r| &*r.id).collect();
    assert!(!checked.is_empty());
    assert!(!checked.contains(&"ANY-US") && !checked.contains(&"NO-CN"));
    let result = run(&["US", "DE"]);
    let checked: Vec<&str> = result.rules_checked.iter().map(|r| &*r.id).collect();
    assert!(checked.contains(&"ANY-US") && checked.contains(&"NO-CN"));
}

/// Two entries of one system's `collects` that break the same rule are two findings, each at
/// its own line, whatever else is reported between them: only a finding at the same place
/// (same rule, subject and path) is a duplicate. Side by side, the second used to be
/// dropped.
#[test]
fn each_collection_of_a_system_has_its_own_finding() {
    let manifest = "lexflow: 1
organizations:
  - {id: city, country: CN, kind: public_authority}
systems:
  - id: cams
    kind: camera
    operator: city
    location: CN
    retention_days: 30
    collects:
      - {data: [identifier.device], subjects: public, purpose: traffic_management, notice: true}
      - {data: [identifier.device], subjects: public, purpose: public_security, notice: true}
";
    let result = check_with(&[], manifest, "2026-06-01");
    let lines: Vec<u32> = result
        .findings
        .iter()
        .filter(|f| &*f.rule == "PIPL-13")
        .map(|f| f.location.line)
        .collect();
    assert_eq!(lines, [11, 12], "one PIPL-13 finding per collection");
}

/// An aggregate whose filter holds another aggregate: the inner index is built while the
/// outer one is (each on first use), and the counts are right.
#[test]
fn an_aggregate_nested_in_an_aggregate_s_filter() {
    const POLICY: &str = r#"
law NESTTEST "Nested aggregates" {
  effective 2018-05-25
  applies when exists system s where s.location in EEA

  rule NEST-UNASSESSED "Flows into a system that no assessment covers" {
    cite "Art. 1"
    for each system s
      let unassessed = count flows g where g.to = s and no assessment a where a.covers has g
      where unassessed >= 2
    message "{s.id} receives {unassessed} flows that no assessment covers"
    remedy "None: a test."
  }
}
"#;
    let manifest = "lexflow: 1
organizations:
  - {id: city, country: DE, kind: public_authority}
systems:
  - {id: a, kind: database, operator: city, location: DE}
  - {id: b, kind: database, operator: city, location: DE}
  - {id: hub, kind: database, operator: city, location: DE}
  - {id: store, kind: database, operator: city, location: DE}
flows:
  - {id: a-hub, from: a, to: hub, data: [non_personal.aggregate]}
  - {id: b-hub, from: b, to: hub, data: [non_personal.aggregate]}
  - {id: a-store, from: a, to: store, data: [non_personal.aggregate]}
  - {id: b-store, from: b, to: store, data: [non_personal.aggregate]}
assessments:
  - {kind: dpia, covers: [b-store]}
";
    let result = check_with(&[("nesttest.policy", POLICY)], manifest, "2026-06-01");
    // hub receives two unassessed flows; store one (b-store is covered).
    assert_eq!(fired(&result, "NEST-UNASSESSED"), ["hub"]);
    let finding = result
        .findings
        .iter()
        .find(|f| &*f.rule == "NEST-UNASSESSED")
        .expect("fires on hub");
    assert!(
        finding.message.contains("receives 2 flows"),
        "{}",
        finding.message
    );
}
