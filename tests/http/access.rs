//! The server middleware's access line (`TraceLayer::with_access_line`): one INFO line per
//! response, of target `tracing_correlate::access`, on the server span, with method, route,
//! path, status and duration; 5xx answers and caught panics included; off by default; none for
//! excluded paths. In process over loopback; and under the init with a real OTLP receiver, in a
//! child process, where the request's baggage reaches the lines too (`baggage.rs`).

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use mock_collector::{MockServer, Protocol};
use serde_json::Value;
use tower::{Layer as _, ServiceExt as _};
use tracing_correlate::server::{TraceLayer, ACCESS_TARGET};

use crate::middleware::{serve, with_server};
use crate::support;
use crate::support::collector::received;
use crate::support::find::line_with;
use crate::support::harness::Harness;
use crate::support::parse::parse_line;

const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The access lines among `lines`.
fn access_lines(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| l["target"] == ACCESS_TARGET)
        .collect()
}

/// The one access line of `path`.
fn access_line<'a>(lines: &'a [Value], path: &str) -> &'a Value {
    let found: Vec<_> = access_lines(lines)
        .into_iter()
        .filter(|l| l["url.path"] == path)
        .collect();
    assert_eq!(found.len(), 1, "one access line for {path}: {lines:#?}");
    found[0]
}

#[test]
fn the_access_line_has_method_route_path_status_duration_and_the_requests_ids() {
    let h = Harness::new();
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                tracing::info!("handling");
                "ok"
            }),
        )
        .layer(TraceLayer::new().with_access_line(true));
    with_server(&h, app, |base| async move {
        let response = reqwest::Client::new()
            .get(format!("{base}/orders/42?page=2"))
            .header(
                "traceparent",
                format!("00-{REMOTE_TRACE}-00f067aa0ba902b7-01"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    });
    let server = h.span("GET /orders/{id}");
    let lines = h.lines();
    let line = access_line(&lines, "/orders/42");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "request finished");
    assert_eq!(line["trace_id"], REMOTE_TRACE);
    assert_eq!(line["span_id"], server.span_context.span_id().to_string());
    assert_eq!(line["span_name"], "GET /orders/{id}");
    assert_eq!(line["http.request.method"], "GET");
    assert_eq!(line["http.route"], "/orders/{id}");
    assert_eq!(
        line["url.path"], "/orders/42",
        "the path, without the query"
    );
    assert_eq!(line["http.response.status_code"], 200, "an integer");
    let duration = line["duration_ms"].as_f64().expect("duration_ms a number");
    assert!((0.0..10_000.0).contains(&duration), "{duration}");
    // The access line is written when the response is ready: after the handler's lines.
    let handling = lines.iter().position(|l| l["message"] == "handling");
    let access = lines.iter().position(|l| l["target"] == ACCESS_TARGET);
    assert!(handling < access, "{lines:#?}");
    // It is no span event (INFO is below the span events' level): the span holds these facts.
    assert!(server.events.is_empty(), "{:#?}", server.events);
}

#[test]
fn every_answer_has_one_info_access_line_5xx_404_and_caught_panics_included() {
    let h = Harness::new();
    let app = Router::new()
        .route("/boom", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/panics",
            get(|| async {
                panic!("stock went negative");
                #[allow(unreachable_code)]
                "never"
            }),
        )
        .layer(TraceLayer::new().with_access_line(true));
    with_server(&h, app, |base| async move {
        let client = reqwest::Client::new();
        for (path, status) in [
            ("/boom", 503),
            ("/missing", 404),
            ("/panics", 500),
            ("/no/such/route", 404),
        ] {
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), status, "{path}");
        }
    });
    let lines = h.lines();
    assert_eq!(access_lines(&lines).len(), 4, "{lines:#?}");
    for (path, status, route) in [
        ("/boom", 503, Some("/boom")),
        ("/missing", 404, Some("/missing")),
        ("/panics", 500, Some("/panics")),
        // Axum's fallback: no route matched, the path says which request it was.
        ("/no/such/route", 404, None),
    ] {
        let line = access_line(&lines, path);
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["http.response.status_code"], status, "{line}");
        assert_eq!(line["http.request.method"], "GET", "{line}");
        match route {
            Some(route) => assert_eq!(line["http.route"], route, "{line}"),
            None => assert!(line.get("http.route").is_none(), "{line}"),
        }
        assert!(
            line["trace_id"].is_string() && line["span_id"].is_string(),
            "{line}"
        );
    }
    // One failure, one ERROR line: the panic's; the 503 and the access lines add none.
    let errors: Vec<_> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["message"], "request handler panicked");
    assert_eq!(
        errors[0]["span_id"],
        access_line(&lines, "/panics")["span_id"],
        "the panic's line and the access line are the same request's"
    );
}

#[test]
fn access_lines_are_off_by_default_and_excluded_paths_have_none() {
    let h = Harness::new();
    let app = Router::new()
        .route("/plain", get(|| async { "ok" }))
        .layer(TraceLayer::new())
        .merge(
            Router::new()
                .route("/health", get(|| async { "ok" }))
                .route("/logged", get(|| async { "ok" }))
                .layer(TraceLayer::new().with_access_line(true)),
        );
    with_server(&h, app, |base| async move {
        for path in ["/plain", "/health", "/logged"] {
            let response = reqwest::get(format!("{base}{path}")).await.unwrap();
            assert_eq!(response.status(), 200);
        }
    });
    let lines = h.lines();
    let paths: Vec<_> = access_lines(&lines)
        .iter()
        .map(|l| l["url.path"].clone())
        .collect();
    assert_eq!(paths, ["/logged"], "{lines:#?}");
}

#[test]
fn a_service_failing_without_a_response_has_an_access_line_without_status() {
    let h = Harness::new();
    let service = TraceLayer::new()
        .with_access_line(true)
        .layer(tower::service_fn(|_: http::Request<String>| async {
            Err::<http::Response<String>, _>("backend down")
        }));
    let request = http::Request::get("/orders").body(String::new()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = h.run(|| rt.block_on(service.oneshot(request)));
    assert_eq!(result.err(), Some("backend down"));
    let lines = h.lines();
    let failed = line_with(&lines, "request failed");
    assert_eq!(failed["level"], "ERROR");
    let line = access_line(&lines, "/orders");
    assert_eq!(line["level"], "INFO");
    assert!(line.get("http.response.status_code").is_none(), "{line}");
    assert_eq!(line["span_id"], failed["span_id"]);
}

pub const CHILD_CASES: &[support::child::Case] = &[("access_under_init", access_under_init)];

/// The init, configured by the environment (the parent points it at its OTLP receiver), and a
/// server with the access line; one request with a trace context and baggage, one without.
fn access_under_init() {
    let guard = tracing_correlate::init("shop");
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                let _reserve = tracing::info_span!("reserve").entered();
                tracing::info!("reserved");
                "ok"
            }),
        )
        .layer(TraceLayer::new().with_access_line(true));
    serve(app, |base| async move {
        let client = reqwest::Client::new();
        let first = client
            .get(format!("{base}/orders/7"))
            .header(
                "traceparent",
                format!("00-{REMOTE_TRACE}-00f067aa0ba902b7-01"),
            )
            .header("baggage", "tenant=acme,secret_token=x,other=y")
            .send()
            .await
            .unwrap();
        let second = client.get(format!("{base}/orders/8")).send().await.unwrap();
        eprintln!("STATUS {} {}", first.status(), second.status());
    });
    tracing::info!("outside any request");
    drop(guard);
}

/// With a collector configured a request writes its access line (before the access line, it
/// wrote none), carrying the ids of the span the collector received; the baggage the caller sent
/// is on every line of its request, the secret key redacted, the keys not allowed absent, and on
/// no other line.
#[test]
fn with_a_collector_a_request_writes_its_access_line_with_its_ids_and_baggage() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let collector = rt
        .block_on(MockServer::builder().protocol(Protocol::HttpBinary).start())
        .expect("collector on loopback");
    let mut cmd = support::child::command("access_under_init");
    cmd.env(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("http://{}", collector.addr()),
    )
    .env("OTEL_BSP_SCHEDULE_DELAY", "50")
    .env("TRACING_CORRELATE_BAGGAGE_FIELDS", "tenant, secret_token");
    let out = support::child::output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("STATUS 200 OK 200 OK"), "{stderr}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect();
    rt.block_on(collector.wait_for_spans(4, Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("spans arrive: {e}\n{lines:#?}"));
    let spans = received(&rt, &collector);

    // No span lines on stdout: the spans went to the collector.
    assert!(lines.iter().all(|l| l.get("kind").is_none()), "{lines:#?}");
    let startup = line_with(&lines, "telemetry initialised");
    assert_eq!(startup["baggage_fields"], "tenant,secret_token");

    let first = access_line(&lines, "/orders/7");
    let server = spans
        .iter()
        .find(|s| s.name == "GET /orders/{id}" && s.trace_id == REMOTE_TRACE)
        .unwrap_or_else(|| panic!("the first request's server span in {spans:#?}"));
    assert_eq!(first["trace_id"], REMOTE_TRACE);
    assert_eq!(first["span_id"], server.span_id);
    assert_eq!(first["http.response.status_code"], 200);
    assert_eq!(first["http.route"], "/orders/{id}");

    let request_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["trace_id"] == REMOTE_TRACE)
        .collect();
    // The handler's span's line and the access line.
    assert_eq!(request_lines.len(), 2, "{lines:#?}");
    assert!(
        request_lines
            .iter()
            .any(|l| l["message"] == "reserved" && l["span_name"] == "reserve"),
        "a child span's line: {request_lines:#?}"
    );
    for line in request_lines {
        assert_eq!(line["baggage.tenant"], "acme", "{line}");
        assert_eq!(line["baggage.secret_token"], "[REDACTED]", "{line}");
        assert!(line.get("baggage.other").is_none(), "{line}");
        assert!(
            !line.to_string().contains("\"x\""),
            "the secret's value: {line}"
        );
    }

    let second = access_line(&lines, "/orders/8");
    let outside = line_with(&lines, "outside any request");
    for line in [second, outside, startup] {
        let baggage: Vec<_> = line
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("baggage."))
            .collect();
        assert!(baggage.is_empty(), "{line}");
    }
}
