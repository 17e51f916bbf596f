//! The exception attributes of OTLP log records: the same as the span's `exception` event.
//!
//! The OpenTelemetry logs bridge (`opentelemetry-appender-tracing`) makes log records of events
//! by visiting their fields, so an error value gives it only `exception.message`; it knows no
//! type, cause or stack trace, and its record's attributes cannot be removed afterwards.
//! [`RedactEvents`](super::redact_events::RedactEvents) therefore reads the event's exception
//! itself, hands the bridge a copy of the event without the fields the exception was read from,
//! and leaves the exception's attributes here, in a thread-local, while the bridge runs;
//! [`ExceptionAttributes`], the logger provider's first processor, adds them to the record the
//! bridge emits. The bridge emits synchronously, on the thread of the event, so the record that
//! reaches the processor while the attributes are left is that event's.

use std::cell::Cell;

use opentelemetry::logs::{AnyValue, LogRecord as _, Severity};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};

use crate::exception::Exception;

/// An exception's attributes, as a log record takes them.
pub(crate) type Attributes = Vec<(Key, AnyValue)>;

thread_local! {
    /// The exception attributes of the event the bridge is handling on this thread.
    static PENDING: Cell<Option<Attributes>> = const { Cell::new(None) };
}

/// The attributes of `exception` (already redacted) for its log record: those of the span's
/// `exception` event (`exception_fields`), their values of the same kinds.
pub(crate) fn attributes(exception: &Exception) -> Attributes {
    crate::otel::exception_fields(exception)
        .into_iter()
        .map(|KeyValue { key, value, .. }| (key, any_value(value)))
        .collect()
}

/// A span attribute's value as a log record's: strings, numbers and booleans as they are, an
/// array as a list of the same values.
fn any_value(value: Value) -> AnyValue {
    fn list<T>(values: Vec<T>, each: impl Fn(T) -> AnyValue) -> AnyValue {
        AnyValue::ListAny(Box::new(values.into_iter().map(each).collect()))
    }
    match value {
        Value::Bool(v) => AnyValue::Boolean(v),
        Value::I64(v) => AnyValue::Int(v),
        Value::F64(v) => AnyValue::Double(v),
        Value::String(v) => AnyValue::String(v),
        Value::Array(Array::Bool(v)) => list(v, AnyValue::Boolean),
        Value::Array(Array::I64(v)) => list(v, AnyValue::Int),
        Value::Array(Array::F64(v)) => list(v, AnyValue::Double),
        Value::Array(Array::String(v)) => list(v, AnyValue::String),
        // Kinds added to the non-exhaustive enums later: their text, rather than nothing.
        other => AnyValue::String(other.to_string().into()),
    }
}

/// Runs `bridge` (the logs bridge handling one event) with `attributes` left for the record it
/// emits. What was left before is put back afterwards, so an event logged while another is
/// handled (by a value's `Debug`, say) takes its own attributes and leaves the outer event's;
/// attributes no record took (the bridge emitted nothing) are dropped.
pub(crate) fn handing(attributes: Option<Attributes>, bridge: impl FnOnce()) {
    let Ok(previous) = PENDING.try_with(|pending| pending.replace(attributes)) else {
        // The thread is being torn down: the record goes without them rather than not at all.
        return bridge();
    };
    bridge();
    let _ = PENDING.try_with(|pending| pending.set(previous));
}

/// The logger provider's first processor: adds the exception attributes the event being handled
/// on this thread left (see the module docs) to its log record, before the batch processor
/// takes it.
#[derive(Debug, Default)]
pub(crate) struct ExceptionAttributes;

impl LogProcessor for ExceptionAttributes {
    fn emit(&self, record: &mut SdkLogRecord, _: &InstrumentationScope) {
        let Some(attributes) = PENDING.try_with(Cell::take).ok().flatten() else {
            return;
        };
        for (key, value) in attributes {
            record.add_attribute(key, value);
        }
    }

    /// Enables nothing: whether a record is made is for the processors that export it to say
    /// (the logger asks whether any processor wants one).
    fn event_enabled(&self, _: Severity, _: &str, _: Option<&str>) -> bool {
        false
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::{Logger as _, LoggerProvider as _};
    use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};

    fn mark(name: &'static str) -> Option<Attributes> {
        Some(vec![(Key::from_static_str("mark"), AnyValue::from(name))])
    }

    #[test]
    fn each_record_takes_the_attributes_of_its_own_event() {
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_log_processor(ExceptionAttributes)
            .with_simple_exporter(exporter.clone())
            .build();
        let logger = provider.logger("test");
        let emit = |body: &'static str| {
            let mut record = logger.create_log_record();
            record.set_body(body.into());
            logger.emit(record);
        };
        handing(mark("outer"), || {
            // An event logged while another is handed to the bridge, before its record.
            handing(mark("inner"), || emit("inner"));
            emit("outer");
        });
        // The bridge emitted nothing for this event: what it left is not taken by the next.
        handing(mark("lost"), || {});
        emit("plain");
        let marks: Vec<(String, Vec<String>)> = exporter
            .get_emitted_logs()
            .unwrap()
            .iter()
            .map(|log| {
                let body = match log.record.body() {
                    Some(AnyValue::String(s)) => s.to_string(),
                    other => panic!("{other:?}"),
                };
                let marks = log
                    .record
                    .attributes_iter()
                    .map(|(_, v)| match v {
                        AnyValue::String(s) => s.to_string(),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                (body, marks)
            })
            .collect();
        let expected = |body: &str, marks: &[&str]| {
            (
                body.to_owned(),
                marks.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            marks,
            vec![
                expected("inner", &["inner"]),
                expected("outer", &["outer"]),
                expected("plain", &[]),
            ]
        );
    }
}
