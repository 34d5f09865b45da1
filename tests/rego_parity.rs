//! lexflow and regorus (the Rust implementation of OPA's Rego) judge the same generated
//! cities with the same rules (benches/subset.policy and benches/rego/subset.rego) and must
//! report the same set of (rule, subject) violations. Sizes stay small so that `cargo test`
//! stays fast; the benchmark (`cargo bench --bench scale`) times the larger ones.

#[path = "../benches/rego/harness.rs"]
mod harness;

use lexflow::gen::Format;

fn parity(flows: usize, seed: u64) {
    let program = harness::subset_program();
    let (generated, set) = harness::city(flows, seed, 1, Format::Yaml, &program);
    let ours = harness::lexflow_violations(&program, &set);
    let mut engine = harness::rego_engine(&set);
    let theirs = harness::rego_violations(&mut engine, "violations");
    let only_ours: Vec<_> = ours.difference(&theirs).take(5).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).take(5).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "{flows} flows, seed {seed}: only lexflow {only_ours:?}, only regorus {only_theirs:?}"
    );
    assert_eq!(ours.len(), generated.expected.values().sum::<usize>());
    // Both Rego formulations of the path rule agree.
    let tuned = harness::rego_violations(&mut engine, "violations_tuned");
    assert_eq!(theirs, tuned);
}

#[test]
fn same_violations_small_cities() {
    for seed in 1..=4 {
        parity(300, seed);
    }
}

#[test]
fn same_violations_5k_flows() {
    parity(5000, 11);
}
