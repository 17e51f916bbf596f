//! One of the crate's lines as one short line for a person (and its exception on indented lines).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::line::keys::SCHEMA_KEYS;
use crate::line::preset::is_preset_key;
use crate::view::style::{Paint, Style};

/// Whether a parsed line is one of the crate's: an object with a `timestamp` and a `level`.
pub fn is_ours(line: &Map<String, Value>) -> bool {
    line.get("timestamp").is_some_and(Value::is_string)
        && line.get("level").is_some_and(Value::is_string)
}

/// `HH:MM:SS.mmm` of an RFC 3339 timestamp (as written, in its own offset), or the text as is.
fn clock(timestamp: &str) -> &str {
    // `2026-12-02T15:10:37.614100Z`: the time of day, to the millisecond.
    timestamp
        .get(11..23)
        .filter(|t| t.as_bytes().get(2) == Some(&b':'))
        .unwrap_or(timestamp)
}

/// The first 8 characters of an id.
pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A field's value: strings without quotes when they hold no space or quote, others as JSON.
fn field_value(value: &Value) -> String {
    match value {
        Value::String(s) if !s.is_empty() && !s.contains([' ', '"', '=', '\n']) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `key=value` for every field not placed elsewhere, in key order (as parsed).
fn write_fields(out: &mut String, line: &Map<String, Value>, style: Style) {
    for (key, value) in line {
        // The schema's keys have their own places; a preset's repeat the ids.
        if SCHEMA_KEYS.contains(&key.as_str()) || is_preset_key(key) {
            continue;
        }
        let _ = write!(
            out,
            " {}{}",
            style.paint(Paint::Dim, &format!("{key}=")),
            field_value(value)
        );
    }
}

/// The rendering of one line of input: ours made readable, anything else unchanged.
pub fn render(text: &str, style: Style) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(line)) if is_ours(&line) => render_line(&line, style),
        _ => text.to_owned(),
    }
}

/// One of the crate's lines, parsed.
pub fn render_line(line: &Map<String, Value>, style: Style) -> String {
    let text = |k: &str| line.get(k).and_then(Value::as_str).unwrap_or("");
    let mut out = String::new();
    let _ = write!(
        out,
        "{} ",
        style.paint(Paint::Dim, clock(text("timestamp")))
    );
    if line.get("kind").and_then(Value::as_str) == Some("span") {
        render_span(&mut out, line, style);
    } else {
        let level = text("level");
        let _ = write!(
            out,
            "{} ",
            style.paint(Paint::Level(level), &format!("{level:<5}"))
        );
        if !text("service").is_empty() {
            let _ = write!(out, "{} ", style.paint(Paint::Service, text("service")));
        }
        let _ = write!(
            out,
            "{}",
            style.paint(Paint::Dim, &format!("{}:", text("target")))
        );
        let message = line
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| line.get("exception")?.get("message")?.as_str())
            .unwrap_or("");
        let _ = write!(out, " {}", style.paint(Paint::Bold, message));
        write_fields(&mut out, line, style);
    }
    write_ids(&mut out, line, style);
    if let Some(Value::Object(exception)) = line.get("exception") {
        write_exception(&mut out, exception, style);
    }
    out
}

/// A console span line: a closing mark with the span's name, kind, duration and status.
fn render_span(out: &mut String, line: &Map<String, Value>, style: Style) {
    let text = |k: &str| line.get(k).and_then(Value::as_str).unwrap_or("");
    let failed = text("status") == "error";
    let _ = write!(out, "{} ", style.paint(Paint::Dim, "SPAN "));
    if !text("service").is_empty() {
        let _ = write!(out, "{} ", style.paint(Paint::Service, text("service")));
    }
    let _ = write!(
        out,
        "{} {}",
        style.paint(Paint::Dim, "└"),
        style.paint(Paint::Bold, text("span_name"))
    );
    if !text("span_kind").is_empty() && text("span_kind") != "internal" {
        let _ = write!(out, " ({})", text("span_kind"));
    }
    if let Some(ms) = line.get("duration_ms").and_then(Value::as_f64) {
        let _ = write!(out, " {}", duration(ms));
    }
    if failed {
        let why = text("status_description");
        let status = if why.is_empty() {
            "error".to_owned()
        } else {
            format!("error: {why}")
        };
        let _ = write!(out, " {}", style.paint(Paint::Level("ERROR"), &status));
    }
}

/// `0.035 ms`, `264 ms`, `2.31 s`.
pub(crate) fn duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

fn write_ids(out: &mut String, line: &Map<String, Value>, style: Style) {
    if let (Some(trace), Some(span)) = (
        line.get("trace_id").and_then(Value::as_str),
        line.get("span_id").and_then(Value::as_str),
    ) {
        let ids = format!("[{} {}]", short(trace), short(span));
        let _ = write!(out, "  {}", style.paint(Paint::Dim, &ids));
    }
}

/// The exception on indented lines: `type: message`, each cause, the stack trace.
fn write_exception(out: &mut String, exception: &Map<String, Value>, style: Style) {
    let text = |k: &str| exception.get(k).and_then(Value::as_str);
    let head = match (text("type"), text("message")) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (None, Some(m)) => m.to_owned(),
        (Some(t), None) => t.to_owned(),
        (None, None) => "exception".to_owned(),
    };
    let _ = write!(out, "\n    {}", style.paint(Paint::Level("ERROR"), &head));
    if let Some(Value::Array(causes)) = exception.get("causes") {
        for cause in causes {
            let cause = cause
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| field_value(cause));
            let _ = write!(out, "\n    caused by: {cause}");
        }
    }
    if let Some(trace) = text("stacktrace") {
        for frame in trace.lines() {
            let _ = write!(out, "\n    {}", style.paint(Paint::Dim, frame.trim_end()));
        }
    }
}
