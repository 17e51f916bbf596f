//! The layer never panics and loses nothing silently: failed writes are counted, and the SDK's
//! own events and spans never reach the exporter (while their lines are still written).

use std::io;

use tracing::{info, info_span};
use tracing_subscriber::layer::SubscriberExt;

use crate::support::capture::Capture;
use crate::support::find::line_with;
use crate::support::harness::Harness;

struct Broken;

impl io::Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn failed_writes_are_counted_not_panicked_on() {
    let layer = tracing_correlate::layer().with_writer(|| Broken);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..3 {
            info!(i, "lost");
        }
    });
    assert_eq!(stats.write_errors(), 3);
    assert_eq!(stats.dropped_reentrant(), 0);
}

#[test]
fn sdk_events_and_spans_never_reach_the_exporter_but_are_logged() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        tracing::warn!(target: "opentelemetry_sdk", "exporter is slow");
        tracing::error!(target: "opentelemetry_otlp::exporter", "export failed");
        let h2 = tracing::info_span!(target: "h2::codec", "h2_frame");
        let _h = h2.enter();
        tracing::debug!(target: "h2::codec", "frame");
        info!(target: "checkout", "user event");
    });
    let request = h.span("request");
    assert!(
        request.events.is_empty(),
        "no SDK event on the span: {:?}",
        request.events
    );
    assert_eq!(request.status, opentelemetry::trace::Status::Unset);
    assert!(h.spans().iter().all(|s| s.name != "h2_frame"));
    let lines = h.lines();
    assert_eq!(
        line_with(&lines, "exporter is slow")["span_id"],
        request.span_context.span_id().to_string()
    );
    line_with(&lines, "export failed");
    // The user's event inside the (unexported) h2 span has no OpenTelemetry span: no ids.
    assert!(line_with(&lines, "user event").get("trace_id").is_none());
}

#[test]
fn a_layer_without_a_dispatch_registration_still_writes() {
    // `Layer::with_subscriber` builds a subscriber without `Dispatch::new`; the layer then has no
    // dispatch to read ids through, and still writes its lines.
    use tracing_subscriber::Layer;
    let capture = Capture::default();
    let subscriber = tracing_correlate::layer()
        .with_writer(capture.clone())
        .with_subscriber(tracing_subscriber::registry());
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("s");
        let _e = span.enter();
        info!("still written");
    });
    assert_eq!(
        line_with(&capture.lines(), "still written")["span_name"],
        "s"
    );
}

#[test]
fn two_json_layers_with_different_reserved_keys_keep_their_own_renames() {
    // The callsite cache is per thread and per layer: the same callsite is rendered for each.
    let with_line = Capture::default();
    let plain = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_correlate::layer()
                .with_line_number(true)
                .with_writer(with_line.clone()),
        )
        .with(tracing_correlate::layer().with_writer(plain.clone()));
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            info!(line = "user value", "renamed or not");
        }
    });
    for line in with_line.lines() {
        assert_eq!(line["fields.line"], "user value");
        assert!(line["line"].is_u64(), "the layer's own `line` key");
    }
    for line in plain.lines() {
        assert_eq!(line["line"], "user value");
        assert!(line.get("fields.line").is_none());
    }
    assert_eq!(with_line.lines().len(), 3);
    assert_eq!(plain.lines().len(), 3);
}

/// The OpenTelemetry SDK logs every failed export; the JSON layer writes one line per SDK
/// callsite per interval, the next one counting those left out, and the service's own lines are
/// never left out.
#[test]
fn the_sdks_repeated_lines_are_throttled_and_counted_the_services_never() {
    let capture = Capture::default();
    let layer = tracing_correlate::layer()
        .with_writer(capture.clone())
        .with_sdk_line_interval(std::time::Duration::from_millis(200));
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let export_failed = |n: u32| {
        for _ in 0..n {
            tracing::error!(name: "BatchSpanProcessor.ExportError", target: "opentelemetry_sdk", "export failed");
        }
    };
    let service_failed = |n: u32| {
        for _ in 0..n {
            tracing::error!(target: "checkout", "payment failed");
        }
    };
    tracing::subscriber::with_default(subscriber, || {
        export_failed(100);
        service_failed(100);
        // Past the interval: not a speed goal, the interval's own length.
        std::thread::sleep(std::time::Duration::from_millis(300));
        export_failed(1);
        export_failed(5);
    });
    let lines = capture.lines();
    let sdk: Vec<_> = lines
        .iter()
        .filter(|l| l["target"] == "opentelemetry_sdk")
        .collect();
    assert_eq!(sdk.len(), 2, "{sdk:#?}");
    assert!(sdk[0].get("lines_suppressed").is_none(), "{}", sdk[0]);
    assert_eq!(sdk[1]["lines_suppressed"], 99, "{}", sdk[1]);
    let service = lines.iter().filter(|l| l["target"] == "checkout").count();
    assert_eq!(service, 100, "the service's own lines are never left out");
    assert_eq!(stats.sdk_lines_suppressed(), 99 + 5);
}

#[test]
fn a_zero_interval_writes_every_sdk_line() {
    let capture = Capture::default();
    let layer = tracing_correlate::layer()
        .with_writer(capture.clone())
        .with_sdk_line_interval(std::time::Duration::ZERO);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..50 {
            tracing::warn!(target: "opentelemetry_sdk", "export failed");
        }
    });
    assert_eq!(capture.lines().len(), 50);
    assert_eq!(stats.sdk_lines_suppressed(), 0);
}
