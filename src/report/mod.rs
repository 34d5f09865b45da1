//! The report stage: renders a [`CheckResult`] in every format of `lexflow check --format`
//! (SPEC §3, §4), applies waivers and baselines, and writes output files atomically.
//!
//! Every renderer is deterministic (findings sorted by file, line, column, rule id; no
//! timestamps) and treats manifest-derived text as untrusted: see [`sanitize`].

pub mod baseline;
pub mod diagram;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sanitize;
pub mod sarif;
pub mod vendor;
pub mod waivers;

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

use crate::date::Date;
use crate::findings::{
    CheckResult, Finding, HeldFindings, PackedFindings, Problem, Severity, Status, Summary,
    TooManyFindings,
};

pub use baseline::{apply_baseline, write_baseline, BaselineError};
pub use json::render_json;
pub use waivers::{apply_waivers, load_waivers, Waiver, WaiverError};

/// An output format of `lexflow check --format`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
    Markdown,
    Html,
}

impl Format {
    /// Whether the format draws the manifests themselves (diagram, vendor tables), from
    /// [`RenderContext::manifest`]; the others need only the findings.
    pub fn shows_manifests(self) -> bool {
        matches!(self, Format::Markdown | Format::Html)
    }

    /// Whether the format lists the findings by group (law, rule, organization), not in
    /// report order: it reads all of them at once ([`Held`]).
    pub fn is_grouped(self) -> bool {
        matches!(self, Format::Junit | Format::Markdown | Format::Html)
    }

    pub const ALL: [Format; 7] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Markdown,
        Format::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `--format` name.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown format `{0}`; expected one of human, json, sarif, junit, github, markdown, html")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        let lower = text.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == lower)
            .or(match lower.as_str() {
                "text" => Some(Format::Human),
                "md" => Some(Format::Markdown),
                "xml" => Some(Format::Junit),
                _ => None,
            })
            .ok_or_else(|| UnknownFormat(text.to_string()))
    }
}

/// What a renderer needs beside the result. All fields are inputs, so output stays
/// deterministic (no clock is read here).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RenderContext {
    /// ANSI colours in the human format (only when the caller decided the terminal wants them).
    pub color: bool,
    /// The tool version reported in SARIF and the HTML/Markdown footers.
    pub tool_version: String,
    /// The `--as-of` date, shown in the human, Markdown and HTML reports when given.
    pub as_of: Option<Date>,
    /// The `--fail-on` threshold, for the verdict line (PASS/FAIL) in human, Markdown, HTML.
    pub fail_on: Severity,
    /// The manifests behind the result, for the procurement reports (HTML, Markdown): vendor
    /// verdicts, the contract-clause checklist, the data-leaving table and the diagram.
    /// `None` renders the findings alone.
    pub manifest: Option<diagram::ManifestSummary>,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            color: false,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            as_of: None,
            fail_on: Severity::Error,
            manifest: None,
        }
    }
}

/// A report could not be serialized. The structured formats (JSON, SARIF, JUnit, baseline)
/// go through a serializer that reports errors; with lexflow's plain data it has none to
/// report, but should it fail the run stops with this error rather than write a partial or
/// empty report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot serialize the {format} report: {message}")]
pub struct RenderError {
    pub format: &'static str,
    pub message: String,
}

impl RenderError {
    fn json(e: impl std::fmt::Display) -> RenderError {
        RenderError {
            format: "JSON",
            message: e.to_string(),
        }
    }
}

/// Renders `result` in `format`. The output ends with a newline.
pub fn render(
    format: Format,
    result: &CheckResult,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    Ok(match format {
        Format::Human => human::render_human(result, ctx),
        Format::Json => json::render_json(result)?,
        Format::Sarif => sarif::render_sarif(result, ctx)?,
        Format::Junit => junit::render_junit(result)?,
        Format::Github => github::render_github(result),
        Format::Markdown => {
            held_text("Markdown", |out| markdown::write_markdown(result, ctx, out))?
        }
        Format::Html => held_text("HTML", |out| html::write_html(result, ctx, out))?,
    })
}

/// The text a report writer writes, held.
pub(super) fn held_text(
    format: &'static str,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<String, RenderError> {
    let mut bytes = Vec::new();
    write(&mut bytes).map_err(|e| RenderError {
        format,
        message: e.to_string(),
    })?;
    Ok(text_of(bytes))
}

/// Renders `result` in `format` into `out`. JSON and SARIF are streamed, and Markdown and
/// HTML written out as they are made (a city-scale report is tens or hundreds of megabytes,
/// not worth holding twice); the other formats are rendered, then written.
pub fn render_to(
    format: Format,
    result: &CheckResult,
    ctx: &RenderContext,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => json::write_json(result, out),
        Format::Sarif => sarif::write_sarif(result, ctx, out),
        Format::Markdown => markdown::write_markdown(result, ctx, out),
        Format::Html => html::write_html(result, ctx, out),
        Format::Junit => junit::write_junit(result, out),
        _ => {
            let text = render(format, result, ctx).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())
        }
    }
}

/// A report's text, written out a megabyte at a time as it grows instead of held whole (the
/// HTML page of a 100k-flow city is 350 MB). Derefs to the `String` being filled, so the
/// renderers write into it as into any string; they call [`Spill::spill`] between items.
pub(crate) struct Spill<'w> {
    text: String,
    out: &'w mut dyn Write,
    /// The first write that failed: nothing more is written after it.
    failed: Option<io::Error>,
}

impl<'w> Spill<'w> {
    /// The text held at most. Writes that would fill it write the text out first, so that
    /// it never grows: before, a text that outgrew its megabyte between two spills was
    /// moved into two megabytes (a 10k-flow Markdown report's text did).
    const ROOM: usize = 1 << 18;
    /// Kept free for the characters renderers push straight into the text (line breaks).
    const SLACK: usize = 1 << 10;

    pub(crate) fn new(out: &'w mut dyn Write) -> Self {
        Spill {
            text: String::with_capacity(Self::ROOM),
            out,
            failed: None,
        }
    }

    /// Writes the text so far out once it is large enough.
    pub(crate) fn spill(&mut self) {
        if self.text.len() >= Self::ROOM / 2 {
            self.write_out();
        }
    }

    fn write_out(&mut self) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(self.text.as_bytes()) {
                self.failed = Some(e);
            }
        }
        self.text.clear();
    }

    fn write_through(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.failed = Some(e);
            }
        }
    }

    /// Writes the rest; the first error, if a write failed.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.write_out();
        match self.failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Text being made: held whole (a `String`) or written out as it grows (a [`Spill`]).
/// Writers of long parts of a report (the SVG diagram) call [`TextOut::spill`] between items.
pub(crate) trait TextOut: std::fmt::Write {
    /// Writes the text so far out, if this text is written out at all and it is large enough.
    fn spill(&mut self) {}
}

impl TextOut for String {}

impl std::fmt::Write for Spill<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let limit = Self::ROOM - Self::SLACK;
        if self.text.len().saturating_add(text.len()) > limit {
            self.write_out();
        }
        if text.len() > limit {
            self.write_through(text.as_bytes());
        } else {
            self.text.push_str(text);
        }
        Ok(())
    }
}

impl TextOut for Spill<'_> {
    fn spill(&mut self) {
        Spill::spill(self)
    }
}

impl std::ops::Deref for Spill<'_> {
    type Target = String;
    fn deref(&self) -> &String {
        &self.text
    }
}

impl std::ops::DerefMut for Spill<'_> {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.text
    }
}

/// A waiver's terms as the text formats (human, GitHub, JUnit) show them after "waived",
/// each part inert: `until 2027-01-01 by dpo@city.example (PRIV-1): standard contract filed`.
pub(crate) fn waiver_terms(waiver: &crate::findings::WaiverInfo) -> String {
    use sanitize::inert;
    format!(
        "until {} by {} ({}): {}",
        inert(&waiver.expires),
        inert(&waiver.approver),
        inert(&waiver.ticket),
        inert(&waiver.justification)
    )
}

/// A text report rendered into bytes (only ever from strings) as a string.
pub(crate) fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes a text format made of one block a finding, in report order, then a trailer
/// (problems, summary), as the findings are written: the human and GitHub formats of a
/// city-scale check, which would otherwise hold every finding and the whole text. Each
/// finding is triaged and rendered by `render` on every core, a batch at a time (see
/// [`json::triage_in_batches`]); `trailer` gets the problems (sorted) and the summary.
pub(crate) fn write_text_streamed(
    source: &dyn crate::findings::FindingSource,
    triage: &Triage,
    out: &mut dyn Write,
    render: impl Fn(&mut Vec<u8>, &crate::findings::FindingView) -> io::Result<()> + Sync,
    trailer: impl FnOnce(&mut Vec<u8>, &[Problem], &crate::findings::Summary),
) -> (crate::findings::Summary, io::Result<()>) {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut failed: Option<io::Error> = None;
    let (summary, matched) = json::triage_in_batches(
        source,
        triage,
        json::PIECE,
        true,
        render,
        |texts, rendered| {
            if failed.is_none() {
                let written = rendered.and_then(|()| {
                    for text in texts {
                        out.write_all(text)?;
                    }
                    Ok(())
                });
                if let Err(e) = written {
                    failed = Some(e);
                }
            }
            failed.is_none()
        },
    );
    let mut problems = triage.problems(&matched);
    sort_problems(&mut problems);
    let mut text = Vec::new();
    trailer(&mut text, &problems, &summary);
    let written = match failed {
        Some(e) => Err(e),
        None => out.write_all(&text).and_then(|()| out.flush()),
    };
    (summary, written)
}

/// Writes `contents` to `path` so that readers never see a half-written file: a temporary
/// file in the same directory, flushed to disk, then renamed over `path`.
pub fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    write_atomically_with(path, |out| out.write_all(contents.as_bytes()))
}

/// As [`write_atomically`], with the contents written by `write` (buffered).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    // Only a regular file (or a new one) is replaced by rename. A device, a pipe or a
    // symbolic link is written through: renaming over `/dev/null` or `/dev/stdout` would
    // replace the device with a plain file, and over a link would cut the link.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            if let Ok(target) = std::fs::canonicalize(path) {
                if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_file()) {
                    return write_atomically_with(&target, write);
                }
            }
        }
        if !meta.file_type().is_file() && !meta.is_dir() {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)?;
            let mut out = io::BufWriter::new(file);
            write(&mut out)?;
            return out.flush();
        }
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name"))?
        .to_string_lossy()
        .into_owned();
    let mut attempt = 0u32;
    let (tmp_path, mut file) = loop {
        let candidate = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => break (candidate, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt = attempt.saturating_add(1)
            }
            Err(e) => return Err(e),
        }
    };
    let written = {
        let mut out = io::BufWriter::new(&mut file);
        write(&mut out).and_then(|()| out.flush())
    }
    .and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp_path, path)) {
        let _ = std::fs::remove_file(&tmp_path);
        return Err(e);
    }
    Ok(())
}

/// Whether anything open is at or above `fail_on` (the exit-code rule of SPEC §4).
pub fn fails(result: &CheckResult, fail_on: Severity) -> bool {
    result
        .findings
        .iter()
        .any(|f| f.status == Status::Open && f.severity >= fail_on)
}

/// The findings in SPEC §3 order, with any missing fingerprint filled in.
///
/// The engine already returns them so: then they are borrowed, not copied (a city-scale run
/// has about a finding per flow, each with its own strings).
pub(crate) fn sorted_findings(result: &CheckResult) -> std::borrow::Cow<'_, [Finding]> {
    let ready = result.findings.iter().all(|f| !f.fingerprint.is_empty())
        && result
            .findings
            .is_sorted_by(|a, b| a.sort_key() <= b.sort_key());
    if ready {
        return std::borrow::Cow::Borrowed(&result.findings);
    }
    let mut findings = result.findings.clone();
    for finding in &mut findings {
        if finding.fingerprint.is_empty() {
            finding.fingerprint =
                Finding::compute_fingerprint(&finding.rule, &finding.subject, &finding.path);
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    std::borrow::Cow::Owned(findings)
}

/// The problems in a stable order: by location (file, line, column), then kind and message.
pub(crate) fn sorted_problems(result: &CheckResult) -> Vec<Problem> {
    let mut problems = result.problems.clone();
    sort_problems(&mut problems);
    problems
}

/// Problems in report order: by location, kind, then message.
pub(crate) fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by(|a, b| {
        (&a.location, &a.kind, &a.message).cmp(&(&b.location, &b.kind, &b.message))
    });
}

/// What is done to each finding on its way into a report written as the findings are
/// (see [`json::write_json_streamed`]): waivers first, so that a waiver of a baselined
/// finding is not reported as matching nothing, then the baseline. The same steps as
/// [`waivers::apply_waivers`] then [`baseline::apply_baseline`] over a held result.
pub struct Triage<'t> {
    waivers: &'t [waivers::Waiver],
    index: waivers::WaiverIndex,
    /// What each waiver says, as a waived finding shows it (made once, not per finding).
    infos: Vec<crate::findings::WaiverInfo>,
    as_of: crate::date::Date,
    baseline: Option<&'t baseline::Baseline>,
}

/// What [`Triage::triage`] makes of a finding.
pub enum Triaged<'t> {
    /// Reported as it is.
    Kept,
    /// Reported as waived by this waiver.
    Waived(&'t crate::findings::WaiverInfo),
    /// Held by the baseline: not reported.
    Dropped,
}

impl<'t> Triage<'t> {
    pub fn new(
        waivers: &'t [waivers::Waiver],
        as_of: crate::date::Date,
        baseline: Option<&'t baseline::Baseline>,
    ) -> Self {
        Triage {
            waivers,
            index: waivers::WaiverIndex::new(waivers),
            infos: waivers.iter().map(waivers::Waiver::info).collect(),
            as_of,
            baseline,
        }
    }

    /// How many waivers there are (one `matched` flag each).
    pub fn waiver_count(&self) -> usize {
        self.waivers.len()
    }

    /// What becomes of a finding: waived if a waiver says so, dropped if the baseline holds
    /// it. Marks the waivers that matched in `matched` and counts the finding, kept or
    /// baselined, in `summary`.
    pub fn triage(
        &self,
        finding: &crate::findings::FindingView<'_>,
        matched: &mut [bool],
        summary: &mut crate::findings::Summary,
    ) -> Triaged<'_> {
        let open = finding.status == Status::Open;
        let chosen = waivers::waiver_for(
            self.waivers,
            &self.index,
            self.as_of,
            finding.rule,
            finding.subject.id,
            open,
            matched,
        );
        if self
            .baseline
            .is_some_and(|b| b.contains_fingerprint(&finding.fingerprint.text()))
        {
            summary.baselined = summary.baselined.saturating_add(1);
            return Triaged::Dropped;
        }
        match chosen.and_then(|i| self.infos.get(i)) {
            Some(info) => {
                summary.count_one(Status::Waived, finding.severity);
                Triaged::Waived(info)
            }
            None => {
                summary.count_one(finding.status, finding.severity);
                Triaged::Kept
            }
        }
    }

    /// The finding as reported, after [`Self::triage`]: `None` when the baseline holds it,
    /// else the finding, waived when a waiver says so.
    pub fn apply<'f>(
        &'f self,
        finding: crate::findings::FindingView<'f>,
        matched: &mut [bool],
        summary: &mut crate::findings::Summary,
    ) -> Option<crate::findings::FindingView<'f>> {
        match self.triage(&finding, matched, summary) {
            Triaged::Dropped => None,
            Triaged::Kept => Some(finding),
            Triaged::Waived(info) => Some(crate::findings::FindingView {
                status: Status::Waived,
                waiver: Some(info),
                ..finding
            }),
        }
    }

    /// The waivers' problems, once every finding went through [`Self::triage`].
    pub fn problems(&self, matched: &[bool]) -> Vec<Problem> {
        waivers::waiver_problems(self.waivers, matched, self.as_of)
    }
}

/// `a → b → c`, the witness path as system ids.
pub(crate) fn path_text(finding: &crate::findings::FindingView<'_>) -> String {
    path_text_of(finding.path)
}

/// Packs the findings of `source`, in order, each passed through `triage` (waivers, then
/// the baseline), for the grouped reports of a city-scale run: they visit the findings by
/// group, so hold all of them, and packed they take less than half the memory of held
/// [`Finding`]s. Returns them with the summary reported and the waivers' problems (sorted).
/// `between_passes` runs after the first pass (which sizes the lists) and before the lists
/// are made: the caller can hand back the memory that pass freed.
pub fn pack_findings(
    source: &dyn crate::findings::FindingSource,
    triage: &Triage,
    between_passes: &dyn Fn(),
) -> Result<(PackedFindings, Summary, Vec<Problem>), TooManyFindings> {
    let total = source.len();
    // One pass to size the lists and hold the messages' forms, one to fill the lists.
    let mut packed = PackedFindings::default();
    let mut room = (0usize, 0usize);
    let mut failed = None;
    source.view(0..total, &mut |finding| {
        let (text, bounds) = PackedFindings::room_for(&finding);
        room = (room.0.saturating_add(text), room.1.saturating_add(bounds));
        if failed.is_none() {
            failed = packed.add_form(&finding).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    packed.trim_forms();
    between_passes();
    packed.reserve_exact(total, room.0, room.1);
    let mut matched = vec![false; triage.waiver_count()];
    let mut summary = Summary::default();
    source.view(0..total, &mut |finding| {
        let Some(finding) = triage.apply(finding, &mut matched, &mut summary) else {
            return;
        };
        if failed.is_none() {
            failed = packed.push(&finding).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    packed.shrink_to_fit();
    let mut problems = triage.problems(&matched);
    sort_problems(&mut problems);
    Ok((packed, summary, problems))
}

/// Renders held findings in a grouped format (JUnit, Markdown, HTML) into `out`; `None` for
/// a format that is not grouped (those are written as the findings are, or from a result).
pub fn render_held_to(
    format: Format,
    held: &Held<'_>,
    ctx: &RenderContext,
    out: &mut dyn Write,
) -> Option<io::Result<()>> {
    Some(match format {
        Format::Junit => junit::write_junit_held(held, out),
        Format::Markdown => markdown::write_markdown_held(held, ctx, out),
        Format::Html => html::write_html_held(held, ctx, out),
        Format::Human | Format::Json | Format::Sarif | Format::Github => return None,
    })
}

/// What a grouped report (JUnit, Markdown, HTML) reads: the findings, in report order and
/// each at hand by its place (a held result's, or packed from the engine's), and the rest
/// of the result.
pub struct Held<'r> {
    pub findings: Box<dyn HeldFindings + 'r>,
    /// In report order.
    pub problems: Vec<Problem>,
    pub summary: Summary,
    pub rules_checked: &'r [crate::findings::RuleInfo],
}

/// Shows `render` a held result as [`Held`] findings, sorted (see [`sorted_findings`]).
pub(crate) fn with_held<R>(result: &CheckResult, render: impl FnOnce(&Held<'_>) -> R) -> R {
    let findings = sorted_findings(result);
    let held = Held::of(result, &findings);
    render(&held)
}

impl<'r> Held<'r> {
    /// A held result, its findings sorted (see [`sorted_findings`]).
    pub fn of(result: &'r CheckResult, sorted: &'r [Finding]) -> Self {
        Held {
            findings: Box::new(sorted),
            problems: sorted_problems(result),
            summary: result.summary,
            rules_checked: &result.rules_checked,
        }
    }

    /// The findings, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, crate::findings::FindingView<'_>)> + '_ {
        (0..self.findings.len()).filter_map(|k| Some((k, self.findings.get(k)?)))
    }

    /// Whether an open finding is at or above `fail_on`, as [`fails`] says of a result.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.iter()
            .any(|(_, f)| f.status == Status::Open && f.severity >= fail_on)
    }
}

/// `a → b → c`, of a witness path's system ids however they are held.
pub(crate) fn path_text_of(path: crate::findings::Ids) -> String {
    path.iter().collect::<Vec<_>>().join(" → ")
}

/// The one-line summary shared by the text formats.
pub(crate) fn summary_text(s: &crate::findings::Summary) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}, {} to review; {} waived, {} baselined",
        plural(s.error, "error"),
        plural(s.warning, "warning"),
        s.review,
        s.waived,
        s.baselined
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        assert!("pdf".parse::<Format>().is_err());
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = std::env::temp_dir().join(format!("lexflow-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.json");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spilled_text_is_written_whole_and_in_order() {
        use std::fmt::Write as _;
        let mut out = Vec::new();
        let mut expected = String::new();
        let mut page = Spill::new(&mut out);
        let room = page.capacity();
        let long = "y".repeat(Spill::ROOM + 7);
        for i in 0..200_000 {
            let _ = writeln!(page, "line {i}");
            let _ = writeln!(expected, "line {i}");
            if i % 50_000 == 7 {
                // Longer than the text held: written through, in its place.
                let _ = write!(page, "{long}");
                expected.push_str(&long);
            }
            if i % 3 == 0 {
                page.spill();
            }
            // The text is written out before it would outgrow its room: it never grows.
            assert!(page.len() < Spill::ROOM);
            assert_eq!(page.capacity(), room);
        }
        page.finish().unwrap();
        assert!(
            expected.len() > 4 * Spill::ROOM,
            "the text spills more than once"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_failed_spill_is_reported_at_the_end() {
        /// Takes `room` bytes, then refuses every write.
        struct Full {
            room: usize,
            calls: usize,
        }
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.calls += 1;
                if self.room == 0 {
                    return Err(io::Error::other("device full"));
                }
                let n = buf.len().min(self.room);
                self.room -= n;
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut full = Full { room: 10, calls: 0 };
        let mut page = Spill::new(&mut full);
        for _ in 0..3 {
            page.push_str(&"x".repeat(Spill::ROOM));
            page.spill();
        }
        let error = page.finish().unwrap_err();
        assert_eq!(error.to_string(), "device full");
        // Nothing is written after the first failure.
        assert_eq!(full.calls, 2);
    }
}
