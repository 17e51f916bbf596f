//! What every rung is checked to write before it is measured, on a capturing sink: lines that
//! parse as JSON, the trace id where the rung promises one, and floors with our layer's keys. A
//! failed check stops the run: a rung that writes nothing, or loses its ids, is not measured.

use std::collections::BTreeSet;

use opentelemetry::trace::TraceContextExt as _;
use serde_json::Value;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use super::floor::{self, FloorSpan, RequestBuffers};
use super::rungs::{self, Rung};
use super::scenario;
use super::sink::{bytes_written, Sink};

/// The lines `rung` writes for one event of scenario (a), checked and printed.
pub fn event(group: &str, rung: &Rung) -> Vec<String> {
    let (lines, bytes) = event_lines(group, rung);
    report(group, rung.name, bytes, &lines);
    lines
}

/// The lines `rung` writes for one event of scenario (a), and their bytes, checked.
pub fn event_lines(group: &str, rung: &Rung) -> (Vec<String>, u64) {
    lines_of(group, rung, scenario::emit_event)
}

/// The lines `rung` writes for one `emit` in an entered span of scenario (a), and their bytes,
/// checked.
fn lines_of(group: &str, rung: &Rung, emit: fn()) -> (Vec<String>, u64) {
    let (sink, captured) = Sink::capturing();
    let dispatch = (rung.build)(sink);
    let (lines, bytes, trace_id) = tracing::dispatcher::with_default(&dispatch, || {
        let span = scenario::event_span();
        let _entered = span.enter();
        let trace_id = otel_trace_id(&span);
        captured.take_lines(); // what opening the span wrote (bunyan's START line)
        let before = bytes_written();
        emit();
        (captured.take_lines(), bytes_written() - before, trace_id)
    });
    verify(group, rung, &lines, 1, trace_id.as_deref());
    (lines, bytes)
}

/// The line `rung` writes for one error of scenario (d), checked and printed with its size: our
/// rungs write the exception (with a stack trace when the rung's name says `_on`, none with
/// `_off`), in at most 8 KiB.
pub fn error(rung: &Rung) {
    let (lines, bytes) = lines_of("d_error", rung, scenario::emit_error);
    report("d_error", rung.name, bytes, &lines);
    if rung.name.starts_with("ours_") {
        let line: Value = serde_json::from_str(&lines[0]).unwrap();
        let stacktrace = line["exception"]["stacktrace"].as_str();
        assert_eq!(stacktrace.is_some(), rung.name.ends_with("_on"), "{line}");
        assert!(
            lines[0].len() <= 8 * 1024,
            "{}: {} bytes",
            rung.name,
            lines[0].len()
        );
        if let Some(stacktrace) = stacktrace {
            eprintln!("    stacktrace, {} bytes:\n{stacktrace}", stacktrace.len());
        }
    }
}

/// The redaction group's events and requests through `rung` (ours): the secret fields are
/// written `"[REDACTED]"` and their values appear nowhere; their plain twins are written as they
/// are. Printed like the other checks.
pub fn redaction(rung: &Rung) {
    let (sink, captured) = Sink::capturing();
    let dispatch = (rung.build)(sink);
    let (lines, bytes) = tracing::dispatcher::with_default(&dispatch, || {
        let before = bytes_written();
        let span = scenario::event_span();
        let entered = span.enter();
        scenario::emit_event_with_secret();
        scenario::emit_event_with_plain();
        drop(entered);
        drop(span);
        scenario::request_with_secret();
        scenario::request_with_plain();
        (captured.take_lines(), bytes_written() - before)
    });
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("redaction: {e}: {l}")))
        .collect();
    assert_eq!(parsed.len(), 2 + 2 * 3, "redaction: {lines:#?}");
    assert_eq!(
        parsed[0]["password"], "[REDACTED]",
        "redaction: {}",
        lines[0]
    );
    assert_eq!(parsed[1]["passcode"], "hunter2", "redaction: {}", lines[1]);
    for line in &parsed[2..5] {
        assert_eq!(line["api_key"], "[REDACTED]", "redaction: {line}");
    }
    for line in &parsed[5..] {
        assert_eq!(line["api_ref"], "k-123", "redaction: {line}");
    }
    let secret_lines = [&lines[0], &lines[2], &lines[3], &lines[4]];
    assert!(
        secret_lines
            .iter()
            .all(|l| !l.contains("hunter2") && !l.contains("k-123")),
        "redaction: a secret value in {secret_lines:#?}"
    );
    report("redaction", rung.name, bytes, &lines);
}

/// The lines `rung` writes for one request of scenario (b), checked and printed.
pub fn request(group: &str, rung: &Rung) -> Vec<String> {
    let (lines, bytes) = request_lines(group, rung);
    report(group, rung.name, bytes, &lines);
    lines
}

/// The lines `rung` writes for one request of scenario (b), and their bytes, checked.
pub fn request_lines(group: &str, rung: &Rung) -> (Vec<String>, u64) {
    let (sink, captured) = Sink::capturing();
    let dispatch = (rung.build)(sink);
    let (lines, bytes, trace_id) = tracing::dispatcher::with_default(&dispatch, || {
        let before = bytes_written();
        let mut trace_id = None;
        scenario::request_with(|span| trace_id = otel_trace_id(span));
        (captured.take_lines(), bytes_written() - before, trace_id)
    });
    verify(group, rung, &lines, 3, trace_id.as_deref());
    (lines, bytes)
}

fn verify(group: &str, rung: &Rung, lines: &[String], events: usize, trace_id: Option<&str>) {
    let name = format!("{group}/{}", rung.name);
    if !rung.writes {
        assert!(lines.is_empty(), "{name} wrote {lines:?}");
        return;
    }
    // Bunyan adds START and END lines; the others write one line per event.
    assert!(lines.len() >= events, "{name}: {} lines", lines.len());
    for line in lines {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "{name}: not JSON: {line}"
        );
    }
    if rung.trace_id {
        let trace_id = trace_id.unwrap_or_else(|| panic!("{name}: no OpenTelemetry span"));
        assert_eq!(lines.len(), events, "{name}: {lines:?}");
        for line in lines {
            assert!(
                line.contains(trace_id),
                "{name}: no trace id {trace_id}: {line}"
            );
        }
    } else if let Some(trace_id) = trace_id {
        assert!(
            lines.iter().all(|l| !l.contains(trace_id)),
            "{name} writes ids: mark it so"
        );
    }
}

/// Prints what a rung writes per iteration; the lines themselves for the ladders only.
fn report(group: &str, name: &str, bytes: u64, lines: &[String]) {
    eprintln!("{group}/{name}: {bytes} bytes in {} lines", lines.len());
    if group.starts_with("a_") || group.starts_with("b_") {
        for line in lines {
            eprintln!("    {line}");
        }
    }
}

/// The OpenTelemetry trace id of `span` in hex, when a bridge gave it one.
fn otel_trace_id(span: &Span) -> Option<String> {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// The floor writes the keys our layer writes: the event's line with ids against
/// `ours_otel`'s, without against `ours_json`'s, the request's three lines against `ours_otel`'s.
pub fn floors(
    ours_otel_event: &[String],
    ours_json_event: &[String],
    ours_otel_request: &[String],
) {
    let (sink, captured) = Sink::capturing();
    let mut line = String::new();
    let mut span = FloorSpan::default();
    for (name, with_ids, ours) in [
        ("floor", true, ours_otel_event),
        ("floor_no_ids", false, ours_json_event),
    ] {
        floor::event_span(&mut span, with_ids);
        let before = bytes_written();
        floor::event(&mut line, &span, &sink);
        let bytes = bytes_written() - before;
        let lines = captured.take_lines();
        assert_same_keys(name, &lines, ours);
        check_timestamp(&lines[0]);
        report("a_event", name, bytes, &lines);
    }
    let before = bytes_written();
    floor::request(&mut RequestBuffers::default(), &sink);
    let bytes = bytes_written() - before;
    let lines = captured.take_lines();
    assert_same_keys("floor (b)", &lines, ours_otel_request);
    report("b_request", "floor", bytes, &lines);
}

/// `init-tracing-opentelemetry`'s real production JSON layer (its `build_layer()`, to a file)
/// writes the keys our rebuild of it writes.
pub fn init_tracing_rebuild(rebuilt_event: &[String]) {
    let path = std::env::temp_dir().join(format!(
        "tracing-correlate-bench-init-tracing-{}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let config = rungs::init_tracing_production_config().with_file(&path);
    let provider = rungs::provider();
    {
        use opentelemetry::trace::TracerProvider as _;
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_opentelemetry::layer()
                    .with_error_records_to_exceptions(true)
                    .with_tracer(provider.tracer("")),
            )
            .with(config.build_layer().expect("its JSON layer"))
            .with(rungs::init_tracing_filter());
        tracing::subscriber::with_default(subscriber, || {
            let span = scenario::event_span();
            let _entered = span.enter();
            scenario::emit_event();
        });
    }
    let real = std::fs::read_to_string(&path).expect("its log file");
    let _ = std::fs::remove_file(&path);
    let real: Vec<String> = real.lines().map(str::to_owned).collect();
    assert_same_keys("init_tracing_otel rebuild", rebuilt_event, &real);
    eprintln!("init_tracing_otel, its own build_layer(): {}", real[0]);
}

fn assert_same_keys(what: &str, ours: &[String], theirs: &[String]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {ours:?} / {theirs:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert_eq!(key_paths(a), key_paths(b), "{what}:\n{a}\n{b}");
    }
}

fn key_paths(line: &str) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.insert(path.clone());
                    walk(v, &path, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(&serde_json::from_str(line).unwrap(), "", &mut out);
    out
}

fn check_timestamp(line: &str) {
    let v: Value = serde_json::from_str(line).unwrap();
    let ts = v["timestamp"].as_str().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(ts).expect("an RFC 3339 timestamp");
    let skew = chrono::Utc::now()
        .signed_duration_since(t)
        .num_seconds()
        .abs();
    assert!(skew < 5, "floor timestamp {ts} is {skew} s off");
}

/// What `rung` of group (e) writes for one DEBUG event in a span that then ends, and for one
/// request of the group, checked: the filtered-out and held rungs write nothing of the event (the
/// held one counts it discarded), the written one its line; a request writes its INFO lines and,
/// where DEBUG is written, its six DEBUG lines; a failing request under held lines writes the six
/// held (`"held":true`), of its trace. Printed like the other checks.
pub fn held(rung: &Rung, failing: bool) {
    let (sink, captured) = Sink::capturing();
    let dispatch = (rung.build)(sink);
    let (event_lines, request_lines, bytes) = tracing::dispatcher::with_default(&dispatch, || {
        captured.take_lines();
        {
            let span = scenario::event_span();
            let _entered = span.enter();
            scenario::emit_debug_event();
        }
        let event_lines = captured.take_lines();
        let before = bytes_written();
        if failing {
            scenario::failing_request_with_debug();
        } else {
            scenario::request_with_debug();
        }
        (event_lines, captured.take_lines(), bytes_written() - before)
    });
    let name = rung.name;
    let debug_written = name.starts_with("debug_written");
    assert_eq!(
        event_lines.len(),
        usize::from(debug_written),
        "{name}: {event_lines:?}"
    );
    let parsed: Vec<Value> = request_lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
        .collect();
    let debug: Vec<&Value> = parsed.iter().filter(|l| l["level"] == "DEBUG").collect();
    let held = name.starts_with("debug_held");
    let expected = if debug_written || held && failing {
        scenario::DEBUG_EVENTS_PER_REQUEST
    } else {
        0
    };
    assert_eq!(debug.len(), expected, "{name}: {request_lines:?}");
    assert!(debug.iter().all(|l| (l["held"] == true) == held), "{name}");
    assert_eq!(
        parsed.len() - debug.len(),
        3,
        "{name}: three INFO/ERROR lines"
    );
    let trace_ids: BTreeSet<&str> = parsed
        .iter()
        .map(|l| l["trace_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(trace_ids.len(), 1, "{name}: one trace");
    assert!(!trace_ids.contains(""), "{name}: lines with the trace's id");
    report("e_held", name, bytes, &request_lines);
}
