//! `examples/two_services.rs` as an integration test: the caller's `/dispatch` calls the command
//! server's `/command` (a second process); one trace, exactly three spans linked caller-server ->
//! caller-client -> server-server, received by a real OTLP receiver, and the JSON lines of both
//! services carry the trace id.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mock_collector::{MockServer, Protocol};
use serde_json::Value;

/// The example's binary, built by `cargo test` next to this test's.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with the features the example needs (`cargo test --all-features`)",
        path.display()
    );
    path
}

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
        .map(support::parse_line)
        .collect();

    rt.block_on(server.wait_for_spans(3, Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("spans arrive: {e}\n{lines:#?}\n{stderr}"));
    let spans = rt.block_on(server.with_collector(|c| {
        c.spans()
            .iter()
            .map(|s| {
                let span = s.span();
                let service = s
                    .resource_attrs()
                    .iter()
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| kv.value.clone())
                    .map(|v| format!("{:?}", v.value))
                    .unwrap_or_default();
                (
                    span.name.clone(),
                    span.kind,
                    hex(&span.trace_id),
                    hex(&span.span_id),
                    hex(&span.parent_span_id),
                    service,
                )
            })
            .collect::<Vec<_>>()
    }));
    assert_eq!(spans.len(), 3, "exactly three spans: {spans:#?}");
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("a span {name:?} in {spans:#?}"))
    };
    let caller_server = find("GET /dispatch");
    let caller_client = find("GET");
    let server_server = find("GET /command");
    // Kinds as OTLP numbers them: 2 server, 3 client.
    assert_eq!(
        (caller_server.1, caller_client.1, server_server.1),
        (2, 3, 2)
    );
    let trace = &caller_server.2;
    assert!(spans.iter().all(|s| &s.2 == trace), "one trace: {spans:#?}");
    assert_eq!(caller_server.4, "", "the caller's server span is the root");
    assert_eq!(caller_client.4, caller_server.3);
    assert_eq!(server_server.4, caller_client.3);
    assert!(caller_server.5.contains("caller") && server_server.5.contains("command"));

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
    assert_eq!(command_line["span_id"], server_server.3.as_str());
    rt.block_on(server.shutdown()).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
