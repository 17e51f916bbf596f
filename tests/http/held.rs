//! Held lines under the init, over loopback (issue 17): a service on a two-worker Tokio runtime,
//! `TRACING_CORRELATE_HELD_LINES=debug` from the environment and `RUST_LOG=debug`, serves 1,000
//! requests, 50 of which fail (a 500 answer, an `error!`, a `record_exception`, a panic caught by
//! the middleware). Each request writes an INFO line at once and `STEPS` DEBUG lines, some after
//! an `.await` that may move its task, one from a spawned task in a child span, one from a
//! blocking thread: the DEBUG lines of exactly the failing requests are written, held and in
//! order, with their request's trace id, and the shutdown line's counts say the same. With the
//! variable unset every DEBUG line is written at once; with `RUST_LOG=info` the startup warns
//! that nothing can be held. Each run is a child process (`support/child.rs`): the init installs
//! globals.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tracing::Instrument as _;
use tracing_correlate::server::TraceLayer;

use crate::support;
use crate::support::parse::parse_line;

/// The DEBUG lines each request writes, `step` 0 to `STEPS - 1`.
const STEPS: u64 = 6;
/// The step written on a blocking thread (`spawn_blocking`), never a worker.
const BLOCKING_STEP: u64 = 4;
/// The step written by a spawned task in the child span `work`.
const CHILD_STEP: u64 = 2;
/// Requests in flight at once.
const CONCURRENCY: u64 = 8;
/// How long a child may take from its start to its end; it is killed past it.
const DEADLINE: Duration = Duration::from_secs(120);
/// The message of the DEBUG lines, of the INFO line and of the failing `error!`.
const STEP: &str = "step done";
const STARTED: &str = "request started";
const FAILED: &str = "the work failed";

/// How request `n` fails, if it does: every twentieth request, the four ways in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The handler answers 500 (the root's status fails the trace).
    Status500,
    /// The handler logs `error!` and answers 200.
    ErrorEvent,
    /// The handler records an exception (an ERROR event) and answers 200.
    Exception,
    /// The handler panics; the middleware answers 500, the init's hook writes the ERROR line.
    Panic,
}

fn failure(n: u64) -> Option<Failure> {
    if n % 20 != 0 {
        return None;
    }
    Some(match (n / 20) % 4 {
        0 => Failure::Status500,
        1 => Failure::ErrorEvent,
        2 => Failure::Exception,
        _ => Failure::Panic,
    })
}

/// The status request `n` is answered.
fn expected_status(n: u64) -> u16 {
    match failure(n) {
        Some(Failure::Status500 | Failure::Panic) => 500,
        _ => 200,
    }
}

fn thread() -> String {
    format!("{:?}", std::thread::current().id())
}

macro_rules! step {
    ($n:expr, $step:expr) => {
        tracing::debug!(n = $n, step = $step, thread = %thread(), "step done")
    };
}

/// One request's work: the INFO line at once, then the DEBUG steps across awaits and threads,
/// then its failure, if it has one, after the last step (so that every step is held).
async fn work(Path(n): Path<u64>) -> Response {
    tracing::info!(n, thread = %thread(), "request started");
    step!(n, 0_u64);
    tokio::task::yield_now().await;
    step!(n, 1_u64);
    tokio::spawn(async move { step!(n, CHILD_STEP) }.instrument(tracing::info_span!("work", n)))
        .await
        .expect("the spawned step ends");
    tokio::task::yield_now().await;
    step!(n, 3_u64);
    let request = tracing::Span::current();
    tokio::task::spawn_blocking(move || request.in_scope(|| step!(n, BLOCKING_STEP)))
        .await
        .expect("the blocking step ends");
    step!(n, 5_u64);
    match failure(n) {
        None => "ok".into_response(),
        Some(Failure::Status500) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Failure::ErrorEvent) => {
            tracing::error!(n, "the work failed");
            "ok".into_response()
        }
        Some(Failure::Exception) => {
            tracing_correlate::record_exception(&std::io::Error::other("disk full"));
            "ok".into_response()
        }
        Some(Failure::Panic) => panic!("request {n} panicked"),
    }
}

pub const CHILD_CASES: &[support::child::Case] = &[("held_under_init", held_under_init)];

/// The init (from the environment the parent gives), the app on a two-worker runtime, `TC_REQUESTS`
/// requests `GET /work/{n}`, `CONCURRENCY` at a time; the answers on stderr as
/// `ANSWERS <n>:<status>,...`; then the guard's shutdown line.
fn held_under_init() {
    let requests: u64 = std::env::var("TC_REQUESTS")
        .expect("TC_REQUESTS")
        .parse()
        .unwrap();
    let guard = tracing_correlate::builder("held-svc")
        .try_init()
        .expect("the init");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers = rt.block_on(async move {
        let app = Router::new()
            .route("/work/{n}", get(work))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let next = Arc::new(AtomicU64::new(0));
        let drivers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (client, next, base) = (client.clone(), next.clone(), base.clone());
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= requests {
                            break answers;
                        }
                        let status = match client.get(format!("{base}/work/{n}")).send().await {
                            Ok(response) => response.status().as_u16().to_string(),
                            Err(err) => format!("error {err:?}"),
                        };
                        answers.push(format!("{n}:{status}"));
                    }
                })
            })
            .collect();
        let mut answers = Vec::new();
        for driver in drivers {
            answers.extend(driver.await.unwrap());
        }
        server.abort();
        answers
    });
    drop(rt);
    eprintln!("ANSWERS {}", answers.join(","));
    drop(guard);
}

/// What a `held_under_init` child wrote: its stdout's JSON lines (every line of it is one, but
/// for the test harness's own) and its answers by request.
struct Run {
    lines: Vec<Value>,
    answers: BTreeMap<u64, String>,
    wall: Duration,
}

/// The lines the test harness writes on the child's stdout around its one test.
fn harness_line(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || line == "."
        || line == "running 1 test"
        || line.starts_with("test result: ok.")
}

/// Runs `held_under_init` with `requests` requests and `env`, within [`DEADLINE`].
fn run(requests: u64, env: &[(&str, &str)]) -> Run {
    let mut cmd = support::child::command("held_under_init");
    cmd.env("TC_REQUESTS", requests.to_string())
        .env("OTEL_TRACES_EXPORTER", "console")
        .env("RUST_LIB_BACKTRACE", "0");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = support::child::spawn(&mut cmd);
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // The child's end is its stdout's end (it starts no process of its own).
    let (ended, end) = std::sync::mpsc::channel();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).expect("UTF-8 stdout");
        let _ = ended.send(());
        s
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        String::from_utf8_lossy(&b).into_owned()
    });
    if end.recv_timeout(DEADLINE).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the child did not end within {DEADLINE:?}: killed\nstderr: {}",
            err.join().unwrap()
        );
    }
    let status = child.wait().expect("the child is waited for");
    let wall = started.elapsed();
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    assert!(status.success(), "the child failed ({status}): {stderr}");
    let lines = stdout
        .lines()
        .filter(|l| !harness_line(l))
        .map(parse_line)
        .collect();
    let answers = stderr
        .lines()
        .find_map(|l| l.strip_prefix("ANSWERS "))
        .unwrap_or_else(|| panic!("no answers on stderr: {stderr}"))
        .split(',')
        .filter(|a| !a.is_empty())
        .map(|a| {
            let (n, status) = a.split_once(':').unwrap();
            (n.parse().unwrap(), status.to_owned())
        })
        .collect();
    Run {
        lines,
        answers,
        wall,
    }
}

/// Every request was answered, with its expected status.
fn assert_answers(run: &Run, requests: u64) {
    let expected: BTreeMap<u64, String> = (0..requests)
        .map(|n| (n, expected_status(n).to_string()))
        .collect();
    assert_eq!(run.answers, expected);
}

fn is_step(line: &Value) -> bool {
    line["message"] == STEP && line["kind"] != "span"
}

/// The request number of a line, from its `n` field.
fn n_of(line: &Value) -> u64 {
    line["n"].as_u64().unwrap_or_else(|| panic!("n in {line}"))
}

/// The one line of `lines` that `pick` selects for each request, by request.
fn one_per_request<'a>(
    lines: &'a [Value],
    what: &str,
    pick: impl Fn(&Value) -> Option<u64>,
) -> BTreeMap<u64, &'a Value> {
    let mut found = BTreeMap::new();
    for line in lines {
        if let Some(n) = pick(line) {
            assert!(
                found.insert(n, line).is_none(),
                "two {what} for request {n}"
            );
        }
    }
    found
}

/// The shutdown line: the one `telemetry shut down` line, an INFO (nothing was lost).
fn shutdown_line(lines: &[Value]) -> &Value {
    let found: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("telemetry shut down"))
        })
        .collect();
    assert_eq!(found.len(), 1, "one shutdown line");
    assert_eq!(found[0]["message"], "telemetry shut down", "{}", found[0]);
    found[0]
}

#[test]
fn a_thousand_requests_write_the_held_debug_lines_of_exactly_the_fifty_that_failed() {
    const REQUESTS: u64 = 1000;
    let run = run(
        REQUESTS,
        &[
            ("RUST_LOG", "debug"),
            ("TRACING_CORRELATE_HELD_LINES", "debug"),
        ],
    );
    assert_answers(&run, REQUESTS);
    let lines = &run.lines;
    let failing: BTreeSet<u64> = (0..REQUESTS).filter(|n| failure(*n).is_some()).collect();
    assert_eq!(failing.len(), 50);

    let startup: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "telemetry initialised")
        .collect();
    assert_eq!(startup.len(), 1);
    assert!(
        startup[0]["held_lines"]
            .as_str()
            .is_some_and(|h| h.starts_with("debug and below")),
        "{}",
        startup[0]
    );

    // Each request's INFO line, written at once, and its server span.
    let started = one_per_request(lines, "INFO lines", |l| {
        (l["message"] == STARTED).then(|| n_of(l))
    });
    assert_eq!(started.len() as u64, REQUESTS);
    assert!(started.values().all(|l| l.get("held").is_none()));
    let servers = one_per_request(lines, "server spans", |l| {
        (l["kind"] == "span" && l["span_name"] == "GET /work/{n}").then(|| {
            let path = l["attributes"]["url.path"].as_str().unwrap();
            path.strip_prefix("/work/").unwrap().parse().unwrap()
        })
    });
    assert_eq!(servers.len() as u64, REQUESTS);
    for (n, server) in &servers {
        assert_eq!(started[n]["trace_id"], server["trace_id"], "request {n}");
        assert_eq!(started[n]["span_id"], server["span_id"], "request {n}");
        assert_eq!(
            server["attributes"]["http.response.status_code"],
            expected_status(*n),
            "{server}"
        );
    }

    // The DEBUG lines: those of the failing requests only, every one held, in step order.
    let mut steps: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for line in lines.iter().filter(|l| is_step(l)) {
        steps.entry(n_of(line)).or_default().push(line);
    }
    assert_eq!(
        steps.keys().copied().collect::<BTreeSet<u64>>(),
        failing,
        "the requests whose DEBUG lines were written"
    );
    let mut moved_between_workers = 0;
    for (n, request_steps) in &steps {
        let order: Vec<u64> = request_steps
            .iter()
            .map(|l| l["step"].as_u64().unwrap())
            .collect();
        assert_eq!(order, (0..STEPS).collect::<Vec<_>>(), "request {n}");
        let trace_id = &servers[n]["trace_id"];
        for line in request_steps {
            assert_eq!(line["held"], true, "{line}");
            assert_eq!(line["level"], "DEBUG", "{line}");
            assert_eq!(&line["trace_id"], trace_id, "{line}");
            let step = line["step"].as_u64().unwrap();
            if step == CHILD_STEP {
                assert_eq!(line["span_name"], "work", "{line}");
                assert_ne!(line["span_id"], servers[n]["span_id"], "{line}");
            } else {
                assert_eq!(line["span_id"], servers[n]["span_id"], "{line}");
            }
        }
        // A held line is written before the line that failed its trace, which comes after its
        // last step: the ERROR line of an event, an exception or a panic, else (a 500 answer)
        // the server span's own line, written as the span ends.
        let position = |l: &Value| lines.iter().position(|x| x == l).unwrap();
        let last_step = position(request_steps.last().unwrap());
        let failed: Vec<&Value> = lines
            .iter()
            .filter(|l| l["level"] == "ERROR" && &l["trace_id"] == trace_id)
            .collect();
        match failure(*n).unwrap() {
            Failure::Status500 => assert!(failed.is_empty(), "{failed:#?}"),
            kind => {
                assert_eq!(failed.len(), 1, "request {n} ({kind:?}): {failed:#?}");
                assert!(last_step < position(failed[0]), "request {n}");
                match kind {
                    Failure::ErrorEvent => assert_eq!(failed[0]["message"], FAILED),
                    Failure::Exception => {
                        assert_eq!(failed[0]["exception"]["message"], "disk full")
                    }
                    _ => assert_eq!(failed[0]["exception"]["type"], "panic"),
                }
            }
        }
        assert!(last_step < position(servers[n]), "request {n}");

        // The request's lines came from more than one thread: the blocking step's is never a
        // worker's. Whether the other steps moved between the two workers is the scheduler's.
        let threads = |skip_blocking: bool| {
            request_steps
                .iter()
                .filter(|l| !skip_blocking || l["step"] != BLOCKING_STEP)
                .map(|l| l["thread"].as_str().unwrap().to_owned())
                .chain(std::iter::once(
                    started[n]["thread"].as_str().unwrap().to_owned(),
                ))
                .collect::<BTreeSet<String>>()
        };
        assert!(threads(false).len() >= 2, "request {n}: {request_steps:#?}");
        if threads(true).len() > 1 {
            moved_between_workers += 1;
        }
    }
    // DEBUG lines outside any span (the client's connection pool's) are written at once.
    let outside: Vec<&Value> = lines
        .iter()
        .filter(|l| l["level"] == "DEBUG" && l.get("trace_id").is_none())
        .collect();
    assert!(!outside.is_empty());
    assert!(outside.iter().all(|l| l.get("held").is_none()));
    // No held line of any other trace: each held line is one of the steps above.
    let held = lines.iter().filter(|l| l.get("held").is_some()).count() as u64;
    assert_eq!(held, 50 * STEPS);

    let shutdown = shutdown_line(lines);
    assert_eq!(shutdown["held_lines_written"], 50 * STEPS, "{shutdown}");
    assert_eq!(
        shutdown["held_lines_discarded"],
        (REQUESTS - 50) * STEPS,
        "{shutdown}"
    );
    assert_eq!(shutdown["held_lines_dropped"], 0, "{shutdown}");
    assert_eq!(shutdown["held_lines_open"], 0, "{shutdown}");
    eprintln!(
        "{REQUESTS} requests in {:?} (child wall time); {} lines; of the 50 failing requests, \
         {moved_between_workers} had their worker steps on both workers",
        run.wall,
        lines.len()
    );
}

#[test]
fn without_the_variable_every_debug_line_is_written_at_once() {
    const REQUESTS: u64 = 40;
    let run = run(REQUESTS, &[("RUST_LOG", "debug")]);
    assert_answers(&run, REQUESTS);
    let lines = &run.lines;
    let startup: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "telemetry initialised")
        .collect();
    assert_eq!(startup.len(), 1);
    assert!(startup[0].get("held_lines").is_none(), "{}", startup[0]);
    let mut steps: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for line in lines.iter().filter(|l| is_step(l)) {
        assert!(line.get("held").is_none(), "{line}");
        steps
            .entry(n_of(line))
            .or_default()
            .push(line["step"].as_u64().unwrap());
    }
    assert_eq!(steps.len() as u64, REQUESTS, "every request's DEBUG lines");
    for (n, order) in &steps {
        assert_eq!(order, &(0..STEPS).collect::<Vec<_>>(), "request {n}");
    }
    assert!(lines.iter().all(|l| l.get("held").is_none()));
    let shutdown = shutdown_line(lines);
    for key in [
        "held_lines_written",
        "held_lines_discarded",
        "held_lines_dropped",
        "held_lines_open",
    ] {
        assert!(shutdown.get(key).is_none(), "{key}: {shutdown}");
    }
}

#[test]
fn with_rust_log_info_the_startup_warns_that_no_held_level_reaches_the_layer() {
    const REQUESTS: u64 = 40;
    let run = run(
        REQUESTS,
        &[
            ("RUST_LOG", "info"),
            ("TRACING_CORRELATE_HELD_LINES", "debug"),
        ],
    );
    assert_answers(&run, REQUESTS);
    let lines = &run.lines;
    let warnings: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("held lines:"))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "one warning");
    let warning = warnings[0];
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["target"], "tracing_correlate");
    assert_eq!(
        warning["message"],
        "held lines: the filter (RUST_LOG, else the default filter) lets no DEBUG event through \
         (its most verbose level is INFO); nothing is held until it does"
    );
    // Before the startup line, which still says what is held.
    let position = |m: &str| lines.iter().position(|l| l["message"] == m).unwrap();
    assert!(position(warning["message"].as_str().unwrap()) < position("telemetry initialised"));
    assert!(lines.iter().all(|l| !is_step(l) && l["level"] != "DEBUG"));
    assert_eq!(
        lines.iter().filter(|l| l["message"] == STARTED).count() as u64,
        REQUESTS
    );
    let shutdown = shutdown_line(lines);
    for key in [
        "held_lines_written",
        "held_lines_discarded",
        "held_lines_dropped",
        "held_lines_open",
    ] {
        assert_eq!(shutdown[key], 0, "{key}: {shutdown}");
    }
}
