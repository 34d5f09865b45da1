//! `lexflow test`: the rule tests that live beside rule files. For each rule id a folder
//! `tests/RULE-ID/` holds `fires*.yaml` manifests the rule must fire on, `quiet*.yaml`
//! manifests it must stay quiet on, and an optional `expect.yaml`
//! (`as_of: YYYY-MM-DD`, `fires_on: [subject ids]`). A rule without a firing test fails.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::InputError;
use crate::date::Date;
use crate::engine::{self, CheckOptions};
use crate::lang::{self, PolicySelection, Program};
use crate::manifest;

/// The as-of date rule tests use unless `expect.yaml` says otherwise.
pub const DEFAULT_TEST_DATE: &str = "2026-06-01";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    as_of: Option<String>,
    #[serde(default)]
    fires_on: Vec<String>,
}

/// The firing example of a bundled rule, for `lexflow explain`.
pub fn example_for(rule: &str) -> Option<(String, String)> {
    lang::bundled_examples()
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(rule))
        .map(|(id, text)| (format!("policies/tests/{id}/fires.yaml"), text.to_string()))
}

/// One test case's outcome.
pub struct CaseResult {
    pub rule: String,
    pub file: String,
    pub passed: bool,
    pub detail: String,
}

/// Runs every rule test under `dir/tests` against the rules in `dir` (plus the bundled
/// vocabulary); returns the results and the rules of `dir` that no test fires.
pub fn run_dir(dir: &Path) -> Result<(Vec<CaseResult>, Vec<String>), InputError> {
    let selection = PolicySelection {
        bundled: true,
        paths: vec![dir.to_path_buf()],
    };
    let program = match lang::load_program(&selection) {
        Ok(p) => p,
        Err(errors) => {
            for report in errors.reports() {
                eprintln!("{report:?}");
            }
            return Err(InputError);
        }
    };
    let tests_dir = dir.join("tests");
    let mut rule_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&tests_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    rule_dirs.sort();
    let mut results = Vec::new();
    let mut fired: BTreeSet<String> = BTreeSet::new();
    for rule_dir in rule_dirs {
        let rule_id = rule_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if program.find_rule(&rule_id).is_none() {
            results.push(CaseResult {
                rule: rule_id.clone(),
                file: rule_dir.display().to_string(),
                passed: false,
                detail: "no rule with this id is loaded".into(),
            });
            continue;
        }
        let expect: Expect = match std::fs::read_to_string(rule_dir.join("expect.yaml")) {
            Ok(text) => match serde_saphyr::from_str(&text) {
                Ok(e) => e,
                Err(e) => {
                    results.push(CaseResult {
                        rule: rule_id.clone(),
                        file: rule_dir.join("expect.yaml").display().to_string(),
                        passed: false,
                        detail: format!("bad expect.yaml: {e}"),
                    });
                    continue;
                }
            },
            Err(_) => Expect::default(),
        };
        let as_of_text = expect
            .as_of
            .clone()
            .unwrap_or_else(|| DEFAULT_TEST_DATE.to_string());
        let Some(as_of) = Date::parse(&as_of_text) else {
            results.push(CaseResult {
                rule: rule_id.clone(),
                file: rule_dir.display().to_string(),
                passed: false,
                detail: format!("bad as_of `{as_of_text}`"),
            });
            continue;
        };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&rule_dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fires = name.starts_with("fires");
            if !(fires || name.starts_with("quiet"))
                || !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
            {
                continue;
            }
            let case = run_case(&program, &rule_id, &file, fires, as_of, &expect.fires_on);
            if case.passed && fires {
                fired.insert(rule_id.clone());
            }
            results.push(case);
        }
    }
    let dir_text = dir.display().to_string();
    let untested: Vec<String> = program
        .rules()
        .filter(|(_, r)| program.sources.name(r.span.file).starts_with(&dir_text))
        .filter(|(_, r)| !fired.contains(&r.id))
        .map(|(_, r)| r.id.clone())
        .collect();
    Ok((results, untested))
}

fn run_case(
    program: &Program,
    rule: &str,
    file: &Path,
    fires: bool,
    as_of: Date,
    fires_on: &[String],
) -> CaseResult {
    let display = file.display().to_string();
    let fail = |detail: String| CaseResult {
        rule: rule.to_string(),
        file: display.clone(),
        passed: false,
        detail,
    };
    let (set, _) = match manifest::load_paths(&[file.to_path_buf()], &program.vocab) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let first = errors
                .iter()
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return fail(format!("manifest does not load: {first}"));
        }
    };
    // Rule tests exercise every pack, including those off by default.
    let options = CheckOptions {
        as_of,
        laws: Some(program.laws.iter().map(|l| l.name.clone()).collect()),
    };
    let result = engine::check(program, &set, &options);
    let subjects: BTreeSet<&str> = result
        .findings
        .iter()
        .filter(|f| *f.rule == *rule)
        .map(|f| f.subject.id.as_str())
        .collect();
    if fires {
        if subjects.is_empty() {
            return fail(format!("{rule} did not fire (as of {as_of})"));
        }
        let absent: Vec<&String> = fires_on
            .iter()
            .filter(|s| !subjects.contains(s.as_str()))
            .collect();
        if !absent.is_empty() {
            return fail(format!(
                "{rule} fired on {subjects:?} but not on {absent:?}"
            ));
        }
    } else if !subjects.is_empty() {
        return fail(format!(
            "{rule} fired on {subjects:?} but must stay quiet (as of {as_of})"
        ));
    }
    CaseResult {
        rule: rule.to_string(),
        file: display,
        passed: true,
        detail: String::new(),
    }
}

pub fn run_tests(dir: &Path) -> Result<i32, InputError> {
    let (results, untested) = run_dir(dir)?;
    let mut failed = 0usize;
    for case in &results {
        if case.passed {
            println!("ok   {:<24} {}", case.rule, case.file);
        } else {
            failed = failed.saturating_add(1);
            println!("FAIL {:<24} {}: {}", case.rule, case.file, case.detail);
        }
    }
    for rule in &untested {
        failed = failed.saturating_add(1);
        println!(
            "FAIL {rule:<24} no test fires this rule (add {}/tests/{rule}/fires.yaml)",
            dir.display()
        );
    }
    println!(
        "{} passed, {failed} failed",
        results.iter().filter(|c| c.passed).count()
    );
    Ok(if failed == 0 { 0 } else { 1 })
}
