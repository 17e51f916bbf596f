//! The ids a line carries: read once per span from the OpenTelemetry span that
//! `tracing-opentelemetry` builds for it, then cached in the span.
//!
//! `tracing-opentelemetry` keeps its per-span state private and starts spans lazily, so the only
//! exact source of a span's ids is [`tracing_opentelemetry::get_otel_context`]. It starts the span
//! when it has not started yet (which is what makes a span created but never entered, or one whose
//! remote parent was set with `set_parent`, carry its real ids), and it locks that span's
//! extensions: callers must not hold them.

use opentelemetry::trace::{SpanId, TraceContextExt, TraceFlags, TraceId};
use tracing::dispatcher::WeakDispatch;
use tracing_core::span;

/// A span's trace id, span id and flags, with their lowercase hex forms precomputed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SpanIds {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) flags: TraceFlags,
    /// 32 hex chars of the trace id, 16 of the span id, 2 of the flags.
    hex: [u8; 50],
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_into(out: &mut [u8], bytes: &[u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
}

impl SpanIds {
    pub(crate) fn new(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Self {
        let mut hex = [0u8; 50];
        hex_into(&mut hex[..32], &trace_id.to_bytes());
        hex_into(&mut hex[32..48], &span_id.to_bytes());
        hex_into(&mut hex[48..], &[flags.to_u8()]);
        SpanIds {
            trace_id,
            span_id,
            flags,
            hex,
        }
    }

    fn hex(&self, range: std::ops::Range<usize>) -> &str {
        // Only ASCII hex digits are ever written into `hex`.
        std::str::from_utf8(&self.hex[range]).unwrap_or_default()
    }

    pub(crate) fn trace_hex(&self) -> &str {
        self.hex(0..32)
    }

    pub(crate) fn span_hex(&self) -> &str {
        self.hex(32..48)
    }

    pub(crate) fn flags_hex(&self) -> &str {
        self.hex(48..50)
    }

    pub(crate) fn is_sampled(&self) -> bool {
        self.flags.is_sampled()
    }
}

/// Reads the ids of the OpenTelemetry span behind a `tracing` span, starting it if needed.
///
/// Returns `None` when the subscriber has no `tracing-opentelemetry` layer, or when the span has no
/// valid OpenTelemetry context (a no-op tracer with no parent). Must be called without holding any
/// lock on the span's extensions.
pub(crate) fn lookup(id: &span::Id, dispatch: &WeakDispatch) -> Option<SpanIds> {
    lookup_with(id, dispatch, |_| ()).0
}

/// Like [`lookup`], and also gives `read` the span's whole OpenTelemetry context (its baggage):
/// the one lookup serves both. `read`'s result is `None` when the span has no context.
pub(crate) fn lookup_with<R>(
    id: &span::Id,
    dispatch: &WeakDispatch,
    read: impl FnOnce(&opentelemetry::Context) -> R,
) -> (Option<SpanIds>, Option<R>) {
    let Some(dispatch) = dispatch.upgrade() else {
        return (None, None);
    };
    let Some(cx) = tracing_opentelemetry::get_otel_context(id, &dispatch) else {
        return (None, None);
    };
    let span = cx.span();
    let sc = span.span_context();
    let ids = sc
        .is_valid()
        .then(|| SpanIds::new(sc.trace_id(), sc.span_id(), sc.trace_flags()));
    (ids, Some(read(&cx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms_are_lowercase_and_exact_length() {
        let ids = SpanIds::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
        );
        assert_eq!(ids.trace_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ids.span_hex(), "00f067aa0ba902b7");
        assert_eq!(ids.flags_hex(), "01");
        assert!(ids.is_sampled());
    }
}
