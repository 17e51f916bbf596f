//! The bridge's `Layer` impl: spans and events handed to `tracing-opentelemetry` with secret
//! fields redacted, the SDK's own data kept out, and errors mapped once per span.

use std::any::TypeId;
use std::cell::Cell;

use opentelemetry::trace::{Status, TraceContextExt, Tracer};
use opentelemetry::KeyValue;
use tracing::dispatcher::WeakDispatch;
use tracing_core::{span, Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::errors::{exception_attributes, hash_of, plain_description, ErrorState};
use super::sdk::is_sdk_target;
use super::OtelLayer;
use crate::callsite;
use crate::exception::Exception;
use crate::redact::{needs_copy, redact_exception, with_copied_event, with_redacted};

thread_local! {
    /// Set while this layer calls into the SDK, so that what the SDK logs is not recorded on the
    /// span being changed (a deadlock on the SDK span's lock).
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
}

fn in_sdk() -> bool {
    IN_SDK.try_with(Cell::get).unwrap_or(true)
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
                    let hash = hash_of(&exception.message);
                    let is_new = !state.recorded.contains(&hash);
                    if is_new {
                        state.recorded.push(hash);
                    }
                    // The same exception logged again without its type (`#[instrument(err)]`
                    // after `record_exception` in the body) keeps the type already known.
                    if is_new || exception.type_name.is_some() {
                        state.error_type = Some(exception.error_type().to_owned());
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

    /// Hands `event` to `tracing-opentelemetry` as a span event, its secret fields redacted, its
    /// errors' chains bounded (that crate walks a `source()` chain to its end) and its unsigned
    /// integers kept integers (that crate makes strings of them); see `needs_copy`.
    fn inner_on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let secrets = callsite::secrets(event.metadata(), self.id, &self.redaction);
        if secrets.is_empty() && !needs_copy(|v| event.record(v)) {
            return self.inner.on_event(event, ctx);
        }
        with_copied_event(event, secrets, &self.redaction, |event| {
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
        let secrets = callsite::secrets(meta, self.id, &self.redaction);
        // An error's chain is copied bounded, and integers that fit in an `i64` copied as one, as
        // for events.
        if secrets.is_empty() && !needs_copy(|v| attrs.record(v)) {
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
        let secrets = callsite::secrets(meta, self.id, &self.redaction);
        if secrets.is_empty() && !needs_copy(|v| values.record(v)) {
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

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        // The start of the event's dispatch: a stack trace captured for an earlier event at the
        // same address is not this one's.
        crate::stacktrace::new_event(event);
        self.inner.event_enabled(event, ctx)
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
        let exception = Exception::from_event(event, self.stacktraces)
            .map(|exception| redact_exception(exception, &self.redaction));
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
