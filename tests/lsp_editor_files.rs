//! The VS Code extension under `editors/vscode/`: its manifest declares the language, the
//! grammar and the server command; the TextMate grammar is well-formed and knows every
//! keyword of the rule language's grammar.

use std::path::Path;

use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("editors/vscode")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_extension_manifest_declares_language_grammar_and_server() {
    let package = read_json("package.json");
    let language = &package["contributes"]["languages"][0];
    assert_eq!(language["id"], "lexflow-policy");
    assert_eq!(language["extensions"][0], ".policy");
    let grammar = &package["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "lexflow-policy");
    let tm = read_json(grammar["path"].as_str().unwrap());
    assert_eq!(tm["scopeName"], grammar["scopeName"]);
    let config = read_json(language["configuration"].as_str().unwrap());
    assert_eq!(config["comments"]["lineComment"], "#");
    assert_eq!(
        package["contributes"]["configuration"]["properties"]["lexflow.server.args"]["default"][0],
        "lsp"
    );
    let main = package["main"].as_str().unwrap();
    let js = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("editors/vscode")
            .join(main),
    )
    .unwrap();
    assert!(js.contains("LanguageClient") && js.contains("lexflow-policy"));
}

fn collect(value: &Value, includes: &mut Vec<String>, regexes: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("include", Value::String(s)) => includes.push(s.clone()),
                    ("match" | "begin" | "end", Value::String(s)) => regexes.push(s.clone()),
                    _ => collect(v, includes, regexes),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, includes, regexes)),
        _ => {}
    }
}

#[test]
fn the_grammar_is_well_formed_and_knows_every_keyword() {
    let tm = read_json("syntaxes/lexflow.tmLanguage.json");
    let (mut includes, mut regexes) = (vec![], vec![]);
    collect(&tm, &mut includes, &mut regexes);
    for include in includes {
        let key = include.strip_prefix('#').expect("repository include");
        assert!(
            tm["repository"].get(key).is_some(),
            "#{key} is not in the repository"
        );
    }
    let all = regexes.join("\n");
    // Every keyword literal of the pest grammar is highlighted.
    let pest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/lexflow.pest"))
            .unwrap();
    let mut missing = vec![];
    for line in pest.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for literal in line.split('"').skip(1).step_by(2) {
            let words: Vec<&str> = literal
                .split(' ')
                .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && w.len() > 1)
                .collect();
            for word in words {
                if !all.contains(word) {
                    missing.push(word.to_string());
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "keywords the grammar does not highlight: {missing:?}"
    );
}
