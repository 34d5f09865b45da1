//! A generic YAML/JSON tree with a position on every node, parsed by serde-saphyr under a
//! budget. The loader walks this tree by hand so that it can report every problem of a
//! file (not only the first) and suggest the nearest valid name.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Where a node starts: 1-based line and column (characters), byte offset and byte length
/// of the node's text when known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: Option<usize>,
    pub len: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What the value is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "nothing (null)".to_string(),
            Value::Bool(b) => format!("the boolean `{b}`"),
            Value::Int(i) => format!("the number `{i}`"),
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
    Pos {
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
        column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
        offset: span.byte_offset().and_then(|o| usize::try_from(o).ok()),
        len: span.byte_len().and_then(|o| usize::try_from(o).ok()),
    }
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
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
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
        items.shrink_to_fit();
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        entries.shrink_to_fit();
        Ok(Value::Map(entries))
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
        assert!(matches!(&org[1].1.value, Value::Str(s) if s == "NO"));
        assert!(matches!(&org[2].1.value, Value::Str(s) if s == "2025-03-01"));
        assert!(matches!(&org[3].1.value, Value::Null));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let error = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(error.duplicate_key, "{error:?}");
        assert_eq!((error.line, error.column), (3, 1));
        assert_eq!(error.message, "duplicate mapping key: a");
    }
}
