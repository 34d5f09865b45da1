//! `lexflow fmt`: idempotent, keeps every comment and the meaning (the same syntax tree,
//! spans aside) over every bundled rule file (`policies/*.policy`, whatever packs exist) and
//! over a deliberately messy sample; and the command's exit codes, diff and atomic writes.

use std::path::{Path, PathBuf};
use std::process::Command;

use lexflow::lang::fmt::format_source;
use lexflow::lang::parse::parse_policy;
use lexflow::source::FileId;

fn policy_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.join("policies"), root.join("tests/data/fmt")] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "policy") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 4,
        "expected the bundled policies and the messy sample, found {files:?}"
    );
    files
}

/// The comments of a rule file in order, each trimmed: what `fmt` must keep.
fn comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            let end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
            out.push(text[i..end].trim_end().to_string());
            while chars.peek().is_some_and(|(j, _)| *j < end) {
                chars.next();
            }
        }
    }
    out
}

/// The syntax tree printed without its spans (positions change when layout changes).
fn tree_without_spans(text: &str) -> String {
    let tree = parse_policy(FileId(0), text).expect("parses");
    let debug = format!("{tree:#?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        let close = after.find('}').expect("span closes");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn fmt_is_idempotent_and_keeps_comments_and_meaning_on_every_policy_file() {
    for path in policy_files() {
        let name = path.display();
        let text = std::fs::read_to_string(&path).unwrap();
        let once = format_source(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let twice = format_source(&once).unwrap_or_else(|e| panic!("{name} after fmt: {e:?}"));
        assert_eq!(once, twice, "{name}: fmt(fmt(x)) != fmt(x)");
        assert_eq!(comments(&text), comments(&once), "{name}: comments changed");
        assert_eq!(
            tree_without_spans(&text),
            tree_without_spans(&once),
            "{name}: meaning changed"
        );
        assert!(
            once.ends_with('\n') && !once.ends_with("\n\n"),
            "{name}: one final newline"
        );
        for (n, line) in once.lines().enumerate() {
            // Lines inside multi-line strings are the author's; every other line is trimmed.
            if !line.is_empty() && line.trim_end() != line && !line.contains('"') {
                let inside_string = once
                    .lines()
                    .take(n)
                    .map(|l| l.matches('"').count())
                    .sum::<usize>()
                    % 2
                    == 1;
                assert!(inside_string, "{name}:{}: trailing whitespace", n + 1);
            }
        }
    }
}

/// A deterministic scrambling of a rule file's layout that keeps its meaning: every line
/// outside strings re-indented at random, and spaces between tokens doubled at random
/// (never inside strings or comments, never in the one-space unit `working days`).
fn scramble(text: &str, seed: u64) -> String {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut out = String::new();
    let mut in_string = false;
    for line in text.split_inclusive('\n') {
        let mut chars: Vec<char> = line.chars().collect();
        if !in_string {
            let body: String = line.trim_start().to_string();
            chars = format!("{}{body}", " ".repeat(next() % 9))
                .chars()
                .collect();
        }
        let mut in_comment = false;
        let mut escaped = false;
        for (i, &c) in chars.iter().enumerate() {
            out.push(c);
            if in_comment {
                continue;
            }
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '#' => in_comment = true,
                ' ' => {
                    let before: String = chars[..i].iter().collect();
                    let doubled = i > 0
                        && chars[i - 1] != ' '
                        && chars.get(i + 1).is_some_and(|n| *n != ' ' && *n != '\n');
                    if doubled && !before.ends_with("working") && next() % 3 == 0 {
                        out.push(' ');
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn scrambled_layouts_format_back_to_the_same_meaning() {
    for path in policy_files() {
        let name = path.display();
        let text = std::fs::read_to_string(&path).unwrap();
        for seed in [1u64, 2, 3] {
            let scrambled = scramble(&text, seed);
            assert_ne!(scrambled, text, "{name}: scrambled");
            assert_eq!(
                tree_without_spans(&text),
                tree_without_spans(&scrambled),
                "{name}: the scrambling kept the meaning"
            );
            let once =
                format_source(&scrambled).unwrap_or_else(|e| panic!("{name} seed {seed}: {e:?}"));
            assert_eq!(
                format_source(&once).unwrap(),
                once,
                "{name} seed {seed}: not idempotent"
            );
            assert_eq!(
                tree_without_spans(&text),
                tree_without_spans(&once),
                "{name} seed {seed}: meaning changed"
            );
            assert_eq!(
                comments(&text),
                comments(&once),
                "{name} seed {seed}: comments changed"
            );
        }
    }
}

#[test]
fn the_messy_sample_gets_the_canonical_layout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmt");
    let messy = std::fs::read_to_string(root.join("messy.policy")).unwrap();
    let expected = std::fs::read_to_string(root.join("messy.formatted")).unwrap();
    assert_eq!(format_source(&messy).unwrap(), expected);
}

#[test]
fn statements_get_lines_of_their_own_and_spacing_is_normalised() {
    let src = "law X \"t\" { rule X-1 \"r\" { cite \"Art. 1\" severity review for each flow f where f.data has health  # why\n require f.consent in [ separate,written ] } }\n";
    let out = format_source(src).unwrap();
    assert_eq!(
        out,
        "law X \"t\" {\n  rule X-1 \"r\" {\n    cite \"Art. 1\"\n    severity review\n    for each flow f\n      where f.data has health  # why\n    require f.consent in [separate, written]\n  }\n}\n"
    );
}

#[test]
fn words_with_dashes_stay_whole() {
    // `as-of`, rule ids and law names with `-`, dates: never split into a subtraction.
    let src = "law EU-AI-ACT \"t\" {\n  rule EU-AI-5.1 \"r\" {\n    cite \"Art. 5\"\n    for each flow f\n      where f.start < as-of-90 days and f.end > 2024-03-22\n  }\n}\n";
    let out = format_source(src).unwrap();
    assert!(out.contains("law EU-AI-ACT \"t\" {"), "{out}");
    assert!(out.contains("rule EU-AI-5.1 \"r\" {"), "{out}");
    assert!(
        out.contains("f.start < as-of - 90 days and f.end > 2024-03-22"),
        "{out}"
    );
    assert_eq!(tree_without_spans(src), tree_without_spans(&out));
}

#[test]
fn aligned_continuations_stay_aligned() {
    let src = "define   sensitive = biometric | health\n                   | genetic\n";
    let out = format_source(src).unwrap();
    assert_eq!(
        out,
        "define sensitive = biometric | health\n                 | genetic\n"
    );
}

#[test]
fn a_file_that_does_not_parse_is_refused() {
    let e = format_source("law X \"t\" { rule }").unwrap_err();
    assert!(e.title.contains("syntax error"), "{e:?}");
}

fn lexflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lexflow"))
}

#[test]
fn fmt_check_shows_a_diff_and_fmt_writes_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let messy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmt/messy.policy"),
    )
    .unwrap();
    let file = dir.path().join("demo.policy");
    std::fs::write(&file, &messy).unwrap();

    let out = lexflow()
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.contains("--- ") && diff.contains("+++ ") && diff.contains("@@"),
        "{diff}"
    );
    assert!(diff.contains("+    severity review"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        messy,
        "--check changes nothing"
    );

    let out = lexflow().arg("fmt").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_eq!(formatted, format_source(&messy).unwrap());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    let out = lexflow()
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_refuses_to_write_a_file_it_cannot_parse() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.policy");
    let text = "law X \"t\" {\n  rule X-1 \"r\" {\n    cite \"Art. 1\"\n    for each flow f where f.data has\n  }\n}\n";
    std::fs::write(&file, text).unwrap();
    for args in [vec!["fmt"], vec!["fmt", "--check"]] {
        let out = lexflow().args(&args).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("syntax error") && stderr.contains("broken.policy"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
}

#[test]
fn fmt_reads_standard_input() {
    use std::io::Write;
    let mut child = lexflow()
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"group   G = [CN,HK] # two\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "group G = [CN, HK]  # two\n"
    );
}
