//! A generic YAML/JSON tree with a position on every node, parsed by serde-saphyr under a
//! budget. The loader walks this tree by hand so that it can report every problem of a
//! file (not only the first) and suggest the nearest valid name.

use crate::source::SourceText;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::mpsc::{Receiver, SyncSender};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Where a node starts: 1-based line and column (characters), byte offset and byte length
/// of the node's text when known.
///
/// Four `u32` (16 bytes: a large manifest has millions of nodes): an offset or length that
/// is unknown, or does not fit (files are limited to 64 MiB), is stored as [`Pos::UNKNOWN`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    offset: u32,
    len: u32,
}

impl Default for Pos {
    fn default() -> Self {
        Pos::new(0, 0, None, None)
    }
}

impl Pos {
    /// The stored value of an unknown offset or length.
    const UNKNOWN: u32 = u32::MAX;

    pub fn new(line: u32, column: u32, offset: Option<usize>, len: Option<usize>) -> Pos {
        let pack = |v: Option<usize>| {
            v.and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v != Pos::UNKNOWN)
                .unwrap_or(Pos::UNKNOWN)
        };
        Pos {
            line,
            column,
            offset: pack(offset),
            len: pack(len),
        }
    }

    /// Byte offset of the node's text, when known.
    pub fn byte_offset(&self) -> Option<usize> {
        (self.offset != Pos::UNKNOWN).then_some(self.offset as usize)
    }

    /// Byte length of the node's text, when known.
    pub fn byte_len(&self) -> Option<usize> {
        (self.len != Pos::UNKNOWN).then_some(self.len as usize)
    }

    /// The same position with another length.
    pub fn with_len(self, len: usize) -> Pos {
        Pos::new(self.line, self.column, self.byte_offset(), Some(len))
    }
}

/// A node: 40 bytes (a 24-byte value and its position).
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer outside `i64` (rare: boxed, so that every value stays 24 bytes).
    BigInt(Box<i128>),
    Float(f64),
    Str(Box<str>),
    Seq(Box<[Node]>),
    Map(Box<[(Node, Node)]>),
}

impl Value {
    /// An integer value (boxed only when outside `i64`).
    pub fn int(v: i128) -> Value {
        i64::try_from(v)
            .map(Value::Int)
            .unwrap_or_else(|_| Value::BigInt(Box::new(v)))
    }

    /// The integer, if the value is one.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i128::from(*i)),
            Value::BigInt(i) => Some(**i),
            _ => None,
        }
    }
}

impl Value {
    /// What the value is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "nothing (null)".to_string(),
            Value::Bool(b) => format!("the boolean `{b}`"),
            Value::Int(i) => format!("the number `{i}`"),
            Value::BigInt(i) => format!("the number `{i}`"),
            Value::Float(f) => format!("the number `{f}`"),
            Value::Str(s) => format!("the text `{}`", shorten(s)),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
        }
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(40).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

fn pos_of(loc: &serde_saphyr::Location) -> Pos {
    let span = loc.span();
    Pos::new(
        u32::try_from(loc.line()).unwrap_or(u32::MAX),
        u32::try_from(loc.column()).unwrap_or(u32::MAX),
        span.byte_offset().and_then(|o| usize::try_from(o).ok()),
        span.byte_len().and_then(|o| usize::try_from(o).ok()),
    )
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned: Spanned<Value> = Spanned::deserialize(deserializer)?;
        Ok(Node {
            pos: pos_of(&spanned.referenced),
            value: spanned.value,
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::int(i128::from(v)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v)
            .map(Value::int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v.into_boxed_str()))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        // Growth slack would stay for the whole load (a flow's mapping: ~16 of 10 slots).
        Ok(Value::Seq(items.into_boxed_slice()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries.into_boxed_slice()))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Why a text could not be parsed, with the position serde-saphyr gave.
#[derive(Clone, Debug)]
pub struct ParseError {
    pub message: String,
    /// A hostile-input limit (budget) refused the text, rather than a syntax error.
    pub limit: bool,
    /// A key repeated in one mapping.
    pub duplicate_key: bool,
    pub line: u32,
    pub column: u32,
}

/// Maximum nesting of sequences and mappings in a manifest (the format needs about 6).
pub const MAX_DEPTH: usize = 64;
/// Maximum number of nodes (mappings, sequences, scalars) in one file. Sized to the file limit
/// (64 MiB): a city inventory of about 240,000 flows (about 270 bytes and 22 nodes a flow)
/// fits in one file; past that, split it (several files form one graph).
pub const MAX_NODES: usize = 6_000_000;
/// Maximum number of aliases (`*ref`) in one file; manifests rarely need any.
pub const MAX_ALIASES: usize = 10_000;

fn options() -> serde_saphyr::Options {
    let budget = serde_saphyr::budget! {
        max_depth: MAX_DEPTH,
        flow_nesting_limit: MAX_DEPTH,
        max_nodes: MAX_NODES,
        max_events: 2 * MAX_NODES + 16,
        max_aliases: MAX_ALIASES,
        max_anchors: MAX_ALIASES,
        max_documents: 1,
        max_recorded_anchor_events: 100_000,
        max_recorded_anchor_bytes: 16 * 1024 * 1024,
        max_merge_keys: 1_000,
    };
    let mut options = serde_saphyr::options! {
        budget: budget,
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_replay_stack_depth = MAX_DEPTH;
    options.alias_limits.max_alias_expansions_per_anchor = 1_000;
    options
}

/// Stack of the parsing thread. The deserializer recurses once per nesting level with large
/// frames in debug builds (about 4 MiB at depth 64); a dedicated thread with a generous stack
/// keeps the depth limit, not the caller's stack size, the thing that refuses deep input.
const PARSE_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Parses one YAML (or JSON) document into a tree with positions, under the limits above.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    // JSON manifests: a strict JSON reader builds the same tree much faster; anything it does
    // not accept is parsed below, which reports it.
    if super::json::looks_like_json(text) {
        if let Some(node) = super::json::parse(text) {
            return Ok(node);
        }
    }
    let failed = |message: &str| ParseError {
        message: message.to_string(),
        limit: true,
        duplicate_key: false,
        line: 0,
        column: 0,
    };
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("lexflow-yaml".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(scope, || parse_here(text))
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(failed("the YAML parser failed on this input"))),
            Err(_) => Err(failed("cannot start the YAML parser thread")),
        }
    })
}

/// One item of a top-level list, read by [`spawn_streaming`]: the rank of its list (in the
/// `lists` given), its index in the list and its tree.
pub struct Item {
    pub list: usize,
    pub index: usize,
    pub node: Node,
}

/// Items a streaming parse may read ahead of their conversion.
const STREAMED_ITEMS_AHEAD: usize = 256;

/// A YAML text being parsed on its own thread, the items of its top-level lists handed over
/// as they are read ([`spawn_streaming`]).
pub struct Streaming {
    /// The items, in the order of the text; closed when the parse ends.
    pub items: Receiver<Item>,
    done: std::thread::JoinHandle<Option<Node>>,
}

impl Streaming {
    /// The tree of the text, the streamed lists empty (with their positions); `None` if the
    /// parse failed or was stopped (by dropping the items), or the top level is not a
    /// mapping. Then parse the text with [`parse`], which reports why.
    pub fn finish(self) -> Option<Node> {
        drop(self.items);
        self.done.join().ok().flatten()
    }
}

thread_local! {
    /// The streaming parse running on this thread: where items go, and the lists streamed.
    static STREAM: RefCell<Option<(SyncSender<Item>, &'static [&'static str])>> = const { RefCell::new(None) };
    /// The rank of the list whose value is being read.
    static LIST: Cell<usize> = const { Cell::new(0) };
}

/// Starts parsing a YAML text on a thread of its own (under the same options and limits as
/// [`parse`]), handing each item of the top-level lists named in `lists` over as soon as it
/// is read, so that the whole file's tree is never built. `None` if the thread cannot start.
pub fn spawn_streaming(text: SourceText, lists: &'static [&'static str]) -> Option<Streaming> {
    // Bounded: the parse waits when the items it read are not yet converted, so that a
    // converter slower than the parse (a busy core) never lets the file's tree pile up.
    let (sender, items) = std::sync::mpsc::sync_channel(STREAMED_ITEMS_AHEAD);
    let done = std::thread::Builder::new()
        .name("lexflow-yaml".into())
        .stack_size(PARSE_STACK_BYTES)
        .spawn(move || {
            STREAM.with(|stream| *stream.borrow_mut() = Some((sender, lists)));
            let top = serde_saphyr::from_str_with_options::<Spanned<Top>>(&text, options()).ok();
            STREAM.with(|stream| *stream.borrow_mut() = None);
            top.map(|top| Node {
                pos: pos_of(&top.referenced),
                value: top.value.0,
            })
        })
        .ok()?;
    Some(Streaming { items, done })
}

/// The top-level mapping of a streamed parse (a mapping, or an error).
struct Top(Value);

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let lists = STREAM.with(|stream| stream.borrow().as_ref().map(|(_, lists)| *lists));
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let list = match (&key.value, lists) {
                (Value::Str(k), Some(lists)) => lists.iter().position(|l| *l == &**k),
                _ => None,
            };
            let value = match list {
                Some(list) => {
                    LIST.with(|current| current.set(list));
                    let spanned: Spanned<Listed> = map.next_value()?;
                    Node {
                        pos: pos_of(&spanned.referenced),
                        value: spanned.value.0,
                    }
                }
                None => map.next_value::<Node>()?,
            };
            entries.push((key, value));
        }
        Ok(Top(Value::Map(entries.into_boxed_slice())))
    }
}

/// The value of a streamed top-level list: a sequence's items are handed over, and the
/// sequence kept empty; any other value is read as usual.
struct Listed(Value);

impl<'de> Deserialize<'de> for Listed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListedVisitor).map(Listed)
    }
}

struct ListedVisitor;

impl<'de> Visitor<'de> for ListedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let list = LIST.with(Cell::get);
        let sender = STREAM.with(|stream| stream.borrow().as_ref().map(|(s, _)| s.clone()));
        let Some(sender) = sender else {
            return Err(de::Error::custom("no streaming parse on this thread"));
        };
        let mut index = 0;
        while let Some(node) = seq.next_element::<Node>()? {
            if sender.send(Item { list, index, node }).is_err() {
                return Err(de::Error::custom("streaming stopped"));
            }
            index += 1;
        }
        Ok(Value::Seq(Box::default()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        ValueVisitor.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        ValueVisitor.visit_i64(v)
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        ValueVisitor.visit_i128(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        ValueVisitor.visit_u64(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        ValueVisitor.visit_u128(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        ValueVisitor.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        ValueVisitor.visit_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        ValueVisitor.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        ValueVisitor.visit_bytes(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        ValueVisitor.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        ValueVisitor.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        ValueVisitor.visit_some(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        ValueVisitor.visit_newtype_struct(d)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        ValueVisitor.visit_map(map)
    }
}

fn parse_here(text: &str) -> Result<Node, ParseError> {
    serde_saphyr::from_str_with_options::<Node>(text, options()).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| {
                (
                    u32::try_from(l.line()).unwrap_or(0),
                    u32::try_from(l.column()).unwrap_or(0),
                )
            })
            .unwrap_or((0, 0));
        let raw = e.without_snippet().to_string();
        let mut message = clean_message(&raw);
        let lower = message.to_lowercase();
        let limit = lower.contains("budget")
            || lower.contains("limit")
            || lower.contains("depth")
            || lower.contains("alias");
        if limit && (lower.contains("depth") || lower.contains("recursion")) {
            message = format!("nesting is deeper than {MAX_DEPTH} levels");
        } else if limit
            && (lower.contains("alias") || lower.contains("anchor") || lower.contains("replay"))
        {
            message = "aliases expand past the safety limit (an alias bomb?)".to_string();
        } else if lower.contains("budget breached") {
            let what = message
                .split_once("breached:")
                .map(|(_, w)| w.split(['{', '(']).next().unwrap_or(w).trim().to_string())
                .unwrap_or_default();
            message = format!("input exceeds a safety limit ({what})");
        }
        ParseError {
            limit,
            duplicate_key: lower.contains("duplicate"),
            message,
            line,
            column,
        }
    })
}

/// `error: line 3 column 1: duplicate mapping key: a, set DuplicateKeyPolicy ...` →
/// `duplicate mapping key: a`.
fn clean_message(raw: &str) -> String {
    let mut text = raw.lines().next().unwrap_or(raw).trim();
    if let Some(rest) = text.strip_prefix("error:") {
        text = rest.trim();
    }
    if let Some(rest) = text.strip_prefix("line ") {
        // "N column M: message"
        if let Some((_, message)) = rest.split_once(": ") {
            text = message.trim();
        }
    }
    // "... at line 2, column 71" repeats the position.
    if let Some(at) = text.rfind(" at line ") {
        if text[at + 9..].contains(", column ") {
            text = &text[..at];
        }
    }
    let text = text
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(text);
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_strict_scalars() {
        let text = "---\n# c\nlexflow: 1\norganizations:\n  - id: a\n    country: NO\n    since: 2025-03-01\n    e:\n";
        let root = parse(text).unwrap();
        assert_eq!((root.pos.line, root.pos.column), (3, 1));
        let Value::Map(top) = &root.value else {
            panic!()
        };
        let Value::Seq(orgs) = &top[1].1.value else {
            panic!()
        };
        assert_eq!((orgs[0].pos.line, orgs[0].pos.column), (5, 5));
        let Value::Map(org) = &orgs[0].value else {
            panic!()
        };
        // `NO` stays text (strict booleans: no Norway problem); a date stays text.
        assert!(matches!(&org[1].1.value, Value::Str(s) if &**s == "NO"));
        assert!(matches!(&org[2].1.value, Value::Str(s) if &**s == "2025-03-01"));
        assert!(matches!(&org[3].1.value, Value::Null));
    }

    #[test]
    fn nodes_stay_small() {
        // Millions of nodes in a city-scale file: a wider node is a visible memory cost.
        assert_eq!(std::mem::size_of::<Pos>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Node>(), 40);
    }

    #[test]
    fn positions_pack_unknown_and_huge_offsets() {
        let pos = Pos::new(2, 3, Some(10), None);
        assert_eq!((pos.byte_offset(), pos.byte_len()), (Some(10), None));
        assert_eq!(pos.with_len(4).byte_len(), Some(4));
        let huge = Pos::new(1, 1, Some(usize::MAX), Some(u32::MAX as usize));
        assert_eq!((huge.byte_offset(), huge.byte_len()), (None, None));
    }

    #[test]
    fn integers_beyond_i64_keep_their_value() {
        let root =
            parse("a: 18446744073709551615\nb: 18446744073709551616\nc: -9223372036854775809\n")
                .unwrap();
        let Value::Map(top) = &root.value else {
            panic!()
        };
        assert_eq!(top[0].1.value.as_int(), Some(i128::from(u64::MAX)));
        // Past u64, serde-saphyr reads a float (as before the compact tree).
        assert!(matches!(top[1].1.value, Value::Float(_)));
        assert!(matches!(top[2].1.value, Value::Float(_)));
        assert_eq!(
            top[0].1.value.describe(),
            "the number `18446744073709551615`"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let error = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(error.duplicate_key, "{error:?}");
        assert_eq!((error.line, error.column), (3, 1));
        assert_eq!(error.message, "duplicate mapping key: a");
    }
}
