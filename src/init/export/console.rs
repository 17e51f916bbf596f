//! Finished OpenTelemetry spans as JSON lines in the log stream, for services without a collector.
//!
//! [`ConsoleExporter`] is an `opentelemetry_sdk` span exporter that writes each finished span as
//! one JSON line to the same `MakeWriter` as the log lines, so a person or a tool can rebuild the
//! trace from the log alone: the span lines carry the ids the log lines are stamped with, plus the
//! parent id, the times and the status. Like the log lines, a span line is built whole in one
//! buffer, every key and string goes through [`crate::line::escape`], and it is handed to the
//! writer by [`crate::line::output`], as a log line is: a torn span line is finished before the next
//! line of either kind, and a writer that panics costs that line only.
//!
//! ```json
//! {"timestamp":"2026-11-21T10:23:45.124957Z","level":"INFO","service":"checkout","target":"checkout",
//!  "kind":"span","name":"create_order","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//!  "span_id":"00f067aa0ba902b7","trace_flags":"01","parent_span_id":"53995c3f42cd8ad8",
//!  "span_kind":"internal","start":"2026-11-21T10:23:45.123456Z","end":"2026-11-21T10:23:45.124957Z",
//!  "duration_ms":1.501,"status":"unset","attributes":{"order_id":42}}
//! ```

use crate::line::Stats;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, Key, KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::MakeWriter;

use crate::line::escape::{display_quoted_into, quoted_into};
use crate::line::output;
use crate::line::timestamp::push_rfc3339;
use crate::line::value::{push_f64, push_ids, push_int};
use crate::otel::ids::SpanIds;

/// The resource attribute that names the service (OpenTelemetry semantic conventions).
const SERVICE_NAME: &str = "service.name";

/// A line buffer that grew past this (a span with huge attributes) is not kept for the next export.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

/// Above this many attributes, repeated keys are found with a map rather than by scanning.
const SCAN_LIMIT: usize = 16;

/// Writes each finished span as one JSON line to a `tracing_subscriber` `MakeWriter`.
///
/// Failed writes are counted in the [`Stats`] it shares with the JSON layer (one writer, one count
/// of lines lost); an export fails only when none of its lines could be written.
pub(crate) struct ConsoleExporter<W> {
    make_writer: W,
    /// The `service` of every line: the name given to [`new`](Self::new), replaced by the
    /// resource's `service.name` in [`set_resource`](SpanExporter::set_resource).
    service: String,
    stats: Stats,
    /// The line buffer, kept from one export to the next. It is taken out of the mutex for the
    /// whole export, so no lock of ours is held while the writer runs.
    buf: Mutex<String>,
}

impl<W> ConsoleExporter<W>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    /// An exporter writing to `make_writer`, with `service` as the service name until the SDK
    /// gives it a resource with a `service.name`.
    pub(crate) fn new(make_writer: W, service: &str, stats: Stats) -> Self {
        ConsoleExporter {
            make_writer,
            service: service.to_owned(),
            stats,
            buf: Mutex::new(String::new()),
        }
    }

    fn export_batch(&self, batch: &[SpanData]) -> OTelSdkResult {
        // The lock is held only to move the buffer in or out, never while foreign code runs; a
        // poisoned one still holds a usable buffer.
        let mut line =
            std::mem::take(&mut *self.buf.lock().unwrap_or_else(PoisonError::into_inner));
        let mut failed = 0;
        let mut last_error = None;
        for span in batch {
            line.clear();
            write_span(&mut line, span, &self.service);
            // One writer per line, as for log lines: a locking writer is held for one line only.
            // The line is counted when not written whole; a panic of the writer stops there, so
            // it never reaches the thread that ended the span, nor poisons the SDK's lock.
            let written = output::write_line(
                &self.stats,
                || self.make_writer.make_writer(),
                line.as_bytes(),
            );
            if let Err(error) = written {
                failed += 1;
                last_error = Some(error);
            }
        }
        if line.capacity() <= MAX_KEPT_CAPACITY {
            line.clear();
            *self.buf.lock().unwrap_or_else(PoisonError::into_inner) = line;
        }
        match last_error {
            Some(error) if failed == batch.len() => Err(OTelSdkError::InternalFailure(format!(
                "console exporter: none of {failed} span lines could be written: {error}"
            ))),
            _ => Ok(()),
        }
    }

    fn flush(&self) -> OTelSdkResult {
        output::flush(&self.stats, || self.make_writer.make_writer()).map_err(|error| {
            OTelSdkError::InternalFailure(format!(
                "console exporter: flushing the writer failed: {error}"
            ))
        })
    }
}

impl<W> fmt::Debug for ConsoleExporter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("service", &self.service)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<W> SpanExporter for ConsoleExporter<W>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.export_batch(&batch)
    }

    /// Flushes the writer. A writer's `flush` cannot be interrupted, so `timeout` is not applied.
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.flush()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(name) = resource.get_ref(&Key::from_static_str(SERVICE_NAME)) {
            self.service = name.as_str().into_owned();
        }
    }
}

/// Appends the whole line of `span`, newline included.
fn write_span(line: &mut String, span: &SpanData, service: &str) {
    let start = utc(span.start_time);
    let end = utc(span.end_time);
    let sc = &span.span_context;
    let ids = SpanIds::new(sc.trace_id(), sc.span_id(), sc.trace_flags());

    line.push_str("{\"timestamp\":\"");
    push_rfc3339(line, end);
    line.push_str("\",\"level\":\"");
    line.push_str(match span.status {
        Status::Error { .. } => "ERROR",
        Status::Unset | Status::Ok => "INFO",
    });
    line.push_str("\",\"service\":");
    quoted_into(line, service);
    line.push_str(",\"target\":");
    quoted_into(line, span.instrumentation_scope.name());
    line.push_str(",\"kind\":\"span\",\"name\":");
    quoted_into(line, &span.name);
    push_ids(line, &ids);
    if span.parent_span_id != SpanId::INVALID {
        let parent = SpanIds::new(sc.trace_id(), span.parent_span_id, sc.trace_flags());
        line.push_str(",\"parent_span_id\":\"");
        line.push_str(parent.span_hex());
        line.push('"');
    }
    line.push_str(",\"span_kind\":\"");
    line.push_str(match span.span_kind {
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    });
    line.push_str("\",\"start\":\"");
    push_rfc3339(line, start);
    line.push_str("\",\"end\":\"");
    push_rfc3339(line, end);
    line.push_str("\",\"duration_ms\":");
    push_duration_ms(line, start, end);
    line.push_str(",\"status\":");
    match &span.status {
        Status::Unset => line.push_str("\"unset\""),
        Status::Ok => line.push_str("\"ok\""),
        Status::Error { description } => {
            line.push_str("\"error\",\"status_description\":");
            quoted_into(line, description);
        }
    }
    line.push_str(",\"attributes\":");
    push_attributes(line, &span.attributes);

    if !span.events.is_empty() {
        line.push_str(",\"events\":[");
        for (i, event) in span.events.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str("{\"name\":");
            quoted_into(line, &event.name);
            line.push_str(",\"timestamp\":\"");
            push_rfc3339(line, utc(event.timestamp));
            line.push_str("\",\"attributes\":");
            push_attributes(line, &event.attributes);
            line.push('}');
        }
        line.push(']');
    }
    if !span.links.is_empty() {
        line.push_str(",\"links\":[");
        for (i, link) in span.links.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let lc = &link.span_context;
            let ids = SpanIds::new(lc.trace_id(), lc.span_id(), lc.trace_flags());
            line.push_str("{\"trace_id\":\"");
            line.push_str(ids.trace_hex());
            line.push_str("\",\"span_id\":\"");
            line.push_str(ids.span_hex());
            line.push_str("\"}");
        }
        line.push(']');
    }
    if span.dropped_attributes_count > 0 {
        line.push_str(",\"dropped_attributes_count\":");
        push_int(line, span.dropped_attributes_count);
    }
    if span.events.dropped_count > 0 {
        line.push_str(",\"dropped_events_count\":");
        push_int(line, span.events.dropped_count);
    }
    line.push_str("}\n");
}

/// `time` in UTC, clamped to the range `chrono` holds (its own `From<SystemTime>` panics outside).
fn utc(time: SystemTime) -> DateTime<Utc> {
    let converted = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs())
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, after.subsec_nanos())),
        Err(before) => {
            let before = before.duration();
            let nanos = before.subsec_nanos();
            i64::try_from(before.as_secs())
                .ok()
                .and_then(|secs| match nanos {
                    0 => DateTime::from_timestamp(-secs, 0),
                    _ => DateTime::from_timestamp(-secs - 1, 1_000_000_000 - nanos),
                })
        }
    };
    converted.unwrap_or(if time < UNIX_EPOCH {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Appends `end - start` in milliseconds with three decimals (microseconds), `0.000` when `end`
/// is before `start`. Computed from the microseconds the line shows, so `duration_ms` is exactly
/// `end - start` as a reader of the line computes it.
fn push_duration_ms(buf: &mut String, start: DateTime<Utc>, end: DateTime<Utc>) {
    use std::fmt::Write as _;
    let micros = (i128::from(end.timestamp_micros()) - i128::from(start.timestamp_micros())).max(0);
    let _ = write!(buf, "{}.{:03}", micros / 1000, micros % 1000);
}

/// Appends `attributes` as a JSON object.
///
/// The SDK keeps every `set_attribute` call, so a key may repeat: the last value wins, as in the
/// backends, and the object never holds a key twice.
fn push_attributes(buf: &mut String, attributes: &[KeyValue]) {
    let last_index: Option<HashMap<&str, usize>> = (attributes.len() > SCAN_LIMIT).then(|| {
        attributes
            .iter()
            .enumerate()
            .map(|(i, kv)| (kv.key.as_str(), i))
            .collect()
    });
    let is_last = |i: usize, kv: &KeyValue| match &last_index {
        Some(last) => last.get(kv.key.as_str()) == Some(&i),
        None => !attributes[i + 1..].iter().any(|later| later.key == kv.key),
    };
    buf.push('{');
    let mut first = true;
    for (i, kv) in attributes.iter().enumerate() {
        if !is_last(i, kv) {
            continue;
        }
        if !first {
            buf.push(',');
        }
        first = false;
        quoted_into(buf, kv.key.as_str());
        buf.push(':');
        push_value(buf, &kv.value);
    }
    buf.push('}');
}

fn push_value(buf: &mut String, value: &Value) {
    match value {
        Value::Bool(b) => push_bool(buf, *b),
        Value::I64(n) => push_int(buf, *n),
        Value::F64(x) => push_f64(buf, *x),
        Value::String(s) => quoted_into(buf, s.as_str()),
        Value::Array(array) => push_array(buf, array),
        // A kind of value newer than this crate: its `Display` form, as a string.
        other => display_quoted_into(buf, other),
    }
}

fn push_array(buf: &mut String, array: &Array) {
    match array {
        Array::Bool(items) => push_elements(buf, items, |buf, b| push_bool(buf, *b)),
        Array::I64(items) => push_elements(buf, items, |buf, n| push_int(buf, *n)),
        Array::F64(items) => push_elements(buf, items, |buf, x| push_f64(buf, *x)),
        Array::String(items) => push_elements(buf, items, |buf, s| quoted_into(buf, s.as_str())),
        other => display_quoted_into(buf, other),
    }
}

fn push_elements<T>(buf: &mut String, items: &[T], mut push: impl FnMut(&mut String, &T)) {
    buf.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        push(buf, item);
    }
    buf.push(']');
}

fn push_bool(buf: &mut String, value: bool) {
    buf.push_str(if value { "true" } else { "false" });
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
