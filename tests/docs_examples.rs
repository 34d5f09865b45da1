//! The examples of the documentation are real: every ```lexflow block of
//! docs/writing-rules.md compiles (with the bundled vocabulary) without errors or warnings,
//! the guide's rule test (its ```yaml blocks) passes under `lexflow test`, and every grammar
//! line quoted in docs/language.md is in grammar/lexflow.pest.

use std::path::Path;
use std::process::Command;

use lexflow::lang::compile_texts;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of a Markdown text in one language: (line of the fence, text).
fn blocks(markdown: &str, language: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        if current.is_some() && trimmed.starts_with("```") {
            out.extend(current.take());
            continue;
        }
        match &mut current {
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {
                if trimmed
                    .strip_prefix("```")
                    .is_some_and(|rest| rest.trim() == language)
                {
                    current = Some((n + 1, String::new()));
                }
            }
        }
    }
    assert!(current.is_none(), "unclosed ``` block");
    out
}

#[test]
fn every_example_of_the_guide_compiles_without_warnings() {
    let guide = read("docs/writing-rules.md");
    let examples = blocks(&guide, "lexflow");
    assert!(
        examples.len() >= 10,
        "the guide has {} lexflow examples",
        examples.len()
    );
    for (line, text) in &examples {
        assert!(
            text.contains("law "),
            "writing-rules.md:{line}: each example is a complete law"
        );
        let name = format!("writing-rules.md:{line}");
        match compile_texts(&[(name.as_str(), text.as_str())], true) {
            Ok(program) => {
                let warnings: Vec<String> = program
                    .warnings
                    .iter()
                    .filter(|w| program.sources.name(w.span.file) == name)
                    .map(|w| format!("{}: {}", w.title, w.label))
                    .collect();
                assert!(warnings.is_empty(), "{name}: {warnings:?}\n{text}");
            }
            Err(errors) => {
                let shown: Vec<String> = errors
                    .errors
                    .iter()
                    .map(|e| {
                        let (l, c) = e.line_col(&errors.sources);
                        format!(
                            "{}:{l}:{c}: {}: {} ({:?})",
                            errors.sources.name(e.span.file),
                            e.title,
                            e.label,
                            e.help
                        )
                    })
                    .collect();
                panic!("{name} does not compile:\n{}\n{text}", shown.join("\n"));
            }
        }
    }
}

#[test]
fn the_examples_are_formatted() {
    // What a lawyer copies from the guide is already in `lexflow fmt` layout.
    for (line, text) in blocks(&read("docs/writing-rules.md"), "lexflow") {
        let formatted = lexflow::lang::fmt::format_source(&text).unwrap();
        assert_eq!(
            formatted, text,
            "writing-rules.md:{line} is not in the canonical layout"
        );
    }
}

#[test]
fn the_guides_rule_test_passes_under_lexflow_test() {
    let guide = read("docs/writing-rules.md");
    let first = &blocks(&guide, "lexflow")[0].1;
    assert!(first.contains("rule CITY-1"), "the first example is CITY-1");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("city.policy"), first).unwrap();
    let mut written = 0;
    for (line, text) in blocks(&guide, "yaml") {
        let header = text.lines().next().unwrap_or("");
        let Some(path) = header.strip_prefix("# ").and_then(|h| h.split(':').next()) else {
            panic!("writing-rules.md:{line}: a yaml example starts with `# tests/RULE/file.yaml`");
        };
        let target = dir.path().join(path.trim());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &text).unwrap();
        written += 1;
    }
    assert_eq!(written, 3, "fires.yaml, quiet.yaml and expect.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_lexflow"))
        .arg("test")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");

    // `lexflow explain` shows the rule with the example beside the user's rule file.
    let out = Command::new(env!("CARGO_BIN_EXE_lexflow"))
        .args(["explain", "CITY-1", "--policy"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for wanted in [
        "CITY-1 — Camera in a public place without signs",
        "CITY Art. 1",
        "from 2025-01-01",
        "Remedy:",
        "A manifest it fires on",
        "square-cam",
    ] {
        assert!(stdout.contains(wanted), "{wanted} missing:\n{stdout}");
    }
}

#[test]
fn the_reference_quotes_the_grammar_as_it_is() {
    let reference = read("docs/language.md");
    let grammar = read("grammar/lexflow.pest");
    let grammar_lines: Vec<&str> = grammar.lines().map(str::trim).collect();
    let quoted = blocks(&reference, "pest");
    assert!(
        quoted.len() >= 12,
        "language.md quotes {} grammar blocks",
        quoted.len()
    );
    let mut rules_quoted = std::collections::BTreeSet::new();
    for (line, text) in quoted {
        for quoted_line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                grammar_lines.contains(&quoted_line),
                "language.md:{line}: `{quoted_line}` is not in grammar/lexflow.pest"
            );
            if let Some((name, _)) = quoted_line.split_once('=') {
                rules_quoted.insert(name.trim().to_string());
            }
        }
    }
    // Every statement of the language is documented with its grammar.
    for rule in [
        "import",
        "taxonomy",
        "countries",
        "group",
        "vocabulary",
        "define",
        "law",
        "rule",
        "cite",
        "severity",
        "require",
        "unless",
        "query",
        "path_binding",
        "let_clause",
        "where_clause",
        "in_test",
        "has_test",
        "is_test",
        "leaves_test",
        "active_test",
        "count",
        "sum",
        "exists",
        "no_exists",
        "duration",
        "date",
    ] {
        assert!(
            rules_quoted.contains(rule),
            "language.md does not quote the grammar of `{rule}`"
        );
    }
}
