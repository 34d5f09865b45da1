//! Source files and positions shared by every stage: a finding, a load error and a rule
//! diagnostic all point at a file, a line and a column.

use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct FileId(pub u32);

/// A position in a source file: 1-based line and column, plus the byte offset for
/// diagnostics that underline text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Loc {
    pub file: FileId,
    pub line: u32,
    pub column: u32,
    pub offset: u32,
}

/// A file's text, shared by the loader, its diagnostics and the parser threads. An
/// `Arc<String>` rather than an `Arc<str>`: the text read from disk moves in without being
/// copied (a 1M-flow city is 266 MB of text).
pub type SourceText = Arc<String>;

/// One file as read: the name as given on the command line (or found in a walked folder)
/// and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: SourceText,
}

/// All files of one run, so that positions stay small (`FileId`) and the text is at hand
/// for diagnostics.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<SourceText>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
        });
        // The index of the file just pushed (the list is not empty).
        FileId(self.files.len().saturating_sub(1) as u32)
    }

    /// Lets go of every file's text, keeping the names. For a caller that is done with
    /// diagnostics (a check after a clean load): at city scale the texts are as large as
    /// the manifests on disk, and findings need only names, lines and columns.
    pub fn release_texts(&mut self) {
        for file in &mut self.files {
            file.text = Arc::default();
        }
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }

    /// Byte offset of a 1-based line and column in a file's text (for miette spans).
    pub fn offset_of(&self, loc: Loc) -> usize {
        if loc.offset > 0 {
            return loc.offset as usize;
        }
        let Some(file) = self.get(loc.file) else {
            return 0;
        };
        offset_of_line_col(&file.text, loc.line, loc.column)
    }
}

/// Diagnostics show a source excerpt only for positions up to this (character) column: miette
/// pads its underline with a format width, which panics past 65,535 (a tab counts 4), and a
/// line that long is unreadable anyway. Such an error keeps its file, line and column.
pub const MAX_EXCERPT_COLUMN: u32 = 10_000;

/// Byte offset of a 1-based line and (character) column in `text`, clamped to its length.
pub fn offset_of_line_col(text: &str, line: u32, column: u32) -> usize {
    let mut offset = 0usize;
    for (index, line_text) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line as usize {
            let col = line_text
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map(|(i, _)| i)
                .unwrap_or(line_text.len());
            return offset + col;
        }
        offset += line_text.len();
    }
    text.len()
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col_of_offset(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    // Counts past u32::MAX (a file over 4 GiB) stay at u32::MAX rather than wrap.
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
    let line = count(before.matches('\n').count());
    let line_start = before.rfind('\n').map_or(0, |i| i.saturating_add(1));
    let column = count(
        before
            .get(line_start..)
            .map(|s| s.chars().count())
            .unwrap_or(0),
    );
    (line, column)
}
