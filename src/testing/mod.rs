//! Test helpers: capture what code under test logs and traces, with the layers the init builds,
//! and assert on the lines and the spans joined by their ids (feature `testing`).
//!
//! A capture installs its own subscriber for the closure or future it runs (never the global
//! one), so tests run in parallel and never see each other's lines or spans. The lines go through
//! the same [`JsonLayer`](crate::JsonLayer) and [`otel_layer`](crate::otel_layer) as under the init
//! (the same schema, redaction, presets and exception mapping), the finished spans through the
//! init's span processor (redaction, value limits) into memory, and, when asked, the events as
//! OpenTelemetry log records through the init's logs bridge.
//!
//! ```
//! use tracing_correlate::testing;
//!
//! #[tracing::instrument(err)]
//! fn charge(order_id: u64) -> Result<(), std::io::Error> {
//!     tracing::info!("charging");
//!     Err(std::io::Error::other("card declined"))
//! }
//!
//! let (result, captured) = testing::capture(|| charge(7));
//! assert!(result.is_err());
//! captured
//!     .assert_one_trace()
//!     .assert_field("charging", "order_id", 7)
//!     .assert_lines_at("ERROR", 1);
//! let span = captured.span("charge");
//! assert_eq!(captured.lines_of(span).len(), 2);
//! ```
//!
//! | to capture | use |
//! |---|---|
//! | a closure | [`capture`], or [`Recorder::record`] to configure it |
//! | a future (`#[tokio::test]`, either flavour) | [`capture_async`], [`Recorder::record_async`]: the subscriber follows the future onto whichever thread polls it |
//! | a whole test, by a guard | [`Recorder::start`]: on this thread until [`Recording::finish`] |
//!
//! Tasks spawned inside (`tokio::spawn`) do not inherit the capture's subscriber, as with any
//! `tracing` subscriber set for a scope: give them `tracing::instrument::WithSubscriber::with_current_subscriber`.
//! Propagation uses the global propagator, which a capture does not set: a test of a server that
//! continues a caller's trace installs one (`opentelemetry::global::set_text_map_propagator`).

mod assertions;
mod captured;
mod ids;
mod recorder;
mod writer;

pub use captured::{Captured, LogRecord};
pub use recorder::{Recorder, Recording};

/// Runs `f` under a capture with the default [`Recorder`]; returns its result and what it
/// logged and traced.
///
/// ```
/// let (n, captured) = tracing_correlate::testing::capture(|| {
///     tracing::info!(n = 2, "counted");
///     2
/// });
/// assert_eq!(n, 2);
/// captured.assert_field("counted", "n", 2);
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    Recorder::new().record(f)
}

/// Runs `future` under a capture with the default [`Recorder`]; returns its output and what it
/// logged and traced.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (_, captured) = tracing_correlate::testing::capture_async(async {
///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
/// })
/// .await;
/// let span = captured.span("request");
/// assert_eq!(captured.lines_of(span).len(), 1);
/// # }
/// ```
pub async fn capture_async<F: std::future::Future>(future: F) -> (F::Output, Captured) {
    Recorder::new().record_async(future).await
}
