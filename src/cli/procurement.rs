//! `lexflow graph`, `lexflow ropa` and `lexflow pipia`: the diagram and the records a
//! procurement or privacy team files, from the same manifests `check` reads.

use std::path::PathBuf;

use super::{load_policies, show_diagnostic, InputError, PolicyArgs};
use crate::date::Date;
use crate::engine::{self, CheckOptions};
use crate::findings::CheckResult;
use crate::lang::Program;
use crate::manifest::{self, model::ManifestSet};
use crate::records::{self, RecordOptions};
use crate::report::diagram;

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// dot (Graphviz), mermaid, or svg.
    #[arg(long, default_value = "svg", value_name = "FORMAT")]
    pub format: String,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Date of judgement for colouring violating flows, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Columns by `country` (default) or by operating `organization`.
    #[arg(long, default_value = "country", value_name = "BY")]
    pub group_by: String,
}

#[derive(clap::Args, Debug)]
pub struct RopaArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// csv or markdown.
    #[arg(long, default_value = "markdown", value_name = "FORMAT")]
    pub format: String,
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Date for the EEA membership that decides what is a third country (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PipiaArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Date of judgement for the issues listed (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

fn fail(title: &str, help: &str) -> InputError {
    show_diagnostic(miette::miette!(help = help.to_string(), "{title}").as_ref());
    InputError
}

fn as_of(text: &Option<String>) -> Result<Date, InputError> {
    match text {
        Some(text) => Date::parse(text).ok_or_else(|| {
            fail(
                &format!("--as-of `{text}` is not a date"),
                "write dates as YYYY-MM-DD, e.g. 2026-06-01",
            )
        }),
        None => Ok(Date::today()),
    }
}

fn load(paths: &[PathBuf], policies: &PolicyArgs) -> Result<(Program, ManifestSet), InputError> {
    let program = load_policies(policies)?;
    let (set, report) = match manifest::load_paths(paths, &program.vocab) {
        Ok(loaded) => loaded,
        Err(errors) => {
            super::show_load_errors(&errors);
            return Err(InputError);
        }
    };
    if report.loaded.is_empty() {
        return Err(fail(
            "no manifests found",
            "a manifest is a .yaml, .yml or .json file whose top-level mapping has the key `lexflow`",
        ));
    }
    let skipped = report.skipped.len().saturating_add(report.other_files);
    if skipped > 0 {
        eprintln!("lexflow: skipped {skipped} file(s) that are not manifests");
    }
    Ok((program, set))
}

fn run_check(
    program: &Program,
    set: &ManifestSet,
    policies: &PolicyArgs,
    as_of: Date,
) -> CheckResult {
    let options = CheckOptions {
        as_of,
        laws: if policies.law.is_empty() {
            None
        } else {
            Some(policies.law.clone())
        },
    };
    engine::check(program, set, &options)
}

/// Writes a document to `output` (atomically) or to standard output, as `check` writes its
/// reports: a failed write is an error, except a reader closing the pipe.
fn emit(text: &str, output: &Option<PathBuf>) -> Result<(), InputError> {
    super::emit(output.as_ref(), |out| out.write_all(text.as_bytes()))
}

/// `lexflow graph`: the data-flow diagram with violating flows in red.
pub fn graph(args: GraphArgs) -> Result<i32, InputError> {
    let format = args.format.to_ascii_lowercase();
    if !matches!(format.as_str(), "dot" | "mermaid" | "svg") {
        return Err(fail(
            &format!("unknown graph format `{}`", args.format),
            "formats: dot, mermaid, svg",
        ));
    }
    let by = match args.group_by.as_str() {
        "country" => diagram::GroupBy::Country,
        "organization" | "org" => diagram::GroupBy::Organization,
        other => {
            return Err(fail(
                &format!("--group-by `{other}`"),
                "use country or organization",
            ))
        }
    };
    let date = as_of(&args.as_of)?;
    let (program, set) = load(&args.paths, &args.policies)?;
    let result = run_check(&program, &set, &args.policies, date);
    let summary = diagram::ManifestSummary::from_set(&set);
    let marks = diagram::Marks::from_result(&summary, &result);
    let text = match format.as_str() {
        "dot" => diagram::render_dot(&summary, &marks, by),
        "mermaid" => diagram::render_mermaid(&summary, &marks, by),
        _ => diagram::render_svg_document(&summary, &marks, by),
    };
    emit(&text, &args.output)?;
    Ok(0)
}

/// `lexflow ropa`: the GDPR Art. 30(1) record.
pub fn ropa(args: RopaArgs) -> Result<i32, InputError> {
    let format = args.format.to_ascii_lowercase();
    if !matches!(format.as_str(), "csv" | "markdown" | "md") {
        return Err(fail(
            &format!("unknown ropa format `{}`", args.format),
            "formats: csv, markdown",
        ));
    }
    let date = as_of(&args.as_of)?;
    let (program, set) = load(&args.paths, &args.policies)?;
    let options = RecordOptions::from_program(&program, date);
    let activities = records::ropa::activities(&set, &options);
    let text = if format == "csv" {
        records::ropa::render_csv(&activities)
    } else {
        let names: Vec<String> = set
            .manifests
            .iter()
            .filter_map(|m| m.name.clone())
            .collect();
        records::ropa::render_markdown(&activities, &names, &options)
    };
    emit(&text, &args.output)?;
    Ok(0)
}

/// `lexflow pipia`: the PIPL Art. 55-56 assessment skeleton.
pub fn pipia(args: PipiaArgs) -> Result<i32, InputError> {
    let date = as_of(&args.as_of)?;
    let (program, set) = load(&args.paths, &args.policies)?;
    let result = run_check(&program, &set, &args.policies, date);
    let options = RecordOptions::from_program(&program, date);
    let text = records::pipia::render_pipia(&set, &options, Some(&result));
    emit(&text, &args.output)?;
    Ok(0)
}
