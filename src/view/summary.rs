//! One row per trace, for finding the one that failed: gathered line by line, its memory bounded
//! by the number of traces (a few hundred bytes each), not by the size of the input.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::view::pretty::duration;
use crate::view::style::{Paint, Style};

/// What is known of each trace of the input.
#[derive(Debug, Default)]
pub struct Summaries {
    traces: HashMap<String, Summary>,
    /// The traces in the order first seen.
    order: Vec<String>,
    /// Lines of ours outside any trace (startup and shutdown lines, events outside spans).
    pub untraced: u64,
}

#[derive(Debug, Default)]
struct Summary {
    /// The span line without a parent.
    root: Option<String>,
    /// The span that started first, for a trace whose root is in a log not given (a caller's).
    earliest: Option<(DateTime<FixedOffset>, String)>,
    services: Vec<String>,
    start: Option<DateTime<FixedOffset>>,
    end: Option<DateTime<FixedOffset>>,
    spans: u64,
    lines: u64,
    errors: u64,
}

/// At most `width` characters of `text`, the last one `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(width - 1).collect();
    kept.push('…');
    kept
}

/// Whether a span starting at `start` started before the earliest one seen (or none was seen).
fn earlier(seen: Option<&(DateTime<FixedOffset>, String)>, start: DateTime<FixedOffset>) -> bool {
    seen.map_or(true, |(seen, _)| start < *seen)
}

fn time(line: &Map<String, Value>, key: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(line.get(key)?.as_str()?).ok()
}

impl Summaries {
    /// Counts a parsed line of ours.
    pub fn add(&mut self, line: &Map<String, Value>) {
        let Some(id) = line.get("trace_id").and_then(Value::as_str) else {
            self.untraced += 1;
            return;
        };
        if !self.traces.contains_key(id) {
            self.order.push(id.to_owned());
        }
        let summary = self.traces.entry(id.to_owned()).or_default();
        if let Some(service) = line.get("service").and_then(Value::as_str) {
            if !summary.services.iter().any(|s| s == service) {
                summary.services.push(service.to_owned());
            }
        }
        let widen = |s: &mut Summary, t: Option<DateTime<FixedOffset>>| {
            if let Some(t) = t {
                s.start = Some(s.start.map_or(t, |x| x.min(t)));
                s.end = Some(s.end.map_or(t, |x| x.max(t)));
            }
        };
        if line.get("kind").and_then(Value::as_str) == Some("span") {
            summary.spans += 1;
            let parent = line.get("parent_span_id").and_then(Value::as_str);
            if parent.map_or(true, str::is_empty) {
                summary.root = line
                    .get("span_name")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            if line.get("status").and_then(Value::as_str) == Some("error") {
                summary.errors += 1;
            }
            let start = time(line, "start");
            if let (Some(start), Some(name)) =
                (start, line.get("span_name").and_then(Value::as_str))
            {
                if earlier(summary.earliest.as_ref(), start) {
                    summary.earliest = Some((start, name.to_owned()));
                }
            }
            widen(summary, start);
            widen(summary, time(line, "end"));
        } else {
            summary.lines += 1;
            if line.get("level").and_then(Value::as_str) == Some("ERROR") {
                summary.errors += 1;
            }
            widen(summary, time(line, "timestamp"));
        }
    }

    /// The table, in the order traces were first seen; a failed trace (an ERROR line or a failed
    /// span) starts with `✗`.
    pub fn render(&self, style: Style) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            style.paint(
                Paint::Bold,
                &format!(
                    "  {:<32}  {:<32}  {:<20}  {:<12}  {:>9}  {:>5}  {:>5}  {:>6}",
                    "trace", "root", "services", "start", "duration", "spans", "lines", "errors"
                )
            )
        );
        for id in &self.order {
            let s = &self.traces[id];
            let ms = match (s.start, s.end) {
                (Some(a), Some(b)) => (b - a).num_microseconds().unwrap_or(0) as f64 / 1000.0,
                _ => 0.0,
            };
            let start = s
                .start
                .map(|t| t.format("%H:%M:%S%.3f").to_string())
                .unwrap_or_default();
            let earliest = s
                .earliest
                .as_ref()
                .map(|(_, name)| format!("{name} (parent elsewhere)"));
            let root = s
                .root
                .clone()
                .or(earliest)
                .unwrap_or_else(|| "(no span line)".to_owned());
            let row = format!(
                "{} {:<32}  {:<32}  {:<20}  {:<12}  {:>9}  {:>5}  {:>5}  {:>6}",
                if s.errors > 0 { "✗" } else { " " },
                id,
                cut(&root, 32),
                cut(&s.services.join(","), 20),
                start,
                duration(ms),
                s.spans,
                s.lines,
                s.errors
            );
            if s.errors > 0 {
                let _ = writeln!(out, "{}", style.paint(Paint::Level("ERROR"), &row));
            } else {
                let _ = writeln!(out, "{row}");
            }
        }
        let failed = self.traces.values().filter(|s| s.errors > 0).count();
        let _ = writeln!(
            out,
            "{} traces, {failed} failed; {} lines outside any trace",
            self.order.len(),
            self.untraced
        );
        out
    }
}
