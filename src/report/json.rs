//! `--format json`: the one object of SPEC §3, validated by `findings.schema.json`.

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use crate::findings::{CheckResult, Finding, FindingSource, FindingView, Problem, Status, Summary};

/// Findings rendered together: both cores render a batch, then it is written out, so that
/// at most one batch of rendered text is held at a time (a 100k city's report is 73 MB).
/// One piece a core on two cores: 2,048 findings held 2.6 MB of text at 10k flows, a fifth
/// of the run's heap, for no time gained (a batch is a few hundred microseconds of work);
/// 512 still held 0.4 MB, 256 hold half that (0.991x the time at 10k flows, 1.006x at 100k,
/// medians of 21 paired runs).
pub(super) const BATCH: usize = 256;
/// Findings one core renders in one piece.
pub(super) const PIECE: usize = 128;

/// Findings in one batch of a streamed report of `total` findings: [`BATCH`], or, for a large
/// report, a 256th of it, up to 16 × [`BATCH`]. Every batch ends with both cores waiting
/// for the last piece; at 1M flows (940,000 findings) that waiting was a quarter of the
/// report's time with batches of 512 (rendering 328 ms of wall for 522 ms of CPU), and
/// 282 ms with 4,096. The text held grows with the report, never past a 256th of it.
pub(super) fn batch_size(total: usize) -> usize {
    (total / 256 / PIECE * PIECE).clamp(BATCH, BATCH * 16)
}

/// Renders `items` a batch at a time: the pieces of a batch on every core, each by
/// `render` into a buffer it empties first, then the batch's texts, in order, handed to
/// `write`. The same buffers serve every batch: allocated once, by the thread that fills
/// them, rather than allocated on one thread and freed on the other for each piece.
pub(super) fn render_in_batches<T: Sync>(
    items: &[T],
    render: impl Fn(&mut Vec<u8>, &[T]) -> std::io::Result<()> + Sync,
    mut write: impl FnMut(&[Vec<u8>]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut texts: Vec<Vec<u8>> = Vec::new();
    for batch in items.chunks(BATCH) {
        let pieces: Vec<&[T]> = batch.chunks(PIECE).collect();
        if texts.len() < pieces.len() {
            texts.resize_with(pieces.len(), Vec::new);
        }
        texts
            .par_iter_mut()
            .zip(pieces.par_iter())
            .try_for_each(|(text, piece)| {
                text.clear();
                render(text, piece)
            })?;
        write(texts.get(..pieces.len()).unwrap_or(&[]))?;
    }
    Ok(())
}

/// Streams the JSON report of [`render_json`] into `out`.
///
/// The document is what `serde_json::to_writer_pretty` makes of `{lexflow, findings,
/// problems, summary}` (a test holds the two equal); the findings are rendered on every
/// core, in pieces that start at their depth in the document.
pub fn write_json(result: &CheckResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let findings = super::sorted_findings(result);
    let mut document = Document::start(out);
    render_in_batches(&findings, render_findings, |texts| {
        document.items(texts.iter());
        Ok(())
    })?;
    document.finish(&super::sorted_problems(result), &result.summary)
}

/// Streams the JSON report of findings written as they are rendered: each core writes a
/// piece of findings, passes them through `triage` (waivers, baseline) and renders them,
/// so that no more than a batch of findings is ever held. Returns the summary reported and
/// whether the document was written: when writing fails (a reader closed the pipe), the
/// findings are still written and counted, unrendered, so that the summary (and the exit
/// code) is the same.
///
/// The document is the one [`write_json`] makes of the result the same findings, waivers
/// and baseline give when held all at once (a test holds the two equal).
pub fn write_json_streamed(
    source: &dyn FindingSource,
    triage: &super::Triage,
    out: &mut dyn std::io::Write,
) -> (Summary, std::io::Result<()>) {
    let mut document = Document::start(out);
    let started = document.is_ok();
    let (summary, matched) = triage_in_batches(
        source,
        triage,
        PIECE,
        started,
        push_item,
        |texts, failed| {
            document.check(failed);
            document.items(texts);
            document.is_ok()
        },
    );
    let mut problems = triage.problems(&matched);
    super::sort_problems(&mut problems);
    let written = document.finish(&problems, &summary);
    (summary, written)
}

/// Passes the findings of `source` through `triage` (waivers, then the baseline) a batch at
/// a time, the pieces of a batch on every core, and renders each finding kept by `render`
/// into its piece's buffer (while `rendered`); then hands the batch's texts, in order, and
/// the first render error to `write`, which says whether rendering should go on. When it says no (a reader
/// closed the pipe), the findings are still triaged and counted, unrendered, so that the
/// summary (and the exit code) is the same. Returns the summary and which waivers matched.
pub(super) fn triage_in_batches(
    source: &dyn FindingSource,
    triage: &super::Triage,
    piece: usize,
    mut rendered: bool,
    render: impl Fn(&mut Vec<u8>, &FindingView) -> std::io::Result<()> + Sync,
    mut write: impl FnMut(&mut dyn Iterator<Item = &Vec<u8>>, std::io::Result<()>) -> bool,
) -> (Summary, Vec<bool>) {
    /// One core's share of a batch, its buffers reused from batch to batch.
    struct Piece {
        text: Vec<u8>,
        /// Which waivers matched a finding of this piece so far.
        matched: Vec<bool>,
        summary: Summary,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let total = source.len();
    // As many pieces a batch as with pieces of `PIECE`: a format whose findings render
    // larger takes fewer a piece, so that a batch holds about as much text.
    let piece = piece.clamp(1, PIECE);
    let batch = batch_size(total) / PIECE * piece;
    let mut start = 0;
    while start < total {
        let end = start.saturating_add(batch).min(total);
        let ranges: Vec<std::ops::Range<usize>> = (start..end)
            .step_by(piece)
            .map(|s| s..s.saturating_add(piece).min(end))
            .collect();
        if pieces.len() < ranges.len() {
            pieces.resize_with(ranges.len(), || Piece {
                text: Vec::new(),
                matched: vec![false; triage.waiver_count()],
                summary: Summary::default(),
            });
        }
        let done = pieces
            .par_iter_mut()
            .zip(ranges.par_iter())
            .try_for_each(|(piece, range)| {
                piece.text.clear();
                let mut failed = None;
                source.view(range.clone(), &mut |finding| {
                    let Some(finding) =
                        triage.apply(finding, &mut piece.matched, &mut piece.summary)
                    else {
                        return;
                    };
                    if rendered && failed.is_none() {
                        failed = render(&mut piece.text, &finding).err();
                    }
                });
                failed.map_or(Ok(()), Err)
            });
        rendered = write(&mut pieces.iter().take(ranges.len()).map(|p| &p.text), done);
        start = end;
    }
    let mut summary = Summary::default();
    let mut matched = vec![false; triage.waiver_count()];
    for piece in &pieces {
        summary.add(&piece.summary);
        for (all, this) in matched.iter_mut().zip(&piece.matched) {
            *all |= *this;
        }
    }
    (summary, matched)
}

/// The JSON document being written: `{"lexflow": 1, "findings": [...], "problems": [...],
/// "summary": {...}}`, pretty-printed as serde_json does, findings added piece by piece.
struct Document<'o> {
    // serde_json writes in small pieces (quotes, keys, indentation): a concrete buffer here
    // keeps those calls inlined instead of going through `dyn Write` one by one.
    out: std::io::BufWriter<&'o mut dyn std::io::Write>,
    /// Whether no finding was written yet (the list is opened with the first).
    empty: bool,
    /// The first write that failed: nothing more is written after it.
    failed: Option<std::io::Error>,
}

impl<'o> Document<'o> {
    fn start(out: &'o mut dyn std::io::Write) -> Self {
        let mut document = Document {
            out: std::io::BufWriter::with_capacity(1 << 16, out),
            empty: true,
            failed: None,
        };
        let started = document
            .out
            .write_all(b"{\n  \"lexflow\": 1,\n  \"findings\": ");
        document.check(started);
        document
    }

    fn is_ok(&self) -> bool {
        self.failed.is_none()
    }

    /// Keeps the first error.
    fn check(&mut self, done: std::io::Result<()>) {
        if let (Err(e), None) = (done, &self.failed) {
            self.failed = Some(e);
        }
    }

    /// Appends rendered findings (from [`render_findings`]; empty texts are skipped).
    fn items<'t>(&mut self, texts: impl Iterator<Item = &'t Vec<u8>>) {
        for text in texts.filter(|t| !t.is_empty()) {
            if !self.is_ok() {
                return;
            }
            let opening: &[u8] = if self.empty { b"[\n" } else { b",\n" };
            self.empty = false;
            let done = self
                .out
                .write_all(opening)
                .and_then(|()| self.out.write_all(text));
            self.check(done);
        }
    }

    fn finish(mut self, problems: &[Problem], summary: &Summary) -> std::io::Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        self.out
            .write_all(if self.empty { b"[]" } else { b"\n  ]" })?;
        self.out.write_all(b",\n  \"problems\": ")?;
        write_nested(&mut self.out, &problems, 1)?;
        self.out.write_all(b",\n  \"summary\": ")?;
        write_nested(&mut self.out, summary, 1)?;
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }
}

/// Findings as items of the `findings` list (depth 2), separated by `,\n`, appended to
/// `out`.
fn render_findings(out: &mut Vec<u8>, findings: &[Finding]) -> std::io::Result<()> {
    for finding in findings {
        push_item(out, &finding.view())?;
    }
    Ok(())
}

/// Appends a finding to `text` as the next item of the `findings` list (depth 2).
///
/// Writes the bytes `write_nested(text, finding, 2)` writes (a test holds the two equal),
/// directly: a finding's keys and fixed words are copied, and only its strings are
/// checked for characters to escape. Through serde, every key and every string was
/// escaped byte by byte, the most of the report's time (a 100k city has 95,000 findings).
fn push_item(text: &mut Vec<u8>, finding: &FindingView) -> std::io::Result<()> {
    text.extend_from_slice(if text.is_empty() { b"    " } else { b",\n    " });
    text.extend_from_slice(b"{\n      \"rule\": ");
    push_str(text, finding.rule);
    text.extend_from_slice(b",\n      \"title\": ");
    push_str(text, finding.title);
    text.extend_from_slice(b",\n      \"law\": ");
    push_str(text, finding.law);
    text.extend_from_slice(b",\n      \"citation\": ");
    push_str(text, finding.citation);
    text.extend_from_slice(b",\n      \"severity\": \"");
    text.extend_from_slice(finding.severity.as_str().as_bytes());
    text.extend_from_slice(match finding.status {
        Status::Open => b"\",\n      \"status\": \"open\"",
        Status::Waived => b"\",\n      \"status\": \"waived\"",
    });
    text.extend_from_slice(b",\n      \"subject\": {\n        \"kind\": ");
    push_str(text, finding.subject.kind);
    text.extend_from_slice(b",\n        \"id\": ");
    push_str(text, finding.subject.id);
    text.extend_from_slice(b"\n      },\n      \"location\": {\n        \"file\": ");
    push_str(text, finding.location.file);
    text.extend_from_slice(b",\n        \"line\": ");
    text.extend_from_slice(itoa::Buffer::new().format(finding.location.line).as_bytes());
    text.extend_from_slice(b",\n        \"column\": ");
    text.extend_from_slice(
        itoa::Buffer::new()
            .format(finding.location.column)
            .as_bytes(),
    );
    text.extend_from_slice(b"\n      }");
    for (key, ids) in [
        (&b",\n      \"path\": ["[..], finding.path),
        (&b",\n      \"path_flows\": ["[..], finding.path_flows),
    ] {
        if ids.is_empty() {
            continue;
        }
        text.extend_from_slice(key);
        for (i, id) in ids.iter().enumerate() {
            text.extend_from_slice(if i == 0 {
                b"\n        "
            } else {
                b",\n        "
            });
            push_str(text, id);
        }
        text.extend_from_slice(b"\n      ]");
    }
    text.extend_from_slice(b",\n      \"fingerprint\": ");
    push_str(text, &finding.fingerprint.text());
    text.extend_from_slice(b",\n      \"message\": ");
    push_str(text, &finding.message);
    text.extend_from_slice(b",\n      \"remediation\": ");
    push_str(text, finding.remediation);
    if let Some(waiver) = finding.waiver {
        text.extend_from_slice(b",\n      \"waiver\": ");
        write_nested(&mut *text, waiver, 3)?;
    }
    text.extend_from_slice(b"\n    }");
    Ok(())
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
fn push_str(text: &mut Vec<u8>, s: &str) {
    // Most strings need no escape: one pass without early exit (which the compiler
    // vectorizes) finds out, then the string is copied whole.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    });
    if plain {
        text.reserve(s.len().saturating_add(2));
        text.push(b'"');
        text.extend_from_slice(s.as_bytes());
        text.push(b'"');
    } else {
        // Writing into a Vec cannot fail, nor can serializing a string.
        let _ = serde_json::to_writer(&mut *text, s);
    }
}

/// Writes `value` pretty-printed as the value of a key or list item at depth `depth`.
pub(super) fn write_nested(
    out: &mut impl Write,
    value: &impl Serialize,
    depth: usize,
) -> std::io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, NestedPretty::at(depth));
    value
        .serialize(&mut serializer)
        .map_err(std::io::Error::other)
}

/// serde_json's `PrettyFormatter` (two spaces), starting at a given depth: its own depth
/// counter is private.
struct NestedPretty {
    depth: usize,
    has_value: bool,
}

impl NestedPretty {
    fn at(depth: usize) -> Self {
        NestedPretty {
            depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, writer: &mut W) -> std::io::Result<()> {
        const SPACES: &[u8; 64] = &[b' '; 64];
        let mut left = self.depth.saturating_mul(2);
        while left > 0 {
            let n = left.min(SPACES.len());
            writer.write_all(SPACES.get(..n).unwrap_or(&[]))?;
            left -= n;
        }
        Ok(())
    }

    /// Opens a list or an object one level deeper.
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth = self.depth.saturating_add(1);
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// Closes a list or an object, on a line of its own when it holds something.
    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }

    /// Starts an item of a list or a key of an object on a new line.
    fn next_line<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next_line(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next_line(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The JSON report: pretty-printed, keys in a fixed order, findings sorted as SPEC §3 says,
/// ending with a newline. Strings are JSON-escaped (control characters as `\u001b`), so
/// manifest text cannot break the document.
pub fn render_json(result: &CheckResult) -> Result<String, super::RenderError> {
    let mut out = Vec::new();
    write_json(result, &mut out).map_err(super::RenderError::json)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(super::RenderError::json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Location, Problem, Severity, Status, Subject, Summary, WaiverInfo};

    /// The document as one `serde_json::to_writer_pretty` call writes it.
    fn reference(result: &CheckResult) -> String {
        #[derive(Serialize)]
        struct Document<'a> {
            lexflow: u32,
            findings: &'a [Finding],
            problems: &'a [Problem],
            summary: &'a Summary,
        }
        let document = Document {
            lexflow: 1,
            findings: &super::super::sorted_findings(result),
            problems: &super::super::sorted_problems(result),
            summary: &result.summary,
        };
        serde_json::to_string_pretty(&document).unwrap() + "\n"
    }

    fn finding(id: &str, line: u32) -> Finding {
        let subject = Subject {
            kind: "flow",
            id: id.into(),
        };
        let path = if line.is_multiple_of(2) {
            vec!["a".to_string(), "b\nc".to_string()]
        } else {
            Vec::new()
        };
        Finding {
            rule: "R-1".into(),
            title: "A \"title\"\nwith a line break".into(),
            law: "L".into(),
            citation: "Art. 1".into(),
            severity: Severity::Error,
            status: Status::Open,
            fingerprint: Finding::compute_fingerprint("R-1", &subject, &path),
            subject,
            location: Location {
                file: "city.json".into(),
                line,
                column: 3,
            },
            path_flows: path.clone(),
            path,
            message: "message ✓".into(),
            remediation: "fix it".into(),
            waiver: None,
        }
    }

    #[test]
    fn the_parallel_writer_writes_what_one_serde_call_writes() {
        let empty = CheckResult::default();
        let mut some = CheckResult {
            findings: (1..=3).map(|i| finding(&format!("F-{i}"), i)).collect(),
            problems: vec![Problem {
                kind: "expired-waiver".into(),
                message: "expired".into(),
                location: None,
            }],
            ..CheckResult::default()
        };
        some.recount();
        let mut many = CheckResult {
            findings: (1..=(BATCH as u32 + PIECE as u32 + 7))
                .map(|i| finding(&format!("F-{i:06}"), i))
                .collect(),
            ..CheckResult::default()
        };
        many.recount();
        for result in [&empty, &some, &many] {
            assert_eq!(render_json(result).unwrap(), reference(result));
        }
    }

    /// The direct finding writer against serde: escapes of every kind, empty and long
    /// strings, paths, large numbers and a waiver.
    #[test]
    fn a_finding_is_written_as_serde_writes_it() {
        let waiver = WaiverInfo {
            justification: "accepted \"for now\"\u{7}".into(),
            approver: "Li Wei".into(),
            ticket: "T-1".into(),
            expires: "2027-01-01".into(),
        };
        let texts = [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "control \u{0}\u{1f}\t\r\n\u{8}\u{c}",
            "delete \u{7f} and ✓ 数据 \u{2028}",
            "a long text with nothing to escape in it, longer than one vector register",
        ];
        for (i, s) in texts.iter().enumerate() {
            let mut finding = finding(s, u32::MAX - i as u32);
            finding.title = (*s).into();
            finding.message = format!("{s}{s}");
            finding.location.file = (*s).into();
            finding.path_flows = vec![(*s).to_string()];
            let mut view = finding.view();
            if i % 2 == 1 {
                view.status = Status::Waived;
                view.waiver = Some(&waiver);
            }
            let mut direct = b"x".to_vec();
            push_item(&mut direct, &view).unwrap();
            let mut through_serde = b"x,\n    ".to_vec();
            write_nested(&mut through_serde, &view, 2).unwrap();
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(through_serde).unwrap()
            );
        }
    }
}
