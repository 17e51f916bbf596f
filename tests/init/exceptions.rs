//! The exceptions of OTLP log records (`OTEL_LOGS_EXPORTER=otlp`), at a real OTLP receiver: the
//! same attributes as the span's `exception` event (names, values and their kinds, bounds), not
//! contradicting the line's `exception` object, and redacted by the same rules. Each case runs the
//! init in a child process of its own (`support/child.rs`).

use std::error::Error;
use std::fmt;
use std::time::Duration;

use mock_collector::Protocol;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as Any, ArrayValue};
use serde_json::Value;
use tracing::info_span;

use crate::init::{collector, endpoint, reserve, run, runtime, Run};
use crate::support;
use crate::support::collector::{received, received_logs, Attributes, Received, ReceivedLog};

// ---------------------------------------------------------------------------------------------
// The child side.

/// The cases the tests of this file run in a child process ([`support::child`]).
pub const CHILD_CASES: &[support::child::Case] = &[("exceptions", exceptions)];

/// An error made of its message and the chain of its causes.
#[derive(Debug)]
struct Chain {
    message: String,
    source: Option<Box<Chain>>,
}

impl Chain {
    /// The error `messages[0]`, caused by `messages[1]`, caused by ...
    fn of<S: ToString>(messages: &[S]) -> Chain {
        let mut chain = messages.iter().rev().map(ToString::to_string);
        let innermost = Chain {
            message: chain.next().expect("one message at least"),
            source: None,
        };
        chain.fold(innermost, |source, message| Chain {
            message,
            source: Some(Box::new(source)),
        })
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

/// How many errors the chain of the `deep` span holds: past the bound of causes.
const DEEP: usize = 40;

/// The text of the secret an error held by a secret-named field carries.
const TOKEN: &str = "tok-secret-123";

/// One exception per span (a span records the same message once): each way an ERROR event
/// carries one, a long chain, a secret field beside an error, an error held by a secret-named
/// field, and a WARN event with an error value (an ordinary field).
fn exceptions() {
    let _guard = tracing_correlate::init("checkout");
    {
        let _s = info_span!("charge").entered();
        tracing_correlate::record_exception(&Chain::of(&[
            "card declined",
            "gateway answered 402",
            "connection reset",
        ]));
    }
    {
        let _s = info_span!("refund").entered();
        let err = Chain::of(&["refund failed", "ledger locked"]);
        tracing::error!(
            error = &err as &(dyn Error + 'static),
            password = "hunter2",
            order_id = 7u64,
            "refund failed"
        );
    }
    {
        let _s = info_span!("deep").entered();
        let messages: Vec<String> = (0..DEEP).map(|i| format!("level {i}")).collect();
        let err = Chain::of(&messages);
        tracing::error!(error = &err as &(dyn Error + 'static), "deep failure");
    }
    {
        let _s = info_span!("refresh").entered();
        let err = Chain::of(&[format!("{TOKEN} rejected"), format!("{TOKEN} expired")]);
        tracing::error!(
            api_token = &err as &(dyn Error + 'static),
            "token refresh failed"
        );
    }
    let _ = reserve("missing");
    {
        let _s = info_span!("retry").entered();
        let err = Chain::of(&["timeout", "socket closed"]);
        tracing::warn!(error = &err as &(dyn Error + 'static), "retrying");
    }
}

// ---------------------------------------------------------------------------------------------
// The parent side.

/// What the `exceptions` child sent and printed.
struct Exported {
    run: Run,
    spans: Vec<Received>,
    logs: Vec<ReceivedLog>,
}

/// The spans of the `exceptions` child, one per case.
const SPANS: [&str; 6] = ["charge", "refund", "deep", "refresh", "reserve", "retry"];

/// Runs the `exceptions` child exporting spans and logs to a receiver, with `RUST_LIB_BACKTRACE`
/// set to `backtrace`.
fn exported(backtrace: &str) -> Exported {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "exceptions",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("RUST_LIB_BACKTRACE", backtrace),
        ],
    );
    assert!(run.success, "{}", run.stderr);
    // The child flushed both signals before it ended; the waits only bound a slow receiver.
    rt.block_on(server.wait_for_spans(SPANS.len(), Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("spans arrive: {e}\n{}", run.stderr));
    rt.block_on(server.wait_for_logs(SPANS.len(), Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("logs arrive: {e}\n{}", run.stderr));
    Exported {
        spans: received(&rt, &server),
        logs: received_logs(&rt, &server),
        run,
    }
}

impl Exported {
    fn span(&self, name: &str) -> &Received {
        let found: Vec<_> = self.spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "one span {name}: {:#?}", self.spans);
        found[0]
    }

    /// The `exception` event of span `name`: its `exception.*` attributes.
    fn span_exception(&self, name: &str) -> Attributes {
        let events: Vec<_> = self
            .span(name)
            .events
            .iter()
            .filter(|(event, _)| event == "exception")
            .collect();
        assert_eq!(events.len(), 1, "one exception on {name}");
        exception_part(&events[0].1)
    }

    /// The one log record of `severity` emitted in span `name`.
    fn record(&self, name: &str, severity: &str) -> &ReceivedLog {
        let span_id = &self.span(name).span_id;
        let found: Vec<_> = self
            .logs
            .iter()
            .filter(|r| &r.span_id == span_id && r.severity_text == severity)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {severity} record in {name}: {:#?}",
            self.logs
        );
        found[0]
    }

    /// The line of the ERROR event in span `name`.
    fn line(&self, name: &str) -> &Value {
        let span_id = &self.span(name).span_id;
        let found: Vec<_> = self
            .run
            .lines
            .iter()
            .filter(|l| l["span_id"] == span_id.as_str() && l["level"] == "ERROR")
            .filter(|l| l["kind"] != "span")
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one ERROR line in {name}: {:#?}",
            self.run.lines
        );
        found[0]
    }
}

/// The `exception.*` attributes of `attributes`, sorted by key.
fn exception_part(attributes: &Attributes) -> Attributes {
    let mut part: Attributes = attributes
        .iter()
        .filter(|(k, _)| k.starts_with("exception."))
        .cloned()
        .collect();
    part.sort_by(|a, b| a.0.cmp(&b.0));
    part
}

/// Removes the attribute `key` from `attributes`, giving its value.
fn get<'a>(attributes: &'a Attributes, key: &str) -> Option<&'a AnyValue> {
    let found: Vec<_> = attributes.iter().filter(|(k, _)| k == key).collect();
    assert!(found.len() <= 1, "{key} once: {attributes:?}");
    found.first().and_then(|(_, v)| v.as_ref())
}

fn string(s: &str) -> AnyValue {
    AnyValue::StringValue(s.to_owned())
}

/// An OTLP array of strings.
fn strings<S: AsRef<str>>(items: &[S]) -> AnyValue {
    AnyValue::ArrayValue(ArrayValue {
        values: items
            .iter()
            .map(|s| Any {
                value: Some(string(s.as_ref())),
            })
            .collect(),
    })
}

/// The line's exception object as the attributes it stands for: the causes as the span carries
/// them (with `…[N more causes]` for `causes_dropped`).
fn line_exception(line: &Value) -> Attributes {
    let exception = &line["exception"];
    let text = |key: &str| exception[key].as_str().map(string);
    let mut causes: Vec<String> = exception["causes"]
        .as_array()
        .map(|c| c.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    if let Some(dropped) = exception["causes_dropped"].as_u64() {
        causes.push(format!("…[{dropped} more causes]"));
    }
    let mut attributes: Attributes = vec![
        ("exception.type".to_owned(), text("type")),
        ("exception.message".to_owned(), text("message")),
        ("exception.stacktrace".to_owned(), text("stacktrace")),
        (
            "exception.causes".to_owned(),
            (!causes.is_empty()).then(|| strings(&causes)),
        ),
    ];
    attributes.retain(|(_, v)| v.is_some());
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    attributes
}

#[test]
fn log_records_carry_the_exception_attributes_of_the_span_events() {
    let exported = exported("1");
    // One capture per event, shared by the three layers: the stack traces are compared whole
    // with the rest, after a check that each starts at its caller.
    let callers = [
        ("charge", "init::exceptions::"),
        ("refund", "init::exceptions::exceptions"),
        ("deep", "init::exceptions::exceptions"),
        ("refresh", "init::exceptions::exceptions"),
        ("reserve", "init::init::reserve"),
    ];
    for (name, caller) in callers {
        let record = exception_part(&exported.record(name, "ERROR").attributes);
        let span = exported.span_exception(name);
        let line = line_exception(exported.line(name));
        let stacktrace = record
            .iter()
            .find(|(k, _)| k == "exception.stacktrace")
            .and_then(|(_, v)| v.clone());
        assert!(
            matches!(&stacktrace, Some(AnyValue::StringValue(s)) if s.lines().next().is_some_and(|f| f.contains(caller))),
            "{name}: the stack trace starts at {caller}: {stacktrace:?}"
        );
        assert_eq!(
            record, span,
            "{name}: the log record's exception is the span event's"
        );
        assert_eq!(
            record, line,
            "{name}: the log record's exception is the line's"
        );
    }

    let charge = exported.record("charge", "ERROR");
    let type_name = match get(&charge.attributes, "exception.type") {
        Some(AnyValue::StringValue(t)) => t,
        other => panic!("exception.type: {other:?}"),
    };
    assert!(type_name.ends_with("::Chain"), "{type_name}");
    assert_eq!(
        get(&charge.attributes, "exception.message"),
        Some(&string("card declined"))
    );
    assert_eq!(
        get(&charge.attributes, "exception.causes"),
        Some(&strings(&["gateway answered 402", "connection reset"]))
    );
    match get(&charge.attributes, "exception.stacktrace") {
        Some(AnyValue::StringValue(stacktrace)) => {
            let first = stacktrace.lines().next().unwrap_or_default();
            assert!(
                first.contains("exceptions"),
                "starts at the caller: {first}"
            );
        }
        other => panic!("exception.stacktrace: {other:?}"),
    }

    // An error given as a field: its causes and a stack trace too, and the field is not
    // repeated beside them.
    let refund = exported.record("refund", "ERROR");
    assert_eq!(
        get(&refund.attributes, "exception.causes"),
        Some(&strings(&["ledger locked"]))
    );
    assert!(matches!(
        get(&refund.attributes, "exception.stacktrace"),
        Some(AnyValue::StringValue(s)) if !s.is_empty()
    ));
    assert_eq!(get(&refund.attributes, "error"), None);
    assert_eq!(
        get(&refund.attributes, "order_id"),
        Some(&AnyValue::IntValue(7))
    );

    // The bound of causes, and its marker.
    let deep = exported.record("deep", "ERROR");
    let mut expected: Vec<String> = (1..=tracing_correlate::DEFAULT_MAX_CAUSES)
        .map(|i| format!("level {i}"))
        .collect();
    expected.push(format!(
        "…[{} more causes]",
        DEEP - 1 - tracing_correlate::DEFAULT_MAX_CAUSES
    ));
    assert_eq!(
        get(&deep.attributes, "exception.causes"),
        Some(&strings(&expected))
    );

    // `#[instrument(err)]`: its `error` field is the exception's message.
    let reserve = exported.record("reserve", "ERROR");
    assert_eq!(
        get(&reserve.attributes, "exception.message"),
        Some(&string("out of stock"))
    );
    assert_eq!(get(&reserve.attributes, "error"), None);

    // Below ERROR an error value is an ordinary field, as on the span and the line.
    let retry = exported.record("retry", "WARN");
    assert_eq!(exception_part(&retry.attributes), vec![]);
    assert_eq!(get(&retry.attributes, "error"), Some(&string("timeout")));
}

#[test]
fn log_records_redact_exceptions_as_the_lines_and_spans_do() {
    let exported = exported("0");
    // A secret field beside an exception.
    let refund = exported.record("refund", "ERROR");
    assert_eq!(
        get(&refund.attributes, "password"),
        Some(&string("[REDACTED]"))
    );
    assert_eq!(
        get(&refund.attributes, "exception.message"),
        Some(&string("refund failed"))
    );

    // An error held by a secret-named field: its text is the field's value, redacted everywhere.
    let refresh = exception_part(&exported.record("refresh", "ERROR").attributes);
    let redacted = vec![
        (
            "exception.causes".to_owned(),
            Some(strings(&["[REDACTED]"])),
        ),
        ("exception.message".to_owned(), Some(string("[REDACTED]"))),
    ];
    assert_eq!(refresh, redacted, "the log record");
    assert_eq!(
        exported.span_exception("refresh"),
        redacted,
        "the span event"
    );
    assert_eq!(
        line_exception(exported.line("refresh")),
        redacted,
        "the line"
    );

    for record in &exported.logs {
        let text = format!("{record:?}");
        for secret in ["hunter2", TOKEN] {
            assert!(!text.contains(secret), "{secret} in a log record: {text}");
        }
    }
    for span in &exported.spans {
        let text = format!("{span:?}");
        assert!(!text.contains(TOKEN), "the token in a span: {text}");
    }
    for line in &exported.run.lines {
        assert!(
            !line.to_string().contains(TOKEN),
            "the token in a line: {line}"
        );
    }
}
