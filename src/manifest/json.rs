//! A fast path for JSON manifests: a strict JSON reader that builds the same positioned tree
//! ([`Node`]) as the YAML parser, about ten times faster on large files.
//!
//! It only ever accepts: anything it does not take (a syntax error, a duplicate key, a YAML
//! flow mapping that is not strict JSON, nesting or size past the limits of
//! [`super::yaml`], a lone surrogate, a number out of range) makes it return `None`, and the
//! caller parses the text with serde-saphyr as before, which reports the problem with the
//! same diagnostics as for any manifest. So the fast path changes speed, never results.

use std::collections::HashSet;

use super::yaml::{Node, Pos, Value, MAX_DEPTH, MAX_NODES};

/// Whether a text looks like JSON (its first non-blank character opens an object).
pub fn looks_like_json(text: &str) -> bool {
    text.trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with('{')
}

/// Parses a strict JSON document whose top level is an object; `None` if it is not one (or
/// not within the limits).
pub fn parse(text: &str) -> Option<Node> {
    parse_with(text, None)
}

/// Receives the items of top-level lists as they are read ([`parse_streaming`]).
pub trait Sink {
    /// Whether the items of the top-level list under this key go to [`Sink::item`].
    fn streams(&self, key: &Value) -> bool;
    /// Item `index` of a streamed list; `false` stops the reading (the parse gives `None`).
    fn item(&mut self, key: &Value, index: usize, node: Node) -> bool;
}

/// Parses like [`parse`], but hands each item of the top-level lists `sink` streams to it as
/// soon as it is read, so that only one item's tree is alive at a time; in the returned tree
/// those lists are empty (with their position). Accepts and refuses exactly what [`parse`]
/// does (the same limits count the streamed items); the sink may also stop the reading.
pub fn parse_streaming(text: &str, sink: &mut dyn Sink) -> Option<Node> {
    parse_with(text, Some(sink))
}

fn parse_with(text: &str, sink: Option<&mut dyn Sink>) -> Option<Node> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
        nodes: 0,
        cursor: 0,
        maps: Vec::new(),
        seqs: Vec::new(),
        line: 1,
        column: 1,
    };
    parser.skip_ws();
    if parser.peek() != Some(b'{') {
        return None;
    }
    parser.count()?;
    let root = parser.object(parser.at, 0, sink)?;
    parser.skip_ws();
    (parser.at == parser.bytes.len()).then_some(root)
}

struct Parser<'t> {
    bytes: &'t [u8],
    text: &'t str,
    at: usize,
    nodes: usize,
    /// Line and column (characters, 1-based) of byte `cursor`; advanced monotonically.
    cursor: usize,
    /// Buffers for the entries of the mappings and sequences being read, reused from one
    /// to the next (a node's list is then allocated once, at its size, instead of growing).
    maps: Vec<Vec<(Node, Node)>>,
    seqs: Vec<Vec<Node>>,
    line: u32,
    column: u32,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek() {
            self.at += 1;
        }
    }

    /// Position of byte `offset` (>= every offset asked before).
    fn pos(&mut self, offset: usize, len: usize) -> Pos {
        for &b in self.bytes.get(self.cursor..offset).unwrap_or(&[]) {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                self.column += 1;
            }
        }
        self.cursor = offset;
        Pos::new(self.line, self.column, Some(offset), Some(len))
    }

    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(())
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        self.count()?;
        let start = self.at;
        match self.peek()? {
            b'{' => self.object(start, depth, None),
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let pos = self.pos(start, 1);
                self.at += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Some(Node {
                        value: Value::Seq(Box::default()),
                        pos,
                    });
                }
                let mut items = self.seqs.pop().unwrap_or_default();
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(Node {
                                value: Value::Seq(self.done_seq(items)),
                                pos,
                            });
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => {
                let s = self.string()?;
                let pos = self.pos(start, self.at - start);
                Some(Node {
                    value: Value::Str(s),
                    pos,
                })
            }
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A mapping starting at `start` (its `{`). With a sink (the top level only), the items
    /// of the lists the sink streams are handed to it one by one instead of being kept: the
    /// list stays in the tree as an empty sequence at its position.
    fn object(
        &mut self,
        start: usize,
        depth: usize,
        mut sink: Option<&mut dyn Sink>,
    ) -> Option<Node> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let pos = self.pos(start, 1);
        self.at += 1;
        let mut seen: Option<HashSet<Box<str>>> = None;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(Node {
                value: Value::Map(Box::default()),
                pos,
            });
        }
        let mut entries = self.maps.pop().unwrap_or_default();
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            self.count()?;
            let key_start = self.at;
            let key = self.string()?;
            // Duplicate keys: left to the YAML parser, which reports them.
            let duplicate = if entries.len() < 16 {
                entries
                    .iter()
                    .any(|(k, _)| matches!(&k.value, Value::Str(s) if *s == key))
            } else {
                let set = seen.get_or_insert_with(|| {
                    entries
                        .iter()
                        .filter_map(|(k, _)| match &k.value {
                            Value::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                });
                !set.insert(key.clone())
            };
            if duplicate {
                return None;
            }
            let key_pos = self.pos(key_start, self.at - key_start);
            let key_node = Node {
                value: Value::Str(key),
                pos: key_pos,
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.at += 1;
            self.skip_ws();
            let value = match sink.as_deref_mut() {
                Some(sink) if self.peek() == Some(b'[') && sink.streams(&key_node.value) => {
                    self.stream(depth + 1, &key_node.value, sink)?
                }
                _ => self.value(depth + 1)?,
            };
            entries.push((key_node, value));
            self.skip_ws();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(Node {
                        value: Value::Map(self.done_map(entries)),
                        pos,
                    });
                }
                _ => return None,
            }
        }
    }

    /// A list whose items go to `sink` (`key`: the list's key).
    fn stream(&mut self, depth: usize, key: &Value, sink: &mut dyn Sink) -> Option<Node> {
        self.count()?;
        if depth >= MAX_DEPTH {
            return None;
        }
        let pos = self.pos(self.at, 1);
        self.at += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            let mut index = 0;
            loop {
                self.skip_ws();
                let item = self.value(depth + 1)?;
                if !sink.item(key, index, item) {
                    return None;
                }
                index += 1;
                self.skip_ws();
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        Some(Node {
            value: Value::Seq(Box::default()),
            pos,
        })
    }

    /// The entries read into a buffer, at their size; the buffer goes back for reuse.
    fn done_map(&mut self, mut entries: Vec<(Node, Node)>) -> Box<[(Node, Node)]> {
        let boxed = entries.drain(..).collect();
        self.maps.push(entries);
        boxed
    }

    fn done_seq(&mut self, mut items: Vec<Node>) -> Box<[Node]> {
        let boxed = items.drain(..).collect();
        self.seqs.push(items);
        boxed
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Node> {
        let start = self.at;
        if !self
            .bytes
            .get(start..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
        {
            return None;
        }
        self.at += word.len();
        let pos = self.pos(start, word.len());
        Some(Node { value, pos })
    }

    fn number(&mut self) -> Option<Node> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        if self.at == digits || (self.bytes.get(digits) == Some(&b'0') && self.at - digits > 1) {
            return None;
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.at += 1;
            let frac = self.at;
            while let Some(b'0'..=b'9') = self.peek() {
                self.at += 1;
            }
            if self.at == frac {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            let exp = self.at;
            while let Some(b'0'..=b'9') = self.peek() {
                self.at += 1;
            }
            if self.at == exp {
                return None;
            }
        }
        let literal = &self.text[start..self.at];
        let value = if float {
            let f: f64 = literal.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            Value::Float(f)
        } else {
            // Integers beyond i64 are left to the YAML parser's own reading.
            Value::Int(literal.parse::<i64>().ok()?)
        };
        let pos = self.pos(start, self.at - start);
        Some(Node { value, pos })
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Option<Box<str>> {
        self.at += 1;
        let start = self.at;
        // Fast scan: no escapes, no control characters.
        loop {
            match self.peek()? {
                b'"' => {
                    let raw = &self.text[start..self.at];
                    self.at += 1;
                    return Some(raw.into());
                }
                b'\\' => break,
                b if b < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.at]);
        loop {
            let run = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[run..self.at]);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out.into_boxed_str());
                }
                b'\\' => {
                    self.at += 1;
                    let c = match self.peek()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.at += 1;
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if !self
                                    .bytes
                                    .get(self.at..)
                                    .is_some_and(|rest| rest.starts_with(b"\\u"))
                                {
                                    return None;
                                }
                                self.at += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            out.push(char::from_u32(code)?);
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(c);
                    self.at += 1;
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        let code = u32::from_str_radix(digits, 16).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path builds exactly the tree serde-saphyr builds (values and positions).
    fn same_as_yaml_parser(text: &str) {
        let fast = parse(text).expect("fast path accepts it");
        let slow = serde_saphyr::from_str::<Node>(text).expect("serde-saphyr parses it");
        let show = |n: &Node| format!("{n:#?}");
        assert_eq!(show(&fast), show(&slow));
    }

    #[test]
    fn same_tree_as_serde_saphyr() {
        same_as_yaml_parser(include_str!("../../tests/data/manifests/longgang.json"));
        same_as_yaml_parser("{\"lexflow\": 1, \"name\": \"Caf\\u00e9 \\\"x\\\" \\ud83d\\ude00 ü\", \"n\": [-5, 0, 1.5, 2e3, true, false, null, {}, []]}");
        same_as_yaml_parser("{\"a\":{\"b\":[\"ö\",\"é\"]},\n  \"c\" : \"d\"}\n");
        let city = crate::gen::generate(&crate::gen::GenOptions {
            flows: 200,
            seed: 5,
            files: 1,
            format: crate::gen::Format::Json,
        });
        same_as_yaml_parser(&city.files[0].1);
    }

    #[test]
    fn refuses_what_it_does_not_take() {
        for text in [
            "{\"a\": 1, \"a\": 2}",
            "{a: 1}",
            "{\"a\": 1,}",
            "{\"a\": 01}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": 99999999999999999999}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": 1} x",
            "[1]",
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&deep).is_none());
        let mut many = String::from("{");
        for i in 0..40 {
            many.push_str(&format!("\"k{i}\": {i}, "));
        }
        many.push_str("\"k7\": 0}");
        assert!(parse(&many).is_none());
    }
}
