//! The one-line init, end to end: the tests that run the crate's init in child processes of their
//! own (this binary run again with one case, `support/child.rs`), the parent setting each child's
//! environment and reading what it wrote.
//!
//! - `init`: exporters, protocols, the `OTEL_*` environment, the panic hook, redaction.
//! - `exceptions`: the exceptions of OTLP log records, against the span events and the lines.
//! - `collector_faults`: collectors that are slow, fail, never answer or refuse connections.
//! - `writer_faults`: a closed stdout and a full disk, for the layer alone and through the init.
//! - `non_blocking`: the non-blocking output against a stalled reader (a full pipe), lossy and
//!   blocking, and the guard's flush of its queue.
//! - `tls`: OTLP over `https://` through a TLS receiver, its CA given or not, unusable files.
//! - `lifecycle`: `Guard::flush` between batches, a server stopped by `SIGTERM`.
//! - `format`: `TRACING_CORRELATE_FORMAT=pretty`, the lines rendered for a person.

#[path = "../support"]
mod support {
    pub mod child;
    pub mod collector;
    pub mod fault_collector;
    pub mod parse;
    pub mod tls;
}

mod collector_faults;
mod exceptions;
mod format;
mod init;
mod lifecycle;
#[cfg(target_os = "linux")]
mod non_blocking;
mod sdk_env;
mod tls;
#[cfg(target_os = "linux")]
mod writer_faults;

/// The entry point of a child process (`support/child.rs`); ignored in a normal run.
#[test]
#[ignore = "runs only as a child process of this binary's tests"]
fn child() {
    support::child::dispatch(&[
        init::CHILD_CASES,
        exceptions::CHILD_CASES,
        format::CHILD_CASES,
        lifecycle::CHILD_CASES,
        collector_faults::CHILD_CASES,
        sdk_env::CHILD_CASES,
        #[cfg(target_os = "linux")]
        writer_faults::CHILD_CASES,
        #[cfg(target_os = "linux")]
        non_blocking::CHILD_CASES,
    ]);
}
