//! Load errors: one miette diagnostic per problem, all collected for a run.

use std::fmt;
use std::sync::Arc;

use crate::source::SourceText;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::source::{Loc, SourceMap, MAX_EXCERPT_COLUMN};

/// What went wrong, for callers and tests that match on the kind rather than the text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum LoadErrorKind {
    /// The file could not be read (missing, unreadable, a folder walk failed).
    Io,
    /// Larger than [`super::MAX_FILE_BYTES`].
    TooLarge,
    /// Not valid UTF-8.
    InvalidUtf8,
    /// Not well-formed YAML / JSON.
    Syntax,
    /// Refused by a hostile-input limit: alias expansion, nesting depth, node count...
    Limit,
    /// A key appears twice in one mapping.
    DuplicateKey,
    /// A field the format does not know.
    UnknownField,
    /// A value of the wrong type (text where a number is expected...).
    WrongType,
    /// A required field is absent.
    MissingField,
    /// `lexflow:` names a format version this build does not read.
    UnsupportedVersion,
    /// A data category not in the taxonomy.
    UnknownCategory,
    /// A country code (or group) not in the vocabulary.
    UnknownCountry,
    /// A value not in the field's enumerated vocabulary.
    UnknownValue,
    /// Not a `YYYY-MM-DD` calendar date.
    BadDate,
    /// The same id declared twice in the run.
    DuplicateId,
    /// A reference to an id that is not declared (or is declared as another kind).
    DanglingReference,
}

impl LoadErrorKind {
    /// Stable diagnostic code, e.g. `lexflow::manifest::unknown_field`.
    pub fn code(self) -> &'static str {
        match self {
            LoadErrorKind::Io => "lexflow::manifest::io",
            LoadErrorKind::TooLarge => "lexflow::manifest::too_large",
            LoadErrorKind::InvalidUtf8 => "lexflow::manifest::invalid_utf8",
            LoadErrorKind::Syntax => "lexflow::manifest::syntax",
            LoadErrorKind::Limit => "lexflow::manifest::limit",
            LoadErrorKind::DuplicateKey => "lexflow::manifest::duplicate_key",
            LoadErrorKind::UnknownField => "lexflow::manifest::unknown_field",
            LoadErrorKind::WrongType => "lexflow::manifest::wrong_type",
            LoadErrorKind::MissingField => "lexflow::manifest::missing_field",
            LoadErrorKind::UnsupportedVersion => "lexflow::manifest::unsupported_version",
            LoadErrorKind::UnknownCategory => "lexflow::manifest::unknown_category",
            LoadErrorKind::UnknownCountry => "lexflow::manifest::unknown_country",
            LoadErrorKind::UnknownValue => "lexflow::manifest::unknown_value",
            LoadErrorKind::BadDate => "lexflow::manifest::bad_date",
            LoadErrorKind::DuplicateId => "lexflow::manifest::duplicate_id",
            LoadErrorKind::DanglingReference => "lexflow::manifest::dangling_reference",
        }
    }
}

/// One problem in one manifest file, with its position.
///
/// `Display` is `file:line:column: message`; as a miette diagnostic it shows the line with
/// a label at the offending value and a help (often "did you mean `x`?").
#[derive(Clone)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    /// The message without position, e.g. "unknown field `contry` in organization".
    pub message: String,
    /// The display name of the file (as given on the command line or found in a folder).
    pub file: String,
    /// Where: 1-based line and column; `line == 0` when there is no position (I/O errors).
    pub loc: Loc,
    /// Byte length of the underlined text (0 points at `loc`).
    pub len: usize,
    /// Short text under the underline.
    pub label: String,
    pub help: Option<String>,
    pub(crate) source: Option<SourceText>,
}

impl LoadError {
    /// Whether miette shows the source around the error (with file, line and column in its
    /// header): not for errors without a position, nor past [`MAX_EXCERPT_COLUMN`].
    fn has_excerpt(&self) -> bool {
        self.loc.line > 0 && self.loc.column <= MAX_EXCERPT_COLUMN
    }

    pub fn line(&self) -> u32 {
        self.loc.line
    }
    pub fn column(&self) -> u32 {
        self.loc.column
    }
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadError")
            .field("kind", &self.kind)
            .field("file", &self.file)
            .field("line", &self.loc.line)
            .field("column", &self.loc.column)
            .field("message", &self.message)
            .field("help", &self.help)
            .finish()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.loc.line, self.loc.column, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}

/// A `NamedSource` built on demand (miette wants a `&dyn SourceCode` owned by the error).
struct Named(NamedSource<SourceText>);

impl Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        // `NamedSource` is built once per error in `named_source` (see `LoadErrors`); a bare
        // error shows its text without the file name in the header, which `Display` carries.
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        if !self.has_excerpt() {
            return None;
        }
        let label = LabeledSpan::new(Some(self.label.clone()), self.loc.offset as usize, self.len);
        Some(Box::new(std::iter::once(label)))
    }
}

/// The same error with the file's name attached to its source code, for miette's header
/// (`╭─[examples/city.yaml:12:5]`).
pub struct NamedLoadError {
    error: LoadError,
    named: Option<Named>,
}

impl NamedLoadError {
    pub fn new(error: LoadError) -> Self {
        let named = error
            .source
            .as_ref()
            .map(|s| Named(NamedSource::new(error.file.clone(), Arc::clone(s))));
        NamedLoadError { error, named }
    }
    pub fn error(&self) -> &LoadError {
        &self.error
    }
}

impl fmt::Debug for NamedLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

/// The message alone when the source is shown (miette's header names file, line and
/// column), else `file: message`.
impl fmt::Display for NamedLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.named.is_some() && self.error.has_excerpt() {
            f.write_str(&self.error.message)
        } else {
            fmt::Display::fmt(&self.error, f)
        }
    }
}

impl std::error::Error for NamedLoadError {}

impl Diagnostic for NamedLoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error.code()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error.help()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.named.as_ref().map(|n| &n.0 as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.error.labels()
    }
}

/// Every problem found in one run, in file order then position order, with the files read.
///
/// As a miette diagnostic it reports "N problems in the manifests" and lists each problem
/// through `related()`, so `eprintln!("{:?}", miette::Report::new(errors))` prints them all.
/// Or iterate: `for e in errors.iter() { ... }` (each a `NamedLoadError`, a full diagnostic).
pub struct LoadErrors {
    pub errors: Vec<NamedLoadError>,
    pub sources: SourceMap,
}

impl LoadErrors {
    pub(crate) fn new(mut errors: Vec<LoadError>, sources: SourceMap) -> Self {
        errors.sort_by(|a, b| {
            (a.loc.file, a.loc.line, a.loc.column).cmp(&(b.loc.file, b.loc.line, b.loc.column))
        });
        LoadErrors {
            errors: errors.into_iter().map(NamedLoadError::new).collect(),
            sources,
        }
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The plain errors (kind, message, file, line, column, help).
    pub fn iter(&self) -> impl Iterator<Item = &LoadError> {
        self.errors.iter().map(NamedLoadError::error)
    }
}

impl<'a> IntoIterator for &'a LoadErrors {
    type Item = &'a NamedLoadError;
    type IntoIter = std::slice::Iter<'a, NamedLoadError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl fmt::Debug for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.len() {
            1 => write!(f, "1 problem in the manifests"),
            n => write!(f, "{n} problems in the manifests"),
        }
    }
}

impl std::error::Error for LoadErrors {}

impl Diagnostic for LoadErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("lexflow::manifest"))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}
