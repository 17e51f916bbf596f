//! A layer wrapper that prepares the events it hands on: for the OpenTelemetry logs bridge, whose
//! log records carry every field of their event as an attribute, which a log processor cannot
//! replace or remove once recorded.

use tracing_core::{Event, Metadata};
use tracing_subscriber::layer::Context;

use crate::callsite::{self, LayerId};
use crate::exception::Exception;
use crate::init::log_exceptions;
use crate::redact::{has_error_value, redact_exception, with_log_event, Redaction};
use crate::stacktrace::Stacktraces;

/// Hands the layer it wraps every event as its OTLP log record must show it; spans and
/// everything else pass through unchanged. The init wraps the OpenTelemetry logs bridge in it:
/// an OTLP log record carries every field of its event as an attribute, and a log processor
/// cannot replace or remove an attribute once it is recorded. An event is handed on as it is,
/// unless it has:
///
/// - secret fields: a copy holds them as `"[REDACTED]"`;
/// - an exception (an ERROR event carrying an error, as the line and the span read it): the copy
///   leaves out the fields it was read from, and its attributes, redacted as on the line and the
///   span, are left for `log_exceptions::ExceptionAttributes` to add to the record, so that
///   the record carries those of the span's `exception` event;
/// - other error values: the copy holds their text, an ordinary field of their name (the bridge
///   would make an `exception.message` of each).
pub(crate) struct RedactEvents<L> {
    inner: L,
    redaction: Redaction,
    /// The init's setting, given to the other layers too: the event's one capture is shared.
    stacktraces: Stacktraces,
    id: LayerId,
}

impl<L> RedactEvents<L> {
    pub(crate) fn new(inner: L, redaction: Redaction, stacktraces: Stacktraces) -> Self {
        RedactEvents {
            inner,
            redaction,
            stacktraces,
            id: LayerId::next(),
        }
    }
}

impl<S, L> tracing_subscriber::Layer<S> for RedactEvents<L>
where
    S: tracing_core::Subscriber,
    L: tracing_subscriber::Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing_core::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> tracing_core::Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        self.inner.max_level_hint()
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        crate::stacktrace::new_event(event);
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let secrets = callsite::secrets(event.metadata(), self.id, &self.redaction);
        let exception = Exception::from_event(event, self.stacktraces)
            .map(|exception| redact_exception(exception, &self.redaction));
        if secrets.is_empty() && exception.is_none() && !has_error_value(|v| event.record(v)) {
            return self.inner.on_event(event, ctx);
        }
        let attributes = exception.as_ref().map(log_exceptions::attributes);
        with_log_event(
            event,
            secrets,
            &self.redaction,
            exception.as_ref(),
            |event| log_exceptions::handing(attributes, || self.inner.on_event(event, ctx)),
        );
    }

    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        id: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(
        &self,
        id: &tracing_core::span::Id,
        values: &tracing_core::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        self.inner.on_record(id, values, ctx);
    }

    fn on_follows_from(
        &self,
        id: &tracing_core::span::Id,
        follows: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        self.inner.on_follows_from(id, follows, ctx);
    }

    fn on_enter(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: tracing_core::span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(
        &self,
        old: &tracing_core::span::Id,
        new: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        self.inner.on_id_change(old, new, ctx);
    }

    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; the inner layer lives as long as `self`.
        unsafe { self.inner.downcast_raw(id) }
    }
}
