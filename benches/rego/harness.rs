//! Shared by `tests/rego_parity.rs` and `benches/scale.rs`: the benchmark subset compiled by
//! both engines over one generated city, and each engine's violations as (rule, subject).
//! The subject of a path finding is its target system (the last system of the witness path):
//! lexflow reports the path's last flow, Rego the system reached.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use lexflow::date::Date;
use lexflow::engine::{self, CheckOptions};
use lexflow::gen::{self, Format, GenOptions};
use lexflow::lang::{self, PolicySelection, Program};
use lexflow::manifest::{self, model::ManifestSet};

pub const SUBSET_REGO: &str = include_str!("subset.rego");
pub const SUBSET_LAWS: [&str; 2] = ["SUB-PIPL", "SUB-GDPR"];

pub fn as_of() -> Date {
    Date::parse("2026-06-01").expect("date")
}

pub fn subset_policy_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/subset.policy")
}

/// The bundled files plus `benches/subset.policy`.
pub fn subset_program() -> Program {
    let selection = PolicySelection {
        bundled: true,
        paths: vec![subset_policy_path()],
    };
    match lang::load_program(&selection) {
        Ok(p) => p,
        Err(e) => panic!("subset.policy does not compile: {:?}", e.reports()),
    }
}

pub fn subset_options() -> CheckOptions {
    CheckOptions {
        as_of: as_of(),
        laws: Some(SUBSET_LAWS.iter().map(|s| s.to_string()).collect()),
    }
}

/// Generates a city and loads it with the real loader.
pub fn city(
    flows: usize,
    seed: u64,
    files: usize,
    format: Format,
    program: &Program,
) -> (gen::Generated, ManifestSet) {
    let generated = gen::generate(&GenOptions {
        flows,
        seed,
        files,
        format,
    });
    let (set, _) = match manifest::load_sources(generated.files.clone(), &program.vocab) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let shown: Vec<String> = errors.iter().take(5).map(|e| format!("{e:?}")).collect();
            panic!("generated manifests do not load: {}", shown.join("\n"))
        }
    };
    (generated, set)
}

pub type Violations = BTreeSet<(String, String)>;

pub fn lexflow_violations(program: &Program, set: &ManifestSet) -> Violations {
    let result = engine::check(program, set, &subset_options());
    result
        .findings
        .iter()
        .map(|f| {
            let subject = match f.path.last() {
                Some(target) => target.clone(),
                None => f.subject.id.clone(),
            };
            (f.rule.to_string(), subject)
        })
        .collect()
}

/// A regorus engine with the Rego subset and the city as input, ready for warm evaluation.
pub fn rego_engine(set: &ManifestSet) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("subset.rego".to_string(), SUBSET_REGO.to_string())
        .expect("subset.rego compiles");
    let input = gen::rego::input(set, as_of()).to_string();
    engine.set_input(regorus::Value::from_json_str(&input).expect("input JSON"));
    engine
}

/// Evaluates `data.lexflow.subset.<rule>` (a set of {"rule", "subject"} objects).
pub fn rego_violations(engine: &mut regorus::Engine, rule: &str) -> Violations {
    let value = engine
        .eval_rule(format!("data.lexflow.subset.{rule}"))
        .expect("rego evaluation");
    let set = value.as_set().expect("a set of violations");
    set.iter()
        .map(|v| {
            let field = |k: &str| v[k].as_string().map(|s| s.to_string()).unwrap_or_default();
            (field("rule"), field("subject"))
        })
        .collect()
}
