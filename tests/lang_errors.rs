//! Broken rule files: each error names what is wrong, where (line and column), and a hint.

use lexflow::lang::{compile_texts, LangError};

/// Compiles one rule file after the bundled vocabulary; returns its first error with the
/// 1-based line and column of the span in that file.
fn first_error(text: &str) -> (LangError, u32, u32) {
    let errors = match compile_texts(&[("broken.policy", text)], true) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    };
    let error = errors.errors.first().expect("at least one error").clone();
    assert_eq!(
        errors.sources.name(error.span.file),
        "broken.policy",
        "error points into the rule file: {error:?}"
    );
    let (line, column) = error.line_col(&errors.sources);
    (error, line, column)
}

const HEAD: &str = "law T \"Test\" {\n  effective 2021-01-01\n";

#[test]
fn syntax_error_says_what_was_expected_in_words() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f.data has\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "syntax error in rule file");
    assert!(error.label.contains("expected"), "{}", error.label);
    assert!(
        !error.label.contains("sum_expr") && !error.label.contains("kw_"),
        "no grammar names: {}",
        error.label
    );
    assert_eq!((line, column), (7, 3));
}

#[test]
fn unknown_attribute_suggests_the_nearest() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f.purpse = marketing\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "unknown attribute");
    assert!(
        error.label.contains("a flow has no attribute `purpse`"),
        "{}",
        error.label
    );
    assert_eq!(error.help.as_deref(), Some("did you mean `purpose`?"));
    assert_eq!((line, column), (6, 15));
}

#[test]
fn unknown_category_suggests_the_nearest() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f.data has biometrics\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "unknown data category");
    assert_eq!(error.help.as_deref(), Some("did you mean `biometric`?"));
    assert_eq!((line, column), (6, 24));
}

#[test]
fn comparing_a_date_with_a_number_is_explained() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f.start < 90\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "cannot compare these");
    assert!(
        error.label.contains("cannot compare a date with a number"),
        "{}",
        error.label
    );
    assert!(error
        .help
        .as_deref()
        .unwrap_or("")
        .contains("as-of - 90 days"));
    assert_eq!((line, column), (6, 13));
}

#[test]
fn unknown_vocabulary_value_can_never_hold() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f.consent = seperate\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "unknown value");
    assert!(error.label.contains("can never hold"), "{}", error.label);
    assert_eq!(error.help.as_deref(), Some("did you mean `separate`?"));
    assert_eq!((line, column), (6, 25));
}

#[test]
fn duplicate_rule_ids_are_refused_with_both_places() {
    let rule = "  rule T-1 \"x\" {\n    cite \"Art. 1\"\n    for each flow f\n  }\n";
    let text = format!("{HEAD}{rule}{rule}}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "rule id used twice");
    assert_eq!((line, column), (7, 8));
    let (related, _) = *error.related.clone().expect("first place");
    assert_eq!(related.start as usize, text.find("T-1").unwrap());
}

#[test]
fn unknown_country_group_suggests_the_nearest() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where f leaves EAA\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "unknown country");
    assert_eq!(error.help.as_deref(), Some("did you mean `EEA`?"));
    assert_eq!((line, column), (6, 22));
}

#[test]
fn a_rule_without_citation_is_refused() {
    let text = format!("{HEAD}  rule T-1 \"x\" {{\n    for each flow f\n  }}\n}}\n");
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "rule without citation");
    assert_eq!((line, column), (3, 8));
}

#[test]
fn imports_cannot_leave_the_policy_folder() {
    let text = "import \"../secrets.policy\"\n";
    let (error, line, column) = first_error(text);
    assert_eq!(error.title, "import outside the policy folder");
    assert_eq!((line, column), (1, 8));
}

#[test]
fn an_aggregate_without_a_link_is_refused() {
    let text = format!(
        "{HEAD}  rule T-1 \"x\" {{\n    cite \"Art. 1\"\n    for each flow f\n      where count flows g where g.individuals > f.individuals >= 2\n  }}\n}}\n"
    );
    let (error, line, column) = first_error(&text);
    assert_eq!(error.title, "aggregate needs a link to its rule");
    assert_eq!((line, column), (6, 13));
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let text = format!(
        "{HEAD}  define d = {}x{}\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let (error, _, _) = first_error(&text);
    assert_eq!(error.title, "nesting too deep");
}
