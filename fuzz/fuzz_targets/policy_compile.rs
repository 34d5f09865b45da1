//! Arbitrary text as a rule file: parse + check against the bundled vocabulary, taxonomy
//! and countries. Must never panic, hang or blow the stack; errors are fine and must render.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The bundled files every user pack builds on.
const BASE: &[&str] = &["vocabulary.policy", "taxonomy.policy", "countries.policy"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut texts: Vec<(&str, &str)> = lexflow::lang::bundled_files()
        .iter()
        .filter(|(name, _)| BASE.contains(name))
        .map(|(name, text)| (*name, *text))
        .collect();
    texts.push(("fuzz.policy", text));
    match lexflow::lang::compile_texts(&texts, false) {
        Ok(program) => {
            for warning in &program.warnings {
                let _ = lexflow_fuzz::render(warning.to_report(&program.sources).as_ref());
            }
        }
        Err(errors) => {
            for report in errors.reports() {
                let _ = lexflow_fuzz::render(report.as_ref());
            }
        }
    }
});
