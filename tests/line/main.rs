//! The JSON layer and the OpenTelemetry bridge, in process: each test composes its own subscriber
//! and sets it as a scoped default, so the tests run side by side in one process. The one that
//! needs the global default runs in a child process (`reentrancy`, through `support/child.rs`).

#[path = "../support"]
mod support {
    pub mod capture;
    pub mod child;
    pub mod find;
    pub mod harness;
    pub mod ids;
    pub mod parse;
    pub mod runtime;
}

mod baggage;
mod bounds;
mod chains;
mod correlation;
mod escaping;
mod exceptions;
mod framing;
mod held;
mod keys;
mod layer_identity;
mod load;
mod numbers;
mod presets;
mod redaction;
mod reentrancy;
mod robustness;
mod stacktraces;
mod writers;

/// The entry point of a child process (`support/child.rs`); ignored in a normal run.
#[test]
#[ignore = "runs only as a child process of this binary's tests"]
fn child() {
    support::child::dispatch(&[reentrancy::CHILD_CASES]);
}
