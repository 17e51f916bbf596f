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
//!   exception's type name (`_OTHER` when unknown);
//! - WARN and below never change the status;
//! - only events at WARN or more severe become span events by default
//!   ([`OtelLayer::with_span_events`]): the JSON lines carry the rest;
//! - fields named as secrets reach the span as `"[REDACTED]"`, their values never formatted
//!   ([`OtelLayer::with_redacted_fields`], [the crate docs](crate#redaction)).
//!
//! Events and spans of the SDK's own targets (and of the HTTP and gRPC stacks it exports with)
//! never reach the exporter, so an exporter that logs cannot feed itself.

use std::any::TypeId;
use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::OnceLock;

use opentelemetry::trace::{Status, TraceContextExt, Tracer};
use opentelemetry::{KeyValue, StringValue, Value};
use tracing::dispatcher::WeakDispatch;
use tracing_core::field::{Field, Visit};
use tracing_core::{span, Dispatch, Event, Level, Subscriber};
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

pub(crate) mod ids;

use crate::exception::Exception;
use crate::redact::{with_redacted, with_redacted_event, Redaction, REDACTED};

/// Crates whose events and spans never become OpenTelemetry data: the SDK itself and the stacks
/// its exporters use. A prefix matches the crate and its modules (`h2` and `h2::codec`, not `h2o`);
/// `opentelemetry` matches every `opentelemetry*` crate.
const SDK_TARGETS: [&str; 6] = ["hyper", "hyper_util", "h2", "tonic", "reqwest", "tower"];

/// Whether `target` belongs to the OpenTelemetry SDK or the transport it exports with.
pub(crate) fn is_sdk_target(target: &str) -> bool {
    target.starts_with("opentelemetry")
        || SDK_TARGETS.iter().any(|prefix| {
            target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// The OpenTelemetry layer; see [`otel_layer`].
pub struct OtelLayer<S, T> {
    inner: OpenTelemetryLayer<S, T>,
    /// Events at this level or more severe become span events (exceptions always do).
    span_events: LevelFilter,
    /// Secret fields are handed to the inner layer as [`REDACTED`](crate::REDACTED).
    redaction: Redaction,
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
/// errors once, the OpenTelemetry way (see [the module docs](crate#errors-become-exceptions)).
///
/// Add it *before* (below) [`layer()`](crate::layer), so the JSON layer sees the spans it made.
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
            .with_tracer(tracer)
            .with_error_events_to_status(false)
            .with_error_events_to_exceptions(false)
            .with_error_fields_to_exceptions(false)
            .with_error_records_to_exceptions(false)
            .with_tracked_inactivity(false),
        span_events: DEFAULT_SPAN_EVENTS,
        redaction: Redaction::default(),
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
    /// its duration, and tracking entries and exits costs a clock read on each, about a seventh
    /// of a request's span cost (`BENCHMARKS.md`, "What each setting of the bridge costs").
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

    /// Redacts these field names too, besides [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS):
    /// the OpenTelemetry span gets `"[REDACTED]"` as their attribute (span fields) or span event
    /// attribute (event fields), and their values are never formatted. Matching is as in
    /// [`JsonLayer::with_redacted_fields`](crate::JsonLayer::with_redacted_fields); give both
    /// layers the same list.
    ///
    /// By default, the default list only.
    pub fn with_redacted_fields<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.redaction.add_names(names);
        self
    }

    /// Redacts, besides the list, every field whose name `predicate` accepts.
    ///
    /// By default, none.
    pub fn with_redaction(
        mut self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.redaction.set_predicate(predicate);
        self
    }

    /// Replaces the redaction rules whole (the init's builder sets them once for every layer).
    #[cfg(feature = "init")]
    pub(crate) fn with_redaction_rules(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    fn map_inner(
        self,
        f: impl FnOnce(OpenTelemetryLayer<S, T>) -> OpenTelemetryLayer<S, T>,
    ) -> Self {
        OtelLayer {
            inner: f(self.inner),
            ..self
        }
    }
}

thread_local! {
    /// Set while this layer calls into the SDK, so that what the SDK logs is not recorded on the
    /// span being changed (a deadlock on the SDK span's lock).
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
}

fn in_sdk() -> bool {
    IN_SDK.try_with(Cell::get).unwrap_or(true)
}

/// What this layer keeps in each span to map its errors once.
#[derive(Debug, Default)]
struct ErrorState {
    /// The status description: the last exception's message, else the first plain ERROR
    /// event's.
    description: Option<String>,
    error_type: Option<String>,
    /// Hashes of the exception messages already recorded as span events.
    recorded: Vec<u64>,
}

impl<S, T> OtelLayer<S, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    T: Tracer + 'static,
    T::Span: Send + Sync,
{
    /// Runs `f` on the OpenTelemetry span behind `id`, with no extension lock held and with the
    /// SDK's own events kept away from spans.
    fn with_otel_span(&self, id: &span::Id, f: impl FnOnce(&opentelemetry::trace::SpanRef<'_>)) {
        let Some(dispatch) = self.dispatch.get().and_then(WeakDispatch::upgrade) else {
            return;
        };
        let Some(cx) = tracing_opentelemetry::get_otel_context(id, &dispatch) else {
            return;
        };
        let previous = IN_SDK.try_with(|flag| flag.replace(true)).unwrap_or(true);
        f(&cx.span());
        let _ = IN_SDK.try_with(|flag| flag.set(previous));
    }

    fn on_error_event(
        &self,
        event: &Event<'_>,
        exception: Option<Exception>,
        id: &span::Id,
        ctx: &Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // Formatted before the lock is taken: a message's `Display` may log.
        let plain = exception.is_none().then(|| plain_description(event));
        let is_new = {
            let mut extensions = span.extensions_mut();
            if extensions.get_mut::<ErrorState>().is_none() {
                extensions.insert(ErrorState::default());
            }
            let Some(state) = extensions.get_mut::<ErrorState>() else {
                return;
            };
            match &exception {
                Some(exception) => {
                    state.description = Some(exception.message.clone());
                    state.error_type = Some(exception.error_type().to_owned());
                    let hash = hash_of(&exception.message);
                    let is_new = !state.recorded.contains(&hash);
                    if is_new {
                        state.recorded.push(hash);
                    }
                    is_new
                }
                None => {
                    if state.description.is_none() {
                        state.description = plain;
                    }
                    false
                }
            }
        };
        drop(span);
        if let (Some(exception), true) = (exception, is_new) {
            let attributes = exception_attributes(event, &exception, &self.redaction);
            self.with_otel_span(id, |otel| otel.add_event("exception", attributes));
        }
    }

    /// Hands `event` to `tracing-opentelemetry` as a span event, its secret fields redacted.
    fn inner_on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        with_redacted_event(event, &self.redaction, |event| {
            self.inner.on_event(event, ctx)
        });
    }

    /// Sets the span's final status from what its ERROR events said.
    fn on_closing(&self, id: &span::Id, ctx: &Context<'_, S>) {
        let Some(state) = ctx
            .span(id)
            .and_then(|span| span.extensions_mut().remove::<ErrorState>())
        else {
            return;
        };
        let Some(mut description) = state.description else {
            return;
        };
        if description.is_empty() {
            // The conventions want a description with every `Error`; an error that displays as
            // nothing is described by its type.
            description = state
                .error_type
                .clone()
                .unwrap_or_else(|| "error".to_owned());
        }
        self.with_otel_span(id, |otel| {
            otel.set_status(Status::error(description));
            if let Some(error_type) = state.error_type {
                otel.set_attribute(KeyValue::new("error.type", error_type));
            }
        });
    }
}

fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The status description of an ERROR event without an error: its message, else its name.
fn plain_description(event: &Event<'_>) -> String {
    struct Message(Option<String>);
    impl Visit for Message {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "message" {
                self.0 = Some(value.to_owned());
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "message" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    let mut message = Message(None);
    event.record(&mut message);
    message
        .0
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| event.metadata().name().to_owned())
}

/// The attributes of an `exception` span event: the exception's, then the event's other fields.
fn exception_attributes(
    event: &Event<'_>,
    exception: &Exception,
    redaction: &Redaction,
) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(8);
    if let Some(type_name) = &exception.type_name {
        attributes.push(KeyValue::new("exception.type", type_name.clone()));
    }
    attributes.push(KeyValue::new(
        "exception.message",
        exception.message.clone(),
    ));
    if let Some(stacktrace) = &exception.stacktrace {
        attributes.push(KeyValue::new("exception.stacktrace", stacktrace.clone()));
    }
    if !exception.causes.is_empty() {
        let causes: Vec<StringValue> = exception.causes.iter().cloned().map(Into::into).collect();
        attributes.push(KeyValue::new(
            "exception.causes",
            Value::Array(causes.into()),
        ));
    }
    event.record(&mut AttributeVisitor {
        attributes: &mut attributes,
        exception,
        redaction,
    });
    attributes
}

struct AttributeVisitor<'a> {
    attributes: &'a mut Vec<KeyValue>,
    exception: &'a Exception,
    redaction: &'a Redaction,
}

impl AttributeVisitor<'_> {
    /// Adds the field as an attribute; `value` is not called for a secret field.
    fn push<V: Into<Value>>(&mut self, field: &Field, value: impl FnOnce() -> V) {
        let name = field.name();
        if self.exception.owns_field(name) || name.starts_with("log.") {
            return;
        }
        let value = if self.redaction.is_secret(name) {
            Value::from(REDACTED)
        } else {
            value().into()
        };
        self.attributes.push(KeyValue::new(name, value));
    }
}

impl Visit for AttributeVisitor<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, || value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, || value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, || value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, || value.to_owned());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, || value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, || format!("{value:?}"));
    }
}

/// The span an event belongs to: its explicit parent, else the current span.
fn event_span<'a, S>(event: &Event<'_>, ctx: &'a Context<'_, S>) -> Option<span::Id>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    match event.parent() {
        Some(id) => Some(id.clone()),
        None if event.is_contextual() => ctx.current_span().id().cloned(),
        None => None,
    }
}

impl<S, T> Layer<S> for OtelLayer<S, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    T: Tracer + 'static,
    T::Span: Send + Sync,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if is_sdk_target(meta.target()) {
            return;
        }
        let secrets = self.redaction.secrets(meta);
        if secrets.is_empty() {
            return self.inner.on_new_span(attrs, id, ctx);
        }
        with_redacted(
            meta.fields(),
            secrets,
            &self.redaction,
            |visitor| attrs.record(visitor),
            |values| {
                let redacted = if attrs.is_root() {
                    span::Attributes::new_root(meta, values)
                } else if let Some(parent) = attrs.parent() {
                    span::Attributes::child_of(parent.clone(), meta, values)
                } else {
                    span::Attributes::new(meta, values)
                };
                self.inner.on_new_span(&redacted, id, ctx);
            },
        );
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(meta) = ctx.metadata(id) else {
            return self.inner.on_record(id, values, ctx);
        };
        let secrets = self.redaction.secrets(meta);
        if secrets.is_empty() {
            return self.inner.on_record(id, values, ctx);
        }
        with_redacted(
            meta.fields(),
            secrets,
            &self.redaction,
            |visitor| values.record(visitor),
            |values| self.inner.on_record(id, &span::Record::new(values), ctx),
        );
    }

    fn on_follows_from(&self, id: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(id, follows, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if in_sdk() || is_sdk_target(meta.target()) {
            return;
        }
        let as_span_event = self.span_events >= *meta.level();
        if *meta.level() != Level::ERROR {
            if as_span_event {
                self.inner_on_event(event, ctx);
            }
            return;
        }
        let Some(id) = event_span(event, &ctx) else {
            return;
        };
        let exception = Exception::from_event(event);
        if exception.is_none() && as_span_event {
            // A plain ERROR event stays an ordinary span event; its status is set at close.
            self.inner_on_event(event, ctx.clone());
        }
        self.on_error_event(event, exception, &id, &ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.on_closing(&id, &ctx);
        self.inner.on_close(id, ctx);
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; the inner layer lives as long as `self`.
        unsafe { self.inner.downcast_raw(id) }
    }
}

#[cfg(test)]
mod tests {
    use super::is_sdk_target;

    #[test]
    fn sdk_targets_match_crates_and_their_modules_only() {
        for t in [
            "opentelemetry",
            "opentelemetry_sdk::trace",
            "opentelemetry-otlp",
            "h2",
            "h2::codec",
            "hyper_util::client",
            "tonic::transport",
        ] {
            assert!(is_sdk_target(t), "{t}");
        }
        for t in ["h2o", "tower_http::trace", "checkout", "my_hyper"] {
            assert!(!is_sdk_target(t), "{t}");
        }
    }
}
