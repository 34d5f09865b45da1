//! A lone `--format json`, `sarif`, `human` or `github` report is written as the findings
//! are (never all held at once); reports that group the findings (JUnit, Markdown, HTML)
//! alone read them packed; every other run holds the whole result first. All must give the
//! same document and the same exit code, waivers and baseline included, and whatever the
//! batch boundaries.

use std::path::Path;

use assert_cmd::Command;

fn lexflow() -> Command {
    Command::cargo_bin("lexflow").expect("binary built")
}

/// A generated city of `flows` flows over two JSON files, in `dir`.
fn city(dir: &Path, flows: u32) {
    lexflow()
        .args(["gen", "--flows", &flows.to_string(), "--seed", "5"])
        .args(["--files", "2", "--format", "json", "--out"])
        .arg(dir)
        .assert()
        .success();
}

const WAIVERS: &str = "\
waivers:
  - rule: PIPL-38-*
    subject: '*'
    justification: standard contract filed
    approver: dpo@city.example
    ticket: PRIV-1
    expires: 2027-01-01
  - rule: CSL-*
    subject: sys-000*
    justification: old
    approver: someone
    ticket: PRIV-2
    expires: 2025-01-01
  - rule: NOPE-*
    subject: '*'
    justification: matches nothing
    approver: someone
    ticket: PRIV-3
    expires: 2027-01-01
";

/// `check` over `city` with `extra` arguments: (exit code, the JSON report streamed to
/// stdout, the same run's JSON report held whole, written with a second format beside it).
/// The SARIF, human and GitHub reports of the same runs must be equal too, with the same
/// exit codes.
fn both_ways(city: &Path, extra: &[&str], held: &Path) -> (i32, String, i32, String) {
    grouped_both_ways(city, extra, held);
    for format in ["sarif", "human", "github"] {
        let (code, streamed, held_code, whole) = both_ways_in(format, city, extra, held, "junit");
        assert_eq!(code, held_code, "{format} exit codes");
        assert!(!streamed.is_empty(), "{format}: nothing written");
        assert_eq!(streamed, whole, "{format} reports");
    }
    both_ways_in("json", city, extra, held, "junit")
}

/// The JUnit, Markdown and HTML reports of `city`, each alone (JUnit streamed, Markdown and
/// HTML packed) and beside a JSON report (held whole): the same documents and exit codes.
fn grouped_both_ways(city: &Path, extra: &[&str], held: &Path) {
    for format in ["junit", "markdown", "html"] {
        let (code, alone, held_code, whole) = both_ways_in(format, city, extra, held, "json");
        assert_eq!(code, held_code, "{format} exit codes");
        assert!(alone.len() > 1000, "{format}: {alone}");
        assert_eq!(alone, whole, "{format} reports");
    }
}

/// `check` over `city` in `format` alone, to stdout, then with a report in `beside` (to
/// `/dev/null`) after it, to `held`: (exit code, report) of each.
fn both_ways_in(
    format: &str,
    city: &Path,
    extra: &[&str],
    held: &Path,
    beside: &str,
) -> (i32, String, i32, String) {
    let streamed = lexflow()
        .args(["check", "--as-of", "2026-06-01", "--format", format])
        .args(extra)
        .arg(city)
        .output()
        .expect("runs");
    let whole = lexflow()
        .args([
            "check",
            "--as-of",
            "2026-06-01",
            "--format",
            format,
            "--output",
        ])
        .arg(held)
        // A second format makes the run hold the whole result: only a lone report is
        // streamed, and only reports that all group the findings are packed.
        .args(["--format", beside, "--output", "/dev/null"])
        .args(extra)
        .arg(city)
        .output()
        .expect("runs");
    (
        streamed.status.code().unwrap_or(-1),
        String::from_utf8(streamed.stdout).expect("UTF-8"),
        whole.status.code().unwrap_or(-1),
        std::fs::read_to_string(held).expect("report written"),
    )
}

#[test]
fn streamed_reports_equal_the_held_result_with_waivers_and_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let city_dir = dir.path().join("city");
    // More than one batch of findings (2,048), so that batches and pieces meet.
    city(&city_dir, 3000);
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(&waivers, WAIVERS).unwrap();
    let held = dir.path().join("held.json");

    // Plain run.
    let (code, streamed, held_code, whole) = both_ways(&city_dir, &[], &held);
    assert_eq!((code, held_code), (1, 1));
    assert_eq!(streamed, whole);
    let plain: serde_json::Value = serde_json::from_str(&streamed).unwrap();
    let total = plain["findings"].as_array().unwrap().len();
    assert!(total > 2048, "{total} findings: one batch only");

    // A baseline of every other finding of the plain run.
    let full = dir.path().join("full-baseline.json");
    lexflow()
        .args(["check", "--as-of", "2026-06-01", "--format", "json"])
        .args(["--output", "/dev/null", "--write-baseline"])
        .arg(&full)
        .arg(&city_dir)
        .assert()
        .code(1);
    let mut baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    let entries = baseline["findings"].as_array_mut().unwrap();
    let kept: Vec<serde_json::Value> = entries.iter().step_by(2).cloned().collect();
    *entries = kept;
    let half = dir.path().join("half-baseline.json");
    std::fs::write(&half, serde_json::to_string(&baseline).unwrap()).unwrap();

    let args = [
        "--waivers",
        waivers.to_str().unwrap(),
        "--baseline",
        half.to_str().unwrap(),
    ];
    let (code, streamed, held_code, whole) = both_ways(&city_dir, &args, &held);
    assert_eq!((code, held_code), (1, 1));
    assert_eq!(streamed, whole);
    let report: serde_json::Value = serde_json::from_str(&streamed).unwrap();
    let summary = &report["summary"];
    assert!(summary["waived"].as_u64().unwrap() > 0, "{summary}");
    assert!(summary["baselined"].as_u64().unwrap() > 0, "{summary}");
    let kinds: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["expired_waiver", "unused_waiver"]);

    // The whole baseline: no finding is left, and the run passes.
    let args = ["--baseline", full.to_str().unwrap()];
    let (code, streamed, held_code, whole) = both_ways(&city_dir, &args, &held);
    assert_eq!((code, held_code), (0, 0));
    assert_eq!(streamed, whole);
    let report: serde_json::Value = serde_json::from_str(&streamed).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["summary"]["baselined"].as_u64(), Some(total as u64));
}

#[test]
fn a_closed_pipe_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    city(dir.path(), 1000);
    // The reader takes a few bytes and closes the pipe: the findings are still counted.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lexflow"))
        .args(["check", "--as-of", "2026-06-01", "--format", "json"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    assert_eq!(&first[..12], b"{\n  \"lexflow");
    assert_eq!(child.wait().unwrap().code(), Some(1));
}
