//! Floats in lines: the shortest form that reads back as the same `f64`, a form every JSON
//! reader takes (`serde_json` with its default features refuses a 309-digit integer); NaN and
//! the infinities as the strings the schema names. Integers on the spans: kept integers.

use proptest::prelude::*;
use tracing::info;

use crate::support::harness::{attr_value, Harness};

/// What a line holds for `x`, for one event `info!(x = v)` per value: the parsed value (the
/// line read by `serde_json` with its default features, rejecting duplicate keys) and the
/// number's text as written.
fn written(values: &[f64]) -> Vec<(serde_json::Value, String)> {
    let h = Harness::new();
    h.run(|| {
        for v in values {
            info!(x = *v, "float");
        }
    });
    let text = h.capture.text();
    let lines = h.lines();
    assert_eq!(lines.len(), values.len(), "one line per event: {text}");
    lines
        .into_iter()
        .zip(text.lines())
        .map(|(parsed, raw)| {
            // `x` is the last key of the line: its text runs to the closing brace.
            let start = raw.rfind("\"x\":").expect("the line has x") + 4;
            let token = raw[start..].trim_end_matches('}').to_owned();
            (parsed["x"].clone(), token)
        })
        .collect()
}

/// Checks that `x` (as written) gives back `v`: the same bits for finite values, the documented
/// string for the others. `serde_json` without its `float_roundtrip` feature may read a
/// 17-digit number one unit in the last place off, so the bits are read from the number's text
/// by `str::parse` (correctly rounded); the parsed value must be a number all the same.
fn assert_reads_back(v: f64, (x, token): &(serde_json::Value, String)) {
    if v.is_nan() {
        assert_eq!(x, "NaN");
    } else if v.is_infinite() {
        assert_eq!(x, if v > 0.0 { "inf" } else { "-inf" });
    } else {
        assert!(x.is_number(), "{v:e} written as {x}, not a number");
        let back: f64 = token.parse().expect("a number's text");
        assert_eq!(back.to_bits(), v.to_bits(), "{v:e} written as {token}");
    }
}

#[test]
fn extreme_and_special_floats_read_back_exactly() {
    let values = [
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::from_bits(1),                     // the smallest subnormal
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
        f64::EPSILON,
        1e-7,
        1e300,
        -0.0,
        0.0,
        1.0,
        -1.0,
        1e15,
        1e16,
        123456789012345680000.0,
        0.1,
        f64::from(0.1_f32), // an f32 field is recorded as this f64
        f64::from(f32::MAX),
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let xs = written(&values);
    for (v, x) in values.iter().zip(&xs) {
        assert_reads_back(*v, x);
    }
    // The shortest round-trip form, not 309 digits.
    let h = Harness::new();
    h.run(|| info!(x = f64::MAX, y = 1.0_f64, z = -0.0_f64, "float"));
    let text = h.capture.text();
    assert!(text.contains("\"x\":1.7976931348623157e308"), "{text}");
    assert!(text.contains("\"y\":1.0"), "{text}");
    assert!(text.contains("\"z\":-0.0"), "{text}");
}

proptest! {
    #[test]
    fn any_f64_reads_back_with_the_same_bits(bits in prop::collection::vec(any::<u64>(), 1..32)) {
        let values: Vec<f64> = bits.into_iter().map(f64::from_bits).collect();
        let xs = written(&values);
        for (v, x) in values.iter().zip(&xs) {
            assert_reads_back(*v, x);
        }
    }
}

#[test]
fn unsigned_integers_that_fit_reach_the_spans_as_integers() {
    use opentelemetry::Value as Otel;
    let h = Harness::new();
    h.run(|| {
        let span = tracing::info_span!(
            "counted",
            qty = 2u64,
            small = 7u8,
            wide = 5u128,
            big = u64::MAX,
            late = tracing::field::Empty
        );
        span.record("late", 3usize);
        let _entered = span.enter();
        tracing::warn!(count = 4u64, "a span event");
    });
    let span = h.span("counted");
    let attributes = &span.attributes;
    assert_eq!(attr_value(attributes, "qty"), Some(Otel::I64(2)));
    assert_eq!(attr_value(attributes, "small"), Some(Otel::I64(7)));
    assert_eq!(attr_value(attributes, "wide"), Some(Otel::I64(5)));
    assert_eq!(attr_value(attributes, "late"), Some(Otel::I64(3)));
    // Past `i64::MAX` OpenTelemetry has no integer: a string, as documented.
    assert_eq!(
        attr_value(attributes, "big"),
        Some(Otel::String(u64::MAX.to_string().into()))
    );
    let event = span
        .events
        .iter()
        .find(|e| e.name == "a span event")
        .expect("the WARN event is a span event");
    assert_eq!(attr_value(&event.attributes, "count"), Some(Otel::I64(4)));
}
