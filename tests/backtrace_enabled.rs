// A binary of its own: std reads `RUST_LIB_BACKTRACE` once per process, at its first backtrace.
//! With `RUST_LIB_BACKTRACE=1`, exceptions carry a stack trace that starts at the user's code.

#[path = "support"]
mod support {
    pub mod capture;
    pub mod harness;
    pub mod parse;
}

use support::harness::{attr, Harness};
use tracing::{info_span, instrument};

#[instrument(err)]
fn failing_instrumented() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("disk on fire"))
}

#[test]
fn stack_traces_are_captured_and_start_at_user_code() {
    // Set before anything in this process captures a backtrace; this binary runs one test.
    std::env::set_var("RUST_LIB_BACKTRACE", "1");
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("recorded");
        let _e = span.enter();
        tracing_correlate::record_exception(&std::io::Error::other("recorded error"));
    });
    h.run(|| {
        let _ = failing_instrumented();
    });
    let lines: Vec<_> = h
        .lines()
        .into_iter()
        .filter(|l| l.get("exception").is_some())
        .collect();
    assert_eq!(lines.len(), 2);

    // record_exception: captured once at the call, the same text on the line and the span.
    let recorded = &lines[0]["exception"]["stacktrace"];
    let recorded = recorded.as_str().expect("stacktrace on the line");
    let span = h.span("recorded");
    let event = span.events.iter().find(|e| e.name == "exception").unwrap();
    assert_eq!(
        attr(&event.attributes, "exception.stacktrace").as_deref(),
        Some(recorded)
    );
    let first_frame = recorded.lines().next().unwrap();
    assert!(
        first_frame.contains("backtrace_enabled::"),
        "first frame is the test, not the logging machinery: {first_frame}"
    );

    // #[instrument(err)]: captured by each layer where it handles the event.
    let instrumented = lines[1]["exception"]["stacktrace"]
        .as_str()
        .expect("stacktrace");
    assert!(
        instrumented
            .lines()
            .next()
            .unwrap()
            .contains("failing_instrumented"),
        "{instrumented}"
    );
    let span = h.span("failing_instrumented");
    let event = span.events.iter().find(|e| e.name == "exception").unwrap();
    let on_span = attr(&event.attributes, "exception.stacktrace").expect("stacktrace on the span");
    assert!(
        on_span
            .lines()
            .next()
            .unwrap()
            .contains("failing_instrumented"),
        "{on_span}"
    );
    // One capture for the event, shared: the span carries the line's text (two captures, one
    // per layer, differed in their frames and cost twice).
    assert_eq!(on_span, instrumented);
    // Trimmed to the application: nothing of the test harness's thread entry or of std's
    // runtime below the test (about 15 frames before), and the line stays small.
    for trace in [recorded, instrumented] {
        for runtime in [
            "__rust_begin_short_backtrace",
            "std::rt::lang_start",
            "__libc_start",
            "std::thread::",
        ] {
            assert!(!trace.contains(runtime), "{runtime} in {trace}");
        }
    }
    for line in h.capture.text().lines() {
        assert!(line.len() <= 8 * 1024, "a line of {} bytes", line.len());
    }
}
