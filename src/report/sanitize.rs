//! Making manifest-derived text inert in every output format.
//!
//! Names, ids, file names and messages come from manifests that a vendor wrote; a report must
//! show them as text, never let them act: no terminal escape sequences, no fake lines, no
//! HTML, no Markdown tables broken open, no GitHub workflow commands smuggled in.

use std::borrow::Cow;

/// True for characters that must never reach a terminal or a log raw: C0 and C1 controls,
/// DEL, and the Unicode bidirectional overrides and isolates ("Trojan Source").
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || c == '\u{feff}'
}

/// Whether `text` holds a dangerous character (see [`is_dangerous`]), `keep` (a line
/// break, for multi-line text) aside. Printable ASCII, most of any report's text, is passed
/// over a byte at a time; from the first other byte on, the rest is read as characters.
fn has_dangerous(text: &str, keep: Option<char>) -> bool {
    let plain = text
        .bytes()
        .position(|b| !(b' '..=b'~').contains(&b) && Some(char::from(b)) != keep)
        .unwrap_or(text.len());
    // Every byte before `plain` is ASCII: `plain` is on a character boundary.
    text.get(plain..)
        .unwrap_or("")
        .chars()
        .any(|c| Some(c) != keep && is_dangerous(c))
}

/// Writes `text` into `out` with each ASCII character for which `escape` gives a text
/// replaced by it; the rest is copied in runs. Bytes of a multi-byte character are never
/// ASCII, so the runs always end on character boundaries.
fn escape_ascii(out: &mut String, text: &str, escape: impl Fn(u8) -> Option<&'static str>) {
    let mut run = 0;
    for (i, b) in text.bytes().enumerate() {
        if let Some(replacement) = escape(b) {
            out.push_str(text.get(run..i).unwrap_or(""));
            out.push_str(replacement);
            run = i + 1;
        }
    }
    out.push_str(text.get(run..).unwrap_or(""));
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// One line of inert text: every control character (newlines included), DEL and bidi
/// control is shown as a Rust-style escape (`\u{1b}`, `\n`), so it is visible and inactive.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !has_dangerous(text, None) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().saturating_add(8));
    for c in text.chars() {
        if is_dangerous(c) {
            escape_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`inert`] but keeps line breaks (`\n`; a `\r\n` pair becomes `\n`), for multi-line
/// prose such as a rule's remediation. Callers indent the continuation lines.
pub fn inert_multiline(text: &str) -> Cow<'_, str> {
    if !has_dangerous(text, Some('\n')) {
        return Cow::Borrowed(text);
    }
    let normalized = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(normalized.len().saturating_add(8));
    for c in normalized.chars() {
        if c != '\n' && is_dangerous(c) {
            escape_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// HTML/XML text and attribute escaping (after [`inert`]).
pub fn html(text: &str) -> String {
    let text = inert(text);
    let mut out = String::with_capacity(text.len().saturating_add(8));
    escape_ascii(&mut out, &text, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    });
    out
}

/// Text for one Markdown table cell (GitHub-flavoured): inert, HTML-escaped, `|` and the
/// Markdown punctuation backslash-escaped, `@` defused so no one is mentioned, line breaks
/// as `<br>`.
pub fn markdown(text: &str) -> String {
    let text = inert_multiline(text);
    let mut out = String::with_capacity(text.len().saturating_add(8));
    escape_ascii(&mut out, &text, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'@' => Some("&#64;"),
        b'\n' => Some("<br>"),
        b'\\' => Some("\\\\"),
        b'`' => Some("\\`"),
        b'*' => Some("\\*"),
        b'_' => Some("\\_"),
        b'[' => Some("\\["),
        b']' => Some("\\]"),
        b'|' => Some("\\|"),
        b'~' => Some("\\~"),
        b'#' => Some("\\#"),
        b'!' => Some("\\!"),
        b'$' => Some("\\$"),
        _ => None,
    });
    out
}

/// Percent-encodes a relative file path for a URI reference (SARIF `artifactLocation.uri`):
/// unreserved characters and `/` stay, everything else (spaces, `%`, `#`, `?`, `\`,
/// non-ASCII as UTF-8 bytes) is encoded.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    // `:` is always encoded, so a first segment never reads as a URI scheme.
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_escapes_controls_and_bidi() {
        assert_eq!(inert("plain"), "plain");
        assert_eq!(inert("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(inert("a\nb\rc"), "a\\nb\\rc");
        assert_eq!(inert("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(inert_multiline("a\r\nb\x07"), "a\nb\\u{7}");
    }

    #[test]
    fn html_and_markdown_are_inert() {
        assert_eq!(
            html("<script>alert('1')</script>&"),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(markdown("a|b\n<i>@x"), "a\\|b<br>&lt;i&gt;&#64;x");
    }

    /// The sanitizers as first written, a character at a time: the byte-wise ones must
    /// give the same text for any input.
    fn reference_markdown(text: &str) -> String {
        let text = if text.chars().any(|c| c != '\n' && is_dangerous(c)) {
            let mut out = String::new();
            for c in text.replace("\r\n", "\n").chars() {
                if c != '\n' && is_dangerous(c) {
                    escape_char(&mut out, c);
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            text.to_string()
        };
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '@' => out.push_str("&#64;"),
                '\n' => out.push_str("<br>"),
                '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '$' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        out
    }

    fn reference_html(text: &str) -> String {
        let mut inert = String::new();
        for c in text.chars() {
            if is_dangerous(c) {
                escape_char(&mut inert, c);
            } else {
                inert.push(c);
            }
        }
        let mut out = String::new();
        for c in inert.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                _ => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn byte_wise_sanitizers_equal_the_char_wise_ones(
            text in "[a-z <>&@|*_\\[\\]`~#!$'\"\n\r\t\x00-\x1f\x7f\u{80}-\u{a0}é—→\u{200e}\u{202e}\u{2066}\u{feff}]{0,24}"
        ) {
            proptest::prop_assert_eq!(markdown(&text), reference_markdown(&text));
            proptest::prop_assert_eq!(html(&text), reference_html(&text));
        }

        /// One character of any kind amid printable ASCII: the byte-wise scan must not
        /// pass over it.
        #[test]
        fn one_character_amid_ascii_is_judged_as_alone(
            before in "[ -~]{0,12}",
            c in proptest::char::any(),
            after in "[ -~]{0,12}",
        ) {
            let text = format!("{before}{c}{after}");
            proptest::prop_assert_eq!(markdown(&text), reference_markdown(&text));
            proptest::prop_assert_eq!(html(&text), reference_html(&text));
        }
    }

    #[test]
    fn every_dangerous_kind_is_escaped_amid_ascii() {
        for c in [
            '\0', '\x1b', '\x7f', '\u{85}', '\u{9f}', '\u{200e}', '\u{200f}', '\u{202a}',
            '\u{202e}', '\u{2066}', '\u{2069}', '\u{feff}', '\n', '\r', '\t',
        ] {
            for text in [
                format!("{c}"),
                format!("ab{c}"),
                format!("a{c}b"),
                format!("{c}—"),
            ] {
                assert_eq!(markdown(&text), reference_markdown(&text), "{text:?}");
                assert_eq!(html(&text), reference_html(&text), "{text:?}");
                assert!(!inert(&text).contains(c), "{text:?}");
            }
        }
    }

    #[test]
    fn uri_paths_are_encoded() {
        assert_eq!(uri_path("dir/city.yaml"), "dir/city.yaml");
        assert_eq!(uri_path("my dir/a#b%.yaml"), "my%20dir/a%23b%25.yaml");
        assert_eq!(uri_path("c:x.yaml"), "c%3Ax.yaml");
    }
}
