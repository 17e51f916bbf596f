//! What the propagator targets share: the crate's carrier that holds a header as many times as it
//! was sent, and the invariants of a `traceparent`/`tracestate` round trip.

#![allow(dead_code)] // Each target uses part of this module.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use tracing_correlate::propagation::TraceContextPropagator;

pub use tracing_correlate::fuzzing::Headers;

/// The `tracestate` headers' length joined with `,`: when at most 512, nothing can have been cut
/// on inject (the injected header drops whitespace and empty members, so it is never longer).
pub fn joined_len(values: &[&str]) -> usize {
    values.iter().map(|v| v.len()).sum::<usize>() + values.len().saturating_sub(1)
}

/// Extracts from `extractor`, injects, extracts what was injected and injects again, asserting
/// the invariants of the crate's proptest (`src/propagation/trace_context.rs`). Returns what the
/// first injection wrote: empty when no valid trace context was extracted.
///
/// `tracestate_len` is [`joined_len`] of the `tracestate` headers offered.
pub fn trace_context_round_trip(
    extractor: &dyn Extractor,
    tracestate_len: usize,
) -> HashMap<String, String> {
    let propagator = TraceContextPropagator::new();
    let first = propagator.extract_with_context(&Context::new(), extractor);
    let mut injected = HashMap::new();
    propagator.inject_context(&first, &mut injected);
    if !first.has_active_span() {
        assert!(injected.is_empty(), "injected without a span: {injected:?}");
        return injected;
    }

    let a = first.span().span_context().clone();
    assert!(a.is_valid() && a.is_remote(), "{a:?}");
    assert!(a.trace_flags().to_u8() <= 0x03, "{a:?}");
    let traceparent = &injected["traceparent"];
    assert_eq!(traceparent.len(), 55, "{traceparent:?}");
    assert!(traceparent.starts_with("00-"), "{traceparent:?}");
    assert_eq!(
        *traceparent,
        format!(
            "00-{}-{}-{:02x}",
            a.trace_id(),
            a.span_id(),
            a.trace_flags().to_u8()
        )
    );
    if let Some(tracestate) = injected.get("tracestate") {
        assert!(
            !tracestate.is_empty() && tracestate.len() <= 512,
            "{} chars: {tracestate:?}",
            tracestate.len()
        );
    }
    assert!(injected.len() <= 2, "{injected:?}");

    let second = propagator.extract_with_context(&Context::new(), &injected);
    assert!(second.has_active_span(), "{injected:?} not re-extracted");
    let mut reinjected = HashMap::new();
    propagator.inject_context(&second, &mut reinjected);
    assert_eq!(reinjected, injected, "re-injection differs");

    let b = second.span().span_context().clone();
    assert_eq!(
        (a.trace_id(), a.span_id(), a.trace_flags(), a.is_remote()),
        (b.trace_id(), b.span_id(), b.trace_flags(), b.is_remote())
    );
    if tracestate_len <= 512 {
        // Nothing cut: the same span context, trace state included.
        assert_eq!(a, b, "{injected:?}");
    }
    injected
}
