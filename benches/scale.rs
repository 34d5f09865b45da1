//! City-scale benchmarks (divan; `cargo bench --bench scale`). Each stage is timed apart:
//! manifest load (YAML and JSON, the real span-keeping loader), rule compile, graph build,
//! evaluation of all bundled packs, each report format over its result, and the shared
//! subset in lexflow and in regorus (warm:
//! policy compiled and input loaded once, then evaluation timed; one thread each).
//! The whole `lexflow check` process and peak memory: `scripts/bench.sh`.
//!
//! Sizes: `LEXFLOW_BENCH_FLOWS=1000,10000,100000` (default 1000,10000). regorus is timed up
//! to `LEXFLOW_BENCH_REGO_MAX` flows (default 10000: it needs minutes at 100k).
//! Extra rule files for "all packs": `LEXFLOW_BENCH_POLICY=path/to/policies`.

#[path = "rego/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use divan::Bencher;
use lexflow::engine::{self, eval::World, CheckOptions};
use lexflow::findings::CheckResult;
use lexflow::gen::{self, Format, GenOptions};
use lexflow::lang::{self, PolicySelection, Program};
use lexflow::manifest::{self, model::ManifestSet, FlowGraph};
use lexflow::report;

// The allocator of the `lexflow` binary, so that stage times match the whole process; both
// engines of the side-by-side run under it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn env_sizes(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().replace('_', "").parse().ok())
                .collect()
        })
        .unwrap_or_else(|| default.to_vec())
}

fn sizes() -> Vec<usize> {
    env_sizes("LEXFLOW_BENCH_FLOWS", &[1_000, 10_000])
}

fn rego_sizes() -> Vec<usize> {
    let max = env_sizes("LEXFLOW_BENCH_REGO_MAX", &[10_000])
        .first()
        .copied()
        .unwrap_or(10_000);
    sizes().into_iter().filter(|&n| n <= max).collect()
}

fn extra_policies() -> Vec<PathBuf> {
    std::env::var_os("LEXFLOW_BENCH_POLICY")
        .map(|p| vec![PathBuf::from(p)])
        .unwrap_or_default()
}

fn all_packs() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let selection = PolicySelection {
            bundled: true,
            paths: extra_policies(),
        };
        lang::load_program(&selection).unwrap_or_else(|e| panic!("policies: {:?}", e.reports()))
    })
}

fn subset() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(harness::subset_program)
}

type Texts = Arc<Vec<(String, String)>>;

/// Generated manifest texts, per (flows, format): generated once per run.
fn texts(flows: usize, format: Format) -> Texts {
    static CACHE: OnceLock<Mutex<HashMap<(usize, bool), Texts>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().expect("cache");
    let files = flows.div_ceil(200_000).max(1);
    cache
        .entry((flows, format == Format::Json))
        .or_insert_with(|| {
            Arc::new(
                gen::generate(&GenOptions {
                    flows,
                    seed: 1,
                    files,
                    format,
                })
                .files,
            )
        })
        .clone()
}

/// The loaded city, per size.
fn city(flows: usize) -> Arc<ManifestSet> {
    static CACHE: OnceLock<Mutex<HashMap<usize, Arc<ManifestSet>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().expect("cache");
    cache
        .entry(flows)
        .or_insert_with(|| {
            let files = (*texts(flows, Format::Json)).clone();
            let (set, _) =
                manifest::load_sources(files, &subset().vocab).expect("generated city loads");
            Arc::new(set)
        })
        .clone()
}

fn load(bencher: Bencher, flows: usize, format: Format) {
    let texts = texts(flows, format);
    let vocab = &subset().vocab;
    bencher
        .with_inputs(|| (*texts).clone())
        .bench_local_values(|files| {
            manifest::load_sources(files, vocab)
                .map(|(set, _)| set.flows.len())
                .unwrap_or(0)
        });
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn load_yaml(bencher: Bencher, flows: usize) {
    load(bencher, flows, Format::Yaml);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn load_json(bencher: Bencher, flows: usize) {
    load(bencher, flows, Format::Json);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn compile_rules() -> Program {
    let selection = PolicySelection {
        bundled: true,
        paths: extra_policies(),
    };
    lang::load_program(&selection).unwrap_or_else(|e| panic!("policies: {:?}", e.reports()))
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn graph_build(bencher: Bencher, flows: usize) {
    let set = city(flows);
    let program = subset();
    let as_of = harness::as_of();
    bencher.bench_local(|| {
        let graph = FlowGraph::build(&set);
        let world = World::new(program, &set, &graph, as_of);
        (graph.graph.edge_count(), world.active_flows.len())
    });
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn evaluate_all_packs(bencher: Bencher, flows: usize) {
    let set = city(flows);
    let program = all_packs();
    let options = CheckOptions {
        as_of: harness::as_of(),
        laws: None,
    };
    bencher.bench_local(|| engine::check(program, &set, &options).findings.len());
}

/// The check result of all packs over the city, per size (for the report benchmarks).
fn result(flows: usize) -> Arc<CheckResult> {
    static CACHE: OnceLock<Mutex<HashMap<usize, Arc<CheckResult>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().expect("cache");
    cache
        .entry(flows)
        .or_insert_with(|| {
            let options = CheckOptions {
                as_of: harness::as_of(),
                laws: None,
            };
            Arc::new(engine::check(all_packs(), &city(flows), &options))
        })
        .clone()
}

/// Renders the result of all packs in `format`, the manifests' summary included (as `check`
/// gives it to the procurement reports). Every format is timed, so that a report that grows
/// faster than the city shows here (the Markdown and HTML reports once took two minutes at
/// 100k flows).
fn report(bencher: Bencher, flows: usize, format: report::Format) {
    let result = result(flows);
    let ctx = report::RenderContext {
        as_of: Some(harness::as_of()),
        manifest: format
            .shows_manifests()
            .then(|| report::diagram::ManifestSummary::from_set(&city(flows))),
        ..report::RenderContext::default()
    };
    bencher.bench_local(|| {
        let mut out = std::io::sink();
        report::render_to(format, &result, &ctx, &mut out).map(|()| result.findings.len())
    });
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_human(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Human);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_json(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Json);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_sarif(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Sarif);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_junit(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Junit);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_github(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Github);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_markdown(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Markdown);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn report_html(bencher: Bencher, flows: usize) {
    report(bencher, flows, report::Format::Html);
}

#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn subset_lexflow(bencher: Bencher, flows: usize) {
    let set = city(flows);
    let program = subset();
    let options = harness::subset_options();
    // One thread, as regorus has.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    bencher.bench_local(|| pool.install(|| engine::check(program, &set, &options).findings.len()));
}

#[divan::bench(args = rego_sizes(), sample_count = 3, sample_size = 1)]
fn subset_regorus(bencher: Bencher, flows: usize) {
    let set = city(flows);
    let mut engine = harness::rego_engine(&set);
    bencher.bench_local(|| harness::rego_violations(&mut engine, "violations").len());
}

#[divan::bench(args = rego_sizes(), sample_count = 3, sample_size = 1)]
fn subset_regorus_multi_source(bencher: Bencher, flows: usize) {
    let set = city(flows);
    let mut engine = harness::rego_engine(&set);
    bencher.bench_local(|| harness::rego_violations(&mut engine, "violations_tuned").len());
}
