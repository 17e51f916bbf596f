//! A field as JSON: its `,"key":` and its value, one writer per `Visit` method, shared by the
//! event's fields and the span fields serialised once per span.

use std::fmt;

use crate::line::escape::{
    limited_debug_into, limited_display_into, limited_escape_into, limited_str_into,
};
use crate::line::keys::Reserved;
use crate::otel::ids::SpanIds;
use crate::redact::REDACTED;

/// Fields of the `otel.*` family steer the OpenTelemetry span (name, kind, status); they are not
/// data of the line. `otel.name` is kept apart as the span's display name.
pub(crate) const OTEL_NAME: &str = "otel.name";

pub(crate) fn is_otel_meta(name: &str) -> bool {
    name.starts_with("otel.")
}

/// Appends the value of a secret field: the marker, as a JSON string.
pub(crate) fn push_redacted(buf: &mut String) {
    buf.push('"');
    buf.push_str(REDACTED);
    buf.push('"');
}

/// Appends `,"key":` with `key` renamed to `fields.<key>` when it is reserved, cut at `key_len`
/// bytes (a cut key ends in the truncation marker, so it is never a reserved key).
pub(crate) fn push_key(buf: &mut String, name: &str, reserved: &Reserved, key_len: usize) {
    buf.push_str(",\"");
    if reserved.contains(name) {
        buf.push_str("fields.");
    }
    limited_escape_into(buf, name, key_len);
    buf.push_str("\":");
}

/// Appends a float: finite values in the shortest form that reads back as the same `f64`
/// (`ryu`, what `serde_json` writes with: `1.0`, `-0.0`, `1e-7`, `1.7976931348623157e308`), always
/// a JSON number every reader takes; NaN and the infinities as the strings `"NaN"`, `"inf"`,
/// `"-inf"`, which JSON has no number for. (`Display` never uses an exponent: `f64::MAX` would be
/// a 309-digit integer, out of range for `serde_json` with its default features.)
pub(crate) fn push_f64(buf: &mut String, value: f64) {
    if value.is_nan() {
        buf.push_str("\"NaN\"");
    } else if value.is_infinite() {
        buf.push_str(if value > 0.0 { "\"inf\"" } else { "\"-inf\"" });
    } else {
        buf.push_str(ryu::Buffer::new().format_finite(value));
    }
}

/// Appends an integer: `itoa` formats it without the `fmt` machinery (this runs per field).
pub(crate) fn push_int(buf: &mut String, value: impl itoa::Integer) {
    buf.push_str(itoa::Buffer::new().format(value));
}

/// Writes the value half of a field (after the key) for each `Visit` method.
pub(crate) trait ValueSink {
    fn buf(&mut self) -> &mut String;
    fn limit(&self) -> usize;

    fn value_i64(&mut self, v: i64) {
        push_int(self.buf(), v)
    }
    fn value_u64(&mut self, v: u64) {
        push_int(self.buf(), v)
    }
    fn value_i128(&mut self, v: i128) {
        push_int(self.buf(), v)
    }
    fn value_u128(&mut self, v: u128) {
        push_int(self.buf(), v)
    }
    fn value_f64(&mut self, v: f64) {
        push_f64(self.buf(), v)
    }
    fn value_bool(&mut self, v: bool) {
        self.buf().push_str(if v { "true" } else { "false" })
    }
    fn value_str(&mut self, v: &str) {
        let limit = self.limit();
        limited_str_into(self.buf(), v, limit)
    }
    fn value_debug(&mut self, v: &dyn fmt::Debug) {
        let limit = self.limit();
        limited_debug_into(self.buf(), v, limit)
    }
    fn value_error(&mut self, v: &(dyn std::error::Error + 'static)) {
        let limit = self.limit();
        limited_display_into(self.buf(), &v, limit)
    }
}

/// Appends `,"trace_id":"..","span_id":"..","trace_flags":".."`: the ids as every line of the
/// log stream carries them (event lines and console span lines).
pub(crate) fn push_ids(buf: &mut String, ids: &SpanIds) {
    buf.push_str(",\"trace_id\":\"");
    buf.push_str(ids.trace_hex());
    buf.push_str("\",\"span_id\":\"");
    buf.push_str(ids.span_hex());
    buf.push_str("\",\"trace_flags\":\"");
    buf.push_str(ids.flags_hex());
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_that_json_cannot_hold_become_strings() {
        let render = |v: f64| {
            let mut b = String::new();
            push_f64(&mut b, v);
            b
        };
        assert_eq!(render(f64::NAN), "\"NaN\"");
        assert_eq!(render(f64::INFINITY), "\"inf\"");
        assert_eq!(render(f64::NEG_INFINITY), "\"-inf\"");
        let n: f64 = serde_json::from_str(&render(1e300)).unwrap();
        assert_eq!(n, 1e300);
        let n: f64 = serde_json::from_str(&render(-0.1)).unwrap();
        assert_eq!(n, -0.1);
        assert_eq!(render(f64::MAX), "1.7976931348623157e308");
        assert_eq!(render(1.0), "1.0");
        assert_eq!(render(-0.0), "-0.0");
        assert_eq!(render(1e-7), "1e-7");
    }
}
