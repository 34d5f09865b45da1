//! The command line: a thin layer that wires the pipeline stages together and maps
//! outcomes to exit codes (SPEC §4): 0 nothing open at or above `--fail-on`, 1 open
//! findings at or above it, 2 the input could not be read.

pub mod authoring;
pub mod procurement;
pub mod scale;
pub mod schema;
pub mod testing;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::date::Date;
use crate::engine::{self, CheckOptions};
use crate::findings::Severity;
use crate::lang::{self, PolicySelection, Program};
use crate::manifest;
use crate::report::{self, Format, RenderContext};

#[derive(Parser, Debug)]
#[command(
    name = "lexflow",
    version,
    about = "Policy-as-code compliance for smart-city data flows (PIPL, CAC, CSL, DSL, GDPR)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PolicyArgs {
    /// Add rule files or folders (a pack with a bundled pack's name replaces it).
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Leave the bundled law packs out.
    #[arg(long)]
    pub no_bundled: bool,
    /// Select laws by short name, comma-separated (e.g. `pipl,gdpr`); default: those on by default.
    #[arg(long, value_delimiter = ',', value_name = "LAWS")]
    pub law: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check manifests (files or folders) against the law packs.
    Check(CheckArgs),
    /// List the loaded laws and their rules.
    Rules {
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Show a rule: its law, citation, legal text, dates, severity and remedy.
    Explain {
        rule: String,
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Print the JSON Schema of the manifest format (draft 2020-12, for editors).
    Schema {
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Run the rule tests beside rule files (PATH/tests/RULE-ID/fires*.yaml, quiet*.yaml).
    Test {
        #[arg(default_value = "policies")]
        path: PathBuf,
    },
    /// Draw the data-flow diagram (dot, mermaid, svg), violating flows in red.
    Graph(procurement::GraphArgs),
    /// Write the GDPR Art. 30(1) record of processing activities (csv, markdown).
    Ropa(procurement::RopaArgs),
    /// Write a PIPL Art. 55-56 impact-assessment skeleton pre-filled from the manifests.
    Pipia(procurement::PipiaArgs),
    /// Format rule files in the canonical layout, keeping every comment (`-` for stdin).
    Fmt {
        /// Change nothing; show a diff and exit 1 when a file is not formatted.
        #[arg(long)]
        check: bool,
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Run the language server for editors, over standard input and output.
    Lsp,
    /// Write a seeded city-scale manifest set (benchmarks).
    #[command(hide = true)]
    Gen(scale::GenArgs),
    /// Load manifests only, without rules (benchmarks).
    #[command(hide = true)]
    Load(scale::LoadArgs),
}

/// A failure that ends the run with exit code 2, already shown to the user.
pub struct InputError;

fn show(report: miette::Report) {
    show_diagnostic(report.as_ref());
}

/// Prints a diagnostic on stderr: colours on a terminal, plain text otherwise (CI logs).
/// Manifest problems shown in full (with the quoted source); the rest get one line each.
/// Quoting a line makes the renderer scan the file from its start, so a manifest with tens of
/// thousands of problems would otherwise take minutes to report.
const FULL_DIAGNOSTICS: usize = 100;

/// Shows the problems of a failed load, then their count.
pub fn show_load_errors(errors: &manifest::LoadErrors) {
    let count = errors.len();
    for (i, error) in errors.iter().enumerate() {
        if i < FULL_DIAGNOSTICS {
            show_diagnostic(error);
        } else {
            eprintln!("{error}");
        }
    }
    if count > FULL_DIAGNOSTICS {
        eprintln!(
            "lexflow: the first {FULL_DIAGNOSTICS} problems are shown in full, the other {} on one line each",
            count - FULL_DIAGNOSTICS
        );
    }
    eprintln!("lexflow: {count} problem(s) in the manifests");
}

pub fn show_diagnostic(diagnostic: &dyn miette::Diagnostic) {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.to_string();
    }
    eprintln!("{out}");
}

fn input_error(title: &str, help: &str) -> InputError {
    show(miette::miette!(help = help.to_string(), "{title}"));
    InputError
}

pub fn load_policies(args: &PolicyArgs) -> Result<Program, InputError> {
    let selection = PolicySelection {
        bundled: !args.no_bundled,
        paths: args.policy.clone(),
    };
    match lang::load_program(&selection) {
        Ok(program) => {
            for warning in &program.warnings {
                show(warning.to_report(&program.sources));
            }
            if !args.law.is_empty() {
                for name in &args.law {
                    if !program
                        .laws
                        .iter()
                        .any(|l| l.name.eq_ignore_ascii_case(name))
                    {
                        let known: Vec<&str> =
                            program.laws.iter().map(|l| l.name.as_str()).collect();
                        let hint = match crate::vocab::did_you_mean(
                            &name.to_uppercase(),
                            known.iter().copied(),
                        ) {
                            Some(s) => {
                                format!("did you mean `{s}`? loaded laws: {}", known.join(", "))
                            }
                            None => format!("loaded laws: {}", known.join(", ")),
                        };
                        return Err(input_error(
                            &format!("unknown law `{name}` in --law"),
                            &hint,
                        ));
                    }
                }
            }
            Ok(program)
        }
        Err(errors) => {
            for report in errors.reports() {
                show(report);
            }
            eprintln!(
                "lexflow: {} error(s) in the rule files",
                errors.errors.len()
            );
            Err(InputError)
        }
    }
}

fn parse_date(text: &str, what: &str) -> Result<Date, InputError> {
    Date::parse(text).ok_or_else(|| {
        input_error(
            &format!("{what} `{text}` is not a date"),
            "write dates as YYYY-MM-DD, e.g. 2026-06-01",
        )
    })
}

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let outcome = match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { policies } => rules(&policies),
        Command::Explain { rule, policies } => explain(&rule, &policies),
        Command::Test { path } => testing::run_tests(&path),
        Command::Graph(args) => procurement::graph(args),
        Command::Ropa(args) => procurement::ropa(args),
        Command::Pipia(args) => procurement::pipia(args),
        Command::Schema { policies } => schema::run(&policies),
        Command::Fmt { check, paths } => authoring::fmt(&paths, check),
        Command::Lsp => authoring::lsp(),
        Command::Gen(args) => scale::run_gen(&args),
        Command::Load(args) => scale::run_load(&args),
    };
    outcome.unwrap_or(2)
}

/// `lexflow check` options.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Output format; may be repeated, paired in order with --output.
    #[arg(long, value_name = "FORMAT")]
    pub format: Vec<String>,
    /// Output file for the format at the same position (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// Date of judgement, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_name = "SEVERITY", default_value = "error")]
    pub fail_on: String,
    /// Report only findings not recorded in this baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings' fingerprints in this file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Accepted findings (rule, subject, justification, approver, ticket, expires).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Colours in the human format: auto, always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub color: String,
    /// Print how long each stage took (load, evaluate, report) and the peak memory after it,
    /// on stderr.
    #[arg(long)]
    pub timings: bool,
}

fn read_text(path: &PathBuf, what: &str) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| {
        input_error(
            &format!("cannot read {what} {}: {e}", path.display()),
            "check the path",
        )
    })
}

fn check(args: CheckArgs) -> Result<i32, InputError> {
    let fail_on = Severity::parse(&args.fail_on).ok_or_else(|| {
        input_error(
            &format!("--fail-on `{}` is not a severity", args.fail_on),
            "use error, warning or review",
        )
    })?;
    let as_of = match &args.as_of {
        Some(text) => parse_date(text, "--as-of")?,
        None => Date::today(),
    };
    let mut formats = Vec::new();
    for text in if args.format.is_empty() {
        vec!["human".to_string()]
    } else {
        args.format.clone()
    } {
        let format: Format = text.parse().map_err(|_| {
            input_error(
                &format!("unknown format `{text}`"),
                "formats: human, json, sarif, junit, github, markdown, html",
            )
        })?;
        formats.push(format);
    }
    if args.output.len() > formats.len() {
        return Err(input_error(
            "more --output than --format",
            "give one --format before each --output",
        ));
    }
    let waivers = match &args.waivers {
        Some(path) => {
            let text = read_text(path, "waivers file")?;
            match report::waivers::load_waivers(&path.display().to_string(), &text) {
                Ok(w) => Some(w),
                Err(e) => {
                    show(miette::Report::new(e));
                    return Err(InputError);
                }
            }
        }
        None => None,
    };
    let baseline_text = match &args.baseline {
        Some(path) => Some(read_text(path, "baseline")?),
        None => None,
    };
    let mut stages = scale::StageTimer::new(args.timings);
    let mut program = load_policies(&args.policies)?;
    // Its warnings are shown: no diagnostic quotes the rule files any more (130 KB of text
    // for the bundled packs).
    program.sources.release_texts();
    stages.done("compile rules");
    let progress = scale::Progress::start("loading manifests");
    let loaded = manifest::load_paths_sized(&args.paths, &program.vocab, &scale::input_size_found);
    progress.finish();
    scale::give_back_freed_memory();
    stages.done("load manifests");
    let (mut set, load_report) = match loaded {
        Ok(loaded) => loaded,
        Err(errors) => {
            show_load_errors(&errors);
            return Err(InputError);
        }
    };
    // The manifests loaded cleanly: no diagnostic will quote them any more.
    set.sources.release_texts();
    if load_report.loaded.is_empty() {
        return Err(input_error("no manifests found", "a manifest is a .yaml, .yml or .json file whose top-level mapping has the key `lexflow`"));
    }
    let skipped = load_report
        .skipped
        .len()
        .saturating_add(load_report.other_files);
    if skipped > 0 {
        eprintln!("lexflow: skipped {skipped} file(s) that are not manifests");
    }
    let options = CheckOptions {
        as_of,
        laws: if args.policies.law.is_empty() {
            None
        } else {
            Some(args.policies.law.clone())
        },
    };
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // A lone report in a format that lists the findings in order (JSON, SARIF, and the
    // human and GitHub text) is written as the findings are: they are never all held at
    // once. So is a lone JUnit report, which visits them twice (see `write_junit_streamed`).
    // The other formats (and a baseline to write) read the whole result.
    let streamed = match formats.as_slice() {
        [format
        @ (Format::Json | Format::Sarif | Format::Human | Format::Github | Format::Junit)]
            if args.write_baseline.is_none() =>
        {
            Some(*format)
        }
        _ => None,
    };
    let parse_baseline = || match &baseline_text {
        Some(text) => report::baseline::Baseline::parse(text)
            .map(Some)
            .map_err(|e| {
                input_error(
                    &format!("bad baseline: {e}"),
                    "write one with --write-baseline FILE",
                )
            }),
        None => Ok(None),
    };
    if let Some(format) = streamed {
        let baseline = parse_baseline()?;
        let triage =
            report::Triage::new(waivers.as_deref().unwrap_or(&[]), as_of, baseline.as_ref());
        let progress = scale::Progress::start("evaluating rules");
        // Run on a worker of the thread pool, not on the main thread: every parallel step
        // below (there are thousands, one per batch of the report) then starts on the
        // pool's own threads instead of waking the main thread each time it ends.
        let summary = rayon::scope(|_| {
            let graph = manifest::graph::FlowGraph::build(&set);
            engine::with_findings(&program, &set, graph, &options, |pending| {
                scale::give_back_freed_memory();
                stages.done("evaluate rules");
                progress.stage("writing the report");
                let mut summary = None;
                let written = emit(args.output.first(), |out| {
                    let (counted, written) = match format {
                        Format::Sarif => report::sarif::write_sarif_streamed(
                            pending,
                            &triage,
                            &pending.rules_checked,
                            &RenderContext::default(),
                            out,
                        ),
                        Format::Human => report::human::write_human_streamed(
                            pending,
                            &triage,
                            pending.rules_checked.len(),
                            &RenderContext {
                                color,
                                as_of: Some(as_of),
                                fail_on,
                                ..RenderContext::default()
                            },
                            out,
                        ),
                        Format::Github => {
                            report::github::write_github_streamed(pending, &triage, out)
                        }
                        Format::Junit => report::junit::write_junit_streamed(
                            pending,
                            &triage,
                            &pending.rules_checked,
                            out,
                        ),
                        _ => report::json::write_json_streamed(pending, &triage, out),
                    };
                    summary = Some(counted);
                    written
                });
                written.map(|()| summary.unwrap_or_default())
            })
        });
        progress.finish();
        stages.done(&format!("report {format:?}"));
        stages.finish();
        let failed = summary?.fails(fail_on);
        // As below: the OS takes the memory back faster.
        std::mem::forget(set);
        std::mem::forget(program);
        return Ok(if failed { 1 } else { 0 });
    }
    // Reports that list the findings by group (JUnit, Markdown, HTML) read all of them at
    // once: they are packed as they are written, and the model goes before the reports are
    // made (a packed finding is less than half a held one; see `PackedFindings`).
    if formats.iter().all(|f| f.is_grouped()) && args.write_baseline.is_none() {
        let baseline = parse_baseline()?;
        let triage =
            report::Triage::new(waivers.as_deref().unwrap_or(&[]), as_of, baseline.as_ref());
        let progress = scale::Progress::start("evaluating rules");
        let graph = manifest::graph::FlowGraph::build(&set);
        let (packed, rules_checked) =
            engine::with_findings(&program, &set, graph, &options, |pending| {
                scale::give_back_freed_memory();
                (
                    // The first pass wrote every message once, in buffers and evaluators
                    // freed on this thread: 0.1 MiB of a 10k-flow Markdown check's peak.
                    report::pack_findings(pending, &triage, &scale::give_back_freed_memory),
                    pending.rules_checked.clone(),
                )
            });
        scale::give_back_freed_memory();
        progress.finish();
        stages.done("evaluate rules");
        let (packed, summary, problems) = packed.map_err(|e| {
            input_error(
                &e.to_string(),
                "write the report in JSON, which is never held",
            )
        })?;
        let ctx = report_context(&formats, &set, color, as_of, fail_on);
        drop(set);
        scale::give_back_freed_memory();
        let held = report::Held {
            findings: Box::new(&packed),
            problems,
            summary,
            rules_checked: &rules_checked,
        };
        for (i, format) in formats.iter().enumerate() {
            emit(args.output.get(i), |out| {
                report::render_held_to(*format, &held, &ctx, out)
                    .unwrap_or_else(|| Err(std::io::Error::other("not a grouped format")))
            })?;
            stages.done(&format!("report {format:?}"));
        }
        stages.finish();
        let failed = held.fails(fail_on);
        // As below: the OS takes the memory back faster.
        std::mem::forget(held);
        std::mem::forget(packed);
        std::mem::forget(program);
        return Ok(if failed { 1 } else { 0 });
    }
    let progress = scale::Progress::start("evaluating rules");
    let mut result = engine::check(&program, &set, &options);
    progress.finish();
    stages.done("evaluate rules");
    // Waivers before the baseline, so that a waiver of a baselined finding is not reported
    // as matching nothing.
    if let Some(waivers) = &waivers {
        report::waivers::apply_waivers(&mut result, waivers, as_of);
    }
    if let Some(path) = &args.write_baseline {
        let text = report::baseline::write_baseline(&result)
            .map_err(|e| input_error(&e.to_string(), "please report this as a lexflow bug"))?;
        report::write_atomically(path, &text).map_err(|e| {
            input_error(
                &format!("cannot write baseline {}: {e}", path.display()),
                "check the folder exists and is writable",
            )
        })?;
    }
    if let Some(text) = &baseline_text {
        if let Err(e) = report::baseline::apply_baseline(&mut result, text) {
            return Err(input_error(
                &format!("bad baseline: {e}"),
                "write one with --write-baseline FILE",
            ));
        }
    }
    let ctx = report_context(&formats, &set, color, as_of, fail_on);
    // The reports read the result (and the summary), not the model: the model's memory goes
    // back before they are made. The grouped formats hold their findings and pages' parts
    // while they render, and this keeps the model out of their peak (a 100k-flow city's
    // model is about 70 MiB; freeing it takes 2% of a JUnit report's time).
    drop(set);
    for (i, format) in formats.iter().enumerate() {
        emit(args.output.get(i), |out| {
            report::render_to(*format, &result, &ctx, out)
        })?;
        stages.done(&format!("report {format:?}"));
    }
    stages.finish();
    let failed = report::fails(&result, fail_on);
    // The process exits next: freeing a city-scale result one allocation at a time (hundreds
    // of thousands of them) would only delay the exit; the OS takes the memory back.
    std::mem::forget(result);
    std::mem::forget(program);
    Ok(if failed { 1 } else { 0 })
}

/// What the reports of a held or packed result need beside it, with a copy of the whole
/// model's ids and values when a format shows the manifests (made only then).
fn report_context(
    formats: &[Format],
    set: &manifest::model::ManifestSet,
    color: bool,
    as_of: crate::date::Date,
    fail_on: Severity,
) -> RenderContext {
    RenderContext {
        color,
        as_of: Some(as_of),
        fail_on,
        manifest: formats
            .iter()
            .any(|f| f.shows_manifests())
            .then(|| report::diagram::ManifestSummary::from_set(set)),
        ..RenderContext::default()
    }
}

/// Writes a report to `path` (atomically) or, without one, to standard output.
pub(crate) fn emit(
    path: Option<&PathBuf>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), InputError> {
    match path {
        Some(path) => report::write_atomically_with(path, write).map_err(|e| {
            input_error(
                &format!("cannot write {}: {e}", path.display()),
                "check the folder exists and is writable",
            )
        }),
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = write(&mut out).and_then(|()| out.flush());
            // A closed pipe (`lexflow check ... | head`) is the reader's choice, not an
            // error; anything else is.
            match written {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(input_error(
                    &format!("cannot write the report: {e}"),
                    "check the output device",
                )),
                _ => Ok(()),
            }
        }
    }
}

fn rules(args: &PolicyArgs) -> Result<i32, InputError> {
    let program = load_policies(args)?;
    let mut out = String::new();
    for law in &program.laws {
        let status = if law.on_by_default {
            "on by default"
        } else {
            "off by default; --law to enable"
        };
        let effective = law
            .effective
            .map(|d| format!(", in force from {d}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} — {} ({status}{effective})\n",
            law.name, law.title
        ));
        for rule in &law.rules {
            let dates = match (rule.effective, rule.until) {
                (_, Some(until)) => format!(" [until {until}]"),
                (Some(from), None) if Some(from) != law.effective => format!(" [from {from}]"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  {:<24} {:<8} {:<28} {}{dates}\n",
                rule.id,
                rule.severity.as_str(),
                rule.citation,
                rule.title
            ));
        }
    }
    print!("{out}");
    Ok(0)
}

fn explain(id: &str, args: &PolicyArgs) -> Result<i32, InputError> {
    let program = load_policies(args)?;
    let Some((law, rule)) = program.find_rule(id) else {
        let ids: Vec<&str> = program.rules().map(|(_, r)| r.id.as_str()).collect();
        let hint = match crate::vocab::did_you_mean(&id.to_uppercase(), ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? `lexflow rules` lists them all"),
            None => "`lexflow rules` lists every rule".to_string(),
        };
        return Err(input_error(&format!("no rule `{id}`"), &hint));
    };
    let mut out = String::new();
    out.push_str(&format!("{} — {}\n", rule.id, rule.title));
    out.push_str(&format!("law:       {} — {}\n", law.name, law.title));
    out.push_str(&format!("citation:  {}\n", rule.citation));
    out.push_str(&format!("severity:  {}\n", rule.severity.as_str()));
    let from = rule
        .effective
        .map(|d| d.to_string())
        .unwrap_or_else(|| "always".into());
    let until = rule
        .until
        .map(|d| format!(" until {d}"))
        .unwrap_or_default();
    out.push_str(&format!("in force:  from {from}{until}\n"));
    if let Some(source) = &law.source {
        out.push_str(&format!("source:    {source}\n"));
    }
    if let Some(text) = &rule.text {
        out.push_str(&format!("\nLegal text:\n  {text}\n"));
    }
    if let Some(explain) = &rule.explain {
        out.push_str(&format!("\nWhat it means:\n  {explain}\n"));
    }
    if !rule.remedy.is_empty() {
        out.push_str(&format!("\nRemedy:\n  {}\n", rule.remedy));
    }
    if let Some(example) =
        testing::example_for(&rule.id).or_else(|| authoring::example_beside(&args.policy, &rule.id))
    {
        out.push_str(&format!(
            "\nA manifest it fires on ({}):\n{}",
            example.0, example.1
        ));
    }
    print!("{out}");
    Ok(0)
}
