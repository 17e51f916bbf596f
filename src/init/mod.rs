//! The one-line init for a service's `main`: the subscriber, the tracer provider, the propagator
//! and the panic hook, configured by the standard OpenTelemetry environment, and the [`Guard`]
//! that flushes everything on exit without ever hanging.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor,
    SpanLimits,
};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

pub(crate) mod env;
mod export;
mod panic;

use crate::init::env::{
    Compression, EnvConfig, LogsExporter, OtlpConfig, PropagatorKind, Protocol, SamplerConfig,
    TracesExporter,
};
use crate::init::export::console::ConsoleExporter;
use crate::init::export::{Counted, Counting, Delivery, ExportRuntime, OnRuntime};
use crate::propagation::{BaggagePropagator, TraceContextPropagator};
use crate::redact::{RedactEvents, Redaction};
use crate::{JsonLayer, Preset, Stats};

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
/// [`try_init`] for the `Result` form and [the crate docs](crate#one-line-init) for what is read.
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
    }
}

/// The init's settings; see [`builder`].
pub struct Builder<W = fn() -> io::Stdout> {
    service_name: String,
    make_writer: W,
    preset: Preset,
    shutdown_timeout: Duration,
    default_filter: String,
    panic_hook: bool,
    redaction: Redaction,
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

    /// Redacts these field names too, besides
    /// [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS), in the JSON lines and in every
    /// exported span's attributes and events; see [`JsonLayer::with_redacted_fields`].
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

    /// Redacts, besides the list, every field whose name `predicate` accepts, in the lines and in
    /// the exported spans.
    ///
    /// By default, none.
    pub fn with_redaction(
        mut self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.redaction.set_predicate(predicate);
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
        let config = env::read(&|name| std::env::var(name).ok());
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
        let make_writer = Shared(Arc::new(self.make_writer));
        let json = JsonLayer::new()
            .with_service_name(service.clone())
            .with_preset(self.preset)
            .with_redaction_rules(self.redaction.clone())
            .with_writer(make_writer.clone());
        let stats = json.stats();

        let resource = resource(&service, &config);
        let delivery = Arc::new(Delivery::default());
        let mut runtime = None;
        let lines = LineSink {
            make_writer: &make_writer,
            service: &service,
            stats: &stats,
        };
        let (tracer_provider, traces_choice) = tracer_provider(
            &config,
            &resource,
            &lines,
            &self.redaction,
            &delivery,
            &mut runtime,
        )?;
        let (logger_provider, logs_choice) =
            logger_provider(&config, &resource, &delivery, &mut runtime)?;

        let (filter, filter_warning) = match EnvFilter::try_from_default_env() {
            Ok(filter) => (filter, None),
            Err(err) => {
                let warning = std::env::var("RUST_LOG")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("RUST_LOG={v:?}: {err}; using {:?}", self.default_filter));
                (EnvFilter::new(&self.default_filter), warning)
            }
        };
        let logs_layer = logger_provider.as_ref().map(|provider| {
            RedactEvents {
                inner: opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(
                    provider,
                ),
                redaction: self.redaction.clone(),
            }
            .with_filter(filter_fn(|meta| !crate::otel::is_sdk_target(meta.target())))
        });
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(
                crate::otel_layer(tracer_provider.tracer("tracing-correlate"))
                    .with_redaction_rules(self.redaction.clone()),
            )
            .with(json)
            .with(logs_layer);
        // Set before the subscriber, so the SDK's own "provider set" line is not logged.
        opentelemetry::global::set_tracer_provider(tracer_provider.clone());
        opentelemetry::global::set_text_map_propagator(propagator(&config.propagators));
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| InitError(ErrorKind::SubscriberAlreadySet))?;
        // Records of the `log` crate become events; a logger set elsewhere is kept (and warned).
        let log_bridge = tracing_log::LogTracer::init().err();

        for warning in config.warnings.iter().chain(filter_warning.as_ref()) {
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
            "telemetry initialised"
        );

        if self.panic_hook {
            crate::init::panic::install(tracer_provider.clone(), self.shutdown_timeout);
        }
        let flush_writer: Box<dyn Fn() + Send + Sync> = Box::new(move || {
            let _ = io::Write::flush(&mut make_writer.make_writer());
        });
        Ok(Guard {
            state: Some(GuardState {
                tracer_provider,
                logger_provider,
                runtime,
                timeout: self.shutdown_timeout,
                delivery,
                stats,
                service,
                flush_writer,
            }),
        })
    }
}

/// One writer shared by the JSON layer and the console exporter.
struct Shared<W>(Arc<W>);

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Shared<W> {
    type Writer = W::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        self.0.make_writer_for(meta)
    }
}

/// Where the lines go: what the console span exporter shares with the JSON layer.
struct LineSink<'a, W> {
    make_writer: &'a Shared<W>,
    service: &'a str,
    stats: &'a Stats,
}

/// What the init chose for spans, for the startup line.
enum TracesChoice {
    Otlp {
        protocol: Protocol,
        endpoint: String,
    },
    Console,
    None {
        why: &'static str,
    },
}

impl fmt::Display for TracesChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TracesChoice::Otlp { protocol, endpoint } => {
                write!(f, "otlp {} to {endpoint}", protocol_name(*protocol))
            }
            TracesChoice::Console => f.write_str("console (no OTLP endpoint configured)"),
            TracesChoice::None { why } => write!(f, "none ({why}); lines keep their trace ids"),
        }
    }
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Grpc => "grpc",
        Protocol::HttpProtobuf => "http/protobuf",
        Protocol::HttpJson => "http/json",
    }
}

fn propagator_names(kinds: &[PropagatorKind]) -> String {
    if kinds.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            PropagatorKind::TraceContext => "tracecontext",
            PropagatorKind::Baggage => "baggage",
        })
        .collect();
    names.join(",")
}

fn resource(service: &str, config: &EnvConfig) -> Resource {
    // `Resource::builder()` would read OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME itself,
    // undecoded and with the wrong precedence: start empty and add what `env` read.
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(
            config
                .resource_attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(service.to_owned())
        .build()
}

fn sampler(config: SamplerConfig) -> Sampler {
    match config {
        SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
        SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
        SamplerConfig::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
        SamplerConfig::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerConfig::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerConfig::ParentBasedTraceIdRatio(r) => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
        }
    }
}

fn propagator(kinds: &[PropagatorKind]) -> TextMapCompositePropagator {
    let propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                PropagatorKind::TraceContext => Box::new(TraceContextPropagator::new()),
                PropagatorKind::Baggage => Box::new(BaggagePropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(propagators)
}

fn export_runtime(slot: &mut Option<ExportRuntime>) -> Result<tokio::runtime::Handle, InitError> {
    if slot.is_none() {
        *slot = Some(ExportRuntime::new().map_err(|e| InitError(ErrorKind::Runtime(e)))?);
    }
    match slot {
        Some(rt) => Ok(rt.handle()),
        None => unreachable!("set just above"),
    }
}

/// Builds an OTLP exporter (`SpanExporter` or `LogExporter`: same builders, no shared trait) for
/// `otlp`, inside the export runtime's context, which the tonic exporter needs to build.
macro_rules! otlp_exporter {
    ($exporter:ident, $otlp:expr, $handle:expr) => {{
        let otlp: &OtlpConfig = $otlp;
        let _entered = $handle.enter();
        // Building can panic inside a dependency (reqwest with the `rustls-no-provider` feature,
        // turned on by another crate of the service, and no crypto provider installed): that is
        // an init error to report, not a crash.
        let built = std::panic::catch_unwind(|| match otlp.protocol {
            Protocol::Grpc => tonic_compression(
                opentelemetry_otlp::$exporter::builder()
                    .with_tonic()
                    .with_endpoint(otlp.endpoint.clone())
                    .with_timeout(otlp.timeout)
                    .with_metadata(metadata(&otlp.headers)),
                otlp.compression,
            )
            .build(),
            Protocol::HttpProtobuf | Protocol::HttpJson => http_compression(
                opentelemetry_otlp::$exporter::builder()
                    .with_http()
                    .with_protocol(http_protocol(otlp.protocol))
                    .with_endpoint(otlp.endpoint.clone())
                    .with_timeout(otlp.timeout)
                    .with_headers(otlp.headers.iter().cloned().collect()),
                otlp.compression,
            )
            .build(),
        });
        match built {
            Ok(built) => built.map_err(|e| InitError(ErrorKind::Exporter(e.to_string()))),
            Err(panic) => Err(InitError(ErrorKind::Exporter(format!(
                "building it panicked: {}",
                crate::init::panic::payload_message(&*panic)
            )))),
        }
    }};
}

fn tracer_provider<W>(
    config: &EnvConfig,
    resource: &Resource,
    lines: &LineSink<'_, W>,
    redaction: &Redaction,
    delivery: &Arc<Delivery>,
    runtime: &mut Option<ExportRuntime>,
) -> Result<(SdkTracerProvider, TracesChoice), InitError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let limits = config.span_limits;
    let builder = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_sampler(sampler(config.sampler))
        .with_span_limits(SpanLimits {
            max_attributes_per_span: limits.attribute_count,
            max_events_per_span: limits.event_count,
            max_links_per_span: limits.link_count,
            ..SpanLimits::default()
        });
    let value_limit = limits.attribute_value_length;
    let choice = if config.sdk_disabled {
        TracesChoice::None {
            why: "OTEL_SDK_DISABLED=true",
        }
    } else {
        match config.traces_exporter {
            TracesExporter::None => TracesChoice::None {
                why: "OTEL_TRACES_EXPORTER=none",
            },
            TracesExporter::Console => TracesChoice::Console,
            TracesExporter::Otlp => TracesChoice::Otlp {
                protocol: config.traces_otlp.protocol,
                endpoint: config.traces_otlp.endpoint.clone(),
            },
        }
    };
    let provider = match &choice {
        // No processor: spans get real ids (lines keep correlating, context propagates) and
        // nothing is exported.
        TracesChoice::None { .. } => builder.build(),
        TracesChoice::Console => builder
            .with_span_processor(Counted::new(
                SimpleSpanProcessor::new(Counting::new(
                    ConsoleExporter::new(
                        lines.make_writer.clone(),
                        lines.service,
                        lines.stats.clone(),
                    ),
                    delivery.clone(),
                )),
                delivery.clone(),
                value_limit,
                redaction.clone(),
            ))
            .build(),
        TracesChoice::Otlp { .. } => {
            let handle = export_runtime(runtime)?;
            let exporter = otlp_exporter!(SpanExporter, &config.traces_otlp, handle)?;
            let batch = BatchConfigBuilder::default()
                .with_scheduled_delay(config.batch.schedule_delay)
                .with_max_queue_size(config.batch.max_queue_size)
                .with_max_export_batch_size(config.batch.max_export_batch_size)
                .build();
            let exporter = Counting::new(
                OnRuntime::new(exporter, handle, config.batch.export_timeout),
                delivery.clone(),
            );
            let processor = BatchSpanProcessor::builder(exporter)
                .with_batch_config(batch)
                .build();
            builder
                .with_span_processor(Counted::new(
                    processor,
                    delivery.clone(),
                    value_limit,
                    redaction.clone(),
                ))
                .build()
        }
    };
    Ok((provider, choice))
}

fn http_protocol(p: Protocol) -> opentelemetry_otlp::Protocol {
    match p {
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        _ => opentelemetry_otlp::Protocol::HttpBinary,
    }
}

/// `OTEL_EXPORTER_OTLP_COMPRESSION` on a gRPC exporter builder; unset or `none` leaves it
/// uncompressed.
fn tonic_compression<B: WithTonicConfig>(builder: B, compression: Option<Compression>) -> B {
    match compression {
        Some(Compression::Gzip) => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        None => builder,
    }
}

/// The same for an HTTP exporter builder.
fn http_compression<B: WithHttpConfig>(builder: B, compression: Option<Compression>) -> B {
    match compression {
        Some(Compression::Gzip) => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        None => builder,
    }
}

fn metadata(headers: &[(String, String)]) -> MetadataMap {
    let mut map = http::HeaderMap::new();
    for (key, value) in headers {
        // `env` validated the pairs; a header gRPC metadata cannot carry is skipped, as the HTTP
        // exporter skips it.
        if let (Ok(key), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.insert(key, value);
        }
    }
    MetadataMap::from_headers(map)
}

fn logger_provider(
    config: &EnvConfig,
    resource: &Resource,
    delivery: &Arc<Delivery>,
    runtime: &mut Option<ExportRuntime>,
) -> Result<(Option<SdkLoggerProvider>, &'static str), InitError> {
    if config.sdk_disabled || config.logs_exporter == LogsExporter::None {
        return Ok((None, "none (the JSON lines are the log signal)"));
    }
    let handle = export_runtime(runtime)?;
    let exporter = otlp_exporter!(LogExporter, &config.logs_otlp, handle)?;
    let exporter = Counting::new(
        OnRuntime::new(exporter, handle, config.batch.export_timeout),
        delivery.clone(),
    );
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource.clone())
        .with_log_processor(BatchLogProcessor::builder(exporter).build())
        .build();
    Ok((Some(provider), "otlp"))
}

/// Flushes and shuts down the telemetry when dropped; returned by [`init`] and friends.
///
/// Dropping it flushes the span and log exporters and the writer, then shuts them down, taking at
/// most the shutdown timeout ([`Builder::with_shutdown_timeout`], 5 s by default) whatever the
/// collector does (refuses connections, never answers), also inside a Tokio runtime. It then
/// writes one line saying what was delivered and what was lost; when lines themselves were lost
/// (stdout closed, a full disk), that report also goes to stderr, since the writer failed. A span
/// line the console exporter could not write counts as a lost line and a lost span. It never
/// panics.
///
/// The line's fields: `spans_exported`; `spans_lost` (ended and not exported: dropped at a full
/// queue, refused by the collector, or still queued when the timeout came); `logs_lost` (OTLP
/// log records not delivered); `lines_lost` (lines the writer refused, and re-entrant events
/// dropped); `sdk_lines_suppressed` (the SDK's own lines left out by the throttle, see
/// [`JsonLayer::with_sdk_line_interval`]); `shutdown_ms`; and `timed_out` when the report is a
/// WARN.
#[must_use = "dropping the guard at once shuts telemetry down at once: bind it for the whole of \
              `main` with `let _guard = ...` (not `let _ = ...`)"]
pub struct Guard {
    state: Option<GuardState>,
}

struct GuardState {
    tracer_provider: SdkTracerProvider,
    logger_provider: Option<SdkLoggerProvider>,
    runtime: Option<ExportRuntime>,
    timeout: Duration,
    delivery: Arc<Delivery>,
    stats: Stats,
    service: String,
    flush_writer: Box<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Set once the guard has shut telemetry down, so a panic hook running later does not flush.
pub(crate) static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// Runs `work` on a thread of its own and waits for it at most `timeout`: `true` when it ended
/// in time. A thread that does not end in time is left to finish (or not) by itself.
pub(crate) fn bounded(timeout: Duration, work: impl FnOnce() + Send + 'static) -> bool {
    let (done, finished) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tracing-correlate-shutdown".into())
        .spawn(move || {
            work();
            let _ = done.send(());
        });
    spawned.is_ok() && finished.recv_timeout(timeout).is_ok()
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        SHUT_DOWN.store(true, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let tracer_provider = state.tracer_provider.clone();
        let logger_provider = state.logger_provider.clone();
        let in_time = bounded(state.timeout, move || {
            let _ = tracer_provider.shutdown();
            if let Some(logger_provider) = logger_provider {
                let _ = logger_provider.shutdown();
            }
        });
        let d = &state.delivery;
        let ended = Delivery::get(&d.spans_ended);
        let exported = Delivery::get(&d.spans_exported);
        let spans_lost = ended.saturating_sub(exported);
        let logs_lost = Delivery::get(&d.logs_failed);
        let lines_lost = state.stats.write_errors() + state.stats.dropped_reentrant();
        // Not lost (each written line of the callsite counts those before it), but reported.
        let sdk_lines_suppressed = state.stats.sdk_lines_suppressed();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if spans_lost + logs_lost + lines_lost > 0 || !in_time {
            tracing::warn!(
                target: "tracing_correlate",
                spans_exported = exported,
                spans_lost,
                logs_lost,
                lines_lost,
                sdk_lines_suppressed,
                shutdown_ms = elapsed_ms,
                timed_out = !in_time,
                "telemetry shut down; some was not delivered"
            );
        } else {
            tracing::info!(
                target: "tracing_correlate",
                spans_exported = exported,
                spans_lost,
                logs_lost,
                lines_lost,
                sdk_lines_suppressed,
                shutdown_ms = elapsed_ms,
                "telemetry shut down"
            );
        }
        (state.flush_writer)();
        // The line above went to the writer; when that writer is what failed (stdout closed, disk
        // full), the report is lost with it. Then the report goes to stderr, the one channel the
        // process still has, as one JSON line (counting the shutdown line's own failure too).
        let lines_lost = state.stats.write_errors() + state.stats.dropped_reentrant();
        if lines_lost > 0 {
            let mut timestamp = String::new();
            crate::line::timestamp::push_now(&mut timestamp);
            let line = serde_json::json!({
                "timestamp": timestamp,
                "level": "WARN",
                "service": state.service,
                "target": "tracing_correlate",
                "message": "telemetry shut down; some was not delivered",
                "spans_exported": exported,
                "spans_lost": spans_lost,
                "logs_lost": logs_lost,
                "lines_lost": lines_lost,
                "sdk_lines_suppressed": sdk_lines_suppressed,
                "shutdown_ms": elapsed_ms,
                "timed_out": !in_time,
            });
            let _ = writeln!(io::stderr(), "{line}");
        }
        match state.runtime {
            // Exports may still be running on it: let them fail by themselves.
            Some(runtime) if !in_time => runtime.leak(),
            other => drop(other),
        }
    }
}

/// Why the init could not install the telemetry.
#[derive(Debug)]
pub struct InitError(ErrorKind);

#[derive(Debug)]
enum ErrorKind {
    SubscriberAlreadySet,
    Runtime(io::Error),
    Exporter(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ErrorKind::SubscriberAlreadySet => f.write_str(
                "a global tracing subscriber is already installed (init must run once, before any other subscriber is set)",
            ),
            ErrorKind::Runtime(e) => write!(f, "could not start the exporters' runtime thread: {e}"),
            ErrorKind::Exporter(e) => write!(f, "could not build the OTLP exporter: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            ErrorKind::Runtime(e) => Some(e),
            _ => None,
        }
    }
}
