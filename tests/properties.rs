//! Property tests over generated manifests:
//! (a) findings do not depend on the order of files, organizations, systems or flows;
//! (b) a reported witness path is a real path of the graph whose every flow carries the data
//!     the path rule asked for;
//! (c) parsing and checking the bundled packs is deterministic.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use lexflow::date::Date;
use lexflow::engine::{check, CheckOptions};
use lexflow::findings::CheckResult;
use lexflow::lang::{compile_texts, Program};
use lexflow::manifest::load_sources;
use lexflow::report::{render, Format, RenderContext};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// A path rule (and a few others) beside the bundled packs.
const POLICY: &str = r#"
law PROPS "Property-test pack" {
  rule PROPS-PATH "Location data collected in the EEA reaches the US or China" {
    cite "Art. 1"
    severity warning
    for each path p from system s where s.location in EEA and s.collected has personal
                    to system t where t.location in [US, CN]
                    along flows g where g.data has location
    message "location data reaches {t.id} in {p.length} hops"
    remedy "Stop it."
  }

  rule PROPS-ANY "Anything reaches a dashboard" {
    cite "Art. 2"
    severity review
    for each path p from system s where s.collected has personal
                    to system t where t.kind = dashboard
                    along flows g where g.legal_basis != consent
    remedy "Look."
  }

  rule PROPS-CONVERGE "Several operators feed one system" {
    cite "Art. 3"
    severity review
    for each system s
      let sources = count distinct g.from.operator over flows g where g.to = s
      let volume = sum g.individuals over flows g where g.to = s
      where sources >= 2 or volume >= 1_000
    remedy "Assess."
  }
}
"#;

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        compile_texts(&[("props.policy", POLICY)], true)
            .unwrap_or_else(|e| panic!("the test pack compiles: {:?}", e.errors))
    })
}

/// Every law, on by default or not.
fn options(program: &Program, as_of: &str) -> CheckOptions {
    CheckOptions {
        as_of: Date::parse(as_of).expect("a date"),
        laws: Some(program.laws.iter().map(|l| l.name.clone()).collect()),
    }
}

const COUNTRIES: &[&str] = &["CN", "CN-GD", "DE", "FR", "US", "SG", "GB", "HK"];
const ORG_KINDS: &[&str] = &["state_organ", "public_authority", "company", "nonprofit"];
const SYSTEM_KINDS: &[&str] = &[
    "camera",
    "sensor",
    "service",
    "database",
    "cloud",
    "dashboard",
];
const DATA: &[&str] = &[
    "contact.email",
    "identifier.device",
    "location",
    "location.precise",
    "location.track",
    "biometric.facial",
    "health",
    "non_personal.aggregate",
];
const BASES: &[&str] = &["consent", "contract", "public_task", "legitimate_interests"];

#[derive(Clone, Debug)]
struct Org {
    country: usize,
    kind: usize,
}

#[derive(Clone, Debug)]
struct Sys {
    kind: usize,
    operator: usize,
    location: usize,
    collects: Option<(Vec<usize>, Option<usize>, Option<u64>)>,
}

#[derive(Clone, Debug)]
struct FlowSpec {
    from: usize,
    to: usize,
    data: Vec<usize>,
    basis: Option<usize>,
    individuals: Option<u64>,
}

#[derive(Clone, Debug)]
struct Model {
    orgs: Vec<Org>,
    systems: Vec<Sys>,
    flows: Vec<FlowSpec>,
    /// Flows a DPIA covers.
    dpia: Vec<usize>,
}

fn data_list() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(0..DATA.len(), 1..=3).prop_map(|s| s.into_iter().collect())
}

fn model() -> impl Strategy<Value = Model> {
    (1usize..=3, 1usize..=8).prop_flat_map(|(n_orgs, n_systems)| {
        let orgs = proptest::collection::vec(
            (0..COUNTRIES.len(), 0..ORG_KINDS.len())
                .prop_map(|(country, kind)| Org { country, kind }),
            n_orgs,
        );
        let systems = proptest::collection::vec(
            (
                0..SYSTEM_KINDS.len(),
                0..n_orgs,
                0..COUNTRIES.len(),
                proptest::option::of((
                    data_list(),
                    proptest::option::of(0..BASES.len()),
                    proptest::option::of(0u64..2_000),
                )),
            )
                .prop_map(|(kind, operator, location, collects)| Sys {
                    kind,
                    operator,
                    location,
                    collects,
                }),
            n_systems,
        );
        let flows = proptest::collection::vec(
            (
                0..n_systems,
                0..n_systems,
                data_list(),
                proptest::option::of(0..BASES.len()),
                proptest::option::of(0u64..2_000),
            )
                .prop_map(|(from, to, data, basis, individuals)| FlowSpec {
                    from,
                    to,
                    data,
                    basis,
                    individuals,
                }),
            0..=14,
        );
        (orgs, systems, flows).prop_flat_map(|(orgs, systems, flows)| {
            let n_flows = flows.len();
            let dpia = if n_flows == 0 {
                Just(Vec::new()).boxed()
            } else {
                proptest::collection::vec(0..n_flows, 0..=2).boxed()
            };
            (Just(orgs), Just(systems), Just(flows), dpia).prop_map(
                |(orgs, systems, flows, dpia)| Model {
                    orgs,
                    systems,
                    flows,
                    dpia,
                },
            )
        })
    })
}

fn org_json(i: usize, o: &Org) -> Value {
    json!({"id": format!("o{i}"), "country": COUNTRIES[o.country].split('-').next().unwrap(), "kind": ORG_KINDS[o.kind]})
}

fn system_json(i: usize, s: &Sys) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("s{i}")));
    m.insert("kind".into(), json!(SYSTEM_KINDS[s.kind]));
    m.insert("operator".into(), json!(format!("o{}", s.operator)));
    m.insert("location".into(), json!(COUNTRIES[s.location]));
    if let Some((data, basis, individuals)) = &s.collects {
        let mut c = Map::new();
        c.insert(
            "data".into(),
            json!(data.iter().map(|&d| DATA[d]).collect::<Vec<_>>()),
        );
        c.insert("subjects".into(), json!("residents"));
        c.insert("purpose".into(), json!("service_delivery"));
        if let Some(b) = basis {
            c.insert("legal_basis".into(), json!(BASES[*b]));
        }
        if let Some(n) = individuals {
            c.insert("individuals".into(), json!(n));
        }
        m.insert("collects".into(), json!([Value::Object(c)]));
    }
    Value::Object(m)
}

fn flow_json(i: usize, f: &FlowSpec) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("f{i}")));
    m.insert("from".into(), json!(format!("s{}", f.from)));
    m.insert("to".into(), json!(format!("s{}", f.to)));
    m.insert(
        "data".into(),
        json!(f.data.iter().map(|&d| DATA[d]).collect::<Vec<_>>()),
    );
    if let Some(b) = f.basis {
        m.insert("legal_basis".into(), json!(BASES[b]));
    }
    if let Some(n) = f.individuals {
        m.insert("individuals".into(), json!(n));
    }
    Value::Object(m)
}

/// One entity of the model, in the file it is written to.
#[derive(Clone, Copy, Debug)]
enum Entity {
    Org(usize),
    Sys(usize),
    Flow(usize),
    Dpia,
}

/// The manifest files: entities in the given order, each in the given file (0-based).
fn files(model: &Model, order: &[(Entity, usize)], n_files: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in 0..n_files {
        let mut doc = Map::new();
        doc.insert("lexflow".into(), json!(1));
        let mut lists: [(&str, Vec<Value>); 4] = [
            ("organizations", vec![]),
            ("systems", vec![]),
            ("flows", vec![]),
            ("assessments", vec![]),
        ];
        for &(entity, f) in order {
            if f != file {
                continue;
            }
            match entity {
                Entity::Org(i) => lists[0].1.push(org_json(i, &model.orgs[i])),
                Entity::Sys(i) => lists[1].1.push(system_json(i, &model.systems[i])),
                Entity::Flow(i) => lists[2].1.push(flow_json(i, &model.flows[i])),
                Entity::Dpia => lists[3].1.push(json!({
                    "id": "dpia",
                    "kind": "dpia",
                    "covers": model.dpia.iter().map(|f| format!("f{f}")).collect::<BTreeSet<_>>(),
                })),
            }
        }
        for (key, list) in lists {
            if !list.is_empty() {
                doc.insert(key.into(), Value::Array(list));
            }
        }
        let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap();
        out.push((format!("m{file}.json"), text));
    }
    out
}

fn entities(model: &Model) -> Vec<Entity> {
    let mut all: Vec<Entity> = (0..model.orgs.len()).map(Entity::Org).collect();
    all.extend((0..model.systems.len()).map(Entity::Sys));
    all.extend((0..model.flows.len()).map(Entity::Flow));
    if !model.dpia.is_empty() {
        all.push(Entity::Dpia);
    }
    all
}

fn run(files: Vec<(String, String)>, as_of: &str) -> CheckResult {
    let program = program();
    let (set, _) = load_sources(files.clone(), &program.vocab)
        .unwrap_or_else(|e| panic!("the generated manifest loads: {e:?}\n{files:#?}"));
    check(program, &set, &options(program, as_of))
}

type Key = (String, String, String, Vec<String>);

fn keys(result: &CheckResult) -> BTreeSet<Key> {
    result
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.subject.kind.to_string(),
                f.subject.id.clone(),
                f.path.clone(),
            )
        })
        .collect()
}

const DATES: &[&str] = &["2019-06-01", "2022-06-01", "2026-06-01"];

/// A model, a shuffled order of its entities, a file for each entity, and a date.
fn shuffled() -> impl Strategy<Value = (Model, Vec<(Entity, usize)>, usize, &'static str)> {
    model().prop_flat_map(|m| {
        let all = entities(&m);
        let n = all.len();
        (
            Just(m),
            Just(all).prop_shuffle(),
            proptest::collection::vec(0usize..3, n),
            proptest::sample::select(DATES),
        )
            .prop_map(|(m, order, placement, date)| {
                let order: Vec<(Entity, usize)> = order.into_iter().zip(placement).collect();
                (m, order, 3, date)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// (a) The same entities in another order, spread over other files (in another file
    /// order): the same findings by (rule, subject, path).
    #[test]
    fn findings_do_not_depend_on_input_order((model, order, n_files, as_of) in shuffled()) {
        let original: Vec<(Entity, usize)> = entities(&model).into_iter().map(|e| (e, 0)).collect();
        let expected = keys(&run(files(&model, &original, 1), as_of));
        let mut spread = files(&model, &order, n_files);
        spread.reverse();
        spread.retain(|(_, text)| text.contains('['));
        let actual = keys(&run(spread, as_of));
        let only_before: Vec<_> = expected.difference(&actual).collect();
        let only_after: Vec<_> = actual.difference(&expected).collect();
        prop_assert!(
            only_before.is_empty() && only_after.is_empty(),
            "only in the original order: {:#?}\nonly after shuffling: {:#?}",
            only_before,
            only_after
        );
    }

    /// (b) Every witness path is a real path: consecutive systems joined by the reported
    /// flows, in order, each flow carrying location data; it starts at an EEA system that
    /// collects personal data and ends in the US or China.
    #[test]
    fn witness_paths_are_real_paths(model in model()) {
        let order: Vec<(Entity, usize)> = entities(&model).into_iter().map(|e| (e, 0)).collect();
        let result = run(files(&model, &order, 1), "2026-06-01");
        let eea = ["DE", "FR"];
        for finding in result.findings.iter().filter(|f| &*f.rule == "PROPS-PATH") {
            let systems: Vec<usize> = finding.path.iter().map(|s| s[1..].parse().unwrap()).collect();
            let flows: Vec<usize> = finding.path_flows.iter().map(|f| f[1..].parse().unwrap()).collect();
            prop_assert!(!flows.is_empty(), "{:#?}", finding);
            prop_assert_eq!(systems.len(), flows.len() + 1, "{:#?}", finding);
            for (i, &f) in flows.iter().enumerate() {
                let flow = &model.flows[f];
                prop_assert_eq!(flow.from, systems[i], "{:#?}", finding);
                prop_assert_eq!(flow.to, systems[i + 1], "{:#?}", finding);
                prop_assert!(
                    flow.data.iter().any(|&d| DATA[d].starts_with("location")),
                    "flow f{} carries no location data: {:#?}", f, finding
                );
            }
            let first = &model.systems[systems[0]];
            prop_assert!(eea.contains(&COUNTRIES[first.location]), "{:#?}", finding);
            prop_assert!(
                first.collects.as_ref().is_some_and(|(d, _, _)| d.iter().any(|&d| !DATA[d].starts_with("non_personal"))),
                "{:#?}", finding
            );
            let last = &model.systems[*systems.last().unwrap()];
            prop_assert!(COUNTRIES[last.location].starts_with("US") || COUNTRIES[last.location].starts_with("CN"), "{:#?}", finding);
            prop_assert_eq!(finding.subject.kind, "flow");
            prop_assert_eq!(&finding.subject.id, finding.path_flows.last().unwrap());
        }
    }

    /// (c) Two compilations of the bundled packs judge a manifest identically, to the byte.
    #[test]
    fn bundled_packs_are_deterministic(model in model(), as_of in proptest::sample::select(DATES)) {
        static SECOND: OnceLock<Program> = OnceLock::new();
        let second = SECOND.get_or_init(|| compile_texts(&[("props.policy", POLICY)], true).unwrap_or_else(|e| panic!("{:?}", e.errors)));
        let order: Vec<(Entity, usize)> = entities(&model).into_iter().map(|e| (e, 0)).collect();
        let files = files(&model, &order, 1);
        let first = run(files.clone(), as_of);
        let (set, _) = load_sources(files, &second.vocab).unwrap();
        let again = check(second, &set, &options(second, as_of));
        prop_assert_eq!(&first.findings, &again.findings);
        let ctx = RenderContext::default();
        prop_assert_eq!(render(Format::Json, &first, &ctx), render(Format::Json, &again, &ctx));
    }
}

/// (c) on the shipped examples: parse → check twice from scratch, byte-identical JSON.
#[test]
fn bundled_packs_judge_the_examples_deterministically() {
    let examples = [
        "examples/longgang-video/manifest.yaml",
        "examples/eu-city-wifi/manifest.yaml",
        "examples/vendor-proposal/city.yaml",
        "examples/vendor-proposal/vendor.yaml",
    ];
    let texts: Vec<(String, String)> = examples
        .iter()
        .map(|p| (p.to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let once = || {
        let program = compile_texts(&[], true).unwrap_or_else(|e| panic!("{:?}", e.errors));
        let (set, _) = load_sources(texts.clone(), &program.vocab).unwrap();
        let result = check(&program, &set, &options(&program, "2026-06-01"));
        assert!(!result.findings.is_empty());
        render(Format::Json, &result, &RenderContext::default())
    };
    assert_eq!(once(), once());
}

/// Found by (a): two flows join the same two systems; the witness took whichever came
/// first in the file, so reordering the manifest changed the finding's subject (and its
/// fingerprint, breaking baselines). The witness now prefers the smaller flow id.
#[test]
fn parallel_flows_give_the_same_witness_in_either_order() {
    let manifest = |flows: &str| {
        format!(
            "lexflow: 1\norganizations:\n  - {{id: o, country: DE, kind: company}}\nsystems:\n  - {{id: a, kind: sensor, operator: o, location: DE, collects: [{{data: [location.precise], subjects: residents, purpose: planning}}]}}\n  - {{id: b, kind: cloud, operator: o, location: US}}\nflows:\n{flows}"
        )
    };
    let x = "  - {id: x, from: a, to: b, data: [location.precise]}\n";
    let y = "  - {id: y, from: a, to: b, data: [location.track]}\n";
    let subjects = |text: String| -> Vec<(String, Vec<String>)> {
        run(vec![("m.yaml".into(), text)], "2026-06-01")
            .findings
            .iter()
            .filter(|f| &*f.rule == "PROPS-PATH")
            .map(|f| (f.subject.id.clone(), f.path_flows.clone()))
            .collect()
    };
    let expected = vec![("x".to_string(), vec!["x".to_string()])];
    assert_eq!(subjects(manifest(&format!("{x}{y}"))), expected);
    assert_eq!(subjects(manifest(&format!("{y}{x}"))), expected);
}
