//! `tracestate` through the public `TraceContextPropagator`, under a valid `traceparent`.
//!
//! The input (UTF-8; other inputs are skipped) is split at `\n` into `tracestate` header values.
//! They are extracted twice: as separate headers (a carrier that keeps every value of a header,
//! as HTTP does) and joined with `,` into one value of a `HashMap` carrier. Checks that
//! extraction never panics, that both give the same result (the propagator joins several headers
//! with `,`), and the invariants of the crate's proptest: a 55-character `traceparent` starting
//! `00-`, an injected `tracestate` of at most 512 characters, extract → inject stable, and the
//! same span context after the round trip when nothing had to be cut.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

#[path = "carrier.rs"]
mod carrier;

use carrier::{joined_len, trace_context_round_trip, Headers};

/// From the W3C specification's examples.
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let values: Vec<&str> = input.split('\n').collect();
    let len = joined_len(&values);

    let mut headers = Headers::default().with("traceparent", TRACEPARENT);
    for value in &values {
        headers = headers.with("tracestate", value);
    }
    let separate = trace_context_round_trip(&headers, len);

    let joined = HashMap::from([
        ("traceparent".to_owned(), TRACEPARENT.to_owned()),
        ("tracestate".to_owned(), values.join(",")),
    ]);
    let one = trace_context_round_trip(&joined, len);

    assert_eq!(
        separate, one,
        "{values:?}: separate headers and joined differ"
    );
    // An invalid tracestate is discarded, the traceparent still used.
    assert_eq!(one["traceparent"], TRACEPARENT);
});
