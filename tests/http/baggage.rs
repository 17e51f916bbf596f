//! Baggage in lines (`JsonLayer::with_baggage_fields`) through the server middleware over
//! loopback: the allow-listed keys of the request's `baggage` header are on every line of the
//! request, its child spans' too, secret-named ones redacted, the others absent; lines of other
//! requests and outside any request carry none.

use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_correlate::server::TraceLayer;

use crate::middleware::with_server;
use crate::support::find::line_with;
use crate::support::harness::Harness;

/// The `baggage.*` keys of a line, with their values.
fn baggage_of(line: &Value) -> Vec<(String, Value)> {
    line.as_object()
        .expect("a line is an object")
        .iter()
        .filter(|(k, _)| k.starts_with("baggage."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn the_requests_allowed_baggage_is_on_its_lines_secrets_redacted_and_on_no_other_line() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_baggage_fields(["tenant", "secret_token"])
    });
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                tracing::info!("in the server span");
                let reserve = tracing::info_span!("reserve", sku = "a-1");
                let _entered = reserve.enter();
                tracing::warn!("in a child span");
                "ok"
            }),
        )
        .layer(TraceLayer::new().with_access_line(true));
    with_server(&h, app, |base| async move {
        let client = reqwest::Client::new();
        let with = client
            .get(format!("{base}/orders/1"))
            .header("baggage", "tenant=acme,secret_token=x,other=y")
            .send()
            .await
            .unwrap();
        let without = client.get(format!("{base}/orders/2")).send().await.unwrap();
        assert_eq!(
            (with.status().as_u16(), without.status().as_u16()),
            (200, 200)
        );
    });
    tracing::dispatcher::with_default(&h.dispatch, || tracing::info!("outside"));

    let lines = h.lines();
    let expected = vec![
        ("baggage.secret_token".to_owned(), Value::from("[REDACTED]")),
        ("baggage.tenant".to_owned(), Value::from("acme")),
    ];
    let first_trace = &lines
        .iter()
        .find(|l| l["url.path"] == "/orders/1")
        .expect("a line of the first request")["trace_id"];
    let (first, others): (Vec<&Value>, Vec<&Value>) =
        lines.iter().partition(|l| &l["trace_id"] == first_trace);
    // The server span's event, the child span's, the access line.
    assert_eq!(first.len(), 3, "{lines:#?}");
    for line in &first {
        let mut baggage = baggage_of(line);
        baggage.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(baggage, expected, "{line}");
    }
    let child = first
        .iter()
        .find(|l| l["message"] == "in a child span")
        .expect("the child span's line");
    assert_eq!(child["span_name"], "reserve");
    assert_eq!(child["sku"], "a-1");
    // The second request's three lines, the line outside any request, and the client's and
    // the server's own (hyper's, at TRACE).
    let second = others.iter().filter(|l| l["trace_id"].is_string()).count();
    assert_eq!(second, 3, "{lines:#?}");
    for line in others {
        assert_eq!(baggage_of(line), [], "{line}");
    }
    assert_eq!(baggage_of(line_with(&lines, "outside")), []);
}
