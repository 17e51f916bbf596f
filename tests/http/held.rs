//! Held lines under the init, over loopback: a server with the middleware answers 1,000 requests
//! from a client in the same child process, 50 of which fail (a 500 answer, an ERROR event, a
//! panic); the DEBUG lines of exactly those 50 are written, each request's in its order and with
//! its ids, and the shutdown line counts the others discarded. Each request's lines come from
//! several threads: Tokio's workers and the blocking pool.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tracing::{debug, debug_span, error, info, Instrument as _};
use tracing_correlate::server::TraceLayer;

use crate::support;
use crate::support::find::line_with;
use crate::support::parse::parse_line;

pub const CHILD_CASES: &[support::child::Case] = &[("held_under_init", held_under_init)];

/// DEBUG lines each request writes, `step` 0 to 3.
const STEPS: u64 = 4;

/// Whether request `n` fails: one in twenty.
fn fails(n: u64) -> bool {
    n % 20 == 0
}

async fn handle(Path(n): Path<u64>) -> StatusCode {
    let thread = || format!("{:?}", std::thread::current().id());
    info!(n, "request");
    debug!(n, step = 0, thread = thread(), "detail");
    tokio::task::yield_now().await;
    debug!(n, step = 1, thread = thread(), "detail");
    // On a thread of the blocking pool, in a child span: the same trace's buffer.
    let child = debug_span!("lookup");
    tokio::task::spawn_blocking(move || {
        child.in_scope(|| debug!(n, step = 2, thread = thread(), "detail"))
    })
    .await
    .unwrap();
    async { debug!(n, step = 3, thread = thread(), "detail") }
        .instrument(debug_span!("render"))
        .await;
    if !fails(n) {
        return StatusCode::OK;
    }
    match (n / 20) % 3 {
        0 => StatusCode::INTERNAL_SERVER_ERROR,
        1 => {
            error!(n, "the order could not be placed");
            StatusCode::OK
        }
        _ => panic!("request {n} panicked"),
    }
}

/// The init configured by the environment, a server on a 2-worker runtime, and `HELD_REQUESTS`
/// requests to it, 8 at a time.
fn held_under_init() {
    let requests: u64 = std::env::var("HELD_REQUESTS").unwrap().parse().unwrap();
    let guard = tracing_correlate::init("held-svc");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = Router::new()
            .route("/r/{n}", get(handle))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for lane in 0..8 {
            let (client, base) = (client.clone(), base.clone());
            tasks.spawn(async move {
                let mut failed = 0;
                for n in (lane..requests).step_by(8) {
                    let status = client
                        .get(format!("{base}/r/{n}"))
                        .send()
                        .await
                        .unwrap()
                        .status();
                    failed += u64::from(status != reqwest::StatusCode::OK);
                }
                failed
            });
        }
        let mut failed = 0;
        while let Some(lane) = tasks.join_next().await {
            failed += lane.unwrap();
        }
        eprintln!("ANSWERED {requests} NOT_OK {failed}");
        server.abort();
    });
    drop(rt);
    drop(guard);
}

fn run(requests: u64, env: &[(&str, &str)]) -> (Vec<Value>, String) {
    let mut cmd = support::child::command("held_under_init");
    cmd.env("HELD_REQUESTS", requests.to_string())
        .env("OTEL_TRACES_EXPORTER", "console");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::child::output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect();
    (lines, stderr)
}

fn details(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["message"] == "detail").collect()
}

#[test]
fn a_thousand_requests_write_the_debug_lines_of_exactly_the_fifty_that_fail() {
    const REQUESTS: u64 = 1_000;
    let (lines, stderr) = run(
        REQUESTS,
        &[
            ("RUST_LOG", "info,http::held=debug"),
            ("TRACING_CORRELATE_HELD_LINES", "debug"),
        ],
    );
    // 500 answers and panics answer 500; the ERROR events answer 200.
    let answered_500 = (0..REQUESTS)
        .filter(|n| fails(*n) && (n / 20) % 3 != 1)
        .count();
    assert!(
        stderr.contains(&format!("ANSWERED {REQUESTS} NOT_OK {answered_500}")),
        "{stderr}"
    );
    let startup = line_with(&lines, "telemetry initialised");
    assert_eq!(
        startup["held_lines"],
        "debug and below (per trace 256 lines, 64 KiB; all traces 32 MiB)"
    );

    // Each request's line written at once, and its server span's line.
    let request_trace: BTreeMap<u64, &str> = lines
        .iter()
        .filter(|l| l["message"] == "request")
        .map(|l| (l["n"].as_u64().unwrap(), l["trace_id"].as_str().unwrap()))
        .collect();
    assert_eq!(request_trace.len() as u64, REQUESTS);
    let server_spans: BTreeMap<&str, &Value> = lines
        .iter()
        .filter(|l| l["kind"] == "span" && l["span_kind"] == "server")
        .map(|l| (l["trace_id"].as_str().unwrap(), l))
        .collect();

    let mut by_request: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for line in details(&lines) {
        by_request
            .entry(line["n"].as_u64().unwrap())
            .or_default()
            .push(line);
    }
    let failing: BTreeSet<u64> = (0..REQUESTS).filter(|n| fails(*n)).collect();
    assert_eq!(failing.len(), 50);
    assert_eq!(
        by_request.keys().copied().collect::<BTreeSet<_>>(),
        failing,
        "the requests whose DEBUG lines were written"
    );
    for (n, held) in &by_request {
        let steps: Vec<u64> = held.iter().map(|l| l["step"].as_u64().unwrap()).collect();
        assert_eq!(steps, [0, 1, 2, 3], "request {n}'s lines, in order");
        let trace_id = request_trace[n];
        for line in held {
            assert_eq!(line["held"], true, "{line}");
            assert_eq!(line["level"], "DEBUG", "{line}");
            assert_eq!(line["trace_id"], trace_id, "{line}");
        }
        let server = server_spans[trace_id];
        assert_eq!(
            server["status"], "error",
            "request {n}'s server span: {server}"
        );
        assert_eq!(held[0]["span_id"], server["span_id"]);
        assert_eq!(held[2]["span_name"], "lookup");
        // The blocking pool's thread is not the worker's: the trace's lines came from two threads.
        assert_ne!(held[2]["thread"], held[0]["thread"], "request {n}");
    }

    let shutdown = line_with(&lines, "telemetry shut down");
    let per_request = STEPS;
    assert_eq!(
        shutdown["held_lines_written"],
        50 * per_request,
        "{shutdown}"
    );
    assert_eq!(
        shutdown["held_lines_discarded"],
        950 * per_request,
        "{shutdown}"
    );
    assert_eq!(shutdown["held_lines_dropped"], 0, "{shutdown}");
    assert_eq!(shutdown["held_lines_open"], 0, "{shutdown}");
}

#[test]
fn without_the_variable_every_debug_line_is_written_and_with_info_only_the_startup_warns() {
    // Held lines off: DEBUG lines as ever, never marked.
    let (lines, _) = run(20, &[("RUST_LOG", "info,http::held=debug")]);
    let written = details(&lines);
    assert_eq!(written.len() as u64, 20 * STEPS);
    assert!(written.iter().all(|l| l.get("held").is_none()));
    let shutdown = line_with(&lines, "telemetry shut down");
    assert!(shutdown.get("held_lines_discarded").is_none(), "{shutdown}");

    // Held lines on, but the filter lets no DEBUG event through: the startup says so.
    let (lines, _) = run(
        20,
        &[
            ("RUST_LOG", "info"),
            ("TRACING_CORRELATE_HELD_LINES", "debug"),
        ],
    );
    assert!(details(&lines).is_empty());
    let warning = lines
        .iter()
        .find(|l| {
            l["level"] == "WARN"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("held lines: the filter"))
        })
        .unwrap_or_else(|| panic!("the startup's warning: {lines:#?}"));
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("lets no DEBUG event through (its most verbose level is INFO)"),
        "{warning}"
    );
    let shutdown = line_with(&lines, "telemetry shut down");
    assert_eq!(shutdown["held_lines_discarded"], 0, "{shutdown}");
}
