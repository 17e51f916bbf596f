//! A service's `main` with the one-line init: JSON lines with trace ids on stdout, spans to an
//! OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else on the console in the same
//! stream.
//!
//! Run: `cargo run --example quickstart`
//! With a collector: `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart`

use tracing::{info, instrument, warn};

#[derive(Debug)]
struct OutOfStock {
    sku: String,
}

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is out of stock", self.sku)
    }
}

impl std::error::Error for OutOfStock {}

#[instrument]
fn price(sku: &str) -> u64 {
    info!("looking up the price");
    1_250
}

#[instrument(err)]
fn reserve(sku: &str, quantity: u32) -> Result<(), OutOfStock> {
    if sku == "sku-missing" {
        return Err(OutOfStock { sku: sku.into() });
    }
    info!(quantity, "reserved");
    Ok(())
}

#[instrument(fields(order_id = 42))]
fn place_order(items: &[&str]) {
    let total: u64 = items.iter().map(|sku| price(sku)).sum();
    for sku in items {
        if reserve(sku, 1).is_err() {
            warn!(sku, "order placed without this item");
        }
    }
    info!(total_cents = total, "order placed");
}

fn main() {
    let _guard = tracing_correlate::init("checkout");
    info!("service started");
    place_order(&["sku-1", "sku-missing"]);
}
