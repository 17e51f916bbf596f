//! Stack traces under the `Stacktraces` setting: one capture per event shared by both layers,
//! starting at the code that logged, ending before the runtime, bounded.

use std::error::Error;

use serde_json::Value;
use tracing::info_span;
use tracing_correlate::fuzzing::stacktraces_captured;
use tracing_correlate::{Stacktraces, MAX_STACKTRACE_FRAMES, MAX_STACKTRACE_LEN};

use crate::support::harness::{attr, Harness};

#[derive(Debug)]
struct ChargeFailed(std::io::Error);

impl std::fmt::Display for ChargeFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("charge failed")
    }
}

impl Error for ChargeFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

/// The code that logs: the first frame of its trace.
#[inline(never)]
fn charge() {
    let err = ChargeFailed(std::io::Error::other("connection refused"));
    tracing::error!(error = &err as &(dyn Error + 'static), "payment failed");
}

#[inline(never)]
fn from_checkout() {
    charge();
    std::hint::black_box(());
}

#[inline(never)]
fn from_refund() {
    charge();
    std::hint::black_box(());
}

/// The `stacktrace` of each line that has one, and of each span's `exception` event, in order.
fn traces(h: &Harness) -> (Vec<String>, Vec<String>) {
    let lines = h
        .lines()
        .iter()
        .filter_map(|l| l["exception"]["stacktrace"].as_str().map(str::to_owned))
        .collect();
    let mut spans = h.spans();
    spans.sort_by_key(|s| s.start_time);
    let on_spans = spans
        .iter()
        .flat_map(|s| s.events.iter())
        .filter(|e| e.name == "exception")
        .filter_map(|e| attr(&e.attributes, "exception.stacktrace"))
        .collect();
    (lines, on_spans)
}

fn frames(trace: &str) -> Vec<&str> {
    trace
        .lines()
        .filter(|l| !l.trim_start().starts_with("at ") && !l.starts_with('…'))
        .collect()
}

#[test]
fn each_event_is_captured_once_and_both_layers_carry_that_capture() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    let before = stacktraces_captured();
    h.run(|| {
        // Two requests failing in the same function called from two places, and a loop: the
        // same event (often at the same address) must get its own stack each time.
        for caller in [from_checkout as fn(), from_refund, from_checkout] {
            let span = info_span!("request");
            let _e = span.enter();
            caller();
        }
    });
    // Three events, two layers: three walks of the stack, not six (one per layer) nor one
    // (a trace reused from an earlier event).
    assert_eq!(stacktraces_captured() - before, 3);
    let (lines, on_spans) = traces(&h);
    assert_eq!(lines.len(), 3);
    assert_eq!(on_spans, lines, "the span events carry the lines' traces");
    for (trace, caller) in lines
        .iter()
        .zip(["from_checkout", "from_refund", "from_checkout"])
    {
        let frames = frames(trace);
        assert!(
            frames[0].ends_with("stacktraces::charge"),
            "first frame is the caller: {trace}"
        );
        assert!(
            frames[1].ends_with(&format!("stacktraces::{caller}")),
            "{trace}"
        );
        assert!(
            frames[0].starts_with("   0: "),
            "frames are numbered from the caller: {trace}"
        );
    }
}

#[test]
fn a_trace_ends_before_the_thread_entry_and_names_files_shortly() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    h.run(from_checkout);
    let (lines, _) = traces(&h);
    let trace = &lines[0];
    for runtime in [
        "__rust_begin_short_backtrace",
        "std::rt::lang_start",
        "std::thread::",
        "__libc_start",
        "tracing_subscriber::",
        "backtrace::",
    ] {
        assert!(!trace.contains(runtime), "{runtime} in {trace}");
    }
    assert!(trace.contains("at ./tests/line/stacktraces.rs:"), "{trace}");
}

#[test]
fn a_trace_in_a_tokio_task_ends_before_the_runtime() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let dispatch = h.dispatch.clone();
    runtime.block_on(async move {
        tokio::spawn(async move {
            tracing::dispatcher::with_default(&dispatch, from_checkout);
        })
        .await
        .unwrap();
    });
    let (lines, _) = traces(&h);
    let frames = frames(&lines[0]);
    assert!(frames[0].ends_with("stacktraces::charge"), "{frames:?}");
    assert!(!lines[0].contains("tokio::runtime::"), "{}", lines[0]);
}

#[inline(never)]
fn deep(depth: u32) {
    if depth == 0 {
        charge();
    } else {
        deep(std::hint::black_box(depth - 1));
    }
    std::hint::black_box(());
}

#[test]
fn a_deep_stack_is_bounded_and_says_what_it_left_out() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        deep(100);
    });
    let raw = h.capture.text();
    let line = raw.lines().find(|l| l.contains("\"exception\"")).unwrap();
    assert!(line.len() <= 8 * 1024, "the line is {} bytes", line.len());
    let parsed: Value = serde_json::from_str(line).unwrap();
    let trace = parsed["exception"]["stacktrace"].as_str().unwrap();
    assert!(trace.len() <= MAX_STACKTRACE_LEN);
    let kept = frames(trace).len();
    assert!(kept <= MAX_STACKTRACE_FRAMES, "{kept} frames");
    // The walk stops one frame past the bound: what is below is neither walked nor counted.
    assert_eq!(trace.lines().last(), Some("…[more frames]"), "{trace}");
    assert_eq!(kept, MAX_STACKTRACE_FRAMES, "{trace}");
}

#[test]
fn off_captures_nothing() {
    let h = Harness::with_stacktraces(Stacktraces::Off);
    let before = stacktraces_captured();
    h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        charge();
        tracing_correlate::record_exception(&std::io::Error::other("recorded"));
    });
    assert_eq!(stacktraces_captured(), before);
    let (lines, on_spans) = traces(&h);
    assert!(lines.is_empty() && on_spans.is_empty());
    assert_eq!(h.lines().len(), 2, "both exceptions are still written");
}

#[test]
fn record_exception_traces_start_at_its_caller() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        recorder();
    });
    let (lines, on_spans) = traces(&h);
    assert_eq!(on_spans, lines);
    assert!(
        frames(&lines[0])[0].ends_with("stacktraces::recorder"),
        "{}",
        lines[0]
    );
}

#[inline(never)]
fn recorder() {
    tracing_correlate::record_exception(&std::io::Error::other("recorded"));
    std::hint::black_box(());
}
