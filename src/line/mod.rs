//! The JSON layer: event → span ids → line → writer.
//!
//! [`JsonLayer`] holds the settings (its docs are the schema's reference); `layer.rs` is its
//! `Layer` impl (per-span state, the thread's buffers, the writer); `format.rs` builds the line
//! block by block; `visitor.rs`, `span_fields.rs` and `value.rs` write fields, within the bounds
//! of `limits.rs`; `baggage.rs` holds the allow-list of baggage keys written as fields; `keys.rs` says which keys are reserved; `preset.rs` adds a backend's keys;
//! `throttle.rs` bounds the SDK's own lines; `output.rs` hands a line to the writer
//! (`non_blocking.rs`: under the init, through a queue and a worker thread); `stats.rs` counts
//! what could not be delivered.

mod baggage;
mod capture;
pub(crate) mod escape;
mod format;
mod held;
pub(crate) mod keys;
mod layer;
pub(crate) mod limits;
#[cfg(feature = "init")]
pub(crate) mod non_blocking;
mod on_demand;
pub(crate) mod output;
pub(crate) mod preset;
pub(crate) mod span_fields;
mod stats;
pub(crate) mod throttle;
pub(crate) mod timestamp;
pub(crate) mod value;
mod visitor;

#[cfg(feature = "init")]
pub(crate) use baggage::overflow as baggage_overflow;
pub use baggage::MAX_BAGGAGE_FIELDS;
pub use held::{
    HeldLines, DEFAULT_HELD_BYTES, DEFAULT_HELD_BYTES_PER_TRACE, DEFAULT_HELD_LINES_PER_TRACE,
};
pub use limits::{DEFAULT_MAX_FIELDS, DEFAULT_MAX_KEY_LEN, DEFAULT_MAX_VALUE_LEN};
#[cfg(feature = "init")]
pub use non_blocking::{NonBlocking, DEFAULT_NON_BLOCKING_CAPACITY};
pub use on_demand::{DebugOnDemand, DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE};
pub use preset::Preset;
pub use stats::Stats;
pub use throttle::DEFAULT_SDK_LINE_INTERVAL;

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing::dispatcher::WeakDispatch;
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

use crate::callsite::LayerId;
use crate::line::format::Format;
use crate::line::held::Hold;
use crate::line::limits::Limits;
use crate::line::throttle::Throttle;
use crate::redact::Redaction;

/// The service name a layer writes until [`JsonLayer::with_service_name`] sets one (the
/// OpenTelemetry default for `service.name`).
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";

/// A [`Layer`](tracing_subscriber::Layer) that writes one JSON object per event, one line each,
/// with the ids of the span the event belongs to.
///
/// Built with [`layer()`](crate::layer) and configured by value; `W` is the
/// [`MakeWriter`] the lines go to (stdout by default).
///
/// # The line
///
/// One event is one line, one JSON object, ending in `\n`, built whole and then handed to one
/// writer (see [What the layer does when the writer fails](#what-the-layer-does-when-the-writer-fails)):
///
/// ```json
/// {"timestamp":"2026-11-21T10:23:45.123456Z","level":"INFO","service":"checkout","target":"checkout::orders",
///  "message":"order placed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",
///  "trace_flags":"01","span_name":"create_order","order_id":42,"items":3}
/// ```
///
/// Under the [`init`](crate::init) without a collector (`OTEL_TRACES_EXPORTER=console`, or no
/// OTLP endpoint set), each finished span is a line of the same stream, a *span line*, so the trace
/// can be rebuilt from the log alone (here the span of an `#[instrument(err)]` function that
/// failed, from `cargo run --example quickstart`):
///
/// ```json
/// {"timestamp":"2026-12-02T09:41:13.858663Z","level":"INFO","service":"checkout","target":"quickstart",
///  "kind":"span","trace_id":"783ad77a5ad7cb04ac9e8b8dd7abc546","span_id":"6d55c5963e758b19",
///  "trace_flags":"01","span_name":"reserve","parent_span_id":"8bb1b4c65e084341","span_kind":"internal",
///  "start":"2026-12-02T09:41:13.858597Z","end":"2026-12-02T09:41:13.858663Z","duration_ms":0.066,
///  "status":"error","status_description":"sku-missing is out of stock",
///  "attributes":{"code.file.path":"examples/quickstart.rs","code.module.name":"quickstart",
///   "code.line.number":29,"thread.id":1,"thread.name":"main","target":"quickstart",
///   "sku":"sku-missing","quantity":1,"error.type":"_OTHER"},
///  "events":[{"name":"exception","timestamp":"2026-12-02T09:41:13.858638Z",
///   "attributes":{"exception.message":"sku-missing is out of stock"}}]}
/// ```
///
/// **One vocabulary.** The two kinds of line share their keys: a key both carry means the same in
/// both, so one query (`span_id = "6d55c5963e758b19"`, `span_name = "reserve"`, `target =
/// "quickstart"`) finds the span's line and the lines of its events. The event lines are the
/// contract log aggregators are set up for (and `log-schema`'s), so where the two differed the event
/// line's name won: the span's name is `span_name` on both (never `name`, which on an event line is
/// a user's field), and `target` is the target of the `tracing` callsite on both (not the
/// tracer's name). `kind` is the one key that tells them apart: a span line has `"kind":"span"`; an
/// event line never has `kind` (a field named `kind` is written `fields.kind`).
///
/// | key | event line | span line |
/// |---|---|---|
/// | `timestamp` | when the event happened: RFC 3339, UTC, microseconds, `Z` suffix, in every build profile | when the span ended (its `end`), the same format |
/// | `level` | the event's level: `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE` | always `INFO`: a span line is no event, its outcome is `status` (see [counting failures](#counting-failures)) |
/// | `service` | [`JsonLayer::with_service_name`], else `unknown_service` | the resource's `service.name` (under the init, the same as the event lines') |
/// | `target` | the event's target (for records of the `log` crate, the record's target) | the target of the span's callsite (the `target` attribute `tracing-opentelemetry` records first); for a span made through the OpenTelemetry API, its tracer's name |
/// | `kind` | never | `"span"` |
/// | `message` | when the event has one: the event's first `message` field, as a string; a second one (`info!(message = "a", "b {}", 1)`: `tracing` puts the formatted message first) is an ordinary field, written as `fields.message` | never |
/// | `file`, `line`, `thread_name`, `thread_id` | when switched on ([`JsonLayer::with_file`], ...): source file, line number, thread name, thread number | never (the span's `code.*` and `thread.*` attributes hold them) |
/// | `trace_id` | inside a span: 32 lowercase hex chars | the span's, the same format |
/// | `span_id` | inside a span: 16 lowercase hex chars, the span the event belongs to | the span's own |
/// | `trace_flags` | inside a span: 2 lowercase hex chars, W3C flags (`01` sampled, `00` not) | the span's |
/// | preset keys | with a [`Preset`]: the backend's own correlation keys | never |
/// | `span_name` | inside a span: the span's name (its `otel.name` field when it has one, as the exported span) | the span's name: the value the lines of its events carry |
/// | `parent_span_id` | never | the parent span's id; absent for a root span |
/// | `span_kind` | never | `internal`, `server`, `client`, `producer` or `consumer` |
/// | `start`, `end` | never | when the span started and ended, RFC 3339 |
/// | `duration_ms` | never | `end - start` as the line shows them, in milliseconds with three decimals |
/// | `status` | never | `unset`, `ok` or `error` |
/// | `status_description` | never | with `error`: its description (the message of the exception or ERROR event that failed the span; for the server middleware's 5xx, the HTTP status) |
/// | `exception` | ERROR events that carry an error: object: `type` (when known), `message`, `causes` (the `source()` chain, when not empty: at most [`DEFAULT_MAX_CAUSES`](crate::DEFAULT_MAX_CAUSES), ending where the chain comes back to an error already in it), `causes_dropped` (when causes were past that bound: how many), `stacktrace` (as [`JsonLayer::with_stacktraces`] says, by default when `RUST_BACKTRACE` enables it: from the code that logged to before the runtime, at most [`MAX_STACKTRACE_FRAMES`](crate::MAX_STACKTRACE_FRAMES) frames and [`MAX_STACKTRACE_LEN`](crate::MAX_STACKTRACE_LEN) bytes) | never (the exception is an `exception` event in `events`, its keys `exception.type`, `exception.message`, `exception.causes`, `exception.stacktrace`) |
/// | `attributes` | never | the span's attributes, an object (a key set twice: the last value) |
/// | `events` | never | when the span has some: each `name`, `timestamp`, `attributes`, `dropped_attributes_count` (when not zero) |
/// | `links` | never | when the span has some: each `trace_id`, `span_id` |
/// | span fields | inside a span: fields of every span from leaf to root, flattened; an inner span's field wins over an outer one's | never (the span's own are in `attributes`) |
/// | event fields | always: flattened at the top level; an event field wins over a span field of the same name, and the first of two event fields of one name wins | never |
/// | `baggage.<key>` | inside a span, with [`JsonLayer::with_baggage_fields`]: each allow-listed key of the span's baggage, as a string | never |
/// | `fields_dropped` | when fields were past the bound: how many span, event and baggage fields the line could not hold | never |
/// | `dropped_attributes_count`, `dropped_events_count`, `dropped_links_count` | never | when not zero: what the SDK's limits and the line's bounds left out |
/// | `held` | with [held lines](JsonLayer::with_held_lines): `true` on a line that was held and written because its trace failed (written later than the lines around it; its `timestamp` is when it happened) | never |
/// | `lines_suppressed` | on a line of the OpenTelemetry SDK, when lines of its callsite were left out: how many (the SDK's lines are throttled to one per callsite per 10 s, [`JsonLayer::with_sdk_line_interval`]) | never |
///
/// The crate's own lines (the init's startup and shutdown lines and warnings, the middleware's
/// events) have the target `tracing_correlate`, but for the server middleware's access line,
/// `tracing_correlate::access` ([`server::ACCESS_TARGET`](crate::server::ACCESS_TARGET), feature
/// `tower`); its own spans (the server and client middleware's)
/// the module that made them, `tracing_correlate::server` or `tracing_correlate::client`. No line
/// spells it `tracing-correlate`.
///
/// "Inside a span" means: the event's explicit parent (`parent: &span`), else the current span.
/// Outside any span the id keys are absent (not zeros). The ids are those of the OpenTelemetry span
/// exported for that span, so `trace_id`/`span_id` always find their span in the tracing backend:
/// for root spans, children, spans created but never entered, events with an explicit parent on
/// another thread, and spans whose remote parent was set with
/// [`set_parent`](tracing_opentelemetry::OpenTelemetrySpanExt::set_parent) before they started.
/// Unsampled spans still give their lines ids, with `trace_flags` `00`.
///
/// **Reserved keys** are the keys of the table that an event line can carry (the optional and
/// preset ones only when the layer writes them), and `kind`. A user field never overwrites one: a field named like one is written as
/// `fields.<name>` (an event field `level` becomes `"fields.level"`), and no line holds a key
/// twice. Fields named `otel.*` steer the OpenTelemetry span (`otel.name`, `otel.kind`,
/// `otel.status_code`) and are not written.
///
/// **Bounds**: every string of a line longer than [`DEFAULT_MAX_VALUE_LEN`] bytes (16 KiB;
/// [`JsonLayer::with_max_value_len`]) is cut at a character boundary and ends in
/// `…[truncated N bytes]`: field values, the message, `span_name`, `target`, `file`,
/// `thread_name`, `service` (and the preset's keys made of it) and the exception's `type`,
/// `message`, each of its `causes` and `stacktrace`; the exception keeps at most
/// [`DEFAULT_MAX_CAUSES`](crate::DEFAULT_MAX_CAUSES) causes. A key longer than
/// [`DEFAULT_MAX_KEY_LEN`] bytes (256; [`JsonLayer::with_max_key_len`]) is cut the same way, and
/// fields whose names are one key once cut are written once (the first), the others counted in
/// `fields_dropped`. A span keeps, and a line writes, at most [`DEFAULT_MAX_FIELDS`] fields
/// (128; [`JsonLayer::with_max_fields`]), event fields first, then from the inner span out, and the
/// line counts the rest in `fields_dropped`. A line is so at most about `fields × (key + value)`
/// bytes of user data (each escaped character counts up to 6 bytes).
///
/// **Values**: integers and floats as JSON numbers, floats in the shortest form that reads back
/// as the same `f64` (`1.0`, `-0.0`, `1e-7`, `1.7976931348623157e308`; an `f32` field is recorded
/// by `tracing` as an `f64`, so `0.1_f32` is `0.10000000149011612`), non-finite floats as the
/// strings `"NaN"`, `"inf"`, `"-inf"`; booleans as booleans; strings and `Display`/`Debug`-recorded
/// values as JSON strings. Every key and string goes through one escaping routine: quotes, backslashes, every
/// control character (C0, DEL and C1, so ANSI sequences cannot reach a terminal) and U+2028/U+2029
/// are escaped, so no field can break a line or forge a key.
///
/// A span line has the bounds and value forms of an event line with the default settings: its
/// strings (the service, the target, the span's name, the status description, event names,
/// attribute values) are cut at the value length and its attribute keys at the key length; it
/// writes at most the fields bound of attributes, of events (their attributes together at most
/// that many) and of links, and counts the others in its `dropped_*_count` keys.
///
/// # Counting failures
///
/// `level` is the severity of an event, and only event lines are ever `ERROR`: an error logged once
/// (an `#[instrument(err)]` function returning `Err`, [`record_exception`](crate::record_exception),
/// `error!`, a panic under the init's hook) is one `ERROR` line, however many spans it fails. So:
///
/// - failures logged: lines with `level == "ERROR"`, one each;
/// - spans that failed: span lines with `status == "error"`; failed requests, those of them with
///   `span_kind == "server"`. A request the server middleware marks failed for its 5xx answer
///   alone (the handler logged no ERROR event) has no `ERROR` line: its span line's `status` is
///   where it shows.
///
/// # What the layer costs, and what it never does
///
/// Per thread, one line buffer is reused; the line is built whole, then handed to one writer
/// from one `make_writer` call. Span fields are serialised once per span and spliced into its lines; a span's ids
/// (and its [baggage fields](JsonLayer::with_baggage_fields), when there are some to write) are
/// read once and cached; the current span comes from a thread-local stack of the layer's own,
/// so threads never touch each other's memory on the event path; nothing is allocated per event.
/// No lock on a span's extensions is held while a `Debug` impl, the OpenTelemetry SDK or the
/// writer runs. A `Debug` impl that logs gets its line written; deeper nesting (a writer that logs
/// each write) is dropped and counted in [`Stats`], as are failed writes. The layer never panics at
/// runtime. The OpenTelemetry SDK logs each export that fails: the layer writes such a line at
/// most once per 10 s per callsite ([`JsonLayer::with_sdk_line_interval`]), counting the others.
///
/// # What the layer does when the writer fails
///
/// The line is written as `write_all` writes it (`write` calls until every byte is taken), keeping
/// the count of bytes taken, so that [`Stats::write_errors`] counts every line not written whole:
///
/// - An error, `Ok(0)` or `WouldBlock` gives the line up at once: it is never waited on nor
///   retried on the caller's thread (`Interrupted` is retried, at most 16 times in a row).
/// - A line the writer took part of (a non-blocking pipe that filled up, a disk that filled
///   mid-line) is torn: the next line starts with a `\n`, so the fragment sits alone on its line
///   and the next line is whole. A line of which only the final `\n` is missing counts as
///   written; that `\n` is the one the next line starts with. The torn state is the destination's:
///   under the [`init`](crate::init), event lines, console span lines and the startup and
///   shutdown lines share it. (A `make_writer_for` sending lines to several places by their
///   metadata shares one state: after a tear, the next line, wherever it goes, starts with `\n`.)
/// - A writer that panics (in `make_writer` or `write`, or in its drop before the whole line was
///   taken) costs that line, counted (a panic after the whole line was taken costs nothing); the
///   panic never reaches the event's call site, and the next line is written as usual (starting
///   with a `\n`, as the panicking write may have written part of the line). While a thread is
///   panicking (a panic hook that logs, a `Drop` that logs while unwinding), a writer that has
///   panicked before is not called and the line is counted: a panic inside a panic hook aborts
///   the process whatever catches it. A writer that is a `Mutex<W>` panicking while it holds
///   its lock poisons it, and `tracing-subscriber` then panics in each later `make_writer`:
///   each of those lines is counted.
/// - A writer that accepts bytes it then fails to deliver (a `BufWriter` flushing later) is out of
///   sight: the layer counts what the writer refuses.
pub struct JsonLayer<W = fn() -> io::Stdout> {
    make_writer: W,
    format: Format,
    /// This layer's entries in the callsite cache, and its spans in the thread's entered stack.
    id: LayerId,
    dispatch: OnceLock<WeakDispatch>,
    stats: Stats,
    /// The SDK's lines: at most one per callsite per `sdk_line_interval`.
    throttle: Arc<Throttle>,
    sdk_line_interval: Duration,
    /// With [`JsonLayer::with_held_lines`] (and [`JsonLayer::with_debug_on_demand`]).
    hold: Option<Arc<Hold>>,
    held_lines: Option<HeldLines>,
    on_demand: Option<DebugOnDemand>,
    /// With [`JsonLayer::with_unsampled_level`].
    unsampled_level: Option<Level>,
    /// Whether a line may be held or dropped, rather than written at once: one test per event.
    diverts: bool,
}

impl<W> std::fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLayer")
            .field("service", &self.format.service)
            .field("reserved", &self.format.reserved)
            .field("preset", &self.format.preset.preset)
            .field("stats", &self.stats)
            .field("hold", &self.hold)
            .field("unsampled_level", &self.unsampled_level)
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
        JsonLayer {
            make_writer: io::stdout as fn() -> io::Stdout,
            format: Format::new(DEFAULT_SERVICE_NAME, Limits::DEFAULT),
            id: LayerId::next(),
            dispatch: OnceLock::new(),
            stats: Stats::default(),
            throttle: Arc::default(),
            sdk_line_interval: DEFAULT_SDK_LINE_INTERVAL,
            hold: None,
            held_lines: None,
            on_demand: None,
            unsampled_level: None,
            diverts: false,
        }
    }
}

impl<W> JsonLayer<W> {
    /// Sends lines to another [`MakeWriter`]: a file, `std::io::stderr`, a
    /// `tracing_appender::non_blocking` writer, a test buffer.
    ///
    /// Each line is written to the writer one `make_writer_for` call returns for it, with `write`
    /// calls until it is taken whole; see
    /// [what the layer does when the writer fails](JsonLayer#what-the-layer-does-when-the-writer-fails).
    /// By default, lines go to stdout.
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        JsonLayer {
            make_writer,
            format: self.format,
            id: self.id,
            dispatch: self.dispatch,
            stats: self.stats,
            throttle: self.throttle,
            sdk_line_interval: self.sdk_line_interval,
            hold: self.hold,
            held_lines: self.held_lines,
            on_demand: self.on_demand,
            unsampled_level: self.unsampled_level,
            diverts: self.diverts,
        }
    }

    /// Sets the `service` key of every line: the service's `service.name`.
    ///
    /// By default, `unknown_service` ([`DEFAULT_SERVICE_NAME`]).
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.format.service = name.into().into_boxed_str();
        self.format.configure();
        self
    }

    /// Adds the correlation keys of a log backend (GCP, Datadog, ECS, X-Ray); see [`Preset`].
    ///
    /// By default, [`Preset::Otel`]: `trace_id`, `span_id` and `trace_flags` only.
    pub fn with_preset(mut self, preset: Preset) -> Self {
        self.format.preset.preset = preset;
        self.format.configure();
        self
    }

    /// Sets the Google Cloud project id the [`Preset::Gcp`] trace key names.
    ///
    /// By default, the value of `GOOGLE_CLOUD_PROJECT` when the layer is configured; without
    /// either, GCP lines carry `spanId` and `trace_sampled` but no `trace` key.
    pub fn with_gcp_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.format.gcp_project_id = Some(project_id.into());
        self.format.configure();
        self
    }

    /// Adds the `file` key: the source file of the event.
    ///
    /// By default, off.
    pub fn with_file(mut self, file: bool) -> Self {
        self.format.reserved.file = file;
        self
    }

    /// Adds the `line` key: the source line of the event.
    ///
    /// By default, off.
    pub fn with_line_number(mut self, line: bool) -> Self {
        self.format.reserved.line = line;
        self
    }

    /// Adds the `thread_name` key, when the thread has a name.
    ///
    /// By default, off.
    pub fn with_thread_names(mut self, names: bool) -> Self {
        self.format.reserved.thread_name = names;
        self
    }

    /// Adds the `thread_id` key: a number unique to the thread within the process.
    ///
    /// By default, off.
    pub fn with_thread_ids(mut self, ids: bool) -> Self {
        self.format.reserved.thread_id = ids;
        self
    }

    /// Cuts strings longer than `bytes` at a character boundary, ending them with
    /// `…[truncated N bytes]`, so one huge string cannot make a line a log shipper refuses: field
    /// values, the message, the span name (`otel.name` too), the target, the file, the thread
    /// name, the service, and the exception's type, message, each cause and stack trace.
    ///
    /// By default, [`DEFAULT_MAX_VALUE_LEN`] (16 KiB).
    pub fn with_max_value_len(mut self, bytes: usize) -> Self {
        self.format.limits.value_len = bytes;
        self.format.configure();
        self
    }

    /// Cuts keys (field names) longer than `bytes` at a character boundary, ending them with
    /// `…[truncated N bytes]`. Fields whose names are the same once cut are one key: the first
    /// written wins, the others are counted in `fields_dropped`.
    ///
    /// By default, [`DEFAULT_MAX_KEY_LEN`] (256 bytes).
    pub fn with_max_key_len(mut self, bytes: usize) -> Self {
        self.format.limits.key_len = bytes;
        self.format.configure();
        self
    }

    /// Keeps at most `fields` fields per span and writes at most `fields` per line (span and event
    /// fields together, inner ones first); the line counts the others in `fields_dropped`.
    ///
    /// By default, [`DEFAULT_MAX_FIELDS`] (128).
    pub fn with_max_fields(mut self, fields: usize) -> Self {
        self.format.limits.fields = fields;
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

    /// When the line's `exception` carries a `stacktrace`; see [`Stacktraces`](crate::Stacktraces)
    /// for what each setting does and costs. Give the OpenTelemetry layer the same value: the
    /// event's one capture is then shared by both.
    ///
    /// By default, [`Stacktraces::FromEnv`](crate::Stacktraces::FromEnv): when `RUST_BACKTRACE`
    /// or `RUST_LIB_BACKTRACE` enable them.
    pub fn with_stacktraces(mut self, stacktraces: crate::Stacktraces) -> Self {
        self.format.stacktraces = stacktraces;
        self
    }

    /// Writes the fields `redaction` calls secret as `"[REDACTED]"`, in event and span fields
    /// and [baggage fields](Self::with_baggage_fields); their values are never formatted. Give
    /// the OpenTelemetry layer the same value.
    ///
    /// By default, [`Redaction::default()`](crate::Redaction): the names of
    /// [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS).
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.format.redaction = redaction;
        self.format.configure();
        self
    }

    /// Writes these keys of the [baggage](opentelemetry::baggage) of the event's span as fields
    /// named `baggage.<key>` (`baggage.tenant`), so that lines can be filtered by what a caller
    /// sent in its `baggage` header; no other key is written.
    ///
    /// - The baggage is the span's OpenTelemetry context's: a span inherits its parent's, and the
    ///   [server middleware](crate::server)'s span the request's (extracted by the global
    ///   propagator). It is read once per span, with the span's ids; an event outside any span
    ///   has none. Baggage a span was given after its ids were first read is not seen.
    /// - Keys are matched exactly (W3C keys are case-sensitive). An empty key, or one given
    ///   twice, is skipped; keys past [`MAX_BAGGAGE_FIELDS`] (32) are ignored, with a warning.
    /// - A key whose field name the [redaction](Self::with_redaction) rules call secret
    ///   (`baggage.secret_token`) is written as `"[REDACTED]"`: allowing it says its presence
    ///   matters, never its value.
    /// - Values are strings, cut at the [value length](Self::with_max_value_len); the field name
    ///   at the [key length](Self::with_max_key_len). Baggage fields come after the event's and
    ///   the spans' fields: a field of the same name wins, and past the
    ///   [fields bound](Self::with_max_fields) they are counted in `fields_dropped`.
    ///
    /// With no keys, the layer reads no baggage and an event costs what it did.
    ///
    /// By default, none.
    ///
    /// ```
    /// let layer = tracing_correlate::layer().with_baggage_fields(["tenant", "region"]);
    /// # drop(layer);
    /// ```
    pub fn with_baggage_fields<I>(mut self, keys: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let (keys, ignored) = baggage::BaggageKeys::new(keys);
        if !ignored.0.is_empty() {
            tracing::warn!(
                target: "tracing_correlate",
                ignored = ?ignored.0,
                "more than {MAX_BAGGAGE_FIELDS} baggage fields; these keys are not written"
            );
        }
        self.format.baggage = keys;
        self.format.configure();
        self
    }

    /// Holds the lines at a level and below that belong to a span, and writes them only when
    /// their trace fails; see [`HeldLines`] for what fails a trace, the bounds, and what is
    /// counted. `None` writes every line at once.
    ///
    /// Lines are held only when events reach the layer: give the subscriber's filter the levels
    /// held (`RUST_LOG=debug`, with `HeldLines::new(Level::DEBUG)`). A held line, when written,
    /// carries `"held":true` (a field named `held` is then written `fields.held`).
    ///
    /// By default, none.
    pub fn with_held_lines(mut self, held: impl Into<Option<HeldLines>>) -> Self {
        self.held_lines = held.into();
        self.configure_hold();
        self
    }

    /// Lets a request ask, by a baggage entry, for its held lines to be written at once, within
    /// a per-process rate; see [`DebugOnDemand`], and what a forged entry can and cannot do.
    /// Without [held lines](Self::with_held_lines) it does nothing.
    ///
    /// By default, none.
    pub fn with_debug_on_demand(mut self, on_demand: impl Into<Option<DebugOnDemand>>) -> Self {
        self.on_demand = on_demand.into();
        self.configure_hold();
        self
    }

    fn configure_hold(&mut self) {
        self.hold = self
            .held_lines
            .map(|held| Arc::new(Hold::new(held, self.stats.clone(), self.on_demand.clone())));
        self.format.reserved.held = self.hold.is_some();
        self.diverts = self.hold.is_some() || self.unsampled_level.is_some();
    }

    /// Writes, of the lines of a trace that is not sampled (`trace_flags` `00`: its spans are not
    /// exported), only those at `level` or more severe, so that lines and spans agree on what was
    /// kept; the others are counted ([`Stats::lines_unsampled`]). Events outside any span are
    /// written as ever. `None` writes the lines of every trace.
    ///
    /// `Level::WARN`: an unsampled request keeps its warnings and errors. Lines that are not
    /// written are not held either ([`with_held_lines`](Self::with_held_lines)).
    ///
    /// By default, none.
    pub fn with_unsampled_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.unsampled_level = level.into();
        self.diverts = self.hold.is_some() || self.unsampled_level.is_some();
        self
    }

    /// A handle on this layer's counters of lines it could not deliver; take it before the layer is
    /// moved into a subscriber.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }
}

/// Builds the JSON layer: one line per event, to stdout, with the default settings.
///
/// Configure it by value: [`with_writer`](JsonLayer::with_writer),
/// [`with_service_name`](JsonLayer::with_service_name), [`with_preset`](JsonLayer::with_preset),
/// and switches for the optional keys. Add it after (above) [`otel_layer()`](crate::otel_layer).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(
///     tracing_correlate::layer()
///         .with_service_name("checkout")
///         .with_line_number(true)
///         .with_writer(std::io::stderr),
/// );
/// # drop(subscriber);
/// ```
pub fn layer() -> JsonLayer {
    JsonLayer::new()
}
