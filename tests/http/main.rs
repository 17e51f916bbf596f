//! HTTP: the server and client middleware in process, the carrier helpers, and services talking
//! to each other across processes (`examples/two_services.rs`, and the Python interop service of
//! `tests/interop/`), their spans received by an OTLP receiver in this process.

#[path = "../support/mod.rs"]
mod support;

#[cfg(unix)]
mod interop_python;
mod middleware;
mod propagation;
mod two_services;

use tracing_correlate::propagation::{BaggagePropagator, TraceContextPropagator};

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
