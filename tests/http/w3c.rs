//! The two Level 2 cases of the W3C Trace Context test suite that a service built on this crate
//! failed, run as the suite runs them: `examples/w3c_service.rs` (the one-line init, the server
//! `TraceLayer`, the client `TracingMiddleware`) is POSTed a list of callbacks with the suite's
//! headers, and calls back a receiver in this process, which records the `traceparent` and
//! `tracestate` it is sent. The suite itself (Python, `w3c/trace-context`) cannot be cloned on
//! CI; how it was run is in the notes of the change that added this test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use http::HeaderMap;
use serde_json::{json, Value};

use crate::example;
use crate::support::parse::parse_line;

/// What the receiver was sent, per callback id: every `traceparent` and `tracestate` value.
type Received = Arc<Mutex<HashMap<String, (Vec<String>, Vec<String>)>>>;

fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// One request of the suite: its headers, and the callback the service is asked to make.
struct Case {
    name: &'static str,
    headers: Vec<(&'static str, &'static str)>,
}

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "1234567890123456";

fn cases() -> Vec<Case> {
    let unsampled = "00-12345678901234567890123456789012-1234567890123456-00";
    vec![
        // test_propagates_random_flag, and its sampled twin.
        Case {
            name: "random",
            headers: vec![(
                "traceparent",
                "00-12345678901234567890123456789012-1234567890123456-02",
            )],
        },
        Case {
            name: "random-sampled",
            headers: vec![(
                "traceparent",
                "00-abcdef78901234567890123456789012-1234567890123456-03",
            )],
        },
        // test_tracestate_duplicated_keys, its four requests.
        Case {
            name: "dup-same",
            headers: vec![("traceparent", unsampled), ("tracestate", "foo=1,foo=1")],
        },
        Case {
            name: "dup-different",
            headers: vec![("traceparent", unsampled), ("tracestate", "foo=1,foo=2")],
        },
        Case {
            name: "dup-headers-same",
            headers: vec![
                ("traceparent", unsampled),
                ("tracestate", "foo=1"),
                ("tracestate", "foo=1"),
            ],
        },
        Case {
            name: "dup-headers-different",
            headers: vec![
                ("traceparent", unsampled),
                ("tracestate", "foo=1"),
                ("tracestate", "foo=2"),
            ],
        },
    ]
}

#[test]
fn the_w3c_level_2_random_flag_and_duplicated_tracestate_keys() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let received: Received = Arc::default();
    let app =
        Router::new()
            .route(
                "/callback/{id}",
                post(
                    |State(received): State<Received>,
                     Path(id): Path<String>,
                     headers: HeaderMap| async move {
                        let seen = (
                            values(&headers, "traceparent"),
                            values(&headers, "tracestate"),
                        );
                        received.lock().unwrap().insert(id, seen);
                        axum::Json(Value::Null)
                    },
                ),
            )
            .with_state(received.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let receiver = format!("http://{}", listener.local_addr().unwrap());
    let _server = rt.spawn(async move { axum::serve(listener, app).await });

    let mut cmd = Command::new(example("w3c_service"));
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key == "RUST_LOG" || key == "W3C_SERVICE_PORT" {
            cmd.env_remove(key);
        }
    }
    // No collector: spans go to the console, one JSON line each, so what is exported is on stdout.
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (port_tx, port_rx) = mpsc::channel();
    let stderr_lines = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("LISTENING ") {
                let _ = port_tx.send(port.trim().parse::<u16>().unwrap());
            }
            lines.push(line);
        }
        lines
    });
    let stdout = child.stdout.take().unwrap();
    let stdout_text = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let port = match port_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(port) => port,
        Err(_) => {
            let _ = child.kill();
            panic!(
                "the service prints LISTENING <port>: {:?}",
                stderr_lines.join()
            );
        }
    };

    let service = format!("http://127.0.0.1:{port}/test");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        for case in cases() {
            let mut request = client
                .post(&service)
                .header("content-type", "application/json")
                .body(
                    json!([{"url": format!("{receiver}/callback/{}", case.name), "arguments": []}])
                        .to_string(),
                );
            for (name, value) in &case.headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.expect("the service answers");
            assert_eq!(response.status(), 200, "{}", case.name);
        }
    });

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the service stops when its stdin closes");
        }
        std::thread::park_timeout(Duration::from_millis(50));
    };
    let stderr = stderr_lines.join().unwrap();
    assert!(status.success(), "{stderr:?}");
    let lines: Vec<Value> = stdout_text
        .join()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect();

    let received = received.lock().unwrap().clone();
    let got = |name: &str| {
        received
            .get(name)
            .unwrap_or_else(|| panic!("a callback {name}: {received:?}\n{stderr:?}"))
            .clone()
    };

    // test_propagates_random_flag: same trace, a new parent, bit 1 kept (and not sampled).
    for (name, trace, flags) in [
        ("random", TRACE, "02"),
        ("random-sampled", "abcdef78901234567890123456789012", "03"),
    ] {
        let (traceparent, _) = got(name);
        assert_eq!(traceparent.len(), 1, "{name}: {traceparent:?}");
        let tp = &traceparent[0];
        assert_eq!(&tp[3..35], trace, "{name}: {tp}");
        assert_ne!(&tp[36..52], PARENT, "{name}: {tp}");
        assert_eq!(&tp[53..], flags, "{name}: the random flag is kept: {tp}");
    }
    // An unsampled span is never exported; a sampled one is, with its flags.
    let spans_of = |trace: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["kind"] == "span" && l["trace_id"] == trace)
            .collect()
    };
    assert_eq!(
        spans_of(TRACE),
        Vec::<&Value>::new(),
        "nothing unsampled exported"
    );
    let sampled = spans_of("abcdef78901234567890123456789012");
    assert_eq!(sampled.len(), 2, "server and client spans: {sampled:#?}");
    assert!(
        sampled.iter().all(|s| s["trace_flags"] == "03"),
        "{sampled:#?}"
    );

    // test_tracestate_duplicated_keys: the trace continues and the tracestate is inherited, the
    // leftmost entry of the repeated key kept.
    for name in [
        "dup-same",
        "dup-different",
        "dup-headers-same",
        "dup-headers-different",
    ] {
        let (traceparent, tracestate) = got(name);
        assert_eq!(&traceparent[0][3..35], TRACE, "{name}");
        assert_eq!(tracestate, ["foo=1"], "{name}");
    }
}
