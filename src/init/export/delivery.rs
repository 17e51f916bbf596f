//! What was delivered: the counters the exporters and the span processor keep, read by the
//! guard's shutdown line; and the processor's last changes to a span before export (secret
//! values redacted, long values cut).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry::{Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::init::export::headers::TransportCause;
use crate::redact::Redaction;

/// What was handed to the exporters and what they delivered.
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// Sampled spans that ended (and so entered the export queue).
    pub(crate) spans_ended: AtomicU64,
    pub(crate) spans_exported: AtomicU64,
    pub(crate) spans_failed: AtomicU64,
    /// Log records handed to the log processor (and so to its queue, which may drop them).
    pub(crate) logs_emitted: AtomicU64,
    pub(crate) logs_exported: AtomicU64,
    pub(crate) logs_failed: AtomicU64,
}

impl Delivery {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts `n` items of an export whose outcome is `result` as exported or as failed.
    fn settle(result: &OTelSdkResult, exported: &AtomicU64, failed: &AtomicU64, n: usize) {
        Delivery::add(if result.is_ok() { exported } else { failed }, n);
    }
}

/// Counts what an exporter (OTLP or console) delivered and what it failed to, and names the
/// destination in the error of a failed export (the SDK's processors write that error in their
/// export error line; the OTLP exporter's own says only "network error" or a status).
#[derive(Debug)]
pub(crate) struct Counting<E> {
    inner: E,
    delivery: Arc<Delivery>,
    /// `otlp <protocol> to <endpoint>`, without credentials; `None` for the console.
    destination: Option<String>,
    /// The HTTP client's last failure, with its causes (`headers::TransportCause`).
    cause: Option<TransportCause>,
}

impl<E> Counting<E> {
    pub(crate) fn new(inner: E, delivery: Arc<Delivery>) -> Self {
        Counting {
            inner,
            delivery,
            destination: None,
            cause: None,
        }
    }

    /// Names the HTTP client's last failure (taken from `cause`) in the error of a failed
    /// export, after the exporter's own text.
    pub(crate) fn with_cause(mut self, cause: TransportCause) -> Self {
        self.cause = Some(cause);
        self
    }

    /// Names `destination` in the errors of failed exports.
    pub(crate) fn with_destination(mut self, destination: String) -> Self {
        self.destination = Some(destination);
        self
    }

    /// `result`, with the destination named in an error (its text's credentials hidden).
    /// `AlreadyShutdown` is kept as it is: it says nothing about the destination.
    fn named(&self, result: OTelSdkResult) -> OTelSdkResult {
        match (result, &self.destination) {
            (Err(e @ OTelSdkError::AlreadyShutdown), _) | (Err(e), None) => Err(e),
            (Err(e), Some(destination)) => {
                let mut why = match e {
                    OTelSdkError::InternalFailure(why) => why,
                    other => other.to_string(),
                };
                let cause = self
                    .cause
                    .as_ref()
                    .and_then(|c| c.lock().ok().and_then(|mut c| c.take()));
                if let Some(cause) = cause {
                    why = format!("{why}: {cause}");
                }
                Err(OTelSdkError::InternalFailure(format!(
                    "export {destination} failed: {}",
                    crate::init::credentials::hide_in_text(&why)
                )))
            }
            (ok, _) => ok,
        }
    }
}

impl<E: SpanExporter> SpanExporter for Counting<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            let d = &self.delivery;
            Delivery::settle(&result, &d.spans_exported, &d.spans_failed, n);
            self.named(result)
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for Counting<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.iter().count();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            let d = &self.delivery;
            Delivery::settle(&result, &d.logs_exported, &d.logs_failed, n);
            self.named(result)
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps the span processor: counts the sampled spans that end, redacts the values of secret
/// attributes (of spans and of their events) before anything is exported, and applies the
/// attribute value length limit (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`), which
/// `opentelemetry_sdk` 0.33 does not implement.
///
/// The redaction here is the last line: `OtelLayer` already hands `tracing-opentelemetry` the
/// marker in place of secret fields, but attributes set on the OpenTelemetry span directly
/// (`OpenTelemetrySpanExt::set_attribute`, a library's own) reach the processor unchecked.
#[derive(Debug)]
pub(crate) struct Counted<P> {
    inner: P,
    delivery: Arc<Delivery>,
    value_length_limit: Option<usize>,
    redaction: Redaction,
}

impl<P> Counted<P> {
    pub(crate) fn new(
        inner: P,
        delivery: Arc<Delivery>,
        value_length_limit: Option<usize>,
        redaction: Redaction,
    ) -> Self {
        Counted {
            inner,
            delivery,
            value_length_limit,
            redaction,
        }
    }
}

/// Replaces the values of secret attributes by the marker.
fn redact(attributes: &mut [KeyValue], redaction: &Redaction) {
    for kv in attributes {
        if redaction.is_secret(kv.key.as_str()) {
            kv.value = Value::from(crate::redact::REDACTED);
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for Counted<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if span.span_context.is_sampled() {
            Delivery::add(&self.delivery.spans_ended, 1);
        }
        redact(&mut span.attributes, &self.redaction);
        for event in span.events.events.iter_mut() {
            redact(&mut event.attributes, &self.redaction);
        }
        if let Some(limit) = self.value_length_limit {
            truncate_values(&mut span.attributes, limit);
            for event in span.events.events.iter_mut() {
                truncate_values(&mut event.attributes, limit);
            }
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Cuts string values (and strings in arrays) to at most `limit` characters, as the
/// specification's attribute limits say.
fn truncate_values(attributes: &mut [KeyValue], limit: usize) {
    fn cut(s: &str, limit: usize) -> Option<String> {
        let (end, _) = s.char_indices().nth(limit)?;
        Some(s[..end].to_owned())
    }
    for kv in attributes {
        match &kv.value {
            Value::String(s) => {
                if let Some(short) = cut(s.as_str(), limit) {
                    kv.value = Value::String(short.into());
                }
            }
            Value::Array(opentelemetry::Array::String(values))
                if values
                    .iter()
                    .any(|v| v.as_str().chars().nth(limit).is_some()) =>
            {
                let cut_values: Vec<StringValue> = values
                    .iter()
                    .map(|v| cut(v.as_str(), limit).map_or_else(|| v.clone(), Into::into))
                    .collect();
                kv.value = Value::Array(cut_values.into());
            }
            _ => {}
        }
    }
}

/// Wraps the log processor: counts the records emitted, so that a record never exported (dropped
/// at a full queue, still queued or in flight when the guard stopped waiting) counts as lost.
#[derive(Debug)]
pub(crate) struct CountedLogs<P> {
    inner: P,
    delivery: Arc<Delivery>,
}

impl<P> CountedLogs<P> {
    pub(crate) fn new(inner: P, delivery: Arc<Delivery>) -> Self {
        CountedLogs { inner, delivery }
    }
}

impl<P: LogProcessor> LogProcessor for CountedLogs<P> {
    fn emit(&self, data: &mut SdkLogRecord, instrumentation: &InstrumentationScope) {
        Delivery::add(&self.delivery.logs_emitted, 1);
        self.inner.emit(data, instrumentation);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(
        &self,
        level: opentelemetry::logs::Severity,
        target: &str,
        name: Option<&str>,
    ) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let mut attrs = vec![
            KeyValue::new("s", "héllo wörld"),
            KeyValue::new("short", "ok"),
            KeyValue::new("n", 12345_i64),
            KeyValue::new(
                "a",
                Value::Array(vec![StringValue::from("abcdef"), StringValue::from("x")].into()),
            ),
        ];
        truncate_values(&mut attrs, 4);
        assert_eq!(attrs[0].value.as_str(), "héll");
        assert_eq!(attrs[1].value.as_str(), "ok");
        assert_eq!(attrs[2].value, Value::I64(12345));
        assert_eq!(
            attrs[3].value,
            Value::Array(vec![StringValue::from("abcd"), StringValue::from("x")].into())
        );
    }
}
