//! Layers built, dropped and built again with other settings on the same threads: what each one
//! caches per callsite must never serve another (its keys renamed, its secrets redacted).

use serde_json::Value;

use crate::support::capture::Capture;
use crate::support::harness::attr;
use tracing_correlate::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

/// One callsite, logged through every layer of these tests.
fn pay() {
    tracing::info!(line = 7, card = "4111 1111 1111 1111", "paid");
}

/// A span callsite with a field the second layer redacts.
fn checkout() {
    let _span = tracing::info_span!("checkout", card = "4111 1111 1111 1111").entered();
}

fn lines_of(layer: tracing_correlate::JsonLayer) -> Vec<Value> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, pay);
    capture.lines()
}

/// The default layer, then one that writes `line` and redacts `card`: the second line has one
/// `line` key (the source line), the user's under `fields.line`, and no card number.
fn default_then_configured() {
    let first = lines_of(tracing_correlate::layer());
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["line"], 7, "{}", first[0]);
    assert_eq!(first[0]["card"], "4111 1111 1111 1111");

    let second = lines_of(
        tracing_correlate::layer()
            .with_line_number(true)
            .with_redaction(tracing_correlate::Redaction::default().with_names(["card"])),
    );
    assert_eq!(second.len(), 1);
    let line = &second[0];
    assert_eq!(line["fields.line"], 7, "{line}");
    assert!(line["line"].as_u64().is_some_and(|n| n != 7), "{line}");
    assert_eq!(line["card"], tracing_correlate::REDACTED, "{line}");

    // And back: the default layer again writes the card and the user's `line` as it is.
    let third = lines_of(tracing_correlate::layer());
    assert_eq!(third[0]["line"], 7, "{}", third[0]);
    assert_eq!(third[0]["card"], "4111 1111 1111 1111");
    assert!(third[0].get("fields.line").is_none(), "{}", third[0]);
}

#[test]
fn a_rebuilt_json_layer_never_reads_the_keys_of_a_dropped_one() {
    for _ in 0..20 {
        default_then_configured();
    }
}

#[test]
fn rebuilt_json_layers_on_many_threads_each_keep_their_own_keys() {
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..50 {
                    default_then_configured();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no thread failed");
    }
}

/// The span's `card` attribute as an OpenTelemetry layer built with `configure` exports it.
fn exported_card(
    configure: impl FnOnce(
        tracing_correlate::OtelLayer<tracing_subscriber::Registry, opentelemetry_sdk::trace::Tracer>,
    ) -> tracing_correlate::OtelLayer<
        tracing_subscriber::Registry,
        opentelemetry_sdk::trace::Tracer,
    >,
) -> Option<String> {
    use opentelemetry::trace::TracerProvider as _;
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(configure(tracing_correlate::otel_layer(
        provider.tracer("test"),
    )));
    tracing::subscriber::with_default(subscriber, checkout);
    let spans = exporter.get_finished_spans().expect("finished spans");
    assert_eq!(spans.len(), 1);
    attr(&spans[0].attributes, "card")
}

#[test]
fn a_rebuilt_otel_layer_never_reads_the_secrets_of_a_dropped_one() {
    for _ in 0..20 {
        assert_eq!(exported_card(|l| l).as_deref(), Some("4111 1111 1111 1111"));
        assert_eq!(
            exported_card(
                |l| l.with_redaction(tracing_correlate::Redaction::default().with_names(["card"]))
            )
            .as_deref(),
            Some(tracing_correlate::REDACTED)
        );
    }
}
