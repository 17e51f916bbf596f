//! Header values that are not visible ASCII, through the real server middleware over a socket and
//! through the public `extract` helper: each one counts as a header, and as an invalid one, for
//! `traceparent`, `tracestate` and `baggage` alike.
//!
//! The handler answers with what it would send on (`inject_current` into a map, as JSON), so each
//! case is judged by the context the service propagates, as a downstream peer would see it.

use std::collections::HashMap;

use axum::routing::get;
use axum::Router;
use http::{HeaderMap, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;
use serde_json::{json, Value};
use tracing_correlate::propagation::{extract, inject, inject_current};
use tracing_correlate::server::TraceLayer;

use crate::middleware::with_server;
use crate::support::harness::Harness;

const TRACE_A: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TP_A: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TP_B: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Values that are not visible ASCII: a Latin-1 byte (not UTF-8), a UTF-8 `é`, a lone `0xff`,
/// each after an otherwise valid `traceparent` and alone.
fn non_ascii_values() -> Vec<(&'static str, Vec<u8>)> {
    let with = |tail: &[u8]| [TP_A.as_bytes(), tail].concat();
    vec![
        ("latin-1 byte after a valid value", with(b"\xe9")),
        ("utf-8 e-acute after a valid value", with("é".as_bytes())),
        ("a lone 0xff", b"\xff".to_vec()),
        (
            "a valid value with a non-ascii byte inside",
            TP_A.replace("00f0", "\u{e9}").into_bytes(),
        ),
    ]
}

fn value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("obs-text is a valid header value")
}

/// Sends each request's headers to a server behind `TraceLayer` and returns, per request, the
/// context its handler propagates (`traceparent`, `tracestate`, `baggage` as JSON).
fn propagated(requests: Vec<HeaderMap>) -> Vec<Value> {
    let h = Harness::new();
    let app = Router::new()
        .route(
            "/next",
            get(|| async {
                let mut out: HashMap<String, String> = HashMap::new();
                inject_current(&mut out);
                serde_json::to_string(&out).unwrap()
            }),
        )
        .layer(TraceLayer::new());
    with_server(&h, app, |base| async move {
        let url = format!("{base}/next");
        let client = reqwest::Client::new();
        let mut bodies = Vec::new();
        for headers in requests {
            let response = client.get(&url).headers(headers).send().await.unwrap();
            assert_eq!(response.status(), 200);
            bodies.push(serde_json::from_str(&response.text().await.unwrap()).unwrap());
        }
        bodies
    })
}

fn trace_id(propagated: &Value) -> &str {
    let traceparent = propagated["traceparent"]
        .as_str()
        .unwrap_or_else(|| panic!("a traceparent is sent on: {propagated}"));
    &traceparent[3..35]
}

#[test]
fn a_second_traceparent_restarts_the_trace_whatever_its_bytes() {
    let mut cases: Vec<(String, Vec<Vec<u8>>)> = vec![
        ("one valid header".into(), vec![TP_A.into()]),
        ("two ascii headers".into(), vec![TP_A.into(), TP_B.into()]),
    ];
    for (name, bad) in non_ascii_values() {
        cases.push((
            format!("valid, then {name}"),
            vec![TP_A.into(), bad.clone()],
        ));
        cases.push((
            format!("{name}, then valid"),
            vec![bad.clone(), TP_A.into()],
        ));
        cases.push((format!("{name} alone"), vec![bad]));
    }
    let requests = cases
        .iter()
        .map(|(_, values)| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append("traceparent", value(v));
            }
            headers
        })
        .collect();
    let got = propagated(requests);
    for ((name, _), out) in cases.iter().zip(&got) {
        let continued = trace_id(out) == TRACE_A;
        assert_eq!(
            continued,
            name == "one valid header",
            "{name}: only one valid traceparent continues the trace: {out}"
        );
    }
}

#[test]
fn a_non_ascii_tracestate_or_baggage_value_counts_as_an_invalid_one() {
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for (name, bad) in non_ascii_values() {
        // tracestate: one invalid header discards the joined list; the traceparent still holds.
        let mut headers = HeaderMap::new();
        headers.append("traceparent", value(TP_A.as_bytes()));
        headers.append("tracestate", value(b"a=1"));
        headers.append("tracestate", value(&[b"b=".as_slice(), &bad].concat()));
        requests.push(headers);
        expected.push((format!("tracestate: a=1, then {name}"), None));

        // baggage: the invalid header gives no member, the valid one is kept.
        let mut headers = HeaderMap::new();
        headers.append("traceparent", value(TP_A.as_bytes()));
        headers.append("baggage", value(b"k=v"));
        headers.append("baggage", value(&[b"x=".as_slice(), &bad].concat()));
        requests.push(headers);
        expected.push((format!("baggage: k=v, then {name}"), Some("k=v")));
    }
    let got = propagated(requests);
    for ((name, want), out) in expected.iter().zip(&got) {
        assert_eq!(trace_id(out), TRACE_A, "{name}: the trace continues: {out}");
        let (key, want) = if name.starts_with("tracestate") {
            ("tracestate", None)
        } else {
            ("baggage", *want)
        };
        assert_eq!(
            out.get(key),
            want.map(|w| json!(w)).as_ref(),
            "{name}: {out}"
        );
    }
}

#[test]
fn the_extract_helper_applies_the_same_rule() {
    crate::install_propagators();
    for (name, bad) in non_ascii_values() {
        let mut headers = HeaderMap::new();
        headers.append("traceparent", value(TP_A.as_bytes()));
        headers.append("traceparent", value(&bad));
        assert!(
            !extract(&headers).span().span_context().is_valid(),
            "{name}: two traceparent headers restart the trace"
        );

        let mut headers = HeaderMap::new();
        headers.append("traceparent", value(TP_A.as_bytes()));
        headers.append("tracestate", value(b"a=1"));
        headers.append("tracestate", value(&bad));
        headers.append("baggage", value(b"k=v"));
        headers.append("baggage", value(&bad));
        let cx = extract(&headers);
        assert!(cx.span().span_context().is_valid(), "{name}");
        let mut out: HashMap<String, String> = HashMap::new();
        inject(&cx, &mut out);
        assert_eq!(out.get("tracestate"), None, "{name}: {out:?}");
        assert_eq!(
            cx.baggage().get("k").map(|v| v.as_str().to_owned()),
            Some("v".to_owned()),
            "{name}"
        );
        assert_eq!(cx.baggage().len(), 1, "{name}");
    }

    // A message payload: a member that is not a string is there, and invalid.
    let mut message = serde_json::Map::new();
    message.insert("traceparent".into(), json!(TP_A));
    message.insert("tracestate".into(), json!(["a=1"]));
    let cx = extract(&message);
    assert!(cx.span().span_context().is_valid());
    let mut out: HashMap<String, String> = HashMap::new();
    inject(&cx, &mut out);
    assert_eq!(out.get("tracestate"), None, "{out:?}");
    message.insert("traceparent".into(), json!(12));
    assert!(!extract(&message).span().span_context().is_valid());
}

/// Bytes a header value may hold (visible ASCII, space, tab, obs-text), at least one of them not
/// visible ASCII.
fn non_ascii_value() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let byte = prop_oneof![0x20u8..=0x7e, Just(b'\t'), 0x80u8..=0xff];
    (
        proptest::collection::vec(byte.clone(), 0..80),
        0x80u8..=0xff,
        proptest::collection::vec(byte, 0..80),
    )
        .prop_map(|(before, high, after)| [before, vec![high], after].concat())
}

proptest::proptest! {
    #[test]
    fn any_non_ascii_value_is_counted_and_invalid(bad in non_ascii_value()) {
        crate::install_propagators();
        for values in [vec![TP_A.as_bytes(), &bad], vec![&bad, TP_A.as_bytes()], vec![&bad]] {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append("traceparent", value(v));
            }
            proptest::prop_assert!(!extract(&headers).span().span_context().is_valid());
        }
        let mut headers = HeaderMap::new();
        headers.append("traceparent", value(TP_A.as_bytes()));
        headers.append("tracestate", value(b"a=1"));
        headers.append("tracestate", value(&bad));
        headers.append("baggage", value(b"k=v"));
        headers.append("baggage", value(&bad));
        let cx = extract(&headers);
        let mut out: HashMap<String, String> = HashMap::new();
        inject(&cx, &mut out);
        proptest::prop_assert_eq!(&out["traceparent"][3..35], TRACE_A);
        proptest::prop_assert_eq!(out.get("tracestate"), None);
        proptest::prop_assert_eq!(out.get("baggage").map(String::as_str), Some("k=v"));
    }
}
