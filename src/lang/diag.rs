//! Diagnostics of the rule language: a message, the span it is about, a label and a hint.
//! Turned into miette reports with the file's text by [`LangError::to_report`].

use super::ast::Span;
use crate::source::SourceMap;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Error,
    Warning,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LangError {
    pub level: Level,
    pub title: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// A second place the error is about (the first of two duplicates, say).
    pub related: Option<Box<(Span, String)>>,
}

impl LangError {
    pub fn new(title: impl Into<String>, span: Span, label: String) -> Self {
        LangError {
            level: Level::Error,
            title: title.into(),
            span,
            label,
            help: None,
            related: None,
        }
    }

    pub fn warning(title: impl Into<String>, span: Span, label: String) -> Self {
        LangError {
            level: Level::Warning,
            ..LangError::new(title, span, label)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related = Some(Box::new((span, label.into())));
        self
    }

    /// 1-based line and column of the span's start.
    pub fn line_col(&self, sources: &SourceMap) -> (u32, u32) {
        sources
            .get(self.span.file)
            .map(|f| crate::source::line_col_of_offset(&f.text, self.span.start as usize))
            .unwrap_or((0, 0))
    }

    /// A miette report showing the file, the line and the label.
    pub fn to_report(&self, sources: &SourceMap) -> miette::Report {
        let (name, text) = sources
            .get(self.span.file)
            .map(|f| (f.name.clone(), f.text.to_string()))
            .unwrap_or_else(|| ("<policy>".into(), String::new()));
        let (line, column) = self.line_col(sources);
        let len = (self.span.end.saturating_sub(self.span.start)) as usize;
        // No excerpt for an empty source (a file that could not be read) or past
        // MAX_EXCERPT_COLUMN: the label then joins the title, so its text is not lost.
        let excerpt = |offset: usize| {
            !text.is_empty()
                && crate::source::line_col_of_offset(&text, offset).1
                    <= crate::source::MAX_EXCERPT_COLUMN
        };
        let mut labels = vec![miette::LabeledSpan::at(
            (self.span.start as usize).min(text.len())
                ..(self.span.start as usize)
                    .saturating_add(len)
                    .min(text.len()),
            self.label.clone(),
        )];
        let mut title = self.title.clone();
        if !excerpt(self.span.start as usize) {
            labels.clear();
            if !self.label.is_empty() {
                title = format!("{title}: {}", self.label);
            }
        }
        let mut help = self.help.clone();
        if let Some(related) = &self.related {
            let (rel, rel_label) = &**related;
            if rel.file == self.span.file && excerpt(rel.start as usize) {
                labels.push(miette::LabeledSpan::at(
                    rel.start as usize..rel.end as usize,
                    rel_label.clone(),
                ));
            } else {
                let other = sources.name(rel.file);
                let (l, c) = sources
                    .get(rel.file)
                    .map(|f| crate::source::line_col_of_offset(&f.text, rel.start as usize))
                    .unwrap_or((0, 0));
                let note = format!("{rel_label}: {other}:{l}:{c}");
                help = Some(match help {
                    Some(h) => format!("{h}\n{note}"),
                    None => note,
                });
            }
        }
        let severity = match self.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        };
        let diagnostic = miette::MietteDiagnostic::new(format!("{title} ({name}:{line}:{column})"))
            .with_labels(labels)
            .with_severity(severity);
        let diagnostic = match help {
            Some(h) => diagnostic.with_help(h),
            None => diagnostic,
        };
        miette::Report::new(diagnostic).with_source_code(miette::NamedSource::new(name, text))
    }
}
