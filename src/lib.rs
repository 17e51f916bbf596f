//! JSON log lines that join their OpenTelemetry trace, for services built on [`tracing`].
//!
//! A service built from `tracing` spans and events produces two things that must agree:
//! OpenTelemetry spans for the tracing backend, and JSON log lines that a log aggregator joins to
//! those spans by `trace_id`. This crate gives both from the same spans:
//!
//! - [`layer()`] writes one JSON line per event, stamped with the `trace_id`, `span_id` and
//!   `trace_flags` of the span the event belongs to;
//! - [`otel_layer()`] is `tracing-opentelemetry`'s layer, set up so that errors become
//!   OpenTelemetry exceptions once, by the conventions;
//! - [`record_exception`] and [`SpanExt::record_exception`] do what the OpenTelemetry SDKs'
//!   `span.record_exception(e)` does, and `#[instrument(err)]` and ERROR events map the same way;
//! - [`init`] does all of it in one line of `main`, configured by the standard `OTEL_*`
//!   environment, exporting over OTLP or to the console;
//! - [`propagation`], [`server`] and [`client`] carry one trace across services, strictly by the W3C
//!   specifications.
//!
//! Library code needs none of this: it uses `tracing` and `#[instrument]`, and its spans and errors
//! flow through these layers in the service that installs them.
//!
//! # One-line init
//!
//! A service's `main` needs one line (feature `init`, on by default):
//!
//! ```no_run
//! let _guard = tracing_correlate::init("checkout"); // or try_init, or builder("checkout")...
//! ```
//!
//! It installs the global subscriber (`RUST_LOG` filter, default `info`; the OpenTelemetry layer;
//! the JSON layer on stdout; records of the `log` crate bridged in), the global tracer provider, the
//! global propagator, and a panic hook, all configured by the standard OpenTelemetry environment,
//! read as the specification says (where `opentelemetry_sdk` 0.33 does not):
//!
//! | variable | default | what it does |
//! |---|---|---|
//! | `OTEL_SERVICE_NAME` | the init's argument | the `service` of every line and the resource's `service.name`; wins over `service.name` in `OTEL_RESOURCE_ATTRIBUTES` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | none | `k=v,k2=v2` resource attributes, percent-decoded; discarded whole (with a warning) when it cannot be decoded |
//! | `OTEL_TRACES_EXPORTER` | `otlp` when an OTLP endpoint variable is set, else `console` | `otlp`; `console`: each finished span as a JSON line in the log stream; `none`: nothing exported, lines keep real ids |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318` (`:4317` for gRPC) | base URL; `/v1/traces` (`/v1/logs`) appended for HTTP |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `_LOGS_ENDPOINT` | from the base | used as is (no path means `/`) |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` (and `_TRACES_`, `_LOGS_`) | `http/protobuf` | `grpc`, `http/protobuf`, `http/json` |
//! | `OTEL_EXPORTER_OTLP_HEADERS` (and `_TRACES_`, `_LOGS_`) | none | `k=v,...`, percent-decoded |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` (and `_TRACES_`, `_LOGS_`) | `10000` | per export, milliseconds |
//! | `OTEL_EXPORTER_OTLP_COMPRESSION` (and `_TRACES_`, `_LOGS_`) | none | `gzip` or `none` |
//! | `OTEL_LOGS_EXPORTER` | `none` | `otlp`: also send each event as an OpenTelemetry log record with its trace context; the JSON lines are the log signal otherwise |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_always_on` | `always_on`, `always_off`, `traceidratio`, `parentbased_*`; ratio in [0, 1] |
//! | `OTEL_PROPAGATORS` | `tracecontext,baggage` | `tracecontext`, `baggage`, `none` |
//! | `OTEL_SDK_DISABLED` | `false` | `true`: nothing exported; lines keep real ids and context still propagates |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `_MAX_QUEUE_SIZE`, `_MAX_EXPORT_BATCH_SIZE`, `_EXPORT_TIMEOUT` | `5000`, `2048`, `512`, `30000` | the span batch processor |
//! | `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `_EVENT_COUNT_LIMIT`, `_LINK_COUNT_LIMIT` | `128` | span limits |
//! | `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` | no limit | longer string values are cut |
//! | `RUST_LOG` | `info` | which events become lines (`EnvFilter` directives) |
//!
//! Enum values are case-insensitive; an empty value is unset. A bad value never stops a service:
//! it is warned about once in a line that names the variable and the value, and treated as unset.
//! The choice made (exporter, protocol, endpoint, propagators, sampler) is logged once at startup.
//!
//! The returned [`Guard`] flushes and shuts down on drop, bounded in time
//! ([`Builder::with_shutdown_timeout`], 5 s by default) whatever the collector does, also inside a
//! Tokio runtime, and writes one line with what was delivered and what was lost. Every protocol
//! works from a plain `fn main` and inside `#[tokio::main]` (multi-thread or current-thread): the
//! exporters run on a one-thread runtime of the crate's own.
//!
//! A panic becomes an ERROR line with `"exception":{"type":"panic",...}` and its `location`, on the
//! current span, which is marked as an error; the exporters are flushed; then the previous hook runs.
//!
//! # Composing the layers
//!
//! ```
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! // Any `opentelemetry_sdk` provider: with an OTLP exporter in a service, in memory in a test.
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//! let tracer = provider.tracer("checkout");
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_correlate::otel_layer(tracer)) // tracing-opentelemetry, errors mapped by us
//!     .with(
//!         tracing_correlate::layer() // the JSON layer
//!             .with_service_name("checkout")
//!             .with_writer(std::io::stdout), // any tracing_subscriber MakeWriter
//!     );
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("create_order", order_id = 42);
//!     let _entered = span.enter();
//!     tracing::info!(items = 3, "order placed");
//! });
//! ```
//!
//! The OpenTelemetry layer goes first (below): the JSON layer reads the ids of the spans it makes.
//! Without it, lines carry no ids. `opentelemetry`, `opentelemetry_sdk` and
//! `tracing_opentelemetry` are re-exported, so a service uses the versions this crate was built
//! with.
//!
//! # The JSON line
//!
//! One event is one line, one JSON object, ending in `\n`, written with one `write_all`:
//!
//! ```json
//! {"timestamp":"2026-11-21T10:23:45.123456Z","level":"INFO","service":"checkout","target":"checkout::orders",
//!  "message":"order placed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",
//!  "trace_flags":"01","span_name":"create_order","order_id":42,"items":3}
//! ```
//!
//! | key | when | value |
//! |---|---|---|
//! | `timestamp` | always | RFC 3339, UTC, microseconds, `Z` suffix, in every build profile |
//! | `level` | always | `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE` |
//! | `service` | always | [`JsonLayer::with_service_name`], else `unknown_service` |
//! | `target` | always | the event's target (for records of the `log` crate, the record's target) |
//! | `message` | when the event has one | the `message` field, as a string |
//! | `file`, `line`, `thread_name`, `thread_id` | when switched on ([`JsonLayer::with_file`], ...) | source file, line number, thread name, thread number |
//! | `trace_id` | inside a span | 32 lowercase hex chars |
//! | `span_id` | inside a span | 16 lowercase hex chars: the span the event belongs to |
//! | `trace_flags` | inside a span | 2 lowercase hex chars, W3C flags (`01` sampled, `00` not) |
//! | preset keys | with a [`Preset`] | the backend's own correlation keys |
//! | `span_name` | inside a span | the span's name (its `otel.name` field when it has one, as the exported span) |
//! | `exception` | ERROR events that carry an error | object: `type` (when known), `message`, `causes` (the `source()` chain, when not empty), `stacktrace` (when captured) |
//! | span fields | inside a span | fields of every span from leaf to root, flattened; an inner span's field wins over an outer one's |
//! | event fields | always | flattened at the top level; an event field wins over a span field of the same name |
//! | `fields_dropped` | when fields were past the bound | how many span and event fields the line could not hold |
//! | `lines_suppressed` | on a line of the OpenTelemetry SDK, when lines of its callsite were left out | how many: the SDK's lines are throttled to one per callsite per 10 s ([`JsonLayer::with_sdk_line_interval`]) |
//!
//! "Inside a span" means: the event's explicit parent (`parent: &span`), else the current span.
//! Outside any span the id keys are absent (not zeros). The ids are those of the OpenTelemetry span
//! exported for that span, so `trace_id`/`span_id` always find their span in the tracing backend:
//! for root spans, children, spans created but never entered, events with an explicit parent on
//! another thread, and spans whose remote parent was set with
//! [`set_parent`](tracing_opentelemetry::OpenTelemetrySpanExt::set_parent) before they started.
//! Unsampled spans still give their lines ids, with `trace_flags` `00`.
//!
//! **Reserved keys** are the keys of the table (the optional and preset ones only when the layer
//! writes them). A user field never overwrites one: a field named like one is written as
//! `fields.<name>` (an event field `level` becomes `"fields.level"`), and no line holds a key
//! twice. Fields named `otel.*` steer the OpenTelemetry span (`otel.name`, `otel.kind`,
//! `otel.status_code`) and are not written.
//!
//! **Bounds**: a string value longer than [`DEFAULT_MAX_VALUE_LEN`] bytes (16 KiB;
//! [`JsonLayer::with_max_value_len`]) is cut at a character boundary and ends in
//! `…[truncated N bytes]`; a span keeps, and a line writes, at most [`DEFAULT_MAX_FIELDS`] fields
//! (128; [`JsonLayer::with_max_fields`]), event fields first, then from the inner span out, and the
//! line counts the rest in `fields_dropped`.
//!
//! **Values**: integers and floats as JSON numbers (non-finite floats as the strings `"NaN"`,
//! `"inf"`, `"-inf"`), booleans as booleans, strings and `Display`/`Debug`-recorded values as JSON
//! strings. Every key and string goes through one escaping routine: quotes, backslashes, every
//! control character (C0, DEL and C1, so ANSI sequences cannot reach a terminal) and U+2028/U+2029
//! are escaped, so no field can break a line or forge a key.
//!
//! # Errors become exceptions
//!
//! An ERROR event *carries an exception* when it has an error value: a field recorded as
//! `&dyn Error`, a field named `error` (what `#[instrument(err)]` and `#[instrument(err(Debug))]`
//! emit), or the fields [`record_exception`] emits. Each such event gives, consistently:
//!
//! | where | what |
//! |---|---|
//! | the line | `"exception":{"type":..,"message":..,"causes":[..],"stacktrace":..}`; the error field is not repeated as a plain field |
//! | the OpenTelemetry span | one `exception` event: `exception.type` (when known), `exception.message`, `exception.stacktrace` (when captured), `exception.causes` (when any), plus the event's other fields |
//! | its status | `Error`, described by the exception message; `error.type` = the type name, or `_OTHER` |
//!
//! - `type` is known for [`record_exception`] (`std::any::type_name` of the error) and for events
//!   with an `exception.type` field; `#[instrument(err)]` and `&dyn Error` fields do not name it.
//! - `message` is the error's `Display` form (its `Debug` form for `#[instrument(err(Debug))]`).
//! - `causes` keeps the `source()` chain, outermost first: `message` is only the error itself.
//! - `stacktrace` is a [`std::backtrace::Backtrace`], captured only when `RUST_BACKTRACE` or
//!   `RUST_LIB_BACKTRACE` enable capture: by [`record_exception`] at its call, for other events
//!   when each layer handles the event (so its first frames are inside the logging call).
//! - An ERROR event without an error value sets the status `Error` with its message as
//!   description, and stays an ordinary span event. WARN and below never change the status, and an
//!   error value below ERROR is an ordinary field.
//! - Which other events become span events is [`OtelLayer::with_span_events`]: by default WARN and
//!   ERROR ([`DEFAULT_SPAN_EVENTS`]). INFO and below stay in the JSON lines only, which already are
//!   the log signal joined to the trace by `trace_id`: copying every event into its span is the
//!   largest per-event cost of `tracing-opentelemetry` (figures in `BENCHMARKS.md`).
//! - The status is set when the span closes: the last exception's message, else the first ERROR
//!   event's. The same exception (same message) is recorded once per span, however many times it is
//!   logged on its way up.
//!
//! # Redaction
//!
//! Fields whose names hold secrets ([`DEFAULT_REDACTED_FIELDS`]: `password`, `passwd`, `secret`,
//! `token`, `api_key`, `authorization`, `cookie`, `set-cookie`, also as the last segment of a
//! longer name such as `db_password` or `x-api-key`) are written as `"[REDACTED]"`, and their
//! values are never even formatted:
//!
//! - in the JSON lines ([`JsonLayer`]);
//! - in the OpenTelemetry spans, as span attributes and span event attributes ([`OtelLayer`]: it
//!   hands `tracing-opentelemetry` a copy of the values of a callsite that has a secret field,
//!   with the marker in their place);
//! - in the OTLP log records of `OTEL_LOGS_EXPORTER=otlp` ([`init`]);
//! - and, as a last line, in every span the [`init`] exports, whatever set its attributes (an
//!   attribute added with `OpenTelemetrySpanExt::set_attribute` included).
//!
//! Extend the list with `with_redacted_fields` or add a predicate with `with_redaction`, on
//! [`JsonLayer`], [`OtelLayer`] or, for both at once, the init's [`Builder`]. Composed by hand,
//! give both layers the same rules.
//!
//! # Presets
//!
//! [`JsonLayer::with_preset`] adds a log backend's own correlation keys ([`Preset`]: Google Cloud,
//! Datadog, Elastic ECS, AWS X-Ray) after the OpenTelemetry keys, which stay.
//!
//! # What the layer costs, and what it never does
//!
//! Per thread, one line buffer is reused; the line is built whole, then written with one
//! `write_all`. Span fields are serialised once per span and spliced into its lines; a span's ids
//! are read once and cached; the current span comes from a thread-local stack of the layer's own,
//! so threads never touch each other's memory on the event path; nothing is allocated per event.
//! No lock on a span's extensions is held while a `Debug` impl, the OpenTelemetry SDK or the
//! writer runs. A `Debug` impl that logs gets its line written; deeper nesting (a writer that logs
//! each write) is dropped and counted in [`Stats`], as are failed writes. The layer never panics at
//! runtime.
//!
//! OTLP export never runs on the thread that ends a span: the init's spans wait in the SDK's
//! bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`) and, while the collector is slow, failing or gone,
//! those that do not fit are dropped and counted in the Guard's `spans_lost`. (Console spans are
//! written as they end, by the thread that ends them, like its own lines.) The SDK logs each failed
//! export; the JSON layer writes such a line at most once per 10 s per callsite
//! ([`JsonLayer::with_sdk_line_interval`]), counting the others. `RELIABILITY.md` holds every
//! fault, bad input and load the crate is tested against, with its figures.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `init` | on | [`init`], [`try_init`], [`builder`], [`Guard`]: OTLP export through `opentelemetry-otlp` (gRPC, HTTP/protobuf, HTTP/JSON), console spans, the `OTEL_*` environment, the panic hook |
//! | `tower` | off | [`server::TraceLayer`]: one server span per request, for any `tower` HTTP service |
//! | `axum` | off | with `tower`: `http.route` from axum's matched route, `client.address` from `ConnectInfo` |
//! | `reqwest` | off | [`client::TracingMiddleware`] for `reqwest-middleware`: one client span per request, context injected |
//!
//! [`propagation`] (the W3C propagators and the `extract`/`inject` helpers for headers and message
//! payloads) needs no feature.
//!
//! Without `init`, the layers need only `tracing-subscriber`, `tracing-opentelemetry`,
//! `opentelemetry` and `opentelemetry_sdk`.

#![warn(
    missing_docs,
    unreachable_pub,
    rust_2018_idioms,
    missing_debug_implementations
)]
#![deny(unsafe_op_in_unsafe_fn)]

mod callsite;
mod exception;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "init")]
mod init;
mod line;
mod otel;
pub mod propagation;
mod redact;

#[cfg(feature = "reqwest")]
pub mod client;
#[cfg(feature = "tower")]
pub mod server;

pub use exception::{record_dyn_exception, record_exception, SpanExt};
#[cfg(feature = "init")]
pub use init::{
    builder, init, try_init, Builder, Guard, InitError, DEFAULT_FILTER, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use line::{
    JsonLayer, Preset, Stats, DEFAULT_MAX_FIELDS, DEFAULT_MAX_VALUE_LEN, DEFAULT_SDK_LINE_INTERVAL,
    DEFAULT_SERVICE_NAME,
};
pub use otel::{otel_layer, OtelLayer, DEFAULT_SPAN_EVENTS};
pub use redact::{Redaction, DEFAULT_REDACTED_FIELDS, REDACTED};

pub use opentelemetry;
pub use opentelemetry_sdk;
pub use tracing_opentelemetry;

/// Builds the JSON layer: one line per event, to stdout, with the default settings.
///
/// Configure it by value: [`with_writer`](JsonLayer::with_writer),
/// [`with_service_name`](JsonLayer::with_service_name), [`with_preset`](JsonLayer::with_preset),
/// and switches for the optional keys. Add it after (above) [`otel_layer()`].
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
