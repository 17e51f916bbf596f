//! Writer faults: a closed stdout (broken pipe) and a full disk (`/dev/full`). The layer never
//! panics or aborts, the service keeps running, every lost line is counted in
//! [`Stats::write_errors`](tracing_correlate::Stats::write_errors), and the guard's shutdown line
//! reports the loss once (`lines_lost`).
//!
//! The layer alone is tested in this process. The one-line init runs in a child process (this
//! test binary run again with one case, as for `init.rs`): a global subscriber is
//! installed once per process, and a closed stdout must be the child's own. The parent reads the
//! child's `ready` line, closes its end of the child's stdout, then lets the child log; SIGPIPE is
//! ignored by Rust programs, so the child's writes fail with `EPIPE`.
//!
//! What a test can observe of the shutdown line: it goes to the same failing writer, so the
//! `mirrored` scenarios wrap that writer in one that copies every line to stderr while returning
//! the failing writer's result; the crate still sees every write fail, and the parent reads what
//! the crate tried to say.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing::{info, info_span};
use tracing_correlate::Stats;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::support;
use crate::support::parse::parse_line;

/// Lines each case emits.
const LINES: u64 = 10_000;

/// The line a child prints on its stdout before the parent closes it.
const READY: &str = "child ready";
/// What a child writes on stderr once it has emitted its lines, and once its guard is dropped.
const ALIVE: &str = "child alive after emitting";
const SHUT_DOWN: &str = "child dropped its guard";

/// How long a child may take before the test kills it and fails.
const DEADLINE: Duration = Duration::from_secs(60);

fn open_dev_full() -> std::fs::File {
    OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
}

/// Emits `LINES` events inside a span, the way a service's request path does.
fn emit(lines: u64) {
    let span = info_span!("request", route = "/orders");
    let _entered = span.enter();
    for n in 0..lines {
        info!(n, "order processed");
    }
}

/// Emits `LINES` events through a JSON layer writing to `make_writer`; returns its counters.
fn through_layer<W>(make_writer: W) -> Stats
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let layer = tracing_correlate::layer().with_writer(make_writer);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || emit(LINES));
    stats
}

// ---------------------------------------------------------------------------------------------
// The layer alone.

/// The write end of a pipe whose reader has exited: a child that reads nothing, waited for.
fn pipe_without_reader() -> std::process::ChildStdin {
    let mut child = support::child::spawn(
        Command::new(std::env::current_exe().unwrap())
            .args(["--list"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let stdin = child.stdin.take().unwrap();
    assert!(child.wait().unwrap().success());
    stdin
}

#[test]
fn a_broken_pipe_costs_each_line_once_in_the_count_and_nothing_else() {
    let mut pipe = pipe_without_reader();
    let err = pipe.write_all(b"probe\n").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");

    let stats = through_layer(Mutex::new(pipe));
    assert_eq!(stats.write_errors(), LINES, "each lost line counted once");
    assert_eq!(stats.dropped_reentrant(), 0);
    // The thread that logged is still here, and logs on.
    let stats2 = through_layer(Mutex::new(pipe_without_reader()));
    assert_eq!(stats2.write_errors(), LINES);
}

#[test]
fn a_full_disk_costs_each_line_once_in_the_count_and_nothing_else() {
    let err = open_dev_full().write_all(b"probe\n").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::StorageFull, "{err}");

    // One file shared behind a lock, as `Mutex<File>` makes a `MakeWriter`.
    let shared = through_layer(Mutex::new(open_dev_full()));
    assert_eq!(shared.write_errors(), LINES, "each lost line counted once");
    assert_eq!(shared.dropped_reentrant(), 0);
    // A file opened for each line.
    let reopened = through_layer(open_dev_full);
    assert_eq!(reopened.write_errors(), LINES);
    assert_eq!(reopened.dropped_reentrant(), 0);
}

// ---------------------------------------------------------------------------------------------
// The one-line init, in a child process.

/// A `MakeWriter` whose writers copy every line to stderr and return the wrapped writer's result:
/// the crate sees the fault, the parent sees what the crate wrote.
struct Mirrored<W>(W);

struct MirroredWriter<W>(W);

impl<W: Write> Write for MirroredWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let result = self.0.write_all(buf);
        // Marked, so the copies are told apart from what the crate itself says on stderr.
        let _ = io::stderr().write_all(&[MIRROR.as_bytes(), buf].concat());
        result
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Mirrored<W> {
    type Writer = MirroredWriter<W::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        MirroredWriter(self.0.make_writer())
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        MirroredWriter(self.0.make_writer_for(meta))
    }
}

/// The cases the tests of this file run in a child process ([`support::child`]), each by its
/// name.
pub const CHILD_CASES: &[support::child::Case] = &[
    ("writer_fault", writer_fault),
    ("writer_panics", writer_panics),
];

/// The one-line init writing to the failing writer `TC_FAULT` names (mirrored to stderr when
/// `TC_MIRRORED` is set), emitting `LINES` events once the parent says "go on".
fn writer_fault() {
    let fault = std::env::var("TC_FAULT").expect("TC_FAULT names the fault");
    let mirrored = std::env::var_os("TC_MIRRORED").is_some();
    // Printed while stdout is still open; the parent closes its end of it (for `stdout_closed`)
    // after reading this line, then closes our stdin to say "go on".
    println!("{READY}");
    let _ = io::stdin().read_to_end(&mut Vec::new());

    let builder = tracing_correlate::builder("checkout");
    let guard = match (fault.as_str(), mirrored) {
        ("stdout_closed", false) => tracing_correlate::init("checkout"),
        ("stdout_closed", true) => builder
            .with_writer(Mirrored(io::stdout))
            .try_init()
            .unwrap(),
        ("dev_full", false) => builder
            .with_writer(Mutex::new(open_dev_full()))
            .try_init()
            .unwrap(),
        ("dev_full", true) => builder
            .with_writer(Mirrored(Mutex::new(open_dev_full())))
            .try_init()
            .unwrap(),
        other => panic!("unknown fault {other:?}"),
    };
    emit(LINES);
    eprintln!("{ALIVE} {LINES} lines");
    drop(guard);
    eprintln!("{SHUT_DOWN}");
    if fault == "stdout_closed" {
        // The service is done and well. The test harness would now print its summary to the
        // closed stdout and fail on `EPIPE` itself; a service's `main` returning is this exit.
        std::process::exit(0);
    }
}

/// What a child did.
struct Run {
    status: ExitStatus,
    stderr: String,
}

impl Run {
    /// The lines the crate wrote, as the `mirrored` scenarios copy them to stderr.
    fn mirrored_lines(&self) -> Vec<Value> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix(MIRROR))
            .map(parse_line)
            .collect()
    }

    /// The child ran to the end: exit status 0, no panic, no abort, both markers on stderr.
    fn assert_ran_to_the_end(&self) {
        assert!(
            self.status.success(),
            "the child exits with success: {:?}\n{}",
            self.status,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "no panic in the child: {}",
            self.stderr
        );
        assert!(
            self.stderr.contains(&format!("{ALIVE} {LINES} lines")),
            "{}",
            self.stderr
        );
        assert!(self.stderr.contains(SHUT_DOWN), "{}", self.stderr);
    }
}

/// The mark of a mirrored line on stderr.
const MIRROR: &str = "mirror: ";

/// Runs the child with `fault` (`stdout_closed` or `dev_full`), its OpenTelemetry environment
/// cleared (console spans, the default), within `DEADLINE`.
fn run_child(fault: &str, mirrored: bool) -> Run {
    let mut cmd = support::child::command("writer_fault");
    cmd.env("TC_FAULT", fault);
    if mirrored {
        cmd.env("TC_MIRRORED", "1");
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = support::child::spawn(&mut cmd);
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();

    let close_stdout = fault == "stdout_closed";
    let (ready_tx, ready) = mpsc::channel();
    let stdout_reader = std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap_or(0) > 0 {
            if line.trim_end() == READY {
                let _ = ready_tx.send(());
                break;
            }
            line.clear();
        }
        if close_stdout {
            // The only read end of the child's stdout: from here on its writes fail with EPIPE.
            let _no_fork = support::child::no_fork();
            drop(stdout);
        } else {
            let _ = stdout.read_to_end(&mut Vec::new());
        }
    });
    let (stderr_tx, stderr_text) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = stderr_tx.send(text);
    });

    let kill = |child: &mut std::process::Child, what: &str| -> ! {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not {what} within {DEADLINE:?}");
    };
    if ready.recv_timeout(DEADLINE).is_err() {
        kill(&mut child, "print its ready line");
    }
    // Wait until the reader has closed the child's stdout (when asked to), then say "go on".
    let stdout_reader = if close_stdout {
        stdout_reader.join().unwrap();
        None
    } else {
        Some(stdout_reader)
    };
    drop(stdin);
    let Ok(stderr) = stderr_text.recv_timeout(DEADLINE) else {
        kill(&mut child, "end");
    };
    let status = child.wait().expect("the child is waited for");
    if let Some(reader) = stdout_reader {
        reader.join().unwrap();
    }
    Run { status, stderr }
}

/// The child's lines, mirrored: every line the crate tried to write before the shutdown line was
/// lost, and the shutdown line, the only one to speak of the loss, counts exactly those.
fn assert_shutdown_line_counts_every_lost_line(run: &Run) {
    run.assert_ran_to_the_end();
    let lines = run.mirrored_lines();
    let reports: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("telemetry shut down"))
        })
        .collect();
    assert_eq!(reports.len(), 1, "one shutdown line: {:#?}", reports);
    let (at, shutdown) = reports[0];
    assert_eq!(at, lines.len() - 1, "the shutdown line is the last one");
    // Before it: the startup line, the events, the console span of `request`.
    let events = lines
        .iter()
        .filter(|l| l["message"] == "order processed")
        .count() as u64;
    assert_eq!(events, LINES);
    assert_eq!(
        shutdown["lines_lost"], at as u64,
        "every line before the shutdown line was lost, and counted: {shutdown}"
    );
    assert_eq!(shutdown["level"], "WARN", "{shutdown}");
    assert_eq!(
        shutdown["message"], "telemetry shut down; some was not delivered",
        "{shutdown}"
    );
    // Reported once: no other line speaks of lost lines (no warning per failed write).
    let mentions = lines
        .iter()
        .filter(|l| l.to_string().contains("lost"))
        .count();
    assert_eq!(
        mentions,
        1,
        "{:#?}",
        &lines[lines.len().saturating_sub(3)..]
    );
    eprintln!(
        "{} lines attempted (mirrored to stderr), lines_lost {}; shutdown line: {shutdown}",
        lines.len(),
        shutdown["lines_lost"]
    );
}

#[test]
fn a_service_whose_stdout_is_closed_keeps_running_and_exits_cleanly() {
    let run = run_child("stdout_closed", false);
    run.assert_ran_to_the_end();
}

#[test]
fn a_closed_stdout_is_counted_and_reported_once_in_the_shutdown_line() {
    assert_shutdown_line_counts_every_lost_line(&run_child("stdout_closed", true));
}

#[test]
fn a_service_logging_to_a_full_disk_keeps_running_and_exits_cleanly() {
    let run = run_child("dev_full", false);
    run.assert_ran_to_the_end();
}

#[test]
fn a_full_disk_is_counted_and_reported_once_in_the_shutdown_line() {
    assert_shutdown_line_counts_every_lost_line(&run_child("dev_full", true));
}

/// The shutdown line goes to the writer that failed, so with stdout closed or the disk full the
/// report of the loss is itself lost: an operator sees a service that exited 0 and nothing else.
/// The loss must reach a human some other way (stderr is the one the process still has).
#[test]
fn a_loss_to_a_failing_writer_is_reported_where_an_operator_can_see_it() {
    for fault in ["stdout_closed", "dev_full"] {
        let run = run_child(fault, false);
        run.assert_ran_to_the_end();
        let reports: Vec<Value> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(parse_line)
            .collect();
        assert_eq!(
            reports.len(),
            1,
            "{fault}: one report on stderr: {}",
            run.stderr
        );
        assert_eq!(reports[0]["level"], "WARN");
        assert!(
            reports[0]["lines_lost"].as_u64().unwrap() > 0,
            "{}",
            reports[0]
        );
        assert!(
            run.stderr.contains("lost"),
            "{fault}: the child exited {:?} and its stderr says nothing of the lines it lost:\n{}",
            run.status,
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A writer that panics, through the init: its panic hook, its console span lines.

/// Writes to stdout; a line holding `boom` gets 10 bytes written, then the writer panics; its
/// `flush` (the console exporter's and the Guard's) panics too.
struct PanicsOnBoom;

struct PanicsOnBoomWriter;

impl Write for PanicsOnBoomWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if String::from_utf8_lossy(buf).contains("boom") {
            io::stdout().write_all(&buf[..10])?;
            panic!("the writer panics on boom");
        }
        io::stdout().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        // Every line ends in a newline, which flushes stdout: nothing is left to lose here.
        io::stdout().flush()?;
        panic!("the writer panics in flush");
    }
}

impl<'a> MakeWriter<'a> for PanicsOnBoom {
    type Writer = PanicsOnBoomWriter;
    fn make_writer(&'a self) -> Self::Writer {
        PanicsOnBoomWriter
    }
}

/// The init writing to [`PanicsOnBoom`]: event lines and console span lines that make the writer
/// panic, between lines that do not, then a panic of the service's own whose hook line holds
/// `boom` too.
fn writer_panics() {
    let guard = tracing_correlate::builder("checkout")
        .with_writer(PanicsOnBoom)
        .try_init()
        .unwrap();
    info!("fine 1");
    info!("boom event");
    info!("fine 2");
    info_span!("boom_span").in_scope(|| {});
    info!("fine 3");
    info_span!("fine_span").in_scope(|| {});
    let panicked = std::thread::spawn(|| panic!("boom in the service")).join();
    assert!(panicked.is_err());
    info!("fine 4");
    drop(guard);
    eprintln!("{SHUT_DOWN}");
}

/// A writer that panics (on event lines, on console span lines, on the panic hook's own line)
/// costs each of those lines, counted; the service neither sees the panic nor aborts, and every
/// other line is written whole, each on a line of its own.
#[test]
fn a_panicking_writer_under_the_init_costs_its_lines_counted_and_never_aborts() {
    let out = support::child::output(&mut support::child::command("writer_panics"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child exits with success: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stderr.contains(SHUT_DOWN), "{stderr}");
    let mut whole = Vec::new();
    let mut fragments = Vec::new();
    for segment in stdout.split('\n').filter(|s| s.starts_with('{')) {
        assert!(
            segment.matches("{\"timestam").count() == 1,
            "one line's start per line: {segment:?}"
        );
        match serde_json::from_str::<Value>(segment) {
            Ok(line) => whole.push(line),
            Err(_) => fragments.push(segment),
        }
    }
    assert_eq!(
        fragments.len(),
        2,
        "the event line and the span line torn: {stdout}"
    );
    let messages: Vec<&str> = whole.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            "telemetry initialised",
            "fine 1",
            "fine 2",
            "fine 3",
            "fine 4",
            "telemetry shut down; some was not delivered"
        ],
        "{stdout}"
    );
    let spans: Vec<&str> = whole
        .iter()
        .filter(|l| l["kind"] == "span")
        .filter_map(|l| l["span_name"].as_str())
        .collect();
    assert_eq!(
        spans,
        ["fine_span"],
        "the span line after a panicked one is written"
    );
    let shutdown = whole.last().unwrap();
    // The event line, the span line, the panic hook's line.
    assert_eq!(shutdown["lines_lost"], 3, "{shutdown}");
}
