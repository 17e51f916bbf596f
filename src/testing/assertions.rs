//! The assertions users reach for, each panicking with the lines and spans that tell why.

use opentelemetry::trace::Status;
use opentelemetry::Value as OtelValue;
use serde_json::Value;

use crate::testing::captured::{line_text, Captured};

/// At most this many lines are quoted in a failure message, so that a test logging thousands of
/// lines still fails readably.
const QUOTED_LINES: usize = 40;

fn quote(lines: &[&Value]) -> String {
    let mut out: String = lines
        .iter()
        .take(QUOTED_LINES)
        .map(|l| format!("  {l}\n"))
        .collect();
    if lines.len() > QUOTED_LINES {
        out.push_str(&format!("  … {} more\n", lines.len() - QUOTED_LINES));
    }
    out
}

impl Captured {
    /// Every line written in a span, and every span, belongs to one trace.
    pub fn assert_one_trace(&self) -> &Self {
        let ids = self.trace_ids();
        assert!(
            ids.len() == 1,
            "expected one trace, found {} ({ids:?}):\n{}",
            ids.len(),
            self.tree()
        );
        self
    }

    /// The one span named `span` has status error and exactly one `exception` event, whose
    /// `exception.type` is `exception_type`; no other span has an exception event of that type.
    ///
    /// ```
    /// let (_, captured) = tracing_correlate::testing::capture(|| {
    ///     tracing::info_span!("parse").in_scope(|| {
    ///         let err = "x".parse::<u8>().unwrap_err();
    ///         tracing_correlate::record_exception(&err);
    ///     })
    /// });
    /// captured.assert_exception_once("parse", "core::num::error::ParseIntError");
    /// ```
    pub fn assert_exception_once(&self, span: &str, exception_type: &str) -> &Self {
        let exceptions_of = |s: &opentelemetry_sdk::trace::SpanData| -> Vec<Option<String>> {
            s.events
                .events
                .iter()
                .filter(|e| e.name == "exception")
                .map(|e| {
                    e.attributes
                        .iter()
                        .find(|kv| kv.key.as_str() == "exception.type")
                        .map(|kv| match &kv.value {
                            OtelValue::String(s) => s.to_string(),
                            other => other.to_string(),
                        })
                })
                .collect()
        };
        let target = self.span(span);
        let found = exceptions_of(target);
        assert!(
            found.len() == 1 && found[0].as_deref() == Some(exception_type),
            "expected one exception of type {exception_type:?} on span {span:?}, found the types \
             {found:?}; its events: {:#?}",
            target.events.events
        );
        assert!(
            matches!(target.status, Status::Error { .. }),
            "expected span {span:?} to have status error, found {:?}",
            target.status
        );
        let elsewhere: Vec<&str> = self
            .spans()
            .iter()
            .filter(|s| !std::ptr::eq(*s, target))
            .filter(|s| {
                exceptions_of(s)
                    .iter()
                    .any(|t| t.as_deref() == Some(exception_type))
            })
            .map(|s| s.name.as_ref())
            .collect();
        assert!(
            elsewhere.is_empty(),
            "the exception {exception_type:?} is also recorded on the spans {elsewhere:?}:\n{}",
            self.tree()
        );
        self
    }

    /// Some line whose `message` is `message` has the field `key` (as written on the line:
    /// `order_id`, or `fields.kind` for one moved under `fields`) equal to `expected`.
    pub fn assert_field(&self, message: &str, key: &str, expected: impl Into<Value>) -> &Self {
        let expected = expected.into();
        let with_message = self.lines_with_message(message);
        assert!(
            !with_message.is_empty(),
            "no line with message {message:?}; the lines:\n{}",
            quote(&self.lines().iter().collect::<Vec<_>>())
        );
        assert!(
            with_message
                .iter()
                .any(|l| field(l, key) == Some(&expected)),
            "no line {message:?} has {key} = {expected}; those lines:\n{}",
            quote(&with_message)
        );
        self
    }

    /// No line has the field `key`.
    ///
    /// ```
    /// let (_, captured) = tracing_correlate::testing::capture(|| tracing::info!(user = "ada", "login"));
    /// captured.assert_no_field("password").assert_field("login", "user", "ada");
    /// ```
    pub fn assert_no_field(&self, key: &str) -> &Self {
        let with: Vec<&Value> = self
            .lines()
            .iter()
            .filter(|l| field(l, key).is_some())
            .collect();
        assert!(
            with.is_empty(),
            "expected no line with the field {key}, found:\n{}",
            quote(&with)
        );
        self
    }

    /// `needle` (a secret) appears nowhere: in no line as written, no span's name, attribute or
    /// event, no log record.
    pub fn assert_nowhere(&self, needle: &str) -> &Self {
        let lines: Vec<&Value> = self
            .raw()
            .iter()
            .zip(self.lines())
            .filter(|(raw, _)| raw.contains(needle))
            .map(|(_, line)| line)
            .collect();
        assert!(
            lines.is_empty(),
            "{needle:?} appears in lines:\n{}",
            quote(&lines)
        );
        for span in self.spans() {
            let in_span = span.name.contains(needle)
                || span
                    .attributes
                    .iter()
                    .any(|kv| kv.value.to_string().contains(needle))
                || span.events.events.iter().any(|e| {
                    e.name.contains(needle)
                        || e.attributes
                            .iter()
                            .any(|kv| kv.value.to_string().contains(needle))
                })
                || matches!(&span.status, Status::Error { description } if description.contains(needle));
            assert!(!in_span, "{needle:?} appears in the span {span:#?}");
        }
        for record in self.logs() {
            let text = format!("{record:?}");
            assert!(
                !text.contains(needle),
                "{needle:?} appears in the log record {record:#?}"
            );
        }
        self
    }

    /// Exactly `count` lines are at `level` (`"ERROR"`, `"WARN"`, …).
    pub fn assert_lines_at(&self, level: &str, count: usize) -> &Self {
        let at: Vec<&Value> = self
            .lines()
            .iter()
            .filter(|l| l["level"] == level)
            .collect();
        assert!(
            at.len() == count,
            "expected {count} {level} lines, found {}: {:?}",
            at.len(),
            at.iter().map(|l| line_text(l)).collect::<Vec<_>>()
        );
        self
    }
}

/// The value of `key` on a line; a dotted key (`fields.kind`, `exception.type`) is looked up as
/// written first, then through nested objects.
fn field<'a>(line: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(v) = line.get(key) {
        return Some(v);
    }
    let mut at = line;
    for part in key.split('.') {
        at = at.get(part)?;
    }
    Some(at)
}
