//! `baggage`, parsed by the W3C Baggage grammar, within its limits.

use std::sync::LazyLock;

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::Context;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

const BAGGAGE: &str = "baggage";

static FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [BAGGAGE.to_owned()]);

/// HTTP optional whitespace.
const OWS: [char; 2] = [' ', '\t'];
/// Members propagated in full up to this count...
const MAX_MEMBERS: usize = 64;
/// ...and this many bytes of header (members and the commas between them).
const MAX_BYTES: usize = 8192;

/// What is percent-encoded in an injected value: every byte that is not a `baggage-octet`
/// (controls, space, `"`, `,`, `;`, `\`, and all non-ASCII), `%` itself, and `=`, which the
/// grammar allows but simpler parsers take for the key separator.
const VALUE_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%')
    .add(b'=');

/// Propagates [`Baggage`] in the W3C `baggage` header, strictly.
///
/// It does the job of `opentelemetry_sdk`'s `BaggagePropagator` and is a drop-in replacement for
/// it that follows the [W3C Baggage](https://www.w3.org/TR/baggage/) grammar and limits: every
/// `baggage` header is read, a malformed member is skipped without losing the others, and what is
/// injected is never cut inside a member.
///
/// **Extract.** All `baggage` headers, joined with `,` in order. Each member is
/// `key OWS "=" OWS value *( OWS ";" OWS property )`: the key an HTTP token (kept as sent), the
/// value `baggage-octet`s, percent-decoded (bytes that are not UTF-8 become U+FFFD), each
/// property `key OWS "=" OWS value` or `key`, kept as sent (percent-encoded) in the member's
/// [`BaggageMetadata`](opentelemetry::baggage::BaggageMetadata), `;`-separated. Whitespace around
/// members, keys, values and properties is trimmed. A member that does not follow the grammar is
/// skipped, as the specification allows ("it MAY remove that entry"), and the others are kept;
/// empty members are ignored. Members are kept in order up to 64 members and 8192 bytes of
/// header; past that, whole members are dropped. A key sent twice keeps its last value. The
/// baggage replaces any in the given context; when no member is valid, the context is returned
/// unchanged.
///
/// **Inject.** The context's [`Baggage`], when not empty, by key order: values percent-encoded,
/// properties that follow the grammar kept. All members when there are at most 64 and the header
/// is at most 8192 bytes; past that, whole members are left out (never part of one) until it is
/// within both limits.
///
/// Where it differs from `opentelemetry_sdk` 0.33's `BaggagePropagator`, which reads only the first
/// `baggage` header, drops the whole header past 8192 bytes, takes the value up to a second `=`,
/// accepts keys and values with characters the grammar forbids, drops a member whose value is not
/// UTF-8 (instead of replacing the bytes), percent-decodes keys and properties, and injects
/// headers over 8192 bytes when percent-encoding makes them grow.
///
/// ```
/// use std::collections::HashMap;
///
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use tracing_correlate::propagation::BaggagePropagator;
///
/// let propagator = BaggagePropagator::new();
/// let mut incoming = HashMap::new();
/// incoming.insert("baggage".to_string(), "userId=alice, serverNode = DF%2028".to_string());
///
/// let cx = propagator.extract(&incoming);
/// assert_eq!(cx.baggage().get("serverNode").unwrap().as_str(), "DF 28");
///
/// let mut outgoing = HashMap::new();
/// propagator.inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["baggage"], "serverNode=DF%2028,userId=alice");
/// ```
#[derive(Clone, Debug, Default)]
pub struct BaggagePropagator {
    _private: (),
}

impl BaggagePropagator {
    /// Creates the propagator.
    pub const fn new() -> Self {
        BaggagePropagator { _private: () }
    }
}

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut members: Vec<_> = baggage.iter().collect();
        members.sort_unstable_by(|(a, _), (b, _)| a.as_str().cmp(b.as_str()));

        let mut header = String::new();
        let mut count = 0;
        let mut member = String::new();
        for (key, (value, metadata)) in members {
            if count == MAX_MEMBERS {
                break;
            }
            if !is_token(key.as_str()) {
                continue;
            }
            member.clear();
            member.push_str(key.as_str());
            member.push('=');
            member.extend(utf8_percent_encode(value.as_str(), VALUE_ENCODED));
            for (name, value) in metadata.as_str().split(';').filter_map(property) {
                member.push(';');
                member.push_str(name);
                if let Some(value) = value {
                    member.push('=');
                    member.push_str(value);
                }
            }
            let separator = usize::from(!header.is_empty());
            if header.len() + separator + member.len() > MAX_BYTES {
                continue; // a smaller member further on may still fit
            }
            if separator == 1 {
                header.push(',');
            }
            header.push_str(&member);
            count += 1;
        }
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(values) = extractor.get_all(BAGGAGE) else {
            return cx.clone();
        };
        let mut baggage = Baggage::new();
        let mut count = 0;
        let mut bytes = 0;
        for member in values.iter().flat_map(|value| value.split(',')) {
            if count == MAX_MEMBERS {
                break;
            }
            let member = member.trim_matches(OWS);
            if member.is_empty() || bytes + usize::from(count > 0) + member.len() > MAX_BYTES {
                continue;
            }
            let Some((key, value, metadata)) = parse_member(member) else {
                continue;
            };
            bytes += usize::from(count > 0) + member.len();
            count += 1;
            let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
            baggage.insert_with_metadata(key.to_owned(), value, metadata);
        }
        if baggage.is_empty() {
            cx.clone()
        } else {
            cx.with_baggage(baggage)
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

/// A member's key, raw value and properties (normalised: `k=v` or `k`, `;`-separated), or `None`
/// when it does not follow the grammar.
fn parse_member(member: &str) -> Option<(&str, &str, String)> {
    let mut parts = member.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let (key, value) = (key.trim_matches(OWS), value.trim_matches(OWS));
    if !is_token(key) || !value.bytes().all(is_baggage_octet) {
        return None;
    }
    let mut metadata = String::new();
    for part in parts {
        let (key, value) = property(part)?;
        if !metadata.is_empty() {
            metadata.push(';');
        }
        metadata.push_str(key);
        if let Some(value) = value {
            metadata.push('=');
            metadata.push_str(value);
        }
    }
    Some((key, value, metadata))
}

/// `property = key OWS "=" OWS value / key OWS`, with surrounding OWS trimmed.
fn property(property: &str) -> Option<(&str, Option<&str>)> {
    let property = property.trim_matches(OWS);
    let (key, value) = match property.split_once('=') {
        Some((key, value)) => (key.trim_matches(OWS), Some(value.trim_matches(OWS))),
        None => (property, None),
    };
    (is_token(key) && value.map_or(true, |v| v.bytes().all(is_baggage_octet)))
        .then_some((key, value))
}

/// An HTTP `token` (RFC 7230 section 3.2.6): one or more `tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`.
fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
#[path = "baggage_tests.rs"]
mod tests;
