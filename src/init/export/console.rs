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
//! The keys of a span line, and what each means, are in the one table that covers both kinds of
//! line, on [`JsonLayer`](crate::JsonLayer#the-line): a key a span line shares with an event line
//! means the same in both (`span_name`, `target`, `span_id`, ...), `kind` is `"span"` on span
//! lines only, and `level` is always `INFO`, the span's failure being its `status`, so that each
//! failure is counted once, by its ERROR event line. A span line has the bounds of an event line
//! with the default settings ([`DEFAULT_MAX_VALUE_LEN`](crate::DEFAULT_MAX_VALUE_LEN),
//! [`DEFAULT_MAX_KEY_LEN`](crate::DEFAULT_MAX_KEY_LEN),
//! [`DEFAULT_MAX_FIELDS`](crate::DEFAULT_MAX_FIELDS)): every string (the service, the target,
//! the name, the status description, event names, attribute values) is cut at the value length
//! and every attribute key at the key length, with the marker `…[truncated N bytes]`; an array
//! attribute is one value (its strings share the value length, at most the fields bound of
//! items, then a last item `…[truncated N items]`); a span writes at most the fields bound of
//! attributes, of events (their attributes together at most that many) and of links, counting the
//! others with the SDK's own in `dropped_attributes_count`, `dropped_events_count` and
//! `dropped_links_count` (per event, `dropped_attributes_count`).
//!
//! `cargo run --example quickstart` writes, for the span of a call that succeeded:
//!
//! ```json
//! {"timestamp":"2026-12-02T09:41:13.858561Z","level":"INFO","service":"checkout","target":"quickstart",
//!  "kind":"span","trace_id":"783ad77a5ad7cb04ac9e8b8dd7abc546","span_id":"7d5fa1d4eb6fd401",
//!  "trace_flags":"01","span_name":"reserve","parent_span_id":"8bb1b4c65e084341","span_kind":"internal",
//!  "start":"2026-12-02T09:41:13.858526Z","end":"2026-12-02T09:41:13.858561Z","duration_ms":0.035,
//!  "status":"unset","attributes":{"code.file.path":"examples/quickstart.rs",
//!  "code.module.name":"quickstart","code.line.number":29,"thread.id":1,"thread.name":"main",
//!  "target":"quickstart","sku":"sku-1","quantity":1}}
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

use crate::line::escape::{limited_display_into, limited_str_into};
use crate::line::limits::Limits;
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
    /// The bounds of a line: those of an event line with the default settings.
    limits: Limits,
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
            limits: Limits::DEFAULT,
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
            write_span(&mut line, span, &self.service, &self.limits);
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

/// Appends the whole line of `span`, newline included, within `limits`.
fn write_span(line: &mut String, span: &SpanData, service: &str, limits: &Limits) {
    let start = utc(span.start_time);
    let end = utc(span.end_time);
    let sc = &span.span_context;
    let ids = SpanIds::new(sc.trace_id(), sc.span_id(), sc.trace_flags());
    let text = |line: &mut String, s: &str| limited_str_into(line, s, limits.value_len);

    line.push_str("{\"timestamp\":\"");
    push_rfc3339(line, end);
    // Never ERROR: the span's failure is its `status`, and the ERROR event that failed it (if
    // any) has its own line, so counting ERROR lines counts each failure once.
    line.push_str("\",\"level\":\"INFO\",\"service\":");
    text(line, service);
    line.push_str(",\"target\":");
    text(line, target(span));
    line.push_str(",\"kind\":\"span\"");
    push_ids(line, &ids);
    line.push_str(",\"span_name\":");
    text(line, &span.name);
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
            text(line, description);
        }
    }
    line.push_str(",\"attributes\":");
    let attributes_dropped =
        push_attributes(line, &span.attributes, limits, &mut { limits.fields });

    let events = &span.events.events;
    let events_kept = events.len().min(limits.fields);
    // The events' attributes share one bound, so that a line holds at most the fields bound of
    // attributes for its events together, as an event line does for its fields.
    let mut event_attributes = limits.fields;
    if events_kept > 0 {
        line.push_str(",\"events\":[");
        for (i, event) in events[..events_kept].iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str("{\"name\":");
            text(line, &event.name);
            line.push_str(",\"timestamp\":\"");
            push_rfc3339(line, utc(event.timestamp));
            line.push_str("\",\"attributes\":");
            let dropped = push_attributes(line, &event.attributes, limits, &mut event_attributes)
                + event.dropped_attributes_count as usize;
            push_count(line, "dropped_attributes_count", dropped);
            line.push('}');
        }
        line.push(']');
    }
    let links = &span.links.links;
    let links_kept = links.len().min(limits.fields);
    if links_kept > 0 {
        line.push_str(",\"links\":[");
        for (i, link) in links[..links_kept].iter().enumerate() {
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
    // The SDK's counts, and what this line left out on top.
    push_count(
        line,
        "dropped_attributes_count",
        span.dropped_attributes_count as usize + attributes_dropped,
    );
    push_count(
        line,
        "dropped_events_count",
        span.events.dropped_count as usize + (events.len() - events_kept),
    );
    push_count(
        line,
        "dropped_links_count",
        span.links.dropped_count as usize + (links.len() - links_kept),
    );
    line.push_str("}\n");
}

/// The target of the line: the target of the span's `tracing` callsite, which
/// `tracing-opentelemetry` records as the span's first `target` attribute, so that it means what
/// an event line's `target` means; else (a span made through the OpenTelemetry API) the name of
/// its tracer's instrumentation scope.
fn target(span: &SpanData) -> &str {
    span.attributes
        .iter()
        .find_map(|kv| match (&kv.value, kv.key.as_str()) {
            (Value::String(target), "target") => Some(target.as_str()),
            _ => None,
        })
        .unwrap_or_else(|| span.instrumentation_scope.name())
}

/// Appends `,"key":count` when `count` is not zero.
fn push_count(buf: &mut String, key: &str, count: usize) {
    if count > 0 {
        buf.push_str(",\"");
        buf.push_str(key);
        buf.push_str("\":");
        push_int(buf, count as u64);
    }
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

/// Appends `attributes` as a JSON object, within `limits`; returns how many attributes it left
/// out.
///
/// The SDK keeps every `set_attribute` call, so a key may repeat: the last value wins, as in the
/// backends. Keys are cut at the key length; of keys that are one once cut, the first written
/// wins and the others are left out. So the object never holds a key twice, and holds at most
/// `budget` of them, which it lowers by the number written (a span's own attributes have the
/// fields bound; its events share one).
fn push_attributes(
    buf: &mut String,
    attributes: &[KeyValue],
    limits: &Limits,
    budget: &mut usize,
) -> usize {
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
    let mut written: Vec<&str> = Vec::new();
    let mut dropped = 0;
    for (i, kv) in attributes.iter().enumerate() {
        if !is_last(i, kv) {
            continue;
        }
        let key = kv.key.as_str();
        if written.len() >= *budget || written.iter().any(|w| limits.same_key(w, key)) {
            dropped += 1;
            continue;
        }
        if !written.is_empty() {
            buf.push(',');
        }
        written.push(key);
        limited_str_into(buf, key, limits.key_len);
        buf.push(':');
        push_value(buf, &kv.value, limits);
    }
    buf.push('}');
    *budget -= written.len();
    dropped
}

fn push_value(buf: &mut String, value: &Value, limits: &Limits) {
    match value {
        Value::Bool(b) => push_bool(buf, *b),
        Value::I64(n) => push_int(buf, *n),
        Value::F64(x) => push_f64(buf, *x),
        Value::String(s) => limited_str_into(buf, s.as_str(), limits.value_len),
        Value::Array(array) => push_array(buf, array, limits),
        // A kind of value newer than this crate: its `Display` form, as a string.
        other => limited_display_into(buf, other, limits.value_len),
    }
}

fn push_array(buf: &mut String, array: &Array, limits: &Limits) {
    match array {
        Array::Bool(items) => push_elements(buf, items, limits, |buf, b, _| push_bool(buf, *b)),
        Array::I64(items) => push_elements(buf, items, limits, |buf, n, _| push_int(buf, *n)),
        Array::F64(items) => push_elements(buf, items, limits, |buf, x, _| push_f64(buf, *x)),
        Array::String(items) => push_elements(buf, items, limits, |buf, s, left| {
            // The items share the value's length: each takes what it writes from `left`.
            let s = s.as_str();
            limited_str_into(buf, s, *left);
            *left = left.saturating_sub(s.len());
        }),
        other => limited_display_into(buf, other, limits.value_len),
    }
}

/// Appends `items` as a JSON array: at most the fields bound of them, and no more once `push`
/// has used up the value length (`left`, which only string items use); a last item
/// `…[truncated N items]` counts the others.
fn push_elements<T>(
    buf: &mut String,
    items: &[T],
    limits: &Limits,
    mut push: impl FnMut(&mut String, &T, &mut usize),
) {
    let mut left = limits.value_len;
    buf.push('[');
    let mut written = 0;
    for item in items {
        if written == limits.fields || left == 0 {
            break;
        }
        if written > 0 {
            buf.push(',');
        }
        push(buf, item, &mut left);
        written += 1;
    }
    if written < items.len() {
        if written > 0 {
            buf.push(',');
        }
        buf.push_str("\"…[truncated ");
        push_int(buf, (items.len() - written) as u64);
        buf.push_str(" items]\"");
    }
    buf.push(']');
}

fn push_bool(buf: &mut String, value: bool) {
    buf.push_str(if value { "true" } else { "false" });
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
