//! The one JSON string escaping routine every key and value goes through.
//!
//! Written by hand rather than through `serde_json::to_writer` because it must also escape what JSON
//! allows raw but a terminal or a log shipper would act on: every `char::is_control` character (C0,
//! DEL and the C1 range, so no ANSI or CSI sequence reaches a terminal) and U+2028/U+2029 (line
//! separators that break JavaScript-based log viewers). It writes straight into the line buffer,
//! so formatting a `Debug` value costs no intermediate `String`.

use std::fmt::{self, Write};

/// The length in bytes of the character at `bytes[i]` when it must be escaped, else 0.
///
/// Scans bytes, not `char`s (this runs on every string of every line): the characters to escape
/// are `"` and `\`, the C0 controls and DEL (single bytes), the C1 controls U+0080..=U+009F
/// (`C2 80`..=`C2 9F` in UTF-8) and U+2028/U+2029 (`E2 80 A8`/`E2 80 A9`). Every other byte is
/// copied as it is; `s` is valid UTF-8, so no other sequence can start with these lead bytes.
#[inline]
fn escaped_len(bytes: &[u8], i: usize) -> usize {
    match bytes[i] {
        b'"' | b'\\' | 0x00..=0x1f | 0x7f => 1,
        0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => 2,
        0xe2 if bytes.get(i + 1) == Some(&0x80)
            && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
        {
            3
        }
        _ => 0,
    }
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether any byte of `word` equals `byte` (the classic "has zero byte" test on `word ^ byte`).
#[inline]
fn has_byte(word: u64, byte: u8) -> bool {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Whether the 8 bytes of `word` are all plain: printable ASCII other than `"` and `\`. Bytes
/// below 0x20 are found as "less than 0x20", DEL and every non-ASCII byte by the high bit or
/// equality. A word that is not plain is scanned byte by byte.
#[inline]
fn plain_word(word: u64) -> bool {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
    !(below_space
        || word & HIGHS != 0
        || has_byte(word, b'"')
        || has_byte(word, b'\\')
        || has_byte(word, 0x7f))
}

/// Appends `s` to `buf` as the *inside* of a JSON string (no surrounding quotes).
pub(crate) fn escape_into(buf: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most strings are plain ASCII: skip them 8 bytes at a time.
        while let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
            if !plain_word(word) {
                break;
            }
            i += 8;
        }
        if i >= bytes.len() {
            break;
        }
        let len = escaped_len(bytes, i);
        if len == 0 {
            i += 1;
            continue;
        }
        // `i` and `i + len` are character boundaries: `len` spans exactly one character.
        buf.push_str(&s[start..i]);
        let c = s[i..i + len].chars().next().unwrap_or('\u{fffd}');
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c => {
                // `write!` into a `String` cannot fail.
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
        }
        i += len;
        start = i;
    }
    buf.push_str(&s[start..]);
}

/// A `fmt::Write` that escapes what is written through it and keeps at most `left` bytes of it,
/// cut at a character boundary; [`Limited::finish`] appends a marker saying how much was cut.
pub(crate) struct Limited<'a> {
    buf: &'a mut String,
    left: usize,
    dropped: usize,
}

impl<'a> Limited<'a> {
    pub(crate) fn new(buf: &'a mut String, limit: usize) -> Self {
        Limited {
            buf,
            left: limit,
            dropped: 0,
        }
    }

    /// Appends `…[truncated N bytes]` when anything was cut.
    pub(crate) fn finish(self) {
        if self.dropped > 0 {
            self.buf.push_str("…[truncated ");
            self.buf
                .push_str(itoa::Buffer::new().format(self.dropped as u64));
            self.buf.push_str(" bytes]");
        }
    }
}

impl Write for Limited<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.left {
            escape_into(self.buf, s);
            self.left -= s.len();
        } else {
            let mut keep = self.left;
            while !s.is_char_boundary(keep) {
                keep -= 1;
            }
            escape_into(self.buf, &s[..keep]);
            self.dropped += s.len() - keep;
            self.left = 0;
        }
        Ok(())
    }
}

/// Appends `s` as the inside of a JSON string (no quotes), cut at `limit` bytes (see
/// [`Limited`]).
pub(crate) fn limited_escape_into(buf: &mut String, s: &str, limit: usize) {
    let mut w = Limited::new(buf, limit);
    let _ = w.write_str(s);
    w.finish();
}

/// Appends a string value as a JSON string, cut at `limit` bytes (see [`Limited`]).
pub(crate) fn limited_str_into(buf: &mut String, s: &str, limit: usize) {
    buf.push('"');
    limited_escape_into(buf, s, limit);
    buf.push('"');
}

/// Appends a `Debug` value as a JSON string, cut at `limit` bytes.
pub(crate) fn limited_debug_into(buf: &mut String, value: &dyn fmt::Debug, limit: usize) {
    buf.push('"');
    let mut w = Limited::new(buf, limit);
    let _ = write!(w, "{value:?}");
    w.finish();
    buf.push('"');
}

/// Appends a `Display` value as a JSON string, cut at `limit` bytes.
pub(crate) fn limited_display_into(buf: &mut String, value: &dyn fmt::Display, limit: usize) {
    buf.push('"');
    let mut w = Limited::new(buf, limit);
    let _ = write!(w, "{value}");
    w.finish();
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> String {
        let mut b = String::from('"');
        escape_into(&mut b, s);
        b.push('"');
        b
    }

    #[test]
    fn escapes_quotes_backslashes_and_controls() {
        assert_eq!(q(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(q("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(q("\u{1b}[31mred"), r#""\u001b[31mred""#);
        assert_eq!(q("\u{7f}\u{9b}"), r#""\u007f\u009b""#);
        assert_eq!(q("x\u{2028}y\u{2029}"), r#""x\u2028y\u2029""#);
        assert_eq!(q("héllo ✓"), "\"héllo ✓\"");
    }

    #[test]
    fn escapes_exactly_the_characters_the_char_rule_names() {
        // The byte scan must agree with the plain rule on every character.
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            let s = c.to_string();
            let mut b = String::new();
            escape_into(&mut b, &s);
            let must = matches!(c, '"' | '\\' | '\u{2028}' | '\u{2029}') || c.is_control();
            assert_eq!(b != s, must, "U+{:04X}", c as u32);
            let back: String = serde_json::from_str(&format!("\"{b}\"")).unwrap();
            assert_eq!(back, s, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn every_character_at_every_offset_of_a_word() {
        // The 8-byte skip must never step over a character to escape, wherever it falls.
        let specials = [
            '"', '\\', '\n', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{2029}', 'é',
            '✓', '😀',
        ];
        for pad in 0..16 {
            for c in specials {
                let s = format!("{}{c}{}", "a".repeat(pad), "b".repeat(17 - pad % 8));
                let back: String = serde_json::from_str(&q(&s)).unwrap();
                assert_eq!(back, s, "pad {pad}, U+{:04X}", c as u32);
                // `"` and `\\` appear in every escape sequence: the round trip covers them.
                if c != '"' && c != '\\' {
                    let mut escaped = String::new();
                    escape_into(&mut escaped, &s);
                    let must = matches!(c, '\u{2028}' | '\u{2029}') || c.is_control();
                    assert_eq!(escaped.contains(c), !must, "pad {pad}, U+{:04X}", c as u32);
                }
            }
        }
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary_with_a_marker() {
        let mut b = String::new();
        limited_str_into(&mut b, &"é".repeat(10), 5);
        let back: String = serde_json::from_str(&b).unwrap();
        assert_eq!(back, "éé…[truncated 16 bytes]");
        let mut b = String::new();
        limited_debug_into(&mut b, &"abcdef", 4);
        assert_eq!(
            serde_json::from_str::<String>(&b).unwrap(),
            "\"abc…[truncated 4 bytes]"
        );
        let mut b = String::new();
        limited_str_into(&mut b, "short", 5);
        assert_eq!(b, "\"short\"");
    }

    #[test]
    fn round_trips_through_serde_json() {
        let s = "\"\\\n\u{0}\u{1f}\u{1b}\u{2028}é\u{10ffff}";
        let back: String = serde_json::from_str(&q(s)).unwrap();
        assert_eq!(back, s);
    }
}
