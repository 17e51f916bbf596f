//! The server and client middleware in process: spans, attributes, status, excluded paths, the
//! response trace context, and a remote parent that no log filter can make a request lose.
//! Everything runs on one current-thread runtime, under the harness's (thread-local) subscriber.

use std::future::Future;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::{SpanKind, Status};
use tracing_correlate::client::TracingMiddleware;
use tracing_correlate::opentelemetry_sdk::trace::{Sampler, SpanData};
use tracing_correlate::server::TraceLayer;
use tracing_correlate::testing;

use crate::support::find::line_with;
use crate::support::harness::{attr, attr_value, Harness};

const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

impl Harness {
    /// Both layers behind a global `Targets` filter.
    fn with_filter(filter: tracing_subscriber::filter::Targets) -> Self {
        Self::build(Sampler::AlwaysOn, Some(filter), |l| l)
    }
}

fn traceparent() -> String {
    format!("00-{REMOTE_TRACE}-{REMOTE_SPAN}-01")
}

/// Serves `app` on loopback and runs `client(base_url)` against it, on one thread, under the
/// harness's subscriber; returns what `client` returned. `header_values.rs` and `panics.rs` serve
/// their handlers with it too.
pub(crate) fn with_server<F, Fut, R>(h: &Harness, app: Router, client: F) -> R
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = R>,
{
    crate::install_propagators();
    h.run(|| serve(app, client))
}

/// Serves `app` on loopback and runs `client(base_url)` against it, on a current-thread runtime
/// of its own, under whatever subscriber is current; returns what `client` returned.
pub(crate) fn serve<F, Fut, R>(app: Router, client: F) -> R
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = R>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let answer = client(base).await;
        server.abort();
        answer
    })
}

fn span_named(h: &Harness, name: &str) -> SpanData {
    h.span(name)
}

// The first two tests capture through `tracing_correlate::testing`, as a user's tests would: the
// init's layers and span processor, the lines and spans joined by their ids.

#[test]
fn server_span_continues_the_remote_trace_with_http_attributes() {
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                tracing::info!("handling");
                "ok"
            }),
        )
        .layer(TraceLayer::new());
    crate::install_propagators();
    let ((), captured) = testing::capture(|| {
        serve(app, |base| async move {
            let response = reqwest::Client::new()
                .get(format!("{base}/orders/42?x=1"))
                .header("traceparent", traceparent())
                .header("user-agent", "probe/1.0")
                .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        })
    });
    captured.assert_one_trace();
    let span = captured.span("GET /orders/{id}");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.span_context.trace_id().to_string(), REMOTE_TRACE);
    assert_eq!(span.parent_span_id.to_string(), REMOTE_SPAN);
    assert!(span.parent_span_is_remote);
    let a = &span.attributes;
    assert_eq!(attr(a, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(attr(a, "http.route").as_deref(), Some("/orders/{id}"));
    assert_eq!(attr(a, "url.path").as_deref(), Some("/orders/42"));
    assert_eq!(attr(a, "url.scheme").as_deref(), Some("http"));
    // An integer, as the semantic conventions say, so that `status_code >= 500` finds it.
    assert_eq!(
        attr_value(a, "http.response.status_code"),
        Some(opentelemetry::Value::I64(200))
    );
    assert_eq!(attr(a, "server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attr(a, "client.address").as_deref(), Some("203.0.113.7"));
    assert_eq!(attr(a, "user_agent.original").as_deref(), Some("probe/1.0"));
    assert_eq!(span.status, Status::Unset);
    let line = captured.lines_with_message("handling")[0];
    assert_eq!(line["trace_id"], REMOTE_TRACE);
    assert_eq!(
        captured.span_of(line).map(|s| s.span_context.span_id()),
        Some(span.span_context.span_id())
    );
}

#[test]
fn server_errors_mark_the_span_and_client_errors_do_not() {
    let app = Router::new()
        .route("/boom", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .layer(TraceLayer::new());
    let ((), captured) = testing::capture(|| {
        serve(app, |base| async move {
            let client = reqwest::Client::new();
            client.get(format!("{base}/boom")).send().await.unwrap();
            client.get(format!("{base}/missing")).send().await.unwrap();
        })
    });
    let boom = captured.span("GET /boom");
    assert_eq!(
        boom.status,
        Status::error("503 Service Unavailable"),
        "5xx is an error, described"
    );
    assert_eq!(attr(&boom.attributes, "error.type").as_deref(), Some("503"));
    assert_eq!(captured.span("GET /missing").status, Status::Unset);
}

#[test]
fn health_probes_are_not_traced_by_default_and_exclusions_are_configurable() {
    let h = Harness::new();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/internal", get(|| async { "ok" }))
        .route("/work", get(|| async { "ok" }))
        .layer(TraceLayer::new().with_excluded_paths(["/healthz", "/internal"]));
    with_server(&h, app, |base| async move {
        for path in ["/healthz", "/internal", "/work"] {
            reqwest::get(format!("{base}{path}")).await.unwrap();
        }
    });
    let names: Vec<_> = h.spans().into_iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["GET /work"]);
}

#[test]
fn request_headers_are_recorded_only_from_the_allow_list_and_secrets_are_redacted() {
    let h = Harness::new();
    // Built under the harness's subscriber, which sees the warning about the invalid name.
    let layer = h.run(|| {
        TraceLayer::new().with_request_headers([
            "X-Request-Id",
            "accept-language",
            "authorization",
            "cookie",
            "x-api-key",
            "not a header",
        ])
    });
    let app = Router::new()
        .route("/pay", get(|| async { "ok" }))
        .route("/plain", get(|| async { "ok" }))
        .layer(layer);
    with_server(&h, app, |base| async move {
        let client = reqwest::Client::new();
        client
            .get(format!("{base}/pay"))
            .header("x-request-id", "req-7")
            .header("accept-language", "fr")
            .header("accept-language", "en")
            .header("authorization", "Bearer s3cr3t")
            .header("cookie", "session=abc123")
            .header("x-api-key", "key-42")
            .header("x-other", "not allowed")
            .send()
            .await
            .unwrap();
        client.get(format!("{base}/plain")).send().await.unwrap();
    });
    let span = span_named(&h, "GET /pay");
    let a = &span.attributes;
    let header = |name: &str| attr(a, &format!("http.request.header.{name}"));
    assert_eq!(header("x-request-id").as_deref(), Some("[\"req-7\"]"));
    assert_eq!(
        header("accept-language").as_deref(),
        Some("[\"fr\",\"en\"]"),
        "every value, in order"
    );
    for secret in ["authorization", "cookie", "x-api-key"] {
        assert_eq!(
            header(secret).as_deref(),
            Some("[\"[REDACTED]\"]"),
            "{secret}"
        );
    }
    assert_eq!(header("x-other"), None, "not on the allow-list");
    let everything = format!("{span:?}");
    for value in ["s3cr3t", "abc123", "key-42", "not allowed"] {
        assert!(!everything.contains(value), "{value} in the span");
    }
    let plain = span_named(&h, "GET /plain");
    assert!(
        plain
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().starts_with("http.request.header.")),
        "an allowed header the request lacks is not recorded"
    );
    let lines = h.lines();
    assert!(
        lines.iter().any(
            |l| l["message"] == "not a valid HTTP header name; it is not recorded"
                && l["header"] == "not a header"
        ),
        "an invalid name is warned about"
    );
}

#[test]
fn recorded_headers_follow_the_redaction_the_layers_are_given() {
    let h = Harness::new();
    let redaction = tracing_correlate::Redaction::default().with_names(["tenant-key"]);
    let app = Router::new().route("/t", get(|| async { "ok" })).layer(
        TraceLayer::new()
            .with_request_headers(["x-tenant-key", "x-request-id"])
            .with_redaction(redaction),
    );
    with_server(&h, app, |base| async move {
        reqwest::Client::new()
            .get(format!("{base}/t"))
            .header("x-tenant-key", "tk-99")
            .header("x-request-id", "req-9")
            .send()
            .await
            .unwrap();
    });
    let span = span_named(&h, "GET /t");
    let header = |name: &str| attr(&span.attributes, &format!("http.request.header.{name}"));
    assert_eq!(header("x-tenant-key").as_deref(), Some("[\"[REDACTED]\"]"));
    assert_eq!(header("x-request-id").as_deref(), Some("[\"req-9\"]"));
    assert!(!format!("{span:?}").contains("tk-99"));
}

#[test]
fn no_request_header_is_recorded_by_default() {
    let h = Harness::new();
    let app = Router::new()
        .route("/default", get(|| async { "ok" }))
        .layer(TraceLayer::new());
    with_server(&h, app, |base| async move {
        reqwest::Client::new()
            .get(format!("{base}/default"))
            .header("x-request-id", "req-8")
            .header("authorization", "Bearer s3cr3t")
            .send()
            .await
            .unwrap();
    });
    let span = span_named(&h, "GET /default");
    assert!(
        span.attributes
            .iter()
            .all(|kv| !kv.key.as_str().starts_with("http.request.header.")),
        "{:?}",
        span.attributes
    );
    assert!(!format!("{span:?}").contains("s3cr3t"));
}

#[test]
fn the_response_can_carry_the_trace_context() {
    let h = Harness::new();
    let app = Router::new()
        .route("/quote", get(|| async { "ok" }))
        .layer(TraceLayer::new().with_response_trace_context(true));
    let mut seen = None;
    let seen_ref = &mut seen;
    with_server(&h, app, |base| async move {
        let response = reqwest::Client::new()
            .get(format!("{base}/quote"))
            .header("traceparent", traceparent())
            .send()
            .await
            .unwrap();
        *seen_ref = response
            .headers()
            .get("traceresponse")
            .map(|v| v.to_str().unwrap().to_owned());
    });
    let span = span_named(&h, "GET /quote");
    assert_eq!(
        seen.as_deref(),
        Some(format!("00-{REMOTE_TRACE}-{}-01", span.span_context.span_id()).as_str())
    );
}

#[test]
fn a_filter_that_disables_the_server_span_cannot_lose_the_remote_parent() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let h = Harness::with_filter(
        Targets::new()
            .with_default(LevelFilter::TRACE)
            .with_target("tracing_correlate::server", LevelFilter::OFF),
    );
    let app = Router::new()
        .route(
            "/filtered",
            get(|| async {
                let work = tracing::info_span!("handler_work");
                let _e = work.enter();
                tracing::info!("inside the handler");
                "ok"
            }),
        )
        .layer(TraceLayer::new());
    with_server(&h, app, |base| async move {
        reqwest::Client::new()
            .get(format!("{base}/filtered"))
            .header("traceparent", traceparent())
            .send()
            .await
            .unwrap();
    });
    assert!(
        h.spans().iter().all(|s| s.name != "GET /filtered"),
        "the server span is filtered"
    );
    let work = span_named(&h, "handler_work");
    assert_eq!(work.span_context.trace_id().to_string(), REMOTE_TRACE);
    assert_eq!(work.parent_span_id.to_string(), REMOTE_SPAN);
    let lines = h.lines();
    assert_eq!(
        line_with(&lines, "inside the handler")["trace_id"],
        REMOTE_TRACE
    );
}

#[test]
fn client_span_injects_its_context_and_records_status() {
    let h = Harness::new();
    let app = Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                headers
                    .get("traceparent")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            }),
        )
        .route("/gone", get(|| async { StatusCode::GONE }));
    let mut received = String::new();
    let received_ref = &mut received;
    with_server(&h, app, |base| async move {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::default())
            .build();
        let outer = tracing::info_span!("job");
        let _ = tracing::Instrument::instrument(
            async {
                *received_ref = client
                    .get(format!("{base}/echo"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                client.get(format!("{base}/gone")).send().await.unwrap();
            },
            outer,
        )
        .await;
    });
    let job = span_named(&h, "job");
    let clients: Vec<_> = h.spans().into_iter().filter(|s| s.name == "GET").collect();
    assert_eq!(clients.len(), 2);
    let echo = clients
        .iter()
        .find(|s| attr(&s.attributes, "url.full").is_some_and(|u| u.ends_with("/echo")))
        .unwrap();
    assert_eq!(echo.span_kind, SpanKind::Client);
    assert_eq!(echo.parent_span_id, job.span_context.span_id());
    assert_eq!(
        received,
        format!(
            "00-{}-{}-01",
            echo.span_context.trace_id(),
            echo.span_context.span_id()
        ),
        "the server got the client span as its parent"
    );
    assert_eq!(
        attr_value(&echo.attributes, "http.response.status_code"),
        Some(opentelemetry::Value::I64(200))
    );
    assert_eq!(
        attr(&echo.attributes, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    let gone = clients
        .iter()
        .find(|s| s.span_context != echo.span_context)
        .unwrap();
    assert_eq!(gone.status, Status::error("410 Gone"));
}

#[test]
fn a_failed_client_request_is_an_exception_on_its_span() {
    let h = Harness::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    with_server(&h, Router::new(), |_| async move {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::default())
            .build();
        assert!(client
            .get(format!("http://127.0.0.1:{port}/refused"))
            .send()
            .await
            .is_err());
    });
    let span = span_named(&h, "GET");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(
        span.events.iter().filter(|e| e.name == "exception").count(),
        1
    );
    let lines = h.lines();
    let line = line_with(&lines, "request failed");
    assert_eq!(line["level"], "ERROR");
    assert!(line["exception"]["message"].as_str().is_some());
    assert_eq!(line["span_id"], span.span_context.span_id().to_string());
}
