//! The bridge from `tracing` spans to OpenTelemetry spans: `tracing-opentelemetry`'s layer, with
//! its own error mapping turned off and ours in its place, so that every error is mapped once.
//!
//! `tracing-opentelemetry` 0.34 on its own records `#[instrument(err)]` as an `exception` event
//! whose message is the `Debug` form, a `&dyn Error` field as a `source()` chain posing as a stack
//! trace, never an `exception.type`, and sets `Error` with an *empty* description on any ERROR
//! event. This wrapper keeps every other behaviour of that layer (and its `downcast_raw`, so
//! [`OpenTelemetrySpanExt`](tracing_opentelemetry::OpenTelemetrySpanExt) and
//! [`get_otel_context`](tracing_opentelemetry::get_otel_context) keep working) and maps errors by
//! the OpenTelemetry conventions:
//!
//! - an ERROR event carrying an exception (see [`record_exception`](crate::record_exception)) adds
//!   one `exception` span event with `exception.type` (when known), `exception.message`,
//!   `exception.stacktrace` (when captured), `exception.causes` (the `source()` chain, when there
//!   is one) and the event's other fields; the same exception (same message) is not recorded twice
//!   on one span;
//! - when the span ends, its status is `Error` with, as description, the message of the last
//!   exception recorded on it, else the message of its first ERROR event; `error.type` is the last
//!   exception's type name (`_OTHER` when unknown; the same exception logged again without its
//!   type, as `#[instrument(err)]` does after a `record_exception` in the body, keeps the type);
//! - WARN and below never change the status;
//! - only events at WARN or more severe become span events by default
//!   ([`OtelLayer::with_span_events`]): the JSON lines carry the rest;
//! - fields named as secrets reach the span as `"[REDACTED]"`, their values never formatted
//!   ([`OtelLayer::with_redaction`], [`Redaction`](crate::Redaction));
//! - every `source()` chain is bounded: `exception.causes` keeps at most
//!   [`DEFAULT_MAX_CAUSES`](crate::DEFAULT_MAX_CAUSES) causes and ends in `…[N more causes]` when
//!   there were more, and a span or span event with an error value is handed to
//!   `tracing-opentelemetry` (which walks a chain to its end) with a copy of the error whose chain
//!   is bounded the same way, so a chain that loops costs a bounded walk.
//!
//! Events and spans of the SDK's own targets (and of the HTTP and gRPC stacks it exports with)
//! never reach the exporter, so an exporter that logs cannot feed itself.

mod errors;
#[cfg(feature = "init")]
pub(crate) use errors::exception_fields;
pub(crate) mod ids;
mod layer;
mod random_flag;
pub(crate) mod sdk;

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use opentelemetry::trace::Tracer;
use tracing::dispatcher::WeakDispatch;
use tracing_core::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::registry::LookupSpan;

use crate::callsite::LayerId;
use crate::redact::Redaction;
use crate::stacktrace::Stacktraces;
use random_flag::KeepRandomFlag;

/// The OpenTelemetry layer; see [`otel_layer`].
pub struct OtelLayer<S, T> {
    inner: OpenTelemetryLayer<S, KeepRandomFlag<T>>,
    /// Events at this level or more severe become span events (exceptions always do).
    span_events: LevelFilter,
    /// When exception events carry `exception.stacktrace`.
    stacktraces: Stacktraces,
    /// Secret fields are handed to the inner layer as [`REDACTED`](crate::REDACTED).
    redaction: Redaction,
    /// This layer's entries in the callsite cache.
    id: LayerId,
    dispatch: OnceLock<WeakDispatch>,
    _subscriber: PhantomData<fn(S)>,
}

/// Which events [`otel_layer`] records as span events unless
/// [`OtelLayer::with_span_events`] says otherwise: warnings and errors.
pub const DEFAULT_SPAN_EVENTS: LevelFilter = LevelFilter::WARN;

impl<S, T> fmt::Debug for OtelLayer<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelLayer").finish_non_exhaustive()
    }
}

/// Builds the layer that turns `tracing` spans into OpenTelemetry spans with `tracer`, mapping
/// errors once, the OpenTelemetry way (see [`record_exception`](crate::record_exception) for the mapping).
///
/// Add it *before* (below) [`layer()`](crate::layer), so the JSON layer sees the spans it made.
///
/// A span the sampler drops keeps its parent's random trace-id flag (W3C Trace Context Level 2,
/// `trace-flags` bit 1): `opentelemetry_sdk` gives such a span empty flags, so a remote parent
/// `…-02` would be propagated as `…-00`. The span is still not sampled, not recorded, and never
/// exported; only the flags it reports (and so propagates and logs) keep the bit. A subscriber
/// built on `tracing_opentelemetry::layer()` directly does not have this.
///
/// Integer fields that fit in an `i64` (`u8` … `u64`, `usize`, `i128`, `u128`) become integer
/// attributes, on spans (at creation and on `record`) and span events alike, as the semantic
/// conventions want (`http.response.status_code`, `server.port`): `tracing-opentelemetry`
/// alone makes strings of unsigned ones. OpenTelemetry has no wider integer, so a larger value
/// is a string attribute of its decimal digits.
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_correlate::otel_layer(provider.tracer("checkout")))
///     .with(tracing_correlate::layer().with_service_name("checkout"));
/// # drop(subscriber);
/// ```
pub fn otel_layer<S, T>(tracer: T) -> OtelLayer<S, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    T: Tracer + 'static,
    T::Span: Send + Sync,
{
    // Never `with_counting_event_filter`: tracing-opentelemetry 0.34's `FilteredOpenTelemetryLayer`
    // has `println!` calls left in its `on_event`, which would put garbage on stdout.
    OtelLayer {
        inner: tracing_opentelemetry::layer()
            .with_tracer(KeepRandomFlag(tracer))
            .with_error_events_to_status(false)
            .with_error_events_to_exceptions(false)
            .with_error_fields_to_exceptions(false)
            .with_error_records_to_exceptions(false)
            .with_tracked_inactivity(false),
        span_events: DEFAULT_SPAN_EVENTS,
        stacktraces: Stacktraces::default(),
        redaction: Redaction::default(),
        id: LayerId::next(),
        dispatch: OnceLock::new(),
        _subscriber: PhantomData,
    }
}

impl<S, T> OtelLayer<S, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    T: Tracer + 'static,
    T::Span: Send + Sync,
{
    /// Records the source location (`code.file.path`, `code.module.name`, `code.line.number`) on
    /// spans and span events.
    ///
    /// By default, on (as in `tracing-opentelemetry`).
    pub fn with_location(self, location: bool) -> Self {
        self.map_inner(|l| l.with_location(location))
    }

    /// Records `thread.id` and `thread.name` on spans.
    ///
    /// By default, on (as in `tracing-opentelemetry`).
    pub fn with_threads(self, threads: bool) -> Self {
        self.map_inner(|l| l.with_threads(threads))
    }

    /// Records `busy_ns` and `idle_ns` on spans: how long each span was entered, and not.
    ///
    /// By default, off (`tracing-opentelemetry` has it on): a span's start and end already give
    /// its duration, and tracking entries and exits costs a clock read on each (its share of a
    /// request's cost is in `BENCHMARKS.md`, "What each setting of the bridge costs").
    pub fn with_tracked_inactivity(self, tracked: bool) -> Self {
        self.map_inner(|l| l.with_tracked_inactivity(tracked))
    }

    /// Records the `tracing` target as the span attribute `target`.
    ///
    /// By default, on (as in `tracing-opentelemetry`).
    pub fn with_target(self, target: bool) -> Self {
        self.map_inner(|l| l.with_target(target))
    }

    /// Records the `tracing` level as the span attribute `level`.
    ///
    /// By default, off (as in `tracing-opentelemetry`).
    pub fn with_level(self, level: bool) -> Self {
        self.map_inner(|l| l.with_level(level))
    }

    /// When `exception` span events carry `exception.stacktrace`; see
    /// [`Stacktraces`](crate::Stacktraces) for what each setting does and costs. Give the JSON
    /// layer the same value: the event's one capture is then shared by both.
    ///
    /// By default, [`Stacktraces::FromEnv`](crate::Stacktraces::FromEnv): when `RUST_BACKTRACE`
    /// or `RUST_LIB_BACKTRACE` enable them.
    pub fn with_stacktraces(self, stacktraces: Stacktraces) -> Self {
        OtelLayer {
            stacktraces,
            ..self
        }
    }

    /// Which events become span events: those at `level` or more severe. An ERROR event that
    /// carries an exception always becomes one `exception` event, whatever this says.
    ///
    /// Every span event costs the OpenTelemetry layer a copy of the event's fields on the hot
    /// path, and the JSON lines already are the log signal, joined to the trace by `trace_id`;
    /// recording only warnings and errors keeps what a trace view needs to show at a fraction of
    /// the cost (the figures are in `BENCHMARKS.md`). `LevelFilter::TRACE` records every event, as
    /// `tracing-opentelemetry` does on its own; `LevelFilter::OFF` records none.
    ///
    /// By default, [`DEFAULT_SPAN_EVENTS`] (`WARN`).
    pub fn with_span_events(self, level: LevelFilter) -> Self {
        OtelLayer {
            span_events: level,
            ..self
        }
    }

    /// Hands `tracing-opentelemetry` the fields `redaction` calls secret as `"[REDACTED]"`, as
    /// span attributes (span fields) and span event attributes (event fields); their values are
    /// never formatted. Give the JSON layer the same value.
    ///
    /// By default, [`Redaction::default()`](crate::Redaction): the names of
    /// [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS).
    pub fn with_redaction(self, redaction: Redaction) -> Self {
        OtelLayer { redaction, ..self }
    }

    fn map_inner(
        self,
        f: impl FnOnce(
            OpenTelemetryLayer<S, KeepRandomFlag<T>>,
        ) -> OpenTelemetryLayer<S, KeepRandomFlag<T>>,
    ) -> Self {
        OtelLayer {
            inner: f(self.inner),
            ..self
        }
    }
}
