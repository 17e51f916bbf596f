//! The carrier helpers: a message payload (`HashMap`, `serde_json` object) or HTTP headers carry
//! the producer's trace to the consumer, through the global propagator.

use std::collections::HashMap;

use tracing::{info, info_span};
use tracing_correlate::propagation::{extract, inject, inject_current};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::install_propagators;
use crate::support::harness::Harness;

#[test]
fn a_message_payload_carries_the_trace_to_the_consumer() {
    install_propagators();
    let h = Harness::new();
    h.run(|| {
        let mut map: HashMap<String, String> = HashMap::new();
        let mut json = serde_json::Map::new();
        {
            let producer = info_span!("publish");
            let _e = producer.enter();
            inject_current(&mut map);
            inject_current(&mut json);
        }
        assert!(map.contains_key("traceparent"), "{map:?}");
        assert_eq!(
            json["traceparent"].as_str(),
            map.get("traceparent").map(String::as_str)
        );

        for (name, cx) in [
            ("consume_map", extract(&map)),
            ("consume_json", extract(&json)),
        ] {
            let consumer = info_span!("consume", otel.name = name);
            consumer.set_parent(cx).unwrap();
            let _e = consumer.enter();
            info!(via = name, "consumed");
        }
    });
    let publish = h.span("publish");
    for name in ["consume_map", "consume_json"] {
        let consumer = h.span(name);
        assert_eq!(
            consumer.span_context.trace_id(),
            publish.span_context.trace_id()
        );
        assert_eq!(consumer.parent_span_id, publish.span_context.span_id());
        assert!(consumer.parent_span_is_remote);
    }
    let lines = h.lines();
    for line in lines.iter().filter(|l| l["message"] == "consumed") {
        assert_eq!(
            line["trace_id"],
            publish.span_context.trace_id().to_string()
        );
    }
}

#[test]
fn headers_with_two_traceparents_restart_the_trace_and_joined_tracestate_is_kept() {
    install_propagators();
    let first = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut headers = http::HeaderMap::new();
    headers.append("traceparent", first.parse().unwrap());
    let cx = extract(&headers);
    use opentelemetry::trace::TraceContextExt;
    assert!(cx.span().span_context().is_valid());

    headers.append("tracestate", "a=1".parse().unwrap());
    headers.append("tracestate", "b=2".parse().unwrap());
    let cx = extract(&headers);
    let mut out = http::HeaderMap::new();
    inject(&cx, &mut out);
    assert_eq!(out["traceparent"], first);
    assert_eq!(
        out["tracestate"], "a=1,b=2",
        "every tracestate header is read, in order"
    );

    headers.append(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .unwrap(),
    );
    assert!(
        !extract(&headers).span().span_context().is_valid(),
        "two traceparent headers restart the trace"
    );
}

#[test]
fn outside_any_span_nothing_is_injected() {
    install_propagators();
    let h = Harness::new();
    let map = h.run(|| {
        let mut map: HashMap<String, String> = HashMap::new();
        inject_current(&mut map);
        map
    });
    assert!(map.is_empty(), "{map:?}");
}

#[test]
fn baggage_rides_along() {
    install_propagators();
    use opentelemetry::baggage::BaggageExt;
    let cx = opentelemetry::Context::new()
        .with_baggage(vec![opentelemetry::KeyValue::new("tenant", "acme corp")]);
    let mut map: HashMap<String, String> = HashMap::new();
    inject(&cx, &mut map);
    assert_eq!(map["baggage"], "tenant=acme%20corp");
    let back = extract(&map);
    assert_eq!(
        back.baggage().get("tenant").map(|v| v.as_str().to_owned()),
        Some("acme corp".to_owned())
    );
}

/// A remote parent's random trace-id flag (W3C Level 2, bit 1) reaches what a `tracing` span
/// propagates and logs, sampled or not, through a span the sampler drops as through one it keeps;
/// and a span that is not sampled is never exported.
#[test]
fn the_random_flag_of_a_remote_parent_is_kept_end_to_end() {
    use tracing_correlate::opentelemetry_sdk::trace::Sampler;
    install_propagators();
    let trace = "12345678901234567890123456789012";
    for (flags, sampled) in [("02", false), ("03", true), ("00", false), ("01", true)] {
        let h = Harness::with(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)), |l| l);
        let incoming = HashMap::from([(
            "traceparent".to_owned(),
            format!("00-{trace}-1234567890123456-{flags}"),
        )]);
        let (server_out, client_out) = h.run(|| {
            let server = info_span!("server");
            server.set_parent(extract(&incoming)).unwrap();
            let _s = server.enter();
            info!("in the server span");
            let mut server_out: HashMap<String, String> = HashMap::new();
            inject_current(&mut server_out);
            let client = info_span!("client");
            let _c = client.enter();
            info!("in the client span");
            let mut client_out: HashMap<String, String> = HashMap::new();
            inject_current(&mut client_out);
            (server_out, client_out)
        });
        for out in [&server_out, &client_out] {
            let traceparent = &out["traceparent"];
            assert_eq!(&traceparent[3..35], trace, "{flags}: {out:?}");
            assert_ne!(&traceparent[36..52], "1234567890123456", "a new span id");
            assert_eq!(
                &traceparent[53..],
                flags,
                "{flags}: the flags are kept: {out:?}"
            );
        }
        assert_ne!(server_out["traceparent"], client_out["traceparent"]);
        let lines = h.lines();
        for message in ["in the server span", "in the client span"] {
            let line = crate::support::find::line_with(&lines, message);
            assert_eq!(line["trace_id"], trace);
            assert_eq!(line["trace_flags"], flags, "{flags}: {line}");
        }
        let exported = h.spans();
        assert_eq!(
            exported.len(),
            if sampled { 2 } else { 0 },
            "{flags}: only sampled spans are exported: {exported:#?}"
        );
        for span in &exported {
            assert_eq!(
                span.span_context.trace_flags().to_u8(),
                u8::from_str_radix(flags, 16).unwrap()
            );
        }
    }
}
