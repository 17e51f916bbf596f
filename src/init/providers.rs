//! From the environment read to the SDK's parts: the resource, the sampler, the propagator, the
//! OTLP or console exporters on the export runtime, the tracer and logger providers.

use std::fmt;
use std::sync::Arc;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor,
    SpanLimits,
};
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::MakeWriter;

use crate::init::env::{
    protocol_name, Compression, EnvConfig, LogsExporter, OtlpConfig, PropagatorKind, Protocol,
    SamplerConfig, TracesExporter,
};
use crate::init::error::{ErrorKind, InitError};
use crate::init::export::console::ConsoleExporter;
use crate::init::export::headers::{
    exact_metadata, header_map, ExactHeadersClient, TransportCause,
};
use crate::init::export::{
    Counted, CountedLogs, Counting, Delivery, ExportRuntime, OnRuntime, Tls,
};
use crate::init::log_exceptions::ExceptionAttributes;
use crate::init::sdk_gate::{GatedWriter, SdkGate};
use crate::propagation::{BaggagePropagator, TraceContextPropagator};
use crate::redact::Redaction;
use crate::Stats;

/// One writer shared by the JSON layer and the console exporter, with the gate that keeps the
/// SDK's lines from following the shutdown line.
pub(crate) struct Shared<W>(pub(crate) Arc<W>, pub(crate) Arc<SdkGate>);

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(self.0.clone(), self.1.clone())
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Shared<W> {
    type Writer = GatedWriter<'a, W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        GatedWriter::Open {
            writer: self.0.make_writer(),
            _pass: None,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        self.1.writer_for(&*self.0, meta)
    }
}

/// Where the lines go: what the console span exporter shares with the JSON layer.
pub(crate) struct LineSink<'a, W> {
    pub(crate) make_writer: &'a Shared<W>,
    pub(crate) service: &'a str,
    pub(crate) stats: &'a Stats,
}

/// What the init chose for spans, for the startup line.
pub(crate) enum TracesChoice {
    Otlp {
        protocol: Protocol,
        endpoint: String,
        /// What TLS trusts and presents ([`Tls::describe`]), for an `https://` endpoint.
        tls: Option<String>,
    },
    Console,
    None {
        why: &'static str,
    },
}

/// `otlp <protocol> to <endpoint>`, and for an `https://` endpoint ` (TLS: <what is trusted and
/// presented>)`: where a signal's OTLP exporter sends and how (the endpoint holds no credentials:
/// the reader dropped them).
fn otlp_destination(protocol: Protocol, endpoint: &str, tls: Option<&str>) -> String {
    let destination = format!("otlp {} to {endpoint}", protocol_name(protocol));
    match tls {
        Some(tls) => format!("{destination} (TLS: {tls})"),
        None => destination,
    }
}

/// The TLS of `otlp`'s endpoint if it is `https://` (its files' warnings join the init's).
fn endpoint_tls(otlp: &OtlpConfig, warnings: &mut Vec<String>) -> Option<Tls> {
    if !otlp.endpoint.starts_with("https://") {
        return None;
    }
    #[cfg(feature = "tls")]
    return Some(Tls::new(&otlp.tls, warnings));
    // `env` refuses `https://` endpoints in a build without TLS.
    #[cfg(not(feature = "tls"))]
    {
        let _ = warnings;
        None
    }
}

impl fmt::Display for TracesChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TracesChoice::Otlp {
                protocol,
                endpoint,
                tls,
            } => f.write_str(&otlp_destination(*protocol, endpoint, tls.as_deref())),
            TracesChoice::Console => f.write_str("console (no OTLP endpoint configured)"),
            TracesChoice::None { why } => write!(f, "none ({why}); lines keep their trace ids"),
        }
    }
}

pub(crate) fn resource(service: &str, config: &EnvConfig) -> Resource {
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

pub(crate) fn propagator(kinds: &[PropagatorKind]) -> TextMapCompositePropagator {
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
/// `otlp`, with `tls` for an `https://` endpoint, inside the export runtime's context, which the
/// tonic exporter needs to build.
macro_rules! otlp_exporter {
    ($exporter:ident, $otlp:expr, $handle:expr, $tls:expr) => {{
        let otlp: &OtlpConfig = $otlp;
        let tls: Option<&Tls> = $tls;
        let _entered = $handle.enter();
        let cause = TransportCause::default();
        // Building can panic inside a dependency (tonic unwraps the protocol versions of a
        // process-wide crypto provider installed by the service): that is an init error to
        // report, not a crash.
        // The headers are set where each request leaves (`export::headers`): the exporter
        // would add those it reads from the environment itself.
        let headers = header_map(&otlp.headers);
        // Nothing built survives a panic: what the closure touches is dropped with it.
        let built =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match otlp.protocol {
                Protocol::Grpc => tonic_compression(
                    tonic_tls(
                        opentelemetry_otlp::$exporter::builder()
                            .with_tonic()
                            .with_endpoint(otlp.endpoint.clone())
                            .with_timeout(otlp.timeout)
                            .with_interceptor(exact_metadata(headers)),
                        tls,
                    ),
                    otlp.compression,
                )
                .build()
                .map_err(|e| e.to_string()),
                Protocol::HttpProtobuf | Protocol::HttpJson => {
                    let client = ExactHeadersClient::new(
                        otlp.timeout,
                        otlp.protocol,
                        otlp.compression,
                        headers,
                        tls,
                        cause.clone(),
                    );
                    http_compression(
                        opentelemetry_otlp::$exporter::builder()
                            .with_http()
                            .with_protocol(http_protocol(otlp.protocol))
                            .with_endpoint(otlp.endpoint.clone())
                            .with_timeout(otlp.timeout)
                            .with_http_client(client),
                        otlp.compression,
                    )
                    .build()
                    .map_err(|e| e.to_string())
                }
            }));
        // The texts may quote a URL: its userinfo is hidden.
        let hidden = |text: String| crate::init::credentials::hide_in_text(&text).into_owned();
        match built {
            Ok(built) => built
                .map(|exporter| (exporter, cause))
                .map_err(|e| InitError(ErrorKind::Exporter(hidden(e)))),
            Err(panic) => Err(InitError(ErrorKind::Exporter(hidden(format!(
                "building it panicked: {}",
                crate::line::output::payload_message(&*panic)
            ))))),
        }
    }};
}

pub(crate) fn tracer_provider<W>(
    config: &EnvConfig,
    resource: &Resource,
    lines: &LineSink<'_, W>,
    redaction: &Redaction,
    delivery: &Arc<Delivery>,
    runtime: &mut Option<ExportRuntime>,
    warnings: &mut Vec<String>,
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
    let mut tls = None;
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
            TracesExporter::Otlp => {
                tls = endpoint_tls(&config.traces_otlp, warnings);
                TracesChoice::Otlp {
                    protocol: config.traces_otlp.protocol,
                    endpoint: config.traces_otlp.endpoint.clone(),
                    tls: tls.as_ref().map(|t| t.describe().to_owned()),
                }
            }
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
            let (exporter, cause) =
                otlp_exporter!(SpanExporter, &config.traces_otlp, handle, tls.as_ref())?;
            let batch = BatchConfigBuilder::default()
                .with_scheduled_delay(config.batch.schedule_delay)
                .with_max_queue_size(config.batch.max_queue_size)
                .with_max_export_batch_size(config.batch.max_export_batch_size)
                .build();
            let exporter = Counting::new(
                OnRuntime::new(exporter, handle, config.batch.export_timeout),
                delivery.clone(),
            )
            .with_destination(choice.to_string())
            .with_cause(cause);
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

/// `tls` on a gRPC exporter builder (an `https://` endpoint). Without it tonic would not speak TLS
/// to an `https://` endpoint at all in a build without TLS, which `env` refuses.
fn tonic_tls<B: WithTonicConfig>(builder: B, tls: Option<&Tls>) -> B {
    match tls {
        #[cfg(feature = "tls")]
        Some(tls) => builder.with_tls_config(tls.tonic()),
        #[cfg(not(feature = "tls"))]
        Some(never) => match *never {},
        None => builder,
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

pub(crate) fn logger_provider(
    config: &EnvConfig,
    resource: &Resource,
    delivery: &Arc<Delivery>,
    runtime: &mut Option<ExportRuntime>,
    warnings: &mut Vec<String>,
) -> Result<(Option<SdkLoggerProvider>, String), InitError> {
    if config.sdk_disabled || config.logs_exporter == LogsExporter::None {
        return Ok((None, "none (the JSON lines are the log signal)".to_owned()));
    }
    let handle = export_runtime(runtime)?;
    let otlp = &config.logs_otlp;
    let tls = endpoint_tls(otlp, warnings);
    let destination = otlp_destination(
        otlp.protocol,
        &otlp.endpoint,
        tls.as_ref().map(Tls::describe),
    );
    let (exporter, cause) = otlp_exporter!(LogExporter, otlp, handle, tls.as_ref())?;
    let exporter = Counting::new(
        OnRuntime::new(exporter, handle, config.logs_batch.export_timeout),
        delivery.clone(),
    )
    .with_destination(destination.clone())
    .with_cause(cause);
    // Every field given: the SDK's own default reads `OTEL_BLRP_*` unchecked (a huge queue size
    // aborts the process, a delay of 0 spins).
    let batch = opentelemetry_sdk::logs::BatchConfigBuilder::default()
        .with_scheduled_delay(config.logs_batch.schedule_delay)
        .with_max_queue_size(config.logs_batch.max_queue_size)
        .with_max_export_batch_size(config.logs_batch.max_export_batch_size)
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource.clone())
        // First: the processors run in order on one record, and the batch processor copies it.
        .with_log_processor(ExceptionAttributes)
        .with_log_processor(CountedLogs::new(
            BatchLogProcessor::builder(exporter)
                .with_batch_config(batch)
                .build(),
            delivery.clone(),
        ))
        .build();
    Ok((Some(provider), destination))
}
