//! A service's whole life (issue 14): `Guard::flush` between batches of a process that never drops
//! its guard, and a server stopped by `SIGTERM` with and without `shutdown_signal`. Each case runs
//! in a child process exporting to a real OTLP receiver on loopback.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use mock_collector::Protocol;
use serde_json::Value;
use tracing::info_span;

use crate::init::{collector, endpoint, runtime};
use crate::support;
use crate::support::collector::received;
use crate::support::parse::parse_line;

// ---------------------------------------------------------------------------------------------
// The child side.

pub const CHILD_CASES: &[support::child::Case] = &[
    ("flush_between_batches", flush_between_batches),
    #[cfg(feature = "axum")]
    ("serve_until_stopped", serve_until_stopped),
];

/// Two batches, a flush after each, then an exit that never drops the guard (as a serverless
/// runtime freezes or kills the process between invocations): only what `flush` delivered
/// arrives.
fn flush_between_batches() {
    let mut builder =
        tracing_correlate::builder("batch-job").with_shutdown_timeout(Duration::from_secs(5));
    if std::env::var_os("TC_QUEUE").is_some() {
        builder = builder.with_non_blocking(tracing_correlate::NonBlocking::blocking());
    }
    let guard = builder.try_init().unwrap();
    for batch in 1..=2u64 {
        let span = info_span!("batch", batch);
        let _e = span.enter();
        info_span!("step", batch).in_scope(|| tracing::info!("step done"));
        drop(_e);
        drop(span);
        let report = guard.flush();
        tracing::info!(
            batch,
            spans_exported = report.spans_exported,
            spans_lost = report.spans_lost,
            delivered_all = report.delivered_all(),
            "flush returned"
        );
    }
    std::mem::forget(guard);
    std::process::exit(0);
}

/// A server under the init and the middleware; with `TC_GRACEFUL=1` it stops on
/// `shutdown_signal`, else it serves until the process is killed. It writes its address in a
/// `listening` line.
#[cfg(feature = "axum")]
fn serve_until_stopped() {
    let graceful = std::env::var("TC_GRACEFUL").as_deref() == Ok("1");
    let _guard = tracing_correlate::init("checkout");
    let rt = crate::init::runtime();
    rt.block_on(async {
        let app = axum::Router::new()
            .route(
                "/orders",
                axum::routing::get(|| async {
                    tracing::info!("listing orders");
                    "[]"
                }),
            )
            .layer(tracing_correlate::server::TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tracing::info!(addr = %listener.local_addr().unwrap(), "listening");
        let serve = axum::serve(listener, app);
        if graceful {
            serve
                .with_graceful_shutdown(tracing_correlate::shutdown_signal())
                .await
                .unwrap();
        } else {
            serve.await.unwrap();
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The parent side.

/// How long a child may take to listen, and to end once signalled.
const DEADLINE: Duration = Duration::from_secs(30);

fn lines_of(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(parse_line)
        .collect()
}

fn with_message<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == message).collect()
}

#[test]
fn flush_delivers_each_batch_of_a_process_that_never_drops_its_guard() {
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let endpoint = endpoint(&server);
    let mut cmd = support::child::command("flush_between_batches");
    // A schedule delay far longer than the run: only a flush exports.
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .env("RUST_LIB_BACKTRACE", "0");
    let out = support::child::output(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = lines_of(&String::from_utf8(out.stdout).unwrap());

    let spans = received(&rt, &server);
    assert_eq!(spans.len(), 4, "two spans per batch arrive: {spans:#?}");
    // Each flush line says what was delivered so far: the first batch, then both.
    let flushed = with_message(&lines, "telemetry flushed");
    assert_eq!(flushed.len(), 2, "{lines:#?}");
    assert_eq!(flushed[0]["spans_exported"], 2, "{}", flushed[0]);
    assert_eq!(flushed[1]["spans_exported"], 4, "{}", flushed[1]);
    for line in &flushed {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["spans_lost"], 0);
        assert_eq!(line["lines_lost"], 0);
        assert!(line["flush_ms"].is_u64(), "{line}");
    }
    // What `flush` returned is what its line said.
    let returned = with_message(&lines, "flush returned");
    assert_eq!(returned.len(), 2);
    for (line, report) in flushed.iter().zip(&returned) {
        assert_eq!(report["spans_exported"], line["spans_exported"]);
        assert_eq!(report["delivered_all"], true);
    }
    // The guard was never dropped: every span arrived through a flush.
    assert!(with_message(&lines, "telemetry shut down").is_empty());
    // The lines' ids are the spans', batch by batch.
    for step in with_message(&lines, "step done") {
        assert!(
            spans
                .iter()
                .any(|s| s.name == "step" && s.span_id == step["span_id"]),
            "{step}"
        );
    }
}

#[test]
fn flush_under_the_non_blocking_output_reports_the_queue_and_loses_nothing() {
    // The queue's flush against a stalled writer is the unit test
    // `a_flush_is_bounded_while_the_writer_stalls_and_succeeds_once_it_drains`; here, the Guard's
    // flush through it: its figures (lines_dropped counts what is still queued) and every line.
    let rt = runtime();
    let server = collector(&rt, Protocol::HttpBinary);
    let mut cmd = support::child::command("flush_between_batches");
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint(&server))
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .env("TC_QUEUE", "1")
        .env("RUST_LIB_BACKTRACE", "0");
    let out = support::child::output(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = lines_of(&String::from_utf8(out.stdout).unwrap());
    // Every line reached stdout through the queue, though the process exited without the
    // guard's shutdown.
    assert_eq!(with_message(&lines, "step done").len(), 2, "{lines:#?}");
    let flushed = with_message(&lines, "telemetry flushed");
    assert_eq!(flushed.len(), 2, "{lines:#?}");
    assert_eq!(flushed[1]["spans_exported"], 4);
    assert_eq!(flushed[1]["lines_dropped"], 0);
    assert_eq!(received(&rt, &server).len(), 4);
}

#[test]
fn flush_with_no_collector_says_what_was_lost_within_its_bound() {
    // A port nobody listens on: every export is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = support::child::command("flush_between_batches");
    cmd.env(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("http://127.0.0.1:{port}"),
    )
    .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
    .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
    .env("RUST_LIB_BACKTRACE", "0");
    let out = support::child::output(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = lines_of(&String::from_utf8(out.stdout).unwrap());
    let flushed = with_message(&lines, "telemetry flushed; some was not delivered");
    assert_eq!(flushed.len(), 2, "{lines:#?}");
    // The flush exported (and the export failed) before its line: the spans it counts lost were
    // tried, not merely still queued.
    let first_flush = lines.iter().position(|l| l == flushed[0]).unwrap();
    assert!(
        lines[..first_flush]
            .iter()
            .any(|l| l["level"] == "ERROR" && l["target"] == "opentelemetry_sdk"),
        "an export error before the first flush line: {lines:#?}"
    );
    assert_eq!(flushed[0]["level"], "WARN");
    assert_eq!(flushed[0]["spans_exported"], 0);
    assert_eq!(flushed[0]["spans_lost"], 2, "{}", flushed[0]);
    assert_eq!(flushed[1]["spans_lost"], 4, "{}", flushed[1]);
    assert_eq!(flushed[1]["timed_out"], false, "{}", flushed[1]);
    let returned = with_message(&lines, "flush returned");
    assert_eq!(returned[1]["spans_lost"], 4);
    assert_eq!(returned[1]["delivered_all"], false);
}

/// A running `serve_until_stopped` child: its address, and its stdout being read.
#[cfg(feature = "axum")]
struct Server {
    child: Child,
    addr: String,
    stdout: std::thread::JoinHandle<String>,
}

#[cfg(feature = "axum")]
fn start_server(endpoint: &str, graceful: bool) -> Server {
    let mut cmd = support::child::command("serve_until_stopped");
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        // Longer than the test: the spans are still queued when the signal comes.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .env("RUST_LIB_BACKTRACE", "0")
        .env("TC_GRACEFUL", if graceful { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = support::child::spawn(&mut cmd);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(
            n > 0 && started.elapsed() < DEADLINE,
            "no listening line: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with('{') {
            let parsed = parse_line(line.trim_end());
            if parsed["message"] == "listening" {
                break parsed["addr"].as_str().unwrap().to_owned();
            }
        }
    };
    let stdout = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        seen + &rest
    });
    Server {
        child,
        addr,
        stdout,
    }
}

/// Five requests, then `SIGTERM`; the child's exit status and its whole stdout.
#[cfg(feature = "axum")]
fn five_requests_then_sigterm(server: Server) -> (std::process::ExitStatus, Vec<Value>) {
    let Server {
        mut child,
        addr,
        stdout,
    } = server;
    let rt = runtime();
    rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..5 {
            let answer = client
                .get(format!("http://{addr}/orders"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    });
    // SAFETY: `kill` with a live child's pid and a valid signal number has no memory effects.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("the child did not end within {DEADLINE:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, lines_of(&stdout.join().unwrap()))
}

#[cfg(all(feature = "axum", unix))]
#[test]
fn a_server_stopped_by_sigterm_under_shutdown_signal_delivers_every_span() {
    let rt = runtime();
    let collector = collector(&rt, Protocol::HttpBinary);
    let server = start_server(&endpoint(&collector), true);
    let (status, lines) = five_requests_then_sigterm(server);
    assert!(status.success(), "{status}: {lines:#?}");
    let signal = with_message(&lines, "shutdown signal received");
    assert_eq!(signal.len(), 1, "{lines:#?}");
    assert_eq!(signal[0]["signal"], "SIGTERM");
    let shutdown = with_message(&lines, "telemetry shut down");
    assert_eq!(shutdown.len(), 1, "{lines:#?}");
    assert_eq!(shutdown[0]["spans_exported"], 5, "{}", shutdown[0]);
    assert_eq!(shutdown[0]["spans_lost"], 0);
    // Every request's line found its span at the collector.
    let spans = received(&rt, &collector);
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let handled = with_message(&lines, "listing orders");
    assert_eq!(handled.len(), 5);
    for line in handled {
        assert!(
            spans
                .iter()
                .any(|s| s.span_id == line["span_id"] && s.trace_id == line["trace_id"]),
            "{line}"
        );
    }
}

/// What the docs of `shutdown_signal` say is lost without it: the process ends at once, and the
/// queued spans with it, without a line.
#[cfg(all(feature = "axum", unix))]
#[test]
fn a_server_stopped_by_sigterm_without_shutdown_signal_loses_its_queued_spans() {
    use std::os::unix::process::ExitStatusExt;

    let rt = runtime();
    let collector = collector(&rt, Protocol::HttpBinary);
    let server = start_server(&endpoint(&collector), false);
    let (status, lines) = five_requests_then_sigterm(server);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
    assert_eq!(with_message(&lines, "listing orders").len(), 5);
    assert!(lines.iter().all(|l| !l["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("telemetry shut down")));
    assert!(received(&rt, &collector).is_empty());
}
