//! Records from the manifests: the GDPR Art. 30(1) record of processing activities (one row
//! per processing activity, columns (a)-(g)) in CSV and Markdown, and the PIPL Art. 55-56
//! impact-assessment skeleton.

use std::path::Path;

use lexflow::date::Date;
use lexflow::lang;
use lexflow::manifest;
use lexflow::records::{pipia, ropa, RecordOptions};

/// A minimal RFC 4180 reader: rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

fn load(files: Vec<(String, String)>) -> (lexflow::manifest::model::ManifestSet, RecordOptions) {
    // A rule that names the EEA group, as the GDPR pack does, so the group is compiled.
    let eea_rule = r#"law E "EEA user" {
  rule E-1 "Retention in the EEA" {
    cite "Art. 1"
    severity review
    for each system s where s.location in EEA
    require s.retention_days is present
  }
}"#;
    let program = lang::compile_texts(&[("e.policy", eea_rule)], true).unwrap();
    let (set, _) = manifest::load_sources(files, &program.vocab).unwrap();
    let options = RecordOptions::from_program(&program, Date::parse("2026-01-01").unwrap());
    (set, options)
}

fn longgang() -> (lexflow::manifest::model::ManifestSet, RecordOptions) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/manifests/longgang.yaml");
    load(vec![(
        "longgang.yaml".into(),
        std::fs::read_to_string(path).unwrap(),
    )])
}

const CITY: &str = r#"lexflow: 1
name: School and parking
organizations:
  - id: city
    name: City of Example
    country: DE
    kind: public_authority
    dpo: true
    representative_in: [CN]
  - id: vendor
    name: Vendor Inc.
    country: US
    kind: company
systems:
  - id: school-app
    kind: app
    operator: city
    processor: vendor
    location: DE
    retention_days: 365
    security: [encryption_at_rest, mfa]
    collects:
      - data: [identifier.name, education]
        subjects: pupils
        youngest_age: 6
        purpose: service_delivery
        legal_basis: public_task
      - data: [contact.email]
        subjects: residents
        purpose: service_delivery
        legal_basis: consent
  - id: parking-cams
    kind: camera
    operator: city
    location: DE
    collects:
      - data: [identifier.license_plate]
        subjects: drivers
        purpose: traffic_management
        legal_basis: public_task
  - id: us-analytics
    kind: cloud
    operator: vendor
    location: US
  - id: fr-archive
    kind: database
    operator: city
    location: FR
  - id: ledger
    kind: database
    operator: city
    location: DE
flows:
  - id: app-to-us
    from: school-app
    to: us-analytics
    data: [education]
    purpose: analytics
    legal_basis: public_task
    transfer:
      mechanism: scc
      contract: scc-vendor
  - id: cams-to-archive
    from: parking-cams
    to: fr-archive
    data: [identifier.license_plate]
    purpose: backup
  - id: ledger-to-us
    from: ledger
    to: us-analytics
    data: [financial.payment]
    purpose: billing
contracts:
  - id: scc-vendor
    parties: [city, vendor]
    kind: scc
"#;

#[test]
fn ropa_has_one_row_per_processing_activity_with_art_30_1_a_to_g_columns() {
    let (set, options) = load(vec![("city.yaml".into(), CITY.into())]);
    let activities = ropa::activities(&set, &options);
    let ids: Vec<&str> = activities.iter().map(|a| a.id.as_str()).collect();
    // Two collections of the app, one of the cameras, and the ledger that sends data it
    // does not declare collecting.
    assert_eq!(
        ids,
        [
            "school-app",
            "school-app#2",
            "parking-cams",
            "ledger (sent data)"
        ]
    );

    let csv = ropa::render_csv(&activities);
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 1 + activities.len());
    let header = &rows[0];
    for letter in ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"] {
        assert!(
            header
                .iter()
                .any(|h| h.contains(&format!("Art. 30(1){letter}"))),
            "no {letter} column"
        );
    }
    assert!(rows.iter().all(|r| r.len() == header.len()), "ragged CSV");
    let col = |name: &str| header.iter().position(|h| h.contains(name)).unwrap();
    let app = &rows[1];
    assert!(app[col("(a) controller")].contains("City of Example"));
    assert_eq!(app[col("representative")], "appointed in CN");
    assert_eq!(app[col("protection officer")], "appointed");
    assert!(app[col("(b)")].contains("service_delivery (basis: public_task)"));
    assert!(app[col("(b)")].contains("analytics"));
    assert!(app[col("data subjects")].contains("pupils"));
    assert!(app[col("data subjects")].contains("youngest aged 6"));
    assert!(app[col("personal data")].contains("identifier.name"));
    assert!(app[col("(d)")].contains("Vendor Inc."));
    assert!(app[col("(e)")].contains("app-to-us: DE → US (education), scc (contract scc-vendor)"));
    assert!(app[col("(f)")].contains("school-app: 365 days"));
    assert!(app[col("(g)")].contains("encryption_at_rest, mfa"));
    // The e-mail collection does not flow to the US: no transfer on its row.
    let email = &rows[2];
    assert_eq!(email[col("(e)")], "none");
    // DE → FR stays inside the EEA: not a third-country transfer.
    let cams = &rows[3];
    assert_eq!(cams[col("(e)")], "none");
    assert!(cams[col("(f)")].contains("parking-cams: not declared"));
    // The ledger sends payment data to the US without a safeguard.
    let ledger = &rows[4];
    assert!(ledger[col("(e)")].contains("NO SAFEGUARD DECLARED"));

    let md = ropa::render_markdown(&activities, &["School and parking".into()], &options);
    let table_rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
        .count();
    assert_eq!(table_rows, 1 + activities.len());
    assert!(md.contains("Art. 30(1)(g)"));
}

#[test]
fn ropa_of_the_spec_example() {
    let (set, options) = longgang();
    let activities = ropa::activities(&set, &options);
    assert_eq!(activities.len(), 1);
    let a = &activities[0];
    assert_eq!(a.system, "street-cameras");
    assert!(a
        .recipients
        .iter()
        .any(|r| r.contains("Acme Cloud Pte. Ltd.")));
    assert!(a
        .transfers
        .iter()
        .any(|t| t.contains("cac_standard_contract (contract scc-acme)")));
    assert!(a.security.iter().any(|s| s.contains("audit_log")));
}

#[test]
fn pipia_skeleton_is_prefilled_and_leaves_the_judgement_blank() {
    let (set, options) = longgang();
    let text = pipia::render_pipia(&set, &options, None);
    for section in [
        "# Personal information protection impact assessment (PIPL Art. 55-56)",
        "## 1. Why an assessment is required (Art. 55)",
        "## 2. Processing: purpose, method, scope (Art. 56(1))",
        "## 4. Provision of personal information abroad",
        "## 5. Security and protective measures",
        "## 8. Assessment (Art. 56)",
        "## 9. Sign-off",
    ] {
        assert!(text.contains(section), "missing {section}");
    }
    assert!(text.contains("| analytics-to-backup | sg-backup (SG) | Acme Cloud Pte. Ltd."));
    assert!(text.contains("scc-acme (filed 2025-03-10)"));
    assert!(text.contains("public\\_security (basis: public\\_task"));
    assert!(text.contains("pipia-2025"));
    assert_eq!(text.matches("To be completed by the assessor").count(), 4);
}
