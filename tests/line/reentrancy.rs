//! Re-entrancy: a `Debug` impl that logs, a span created while a field is formatted, and a writer
//! that logs on every write neither deadlock nor loop. The subscriber is the *global* default:
//! under a scoped default, tracing-core itself drops events emitted during another event, and it
//! does so on every thread of a process in which any scoped default exists. The other tests of
//! this binary set scoped defaults, so the case runs in a child process of its own
//! (`support/child.rs`). Everything runs on a worker thread with a time bound, so a deadlock fails
//! instead of hanging.

use std::fmt;
use std::io;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use tracing::{info, info_span};
use tracing_correlate::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::support;
use crate::support::capture::{Capture, CaptureWriter};
use crate::support::find::line_with;

/// A value whose `Debug` logs, and opens a span, while it is being formatted.
struct Chatty;

impl fmt::Debug for Chatty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = info_span!("inside_debug");
        let _e = span.enter();
        info!("logged from Debug");
        f.write_str("chatty")
    }
}

/// A value whose `Display` logs: used in an ERROR event's message, which the OpenTelemetry layer
/// formats as the span's status description.
struct ChattyDisplay;

impl fmt::Display for ChattyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        info!("logged from Display");
        f.write_str("upstream down")
    }
}

/// A writer that logs each time it is asked to write: the worst case of re-entrancy.
#[derive(Clone)]
struct LoggingWriter(Capture);

struct LoggingWrite(CaptureWriter);

impl io::Write for LoggingWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        info!(target: "writer", "writer wrote {} bytes", buf.len());
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LoggingWriter {
    type Writer = LoggingWrite;
    fn make_writer(&'a self) -> LoggingWrite {
        LoggingWrite(self.0.make_writer())
    }
}

#[test]
fn logging_from_debug_and_from_the_writer_neither_deadlocks_nor_loops() {
    let out = support::child::output(&mut support::child::command("reentrancy"));
    assert!(
        out.status.success(),
        "the case failed in its child process ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The cases the tests of this file run in a child process ([`support::child`]), each by its
/// name.
pub const CHILD_CASES: &[support::child::Case] = &[("reentrancy", reentrancy)];

/// The global subscriber, the chatty values and the logging writer, and every check.
fn reentrancy() {
    let capture = Capture::default();
    let layer = tracing_correlate::layer().with_writer(LoggingWriter(capture.clone()));
    let stats = layer.stats();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(InMemorySpanExporter::default())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(provider.tracer("t")))
        .with(layer);
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let span = info_span!("outer", value = ?Chatty);
        let _e = span.enter();
        info!(field = ?Chatty, "outer event");
        tracing::error!("failed: {}", ChattyDisplay);
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("no deadlock: the worker finished in time");

    let lines = capture.lines();
    line_with(&lines, "failed: upstream down");
    let outer = line_with(&lines, "outer event");
    assert_eq!(outer["field"], "chatty");
    assert_eq!(outer["value"], "chatty");
    let from_debug: Vec<_> = lines
        .iter()
        .filter(|l| l["message"] == "logged from Debug")
        .collect();
    // The span field is formatted by both layers (the OpenTelemetry layer for its attributes);
    // the INFO event's field only by the JSON layer, since INFO events are not span events by
    // default. Three formattings, three lines.
    assert_eq!(from_debug.len(), 3);
    for line in &from_debug {
        assert_eq!(line["span_name"], "inside_debug");
        assert_eq!(line["trace_id"].as_str().map(str::len), Some(32));
    }
    // Each line written makes the writer log once; that event is either written itself (one
    // level of nesting) or, one level deeper, dropped and counted: nothing recurses, nothing is
    // lost without a count.
    let writer_lines = lines.iter().filter(|l| l["target"] == "writer").count() as u64;
    assert!(writer_lines > 0);
    assert!(stats.dropped_reentrant() > 0);
    assert_eq!(writer_lines + stats.dropped_reentrant(), lines.len() as u64);
}
