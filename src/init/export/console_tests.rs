//! The tests of `console.rs`.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use chrono::TimeZone;
use opentelemetry::trace::{
    Link, Span as _, SpanContext, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, StringValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::{json, Value as Json};

use super::*;

/// Every write, into one buffer; counts writes and flushes.
#[derive(Clone, Default)]
struct Capture {
    bytes: Arc<Mutex<Vec<u8>>>,
    writes: Arc<AtomicUsize>,
    flushes: Arc<AtomicUsize>,
}

struct CaptureWriter<'a>(&'a Capture);

impl io::Write for CaptureWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.writes.fetch_add(1, Ordering::Relaxed);
        self.0.bytes.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self)
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
    }

    /// Every line, parsed, after checking it is one write, one object, without a repeated
    /// key and without a raw control character.
    fn lines(&self) -> Vec<Json> {
        let text = self.text();
        assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(self.writes.load(Ordering::Relaxed), lines.len(), "{text}");
        lines
            .iter()
            .map(|line| {
                assert!(
                    !line
                        .chars()
                        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
                    "raw control character in {line:?}"
                );
                let keys = object_keys(line);
                let mut unique = keys.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), keys.len(), "repeated key in {line}");
                serde_json::from_str(line).unwrap()
            })
            .collect()
    }

    /// The one line whose `span_name` is `name`.
    fn line_named(&self, name: &str) -> Json {
        let mut found = self.lines().into_iter().filter(|l| l["span_name"] == name);
        let line = found.next().unwrap_or_else(|| panic!("no line {name}"));
        assert!(found.next().is_none(), "two lines named {name}");
        line
    }
}

/// A writer whose writes all fail.
struct Broken;

impl io::Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

fn broken() -> Broken {
    Broken
}

/// A writer that fails every second write, into a `Capture`.
#[derive(Default)]
struct Flaky {
    calls: AtomicUsize,
    capture: Capture,
}

impl<'a> MakeWriter<'a> for Flaky {
    type Writer = Box<dyn io::Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        if self.calls.fetch_add(1, Ordering::Relaxed) % 2 == 1 {
            Box::new(Broken)
        } else {
            Box::new(self.capture.make_writer())
        }
    }
}

/// The keys of a JSON object line, in their order.
fn object_keys(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct KeysVisitor;
            impl<'de> serde::de::Visitor<'de> for KeysVisitor {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(KeysVisitor)
        }
    }
    serde_json::from_str::<Keys>(line).unwrap().0
}

/// Polls a future that needs no waking (the exporter's is ready at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut TaskContext::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the export future is not ready"),
    }
}

/// A provider exporting to `capture` through a `ConsoleExporter` named `svc`, with `resource`
/// (the SDK's default resource always names a service, which would replace `svc`).
fn provider_with(capture: &Capture, resource: Resource) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_resource(resource)
        .with_simple_exporter(ConsoleExporter::new(
            capture.clone(),
            "svc",
            Stats::default(),
        ))
        .build()
}

fn provider(capture: &Capture) -> SdkTracerProvider {
    provider_with(capture, Resource::builder_empty().build())
}

fn trace_hex(sc: &SpanContext) -> String {
    sc.trace_id().to_string()
}

fn span_hex(sc: &SpanContext) -> String {
    sc.span_id().to_string()
}

fn micros(rfc3339: &Json) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

fn at(nanos: u32) -> SystemTime {
    let t = Utc.with_ymd_and_hms(2026, 11, 21, 10, 23, 45).unwrap()
        + chrono::Duration::nanoseconds(i64::from(nanos));
    t.into()
}

#[test]
fn root_and_child_carry_their_ids_and_the_parent_id() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("checkout::orders");

    let root = tracer.start("create_order");
    let root_sc = root.span_context().clone();
    let cx = Context::current_with_span(root);
    let mut child = tracer.start_with_context("charge_card", &cx);
    let child_sc = child.span_context().clone();
    child.end();
    drop(cx); // ends the root

    let lines = capture.lines();
    assert_eq!(lines.len(), 2, "{}", capture.text());
    let root = capture.line_named("create_order");
    let child = capture.line_named("charge_card");

    assert_eq!(root["trace_id"], trace_hex(&root_sc));
    assert_eq!(root["span_id"], span_hex(&root_sc));
    assert_eq!(root["trace_flags"], "01");
    assert!(root.get("parent_span_id").is_none(), "{root}");

    assert_eq!(child["trace_id"], trace_hex(&child_sc));
    assert_eq!(child["trace_id"], root["trace_id"]);
    assert_eq!(child["span_id"], span_hex(&child_sc));
    assert_eq!(child["parent_span_id"], span_hex(&root_sc));

    for line in [&root, &child] {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], "svc");
        assert_eq!(line["target"], "checkout::orders");
        assert_eq!(line["kind"], "span");
        assert_eq!(line["span_kind"], "internal");
        assert_eq!(line["status"], "unset");
        assert_eq!(line["attributes"], json!({}));
        assert_eq!(line["timestamp"], line["end"]);
        let duration = micros(&line["end"]) - micros(&line["start"]);
        assert!(duration >= 0);
        assert_eq!(
            line["duration_ms"].as_f64().unwrap(),
            duration as f64 / 1000.0
        );
        for absent in [
            "status_description",
            "events",
            "links",
            "dropped_attributes_count",
            "dropped_events_count",
        ] {
            assert!(line.get(absent).is_none(), "{absent} in {line}");
        }
    }
}

#[test]
fn keys_come_in_the_documented_order() {
    let capture = Capture::default();
    let provider = provider_with(
        &capture,
        Resource::builder_empty()
            .with_service_name("checkout")
            .build(),
    );
    let tracer = provider.tracer("checkout");
    let other = tracer.start("other").span_context().clone();
    let root = tracer.start("root");
    let cx = Context::current_with_span(root);
    let mut span = tracer
        .span_builder("full")
        .with_links(vec![Link::with_context(other)])
        .start_with_context(&tracer, &cx);
    span.add_event("retry", vec![]);
    span.set_status(Status::error("declined"));
    span.end();

    let text = capture.text();
    let line = text.lines().find(|l| l.contains("\"full\"")).unwrap();
    assert_eq!(
        object_keys(line),
        [
            "timestamp",
            "level",
            "service",
            "target",
            "kind",
            "trace_id",
            "span_id",
            "trace_flags",
            "span_name",
            "parent_span_id",
            "span_kind",
            "start",
            "end",
            "duration_ms",
            "status",
            "status_description",
            "attributes",
            "events",
            "links",
        ]
    );
}

#[test]
fn target_is_the_callsites_target_attribute_else_the_scope_name() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("tracer-scope");
    // What `tracing-opentelemetry` records first: the `tracing` callsite's target.
    let mut span = tracer
        .span_builder("bridged")
        .with_attributes([
            KeyValue::new("target", "checkout::orders"),
            KeyValue::new("target", "a field named target"),
        ])
        .start(&tracer);
    span.end();
    tracer
        .span_builder("not_a_string")
        .with_attributes([KeyValue::new("target", 7)])
        .start(&tracer)
        .end();
    tracer.start("api_only").end();

    let bridged = capture.line_named("bridged");
    assert_eq!(bridged["target"], "checkout::orders");
    assert_eq!(bridged["attributes"]["target"], "a field named target");
    assert_eq!(capture.line_named("not_a_string")["target"], "tracer-scope");
    assert_eq!(capture.line_named("api_only")["target"], "tracer-scope");
}

#[test]
fn times_are_rfc3339_micros_and_duration_is_end_minus_start() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");

    let mut span = tracer
        .span_builder("timed")
        .with_start_time(at(123_456_789))
        .start(&tracer);
    span.end_with_timestamp(at(124_957_039)); // 1.50025 ms later
    let mut span = tracer
        .span_builder("backwards")
        .with_start_time(at(123_456_789))
        .start(&tracer);
    span.end_with_timestamp(at(23_456_789));

    let timed = capture.line_named("timed");
    assert_eq!(timed["start"], "2026-11-21T10:23:45.123456Z");
    assert_eq!(timed["end"], "2026-11-21T10:23:45.124957Z");
    assert_eq!(timed["timestamp"], "2026-11-21T10:23:45.124957Z");
    // end - start as the line shows them: 124957 - 123456 microseconds.
    assert_eq!(timed["duration_ms"], json!(1.501));
    assert!(capture.text().contains("\"duration_ms\":1.501,"));

    let backwards = capture.line_named("backwards");
    assert_eq!(backwards["end"], "2026-11-21T10:23:45.023456Z");
    assert_eq!(backwards["duration_ms"], json!(0.0));
}

#[test]
fn times_outside_chronos_range_are_clamped_not_panicking() {
    let mut line = String::new();
    let far = UNIX_EPOCH + Duration::from_secs(1 << 62);
    let mut span = in_memory_spans(1).remove(0);
    span.start_time = UNIX_EPOCH - Duration::from_secs(1 << 40);
    span.end_time = far;
    write_span(&mut line, &span, "svc", &Limits::DEFAULT);
    let parsed: Json = serde_json::from_str(&line).unwrap();
    assert!(parsed["duration_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn status_is_the_status_key_and_the_level_is_info_even_for_an_error() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");

    tracer.start("unset").end();
    let mut ok = tracer.start("ok");
    ok.set_status(Status::Ok);
    ok.end();
    let mut failed = tracer.start("failed");
    failed.set_status(Status::error("card \"declined\"\n\u{1b}[31m"));
    failed.end();

    let unset = capture.line_named("unset");
    assert_eq!(
        (&unset["status"], &unset["level"]),
        (&json!("unset"), &json!("INFO"))
    );
    assert!(unset.get("status_description").is_none());
    let ok = capture.line_named("ok");
    assert_eq!(
        (&ok["status"], &ok["level"]),
        (&json!("ok"), &json!("INFO"))
    );
    assert!(ok.get("status_description").is_none());
    let failed = capture.line_named("failed");
    assert_eq!(
        (&failed["status"], &failed["level"]),
        (&json!("error"), &json!("INFO"))
    );
    assert_eq!(
        failed["status_description"],
        "card \"declined\"\n\u{1b}[31m"
    );
}

#[test]
fn span_kinds_are_named() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");
    let kinds = [
        (SpanKind::Internal, "internal"),
        (SpanKind::Server, "server"),
        (SpanKind::Client, "client"),
        (SpanKind::Producer, "producer"),
        (SpanKind::Consumer, "consumer"),
    ];
    for (kind, name) in &kinds {
        tracer
            .span_builder(*name)
            .with_kind(kind.clone())
            .start(&tracer)
            .end();
    }
    for (_, name) in kinds {
        assert_eq!(capture.line_named(name)["span_kind"], name);
    }
}

#[test]
fn attributes_of_every_type_become_json_values() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");

    let tricky = "say \"hi\"\nthen \u{1b}[31mred\u{1b}[0m \\ \u{2028} é";
    let mut span = tracer
        .span_builder("attrs")
        .with_attributes(vec![
            KeyValue::new("str", tricky),
            KeyValue::new("int", 42_i64),
            KeyValue::new("neg", i64::MIN),
            KeyValue::new("float", 1.5),
            KeyValue::new("nan", f64::NAN),
            KeyValue::new("inf", f64::INFINITY),
            KeyValue::new("ninf", f64::NEG_INFINITY),
            KeyValue::new("yes", true),
            KeyValue::new("no", false),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("ints", Value::Array(Array::I64(vec![1, -2, 3]))),
            KeyValue::new("floats", Value::Array(Array::F64(vec![0.25, f64::NAN]))),
            KeyValue::new(
                "strs",
                Value::Array(Array::String(vec![
                    StringValue::from("a\"b"),
                    StringValue::from("c\nd"),
                ])),
            ),
            KeyValue::new("empty", Value::Array(Array::I64(Vec::new()))),
            KeyValue::new("key \"with\"\n\u{1b}", "k"),
        ])
        .start(&tracer);
    span.set_attribute(KeyValue::new("int", 43_i64)); // set again: the last value wins
    span.end();

    let line = capture.line_named("attrs");
    assert_eq!(
        line["attributes"],
        json!({
            "str": tricky,
            "int": 43,
            "neg": i64::MIN,
            "float": 1.5,
            "nan": "NaN",
            "inf": "inf",
            "ninf": "-inf",
            "yes": true,
            "no": false,
            "bools": [true, false],
            "ints": [1, -2, 3],
            "floats": [0.25, "NaN"],
            "strs": ["a\"b", "c\nd"],
            "empty": [],
            "key \"with\"\n\u{1b}": "k",
        })
    );
    let text = capture.text();
    assert!(text.contains(r#""str":"say \"hi\"\nthen \u001b[31mred\u001b[0m \\ \u2028 é""#));
    assert!(!text.contains("\"int\":42"), "{text}");
}

#[test]
fn many_repeated_attributes_keep_the_last_value_once() {
    let mut attributes: Vec<KeyValue> = (0..40)
        .map(|i| KeyValue::new(format!("k{}", i % 10), i))
        .collect();
    attributes.push(KeyValue::new("k3", "last"));
    let mut buf = String::new();
    push_attributes(&mut buf, &attributes, &Limits::DEFAULT, &mut {
        Limits::DEFAULT.fields
    });
    let keys = object_keys(&buf);
    assert_eq!(keys.len(), 10, "{buf}");
    let parsed: Json = serde_json::from_str(&buf).unwrap();
    assert_eq!(parsed["k3"], "last");
    assert_eq!(parsed["k9"], 39);
}

#[test]
fn events_and_links_are_listed() {
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");

    let other = tracer.start("other");
    let other_sc = other.span_context().clone();
    drop(other);
    let mut span = tracer
        .span_builder("linked")
        .with_start_time(at(0))
        .with_links(vec![Link::with_context(other_sc.clone())])
        .start(&tracer);
    span.add_event_with_timestamp(
        "retry",
        at(1_000),
        vec![
            KeyValue::new("attempt", 2),
            KeyValue::new("why", "time\nout"),
        ],
    );
    span.add_event_with_timestamp("done", at(2_000), vec![]);
    span.end_with_timestamp(at(3_000));

    let line = capture.line_named("linked");
    assert_eq!(
        line["events"],
        json!([
            {
                "name": "retry",
                "timestamp": "2026-11-21T10:23:45.000001Z",
                "attributes": {"attempt": 2, "why": "time\nout"}
            },
            {"name": "done", "timestamp": "2026-11-21T10:23:45.000002Z", "attributes": {}}
        ])
    );
    assert_eq!(
        line["links"],
        json!([{"trace_id": trace_hex(&other_sc), "span_id": span_hex(&other_sc)}])
    );
    assert!(line.get("dropped_events_count").is_none());
}

#[test]
fn dropped_counts_appear_when_the_limits_dropped_something() {
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder_empty().build())
        .with_max_attributes_per_span(1)
        .with_max_events_per_span(1)
        .with_simple_exporter(ConsoleExporter::new(
            capture.clone(),
            "svc",
            Stats::default(),
        ))
        .build();
    let tracer = provider.tracer("t");
    let mut span = tracer.start("limited");
    span.set_attribute(KeyValue::new("a", 1));
    span.set_attribute(KeyValue::new("b", 2));
    span.set_attribute(KeyValue::new("c", 3));
    span.add_event("e1", vec![]);
    span.add_event("e2", vec![]);
    span.end();

    let line = capture.line_named("limited");
    assert_eq!(line["attributes"], json!({"a": 1}));
    assert_eq!(line["dropped_attributes_count"], 2);
    assert_eq!(line["events"].as_array().unwrap().len(), 1);
    assert_eq!(line["dropped_events_count"], 1);
}

#[test]
fn the_resource_service_name_replaces_the_given_one() {
    let capture = Capture::default();
    let provider = provider_with(
        &capture,
        Resource::builder_empty()
            .with_service_name("checkout \"eu\"")
            .build(),
    );
    provider.tracer("t").start("named").end();
    assert_eq!(capture.line_named("named")["service"], "checkout \"eu\"");

    // Directly: a resource without `service.name` keeps the name.
    let capture = Capture::default();
    let mut exporter = ConsoleExporter::new(capture.clone(), "svc", Stats::default());
    exporter.set_resource(&Resource::builder_empty().build());
    block_on(exporter.export(in_memory_spans(1))).unwrap();
    exporter.set_resource(
        &Resource::builder_empty()
            .with_service_name("billing")
            .build(),
    );
    block_on(exporter.export(in_memory_spans(1))).unwrap();
    let services: Vec<Json> = capture
        .lines()
        .into_iter()
        .map(|l| l["service"].clone())
        .collect();
    assert_eq!(services, [json!("svc"), json!("billing")]);
}

/// Finished spans, taken from an in-memory exporter, to feed an exporter by hand.
fn in_memory_spans(n: usize) -> Vec<SpanData> {
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("t");
    for i in 0..n {
        tracer.start(format!("span{i}")).end();
    }
    memory.get_finished_spans().unwrap()
}

#[test]
fn failed_writes_are_counted_and_fail_the_export_only_when_all_fail() {
    let stats = Stats::default();
    let exporter = ConsoleExporter::new(broken, "svc", stats.clone());
    let result = block_on(exporter.export(in_memory_spans(3)));
    assert!(
        matches!(result, Err(OTelSdkError::InternalFailure(_))),
        "{result:?}"
    );
    assert_eq!(stats.write_errors(), 3);
    assert!(exporter.shutdown().is_err());

    let flaky = Flaky::default();
    let capture = flaky.capture.clone();
    let stats = Stats::default();
    let exporter = ConsoleExporter::new(flaky, "svc", stats.clone());
    let result = block_on(exporter.export(in_memory_spans(3)));
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stats.write_errors(), 1);
    let names: Vec<Json> = capture
        .lines()
        .into_iter()
        .map(|l| l["span_name"].clone())
        .collect();
    assert_eq!(names, [json!("span0"), json!("span2")]);

    assert!(block_on(exporter.export(Vec::new())).is_ok());
    assert_eq!(stats.write_errors(), 1);
}

#[test]
fn a_broken_writer_behind_the_provider_does_not_panic() {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::new(broken, "svc", Stats::default()))
        .build();
    let tracer = provider.tracer("t");
    tracer.start("lost").end();
    let _ = provider.shutdown();
}

#[test]
fn shutdown_flushes_the_writer() {
    let capture = Capture::default();
    let provider = provider(&capture);
    provider.tracer("t").start("before").end();
    assert_eq!(capture.flushes.load(Ordering::Relaxed), 0);
    provider.shutdown().unwrap();
    assert!(capture.flushes.load(Ordering::Relaxed) >= 1);
    assert_eq!(capture.lines().len(), 1);
}

/// A writer that panics on the line of a span named `boom` (after taking part of it), into a
/// `Capture` otherwise.
struct PanicsOnBoom(Capture);

struct PanicsOnBoomWriter<'a>(CaptureWriter<'a>);

impl io::Write for PanicsOnBoomWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if String::from_utf8_lossy(bytes).contains("\"span_name\":\"boom\"") {
            self.0
                 .0
                .bytes
                .lock()
                .unwrap()
                .extend_from_slice(&bytes[..10]);
            panic!("the writer panics on boom");
        }
        self.0.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        panic!("the writer panics in flush");
    }
}

impl<'a> MakeWriter<'a> for PanicsOnBoom {
    type Writer = PanicsOnBoomWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        PanicsOnBoomWriter(self.0.make_writer())
    }
}

#[test]
fn a_panicking_writer_costs_its_span_line_only_and_never_reaches_the_span_end() {
    let capture = Capture::default();
    let stats = Stats::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder_empty().build())
        .with_simple_exporter(ConsoleExporter::new(
            PanicsOnBoom(capture.clone()),
            "svc",
            stats.clone(),
        ))
        .build();
    let tracer = provider.tracer("t");
    let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracer.start("before").end();
        tracer.start("boom").end();
        tracer.start("after").end();
        tracer.start("boom").end();
        tracer.start("last").end();
    }));
    assert!(ended.is_ok(), "the writer's panic reached the span's end");
    // Shutting down flushes the writer, whose flush panics too: an error, not a panic.
    let flushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| provider.shutdown()));
    assert!(
        matches!(flushed, Ok(Err(_))),
        "a panicking flush is an error: {flushed:?}"
    );
    let text = capture.text();
    let names: Vec<Json> = text
        .split('\n')
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .map(|l| l["span_name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("before"), json!("after"), json!("last")],
        "every later span line is written: {text}"
    );
    assert_eq!(stats.write_errors(), 2, "each panicked line counted");
}

/// `s` as a line keeps it under a limit of `limit` bytes.
fn cut(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_owned();
    }
    let mut keep = limit;
    while !s.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}…[truncated {} bytes]", &s[..keep], s.len() - keep)
}

#[test]
fn every_string_and_every_list_of_a_span_line_is_bounded_as_in_event_lines() {
    use crate::line::{DEFAULT_MAX_FIELDS, DEFAULT_MAX_KEY_LEN, DEFAULT_MAX_VALUE_LEN};
    let huge = "/".to_owned() + &"p".repeat(1 << 20);
    let many = 1_000;
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name(huge.clone())
                .build(),
        )
        .with_max_attributes_per_span(10_000)
        .with_max_events_per_span(10_000)
        .with_max_attributes_per_event(10_000)
        .with_max_links_per_span(10_000)
        .with_simple_exporter(ConsoleExporter::new(
            capture.clone(),
            "svc",
            Stats::default(),
        ))
        .build();
    let tracer = provider.tracer(huge.clone());
    let other = tracer.start("other");
    let other_cx = other.span_context().clone();
    let mut span = tracer
        .span_builder(huge.clone())
        .with_links(vec![Link::with_context(other_cx); many])
        .start(&tracer);
    span.set_attribute(KeyValue::new("big", huge.clone()));
    span.set_attribute(KeyValue::new(huge.clone(), 1));
    for i in 0..many {
        span.set_attribute(KeyValue::new(format!("a{i}"), i as i64));
    }
    // One shared string: the test's own memory stays small.
    let shared: Arc<str> = huge.as_str().into();
    let items: Vec<StringValue> = (0..many).map(|_| shared.clone().into()).collect();
    span.set_attribute(KeyValue::new("array", Value::Array(items.into())));
    span.add_event(huge.clone(), vec![KeyValue::new("e", huge.clone())]);
    for i in 0..many {
        span.add_event(format!("e{i}"), vec![]);
    }
    span.set_status(Status::error(huge.clone()));
    span.end();

    let text = capture.text();
    let bound = 12 * (DEFAULT_MAX_VALUE_LEN + DEFAULT_MAX_KEY_LEN) + 64 * 1024;
    assert!(
        text.len() < bound,
        "a span line of {} bytes (bound {bound})",
        text.len()
    );
    let kept = cut(&huge, DEFAULT_MAX_VALUE_LEN);
    let line = capture.line_named(&kept);
    assert_eq!(line["service"], kept.as_str());
    assert_eq!(line["target"], kept.as_str());
    assert_eq!(line["status_description"], kept.as_str());
    let attributes = line["attributes"].as_object().unwrap();
    assert_eq!(attributes.len(), DEFAULT_MAX_FIELDS);
    assert_eq!(attributes["big"], kept.as_str());
    assert_eq!(attributes[&cut(&huge, DEFAULT_MAX_KEY_LEN)], 1);
    // 1,003 attributes set, 128 written.
    assert_eq!(
        line["dropped_attributes_count"],
        (many + 3 - DEFAULT_MAX_FIELDS) as u64
    );
    let events = line["events"].as_array().unwrap();
    assert_eq!(events.len(), DEFAULT_MAX_FIELDS);
    assert_eq!(events[0]["name"], kept.as_str());
    assert_eq!(events[0]["attributes"]["e"], kept.as_str());
    assert_eq!(
        line["dropped_events_count"],
        (many + 1 - DEFAULT_MAX_FIELDS) as u64
    );
    assert_eq!(line["links"].as_array().unwrap().len(), DEFAULT_MAX_FIELDS);
    assert_eq!(
        line["dropped_links_count"],
        (many - DEFAULT_MAX_FIELDS) as u64
    );
}

#[test]
fn a_long_array_attribute_is_one_value_cut_with_a_marker() {
    use crate::line::DEFAULT_MAX_VALUE_LEN;
    let capture = Capture::default();
    let provider = provider(&capture);
    let tracer = provider.tracer("t");
    let mut span = tracer.start("arrays");
    let item = "x".repeat(DEFAULT_MAX_VALUE_LEN / 4 + 1);
    let items: Vec<StringValue> = (0..10).map(|_| item.clone().into()).collect();
    span.set_attribute(KeyValue::new("strings", Value::Array(items.into())));
    let numbers: Vec<i64> = (0..100_000).collect();
    span.set_attribute(KeyValue::new("numbers", Value::Array(numbers.into())));
    span.end();
    let line = capture.line_named("arrays");
    // Three items fit the value's budget, the fourth is cut, the six others are counted.
    let strings = line["attributes"]["strings"].as_array().unwrap();
    assert_eq!(strings.len(), 5, "{strings:?}");
    assert_eq!(strings[0], item.as_str());
    assert_eq!(
        strings[3],
        cut(&item, DEFAULT_MAX_VALUE_LEN - 3 * item.len())
    );
    assert_eq!(strings[4], "…[truncated 6 items]");
    let numbers = line["attributes"]["numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), crate::line::DEFAULT_MAX_FIELDS + 1);
    assert_eq!(
        numbers[crate::line::DEFAULT_MAX_FIELDS],
        format!(
            "…[truncated {} items]",
            100_000 - crate::line::DEFAULT_MAX_FIELDS
        )
    );
}

#[test]
fn the_attributes_of_a_spans_events_share_one_bound() {
    use crate::line::DEFAULT_MAX_FIELDS;
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder_empty().build())
        .with_max_events_per_span(10_000)
        .with_max_attributes_per_event(10_000)
        .with_simple_exporter(ConsoleExporter::new(
            capture.clone(),
            "svc",
            Stats::default(),
        ))
        .build();
    let tracer = provider.tracer("t");
    let mut span = tracer.start("chatty");
    let (events, per_event) = (200, 200);
    for e in 0..events {
        let attributes = (0..per_event)
            .map(|a| KeyValue::new(format!("a{a}"), a as i64))
            .collect();
        span.add_event(format!("e{e}"), attributes);
    }
    span.end();
    let line = capture.line_named("chatty");
    let written = line["events"].as_array().unwrap();
    assert_eq!(written.len(), DEFAULT_MAX_FIELDS);
    let kept: usize = written
        .iter()
        .map(|e| e["attributes"].as_object().unwrap().len())
        .sum();
    let dropped: u64 = written
        .iter()
        .map(|e| e["dropped_attributes_count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(kept, DEFAULT_MAX_FIELDS, "the events' attributes together");
    assert_eq!(
        dropped as usize,
        DEFAULT_MAX_FIELDS * per_event - DEFAULT_MAX_FIELDS,
        "every attribute of a written event left out is counted"
    );
}
