//! The rule language: rule files → syntax tree → checked, compiled program.
//!
//! Rule files can never perform I/O, loop or run code: the only file access is `import`,
//! resolved here, confined to the folder of the importing file (no `..`, no absolute path,
//! no symlink leaving it) or to the bundled library.

pub mod ast;
pub mod check;
pub mod contradiction;
pub mod diag;
pub mod fmt;
pub mod ir;
pub mod parse;
pub mod schema;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::source::SourceMap;
pub use diag::LangError;
pub use ir::Program;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The law packs and vocabulary files embedded in the binary.
pub fn bundled_files() -> &'static [(&'static str, &'static str)] {
    bundled::BUNDLED
}

/// The manifest each bundled rule's test fires on: (rule id, YAML text).
pub fn bundled_examples() -> &'static [(&'static str, &'static str)] {
    bundled::EXAMPLES
}

/// Largest rule file accepted.
const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// Errors of loading rule files: each with the sources needed to show it.
#[derive(Debug)]
pub struct PolicyErrors {
    pub sources: SourceMap,
    pub errors: Vec<LangError>,
}

impl PolicyErrors {
    pub fn reports(&self) -> Vec<miette::Report> {
        self.errors
            .iter()
            .map(|e| e.to_report(&self.sources))
            .collect()
    }
}

/// Which rule files to compile.
#[derive(Clone, Debug, Default)]
pub struct PolicySelection {
    pub bundled: bool,
    /// Extra files or folders (`--policy`).
    pub paths: Vec<PathBuf>,
}

/// Reads, parses and compiles the selected rule files and their imports.
pub fn load_program(selection: &PolicySelection) -> Result<Program, PolicyErrors> {
    let mut loader = Loader::default();
    if selection.bundled {
        // A user file with a bundled file's name replaces it (`lexflow test policies/`
        // compiles the working copy of the packs, not the embedded one).
        let overridden = user_file_names(&selection.paths);
        for (name, text) in bundled_files() {
            if !overridden.contains(*name) {
                loader.add_text(format!("<bundled>/{name}"), text.to_string(), None);
            }
        }
    }
    for path in &selection.paths {
        loader.add_path(path);
    }
    loader.finish()
}

/// The `.policy` files under a folder, walked recursively (links not followed), sorted.
pub fn policy_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "policy"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn user_file_names(paths: &[PathBuf]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            std::fs::read_dir(path)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                .unwrap_or_default()
        } else {
            vec![path.clone()]
        };
        for file in files {
            if let Some(name) = file.file_name().and_then(|n| n.to_str()) {
                names.insert(name.to_string());
            }
        }
    }
    names
}

/// Compiles rule files given as text (tests, `lexflow test`), after the bundled vocabulary
/// files when `with_bundled` is set.
pub fn compile_texts(texts: &[(&str, &str)], with_bundled: bool) -> Result<Program, PolicyErrors> {
    let mut loader = Loader::default();
    if with_bundled {
        for (name, text) in bundled_files() {
            loader.add_text(format!("<bundled>/{name}"), text.to_string(), None);
        }
    }
    for (name, text) in texts {
        loader.add_text(name.to_string(), text.to_string(), None);
    }
    loader.finish()
}

/// Compiles one rule file being edited (the language server): the bundled files first,
/// except one of the same file name (the document replaces it), then the text, whose
/// imports resolve against `dir`. Returns the program and the document's file id.
pub fn compile_document(
    name: &str,
    text: &str,
    dir: Option<&Path>,
) -> (Result<Program, PolicyErrors>, crate::source::FileId) {
    let mut loader = Loader::default();
    let mut replaced = BTreeSet::new();
    replaced.insert(
        Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name)
            .to_string(),
    );
    // A file imported from beside the document replaces the bundled file of its name.
    if let (Ok(parsed), Some(dir)) = (parse::parse_policy(crate::source::FileId(0), text), dir) {
        for item in &parsed.items {
            if let ast::Item::Import(target) = item {
                if dir.join(&target.text).is_file() {
                    replaced.insert(target.text.clone());
                }
            }
        }
    }
    for (bundled, content) in bundled_files() {
        if !replaced.contains(*bundled) {
            loader.add_text(format!("<bundled>/{bundled}"), content.to_string(), None);
        }
    }
    let file = crate::source::FileId(loader.sources.files.len() as u32);
    loader.add_text(
        name.to_string(),
        text.to_string(),
        dir.map(Path::to_path_buf),
    );
    (loader.finish(), file)
}

#[derive(Default)]
struct Loader {
    sources: SourceMap,
    files: Vec<ast::PolicyFile>,
    errors: Vec<LangError>,
    seen: BTreeSet<String>,
}

impl Loader {
    fn add_path(&mut self, path: &Path) {
        if path.is_dir() {
            let entries = policy_files_in(path);
            for entry in entries {
                self.add_file(&entry);
            }
        } else {
            self.add_file(path);
        }
    }

    fn io_error(&mut self, name: String, message: String, help: &str) {
        let file = self.sources.add(name, String::new());
        self.errors.push(
            LangError::new(
                "cannot read rule file",
                ast::Span {
                    file,
                    start: 0,
                    end: 0,
                },
                message,
            )
            .with_help(help),
        );
    }

    fn add_file(&mut self, path: &Path) {
        let name = path.display().to_string();
        let canonical = path
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or(name.clone());
        if !self.seen.insert(canonical) {
            return;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() > MAX_POLICY_BYTES => {
                return self.io_error(
                    name,
                    format!(
                        "{} bytes is more than the {MAX_POLICY_BYTES} a rule file may have",
                        meta.len()
                    ),
                    "split the rule file",
                );
            }
            Err(e) => {
                return self.io_error(name, e.to_string(), "check the path given to --policy")
            }
            _ => {}
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_text(name, text, path.parent().map(Path::to_path_buf)),
                Err(e) => self.io_error(
                    name,
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                    "save the file as UTF-8",
                ),
            },
            Err(e) => self.io_error(name, e.to_string(), "check the path given to --policy"),
        }
    }

    fn add_text(&mut self, name: String, text: String, dir: Option<PathBuf>) {
        if text.contains('\0') {
            return self.io_error(
                name,
                "the file contains NUL bytes".into(),
                "rule files are plain text",
            );
        }
        let text = std::sync::Arc::new(text);
        let file = self.sources.add(name, std::sync::Arc::clone(&text));
        match parse::parse_policy(file, &text) {
            Ok(parsed) => {
                for item in &parsed.items {
                    if let ast::Item::Import(target) = item {
                        self.import(target, dir.as_deref());
                    }
                }
                self.files.push(parsed);
            }
            Err(e) => self.errors.push(e),
        }
    }

    fn import(&mut self, target: &ast::Name, dir: Option<&Path>) {
        let rel = Path::new(&target.text);
        let escapes = rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            self.errors.push(
                LangError::new("import outside the policy folder", target.span, format!("`{}` leaves the folder of this file", target.text))
                    .with_help("imports name files beside this one or in a subfolder, or bundled files such as \"taxonomy.policy\""),
            );
            return;
        }
        if let Some(dir) = dir {
            let candidate = dir.join(rel);
            if candidate.is_file() {
                let inside = match (candidate.canonicalize(), dir.canonicalize()) {
                    (Ok(c), Ok(d)) => c.starts_with(d),
                    _ => false,
                };
                if !inside {
                    self.errors.push(LangError::new(
                        "import outside the policy folder",
                        target.span,
                        "this import resolves outside the folder (a symbolic link?)".into(),
                    ));
                    return;
                }
                self.add_file(&candidate);
                return;
            }
        }
        let bundled_name = format!("<bundled>/{}", target.text);
        if let Some((_, text)) = bundled_files().iter().find(|(n, _)| *n == target.text) {
            if self.sources.files.iter().any(|f| f.name == bundled_name) {
                return;
            }
            if self.seen.insert(bundled_name.clone()) {
                self.add_text(bundled_name, text.to_string(), None);
            }
            return;
        }
        let mut e = LangError::new(
            "import not found",
            target.span,
            format!("no rule file `{}`", target.text),
        );
        if let Some(s) =
            crate::vocab::did_you_mean(&target.text, bundled_files().iter().map(|(n, _)| *n))
        {
            e = e.with_help(format!("did you mean `{s}`?"));
        }
        self.errors.push(e);
    }

    fn finish(self) -> Result<Program, PolicyErrors> {
        if !self.errors.is_empty() {
            return Err(PolicyErrors {
                sources: self.sources,
                errors: self.errors,
            });
        }
        check::compile(self.sources, &self.files)
            .map_err(|(sources, errors)| PolicyErrors { sources, errors })
    }
}
