//! `examples/two_services.rs` as an integration test: the caller's `/dispatch` calls the command
//! server's `/command` (a second process); one trace, exactly three spans linked caller-server ->
//! caller-client -> server-server, received by a real OTLP receiver, and the JSON lines of both
//! services carry the trace id.

use std::process::Command;
use std::time::Duration;

use mock_collector::{MockServer, Protocol};
use serde_json::Value;

use crate::support::collector::received;
use crate::support::parse::parse_line;
use crate::{example, CLIENT, SERVER};

#[test]
fn one_trace_three_spans_and_both_services_lines_carry_the_trace_id() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(MockServer::builder().protocol(Protocol::HttpBinary).start())
        .expect("collector on loopback");

    let mut cmd = Command::new(example("two_services"));
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", server.addr()),
        )
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .output()
        .expect("the example runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "example failed: {stderr}");
    assert!(stderr.contains("/dispatch answered: done"), "{stderr}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect();

    rt.block_on(server.wait_for_spans(3, Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("spans arrive: {e}\n{lines:#?}\n{stderr}"));
    let spans = received(&rt, &server);
    assert_eq!(spans.len(), 3, "exactly three spans: {spans:#?}");
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("a span {name:?} in {spans:#?}"))
    };
    let caller_server = find("GET /dispatch");
    let caller_client = find("GET");
    let server_server = find("GET /command");
    assert_eq!(
        (caller_server.kind, caller_client.kind, server_server.kind),
        (SERVER, CLIENT, SERVER)
    );
    let trace = &caller_server.trace_id;
    assert!(
        spans.iter().all(|s| &s.trace_id == trace),
        "one trace: {spans:#?}"
    );
    assert_eq!(
        caller_server.parent_span_id, "",
        "the caller's server span is the root"
    );
    assert_eq!(caller_client.parent_span_id, caller_server.span_id);
    assert_eq!(server_server.parent_span_id, caller_client.span_id);
    assert_eq!(
        (
            caller_server.service.as_str(),
            server_server.service.as_str()
        ),
        ("caller", "command")
    );

    for (service, message) in [
        ("caller", "dispatching the command"),
        ("command", "command executed"),
    ] {
        let line = lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("a line {message:?} in {lines:#?}"));
        assert_eq!(line["service"], service);
        assert_eq!(line["trace_id"], trace.as_str());
    }
    let command_line = lines
        .iter()
        .find(|l| l["message"] == "command executed")
        .unwrap();
    assert_eq!(command_line["span_id"], server_server.span_id.as_str());
    rt.block_on(server.shutdown()).unwrap();
}
