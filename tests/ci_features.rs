//! CI features end to end, as a pipeline runs them: SARIF validated against the official
//! schema, JUnit parsed back, GitHub annotations, the baseline round trip across a
//! reformatted manifest, and governed waivers (expired, orphan, refused without expiry).
//!
//! The rules come from a small test pack (`tests/data/ci/test.policy`) beside the bundled
//! vocabulary, taxonomy and countries, so these tests do not move when the law packs do. On
//! `tests/data/manifests/longgang.yaml` (as of 2026-06-01) it gives four findings:
//!
//! | rule      | severity | subject                    | line |
//! |-----------|----------|----------------------------|------|
//! | CITEST-2  | warning  | system street-cameras      | 19   |
//! | CITEST-4  | review   | system sg-backup           | 41   |
//! | CITEST-1  | error    | flow analytics-to-backup   | 54   |
//! | CITEST-5  | error    | flow analytics-to-backup   | 54   | (a path: codeFlows)
//!
//! and CITEST-3 (flows encrypted) is checked and passes.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

const MANIFEST: &str = "tests/data/manifests/longgang.yaml";
const REFORMATTED: &str = "tests/data/ci/longgang-reformatted.yaml";
const AS_OF: &str = "2026-06-01";
const POLICIES: &[&str] = &[
    "--no-bundled",
    "--policy",
    "policies/taxonomy.policy",
    "--policy",
    "policies/vocabulary.policy",
    "--policy",
    "policies/countries.policy",
    "--policy",
    "tests/data/ci/test.policy",
];

fn lexflow() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_lexflow"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `lexflow check MANIFEST --as-of AS_OF <test policies> ARGS`.
fn check(manifest: impl AsRef<Path>, args: &[&str]) -> Output {
    lexflow()
        .arg("check")
        .arg(manifest.as_ref())
        .args(["--as-of", AS_OF, "--color", "never"])
        .args(POLICIES)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", stdout(out), stderr(out)))
}

fn read_json(path: impl AsRef<Path>) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validate_sarif(log: &Value) {
    let schema = read_json(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json"),
    );
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
}

/// The findings of a JSON report as `(rule, subject id, status)`.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"]["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// SARIF

#[test]
fn sarif_validates_against_the_official_schema() {
    let out = check(MANIFEST, &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = json_of(&out);
    validate_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in ["CITEST-1", "CITEST-2", "CITEST-4", "CITEST-5"] {
        assert!(rules.contains(&id), "{id} in {rules:?}");
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{results:#?}");
    let by_rule = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap_or_else(|| panic!("a result for {id}"))
    };
    let export = by_rule("CITEST-1");
    assert_eq!(export["level"], "error");
    let physical = &export["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], MANIFEST);
    assert_eq!(physical["region"]["startLine"], 54);
    assert_eq!(physical["region"]["startColumn"], 5);
    assert!(export["partialFingerprints"].is_object());
    assert_eq!(by_rule("CITEST-2")["level"], "warning");
    assert_eq!(by_rule("CITEST-4")["level"], "note");
    // The path rule carries its witness path as a code flow.
    let path = by_rule("CITEST-5");
    let steps = path["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("a code flow");
    assert!(steps.len() >= 2, "{steps:#?}");
}

#[test]
fn sarif_of_every_example_validates() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    if !examples.is_dir() {
        eprintln!("note: no examples/ folder in this checkout; SARIF of the examples not checked");
        return;
    }
    let out = lexflow()
        .args(["check", "examples/", "--as-of", AS_OF, "--format", "sarif"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    validate_sarif(&json_of(&out));
}

// ---------------------------------------------------------------------------------------
// JUnit, GitHub, several outputs

#[derive(Debug, Default)]
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    cases: Vec<(String, bool)>,
}

/// The suites of a JUnit report: attributes and testcases (name, failed), read with an XML
/// parser.
fn junit_suites(xml: &str) -> (usize, usize, Vec<Suite>) {
    use quick_xml::events::{BytesStart, Event};
    let attr = |e: &BytesStart, name: &str| -> String {
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
    let number = |text: String| -> usize { text.parse().unwrap_or(0) };
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut total_tests, mut total_failures) = (0, 0);
    let mut suites: Vec<Suite> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuites" => {
                    total_tests = number(attr(&e, "tests"));
                    total_failures = number(attr(&e, "failures"));
                }
                b"testsuite" => suites.push(Suite {
                    name: attr(&e, "name"),
                    tests: number(attr(&e, "tests")),
                    failures: number(attr(&e, "failures")),
                    cases: Vec::new(),
                }),
                b"testcase" => {
                    let name = attr(&e, "name");
                    suites.last_mut().unwrap().cases.push((name, false));
                }
                b"failure" => {
                    let suite = suites.last_mut().unwrap();
                    suite.cases.last_mut().unwrap().1 = true;
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (total_tests, total_failures, suites)
}

#[test]
fn junit_parses_back_with_the_right_counts() {
    let out = check(MANIFEST, &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (tests, failures, suites) = junit_suites(&stdout(&out));
    assert_eq!(suites.len(), 1, "one suite per law: {suites:#?}");
    let suite = &suites[0];
    assert_eq!(suite.name, "CITEST");
    // Four findings fail; CITEST-3 was checked and passes.
    assert_eq!((tests, failures), (5, 4));
    assert_eq!((suite.tests, suite.failures), (5, 4));
    assert_eq!(suite.cases.len(), suite.tests);
    assert_eq!(
        suite.cases.iter().filter(|(_, failed)| *failed).count(),
        suite.failures
    );
    let passing: Vec<&str> = suite
        .cases
        .iter()
        .filter(|(_, failed)| !failed)
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(passing, ["CITEST-3"]);
    assert!(suite.cases.iter().any(|(name, failed)| *failed
        && name.contains("CITEST-1")
        && name.contains("analytics-to-backup")));
}

#[test]
fn github_annotations_point_at_manifest_lines() {
    let out = check(MANIFEST, &["--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let commands: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 4, "one workflow command a finding:\n{text}");
    let expect = [
        "::warning file=tests/data/manifests/longgang.yaml,line=19,col=5,title=CITEST-2 ",
        "::notice file=tests/data/manifests/longgang.yaml,line=41,col=5,title=CITEST-4 ",
        "::error file=tests/data/manifests/longgang.yaml,line=54,col=5,title=CITEST-1 ",
        "::error file=tests/data/manifests/longgang.yaml,line=54,col=5,title=CITEST-5 ",
    ];
    for prefix in expect {
        assert!(
            commands.iter().any(|c| c.starts_with(prefix)),
            "{prefix}… in:\n{text}"
        );
    }
    for command in &commands {
        // `file=…,line=…,col=…,title=…::message`: one line, the message after `::`.
        let (properties, message) = command[2..].split_once("::").expect("a message");
        assert!(properties.contains(",title=CITEST-"), "{command}");
        assert!(!message.is_empty(), "{command}");
    }
    assert!(text.contains("%0A"), "multi-line messages are encoded");
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("lexflow.sarif");
    let junit = dir.path().join("lexflow.xml");
    let out = lexflow()
        .arg("check")
        .arg(MANIFEST)
        .args(["--as-of", AS_OF])
        .args(POLICIES)
        .args(["--format", "sarif", "--output"])
        .arg(&sarif)
        .args(["--format", "junit", "--output"])
        .arg(&junit)
        .args(["--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    validate_sarif(&read_json(&sarif));
    let (tests, failures, _) = junit_suites(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!((tests, failures), (5, 4));
    assert!(
        stdout(&out).starts_with("::"),
        "the third format goes to stdout"
    );
}

// ---------------------------------------------------------------------------------------
// Baselines

#[test]
fn baseline_round_trip_survives_reformatting() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let written = lexflow()
        .arg("check")
        .arg(MANIFEST)
        .args(["--as-of", AS_OF, "--format", "json", "--write-baseline"])
        .arg(&baseline)
        .args(POLICIES)
        .output()
        .unwrap();
    assert_eq!(written.status.code(), Some(1), "exits as check would");
    assert_eq!(findings(&json_of(&written)).len(), 4);
    let recorded = std::fs::read_to_string(&baseline).unwrap();
    assert!(
        !recorded.contains("\"line\""),
        "no line numbers:\n{recorded}"
    );

    // The reformatted manifest has the same findings at other lines...
    let plain = check(REFORMATTED, &["--format", "json"]);
    let plain = json_of(&plain);
    assert_eq!(findings(&plain).len(), 4);
    let line_of = |report: &Value, rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["location"]["line"].clone())
    };
    assert_ne!(
        line_of(&plain, "CITEST-2"),
        line_of(&json_of(&written), "CITEST-2"),
        "the reformatting moves the findings"
    );

    // ... none of them new against the baseline.
    let out = check(
        REFORMATTED,
        &["--format", "json", "--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report = json_of(&out);
    assert_eq!(findings(&report), Vec::<(String, String, String)>::new());
    assert_eq!(report["summary"]["baselined"], 4);
    assert_eq!(report["summary"]["error"], 0);

    // The JSON spelling of the same manifest is no different.
    let out = check(
        "tests/data/manifests/longgang.json",
        &["--format", "json", "--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(json_of(&out)["summary"]["baselined"], 4);
}

#[test]
fn a_baseline_reports_only_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let out = check(
        MANIFEST,
        &[
            "--format",
            "json",
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // A new kiosk that keeps data 60 days: one new warning.
    let text = std::fs::read_to_string(MANIFEST).unwrap().replacen(
        "flows:",
        "  - id: kiosk\n    kind: kiosk\n    operator: longgang-psb\n    location: CN\n    retention_days: 60\nflows:",
        1,
    );
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, text).unwrap();
    let out = check(
        &changed,
        &["--format", "json", "--baseline", baseline.to_str().unwrap()],
    );
    let report = json_of(&out);
    assert_eq!(
        findings(&report),
        [(
            "CITEST-2".to_string(),
            "kiosk".to_string(),
            "open".to_string()
        )]
    );
    assert_eq!(report["summary"]["baselined"], 4);
    assert_eq!(report["summary"]["warning"], 1);
    // A warning does not fail the build by default; with --fail-on warning it does.
    assert_eq!(out.status.code(), Some(0));
    let out = check(
        &changed,
        &[
            "--baseline",
            baseline.to_str().unwrap(),
            "--fail-on",
            "warning",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------
// Waivers

fn waivers_file(dir: &Path, text: &str) -> String {
    let path = dir.join("waivers.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

// (Not a `\` continuation: it would strip the first line's indentation.)
const IN_FORCE: &str = concat!(
    "  - rule: CITEST-1\n",
    "    subject: analytics-to-backup\n",
    "    justification: CAC security assessment filed 2026-04-02, decision pending\n",
    "    approver: dpo@longgang.example\n",
    "    ticket: PRIV-101\n",
    "    expires: 2026-12-31\n",
);

#[test]
fn a_waiver_in_force_waives_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = waivers_file(dir.path(), &format!("waivers:\n{IN_FORCE}"));
    let out = check(MANIFEST, &["--format", "json", "--waivers", &waivers]);
    let report = json_of(&out);
    let waived = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "CITEST-1")
        .unwrap();
    assert_eq!(waived["status"], "waived", "reported as waived, not hidden");
    assert_eq!(waived["waiver"]["ticket"], "PRIV-101");
    assert_eq!(waived["waiver"]["expires"], "2026-12-31");
    assert!(waived["waiver"]["justification"]
        .as_str()
        .unwrap()
        .contains("decision pending"));
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["error"], 1, "CITEST-5 stays open");
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn an_expired_waiver_fires() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = waivers_file(
        dir.path(),
        &format!(
            "waivers:\n{IN_FORCE}  - rule: CITEST-2\n    subject: street-cameras\n    justification: retention review with the bureau\n    approver: dpo@longgang.example\n    ticket: PRIV-102\n    expires: 2026-05-31\n"
        ),
    );
    let out = check(MANIFEST, &["--format", "json", "--waivers", &waivers]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert!(findings(&report).contains(&(
        "CITEST-2".to_string(),
        "street-cameras".to_string(),
        "open".to_string()
    )));
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["kind"], "expired_waiver");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("PRIV-102"));
    assert!(problems[0]["location"]["file"]
        .as_str()
        .unwrap()
        .ends_with("waivers.yaml"));
    assert_eq!(problems[0]["location"]["line"], 8);
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["warning"], 1, "the warning is open again");

    // The day of expiry is still covered.
    let out = lexflow()
        .arg("check")
        .arg(MANIFEST)
        .args([
            "--as-of",
            "2026-05-31",
            "--format",
            "json",
            "--waivers",
            &waivers,
        ])
        .args(POLICIES)
        .output()
        .unwrap();
    let report = json_of(&out);
    assert_eq!(report["summary"]["waived"], 2);
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn an_orphan_waiver_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = waivers_file(
        dir.path(),
        &format!(
            "waivers:\n{IN_FORCE}  - rule: CITEST-*\n    subject: decommissioned-gate\n    justification: gate removed in 2025\n    approver: dpo@longgang.example\n    ticket: PRIV-103\n    expires: 2026-12-31\n"
        ),
    );
    let out = check(MANIFEST, &["--format", "json", "--waivers", &waivers]);
    let report = json_of(&out);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["kind"], "unused_waiver");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("decommissioned-gate"));
    assert_eq!(problems[0]["location"]["line"], 8);
    // The orphan is shown to a person too, and a SARIF run with it still validates.
    let human = check(MANIFEST, &["--waivers", &waivers]);
    assert!(
        stdout(&human).contains("decommissioned-gate"),
        "{}",
        stdout(&human)
    );
    let sarif = check(MANIFEST, &["--format", "sarif", "--waivers", &waivers]);
    validate_sarif(&json_of(&sarif));
}

#[test]
fn a_waiver_without_expiry_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = waivers_file(
        dir.path(),
        &format!(
            "waivers:\n{IN_FORCE}  - rule: CITEST-2\n    subject: street-cameras\n    justification: forever\n    approver: dpo@longgang.example\n    ticket: PRIV-104\n"
        ),
    );
    let out = check(MANIFEST, &["--format", "json", "--waivers", &waivers]);
    assert_eq!(out.status.code(), Some(2), "a load error");
    assert!(out.stdout.is_empty(), "no report on a bad waivers file");
    let err = stderr(&out);
    assert!(err.contains("expires"), "names the missing field:\n{err}");
    assert!(
        err.contains("waivers.yaml:8:5"),
        "points at the waiver:\n{err}"
    );

    // Nor without justification.
    let waivers = waivers_file(
        dir.path(),
        "waivers:\n  - rule: CITEST-2\n    subject: street-cameras\n    approver: dpo@longgang.example\n    ticket: PRIV-105\n    expires: 2026-12-31\n",
    );
    let out = check(MANIFEST, &["--waivers", &waivers]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("justification"), "{err}");
    assert!(err.contains("waivers.yaml:2:5"), "{err}");
}
