//! Context across a boundary in one call: HTTP headers and message payloads.
//!
//! Every helper goes through the *global* propagator, the one the init installs from
//! `OTEL_PROPAGATORS` (W3C `traceparent`/`tracestate` and `baggage` by default), so a service
//! changes its propagation format in its environment, not in its code.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Something trace context can be read from: `http::HeaderMap`, `HashMap<String, String>`,
/// `serde_json::Map<String, serde_json::Value>`.
pub trait Carrier: sealed::Sealed {
    #[doc(hidden)]
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R;
}

/// Something trace context can be written into; the same types as [`Carrier`].
pub trait CarrierMut: sealed::Sealed {
    #[doc(hidden)]
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R;
}

/// Reads the trace context (and baggage) a request or message carries.
///
/// The result is the parent to give the span that handles it, with
/// [`OpenTelemetrySpanExt::set_parent`] before the span starts. A missing or invalid context gives
/// an empty [`Context`]: the trace starts here.
///
/// A value that cannot be read as text (a header value that is not visible ASCII, a JSON member
/// that is not a string) is never skipped: it counts as a value, and an invalid one. So a second
/// `traceparent` restarts the trace whatever its bytes, a `tracestate` header that is not ASCII
/// discards the joined `tracestate`, and such a `baggage` header gives no member (the other
/// `baggage` headers are still read).
///
/// ```
/// use tracing_opentelemetry::OpenTelemetrySpanExt;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// let span = tracing::info_span!("handle_request");
/// let _ = span.set_parent(tracing_correlate::propagation::extract(&headers));
/// ```
pub fn extract<C: Carrier + ?Sized>(carrier: &C) -> Context {
    carrier.with_extractor(|extractor| {
        opentelemetry::global::get_text_map_propagator(|p| p.extract(extractor))
    })
}

/// Writes the trace context of `cx` (and its baggage) into an outgoing request or message.
pub fn inject<C: CarrierMut + ?Sized>(cx: &Context, carrier: &mut C) {
    carrier.with_injector(|injector| {
        opentelemetry::global::get_text_map_propagator(|p| p.inject_context(cx, injector))
    });
}

/// Writes the trace context of the current `tracing` span into an outgoing request or message,
/// so the receiver continues this trace. Outside any span it writes nothing.
///
/// ```
/// let span = tracing::info_span!("publish");
/// let _entered = span.enter();
/// let mut message = std::collections::HashMap::new();
/// tracing_correlate::propagation::inject_current(&mut message);
/// ```
pub fn inject_current<C: CarrierMut + ?Sized>(carrier: &mut C) {
    inject(&tracing::Span::current().context(), carrier);
}

/// What a carrier gives for a value that cannot be read as visible ASCII text (a header value
/// with a byte outside `0x20..=0x7e` and tab, a JSON member that is not a string): one value that
/// no propagation grammar accepts. Skipping such a value instead would let it change what the
/// others mean: a second `traceparent` that is not ASCII must still make two (and restart the
/// trace), a `tracestate` header that is not ASCII must still make the joined list invalid.
/// Returning a constant keeps the extractor borrowing only from the carrier, so a peer's bytes
/// never decide what is allocated.
const UNREADABLE: &str = "\u{fffd}";

/// Reads every value of a header: `traceparent` sent twice must be seen twice to be rejected,
/// and several `tracestate` / `baggage` headers are joined. A value that is not visible ASCII is
/// read as [`UNREADABLE`]: it is counted, and it is invalid.
struct Headers<'a>(&'a http::HeaderMap);

fn header_text(value: &http::HeaderValue) -> &str {
    value.to_str().unwrap_or(UNREADABLE)
}

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(header_text)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self.0.get_all(key).iter().map(header_text).collect();
        (!values.is_empty()).then_some(values)
    }
}

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

impl Carrier for http::HeaderMap {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&Headers(self))
    }
}

impl CarrierMut for http::HeaderMap {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut HeadersMut(self))
    }
}

impl<S: std::hash::BuildHasher> Carrier for HashMap<String, String, S> {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(self)
    }
}

impl<S: std::hash::BuildHasher> CarrierMut for HashMap<String, String, S> {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(self)
    }
}

/// A JSON object as a carrier (a message's `headers` or `metadata` object): a member is read as
/// its string, and a member that is not a string as [`UNREADABLE`], present and invalid.
struct Json<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Extractor for Json<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(|value| value.as_str().unwrap_or(UNREADABLE))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct JsonMut<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl Injector for JsonMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0
            .insert(key.to_owned(), serde_json::Value::String(value));
    }
}

impl Carrier for serde_json::Map<String, serde_json::Value> {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&Json(self))
    }
}

impl CarrierMut for serde_json::Map<String, serde_json::Value> {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut JsonMut(self))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for http::HeaderMap {}
    impl<S> Sealed for std::collections::HashMap<String, String, S> {}
    impl Sealed for serde_json::Map<String, serde_json::Value> {}
}
