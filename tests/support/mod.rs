//! Helpers shared by the integration tests: a writer that captures lines, a subscriber with an
//! in-memory span exporter, and a line parser that rejects duplicate keys.
#![allow(dead_code, unreachable_pub)]

pub mod child;
pub mod collector;
pub mod fault_collector;
pub mod runtime;

use std::io;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use tracing::Dispatch;
use tracing_correlate::opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData,
};
use tracing_correlate::JsonLayer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A `MakeWriter` that keeps every byte written, for reading the lines back.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self.0.clone())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("lines are UTF-8")
    }

    /// Every line, each checked to be exactly one JSON object without duplicate keys.
    pub fn lines(&self) -> Vec<Value> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "output ends mid-line: {text:?}"
        );
        text.lines().map(parse_line).collect()
    }
}

/// Parses one line as a JSON object, failing on a duplicate key (which `serde_json::Value` would
/// silently collapse).
pub fn parse_line(line: &str) -> Value {
    let pairs: Pairs = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("line is not one JSON object ({e}): {line}"));
    let mut map = serde_json::Map::new();
    for (key, value) in pairs.0 {
        assert!(
            map.insert(key.clone(), value).is_none(),
            "duplicate key {key:?} in line: {line}"
        );
    }
    Value::Object(map)
}

struct Pairs(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

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

    /// Both layers behind a global `Targets` filter.
    pub fn with_filter(filter: tracing_subscriber::filter::Targets) -> Self {
        Self::build(Sampler::AlwaysOn, Some(filter), |l| l)
    }

    fn build(
        sampler: Sampler,
        filter: Option<tracing_subscriber::filter::Targets>,
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
            .with(tracing_correlate::otel_layer(provider.tracer("test")))
            .with(
                configure(tracing_correlate::layer().with_service_name("svc"))
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

/// The line whose `message` is `message`.
pub fn line_with<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    let found: Vec<_> = lines.iter().filter(|l| l["message"] == message).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one line with message {message:?} in {lines:#?}"
    );
    found[0]
}

/// The ids of an exported span, as the line carries them.
pub fn ids_of(span: &SpanData) -> (String, String) {
    (
        span.span_context.trace_id().to_string(),
        span.span_context.span_id().to_string(),
    )
}

/// The ids a line carries.
pub fn line_ids(line: &Value) -> (String, String) {
    (
        line["trace_id"].as_str().expect("trace_id").to_owned(),
        line["span_id"].as_str().expect("span_id").to_owned(),
    )
}

/// An attribute of a span or span event, as a string.
pub fn attr(attrs: &[opentelemetry::KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}
