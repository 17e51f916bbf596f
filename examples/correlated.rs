//! Correlated JSON lines with the layers composed by hand. The JSON lines go to stdout; the
//! spans are kept by the SDK's in-memory exporter and summarised on stderr at the end, so the ids
//! in the lines can be checked against the spans a tracing backend would receive.
//!
//! Run: `cargo run --example correlated`

use opentelemetry::trace::TracerProvider as _;
use tracing::{info, info_span, instrument, warn};
use tracing_correlate::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug)]
struct PaymentDeclined {
    reason: &'static str,
}

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment declined: {}", self.reason)
    }
}

impl std::error::Error for PaymentDeclined {}

#[instrument(err)]
fn charge(order_id: u64, amount_cents: u64) -> Result<(), PaymentDeclined> {
    info!(amount_cents, "charging card");
    if amount_cents > 10_000 {
        return Err(PaymentDeclined {
            reason: "limit exceeded",
        });
    }
    Ok(())
}

fn main() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();

    tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(provider.tracer("checkout")))
        .with(tracing_correlate::layer().with_service_name("checkout"))
        .init();

    info!("service started");
    {
        let span = info_span!("create_order", order_id = 42, customer = "c-17");
        let _entered = span.enter();
        info!(items = 3, "order placed");
        let _ = charge(42, 2_500);
        if charge(42, 25_000).is_err() {
            warn!("order left unpaid");
        }
    }

    let _ = provider.force_flush();
    for span in exporter.get_finished_spans().unwrap_or_default() {
        eprintln!(
            "# exported span {:?}: trace_id={} span_id={} status={:?}",
            span.name,
            span.span_context.trace_id(),
            span.span_context.span_id(),
            span.status
        );
    }
}
