//! What the bridge derives from a span's errors: the state kept per span until it closes (its
//! status description and `error.type`), and the attributes of an `exception` span event.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};

use opentelemetry::{KeyValue, StringValue, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::Event;

use crate::exception::{more_causes, Exception};
use crate::redact::{Redaction, REDACTED};

/// What this layer keeps in each span to map its errors once.
#[derive(Debug, Default)]
pub(super) struct ErrorState {
    /// The status description: the last exception's message, else the first plain ERROR
    /// event's.
    pub(super) description: Option<String>,
    pub(super) error_type: Option<String>,
    /// Hashes of the exception messages already recorded as span events.
    pub(super) recorded: Vec<u64>,
}

pub(super) fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The status description of an ERROR event without an error: its (first) message, else its
/// name.
pub(super) fn plain_description(event: &Event<'_>) -> String {
    struct Message(Option<String>);
    impl Visit for Message {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "message" && self.0.is_none() {
                self.0 = Some(value.to_owned());
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "message" && self.0.is_none() {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    let mut message = Message(None);
    event.record(&mut message);
    message
        .0
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| event.metadata().name().to_owned())
}

/// The attributes of an `exception` span event: the exception's, then the event's other fields.
pub(super) fn exception_attributes(
    event: &Event<'_>,
    exception: &Exception,
    redaction: &Redaction,
) -> Vec<KeyValue> {
    let mut attributes = exception_fields(exception);
    event.record(&mut AttributeVisitor {
        attributes: &mut attributes,
        exception,
        redaction,
    });
    attributes
}

/// The exception's own attributes, as an `exception` span event and an OTLP log record carry
/// them: `exception.type` (when known), `exception.message`, `exception.stacktrace` (when
/// captured), `exception.causes` (when any: an array of strings, its last element
/// `…[N more causes]` when causes were dropped). Redaction is applied before
/// (`redact_exception`).
pub(crate) fn exception_fields(exception: &Exception) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(8);
    if let Some(type_name) = &exception.type_name {
        attributes.push(KeyValue::new("exception.type", type_name.clone()));
    }
    attributes.push(KeyValue::new(
        "exception.message",
        exception.message.clone(),
    ));
    if let Some(stacktrace) = &exception.stacktrace {
        attributes.push(KeyValue::new("exception.stacktrace", stacktrace.clone()));
    }
    if !exception.causes.is_empty() {
        let mut causes: Vec<StringValue> =
            exception.causes.iter().cloned().map(Into::into).collect();
        if exception.causes_dropped > 0 {
            causes.push(more_causes(exception.causes_dropped).into());
        }
        attributes.push(KeyValue::new(
            "exception.causes",
            Value::Array(causes.into()),
        ));
    }
    attributes
}

struct AttributeVisitor<'a> {
    attributes: &'a mut Vec<KeyValue>,
    exception: &'a Exception,
    redaction: &'a Redaction,
}

impl AttributeVisitor<'_> {
    /// Adds the field as an attribute; `value` is not called for a secret field.
    fn push<V: Into<Value>>(&mut self, field: &Field, value: impl FnOnce() -> V) {
        let name = field.name();
        if self.exception.owns_field(name) || name.starts_with("log.") {
            return;
        }
        let value = if self.redaction.is_secret(name) {
            Value::from(REDACTED)
        } else {
            value().into()
        };
        self.attributes.push(KeyValue::new(name, value));
    }
}

impl Visit for AttributeVisitor<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, || value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, || value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, || value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, || value.to_owned());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, || value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, || format!("{value:?}"));
    }
}
