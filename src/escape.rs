//! The one JSON string escaping routine every key and value goes through.
//!
//! Written by hand rather than through `serde_json::to_writer` because it must also escape what JSON
//! allows raw but a terminal or a log shipper would act on: every `char::is_control` character (C0,
//! DEL and the C1 range, so no ANSI or CSI sequence reaches a terminal) and U+2028/U+2029 (line
//! separators that break JavaScript-based log viewers). It writes straight into the line buffer,
//! so formatting a `Debug` value costs no intermediate `String`.

use std::fmt::{self, Write};

/// Appends `s` to `buf` as the *inside* of a JSON string (no surrounding quotes).
pub(crate) fn escape_into(buf: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let needs = match c {
            '"' | '\\' => true,
            '\u{2028}' | '\u{2029}' => true,
            c => c.is_control(),
        };
        if !needs {
            continue;
        }
        if start < i {
            buf.push_str(&s[start..i]);
        }
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
        start = i + c.len_utf8();
    }
    if start < bytes.len() {
        buf.push_str(&s[start..]);
    }
}

/// Appends `s` to `buf` as a complete JSON string, quotes included.
pub(crate) fn quoted_into(buf: &mut String, s: &str) {
    buf.push('"');
    escape_into(buf, s);
    buf.push('"');
}

/// A `fmt::Write` that escapes everything written through it, so `Debug` and `Display` values are
/// formatted straight into the line buffer.
pub(crate) struct Escaper<'a>(pub(crate) &'a mut String);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Appends a `Debug` value as a complete JSON string.
pub(crate) fn debug_quoted_into(buf: &mut String, value: &dyn fmt::Debug) {
    buf.push('"');
    // A `Debug` impl that returns `Err` leaves what it wrote so far; the string stays well formed.
    let _ = write!(Escaper(buf), "{value:?}");
    buf.push('"');
}

/// Appends a `Display` value as a complete JSON string.
pub(crate) fn display_quoted_into(buf: &mut String, value: &dyn fmt::Display) {
    buf.push('"');
    let _ = write!(Escaper(buf), "{value}");
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> String {
        let mut b = String::new();
        quoted_into(&mut b, s);
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
    fn round_trips_through_serde_json() {
        let s = "\"\\\n\u{0}\u{1f}\u{1b}\u{2028}é\u{10ffff}";
        let back: String = serde_json::from_str(&q(s)).unwrap();
        assert_eq!(back, s);
    }
}
