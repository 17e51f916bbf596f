//! An event's fields kept as they were given, for a held line: numbers and booleans as they are,
//! strings and `Debug` output as their bytes, unescaped; replayed into the line's visitor only if
//! the line is written, so that a held line that is discarded never pays for the JSON.
//!
//! Written by hand: this is a private, append-only encoding of one event's values, read back only
//! by this module, in the same process, in the order written. Each field is its index in the
//! callsite's field set (`u16`), a tag (`u8`), and the value: 8 or 16 bytes for numbers, 1 for a
//! boolean, a `u32` length and the bytes for a string or a `Debug` output.
//!
//! A field the line would redact is kept without its value (its value is never formatted). What
//! cannot be kept so is reported by [`Capture::finish`] as `None`, and the line is then formatted
//! at once as it would be written: an error value (its `source()` chain is read as the line is
//! formatted), or a string or `Debug` output longer than the value length (the line cuts it).

use std::fmt::{self, Write as _};

use tracing_core::field::{Field, Visit};
use tracing_core::Metadata;

use crate::callsite::Entry;
use crate::redact::Redaction;

const I64: u8 = 0;
const U64: u8 = 1;
const I128: u8 = 2;
const U128: u8 = 3;
const F64: u8 = 4;
const BOOL: u8 = 5;
const STR: u8 = 6;
const DEBUG: u8 = 7;
/// A secret field: written `"[REDACTED]"`, its value never read.
const SECRET: u8 = 8;

/// Keeps an event's fields into `out` (appending).
pub(crate) struct Capture<'a> {
    out: &'a mut Vec<u8>,
    entry: &'a Entry,
    redaction: &'a Redaction,
    /// Strings and `Debug` outputs longer than this are not kept.
    max_len: usize,
    has_message: bool,
    failed: bool,
}

impl<'a> Capture<'a> {
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        entry: &'a Entry,
        redaction: &'a Redaction,
        max_len: usize,
    ) -> Capture<'a> {
        Capture {
            out,
            entry,
            redaction,
            max_len,
            has_message: false,
            failed: false,
        }
    }

    /// Whether every field was kept.
    pub(crate) fn finish(self) -> Option<()> {
        (!self.failed).then_some(())
    }

    /// Starts `field` with `tag`; false when its value is not to be kept (a secret: kept as one).
    fn begin(&mut self, field: &Field, tag: u8) -> bool {
        let Ok(index) = u16::try_from(field.index()) else {
            self.failed = true;
            return false;
        };
        // The line's `message` (the first field of that name) is never redacted.
        let [low, high] = index.to_le_bytes();
        let message = !self.has_message && field.name() == "message";
        if message {
            self.has_message = true;
        } else if self.entry.secrets.contains(field, self.redaction) {
            self.out.extend_from_slice(&[low, high, SECRET]);
            return false;
        }
        self.out.extend_from_slice(&[low, high, tag]);
        true
    }

    fn bytes(&mut self, field: &Field, tag: u8, bytes: &[u8]) {
        if self.begin(field, tag) {
            self.out.extend_from_slice(bytes);
        }
    }

    fn text(
        &mut self,
        field: &Field,
        tag: u8,
        write: impl FnOnce(&mut Bounded<'_>) -> fmt::Result,
    ) {
        if self.failed || !self.begin(field, tag) {
            return;
        }
        let at = self.out.len();
        self.out.extend_from_slice(&0u32.to_le_bytes());
        let mut bounded = Bounded {
            out: self.out,
            left: self.max_len,
        };
        if write(&mut bounded).is_err() {
            self.failed = true;
            return;
        }
        let len = (self.out.len() - at - 4) as u32;
        self.out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
}

/// A writer that appends at most `left` bytes, and fails past them.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    left: usize,
}

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() > self.left {
            return Err(fmt::Error);
        }
        self.left -= s.len();
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Visit for Capture<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.bytes(field, I64, &value.to_le_bytes());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.bytes(field, U64, &value.to_le_bytes());
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.bytes(field, I128, &value.to_le_bytes());
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.bytes(field, U128, &value.to_le_bytes());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.bytes(field, F64, &value.to_bits().to_le_bytes());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.bytes(field, BOOL, &[u8::from(value)]);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, STR, |w| w.write_str(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, DEBUG, |w| write!(w, "{value:?}"));
    }
    fn record_error(&mut self, _field: &Field, _value: &(dyn std::error::Error + 'static)) {
        self.failed = true;
    }
}

/// Text written verbatim by its `Debug`: a `Debug` output kept, given back as it was formatted.
struct Verbatim<'a>(&'a str);

impl fmt::Debug for Verbatim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Gives the fields kept in `kept` (by [`Capture`], for an event of `meta`) to `visitor`, in
/// their order, as the event gave them.
pub(crate) fn replay(kept: &[u8], meta: &'static Metadata<'static>, visitor: &mut dyn Visit) {
    let fields = meta.fields();
    let mut rest = kept;
    while let Some((index, tag, after)) = header(rest) {
        let Some(field) = fields.iter().nth(usize::from(index)) else {
            return;
        };
        rest = after;
        let (taken, more) = match tag {
            I64 | U64 | F64 => rest.split_at(8.min(rest.len())),
            I128 | U128 => rest.split_at(16.min(rest.len())),
            BOOL => rest.split_at(1.min(rest.len())),
            STR | DEBUG => {
                let Some((len, after)) = rest.split_first_chunk::<4>() else {
                    return;
                };
                let len = u32::from_le_bytes(*len) as usize;
                after.split_at(len.min(after.len()))
            }
            _ => (&rest[..0], rest),
        };
        rest = more;
        match tag {
            I64 => visitor.record_i64(&field, i64::from_le_bytes(array(taken))),
            U64 => visitor.record_u64(&field, u64::from_le_bytes(array(taken))),
            I128 => visitor.record_i128(&field, i128::from_le_bytes(array(taken))),
            U128 => visitor.record_u128(&field, u128::from_le_bytes(array(taken))),
            F64 => visitor.record_f64(&field, f64::from_bits(u64::from_le_bytes(array(taken)))),
            BOOL => visitor.record_bool(&field, taken.first() == Some(&1)),
            // Kept from a `&str` and a `fmt::Write`: valid UTF-8.
            STR => visitor.record_str(&field, std::str::from_utf8(taken).unwrap_or_default()),
            DEBUG => visitor.record_debug(
                &field,
                &Verbatim(std::str::from_utf8(taken).unwrap_or_default()),
            ),
            // The visitor redacts a secret field without reading the value.
            _ => visitor.record_bool(&field, false),
        }
    }
}

fn header(bytes: &[u8]) -> Option<(u16, u8, &[u8])> {
    let (index, rest) = bytes.split_first_chunk::<2>()?;
    let (tag, rest) = rest.split_first()?;
    Some((u16::from_le_bytes(*index), *tag, rest))
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}
