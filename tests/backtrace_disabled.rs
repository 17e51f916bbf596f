// A binary of its own: std reads `RUST_LIB_BACKTRACE` once per process, at its first backtrace.
//! With `RUST_LIB_BACKTRACE=0` (even when `RUST_BACKTRACE=1` asks for panic backtraces), exceptions
//! carry no stack trace.

#[path = "support"]
mod support {
    pub mod capture;
    pub mod harness;
    pub mod parse;
}

use support::harness::{attr, Harness};
use tracing::info_span;

#[test]
fn no_stack_trace_when_library_backtraces_are_off() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("recorded");
        let _e = span.enter();
        tracing_correlate::record_exception(&std::io::Error::other("recorded error"));
    });
    let lines = h.lines();
    assert_eq!(lines[0]["exception"]["message"], "recorded error");
    assert!(lines[0]["exception"].get("stacktrace").is_none());
    let span = h.span("recorded");
    let event = span.events.iter().find(|e| e.name == "exception").unwrap();
    assert_eq!(attr(&event.attributes, "exception.stacktrace"), None);
}
