//! Byte offsets ↔ LSP positions (0-based line, UTF-16 code units in the line).

use lsp_types::{Position, Range};

pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let character = before[line_start..].encode_utf16().count() as u32;
    Position { line, character }
}

pub fn range_of(text: &str, start: usize, end: usize) -> Range {
    Range {
        start: position_of(text, start),
        end: position_of(text, end.max(start)),
    }
}

pub fn offset_of(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map(|i| line_start + i)
        .unwrap_or(text.len());
    let mut units = 0u32;
    for (i, ch) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + i;
        }
        units = units.saturating_add(ch.len_utf16() as u32);
    }
    line_end
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns() {
        let text = "# 个人 😀\nab";
        let p = position_of(text, text.find('😀').unwrap());
        assert_eq!(
            p,
            Position {
                line: 0,
                character: 5
            }
        );
        assert_eq!(offset_of(text, p), text.find('😀').unwrap());
        assert_eq!(
            position_of(text, text.len()),
            Position {
                line: 1,
                character: 2
            }
        );
        assert_eq!(
            offset_of(
                text,
                Position {
                    line: 1,
                    character: 1
                }
            ),
            text.len() - 1
        );
    }
}
