//! The JSON layer: one line per event, stamped with the ids of the span the event belongs to.
//!
//! The hot path: per thread one reused line buffer; the line is built whole, then handed to the
//! writer with one `write_all`. Span fields are serialised once (when the span is created or
//! recorded) and spliced in; a span's ids are read once and cached in the span. No extension
//! lock is held while foreign code runs (`Debug` impls, the OpenTelemetry SDK, the writer).

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing::dispatcher::WeakDispatch;
use tracing_core::field::{Field, Visit};
use tracing_core::{span, Dispatch, Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

pub(crate) mod escape;
pub(crate) mod keys;
mod preset;
pub(crate) mod span_fields;
mod stats;
pub(crate) mod throttle;
pub(crate) mod timestamp;

pub use preset::Preset;
pub use stats::Stats;
pub use throttle::DEFAULT_SDK_LINE_INTERVAL;

use crate::callsite::Keys;
use crate::exception::Exception;
use crate::line::escape::{
    limited_debug_into, limited_display_into, limited_str_into, quoted_into,
};
use crate::line::keys::Reserved;
use crate::line::preset::PresetConfig;
use crate::line::span_fields::{push_key, push_redacted, Limits, SpanFields, ValueSink};
use crate::line::throttle::{Admit, Throttle};
use crate::otel::ids::SpanIds;
use crate::redact::Redaction;

/// The service name a layer writes until [`JsonLayer::with_service_name`] sets one (the
/// OpenTelemetry default for `service.name`).
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";

/// The longest string value a line keeps, in bytes, unless [`JsonLayer::with_max_value_len`] says
/// otherwise: longer values are cut at a character boundary and end in `…[truncated N bytes]`.
pub const DEFAULT_MAX_VALUE_LEN: usize = 16 * 1024;

/// The most fields a span keeps, and a line writes (span and event fields together), unless
/// [`JsonLayer::with_max_fields`] says otherwise; the others are counted in `fields_dropped`.
pub const DEFAULT_MAX_FIELDS: usize = 128;

/// A [`Layer`] that writes one JSON object per event, one line each, in the schema of the
/// [crate documentation](crate#the-json-line).
///
/// Built with [`layer()`](crate::layer) and configured by value; `W` is the
/// [`MakeWriter`] the lines go to (stdout by default).
pub struct JsonLayer<W = fn() -> io::Stdout> {
    make_writer: W,
    service: Box<str>,
    /// `"service":"..."`, escaped once.
    service_kv: Box<str>,
    reserved: Reserved,
    limits: Limits,
    redaction: Redaction,
    gcp_project_id: Option<String>,
    preset: PresetConfig,
    dispatch: OnceLock<WeakDispatch>,
    stats: Stats,
    /// The SDK's lines: at most one per callsite per `sdk_line_interval`.
    throttle: Arc<Throttle>,
    sdk_line_interval: Duration,
}

impl<W> std::fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLayer")
            .field("service", &self.service)
            .field("reserved", &self.reserved)
            .field("preset", &self.preset.preset)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for JsonLayer {
    fn default() -> Self {
        JsonLayer::new()
    }
}

impl JsonLayer {
    /// A layer writing to stdout with the default settings; the same as [`layer()`](crate::layer).
    pub fn new() -> Self {
        let mut layer = JsonLayer {
            make_writer: io::stdout as fn() -> io::Stdout,
            service: DEFAULT_SERVICE_NAME.into(),
            service_kv: Box::default(),
            reserved: Reserved::default(),
            limits: Limits {
                value_len: DEFAULT_MAX_VALUE_LEN,
                fields: DEFAULT_MAX_FIELDS,
            },
            redaction: Redaction::default(),
            gcp_project_id: None,
            preset: PresetConfig::default(),
            dispatch: OnceLock::new(),
            stats: Stats::default(),
            throttle: Arc::default(),
            sdk_line_interval: DEFAULT_SDK_LINE_INTERVAL,
        };
        layer.configure();
        layer
    }
}

impl<W> JsonLayer<W> {
    /// Sends lines to another [`MakeWriter`]: a file, `std::io::stderr`, a
    /// `tracing_appender::non_blocking` writer, a test buffer.
    ///
    /// Each line is written with one `write_all` call on the writer `make_writer` returns for it.
    /// By default, lines go to stdout.
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        JsonLayer {
            make_writer,
            service: self.service,
            service_kv: self.service_kv,
            reserved: self.reserved,
            limits: self.limits,
            redaction: self.redaction,
            gcp_project_id: self.gcp_project_id,
            preset: self.preset,
            dispatch: self.dispatch,
            stats: self.stats,
            throttle: self.throttle,
            sdk_line_interval: self.sdk_line_interval,
        }
    }

    /// Sets the `service` key of every line: the service's `service.name`.
    ///
    /// By default, `unknown_service` ([`DEFAULT_SERVICE_NAME`]).
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service = name.into().into_boxed_str();
        self.configure();
        self
    }

    /// Adds the correlation keys of a log backend (GCP, Datadog, ECS, X-Ray); see [`Preset`].
    ///
    /// By default, [`Preset::Otel`]: `trace_id`, `span_id` and `trace_flags` only.
    pub fn with_preset(mut self, preset: Preset) -> Self {
        self.preset.preset = preset;
        self.configure();
        self
    }

    /// Sets the Google Cloud project id the [`Preset::Gcp`] trace key names.
    ///
    /// By default, the value of `GOOGLE_CLOUD_PROJECT` when the layer is configured; without
    /// either, GCP lines carry `spanId` and `trace_sampled` but no `trace` key.
    pub fn with_gcp_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.gcp_project_id = Some(project_id.into());
        self.configure();
        self
    }

    /// Adds the `file` key: the source file of the event.
    ///
    /// By default, off.
    pub fn with_file(mut self, file: bool) -> Self {
        self.reserved.file = file;
        self
    }

    /// Adds the `line` key: the source line of the event.
    ///
    /// By default, off.
    pub fn with_line_number(mut self, line: bool) -> Self {
        self.reserved.line = line;
        self
    }

    /// Adds the `thread_name` key, when the thread has a name.
    ///
    /// By default, off.
    pub fn with_thread_names(mut self, names: bool) -> Self {
        self.reserved.thread_name = names;
        self
    }

    /// Adds the `thread_id` key: a number unique to the thread within the process.
    ///
    /// By default, off.
    pub fn with_thread_ids(mut self, ids: bool) -> Self {
        self.reserved.thread_id = ids;
        self
    }

    /// Cuts string values (field values, the message, exception texts) longer than `bytes` at a
    /// character boundary, ending them with `…[truncated N bytes]`, so one huge value cannot make
    /// a line a log shipper refuses.
    ///
    /// By default, [`DEFAULT_MAX_VALUE_LEN`] (16 KiB).
    pub fn with_max_value_len(mut self, bytes: usize) -> Self {
        self.limits.value_len = bytes;
        self
    }

    /// Keeps at most `fields` fields per span and writes at most `fields` per line (span and event
    /// fields together, inner ones first); the line counts the others in `fields_dropped`.
    ///
    /// By default, [`DEFAULT_MAX_FIELDS`] (128).
    pub fn with_max_fields(mut self, fields: usize) -> Self {
        self.limits.fields = fields;
        self
    }

    /// Writes at most one line per `interval` for each callsite of the OpenTelemetry SDK (targets
    /// starting with `opentelemetry`), which logs every export that fails: the next line written
    /// carries `lines_suppressed`, how many of that callsite's lines were left out since the
    /// previous one, and [`Stats::sdk_lines_suppressed`] counts them all. `Duration::ZERO` writes
    /// every line. The service's own lines are never left out.
    ///
    /// By default, [`DEFAULT_SDK_LINE_INTERVAL`](crate::DEFAULT_SDK_LINE_INTERVAL) (10 s).
    pub fn with_sdk_line_interval(mut self, interval: Duration) -> Self {
        self.sdk_line_interval = interval;
        self
    }

    /// Redacts these field names too, besides [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS):
    /// their values are written as `"[REDACTED]"` (never formatted), in event and span fields. A
    /// name matches an entry whole or as its last `.`/`_`/`-` segment, case-insensitively.
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

    /// Replaces the redaction rules whole (the init's builder sets them once for both layers).
    #[cfg(feature = "init")]
    pub(crate) fn with_redaction_rules(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// A handle on this layer's counters of lines it could not deliver; take it before the layer is
    /// moved into a subscriber.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn configure(&mut self) {
        let mut kv = String::from("\"service\":");
        quoted_into(&mut kv, &self.service);
        self.service_kv = kv.into_boxed_str();
        self.preset = PresetConfig::new(
            self.preset.preset,
            self.gcp_project_id.clone(),
            &self.service,
        );
        self.reserved.preset_keys = self.preset.written_keys();
    }
}

/// What this layer keeps in each span's extensions.
#[derive(Debug)]
struct SpanState {
    fields: SpanFields,
    /// The span's ids, once read (`None`: the span has no OpenTelemetry context).
    ids: OnceLock<Option<SpanIds>>,
}

/// The per-thread buffers, reused line after line.
#[derive(Default)]
struct Buffers {
    line: String,
    /// The event's own fields, written after the span fields.
    fields: String,
    /// Names already written in this line (after renaming), so no key appears twice.
    seen: Vec<&'static str>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
    /// How many of this layer's `on_event` calls are running on this thread.
    static DEPTH: Cell<u8> = const { Cell::new(0) };
    static THREAD_ID: u64 = thread_id_number();
    /// The spans entered on this thread, innermost last, each with the key of the layer that saw
    /// it entered ([`Stats::key`]): this layer's own record of the current span, so that the event
    /// path does not read the registry's. The registry keeps every thread's span stack side by
    /// side in one `thread_local` crate table, where two threads' entries share cache lines: on
    /// two threads that false sharing cost a tenth of the time (`BENCHMARKS.md`).
    static ENTERED: RefCell<Vec<(usize, span::Id)>> = const { RefCell::new(Vec::new()) };
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

fn thread_id_number() -> u64 {
    // `ThreadId::as_u64` is unstable; its `Debug` form is `ThreadId(N)`. Parsed once per thread.
    let debug = format!("{:?}", std::thread::current().id());
    debug
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or(0)
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
        let fields = SpanFields::collect(
            |v| attrs.record(v),
            &self.reserved,
            self.limits,
            &self.redaction,
        );
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanState {
                fields,
                ids: OnceLock::new(),
            });
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let later = SpanFields::collect(
            |v| values.record(v),
            &self.reserved,
            self.limits,
            &self.redaction,
        );
        if let Some(span) = ctx.span(id) {
            if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
                state.fields.merge(later, self.limits);
            }
        }
    }

    fn on_exit(&self, id: &span::Id, _ctx: Context<'_, S>) {
        let key = self.stats.key();
        let _ = ENTERED.try_with(|entered| {
            if let Ok(mut entered) = entered.try_borrow_mut() {
                if let Some(pos) = entered.iter().rposition(|(k, i)| *k == key && i == id) {
                    entered.remove(pos);
                }
            }
        });
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        let key = self.stats.key();
        let _ = ENTERED.try_with(|entered| {
            if let Ok(mut entered) = entered.try_borrow_mut() {
                entered.push((key, id.clone()));
            }
        });
        // Entering starts the OpenTelemetry span anyway (the OpenTelemetry layer, below, has just
        // done so): reading its ids now changes nothing, and caches them for every event of the
        // span, the SDK's own included (those never trigger a lookup themselves).
        if let Some(span) = ctx.span(id) {
            let may_start = !crate::otel::is_sdk_target(span.metadata().target());
            self.span_ids(&span, may_start);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(_depth) = DepthGuard::enter() else {
            self.stats.reentrant_dropped();
            return;
        };
        let meta = event.metadata();
        let suppressed = if crate::line::throttle::is_throttled(meta.target()) {
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
        let written = BUFFERS.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => self.write_event(event, &ctx, &mut buffers, suppressed),
            // A `Debug` impl that logs while this thread formats a line: a buffer of its own.
            Err(_) => self.write_event(event, &ctx, &mut Buffers::default(), suppressed),
        });
        if written.is_err() {
            // The thread is exiting and its buffers are gone.
            self.write_event(event, &ctx, &mut Buffers::default(), suppressed);
        }
    }
}

impl<W> JsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    /// `suppressed`: the lines of this SDK callsite left out before this one (see
    /// `src/throttle.rs`).
    fn write_event<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        buffers: &mut Buffers,
        suppressed: u64,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let normalized = event.normalized_metadata();
        // A record of the `log` crate has metadata built per record: nothing to cache.
        if normalized.is_none() {
            let mut written = false;
            crate::callsite::with_keys(
                event.metadata(),
                self.stats.key(),
                &self.reserved,
                &self.redaction,
                |keys| {
                    self.write_event_with(event, None, ctx, buffers, Some(keys), suppressed);
                    written = true;
                },
            );
            if written {
                return;
            }
        }
        self.write_event_with(event, normalized.as_ref(), ctx, buffers, None, suppressed);
    }

    /// Writes the line; `keys` are the callsite's rendered strings when the cache could give them.
    fn write_event_with<S>(
        &self,
        event: &Event<'_>,
        normalized: Option<&tracing_core::Metadata<'_>>,
        ctx: &Context<'_, S>,
        buffers: &mut Buffers,
        keys: Option<&Keys>,
        suppressed: u64,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = normalized.unwrap_or_else(|| event.metadata());
        let Buffers { line, fields, seen } = buffers;
        line.clear();
        fields.clear();
        seen.clear();

        line.push_str("{\"timestamp\":\"");
        crate::line::timestamp::push_now(line);
        line.push_str("\",\"level\":\"");
        line.push_str(meta.level().as_str());
        line.push_str("\",");
        line.push_str(&self.service_kv);
        line.push_str(",\"target\":");
        match keys {
            Some(keys) => {
                line.push('"');
                line.push_str(keys.target());
                line.push('"');
            }
            None => quoted_into(line, meta.target()),
        }

        let exception = Exception::from_event(event);
        let mut visitor = EventVisitor {
            line,
            fields,
            seen,
            reserved: &self.reserved,
            limits: self.limits,
            redaction: &self.redaction,
            dropped: 0,
            keys,
            exception: exception.as_ref(),
            is_log: normalized.is_some(),
        };
        event.record(&mut visitor);
        let mut dropped = visitor.dropped;

        self.write_optional_keys(line, meta);
        self.preset.write_always(line);

        let span = event.parent().and_then(|id| ctx.span(id)).or_else(|| {
            event
                .is_contextual()
                .then(|| self.current_span(ctx))
                .flatten()
        });
        if let Some(span) = &span {
            // The SDK's own events may come while `tracing-opentelemetry` holds this span's
            // lock: for them only ids already known are written, never looked up.
            let may_start = !crate::otel::is_sdk_target(meta.target());
            // ECS names the local root span too: read before the leaf's lock is taken.
            let root = (self.preset.preset == Preset::Ecs)
                .then(|| span.scope().last())
                .flatten()
                .and_then(|root| self.span_ids(&root, may_start));
            // One lock on the leaf's state for its cached ids and its name: the common path.
            let extensions = span.extensions();
            let state = extensions.get::<SpanState>();
            match state.and_then(|s| s.ids.get().copied()) {
                Some(ids) => {
                    self.write_ids(line, ids.as_ref(), root.as_ref());
                    write_span_name(line, state, span.name());
                }
                None => {
                    // No lock may be held while the ids are looked up.
                    drop(extensions);
                    let ids = self.span_ids(span, may_start);
                    self.write_ids(line, ids.as_ref(), root.as_ref());
                    let extensions = span.extensions();
                    write_span_name(line, extensions.get::<SpanState>(), span.name());
                }
            }
        }

        if let Some(exception) = &exception {
            write_exception(line, exception, self.limits.value_len);
        }

        if let Some(span) = &span {
            for span in span.scope() {
                let extensions = span.extensions();
                let Some(state) = extensions.get::<SpanState>() else {
                    continue;
                };
                dropped += state.fields.dropped;
                for (name, fragment) in state.fields.iter() {
                    let key = dedupe_key(name, &self.reserved);
                    if seen.contains(&key) {
                        continue;
                    }
                    if seen.len() >= self.limits.fields {
                        dropped += 1;
                        continue;
                    }
                    seen.push(key);
                    line.push_str(fragment);
                }
            }
        }
        line.push_str(fields);
        if dropped > 0 {
            line.push_str(",\"fields_dropped\":");
            crate::line::span_fields::push_int(line, dropped as u64);
        }
        if suppressed > 0 {
            line.push_str(",\"lines_suppressed\":");
            crate::line::span_fields::push_int(line, suppressed);
        }
        line.push_str("}\n");

        let mut writer = self.make_writer.make_writer_for(meta);
        if writer.write_all(line.as_bytes()).is_err() {
            self.stats.write_failed();
        }
    }

    fn write_ids(&self, line: &mut String, ids: Option<&SpanIds>, root: Option<&SpanIds>) {
        let Some(ids) = ids else {
            return;
        };
        line.push_str(",\"trace_id\":\"");
        line.push_str(ids.trace_hex());
        line.push_str("\",\"span_id\":\"");
        line.push_str(ids.span_hex());
        line.push_str("\",\"trace_flags\":\"");
        line.push_str(ids.flags_hex());
        line.push('"');
        self.preset.write_ids(line, ids, root);
    }

    /// The current span as this layer saw it entered on this thread (see [`ENTERED`]).
    fn current_span<'a, S>(&self, ctx: &'a Context<'_, S>) -> Option<SpanRef<'a, S>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let key = self.stats.key();
        let entered = ENTERED.try_with(|entered| {
            let entered = entered.try_borrow().ok()?;
            entered
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, id)| id.clone())
        });
        match entered {
            Ok(id) => ctx.span(&id?),
            // The thread is being torn down: ask the registry.
            Err(_) => ctx.lookup_current(),
        }
    }

    fn write_optional_keys(&self, line: &mut String, meta: &tracing_core::Metadata<'_>) {
        use std::fmt::Write as _;
        let r = &self.reserved;
        if r.file {
            if let Some(file) = meta.file() {
                line.push_str(",\"file\":");
                quoted_into(line, file);
            }
        }
        if r.line {
            if let Some(n) = meta.line() {
                let _ = write!(line, ",\"line\":{n}");
            }
        }
        if r.thread_name {
            if let Some(name) = std::thread::current().name() {
                line.push_str(",\"thread_name\":");
                quoted_into(line, name);
            }
        }
        if r.thread_id {
            if let Ok(id) = THREAD_ID.try_with(|id| *id) {
                let _ = write!(line, ",\"thread_id\":{id}");
            }
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
        let ids = crate::otel::ids::lookup(&span.id(), self.dispatch.get()?);
        if let Some(state) = span.extensions().get::<SpanState>() {
            let _ = state.ids.set(ids);
        }
        ids
    }
}

/// The name a field is known by for duplicate detection: a reserved name and the user's own
/// `fields.<reserved>` both become `fields.<reserved>` in the line, so they share one key.
fn dedupe_key(name: &'static str, reserved: &Reserved) -> &'static str {
    match name.strip_prefix("fields.") {
        Some(rest) if reserved.contains(rest) => rest,
        _ => name,
    }
}

/// `,"span_name":...`: the span's `otel.name` when it has one, as the exported span is named.
fn write_span_name(line: &mut String, state: Option<&SpanState>, name: &str) {
    line.push_str(",\"span_name\":");
    match state.and_then(|s| s.fields.otel_name.as_deref()) {
        Some(otel_name) => quoted_into(line, otel_name),
        None => quoted_into(line, name),
    }
}

fn write_exception(line: &mut String, exception: &Exception, limit: usize) {
    line.push_str(",\"exception\":{");
    if let Some(type_name) = &exception.type_name {
        line.push_str("\"type\":");
        limited_str_into(line, type_name, limit);
        line.push(',');
    }
    line.push_str("\"message\":");
    limited_str_into(line, &exception.message, limit);
    if !exception.causes.is_empty() {
        line.push_str(",\"causes\":[");
        for (i, cause) in exception.causes.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            limited_str_into(line, cause, limit);
        }
        line.push(']');
    }
    if let Some(stacktrace) = &exception.stacktrace {
        line.push_str(",\"stacktrace\":");
        limited_str_into(line, stacktrace, limit);
    }
    line.push('}');
}

/// Writes an event's fields: `message` into the line at its place, the others into `fields`.
struct EventVisitor<'a> {
    line: &'a mut String,
    fields: &'a mut String,
    seen: &'a mut Vec<&'static str>,
    reserved: &'a Reserved,
    limits: Limits,
    redaction: &'a Redaction,
    /// Fields not written because the line already had [`Limits::fields`] of them.
    dropped: usize,
    /// The callsite's rendered keys, when the cache gave them.
    keys: Option<&'a Keys>,
    exception: Option<&'a Exception>,
    is_log: bool,
}

impl EventVisitor<'_> {
    /// Starts the field `field`, returning whether it is written as a plain field.
    fn begin(&mut self, field: &Field) -> bool {
        let name = field.name();
        if (self.is_log && name.starts_with("log."))
            || self.exception.is_some_and(|e| e.owns_field(name))
        {
            return false;
        }
        let key = dedupe_key(name, self.reserved);
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen.len() >= self.limits.fields {
            self.dropped += 1;
            return false;
        }
        self.seen.push(key);
        match self.keys.and_then(|keys| keys.key(field.index())) {
            Some(rendered) => self.fields.push_str(rendered),
            None => push_key(self.fields, name, self.reserved),
        }
        let secret = self
            .keys
            .and_then(|keys| keys.is_secret(field.index()))
            .unwrap_or_else(|| self.redaction.is_secret(name));
        if secret {
            // The value is never formatted.
            push_redacted(self.fields);
            return false;
        }
        true
    }

    fn message(&mut self, value: &dyn std::fmt::Display) {
        self.line.push_str(",\"message\":");
        limited_display_into(self.line, value, self.limits.value_len);
    }
}

impl ValueSink for EventVisitor<'_> {
    fn buf(&mut self) -> &mut String {
        self.fields
    }

    fn limit(&self) -> usize {
        self.limits.value_len
    }
}

macro_rules! visit_event_field {
    ($($method:ident($ty:ty) => $sink:ident;)*) => {
        $(
            fn $method(&mut self, field: &Field, value: $ty) {
                if field.name() == "message" {
                    self.message(&value);
                } else if self.begin(field) {
                    self.$sink(value);
                }
            }
        )*
    };
}

impl Visit for EventVisitor<'_> {
    visit_event_field! {
        record_i64(i64) => value_i64;
        record_u64(u64) => value_u64;
        record_i128(i128) => value_i128;
        record_u128(u128) => value_u128;
        record_f64(f64) => value_f64;
        record_bool(bool) => value_bool;
        record_str(&str) => value_str;
        record_error(&(dyn std::error::Error + 'static)) => value_error;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.line.push_str(",\"message\":");
            limited_debug_into(self.line, value, self.limits.value_len);
        } else if self.begin(field) {
            self.value_debug(value);
        }
    }
}
