//! What the language server knows about a document: its diagnostics from the real parser
//! and checker, and the names around it (rules, definitions, categories, groups) for hover,
//! go to definition and completion. Plain functions of the text, tested without a client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::lang::ast::{self, CategoryNode, Item, PolicyFile, Span};
use crate::lang::diag::{LangError, Level};
use crate::lang::ir::{Kind, Ty};
use crate::lang::schema::{field_type, fields};
use crate::lang::{bundled_files, compile_document, parse, Program};
use crate::source::FileId;

/// A diagnostic in the document: byte range, level, message (title, label, help).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub start: usize,
    pub end: usize,
    pub error: bool,
    pub message: String,
    /// The other place it is about, when in this document (the first of two duplicates).
    pub related: Option<(usize, usize, String)>,
}

/// The analysis of one version of a document.
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    /// The compiled program, when the document compiles.
    pub program: Option<Program>,
}

fn message_of(e: &LangError) -> String {
    let mut message = format!("{}: {}", e.title, e.label);
    if let Some(help) = &e.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    message
}

/// Compiles the document with the bundled vocabulary (and files it imports from `dir`).
pub fn analyse(name: &str, text: &str, dir: Option<&Path>) -> Analysis {
    let (result, file) = compile_document(name, text, dir);
    let convert = |e: &LangError, sources: &crate::source::SourceMap| -> Diagnostic {
        let error = e.level == Level::Error;
        if e.span.file == file {
            let related = e.related.as_deref().and_then(|(span, label)| {
                (span.file == file).then(|| (span.start as usize, span.end as usize, label.clone()))
            });
            let mut message = message_of(e);
            if let Some((span, label)) = e.related.as_deref() {
                if span.file != file {
                    message.push_str(&format!("\n{label}: {}", sources.name(span.file)));
                }
            }
            Diagnostic {
                start: e.span.start as usize,
                end: e.span.end as usize,
                error,
                message,
                related,
            }
        } else {
            // An error in another file (an import): shown at the top, naming the file.
            let (line, col) = e.line_col(sources);
            let message = format!(
                "in {}:{line}:{col}: {}",
                sources.name(e.span.file),
                message_of(e)
            );
            Diagnostic {
                start: 0,
                end: 0,
                error,
                message,
                related: None,
            }
        }
    };
    match result {
        Ok(program) => {
            let diagnostics = program
                .warnings
                .iter()
                .filter(|w| w.span.file == file)
                .map(|w| convert(w, &program.sources))
                .collect();
            Analysis {
                diagnostics,
                program: Some(program),
            }
        }
        Err(errors) => {
            let diagnostics = errors
                .errors
                .iter()
                .map(|e| convert(e, &errors.sources))
                .collect();
            Analysis {
                diagnostics,
                program: None,
            }
        }
    }
}

/// A rule file the document can refer to: the document itself, the files beside it, and the
/// bundled files (read from beside the document when there, else from the binary).
pub struct Source {
    /// The document (or its last version that parsed).
    pub own: bool,
    pub path: Option<PathBuf>,
    pub text: Arc<str>,
    pub ast: Option<PolicyFile>,
}

/// The document first, then its neighbours and the bundled library. While the document
/// does not parse (it is being typed), `last_parsed`, its last version that did, stands in
/// for its names (second in the list, without a path).
pub fn sources(doc_path: Option<&Path>, text: &str, last_parsed: Option<&str>) -> Vec<Source> {
    let parse = |text: &str| parse::parse_policy(FileId(0), text).ok();
    let ast = parse(text);
    let parsed = ast.is_some();
    let mut out = vec![Source {
        own: true,
        path: doc_path.map(Path::to_path_buf),
        text: Arc::from(text),
        ast,
    }];
    if !parsed {
        if let Some(previous) = last_parsed {
            out.push(Source {
                own: true,
                path: None,
                text: Arc::from(previous),
                ast: parse(previous),
            });
        }
    }
    let dir = doc_path.and_then(Path::parent);
    let mut names = std::collections::BTreeSet::new();
    if let Some(dir) = dir {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "policy") && Some(p.as_path()) != doc_path
                })
                .collect();
            paths.sort();
            for path in paths.into_iter().take(64) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                    names.insert(name.to_string());
                }
                out.push(Source {
                    own: false,
                    ast: parse(&text),
                    text: Arc::from(text.as_str()),
                    path: Some(path),
                });
            }
        }
    }
    let own = doc_path.and_then(Path::file_name).and_then(|n| n.to_str());
    for (name, text) in bundled_files() {
        if !names.contains(*name) && own != Some(name) {
            out.push(Source {
                own: false,
                path: None,
                text: Arc::from(*text),
                ast: parse(text),
            });
        }
    }
    out
}

/// A place in one of the [`sources`].
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// Index into the sources (0 = the document).
    pub source: usize,
    pub start: usize,
    pub end: usize,
}

fn is_word_char(c: char, with_dash: bool) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || (with_dash && c == '-')
}

/// The word around `offset`: with `-` (rule ids) or without (paths).
pub fn word_at(text: &str, offset: usize, with_dash: bool) -> Option<(usize, usize, &str)> {
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c, with_dash))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(offset);
    let end = offset
        + text[offset..]
            .char_indices()
            .take_while(|(_, c)| is_word_char(*c, with_dash))
            .last()
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
    let word = text[start..end].trim_matches('.');
    if word.is_empty() {
        return None;
    }
    let lead = text[start..end].len() - text[start..end].trim_start_matches('.').len();
    Some((start + lead, start + lead + word.len(), word))
}

/// The dotted path up to and including the segment under the cursor (`financial` of
/// `financial.account` when the cursor is on `financial`).
fn path_prefix_at(text: &str, offset: usize) -> Option<(usize, usize, String, String)> {
    let (start, end, word) = word_at(text, offset, false)?;
    let rel = offset.saturating_sub(start).min(word.len());
    let seg_end = word[rel..].find('.').map(|i| rel + i).unwrap_or(word.len());
    Some((start, end, word.to_string(), word[..seg_end].to_string()))
}

fn in_string_or_comment(text: &str, offset: usize) -> bool {
    crate::lang::parse::LexicalScanner::at(text, offset) != crate::lang::parse::Lexical::Code
}

// ---------------------------------------------------------------------- looking names up

fn walk_categories<'a>(
    nodes: &'a [CategoryNode],
    prefix: &str,
    out: &mut Vec<(String, &'a ast::Name)>,
) {
    for node in nodes {
        let path = if prefix.is_empty() {
            node.name.text.clone()
        } else {
            format!("{prefix}.{}", node.name.text)
        };
        out.push((path.clone(), &node.name));
        walk_categories(&node.children, &path, out);
    }
}

/// Every category of a file with the name that declares it.
fn categories_of(ast: &PolicyFile) -> Vec<(String, &ast::Name)> {
    let mut out = Vec::new();
    for item in &ast.items {
        if let Item::Taxonomy(nodes) = item {
            walk_categories(nodes, "", &mut out);
        }
    }
    out
}

fn defines_of(ast: &PolicyFile) -> Vec<(Option<&str>, &ast::Define)> {
    let mut out = Vec::new();
    for item in &ast.items {
        match item {
            Item::Define(d) => out.push((None, d)),
            Item::Law(law) => out.extend(
                law.defines
                    .iter()
                    .map(|d| (Some(law.name.text.as_str()), d)),
            ),
            _ => {}
        }
    }
    out
}

fn rules_of(ast: &PolicyFile) -> Vec<(&ast::Law, &ast::Rule)> {
    ast.items
        .iter()
        .filter_map(|i| {
            if let Item::Law(law) = i {
                Some(law)
            } else {
                None
            }
        })
        .flat_map(|law| law.rules.iter().map(move |r| (law, r)))
        .collect()
}

fn place(source: usize, span: Span) -> Place {
    Place {
        source,
        start: span.start as usize,
        end: span.end as usize,
    }
}

/// Where a name is declared: a definition (`sensitive`, `PIPL.sensitive`), a category, a
/// group, a rule id, a law.
pub fn find_declaration(sources: &[Source], name: &str) -> Option<Place> {
    let (law, short) = match name.split_once('.') {
        Some((law, rest))
            if law
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-') =>
        {
            (Some(law), rest)
        }
        _ => (None, name),
    };
    for (i, source) in sources.iter().enumerate() {
        let Some(ast) = &source.ast else { continue };
        for (define_law, define) in defines_of(ast) {
            if define.name.text == short && (law.is_none() || law == define_law) {
                return Some(place(i, define.name.span));
            }
        }
    }
    for (i, source) in sources.iter().enumerate() {
        let Some(ast) = &source.ast else { continue };
        if let Some((_, n)) = categories_of(ast)
            .into_iter()
            .find(|(path, _)| path == name)
        {
            return Some(place(i, n.span));
        }
        for item in &ast.items {
            match item {
                Item::Group(g) if g.name.text == name => return Some(place(i, g.name.span)),
                Item::Vocabulary(v) if v.name.text == name => return Some(place(i, v.name.span)),
                Item::Law(l) if l.name.text == name => return Some(place(i, l.name.span)),
                _ => {}
            }
        }
        if let Some((_, rule)) = rules_of(ast).into_iter().find(|(_, r)| r.id.text == name) {
            return Some(place(i, rule.id.span));
        }
    }
    None
}

/// Go to definition: the declaration of the name under the cursor, or the file an
/// `import` names. Returns a path and a byte range, or the document's own range.
pub fn definition(sources: &[Source], offset: usize) -> Option<(Option<PathBuf>, Place)> {
    let doc = sources.first()?;
    let text = &doc.text;
    // `import "file.policy"`: the file.
    if let Some(ast) = &doc.ast {
        for item in &ast.items {
            if let Item::Import(target) = item {
                if (target.span.start as usize) <= offset && offset <= target.span.end as usize {
                    let dir = doc.path.as_deref().and_then(Path::parent)?;
                    let path = dir.join(&target.text);
                    return path.is_file().then_some({
                        (
                            Some(path),
                            Place {
                                source: usize::MAX,
                                start: 0,
                                end: 0,
                            },
                        )
                    });
                }
            }
        }
    }
    if in_string_or_comment(text, offset) {
        return None;
    }
    let (_, _, word) = word_at(text, offset, true)?;
    let found = find_declaration(sources, word).or_else(|| {
        let (_, _, word, prefix) = path_prefix_at(text, offset)?;
        find_declaration(sources, &word).or_else(|| find_declaration(sources, &prefix))
    })?;
    Some((sources.get(found.source)?.path.clone(), found))
}

/// Hover text (Markdown) for the name under the cursor: a rule (its citation, title and
/// text), a category (its path), a definition, a group, a law.
pub fn hover(
    sources: &[Source],
    program: Option<&Program>,
    offset: usize,
) -> Option<(usize, usize, String)> {
    let doc = sources.first()?;
    let text = &doc.text;
    if let Some((start, end, word)) = word_at(text, offset, true) {
        if let Some(md) = hover_rule(sources, program, word) {
            return Some((start, end, md));
        }
    }
    if in_string_or_comment(text, offset) {
        return None;
    }
    // A category declared in a taxonomy block of this document: its path.
    if let Some(ast) = &doc.ast {
        for (path, name) in categories_of(ast) {
            if (name.span.start as usize) <= offset && offset <= name.span.end as usize {
                return Some((
                    name.span.start as usize,
                    name.span.end as usize,
                    category_markdown(sources, &path),
                ));
            }
        }
    }
    let (start, end, word, prefix) = path_prefix_at(text, offset)?;
    for candidate in [word.as_str(), prefix.as_str()] {
        if let Some(md) = hover_name(sources, candidate) {
            return Some((start, end, md));
        }
    }
    None
}

fn hover_rule(sources: &[Source], program: Option<&Program>, id: &str) -> Option<String> {
    if let Some((law, rule)) = program
        .and_then(|p| p.find_rule(id))
        .filter(|(_, r)| r.id == id)
    {
        let mut md = format!(
            "**{}** — {}\n\n*{}* · severity {}",
            rule.id,
            rule.title,
            rule.citation,
            rule.severity.as_str()
        );
        md.push_str(&format!("\n\nlaw: {} — {}", law.name, law.title));
        if let Some(text) = &rule.text {
            md.push_str(&format!("\n\n> {text}"));
        }
        if let Some(explain) = &rule.explain {
            md.push_str(&format!("\n\n{explain}"));
        }
        return Some(md);
    }
    for source in sources {
        let Some(ast) = &source.ast else { continue };
        if let Some((law, rule)) = rules_of(ast).into_iter().find(|(_, r)| r.id.text == id) {
            let cite = rule.cite.as_ref().map(|(c, _)| c.as_str()).unwrap_or("");
            let citation = if cite.starts_with(&law.name.text) {
                cite.to_string()
            } else {
                format!("{} {cite}", law.name.text)
            };
            let severity = match rule.severity {
                Some(ast::SeverityLevel::Warning) => "warning",
                Some(ast::SeverityLevel::Review) => "review",
                _ => "error",
            };
            let mut md = format!(
                "**{}** — {}\n\n*{}* · severity {severity}",
                rule.id.text,
                rule.title,
                citation.trim()
            );
            md.push_str(&format!("\n\nlaw: {} — {}", law.name.text, law.title));
            if let Some(text) = &rule.text {
                md.push_str(&format!("\n\n> {text}"));
            }
            if let Some(explain) = &rule.explain {
                md.push_str(&format!("\n\n{explain}"));
            }
            return Some(md);
        }
    }
    None
}

fn all_categories(sources: &[Source]) -> Vec<String> {
    let mut out: Vec<String> = sources
        .iter()
        .filter_map(|s| s.ast.as_ref())
        .flat_map(|a| categories_of(a).into_iter().map(|(p, _)| p))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn category_markdown(sources: &[Source], path: &str) -> String {
    let all = all_categories(sources);
    let children: Vec<&str> = all
        .iter()
        .filter(|p| {
            p.strip_prefix(path)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|r| !r.contains('.'))
        })
        .map(String::as_str)
        .collect();
    let mut md = format!("data category `{path}`");
    if let Some((parent, _)) = path.rsplit_once('.') {
        md.push_str(&format!("\n\nunder `{parent}`: `has {parent}` covers it"));
    }
    if !children.is_empty() {
        md.push_str(&format!(
            "\n\ncovers: {}",
            children
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    md
}

fn hover_name(sources: &[Source], name: &str) -> Option<String> {
    if all_categories(sources).iter().any(|c| c == name) {
        return Some(category_markdown(sources, name));
    }
    let found = find_declaration(sources, name)?;
    let source = sources.get(found.source)?;
    let ast = source.ast.as_ref()?;
    for (law, define) in defines_of(ast) {
        if define.name.span.start as usize == found.start {
            let snippet = source
                .text
                .get(define.span.start as usize..define.span.end as usize)
                .unwrap_or("");
            let owner = law.map(|l| format!(" (in {l})")).unwrap_or_default();
            return Some(format!(
                "definition `{}`{owner}\n\n```lexflow\n{snippet}\n```",
                define.name.text
            ));
        }
    }
    for item in &ast.items {
        match item {
            Item::Group(g) if g.name.span.start as usize == found.start => {
                let members: Vec<String> = g
                    .terms
                    .iter()
                    .map(|t| match t {
                        ast::GroupTerm::Group(n) => n.text.clone(),
                        ast::GroupTerm::List(entries) => format!(
                            "[{}]",
                            entries
                                .iter()
                                .map(|e| {
                                    let mut s = e.code.text.clone();
                                    if let Some(d) = e.from {
                                        s.push_str(&format!(" from {d}"));
                                    }
                                    if let Some(d) = e.until {
                                        s.push_str(&format!(" until {d}"));
                                    }
                                    s
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })
                    .collect();
                return Some(format!(
                    "country group `{}` = {}",
                    g.name.text,
                    members.join(" + ")
                ));
            }
            Item::Law(l) if l.name.span.start as usize == found.start => {
                return Some(format!("law **{}** — {}", l.name.text, l.title));
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------- completion

/// A completion item: label, detail.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub detail: String,
    pub kind: CompletionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Category,
    Definition,
    Country,
    Group,
    Attribute,
    Value,
}

const KIND_WORDS: &[(&str, Kind)] = &[
    ("system", Kind::System),
    ("systems", Kind::System),
    ("flow", Kind::Flow),
    ("flows", Kind::Flow),
    ("organization", Kind::Organization),
    ("organizations", Kind::Organization),
    ("contract", Kind::Contract),
    ("contracts", Kind::Contract),
    ("assessment", Kind::Assessment),
    ("assessments", Kind::Assessment),
    ("collection", Kind::Collection),
    ("collections", Kind::Collection),
    ("path", Kind::Path),
];

/// The kind of the variable `var` as bound last before `offset` (`for each flow f`,
/// `over flows g`, `define x(flow f)`, `path p`).
fn kind_of_var(text: &str, offset: usize, var: &str) -> Option<Kind> {
    let words: Vec<&str> = text[..offset]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).rev().find_map(|w| match w {
        [keyword, name] if *name == var => KIND_WORDS
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, kind)| *kind),
        _ => None,
    })
}

/// The type of `var.a.b` at `offset`.
fn type_of_path(text: &str, offset: usize, path: &str) -> Option<Ty> {
    let mut parts = path.split('.');
    let var = parts.next()?;
    let mut ty = Ty::Entity(kind_of_var(text, offset, var)?);
    for part in parts {
        let Ty::Entity(kind) = ty else { return None };
        let (_, field) = fields(kind).iter().find(|(n, _)| *n == part)?;
        ty = field_type(*field);
    }
    Some(ty)
}

/// Completions at `offset`: attributes after `VAR.`, categories and definitions after
/// `has `, countries and groups after `in `, vocabulary values after `VAR.attr = ` or in a
/// list after `VAR.attr in [`.
pub fn complete(sources: &[Source], program: Option<&Program>, offset: usize) -> Vec<Completion> {
    let Some(doc) = sources.first() else {
        return vec![];
    };
    let text: &str = &doc.text;
    let offset = offset.min(text.len());
    if in_string_or_comment(text, offset) {
        return vec![];
    }
    let before = &text[..offset];
    // The word being typed, then what precedes it.
    let head = before.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    // `VAR.attr.`: the attributes of that kind.
    if let Some(stem) = head.strip_suffix('.') {
        let path: String = stem
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Some(Ty::Entity(kind)) = type_of_path(text, offset, &path) {
            return fields(kind)
                .iter()
                .map(|(name, field)| Completion {
                    label: name.to_string(),
                    detail: field_type(*field).describe(),
                    kind: CompletionKind::Attribute,
                })
                .collect();
        }
        // `PIPL.`: the law's definitions; `biometric.`: the subcategories.
        let mut out: Vec<Completion> = all_categories(sources)
            .into_iter()
            .filter_map(|c| {
                c.strip_prefix(&format!("{path}."))
                    .filter(|r| !r.contains('.'))
                    .map(str::to_string)
            })
            .map(|label| Completion {
                detail: format!("category under {path}"),
                label,
                kind: CompletionKind::Category,
            })
            .collect();
        for source in sources {
            if let Some(ast) = &source.ast {
                for (law, define) in defines_of(ast) {
                    if law == Some(path.as_str()) && define.param.is_none() {
                        out.push(Completion {
                            label: define.name.text.clone(),
                            detail: format!("definition in {path}"),
                            kind: CompletionKind::Definition,
                        });
                    }
                }
            }
        }
        return out;
    }
    let trimmed = head.trim_end();
    if trimmed.len() == head.len() && !head.ends_with('[') && !head.ends_with(',') {
        return vec![];
    }
    let last_word: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // The value tested: `VAR.attr` before `in`, `=`, `has`.
    let subject_before = |end: &str| -> Option<Ty> {
        let s = end.trim_end();
        let path: String = s
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !path.contains('.') {
            return None;
        }
        type_of_path(text, offset, &path)
    };
    let vocab_values = |vocab: &str| -> Vec<Completion> {
        program
            .and_then(|p| p.vocab.enum_values(vocab))
            .map(|values| {
                values
                    .iter()
                    .map(|v| Completion {
                        label: v.clone(),
                        detail: format!("{vocab} value"),
                        kind: CompletionKind::Value,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // Inside `[ ... ]` after `in`/`has all`: values of the tested attribute, or countries.
    let open = trimmed.rfind('[');
    let close = trimmed.rfind(']');
    if let Some(open) = open.filter(|&o| close.is_none_or(|c| c < o)) {
        let before_list = trimmed[..open].trim_end();
        let before_kw = before_list.strip_suffix("in").or_else(|| {
            before_list
                .strip_suffix("all")
                .and_then(|s| s.trim_end().strip_suffix("has"))
        });
        if let Some(rest) = before_kw {
            match subject_before(rest.trim_end().trim_end_matches("not")) {
                Some(Ty::Text(Some(vocab))) => return vocab_values(vocab),
                Some(Ty::List(inner)) => {
                    if let Ty::Text(Some(vocab)) = *inner {
                        return vocab_values(vocab);
                    }
                }
                Some(Ty::Categories) => return categories_and_defines(sources),
                _ => {}
            }
        }
        return countries_and_groups(sources, program);
    }
    match last_word.as_str() {
        "has" | "all" | "|" => {
            let rest = trimmed
                .strip_suffix(last_word.as_str())
                .unwrap_or(trimmed)
                .trim_end();
            let rest = rest.strip_suffix("has").unwrap_or(rest);
            match subject_before(rest) {
                Some(Ty::List(inner)) => match *inner {
                    Ty::Text(Some(vocab)) => vocab_values(vocab),
                    Ty::Country => countries_and_groups(sources, program),
                    _ => vec![],
                },
                _ => categories_and_defines(sources),
            }
        }
        "in" | "leaves" | "enters" => {
            let rest = trimmed
                .strip_suffix(last_word.as_str())
                .unwrap_or(trimmed)
                .trim_end();
            match subject_before(rest.strip_suffix("not").unwrap_or(rest)) {
                Some(Ty::Text(Some(vocab))) => vocab_values(vocab),
                _ => countries_and_groups(sources, program),
            }
        }
        _ if trimmed.ends_with('|') => categories_and_defines(sources),
        _ if trimmed.ends_with('=') || trimmed.ends_with("!=") => {
            match subject_before(trimmed.trim_end_matches(['=', '!'])) {
                Some(Ty::Text(Some(vocab))) => vocab_values(vocab),
                _ => vec![],
            }
        }
        _ => vec![],
    }
}

fn categories_and_defines(sources: &[Source]) -> Vec<Completion> {
    let mut out: Vec<Completion> = all_categories(sources)
        .into_iter()
        .map(|c| Completion {
            label: c,
            detail: "data category".into(),
            kind: CompletionKind::Category,
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for source in sources {
        let Some(ast) = &source.ast else { continue };
        for (law, define) in defines_of(ast) {
            if define.param.is_some() {
                continue;
            }
            // The document's own law definitions by name; other laws' qualified.
            let label = match law {
                Some(l) if !source.own => format!("{l}.{}", define.name.text),
                _ => define.name.text.clone(),
            };
            if seen.insert(label.clone()) {
                out.push(Completion {
                    label,
                    detail: "definition".into(),
                    kind: CompletionKind::Definition,
                });
            }
        }
    }
    out
}

fn countries_and_groups(sources: &[Source], program: Option<&Program>) -> Vec<Completion> {
    let mut out = Vec::new();
    let mut groups = std::collections::BTreeSet::new();
    let mut countries = std::collections::BTreeSet::new();
    for source in sources {
        let Some(ast) = &source.ast else { continue };
        for item in &ast.items {
            match item {
                Item::Group(g) => {
                    groups.insert(g.name.text.clone());
                }
                Item::Countries(codes) => countries.extend(codes.iter().map(|c| c.text.clone())),
                _ => {}
            }
        }
    }
    if let Some(p) = program {
        groups.extend(p.vocab.groups.iter().cloned());
        countries.extend(p.vocab.countries.iter().cloned());
    }
    out.extend(groups.into_iter().map(|g| Completion {
        label: g,
        detail: "country group".into(),
        kind: CompletionKind::Group,
    }));
    out.extend(countries.into_iter().map(|c| Completion {
        label: c,
        detail: "country".into(),
        kind: CompletionKind::Country,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "law DEMO \"Demo\" {\n  define sens = biometric | health\n  rule DEMO-1 \"r\" {\n    cite \"Art. 1\"\n    for each flow f\n      where f.data has sens and f.consent = separate\n  }\n}\n";

    fn labels(items: Vec<Completion>) -> Vec<String> {
        items.into_iter().map(|c| c.label).collect()
    }

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap_or_else(|| panic!("{needle}")) + needle.len()
    }

    #[test]
    fn hover_shows_a_categorys_path_and_a_definition() {
        let sources = sources(None, DOC, None);
        let offset = DOC.find("biometric").unwrap() + 2;
        let (_, _, md) = hover(&sources, None, offset).unwrap();
        assert!(
            md.contains("data category `biometric`") && md.contains("biometric.facial"),
            "{md}"
        );
        let offset = DOC.find("has sens").unwrap() + 5;
        let (_, _, md) = hover(&sources, None, offset).unwrap();
        assert!(
            md.contains("definition `sens` (in DEMO)") && md.contains("biometric | health"),
            "{md}"
        );
        let offset = DOC.find("DEMO-1").unwrap() + 1;
        let (_, _, md) = hover(&sources, None, offset).unwrap();
        assert!(md.contains("DEMO Art. 1"), "{md}");
    }

    #[test]
    fn hover_inside_a_taxonomy_gives_the_full_path() {
        let text = "taxonomy {\n  vehicle { plate vin }\n}\n";
        let sources = sources(None, text, None);
        let (_, _, md) = hover(&sources, None, text.find("vin").unwrap() + 1).unwrap();
        assert!(
            md.contains("data category `vehicle.vin`") && md.contains("under `vehicle`"),
            "{md}"
        );
    }

    #[test]
    fn completion_offers_what_fits_the_place() {
        let analysis = analyse("demo.policy", DOC, None);
        let program = analysis.program.as_ref();
        assert!(program.is_some(), "{:?}", analysis.diagnostics);
        let srcs = super::sources(None, DOC, None);
        // A vocabulary attribute compared with `=`: its values.
        let got = labels(complete(&srcs, program, at(DOC, "f.consent = ")));
        assert!(
            got.contains(&"separate".to_string()) && got.contains(&"written".to_string()),
            "{got:?}"
        );
        // After `f.`: a flow's attributes.
        let got = labels(complete(&srcs, program, at(DOC, "where f.")));
        assert!(
            got.contains(&"legal_basis".to_string()) && got.contains(&"transfer".to_string()),
            "{got:?}"
        );
        // In a list after `in [`: the values of the attribute tested.
        let text = DOC.replace("f.consent = separate", "f.legal_basis in [consent, ");
        let srcs = super::sources(None, &text, Some(DOC));
        let got = labels(complete(&srcs, program, at(&text, "in [consent, ")));
        assert!(got.contains(&"public_task".to_string()), "{got:?}");
        // Nothing inside a comment or a string.
        let text = DOC.replace("cite \"Art. 1\"", "cite \"Art. 1 has \"");
        let srcs = super::sources(None, &text, Some(DOC));
        assert!(complete(&srcs, program, at(&text, "Art. 1 has ")).is_empty());
    }

    #[test]
    fn diagnostics_carry_warnings_and_both_places_of_a_duplicate() {
        let text = "law DEMO \"Demo\" {\n  define unused = health\n  rule DEMO-1 \"a\" {\n    cite \"Art. 1\"\n    for each flow f\n  }\n}\n";
        let a = analyse("demo.policy", text, None);
        assert_eq!(a.diagnostics.len(), 1, "{:?}", a.diagnostics);
        assert!(!a.diagnostics[0].error && a.diagnostics[0].message.contains("unused definition"));
        assert_eq!(
            &text[a.diagnostics[0].start..a.diagnostics[0].end],
            "unused"
        );
        let text = "law DEMO \"Demo\" {\n  rule DEMO-1 \"a\" {\n    cite \"Art. 1\"\n    for each flow f\n  }\n  rule DEMO-1 \"b\" {\n    cite \"Art. 2\"\n    for each flow f\n  }\n}\n";
        let a = analyse("demo.policy", text, None);
        let d = &a.diagnostics[0];
        assert!(d.error && d.message.contains("rule id used twice"), "{d:?}");
        let (start, _, label) = d.related.clone().expect("the first place");
        assert_eq!(start, text.find("DEMO-1").unwrap());
        assert_eq!(label, "first used here");
    }

    #[test]
    fn go_to_definition_of_an_import_opens_the_file() {
        let dir = tempfile_dir();
        std::fs::write(dir.join("shared.policy"), "define shared_set = health\n").unwrap();
        let doc_path = dir.join("main.policy");
        let text = "import \"shared.policy\"\nlaw DEMO \"Demo\" {\n  rule DEMO-1 \"a\" {\n    cite \"Art. 1\"\n    for each flow f\n      where f.data has shared_set\n  }\n}\n";
        let sources = sources(Some(&doc_path), text, None);
        let (path, _) = definition(&sources, text.find("shared.policy").unwrap() + 2).unwrap();
        assert_eq!(path.as_deref(), Some(dir.join("shared.policy").as_path()));
        let (path, place) = definition(&sources, text.find("has shared_set").unwrap() + 6).unwrap();
        assert_eq!(path.as_deref(), Some(dir.join("shared.policy").as_path()));
        assert_eq!(place.start, "define ".len());
        let a = analyse(&doc_path.display().to_string(), text, Some(&dir));
        assert!(
            a.diagnostics.is_empty(),
            "imports resolve beside the document: {:?}",
            a.diagnostics
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lexflow-lsp-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
