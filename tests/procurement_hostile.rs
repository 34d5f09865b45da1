//! Hostile vendor text: a manifest whose names and ids contain `<script>alert(1)</script>`,
//! ANSI escapes (`\x1b[31m`), quote and bracket breakers for DOT and Mermaid, Markdown table
//! breakers and a spreadsheet formula comes out inert in every output format.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const POLICY: &str = r#"
law T "Test law" {
  effective 2020-01-01
  rule T-LEAVE "Personal data leaves China" {
    cite "Art. 1"
    severity error
    for each flow f
      where f leaves CN and f.data has personal
    require f.transfer.mechanism is present
    message "Flow {f.id} leaves CN for {f.to.id}"
    remedy "Put the transfer on a route."
  }
  rule T-RET "Retention is declared" {
    cite "Art. 2"
    severity warning
    for each system s
    require s.retention_days is present
    message "System {s.id} declares no retention"
    remedy "Declare retention_days."
  }
}
"#;

fn hostile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/hostile.yaml")
}

fn lexflow(policy: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("lexflow")
        .unwrap()
        .args(args)
        .arg(hostile())
        .arg("--policy")
        .arg(policy)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stderr.contains(&0x1b), "{args:?}: raw ESC on stderr");
    String::from_utf8(out.stdout).unwrap()
}

/// Every output, by name.
fn outputs() -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("t.policy");
    std::fs::write(&policy, POLICY).unwrap();
    let mut outs = Vec::new();
    for format in [
        "human", "json", "sarif", "junit", "github", "markdown", "html",
    ] {
        let text = lexflow(
            &policy,
            &[
                "check",
                "--as-of",
                "2026-01-01",
                "--color",
                "never",
                "--format",
                format,
            ],
        );
        outs.push((format!("check --format {format}"), text));
    }
    for format in ["svg", "dot", "mermaid"] {
        outs.push((
            format!("graph --format {format}"),
            lexflow(
                &policy,
                &["graph", "--as-of", "2026-01-01", "--format", format],
            ),
        ));
    }
    outs.push((
        "graph --group-by organization".into(),
        lexflow(
            &policy,
            &["graph", "--format", "mermaid", "--group-by", "organization"],
        ),
    ));
    for format in ["csv", "markdown"] {
        outs.push((
            format!("ropa --format {format}"),
            lexflow(&policy, &["ropa", "--format", format]),
        ));
    }
    outs.push((
        "pipia".into(),
        lexflow(&policy, &["pipia", "--as-of", "2026-01-01"]),
    ));
    outs
}

#[test]
fn hostile_names_are_inert_in_every_format() {
    let outs = outputs();
    for (name, text) in &outs {
        assert!(!text.is_empty(), "{name}: empty");
        // No terminal control sequence in any output: ESC is shown as `\u{1b}`.
        assert!(!text.contains('\x1b'), "{name}: raw ESC");
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r'),
            "{name}: control character"
        );
        // The hostile text is there (shown), not dropped.
        assert!(
            text.contains("alert"),
            "{name}: the hostile name was dropped"
        );
        // Markup formats escape `<`: no element can be injected.
        let markup = name.contains("html")
            || name.contains("markdown")
            || name.contains("svg")
            || name.contains("junit")
            || name.contains("dot")
            || name.contains("mermaid")
            || name == "pipia";
        if markup {
            assert!(!text.contains("<script"), "{name}: raw <script>");
            assert!(!text.contains("<img"), "{name}: raw <img>");
        }
    }
}

#[test]
fn html_and_svg_escape_names_and_carry_no_script() {
    let outs = outputs();
    let html = &outs
        .iter()
        .find(|(n, _)| n == "check --format html")
        .unwrap()
        .1;
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("\\u{1b}[31m"));
    assert!(html.contains("default-src 'none'"));
    let svg = &outs
        .iter()
        .find(|(n, _)| n == "graph --format svg")
        .unwrap()
        .1;
    assert!(svg.contains("cams&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!svg.contains("<script"));
}

#[test]
fn dot_and_mermaid_quotes_cannot_be_broken_out_of() {
    let outs = outputs();
    let dot = &outs
        .iter()
        .find(|(n, _)| n == "graph --format dot")
        .unwrap()
        .1;
    // The organization name tries `"]; n9["x` to close the label and declare a node.
    assert!(
        dot.contains("\\\"]; n9[\\\"x"),
        "the name is kept, quotes escaped"
    );
    assert!(!dot.lines().any(|l| l.trim_start().starts_with("n9")));
    for line in dot.lines() {
        // Every `"` on a line is either escaped or one of an even number of delimiters.
        let unescaped = line
            .char_indices()
            .filter(|&(i, c)| c == '"' && !line[..i].ends_with('\\'))
            .count();
        assert_eq!(unescaped % 2, 0, "unbalanced quotes in DOT line: {line}");
    }
    let mermaid = &outs
        .iter()
        .find(|(n, _)| n == "graph --format mermaid")
        .unwrap()
        .1;
    for line in mermaid.lines().filter(|l| l.contains("alert")) {
        // Only the label delimiters are raw quotes; `|` and `#` inside labels are entities.
        assert!(
            line.matches('"').count() <= 2 || line.contains("-->|\""),
            "{line}"
        );
        assert!(!line.contains("<script"), "{line}");
    }
    let org = &outs
        .iter()
        .find(|(n, _)| n == "graph --group-by organization")
        .unwrap()
        .1;
    assert!(!org.contains("n9["));
    assert!(!mermaid.contains("n9["));
}

#[test]
fn markdown_tables_stay_tables_and_csv_formulas_are_defused() {
    let outs = outputs();
    for name in ["check --format markdown", "ropa --format markdown", "pipia"] {
        let text = &outs.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(!text.contains("@team"), "{name}: a mention");
        // Every table row has as many unescaped cells as its header.
        let mut width = None;
        for line in text.lines() {
            if !line.starts_with('|') {
                width = None;
                continue;
            }
            let cells = line
                .char_indices()
                .filter(|&(i, c)| c == '|' && !line[..i].ends_with('\\'))
                .count();
            match width {
                None => width = Some(cells),
                Some(w) => assert_eq!(w, cells, "{name}: broken table row {line}"),
            }
        }
    }
    let csv = &outs
        .iter()
        .find(|(n, _)| n == "ropa --format csv")
        .unwrap()
        .1;
    assert!(csv.contains("'=HYPERLINK"), "formula not defused: {csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"));
}

#[test]
fn terminal_colours_do_not_let_the_names_escapes_through() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("t.policy");
    std::fs::write(&policy, POLICY).unwrap();
    let text = lexflow(
        &policy,
        &["check", "--as-of", "2026-01-01", "--color", "always"],
    );
    assert!(text.contains('\x1b'), "colours were asked for");
    assert!(text.contains("cloud\\u{1b}[31m"));
    assert!(!text.contains("cloud\x1b"));
    assert!(!text.contains("\x1b[2J"));
}
