//! HTTP: the server and client middleware in process, the carrier helpers (and header values that
//! are not ASCII), and services talking to each other across processes (`examples/two_services.rs`,
//! the Python interop service of `tests/interop/`, and `examples/w3c_service.rs` driven as the W3C
//! test suite drives it), their spans received by an OTLP receiver in this process; and handlers
//! that panic, with the init's panic hook in a child process (`support/child.rs`).

#[path = "../support"]
mod support {
    pub mod capture;
    pub mod child;
    pub mod collector;
    pub mod find;
    pub mod harness;
    pub mod ids;
    pub mod parse;
}

mod access;
mod baggage;
mod header_values;
mod held;
#[cfg(unix)]
mod interop_python;
mod middleware;
mod panics;
mod propagation;
mod two_services;
mod w3c;

use std::path::PathBuf;

use tracing_correlate::propagation::{BaggagePropagator, TraceContextPropagator};

/// The entry point of a child process (`support/child.rs`); ignored in a normal run.
#[test]
#[ignore = "runs only as a child process of this binary's tests"]
fn child() {
    support::child::dispatch(&[panics::CHILD_CASES, access::CHILD_CASES, held::CHILD_CASES]);
}

/// Installs the global propagator, W3C trace context and baggage. It is one per process: every
/// test of this binary that needs one installs this same one, so no test sees another's.
fn install_propagators() {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry::propagation::TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]),
    );
}

/// The OTLP `SpanKind` numbers, as `support::collector::Received::kind` holds them.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

/// `target/<profile>`: a test binary is `target/<profile>/deps/<test>-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(std::path::Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .to_owned()
}

/// An example's binary, which `cargo test --all-features` builds next to the tests.
fn example(name: &str) -> PathBuf {
    let path = profile_dir().join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests as CI does, `cargo test --all-features`, which builds it",
        path.display()
    );
    path
}
