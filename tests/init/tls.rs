//! OTLP over `https://` (issue 13) with HTTP/protobuf, HTTP/JSON and gRPC: the init exporting
//! through a real TLS receiver on loopback (`support/tls.rs`) whose CA it is given by
//! `OTEL_EXPORTER_OTLP_CERTIFICATE`, one that requires a client certificate (mutual TLS), a CA
//! it does not trust, and files it cannot use.

use std::path::PathBuf;
use std::time::Duration;

use mock_collector::Protocol;

use crate::init::{collector, run, runtime, Run};
use crate::support::collector::received;
use crate::support::tls::{proxy, Certs, ClientCert};

/// A directory of this test's own for its certificates.
fn dir(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "tracing-correlate-tls-{}-{test}",
        std::process::id()
    ))
}

fn protocol_env(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        Protocol::HttpJson => "http/json",
        _ => "http/protobuf",
    }
}

/// The path the traces go to, after the endpoint.
fn traces_path(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "",
        _ => "/v1/traces",
    }
}

const PROTOCOLS: [Protocol; 3] = [Protocol::HttpBinary, Protocol::HttpJson, Protocol::Grpc];

/// Runs the init's `service` case exporting over `https://localhost:<proxy>` with `extra`, the
/// proxy's certificate signed by `served`'s CA (and requiring a client certificate signed by
/// `clients`' CA, if given); returns the run, the spans received and the endpoint.
fn export_over_tls(
    protocol: Protocol,
    served: &Certs,
    clients: Option<&Certs>,
    extra: &[(&str, &str)],
    wait_for_spans: bool,
) -> (Run, Vec<crate::support::collector::Received>, String) {
    let rt = runtime();
    let server = collector(&rt, protocol);
    let alpn: &[&[u8]] = match protocol {
        Protocol::Grpc => &[b"h2"],
        _ => &[b"http/1.1"],
    };
    let addr = rt.block_on(proxy(served, server.addr(), alpn, clients));
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

/// The crate's own warnings (`tracing_correlate` WARN lines) but the shutdown line, as text.
fn warnings(run: &Run) -> Vec<&str> {
    run.lines
        .iter()
        .filter(|l| l["level"] == "WARN" && l["target"] == "tracing_correlate")
        .filter_map(|l| l["message"].as_str())
        .filter(|m| !m.starts_with("telemetry shut down"))
        .collect()
}

/// Spans arrive, the lines' ids are the received spans' ids, and the startup line says what TLS
/// trusts (`tls` is what it says after the roots, e.g. ` and OTEL_EXPORTER_OTLP_CERTIFICATE (1)`).
fn assert_delivered(run: &Run, spans: &[crate::support::collector::Received], expected: &str) {
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let line = run.with_message("order received");
    let order = spans.iter().find(|s| s.name == "place_order").unwrap();
    assert_eq!(line["trace_id"], order.trace_id.as_str());
    assert_eq!(line["span_id"], order.span_id.as_str());
    let started = run.with_message("telemetry initialised");
    let traces = started["traces"].as_str().unwrap();
    assert!(
        traces.starts_with(&format!(
            "{expected} (TLS: the system's root certificates ("
        )) && (traces.ends_with(") and OTEL_EXPORTER_OTLP_CERTIFICATE (1))")
            || traces.ends_with(
                ") and OTEL_EXPORTER_OTLP_CERTIFICATE (1); client certificate of \
                 OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"
            )),
        "{started}"
    );
    assert!(warnings(run).is_empty(), "no warning: {:#?}", run.lines);
    let shutdown = shutdown_line(run);
    assert_eq!(shutdown["spans_exported"], 3, "{shutdown}");
    assert_eq!(shutdown["spans_lost"], 0, "{shutdown}");
}

#[test]
fn spans_arrive_over_https_with_the_ca_of_the_certificate_variable() {
    let dir = dir("arrive");
    let certs = Certs::new(&dir, "receiver");
    let ca = certs.ca_path.to_string_lossy().into_owned();
    for protocol in PROTOCOLS {
        let (run, spans, endpoint) = export_over_tls(
            protocol,
            &certs,
            None,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str())],
            true,
        );
        let expected = format!(
            "otlp {} to {endpoint}{}",
            protocol_env(protocol),
            traces_path(protocol)
        );
        assert_delivered(&run, &spans, &expected);
        let started = run.with_message("telemetry initialised");
        assert!(
            !started["traces"]
                .as_str()
                .unwrap()
                .contains("client certificate"),
            "{started}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_receiver_that_requires_a_client_certificate_gets_the_spans_when_one_is_given() {
    let dir = dir("mtls");
    let certs = Certs::new(&dir, "receiver");
    let clients = Certs::new(&dir, "clients");
    let ClientCert {
        cert_path,
        key_path,
    } = clients.client("checkout");
    let ca = certs.ca_path.to_string_lossy().into_owned();
    let cert = cert_path.to_string_lossy().into_owned();
    let key = key_path.to_string_lossy().into_owned();
    for protocol in [Protocol::HttpBinary, Protocol::Grpc] {
        let (run, spans, endpoint) = export_over_tls(
            protocol,
            &certs,
            Some(&clients),
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.as_str()),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.as_str()),
            ],
            true,
        );
        let expected = format!(
            "otlp {} to {endpoint}{}",
            protocol_env(protocol),
            traces_path(protocol)
        );
        assert_delivered(&run, &spans, &expected);
        let started = run.with_message("telemetry initialised");
        assert!(
            started["traces"]
                .as_str()
                .unwrap()
                .ends_with("; client certificate of OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"),
            "{started}"
        );

        // Without the client certificate the receiver refuses the connection: all is lost.
        let (run, spans, _) = export_over_tls(
            protocol,
            &certs,
            Some(&clients),
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
                ("OTEL_BSP_SCHEDULE_DELAY", "10"),
            ],
            false,
        );
        assert!(spans.is_empty(), "{protocol:?}: {spans:#?}");
        let shutdown = shutdown_line(&run);
        assert_eq!(shutdown["spans_exported"], 0, "{protocol:?}: {shutdown}");
        assert_eq!(shutdown["spans_lost"], 3, "{protocol:?}: {shutdown}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_receiver_whose_ca_is_not_trusted_gets_nothing_and_the_spans_are_counted_lost() {
    let dir = dir("untrusted");
    let served = Certs::new(&dir, "receiver");
    let other = Certs::new(&dir, "other");
    let ca = other.ca_path.to_string_lossy().into_owned();
    for protocol in [Protocol::HttpBinary, Protocol::Grpc] {
        let (run, spans, endpoint) = export_over_tls(
            protocol,
            &served,
            None,
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
        let destination = format!(
            "export otlp {} to {endpoint}{} (TLS: ",
            protocol_env(protocol),
            traces_path(protocol)
        );
        let errors: Vec<String> = run
            .lines
            .iter()
            .filter(|l| l["level"] == "ERROR")
            .map(|l| l.to_string())
            .collect();
        assert!(
            errors.iter().any(|l| l.contains(&destination)
                && l.contains("invalid peer certificate: UnknownIssuer")),
            "{protocol:?}: an error line names the certificate: {:#?}",
            run.lines
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_certificate_file_that_cannot_be_used_is_warned_about_by_variable_and_path() {
    let dir = dir("unusable");
    let certs = Certs::new(&dir, "receiver");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let garbage = garbage.to_string_lossy().into_owned();
    for protocol in [Protocol::HttpBinary, Protocol::Grpc] {
        for (var, path, why) in [
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "/no/such/ca.pem",
                "cannot be read: No such file or directory (os error 2)",
            ),
            (
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                garbage.as_str(),
                "holds no PEM certificate",
            ),
        ] {
            // The log records' exporter reads the same files (the general variable's).
            let (run, spans, _) = export_over_tls(
                protocol,
                &certs,
                None,
                &[(var, path), ("OTEL_LOGS_EXPORTER", "otlp")],
                false,
            );
            // The service starts and runs; the file is warned about once, naming what is done,
            // and the startup line says what is trusted instead.
            let warnings = warnings(&run);
            assert_eq!(warnings.len(), 1, "{var}: {:#?}", run.lines);
            let prefix = format!("{var}=\"{path}\": {why}; the system's root certificates (");
            assert!(
                warnings[0].starts_with(&prefix) && warnings[0].ends_with(") alone are trusted"),
                "{}",
                warnings[0]
            );
            let started = run.with_message("telemetry initialised");
            assert!(
                !started["traces"].as_str().unwrap().contains("CERTIFICATE"),
                "{started}"
            );
            // Without the CA the receiver is not trusted: nothing arrives, all is counted.
            assert!(spans.is_empty());
            assert_eq!(shutdown_line(&run)["spans_lost"], 3);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_client_key_that_is_not_the_certificates_is_warned_about_and_none_is_presented() {
    let dir = dir("mismatch");
    let certs = Certs::new(&dir, "receiver");
    let clients = Certs::new(&dir, "clients");
    let one = clients.client("one");
    let other = clients.client("other");
    let ca = certs.ca_path.to_string_lossy().into_owned();
    let cert = one.cert_path.to_string_lossy().into_owned();
    let key = other.key_path.to_string_lossy().into_owned();
    let (run, spans, _) = export_over_tls(
        Protocol::HttpBinary,
        &certs,
        Some(&clients),
        &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.as_str()),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.as_str()),
        ],
        false,
    );
    let warnings = warnings(&run);
    assert_eq!(warnings.len(), 1, "{:#?}", run.lines);
    assert!(
        warnings[0].starts_with(&format!(
            "OTEL_EXPORTER_OTLP_CLIENT_KEY=\"{key}\": does not go with \
             OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: "
        )) && warnings[0].ends_with("; connecting without a client certificate"),
        "{}",
        warnings[0]
    );
    let started = run.with_message("telemetry initialised");
    assert!(
        !started["traces"]
            .as_str()
            .unwrap()
            .contains("client certificate"),
        "{started}"
    );
    assert!(spans.is_empty());
    assert_eq!(shutdown_line(&run)["spans_lost"], 3);
    let _ = std::fs::remove_dir_all(dir);
}
