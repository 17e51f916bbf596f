//! One trace rebuilt from the lines of one or several services' logs: the console span lines give
//! the spans, their parents and times; the event lines go under the span they were written in.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::view::pretty::{duration, short};
use crate::view::style::{Paint, Style};

/// Columns of the time bar.
const BAR: usize = 24;

/// The lines of one trace, gathered line by line ([`Trace::add`]) and drawn ([`Trace::render`]).
#[derive(Debug)]
pub struct Trace {
    wanted: String,
    /// The full id, once a line matched.
    id: Option<String>,
    /// Other full ids the wanted prefix matched (their lines are left out and counted).
    other_ids: Vec<String>,
    other_lines: u64,
    spans: Vec<SpanRow>,
    lines: Vec<LineRow>,
}

#[derive(Debug)]
struct SpanRow {
    span_id: String,
    parent: Option<String>,
    name: String,
    service: String,
    kind: String,
    start: Option<DateTime<FixedOffset>>,
    end: Option<DateTime<FixedOffset>>,
    duration_ms: Option<f64>,
    error: Option<String>,
}

#[derive(Debug)]
struct LineRow {
    span_id: Option<String>,
    time: Option<DateTime<FixedOffset>>,
    clock: String,
    level: String,
    service: String,
    message: String,
}

fn time(line: &Map<String, Value>, key: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(line.get(key)?.as_str()?).ok()
}

fn text(line: &Map<String, Value>, key: &str) -> String {
    line.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

impl Trace {
    /// The trace whose id is `id`, or starts with it (the 8 characters the pretty lines show).
    pub fn new(id: &str) -> Trace {
        Trace {
            wanted: id.to_ascii_lowercase(),
            id: None,
            other_ids: Vec::new(),
            other_lines: 0,
            spans: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Takes a parsed line if it belongs to the trace; `true` when it did.
    pub fn add(&mut self, line: &Map<String, Value>) -> bool {
        let Some(trace_id) = line.get("trace_id").and_then(Value::as_str) else {
            return false;
        };
        if !trace_id.starts_with(&self.wanted) {
            return false;
        }
        match &self.id {
            None => self.id = Some(trace_id.to_owned()),
            Some(id) if id != trace_id => {
                if !self.other_ids.iter().any(|o| o == trace_id) {
                    self.other_ids.push(trace_id.to_owned());
                }
                self.other_lines += 1;
                return false;
            }
            Some(_) => {}
        }
        let span_id = text(line, "span_id");
        if line.get("kind").and_then(Value::as_str) == Some("span") {
            let parent = Some(text(line, "parent_span_id")).filter(|p| !p.is_empty());
            let error = (text(line, "status") == "error").then(|| text(line, "status_description"));
            self.spans.push(SpanRow {
                span_id,
                parent,
                name: text(line, "span_name"),
                service: text(line, "service"),
                kind: text(line, "span_kind"),
                start: time(line, "start"),
                end: time(line, "end"),
                duration_ms: line.get("duration_ms").and_then(Value::as_f64),
                error,
            });
        } else {
            let message = line
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| line.get("exception")?.get("message")?.as_str())
                .unwrap_or("")
                .to_owned();
            let timestamp = text(line, "timestamp");
            self.lines.push(LineRow {
                span_id: Some(span_id).filter(|s| !s.is_empty()),
                time: time(line, "timestamp"),
                clock: timestamp.get(11..23).unwrap_or(&timestamp).to_owned(),
                level: text(line, "level"),
                service: text(line, "service"),
                message,
            });
        }
        true
    }

    /// The tree, or a line saying no line of the trace was found.
    pub fn render(&self, style: Style) -> String {
        let mut out = String::new();
        let Some(id) = &self.id else {
            let _ = writeln!(out, "no line of trace {} in the input", self.wanted);
            return out;
        };
        let mut services: Vec<&str> = self
            .spans
            .iter()
            .map(|s| s.service.as_str())
            .chain(self.lines.iter().map(|l| l.service.as_str()))
            .filter(|s| !s.is_empty())
            .collect();
        services.sort_unstable();
        services.dedup();
        let times = self
            .spans
            .iter()
            .flat_map(|s| [s.start, s.end])
            .chain(self.lines.iter().map(|l| l.time))
            .flatten();
        let t0 = times.clone().min();
        let t1 = times.max();
        let total_ms = match (t0, t1) {
            (Some(a), Some(b)) => (b - a).num_microseconds().unwrap_or(0) as f64 / 1000.0,
            _ => 0.0,
        };
        let _ = writeln!(
            out,
            "{} {}: {} spans, {} lines, services {}, {}",
            style.paint(Paint::Bold, "trace"),
            id,
            self.spans.len(),
            self.lines.len(),
            services.join(", "),
            duration(total_ms)
        );
        let draw = Draw {
            trace: self,
            t0,
            total_ms,
            style,
        };
        let mut roots: Vec<&SpanRow> = self
            .spans
            .iter()
            .filter(|s| match &s.parent {
                None => true,
                Some(p) => !self.spans.iter().any(|o| &o.span_id == p),
            })
            .collect();
        roots.sort_by_key(|s| s.start);
        for root in roots {
            draw.span(&mut out, root, 0);
        }
        // Lines whose span has no span line: still open when the log ended, or its service's log
        // was not given.
        let mut orphans: Vec<&str> = Vec::new();
        for id in self.lines.iter().filter_map(|l| l.span_id.as_deref()) {
            if !self.spans.iter().any(|s| s.span_id == id) && !orphans.contains(&id) {
                orphans.push(id);
            }
        }
        for span_id in orphans {
            let _ = writeln!(
                out,
                "{}",
                style.paint(
                    Paint::Dim,
                    &format!("span {} (no span line in these logs)", short(span_id))
                )
            );
            for line in self
                .lines
                .iter()
                .filter(|l| l.span_id.as_deref() == Some(span_id))
            {
                draw.line(&mut out, line, 1);
            }
        }
        if self.other_lines > 0 {
            let _ = writeln!(
                out,
                "{}",
                style.paint(
                    Paint::Dim,
                    &format!(
                        "{} lines of other traces starting {} left out ({})",
                        self.other_lines,
                        self.wanted,
                        self.other_ids.join(", ")
                    )
                )
            );
        }
        out
    }
}

/// What drawing one trace needs.
struct Draw<'a> {
    trace: &'a Trace,
    t0: Option<DateTime<FixedOffset>>,
    total_ms: f64,
    style: Style,
}

impl Draw<'_> {
    fn span(&self, out: &mut String, span: &SpanRow, depth: usize) {
        let indent = "  ".repeat(depth);
        let style = self.style;
        let mut head = format!("{indent}{}", style.paint(Paint::Bold, &span.name));
        if !span.service.is_empty() {
            let _ = write!(head, "  {}", style.paint(Paint::Service, &span.service));
        }
        if !span.kind.is_empty() && span.kind != "internal" {
            let _ = write!(head, " {}", span.kind);
        }
        let bar = self.bar(span);
        let ms = span.duration_ms.map(duration).unwrap_or_default();
        let _ = write!(head, "  {}  {ms}", style.paint(Paint::Dim, &bar));
        if let Some(why) = &span.error {
            let status = if why.is_empty() {
                "✗ error".to_owned()
            } else {
                format!("✗ error: {why}")
            };
            let _ = write!(head, "  {}", style.paint(Paint::Level("ERROR"), &status));
        }
        if let Some(parent) = &span.parent {
            let parent_row = self.trace.spans.iter().find(|s| &s.span_id == parent);
            // A child outside its parent's time: the two services' clocks disagree.
            if let Some(p) = parent_row {
                let before = matches!((span.start, p.start), (Some(c), Some(p)) if c < p);
                let after = matches!((span.end, p.end), (Some(c), Some(p)) if c > p);
                if before || after {
                    let _ = write!(
                        head,
                        "  {}",
                        style.paint(
                            Paint::Dim,
                            &format!(
                                "({} its parent: clock skew between services?)",
                                if before {
                                    "starts before"
                                } else {
                                    "ends after"
                                }
                            )
                        )
                    );
                }
            }
            if parent_row.is_none() {
                let _ = write!(
                    head,
                    "  {}",
                    style.paint(
                        Paint::Dim,
                        &format!("(parent {} not in these logs)", short(parent))
                    )
                );
            }
        }
        let _ = writeln!(out, "{head}");
        for line in self
            .trace
            .lines
            .iter()
            .filter(|l| l.span_id.as_deref() == Some(span.span_id.as_str()))
        {
            self.line(out, line, depth + 1);
        }
        let mut children: Vec<&SpanRow> = self
            .trace
            .spans
            .iter()
            .filter(|c| c.parent.as_deref() == Some(span.span_id.as_str()))
            .collect();
        children.sort_by_key(|c| c.start);
        for child in children {
            self.span(out, child, depth + 1);
        }
    }

    fn line(&self, out: &mut String, line: &LineRow, depth: usize) {
        let indent = "  ".repeat(depth);
        let style = self.style;
        let _ = writeln!(
            out,
            "{indent}{} {} {}",
            style.paint(Paint::Dim, &line.clock),
            style.paint(Paint::Level(&line.level), &format!("{:<5}", line.level)),
            line.message
        );
    }

    /// `[   ██████      ]`: where the span lies in the trace's time. A span whose clock puts it
    /// outside the trace's bounds (services with skewed clocks) is clamped to them.
    fn bar(&self, span: &SpanRow) -> String {
        let (Some(t0), Some(start)) = (self.t0, span.start) else {
            return format!("[{}]", " ".repeat(BAR));
        };
        let scale = if self.total_ms > 0.0 {
            BAR as f64 / self.total_ms
        } else {
            0.0
        };
        let offset_ms = (start - t0).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        let from = ((offset_ms * scale).floor() as usize).min(BAR - 1);
        let len = ((span.duration_ms.unwrap_or(0.0) * scale).round() as usize).clamp(1, BAR - from);
        format!(
            "[{}{}{}]",
            " ".repeat(from),
            "█".repeat(len),
            " ".repeat(BAR - from - len)
        )
    }
}
