//! `traceparent` and `tracestate`, parsed by every rule of W3C Trace Context Level 2.

use std::sync::LazyLock;

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

static FIELDS: LazyLock<[String; 2]> =
    LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);

/// The flags kept from `traceparent`: sampled (bit 0) and random trace-id (bit 1, Level 2).
/// The others are reserved: set to zero when re-emitting.
const KNOWN_FLAGS: u8 = 0x03;
/// `00-` + 32 + `-` + 16 + `-` + 2.
const TRACEPARENT_LEN: usize = 55;
/// HTTP optional whitespace: what is trimmed around a header value and a list member.
const OWS: [char; 2] = [' ', '\t'];

const MAX_MEMBERS: usize = 32;
const MAX_KEY_LEN: usize = 256;
const MAX_VALUE_LEN: usize = 256;
/// The longest `tracestate` (all its headers joined) that is parsed at all: 32 members of the
/// longest key and value, each with a `", "` separator. Anything longer cannot be valid in
/// practice and is refused before any work is done.
const MAX_TRACESTATE_LEN: usize = MAX_MEMBERS * (MAX_KEY_LEN + 1 + MAX_VALUE_LEN + 2);
/// The longest `tracestate` injected.
const MAX_INJECTED_TRACESTATE_LEN: usize = 512;
/// Entries longer than this are the first dropped when the injected `tracestate` is too long.
const LARGE_ENTRY_LEN: usize = 128;

/// Propagates trace context in the W3C `traceparent` and `tracestate` headers, strictly.
///
/// It does the job of `opentelemetry_sdk`'s `TraceContextPropagator` and is a drop-in
/// replacement for it, for services that want every rule of
/// [W3C Trace Context Level 2](https://www.w3.org/TR/trace-context-2/) applied: a malformed header
/// restarts the trace instead of continuing it under a mangled id, and a valid one is continued
/// whole.
///
/// **Extract.** `traceparent` must be one header (two restart the trace), its value trimmed of
/// spaces and tabs: a version of exactly two lowercase hex digits, not `ff`; for version `00`
/// exactly 55 characters; for a higher version at least 55, the flags followed by `-` or the end,
/// the rest ignored. The trace-id is 32 lowercase hex digits, the parent-id 16, neither all zeros;
/// the flags are 2 lowercase hex digits, of which the sampled (`01`) and random trace-id (`02`)
/// bits are kept and the others zeroed. A valid `traceparent` gives a remote [`SpanContext`] in
/// the returned [`Context`]; an invalid one returns the given context unchanged.
///
/// `tracestate` is read only with a valid `traceparent`. Several headers are joined with `,` in
/// order. Empty and whitespace-only members are allowed, and an empty header is accepted. There
/// are at most 32 members (a repeated key counts each time); a key is 1 to 256 of `a-z 0-9 _ - * / @` starting with a
/// letter or digit (so multi-tenant keys such as `tenant@system` are valid); a value is 1 to 256
/// printable ASCII characters except `,` and `=`, not ending in a space. Any invalid member
/// discards the whole `tracestate`, and the `traceparent` is still used. A key sent more than
/// once keeps its leftmost (most recent) entry and the later ones are discarded, as the
/// specification allows ("vendors MAY also discard duplicate keys"), so one vendor's repeated
/// entry does not cost the other vendors theirs.
///
/// **Inject.** From the context's span when its context is valid: `traceparent` as version `00`
/// with the sampled and random bits of its flags, and `tracestate` when not empty, at most 512
/// characters: whole entries are dropped, those over 128 characters first, then from the right.
/// Entries that a strict receiver would refuse (bad key or value, a key seen before, past the
/// 32nd) are not sent, so one bad entry cannot make the receiver discard the others.
///
/// **`tracestate` keys [`TraceState`] cannot hold.** `opentelemetry`'s [`TraceState`] validates
/// keys by an older grammar: one `@` at most, followed by at most 13 characters. A received key
/// valid by Level 2 but refused by it (`foo@bar@baz`, `tenant@a-long-system-id`) is not lost: the
/// span context's [`TraceState`] holds the members it accepts (what in-process readers and the
/// exported span see), and the whole validated list is kept beside it in the context and injected
/// as long as the span's trace state has not been changed since.
///
/// Where it differs from `opentelemetry_sdk` 0.33's `TraceContextPropagator`, which accepts
/// versions `0`, `000` and `+0`, ids and flags one character short or long, and data after a
/// version `00` header; drops the random flag; reads only the first header of each kind; keeps the
/// first 32 members of a longer `tracestate`, accepts an empty value or a trailing space, and
/// passes a duplicate key on twice; refuses valid Level 2 keys; and never truncates what it injects.
///
/// ```
/// use std::collections::HashMap;
///
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use tracing_correlate::propagation::TraceContextPropagator;
///
/// let propagator = TraceContextPropagator::new();
/// let mut incoming = HashMap::new();
/// incoming.insert(
///     "traceparent".to_string(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".to_string(), // sampled, random
/// );
/// incoming.insert("tracestate".to_string(), "congo=t61rcWkgMzE".to_string());
///
/// let cx = propagator.extract(&incoming);
/// assert!(cx.span().span_context().is_remote());
///
/// let mut outgoing = HashMap::new();
/// propagator.inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing, incoming);
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceContextPropagator {
    _private: (),
}

impl TraceContextPropagator {
    /// Creates the propagator.
    pub const fn new() -> Self {
        TraceContextPropagator { _private: () }
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        injector.set(
            TRACEPARENT,
            format!(
                "00-{}-{}-{:02x}",
                span_context.trace_id(),
                span_context.span_id(),
                span_context.trace_flags().to_u8() & KNOWN_FLAGS
            ),
        );

        let mut entries: Vec<(&str, &str)> = match cx.get::<ReceivedTraceState>() {
            Some(received) if received.matches(span_context) => received
                .members
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            _ => sendable_entries(span_context.trace_state()),
        };
        truncate(&mut entries);
        if !entries.is_empty() {
            injector.set(TRACESTATE, header(&entries));
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((trace_id, span_id, flags)) =
            extractor
                .get_all(TRACEPARENT)
                .and_then(|values| match values.as_slice() {
                    [value] => parse_traceparent(value),
                    _ => None, // none, or several: invalid
                })
        else {
            return cx.clone();
        };

        let members = extractor
            .get_all(TRACESTATE)
            .and_then(|values| parse_tracestate(&values))
            .unwrap_or_default();
        let (trace_state, received) = match TraceState::from_key_value(members.iter().copied()) {
            Ok(trace_state) => (trace_state, None),
            Err(_) => {
                // A key valid by Level 2 that `TraceState` refuses: it holds what it accepts, and
                // the whole list travels beside it.
                let held = TraceState::from_key_value(
                    members
                        .iter()
                        .copied()
                        .filter(|&member| TraceState::from_key_value([member]).is_ok()),
                )
                .unwrap_or_default();
                let received = ReceivedTraceState {
                    trace_id,
                    held: held.clone(),
                    members: members
                        .iter()
                        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                };
                (held, Some(received))
            }
        };

        let span_context = SpanContext::new(trace_id, span_id, flags, true, trace_state);
        let cx = cx.with_remote_span_context(span_context);
        match received {
            Some(received) => cx.with_value(received),
            // Hide a list kept for an earlier extraction into the same context.
            None if cx.get::<ReceivedTraceState>().is_some() => cx.with_value(ReceivedTraceState {
                trace_id: TraceId::INVALID,
                held: TraceState::NONE,
                members: Vec::new(),
            }),
            None => cx,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

/// A received `tracestate` that [`TraceState`] cannot hold whole, kept in the context beside the
/// remote span context.
#[derive(Debug)]
struct ReceivedTraceState {
    trace_id: TraceId,
    /// What the span context's [`TraceState`] was given: the members it accepts.
    held: TraceState,
    /// Every member, validated, in order.
    members: Vec<(String, String)>,
}

impl ReceivedTraceState {
    /// Whether `span_context` still carries the received state: same trace, trace state not
    /// changed since (a child span inherits it unchanged).
    fn matches(&self, span_context: &SpanContext) -> bool {
        span_context.trace_id() == self.trace_id && *span_context.trace_state() == self.held
    }
}

/// The trace-id, parent-id and flags of a `traceparent` value, or `None` when it is invalid.
fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let v = value.trim_matches(OWS).as_bytes();
    if v.len() < TRACEPARENT_LEN || v[2] != b'-' {
        return None;
    }
    match hex_u128(&v[..2])? {
        0xff => return None,
        // Version 00: nothing after the flags.
        0x00 if v.len() != TRACEPARENT_LEN => return None,
        // A higher version: its 00 fields, then a `-` or the end.
        _ if v.len() > TRACEPARENT_LEN && v[TRACEPARENT_LEN] != b'-' => return None,
        _ => {}
    }
    if v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let trace_id = hex_u128(&v[3..35])?;
    let span_id = u64::try_from(hex_u128(&v[36..52])?).ok()?;
    let flags = u8::try_from(hex_u128(&v[53..55])?).ok()?;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    Some((
        TraceId::from(trace_id),
        SpanId::from(span_id),
        TraceFlags::new(flags & KNOWN_FLAGS),
    ))
}

/// Lowercase hex digits (at most 32) as a number; `None` for any other character.
fn hex_u128(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |n, &d| {
        let d = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(n << 4 | u128::from(d))
    })
}

/// The members of the `tracestate` headers joined with `,`, or `None` when the list is invalid.
///
/// A key seen again is a member like any other (it counts toward the 32 and must be valid), but
/// only its leftmost entry is kept: the specification lets a vendor discard duplicate keys it did
/// not generate, and the leftmost entry is the most recent position. Discarding the whole list
/// instead would lose every other vendor's entry for one vendor's mistake.
fn parse_tracestate<'a>(values: &[&'a str]) -> Option<Vec<(&'a str, &'a str)>> {
    let mut len = 0usize;
    for value in values {
        len = len.saturating_add(value.len() + 1);
        if len > MAX_TRACESTATE_LEN + 1 {
            return None;
        }
    }
    let mut members: Vec<(&str, &str)> = Vec::new();
    let mut count = 0usize;
    for member in values.iter().flat_map(|value| value.split(',')) {
        let member = member.trim_matches(OWS);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        if count == MAX_MEMBERS || !valid_key(key) || !valid_value(value) {
            return None;
        }
        count += 1;
        if !members.iter().any(|&(k, _)| k == key) {
            members.push((key, value));
        }
    }
    Some(members)
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`,
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
fn valid_key(key: &str) -> bool {
    let key = key.as_bytes();
    matches!(key.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && key.len() <= MAX_KEY_LEN
        && key
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@'))
}

/// `value = 0*255( chr ) nblk-chr`: printable ASCII except `,` and `=`, not ending in a space.
fn valid_value(value: &str) -> bool {
    let value = value.as_bytes();
    matches!(value.last(), Some(&b) if b != b' ')
        && value.len() <= MAX_VALUE_LEN
        && value
            .iter()
            .all(|&b| matches!(b, b' '..=b'~') && b != b',' && b != b'=')
}

/// The entries of a [`TraceState`] a strict receiver accepts: valid key and value, first
/// occurrence of a key, at most 32.
fn sendable_entries(trace_state: &TraceState) -> Vec<(&str, &str)> {
    let mut entries: Vec<(&str, &str)> = Vec::new();
    for (key, value) in trace_state {
        if entries.len() == MAX_MEMBERS {
            break;
        }
        if valid_key(key) && valid_value(value) && !entries.iter().any(|&(k, _)| k == key) {
            entries.push((key, value));
        }
    }
    entries
}

fn entry_len((key, value): &(&str, &str)) -> usize {
    key.len() + 1 + value.len()
}

fn header_len(entries: &[(&str, &str)]) -> usize {
    entries.iter().map(entry_len).sum::<usize>() + entries.len().saturating_sub(1)
}

/// Drops whole entries until the header is at most 512 characters: the rightmost entry longer
/// than 128 characters while there is one, then the rightmost.
fn truncate(entries: &mut Vec<(&str, &str)>) {
    while header_len(entries) > MAX_INJECTED_TRACESTATE_LEN {
        let index = entries
            .iter()
            .rposition(|entry| entry_len(entry) > LARGE_ENTRY_LEN)
            .unwrap_or(entries.len() - 1);
        entries.remove(index);
    }
}

fn header(entries: &[(&str, &str)]) -> String {
    let mut header = String::with_capacity(header_len(entries));
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        header.push_str(key);
        header.push('=');
        header.push_str(value);
    }
    header
}

#[cfg(test)]
#[path = "trace_context_tests.rs"]
mod tests;
