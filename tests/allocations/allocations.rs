//! The JSON layer allocates nothing per event in steady state: the binary's counting allocator
//! counts this thread's allocations while events are written. Fails if one appears.

use std::cell::Cell;
use std::io;

use tracing::{info, info_span};
use tracing_subscriber::layer::SubscriberExt;

use crate::{ALLOCATIONS, COUNTING};

fn allocations_during(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_during(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
}

#[test]
fn json_layer_allocates_nothing_per_event_in_steady_state() {
    let layer = tracing_correlate::layer()
        .with_service_name("svc")
        .with_writer(io::sink);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("request", method = "GET", id = 7);
        let _e = span.enter();
        let emit = || {
            for i in 0..1000 {
                info!(n = i, user = "u-1", ok = true, ratio = 0.5, "event {i}");
            }
        };
        emit(); // warm-up: buffers grow to their steady size
        let n = allocations_during(emit);
        assert_eq!(n, 0, "{n} allocations for 1000 events");
    });
}

#[test]
fn with_the_otel_bridge_an_info_event_allocates_nothing_either() {
    use opentelemetry::trace::TracerProvider as _;
    // INFO events are not copied into span events by default (`OtelLayer::with_span_events`), and
    // the span's ids are cached at its first enter: the per-event path allocates nothing.
    let provider =
        tracing_correlate::opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(provider.tracer("alloc")))
        .with(tracing_correlate::layer().with_writer(io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("request", method = "GET", id = 7);
        let _e = span.enter();
        let emit = || {
            for i in 0..1000 {
                info!(n = i, user = "u-1", ok = true, "event {i}");
            }
        };
        emit();
        let n = allocations_during(emit);
        assert_eq!(n, 0, "{n} allocations for 1000 events");
    });
}

#[test]
fn held_lines_allocate_nothing_per_held_line_in_steady_state() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing::{debug, Level};
    use tracing_correlate::HeldLines;
    let provider =
        tracing_correlate::opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let layer = tracing_correlate::layer()
        .with_writer(io::sink)
        .with_held_lines(HeldLines::new(Level::DEBUG));
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(provider.tracer("alloc")))
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        // A trace of `lines` held lines, discarded at its end.
        let trace = |lines: u64| {
            let span = info_span!("request", method = "GET", id = 7);
            let _e = span.enter();
            for i in 0..lines {
                debug!(n = i, user = "u-1", ok = true, "detail {i}");
            }
        };
        let traces = |lines: u64| {
            for _ in 0..50 {
                trace(lines);
            }
        };
        // Warm-up: the pool's buffer grows to a trace's size.
        traces(100);
        let empty = allocations_during(|| traces(0));
        let held = allocations_during(|| traces(100));
        assert_eq!(
            held, empty,
            "50 traces: {empty} allocations without held lines, {held} with 100 each"
        );
        // A trace that has failed writes its later DEBUG lines at once: no allocation either.
        let failed = |lines: u64| {
            for _ in 0..50 {
                let span = info_span!("request", method = "GET", id = 7);
                let _e = span.enter();
                tracing::error!("failed");
                for i in 0..lines {
                    debug!(n = i, user = "u-1", ok = true, "detail {i}");
                }
            }
        };
        failed(100);
        let empty = allocations_during(|| failed(0));
        let written = allocations_during(|| failed(100));
        assert_eq!(
            written, empty,
            "50 failed traces: {empty} allocations without later lines, {written} with 100 each"
        );
    });
    assert_eq!(stats.held_lines_discarded(), 100 * 100);
}
