//! The floor: the lines our layer writes, built by hand in reused buffers and handed to the sink
//! with one `write_all`, with no `tracing` at all: what the bytes cost at the least.
//!
//! - once: what never changes, `"level":"INFO","service":..,"target":..` (the event's level,
//!   service and target are known when the line is written by hand);
//! - once per span: its ids in hex, its name and its fields (as any layer can);
//! - per line: the clock read and the timestamp, the message and the event's fields, each string
//!   checked for what JSON must escape, and the `write_all`.
//!
//! The checks verify that these lines have the keys our layer's lines have.

use std::hint::black_box;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter as _;

use super::sink::Sink;
use super::SERVICE;

/// The ids a floor span writes: trace id, span id (flags are `01`).
pub type Ids = (u128, u64);

/// The ids of the floor's spans (black-boxed where used).
pub const TRACE_ID: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
/// The span id of the floor's span of scenario (a), and of its request span in scenario (b).
pub const SPAN_ID: u64 = 0x00f0_67aa_0ba9_02b7;
/// The span id of the floor's child span in scenario (b).
pub const CHILD_SPAN_ID: u64 = 0x0af7_6519_16cd_43dd;

/// What every line of a span carries after the message, formatted once per span.
#[derive(Debug, Default)]
pub struct FloorSpan {
    /// `,"trace_id":..,"span_id":..,"trace_flags":..,"span_name":..`
    ids_and_name: String,
    /// The fields of the span and of its parents, leaf to root: `,"k":v,...`
    fields: String,
}

impl FloorSpan {
    /// Sets this span's fragments (reusing its buffers): `own_fields` writes its own fields,
    /// `parent` gives the fields that follow them.
    pub fn set(
        &mut self,
        ids: Option<Ids>,
        name: &str,
        own_fields: impl FnOnce(&mut String),
        parent: Option<&FloorSpan>,
    ) {
        self.ids_and_name.clear();
        self.fields.clear();
        if let Some((trace_id, span_id)) = ids {
            self.ids_and_name.push_str(",\"trace_id\":\"");
            push_hex(&mut self.ids_and_name, &trace_id.to_be_bytes());
            self.ids_and_name.push_str("\",\"span_id\":\"");
            push_hex(&mut self.ids_and_name, &span_id.to_be_bytes());
            self.ids_and_name.push_str("\",\"trace_flags\":\"01\"");
        }
        self.ids_and_name.push_str(",\"span_name\":");
        push_json_str(&mut self.ids_and_name, name);
        own_fields(&mut self.fields);
        if let Some(parent) = parent {
            self.fields.push_str(&parent.fields);
        }
    }

    fn push_to(&self, line: &mut String) {
        line.push_str(&self.ids_and_name);
        line.push_str(&self.fields);
    }
}

/// The floor's span of scenario (a), like [`super::scenario::event_span`].
pub fn event_span(span: &mut FloorSpan, with_ids: bool) {
    let ids = with_ids.then(|| (black_box(TRACE_ID), black_box(SPAN_ID)));
    span.set(
        ids,
        "checkout",
        |f| {
            push_field_str(f, "region", black_box("eu-west-1"));
            push_field_i64(f, "attempt", black_box(2));
        },
        None,
    );
}

/// The line of scenario (a)'s event, written to `sink`.
#[inline(never)]
pub fn event(line: &mut String, span: &FloorSpan, sink: &Sink) {
    line.clear();
    push_head(line, black_box("order placed"));
    span.push_to(line);
    push_field_i64(line, "order_id", black_box(42));
    push_field_str(line, "customer", black_box("alice"));
    push_field_bool(line, "express", black_box(true));
    line.push_str("}\n");
    write(line, sink);
}

/// The buffers of scenario (b)'s floor, reused request after request.
#[derive(Debug, Default)]
pub struct RequestBuffers {
    line: String,
    request: FloorSpan,
    child: FloorSpan,
}

/// The three lines of scenario (b)'s request, written to `sink`.
#[inline(never)]
pub fn request(b: &mut RequestBuffers, sink: &Sink) {
    let RequestBuffers {
        line,
        request,
        child,
    } = b;
    request.set(
        Some((black_box(TRACE_ID), black_box(SPAN_ID))),
        "handle_request",
        |f| {
            push_field_str(f, "method", black_box("GET"));
            push_field_str(f, "route", black_box("/orders/{id}"));
        },
        None,
    );
    line.clear();
    push_head(line, black_box("request received"));
    request.push_to(line);
    push_field_i64(line, "order_id", black_box(42));
    line.push_str("}\n");
    write(line, sink);

    child.set(
        Some((black_box(TRACE_ID), black_box(CHILD_SPAN_ID))),
        "load_cart",
        |_| {},
        Some(request),
    );
    line.clear();
    push_head(line, black_box("cart loaded"));
    child.push_to(line);
    push_field_str(line, "customer", black_box("alice"));
    push_field_i64(line, "items", black_box(3));
    line.push_str("}\n");
    write(line, sink);

    line.clear();
    push_head(line, black_box("order placed"));
    request.push_to(line);
    push_field_bool(line, "express", black_box(true));
    push_field_i64(line, "status", black_box(200));
    line.push_str("}\n");
    write(line, sink);
}

fn write(line: &str, sink: &Sink) {
    let _ = sink.make_writer().write_all(line.as_bytes());
}

/// `{"timestamp":..,"level":"INFO","service":..,"target":..,"message":..`
fn push_head(line: &mut String, message: &str) {
    line.push_str("{\"timestamp\":\"");
    push_timestamp(line);
    line.push_str(constant_keys());
    line.push_str(",\"message\":");
    push_json_str(line, message);
}

/// `","level":"INFO","service":..,"target":..`, formatted once.
fn constant_keys() -> &'static str {
    static KEYS: OnceLock<String> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = String::from("\",\"level\":\"INFO\",\"service\":");
        push_json_str(&mut keys, SERVICE);
        keys.push_str(",\"target\":");
        push_json_str(&mut keys, super::scenario::TARGET);
        keys
    })
}

/// The current time as `2026-11-21T10:23:45.123456Z`.
fn push_timestamp(line: &mut String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let second_of_day = (secs % 86_400) as u32;
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut b[0..4], year);
    put_digits(&mut b[5..7], month);
    put_digits(&mut b[8..10], day);
    put_digits(&mut b[11..13], second_of_day / 3600);
    put_digits(&mut b[14..16], second_of_day / 60 % 60);
    put_digits(&mut b[17..19], second_of_day % 60);
    put_digits(&mut b[20..26], now.subsec_micros());
    line.push_str(std::str::from_utf8(&b).unwrap_or_default());
}

fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// (year, month, day) of a day counted from 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

fn push_key(line: &mut String, key: &str) {
    line.push(',');
    push_json_str(line, key);
    line.push(':');
}

fn push_field_str(line: &mut String, key: &str, value: &str) {
    push_key(line, key);
    push_json_str(line, value);
}

fn push_field_i64(line: &mut String, key: &str, value: i64) {
    push_key(line, key);
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = value.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        line.push('-');
    }
    line.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

fn push_field_bool(line: &mut String, key: &str, value: bool) {
    push_key(line, key);
    line.push_str(if value { "true" } else { "false" });
}

/// A JSON string, escaped as our layer escapes (quotes, backslashes, C0, DEL, C1, U+2028/9):
/// printable ASCII, the usual case, is copied as is.
fn push_json_str(line: &mut String, s: &str) {
    /// The bytes copied as they are: printable ASCII but `"` and `\`.
    const PLAIN: [bool; 256] = {
        let mut plain = [false; 256];
        let mut b = 0x20;
        while b < 0x7f {
            plain[b] = b != b'"' as usize && b != b'\\' as usize;
            b += 1;
        }
        plain
    };
    line.push('"');
    if s.bytes().all(|b| PLAIN[usize::from(b)]) {
        line.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => line.push_str("\\\""),
                '\\' => line.push_str("\\\\"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                '\t' => line.push_str("\\t"),
                c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                    use std::fmt::Write as _;
                    let _ = write!(line, "\\u{:04x}", u32::from(c));
                }
                c => line.push(c),
            }
        }
    }
    line.push('"');
}
