//! Static checks a lawyer can act on: conditions that can never be true, type mismatches in
//! plain words, unknown names with "did you mean", unused definitions, duplicate rule ids.

use lexflow::lang::compile_texts;
use lexflow::lang::diag::{LangError, Level};

/// A law with one rule whose `for each flow f` clauses are `clauses`.
fn rule(clauses: &str) -> String {
    format!("law DEMO \"Demo\" {{\n  rule DEMO-1 \"Demo rule\" {{\n    cite \"Art. 1\"\n    for each flow f\n{clauses}\n  }}\n}}\n")
}

fn warnings(text: &str) -> Vec<LangError> {
    match compile_texts(&[("demo.policy", text)], true) {
        Ok(program) => program
            .warnings
            .into_iter()
            .filter(|w| w.level == Level::Warning)
            .collect(),
        Err(e) => panic!("does not compile: {:#?}", e.errors),
    }
}

fn errors(text: &str) -> Vec<LangError> {
    match compile_texts(&[("demo.policy", text)], true) {
        Ok(_) => panic!("compiles:\n{text}"),
        Err(e) => e.errors,
    }
}

fn never_true(text: &str) -> LangError {
    let found: Vec<LangError> = warnings(text)
        .into_iter()
        .filter(|w| w.title == "condition can never be true")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}\n{text}");
    found.into_iter().next().unwrap()
}

fn quoted(text: &str, e: &LangError) -> String {
    text[e.span.start as usize..e.span.end as usize].to_string()
}

#[test]
fn two_different_values_for_one_fact_can_never_hold() {
    let text = rule("      where f.consent = separate and f.consent = written");
    let w = never_true(&text);
    assert_eq!(quoted(&text, &w), "f.consent = written");
    assert!(
        w.label.contains("contradicts `f.consent = separate`"),
        "{}",
        w.label
    );
    let (related, _) = *w.related.clone().expect("points at the other half");
    assert_eq!(
        &text[related.start as usize..related.end as usize],
        "f.consent = separate"
    );
    assert!(w.help.as_deref().unwrap_or("").contains("`or`"));
}

#[test]
fn contradictions_across_where_clauses_and_lists_and_bounds() {
    never_true(&rule(
        "      where f.individuals > 1000\n      where f.individuals < 10",
    ));
    never_true(&rule(
        "      where f.consent in [separate, written] and f.consent = none",
    ));
    never_true(&rule(
        "      where f.consent = separate and f.consent != separate",
    ));
    never_true(&rule(
        "      where f.consent = separate and f.consent not in [separate, written]",
    ));
    never_true(&rule("      where f.individuals > 5 and f.individuals < 6"));
    never_true(&rule(
        "      where f.start > 2024-01-01 and f.start < 2023-01-01",
    ));
    never_true(&rule(
        "      where f.encrypted is true and f.encrypted is false",
    ));
    never_true(&rule(
        "      where f.legal_basis is missing and f.legal_basis = consent",
    ));
    never_true(&rule("      where f leaves CN and f enters CN"));
    never_true(&rule(
        "      where f.to.location in EEA and f.to.location not in EEA",
    ));
    never_true(&rule(
        "      where f.to.location = CN and f.to.location = DE",
    ));
    // In a `require` too, and inside an aggregate's filter.
    never_true(&rule(
        "    require f.consent = separate and f.consent = written",
    ));
    never_true(&rule(
        "      where count flows g where g.consent = written and g.consent = none >= 1",
    ));
}

#[test]
fn conditions_that_can_hold_are_not_warned_about() {
    for clauses in [
        "      where f.consent = separate or f.consent = written",
        "      where f.consent != none and f.consent = separate",
        "      where f.consent in [separate, written] and f.consent = written",
        "      where f.individuals >= 10 and f.individuals <= 10",
        "      where f.individuals > 5 and f.individuals < 7",
        "      where f.consent = separate and f.legal_basis = consent",
        "      where f.consent = separate\n      let n = count flows g where g.consent = written and g.to = f.to\n      where n >= 1",
        "      where f leaves CN and f enters EEA",
        "      where f.to.location in EEA and f.from.location not in EEA",
    ] {
        let text = rule(clauses);
        let found: Vec<LangError> = warnings(&text).into_iter().filter(|w| w.title == "condition can never be true").collect();
        assert!(found.is_empty(), "{clauses}: {found:#?}");
    }
}

#[test]
fn a_value_outside_the_vocabulary_is_an_error_with_did_you_mean() {
    let text = rule("      where f.consent = seperate");
    let e = &errors(&text)[0];
    assert_eq!(e.title, "unknown value");
    assert!(e.label.contains("can never hold"), "{}", e.label);
    assert_eq!(e.help.as_deref(), Some("did you mean `separate`?"));
}

#[test]
fn type_mismatches_are_explained_in_plain_words() {
    let cases = [
        (
            "      where f.start < 100",
            "`f.start` is a date, `100` is a number",
            "a date compares with a date",
        ),
        (
            "      where f.encrypted = \"yes\"",
            "`f.encrypted` is a yes/no fact",
            "`is true`",
        ),
        (
            "      where f.individuals > \"1000\"",
            "`\"1000\"` is a text",
            "without quotes",
        ),
        (
            "      where f.consent > separate",
            "cannot compare a consent value with a consent value using `>`",
            "only equal (`=`) or different (`!=`)",
        ),
        (
            "      where f.data = biometric",
            "`f.data` is data categories: it is tested with `has`",
            "`f.data has biometric`",
        ),
        (
            "      where f.start < 90 days",
            "`90 days` is a duration",
            "a duration is a length of time",
        ),
    ];
    for (clauses, label, help) in cases {
        let text = rule(clauses);
        let e = &errors(&text)[0];
        assert_eq!(e.title, "cannot compare these", "{clauses}: {e:#?}");
        assert!(e.label.contains(label), "{clauses}: label {:?}", e.label);
        assert!(
            e.help.as_deref().unwrap_or("").contains(help),
            "{clauses}: help {:?}",
            e.help
        );
    }
    let e = &errors(&rule("      where f.start + 30 < as-of"))[0];
    assert_eq!(e.title, "cannot combine these");
    assert!(
        e.help
            .as_deref()
            .unwrap_or("")
            .contains("`c.since + 30 days`"),
        "{e:#?}"
    );
}

#[test]
fn unknown_names_have_did_you_mean() {
    let cases = [
        (
            "      where f.data has biometrc",
            "unknown data category",
            "did you mean `biometric`?",
        ),
        (
            "      where f.to.location in EU_ADEQUAT",
            "unknown country",
            "did you mean `EU_ADEQUATE`?",
        ),
        (
            "      where f.legal_basiss = consent",
            "unknown attribute",
            "did you mean `legal_basis`?",
        ),
    ];
    for (clauses, title, help) in cases {
        let e = &errors(&rule(clauses))[0];
        assert_eq!(e.title, title, "{clauses}: {e:#?}");
        assert_eq!(e.help.as_deref(), Some(help), "{clauses}");
    }
}

#[test]
fn unused_definitions_warn_and_duplicate_rule_ids_are_refused_with_both_places() {
    let text = "law DEMO \"Demo\" {\n  define unused_one = health\n  rule DEMO-1 \"r\" {\n    cite \"Art. 1\"\n    for each flow f\n  }\n}\n";
    let w = warnings(text);
    assert!(
        w.iter()
            .any(|w| w.title == "unused definition" && w.label.contains("unused_one")),
        "{w:#?}"
    );

    let text = "law DEMO \"Demo\" {\n  rule DEMO-1 \"a\" {\n    cite \"Art. 1\"\n    for each flow f\n  }\n  rule DEMO-1 \"b\" {\n    cite \"Art. 2\"\n    for each flow f\n  }\n}\n";
    let e = &errors(text)[0];
    assert_eq!(e.title, "rule id used twice");
    let (first, _) = *e.related.clone().expect("the first place");
    assert!(first.start < e.span.start);
}
