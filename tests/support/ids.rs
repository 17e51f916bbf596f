//! The ids of an exported span and of a line, in the same form, for comparing them.

use serde_json::Value;
use tracing_correlate::opentelemetry_sdk::trace::SpanData;

/// The ids of an exported span, as the line carries them.
pub fn ids_of(span: &SpanData) -> (String, String) {
    (
        span.span_context.trace_id().to_string(),
        span.span_context.span_id().to_string(),
    )
}

/// The ids a line carries.
pub fn line_ids(line: &Value) -> (String, String) {
    (
        line["trace_id"].as_str().expect("trace_id").to_owned(),
        line["span_id"].as_str().expect("span_id").to_owned(),
    )
}
