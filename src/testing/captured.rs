//! What a capture holds, and the joins between its lines and spans: by `span_id` and `trace_id`,
//! as a log aggregator joins them to a tracing backend.

use std::fmt::Write as _;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value;

/// The lines, spans and log records of one capture.
///
/// Each line's `trace_id` and `span_id` are the ids of the span it belongs to, so
/// [`span_of`](Self::span_of), [`lines_of`](Self::lines_of) and [`tree`](Self::tree) join them
/// as an aggregator would. The assertions (`assert_*`) panic with the lines and spans that matter
/// and return `&Self`, so they chain.
///
/// ```
/// let (_, captured) = tracing_correlate::testing::capture(|| {
///     tracing::info_span!("order", id = 7).in_scope(|| tracing::info!("placed"));
///     tracing::info_span!("order", id = 8).in_scope(|| tracing::info!("placed"));
/// });
/// assert_eq!(captured.lines().len(), 2);
/// assert!(captured.raw()[0].starts_with(r#"{"timestamp":"#));
/// assert_eq!(captured.spans().len(), 2);
/// assert_eq!(captured.trace_ids().len(), 2);
/// for line in captured.lines_with_message("placed") {
///     let span = captured.span_of(line).unwrap();
///     assert_eq!(captured.lines_of(span), [line]);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Captured {
    raw: Vec<String>,
    lines: Vec<Value>,
    spans: Vec<SpanData>,
    logs: Vec<LogRecord>,
}

/// An OpenTelemetry log record as the logs bridge emitted it (with
/// [`Recorder::with_log_records`](crate::testing::Recorder::with_log_records)).
///
/// ```
/// let (_, captured) = tracing_correlate::testing::Recorder::new()
///     .with_log_records(true)
///     .record(|| tracing::warn!(disk = "sda", "almost full"));
/// let record = &captured.logs()[0];
/// assert_eq!(record.severity.as_deref(), Some("WARN"));
/// assert_eq!(record.body.as_deref(), Some("almost full"));
/// assert_eq!(record.trace_id, None); // outside any span
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogRecord {
    /// `INFO`, `ERROR`, …
    pub severity: Option<String>,
    /// The event's message.
    pub body: Option<String>,
    /// Lowercase hex, as on the lines; `None` outside a span.
    pub trace_id: Option<String>,
    /// Lowercase hex, as on the lines; `None` outside a span.
    pub span_id: Option<String>,
    /// The record's attributes, as the bridge and the init's processors set them.
    pub attributes: Vec<(String, opentelemetry::logs::AnyValue)>,
}

impl LogRecord {
    fn new(data: LogDataWithResource) -> LogRecord {
        let record = data.record;
        let context = record.trace_context();
        LogRecord {
            severity: record.severity_text().map(str::to_owned),
            body: record.body().map(any_text),
            trace_id: context.map(|c| c.trace_id.to_string()),
            span_id: context.map(|c| c.span_id.to_string()),
            attributes: record
                .attributes_iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// A string value as it is; any other in its `Debug` form.
fn any_text(value: &opentelemetry::logs::AnyValue) -> String {
    match value {
        opentelemetry::logs::AnyValue::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

impl Captured {
    pub(crate) fn new(
        mut raw: Vec<String>,
        spans: Vec<SpanData>,
        logs: Vec<LogDataWithResource>,
        deterministic: bool,
    ) -> Captured {
        let mut lines: Vec<Value> = raw
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.clone())))
            .collect();
        if deterministic {
            for (i, (line, raw)) in lines.iter_mut().zip(raw.iter_mut()).enumerate() {
                let fixed = format!("2000-01-01T00:00:00.{:06}Z", i + 1);
                if let Some(Value::String(ts)) = line.get_mut("timestamp") {
                    // The layer writes the timestamp as a plain string (no escapes): the raw
                    // line holds it as is.
                    *raw = raw.replacen(&format!("\"{ts}\""), &format!("\"{fixed}\""), 1);
                    *ts = fixed;
                }
            }
        }
        Captured {
            raw,
            lines,
            spans,
            logs: logs.into_iter().map(LogRecord::new).collect(),
        }
    }

    /// The lines, parsed, in the order written (a line that is not JSON, which the layer never
    /// writes, would be a JSON string).
    pub fn lines(&self) -> &[Value] {
        &self.lines
    }

    /// The lines as written.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }

    /// The finished spans, in the order they ended, as the exporter would send them.
    pub fn spans(&self) -> &[SpanData] {
        &self.spans
    }

    /// The log records (empty unless [`Recorder::with_log_records`](crate::testing::Recorder::with_log_records)).
    pub fn logs(&self) -> &[LogRecord] {
        &self.logs
    }

    /// The lines whose `message` is `message`.
    pub fn lines_with_message(&self, message: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// The one span named `name`; panics, listing the spans, if there is none or several.
    pub fn span(&self, name: &str) -> &SpanData {
        let found: Vec<&SpanData> = self.spans.iter().filter(|s| s.name == name).collect();
        match found.as_slice() {
            [one] => one,
            _ => panic!(
                "expected one span named {name:?}, found {}; the spans:\n{}",
                found.len(),
                self.tree()
            ),
        }
    }

    /// The span a line belongs to (by its `span_id` and `trace_id`).
    ///
    /// ```
    /// let (_, captured) = tracing_correlate::testing::capture(|| {
    ///     tracing::info_span!("job").in_scope(|| tracing::info!("done"));
    /// });
    /// let line = &captured.lines_with_message("done")[0];
    /// assert_eq!(captured.span_of(line).unwrap().name, "job");
    /// ```
    pub fn span_of(&self, line: &Value) -> Option<&SpanData> {
        let span_id = line["span_id"].as_str()?;
        let trace_id = line["trace_id"].as_str()?;
        self.spans.iter().find(|s| {
            s.span_context.span_id().to_string() == span_id
                && s.span_context.trace_id().to_string() == trace_id
        })
    }

    /// The lines written in `span` (not in its children), in order.
    pub fn lines_of(&self, span: &SpanData) -> Vec<&Value> {
        let span_id = span.span_context.span_id().to_string();
        let trace_id = span.span_context.trace_id().to_string();
        self.lines
            .iter()
            .filter(|l| l["span_id"] == span_id.as_str() && l["trace_id"] == trace_id.as_str())
            .collect()
    }

    /// The trace ids of the spans and lines, in the order first seen.
    pub fn trace_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let from_spans = self
            .spans
            .iter()
            .map(|s| s.span_context.trace_id().to_string());
        let from_lines = self
            .lines
            .iter()
            .filter_map(|l| l["trace_id"].as_str().map(str::to_owned));
        for id in from_spans.chain(from_lines) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Every trace as a tree of its spans in start order, each span with its status and the
    /// lines written in it (`LEVEL message`), then the lines outside any span. No times, so with
    /// [`Recorder::with_deterministic`](crate::testing::Recorder::with_deterministic) it is the
    /// same on every run:
    ///
    /// ```
    /// use tracing_correlate::testing::Recorder;
    ///
    /// let (_, captured) = Recorder::new().with_deterministic(true).record(|| {
    ///     tracing::info_span!("checkout").in_scope(|| {
    ///         tracing::info!("charging");
    ///         tracing::info_span!("charge").in_scope(|| {});
    ///     })
    /// });
    /// assert_eq!(
    ///     captured.tree(),
    ///     "trace 00000000000000000000000000000001\n  checkout [unset]\n    INFO charging\n    charge [unset]\n"
    /// );
    /// ```
    pub fn tree(&self) -> String {
        let mut out = String::new();
        for trace_id in self.trace_ids() {
            let _ = writeln!(out, "trace {trace_id}");
            let mut spans: Vec<&SpanData> = self
                .spans
                .iter()
                .filter(|s| s.span_context.trace_id().to_string() == trace_id)
                .collect();
            spans.sort_by_key(|s| s.start_time);
            let is_root = |s: &SpanData| {
                s.parent_span_id == SpanId::INVALID
                    || !spans
                        .iter()
                        .any(|p| p.span_context.span_id() == s.parent_span_id)
            };
            for root in spans.iter().filter(|s| is_root(s)) {
                self.write_span(&mut out, root, &spans, 1);
            }
            // Lines of this trace whose span was not captured (still open, or filtered out).
            for line in self
                .lines
                .iter()
                .filter(|l| l["trace_id"] == trace_id.as_str() && self.span_of(l).is_none())
            {
                let _ = writeln!(
                    out,
                    "  (span {} not captured) {}",
                    line["span_id"],
                    line_text(line)
                );
            }
        }
        let outside: Vec<&Value> = self
            .lines
            .iter()
            .filter(|l| l.get("trace_id").is_none())
            .collect();
        if !outside.is_empty() {
            let _ = writeln!(out, "outside any span");
            for line in outside {
                let _ = writeln!(out, "  {}", line_text(line));
            }
        }
        out
    }

    fn write_span(&self, out: &mut String, span: &SpanData, all: &[&SpanData], depth: usize) {
        let indent = "  ".repeat(depth);
        let status = match &span.status {
            Status::Unset => "unset".to_owned(),
            Status::Ok => "ok".to_owned(),
            Status::Error { description } if description.is_empty() => "error".to_owned(),
            Status::Error { description } => format!("error: {description}"),
        };
        let _ = writeln!(out, "{indent}{} [{status}]", span.name);
        for line in self.lines_of(span) {
            let _ = writeln!(out, "{indent}  {}", line_text(line));
        }
        for child in all
            .iter()
            .filter(|c| c.parent_span_id == span.span_context.span_id())
        {
            self.write_span(out, child, all, depth + 1);
        }
    }

    /// The lines as written, one per line: with
    /// [`Recorder::with_deterministic`](crate::testing::Recorder::with_deterministic) (and stack
    /// traces off) the same text on every run, for `insta::assert_snapshot!`.
    ///
    /// ```
    /// use tracing_correlate::testing::Recorder;
    ///
    /// let (_, captured) = Recorder::new()
    ///     .with_deterministic(true)
    ///     .record(|| tracing::info_span!("job").in_scope(|| tracing::info!("done")));
    /// assert_eq!(
    ///     captured.snapshot(),
    ///     concat!(
    ///         r#"{"timestamp":"2000-01-01T00:00:00.000001Z","level":"INFO","service":"test","#,
    ///         r#""target":"rust_out","message":"done","trace_id":"00000000000000000000000000000001","#,
    ///         r#""span_id":"0000000000000001","trace_flags":"01","span_name":"job"}"#,
    ///         "\n"
    ///     )
    /// );
    /// ```
    pub fn snapshot(&self) -> String {
        let mut out = self.raw.join("\n");
        out.push('\n');
        out
    }
}

/// `LEVEL message` of a line; an error line without a message (`#[instrument(err)]`'s) shows its
/// exception's message.
pub(crate) fn line_text(line: &Value) -> String {
    let message = line["message"]
        .as_str()
        .or_else(|| line["exception"]["message"].as_str())
        .unwrap_or("");
    format!("{} {message}", line["level"].as_str().unwrap_or("?"))
}
