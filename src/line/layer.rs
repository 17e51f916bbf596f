//! The JSON layer's `Layer` impl: what it keeps per span and per thread, which span an event
//! belongs to, and the one `make_writer` per line.
//!
//! Per thread one reused set of [`Buffers`]; the line is built whole by a [`Line`], then handed
//! to the writer by `output.rs` (`write_all`'s loop, counting the bytes taken). Span fields are serialised once (when the span is created
//! or recorded) and spliced in; a span's ids are read once and cached in the span. No extension
//! lock is held while foreign code runs (`Debug` impls, the OpenTelemetry SDK, the writer).

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::time::Instant;

use tracing_core::{span, Dispatch, Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::callsite::{self, Entry, LayerId};
use crate::exception::Exception;
use crate::line::baggage::SpanBaggage;
use crate::line::capture::{replay, Capture};
use crate::line::format::{Buffers, Line};
use crate::line::held::{Buffer, Failure, HeldLine, Hold, Parts, Pushed, Record, TraceLines};
use crate::line::on_demand::DebugOnDemand;
use crate::line::output;
use crate::line::span_fields::SpanFields;
use crate::line::throttle::{self, Admit};
use crate::line::JsonLayer;
use crate::otel::ids::SpanIds;
use crate::otel::sdk::is_sdk_target;
use crate::redact::redact_exception;

/// What this layer keeps in each span's extensions.
#[derive(Debug)]
struct SpanState {
    fields: SpanFields,
    /// The span's ids, once read (`None`: the span has no OpenTelemetry context).
    ids: OnceLock<Option<SpanIds>>,
    /// The span's allow-listed baggage, read with its ids (`None`: none of the keys, or no
    /// allow-list); set before `ids`.
    baggage: OnceLock<Option<Box<SpanBaggage>>>,
    /// The trace's held lines, when this span is a local root and the layer holds lines.
    trace: TraceLines,
}

impl SpanState {
    /// The span's name in lines: its `otel.name` when it has one, as the exported span is named.
    fn name<'a>(state: Option<&'a SpanState>, name: &'a str) -> &'a str {
        state
            .and_then(|s| s.fields.otel_name.as_deref())
            .unwrap_or(name)
    }
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
    /// A second set, for a held line written while the first holds that line's parts.
    static SPARE_BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
    /// How many of this layer's `on_event` calls are running on this thread.
    static DEPTH: Cell<u8> = const { Cell::new(0) };
    /// The spans entered on this thread, innermost last, each with the layer that saw it
    /// entered: this layer's own record of the current span, so that the event path does not
    /// read the registry's, whose per-thread stacks share cache lines across threads.
    static ENTERED: RefCell<Vec<(LayerId, span::Id)>> = const { RefCell::new(Vec::new()) };
}

/// An event with the metadata its line is written with: for a record of the `log` crate, the
/// record's own (target, file, line), not the bridge's callsite.
#[derive(Clone, Copy)]
struct EventParts<'e, 'm> {
    event: &'e Event<'e>,
    meta: &'m Metadata<'m>,
    is_log: bool,
}

/// Runs `f` with the thread's buffers of `key`; with buffers of its own when they are in use (a
/// `Debug` impl that logs while this thread formats a line) or gone (the thread is exiting).
#[inline(always)]
fn with_buffers(
    key: &'static std::thread::LocalKey<RefCell<Buffers>>,
    mut f: impl FnMut(&mut Buffers),
) {
    let done = key.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => f(&mut buffers),
        Err(_) => f(&mut Buffers::default()),
    });
    if done.is_err() {
        f(&mut Buffers::default());
    }
}

/// Writes the allow-listed baggage of `span` (read with its ids) into `line`.
fn baggage_fields<S>(span: &SpanRef<'_, S>, line: &mut Line<'_>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let extensions = span.extensions();
    let baggage = extensions
        .get::<SpanState>()
        .and_then(|s| s.baggage.get())
        .and_then(Option::as_deref);
    if let Some(baggage) = baggage {
        line.baggage(baggage);
    }
}

/// Events nested deeper than this in our own formatting (a writer that logs each write) are
/// dropped and counted instead of recursing.
const MAX_DEPTH: u8 = 2;

/// Holds one level of [`DEPTH`] for the duration of an `on_event` call.
struct DepthGuard;

impl DepthGuard {
    fn enter() -> Option<DepthGuard> {
        DEPTH
            .try_with(|depth| {
                let d = depth.get();
                (d < MAX_DEPTH).then(|| {
                    depth.set(d + 1);
                    DepthGuard
                })
            })
            .ok()
            .flatten()
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        // Field values are formatted before any lock is taken: their `Debug` impls may log.
        let format = &self.format;
        let fields = SpanFields::collect(
            |v| attrs.record(v),
            &format.reserved,
            format.limits,
            &format.redaction,
        );
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanState {
                fields,
                ids: OnceLock::new(),
                baggage: OnceLock::new(),
                trace: TraceLines::default(),
            });
        }
        if let Some(hold) = &self.hold {
            self.fail_if(hold, Failure::of(|v| attrs.record(v)), id, &ctx);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let format = &self.format;
        let later = SpanFields::collect(
            |v| values.record(v),
            &format.reserved,
            format.limits,
            &format.redaction,
        );
        if let Some(span) = ctx.span(id) {
            if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
                state.fields.merge(later, format.limits);
            }
        }
        if let Some(hold) = &self.hold {
            self.fail_if(hold, Failure::of(|v| values.record(v)), id, &ctx);
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(hold) = &self.hold else { return };
        let Some(span) = ctx.span(&id) else { return };
        if span.parent().is_some() {
            return;
        }
        let extensions = span.extensions();
        if let Some(state) = extensions.get::<SpanState>() {
            hold.end(&state.trace);
        }
    }

    fn on_exit(&self, id: &span::Id, _ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|entered| {
            if let Ok(mut entered) = entered.try_borrow_mut() {
                if let Some(pos) = entered
                    .iter()
                    .rposition(|(layer, i)| *layer == self.id && i == id)
                {
                    entered.remove(pos);
                }
            }
        });
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|entered| {
            if let Ok(mut entered) = entered.try_borrow_mut() {
                entered.push((self.id, id.clone()));
            }
        });
        // Entering starts the OpenTelemetry span anyway (the OpenTelemetry layer, below, has just
        // done so): reading its ids now changes nothing, and caches them for every event of the
        // span, the SDK's own included (those never trigger a lookup themselves).
        if let Some(span) = ctx.span(id) {
            let may_start = !is_sdk_target(span.metadata().target());
            self.span_ids(&span, may_start);
        }
    }

    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        // The start of the event's dispatch: a stack trace captured for an earlier event at the
        // same address is not this one's.
        crate::stacktrace::new_event(event);
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(_depth) = DepthGuard::enter() else {
            self.stats.reentrant_dropped();
            return;
        };
        let meta = event.metadata();
        let suppressed = if throttle::is_throttled(meta.target()) {
            match self
                .throttle
                .admit(meta, self.sdk_line_interval, Instant::now())
            {
                Admit::Write { suppressed } => suppressed,
                Admit::Suppress => {
                    self.stats.sdk_line_suppressed();
                    return;
                }
            }
        } else {
            0
        };
        with_buffers(&BUFFERS, |buffers| {
            self.write_event(event, &ctx, buffers, suppressed)
        });
    }
}

impl<W> JsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    /// Writes the event's line, with its callsite's cache entry when the cache can give it.
    fn write_event<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        buffers: &mut Buffers,
        suppressed: u64,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        // A `record_exception` call is written as its caller's: target, file and line.
        if let Some(caller) = crate::exception::caller_metadata(event) {
            let event = EventParts {
                event,
                meta: &caller,
                is_log: false,
            };
            return self.write_line(event, None, ctx, buffers, suppressed);
        }
        // A record of the `log` crate has metadata built per record: nothing to cache.
        let Some(normalized) = event.normalized_metadata() else {
            let meta = event.metadata();
            let event = EventParts {
                event,
                meta,
                is_log: false,
            };
            let written = callsite::with_entry(
                meta,
                self.id,
                |entry| self.format.render(meta, entry),
                |entry| self.write_line(event, Some(entry), ctx, buffers, suppressed),
            );
            if written.is_none() {
                self.write_line(event, None, ctx, buffers, suppressed);
            }
            return;
        };
        let event = EventParts {
            event,
            meta: &normalized,
            is_log: true,
        };
        self.write_line(event, None, ctx, buffers, suppressed);
    }

    /// Builds the line and writes it; `suppressed` is the number of lines of this SDK callsite
    /// left out before this one (see `throttle.rs`).
    fn write_line<S>(
        &self,
        parts: EventParts<'_, '_>,
        entry: Option<&Entry>,
        ctx: &Context<'_, S>,
        buffers: &mut Buffers,
        suppressed: u64,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let EventParts {
            event,
            meta,
            is_log,
        } = parts;
        let span = event.parent().and_then(|id| ctx.span(id)).or_else(|| {
            event
                .is_contextual()
                .then(|| self.current_span(ctx))
                .flatten()
        });
        if self.diverts {
            if let Some(span) = &span {
                if self.divert(parts, entry, span, buffers) {
                    return;
                }
            }
        }

        let exception = Exception::from_event(event, self.format.stacktraces)
            .map(|exception| redact_exception(exception, &self.format.redaction));
        let mut line = Line::start(&self.format, buffers);
        line.head(meta, entry.map(|e| e.target.as_str()));
        line.event_fields(event, entry, exception.as_ref(), is_log);
        line.optional_keys(meta);
        line.preset_keys();

        if let Some(span) = &span {
            // The SDK's own events may come while `tracing-opentelemetry` holds this span's
            // lock: for them only ids already known are written, never looked up.
            let may_start = !is_sdk_target(meta.target());
            // ECS names the local root span too: read before the leaf's lock is taken.
            let root = self
                .format
                .needs_root()
                .then(|| span.scope().last())
                .flatten()
                .and_then(|root| self.span_ids(&root, may_start));
            // One lock on the leaf's state for its cached ids and its name: the common path.
            let extensions = span.extensions();
            let state = extensions.get::<SpanState>();
            match state.and_then(|s| s.ids.get().copied()) {
                Some(ids) => {
                    if let Some(ids) = &ids {
                        line.ids(ids, root.as_ref());
                    }
                    line.span_name(SpanState::name(state, span.name()));
                }
                None => {
                    // No lock may be held while the ids are looked up.
                    drop(extensions);
                    if let Some(ids) = self.span_ids(span, may_start) {
                        line.ids(&ids, root.as_ref());
                    }
                    let extensions = span.extensions();
                    line.span_name(SpanState::name(extensions.get(), span.name()));
                }
            }
        }

        if let Some(exception) = &exception {
            line.exception(exception);
        }

        if let Some(span) = &span {
            for span in span.scope() {
                let extensions = span.extensions();
                if let Some(state) = extensions.get::<SpanState>() {
                    line.span_fields(&state.fields);
                }
            }
            if !self.format.baggage.is_empty() {
                baggage_fields(span, &mut line);
            }
        }

        let text = line.finish(suppressed);
        // Counts the line when it is not written whole; a panic of the writer stops there.
        let _ = output::write_line(
            &self.stats,
            || self.make_writer.make_writer_for(meta),
            text.as_bytes(),
        );
    }

    /// Takes care of a line of an event in `span` that is not to be written at once: below the
    /// level kept for an unsampled trace (dropped and counted), or held. An ERROR event fails
    /// the trace first (its held lines are written before it). True when the line is taken
    /// care of.
    fn divert<S>(
        &self,
        parts: EventParts<'_, '_>,
        entry: Option<&Entry>,
        span: &SpanRef<'_, S>,
        buffers: &mut Buffers,
    ) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = parts.meta;
        let level = meta.level();
        // The SDK's lines are throttled, never held nor dropped here; their spans' ids are
        // never looked up from their events.
        let sdk = match entry {
            Some(entry) => entry.sdk,
            None => is_sdk_target(meta.target()),
        };
        if sdk {
            return false;
        }
        if let Some(kept) = self.unsampled_level {
            // More verbose levels compare greater.
            if *level > kept
                && self
                    .span_ids(span, true)
                    .is_some_and(|ids| !ids.is_sampled())
            {
                self.stats.count_unsampled();
                return true;
            }
        }
        let Some(hold) = &self.hold else {
            return false;
        };
        if *level == Level::ERROR {
            if let Some(root) = span.scope().last() {
                self.fail_trace(hold, &root, buffers);
            }
            return false;
        }
        if !hold.config.holds(level) || self.stats.holding_closed() {
            return false;
        }
        self.hold_line(hold, parts, entry, span, buffers)
    }

    /// Holds the event's line in its trace's buffer; false when it is to be written now (the
    /// trace has failed).
    fn hold_line<S>(
        &self,
        hold: &Hold,
        parts: EventParts<'_, '_>,
        entry: Option<&Entry>,
        span: &SpanRef<'_, S>,
        buffers: &mut Buffers,
    ) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let EventParts {
            event,
            meta,
            is_log,
        } = parts;
        // A trace that has failed is seen when the line is pushed: it is then written at once.
        let time = crate::line::timestamp::now();
        // The metadata of a `log` record is built per record: its head is written now.
        let static_meta =
            (!is_log && std::ptr::eq(meta, event.metadata())).then(|| event.metadata());
        let (mut line, scratch) = Line::start_with_scratch(&self.format, buffers);
        if static_meta.is_none() {
            line.head_at(meta, None, time);
        }
        // The event's fields kept as given, to be formatted only if the line is written; else
        // (a `log` record, an uncached callsite, baggage fields, a value `capture.rs` does not
        // keep) formatted now, as the line writes them (below ERROR: no exception).
        let kept = match entry {
            Some(entry) if static_meta.is_some() && self.format.baggage.is_empty() => {
                let mut capture = Capture::new(
                    scratch.kept,
                    entry,
                    &self.format.redaction,
                    self.format.limits.value_len,
                );
                event.record(&mut capture);
                let kept = capture.finish().is_some();
                if !kept {
                    scratch.kept.clear();
                }
                kept
            }
            _ => false,
        };
        if !kept {
            line.event_fields(event, entry, None, is_log);
        }
        line.optional_keys(meta);
        let optional_end = line.len();
        // One lock on the span's state for its cached ids and its name, as `write_line`'s.
        let (cached, name) = {
            let extensions = span.extensions();
            let state = extensions.get::<SpanState>();
            let name = match state.and_then(|s| s.fields.otel_name.as_deref()) {
                Some(otel_name) => {
                    line.span_name(otel_name);
                    None
                }
                None => Some(span.name()),
            };
            (state.and_then(|s| s.ids.get().copied()), name)
        };
        let ids = match cached {
            Some(ids) => ids,
            None => self.span_ids(span, true),
        };
        let name_end = line.len();
        // The span fields, from the leaf out (kept as fragments with their names when the
        // event's fields are: which of them the line writes depends on the event's); the last
        // span is the local root.
        let mut span_dropped = 0;
        let mut take_fields = |span: &SpanRef<'_, S>| {
            let extensions = span.extensions();
            if let Some(state) = extensions.get::<SpanState>() {
                if kept {
                    span_dropped += state.fields.dropped;
                    for (name, fragment) in state.fields.iter() {
                        line.push_text(fragment);
                        scratch.names.push((name, fragment.len() as u32));
                    }
                } else {
                    line.span_fields(&state.fields);
                }
            }
        };
        // The span, then its parents out to the local root (none for a root: no walk).
        take_fields(span);
        let mut root = None;
        if let Some(parent) = span.parent() {
            for span in parent.scope() {
                take_fields(&span);
                root = Some(span);
            }
        }
        let root = root.as_ref().unwrap_or(span);
        let root_span = self
            .format
            .needs_root()
            .then(|| self.span_ids(root, true))
            .flatten()
            .map(|ids| ids.span_id);
        if !kept && !self.format.baggage.is_empty() {
            baggage_fields(span, &mut line);
        }
        let body = if kept {
            line.into_text()
        } else {
            line.finish_held_part()
        };
        let mut record = Record::new(
            time,
            static_meta,
            ids,
            root_span,
            name,
            [optional_end, name_end],
        );
        if kept {
            record = record.with_kept_fields(span_dropped);
        }
        let parts = Parts {
            text: body,
            kept: scratch.kept,
            names: scratch.names,
        };
        loop {
            let pushed = {
                let extensions = root.extensions();
                let Some(state) = extensions.get::<SpanState>() else {
                    return false;
                };
                hold.push(&state.trace, record, parts)
            };
            match pushed {
                Pushed::Held | Pushed::Dropped => return true,
                Pushed::Failed(record) => {
                    // The trace has failed (or was granted debug on demand): written now, in the
                    // spare buffers, as the thread's hold the line's parts.
                    let line = HeldLine {
                        record: &record,
                        text: parts.text,
                        kept: parts.kept,
                        span_fields: parts.names,
                    };
                    with_buffers(&SPARE_BUFFERS, |spare| {
                        self.write_record(&line, false, spare)
                    });
                    return true;
                }
                Pushed::Unchecked(unchecked) => {
                    // Read with no lock held: the lookup locks the root's extensions.
                    let asked = hold
                        .on_demand()
                        .is_some_and(|on_demand| self.asks_on_demand(root, on_demand));
                    let held = {
                        let extensions = root.extensions();
                        let Some(state) = extensions.get::<SpanState>() else {
                            return false;
                        };
                        hold.decide(&state.trace, asked)
                    };
                    if let Some(held) = held {
                        // Lines another thread held meanwhile.
                        let mut held = Some(held);
                        with_buffers(&SPARE_BUFFERS, |spare| {
                            if let Some(held) = held.take() {
                                self.write_held(hold, held, spare);
                            }
                        });
                    }
                    // Decided now: held, or written at once.
                    record = unchecked;
                }
            }
        }
    }

    /// Whether the baggage of `root`'s trace asks for debug on demand.
    fn asks_on_demand<S>(&self, root: &SpanRef<'_, S>, on_demand: &DebugOnDemand) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(dispatch) = self.dispatch.get() else {
            return false;
        };
        crate::otel::ids::lookup_with(&root.id(), dispatch, |cx| {
            on_demand.asked_by(opentelemetry::baggage::BaggageExt::baggage(cx))
        })
        .1
        .unwrap_or(false)
    }

    /// Fails the trace of `id` when `failure` says one of its spans failed.
    fn fail_if<S>(&self, hold: &Hold, failure: Failure, id: &span::Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !failure.any() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let is_root = span.parent().is_none();
        if !(failure.status_error || is_root && failure.server_error) {
            return;
        }
        let Some(root) = span.scope().last() else {
            return;
        };
        with_buffers(&BUFFERS, |buffers| self.fail_trace(hold, &root, buffers));
    }

    /// Marks the trace of local root `root` failed, and writes the lines it held.
    fn fail_trace<S>(&self, hold: &Hold, root: &SpanRef<'_, S>, buffers: &mut Buffers)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let buffer: Option<Box<Buffer>> = {
            let extensions = root.extensions();
            extensions
                .get::<SpanState>()
                .and_then(|state| hold.fail(&state.trace))
        };
        if let Some(buffer) = buffer {
            self.write_held(hold, buffer, buffers);
        }
    }

    /// Writes the lines a trace held, marked held, and gives the buffer back.
    fn write_held(&self, hold: &Hold, buffer: Box<Buffer>, buffers: &mut Buffers) {
        if self.stats.holding_closed() {
            // Past the guard's shutdown, whose line counted these as never written.
            self.stats.count_held_discarded(buffer.len() as u64);
            hold.recycle(buffer);
            return;
        }
        for line in buffer.lines() {
            self.write_record(&line, true, buffers);
        }
        self.stats.count_held_written(buffer.len() as u64);
        hold.recycle(buffer);
    }

    /// Writes a held line from its parts (see [`Record`]): the head, the message and the event's
    /// fields, the optional keys, the preset's keys, the ids, the span name, the span fields, and
    /// `"held":true` when `held`: the blocks and the order of `write_line`'s.
    fn write_record(&self, held_line: &HeldLine<'_>, held: bool, buffers: &mut Buffers) {
        let HeldLine {
            record,
            text,
            kept,
            span_fields,
        } = *held_line;
        let mut line = Line::start(&self.format, buffers);
        if let Some(meta) = record.meta {
            line.head_at(meta, None, record.time);
        }
        if let Some(meta) = record.meta.filter(|_| record.kept) {
            let replayed = callsite::with_entry(
                meta,
                self.id,
                |entry| self.format.render(meta, entry),
                |entry| line.fields_of(|v| replay(kept, meta, v), Some(entry), None, false),
            );
            if replayed.is_none() {
                line.fields_of(|v| replay(kept, meta, v), None, None, false);
            }
        }
        line.push_text(&text[..record.optional_end]);
        line.preset_keys();
        if let Some(ids) = &record.ids {
            let root = record
                .root_span
                .map(|span| SpanIds::new(ids.trace_id, span, ids.flags));
            line.ids(ids, root.as_ref());
        }
        match record.name {
            Some(name) => line.span_name(name),
            None => line.push_text(&text[record.optional_end..record.name_end]),
        }
        let text = if record.kept {
            let mut fragments = &text[record.name_end..];
            let fields = span_fields.iter().map(|&(name, len)| {
                let (fragment, rest) = fragments.split_at((len as usize).min(fragments.len()));
                fragments = rest;
                (name, fragment)
            });
            line.span_fields_of(record.span_dropped, fields);
            line.finish_marked(held)
        } else {
            line.push_text(&text[record.name_end..]);
            line.close_held(held)
        };
        let _ = output::write_line(
            &self.stats,
            || match record.meta {
                Some(meta) => self.make_writer.make_writer_for(meta),
                None => self.make_writer.make_writer(),
            },
            text.as_bytes(),
        );
    }

    /// The current span as this layer saw it entered on this thread (see [`ENTERED`]).
    fn current_span<'a, S>(&self, ctx: &'a Context<'_, S>) -> Option<SpanRef<'a, S>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let entered = ENTERED.try_with(|entered| {
            let entered = entered.try_borrow().ok()?;
            entered
                .iter()
                .rev()
                .find(|(layer, _)| *layer == self.id)
                .map(|(_, id)| id.clone())
        });
        match entered {
            Ok(id) => ctx.span(&id?),
            // The thread is being torn down: ask the registry.
            Err(_) => ctx.lookup_current(),
        }
    }

    /// The span's ids: cached, or read from its OpenTelemetry span (starting it) and cached.
    fn span_ids<S>(&self, span: &SpanRef<'_, S>, may_start: bool) -> Option<SpanIds>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(ids) = span
            .extensions()
            .get::<SpanState>()
            .and_then(|s| s.ids.get().copied())
        {
            return ids;
        }
        if !may_start {
            return None;
        }
        // No extension lock is held here: the lookup locks the span's extensions itself.
        let dispatch = self.dispatch.get()?;
        let keys = &self.format.baggage;
        let (ids, baggage) = if keys.is_empty() {
            (crate::otel::ids::lookup(&span.id(), dispatch), None)
        } else {
            let value_len = self.format.limits.value_len;
            let (ids, baggage) = crate::otel::ids::lookup_with(&span.id(), dispatch, |cx| {
                keys.read(opentelemetry::baggage::BaggageExt::baggage(cx), value_len)
            });
            (ids, baggage.flatten())
        };
        if let Some(state) = span.extensions().get::<SpanState>() {
            let _ = state.baggage.set(baggage);
            let _ = state.ids.set(ids);
        }
        ids
    }
}
