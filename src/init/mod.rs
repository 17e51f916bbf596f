//! The one-line init for a service's `main`: the subscriber, the tracer provider, the propagator
//! and the panic hook, configured by the standard OpenTelemetry environment, and the [`Guard`]
//! that flushes everything on exit without ever hanging.

mod credentials;
#[cfg(test)]
mod endpoint_tests;
mod env;
mod error;
pub(crate) mod export;
mod guard;
pub(crate) mod log_exceptions;
mod panic;
mod providers;
mod redact_events;
mod sdk_gate;
mod signal;

pub use error::InitError;
pub use guard::{FlushReport, Guard};
pub use signal::shutdown_signal;

pub(crate) use env::{read as read_env, VARIABLES as ENV_VARIABLES};

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use tracing::Level;
use tracing_subscriber::filter::{filter_fn, EnvFilter, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

use crate::init::env::{propagator_names, EnvConfig};
use crate::init::error::ErrorKind;
use crate::init::export::Delivery;
use crate::init::guard::GuardState;
use crate::init::providers::{
    logger_provider, propagator, resource, tracer_provider, LineSink, Shared,
};
use crate::init::redact_events::RedactEvents;
use crate::init::sdk_gate::SdkGate;
use crate::line::non_blocking::{LineQueue, Output};
use crate::otel::sdk::is_sdk_target;
use crate::redact::Redaction;
use crate::view::Formatted;
use crate::{DebugOnDemand, Format, HeldLines, JsonLayer, NonBlocking, Preset, Stacktraces};

/// How long dropping the [`Guard`] may take at most, unless
/// [`Builder::with_shutdown_timeout`] says otherwise.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The filter used when `RUST_LOG` is unset (or cannot be parsed).
pub const DEFAULT_FILTER: &str = "info";

/// Installs everything a service needs, configured by the environment; panics with a clear
/// message on a real init error (a global subscriber already installed, no thread for the
/// exporters).
///
/// Bad environment values never make it panic: they are warned about and ignored. See
/// [`try_init`] for the `Result` form and [`Builder`] for what is read.
///
/// ```no_run
/// let _guard = tracing_correlate::init("checkout"); // first line of `main`
/// tracing::info!("service started");
/// ```
pub fn init(service_name: &str) -> Guard {
    match try_init(service_name) {
        Ok(guard) => guard,
        Err(err) => panic!("tracing_correlate::init(\"{service_name}\") failed: {err}"),
    }
}

/// Like [`init`], but returns the error instead of panicking.
///
/// ```no_run
/// fn main() -> Result<(), tracing_correlate::InitError> {
///     let _guard = tracing_correlate::try_init("checkout")?;
///     Ok(())
/// }
/// ```
pub fn try_init(service_name: &str) -> Result<Guard, InitError> {
    builder(service_name).try_init()
}

/// A builder for the init, for the settings code decides rather than the environment.
///
/// ```no_run
/// let _guard = tracing_correlate::builder("checkout")
///     .with_writer(std::io::stderr)
///     .with_preset(tracing_correlate::Preset::Gcp)
///     .with_shutdown_timeout(std::time::Duration::from_secs(2))
///     .try_init()?;
/// # Ok::<(), tracing_correlate::InitError>(())
/// ```
pub fn builder(service_name: impl Into<String>) -> Builder {
    Builder {
        service_name: service_name.into(),
        make_writer: io::stdout,
        preset: Preset::Otel,
        shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        default_filter: DEFAULT_FILTER.to_owned(),
        panic_hook: true,
        redaction: Redaction::default(),
        stacktraces: Stacktraces::default(),
        format: Format::Json,
        baggage_fields: Vec::new(),
        non_blocking: None,
        held_lines: None,
        debug_on_demand: None,
        unsampled_level: None,
    }
}

/// The init's settings; see [`builder`].
///
/// # What the init installs
///
/// It installs the global subscriber (`RUST_LOG` filter, default `info`; the OpenTelemetry layer;
/// the JSON layer on stdout; records of the `log` crate bridged in), the global tracer provider, the
/// global propagator, and a panic hook, all configured by the standard OpenTelemetry environment,
/// read as the specification says (where `opentelemetry_sdk` 0.33 does not):
///
/// | variable | default | what it does |
/// |---|---|---|
/// | `OTEL_SERVICE_NAME` | the init's argument | the `service` of every line and the resource's `service.name`; wins over `service.name` in `OTEL_RESOURCE_ATTRIBUTES` |
/// | `OTEL_RESOURCE_ATTRIBUTES` | none | `k=v,k2=v2` resource attributes, percent-decoded; discarded whole (with a warning) when it cannot be decoded |
/// | `OTEL_TRACES_EXPORTER` | `otlp` when an OTLP endpoint variable is set, else `console` | `otlp`; `console`: each finished span as a JSON line in the log stream; `none`: nothing exported, lines keep real ids |
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318` (`:4317` for gRPC) | base URL; `/v1/traces` (`/v1/logs`) appended for HTTP; `https://` for TLS (feature `tls`, on by default); for gRPC, `host:port` without a scheme is `https://` unless `OTEL_EXPORTER_OTLP_INSECURE=true` |
/// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `_LOGS_ENDPOINT` | from the base | used as is (no path means `/`) |
/// | `OTEL_EXPORTER_OTLP_PROTOCOL` (and `_TRACES_`, `_LOGS_`) | `http/protobuf` | `grpc`, `http/protobuf`, `http/json` |
/// | `OTEL_EXPORTER_OTLP_HEADERS` (and `_TRACES_`, `_LOGS_`) | none | `k=v,...`, percent-decoded; a signal's variable replaces the general one; a name given twice keeps its last value; a variable that cannot be read is discarded whole (with a warning). Each request carries exactly these headers (and the protocol's own): `opentelemetry-otlp`'s own reading of the variables is overridden |
/// | `OTEL_EXPORTER_OTLP_TIMEOUT` (and `_TRACES_`, `_LOGS_`) | `10000` | per export, milliseconds |
/// | `OTEL_EXPORTER_OTLP_COMPRESSION` (and `_TRACES_`, `_LOGS_`) | none | `gzip` or `none` |
/// | `OTEL_EXPORTER_OTLP_CERTIFICATE` (and `_TRACES_`, `_LOGS_`) | none | a PEM file of CA certificates trusted for `https://`, besides the system's roots (and with the feature `tls-webpki-roots`, Mozilla's built in); rustls with `ring`, for all three protocols |
/// | `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY` (and `_TRACES_`, `_LOGS_`) | none | PEM chain and key for mutual TLS. A TLS file that cannot be read or parsed is warned about once, naming the variable and the path, and the connection is made without it; the startup line says what is trusted and presented |
/// | `OTEL_EXPORTER_OTLP_INSECURE` (and `_TRACES_`, `_LOGS_`) | `false` | `true`: a gRPC endpoint given without a scheme is `http://`; a scheme given wins |
/// | `OTEL_LOGS_EXPORTER` | `none` | `otlp`: also send each event as an OpenTelemetry log record with its trace context, secret fields redacted; the record of an ERROR event carrying an exception has the span's `exception` event's `exception.*` attributes (`exception.causes` an array), the fields the exception was read from left out, and an error value of any other event is a plain field of its name; the JSON lines are the log signal otherwise |
/// | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_always_on` | `always_on`, `always_off`, `traceidratio`, `parentbased_*`; ratio in [0, 1] |
/// | `OTEL_PROPAGATORS` | `tracecontext,baggage` | `tracecontext`, `baggage`, `none` |
/// | `OTEL_SDK_DISABLED` | `false` | `true`: nothing exported; lines keep real ids and context still propagates |
/// | `OTEL_BSP_SCHEDULE_DELAY`, `_MAX_QUEUE_SIZE`, `_MAX_EXPORT_BATCH_SIZE`, `_EXPORT_TIMEOUT` | `5000`, `2048`, `512`, `30000` | the span batch processor; a delay below 10 ms is raised to 10 ms (0 would make the export thread spin), a queue above 1,000,000 lowered to 1,000,000 (the SDK allocates the whole queue at init: about 370 MB at the ceiling), a batch above the queue lowered to the queue, each with a warning |
/// | `OTEL_BLRP_SCHEDULE_DELAY`, `_MAX_QUEUE_SIZE`, `_MAX_EXPORT_BATCH_SIZE`, `_EXPORT_TIMEOUT` | `1000`, `2048`, `512`, `30000` | the log record batch processor of `OTEL_LOGS_EXPORTER=otlp`, with the same floor and ceilings (about 16 MB of queue at the ceiling) |
/// | `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `_EVENT_COUNT_LIMIT`, `_LINK_COUNT_LIMIT` | `128` | span limits |
/// | `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` | no limit | longer string values are cut |
/// | `RUST_LOG` | `info` | which events become lines (`EnvFilter` directives) |
/// | `TRACING_CORRELATE_FORMAT` | [`Builder::with_format`], by default `json` | `json`, `pretty`: the lines as JSON, or rendered for a person at a terminal ([`Format`]) |
/// | `TRACING_CORRELATE_BAGGAGE_FIELDS` | [`Builder::with_baggage_fields`], by default none | `tenant,region`: the baggage keys each line carries as `baggage.<key>` fields ([`JsonLayer::with_baggage_fields`](crate::JsonLayer::with_baggage_fields)); replaces the builder's list; at most [`MAX_BAGGAGE_FIELDS`](crate::MAX_BAGGAGE_FIELDS) keys, the others warned about |
/// | `TRACING_CORRELATE_HELD_LINES` | [`Builder::with_held_lines`], by default none | `off`, `warn`, `info`, `debug`, `trace`: the lines at that level and below that belong to a span are held, and written only when their trace fails ([`HeldLines`]); keeps the builder's bounds |
/// | `TRACING_CORRELATE_UNSAMPLED_LEVEL` | [`Builder::with_unsampled_level`], by default none | `off`, or a level: the lines of an unsampled trace below it are dropped and counted ([`JsonLayer::with_unsampled_level`](crate::JsonLayer::with_unsampled_level)) |
/// | `TRACING_CORRELATE_STACKTRACES` | [`Builder::with_stacktraces`], by default `from_env` | `off`, `on`, `from_env`: when exceptions carry a stack trace ([`Stacktraces`](crate::Stacktraces)); `from_env` follows `RUST_LIB_BACKTRACE`, else `RUST_BACKTRACE`, so `off` keeps `RUST_BACKTRACE=1` for panics on stderr without traces in every exception line |
///
/// Enum values are case-insensitive; an empty value is unset, and so is a value that is not UTF-8,
/// with a warning. A bad value never stops a service:
/// it is warned about once in a line that names the variable and the value, and treated as unset.
/// An endpoint is judged as the exporter will use it, for its signal's protocol and with the
/// signal path appended; one it could not use (and `https://` in a build without the `tls`
/// feature) is warned about, and the fallback (the general endpoint, else the protocol's default) is used.
/// An endpoint variable that is set still selects OTLP export, even with a value that is not
/// used. Credentials in an endpoint (`http://user:password@host`) are not sent: they are dropped,
/// with a warning, and never written in any line (give them as a header instead).
/// The choice made (exporter, protocol, endpoint, propagators, sampler) is logged once at startup.
///
/// The returned [`Guard`] flushes and shuts down on drop, bounded in time
/// ([`Builder::with_shutdown_timeout`], 5 s by default) whatever the collector does, also inside a
/// Tokio runtime, and writes one line with what was delivered and what was lost. Every protocol
/// works from a plain `fn main` and inside `#[tokio::main]` (multi-thread or current-thread): the
/// exporters run on a one-thread runtime of the crate's own.
///
/// A panic becomes an ERROR line with `"exception":{"type":"panic",...}` and its `location`, on the
/// current span, which is marked as an error; the exporters are flushed; then the previous hook runs.
/// A panic of the writer itself, while it writes a line, is not logged (it would go through the
/// same writer, and a panic inside a panic hook aborts): it costs that line, counted in the
/// Guard's `lines_lost`, and only the previous hook runs (by default, it prints the panic on
/// stderr). Once the writer has panicked, the panic hook's own line is not given to it either;
/// it is counted.
///
/// OTLP export never runs on the thread that ends a span: spans wait in the SDK's bounded queue
/// (`OTEL_BSP_MAX_QUEUE_SIZE`) and, while the collector is slow, failing or gone, those that do not
/// fit are dropped and counted in the Guard's `spans_lost`. A failed export is reported by the
/// SDK's ERROR line (`BatchSpanProcessor.ExportError`, `BatchLogProcessor.ExportError`), whose
/// error names where it went as the startup line does: `export otlp <protocol> to <endpoint>
/// failed: <why>`. (Console spans are written as they end,
/// by the thread that ends them, like its own lines.) `RELIABILITY.md` holds every fault, bad input
/// and load the crate is tested against, with its figures.
pub struct Builder<W = fn() -> io::Stdout> {
    service_name: String,
    make_writer: W,
    preset: Preset,
    shutdown_timeout: Duration,
    default_filter: String,
    panic_hook: bool,
    redaction: Redaction,
    stacktraces: Stacktraces,
    format: Format,
    baggage_fields: Vec<String>,
    non_blocking: Option<NonBlocking>,
    held_lines: Option<HeldLines>,
    debug_on_demand: Option<DebugOnDemand>,
    unsampled_level: Option<Level>,
}

impl<W> fmt::Debug for Builder<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("service_name", &self.service_name)
            .field("preset", &self.preset)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("default_filter", &self.default_filter)
            .field("panic_hook", &self.panic_hook)
            .field("redaction", &self.redaction)
            .field("stacktraces", &self.stacktraces)
            .field("format", &self.format)
            .field("baggage_fields", &self.baggage_fields)
            .field("non_blocking", &self.non_blocking)
            .field("held_lines", &self.held_lines)
            .field("debug_on_demand", &self.debug_on_demand)
            .field("unsampled_level", &self.unsampled_level)
            .finish_non_exhaustive()
    }
}

impl<W> Builder<W>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    /// Sends the JSON lines (and, with the console exporter, the spans) to another writer.
    ///
    /// By default, stdout.
    pub fn with_writer<W2>(self, make_writer: W2) -> Builder<W2>
    where
        W2: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        Builder {
            service_name: self.service_name,
            make_writer,
            preset: self.preset,
            shutdown_timeout: self.shutdown_timeout,
            default_filter: self.default_filter,
            panic_hook: self.panic_hook,
            redaction: self.redaction,
            stacktraces: self.stacktraces,
            format: self.format,
            baggage_fields: self.baggage_fields,
            non_blocking: self.non_blocking,
            held_lines: self.held_lines,
            debug_on_demand: self.debug_on_demand,
            unsampled_level: self.unsampled_level,
        }
    }

    /// Adds a log backend's correlation keys to the lines; see [`Preset`].
    ///
    /// By default, [`Preset::Otel`].
    pub fn with_preset(mut self, preset: Preset) -> Self {
        self.preset = preset;
        self
    }

    /// Bounds how long dropping the [`Guard`] may take: flushing and shutting down the exporters
    /// stops waiting after this, and what was not delivered is counted and reported.
    ///
    /// By default, [`DEFAULT_SHUTDOWN_TIMEOUT`] (5 s).
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The filter directives used when `RUST_LOG` is unset or invalid.
    ///
    /// By default, [`DEFAULT_FILTER`] (`info`).
    pub fn with_default_filter(mut self, directives: impl Into<String>) -> Self {
        self.default_filter = directives.into();
        self
    }

    /// Redacts the fields `redaction` calls secret, in the JSON lines, the OpenTelemetry spans
    /// and span events, the OTLP log records, and, as a last line, every exported span's
    /// attributes, whatever set them (see [`Redaction`](crate::Redaction)).
    ///
    /// By default, [`Redaction::default()`](crate::Redaction): the names of
    /// [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS).
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// When exceptions carry a stack trace, on the lines, the spans and the log records; see
    /// [`Stacktraces`](crate::Stacktraces) for what each setting does and costs.
    /// `TRACING_CORRELATE_STACKTRACES` (`off`, `on`, `from_env`) overrides it.
    ///
    /// By default, [`Stacktraces::FromEnv`](crate::Stacktraces::FromEnv): when `RUST_BACKTRACE`
    /// or `RUST_LIB_BACKTRACE` enable them.
    pub fn with_stacktraces(mut self, stacktraces: Stacktraces) -> Self {
        self.stacktraces = stacktraces;
        self
    }

    /// Writes the lines as JSON (the default) or, for a person at a terminal, rendered as
    /// `tracing-correlate pretty` renders them ([`Format`]). `TRACING_CORRELATE_FORMAT` (`json`,
    /// `pretty`) overrides it, so that `TRACING_CORRELATE_FORMAT=pretty cargo run` reads well
    /// while the deployed service keeps its JSON.
    ///
    /// By default, [`Format::Json`].
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Writes these baggage keys in every line of a span that carries them, as `baggage.<key>`
    /// fields, secret-named ones redacted; see
    /// [`JsonLayer::with_baggage_fields`](crate::JsonLayer::with_baggage_fields).
    /// `TRACING_CORRELATE_BAGGAGE_FIELDS` (`tenant,region`) replaces the list.
    ///
    /// By default, none.
    pub fn with_baggage_fields<I>(mut self, keys: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.baggage_fields = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Writes the lines on a worker thread of their own, through a bounded queue, so that a slow
    /// writer (stdout a pipe whose reader is under back-pressure) does not slow the threads that
    /// log; see [`NonBlocking`](crate::NonBlocking) for what a full queue does (`lossy`: drops the
    /// line, counted in the Guard's `lines_dropped`; `blocking`: waits), and its capacity. The
    /// [`Guard`] flushes the queue within the shutdown timeout.
    ///
    /// By default, lines are written on the thread that logs (no queue, no thread).
    pub fn with_non_blocking(mut self, setting: NonBlocking) -> Self {
        self.non_blocking = Some(setting);
        self
    }

    /// Holds the lines at a level and below that belong to a span, and writes them only when
    /// their trace fails; see [`HeldLines`] (what fails a trace, the bounds, what is counted). A
    /// held level then becomes no span event, and no log record with `OTEL_LOGS_EXPORTER=otlp`. `TRACING_CORRELATE_HELD_LINES` (`off`, `debug`,
    /// ...) sets the level, keeping the builder's bounds.
    ///
    /// Events reach the layer only as `RUST_LOG` lets them: with `HeldLines::new(Level::DEBUG)`,
    /// give it `debug` (`RUST_LOG=debug,hyper=info`). When it lets none of the held levels
    /// through, the startup says so.
    ///
    /// By default, none.
    pub fn with_held_lines(mut self, held: impl Into<Option<HeldLines>>) -> Self {
        self.held_lines = held.into();
        self
    }

    /// Lets a request ask, by a baggage entry, for its held lines to be written at once, within a
    /// per-process rate; see [`DebugOnDemand`] (and what a forged entry can and cannot do). It
    /// needs [held lines](Self::with_held_lines), and the baggage propagator (in
    /// `OTEL_PROPAGATORS` by default).
    ///
    /// By default, none.
    pub fn with_debug_on_demand(mut self, on_demand: impl Into<Option<DebugOnDemand>>) -> Self {
        self.debug_on_demand = on_demand.into();
        self
    }

    /// Writes, of the lines of unsampled traces, only those at `level` or more severe; see
    /// [`JsonLayer::with_unsampled_level`]. `TRACING_CORRELATE_UNSAMPLED_LEVEL` (`off`, `warn`,
    /// ...) overrides it.
    ///
    /// By default, none: the lines of every trace are written.
    pub fn with_unsampled_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.unsampled_level = level.into();
        self
    }

    /// Installs the panic hook that logs a panic as an ERROR line with its exception and marks
    /// the current span as an error, flushes, then runs the previous hook.
    ///
    /// By default, on.
    pub fn with_panic_hook(mut self, install: bool) -> Self {
        self.panic_hook = install;
        self
    }

    /// Installs the global subscriber, tracer provider and propagator, and the panic hook.
    pub fn try_init(self) -> Result<Guard, InitError> {
        let config = env::read_process();
        self.init_with(config)
    }

    fn init_with(self, config: EnvConfig) -> Result<Guard, InitError> {
        // Checked first, so that a second init changes nothing before it fails.
        if tracing::dispatcher::has_been_set() {
            return Err(InitError(ErrorKind::SubscriberAlreadySet));
        }
        let service = config
            .service_name
            .clone()
            .unwrap_or_else(|| self.service_name.clone());
        let stacktraces = config.stacktraces.unwrap_or(self.stacktraces);
        let mut baggage_fields = config
            .baggage_fields
            .clone()
            .unwrap_or_else(|| self.baggage_fields.clone());
        // The JSON layer's own warning would come before the subscriber: said with the others.
        let baggage_warning = crate::line::baggage_overflow(&mut baggage_fields).map(|ignored| {
            format!(
                "Builder::with_baggage_fields: more than {} keys; {ignored:?} are not written",
                crate::MAX_BAGGAGE_FIELDS
            )
        });
        let held_lines = match config.held_lines {
            None => self.held_lines,
            Some(None) => None,
            Some(Some(level)) => Some(match self.held_lines {
                Some(held) => held.with_level(level),
                None => HeldLines::new(level),
            }),
        };
        let unsampled_level = config.unsampled_level.unwrap_or(self.unsampled_level);
        let sdk_gate = Arc::new(SdkGate::default());
        let json = JsonLayer::new()
            .with_held_lines(held_lines)
            .with_debug_on_demand(self.debug_on_demand.clone())
            .with_unsampled_level(unsampled_level)
            .with_service_name(service.clone())
            .with_preset(self.preset)
            .with_redaction(self.redaction.clone())
            .with_stacktraces(stacktraces)
            .with_baggage_fields(&baggage_fields);
        let stats = json.stats();
        // The lines in their format, then written on this thread or through the queue.
        let format = config.format.unwrap_or(self.format);
        let formatted = Formatted::new(self.make_writer, format);
        let (output, queue) = match self.non_blocking {
            None => (Output::Direct(formatted), None),
            Some(setting) => {
                let queue = LineQueue::spawn(formatted, stats.clone(), setting)
                    .map_err(|e| InitError(ErrorKind::WriterThread(e)))?;
                (Output::Queued(queue.clone()), Some(queue))
            }
        };
        let make_writer = Shared(Arc::new(output), sdk_gate.clone());
        let json = json.with_writer(make_writer.clone());

        let resource = resource(&service, &config);
        let delivery = Arc::new(Delivery::default());
        let mut runtime = None;
        let lines = LineSink {
            make_writer: &make_writer,
            service: &service,
            stats: &stats,
        };
        // What building the exporters found (TLS files that cannot be used), said with the
        // environment's warnings.
        let mut export_warnings = Vec::new();
        let (tracer_provider, traces_choice) = tracer_provider(
            &config,
            &resource,
            &lines,
            &self.redaction,
            &delivery,
            &mut runtime,
            &mut export_warnings,
        )?;
        let (logger_provider, logs_choice) = logger_provider(
            &config,
            &resource,
            &delivery,
            &mut runtime,
            &mut export_warnings,
        )?;

        let (filter, filter_warning) = match EnvFilter::try_from_default_env() {
            Ok(filter) => (filter, None),
            Err(err) => {
                let warning = std::env::var("RUST_LOG")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| {
                        let warning =
                            format!("RUST_LOG={v:?}: {err}; using {:?}", self.default_filter);
                        credentials::hide_in_text(&warning).into_owned()
                    });
                (EnvFilter::new(&self.default_filter), warning)
            }
        };
        let held_warning = held_lines.and_then(|held| held_unreachable(&filter, held));
        let subscriber = layers(
            filter,
            &tracer_provider,
            json,
            logger_provider.as_ref(),
            &self.redaction,
            stacktraces,
            held_lines,
        );
        // Set before the subscriber, so the SDK's own "provider set" line is not logged.
        opentelemetry::global::set_tracer_provider(tracer_provider.clone());
        opentelemetry::global::set_text_map_propagator(propagator(&config.propagators));
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| InitError(ErrorKind::SubscriberAlreadySet))?;
        // Records of the `log` crate become events; a logger set elsewhere is kept (and warned).
        let log_bridge = tracing_log::LogTracer::init().err();

        // Both signals' exporters read the general TLS variables: a file is warned about once.
        let mut seen = std::collections::HashSet::new();
        export_warnings.retain(|w| seen.insert(w.clone()));
        for warning in config
            .warnings
            .iter()
            .chain(&export_warnings)
            .chain(filter_warning.as_ref())
            .chain(baggage_warning.as_ref())
            .chain(held_warning.as_ref())
        {
            tracing::warn!(target: "tracing_correlate", "{warning}");
        }
        if log_bridge.is_some() {
            tracing::warn!(
                target: "tracing_correlate",
                "a `log` logger is already installed: records of the `log` crate do not reach these lines"
            );
        }
        tracing::info!(
            target: "tracing_correlate",
            traces = %traces_choice,
            logs = %logs_choice,
            propagators = %propagator_names(&config.propagators),
            sampler = ?config.sampler,
            stacktraces = if stacktraces.enabled() { "on" } else { "off" },
            baggage_fields = (!baggage_fields.is_empty()).then(|| baggage_fields.join(",")),
            held_lines = held_lines.map(|held| held.describe()),
            debug_on_demand = held_lines
                .and(self.debug_on_demand.as_ref())
                .map(DebugOnDemand::describe),
            unsampled_level = unsampled_level.map(|level| level.as_str().to_ascii_lowercase()),
            "telemetry initialised"
        );

        if self.panic_hook {
            panic::install(
                tracer_provider.clone(),
                self.shutdown_timeout,
                queue.clone(),
            );
        }
        let flush_stats = stats.clone();
        let flush_queue = queue.clone();
        let flush_writer: Box<dyn Fn(Duration) -> bool + Send + Sync> =
            Box::new(move |timeout| match &flush_queue {
                Some(queue) => queue.flush(timeout),
                None => {
                    // A flush that fails or panics loses what the writer held, which it does
                    // not say. It cannot be bounded: it runs on this thread.
                    let _ = crate::line::output::flush(&flush_stats, || make_writer.make_writer());
                    true
                }
            });
        Ok(Guard::new(GuardState {
            tracer_provider,
            logger_provider,
            runtime,
            timeout: self.shutdown_timeout,
            delivery,
            stats,
            service,
            flush_writer,
            queue,
            sdk_gate,
            holds_lines: held_lines.is_some(),
        }))
    }
}

/// The init's subscriber: `filter`, the OpenTelemetry bridge over `tracer_provider`, the JSON
/// layer `json`, and with a logger provider the OTLP logs bridge (its events redacted, the SDK's
/// own left out), each with `redaction` and `stacktraces`. The test captures
/// (`crate::testing`) build theirs here too, so that they see what a service's init writes.
pub(crate) fn layers<W>(
    filter: EnvFilter,
    tracer_provider: &opentelemetry_sdk::trace::SdkTracerProvider,
    json: JsonLayer<W>,
    logger_provider: Option<&opentelemetry_sdk::logs::SdkLoggerProvider>,
    redaction: &Redaction,
    stacktraces: Stacktraces,
    held_lines: Option<HeldLines>,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // The levels held are the JSON layer's alone: no span event, no log record (a log record
    // of every held line would cost what holding saves).
    let not_held = move |meta: &tracing::Metadata<'_>| {
        !meta.is_event() || !held_lines.is_some_and(|held| held.holds(meta.level()))
    };
    let logs_layer = logger_provider.map(|provider| {
        RedactEvents::new(
            opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(provider),
            redaction.clone(),
            stacktraces,
        )
        .with_filter(filter_fn(move |meta| {
            !is_sdk_target(meta.target()) && not_held(meta)
        }))
    });
    // The bridge makes span events of warnings and errors only: with warnings held, of errors.
    // (Not a per-layer filter: the bridge needs `on_register_dispatch`, which an `Option` of a
    // layer does not pass on in `tracing-subscriber` 0.3.23, and a filter would cost every event
    // its bookkeeping.)
    let span_events = match held_lines {
        Some(held) if held.holds(&Level::WARN) => LevelFilter::ERROR,
        _ => crate::DEFAULT_SPAN_EVENTS,
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(
            crate::otel_layer(tracer_provider.tracer("tracing-correlate"))
                .with_redaction(redaction.clone())
                .with_stacktraces(stacktraces)
                .with_span_events(span_events),
        )
        .with(json)
        .with(logs_layer)
}

/// The startup's warning when `filter` lets none of the held levels through.
fn held_unreachable(filter: &EnvFilter, held: HeldLines) -> Option<String> {
    let most =
        <EnvFilter as tracing_subscriber::Layer<tracing_subscriber::Registry>>::max_level_hint(
            filter,
        )?;
    // ERROR is never held: a level of ERROR holds WARN and below.
    let held_most = match held.level() {
        Level::ERROR => Level::WARN,
        level => level,
    };
    // Levels compare greater the more verbose they are.
    (most < LevelFilter::from_level(held_most)).then(|| {
        format!(
            "held lines: the filter (RUST_LOG, else the default filter) lets no {held_most} event \
             through (its most verbose level is {}); nothing is held until it does",
            most.to_string().to_uppercase()
        )
    })
}
