//! A small fixed policy (a path rule, an aggregate, a plain rule), compiled once, checked
//! over arbitrary manifest text: load + check + render the JSON and human reports. Must never
//! panic, and the JSON, human, GitHub and JUnit reports streamed as the findings are written,
//! and the JUnit, Markdown and HTML reports from packed findings, must equal the held
//! result's.
#![no_main]

use std::sync::OnceLock;

use lexflow::date::Date;
use lexflow::engine::{check, CheckOptions};
use lexflow::lang::Program;
use lexflow::report::{render, Format, RenderContext};
use libfuzzer_sys::fuzz_target;

const POLICY: &str = r#"
law FUZZ "A small pack for fuzzing" {
  effective 2018-05-25
  applies when exists system s

  rule FUZZ-PATH "Personal data reaches a third country" {
    cite "Art. 1"
    severity warning
    for each path p from system s where s.location in EEA and s.collected has personal
                    to system t where t.location not in EEA
                    along flows g where g.data has personal
    message "personal data reaches {t.id} in {t.location} in {p.length} hops"
    remedy "Stop it."
  }

  rule FUZZ-AGG "Many sources meet" {
    cite "Art. 2"
    severity review
    for each system s
      let sources = count distinct g.from.operator over flows g
          where g.to = s and g.data has personal
      let volume = sum g.individuals over flows g where g.to = s
      where sources >= 2 or volume >= 1_000_000
    message "{s.id} joins {sources} sources"
    remedy "Assess."
  }

  rule FUZZ-BASIS "A legal basis on every flow" {
    cite "Art. 3"
    for each flow f where f.data has personal
    require f.legal_basis is present
    unless exists assessment a where a.kind = dpia and a.covers has f
    remedy "Declare the legal basis."
  }
}
"#;

const BASE: &[&str] = &["vocabulary.policy", "taxonomy.policy", "countries.policy"];

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let mut texts: Vec<(&str, &str)> = lexflow::lang::bundled_files()
            .iter()
            .filter(|(name, _)| BASE.contains(name))
            .map(|(name, text)| (*name, *text))
            .collect();
        texts.push(("fuzz.policy", POLICY));
        match lexflow::lang::compile_texts(&texts, false) {
            Ok(program) => program,
            Err(errors) => panic!("the fuzz policy does not compile: {:?}", errors.errors),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let program = program();
    let files = vec![("fuzz.yaml".to_string(), text.to_string())];
    let Ok((set, _report)) = lexflow::manifest::load_sources(files, &program.vocab) else {
        return;
    };
    let options = CheckOptions {
        as_of: Date::parse("2026-06-01").unwrap_or_else(|| panic!("a date")),
        laws: None,
    };
    let result = check(program, &set, &options);
    let ctx = RenderContext::default();
    let json = render(Format::Json, &result, &ctx)
        .unwrap_or_else(|e| panic!("the JSON report cannot be rendered: {e}"));
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("the JSON report does not parse ({e}):\n{json}");
    }
    let _ = render(Format::Human, &result, &ctx);

    // `check --format json` alone streams: the same document, byte for byte.
    let graph = lexflow::manifest::FlowGraph::build(&set);
    let triage = lexflow::report::Triage::new(&[], options.as_of, None);
    let mut streamed = Vec::new();
    let (summary, written) =
        lexflow::engine::with_findings(program, &set, graph.clone(), &options, |pending| {
            lexflow::report::json::write_json_streamed(pending, &triage, &mut streamed)
        });
    if let Err(e) = written {
        panic!("the streamed JSON report cannot be written: {e}");
    }
    if streamed != json.as_bytes() {
        panic!(
            "the streamed JSON report differs from the held one:\n{}\n---\n{json}",
            String::from_utf8_lossy(&streamed)
        );
    }
    if summary != result.summary {
        panic!(
            "the streamed summary {summary:?} differs from {:?}",
            result.summary
        );
    }

    // So do `--format human` and `--format github` alone.
    for format in [Format::Human, Format::Github] {
        let held = render(format, &result, &ctx)
            .unwrap_or_else(|e| panic!("the {format} report cannot be rendered: {e}"));
        let mut streamed = Vec::new();
        let (summary, written) =
            lexflow::engine::with_findings(program, &set, graph.clone(), &options, |pending| {
                match format {
                    Format::Human => lexflow::report::human::write_human_streamed(
                        pending,
                        &triage,
                        pending.rules_checked.len(),
                        &ctx,
                        &mut streamed,
                    ),
                    _ => lexflow::report::github::write_github_streamed(
                        pending,
                        &triage,
                        &mut streamed,
                    ),
                }
            });
        if let Err(e) = written {
            panic!("the streamed {format} report cannot be written: {e}");
        }
        if streamed != held.as_bytes() || summary != result.summary {
            panic!(
                "the streamed {format} report differs from the held one:\n{}\n---\n{held}",
                String::from_utf8_lossy(&streamed)
            );
        }
    }

    // `--format junit` alone is written from the engine's findings, visited twice.
    let held = render(Format::Junit, &result, &ctx)
        .unwrap_or_else(|e| panic!("the JUnit report cannot be rendered: {e}"));
    let mut streamed = Vec::new();
    let (summary, written) =
        lexflow::engine::with_findings(program, &set, graph.clone(), &options, |pending| {
            lexflow::report::junit::write_junit_streamed(
                pending,
                &triage,
                &pending.rules_checked,
                &mut streamed,
            )
        });
    if let Err(e) = written {
        panic!("the streamed JUnit report cannot be written: {e}");
    }
    if streamed != held.as_bytes() || summary != result.summary {
        panic!(
            "the streamed JUnit report differs from the held one:\n{}\n---\n{held}",
            String::from_utf8_lossy(&streamed)
        );
    }

    // The grouped reports of several formats read packed findings: the same documents, with
    // and without the manifests' sections.
    let (packed, rules_checked) =
        lexflow::engine::with_findings(program, &set, graph.clone(), &options, |pending| {
            (
                lexflow::report::pack_findings(pending, &triage, &|| ()),
                pending.rules_checked.clone(),
            )
        });
    let (packed, summary, problems) =
        packed.unwrap_or_else(|e| panic!("the findings cannot be packed: {e}"));
    if summary != result.summary {
        panic!(
            "the packed summary {summary:?} differs from {:?}",
            result.summary
        );
    }
    let held_packed = lexflow::report::Held {
        findings: Box::new(&packed),
        problems,
        summary,
        rules_checked: &rules_checked,
    };
    let with_manifests = RenderContext {
        manifest: Some(lexflow::report::diagram::ManifestSummary::from_set(&set)),
        ..RenderContext::default()
    };
    for ctx in [&ctx, &with_manifests] {
        for format in [Format::Junit, Format::Markdown, Format::Html] {
            let held = render(format, &result, ctx)
                .unwrap_or_else(|e| panic!("the {format} report cannot be rendered: {e}"));
            let mut from_pack = Vec::new();
            match lexflow::report::render_held_to(format, &held_packed, ctx, &mut from_pack) {
                Some(Ok(())) => {}
                Some(Err(e)) => panic!("the packed {format} report cannot be written: {e}"),
                None => panic!("{format} is a grouped format"),
            }
            if from_pack != held.as_bytes() {
                panic!(
                    "the packed {format} report differs from the held one:\n{}\n---\n{held}",
                    String::from_utf8_lossy(&from_pack)
                );
            }
        }
    }
});
