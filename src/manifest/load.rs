//! The manifest loader: files and folders → [`ManifestSet`], or every problem found.
//!
//! Steps: find the files (folders walked recursively, sorted), read each within
//! [`MAX_FILE_BYTES`], check UTF-8, parse into a positioned tree under hostile-input limits
//! ([`super::yaml`]), convert each file by hand (so that every problem of a file is reported,
//! not only the first), then resolve the references of all files together: several files
//! form ONE graph.

// Every id of a city is hashed on declaration and on each reference to it: foldhash's fast
// hasher instead of SipHash, seeded at random per process so that crafted ids cannot collide
// on purpose.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::date::Date;
use crate::source::{offset_of_line_col, FileId, Loc, SourceText};
use crate::vocab::{did_you_mean, Vocabulary};

use super::error::{LoadError, LoadErrorKind, LoadErrors};
use super::fields::{self, Entity, Field, Type};
use super::json;
use super::model::*;
use super::yaml::{self, Node, Pos, Value};

/// Files larger than this are refused before they are read (64 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The manifest format versions this build reads.
pub const SUPPORTED_VERSIONS: &[i128] = &[1];

/// What the loader did besides loading: which files were manifests and which were skipped.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Display names of the manifests loaded, in load order.
    pub loaded: Vec<String>,
    /// `.yaml`/`.yml`/`.json` files found in walked folders that are not manifests (their
    /// top-level mapping has no `lexflow` key). The CLI says their count on stderr.
    pub skipped: Vec<String>,
    /// Files in walked folders with another extension (not looked at).
    pub other_files: usize,
}

/// Loads manifests from files and folders (walked recursively in sorted order).
///
/// A file named explicitly must be a manifest (a missing `lexflow` key is an error); in a
/// walked folder, `.yaml`, `.yml` and `.json` files without a top-level `lexflow` key are
/// skipped and listed in [`LoadReport::skipped`]. A file that fails to parse in a folder is
/// reported when it looks like a manifest (a `lexflow:` key at the start of a line), else
/// skipped.
pub fn load_paths(
    paths: &[PathBuf],
    vocab: &Vocabulary,
) -> Result<(ManifestSet, LoadReport), LoadErrors> {
    load_paths_sized(paths, vocab, &|_| ())
}

/// As [`load_paths`], telling `found` the manifests' total size on disk (in bytes) once
/// they are found, before any is read: a caller can tune the process to the input's size.
pub fn load_paths_sized(
    paths: &[PathBuf],
    vocab: &Vocabulary,
    found: &dyn Fn(u64),
) -> Result<(ManifestSet, LoadReport), LoadErrors> {
    let mut loader = Loader::new(vocab);
    // Find the files first (in order), then read and parse them in parallel.
    let mut jobs: Vec<Job> = Vec::new();
    let mut bytes = 0u64;
    for path in paths {
        let meta = std::fs::metadata(path);
        let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
        if !is_dir {
            bytes = bytes.saturating_add(meta.map_or(0, |m| m.len()));
            jobs.push(Job::Read(path.display().to_string(), path.clone(), true));
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let name = error.path().unwrap_or(path).display().to_string();
                    jobs.push(Job::Failed(name, (LoadErrorKind::Io, error.to_string())));
                    continue;
                }
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let name = entry.path().display().to_string();
            if !has_manifest_extension(entry.path()) {
                loader.report.other_files += 1;
                continue;
            }
            bytes = bytes.saturating_add(entry.metadata().map_or(0, |m| m.len()));
            jobs.push(Job::Read(name, entry.path().to_path_buf(), false));
        }
    }
    found(bytes);
    loader.load_jobs(jobs);
    loader.finish()
}

/// One file to load: read from disk, given as text, or already failed.
enum Job {
    Read(String, PathBuf, bool),
    Text(String, String),
    Failed(String, (LoadErrorKind, String)),
}

/// A file read and parsed (the part of loading that runs in parallel).
enum Prepared {
    Parsed(String, bool, Parsed),
    Failed(String, (LoadErrorKind, String)),
}

enum Parsed {
    BadUtf8(std::string::FromUtf8Error),
    Text(SourceText, Result<Node, yaml::ParseError>),
    /// A JSON text, parsed later while it is converted ([`Loader::load_json`]).
    Json(SourceText),
    /// A YAML text being parsed on its own thread ([`Loader::load_yaml`]).
    Yaml(SourceText, yaml::Streaming),
    /// A small YAML text being parsed whole on its own thread.
    Later(
        SourceText,
        std::thread::JoinHandle<Result<Node, yaml::ParseError>>,
    ),
}

/// YAML files from this size are converted while they are parsed ([`Loader::load_yaml`]);
/// smaller ones are parsed whole, which costs less time (no hand-over of each item between
/// threads) for a tree that stays small. A whole tree takes about ten times its text: from
/// 8 MiB down to this size, a 10k-flow check of 2.7 MB of YAML went from 43 to 19 MiB of
/// peak memory, for 5% more wall time (median of 15 paired runs).
const STREAM_YAML_BYTES: usize = 512 * 1024;

/// `stream`: parse YAML texts on threads of their own, from `stream_yaml_from` bytes
/// converted while they are parsed (off only in tests that compare with the whole tree).
/// `stream_yaml_from`: the size from which YAML texts are streamed ([`STREAM_YAML_BYTES`]).
/// Fewer bytes than any flow takes in a streamed manifest (for reserving room).
const BYTES_PER_FLOW_AT_LEAST: usize = 200;

/// The most manifest bytes room is reserved for up front (about five million flows).
const RESERVE_FOR_BYTES_AT_MOST: u64 = 1 << 30;

fn parse_bytes(bytes: Vec<u8>, stream: bool, stream_yaml_from: usize) -> Parsed {
    match String::from_utf8(bytes) {
        Ok(text) => {
            // The text the run keeps (for diagnostics) is the buffer it was read into.
            let text: SourceText = Arc::new(text);
            if json::looks_like_json(&text) {
                return Parsed::Json(text);
            }
            if stream && text.len() >= stream_yaml_from {
                if let Some(streaming) = yaml::spawn_streaming(Arc::clone(&text), &LISTS) {
                    return Parsed::Yaml(text, streaming);
                }
            } else if stream {
                let source = Arc::clone(&text);
                if let Ok(handle) = std::thread::Builder::new()
                    .name("lexflow-read".into())
                    .spawn(move || yaml::parse(&source))
                {
                    return Parsed::Later(text, handle);
                }
            }
            let parsed = yaml::parse(&text);
            Parsed::Text(text, parsed)
        }
        Err(error) => Parsed::BadUtf8(error),
    }
}

fn prepare(job: Job) -> Prepared {
    match job {
        Job::Read(name, path, explicit) => match read_limited(&path) {
            Ok(bytes) => {
                Prepared::Parsed(name, explicit, parse_bytes(bytes, true, STREAM_YAML_BYTES))
            }
            Err(error) => Prepared::Failed(name, error),
        },
        Job::Text(name, text) => Prepared::Parsed(
            name,
            true,
            parse_bytes(text.into_bytes(), true, STREAM_YAML_BYTES),
        ),
        Job::Failed(name, error) => Prepared::Failed(name, error),
    }
}

/// Loads manifests given as `(display name, text)` pairs, each treated as a file named on the
/// command line (so each must be a manifest). For tests and for callers that read files
/// themselves.
pub fn load_sources(
    files: Vec<(String, String)>,
    vocab: &Vocabulary,
) -> Result<(ManifestSet, LoadReport), LoadErrors> {
    let mut loader = Loader::new(vocab);
    let jobs = files
        .into_iter()
        .map(|(name, text)| Job::Text(name, text))
        .collect();
    loader.load_jobs(jobs);
    loader.finish()
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| {
            let e = e.to_ascii_lowercase();
            e == "yaml" || e == "yml" || e == "json"
        })
        .unwrap_or(false)
}

/// Reads a file, refusing it before reading when its metadata says it is too large, and
/// never reading more than the limit (the size may change, or the file be a device).
fn read_limited(path: &Path) -> Result<Vec<u8>, (LoadErrorKind, String)> {
    let too_large = |size: u64| {
        (
            LoadErrorKind::TooLarge,
            format!(
                "file is too large ({size} bytes); manifests are limited to {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
    };
    let metadata =
        std::fs::metadata(path).map_err(|e| (LoadErrorKind::Io, format!("cannot read: {e}")))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let file = File::open(path).map_err(|e| (LoadErrorKind::Io, format!("cannot read: {e}")))?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (LoadErrorKind::Io, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Whether a text that failed to parse was meant to be a manifest: a `lexflow` key at the
/// start of a line (YAML) or a `"lexflow":` key (JSON).
fn looks_like_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        let yaml_key = line
            .strip_prefix("lexflow")
            .is_some_and(|rest| rest.trim_start().starts_with(':'));
        let json_key = line
            .split("\"lexflow\"")
            .skip(1)
            .any(|rest| rest.trim_start().starts_with(':'));
        yaml_key || json_key
    })
}

// ---------------------------------------------------------------------------------------
// Field tables of the format (SPEC §1): see [`super::fields`].

/// The vocabulary an enumerated field is checked against, by the context (`organization`,
/// `transfer`...) and the field name, from the field tables.
fn vocabulary_name(context: &str, field: &str) -> Option<&'static str> {
    fields::entity(context)
        .and_then(|entity| entity.field(field))
        .and_then(Field::vocabulary)
}

/// Debug builds check that the loader reads each field as its table says (type and
/// required-ness), so that the tables (and the schema made from them) cannot drift from the
/// parsing code.
fn debug_check_field(entity: &Entity, field: &str, required: bool, ty: fn(&Type) -> bool) {
    // Debug builds (and so the test suite) check that the parsing code and the field tables
    // agree; release builds trust them.
    let known = entity.field(field);
    debug_assert!(
        known.is_some(),
        "field `{field}` read but not in the `{}` table",
        entity.name
    );
    if let Some(f) = known {
        debug_assert_eq!(
            f.required, required,
            "`{}.{field}`: required-ness differs from the table",
            entity.name
        );
        debug_assert!(
            ty(&f.ty),
            "`{}.{field}` read with another type than the table's {:?}",
            entity.name,
            f.ty
        );
    }
}

// ---------------------------------------------------------------------------------------
// The loader.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Want {
    Organization,
    System,
    Contract,
    Any,
}

impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::Organization => "an organization",
            Want::System => "a system",
            Want::Contract => "a contract",
            Want::Any => "a declared entity",
        }
    }
    fn accepts(self, entity: EntityRef) -> bool {
        matches!(
            (self, entity),
            (Want::Any, _)
                | (Want::Organization, EntityRef::Organization(_))
                | (Want::System, EntityRef::System(_))
                | (Want::Contract, EntityRef::Contract(_))
        )
    }
}

fn kind_of(entity: EntityRef) -> EntityKind {
    match entity {
        EntityRef::Organization(_) => EntityKind::Organization,
        EntityRef::System(_) => EntityKind::System,
        EntityRef::Flow(_) => EntityKind::Flow,
        EntityRef::Contract(_) => EntityKind::Contract,
        EntityRef::Assessment(_) => EntityKind::Assessment,
    }
}

/// Where a resolved reference is written.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Operator(SysIdx),
    Processor(SysIdx),
    From(FlowIdx),
    To(FlowIdx),
    TransferContract(FlowIdx),
    Party(ContractIdx, u32),
    Cover(AssessmentIdx, u32),
}

impl Slot {
    /// The field the reference is written in, as its diagnostics name it.
    fn field(self) -> &'static str {
        match self {
            Slot::Operator(_) => "operator",
            Slot::Processor(_) => "processor",
            Slot::From(_) => "from",
            Slot::To(_) => "to",
            Slot::TransferContract(_) => "transfer.contract",
            Slot::Party(..) => "parties",
            Slot::Cover(..) => "covers",
        }
    }
}

/// A reference left to resolve. Kept small (64 bytes): a city split over several files can
/// leave hundreds of thousands pending until the last file is read (the field is the
/// slot's, the length a file's).
struct Pending {
    slot: Slot,
    name: String,
    want: Want,
    loc: Loc,
    len: u32,
}

/// A declared id as the id map's key: held in the map's slot itself up to 24 bytes (every
/// generated id, and most real ones), so that a look-up compares the id without fetching
/// it from elsewhere in memory. At a million flows the map outgrows the caches, and the
/// boxed key was a second cache miss on every reference resolved.
type IdKey = compact_str::CompactString;

/// A declared id (the map's key): the entity, whose `loc` is where it is declared. Small
/// (12 bytes): a city declares hundreds of thousands of ids.
struct Declared {
    entity: EntityRef,
    defaulted: bool,
}

struct Loader<'v> {
    vocab: &'v Vocabulary,
    set: ManifestSet,
    report: LoadReport,
    errors: Vec<LoadError>,
    ids: HashMap<IdKey, Declared>,
    /// One copy of each vocabulary value of every file (see [`Term`]).
    terms: HashSet<Term>,
    /// Each file's references left to resolve once every file is read, in file order (kept
    /// apart: joining them would copy every pending reference of the files after the first).
    pending: Vec<Vec<Pending>>,
    /// Convert JSON texts while they are parsed ([`Loader::load_json`]); off only in the
    /// tests that compare it with the whole-tree conversion.
    stream_json: bool,
    /// Declared ids by the kind a reference wants, sorted: made once, at the first dangling
    /// reference of that kind, for "did you mean".
    id_candidates: Vec<(Want, Vec<Box<str>>)>,
    /// Dangling references given a "did you mean" so far (see [`MAX_ID_SUGGESTIONS`]).
    suggested: usize,
}

/// Past this many dangling references, no more "did you mean": each suggestion compares the
/// name with every declared id, and a manifest with tens of thousands of broken references
/// must still be refused in bounded time.
const MAX_ID_SUGGESTIONS: usize = 100;

impl<'v> Loader<'v> {
    fn new(vocab: &'v Vocabulary) -> Self {
        Loader {
            stream_json: true,
            vocab,
            set: ManifestSet::default(),
            report: LoadReport::default(),
            errors: Vec::new(),
            ids: HashMap::default(),
            terms: HashSet::default(),
            pending: Vec::new(),
            id_candidates: Vec::new(),
            suggested: 0,
        }
    }

    fn io_error(&mut self, name: String, (kind, message): (LoadErrorKind, String)) {
        let file = self.set.sources.add(name.clone(), String::new());
        self.errors.push(LoadError {
            kind,
            message,
            file: name,
            loc: Loc {
                file,
                line: 0,
                column: 0,
                offset: 0,
            },
            len: 0,
            label: String::new(),
            help: None,
            source: None,
        });
    }

    /// Reads the files and converts them in order, keeping a few files ahead started: a
    /// YAML file parses on its own thread from the moment it is read, so the next files
    /// parse while this one is converted (and only that many files' trees or items wait at
    /// once). A JSON file is parsed while it is converted ([`Loader::load_json`]).
    fn load_jobs(&mut self, jobs: Vec<Job>) {
        // Room for the flows all the files may declare, made once: reserved file by file,
        // the list grew (and was copied whole into fresh memory) at the second and third of
        // a 1M-flow city's five files. Capacity never touched is address space; the sum is
        // capped all the same, as a folder may hold large files that are not manifests.
        let bytes: u64 = jobs
            .iter()
            .map(|job| match job {
                Job::Read(_, path, _) => std::fs::metadata(path).map_or(0, |m| m.len()),
                Job::Text(_, text) => text.len() as u64,
                Job::Failed(..) => 0,
            })
            .fold(0u64, u64::saturating_add)
            .min(RESERVE_FOR_BYTES_AT_MOST);
        self.set
            .flows
            .reserve(usize::try_from(bytes).unwrap_or(0) / BYTES_PER_FLOW_AT_LEAST);
        let ahead = rayon::current_num_threads().max(1);
        let mut jobs = jobs.into_iter();
        let mut started = std::collections::VecDeque::with_capacity(ahead);
        loop {
            while started.len() < ahead {
                match jobs.next() {
                    Some(job) => started.push_back(prepare(job)),
                    None => break,
                }
            }
            match started.pop_front() {
                Some(Prepared::Parsed(name, explicit, parsed)) => {
                    self.load_parsed(name, parsed, explicit)
                }
                Some(Prepared::Failed(name, error)) => self.io_error(name, error),
                None => break,
            }
        }
    }

    fn load_parsed(&mut self, name: String, parsed: Parsed, explicit: bool) {
        match parsed {
            Parsed::Text(text, parsed) => self.load_tree(name, text, parsed, explicit),
            Parsed::Json(text) if self.stream_json => self.load_json(name, text, explicit),
            Parsed::Json(text) => {
                let parsed = yaml::parse(&text);
                self.load_tree(name, text, parsed, explicit);
            }
            Parsed::Yaml(text, streaming) => self.load_yaml(name, text, streaming, explicit),
            Parsed::Later(text, handle) => {
                let parsed = match handle.join() {
                    Ok(parsed) => parsed,
                    // The parse itself runs on a thread that catches a panic: this thread
                    // only waits for it. Parse again here rather than lose the file.
                    Err(_) => yaml::parse(&text),
                };
                self.load_tree(name, text, parsed, explicit);
            }
            Parsed::BadUtf8(error) => {
                let valid_up_to = error.utf8_error().valid_up_to();
                let bad = error.as_bytes().get(valid_up_to).copied().unwrap_or(0);
                let lossy = String::from_utf8_lossy(error.as_bytes()).into_owned();
                if !explicit && !looks_like_manifest(&lossy) {
                    self.report.skipped.push(name);
                    return;
                }
                let mut cx = self.file_cx(name, Arc::from(lossy));
                // The lossy text equals the original up to the first bad byte.
                let (line, column) = crate::source::line_col_of_offset(&cx.text, valid_up_to);
                let pos = Pos::new(line, column, Some(valid_up_to), Some(1));
                cx.error(
                    LoadErrorKind::InvalidUtf8,
                    pos,
                    format!(
                        "file is not valid UTF-8: byte 0x{bad:02X} at byte offset {valid_up_to}"
                    ),
                    "invalid UTF-8 here",
                    Some("save the manifest as UTF-8 (without a legacy encoding such as GBK or Latin-1)".into()),
                );
                self.absorb(cx);
            }
        }
    }

    /// Converts a JSON text while it is parsed: each item of the top-level lists is converted
    /// as soon as it is read, then dropped, so that the whole file's tree never exists.
    /// Whatever the streaming reader does not take (a syntax error, a duplicate key, a
    /// number out of range, the lists not in the order they are converted in...) is undone
    /// and the file is loaded as before, from its whole tree or serde-saphyr's diagnostics.
    fn load_json(&mut self, name: String, text: SourceText, explicit: bool) {
        let source = Arc::clone(&text);
        self.load_streamed(name, text, explicit, |stream| {
            json::parse_streaming(&source, stream)
        });
    }

    /// Converts a YAML text while its thread parses it, like [`Loader::load_json`].
    fn load_yaml(
        &mut self,
        name: String,
        text: SourceText,
        streaming: yaml::Streaming,
        explicit: bool,
    ) {
        self.load_streamed(name, text, explicit, |stream| {
            for item in streaming.items.iter() {
                if !stream.convert(item.list, item.index, &item.node) {
                    // Stops the parse (its next item finds no receiver).
                    streaming.finish();
                    return None;
                }
            }
            streaming.finish()
        });
    }

    /// Converts a file with `parse`, which hands the items of the top-level lists to the
    /// stream as they are read and gives the rest of the tree; whatever it does not take
    /// (`None`) is undone and loaded from the whole tree.
    fn load_streamed(
        &mut self,
        name: String,
        text: SourceText,
        explicit: bool,
        parse: impl FnOnce(&mut Stream<'_, 'v>) -> Option<Node>,
    ) {
        let mark = Mark::of(&self.set);
        // Room for the flows a text of this size may declare (a generated city has about
        // 270 bytes a flow): growing a list of 100,000 flows copies it into fresh memory
        // several times. Capacity never touched is address space, not memory.
        self.set.flows.reserve(text.len() / BYTES_PER_FLOW_AT_LEAST);
        let mut cx = self.file_cx(name.clone(), Arc::clone(&text));
        let root = {
            let mut stream = Stream {
                cx: &mut cx,
                last: 0,
            };
            parse(&mut stream)
        };
        match root {
            Some(root) if explicit || is_manifest(&root) => {
                self.report.loaded.push(name);
                cx.manifest(&root);
                self.absorb(cx);
            }
            root => {
                cx.rollback(&mark);
                self.absorb(cx);
                self.set.sources.files.truncate(mark.sources);
                if root.is_some() {
                    // Parsed, but not a manifest (and found in a walked folder).
                    self.report.skipped.push(name);
                    return;
                }
                let parsed = yaml::parse(&text);
                self.load_tree(name, text, parsed, explicit);
            }
        }
    }

    /// Converts a file parsed into a whole tree (or reports why it did not parse).
    fn load_tree(
        &mut self,
        name: String,
        text: SourceText,
        parsed: Result<Node, yaml::ParseError>,
        explicit: bool,
    ) {
        let root = match parsed {
            Ok(root) => root,
            Err(error) => {
                if !explicit && !looks_like_manifest(&text) {
                    self.report.skipped.push(name);
                    return;
                }
                let mut cx = self.file_cx(name, text);
                let kind = if error.duplicate_key {
                    LoadErrorKind::DuplicateKey
                } else if error.limit {
                    LoadErrorKind::Limit
                } else {
                    LoadErrorKind::Syntax
                };
                let help = match kind {
                    LoadErrorKind::DuplicateKey => {
                        Some("each key may appear once in a mapping: remove or merge the repeated one".to_string())
                    }
                    LoadErrorKind::Limit => Some(format!(
                        "manifests are refused past these limits: nesting depth {}, {} nodes, {} aliases, bounded alias expansion",
                        yaml::MAX_DEPTH,
                        yaml::MAX_NODES,
                        yaml::MAX_ALIASES
                    )),
                    _ => None,
                };
                let label = match kind {
                    LoadErrorKind::DuplicateKey => "repeated key",
                    LoadErrorKind::Limit => "refused here",
                    _ => "here",
                };
                let pos = Pos::new(error.line.max(1), error.column.max(1), None, Some(1));
                cx.error(kind, pos, error.message, label, help);
                self.absorb(cx);
                return;
            }
        };
        if !explicit && !is_manifest(&root) {
            self.report.skipped.push(name);
            return;
        }
        self.report.loaded.push(name.clone());
        let mut cx = self.file_cx(name, text);
        cx.manifest(&root);
        self.absorb(cx);
    }

    fn file_cx(&mut self, name: String, text: SourceText) -> FileCx<'v> {
        let file = self.set.sources.add(name.clone(), Arc::clone(&text));
        FileCx {
            vocab: self.vocab,
            file,
            name,
            text,
            set: std::mem::take(&mut self.set),
            errors: Vec::new(),
            ids: std::mem::take(&mut self.ids),
            terms: std::mem::take(&mut self.terms),
            pending: Vec::new(),
        }
    }

    fn absorb(&mut self, cx: FileCx<'v>) {
        self.set = cx.set;
        self.ids = cx.ids;
        self.terms = cx.terms;
        // The first file's lists are taken as they are (no copy of a large list).
        if self.errors.is_empty() {
            self.errors = cx.errors;
        } else {
            self.errors.extend(cx.errors);
        }
        if !cx.pending.is_empty() {
            self.pending.push(cx.pending);
        }
    }

    fn finish(mut self) -> Result<(ManifestSet, LoadReport), LoadErrors> {
        let pending = std::mem::take(&mut self.pending);
        for reference in pending.into_iter().flatten() {
            self.resolve(reference);
        }
        if self.errors.is_empty() {
            Ok((self.set, self.report))
        } else {
            Err(LoadErrors::new(self.errors, self.set.sources))
        }
    }

    fn resolve(&mut self, reference: Pending) {
        let found = self
            .ids
            .get(reference.name.as_str())
            .map(|d| d.entity)
            .filter(|entity| reference.want.accepts(*entity));
        match found {
            Some(entity) if fill(&mut self.set, reference.slot, entity) => {}
            _ => self.dangling(&reference),
        }
    }

    fn dangling(&mut self, reference: &Pending) {
        let want = reference.want;
        let suggestion = if self.suggested < MAX_ID_SUGGESTIONS {
            self.suggested += 1;
            if !self.id_candidates.iter().any(|(w, _)| *w == want) {
                let mut candidates: Vec<Box<str>> = self
                    .ids
                    .iter()
                    .filter(|(_, d)| want.accepts(d.entity))
                    .map(|(id, _)| Box::from(id.as_str()))
                    .collect();
                candidates.sort_unstable();
                self.id_candidates.push((want, candidates));
            }
            self.id_candidates
                .iter()
                .find(|(w, _)| *w == want)
                .and_then(|(_, candidates)| {
                    did_you_mean(&reference.name, candidates.iter().map(|id| &**id))
                })
        } else {
            None
        };
        let (message, mut help) = match self.ids.get(reference.name.as_str()) {
            Some(declared) => (
                format!(
                    "`{}` must name {}, but `{}` is {} {}",
                    reference.slot.field(),
                    want.describe(),
                    reference.name,
                    article(kind_of(declared.entity).as_str()),
                    kind_of(declared.entity).as_str()
                ),
                Some(format!(
                    "`{}` is declared at {}",
                    reference.name,
                    self.place(declared_loc(&self.set, declared))
                )),
            ),
            None => (
                format!(
                    "`{}` names `{}`, which is not declared in any manifest of this run",
                    reference.slot.field(),
                    reference.name
                ),
                None,
            ),
        };
        if let Some(s) = suggestion {
            help = Some(match help {
                Some(h) => format!("did you mean `{s}`? ({h})"),
                None => format!("did you mean `{s}`?"),
            });
        } else if help.is_none() {
            help = Some(format!(
                "declare it (with `id: {}`) in one of the manifests given together, or fix the name",
                reference.name
            ));
        }
        let source = self
            .set
            .sources
            .get(reference.loc.file)
            .map(|f| Arc::clone(&f.text));
        self.errors.push(LoadError {
            kind: LoadErrorKind::DanglingReference,
            message,
            file: self.set.sources.name(reference.loc.file).to_string(),
            loc: reference.loc,
            len: reference.len as usize,
            label: format!("not {}", want.describe()),
            help,
            source,
        });
    }

    fn place(&self, loc: Loc) -> String {
        format!(
            "{}:{}:{}",
            self.set.sources.name(loc.file),
            loc.line,
            loc.column
        )
    }
}

/// Whether a parsed file is a manifest: its top-level mapping has a `lexflow` key.
fn is_manifest(root: &Node) -> bool {
    match &root.value {
        Value::Map(entries) => entries
            .iter()
            .any(|(k, _)| matches!(&k.value, Value::Str(s) if &**s == "lexflow")),
        _ => false,
    }
}

/// The lengths of what a file adds to the set, to undo a file's streamed conversion.
struct Mark {
    sources: usize,
    manifests: usize,
    organizations: usize,
    systems: usize,
    flows: usize,
    contracts: usize,
    assessments: usize,
}

impl Mark {
    /// Whether the entity was added after the mark.
    fn added(&self, entity: EntityRef) -> bool {
        match entity {
            EntityRef::Organization(i) => i.0 as usize >= self.organizations,
            EntityRef::System(i) => i.0 as usize >= self.systems,
            EntityRef::Flow(i) => i.0 as usize >= self.flows,
            EntityRef::Contract(i) => i.0 as usize >= self.contracts,
            EntityRef::Assessment(i) => i.0 as usize >= self.assessments,
        }
    }

    fn of(set: &ManifestSet) -> Mark {
        Mark {
            sources: set.sources.files.len(),
            manifests: set.manifests.len(),
            organizations: set.organizations.len(),
            systems: set.systems.len(),
            flows: set.flows.len(),
            contracts: set.contracts.len(),
            assessments: set.assessments.len(),
        }
    }
}

/// The top-level lists, in the order [`FileCx::manifest`] converts them.
const LISTS: [&str; 5] = [
    "organizations",
    "systems",
    "flows",
    "contracts",
    "assessments",
];

/// Converts the items of the top-level lists of a JSON text as they are read. The ids are
/// declared (and duplicates found) in conversion order, so the items must come in the order
/// the whole-tree conversion takes them: lists in [`LISTS`] order (a list may be absent).
/// Items of a list that comes after a later one stop the reading (the file is then loaded
/// from its whole tree).
struct Stream<'c, 'v> {
    cx: &'c mut FileCx<'v>,
    /// Rank in [`LISTS`] of the last list whose items were converted.
    last: usize,
}

impl json::Sink for Stream<'_, '_> {
    fn streams(&self, key: &Value) -> bool {
        matches!(key, Value::Str(k) if LISTS.contains(&&**k))
    }

    fn item(&mut self, key: &Value, index: usize, node: Node) -> bool {
        let Value::Str(key) = key else {
            return false;
        };
        match LISTS.iter().position(|list| *list == &**key) {
            Some(rank) => self.convert(rank, index, &node),
            None => false,
        }
    }
}

impl Stream<'_, '_> {
    /// Converts item `index` of the list of this rank in [`LISTS`]; `false` if it comes
    /// after a later list.
    fn convert(&mut self, rank: usize, index: usize, node: &Node) -> bool {
        if rank < self.last {
            return false;
        }
        self.last = rank;
        match rank {
            0 => self.cx.organization(node),
            1 => self.cx.system(node),
            2 => self.cx.flow(node),
            3 => self.cx.contract(node),
            _ => self.cx.assessment(node, index + 1),
        }
        true
    }
}

/// Where a declared entity is declared (its `loc`: an id is declared while its entity is
/// converted, which is pushed to the set right after).
fn declared_loc(set: &ManifestSet, declared: &Declared) -> Loc {
    set.id_and_loc(declared.entity)
        .map(|(_, loc)| loc)
        .unwrap_or_default()
}

/// Writes a resolved reference into its slot; `false` if the entity does not fit the slot.
fn fill(set: &mut ManifestSet, slot: Slot, entity: EntityRef) -> bool {
    match (slot, entity) {
        (Slot::Operator(s), EntityRef::Organization(o)) => {
            if let Some(system) = set.systems.get_mut(s.0 as usize) {
                system.operator = o;
            }
        }
        (Slot::Processor(s), EntityRef::Organization(o)) => {
            if let Some(system) = set.systems.get_mut(s.0 as usize) {
                system.processor = Some(o);
            }
        }
        (Slot::From(f), EntityRef::System(s)) => {
            if let Some(flow) = set.flows.get_mut(f.0 as usize) {
                flow.from = s;
            }
        }
        (Slot::To(f), EntityRef::System(s)) => {
            if let Some(flow) = set.flows.get_mut(f.0 as usize) {
                flow.to = s;
            }
        }
        (Slot::TransferContract(f), EntityRef::Contract(c)) => {
            if let Some(transfer) = set
                .flows
                .get_mut(f.0 as usize)
                .and_then(|flow| flow.transfer.as_mut())
            {
                transfer.contract = Some(c);
            }
        }
        (Slot::Party(c, i), EntityRef::Organization(o)) => {
            if let Some(party) = set
                .contracts
                .get_mut(c.0 as usize)
                .and_then(|contract| contract.parties.get_mut(i as usize))
            {
                *party = o;
            }
        }
        (Slot::Cover(a, i), entity) => {
            if let Some(cover) = set
                .assessments
                .get_mut(a.0 as usize)
                .and_then(|assessment| assessment.covers.get_mut(i as usize))
            {
                *cover = entity;
            }
        }
        _ => return false,
    }
    true
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

// ---------------------------------------------------------------------------------------
// One file.

struct FileCx<'v> {
    vocab: &'v Vocabulary,
    file: FileId,
    name: String,
    text: SourceText,
    set: ManifestSet,
    errors: Vec<LoadError>,
    ids: HashMap<IdKey, Declared>,
    terms: HashSet<Term>,
    pending: Vec<Pending>,
}

/// The entries of a list that are texts (each with its position), as
/// [`FileCx::text_list`] found them: `text_of` takes exactly the `Str` entries.
#[derive(Clone, Copy)]
struct Texts<'n> {
    items: &'n [Node],
    count: usize,
}

impl<'n> Texts<'n> {
    fn len(&self) -> usize {
        self.count
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn iter(&self) -> impl Iterator<Item = (&'n str, Pos)> + 'n {
        self.items.iter().filter_map(|item| match &item.value {
            Value::Str(text) => Some((&**text, item.pos)),
            _ => None,
        })
    }
}

/// What a mapping is called in messages ("flow `f-1`", "the `transfer` of flow `f-1`"),
/// written out only when a message needs it: formatting it for each of a city's hundreds
/// of thousands of entities, to be read only on an error, was 5-7% of loading 1M flows.
#[derive(Debug)]
enum What<'n> {
    /// Before the id is known, or without one: "a flow".
    Plain(&'static str),
    /// A noun and the id written in the manifest: flow `f-1`.
    Named(&'static str, &'n str),
    /// A part of a named mapping: the `transfer` of flow `f-1`.
    PartOfNamed(&'static str, &'static str, &'n str),
    Owned(String),
}

impl<'n> What<'n> {
    /// "the `transfer` of" this mapping. Without an allocation for a named one: a box or a
    /// string made for each flow's transfer, short-lived and alone in its size class, costs
    /// a page fault each once freed pages go back to the kernel at once.
    fn part(&self, part: &'static str) -> What<'n> {
        match *self {
            What::Named(noun, id) => What::PartOfNamed(part, noun, id),
            _ => What::Owned(format!("{part} {self}")),
        }
    }
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Plain(text) => f.write_str(text),
            What::Named(noun, id) => write!(f, "{noun} `{id}`"),
            What::PartOfNamed(part, noun, id) => write!(f, "{part} {noun} `{id}`"),
            What::Owned(text) => f.write_str(text),
        }
    }
}

/// A mapping checked against a field list: known fields by name, unknown ones reported.
struct Obj<'n> {
    pos: Pos,
    /// e.g. "organization `hikvision`", for messages.
    what: What<'n>,
    /// Length of the first key, to underline something visible for "missing field".
    first_key_len: usize,
    fields: Vec<(&'n str, &'n Node)>,
    /// The field table the keys were checked against.
    entity: &'static Entity,
}

impl<'n> Obj<'n> {
    /// A field's value; an explicit `null` (or empty value) counts as absent.
    fn get(&self, name: &str) -> Option<&'n Node> {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .filter(|v| !matches!(v.value, Value::Null))
    }
}

impl<'v> FileCx<'v> {
    /// Resolves the references recorded since `start` (those of the entity just pushed)
    /// whose target is already declared: ids are never redeclared, so the end of the load
    /// would resolve them to the same entity. The others stay for [`Loader::finish`]. Keeps
    /// the list of pending references short (a city's flows name systems declared before).
    fn settle(&mut self, start: usize) {
        let mut keep = start;
        for i in start..self.pending.len() {
            let resolved = self.pending.get(i).is_some_and(|reference| {
                match self.ids.get(reference.name.as_str()) {
                    Some(declared) if reference.want.accepts(declared.entity) => {
                        fill(&mut self.set, reference.slot, declared.entity)
                    }
                    _ => false,
                }
            });
            if !resolved {
                self.pending.swap(keep, i);
                keep += 1;
            }
        }
        self.pending.truncate(keep);
    }

    /// Undoes what this file added (its streamed conversion), back to `mark`.
    fn rollback(&mut self, mark: &Mark) {
        let set = &mut self.set;
        set.manifests.truncate(mark.manifests);
        set.organizations.truncate(mark.organizations);
        set.systems.truncate(mark.systems);
        set.flows.truncate(mark.flows);
        set.contracts.truncate(mark.contracts);
        set.assessments.truncate(mark.assessments);
        self.ids.retain(|_, declared| !mark.added(declared.entity));
        self.errors.clear();
        self.pending.clear();
    }

    fn loc(&self, pos: Pos) -> Loc {
        let offset = match pos.byte_offset() {
            Some(o) if o <= self.text.len() => o,
            _ => offset_of_line_col(&self.text, pos.line, pos.column),
        };
        Loc {
            file: self.file,
            line: pos.line,
            column: pos.column,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        }
    }

    fn error(
        &mut self,
        kind: LoadErrorKind,
        pos: Pos,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let loc = self.loc(pos);
        let len = pos
            .byte_len()
            .unwrap_or(0)
            .min(self.text.len().saturating_sub(loc.offset as usize));
        self.errors.push(LoadError {
            kind,
            message,
            file: self.name.clone(),
            loc,
            len,
            label: label.into(),
            help,
            source: Some(Arc::clone(&self.text)),
        });
    }

    fn wrong_type(
        &mut self,
        node: &Node,
        field: &str,
        what: &Obj,
        expected: &str,
        help: Option<String>,
    ) {
        self.error(
            LoadErrorKind::WrongType,
            node.pos,
            format!(
                "`{field}` of {} must be {expected}, found {}",
                what.what,
                node.value.describe()
            ),
            format!("expected {expected}"),
            help,
        );
    }

    /// Checks that `node` is a mapping and that its keys are known fields.
    /// `named`: the entity noun (`organization`), to call the object by its id in messages.
    fn obj<'n>(
        &mut self,
        node: &'n Node,
        what: What<'n>,
        entity: &'static Entity,
        named: Option<&'static str>,
    ) -> Option<Obj<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                LoadErrorKind::WrongType,
                node.pos,
                format!(
                    "{what} must be a mapping of fields, found {}",
                    node.value.describe()
                ),
                "expected a mapping",
                None,
            );
            return None;
        };
        let id = entries
            .iter()
            .find_map(|(k, v)| match (&k.value, &v.value) {
                (Value::Str(k), Value::Str(v)) if &**k == "id" => Some(v),
                _ => None,
            });
        let what = match (named, id) {
            (Some(noun), Some(id)) => What::Named(noun, id),
            _ => what,
        };
        let mut obj = Obj {
            pos: node.pos,
            what,
            first_key_len: entries
                .first()
                .and_then(|(k, _)| k.pos.byte_len())
                .unwrap_or(1),
            fields: Vec::with_capacity(entries.len()),
            entity,
        };
        for (key, value) in entries {
            let Value::Str(name) = &key.value else {
                self.error(
                    LoadErrorKind::WrongType,
                    key.pos,
                    format!("field names must be text, found {}", key.value.describe()),
                    "expected a field name",
                    None,
                );
                continue;
            };
            if obj.fields.iter().any(|(k, _)| *k == &**name) {
                self.error(
                    LoadErrorKind::DuplicateKey,
                    key.pos,
                    format!("duplicate field `{name}` in {}", obj.what),
                    "repeated key",
                    None,
                );
                continue;
            }
            if entity.field(name).is_none() {
                let help = match did_you_mean(name, entity.names()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "known fields: {}",
                        entity.names().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.error(
                    LoadErrorKind::UnknownField,
                    key.pos,
                    format!("unknown field `{name}` in {}", obj.what),
                    "unknown field",
                    Some(help),
                );
                continue;
            }
            obj.fields.push((&**name, value));
        }
        Some(obj)
    }

    fn missing(&mut self, obj: &Obj, field: &str) {
        let pos = obj.pos.with_len(obj.first_key_len);
        self.error(
            LoadErrorKind::MissingField,
            pos,
            format!("missing required field `{field}` in {}", obj.what),
            format!("`{field}` required here"),
            Some(format!("add `{field}:` to {}", obj.what)),
        );
    }

    // -- typed values ------------------------------------------------------------------

    fn text_of<'n>(&mut self, obj: &Obj, field: &str, node: &'n Node) -> Option<&'n str> {
        match &node.value {
            Value::Str(s) => Some(s),
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_) => {
                self.wrong_type(
                    node,
                    field,
                    obj,
                    "text",
                    Some("quote it to make it text".into()),
                );
                None
            }
            _ => {
                self.wrong_type(node, field, obj, "text", None);
                None
            }
        }
    }

    /// The shared copy of a vocabulary value.
    fn term(&mut self, text: &str) -> Term {
        if let Some(term) = self.terms.get(text) {
            return term.clone();
        }
        let term = Term::from(text);
        self.terms.insert(term.clone());
        term
    }

    fn opt_text(&mut self, obj: &Obj, field: &str) -> Option<String> {
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Text));
        let node = obj.get(field)?;
        self.text_of(obj, field, node).map(str::to_string)
    }

    fn req_text<'n>(&mut self, obj: &Obj<'n>, field: &str) -> Option<(&'n str, Pos)> {
        let Some(node) = obj.get(field) else {
            self.missing(obj, field);
            return None;
        };
        let text = self.text_of(obj, field, node)?;
        if text.trim().is_empty() {
            self.error(
                LoadErrorKind::MissingField,
                node.pos,
                format!("`{field}` of {} is empty", obj.what),
                "empty",
                None,
            );
            return None;
        }
        Some((text, node.pos))
    }

    fn opt_bool(&mut self, obj: &Obj, field: &str) -> Option<bool> {
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Bool));
        let node = obj.get(field)?;
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, field, obj, "`true` or `false`", None);
                None
            }
        }
    }

    fn opt_u64(&mut self, obj: &Obj, field: &str) -> Option<u64> {
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Count));
        let node = obj.get(field)?;
        match node.value.as_int() {
            Some(i) if i >= 0 => match u64::try_from(i) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.wrong_type(node, field, obj, "a whole number up to 2^64", None);
                    None
                }
            },
            _ => {
                self.wrong_type(node, field, obj, "a whole number (0 or more)", None);
                None
            }
        }
    }

    fn opt_date(&mut self, obj: &Obj, field: &str) -> Option<Date> {
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Date));
        let node = obj.get(field)?;
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, field, obj, "a date (YYYY-MM-DD)", None);
            return None;
        };
        match Date::parse(text) {
            Some(date) => Some(date),
            None => {
                self.error(
                    LoadErrorKind::BadDate,
                    node.pos,
                    format!("`{field}` of {}: `{text}` is not a date", obj.what),
                    "expected YYYY-MM-DD",
                    Some("write a calendar date as YYYY-MM-DD, e.g. 2025-03-01".into()),
                );
                None
            }
        }
    }

    /// Checks that `node` is a list of texts, reporting each entry that is not one, and gives
    /// the entries that are. They are read from the list itself when used: gathering them in
    /// a list of their own was a short-lived allocation for each flow (its data categories),
    /// and with freed pages handed back to the kernel at once that can cost a page fault each.
    fn text_list<'n>(&mut self, obj: &Obj, field: &str, node: &'n Node) -> Option<Texts<'n>> {
        let Value::Seq(items) = &node.value else {
            let help = match &node.value {
                Value::Str(s) => Some(format!("write a list: `[{s}]`")),
                _ => None,
            };
            self.wrong_type(node, field, obj, "a list", help);
            return None;
        };
        let mut count = 0;
        for item in items {
            if self.text_of(obj, field, item).is_some() {
                count += 1;
            }
        }
        Some(Texts { items, count })
    }

    fn check_enum(&mut self, context: &str, field: &str, value: &str, pos: Pos) -> bool {
        let Some(vocabulary) = vocabulary_name(context, field) else {
            return true;
        };
        // A vocabulary the policies do not define cannot be checked against.
        let Some(values) = self.vocab.enum_values(vocabulary) else {
            return true;
        };
        if values.contains(value) {
            return true;
        }
        let help = match did_you_mean(value, values.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "`{vocabulary}` values: {}",
                values
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.error(
            LoadErrorKind::UnknownValue,
            pos,
            format!("unknown {field} `{value}` (not in the `{vocabulary}` vocabulary)"),
            format!("unknown {field}"),
            Some(help),
        );
        false
    }

    fn opt_enum(&mut self, obj: &Obj, context: &str, field: &str) -> Option<Term> {
        debug_assert_eq!(context, obj.entity.name);
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Enum(_)));
        let node = obj.get(field)?;
        let text = self.text_of(obj, field, node)?;
        self.check_enum(context, field, text, node.pos)
            .then(|| self.term(text))
    }

    fn req_enum(&mut self, obj: &Obj, context: &str, field: &str) -> Option<Term> {
        debug_assert_eq!(context, obj.entity.name);
        debug_check_field(obj.entity, field, true, |t| matches!(t, Type::Enum(_)));
        let (text, pos) = self.req_text(obj, field)?;
        self.check_enum(context, field, text, pos)
            .then(|| self.term(text))
    }

    fn opt_enum_list(&mut self, obj: &Obj, context: &str, field: &str) -> Option<Vec<Term>> {
        debug_assert_eq!(context, obj.entity.name);
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::EnumList(_)));
        let node = obj.get(field)?;
        let items = self.text_list(obj, field, node)?;
        let mut out = Vec::with_capacity(items.len());
        for (text, pos) in items.iter() {
            if self.check_enum(context, field, text, pos) {
                out.push(self.term(text));
            }
        }
        Some(out)
    }

    fn categories(&mut self, obj: &Obj, field: &str) -> Vec<Term> {
        debug_check_field(obj.entity, field, true, |t| matches!(t, Type::Categories));
        let Some(node) = obj.get(field) else {
            self.missing(obj, field);
            return Vec::new();
        };
        let Some(items) = self.text_list(obj, field, node) else {
            return Vec::new();
        };
        if items.is_empty() {
            self.error(
                LoadErrorKind::MissingField,
                node.pos,
                format!("`{field}` of {} lists no data category", obj.what),
                "empty list",
                Some("list at least one category, e.g. [identifier.name]".into()),
            );
        }
        let mut out = Vec::with_capacity(items.len());
        for (text, pos) in items.iter() {
            if self.vocab.is_category(text) {
                out.push(self.term(text));
                continue;
            }
            let help = did_you_mean(text, self.vocab.categories.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    "data categories are dotted paths of the taxonomy, e.g. `biometric.facial`"
                        .into()
                });
            self.error(
                LoadErrorKind::UnknownCategory,
                pos,
                format!("unknown data category `{text}`"),
                "not in the taxonomy",
                Some(help),
            );
        }
        out
    }

    fn check_location(&mut self, field: &str, value: &str, pos: Pos, groups: bool) -> bool {
        if self.vocab.is_location(value) || (groups && self.vocab.groups.contains(value)) {
            return true;
        }
        let mut candidates: Vec<&str> = self.vocab.countries.iter().map(String::as_str).collect();
        if groups {
            candidates.extend(self.vocab.groups.iter().map(String::as_str));
        }
        let upper = value.to_ascii_uppercase();
        let help = if upper != value
            && (self.vocab.is_location(&upper) || (groups && self.vocab.groups.contains(&upper)))
        {
            format!("did you mean `{upper}`? (codes are upper case)")
        } else {
            match did_you_mean(value, candidates.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if groups => "use an ISO 3166-1 alpha-2 code (`CN`), a subdivision (`CN-GD`) or a country group (`EU`)".into(),
                None => "use an ISO 3166-1 alpha-2 code (`CN`) or a subdivision (`CN-GD`)".into(),
            }
        };
        self.error(
            LoadErrorKind::UnknownCountry,
            pos,
            format!("unknown country `{value}` in `{field}`"),
            if groups {
                "not a country or group"
            } else {
                "not a country code"
            },
            Some(help),
        );
        false
    }

    fn req_location(&mut self, obj: &Obj, field: &str) -> Term {
        debug_check_field(obj.entity, field, true, |t| matches!(t, Type::Location));
        let Some((text, pos)) = self.req_text(obj, field) else {
            return Term::default();
        };
        self.check_location(field, text, pos, false);
        self.term(text)
    }

    fn opt_location_list(&mut self, obj: &Obj, field: &str) -> Option<Vec<Term>> {
        debug_check_field(obj.entity, field, false, |t| matches!(t, Type::Locations));
        let node = obj.get(field)?;
        let items = self.text_list(obj, field, node)?;
        let mut out = Vec::with_capacity(items.len());
        for (text, pos) in items.iter() {
            if self.check_location(field, text, pos, true) {
                out.push(self.term(text));
            }
        }
        Some(out)
    }

    /// Records a reference to resolve once every file is read.
    fn reference(&mut self, slot: Slot, field: &'static str, want: Want, name: &str, pos: Pos) {
        debug_assert_eq!(slot.field(), field, "a slot names its field");
        let loc = self.loc(pos);
        self.pending.push(Pending {
            slot,
            name: name.to_string(),
            want,
            loc,
            len: u32::try_from(pos.byte_len().unwrap_or(0)).unwrap_or(u32::MAX),
        });
    }

    /// A required, non-empty list of references (a contract's parties, an assessment's
    /// covers): each entry is queued for resolution into `slot(i)`. Returns the number of
    /// entries, for the caller's placeholders.
    fn req_reference_list(
        &mut self,
        obj: &Obj,
        field: &'static str,
        when_empty: &str,
        want: Want,
        slot: impl Fn(usize) -> Slot,
    ) -> usize {
        debug_check_field(obj.entity, field, true, |t| matches!(t, Type::RefList(_)));
        let Some(node) = obj.get(field) else {
            self.missing(obj, field);
            return 0;
        };
        let Some(items) = self.text_list(obj, field, node) else {
            return 0;
        };
        if items.is_empty() {
            self.error(
                LoadErrorKind::MissingField,
                node.pos,
                format!("`{field}` of {} {when_empty}", obj.what),
                "empty list",
                None,
            );
        }
        let count = items.len();
        for (i, (name, pos)) in items.iter().enumerate() {
            self.reference(slot(i), field, want, name, pos);
        }
        count
    }

    fn req_reference(&mut self, obj: &Obj, slot: Slot, field: &'static str, want: Want) {
        debug_check_field(obj.entity, field, true, |t| matches!(t, Type::Ref(_)));
        if let Some((name, pos)) = self.req_text(obj, field) {
            self.reference(slot, field, want, name, pos);
        }
    }

    /// Registers an id; a duplicate (in this file or an earlier one) is an error.
    /// `pos` is where the id is written (labelled on a duplicate), `at` the entity's position
    /// (named in the help of a later duplicate).
    fn declare(&mut self, id: &str, pos: Pos, entity: EntityRef, defaulted: bool) {
        if let Some(first) = self.ids.get(id) {
            let first_loc = declared_loc(&self.set, first);
            let first_place = format!(
                "{}:{}:{}",
                self.set.sources.name(first_loc.file),
                first_loc.line,
                first_loc.column
            );
            let mut help = format!(
                "`{id}` is first declared as {} {} at {first_place}; every id must be unique across all files of a run",
                article(kind_of(first.entity).as_str()),
                kind_of(first.entity).as_str()
            );
            if defaulted || first.defaulted {
                help.push_str(
                    " (an assessment without `id` is named `<kind>-<n>`: give it an explicit `id`)",
                );
            }
            let len = if defaulted {
                1
            } else {
                pos.byte_len().unwrap_or(0)
            };
            self.error(
                LoadErrorKind::DuplicateId,
                pos.with_len(len),
                format!("duplicate id `{id}`"),
                "declared again here",
                Some(help),
            );
            return;
        }
        self.ids
            .insert(IdKey::from(id), Declared { entity, defaulted });
    }

    /// The entries of a top-level list (`organizations:` ...); `null` is an empty list.
    fn entries<'n>(&mut self, top: &Obj<'n>, field: &str) -> &'n [Node] {
        debug_check_field(top.entity, field, false, |t| matches!(t, Type::List(_)));
        let Some(node) = top.get(field) else {
            return &[];
        };
        match &node.value {
            Value::Seq(items) => items,
            _ => {
                self.wrong_type(node, field, top, "a list (`- id: ...` entries)", None);
                &[]
            }
        }
    }

    // -- the manifest ------------------------------------------------------------------

    fn manifest(&mut self, root: &Node) {
        let Some(top) = self.obj(root, What::Plain("the manifest"), &fields::MANIFEST, None) else {
            return;
        };
        debug_check_field(top.entity, "lexflow", true, |t| matches!(t, Type::Version));
        let version = match top.get("lexflow") {
            None => {
                self.missing(&top, "lexflow");
                1
            }
            Some(node) => match node.value.as_int() {
                Some(v) if SUPPORTED_VERSIONS.contains(&v) => v as u32,
                Some(v) => {
                    self.error(
                        LoadErrorKind::UnsupportedVersion,
                        node.pos,
                        format!("unsupported manifest format version `{v}`"),
                        "unsupported version",
                        Some("this lexflow reads format version 1: write `lexflow: 1`".into()),
                    );
                    1
                }
                _ => {
                    self.wrong_type(
                        node,
                        "lexflow",
                        &top,
                        "the format version number",
                        Some("write `lexflow: 1`".into()),
                    );
                    1
                }
            },
        };
        let name = self.opt_text(&top, "name");
        let loc = self.loc(top.pos);
        self.set
            .manifests
            .push(ManifestHeader { version, name, loc });

        for node in self.entries(&top, "organizations") {
            self.organization(node);
        }
        for node in self.entries(&top, "systems") {
            self.system(node);
        }
        for node in self.entries(&top, "flows") {
            self.flow(node);
        }
        for node in self.entries(&top, "contracts") {
            self.contract(node);
        }
        for (n, node) in self.entries(&top, "assessments").iter().enumerate() {
            self.assessment(node, n + 1);
        }
    }

    /// The `id` of an entity, declared; names the object for later messages.
    fn id(&mut self, obj: &mut Obj, kind: &str, entity: EntityRef) -> String {
        // An assessment's id is optional: `id` is called only when it is present.
        let required = obj.entity.name != "assessment";
        debug_check_field(obj.entity, "id", required, |t| matches!(t, Type::Id));
        match self.req_text(obj, "id") {
            Some((id, pos)) => {
                self.declare(id, pos, entity, false);
                // `obj` named the mapping by the id it found, as `id` reads it.
                if !matches!(obj.what, What::Named(_, named) if named == id) {
                    obj.what = What::Owned(format!("{kind} `{id}`"));
                }
                id.to_string()
            }
            None => String::new(),
        }
    }

    fn organization(&mut self, node: &Node) {
        let Some(mut obj) = self.obj(
            node,
            What::Plain("an organization"),
            &fields::ORGANIZATION,
            Some("organization"),
        ) else {
            return;
        };
        let idx = OrgIdx(self.set.organizations.len() as u32);
        let id = self.id(&mut obj, "organization", EntityRef::Organization(idx));
        let org = Organization {
            id,
            loc: self.loc(obj.pos),
            name: self.opt_text(&obj, "name"),
            country: self.req_location(&obj, "country"),
            kind: self
                .req_enum(&obj, "organization", "kind")
                .unwrap_or_default(),
            ciio: self.opt_bool(&obj, "ciio"),
            ciio_designated_by: self.opt_text(&obj, "ciio_designated_by"),
            representative_in: self.opt_location_list(&obj, "representative_in"),
            dpo: self.opt_bool(&obj, "dpo"),
            pi_protection_officer: self.opt_bool(&obj, "pi_protection_officer"),
            employees: self.opt_u64(&obj, "employees"),
            dpf_certified: self.opt_bool(&obj, "dpf_certified"),
            dpf_certified_since: self.opt_date(&obj, "dpf_certified_since"),
            important_data_notified: self.opt_bool(&obj, "important_data_notified"),
        };
        self.set.organizations.push(org);
    }

    fn system(&mut self, node: &Node) {
        let pending = self.pending.len();
        let Some(mut obj) = self.obj(
            node,
            What::Plain("a system"),
            &fields::SYSTEM,
            Some("system"),
        ) else {
            return;
        };
        let idx = SysIdx(self.set.systems.len() as u32);
        let id = self.id(&mut obj, "system", EntityRef::System(idx));
        self.req_reference(&obj, Slot::Operator(idx), "operator", Want::Organization);
        debug_check_field(obj.entity, "processor", false, |t| {
            matches!(t, Type::Ref(_))
        });
        if let Some(node) = obj.get("processor") {
            if let Some(name) = self.text_of(&obj, "processor", node) {
                self.reference(
                    Slot::Processor(idx),
                    "processor",
                    Want::Organization,
                    name,
                    node.pos,
                );
            }
        }
        let mut collects = Vec::new();
        debug_check_field(obj.entity, "collects", false, |t| {
            matches!(t, Type::List(_))
        });
        if let Some(node) = obj.get("collects") {
            match &node.value {
                Value::Seq(items) => {
                    // At its size: a list grown by pushes holds room for four.
                    collects.reserve_exact(items.len());
                    for item in items {
                        if let Some(c) = self.collection(item, &obj.what) {
                            collects.push(c);
                        }
                    }
                }
                _ => self.wrong_type(
                    node,
                    "collects",
                    &obj,
                    "a list (`- data: [...]` entries)",
                    None,
                ),
            }
        }
        let system = System {
            id,
            loc: self.loc(obj.pos),
            name: self.opt_text(&obj, "name"),
            kind: self.req_enum(&obj, "system", "kind").unwrap_or_default(),
            operator: OrgIdx(0),
            processor: None,
            location: self.req_location(&obj, "location"),
            public_space: self.opt_bool(&obj, "public_space"),
            private_space: self.opt_bool(&obj, "private_space"),
            signage: self.opt_bool(&obj, "signage"),
            collects,
            retention_days: self.opt_u64(&obj, "retention_days"),
            log_retention_days: self.opt_u64(&obj, "log_retention_days"),
            security: self.opt_enum_list(&obj, "system", "security"),
            automated_decision: self.opt_enum(&obj, "system", "automated_decision"),
            significant_effect: self.opt_bool(&obj, "significant_effect"),
        };
        self.set.systems.push(system);
        self.settle(pending);
    }

    fn collection<'n>(&mut self, node: &'n Node, system: &What<'n>) -> Option<Collection> {
        let obj = self.obj(
            node,
            system.part("a `collects` entry of"),
            &fields::COLLECTS,
            None,
        )?;
        Some(Collection {
            loc: self.loc(obj.pos),
            data: self.categories(&obj, "data"),
            subjects: self.opt_enum(&obj, "collects", "subjects"),
            subjects_in: self.opt_location_list(&obj, "subjects_in"),
            individuals: self.opt_u64(&obj, "individuals"),
            youngest_age: self.opt_u64(&obj, "youngest_age"),
            purpose: self.opt_enum(&obj, "collects", "purpose"),
            legal_basis: self.opt_enum(&obj, "collects", "legal_basis"),
            basis_reference: self.opt_text(&obj, "basis_reference"),
            special_condition: self.opt_enum(&obj, "collects", "special_condition"),
            consent: self.opt_enum(&obj, "collects", "consent"),
            notice: self.opt_bool(&obj, "notice"),
        })
    }

    fn flow(&mut self, node: &Node) {
        let pending = self.pending.len();
        let Some(mut obj) = self.obj(node, What::Plain("a flow"), &fields::FLOW, Some("flow"))
        else {
            return;
        };
        let idx = FlowIdx(self.set.flows.len() as u32);
        let id = self.id(&mut obj, "flow", EntityRef::Flow(idx));
        self.req_reference(&obj, Slot::From(idx), "from", Want::System);
        self.req_reference(&obj, Slot::To(idx), "to", Want::System);
        debug_check_field(obj.entity, "transfer", false, |t| {
            matches!(t, Type::Object(_))
        });
        debug_check_field(obj.entity, "exemption", false, |t| {
            matches!(t, Type::Object(_))
        });
        let transfer = obj
            .get("transfer")
            .and_then(|node| self.transfer(node, idx, &obj.what))
            .map(Box::new);
        let exemption = obj
            .get("exemption")
            .and_then(|node| self.exemption(node, &obj.what))
            .map(Box::new);
        // Read in the order of the format's table, so that the diagnostics come in it.
        let loc = self.loc(obj.pos);
        let data = self.categories(&obj, "data").into_boxed_slice();
        let purpose = self.opt_enum(&obj, "flow", "purpose");
        let legal_basis = self.opt_enum(&obj, "flow", "legal_basis");
        let basis_reference = self
            .opt_text(&obj, "basis_reference")
            .map(String::into_boxed_str);
        let special_condition = self.opt_enum(&obj, "flow", "special_condition");
        let consent = self.opt_enum(&obj, "flow", "consent");
        let individuals = self.opt_u64(&obj, "individuals");
        let encrypted = self.opt_bool(&obj, "encrypted");
        let details = FlowDetails {
            basis_reference,
            start: self.opt_date(&obj, "start"),
            end: self.opt_date(&obj, "end"),
            remote_access: self.opt_bool(&obj, "remote_access"),
            recipient_role: self.opt_enum(&obj, "flow", "recipient_role"),
            anonymized: self.opt_bool(&obj, "anonymized"),
            pseudonymized: self.opt_bool(&obj, "pseudonymized"),
            important_data: self.opt_bool(&obj, "important_data"),
            foreign_authority: self.opt_bool(&obj, "foreign_authority"),
            authority_approval: self.opt_bool(&obj, "authority_approval"),
            automated_decision: self.opt_enum(&obj, "flow", "automated_decision"),
            significant_effect: self.opt_bool(&obj, "significant_effect"),
        };
        let flow = Flow {
            id: id.into_boxed_str(),
            loc,
            from: SysIdx(0),
            to: SysIdx(0),
            data,
            purpose,
            legal_basis,
            special_condition,
            consent,
            individuals,
            encrypted,
            transfer,
            exemption,
            details: details.boxed_if_any(),
        };
        self.set.flows.push(flow);
        self.settle(pending);
    }

    fn transfer<'n>(&mut self, node: &'n Node, flow: FlowIdx, what: &What<'n>) -> Option<Transfer> {
        let obj = self.obj(
            node,
            what.part("the `transfer` of"),
            &fields::TRANSFER,
            None,
        )?;
        debug_check_field(obj.entity, "contract", false, |t| matches!(t, Type::Ref(_)));
        if let Some(node) = obj.get("contract") {
            if let Some(name) = self.text_of(&obj, "contract", node) {
                self.reference(
                    Slot::TransferContract(flow),
                    "transfer.contract",
                    Want::Contract,
                    name,
                    node.pos,
                );
            }
        }
        Some(Transfer {
            loc: self.loc(obj.pos),
            mechanism: self.opt_enum(&obj, "transfer", "mechanism"),
            contract: None,
            since: self.opt_date(&obj, "since"),
            until: self.opt_date(&obj, "until"),
        })
    }

    fn exemption<'n>(&mut self, node: &'n Node, what: &What<'n>) -> Option<Exemption> {
        let obj = self.obj(
            node,
            what.part("the `exemption` of"),
            &fields::EXEMPTION,
            None,
        )?;
        Some(Exemption {
            loc: self.loc(obj.pos),
            basis: self
                .req_enum(&obj, "exemption", "basis")
                .unwrap_or_default(),
            evidence: self.opt_text(&obj, "evidence"),
        })
    }

    fn contract(&mut self, node: &Node) {
        let pending = self.pending.len();
        let Some(mut obj) = self.obj(
            node,
            What::Plain("a contract"),
            &fields::CONTRACT,
            Some("contract"),
        ) else {
            return;
        };
        let idx = ContractIdx(self.set.contracts.len() as u32);
        let id = self.id(&mut obj, "contract", EntityRef::Contract(idx));
        // Placeholders, filled in when each reference is resolved.
        let count = self.req_reference_list(
            &obj,
            "parties",
            "lists no organization",
            Want::Organization,
            |i| Slot::Party(idx, i as u32),
        );
        let parties = vec![OrgIdx(0); count];
        let contract = Contract {
            id,
            loc: self.loc(obj.pos),
            parties,
            kind: self.req_enum(&obj, "contract", "kind").unwrap_or_default(),
            since: self.opt_date(&obj, "since"),
            until: self.opt_date(&obj, "until"),
            filed: self.opt_date(&obj, "filed"),
            clauses: self.opt_enum_list(&obj, "contract", "clauses"),
        };
        self.set.contracts.push(contract);
        self.settle(pending);
    }

    fn assessment(&mut self, node: &Node, n: usize) {
        let pending = self.pending.len();
        let Some(mut obj) = self.obj(
            node,
            What::Plain("an assessment"),
            &fields::ASSESSMENT,
            Some("assessment"),
        ) else {
            return;
        };
        let idx = AssessmentIdx(self.set.assessments.len() as u32);
        let kind = self.req_enum(&obj, "assessment", "kind");
        let id = if obj.get("id").is_some() {
            self.id(&mut obj, "assessment", EntityRef::Assessment(idx))
        } else {
            let id = format!("{}-{n}", kind.as_deref().unwrap_or("assessment"));
            self.declare(&id, obj.pos, EntityRef::Assessment(idx), true);
            obj.what = What::Owned(format!("assessment `{id}`"));
            id
        };
        // Placeholders, filled in when each reference is resolved.
        let count = self.req_reference_list(&obj, "covers", "lists nothing", Want::Any, |i| {
            Slot::Cover(idx, i as u32)
        });
        let covers = vec![EntityRef::Assessment(idx); count];
        let assessment = Assessment {
            id,
            loc: self.loc(obj.pos),
            kind: kind.unwrap_or_default(),
            covers,
            date: self.opt_date(&obj, "date"),
            residual_risk: self.opt_enum(&obj, "assessment", "residual_risk"),
            consulted_authority: self.opt_bool(&obj, "consulted_authority"),
            valid_until: self.opt_date(&obj, "valid_until"),
        };
        self.set.assessments.push(assessment);
        self.settle(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a load gives (model, report, errors with positions), as text.
    fn outcome(files: &[(&str, &str, bool)], stream_json: bool) -> String {
        let program = crate::lang::load_program(&crate::lang::PolicySelection {
            bundled: true,
            paths: Vec::new(),
        })
        .unwrap();
        let mut loader = Loader::new(&program.vocab);
        loader.stream_json = stream_json;
        for (name, text, explicit) in files {
            // Every YAML text streamed, however small.
            let parsed = parse_bytes(text.as_bytes().to_vec(), stream_json, 0);
            loader.load_parsed(name.to_string(), parsed, *explicit);
        }
        match loader.finish() {
            Ok((set, report)) => format!("{set:#?}\n{report:#?}"),
            Err(errors) => {
                let mut out = format!("{:?}\n", errors.sources);
                for e in errors.iter() {
                    out.push_str(&format!(
                        "{:?} {} {} {:?} {} {} {:?} {}\n",
                        e.kind,
                        e.message,
                        e.file,
                        e.loc,
                        e.len,
                        e.label,
                        e.help,
                        e.source.is_some()
                    ));
                }
                out
            }
        }
    }

    /// Converting JSON items while they are read gives exactly what converting the whole
    /// tree gives: the same model, report and diagnostics (messages and positions).
    #[track_caller]
    fn same_streamed(files: &[(&str, &str, bool)]) {
        let streamed = outcome(files, true);
        let whole = outcome(files, false);
        assert_eq!(streamed, whole);
    }

    /// A generated city of two files, loaded both ways.
    fn same_streamed_city(format: crate::gen::Format) {
        let city = crate::gen::generate(&crate::gen::GenOptions {
            flows: 300,
            seed: 7,
            files: 2,
            format,
        });
        let files: Vec<(&str, &str, bool)> = city
            .files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str(), true))
            .collect();
        same_streamed(&files);
    }

    #[test]
    fn streamed_json_loads_like_the_whole_tree() {
        same_streamed_city(crate::gen::Format::Json);
        let longgang = include_str!("../../tests/data/manifests/longgang.json");
        same_streamed(&[("longgang.json", longgang, true)]);
        // Twice: every id is a duplicate of the first file's.
        same_streamed(&[("a.json", longgang, true), ("b.json", longgang, true)]);

        let org = r#"{"id": "o1", "country": "CN", "kind": "company"}"#;
        let sys = r#"{"id": "s1", "kind": "camera", "operator": "o1", "location": "CN"}"#;
        let flow = r#"{"id": "f1", "from": "s1", "to": "s9", "data": ["identifier.name"]}"#;
        let cases = [
            // Lists in conversion order, with top-level problems before and after them.
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "systems": [{sys}], "flows": [{flow}], "bogus": 1}}"#),
            format!(r#"{{"organizations": [{org}], "systems": [{sys}, {sys}], "flows": [{flow}, 3, "x"], "lexflow": 2}}"#),
            format!(r#"{{"name": 5, "flows": [{flow}], "assessments": [{{"kind": "pia", "covers": ["f1"]}}, {{"kind": "pia", "covers": []}}, {{"id": "pia-1", "kind": "pia", "covers": ["f1"]}}]}}"#),
            // Out of order: systems after flows, organizations last (the whole tree decides).
            format!(r#"{{"lexflow": 1, "flows": [{flow}], "systems": [{sys}], "organizations": [{org}]}}"#),
            // The same id for an organization and a flow, in both orders.
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "flows": [{{"id": "o1", "from": "s1", "to": "s1", "data": ["x.y"]}}]}}"#),
            format!(r#"{{"lexflow": 1, "flows": [{{"id": "o1", "from": "s1", "to": "s1", "data": []}}], "organizations": [{org}]}}"#),
            // Lists that are not lists, empty or null.
            r#"{"lexflow": 1, "organizations": {}, "systems": null, "flows": [], "contracts": "c"}"#.to_string(),
            // What the strict reader refuses, found after items were converted.
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "flows": [{{"id": "f", "individuals": 99999999999999999999}}]}}"#),
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "flows": [{{"id": "f", "individuals": 18446744073709551615}}]}}"#),
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "flows": [{{"id": "f", "id": "g"}}]}}"#),
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "organizations": []}}"#),
            format!(r#"{{"lexflow": 1, "organizations": [{org}], "systems": [{sys}]"#),
            format!(r#"{{"lexflow": 1, "organizations": [{org}]}} trailing"#),
            format!("{{\"lexflow\": 1,\n \"organizations\": [{org},\n {{\"id\": \"o2\", \"name\": \"\\ud800\"}}]}}"),
        ];
        for case in &cases {
            same_streamed(&[("m.json", case, true)]);
            // After a file that declares the same ids.
            same_streamed(&[("first.json", longgang, true), ("m.json", case, true)]);
        }
        // Found in a walked folder: a JSON file without `lexflow` is skipped, whatever it
        // converted, and the next file gets the same file id either way.
        let other = format!(r#"{{"organizations": [{org}], "flows": [{flow}]}}"#);
        same_streamed(&[
            ("other.json", &other, false),
            ("m.json", &cases[0], false),
            ("broken.json", "{\"lexflow\": 1, \"flows\": [", false),
        ]);
        let streamed = outcome(
            &[("other.json", &other, false), ("m.json", longgang, true)],
            true,
        );
        assert!(
            streamed.contains("skipped: [\n        \"other.json\""),
            "{streamed}"
        );
    }

    #[test]
    fn streamed_yaml_loads_like_the_whole_tree() {
        same_streamed_city(crate::gen::Format::Yaml);
        let longgang = include_str!("../../tests/data/manifests/longgang.yaml");
        let all = include_str!("../../tests/data/manifests/all-fields.yaml");
        same_streamed(&[("longgang.yaml", longgang, true), ("all.yaml", all, true)]);
        same_streamed(&[("a.yaml", longgang, true), ("b.yaml", longgang, true)]);

        let org = "  - id: o1\n    country: CN\n    kind: company\n";
        let sys = "  - id: s1\n    kind: camera\n    operator: o1\n    location: CN\n";
        let flow = "  - id: f1\n    from: s1\n    to: s9\n    data: [identifier.name]\n";
        let cases = [
            format!("lexflow: 1\norganizations:\n{org}systems:\n{sys}{sys}flows:\n{flow}  - 3\n  - x\nbogus: 1\n"),
            format!("organizations:\n{org}flows:\n{flow}lexflow: 2\nname: [1]\n"),
            format!("lexflow: 1\nflows:\n{flow}systems:\n{sys}organizations:\n{org}"),
            format!("lexflow: 1\nflows:\n  - id: o1\n    from: s1\n    to: s1\n    data: []\norganizations:\n{org}"),
            format!("lexflow: 1\norganizations:\n{org}flows:\n  - id: o1\n    from: s1\n    to: s1\n    data: []\n"),
            "lexflow: 1\norganizations: {}\nsystems:\nflows: []\ncontracts: c\nassessments: 5\n".to_string(),
            format!("lexflow: 1\norganizations:\n{org}flows:\n  - id: f\n    individuals: 99999999999999999999\n    encrypted: yes\n"),
            format!("lexflow: 1\norganizations:\n{org}flows:\n  - id: f\n    id: g\n"),
            format!("lexflow: 1\norganizations:\n{org}organizations: []\n"),
            format!("lexflow: 1\norganizations:\n{org}systems: [\n"),
            format!("lexflow: 1\norganizations: &o\n{org}contracts: *o\n"),
            format!("base: &b\n  lexflow: 1\n<<: *b\norganizations:\n{org}"),
            format!("--- !manifest\nlexflow: 1\norganizations: !list\n{org}"),
            format!("lexflow: 1\norganizations:\n{org}---\nlexflow: 1\n"),
            "- lexflow: 1\n".to_string(),
            "# nothing\n".to_string(),
            "lexflow: 1\n? [a]\n: 1\norganizations: [{id: o2, country: CN, kind: company}]\n".to_string(),
            "{lexflow: 1, organizations: [{id: o3, country: XX, kind: company}]}\n".to_string(),
        ];
        for case in &cases {
            same_streamed(&[("m.yaml", case, true)]);
            same_streamed(&[("first.yaml", longgang, true), ("m.yaml", case, true)]);
        }
        let other = format!("organizations:\n{org}flows:\n{flow}");
        same_streamed(&[
            ("other.yaml", &other, false),
            ("m.yaml", &cases[0], false),
            ("broken.yaml", "lexflow: 1\nflows: [\n", false),
            ("bare.yml", "just text\n", false),
        ]);
    }

    #[test]
    fn recognises_manifests_that_fail_to_parse() {
        assert!(looks_like_manifest("# c\nlexflow: 1\nfoo: [\n"));
        assert!(looks_like_manifest("{\"lexflow\" : 1,"));
        assert!(!looks_like_manifest("name: lexflow\n"));
    }

    #[test]
    fn enum_fields_resolve_by_context() {
        assert_eq!(
            vocabulary_name("organization", "kind"),
            Some("organization_kind")
        );
        assert_eq!(vocabulary_name("collects", "subjects"), Some("subjects"));
        assert_eq!(
            vocabulary_name("transfer", "mechanism"),
            Some("transfer_mechanism")
        );
        assert_eq!(
            vocabulary_name("exemption", "basis"),
            Some("exemption_basis")
        );
        assert_eq!(vocabulary_name("flow", "name"), None);
    }
}
