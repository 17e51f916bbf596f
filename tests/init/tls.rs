//! OTLP over `https://` (issue 13, its first part: HTTP/protobuf and HTTP/JSON): the init
//! exporting through a real TLS receiver on loopback (`support/tls.rs`) whose CA it is given by
//! `OTEL_EXPORTER_OTLP_CERTIFICATE`, a CA it does not trust, and files it cannot use.

use std::path::PathBuf;
use std::time::Duration;

use mock_collector::Protocol;

use crate::init::{collector, run, runtime, Run};
use crate::support::collector::received;
use crate::support::tls::{proxy, Certs};

/// A directory of this test's own for its certificates.
fn dir(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "tracing-correlate-tls-{}-{test}",
        std::process::id()
    ))
}

fn protocol_env(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::HttpJson => "http/json",
        _ => "http/protobuf",
    }
}

/// Runs the init's `service` case exporting over `https://localhost:<proxy>` with `extra`, the
/// proxy's certificate signed by `served`'s CA; returns the run, the spans received and the
/// endpoint.
fn export_over_tls(
    protocol: Protocol,
    served: &Certs,
    extra: &[(&str, &str)],
    wait_for_spans: bool,
) -> (Run, Vec<crate::support::collector::Received>, String) {
    let rt = runtime();
    let server = collector(&rt, protocol);
    let addr = rt.block_on(proxy(served, server.addr(), &[b"http/1.1"]));
    let endpoint = format!("https://localhost:{}", addr.port());
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol_env(protocol)),
    ];
    env.extend_from_slice(extra);
    let run = run("service", &env);
    assert!(run.success, "child failed: {}", run.stderr);
    if wait_for_spans {
        if let Err(e) = rt.block_on(server.wait_for_spans(3, Duration::from_secs(10))) {
            panic!(
                "three spans arrive over TLS: {e}\n{:#?}\n{}",
                run.lines, run.stderr
            );
        }
    }
    let spans = received(&rt, &server);
    (run, spans, endpoint)
}

/// The guard's one shutdown line (`telemetry shut down`, with `; some was not delivered` when
/// something was lost).
fn shutdown_line(run: &Run) -> &serde_json::Value {
    let found: Vec<_> = run
        .lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("telemetry shut down"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", run.lines);
    found[0]
}

#[test]
fn spans_arrive_over_https_with_the_ca_of_the_certificate_variable() {
    let dir = dir("arrive");
    let certs = Certs::new(&dir, "receiver");
    let ca = certs.ca_path.to_string_lossy().into_owned();
    for protocol in [Protocol::HttpBinary, Protocol::HttpJson] {
        let (run, spans, endpoint) = export_over_tls(
            protocol,
            &certs,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str())],
            true,
        );
        assert_eq!(spans.len(), 3, "{spans:#?}");
        // The lines' ids are the received spans' ids, over TLS as over plain text.
        let line = run.with_message("order received");
        let order = spans.iter().find(|s| s.name == "place_order").unwrap();
        assert_eq!(line["trace_id"], order.trace_id.as_str());
        assert_eq!(line["span_id"], order.span_id.as_str());
        let started = run.with_message("telemetry initialised");
        assert_eq!(
            started["traces"],
            format!("otlp {} to {endpoint}/v1/traces", protocol_env(protocol)),
            "{started}"
        );
        assert!(
            run.lines
                .iter()
                .all(|l| l["level"] != "WARN" || l["target"] != "tracing_correlate"),
            "no warning of the crate's: {:#?}",
            run.lines
        );
        let shutdown = run.with_message("telemetry shut down");
        assert_eq!(shutdown["spans_lost"], 0, "{shutdown}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_receiver_whose_ca_is_not_trusted_gets_nothing_and_the_spans_are_counted_lost() {
    let dir = dir("untrusted");
    let served = Certs::new(&dir, "receiver");
    let other = Certs::new(&dir, "other");
    let ca = other.ca_path.to_string_lossy().into_owned();
    let (run, spans, _) = export_over_tls(
        Protocol::HttpBinary,
        &served,
        &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ],
        false,
    );
    assert!(spans.is_empty(), "{spans:#?}");
    let shutdown = shutdown_line(&run);
    assert_eq!(shutdown["spans_exported"], 0, "{shutdown}");
    assert_eq!(shutdown["spans_lost"], 3, "{shutdown}");
    // The export's error line says why: the receiver's certificate is not trusted.
    let errors: Vec<String> = run
        .lines
        .iter()
        .filter(|l| l["level"] == "ERROR")
        .map(|l| l.to_string())
        .collect();
    assert!(
        errors.iter().any(
            |l| l.contains("export otlp http/protobuf to https://localhost:")
                && l.contains("invalid peer certificate: UnknownIssuer")
        ),
        "an error line names the certificate: {:#?}",
        run.lines
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_certificate_file_that_cannot_be_used_is_warned_about_by_variable_and_path() {
    let dir = dir("unusable");
    let certs = Certs::new(&dir, "receiver");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let garbage = garbage.to_string_lossy().into_owned();
    for (var, path, why) in [
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/no/such/ca.pem",
            "cannot be read: I/O error: No such file or directory (os error 2)",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            garbage.as_str(),
            "holds no PEM certificate",
        ),
    ] {
        let (run, spans, _) = export_over_tls(Protocol::HttpBinary, &certs, &[(var, path)], false);
        // The service starts and runs; the file is warned about once, naming what is done.
        let warnings: Vec<&serde_json::Value> = run
            .lines
            .iter()
            .filter(|l| {
                l["level"] == "WARN" && l["message"].as_str().is_some_and(|m| m.starts_with(var))
            })
            .collect();
        assert_eq!(warnings.len(), 1, "{var}: {:#?}", run.lines);
        let message = warnings[0]["message"].as_str().unwrap();
        assert_eq!(
            message,
            format!("{var}=\"{path}\": {why}; the system's root certificates alone are trusted"),
        );
        // Without the CA the receiver is not trusted: nothing arrives, all is counted.
        assert!(spans.is_empty());
        assert_eq!(shutdown_line(&run)["spans_lost"], 3);
    }
    let _ = std::fs::remove_dir_all(dir);
}
