//! A ladder of costs for one log line, measured in one run so the rungs read as ratios.
//!
//! Every rung writes to [`Sink`], which discards the bytes and counts them, never to stdout.
//!
//! Group `event`: one INFO event with a message and three fields (integer, string, boolean),
//! inside an entered span with two fields. The subscriber is set once per bench function and the
//! span is created and entered once, outside the measured loop: only the event is measured.
//!
//! - `floor`: the line built by hand into a reused `String` and handed to the sink;
//! - `no_subscriber`, `registry_only`: what `tracing` costs before any layer;
//! - `fmt_json`: `tracing_subscriber::fmt::layer().json()` above `tracing_opentelemetry::layer()`;
//! - `ours_json`: `tracing_correlate::layer()` alone (no OpenTelemetry, so no ids in the line);
//! - `ours_with_otel`: `tracing_correlate::layer()` above `tracing_correlate::otel_layer()`.
//!
//! Group `span_lifecycle`: a span with two fields, an event in it, a child span with two more
//! events, both spans closed, all measured.
//!
//! The tracers come from an `SdkTracerProvider` with no exporter and the default (always-on)
//! sampler: spans are recorded but nothing is exported.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{Datelike, Timelike, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Bytes handed to every [`Sink`] so far.
static BYTES: AtomicU64 = AtomicU64::new(0);

/// A `MakeWriter` whose writers discard bytes and count them in [`BYTES`].
#[derive(Clone, Copy, Debug)]
struct Sink;

struct SinkWriter;

impl io::Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let buf = black_box(buf);
        BYTES.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = SinkWriter;

    fn make_writer(&'a self) -> SinkWriter {
        SinkWriter
    }
}

fn provider() -> SdkTracerProvider {
    SdkTracerProvider::builder().build()
}

fn tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("bench")
}

/// The measured event of group `event`.
#[inline(never)]
fn emit_event() {
    tracing::info!(
        order_id = black_box(42_i64),
        customer = black_box("alice"),
        express = black_box(true),
        "order placed"
    );
}

/// The span of group `event`, entered once around the measured loop.
fn event_span() -> tracing::Span {
    tracing::info_span!("checkout", region = "eu-west-1", attempt = 2_i64)
}

/// The measured work of group `span_lifecycle`.
#[inline(never)]
fn span_lifecycle() {
    let parent = tracing::info_span!("handle_request", region = "eu-west-1", attempt = 2_i64);
    let _parent = parent.enter();
    tracing::info!(order_id = black_box(42_i64), "request received");
    let child = tracing::info_span!("load_cart");
    let _child = child.enter();
    tracing::info!(customer = black_box("alice"), items = 3_i64, "cart loaded");
    tracing::info!(express = black_box(true), "order placed");
}

/// Runs one rung of group `event` under `dispatch`: the span is entered once, then each iteration
/// emits one event. Checks, before measuring, that the rung writes lines (or writes none).
fn event_rung(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    dispatch: Dispatch,
    writes: bool,
) {
    tracing::dispatcher::with_default(&dispatch, || {
        let span = event_span();
        let _entered = span.enter();
        check_writes(name, writes, emit_event);
        group.bench_function(name, |b| b.iter(emit_event));
    });
}

fn check_writes(name: &str, writes: bool, f: impl FnOnce()) {
    let before = BYTES.load(Ordering::Relaxed);
    f();
    let bytes = BYTES.load(Ordering::Relaxed) - before;
    assert_eq!(bytes > 0, writes, "{name}: wrote {bytes} bytes");
    eprintln!("{name}: {bytes} bytes per iteration");
}

/// The line `ours_with_otel` writes for the event, built by hand: the least the bytes can cost.
#[inline(never)]
fn floor_line(line: &mut String) {
    const TRACE_ID: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
    const SPAN_ID: u64 = 0x00f0_67aa_0ba9_02b7;
    const TRACE_FLAGS: u8 = 0x01;
    let now = Utc::now();
    line.clear();
    let _ = write!(
        line,
        "{{\"timestamp\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z\"",
        now.year(),
        now.month(),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        (now.nanosecond() / 1_000).min(999_999)
    );
    line.push_str(",\"level\":\"INFO\",\"service\":\"unknown_service\",\"target\":\"");
    line.push_str(module_path!());
    line.push_str("\",\"message\":\"order placed\"");
    let _ = write!(
        line,
        ",\"trace_id\":\"{:032x}\",\"span_id\":\"{:016x}\",\"trace_flags\":\"{:02x}\"",
        black_box(TRACE_ID),
        black_box(SPAN_ID),
        black_box(TRACE_FLAGS)
    );
    line.push_str(",\"span_name\":\"checkout\",\"region\":\"eu-west-1\",\"attempt\":");
    let _ = write!(line, "{}", black_box(2_i64));
    line.push_str(",\"order_id\":");
    let _ = write!(line, "{}", black_box(42_i64));
    line.push_str(",\"customer\":\"");
    line.push_str(black_box("alice"));
    line.push_str("\",\"express\":");
    line.push_str(if black_box(true) { "true" } else { "false" });
    line.push_str("}\n");
    let _ = io::Write::write_all(&mut Sink.make_writer(), line.as_bytes());
}

fn fmt_json_dispatch(tracer: SdkTracer) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .with(tracing_subscriber::fmt::layer().json().with_writer(Sink)),
    )
}

fn ours_json_dispatch() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(tracing_correlate::layer().with_writer(Sink)))
}

fn ours_with_otel_dispatch(tracer: SdkTracer) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_correlate::otel_layer(tracer))
            .with(tracing_correlate::layer().with_writer(Sink)),
    )
}

fn bench_event(c: &mut Criterion) {
    let mut group = c.benchmark_group("event");

    let mut line = String::with_capacity(512);
    check_writes("floor", true, || floor_line(&mut line));
    group.bench_function("floor", |b| b.iter(|| floor_line(&mut line)));

    event_rung(&mut group, "no_subscriber", Dispatch::none(), false);
    event_rung(
        &mut group,
        "registry_only",
        Dispatch::new(tracing_subscriber::registry()),
        false,
    );

    let provider = provider();
    event_rung(
        &mut group,
        "fmt_json",
        fmt_json_dispatch(tracer(&provider)),
        true,
    );
    event_rung(&mut group, "ours_json", ours_json_dispatch(), true);
    event_rung(
        &mut group,
        "ours_with_otel",
        ours_with_otel_dispatch(tracer(&provider)),
        true,
    );

    group.finish();
}

fn bench_span_lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("span_lifecycle");
    let provider = provider();
    let rungs = [
        ("fmt_json", fmt_json_dispatch(tracer(&provider))),
        ("ours_json", ours_json_dispatch()),
        ("ours_with_otel", ours_with_otel_dispatch(tracer(&provider))),
    ];
    for (name, dispatch) in rungs {
        tracing::dispatcher::with_default(&dispatch, || {
            check_writes(name, true, span_lifecycle);
            group.bench_function(name, |b| b.iter(span_lifecycle));
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_event, bench_span_lifecycle
}
criterion_main!(benches);
