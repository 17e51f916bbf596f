//! Handlers that panic under the server middleware: a 500 answer, the exception and the error
//! status on the server span, and one line with the exception, carrying the request's ids. In
//! process (the harness's layers, no panic hook of ours) and with the init's panic hook, in a
//! child process (`support/child.rs`), where the hook's line is the only one.

use std::convert::Infallible;
use std::future::Ready;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::Status;
use serde_json::Value;
use tower::Layer as _;
use tracing_correlate::opentelemetry_sdk::trace::SpanData;
use tracing_correlate::server::TraceLayer;

use crate::middleware::{serve, with_server};
use crate::support;
use crate::support::harness::{attr, attr_value, Harness};
use crate::support::ids::{ids_of, line_ids};
use crate::support::parse::parse_line;
use tracing_correlate::Stacktraces;

const MESSAGE: &str = "stock went negative: 7";

/// A handler that panics inside a span of its own, as handlers with `#[instrument]` do.
async fn reserve() -> &'static str {
    let work = tracing::info_span!("reserve");
    let _entered = work.enter();
    panic!("stock went negative: {}", 7)
}

/// A handler that panics in no span of its own: the server span is the current one.
async fn direct() -> &'static str {
    panic!("no stock at all")
}

/// A service that panics in `call` itself, before it makes a future.
#[derive(Clone)]
struct PanicsInCall;

impl tower::Service<Request> for PanicsInCall {
    type Response = Response;
    type Error = Infallible;
    type Future = Ready<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request) -> Self::Future {
        panic!("refused in call")
    }
}

/// The status of `GET {base}{path}`, or the client's error as text (a dropped connection).
async fn get_status(base: &str, path: &str) -> Result<u16, String> {
    reqwest::get(format!("{base}{path}"))
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

/// The lines that carry an exception.
fn exception_lines(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| l.get("exception").is_some())
        .collect()
}

/// The span's `exception` events.
fn exceptions(span: &SpanData) -> Vec<&opentelemetry::trace::Event> {
    span.events
        .iter()
        .filter(|e| e.name == "exception")
        .collect()
}

/// The server span of a caught panic: status error described by the message, 500, `error.type`
/// `panic`, and one `exception` event of type `panic` with the message.
fn assert_panicked(span: &SpanData, message: &str) {
    assert_eq!(span.status, Status::error(message.to_owned()), "{span:#?}");
    let a = &span.attributes;
    assert_eq!(
        attr_value(a, "http.response.status_code"),
        Some(opentelemetry::Value::I64(500))
    );
    let error_types: Vec<_> = a
        .iter()
        .filter(|kv| kv.key.as_str() == "error.type")
        .map(|kv| kv.value.to_string())
        .collect();
    assert_eq!(error_types, ["panic"], "one error.type: {a:?}");
    let events = exceptions(span);
    assert_eq!(events.len(), 1, "one exception event: {:#?}", span.events);
    let e = &events[0].attributes;
    assert_eq!(attr(e, "exception.type").as_deref(), Some("panic"));
    assert_eq!(attr(e, "exception.message").as_deref(), Some(message));
}

#[test]
fn a_panicking_handler_answers_500_and_the_server_span_holds_the_exception() {
    let h = Harness::with_stacktraces(Stacktraces::On);
    let app = Router::new()
        .route("/reserve", get(reserve))
        .layer(TraceLayer::new());
    let status = with_server(&h, app, |base| async move {
        get_status(&base, "/reserve").await
    });
    assert_eq!(status, Ok(500));
    let server = h.span("GET /reserve");
    assert_panicked(&server, MESSAGE);
    // Without the init's hook the middleware writes the line, on the server span; a caught
    // panic's payload holds no location.
    let lines = h.lines();
    let found = exception_lines(&lines);
    assert_eq!(found.len(), 1, "{lines:#?}");
    let line = found[0];
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["exception"]["type"], "panic");
    assert_eq!(line["exception"]["message"], MESSAGE);
    assert_eq!(line_ids(line), ids_of(&server));
    // Where the middleware logs is not where the handler panicked: no stack trace is better than
    // the runtime's frames under a handler that is gone.
    assert_eq!(line["exception"].get("stacktrace"), None, "{line}");
    // The handler's own span is the server span's child, in the same trace.
    let reserve = h.span("reserve");
    assert_eq!(reserve.parent_span_id, server.span_context.span_id());
}

#[test]
fn a_panic_in_call_itself_is_caught_the_same_way() {
    let h = Harness::new();
    let app = Router::new().route_service("/call", TraceLayer::new().layer(PanicsInCall));
    let status = with_server(&h, app, |base| async move {
        // Twice: the service still answers after a panic of its `call`.
        (
            get_status(&base, "/call").await,
            get_status(&base, "/call").await,
        )
    });
    assert_eq!(status, (Ok(500), Ok(500)));
    let spans: Vec<_> = h
        .spans()
        .into_iter()
        .filter(|s| s.name == "GET /call")
        .collect();
    assert_eq!(spans.len(), 2);
    let lines = h.lines();
    let found = exception_lines(&lines);
    assert_eq!(found.len(), 2, "{lines:#?}");
    for (span, line) in spans.iter().zip(&found) {
        assert_panicked(span, "refused in call");
        assert_eq!(line["exception"]["message"], "refused in call");
        assert_eq!(line_ids(line), ids_of(span));
    }
}

#[test]
fn a_payload_that_is_not_a_string_is_named_as_such() {
    let h = Harness::new();
    let app = Router::new()
        .route(
            "/any",
            get(|| async {
                std::panic::panic_any(42_u32);
                #[allow(unreachable_code)]
                "unreachable"
            }),
        )
        .layer(TraceLayer::new());
    let status = with_server(
        &h,
        app,
        |base| async move { get_status(&base, "/any").await },
    );
    assert_eq!(status, Ok(500));
    assert_panicked(&h.span("GET /any"), "Box<dyn Any>");
    let lines = h.lines();
    let found = exception_lines(&lines);
    assert_eq!(found.len(), 1, "{lines:#?}");
    assert_eq!(found[0]["exception"]["message"], "Box<dyn Any>");
}

#[test]
fn the_panic_response_carries_the_trace_context_when_asked() {
    let h = Harness::new();
    let app = Router::new()
        .route("/reserve", get(reserve))
        .layer(TraceLayer::new().with_response_trace_context(true));
    let header = with_server(&h, app, |base| async move {
        let response = reqwest::get(format!("{base}/reserve")).await.unwrap();
        assert_eq!(response.status(), 500);
        response
            .headers()
            .get("traceresponse")
            .map(|v| v.to_str().unwrap().to_owned())
    });
    let (trace_id, span_id) = ids_of(&h.span("GET /reserve"));
    assert_eq!(header, Some(format!("00-{trace_id}-{span_id}-01")));
}

#[test]
fn turned_off_the_panic_propagates_and_the_connection_drops() {
    let h = Harness::new();
    let app = Router::new()
        .route("/reserve", get(reserve))
        .layer(TraceLayer::new().with_catch_panic(false));
    let status = with_server(&h, app, |base| async move {
        get_status(&base, "/reserve").await
    });
    assert!(
        status.is_err(),
        "no answer, the connection drops: {status:?}"
    );
    // The span ends as the panic unwinds through it: nothing recorded it.
    let server = h.span("GET /reserve");
    assert_eq!(server.status, Status::Unset);
    assert!(exceptions(&server).is_empty(), "{:#?}", server.events);
    assert_eq!(attr(&server.attributes, "http.response.status_code"), None);
    assert!(exception_lines(&h.lines()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// With the init's panic hook, in a child process.

/// The cases the tests of this file run in a child process ([`support::child`]).
pub const CHILD_CASES: &[support::child::Case] = &[("panics_under_init", panics_under_init)];

/// The paths `panics_under_init` serves, and the message each one's handler panics with.
const UNDER_INIT: [(&str, &str); 3] = [
    ("/reserve", MESSAGE),
    ("/direct", "no stock at all"),
    ("/call", "refused in call"),
];

/// The init (console spans and lines on stdout, its panic hook), a server whose handlers panic,
/// one request to each; each path's answer on stderr as `STATUS <path> <status or error>`.
fn panics_under_init() {
    let guard = tracing_correlate::init("shop");
    let app = Router::new()
        .route("/reserve", get(reserve))
        .route("/direct", get(direct))
        .layer(TraceLayer::new())
        .route_service("/call", TraceLayer::new().layer(PanicsInCall));
    serve(app, |base| async move {
        for (path, _) in UNDER_INIT {
            let status = get_status(&base, path).await;
            eprintln!("STATUS {path} {status:?}");
        }
    });
    drop(guard);
}

/// What `panics_under_init` wrote on stdout (its JSON lines, span lines included) and stderr,
/// run with `env`; asserts that each path was answered 500.
fn run_under_init(env: &[(&str, &str)]) -> Vec<Value> {
    let mut cmd = support::child::command("panics_under_init");
    cmd.env("RUST_LIB_BACKTRACE", "0");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = support::child::output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for (path, _) in UNDER_INIT {
        assert!(
            stderr.contains(&format!("STATUS {path} Ok(500)")),
            "{path} answered 500: {stderr}"
        );
    }
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect()
}

/// The one span line named `name`.
fn span_line<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<_> = lines
        .iter()
        .filter(|l| l["kind"] == "span" && l["span_name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one span {name:?} in {lines:#?}");
    found[0]
}

/// The server span line of `path`, checked as `assert_panicked` checks an exported span; returns
/// it with its one `exception` event.
fn panicked_span_line<'a>(lines: &'a [Value], path: &str, message: &str) -> (&'a Value, &'a Value) {
    let server = span_line(lines, &format!("GET {path}"));
    assert_eq!(server["status"], "error", "{server}");
    assert_eq!(server["status_description"], message, "{server}");
    assert_eq!(server["attributes"]["http.response.status_code"], 500);
    assert_eq!(server["attributes"]["error.type"], "panic");
    let events: Vec<&Value> = server["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["name"] == "exception")
        .collect();
    assert_eq!(events.len(), 1, "one exception event: {server}");
    assert_eq!(events[0]["attributes"]["exception.type"], "panic");
    assert_eq!(events[0]["attributes"]["exception.message"], message);
    (server, events[0])
}

/// The log lines (not span lines) whose exception has `message`.
fn exception_lines_with<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["kind"] != "span" && l["exception"]["message"] == message)
        .collect()
}

#[test]
fn with_the_init_a_panicking_handler_gives_one_line_and_an_error_server_span() {
    let lines = run_under_init(&[]);
    for (path, message) in UNDER_INIT {
        let (server, event) = panicked_span_line(&lines, path, message);
        // The hook knew where it panicked; so does the server span's event.
        let location = event["attributes"]["location"].as_str().unwrap_or("");
        assert!(location.starts_with(concat!(file!(), ":")), "{server}");

        // One line, not the hook's and the middleware's: the hook's, on the span current when
        // the handler panicked (its own span, else the server span), in the request's trace.
        let found = exception_lines_with(&lines, message);
        assert_eq!(found.len(), 1, "one line for {path}: {lines:#?}");
        let line = found[0];
        assert!(line["message"].as_str().unwrap().contains("panicked at"));
        assert_eq!(line["exception"]["type"], "panic");
        assert_eq!(line["trace_id"], server["trace_id"]);
        let current = if path == "/reserve" {
            span_line(&lines, "reserve")
        } else {
            server
        };
        assert_eq!(line["span_id"], current["span_id"], "{line}");
        assert_eq!(line["location"], event["attributes"]["location"]);
    }
}

#[test]
fn when_a_filter_drops_the_hooks_line_the_middleware_writes_it() {
    let lines = run_under_init(&[("RUST_LOG", "info,tracing_correlate::init::panic=off")]);
    for (path, message) in UNDER_INIT {
        let (server, _) = panicked_span_line(&lines, path, message);
        let found = exception_lines_with(&lines, message);
        assert_eq!(found.len(), 1, "one line for {path}: {lines:#?}");
        let line = found[0];
        assert_eq!(line["message"], "request handler panicked");
        assert_eq!(line["exception"]["type"], "panic");
        assert_eq!(line["trace_id"], server["trace_id"]);
        assert_eq!(line["span_id"], server["span_id"]);
    }
}

#[test]
fn a_panics_stack_trace_starts_where_it_panicked_and_reaches_the_server_span() {
    let lines = run_under_init(&[("TRACING_CORRELATE_STACKTRACES", "on")]);
    for (path, message) in UNDER_INIT {
        let (server, event) = panicked_span_line(&lines, path, message);
        let found = exception_lines_with(&lines, message);
        assert_eq!(found.len(), 1, "one line for {path}: {lines:#?}");
        let trace = found[0]["exception"]["stacktrace"].as_str().unwrap_or("");
        let first = trace.lines().next().unwrap_or("");
        // The panic machinery (the hook, `std::panicking`, `core::panicking`) is left out.
        let thrower = match path {
            "/reserve" => "panics::reserve",
            "/direct" => "panics::direct",
            _ => "PanicsInCall",
        };
        assert!(first.contains(thrower), "{path}: {trace}");
        // The server span's event carries the same capture, also when the line went to the
        // handler's own span (the middleware then adds the event from the hook's note).
        assert_eq!(
            event["attributes"]["exception.stacktrace"], found[0]["exception"]["stacktrace"],
            "{server}"
        );
    }
}
