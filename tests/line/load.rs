//! Load: two threads emitting 500,000 events each lose nothing and tear no line.
//!
//! - Through a blocking writer (a mutex-guarded sink, as a file or stdout is), the byte stream holds
//!   exactly 1,000,000 whole lines, each thread's lines in order, none missing, none twice.
//! - Through `tracing_appender::non_blocking` (bounded queue, lossy), the lines that reach the sink
//!   plus the lines the appender reports dropped are exactly the lines emitted, whether the sink
//!   stalls (most lines dropped) or keeps up.
//!
//! The sinks check the stream as it arrives instead of keeping it (a million lines are ~250 MB):
//! every line is checked for its framing, its JSON syntax and its sequence number, and a
//! deterministic sample is parsed in full. Every test runs its threads under a deadline, so a
//! deadlock fails instead of hanging. `--nocapture` prints the figures quoted in RELIABILITY.md.

use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tracing::{info, info_span, Dispatch};
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_correlate::opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use opentelemetry::trace::TracerProvider as _;

use crate::support::parse::parse_line;

/// Emitting threads, and events each emits: the figures.
const THREADS: usize = 2;
const EVENTS_PER_THREAD: u64 = 500_000;
const EMITTED: u64 = THREADS as u64 * EVENTS_PER_THREAD;

/// Every this-many-th line a sink receives is parsed in full (`serde_json::Value`, duplicate keys
/// rejected) and its values compared; every line is checked for JSON syntax.
const SAMPLE_EVERY: u64 = 1_000;

/// How long a whole scenario may take before the test fails instead of waiting on.
const DEADLINE: Duration = Duration::from_secs(180);

/// What a sink saw, checked line by line as the bytes arrive.
struct Stream {
    /// The text of a line not yet ended by `\n` (the lines are ASCII: a write never splits a
    /// character).
    partial: String,
    /// Whether a thread's sequence may skip numbers (lines dropped on the way) or must not.
    gaps_allowed: bool,
    /// Per emitting thread: the sequence number its next line must have (at least, with gaps).
    next_seq: [u64; THREADS],
    lines: u64,
    writes: u64,
    bytes: u64,
    sampled: u64,
    /// The first problems found (framing, JSON, order), and how many there were in all.
    problems: Vec<String>,
    problem_count: u64,
}

impl Stream {
    fn new(gaps_allowed: bool) -> Self {
        Stream {
            partial: String::new(),
            gaps_allowed,
            next_seq: [0; THREADS],
            lines: 0,
            writes: 0,
            bytes: 0,
            sampled: 0,
            problems: Vec::new(),
            problem_count: 0,
        }
    }

    fn problem(&mut self, what: String) {
        self.problem_count += 1;
        if self.problems.len() < 10 {
            self.problems.push(what);
        }
    }

    /// Takes bytes as the sink receives them: complete lines are checked at once, the tail waits.
    fn take(&mut self, bytes: &[u8]) {
        self.writes += 1;
        self.bytes += bytes.len() as u64;
        // (The searches are std's, which a debug build still runs optimised.)
        let mut bytes = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                self.problem(format!("a write is not UTF-8: {e}"));
                return;
            }
        };
        while let Some(end) = bytes.find('\n') {
            if self.partial.is_empty() {
                self.check_line(&bytes[..end]);
            } else {
                self.partial.push_str(&bytes[..end]);
                let whole = std::mem::take(&mut self.partial);
                self.check_line(&whole);
            }
            bytes = &bytes[end + 1..];
        }
        self.partial.push_str(bytes);
    }

    /// One line (without its `\n`): framing, JSON syntax, thread and sequence number.
    fn check_line(&mut self, line: &str) {
        let index = self.lines;
        self.lines += 1;
        if !line.starts_with("{\"timestamp\":\"") || !line.ends_with('}') {
            self.problem(format!("line {index} is not framed as one object: {line}"));
            return;
        }
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(line) {
            self.problem(format!("line {index} is not JSON ({e}): {line}"));
            return;
        }
        let (Some(worker), Some(seq)) = (
            number_after(line, ",\"worker\":"),
            number_after(line, ",\"seq\":"),
        ) else {
            self.problem(format!("line {index} lacks worker or seq: {line}"));
            return;
        };
        let Some(expected) = self.next_seq.get(worker as usize).copied() else {
            self.problem(format!("line {index}: unknown worker {worker}"));
            return;
        };
        let in_order = if self.gaps_allowed {
            seq >= expected
        } else {
            seq == expected
        };
        if !in_order {
            self.problem(format!(
                "line {index}: worker {worker} seq {seq}, expected {}{expected} (a line lost, \
                 repeated or reordered)",
                if self.gaps_allowed { ">= " } else { "" }
            ));
        }
        self.next_seq[worker as usize] = seq + 1;
        if index % SAMPLE_EVERY == 0 {
            self.sampled += 1;
            if let Err(what) = check_sampled(line, worker, seq) {
                self.problem(format!("line {index}: {what}"));
            }
        }
    }
}

/// The unsigned number that follows `key` in `line`, if any.
fn number_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.rfind(key)? + key.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A sampled line, parsed in full (duplicate keys rejected), holds what was emitted, inside its
/// span; a mismatch is described rather than panicked on (this runs inside a writer).
fn check_sampled(line: &str, worker: u64, seq: u64) -> Result<(), String> {
    let parsed = std::panic::catch_unwind(|| parse_line(line))
        .map_err(|_| format!("not one JSON object without duplicate keys: {line}"))?;
    let expected = [
        ("level", json!("INFO")),
        ("service", json!("load")),
        ("target", json!(module_path!())),
        ("message", json!("event")),
        ("trace_flags", json!("01")),
        ("span_name", json!("emitter")),
        ("run", json!("load")),
        ("worker", json!(worker)),
        ("seq", json!(seq)),
        ("size", json!(42)),
    ];
    for (key, value) in expected {
        if parsed[key] != value {
            return Err(format!("{key} is not {value}: {line}"));
        }
    }
    for (key, len) in [("trace_id", 32), ("span_id", 16), ("timestamp", 27)] {
        if parsed[key].as_str().map(str::len) != Some(len) {
            return Err(format!("{key} is not {len} characters: {line}"));
        }
    }
    Ok(())
}

/// A blocking `MakeWriter`: each write takes the sink's lock, as a file or stdout does.
#[derive(Clone)]
struct Blocking(Arc<Mutex<Stream>>);

struct BlockingWriter(Arc<Mutex<Stream>>);

impl io::Write for BlockingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().take(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Blocking {
    type Writer = BlockingWriter;
    fn make_writer(&'a self) -> BlockingWriter {
        BlockingWriter(self.0.clone())
    }
}

/// Both layers, as a service composes them (the spans get real OpenTelemetry ids; no exporter).
fn dispatch<W>(make_writer: W) -> (Dispatch, tracing_correlate::Stats)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider = SdkTracerProvider::builder().build();
    let layer = tracing_correlate::layer()
        .with_service_name("load")
        .with_writer(make_writer);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(provider.tracer("load")))
        .with(layer);
    (Dispatch::new(subscriber), stats)
}

/// Runs `THREADS` threads emitting `EVENTS_PER_THREAD` events each inside a span of their own,
/// and waits for them under the deadline; returns how long they took.
fn emit(dispatch: &Dispatch) -> Duration {
    let started = Instant::now();
    let (done, finished) = mpsc::channel();
    for worker in 0..THREADS as u64 {
        let dispatch = dispatch.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let span = info_span!("emitter", worker, run = "load");
                let _entered = span.enter();
                for seq in 0..EVENTS_PER_THREAD {
                    info!(seq, size = 42u64, "event");
                }
            });
            let _ = done.send(worker);
        });
    }
    drop(done);
    for _ in 0..THREADS {
        finished
            .recv_timeout(DEADLINE.saturating_sub(started.elapsed()))
            .expect("every emitting thread finishes before the deadline");
    }
    started.elapsed()
}

#[test]
fn two_threads_through_a_blocking_writer_give_exactly_one_million_whole_lines() {
    let stream = Arc::new(Mutex::new(Stream::new(false)));
    let (dispatch, stats) = dispatch(Blocking(stream.clone()));
    let took = emit(&dispatch);

    let stream = stream.lock().unwrap();
    assert!(
        stream.problems.is_empty(),
        "{} problems, the first: {:#?}",
        stream.problem_count,
        stream.problems
    );
    assert!(
        stream.partial.is_empty(),
        "the stream ends mid-line: {:?}",
        stream.partial
    );
    assert_eq!(stream.lines, EMITTED, "exactly one line per event");
    assert_eq!(
        stream.next_seq, [EVENTS_PER_THREAD; THREADS],
        "each thread's lines 0..{EVENTS_PER_THREAD}, in order, none missing or repeated"
    );
    assert_eq!(stream.writes, stream.lines, "one write call per line");
    assert_eq!(stats.write_errors(), 0);
    assert_eq!(stats.dropped_reentrant(), 0);
    eprintln!(
        "blocking: {} lines ({} bytes) from {THREADS} threads in {:.2?}; {} parsed in full, all \
         checked for framing, JSON syntax and sequence; write_errors {}, dropped_reentrant {}",
        stream.lines,
        stream.bytes,
        took,
        stream.sampled,
        stats.write_errors(),
        stats.dropped_reentrant()
    );
}

/// The sink behind `tracing_appender`'s worker thread: it may wait for a gate before its first
/// write (a stalled disk or pipe), and tells the test when the worker has dropped it (the worker
/// has ended, so everything it will ever write has been written).
struct Sink {
    stream: Arc<Mutex<Stream>>,
    gate: Option<mpsc::Receiver<()>>,
    _dropped: mpsc::Sender<()>,
}

impl io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(gate) = self.gate.take() {
            // Opened by a message, or by the test dropping its end (also when it fails).
            let _ = gate.recv();
        }
        self.stream.lock().unwrap().take(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a non-blocking run gave.
struct Delivered {
    written: u64,
    dropped: u64,
    took: Duration,
}

/// Emits through `tracing_appender::non_blocking` (lossy, `limit` lines of queue) into a sink,
/// stalled until the emitting threads are done when `stalled`; returns what reached the sink and
/// what the appender reports dropped, once its worker has written all it will.
fn through_non_blocking(limit: usize, stalled: bool) -> Delivered {
    let stream = Arc::new(Mutex::new(Stream::new(true)));
    let (open, gate) = mpsc::channel();
    let (dropped_tx, sink_dropped) = mpsc::channel();
    let sink = Sink {
        stream: stream.clone(),
        gate: stalled.then_some(gate),
        _dropped: dropped_tx,
    };
    let (non_blocking, worker_guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(limit)
        .finish(sink);
    let errors = non_blocking.error_counter();
    let (dispatch, stats) = dispatch(non_blocking);

    let took = emit(&dispatch);
    // Open the gate, then let the worker drain its queue and end: dropping the dispatch drops the
    // last sender of the queue, dropping the guard asks the worker to shut down.
    drop(open);
    drop(dispatch);
    drop(worker_guard);
    match sink_dropped.recv_timeout(Duration::from_secs(60)) {
        Err(mpsc::RecvTimeoutError::Disconnected) => {}
        other => panic!("the appender's worker ends and drops its sink: {other:?}"),
    }

    let stream = stream.lock().unwrap();
    assert!(
        stream.problems.is_empty(),
        "{} problems, the first: {:#?}",
        stream.problem_count,
        stream.problems
    );
    assert!(stream.partial.is_empty(), "the stream ends mid-line");
    assert_eq!(
        stream.writes, stream.lines,
        "one write per line reaches the sink"
    );
    assert_eq!(stats.write_errors(), 0, "the appender takes every line");
    assert_eq!(stats.dropped_reentrant(), 0);
    let delivered = Delivered {
        written: stream.lines,
        dropped: errors.dropped_lines() as u64,
        took,
    };
    eprintln!(
        "non-blocking, queue {limit}, {}: emitted {EMITTED} in {:.2?}, written {}, reported \
         dropped {}, {} parsed in full",
        if stalled {
            "stalled sink"
        } else {
            "free-running sink"
        },
        delivered.took,
        delivered.written,
        delivered.dropped,
        stream.sampled
    );
    delivered
}

#[test]
fn through_a_non_blocking_writer_with_a_stalled_sink_written_plus_dropped_equals_emitted() {
    let limit = 1_024;
    let d = through_non_blocking(limit, true);
    assert_eq!(
        d.written + d.dropped,
        EMITTED,
        "written {} + dropped {}",
        d.written,
        d.dropped
    );
    // The queue bounds what waits in memory: at most the queue and the line the worker holds.
    assert!(d.written <= limit as u64 + 1, "written {}", d.written);
    assert!(
        d.dropped >= EMITTED - limit as u64 - 1,
        "dropped {}",
        d.dropped
    );
}

#[test]
fn through_a_non_blocking_writer_with_a_free_running_sink_written_plus_dropped_equals_emitted() {
    let d = through_non_blocking(1_024, false);
    assert_eq!(
        d.written + d.dropped,
        EMITTED,
        "written {} + dropped {}",
        d.written,
        d.dropped
    );
    assert!(d.written > 0);
}
