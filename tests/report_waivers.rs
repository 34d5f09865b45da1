//! Waivers and baselines (SPEC §4) on fabricated results.

use lexflow::date::Date;
use lexflow::findings::{CheckResult, Finding, Location, Severity, Status, Subject};
use lexflow::report::{apply_baseline, apply_waivers, load_waivers, write_baseline};

fn finding(rule: &str, id: &str, line: u32, path: &[&str]) -> Finding {
    let subject = Subject {
        kind: "flow",
        id: id.into(),
    };
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    Finding {
        rule: rule.into(),
        title: format!("{rule} title").into(),
        law: rule.split('-').next().unwrap().into(),
        citation: format!("{rule} citation").into(),
        severity: Severity::Error,
        status: Status::Open,
        fingerprint: Finding::compute_fingerprint(rule, &subject, &path),
        subject,
        location: Location {
            file: "city.yaml".into(),
            line,
            column: 5,
        },
        path,
        path_flows: vec![],
        message: "m".into(),
        remediation: "r".into(),
        waiver: None,
    }
}

fn result() -> CheckResult {
    let mut result = CheckResult {
        findings: vec![
            finding("GDPR-44", "eu-db-to-us-hq", 10, &[]),
            finding("GDPR-46", "eu-db-to-us-hq", 11, &[]),
            finding("PIPL-39", "analytics-to-backup", 20, &["a", "b", "c"]),
        ],
        ..CheckResult::default()
    };
    result.recount();
    result
}

const WAIVERS: &str = "\
# accepted risks
waivers:
  - rule: GDPR-*
    subject: eu-db-*
    justification: SCCs signed 2026-03-01, transfer impact assessment pending
    approver: dpo@city.example
    ticket: PRIV-1234
    expires: 2026-12-31
  - rule: PIPL-39
    subject: analytics-to-backup
    justification: separate consent being collected
    approver: counsel@city.example
    ticket: 4711
    expires: 2025-06-30
  - rule: CSL-*
    subject: '*'
    justification: old
    approver: someone
    ticket: PRIV-1
    expires: 2027-01-01
";

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

#[test]
fn loads_waivers_with_locations() {
    let waivers = load_waivers("waivers.yaml", WAIVERS).unwrap();
    assert_eq!(waivers.len(), 3);
    assert_eq!(waivers[0].rule, "GDPR-*");
    assert_eq!(waivers[0].expires, date("2026-12-31"));
    assert_eq!(
        (
            &*waivers[0].location.file,
            waivers[0].location.line,
            waivers[0].location.column
        ),
        ("waivers.yaml", 3, 5)
    );
    assert_eq!(waivers[1].ticket, "4711", "numbers are kept as text");
    assert_eq!(waivers[1].location.line, 9);
    assert!(load_waivers("w.yaml", "").unwrap().is_empty());
    assert!(load_waivers("w.yaml", "waivers: []\n").unwrap().is_empty());
}

#[test]
fn applies_waivers_and_reports_expired_and_unused_ones() {
    let waivers = load_waivers("waivers.yaml", WAIVERS).unwrap();
    let mut result = result();
    apply_waivers(&mut result, &waivers, date("2026-01-15"));
    let status: Vec<Status> = result.findings.iter().map(|f| f.status).collect();
    assert_eq!(status, [Status::Waived, Status::Waived, Status::Open]);
    let info = result.findings[0].waiver.as_ref().unwrap();
    assert_eq!(info.ticket, "PRIV-1234");
    assert_eq!(info.expires, "2026-12-31");
    assert!(result.findings[2].waiver.is_none());
    assert_eq!((result.summary.error, result.summary.waived), (1, 2));

    let kinds: Vec<(&str, u32)> = result
        .problems
        .iter()
        .map(|p| (p.kind.as_str(), p.location.as_ref().unwrap().line))
        .collect();
    assert_eq!(kinds, [("expired_waiver", 9), ("unused_waiver", 15)]);
    assert!(result.problems[0].message.contains("2025-06-30"));
}

#[test]
fn a_waiver_is_in_force_on_its_expiry_day() {
    let waivers = load_waivers("waivers.yaml", WAIVERS).unwrap();
    let mut result = result();
    apply_waivers(&mut result, &waivers, date("2025-06-30"));
    assert_eq!(result.findings[2].status, Status::Waived);
    assert_eq!(result.summary.waived, 3);
    assert!(result.problems.iter().all(|p| p.kind != "expired_waiver"));
}

fn error_at(text: &str) -> (u32, u32, String, String) {
    let err = load_waivers("waivers.yaml", text).unwrap_err();
    let help = miette::Diagnostic::help(&err)
        .map(|h| h.to_string())
        .unwrap_or_default();
    assert!(miette::Diagnostic::labels(&err).is_some());
    assert!(miette::Diagnostic::source_code(&err).is_some());
    (err.line(), err.column(), err.message().to_string(), help)
}

#[test]
fn a_missing_field_is_reported_at_the_entry() {
    let text = "waivers:\n  - rule: GDPR-44\n    subject: x\n    approver: a\n    ticket: t\n    expires: 2026-01-01\n";
    let (line, column, message, help) = error_at(text);
    assert_eq!((line, column), (2, 5));
    assert!(message.contains("`justification`"), "{message}");
    assert!(help.contains("justification"));
}

#[test]
fn an_unknown_field_is_reported_where_it_stands() {
    let text = "waivers:\n  - rule: GDPR-44\n    subject: x\n    justification: j\n    approver: a\n    ticket: t\n    expires: 2026-01-01\n    expiry: 2027-01-01\n";
    let (line, column, message, help) = error_at(text);
    assert_eq!(line, 8, "{message}");
    assert!(column >= 5, "{column}");
    assert!(message.contains("expiry"), "{message}");
    assert!(help.contains("exactly these fields"), "{help}");
    assert!(help.contains("did you mean `expires`?"), "{help}");
}

#[test]
fn a_bad_date_is_reported_at_the_value() {
    let text = "waivers:\n  - rule: GDPR-44\n    subject: x\n    justification: j\n    approver: a\n    ticket: t\n    expires: 2026-02-30\n";
    let (line, column, message, help) = error_at(text);
    assert_eq!((line, column), (7, 14));
    assert!(message.contains("2026-02-30"));
    assert!(help.contains("YYYY-MM-DD") || help.contains("2026-12-31"));
}

#[test]
fn a_diagnostic_renders_with_miette() {
    let text = "waivers:\n  - rule: GDPR-44\n";
    let err = load_waivers("waivers.yaml", text).unwrap_err();
    let report = miette::Report::new(err);
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, report.as_ref())
        .unwrap();
    assert!(out.contains("waivers.yaml"), "{out}");
    assert!(out.contains("missing"), "{out}");
}

#[test]
fn baseline_round_trip_drops_known_findings() {
    let before = result();
    let baseline = write_baseline(&before).unwrap();
    assert!(!baseline.contains("\"line\""));
    assert!(baseline.contains("\"rule\": \"PIPL-39\""));
    assert!(baseline.contains("\"subject\": \"flow:analytics-to-backup\""));
    assert!(baseline.ends_with('\n'));

    // Moving findings to other lines changes nothing: fingerprints have no line numbers.
    let mut moved = before.clone();
    for f in &mut moved.findings {
        f.location.line += 100;
    }
    moved.findings.reverse();
    assert_eq!(write_baseline(&moved).unwrap(), baseline);

    // A new finding survives; the known ones are counted as baselined.
    let mut later = before.clone();
    later.findings.push(finding(
        "PIPL-39",
        "analytics-to-backup",
        20,
        &["a", "x", "c"],
    ));
    later.recount();
    let dropped = apply_baseline(&mut later, &baseline).unwrap();
    assert_eq!(dropped, 3);
    assert_eq!(later.findings.len(), 1);
    assert_eq!(later.findings[0].path[1], "x");
    assert_eq!((later.summary.error, later.summary.baselined), (1, 3));
}

#[test]
fn a_bad_baseline_is_an_error() {
    let mut r = result();
    assert!(apply_baseline(&mut r, "{not json").is_err());
    assert!(apply_baseline(&mut r, r#"{"lexflow_baseline": 2, "findings": []}"#).is_err());
    assert_eq!(r.findings.len(), 3);
}
