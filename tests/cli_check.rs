//! `lexflow check` end to end, as a user runs it: exit codes, diagnostics, JSON contract.

use assert_cmd::Command;

fn lexflow() -> Command {
    Command::cargo_bin("lexflow").expect("binary built")
}

#[test]
fn examples_produce_cited_findings_and_exit_1() {
    let out = lexflow()
        .args([
            "check",
            "examples/",
            "--as-of",
            "2026-06-01",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("--> examples/"),
        "findings point at manifest lines:\n{stdout}"
    );
    assert!(
        stdout.contains("PIPL Art. "),
        "findings cite articles:\n{stdout}"
    );
    assert!(stdout.contains(" → "), "a path is shown:\n{stdout}");
}

#[test]
fn a_clean_manifest_exits_0() {
    let out = lexflow()
        .args([
            "check",
            "tests/data/cli/clean.yaml",
            "--as-of",
            "2026-06-01",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_broken_manifest_exits_2_with_the_line_shown() {
    let out = lexflow()
        .args(["check", "tests/data/cli/broken.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("colects"),
        "the offending text is shown:\n{stderr}"
    );
    assert!(
        stderr.contains("broken.yaml:11:5"),
        "file:line:column:\n{stderr}"
    );
    assert!(
        stderr.contains("did you mean `collects`"),
        "a hint:\n{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec![
            "check",
            "tests/data/cli/clean.yaml",
            "--as-of",
            "2026-02-30",
        ],
        vec!["check", "tests/data/cli/clean.yaml", "--format", "pdf"],
        vec!["check", "tests/data/cli/clean.yaml", "--fail-on", "fatal"],
        vec!["check", "tests/data/cli/clean.yaml", "--law", "gdrp"],
        vec!["check", "no/such/path.yaml"],
    ] {
        let out = lexflow().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn json_output_meets_the_schema_and_is_byte_identical_across_runs() {
    let run = || {
        lexflow()
            .args([
                "check",
                "examples/",
                "--format",
                "json",
                "--as-of",
                "2026-06-01",
            ])
            .output()
            .unwrap()
    };
    let first = run();
    let second = run();
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(first.stdout, second.stdout, "deterministic output");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/findings.schema.json").unwrap(),
    )
    .unwrap();
    let output: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&output)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let findings = output["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    // Sorted by file, line, column, rule id.
    let keys: Vec<(String, u64, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn several_formats_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("a.sarif");
    let json = dir.path().join("b.json");
    let out = lexflow()
        .args([
            "check",
            "examples/",
            "--as-of",
            "2026-06-01",
            "--format",
            "sarif",
            "--output",
        ])
        .arg(&sarif)
        .args(["--format", "json", "--output"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&sarif)
        .unwrap()
        .contains("\"version\": \"2.1.0\""));
    assert!(std::fs::read_to_string(&json)
        .unwrap()
        .contains("\"lexflow\": 1"));
}

#[test]
fn rules_lists_every_pack_with_citations() {
    let out = lexflow().arg("rules").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for law in ["PIPL", "CAC", "CSL", "DSL", "GDPR"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{law} — "))),
            "{law} listed:\n{stdout}"
        );
    }
    assert!(stdout.contains("PIPL Art. 39"));
}

#[test]
fn a_user_policy_adds_rules_and_no_bundled_leaves_the_packs_out() {
    let out = lexflow()
        .args([
            "check",
            "tests/data/manifests/longgang.yaml",
            "--as-of",
            "2026-06-01",
            "--no-bundled",
        ])
        .args([
            "--policy",
            "policies/taxonomy.policy",
            "--policy",
            "policies/vocabulary.policy",
        ])
        .args([
            "--policy",
            "policies/countries.policy",
            "--policy",
            "tests/data/policies/chain.policy",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["T-PATH"]);
}

#[test]
fn a_report_that_cannot_be_written_exits_2() {
    // /dev/full refuses every write: the run must say so, not exit as if reported.
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("SKIPPED: no /dev/full on this system");
        return;
    };
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lexflow"));
    let out = cmd
        .args([
            "check",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "examples/",
        ])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write the report"), "{stderr}");

    // Every other format (streamed, written as it is made, or held), the diagram and the
    // records are written the same way.
    for args in [
        &["check", "--format", "human", "examples/"][..],
        &["check", "--format", "github", "examples/"][..],
        &["check", "--format", "sarif", "examples/"][..],
        &["check", "--format", "markdown", "examples/"][..],
        &["check", "--format", "html", "examples/"][..],
        &["check", "--format", "junit", "examples/"][..],
        &["graph", "examples/"][..],
        &["ropa", "--as-of", "2026-06-01", "examples/"][..],
    ] {
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("lexflow"))
            .args(args)
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot write the report"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn timings_go_to_stderr_and_leave_the_report_unchanged() {
    let plain = lexflow()
        .args([
            "check",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "examples/",
        ])
        .output()
        .expect("runs");
    let timed = lexflow()
        .args([
            "check",
            "--timings",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "examples/",
        ])
        .output()
        .expect("runs");
    assert_eq!(plain.stdout, timed.stdout);
    let stderr = String::from_utf8_lossy(&timed.stderr);
    for stage in [
        "compile rules",
        "load manifests",
        "evaluate rules",
        "report Json",
        "total",
    ] {
        assert!(stderr.contains(stage), "{stage} missing from {stderr}");
    }
    if cfg!(target_os = "linux") {
        assert!(stderr.contains("peak memory"), "{stderr}");
    }
}
