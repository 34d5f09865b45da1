//! `--format sarif`: SARIF 2.1.0, one run, for GitHub code scanning and other viewers.
//!
//! Built with `serde_json` values rather than the `serde-sarif` crate: lexflow needs a
//! small, fixed subset of SARIF, the output is validated against the official schema in the
//! tests, and plain maps keep the key order deterministic (sorted) without another
//! dependency tree to build.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::sanitize::{inert, uri_path};
use super::{RenderContext, RenderError};
use crate::findings::{
    CheckResult, Finding, FindingSource, FindingView, Location, RuleInfo, Severity, Status, Summary,
};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF `level` of a severity: review findings are notes.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Review => "note",
    }
}

/// `Cross-border transfer (art. 38)` → `CrossBorderTransferArt38`: SARIF's `name` is an
/// identifier-like label, not prose.
fn camel_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `artifactLocation`: a relative file as given, against `%SRCROOT%`; an absolute one as a
/// `file://` URI (a base id would be wrong there).
fn artifact_location(file: &str) -> Value {
    let file = if cfg!(windows) {
        file.replace('\\', "/")
    } else {
        file.to_string()
    };
    // `C:/...`: the drive letter and the path after the colon.
    let drive = match file.as_bytes() {
        [letter, b':', b'/', ..] if letter.is_ascii_alphabetic() => {
            file.get(..1).zip(file.get(2..))
        }
        _ => None,
    };
    if file.starts_with('/') {
        json!({ "uri": format!("file://{}", uri_path(&file)) })
    } else if let Some((letter, rest)) = drive {
        json!({ "uri": format!("file:///{letter}:{}", uri_path(rest)) })
    } else {
        json!({ "uri": uri_path(&file), "uriBaseId": "%SRCROOT%" })
    }
}

fn physical_location(location: &Location) -> Value {
    physical_location_at(&location.file, location.line, location.column)
}

fn physical_location_at(file: &str, line: u32, column: u32) -> Value {
    json!({
        "artifactLocation": artifact_location(file),
        "region": {
            "startLine": line.max(1),
            "startColumn": column.max(1),
        },
    })
}

fn rule_descriptor(rule: &RuleInfo) -> Value {
    let title = inert(&rule.title).into_owned();
    let full = if rule.explanation.trim().is_empty() {
        title.clone()
    } else {
        inert(&rule.explanation).into_owned()
    };
    let mut help = format!("{}", inert(&rule.citation));
    if !rule.law_title.is_empty() {
        help.push_str(&format!(" ({})", inert(&rule.law_title)));
    }
    if !rule.remediation.is_empty() {
        help.push_str(&format!(". Remedy: {}", inert(&rule.remediation)));
    }
    let mut descriptor = json!({
        "id": rule.id,
        "name": camel_name(&rule.title),
        "shortDescription": { "text": title },
        "fullDescription": { "text": full },
        "help": { "text": help },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "law": rule.law,
            "citation": rule.citation,
            "tags": ["compliance", rule.law],
        },
    });
    if let (Some(source), Some(fields)) = (&rule.source, descriptor.as_object_mut()) {
        if source.starts_with("https://") || source.starts_with("http://") {
            fields.insert("helpUri".into(), Value::String(source.clone()));
        }
    }
    descriptor
}

/// A rule descriptor for a finding whose rule is not among `rules_checked`.
fn rule_from_finding(finding: &Finding) -> RuleInfo {
    RuleInfo {
        id: finding.rule.to_string(),
        title: finding.title.to_string(),
        law: finding.law.to_string(),
        law_title: String::new(),
        citation: finding.citation.to_string(),
        severity: finding.severity,
        explanation: String::new(),
        remediation: finding.remediation.to_string(),
        source: None,
    }
}

fn code_flow(finding: &FindingView, path_text: &str) -> Value {
    let location = physical_location_at(
        finding.location.file,
        finding.location.line,
        finding.location.column,
    );
    let flows: Vec<&str> = finding.path_flows.iter().collect();
    let steps: Vec<Value> = finding
        .path
        .iter()
        .enumerate()
        .map(|(index, system)| {
            let text = match index.checked_sub(1).and_then(|i| flows.get(i)) {
                Some(flow) => format!("→ {} (flow {})", inert(system), inert(flow)),
                None => format!("{}", inert(system)),
            };
            json!({
                "location": {
                    "physicalLocation": location,
                    "message": { "text": text },
                },
                "executionOrder": index.saturating_add(1),
            })
        })
        .collect();
    json!({
        "message": { "text": format!("data path: {}", inert(path_text)) },
        "threadFlows": [{ "locations": steps }],
    })
}

/// One SARIF result. `rule_index` is `None` only if the rule is missing from the driver's
/// list (cannot happen: every finding's rule is added); `ruleIndex` is optional in SARIF
/// and then left out, `ruleId` still names the rule.
fn result(finding: &FindingView, rule_index: Option<usize>) -> Value {
    let mut text = inert(&finding.message).into_owned();
    let has_path = !finding.path.is_empty();
    let path_text = super::path_text_of(finding.path);
    if has_path {
        text.push_str(&format!(" Path: {}.", inert(&path_text)));
    }
    let mut properties = Map::new();
    properties.insert("law".into(), json!(finding.law));
    properties.insert("citation".into(), json!(finding.citation));
    properties.insert("remediation".into(), json!(finding.remediation));
    properties.insert(
        "status".into(),
        json!(match finding.status {
            Status::Open => "open",
            Status::Waived => "waived",
        }),
    );
    if has_path {
        properties.insert("path".into(), json!(finding.path));
        properties.insert("path_flows".into(), json!(finding.path_flows));
    }
    let mut value = Map::new();
    value.insert("ruleId".into(), json!(finding.rule));
    if let Some(rule_index) = rule_index {
        value.insert("ruleIndex".into(), json!(rule_index));
    }
    let rest = json!({
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": physical_location_at(
                finding.location.file,
                finding.location.line,
                finding.location.column,
            ),
            "logicalLocations": [{
                "name": finding.subject.id,
                "fullyQualifiedName": format!("{}:{}", finding.subject.kind, finding.subject.id),
                "kind": finding.subject.kind,
            }],
        }],
        "partialFingerprints": { "lexflowFingerprint/v1": finding.fingerprint },
        "properties": properties,
    });
    if let Value::Object(rest) = rest {
        value.extend(rest);
    }
    if has_path {
        value.insert("codeFlows".into(), json!([code_flow(finding, &path_text)]));
    }
    if finding.status == Status::Waived {
        let mut suppression = Map::new();
        suppression.insert("kind".into(), json!("external"));
        suppression.insert("status".into(), json!("accepted"));
        if let Some(waiver) = finding.waiver {
            suppression.insert("justification".into(), json!(waiver.justification));
            suppression.insert(
                "properties".into(),
                json!({
                    "approver": waiver.approver,
                    "ticket": waiver.ticket,
                    "expires": waiver.expires,
                }),
            );
        }
        value.insert("suppressions".into(), json!([Value::Object(suppression)]));
    }
    Value::Object(value)
}

/// The rule descriptors of the driver (the rules checked, and the rule of any finding not
/// among them), by id.
fn driver_rules(result_in: &CheckResult, findings: &[Finding]) -> BTreeMap<String, RuleInfo> {
    let mut rules = rules_by_id(&result_in.rules_checked);
    for finding in findings.iter() {
        rules
            .entry(finding.rule.to_string())
            .or_insert_with(|| rule_from_finding(finding));
    }
    rules
}

/// The rules checked, by id.
fn rules_by_id(rules_checked: &[RuleInfo]) -> BTreeMap<String, RuleInfo> {
    rules_checked
        .iter()
        .map(|r| (r.id.clone(), r.clone()))
        .collect()
}

/// Each rule's position in the driver's list (a result's `ruleIndex`).
fn rule_positions(rules: &BTreeMap<String, RuleInfo>) -> BTreeMap<&str, usize> {
    rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect()
}

/// `toolConfigurationNotifications`: the run's problems (expired or unused waivers...),
/// sorted.
fn notifications(problems: &[crate::findings::Problem]) -> Vec<Value> {
    problems
        .iter()
        .map(|problem| {
            let mut n = json!({
                "descriptor": { "id": problem.kind },
                "level": "warning",
                "message": { "text": problem.message },
            });
            if let (Some(loc), Some(fields)) = (&problem.location, n.as_object_mut()) {
                fields.insert(
                    "locations".into(),
                    json!([{ "physicalLocation": physical_location(loc) }]),
                );
            }
            n
        })
        .collect()
}

/// The SARIF log being written: what `serde_json::to_string_pretty` makes of the whole log
/// (a test holds the two equal), its results added as they are rendered, never held as one
/// tree of values (a 100k city has 95,000 results). The log's keys are sorted (serde_json's
/// maps): `$schema`, `runs`, `version`; in the run, `columnKind`, `invocations`, `results`,
/// `tool`: the problems come before the results, the driver's rules after.
struct Log<'o> {
    out: std::io::BufWriter<&'o mut dyn std::io::Write>,
    /// Whether no result was written yet (the list is opened with the first).
    empty: bool,
}

impl<'o> Log<'o> {
    fn start(
        out: &'o mut dyn std::io::Write,
        problems: &[crate::findings::Problem],
    ) -> std::io::Result<Self> {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        out.write_all(b"{\n  \"$schema\": ")?;
        super::json::write_nested(&mut out, &SCHEMA, 1)?;
        out.write_all(b",\n  \"runs\": [\n    {\n      \"columnKind\": \"unicodeCodePoints\",\n      \"invocations\": ")?;
        let invocations = json!([{
            "executionSuccessful": true,
            "toolConfigurationNotifications": notifications(problems),
        }]);
        super::json::write_nested(&mut out, &invocations, 3)?;
        out.write_all(b",\n      \"results\": ")?;
        Ok(Log { out, empty: true })
    }

    /// Appends rendered results (from [`push_result`]; empty texts are skipped).
    fn results<'t>(&mut self, texts: impl Iterator<Item = &'t Vec<u8>>) -> std::io::Result<()> {
        use std::io::Write;
        for text in texts.filter(|t| !t.is_empty()) {
            if self.empty {
                // `[` in place of the first result's comma.
                self.out.write_all(b"[")?;
                self.out.write_all(text.get(1..).unwrap_or(&[]))?;
                self.empty = false;
            } else {
                self.out.write_all(text)?;
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        rules: &BTreeMap<String, RuleInfo>,
        ctx: &RenderContext,
    ) -> std::io::Result<()> {
        use std::io::Write;
        self.out
            .write_all(if self.empty { b"[]" } else { b"\n      ]" })?;
        self.out.write_all(b",\n      \"tool\": ")?;
        let tool = json!({
            "driver": {
                "name": "lexflow",
                "version": ctx.tool_version,
                "semanticVersion": ctx.tool_version,
                "rules": rules.values().map(rule_descriptor).collect::<Vec<_>>(),
            },
        });
        super::json::write_nested(&mut self.out, &tool, 3)?;
        self.out
            .write_all(b"\n    }\n  ],\n  \"version\": \"2.1.0\"\n}\n")?;
        self.out.flush()
    }
}

/// Appends a result to `text` after `,\n` and its indentation (depth 4).
fn push_result(
    text: &mut Vec<u8>,
    finding: &FindingView,
    index: &BTreeMap<&str, usize>,
) -> std::io::Result<()> {
    text.extend_from_slice(b",\n        ");
    let value = result(finding, index.get(finding.rule).copied());
    super::json::write_nested(&mut *text, &value, 4)
}

/// The SARIF log, pretty-printed, ending with a newline.
pub fn render_sarif(result_in: &CheckResult, ctx: &RenderContext) -> Result<String, RenderError> {
    let mut out = Vec::new();
    write_sarif(result_in, ctx, &mut out).map_err(RenderError::json)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(RenderError::json)
}

/// Streams the SARIF log of a held result into `out`, its results rendered on every core
/// a batch at a time.
pub fn write_sarif(
    result_in: &CheckResult,
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let findings = super::sorted_findings(result_in);
    let rules = driver_rules(result_in, &findings);
    let index = rule_positions(&rules);
    let mut log = Log::start(out, &super::sorted_problems(result_in))?;
    super::json::render_in_batches(
        &findings,
        |text, piece| {
            for finding in piece {
                push_result(text, &finding.view(), &index)?;
            }
            Ok(())
        },
        |texts| log.results(texts.iter()),
    )?;
    log.finish(&rules, ctx)
}

/// Streams the SARIF log of findings written as they are rendered (the engine's, never all
/// held), each passed through `triage` (waivers, then the baseline); `rules_checked` are the
/// run's rules, among which is every finding's. The log is the one [`write_sarif`] makes of
/// the result the same findings, waivers and baseline give when held (a test holds the two
/// equal). The run's problems come before its results: with waivers, a first pass over the
/// findings finds which waivers match. Returns the summary, counted whether or not the log
/// could be written (as [`super::json::write_json_streamed`]).
pub fn write_sarif_streamed(
    source: &dyn FindingSource,
    triage: &super::Triage,
    rules_checked: &[RuleInfo],
    ctx: &RenderContext,
    out: &mut dyn std::io::Write,
) -> (Summary, std::io::Result<()>) {
    let rules = rules_by_id(rules_checked);
    let index = rule_positions(&rules);
    let matched = if triage.waiver_count() > 0 {
        super::json::triage_in_batches(
            source,
            triage,
            super::json::PIECE,
            false,
            |_, _| Ok(()),
            |_, _| false,
        )
        .1
    } else {
        Vec::new()
    };
    let mut problems = triage.problems(&matched);
    super::sort_problems(&mut problems);
    let mut log = Log::start(out, &problems);
    let mut failed: Option<std::io::Error> = None;
    let (summary, _) = super::json::triage_in_batches(
        source,
        triage,
        // A result is about 1.75 KB of text, 2.3 times a JSON finding: at 10k flows
        // batches of the JSON report's size held 0.25 MB more.
        super::json::PIECE / 2,
        log.is_ok(),
        |text, finding| push_result(text, finding, &index),
        |texts, rendered| {
            if let Ok(log) = &mut log {
                if let Err(e) = rendered.and_then(|()| log.results(texts)) {
                    failed.get_or_insert(e);
                }
            }
            log.is_ok() && failed.is_none()
        },
    );
    let written = match (log, failed) {
        (Err(e), _) | (Ok(_), Some(e)) => Err(e),
        (Ok(log), None) => log.finish(&rules, ctx),
    };
    (summary, written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Problem, Subject, WaiverInfo};

    /// The log as one tree of values, pretty-printed by one serde_json call.
    fn reference(result_in: &CheckResult, ctx: &RenderContext) -> String {
        let findings = super::super::sorted_findings(result_in);
        let rules = driver_rules(result_in, &findings);
        let index = rule_positions(&rules);
        let results: Vec<Value> = findings
            .iter()
            .map(|f| result(&f.view(), index.get(&*f.rule).copied()))
            .collect();
        let log = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "lexflow",
                        "version": ctx.tool_version,
                        "semanticVersion": ctx.tool_version,
                        "rules": rules.values().map(rule_descriptor).collect::<Vec<_>>(),
                    },
                },
                "invocations": [{
                    "executionSuccessful": true,
                    "toolConfigurationNotifications":
                        notifications(&super::super::sorted_problems(result_in)),
                }],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        serde_json::to_string_pretty(&log).unwrap() + "\n"
    }

    fn finding(i: u32) -> Finding {
        let subject = Subject {
            kind: "flow",
            id: format!("F-{i:06}"),
        };
        let path = if i.is_multiple_of(3) {
            vec!["a".to_string(), "b\"c".to_string()]
        } else {
            Vec::new()
        };
        Finding {
            rule: format!("R-{}", i % 4).into(),
            title: "A \"title\"\nwith a line break".into(),
            law: "L".into(),
            citation: "Art. 1".into(),
            severity: [Severity::Error, Severity::Warning, Severity::Review][i as usize % 3],
            status: if i.is_multiple_of(5) {
                Status::Waived
            } else {
                Status::Open
            },
            fingerprint: Finding::compute_fingerprint("R-1", &subject, &path),
            subject,
            location: Location {
                file: if i.is_multiple_of(2) {
                    "city.json".into()
                } else {
                    "/srv/city.yaml".into()
                },
                line: i,
                column: 3,
            },
            path_flows: if path.is_empty() {
                Vec::new()
            } else {
                vec!["f-1".into()]
            },
            path,
            message: "message ✓ \u{1b}[31m".into(),
            remediation: "fix it".into(),
            waiver: i.is_multiple_of(5).then(|| {
                Box::new(WaiverInfo {
                    justification: "accepted".into(),
                    approver: "A".into(),
                    ticket: "T-1".into(),
                    expires: "2027-01-01".into(),
                })
            }),
        }
    }

    #[test]
    fn the_streamed_log_is_what_one_serde_call_writes() {
        let ctx = RenderContext::default();
        let empty = CheckResult::default();
        let mut some = CheckResult {
            findings: (1..=7).map(finding).collect(),
            problems: vec![Problem {
                kind: "unused-waiver".into(),
                message: "matched nothing".into(),
                location: None,
            }],
            ..CheckResult::default()
        };
        some.recount();
        let mut many = CheckResult {
            findings: (1..=(super::super::json::BATCH as u32
                + super::super::json::PIECE as u32
                + 5))
                .map(finding)
                .collect(),
            ..CheckResult::default()
        };
        many.recount();
        for result in [&empty, &some, &many] {
            assert_eq!(render_sarif(result, &ctx).unwrap(), reference(result, &ctx));
        }
    }

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            artifact_location("/srv/city plans/a.yaml"),
            json!({"uri": "file:///srv/city%20plans/a.yaml"})
        );
        assert_eq!(
            artifact_location("dir/a.yaml"),
            json!({"uri": "dir/a.yaml", "uriBaseId": "%SRCROOT%"})
        );
    }

    #[test]
    fn names_are_camel_case() {
        assert_eq!(
            camel_name("Cross-border transfer (art. 38)"),
            "CrossBorderTransferArt38"
        );
    }
}
