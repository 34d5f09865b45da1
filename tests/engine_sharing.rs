//! The engine judges the `for each` rules over one kind together: their `where` tests and
//! aggregate indexes are shared across rules and packs (equal up to variable numbering, sets
//! compared by their members, definitions inlined). Sharing must never change a result: the
//! bundled packs judged together report exactly what each of their rules reports alone.

#[path = "../benches/rego/harness.rs"]
mod harness;

use lexflow::engine::{self, CheckOptions};
use lexflow::findings::Finding;
use lexflow::gen::Format;
use lexflow::lang::{self, PolicySelection, Program};

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// `program` with only rule `rule` of law `law` left.
fn only(program: &Program, law: usize, rule: usize) -> Program {
    let mut one = program.clone();
    for (l, each) in one.laws.iter_mut().enumerate() {
        if l == law {
            each.rules = each.rules.get(rule).cloned().into_iter().collect();
        } else {
            each.rules.clear();
        }
    }
    one
}

#[test]
fn rules_judged_together_report_what_each_rule_reports_alone() {
    let program = lang::load_program(&PolicySelection {
        bundled: true,
        paths: Vec::new(),
    })
    .expect("bundled packs compile");
    for (flows, seed, format) in [(400, 7, Format::Json), (250, 3, Format::Yaml)] {
        let (_, set) = harness::city(flows, seed, 1, format, &program);
        let options = CheckOptions {
            as_of: harness::as_of(),
            laws: None,
        };
        let together = engine::check(&program, &set, &options).findings;
        assert!(
            together.len() >= 100,
            "the generated city should fire many rules ({} findings)",
            together.len()
        );
        let mut alone = Vec::new();
        let mut rules_fired = 0;
        for (l, law) in program.laws.iter().enumerate() {
            for r in 0..law.rules.len() {
                let findings = engine::check(&only(&program, l, r), &set, &options).findings;
                rules_fired += usize::from(!findings.is_empty());
                alone.extend(findings);
            }
        }
        assert!(rules_fired >= 10, "only {rules_fired} rules fired");
        assert_eq!(
            sorted(together),
            sorted(alone),
            "{flows} flows, seed {seed}"
        );
    }
}

#[test]
fn results_shared_across_units_of_work_do_not_depend_on_the_threads() {
    // Aggregates whose answer depends only on their join key (CAC-7's sums per exporter,
    // "exists a flow into this system") are computed once per run and shared by every unit
    // of work (4,096 entities) and thread. A city of three units, judged on one thread and
    // on four, must report the same findings, and the per-exporter rules must fire.
    let program = lang::load_program(&PolicySelection {
        bundled: true,
        paths: Vec::new(),
    })
    .expect("bundled packs compile");
    let (_, set) = harness::city(9_000, 11, 1, Format::Json, &program);
    let options = CheckOptions {
        as_of: harness::as_of(),
        laws: None,
    };
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
            .install(|| engine::check(&program, &set, &options).findings)
    };
    let one = on(1);
    let four = on(4);
    assert!(
        one.iter().any(|f| &*f.rule == "CAC-7"),
        "the per-exporter sums should flag exports"
    );
    assert!(one.iter().any(|f| &*f.rule == "GDPR-5-1-E"));
    assert_eq!(one, four);
}
