//! The parsers never allocate without bound: the binary's counting allocator adds up the bytes each
//! parse asks for (every `alloc`, and the new size of every `realloc`: an upper bound on what is
//! live at once), on inputs from a few bytes to 1 MiB, in shapes chosen to make a careless parser
//! allocate per member, per property or per escape.
//!
//! - `traceparent`, `tracestate` and `baggage` allocate at most a constant, whatever the input's
//!   size: the W3C limits (`tracestate` at most 32 members and its length checked before any
//!   member is kept; `baggage` at most 64 members and 8,192 bytes) are applied as the header is
//!   read.
//! - The `OTEL_*` reader keeps what the variables say (`OTEL_RESOURCE_ATTRIBUTES` can hold any
//!   number of attributes), so it allocates in proportion to its input: the bound is linear.
//!
//! Run with `--nocapture` to see the figures.

use std::cell::Cell;
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use proptest::prelude::*;
use tracing_correlate::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::{BYTES, COUNTING};

/// The bytes `f` asked the allocator for, on this thread.
fn bytes_during<R>(f: impl FnOnce() -> R) -> usize {
    BYTES.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    drop(result);
    BYTES.with(Cell::get)
}

/// What one extraction of `headers` allocates, the carrier built before counting.
fn extraction_bytes(propagator: &dyn TextMapPropagator, headers: &[(&str, &str)]) -> usize {
    let carrier: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    bytes_during(|| propagator.extract(&carrier))
}

/// `unit` repeated up to `len` bytes (with `{i}` replaced by a counter, for unique keys).
fn repeated(unit: &str, len: usize) -> String {
    let mut s = String::with_capacity(len + unit.len() + 8);
    let mut i = 0usize;
    while s.len() < len {
        s.push_str(&unit.replace("{i}", &i.to_string()));
        i += 1;
    }
    s
}

const SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// At most this many bytes per W3C extraction, whatever the input. The largest context that can
/// come out of a header is a tracestate of 32 members of 256-byte keys and values (16 KiB) or a
/// baggage of 8,192 bytes; this leaves room for the context's own allocations.
const W3C_BOUND: usize = 64 << 10;

fn w3c_shapes() -> Vec<(&'static str, &'static str, String)> {
    let mut shapes = Vec::new();
    for &len in &SIZES {
        shapes.extend([
            ("traceparent", "traceparent of garbage", repeated("x-", len)),
            (
                "traceparent",
                "traceparent with a long tail",
                format!("01{}", &repeated(&TRACEPARENT[2..], len)),
            ),
            (
                "tracestate",
                "tracestate of tiny members",
                repeated("a=b,", len),
            ),
            (
                "tracestate",
                "tracestate of unique members",
                repeated("k{i}=v,", len),
            ),
            (
                "tracestate",
                "tracestate of one long value",
                format!("k={}", repeated("v", len)),
            ),
            (
                "baggage",
                "baggage of unique members",
                repeated("k{i}=v{i},", len),
            ),
            (
                "baggage",
                "baggage of one member with many properties",
                format!("k=v{}", repeated(";p=q", len)),
            ),
            (
                "baggage",
                "baggage of small members with properties",
                repeated("k{i}=v;p;q=r,", len),
            ),
            (
                "baggage",
                "baggage of percent escapes",
                format!("k={}", repeated("%41", len)),
            ),
            ("baggage", "baggage of empty members", repeated(",", len)),
        ]);
    }
    shapes
}

#[test]
fn the_w3c_parsers_allocate_at_most_a_constant_whatever_the_input() {
    let trace_context = TraceContextPropagator::new();
    let baggage = BaggagePropagator::new();
    for (header, shape, value) in w3c_shapes() {
        let bytes = match header {
            "baggage" => extraction_bytes(&baggage, &[("baggage", &value)]),
            "tracestate" => extraction_bytes(
                &trace_context,
                &[("traceparent", TRACEPARENT), ("tracestate", &value)],
            ),
            _ => extraction_bytes(&trace_context, &[("traceparent", &value)]),
        };
        println!("{shape}, {} bytes: {bytes} bytes allocated", value.len());
        assert!(
            bytes <= W3C_BOUND,
            "{shape} of {} bytes allocated {bytes} bytes",
            value.len()
        );
    }
}

#[test]
fn the_w3c_bound_is_not_loose_the_largest_valid_headers_come_near_it() {
    // The bound must be able to fail: the largest headers the parsers keep whole allocate a good
    // share of it (so a parser copying each member a few more times would cross it).
    let trace_context = TraceContextPropagator::new();
    let baggage = BaggagePropagator::new();
    let big_tracestate: String = (0..32)
        .map(|i| format!("{}{i:02}={}", "k".repeat(254), "v".repeat(256)))
        .collect::<Vec<_>>()
        .join(",");
    let tracestate = extraction_bytes(
        &trace_context,
        &[
            ("traceparent", TRACEPARENT),
            ("tracestate", &big_tracestate),
        ],
    );
    let big_baggage = repeated(
        "key{i}=value-value-value-value-value-value-value-value-value,",
        8_000,
    );
    let baggage_bytes = extraction_bytes(&baggage, &[("baggage", &big_baggage[..8_000])]);
    println!("largest tracestate: {tracestate} bytes; large baggage: {baggage_bytes} bytes");
    assert!(
        tracestate >= 16 << 10,
        "32 members of 512 bytes are kept: {tracestate}"
    );
    assert!(baggage_bytes >= 4 << 10, "{baggage_bytes}");
}

/// The variables the `OTEL_*` reader parses that take lists of pairs, the ones an input can make
/// long.
const PAIR_VARIABLES: [&str; 3] = [
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
];

/// Bytes per input byte the `OTEL_*` reader may allocate, plus a constant for what it allocates
/// on an empty environment. The worst shape is the shortest pair, `k=v,`: 4 input bytes become a
/// 48-byte `(String, String)` entry in a `Vec` that doubles as it grows, and header pairs are
/// copied again into the exporter's map; measured up to about 50 bytes per input byte. Linux
/// caps one environment string at 128 KiB (`MAX_ARG_STRLEN`), so this is a few MiB at most, and
/// only while the init reads its configuration. A parser that copied the list once per pair
/// (quadratic) would cross this at 64 KiB already.
const ENV_BYTES_PER_BYTE: usize = 64;
const ENV_BASE: usize = 64 << 10;

fn env_bytes(vars: &[(&str, &str)]) -> usize {
    bytes_during(|| tracing_correlate::fuzzing::read_env(vars))
}

#[test]
fn the_otel_reader_allocates_in_proportion_to_its_input() {
    let empty = env_bytes(&[]);
    println!("empty environment: {empty} bytes allocated");
    // Up to Linux's limit on one environment string (128 KiB): past it no process can be given
    // the variable.
    for len in [1 << 10, 128 << 10] {
        for (shape, value) in [
            ("pairs", repeated("k{i}=v{i},", len)),
            ("tiny pairs", repeated("k=v,", len)),
            ("percent escapes", format!("k={}", repeated("%41", len))),
            ("bad escapes", repeated("k=%zz,", len)),
            ("empty entries", repeated(",", len)),
            ("one long value", format!("k={}", repeated("v", len))),
        ] {
            for variable in PAIR_VARIABLES {
                let bytes = env_bytes(&[(variable, &value)]);
                let bound = ENV_BYTES_PER_BYTE * value.len() + ENV_BASE;
                println!(
                    "{variable} of {shape}, {} bytes: {bytes} bytes allocated ({:.1} per byte)",
                    value.len(),
                    bytes.saturating_sub(empty) as f64 / value.len() as f64
                );
                assert!(bytes <= bound, "{variable} {shape}: {bytes} > {bound}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_w3c_headers_stay_under_the_bound(
        traceparent in ".{0,80}",
        tracestate in "[a-z0-9=,@_ *-]{0,4000}",
        baggage_value in "[a-z0-9=,;%. -]{0,12000}",
    ) {
        let trace_context = TraceContextPropagator::new();
        let baggage = BaggagePropagator::new();
        let bytes = extraction_bytes(
            &trace_context,
            &[("traceparent", &traceparent), ("tracestate", &tracestate)],
        );
        prop_assert!(bytes <= W3C_BOUND, "{bytes}");
        let bytes = extraction_bytes(
            &trace_context,
            &[("traceparent", TRACEPARENT), ("tracestate", &tracestate)],
        );
        prop_assert!(bytes <= W3C_BOUND, "{bytes}");
        let bytes = extraction_bytes(&baggage, &[("baggage", &baggage_value)]);
        prop_assert!(bytes <= W3C_BOUND, "{bytes}");
    }

    #[test]
    fn arbitrary_otel_variables_stay_under_the_linear_bound(
        values in proptest::collection::vec("[a-zA-Z0-9=,%. _-]{0,3000}", 3),
    ) {
        let vars: Vec<(&str, &str)> = PAIR_VARIABLES
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        let input: usize = values.iter().map(String::len).sum();
        let bytes = env_bytes(&vars);
        prop_assert!(bytes <= ENV_BYTES_PER_BYTE * input + ENV_BASE, "{bytes} for {input}");
    }
}
