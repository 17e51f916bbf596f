//! `traceparent` through the public `TraceContextPropagator`.
//!
//! The input (UTF-8; other inputs are skipped) is the `traceparent` value of a `HashMap` carrier
//! that also holds a valid `tracestate`. Checks that extraction never panics, that it accepts
//! exactly what an independent reading of W3C Trace Context Level 2 accepts (the `reference`
//! function below, written from the rules in the propagator's documentation), that an accepted
//! value is re-injected with its trace-id, parent-id and known flags unchanged, and the
//! invariants of the crate's proptest: a 55-character `traceparent` starting `00-`, a
//! `tracestate` of at most 512 characters, and extract → inject stable.
//!
//! When the input has several lines, each line is also sent as a `traceparent` header of its
//! own: two or more headers must restart the trace.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

#[path = "carrier.rs"]
mod carrier;

use carrier::{trace_context_round_trip, Headers};

/// From the W3C specification's examples.
const TRACESTATE: &str = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };

    let carrier = HashMap::from([
        ("traceparent".to_owned(), value.to_owned()),
        ("tracestate".to_owned(), TRACESTATE.to_owned()),
    ]);
    let injected = trace_context_round_trip(&carrier, TRACESTATE.len());
    let accepted = !injected.is_empty();
    assert_eq!(
        accepted,
        reference(value),
        "the propagator and the reference disagree on {value:?}"
    );
    if accepted {
        // The ids as sent, the flags with only the sampled and random bits, the tracestate whole.
        let sent = value.trim_matches([' ', '\t']).as_bytes();
        let out = injected["traceparent"].as_bytes();
        assert_eq!(out[2..53], sent[2..53], "{value:?}");
        let flags = |f: &[u8]| u8::from_str_radix(std::str::from_utf8(f).unwrap(), 16).unwrap();
        assert_eq!(
            flags(&out[53..55]),
            flags(&sent[53..55]) & 0x03,
            "{value:?}"
        );
        assert_eq!(injected["tracestate"], TRACESTATE);
    }

    let lines: Vec<&str> = value.split('\n').collect();
    if lines.len() > 1 {
        let mut headers = Headers::default().with("tracestate", TRACESTATE);
        for line in &lines {
            headers = headers.with("traceparent", line);
        }
        let injected = trace_context_round_trip(&headers, TRACESTATE.len());
        assert!(injected.is_empty(), "{lines:?} accepted as one traceparent");
    }
});

/// Whether `value` is a valid `traceparent`, by the specification's fields rather than by
/// offsets: `version-traceid-parentid-flags[-rest]`, trimmed of spaces and tabs.
fn reference(value: &str) -> bool {
    let lower_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let fields: Vec<&str> = value.trim_matches([' ', '\t']).splitn(5, '-').collect();
    let [version, trace_id, parent_id, flags, rest @ ..] = fields.as_slice() else {
        return false;
    };
    lower_hex(version, 2)
        && *version != "ff"
        // Version 00 ends at the flags; a later version may carry more after a `-`.
        && (*version != "00" || rest.is_empty())
        && lower_hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && lower_hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && lower_hex(flags, 2)
}
