//! A subscriber with both layers, its lines captured (`capture.rs`), its spans kept by an
//! in-memory span exporter.

use opentelemetry::trace::TracerProvider as _;
use serde_json::Value;
use tracing::Dispatch;
use tracing_correlate::opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData,
};
use tracing_correlate::{JsonLayer, Stacktraces};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

use super::capture::Capture;

/// A subscriber with both layers, lines captured, spans kept by an in-memory exporter.
pub struct Harness {
    pub capture: Capture,
    pub exporter: InMemorySpanExporter,
    pub provider: SdkTracerProvider,
    pub dispatch: Dispatch,
}

impl Harness {
    /// Both layers, always sampling, the JSON layer as `configure` leaves it.
    pub fn new() -> Self {
        Self::with(Sampler::AlwaysOn, |l| l)
    }

    pub fn with(sampler: Sampler, configure: impl FnOnce(JsonLayer) -> JsonLayer) -> Self {
        Self::build(sampler, None, configure)
    }

    /// Both layers, behind a global `Targets` filter when there is one.
    pub fn build(
        sampler: Sampler,
        filter: Option<Targets>,
        configure: impl FnOnce(JsonLayer) -> JsonLayer,
    ) -> Self {
        Self::build_with(sampler, filter, Stacktraces::default(), configure)
    }

    /// Both layers with this stack trace setting.
    #[allow(dead_code)] // the backtrace binaries use the environment's setting
    pub fn with_stacktraces(stacktraces: Stacktraces) -> Self {
        Self::build_with(Sampler::AlwaysOn, None, stacktraces, |l| l)
    }

    fn build_with(
        sampler: Sampler,
        filter: Option<Targets>,
        stacktraces: Stacktraces,
        configure: impl FnOnce(JsonLayer) -> JsonLayer,
    ) -> Self {
        let capture = Capture::default();
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_correlate::otel_layer(provider.tracer("test"))
                    .with_stacktraces(stacktraces),
            )
            .with(
                configure(
                    tracing_correlate::layer()
                        .with_service_name("svc")
                        .with_stacktraces(stacktraces),
                )
                .with_writer(capture.clone()),
            );
        Harness {
            capture,
            exporter,
            provider,
            dispatch: Dispatch::new(subscriber),
        }
    }

    /// Runs `f` with this harness's subscriber as the thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    pub fn lines(&self) -> Vec<Value> {
        self.capture.lines()
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().expect("flush");
        self.exporter.get_finished_spans().expect("finished spans")
    }

    /// The one exported span named `name`.
    pub fn span(&self, name: &str) -> SpanData {
        let mut found: Vec<_> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(found.len(), 1, "exactly one span named {name:?}");
        found.remove(0)
    }
}

/// An attribute of a span or span event, as OpenTelemetry holds it: its kind, not only its text.
#[allow(dead_code)] // the backtrace binaries include this file and read no attribute kinds
pub fn attr_value(attrs: &[opentelemetry::KeyValue], key: &str) -> Option<opentelemetry::Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

/// An attribute of a span or span event, as a string.
pub fn attr(attrs: &[opentelemetry::KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}
