//! `baggage` through the public `BaggagePropagator`.
//!
//! The input (UTF-8; other inputs are skipped) is split at `\n` into `baggage` header values.
//! They are extracted twice: as separate headers (a carrier that keeps every value of a header,
//! as HTTP does) and joined with `,` into one value of a `HashMap` carrier. Checks that
//! extraction never panics, that both give the same baggage (the propagator joins several headers
//! with `,`), and the invariants of the crate's proptest: an injected header of at most 8192
//! bytes and 64 members, the same baggage re-extracted when no member was left out for the
//! limits, and extract → inject stable.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use libfuzzer_sys::fuzz_target;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::Context;
use tracing_correlate::propagation::BaggagePropagator;

#[path = "carrier.rs"]
mod carrier;

use carrier::Headers;

/// Key → (value, metadata).
type Members = BTreeMap<String, (String, String)>;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let values: Vec<&str> = input.split('\n').collect();

    let mut headers = Headers::default();
    for value in &values {
        headers = headers.with("baggage", value);
    }
    let separate = round_trip(&headers);

    let joined = HashMap::from([("baggage".to_owned(), values.join(","))]);
    let one = round_trip(&joined);

    assert_eq!(
        separate, one,
        "{values:?}: separate headers and joined differ"
    );
});

fn members(cx: &Context) -> Members {
    cx.baggage()
        .iter()
        .map(|(k, (v, m))| {
            (
                k.as_str().to_owned(),
                (v.as_str().to_owned(), m.as_str().to_owned()),
            )
        })
        .collect()
}

/// Extract, inject, extract, inject, with the proptest's invariants; the baggage extracted first
/// and what was injected.
fn round_trip(extractor: &dyn Extractor) -> (Members, HashMap<String, String>) {
    let propagator = BaggagePropagator::new();
    let first = propagator.extract_with_context(&Context::new(), extractor);
    let mut injected = HashMap::new();
    propagator.inject_context(&first, &mut injected);
    let sent = match injected.get("baggage") {
        Some(header) => {
            assert!(
                !header.is_empty() && header.len() <= 8192,
                "{} bytes",
                header.len()
            );
            header.split(',').count()
        }
        None => 0,
    };
    assert!(injected.len() <= 1, "{injected:?}");
    assert!(sent <= 64, "{sent} members");
    assert!(sent <= first.baggage().len());

    let second = propagator.extract_with_context(&Context::new(), &injected);
    if sent == first.baggage().len() {
        // Nothing left out for the limits: the same baggage.
        assert_eq!(members(&second), members(&first), "{injected:?}");
    }
    let mut reinjected = HashMap::new();
    propagator.inject_context(&second, &mut reinjected);
    assert_eq!(reinjected, injected, "re-injection differs");
    (members(&first), injected)
}
