//! The bundled policy files compile together, with no errors and no warnings.

use lexflow::lang::{load_program, PolicySelection};

fn render(report: &miette::Report) -> String {
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{report:?}");
    }
    out
}

#[test]
fn bundled_policies_compile_without_errors_or_warnings() {
    let program = match load_program(&PolicySelection {
        bundled: true,
        paths: vec![],
    }) {
        Ok(p) => p,
        Err(errors) => {
            let reports = errors.reports();
            for r in &reports {
                eprintln!("{}", render(r));
            }
            panic!("{} error(s) in the bundled policy files", reports.len());
        }
    };
    let mut warned = 0;
    for w in &program.warnings {
        eprintln!("{}", render(&w.to_report(&program.sources)));
        warned += 1;
    }
    assert_eq!(warned, 0, "the bundled policy files compile with warnings");
    let laws: Vec<&str> = program.laws.iter().map(|l| l.name.as_str()).collect();
    eprintln!("laws: {laws:?}");
    let rules: usize = program.laws.iter().map(|l| l.rules.len()).sum();
    eprintln!("rules: {rules}");
}

#[test]
fn every_rule_has_fixtures() {
    let program = load_program(&PolicySelection {
        bundled: true,
        paths: vec![],
    })
    .expect("bundled policies compile");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/tests");
    let mut missing = Vec::new();
    for law in &program.laws {
        for rule in &law.rules {
            for file in ["fires.yaml", "quiet.yaml"] {
                if !root.join(&rule.id).join(file).is_file() {
                    missing.push(format!("{}/{file}", rule.id));
                }
            }
        }
    }
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}

fn lexflow() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lexflow"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn rule_fixtures_pass() {
    let out = lexflow().args(["test"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "lexflow test failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn clean_manifest_has_no_errors() {
    let out = lexflow()
        .args(["check", "tests/data/clean.yaml", "--as-of", "2026-06-01"])
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
fn every_example_has_errors() {
    for example in [
        "examples/longgang-video",
        "examples/eu-city-wifi",
        "examples/vendor-proposal",
        "examples",
    ] {
        let out = lexflow()
            .args(["check", example, "--as-of", "2026-06-01"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
