//! The report formats on a fabricated result: a finding with a path, a waived one, hostile
//! names (`<script>`, ANSI escapes, `|`, newlines), a problem. Each format is checked for
//! validity (schemas, XML), determinism and inertness of manifest text.

use lexflow::findings::{
    CheckResult, Finding, Location, Problem, RuleInfo, Severity, Status, Subject, WaiverInfo,
};
use lexflow::report::{self, Format, RenderContext};

const SCRIPT: &str = "<script>alert(1)</script>";
const ESC: &str = "\x1b[31m";

fn rule(id: &str, law: &str, severity: Severity, title: &str) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: title.into(),
        law: law.into(),
        law_title: format!("{law} law"),
        citation: format!("{law} Art. 1"),
        severity,
        explanation: format!("Why {id} matters."),
        remediation: format!("Fix {id}."),
        source: Some("https://example.org/law".into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &str,
    law: &str,
    severity: Severity,
    kind: &'static str,
    id: &str,
    file: &str,
    line: u32,
    column: u32,
) -> Finding {
    let subject = Subject {
        kind,
        id: id.into(),
    };
    Finding {
        rule: rule.into(),
        title: format!("{rule} title").into(),
        law: law.into(),
        citation: format!("{law} Art. 1").into(),
        severity,
        status: Status::Open,
        fingerprint: Finding::compute_fingerprint(rule, &subject, &[]),
        subject,
        location: Location {
            file: file.into(),
            line,
            column,
        },
        path: vec![],
        path_flows: vec![],
        message: format!("{rule} fired on {id}"),
        remediation: format!("Fix {rule}.").into(),
        waiver: None,
    }
}

fn fixture() -> CheckResult {
    let mut with_path = finding(
        "PIPL-39",
        "PIPL",
        Severity::Error,
        "flow",
        "analytics-to-backup",
        "city.yaml",
        58,
        5,
    );
    with_path.path = vec![
        "street-cameras".into(),
        "face-analytics".into(),
        "sg-backup".into(),
    ];
    with_path.path_flows = vec!["cams-to-analytics".into(), "analytics-to-backup".into()];
    with_path.fingerprint =
        Finding::compute_fingerprint("PIPL-39", &with_path.subject, &with_path.path);

    let mut waived = finding(
        "GDPR-44",
        "GDPR",
        Severity::Error,
        "flow",
        "eu-db-to-us-hq",
        "city.yaml",
        12,
        3,
    );
    waived.status = Status::Waived;
    waived.waiver = Some(Box::new(WaiverInfo {
        justification: "SCCs signed, TIA pending".into(),
        approver: "dpo@city.example".into(),
        ticket: "PRIV-1234".into(),
        expires: "2026-12-31".into(),
    }));

    let mut hostile = finding(
        "CAC-FRT-6",
        "CAC-FRT",
        Severity::Warning,
        "system",
        SCRIPT,
        "my dir/city,1:a.yaml",
        3,
        1,
    );
    hostile.message =
        format!("system {SCRIPT} | {ESC}red{ESC}\nerror[FAKE] forged line %0A ::error::x");
    hostile.title = format!("Face recognition in {SCRIPT}").into();

    let review = finding(
        "PIPL-13",
        "PIPL",
        Severity::Review,
        "system",
        &format!("cam{ESC}-2"),
        "city.yaml",
        80,
        7,
    );

    let mut result = CheckResult {
        // Deliberately not in SPEC order: renderers sort.
        findings: vec![review, with_path, hostile, waived],
        problems: vec![Problem {
            kind: "expired_waiver".into(),
            message: format!("waiver for {SCRIPT} expired on 2025-01-01"),
            location: Some(Location {
                file: "waivers.yaml".into(),
                line: 3,
                column: 5,
            }),
        }],
        summary: Default::default(),
        rules_checked: vec![
            rule(
                "CAC-FRT-6",
                "CAC-FRT",
                Severity::Warning,
                "Face recognition",
            ),
            rule(
                "GDPR-44",
                "GDPR",
                Severity::Error,
                "Transfer to third country",
            ),
            rule("PIPL-13", "PIPL", Severity::Review, "Legal basis"),
            rule("PIPL-39", "PIPL", Severity::Error, "Cross-border consent"),
            rule("PIPL-55", "PIPL", Severity::Review, "Impact assessment"),
        ],
    };
    result.recount();
    result
}

fn validate(schema_file: &str, instance: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_file).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

fn all_formats(result: &CheckResult, ctx: &RenderContext) -> Vec<(Format, String)> {
    Format::ALL
        .into_iter()
        .map(|f| (f, report::render(f, result, ctx).unwrap()))
        .collect()
}

#[test]
fn every_format_is_deterministic_order_independent_and_ends_with_newline() {
    let ctx = RenderContext {
        tool_version: "0.1.0".into(),
        ..RenderContext::default()
    };
    let result = fixture();
    let mut reversed = result.clone();
    reversed.findings.reverse();
    for ((format, a), (_, b)) in all_formats(&result, &ctx)
        .into_iter()
        .zip(all_formats(&reversed, &ctx))
    {
        assert_eq!(a, b, "{format} depends on input order");
        assert_eq!(
            a,
            report::render(format, &result, &ctx).unwrap(),
            "{format} not stable"
        );
        assert!(a.ends_with('\n'), "{format} lacks a final newline");
        // Written to an output (streamed, or written out as it is made): the same bytes.
        let mut written = Vec::new();
        report::render_to(format, &result, &ctx, &mut written).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            a,
            "{format} written differs"
        );
    }
}

#[test]
fn no_format_lets_escape_sequences_or_script_tags_through() {
    let ctx = RenderContext::default();
    for (format, out) in all_formats(&fixture(), &ctx) {
        assert!(!out.contains('\x1b'), "{format} emits a raw ESC");
        if matches!(format, Format::Markdown | Format::Html | Format::Junit) {
            // Markup formats must escape `<`; JSON strings, terminals and logs show it as text.
            assert!(!out.contains("<script>"), "{format} emits a raw <script>");
        }
    }
}

#[test]
fn json_follows_spec_and_schema() {
    let out = report::render_json(&fixture()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    validate("tests/fixtures/findings.schema.json", &value);
    assert!(out.starts_with("{\n  \"lexflow\": 1,\n  \"findings\": ["));
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys.len(), 4);
    let findings = value["findings"].as_array().unwrap();
    let order: Vec<(&str, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("city.yaml", 12),
            ("city.yaml", 58),
            ("city.yaml", 80),
            ("my dir/city,1:a.yaml", 3)
        ]
    );
    assert_eq!(findings[0]["status"], "waived");
    assert_eq!(findings[0]["waiver"]["ticket"], "PRIV-1234");
    assert_eq!(findings[1]["path"][2], "sg-backup");
    assert_eq!(findings[1]["path_flows"][0], "cams-to-analytics");
    assert!(findings[2].get("path").is_none());
    assert_eq!(value["problems"][0]["kind"], "expired_waiver");
    assert_eq!(value["problems"][0]["location"]["line"], 3);
    assert_eq!(
        value["summary"],
        serde_json::json!({"error": 1, "warning": 1, "review": 1, "waived": 1, "baselined": 0})
    );
    // Manifest text survives exactly (JSON escapes the control characters).
    assert_eq!(findings[3]["subject"]["id"], SCRIPT);
    assert!(out.contains("\\u001b[31m"));
}

#[test]
fn json_of_an_empty_result_validates() {
    let out = report::render_json(&CheckResult::default()).unwrap();
    validate(
        "tests/fixtures/findings.schema.json",
        &serde_json::from_str(&out).unwrap(),
    );
}

#[test]
fn sarif_validates_and_carries_rules_flows_fingerprints_suppressions() {
    let ctx = RenderContext {
        tool_version: "0.1.0".into(),
        ..RenderContext::default()
    };
    let out = report::render(Format::Sarif, &fixture(), &ctx).unwrap();
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    validate("tests/fixtures/sarif-schema-2.1.0.json", &log);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "lexflow");
    assert_eq!(driver["version"], "0.1.0");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["CAC-FRT-6", "GDPR-44", "PIPL-13", "PIPL-39", "PIPL-55"]
    );
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "note");
    assert!(rules[3]["help"]["text"]
        .as_str()
        .unwrap()
        .contains("PIPL Art. 1"));

    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["lexflowFingerprint/v1"].is_string());
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    let pipl = by_rule("PIPL-39");
    assert_eq!(pipl["level"], "error");
    assert_eq!(
        pipl["locations"][0]["physicalLocation"]["region"]["startLine"],
        58
    );
    let steps = pipl["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["location"]["message"]["text"], "street-cameras");
    assert!(steps[2]["location"]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("analytics-to-backup"));
    assert!(by_rule("PIPL-13").get("codeFlows").is_none());
    assert_eq!(by_rule("PIPL-13")["level"], "note");
    assert_eq!(by_rule("CAC-FRT-6")["level"], "warning");
    assert_eq!(
        by_rule("CAC-FRT-6")["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20dir/city,1%3Aa.yaml"
    );
    let waived = by_rule("GDPR-44");
    assert_eq!(waived["suppressions"][0]["kind"], "external");
    assert_eq!(
        waived["suppressions"][0]["justification"],
        "SCCs signed, TIA pending"
    );
    assert!(pipl.get("suppressions").is_none());
    let notes = runs[0]["invocations"][0]["toolConfigurationNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["descriptor"]["id"], "expired_waiver");
}

#[test]
fn sarif_of_an_empty_result_validates() {
    let out = report::render(
        Format::Sarif,
        &CheckResult::default(),
        &RenderContext::default(),
    )
    .unwrap();
    validate(
        "tests/fixtures/sarif-schema-2.1.0.json",
        &serde_json::from_str(&out).unwrap(),
    );
}

/// (suite name, tests, failures, errors, skipped, [(case name, outcome)])
type Suite = (String, usize, usize, usize, usize, Vec<(String, String)>);

fn parse_junit(xml: &str) -> Vec<Suite> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suites: Vec<Suite> = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.attributes()
            .filter_map(|a| a.ok())
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => {
                    let n = |k: &str| attr(&e, k).parse().unwrap_or(0);
                    suites.push((
                        attr(&e, "name"),
                        n("tests"),
                        n("failures"),
                        n("errors"),
                        n("skipped"),
                        vec![],
                    ));
                }
                b"testcase" => {
                    let name = attr(&e, "name");
                    suites.last_mut().unwrap().5.push((name, "passed".into()));
                }
                b"failure" | b"skipped" | b"error" => {
                    let outcome = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    suites.last_mut().unwrap().5.last_mut().unwrap().1 = outcome;
                }
                _ => {}
            },
            Event::Text(t) => {
                assert!(!t.decode().unwrap().contains('\x1b'));
            }
            _ => {}
        }
    }
    suites
}

/// The JUnit report as quick-junit builds and serializes it, whole: the reference the
/// streamed writer must equal byte for byte (it writes with the same XML writer, quick-xml,
/// one test case at a time). Kept on purpose beside the writer it checks.
fn junit_by_quick_junit(result: &CheckResult) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    use std::collections::BTreeMap;
    type Fired<'a> = BTreeMap<(&'a str, &'a str), Vec<&'a Finding>>;
    let inert = |text: &str| lexflow::report::sanitize::inert(text).into_owned();
    let mut findings: Vec<&Finding> = result.findings.iter().collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut laws: BTreeMap<&str, BTreeMap<&str, Fired>> = BTreeMap::new();
    for rule in &result.rules_checked {
        laws.entry(&rule.law)
            .or_default()
            .entry(&rule.id)
            .or_default();
    }
    for f in findings {
        laws.entry(&f.law)
            .or_default()
            .entry(&f.rule)
            .or_default()
            .entry((f.subject.kind, &f.subject.id))
            .or_default()
            .push(f);
    }
    let mut report = Report::new("lexflow");
    for (law, rules) in &laws {
        let mut suite = TestSuite::new(inert(law));
        for (rule, fired) in rules {
            if fired.is_empty() {
                let mut case = TestCase::new(inert(rule), TestCaseStatus::success());
                case.set_classname(inert(law));
                suite.add_test_case(case);
                continue;
            }
            for ((kind, id), group) in fired {
                let open: Vec<&&Finding> =
                    group.iter().filter(|f| f.status == Status::Open).collect();
                let listed: Vec<&Finding> = if open.is_empty() {
                    group.clone()
                } else {
                    open.iter().map(|f| **f).collect()
                };
                let description = listed
                    .iter()
                    .map(|f| report::junit::describe(&f.view()))
                    .collect::<Vec<_>>()
                    .join("\n");
                let mut status = match open.first() {
                    Some(first) => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(inert(&first.message));
                        s.set_type(first.severity.as_str());
                        s
                    }
                    None => {
                        let mut s = TestCaseStatus::skipped();
                        let reason = group[0]
                            .waiver
                            .as_ref()
                            .map(|w| format!("waived: {}", inert(&w.justification)))
                            .unwrap_or_else(|| "waived".to_string());
                        s.set_message(reason);
                        s.set_type("waived");
                        s
                    }
                };
                status.set_description(description);
                let name = format!("{} {} {}", inert(rule), inert(kind), inert(id));
                let mut case = TestCase::new(name, status);
                case.set_classname(format!("{}.{}", inert(law), inert(rule)));
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    let mut problems = result.problems.clone();
    problems.sort_by(|a, b| {
        (&a.location, &a.kind, &a.message).cmp(&(&b.location, &b.kind, &b.message))
    });
    if !problems.is_empty() {
        let mut suite = TestSuite::new("lexflow.problems");
        for problem in &problems {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(inert(&problem.message));
            status.set_type(inert(&problem.kind));
            let name = match &problem.location {
                Some(l) => format!(
                    "{} {}:{}:{}",
                    inert(&problem.kind),
                    inert(&l.file),
                    l.line,
                    l.column
                ),
                None => inert(&problem.kind),
            };
            let mut case = TestCase::new(name, status);
            case.set_classname("lexflow.problems");
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap()
}

#[test]
fn junit_is_written_as_quick_junit_would_write_it() {
    let mut fixture = fixture();
    // Every case shape: a rule with two findings on one subject (one waived: the failure lists
    // the open one), a subject whose findings are all waived (skipped), a problem without a
    // place.
    let mut second = fixture.findings[1].clone();
    second.location.line += 1;
    second.status = Status::Waived;
    second.waiver = fixture.findings[3].waiver.clone();
    fixture.findings.push(second);
    fixture.problems.push(Problem {
        kind: format!("unused_waiver{ESC}"),
        message: format!("waiver {SCRIPT} & \"quoted\" matched nothing\nsecond line"),
        location: None,
    });
    fixture.recount();
    for result in [fixture, CheckResult::default()] {
        let xml = report::render(Format::Junit, &result, &RenderContext::default()).unwrap();
        assert_eq!(xml, junit_by_quick_junit(&result));
    }
}

#[test]
fn junit_has_a_suite_per_law_and_a_case_per_rule_and_subject() {
    let xml = report::render(Format::Junit, &fixture(), &RenderContext::default()).unwrap();
    assert!(xml.starts_with("<?xml"));
    let suites = parse_junit(&xml);
    let names: Vec<&str> = suites.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["CAC-FRT", "GDPR", "PIPL", "lexflow.problems"]);
    // CAC-FRT: one failing case.
    assert_eq!((suites[0].1, suites[0].2, suites[0].4), (1, 1, 0));
    assert_eq!(suites[0].5[0].1, "failure");
    assert!(
        suites[0].5[0].0.contains(SCRIPT),
        "names round-trip as text"
    );
    // GDPR: the waived finding is skipped, not failed.
    assert_eq!((suites[1].1, suites[1].2, suites[1].4), (1, 0, 1));
    // PIPL: PIPL-13 and PIPL-39 fired, PIPL-55 passed.
    assert_eq!((suites[2].1, suites[2].2), (3, 2));
    let outcomes: Vec<&str> = suites[2].5.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(outcomes, ["failure", "failure", "passed"]);
    assert_eq!(suites[2].5[2].0, "PIPL-55");
    // The problem is an error.
    assert_eq!((suites[3].1, suites[3].3), (1, 1));
}

#[test]
fn github_annotations_are_one_line_each_and_escaped() {
    let out = report::render(Format::Github, &fixture(), &RenderContext::default()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].starts_with("::notice file=city.yaml,line=12,col=3,title=[waived] GDPR-44"));
    assert!(lines[1].starts_with("::error file=city.yaml,line=58,col=5,title=PIPL-39"));
    assert!(lines[1].contains("street-cameras → face-analytics → sg-backup"));
    assert!(lines[2].starts_with("::notice file=city.yaml,line=80,col=7,"));
    assert!(lines[3].starts_with("::warning file=my dir/city%2C1%3Aa.yaml,line=3,col=1,"));
    // The forged newline and the literal %0A stay inside the one annotation.
    assert!(lines[3].contains("\\nerror[FAKE] forged line %250A ::error::x"));
    assert!(lines[4]
        .starts_with("::warning file=waivers.yaml,line=3,col=5,title=lexflow expired_waiver::"));
    assert!(lines[5].starts_with("lexflow: 1 error, 1 warning, 1 to review; 1 waived"));
    assert_eq!(
        lexflow::report::github::escape_property("a:b,c%\r\n"),
        "a%3Ab%2Cc%25%0D%0A"
    );
    assert_eq!(
        lexflow::report::github::escape_data("a:b,c%\r\n"),
        "a:b,c%25%0D%0A"
    );
}

#[test]
fn human_report_shows_findings_and_is_inert() {
    let result = fixture();
    let plain = report::render(Format::Human, &result, &RenderContext::default()).unwrap();
    assert!(!plain.contains('\x1b'));
    assert!(plain.contains("error[PIPL-39] PIPL-39 title\n  --> city.yaml:58:5\n"));
    assert!(plain.contains("path: street-cameras → face-analytics → sg-backup"));
    assert!(plain.contains("via flows cams-to-analytics, analytics-to-backup"));
    assert!(plain.contains("waived error[GDPR-44]"));
    assert!(plain.contains("waived until 2026-12-31 by dpo@city.example (PRIV-1234)"));
    assert!(plain.contains("cam\\u{1b}[31m-2"));
    assert!(plain.contains("problem[expired_waiver]"));
    // A newline in a message cannot start a fake finding at the start of a line.
    assert!(!plain.lines().any(|l| l.starts_with("error[FAKE]")));
    assert!(plain.ends_with(
        "FAIL: 1 error, 1 warning, 1 to review; 1 waived, 0 baselined (5 rules checked)\n"
    ));

    let colored = report::render(
        Format::Human,
        &result,
        &RenderContext {
            color: true,
            ..RenderContext::default()
        },
    )
    .unwrap();
    assert!(colored.contains("\x1b[1;31merror[PIPL-39]\x1b[0m"));
    // The name's escape sequence is still shown, not sent.
    assert!(colored.contains("cam\\u{1b}[31m-2"));
    assert!(!colored.contains("cam\x1b"));
}

#[test]
fn markdown_tables_stay_intact() {
    let out = report::render(Format::Markdown, &fixture(), &RenderContext::default()).unwrap();
    assert!(out.contains("**Verdict: FAIL**"));
    assert!(out.contains("### CAC-FRT — CAC-FRT law"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("dpo&#64;city.example"));
    // Every table row has the same number of unescaped cell separators as its header.
    let unescaped_pipes = |line: &str| {
        let bytes = line.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
            .count()
    };
    let mut header = 0;
    for line in out.lines() {
        if line.starts_with("| severity")
            || line.starts_with("| open errors")
            || line.starts_with("| kind")
        {
            header = unescaped_pipes(line);
        } else if line.starts_with('|') {
            assert_eq!(unescaped_pipes(line), header, "broken row: {line}");
        } else {
            header = 0;
        }
    }
}

#[test]
fn html_is_self_contained_and_escaped() {
    let out = report::render(Format::Html, &fixture(), &RenderContext::default()).unwrap();
    assert!(out.starts_with("<!DOCTYPE html>"));
    assert!(out.contains("FAIL"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!out.contains("<script"));
    assert!(!out.contains("src="));
    // Only in-page links (the diagram highlights); nothing that leaves the page.
    for (i, _) in out.match_indices("href=") {
        assert!(
            out[i..].starts_with("href=\"#"),
            "external link in the HTML report"
        );
    }
    assert!(out.contains("street-cameras → face-analytics → sg-backup"));
    let pass = report::render(
        Format::Html,
        &CheckResult::default(),
        &RenderContext::default(),
    )
    .unwrap();
    assert!(pass.contains("PASS"));
}
