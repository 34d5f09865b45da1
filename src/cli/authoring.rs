//! The rule authors' commands: `lexflow fmt` and `lexflow lsp`.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::{show_diagnostic, InputError};
use crate::lang::fmt::format_file;
use crate::source::SourceMap;

/// `lexflow fmt [--check] PATH...`: exit 0 all formatted (or already so), 1 `--check` found
/// a file not formatted, 2 a file could not be read or parsed (it is left untouched).
pub fn fmt(paths: &[PathBuf], check: bool) -> Result<i32, InputError> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return fmt_stdin(check);
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(crate::lang::policy_files_in(path));
        } else {
            files.push(path.clone());
        }
    }
    let mut failed = false;
    let mut unformatted = 0usize;
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                show_diagnostic(
                    miette::miette!(help = "check the path", "cannot read {name}: {e}").as_ref(),
                );
                failed = true;
                continue;
            }
        };
        let Some(formatted) = format_or_show(&name, &text) else {
            failed = true;
            continue;
        };
        if formatted == text {
            continue;
        }
        if check {
            unformatted = unformatted.saturating_add(1);
            print!("{}", unified_diff(&name, &text, &formatted));
        } else if let Err(e) = crate::report::write_atomically(file, &formatted) {
            show_diagnostic(
                miette::miette!(
                    help = "check the file is writable",
                    "cannot write {name}: {e}"
                )
                .as_ref(),
            );
            failed = true;
        } else {
            eprintln!("formatted {name}");
        }
    }
    if check && unformatted > 0 {
        eprintln!("lexflow: {unformatted} file(s) not formatted; run `lexflow fmt` on them");
    }
    Ok(if failed {
        2
    } else if unformatted > 0 {
        1
    } else {
        0
    })
}

/// `lexflow fmt -`: standard input to standard output (for editors).
fn fmt_stdin(check: bool) -> Result<i32, InputError> {
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        show_diagnostic(miette::miette!("standard input is not UTF-8 text").as_ref());
        return Err(InputError);
    }
    let formatted = format_or_show("<stdin>", &text).ok_or(InputError)?;
    let mut out = std::io::stdout().lock();
    if check {
        if formatted == text {
            return Ok(0);
        }
        let _ = out.write_all(unified_diff("<stdin>", &text, &formatted).as_bytes());
        return Ok(1);
    }
    let _ = out.write_all(formatted.as_bytes());
    Ok(0)
}

fn format_or_show(name: &str, text: &str) -> Option<String> {
    let mut sources = SourceMap::default();
    let file = sources.add(name, text.to_owned());
    match format_file(file, text) {
        Ok(formatted) => Some(formatted),
        Err(e) => {
            show_diagnostic(e.to_report(&sources).as_ref());
            eprintln!("lexflow: {name} was not formatted: it does not parse");
            None
        }
    }
}

/// A unified diff from the file as it is to the file formatted.
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

/// The firing example of a rule from user rule files (`--policy PATH`):
/// `tests/RULE-ID/fires.yaml` beside them, as `lexflow test` reads it.
pub fn example_beside(policy_paths: &[PathBuf], rule: &str) -> Option<(String, String)> {
    policy_paths.iter().find_map(|path| {
        let dir = if path.is_dir() {
            path.as_path()
        } else {
            path.parent()?
        };
        let fires = dir.join("tests").join(rule).join("fires.yaml");
        let text = std::fs::read_to_string(&fires).ok()?;
        Some((fires.display().to_string(), text))
    })
}

/// `lexflow lsp`: the language server on standard input and output.
pub fn lsp() -> Result<i32, InputError> {
    match crate::lsp::run_stdio() {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("lexflow lsp: {e}");
            Ok(1)
        }
    }
}
