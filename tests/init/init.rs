//! The one-line init, end to end. Every case runs in a child process of its own (this test binary
//! run again with one case, `support/child.rs`), because a global subscriber can be installed
//! once per process and environment variables must not race: the parent sets the child's
//! environment, runs a real OTLP receiver (`mock-collector`) on loopback where a case needs one,
//! and reads the child's stdout as JSON lines.

use std::net::TcpListener;
use std::time::Duration;

use mock_collector::{MockServer, Protocol, ServerHandle};
use serde_json::{json, Value};
use tracing::{info, info_span, instrument};

use crate::support;
use crate::support::collector::{hex, received, text};
use crate::support::parse::parse_line;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

// ---------------------------------------------------------------------------------------------
// The child side.

/// The cases the tests of this file run in a child process ([`support::child`]), each by its
/// name.
pub const CHILD_CASES: &[support::child::Case] = &[
    ("service", service),
    ("service_in_tokio_multi", service_in_tokio_multi),
    ("service_in_tokio_current", service_in_tokio_current),
    ("shutdown", shutdown),
    ("panic", panic),
    ("propagate", propagate),
    ("secrets", secrets),
    ("twice", twice),
    #[cfg(feature = "axum")]
    ("one_failing_request", one_failing_request),
];

fn service_in_tokio_multi() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { service() })
}

fn service_in_tokio_current() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { service() })
}

fn shutdown() {
    let timeout = Duration::from_millis(env_u64("TC_TIMEOUT_MS"));
    let guard = tracing_correlate::builder("checkout")
        .with_shutdown_timeout(timeout)
        .try_init()
        .unwrap();
    work();
    drop(guard);
}

fn panic() {
    let _guard = tracing_correlate::init("checkout");
    let _ = std::panic::catch_unwind(|| {
        let span = info_span!("doomed");
        let _e = span.enter();
        panic!("invariant broken: {}", 42);
    });
}

fn propagate() {
    let _guard = tracing_correlate::init("checkout");
    let headers = std::collections::HashMap::from([(
        "traceparent".to_owned(),
        format!("00-{INCOMING_TRACE}-00f067aa0ba902b7-01"),
    )]);
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&headers));
    let span = info_span!("handle_request");
    let _ = tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(&span, cx);
    let _e = span.enter();
    info!("handled");
}

fn secrets() {
    let _guard = tracing_correlate::builder("checkout")
        .with_redaction(tracing_correlate::Redaction::default().with_names(["ssn"]))
        .try_init()
        .unwrap();
    let span = info_span!("login", api_key = "k-123", user = "ada");
    let _e = span.enter();
    tracing::warn!(
        password = "hunter2",
        customer.ssn = "123-45-6789",
        "weak password"
    );
}

fn twice() {
    let _guard = tracing_correlate::init("checkout");
    let err = tracing_correlate::try_init("checkout").unwrap_err();
    info!(error = %err, "second init");
}

/// A service under the server middleware answering two requests, one of which fails: its
/// handler calls an `#[instrument(err)]` function that returns an error, and answers 500.
#[cfg(feature = "axum")]
fn one_failing_request() {
    use axum::http::StatusCode;

    #[instrument(err)]
    fn charge(order_id: u64) -> Result<(), std::io::Error> {
        // A field named like the line kind's key: it must not pass for one.
        info!(kind = "refund", "charging");
        Err(std::io::Error::other("card declined"))
    }

    async fn pay() -> StatusCode {
        match charge(42) {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    async fn list() -> StatusCode {
        info!("listing orders");
        StatusCode::OK
    }

    let _guard = tracing_correlate::init("checkout");
    let rt = runtime();
    rt.block_on(async {
        let app = axum::Router::new()
            .route("/pay", axum::routing::get(pay))
            .route("/orders", axum::routing::get(list))
            .layer(tracing_correlate::server::TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        let listed = client.get(format!("{base}/orders")).send().await.unwrap();
        assert_eq!(listed.status(), 200);
        let paid = client.get(format!("{base}/pay")).send().await.unwrap();
        assert_eq!(paid.status(), 500);
        server.abort();
    });
}

/// The trace id of the `traceparent` the `propagate` scenario receives.
const INCOMING_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn env_u64(name: &str) -> u64 {
    std::env::var(name).unwrap().parse().unwrap()
}

fn service() {
    let _guard = tracing_correlate::init("checkout");
    log::warn!(target: "legacy::billing", "from the log crate");
    work();
}

#[instrument(err)]
pub(crate) fn reserve(sku: &str) -> Result<(), std::io::Error> {
    info!("reserving");
    if sku == "missing" {
        return Err(std::io::Error::other("out of stock"));
    }
    Ok(())
}

fn work() {
    let span = info_span!("place_order", order_id = 42, qty = 2u64);
    let _e = span.enter();
    info!("order received");
    let _ = reserve("sku-1");
    let _ = reserve("missing");
}

// ---------------------------------------------------------------------------------------------
// The parent side.

/// What a child printed.
pub(crate) struct Run {
    pub(crate) lines: Vec<Value>,
    pub(crate) stderr: String,
    pub(crate) success: bool,
}

impl Run {
    pub(crate) fn with_message(&self, message: &str) -> &Value {
        let found: Vec<_> = self
            .lines
            .iter()
            .filter(|l| l["message"] == message)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one line {message:?} in {:#?}\nstderr: {}",
            self.lines,
            self.stderr
        );
        found[0]
    }

    fn containing(&self, fragment: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["message"].as_str().is_some_and(|m| m.contains(fragment)))
            .collect()
    }

    fn spans(&self) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["kind"] == "span").collect()
    }
}

/// Runs scenario `scenario` in a child with exactly the OpenTelemetry environment `env`.
pub(crate) fn run(scenario: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = support::child::command(scenario);
    cmd.env("RUST_LIB_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::child::output(&mut cmd);
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let lines = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect();
    Run {
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn collector(rt: &tokio::runtime::Runtime, protocol: Protocol) -> ServerHandle {
    rt.block_on(MockServer::builder().protocol(protocol).start())
        .expect("mock collector starts on loopback")
}

pub(crate) fn endpoint(server: &ServerHandle) -> String {
    format!("http://{}", server.addr())
}

fn protocol_env(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        Protocol::HttpJson => "http/json",
        _ => "http/protobuf",
    }
}

/// Spans arrive over `protocol` with the right resource, and their ids are the lines' ids.
fn spans_arrive_over(protocol: Protocol, scenario: &str) {
    spans_arrive(protocol, scenario, |endpoint| {
        vec![("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned())]
    });
}

/// Runs `scenario` exporting to a collector with the environment `env(endpoint)` gives (plus the
/// protocol and a resource attribute), and checks what arrives against the lines.
fn spans_arrive(
    protocol: Protocol,
    scenario: &str,
    env: impl FnOnce(&str) -> Vec<(&'static str, String)>,
) -> Run {
    let rt = runtime();
    let server = collector(&rt, protocol);
    let endpoint = endpoint(&server);
    let mut vars = env(&endpoint);
    vars.push((
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        protocol_env(protocol).to_owned(),
    ));
    vars.push((
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=test".to_owned(),
    ));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run(scenario, &vars);
    assert!(run.success, "child failed: {}", run.stderr);
    if let Err(e) = rt.block_on(server.wait_for_spans(3, Duration::from_secs(10))) {
        panic!(
            "three spans arrive at {endpoint}: {e}\n{:#?}\n{}",
            run.lines, run.stderr
        );
    }
    let spans = received(&rt, &server);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let order = spans
        .iter()
        .find(|s| s.name == "place_order")
        .expect("place_order");
    // An unsigned field arrives as an integer, not as its text.
    let qty = order
        .attributes
        .iter()
        .find(|(key, _)| key == "qty")
        .map(|(_, value)| value.clone());
    assert_eq!(qty, Some(Some(AnyValue::IntValue(2))), "{protocol:?}");
    let line = run.with_message("order received");
    assert_eq!(line["trace_id"], order.trace_id.as_str());
    assert_eq!(line["span_id"], order.span_id.as_str());
    for s in &spans {
        assert_eq!(s.trace_id, order.trace_id, "one trace");
        assert!(
            s.resource
                .iter()
                .any(|(k, v)| k == "service.name" && v == "checkout"),
            "{:?}",
            s.resource
        );
        assert!(s
            .resource
            .iter()
            .any(|(k, v)| k == "deployment.environment" && v == "test"));
    }
    let reserve_lines: Vec<_> = run.containing("reserving");
    let reserve_spans: Vec<_> = spans.iter().filter(|s| s.name == "reserve").collect();
    assert_eq!(reserve_lines.len(), 2);
    for line in reserve_lines {
        let span = reserve_spans
            .iter()
            .find(|s| line["span_id"] == s.span_id.as_str())
            .expect("each line's span was exported");
        assert_eq!(
            span.parent_span_id, order.span_id,
            "reserve is a child of place_order"
        );
    }
    let startup = run.with_message("telemetry initialised");
    assert!(startup["traces"]
        .as_str()
        .unwrap()
        .starts_with(&format!("otlp {}", protocol_env(protocol))));
    let shutdown = run.with_message("telemetry shut down");
    assert_eq!(shutdown["spans_exported"], 3);
    assert_eq!(shutdown["spans_lost"], 0);
    rt.block_on(server.shutdown()).unwrap();
    run
}

#[test]
fn spans_arrive_over_http_protobuf() {
    spans_arrive_over(Protocol::HttpBinary, "service");
}

#[test]
fn spans_arrive_over_http_json() {
    spans_arrive_over(Protocol::HttpJson, "service");
}

#[test]
fn spans_arrive_over_grpc() {
    spans_arrive_over(Protocol::Grpc, "service");
}

#[test]
fn a_signal_endpoint_is_used_as_is() {
    spans_arrive(Protocol::HttpBinary, "service", |endpoint| {
        vec![(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("{endpoint}/v1/traces"),
        )]
    });
}

#[test]
fn an_unusable_endpoint_sends_spans_to_the_default_endpoint_as_its_warning_says() {
    // A real listener on the default port cannot be assumed free: what is checked is where the
    // startup line says spans go, against the warning's words. The guard's 1 s bound keeps a
    // default port that refuses or never answers from holding the child.
    for (protocol, default) in [
        ("http/protobuf", "http://localhost:4318/v1/traces"),
        ("http/json", "http://localhost:4318/v1/traces"),
        ("grpc", "http://localhost:4317"),
    ] {
        // `https://0`: a host TLS cannot check a certificate against.
        for value in [
            "http://a%zz:4318",
            "http://b\u{fc}cher.example:4318",
            "http://c:65536",
            "https://0",
        ] {
            let run = run(
                "shutdown",
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", value),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                    ("TC_TIMEOUT_MS", "1000"),
                ],
            );
            assert!(run.success, "{protocol} {value}: {}", run.stderr);
            let warnings = run.containing("OTEL_EXPORTER_OTLP_ENDPOINT=");
            assert_eq!(warnings.len(), 1, "{protocol} {value}: {:#?}", run.lines);
            let warning = warnings[0]["message"].as_str().unwrap();
            assert!(
                warning.ends_with("; using the default endpoints"),
                "{warning}"
            );
            assert_eq!(
                run.with_message("telemetry initialised")["traces"],
                format!("otlp {protocol} to {default}"),
                "{protocol} {value}"
            );
        }
    }
}

#[test]
fn an_unusable_signal_endpoint_falls_back_to_the_base_endpoint_where_spans_arrive() {
    for protocol in [Protocol::HttpBinary, Protocol::Grpc] {
        let mut base = String::new();
        let run = spans_arrive(protocol, "service", |endpoint| {
            base = endpoint.to_owned();
            vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://b\u{fc}cher.example:4318".to_owned(),
                ),
            ]
        });
        let used = match protocol {
            Protocol::Grpc => base.clone(),
            _ => format!("{base}/v1/traces"),
        };
        let warnings = run.containing("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=");
        assert_eq!(warnings.len(), 1, "{:#?}", run.lines);
        assert!(
            warnings[0]["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!("; using {used}")),
            "{}",
            warnings[0]
        );
        assert_eq!(
            run.with_message("telemetry initialised")["traces"],
            format!("otlp {} to {used}", protocol_env(protocol))
        );
    }
}

/// Runs `scenario` with `env` and returns everything it wrote, stdout then stderr.
fn all_output(scenario: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = support::child::command(scenario);
    cmd.env("RUST_LIB_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::child::output(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    all
}

#[test]
fn credentials_in_an_endpoint_never_reach_any_line() {
    // A refusing port: every export fails, so export errors are written too.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let valid = format!("http://user:s3cr3t@127.0.0.1:{port}");
    let values = [
        valid.as_str(),
        "http://user:s3cr3t@bad%zz",
        "http://user:s3cr3t@b\u{fc}cher.example:4318",
        "user:s3cr3t@127.0.0.1:4318",
        "https://user:s3cr3t@c:4317",
        "http://user:s3/cr3t@c:4318",
        "http://user:s3cr3t@:4318",
    ];
    for protocol in ["http/protobuf", "http/json", "grpc"] {
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        ] {
            for value in values {
                let all = all_output(
                    "shutdown",
                    &[
                        (var, value),
                        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                        ("OTEL_TRACES_EXPORTER", "otlp"),
                        ("OTEL_LOGS_EXPORTER", "otlp"),
                        ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
                        ("TC_TIMEOUT_MS", "1000"),
                        // The SDK's own debug lines name the URL they send to.
                        ("RUST_LOG", "trace"),
                    ],
                );
                assert!(
                    !all.contains("s3cr3t") && !all.contains("cr3t"),
                    "{protocol} {var}={value}: {}",
                    all.lines()
                        .filter(|l| l.contains("cr3t"))
                        .take(3)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                assert!(all.contains("telemetry initialised"), "{all}");
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn a_value_that_is_not_utf8_is_warned_about_not_silently_unset() {
    use std::os::unix::ffi::OsStringExt;
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME",
    ] {
        let mut cmd = support::child::command("service");
        cmd.env("RUST_LIB_BACKTRACE", "0");
        cmd.env(
            var,
            std::ffi::OsString::from_vec(b"http://c\xff:4318".to_vec()),
        );
        let out = support::child::output(&mut cmd);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(parse_line)
            .collect();
        let warnings: Vec<&Value> = lines
            .iter()
            .filter(|l| {
                l["level"] == "WARN" && l["message"].as_str().is_some_and(|m| m.starts_with(var))
            })
            .collect();
        assert_eq!(warnings.len(), 1, "{var}: {lines:#?}");
        assert_eq!(
            warnings[0]["message"],
            format!("{var}: not valid UTF-8; treated as unset"),
        );
    }
}

#[test]
fn gzip_compression_over_grpc() {
    spans_arrive(Protocol::Grpc, "service", |endpoint| {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP".to_owned()),
        ]
    });
}

#[test]
fn logs_exporter_otlp_sends_events_as_log_records_with_their_trace_context() {
    for protocol in [Protocol::HttpBinary, Protocol::Grpc] {
        let rt = runtime();
        let server = collector(&rt, protocol);
        let run = run(
            "service",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol_env(protocol)),
                ("OTEL_LOGS_EXPORTER", "otlp"),
            ],
        );
        assert!(run.success, "{}", run.stderr);
        let line = run.with_message("order received");
        rt.block_on(server.wait_for_logs(1, Duration::from_secs(10)))
            .unwrap_or_else(|e| panic!("logs arrive: {e}\n{:#?}", run.lines));
        let records: Vec<(String, String, String)> = rt.block_on(server.with_collector(|c| {
            c.logs()
                .iter()
                .map(|l| {
                    let r = l.log_record();
                    let body = text(r.body.as_ref().and_then(|b| b.value.clone()));
                    (body, hex(&r.trace_id), hex(&r.span_id))
                })
                .collect()
        }));
        let record = records
            .iter()
            .find(|(body, _, _)| body == "order received")
            .unwrap_or_else(|| panic!("{records:#?}"));
        assert_eq!(line["trace_id"], record.1.as_str());
        assert_eq!(line["span_id"], record.2.as_str());
        assert!(
            records
                .iter()
                .all(|(body, _, _)| !body.contains("BatchSpanProcessor")),
            "the SDK's own events are not exported as logs"
        );
        let logs_endpoint = match protocol {
            Protocol::Grpc => endpoint(&server),
            _ => format!("{}/v1/logs", endpoint(&server)),
        };
        assert_eq!(
            run.with_message("telemetry initialised")["logs"],
            format!("otlp {} to {logs_endpoint}", protocol_env(protocol))
        );
    }
}

#[test]
fn spans_arrive_from_inside_a_multi_thread_tokio_runtime_over_every_protocol() {
    for protocol in [Protocol::Grpc, Protocol::HttpBinary, Protocol::HttpJson] {
        spans_arrive_over(protocol, "service_in_tokio_multi");
    }
}

#[test]
fn spans_arrive_from_inside_a_current_thread_tokio_runtime_over_every_protocol() {
    for protocol in [Protocol::Grpc, Protocol::HttpBinary, Protocol::HttpJson] {
        spans_arrive_over(protocol, "service_in_tokio_current");
    }
}

#[test]
fn without_a_collector_spans_go_to_the_console_in_the_same_stream() {
    let run = run("service", &[]);
    assert!(run.success, "{}", run.stderr);
    let spans = run.spans();
    assert_eq!(spans.len(), 3, "{:#?}", run.lines);
    let order = spans
        .iter()
        .find(|s| s["span_name"] == "place_order")
        .unwrap();
    let line = run.with_message("order received");
    assert_eq!(line["trace_id"], order["trace_id"]);
    assert_eq!(line["span_id"], order["span_id"]);
    assert!(order.get("parent_span_id").is_none());
    assert_eq!(order["service"], "checkout");
    let failed: Vec<_> = spans.iter().filter(|s| s["status"] == "error").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status_description"], "out of stock");
    assert_eq!(failed[0]["parent_span_id"], order["span_id"]);
    assert!(run.with_message("telemetry initialised")["traces"]
        .as_str()
        .unwrap()
        .starts_with("console"));
    let shutdown = run.with_message("telemetry shut down");
    assert_eq!(shutdown["spans_exported"], 3);
    assert_eq!(shutdown["spans_lost"], 0);
}

/// Console span lines and event lines of one run speak one vocabulary: a span's name has one
/// key, `target` means the callsite's target and is spelled one way for the crate's own lines,
/// `kind` marks span lines only, and one failure is one ERROR line.
#[cfg(feature = "axum")]
#[test]
fn span_lines_and_event_lines_share_one_vocabulary() {
    let run = run("one_failing_request", &[]);
    assert!(run.success, "{}", run.stderr);
    let spans = run.spans();
    let events: Vec<&Value> = run
        .lines
        .iter()
        .filter(|l| l.get("kind").is_none())
        .collect();
    // Every line is one or the other: `kind` is "span" or absent, never a user's field.
    assert_eq!(
        spans.len() + events.len(),
        run.lines.len(),
        "{:#?}",
        run.lines
    );
    assert_eq!(
        spans.len() as u64,
        run.with_message("telemetry shut down")["spans_exported"]
            .as_u64()
            .unwrap()
    );
    let charging = run.with_message("charging");
    assert_eq!(charging["fields.kind"], "refund");

    // The span's name: the key an event line names it by is the key its span line names it by.
    let span_of = |event: &Value| -> &Value {
        let found: Vec<&&Value> = spans
            .iter()
            .filter(|s| s["span_id"] == event["span_id"])
            .collect();
        assert_eq!(found.len(), 1, "one span line for {event}");
        found[0]
    };
    for event in events.iter().filter(|e| e.get("span_id").is_some()) {
        let span = span_of(event);
        assert_eq!(span["span_name"], event["span_name"], "{span}\n{event}");
        assert_eq!(span["trace_id"], event["trace_id"]);
        assert_eq!(span["trace_flags"], event["trace_flags"]);
        assert_eq!(span["service"], event["service"]);
    }
    assert_eq!(charging["span_name"], "charge");
    let server_spans: Vec<&&Value> = spans
        .iter()
        .filter(|s| s["span_kind"] == "server")
        .collect();
    assert_eq!(server_spans.len(), 2, "{spans:#?}");
    assert!(server_spans.iter().any(|s| s["span_name"] == "GET /pay"));

    // `target` is the callsite's: the span `charge` and its events were made in this module, the
    // server span in the middleware's; the crate's own lines are spelled `tracing_correlate`.
    let here = module_path!();
    assert_eq!(span_of(charging)["target"], here);
    assert_eq!(charging["target"], here);
    for span in &server_spans {
        assert_eq!(span["target"], "tracing_correlate::server");
    }
    for message in ["telemetry initialised", "telemetry shut down"] {
        assert_eq!(run.with_message(message)["target"], "tracing_correlate");
    }
    for line in &run.lines {
        let target = line["target"].as_str().unwrap();
        assert!(
            target == here
                || target == "tracing_correlate"
                || target.starts_with("tracing_correlate::"),
            "{line}"
        );
    }

    // One failure, one ERROR line: the event `#[instrument(err)]` wrote. The spans it failed
    // say so in their status.
    let errors: Vec<&Value> = run.lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["span_name"], "charge");
    assert_eq!(errors[0]["exception"]["message"], "card declined");
    let failed: Vec<&Value> = spans
        .iter()
        .copied()
        .filter(|s| s["status"] == "error")
        .collect();
    let failed_names: Vec<&Value> = failed.iter().map(|s| &s["span_name"]).collect();
    assert_eq!(
        failed_names,
        [&json!("charge"), &json!("GET /pay")],
        "{failed:#?}"
    );
    assert!(failed.iter().all(|s| s["level"] == "INFO"), "{failed:#?}");
}

#[test]
fn otel_service_name_wins_over_resource_attributes_and_the_argument() {
    let run = run(
        "service",
        &[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes"),
        ],
    );
    assert_eq!(run.with_message("order received")["service"], "from-env");
    assert!(run.spans().iter().all(|s| s["service"] == "from-env"));
    let run = self::run(
        "service",
        &[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")],
    );
    assert_eq!(
        run.with_message("order received")["service"],
        "from-attributes"
    );
}

#[test]
fn resource_attributes_are_percent_decoded_and_discarded_whole_when_undecodable() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "service",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=pay%2Cments,region=eu%3Dwest%20",
            ),
        ],
    );
    assert!(run.success, "{}", run.stderr);
    rt.block_on(server.wait_for_spans(3, Duration::from_secs(10)))
        .unwrap();
    let resource = &received(&rt, &server)[0].resource;
    assert!(
        resource
            .iter()
            .any(|(k, v)| k == "team" && v == "pay,ments"),
        "{resource:?}"
    );
    assert!(
        resource
            .iter()
            .any(|(k, v)| k == "region" && v == "eu=west "),
        "{resource:?}"
    );

    let bad = self::run(
        "service",
        &[("OTEL_RESOURCE_ATTRIBUTES", "team=a%ZZ,region=eu")],
    );
    assert!(bad.success);
    let warning = bad.containing("OTEL_RESOURCE_ATTRIBUTES");
    assert_eq!(warning.len(), 1, "one warning naming the variable");
    assert_eq!(warning[0]["level"], "WARN");
    assert!(warning[0]["message"]
        .as_str()
        .unwrap()
        .contains("team=a%ZZ,region=eu"));
}

#[test]
fn sampler_names_are_case_insensitive_and_unsampled_lines_keep_ids() {
    let run = run("service", &[("OTEL_TRACES_SAMPLER", "ALWAYS_OFF")]);
    let line = run.with_message("order received");
    assert_eq!(line["trace_flags"], "00");
    assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
    assert!(run.spans().is_empty(), "nothing sampled, nothing exported");
    assert!(
        run.containing("OTEL_TRACES_SAMPLER").is_empty(),
        "no warning"
    );
}

#[test]
fn ratio_sampler_reads_its_argument() {
    let none = run(
        "service",
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
    );
    assert_eq!(none.with_message("order received")["trace_flags"], "00");
    assert!(none.spans().is_empty());
    let all = run(
        "service",
        &[
            ("OTEL_TRACES_SAMPLER", "TraceIdRatio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.0"),
        ],
    );
    assert_eq!(all.with_message("order received")["trace_flags"], "01");
    assert_eq!(all.spans().len(), 3);
    let bad = run(
        "service",
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2.5"),
        ],
    );
    assert_eq!(bad.containing("OTEL_TRACES_SAMPLER_ARG").len(), 1);
    assert_eq!(bad.with_message("order received")["trace_flags"], "01");
}

#[test]
fn traces_exporter_none_exports_nothing_but_lines_keep_real_ids() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "service",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
            ("OTEL_TRACES_EXPORTER", "None"),
        ],
    );
    let line = run.with_message("order received");
    assert_eq!(line["trace_flags"], "01");
    assert_ne!(line["trace_id"], "00000000000000000000000000000000");
    assert!(run.spans().is_empty());
    assert_eq!(
        received(&rt, &server).len(),
        0,
        "the guard flushed; nothing was sent"
    );
}

#[test]
fn sdk_disabled_exports_nothing_but_lines_keep_real_ids() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "service",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ],
    );
    let line = run.with_message("order received");
    assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
    assert!(run.spans().is_empty());
    assert_eq!(received(&rt, &server).len(), 0);
    assert!(run.with_message("telemetry initialised")["traces"]
        .as_str()
        .unwrap()
        .contains("OTEL_SDK_DISABLED"));
}

#[test]
fn incoming_context_propagates_in_logs_only_modes_and_propagators_none_disables_it() {
    for env in [
        vec![],
        vec![("OTEL_SDK_DISABLED", "true")],
        vec![("OTEL_TRACES_EXPORTER", "none")],
    ] {
        let run = run("propagate", &env);
        let line = run.with_message("handled");
        assert_eq!(line["trace_id"], INCOMING_TRACE, "{env:?}");
    }
    let run = run("propagate", &[("OTEL_PROPAGATORS", "none")]);
    let line = run.with_message("handled");
    assert_ne!(line["trace_id"], INCOMING_TRACE);
    assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(
        run.with_message("telemetry initialised")["propagators"],
        "none"
    );
}

#[test]
fn explicit_console_exporter_wins_over_an_endpoint() {
    let run = run(
        "service",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_TRACES_EXPORTER", "console"),
        ],
    );
    assert_eq!(run.spans().len(), 3);
}

#[test]
fn bad_values_are_warned_once_and_the_service_starts() {
    let run = run(
        "service",
        &[
            ("OTEL_TRACES_SAMPLER", "alwayz_on"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("RUST_LOG", "info,[[["),
        ],
    );
    assert!(run.success, "{}", run.stderr);
    for (variable, value) in [
        ("OTEL_TRACES_SAMPLER", "alwayz_on"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("RUST_LOG", "info,[[["),
    ] {
        let warnings = run.containing(variable);
        assert_eq!(warnings.len(), 1, "{variable}: {:#?}", run.lines);
        assert_eq!(warnings[0]["level"], "WARN");
        assert!(warnings[0]["message"].as_str().unwrap().contains(value));
    }
    assert_eq!(run.with_message("order received")["trace_flags"], "01");
}

#[test]
fn bad_otlp_values_do_not_stop_a_service_that_exports() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for protocol in ["grpc", "http/protobuf"] {
        let run = run(
            "service",
            &[
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    &format!("http://127.0.0.1:{port}"),
                ),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret,broken"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ],
        );
        assert!(run.success, "{protocol}: {}", run.stderr);
        for variable in [
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ] {
            assert_eq!(run.containing(variable).len(), 1, "{protocol} {variable}");
        }
        assert!(
            !run.lines.iter().any(|l| l.to_string().contains("secret")),
            "a header value never reaches the log"
        );
        assert_eq!(run.with_message("order received")["trace_flags"], "01");
    }
}

#[test]
fn records_of_the_log_crate_become_lines() {
    let run = run("service", &[]);
    let line = run.with_message("from the log crate");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["target"], "legacy::billing");
}

#[test]
fn rust_log_filters_lines() {
    let run = run("service", &[("RUST_LOG", "warn")]);
    assert!(
        run.lines
            .iter()
            .all(|l| l["level"] == "WARN" || l["level"] == "ERROR"),
        "{:#?}",
        run.lines
    );
    assert!(run.lines.iter().any(|l| l.get("exception").is_some()));
}

/// Runs the `shutdown` scenario against `endpoint` and returns the shutdown line.
fn shutdown_against(endpoint: &str, protocol: &str, timeout_ms: u64) -> Value {
    let run = run(
        "shutdown",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000"),
            ("TC_TIMEOUT_MS", &timeout_ms.to_string()),
        ],
    );
    assert!(run.success, "no panic: {}", run.stderr);
    run.containing("telemetry shut down")
        .first()
        .map(|l| (*l).clone())
        .unwrap_or_else(|| panic!("a shutdown line in {:#?}\n{}", run.lines, run.stderr))
}

#[test]
fn shutdown_is_bounded_against_a_refusing_port() {
    // Bind then drop: the port is free and refuses connections.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for protocol in ["http/protobuf", "grpc"] {
        let line = shutdown_against(&format!("http://127.0.0.1:{port}"), protocol, 1500);
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["spans_exported"], 0);
        assert_eq!(line["spans_lost"], 3, "{line}");
        assert!(
            line["shutdown_ms"].as_u64().unwrap() <= 1500 + 500,
            "{line}"
        );
    }
}

#[test]
fn shutdown_is_bounded_against_a_listener_that_never_answers() {
    // Accepts connections (the kernel's backlog does) and never reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    for protocol in ["http/protobuf", "grpc"] {
        let line = shutdown_against(&endpoint, protocol, 1000);
        assert_eq!(line["timed_out"], true, "{line}");
        assert_eq!(line["spans_lost"], 3, "{line}");
        assert!(
            line["shutdown_ms"].as_u64().unwrap() <= 1000 + 500,
            "{line}"
        );
    }
    drop(listener);
}

#[test]
fn a_panic_is_an_error_line_with_its_exception_and_marks_the_span() {
    let run = run("panic", &[]);
    assert!(run.success, "{}", run.stderr);
    let lines = run.containing("panicked at");
    assert_eq!(lines.len(), 1, "{:#?}", run.lines);
    let line = lines[0];
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["exception"]["type"], "panic");
    assert_eq!(line["exception"]["message"], "invariant broken: 42");
    assert!(line["location"]
        .as_str()
        .unwrap()
        .starts_with(concat!(file!(), ":")));
    assert_eq!(line["span_name"], "doomed");
    let span = run
        .spans()
        .into_iter()
        .find(|s| s["span_name"] == "doomed")
        .expect("span exported");
    assert_eq!(span["span_id"], line["span_id"]);
    assert_eq!(span["status"], "error");
    assert_eq!(span["status_description"], "invariant broken: 42");
    assert!(
        run.stderr.contains("invariant broken: 42"),
        "the previous hook ran too"
    );
}

const SECRETS: [&str; 3] = ["k-123", "hunter2", "123-45-6789"];

#[test]
fn secrets_reach_neither_the_lines_nor_the_console_spans() {
    let run = run("secrets", &[]);
    assert!(run.success, "{}", run.stderr);
    let line = run.with_message("weak password");
    assert_eq!(line["password"], "[REDACTED]");
    assert_eq!(line["customer.ssn"], "[REDACTED]");
    assert_eq!(line["api_key"], "[REDACTED]");
    let span = run
        .spans()
        .into_iter()
        .find(|s| s["span_name"] == "login")
        .unwrap();
    assert_eq!(span["attributes"]["api_key"], "[REDACTED]");
    assert_eq!(span["attributes"]["user"], "ada");
    let event = &span["events"][0];
    assert_eq!(event["attributes"]["password"], "[REDACTED]");
    assert_eq!(event["attributes"]["customer.ssn"], "[REDACTED]");
    let all: String = run.lines.iter().map(|l| l.to_string()).collect();
    for secret in SECRETS {
        assert!(!all.contains(secret), "{secret} in the output");
    }
}

#[test]
fn secrets_never_reach_the_collector() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "secrets",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server))],
    );
    assert!(run.success, "{}", run.stderr);
    rt.block_on(server.wait_for_spans(1, Duration::from_secs(10)))
        .unwrap();
    let spans = rt.block_on(server.with_collector(|c| {
        c.spans()
            .iter()
            .map(|s| format!("{:?}", s.span()))
            .collect::<Vec<_>>()
    }));
    assert_eq!(spans.len(), 1);
    assert!(spans[0].contains("[REDACTED]"), "{}", spans[0]);
    for secret in SECRETS {
        assert!(!spans[0].contains(secret), "{secret} reached the collector");
    }
}

#[test]
fn secrets_never_reach_the_collector_as_log_records() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let run = run(
        "secrets",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint(&server)),
            ("OTEL_LOGS_EXPORTER", "otlp"),
        ],
    );
    assert!(run.success, "{}", run.stderr);
    rt.block_on(server.wait_for_logs(1, Duration::from_secs(10)))
        .unwrap();
    /// A log record's body, its attributes as text, and the whole record's `Debug` form.
    type Record = (String, Vec<(String, String)>, String);
    let records: Vec<Record> = rt.block_on(server.with_collector(|c| {
        c.logs()
            .iter()
            .map(|l| {
                let r = l.log_record();
                let body = text(r.body.as_ref().and_then(|b| b.value.clone()));
                let attributes = r
                    .attributes
                    .iter()
                    .map(|kv| {
                        let value = kv.value.as_ref().and_then(|v| v.value.clone());
                        (kv.key.clone(), text(value))
                    })
                    .collect();
                (body, attributes, format!("{r:?}"))
            })
            .collect()
    }));
    let (_, attributes, _) = records
        .iter()
        .find(|(body, _, _)| body == "weak password")
        .unwrap_or_else(|| panic!("{records:#?}"));
    let attribute = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(attribute("password"), Some("[REDACTED]"), "{attributes:?}");
    assert_eq!(
        attribute("customer.ssn"),
        Some("[REDACTED]"),
        "{attributes:?}"
    );
    for (_, _, record) in &records {
        for secret in SECRETS {
            assert!(!record.contains(secret), "{secret} reached the collector");
        }
    }
}

#[test]
fn a_second_init_is_an_error_not_a_panic() {
    let run = run("twice", &[]);
    assert!(run.success, "{}", run.stderr);
    let line = run.with_message("second init");
    assert!(line["error"]
        .as_str()
        .unwrap()
        .contains("already installed"));
}
