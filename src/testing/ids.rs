//! Ids that are the same on every run, for snapshot tests: trace and span ids counted from 1 in
//! the order the spans start.

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::IdGenerator;

/// Trace ids `000…001`, `000…002`, … and span ids `000…001`, … of one capture.
#[derive(Debug, Default)]
pub(crate) struct Sequential {
    traces: AtomicU64,
    spans: AtomicU64,
}

impl IdGenerator for Sequential {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from(u128::from(self.traces.fetch_add(1, Ordering::Relaxed) + 1))
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.spans.fetch_add(1, Ordering::Relaxed) + 1)
    }
}
