//! `lexflow gen` (hidden): writes a seeded city-scale manifest set for benchmarks, and prints
//! the violation counts planted for the benchmark subset (`benches/subset.policy`) as JSON.

use std::path::PathBuf;

use crate::gen::{self, Format, GenOptions};

use super::InputError;

/// What hands the memory a stage freed back to the kernel, set by the program that chose
/// the allocator (`main.rs`); without one (tests, the library used alone) nothing is done.
static GIVE_BACK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

static INPUT_SIZE: std::sync::OnceLock<fn(u64)> = std::sync::OnceLock::new();

/// Sets what [`input_size_found`] calls (the first setting holds).
pub fn on_input_size(tune: fn(u64)) {
    let _ = INPUT_SIZE.set(tune);
}

/// Once the manifests of a `check` or `load` are found, before any is read: their total
/// size on disk, for the process to tune itself to (the allocator, set in `main`).
pub(crate) fn input_size_found(bytes: u64) {
    if let Some(tune) = INPUT_SIZE.get() {
        tune(bytes);
    }
}

/// Sets what [`give_back_freed_memory`] calls (the first setting holds).
pub fn on_give_back(give_back: fn()) {
    let _ = GIVE_BACK.set(give_back);
}

/// Between two stages of a check: the memory the last one freed goes back to the kernel
/// before the next one takes more. Freed on another thread than its own, a page is only
/// reclaimed when its thread next allocates, and the pool's threads sleep between stages:
/// a 10k-flow Markdown report peaked 1.8 MiB higher without this (medians of 5 runs).
pub(crate) fn give_back_freed_memory() {
    if let Some(give_back) = GIVE_BACK.get() {
        give_back();
    }
}

#[derive(clap::Args, Debug)]
pub struct GenArgs {
    /// Number of flows (systems ≈ flows/4, organizations ≈ flows/40).
    #[arg(long, default_value_t = 1000)]
    pub flows: usize,
    /// Seed: the same seed and sizes give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of files to split the city over (references cross files).
    #[arg(long, default_value_t = 1)]
    pub files: usize,
    /// yaml or json.
    #[arg(long, default_value = "yaml")]
    pub format: String,
    /// Folder to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run_gen(args: &GenArgs) -> Result<i32, InputError> {
    let format: Format = args.format.parse().map_err(|e: String| {
        eprintln!("lexflow gen: {e}");
        InputError
    })?;
    let options = GenOptions {
        flows: args.flows,
        seed: args.seed,
        files: args.files.max(1),
        format,
    };
    let generated = gen::generate(&options);
    let fail = |e: std::io::Error| {
        eprintln!("lexflow gen: cannot write to {}: {e}", args.out.display());
        InputError
    };
    std::fs::create_dir_all(&args.out).map_err(fail)?;
    for (name, text) in &generated.files {
        std::fs::write(args.out.join(name), text).map_err(fail)?;
    }
    let summary = serde_json::json!({
        "flows": generated.flows,
        "systems": generated.systems,
        "organizations": generated.organizations,
        "files": generated.files.len(),
        "bytes": generated.total_bytes(),
        "expected": generated.expected,
    });
    println!("{summary}");
    Ok(0)
}

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// Manifest files or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `lexflow load` (hidden): loads manifests with the bundled vocabulary and nothing else, so
/// that `scripts/bench.sh` can compare a whole `check` with loading alone.
pub fn run_load(args: &LoadArgs) -> Result<i32, InputError> {
    let program = crate::lang::load_program(&crate::lang::PolicySelection {
        bundled: true,
        paths: Vec::new(),
    })
    .map_err(|_| InputError)?;
    match crate::manifest::load_paths_sized(&args.paths, &program.vocab, &input_size_found) {
        Ok((set, report)) => {
            println!(
                "{{\"files\": {}, \"organizations\": {}, \"systems\": {}, \"flows\": {}}}",
                report.loaded.len(),
                set.organizations.len(),
                set.systems.len(),
                set.flows.len()
            );
            // As `check` does: the process exits next, and freeing a city-scale model one
            // allocation at a time would add to the time of `load` what `check` does not
            // pay (at 1M flows about 0.1-0.3 s), flattering the check / load ratio.
            std::mem::forget(set);
            Ok(0)
        }
        Err(errors) => {
            eprintln!("lexflow load: {} problem(s) in the manifests", errors.len());
            Err(InputError)
        }
    }
}

/// A spinner with the current stage and elapsed time on stderr, drawn only when stderr is a
/// terminal (never in CI logs or when piped); for long runs over large inventories.
pub struct Progress(indicatif::ProgressBar);

impl Progress {
    pub fn start(stage: &str) -> Progress {
        use std::io::IsTerminal;
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_message(stage.to_string());
        Progress(bar)
    }

    pub fn stage(&self, stage: &str) {
        self.0.set_message(stage.to_string());
    }

    /// Clears the spinner before anything else is printed.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// `check --timings`: wall time of each stage, printed on stderr at the end (never into a
/// report, so reports stay deterministic).
pub struct StageTimer {
    enabled: bool,
    last: std::time::Instant,
    start: std::time::Instant,
    stages: Vec<(String, std::time::Duration, Option<u64>)>,
}

/// Peak resident memory of this process so far, in KiB (`VmHWM`; Linux only, `None`
/// elsewhere). Shown beside each stage so that a run shows where its memory peak comes from.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl StageTimer {
    pub fn new(enabled: bool) -> Self {
        let now = std::time::Instant::now();
        StageTimer {
            enabled,
            last: now,
            start: now,
            stages: Vec::new(),
        }
    }

    /// Closes the stage that started at the previous call.
    pub fn done(&mut self, stage: &str) {
        if !self.enabled {
            return;
        }
        let now = std::time::Instant::now();
        self.stages
            .push((stage.to_string(), now - self.last, peak_rss_kib()));
        self.last = now;
    }

    pub fn finish(self) {
        if !self.enabled {
            return;
        }
        for (stage, took, peak) in &self.stages {
            let peak = peak.map_or(String::new(), |kib| {
                format!("  (peak memory {:.1} MiB)", kib as f64 / 1024.0)
            });
            eprintln!(
                "lexflow: {:>9.1} ms  {stage}{peak}",
                took.as_secs_f64() * 1000.0
            );
        }
        eprintln!(
            "lexflow: {:>9.1} ms  total",
            self.start.elapsed().as_secs_f64() * 1000.0
        );
    }
}
