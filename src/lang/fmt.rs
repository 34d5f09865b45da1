//! `lexflow fmt`: the canonical layout of a rule file, keeping every comment.
//!
//! A token-level formatter rather than a pretty-printer of the syntax tree (which has no
//! comments): the text is cut into tokens (comments and multi-line strings included), the
//! parser says where statements, clauses and blocks begin, and the lines are laid out again:
//!
//! - one statement a line inside laws and rules; a law's or rule's braces close their lines;
//! - statements indented two spaces a block, `where` and `let` clauses two more under `for each`;
//! - continuation lines keep their alignment: a line aligned under a token of the lines above
//!   it (`| health` under the `=`, `to system t` under `from`) stays aligned under that token
//!   wherever it moves; any other continuation moves with its statement, at least two spaces in;
//! - one space between tokens, none inside brackets, around `.`, before `,` or in a call `f(x)`;
//! - comments kept word for word: a comment line takes the indentation of the code after it,
//!   a trailing comment stays in its column (two spaces after the code at least);
//! - blank lines kept as paragraphs (runs collapsed to one; none after `{` or before `}`);
//! - strings never touched, even when they run over several lines.
//!
//! The result parses to the same syntax tree (tested), and formatting it again changes nothing.

use super::ast::Span;
use super::diag::LangError;
use super::parse::{layout, parse_policy, LayoutKind, LayoutMark};
use crate::source::FileId;

/// Formats a rule file; a file that does not parse is refused with the parser's diagnostic
/// (in file 0 of the caller's source map).
pub fn format_source(text: &str) -> Result<String, LangError> {
    format_file(FileId(0), text)
}

/// As [`format_source`], with diagnostics pointing at `file`.
pub fn format_file(file: FileId, text: &str) -> Result<String, LangError> {
    // The full parse also checks what the grammar alone does not (dates, numbers).
    parse_policy(file, text)?;
    let marks = layout(file, text)?;
    let tokens = lex(text, &marks).map_err(|offset| {
        LangError::new(
            "cannot format",
            Span {
                file,
                start: offset as u32,
                end: offset as u32 + 1,
            },
            "unexpected character".into(),
        )
    })?;
    Formatter::new(text, tokens, &marks)
        .run()
        .map_err(|Inconsistent| {
            LangError::new(
                "cannot format",
                Span {
                    file,
                    start: 0,
                    end: 0,
                },
                "the formatter lost track of a token; the file is left as it is".into(),
            )
            .with_help("please report this file as a lexflow bug")
        })
}

/// The formatter's token and line indexes did not agree (cannot happen: they are all made
/// from the same token list). The file is then refused, never formatted wrongly.
#[derive(Debug)]
struct Inconsistent;

type Fmt<T> = Result<T, Inconsistent>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TokKind {
    Word,
    Number,
    Str,
    Comment,
    Punct,
}

#[derive(Clone, Debug)]
struct Tok<'t> {
    kind: TokKind,
    text: &'t str,
    start: usize,
    end: usize,
}

fn lex<'t>(text: &'t str, marks: &[LayoutMark]) -> Result<Vec<Tok<'t>>, usize> {
    let words: std::collections::HashMap<usize, usize> = marks
        .iter()
        .filter(|m| m.kind == LayoutKind::Word)
        .map(|m| (m.start, m.end))
        .collect();
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        } else if let Some(&end) = words.get(&i) {
            i = end;
            TokKind::Word
        } else if b == b'#' {
            while bytes.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
            TokKind::Comment
        } else if b == b'"' {
            i += 1;
            while let Some(&c) = bytes.get(i).filter(|&&c| c != b'"') {
                i += if c == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            TokKind::Str
        } else if b.is_ascii_digit() {
            let is_date = matches!(
                bytes.get(i..i.saturating_add(10)),
                Some([y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2])
                    if [y1, y2, y3, y4, m1, m2, d1, d2].iter().all(|c| c.is_ascii_digit())
            );
            if is_date {
                i += 10;
            }
            while bytes.get(i).copied().is_some_and(ident) {
                i += 1;
            }
            TokKind::Number
        } else if b.is_ascii_alphabetic() || b == b'_' {
            while bytes.get(i).copied().is_some_and(ident) {
                i += 1;
            }
            if text.get(start..i) == Some("as")
                && text.get(i..).is_some_and(|r| r.starts_with("-of"))
            {
                i += 3;
            }
            TokKind::Word
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            if matches!(two, "<=" | ">=" | "!=" | "+=") {
                i += 2;
            } else {
                let ch = text.get(i..).and_then(|r| r.chars().next()).ok_or(i)?;
                i += ch.len_utf8();
            }
            TokKind::Punct
        };
        tokens.push(Tok {
            kind,
            text: text.get(start..i).ok_or(start)?,
            start,
            end: i,
        });
    }
    Ok(tokens)
}

/// Words after which `(` is a parenthesised condition, not the argument list of a call.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "has",
    "all",
    "is",
    "where",
    "for",
    "each",
    "let",
    "over",
    "leaves",
    "enters",
    "along",
    "when",
    "require",
    "unless",
    "applies",
    "count",
    "distinct",
    "sum",
    "exists",
    "some",
    "no",
    "from",
    "to",
    "until",
    "path",
    "effective",
];

fn space_between(prev: &Tok, next: &Tok) -> bool {
    let (p, n) = (prev.text, next.text);
    if matches!(p, "(" | "[" | ".") || matches!(n, ")" | "]" | "," | ".") {
        return false;
    }
    if n == "(" && prev.kind == TokKind::Word && !KEYWORDS.contains(&p) {
        return false;
    }
    true
}

/// Columns count characters since the last line break.
fn column_at(text: &str, offset: usize) -> usize {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    before[line_start..].chars().count()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LineKind {
    /// Begins a statement: indentation from the block depth.
    Head(usize),
    /// Continues the statement of the last head line.
    Continuation,
    /// Only a comment.
    Comment,
}

struct Line {
    /// Token indexes, the trailing comment (if any) included.
    first: usize,
    last: usize,
    blank_before: bool,
    /// Whether it was cut off the source line before it.
    split: bool,
    kind: LineKind,
    orig_indent: usize,
    indent: usize,
    /// (token index, column in the source, column in the output) of its code tokens.
    columns: Vec<(usize, usize, usize)>,
    /// The code, without indentation and trailing comment.
    code: String,
    /// Whether the code holds a line break (a string over several lines).
    multiline: bool,
}

struct Formatter<'t> {
    text: &'t str,
    tokens: Vec<Tok<'t>>,
    /// For each token: the statement mark that begins at it.
    starts: Vec<Option<LayoutKind>>,
    /// Token indexes of the braces of law and rule blocks.
    block_open: Vec<bool>,
    block_close: Vec<bool>,
    /// For a closing bracket, the token index of its opener.
    opener: Vec<Option<usize>>,
}

impl<'t> Formatter<'t> {
    fn new(text: &'t str, tokens: Vec<Tok<'t>>, marks: &[LayoutMark]) -> Self {
        let n = tokens.len();
        // Token indexes found by binary search over `tokens`, hence in range of these lists.
        let index_of = |offset: usize| tokens.binary_search_by_key(&offset, |t| t.start).ok();
        let mut starts = vec![None; n];
        let mut block_open = vec![false; n];
        let mut block_close = vec![false; n];
        let set = |flags: &mut [bool], i: Option<usize>| {
            if let Some(flag) = i.and_then(|i| flags.get_mut(i)) {
                *flag = true;
            }
        };
        for mark in marks {
            let Some((i, start)) = index_of(mark.start).and_then(|i| Some((i, starts.get_mut(i)?)))
            else {
                continue;
            };
            match mark.kind {
                LayoutKind::Word => {}
                LayoutKind::Block => {
                    *start = Some(LayoutKind::Statement);
                    let open = tokens
                        .iter()
                        .enumerate()
                        .skip(i)
                        .find(|(_, t)| t.text == "{" && t.kind == TokKind::Punct)
                        .map(|(j, _)| j);
                    set(&mut block_open, open);
                    set(&mut block_close, index_of(mark.end.saturating_sub(1)));
                }
                kind => {
                    if start.is_none() {
                        *start = Some(kind);
                    }
                }
            }
        }
        let mut stack = Vec::new();
        let opener = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| match (t.kind, t.text) {
                (TokKind::Punct, "(" | "[" | "{") => {
                    stack.push(i);
                    None
                }
                (TokKind::Punct, ")" | "]" | "}") => stack.pop(),
                _ => None,
            })
            .collect();
        Formatter {
            text,
            tokens,
            starts,
            block_open,
            block_close,
            opener,
        }
    }

    fn tok(&self, i: usize) -> Fmt<&Tok<'t>> {
        self.tokens.get(i).ok_or(Inconsistent)
    }

    /// Whether token `i` is the punctuation `text`.
    fn is_punct(&self, i: usize, text: &str) -> Fmt<bool> {
        let t = self.tok(i)?;
        Ok(t.kind == TokKind::Punct && t.text == text)
    }

    fn breaks_before(&self, i: usize) -> Fmt<bool> {
        let t = self.tok(i)?;
        if t.kind == TokKind::Comment {
            return Ok(false);
        }
        if self.block_close.get(i) == Some(&true) {
            return Ok(true);
        }
        if i.checked_sub(1).and_then(|p| self.block_open.get(p)) == Some(&true) {
            return Ok(true);
        }
        Ok(matches!(
            self.starts.get(i),
            Some(Some(LayoutKind::Statement | LayoutKind::Clause))
        ))
    }

    fn newline_between(&self, a: usize, b: usize) -> Fmt<usize> {
        let between = self
            .text
            .get(self.tok(a)?.end..self.tok(b)?.start)
            .ok_or(Inconsistent)?;
        Ok(between.matches('\n').count())
    }

    /// Line breaks between token `first` and the one before it (none for the first token).
    fn newlines_before(&self, first: usize) -> Fmt<Option<usize>> {
        first
            .checked_sub(1)
            .map(|p| self.newline_between(p, first))
            .transpose()
    }

    fn lines(&self) -> Fmt<Vec<Line>> {
        let mut lines = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while i < self.tokens.len() {
            let first = i;
            let mut last = i;
            while last + 1 < self.tokens.len()
                && self.newline_between(last, last + 1)? == 0
                && !self.breaks_before(last + 1)?
            {
                last += 1;
            }
            let newlines_before = self.newlines_before(first)?;
            let blank_before = newlines_before.is_some_and(|n| n >= 2);
            let t = self.tok(first)?;
            let kind = if t.kind == TokKind::Comment {
                LineKind::Comment
            } else if t.kind == TokKind::Punct && t.text == "}" {
                LineKind::Head(2 * depth.saturating_sub(1))
            } else if t.kind == TokKind::Punct && t.text == "{" {
                LineKind::Head(2 * depth)
            } else {
                match self.starts.get(first).copied().flatten() {
                    Some(LayoutKind::Clause) => LineKind::Head(2 * depth + 2),
                    Some(_) => LineKind::Head(2 * depth),
                    None => LineKind::Continuation,
                }
            };
            for t in self.tokens.get(first..=last).ok_or(Inconsistent)? {
                if t.kind == TokKind::Punct {
                    match t.text {
                        "{" => depth += 1,
                        "}" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            lines.push(Line {
                first,
                last,
                blank_before,
                split: newlines_before == Some(0),
                kind,
                orig_indent: column_at(self.text, t.start),
                indent: 0,
                columns: vec![],
                code: String::new(),
                multiline: false,
            });
            i = last + 1;
        }
        Ok(lines)
    }

    /// Joins a line's code tokens with canonical spacing; records where each token lands
    /// relative to the start of the code.
    fn render_code(&self, line: &mut Line) -> Fmt<()> {
        let mut code = String::new();
        let mut columns = Vec::new();
        let code_last =
            if self.tok(line.last)?.kind == TokKind::Comment && line.kind != LineKind::Comment {
                line.last.saturating_sub(1)
            } else {
                line.last
            };
        if line.kind == LineKind::Comment {
            return Ok(());
        }
        let code_tokens = self
            .tokens
            .get(line.first..=code_last)
            .ok_or(Inconsistent)?;
        let mut previous: Option<&Tok> = None;
        for (i, t) in (line.first..).zip(code_tokens) {
            if previous.is_some_and(|p| space_between(p, t)) {
                code.push(' ');
            }
            previous = Some(t);
            let col = match code.rfind('\n') {
                Some(nl) => code[nl + 1..].chars().count(),
                None => code.chars().count(),
            };
            let multiline_before = code.contains('\n');
            columns.push((i, column_at(self.text, t.start), col, multiline_before));
            code.push_str(t.text);
        }
        line.multiline = code.contains('\n');
        line.code = code;
        // Columns after a line break inside the code do not move with the indentation.
        line.columns = columns
            .into_iter()
            .map(|(i, orig, col, after_break)| {
                (i, orig, if after_break { usize::MAX - col } else { col })
            })
            .collect();
        Ok(())
    }

    fn run(self) -> Fmt<String> {
        let mut lines = self.lines()?;
        for line in lines.iter_mut() {
            self.render_code(line)?;
        }
        // Indentation of code lines, in order.
        let mut head: Option<usize> = None;
        for n in 0..lines.len() {
            let (before, rest) = lines.split_at_mut_checked(n).ok_or(Inconsistent)?;
            let line = rest.first_mut().ok_or(Inconsistent)?;
            let indent = match line.kind {
                LineKind::Comment => continue,
                LineKind::Head(indent) => {
                    head = Some(n);
                    indent
                }
                LineKind::Continuation => self.continuation_indent(before, line, head)?,
            };
            line.indent = indent;
            for c in line.columns.iter_mut() {
                c.2 = if c.2 >= usize::MAX / 2 {
                    usize::MAX - c.2
                } else {
                    c.2 + indent
                };
            }
        }
        // Comment lines: the indentation of the code after them (walking backwards, `next`
        // is the indentation and first token of the next code line).
        let mut next: Option<(usize, usize)> = None;
        for line in lines.iter_mut().rev() {
            if line.kind != LineKind::Comment {
                next = Some((line.indent, line.first));
                continue;
            }
            line.indent = match next {
                None => 0,
                Some((indent, first)) if self.is_punct(first, "}")? => indent + 2,
                Some((indent, _)) => indent,
            };
        }
        self.emit(&lines)
    }

    /// The indentation of continuation `line`; `before` holds the lines above it, `head`
    /// the index there of its statement's first line.
    fn continuation_indent(&self, before: &[Line], line: &Line, head: Option<usize>) -> Fmt<usize> {
        let Some(head) = head else {
            return Ok(line.orig_indent);
        };
        let head_line = before.get(head).ok_or(Inconsistent)?;
        let first = self.tok(line.first)?;
        // A closing bracket at the indentation of the line that opened it stays there.
        if matches!(first.text, ")" | "]") {
            if let Some(open) = self.opener.get(line.first).copied().flatten() {
                if let Some(open_line) = before
                    .iter()
                    .rev()
                    .find(|l| l.first <= open && open <= l.last)
                {
                    if open_line.orig_indent == line.orig_indent
                        && open_line.kind != LineKind::Comment
                    {
                        return Ok(open_line.indent);
                    }
                }
            }
        }
        // Aligned under a token of the statement's earlier lines: stay aligned under it.
        for earlier in before.get(head..).ok_or(Inconsistent)?.iter().rev() {
            if let Some(&(_, _, col)) = earlier
                .columns
                .iter()
                .find(|c| c.1 == line.orig_indent && c.2 < usize::MAX / 2)
            {
                if col >= head_line.indent + 2 {
                    return Ok(col);
                }
            }
        }
        // Otherwise move with the statement, at least two spaces in.
        let shifted =
            line.orig_indent as isize + head_line.indent as isize - head_line.orig_indent as isize;
        Ok(if shifted >= head_line.indent as isize + 2 {
            shifted as usize
        } else {
            head_line.indent + 4
        })
    }

    fn emit(&self, lines: &[Line]) -> Fmt<String> {
        let trailing = |l: &Line| -> Fmt<bool> {
            Ok(l.kind != LineKind::Comment
                && self.tok(l.last)?.kind == TokKind::Comment
                && l.first != l.last)
        };
        let mut out = String::new();
        let mut previous_opens = true;
        for line in lines {
            let closes = self.is_punct(line.first, "}")?;
            if line.blank_before && !previous_opens && !closes {
                out.push('\n');
            }
            let mut text = " ".repeat(line.indent);
            if line.kind == LineKind::Comment {
                text.push_str(self.tok(line.first)?.text.trim_end());
            } else {
                text.push_str(&line.code);
                if trailing(line)? {
                    let width = match line.code.rfind('\n') {
                        Some(nl) => line.code[nl + 1..].chars().count(),
                        None => line.indent + line.code.chars().count(),
                    };
                    // A comment the author placed further right stays in its column (aligned
                    // comments stay aligned), unless its line was split off a longer one.
                    let comment = self.tok(line.last)?;
                    let orig = column_at(self.text, comment.start);
                    let col = if line.split || line.multiline || orig < width + 2 {
                        width + 2
                    } else {
                        orig
                    };
                    // `col` is at least `width + 2`.
                    text.push_str(&" ".repeat(col.saturating_sub(width)));
                    text.push_str(comment.text.trim_end());
                }
            }
            out.push_str(&text);
            out.push('\n');
            // A trailing comment is not the line's first token, so `last` is at least 1.
            let last_code = if trailing(line)? {
                line.last.checked_sub(1).ok_or(Inconsistent)?
            } else {
                line.last
            };
            previous_opens = line.kind != LineKind::Comment && self.is_punct(last_code, "{")?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::format_source;

    #[test]
    fn lays_out_a_rule_written_on_one_line() {
        let src = "law X \"t\" { rule X-1 \"r\" { cite \"Art. 1\" severity review for each flow f where f.data has health  # why\n require f.consent in [ separate,written ] } }\n";
        let out = format_source(src).unwrap();
        assert_eq!(
            out,
            "law X \"t\" {\n  rule X-1 \"r\" {\n    cite \"Art. 1\"\n    severity review\n    for each flow f\n      where f.data has health  # why\n    require f.consent in [separate, written]\n  }\n}\n"
        );
        assert_eq!(format_source(&out).unwrap(), out);
    }
}
