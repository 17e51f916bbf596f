//! Trace context and baggage across process boundaries, by the W3C specifications, strictly.
//!
//! [`TraceContextPropagator`] reads and writes `traceparent` and `tracestate` (W3C Trace Context
//! Level 2) and [`BaggagePropagator`] reads and writes `baggage` (W3C Baggage). Both implement
//! [`TextMapPropagator`](opentelemetry::propagation::TextMapPropagator), so they go wherever
//! `opentelemetry_sdk`'s propagators of the same names go, and differ from them only where those
//! accept what the specifications reject, drop what they require to keep, or read one header where
//! several were sent. Each type's documentation lists the rules and the differences.
//!
//! [`extract`], [`inject`] and [`inject_current`] carry the context in one call through HTTP
//! headers (`http::HeaderMap`) and message payloads (`HashMap<String, String>`, a `serde_json`
//! object), with the global propagator, the one the init installs from `OTEL_PROPAGATORS`:
//!
//! ```
//! use std::collections::HashMap;
//! use tracing_opentelemetry::OpenTelemetrySpanExt;
//!
//! // Producer: the message carries the current trace.
//! let mut message: HashMap<String, String> = HashMap::new();
//! tracing_correlate::propagation::inject_current(&mut message);
//!
//! // Consumer: the span that handles it continues that trace.
//! let span = tracing::info_span!("consume");
//! let _ = span.set_parent(tracing_correlate::propagation::extract(&message));
//! ```
//!
//! Neither propagator ever panics or fails on what a peer sends: an invalid `traceparent` restarts the trace
//! (the context is returned unchanged), an invalid `tracestate` is discarded whole while its
//! `traceparent` is used, and an invalid baggage member is skipped. Nor does a peer decide how
//! much is allocated: the limits (`tracestate` at most 32 members and 512 characters sent, and
//! its length checked before any member is kept; `baggage` at most 64 members and 8,192 bytes) are
//! applied while the header is read, so reading even a megabyte-long header allocates a few
//! kilobytes at most.

mod baggage;
mod carriers;
mod trace_context;

pub use baggage::BaggagePropagator;
pub use carriers::{extract, inject, inject_current, Carrier, CarrierMut};
pub use trace_context::TraceContextPropagator;
