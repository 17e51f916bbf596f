//! The rungs of the ladder: each builds its whole subscriber around a given [`Sink`], so the checks
//! can build it again around a capturing one.
//!
//! Every OpenTelemetry rung gets its tracer from an `SdkTracerProvider` with no exporter and the
//! default sampler (parent-based, always on): spans are recorded, nothing is exported.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::{Dispatch, Event, Subscriber};
use tracing_correlate::OtelLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::{FmtSpan, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Identity, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use super::sink::Sink;
use super::SERVICE;

/// One rung: how to build it, and what its lines must show.
pub struct Rung {
    pub name: &'static str,
    pub build: Box<dyn Fn(Sink) -> Dispatch>,
    /// Whether it writes lines at all.
    pub writes: bool,
    /// Whether its lines carry the OpenTelemetry trace id of the span they belong to.
    pub trace_id: bool,
}

impl Rung {
    fn new(
        name: &'static str,
        writes: bool,
        trace_id: bool,
        build: impl Fn(Sink) -> Dispatch + 'static,
    ) -> Rung {
        Rung {
            name,
            build: Box::new(build),
            writes,
            trace_id,
        }
    }
}

/// The provider of every OpenTelemetry rung: no exporter, the default (always-on) sampler.
pub fn provider() -> SdkTracerProvider {
    SdkTracerProvider::builder().build()
}

/// The rungs of scenarios (a) and (b), after the floor: 2, 3, 4, 5, 6, 7 of the ladder.
pub fn ladder(provider: &SdkTracerProvider) -> Vec<Rung> {
    vec![
        no_subscriber(),
        registry_empty_layer(),
        fmt_json_otel(provider),
        json_subscriber_otel(provider),
        bunyan(),
        init_tracing_otel_production(provider),
        ours_json(),
        ours_otel(provider),
        ours_otel_with(provider, "ours_otel_span_events_all", |l| {
            l.with_span_events(LevelFilter::TRACE)
        }),
        ours_init_stack(provider),
    ]
}

/// Our bridge under each of its settings, each above our JSON layer.
pub fn settings(provider: &SdkTracerProvider) -> Vec<Rung> {
    vec![
        ours_otel_with(provider, "default", |l| l),
        ours_otel_with(provider, "span_events_all", |l| {
            l.with_span_events(LevelFilter::TRACE)
        }),
        ours_otel_with(provider, "span_events_off", |l| {
            l.with_span_events(LevelFilter::OFF)
        }),
        ours_otel_with(provider, "location_off", |l| l.with_location(false)),
        ours_otel_with(provider, "threads_off", |l| l.with_threads(false)),
        // Off by default in our bridge (on in tracing-opentelemetry): measured turned on.
        ours_otel_with(provider, "tracked_inactivity_on", |l| {
            l.with_tracked_inactivity(true)
        }),
        ours_otel_with(provider, "all_three_off", |l| {
            l.with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
        }),
    ]
}

/// Rung 2: `tracing` with no subscriber (the scoped dispatcher is `Dispatch::none()`).
pub fn no_subscriber() -> Rung {
    Rung::new("no_subscriber", false, false, |_| Dispatch::none())
}

/// Rung 2: the registry with a layer that does nothing.
pub fn registry_empty_layer() -> Rung {
    Rung::new("registry_empty_layer", false, false, |_| {
        Dispatch::new(tracing_subscriber::registry().with(Identity::new()))
    })
}

/// Rung 3, how most services do it today: `tracing_subscriber::fmt().json()` (its defaults: the
/// current span and the span list, fields under `fields`) above `tracing_opentelemetry::layer()`
/// with its defaults. Its lines carry no ids.
pub fn fmt_json_otel(provider: &SdkTracerProvider) -> Rung {
    let provider = provider.clone();
    Rung::new("fmt_json_otel", true, false, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(tracer(&provider)))
                .with(tracing_subscriber::fmt::layer().json().with_writer(sink)),
        )
    })
}

/// Rung 4: `json-subscriber` 0.3 (feature `tracing-opentelemetry-0-34`) with its OpenTelemetry ids
/// (`openTelemetry.traceId`/`spanId`), its other settings left as `json_subscriber::layer()` sets
/// them (those of `fmt().json()`: current span and span list), above `tracing_opentelemetry::layer()`.
pub fn json_subscriber_otel(provider: &SdkTracerProvider) -> Rung {
    let provider = provider.clone();
    Rung::new("json_subscriber_otel", true, true, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(tracer(&provider)))
                .with(
                    json_subscriber::layer()
                        .with_opentelemetry_ids(true)
                        .with_writer(sink),
                ),
        )
    })
}

/// Rung 5: `tracing-bunyan-formatter` as its documentation sets it up (`JsonStorageLayer` below
/// `BunyanFormattingLayer`). It has no OpenTelemetry ids, so it runs without a bridge; it also
/// writes a START and an END line per span.
pub fn bunyan() -> Rung {
    Rung::new("bunyan", true, false, |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_bunyan_formatter::JsonStorageLayer)
                .with(tracing_bunyan_formatter::BunyanFormattingLayer::new(
                    SERVICE.to_owned(),
                    sink,
                )),
        )
    })
}

/// Rung 6: `init-tracing-opentelemetry` 0.44's `TracingConfig::production()`, the whole stack its
/// `init_subscriber()` builds, rebuilt here as a non-global subscriber because its writer can
/// only be stdout, stderr or a file:
///
/// - its filter, from its own public `build_filter_layer()` (`info` and `otel::tracing=trace`);
/// - `tracing_opentelemetry::layer().with_error_records_to_exceptions(true)` with the tracer
///   named `""` (its `build_tracer_layer_with_resource_and_name`); with no OTLP endpoint in the
///   environment its provider has no exporter, as here;
/// - its JSON layer (`formats.rs`: `fmt::layer().json()` with `file` on, line numbers, thread
///   names and ids off, no span events, target on, the wall-clock timer, `trace_id` prepended by
///   its `WithTraceContext`), boxed as its `build_layer()` boxes it;
/// - layered as `init_subscriber_ext` does: registry, OpenTelemetry layer, JSON layer, filter.
///
/// The checks compare this rebuild's line with the line of its real `build_layer()` (to a file).
pub fn init_tracing_otel_production(provider: &SdkTracerProvider) -> Rung {
    let provider = provider.clone();
    Rung::new("init_tracing_otel", true, true, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(
                    tracing_opentelemetry::layer()
                        .with_error_records_to_exceptions(true)
                        .with_tracer(provider.tracer("")),
                )
                .with(init_tracing_json_layer(sink))
                .with(init_tracing_filter()),
        )
    })
}

/// `init-tracing-opentelemetry`'s production filter, by its own code. The directives are given
/// (as `info`, its default) so that `RUST_LOG` in the environment cannot change the run.
pub fn init_tracing_filter() -> EnvFilter {
    init_tracing_production_config()
        .build_filter_layer()
        .expect("init-tracing-opentelemetry's filter")
}

/// `TracingConfig::production()` with its default level spelled out.
pub fn init_tracing_production_config() -> init_tracing_opentelemetry::TracingConfig {
    init_tracing_opentelemetry::TracingConfig::production().with_log_directives("info")
}

/// `init-tracing-opentelemetry`'s production JSON layer (its `JsonLayerBuilder` with the
/// production `FeatureSet`), writing to `sink`.
fn init_tracing_json_layer<S>(sink: Sink) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Box::new(
        tracing_subscriber::fmt::layer()
            .json()
            .with_file(true)
            .with_line_number(false)
            .with_thread_names(false)
            .with_thread_ids(false)
            .with_span_events(FmtSpan::NONE)
            .with_target(true)
            .with_timer(tracing_subscriber::fmt::time::time())
            .map_event_format(|inner| WithTraceContext {
                inner,
                json: true,
                span_id: false,
            })
            .with_writer(sink),
    )
}

/// `init-tracing-opentelemetry` 0.44's private `formats::WithTraceContext`, copied as it is: it
/// formats the line into a new `String`, then writes it again with `trace_id` first.
struct WithTraceContext<F> {
    inner: F,
    json: bool,
    span_id: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithTraceContext<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let otel_ctx = opentelemetry::Context::current();
        let Some(trace_id) = tracing_opentelemetry_instrumentation_sdk::find_trace_id(&otel_ctx)
        else {
            return self.inner.format_event(ctx, writer, event);
        };
        let span_id = self
            .span_id
            .then(|| tracing_opentelemetry_instrumentation_sdk::find_span_id(&otel_ctx))
            .flatten();
        if self.json {
            let mut buf = String::new();
            self.inner.format_event(ctx, Writer::new(&mut buf), event)?;
            let Some(rest) = buf.strip_prefix('{') else {
                return writer.write_str(&buf);
            };
            write!(writer, "{{\"trace_id\":\"{trace_id}\",")?;
            if let Some(span_id) = span_id {
                write!(writer, "\"span_id\":\"{span_id}\",")?;
            }
            writer.write_str(rest)
        } else {
            write!(writer, "trace_id={trace_id} ")?;
            if let Some(span_id) = span_id {
                write!(writer, "span_id={span_id} ")?;
            }
            self.inner.format_event(ctx, writer, event)
        }
    }
}

/// Rung 7: our JSON layer alone (no bridge, so its lines carry no ids).
pub fn ours_json() -> Rung {
    Rung::new("ours_json", true, false, |sink| {
        Dispatch::new(tracing_subscriber::registry().with(json_layer(sink)))
    })
}

/// Rung 7: our JSON layer above our OpenTelemetry bridge, both with their defaults.
pub fn ours_otel(provider: &SdkTracerProvider) -> Rung {
    ours_otel_with(provider, "ours_otel", |l| l)
}

/// Our bridge as `tune` sets it, above which our JSON layer.
pub fn ours_otel_with(
    provider: &SdkTracerProvider,
    name: &'static str,
    tune: fn(OtelLayer<Registry, SdkTracer>) -> OtelLayer<Registry, SdkTracer>,
) -> Rung {
    let provider = provider.clone();
    Rung::new(name, true, true, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(tune(tracing_correlate::otel_layer(tracer(&provider))))
                .with(json_layer(sink)),
        )
    })
}

/// Our JSON layer above our bridge, both with stack traces as `stacktraces` says (scenario (d)).
pub fn ours_stacktraces(
    provider: &SdkTracerProvider,
    name: &'static str,
    stacktraces: tracing_correlate::Stacktraces,
) -> Rung {
    let provider = provider.clone();
    Rung::new(name, true, true, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(
                    tracing_correlate::otel_layer(tracer(&provider)).with_stacktraces(stacktraces),
                )
                .with(json_layer(sink).with_stacktraces(stacktraces)),
        )
    })
}

/// Rung 7: the stack our one-line init builds (`src/init/mod.rs`), from public API, as a non-global
/// subscriber (`init` installs the global one, once per process): `EnvFilter` with
/// `DEFAULT_FILTER` (`info`, what it uses when `RUST_LOG` is unset), `otel_layer` with the tracer
/// named `tracing-correlate`, the JSON layer with the service name, and the logs layer, which is
/// absent (`None`) unless `OTEL_LOGS_EXPORTER=otlp`. The provider has no exporter, as the init's
/// with `OTEL_TRACES_EXPORTER=none`; by default the init adds the console exporter, which writes
/// each finished span as one more line.
pub fn ours_init_stack(provider: &SdkTracerProvider) -> Rung {
    let provider = provider.clone();
    Rung::new("ours_init_stack", true, true, move |sink| {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(EnvFilter::new(tracing_correlate::DEFAULT_FILTER))
                .with(tracing_correlate::otel_layer(
                    provider.tracer("tracing-correlate"),
                ))
                .with(json_layer(sink))
                .with(None::<Identity>),
        )
    })
}

fn json_layer(sink: Sink) -> tracing_correlate::JsonLayer<Sink> {
    tracing_correlate::layer()
        .with_service_name(SERVICE)
        .with_writer(sink)
}

fn tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("bench")
}

/// The rungs of the held-lines group (e): the init's stack (as [`ours_init_stack`]) with the
/// filter `filter`, and DEBUG lines held when `held` (`HeldLines::new(Level::DEBUG)`, its default
/// bounds). The bridge makes span events of warnings and errors only (its default), as under the
/// init with held lines: no DEBUG event becomes a span event in any of them.
pub fn held(
    provider: &SdkTracerProvider,
    name: &'static str,
    filter: &'static str,
    held: bool,
) -> Rung {
    let provider = provider.clone();
    Rung::new(name, true, true, move |sink| {
        let held = held.then(|| tracing_correlate::HeldLines::new(tracing::Level::DEBUG));
        Dispatch::new(
            tracing_subscriber::registry()
                .with(EnvFilter::new(filter))
                .with(tracing_correlate::otel_layer(
                    provider.tracer("tracing-correlate"),
                ))
                .with(json_layer(sink).with_held_lines(held))
                .with(None::<Identity>),
        )
    })
}

/// Group (e)'s per-event rungs: DEBUG filtered out, written, held (and discarded).
pub fn held_events(provider: &SdkTracerProvider) -> Vec<Rung> {
    vec![
        held(provider, "debug_filtered_out", "info", false),
        held(provider, "debug_written", "debug", false),
        held(provider, "debug_held", "debug", true),
    ]
}
