//! The JSON layer: event → span ids → line → writer.
//!
//! [`JsonLayer`] holds the settings (its docs are the schema's reference); `layer.rs` is its
//! `Layer` impl (per-span state, the thread's buffers, the writer); `format.rs` builds the line
//! block by block; `visitor.rs`, `span_fields.rs` and `value.rs` write fields; `keys.rs` says
//! which keys are reserved; `preset.rs` adds a backend's keys; `throttle.rs` bounds the SDK's own
//! lines; `stats.rs` counts what could not be delivered.

pub(crate) mod escape;
mod format;
pub(crate) mod keys;
mod layer;
mod preset;
pub(crate) mod span_fields;
mod stats;
pub(crate) mod throttle;
pub(crate) mod timestamp;
pub(crate) mod value;
mod visitor;

pub use preset::Preset;
pub use stats::Stats;
pub use throttle::DEFAULT_SDK_LINE_INTERVAL;

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing::dispatcher::WeakDispatch;
use tracing_subscriber::fmt::MakeWriter;

use crate::callsite::LayerId;
use crate::line::format::Format;
use crate::line::throttle::Throttle;
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

/// How much of a line user data may take: what keeps a line a line, whatever the fields hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// String values longer than this many bytes are cut at a character boundary, with a marker.
    pub(crate) value_len: usize,
    /// At most this many fields per span, and per line (span and event fields together); the
    /// others are counted in the line's `fields_dropped`.
    pub(crate) fields: usize,
}

/// A [`Layer`] that writes one JSON object per event, one line each, in the schema of the
/// [crate documentation](crate#the-json-line).
///
/// Built with [`layer()`](crate::layer) and configured by value; `W` is the
/// [`MakeWriter`] the lines go to (stdout by default).
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
}

impl<W> std::fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLayer")
            .field("service", &self.format.service)
            .field("reserved", &self.format.reserved)
            .field("preset", &self.format.preset.preset)
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
        JsonLayer {
            make_writer: io::stdout as fn() -> io::Stdout,
            format: Format::default(),
            id: LayerId::next(),
            dispatch: OnceLock::new(),
            stats: Stats::default(),
            throttle: Arc::default(),
            sdk_line_interval: DEFAULT_SDK_LINE_INTERVAL,
        }
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
            format: self.format,
            id: self.id,
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

    /// Cuts string values (field values, the message, exception texts) longer than `bytes` at a
    /// character boundary, ending them with `…[truncated N bytes]`, so one huge value cannot make
    /// a line a log shipper refuses.
    ///
    /// By default, [`DEFAULT_MAX_VALUE_LEN`] (16 KiB).
    pub fn with_max_value_len(mut self, bytes: usize) -> Self {
        self.format.limits.value_len = bytes;
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

    /// Writes the fields `redaction` calls secret as `"[REDACTED]"`, in event and span fields;
    /// their values are never formatted. Give the OpenTelemetry layer the same value.
    ///
    /// By default, [`Redaction::default()`](crate::Redaction): the names of
    /// [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS).
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.format.redaction = redaction;
        self
    }

    /// A handle on this layer's counters of lines it could not deliver; take it before the layer is
    /// moved into a subscriber.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }
}
