//! Hostile input through the CLI, as a vendor or a careless editor would feed it: each input
//! ends with exit 2 and a clear message (or, for the cycle, the correct result), well within
//! a generous timeout. The loader's own unit-level limit tests are in `tests/manifest_load.rs`;
//! these run the binary end to end. Large inputs are generated in a temporary folder, never
//! committed; elapsed times are printed (run with `--nocapture`), not asserted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// Far above what any of these takes; only here so that a hang fails instead of blocking CI.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn lexflow(args: &[&str]) -> Run {
    let start = Instant::now();
    let out = Command::cargo_bin("lexflow")
        .expect("binary built")
        .args(args)
        .env("NO_COLOR", "1")
        .timeout(TIMEOUT)
        .output()
        .expect("lexflow runs");
    eprintln!("lexflow {args:?}: {:?}", start.elapsed());
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test input");
    path
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// Checks `manifest` with the bundled packs; it must end with exit 2 and say `expected`.
fn refused(manifest: &Path, expected: &str) -> Run {
    let run = lexflow(&["check", s(manifest), "--as-of", "2026-06-01"]);
    assert_eq!(
        run.code,
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains(expected),
        "expected `{expected}` on stderr:\n{}",
        run.stderr
    );
    run
}

/// Loads `policy` (with the bundled packs) over a clean manifest: exit 2, saying `expected`.
fn policy_refused(policy: &Path, expected: &str) -> Run {
    let run = lexflow(&[
        "check",
        "tests/data/cli/clean.yaml",
        "--policy",
        s(policy),
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(
        run.code,
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains(expected),
        "expected `{expected}` on stderr:\n{}",
        run.stderr
    );
    run
}

const HEAD: &str =
    "lexflow: 1\norganizations:\n  - {id: city, country: DE, kind: public_authority}\n";

#[test]
fn alias_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(HEAD);
    text.push_str(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    let path = write(dir.path(), "bomb.yaml", text);
    refused(&path, "aliases expand past the safety limit");
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let flow = format!("{HEAD}name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let path = write(dir.path(), "deep-flow.yaml", flow);
    refused(&path, "nesting is deeper than 64 levels");

    let mut block = String::from(HEAD);
    block.push_str("name:\n");
    for depth in 0..10_000 {
        block.push_str(&" ".repeat(depth + 1));
        block.push_str("- \n");
    }
    let path = write(dir.path(), "deep-block.yaml", block);
    refused(&path, "nesting is deeper than 64 levels");

    let json = format!(
        "{{\"lexflow\": 1, \"name\": {}1{}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let path = write(dir.path(), "deep.json", json);
    refused(&path, "nesting is deeper than 64 levels");
}

#[test]
fn too_many_nodes() {
    let dir = tempfile::tempdir().unwrap();
    // 6.05 million list items in a 12 MB file: under the size limit, over the node budget.
    let mut text = String::from(HEAD);
    text.push_str("name: [");
    text.push_str(&"1,".repeat(6_050_000));
    text.push_str("1]\n");
    let path = write(dir.path(), "wide.yaml", text);
    refused(&path, "limit");
}

#[test]
fn one_gibibyte_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap(); // sparse: no block written
    drop(file);
    refused(&path, "file is too large (1073741824 bytes)");
}

#[test]
fn invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"name: \"Stadt K\xf6ln\"\n"); // Latin-1, as an old editor saves it
    let path = write(dir.path(), "latin1.yaml", bytes);
    let run = refused(&path, "file is not valid UTF-8: byte 0xF6");
    assert!(run.stderr.contains("latin1.yaml"), "{}", run.stderr);
}

#[test]
fn nul_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}name: \"a\0b\"\n\0\0\0\n");
    let path = write(dir.path(), "nul.yaml", text);
    let run = refused(&path, "nul.yaml");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn duplicate_keys() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}systems:\n  - id: cam\n    kind: camera\n    kind: sensor\n    operator: city\n    location: DE\n"
    );
    let path = write(dir.path(), "dup.yaml", text);
    refused(&path, "duplicate mapping key: kind");
}

/// A path rule over a graph that is one cycle of 20,000 systems: personal data collected in
/// Germany at `s0` travels `s0 → s1 → … → s19999 → s0`; only `s10000` is in the United States.
/// The search is bounded (each system visited once), and the witness is the one real path.
#[test]
fn a_cycle_of_twenty_thousand_systems() {
    const N: usize = 20_000;
    const US: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "cycle.policy",
        r#"import "vocabulary.policy"
import "taxonomy.policy"
import "countries.policy"

law CYCLE "Path search over a long cycle" {
  rule CYCLE-US "Personal data collected in the EEA reaches the United States" {
    cite "Art. 44"
    for each path p from system s where s.location in EEA and s.collected has personal
                    to system t where t.location in [US]
                    along flows g where g.data has personal
    message "reaches {t.id} in {p.length} hops"
    remedy "Stop the transfer."
  }
}
"#,
    );
    let mut text = String::from(HEAD);
    text.push_str("systems:\n");
    for i in 0..N {
        let location = if i == US { "US" } else { "DE" };
        text.push_str(&format!(
            "  - {{id: s{i}, kind: service, operator: city, location: {location}"
        ));
        if i == 0 {
            text.push_str(", collects: [{data: [contact.email], subjects: residents, purpose: service_delivery}]");
        }
        text.push_str("}\n");
    }
    text.push_str("flows:\n");
    for i in 0..N {
        let next = (i + 1) % N;
        text.push_str(&format!(
            "  - {{id: f{i}, from: s{i}, to: s{next}, data: [contact.email]}}\n"
        ));
    }
    let manifest = write(dir.path(), "cycle.yaml", text);
    let run = lexflow(&[
        "check",
        s(&manifest),
        "--no-bundled",
        "--policy",
        s(&policy),
        "--format",
        "json",
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(run.code, Some(1), "stderr:\n{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["rule"], "CYCLE-US");
    let path: Vec<&str> = finding["path"]
        .as_array()
        .expect("a witness path")
        .iter()
        .map(|v| v.as_str().expect("system id"))
        .collect();
    let expected: Vec<String> = (0..=US).map(|i| format!("s{i}")).collect();
    assert_eq!(path, expected);
    let flows: Vec<&str> = finding["path_flows"]
        .as_array()
        .expect("the flows of the path")
        .iter()
        .map(|v| v.as_str().expect("flow id"))
        .collect();
    let expected: Vec<String> = (0..US).map(|i| format!("f{i}")).collect();
    assert_eq!(flows, expected);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains(&format!("reaches s{US} in {US} hops")),
        "{finding:#?}"
    );

    // The bundled packs over the same cycle: a result, not a hang.
    let run = lexflow(&[
        "check",
        s(&manifest),
        "--as-of",
        "2026-06-01",
        "--format",
        "json",
    ]);
    assert!(matches!(run.code, Some(0 | 1)), "stderr:\n{}", run.stderr);
    serde_json::from_str::<serde_json::Value>(&run.stdout).expect("JSON report");
}

#[test]
fn rule_file_with_ten_thousand_nested_parentheses() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "law DEEP \"Deep\" {{\n  rule DEEP-1 \"Deep\" {{\n    cite \"Art. 1\"\n    for each system s\n    require {}s.location = DE{}\n    remedy \"x\"\n  }}\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let path = write(dir.path(), "deep.policy", text);
    policy_refused(&path, "more than 64 nested brackets");
}

#[test]
fn rule_file_of_five_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity(5 << 20);
    while text.len() < 5 << 20 {
        text.push_str("# a comment line padding a rule file past its size limit .......\n");
    }
    let path = write(dir.path(), "big.policy", text);
    policy_refused(&path, "a rule file may have");
}

#[test]
fn rule_file_with_invalid_utf8_or_nul_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "latin1.policy", b"# K\xf6ln\n".as_slice());
    policy_refused(&path, "not UTF-8 text");
    let path = write(dir.path(), "nul.policy", b"# a\0b\n".as_slice());
    policy_refused(&path, "NUL bytes");
}

// Found by these tests: miette pads its underline with a format width, which panics past
// 65,535 columns, so an error far along one long line crashed the CLI (exit 101) while it
// rendered the diagnostic. Such errors are now shown without an excerpt.

#[test]
fn manifest_error_at_column_seventy_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}systems: [{}5]\n", " ".repeat(70_000));
    let path = write(dir.path(), "long-line.yaml", text);
    let run = refused(&path, "long-line.yaml:4:70011");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn rule_file_error_at_column_seventy_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("law LONG \"Long\" {{{} bogus }}\n", " ".repeat(70_000));
    let path = write(dir.path(), "long-line.policy", text);
    let run = policy_refused(&path, "long-line.policy:1:");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn twenty_thousand_dangling_references() {
    // Every problem is reported, but only the first ones quote their line: quoting makes the
    // renderer scan the file from its start, and "did you mean" compares with every id, so
    // both are bounded (this took minutes before).
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("lexflow: 1\norganizations:\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "  - {{id: org-{i}, country: CN, kind: company}}\n"
        ));
    }
    text.push_str("flows:\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "  - {{id: f-{i}, from: nosys-{i}, to: nosys2-{i}, data: [contact]}}\n"
        ));
    }
    let path = write(dir.path(), "dangling.yaml", text);
    let run = refused(&path, "20000 problem(s) in the manifests");
    assert!(run
        .stderr
        .contains("the first 100 problems are shown in full"));
    assert!(run
        .stderr
        .contains("`to` names `nosys2-9999`, which is not declared in any manifest of this run"));
}
