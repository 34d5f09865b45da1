//! The seeded generator's manifests load with the real loader, as one file or several, as
//! YAML or JSON, and lexflow finds exactly the violations the generator planted.

#[path = "../benches/rego/harness.rs"]
mod harness;

use std::collections::BTreeMap;

use lexflow::gen::Format;

fn counts(violations: &harness::Violations) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (rule, _) in violations {
        *counts.entry(rule.clone()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn generated_city_loads_and_planted_violations_are_found() {
    let program = harness::subset_program();
    let mut seen = None;
    for (files, format) in [
        (1, Format::Yaml),
        (3, Format::Yaml),
        (1, Format::Json),
        (4, Format::Json),
    ] {
        let (generated, set) = harness::city(1000, 42, files, format, &program);
        assert_eq!(set.flows.len(), 1000);
        assert_eq!(set.manifests.len(), files);
        let found = harness::lexflow_violations(&program, &set);
        let expected: BTreeMap<String, usize> = generated
            .expected
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(
            counts(&found),
            expected.into_iter().filter(|(_, v)| *v > 0).collect(),
            "{files} file(s), {format:?}"
        );
        // The same city whatever the syntax and split.
        match &seen {
            None => seen = Some(found),
            Some(first) => assert_eq!(first, &found),
        }
    }
}

#[test]
fn gen_subcommand_writes_loadable_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = assert_cmd::Command::cargo_bin("lexflow")
        .expect("binary")
        .args([
            "gen", "--flows", "200", "--seed", "3", "--files", "2", "--format", "json", "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["files"], 2);
    let check = assert_cmd::Command::cargo_bin("lexflow")
        .expect("binary")
        .arg("check")
        .arg(dir.path())
        .arg("--policy")
        .arg(harness::subset_policy_path())
        .args([
            "--law",
            "SUB-PIPL,SUB-GDPR",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(
        check.status.code() == Some(0) || check.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON report");
    let total: u64 = summary["expected"]
        .as_object()
        .expect("counts")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    assert_eq!(
        report["findings"].as_array().map(|f| f.len() as u64),
        Some(total)
    );
}
