//! Non-blocking output (`Builder::with_non_blocking`) against a stalled reader: the child's stdout
//! is a pipe the parent holds and reads only when the test says, so a full pipe is a stalled log
//! shipper, for real.
//!
//! Each case emits `LINES` events (about 250 bytes each, far more than the pipe's 64 KiB holds),
//! with `OTEL_TRACES_EXPORTER=none` so that the lines are the startup line, the events and the
//! shutdown line. A line is under `PIPE_BUF` bytes, so the kernel takes it whole or not at all:
//! whatever the pipe holds when the child ends is whole lines, and those are the lines written.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::{info, info_span};
use tracing_correlate::NonBlocking;

use crate::support;
use crate::support::parse::parse_line;

/// Events each case emits.
const LINES: u64 = 5_000;
/// The queue's capacity in the cases that set one: far less than the events.
const CAPACITY: usize = 64;
/// How long a child may take before the test kills it and fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// What a child writes on stderr once it has emitted its events, and before and after it drops
/// its guard.
const ALIVE: &str = "child alive after emitting";
const DROPPING: &str = "child drops its guard";
const SHUT_DOWN: &str = "child dropped its guard";

/// The cases of this file, run in a child process ([`support::child`]).
pub const CHILD_CASES: &[support::child::Case] = &[("non_blocking", non_blocking)];

/// The init with the non-blocking output `TC_MODE` names (`lossy` or `blocking`, with a queue of
/// `CAPACITY` lines; `lossy_default`: the default capacity), its shutdown timeout
/// `TC_SHUTDOWN_MS`; emits `LINES` events in a span, then drops the guard.
fn non_blocking() {
    let setting = match std::env::var("TC_MODE").unwrap().as_str() {
        "lossy" => NonBlocking::lossy().with_capacity(CAPACITY),
        "blocking" => NonBlocking::blocking().with_capacity(CAPACITY),
        "lossy_default" => NonBlocking::lossy(),
        other => panic!("unknown mode {other:?}"),
    };
    let timeout: u64 = std::env::var("TC_SHUTDOWN_MS").unwrap().parse().unwrap();
    let guard = tracing_correlate::builder("checkout")
        .with_non_blocking(setting)
        .with_shutdown_timeout(Duration::from_millis(timeout))
        .try_init()
        .unwrap();
    let span = info_span!("request", route = "/orders", customer = "c-1842");
    let entered = span.enter();
    for n in 0..LINES {
        info!(n, sku = "sku-7", quantity = 3, "order processed");
    }
    drop(entered);
    eprintln!("{ALIVE} {LINES} events");
    eprintln!("{DROPPING}");
    drop(guard);
    eprintln!("{SHUT_DOWN}");
    // The test harness would print its summary to stdout, which may be a full pipe nobody reads:
    // a service's `main` returning is this exit.
    std::process::exit(0);
}

/// A child running the case, its stdout a pipe this process holds unread, its stderr read line
/// by line into `stderr`.
struct Run {
    child: Child,
    stdout: Option<ChildStdout>,
    stderr: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
}

impl Run {
    fn start(mode: &str, shutdown_ms: u64) -> Run {
        let mut cmd = support::child::command("non_blocking");
        cmd.env("TC_MODE", mode)
            .env("TC_SHUTDOWN_MS", shutdown_ms.to_string())
            .env("OTEL_TRACES_EXPORTER", "none")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = support::child::spawn(&mut cmd);
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Run {
            child,
            stdout,
            stderr: rx,
            stderr_seen: Vec::new(),
        }
    }

    /// Reads the child's stderr until a line equal to `marker`; kills the child and fails when
    /// it does not come within the deadline (or the child ends first).
    fn wait_for(&mut self, marker: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line == marker;
                    self.stderr_seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "the child did not write {marker:?} within {DEADLINE:?} (stderr so far: {:#?})",
                        self.stderr_seen
                    );
                }
            }
        }
    }

    /// Waits until the child's stdout pipe is full: the child's writer is stalled.
    fn wait_until_stdout_is_full(&mut self) {
        let fd = self.stdout.as_ref().unwrap().as_raw_fd();
        let deadline = Instant::now() + DEADLINE;
        // The pipe is 16 pages, each filled with whole writes: a line that does not fit in a
        // page's rest starts the next page, so a full pipe of ~300-byte lines holds at least
        // 16 pages less a line each (62,754 of 65,536 bytes in one run).
        while queued_bytes(fd) + 16 * 512 < pipe_size(fd) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the child's stdout did not fill within {DEADLINE:?}: {} of {} bytes",
                    queued_bytes(fd),
                    pipe_size(fd)
                );
            }
            std::thread::yield_now();
        }
    }

    /// Reads the child's stdout to its end (the child's exit closes it) and waits for the child;
    /// returns the JSON lines of stdout and of stderr. With `after_exit`, stdout is read only
    /// once the child has exited: what it holds is what the child wrote, and reading does not
    /// unblock a write the guard has given up on (it would land in the pipe after the report
    /// counted it as dropped).
    fn finish(mut self, after_exit: bool) -> (Vec<Value>, Vec<Value>) {
        if after_exit {
            // The child has said it dropped its guard and exits right after: wait for that.
            let deadline = Instant::now() + DEADLINE;
            while self.child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    panic!("the child did not exit within {DEADLINE:?}");
                }
                std::thread::yield_now();
            }
        }
        let mut stdout = self.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        let Ok(stdout) = rx.recv_timeout(DEADLINE) else {
            let _ = self.child.kill();
            panic!("the child did not end within {DEADLINE:?}");
        };
        let status = self.child.wait().unwrap();
        let stderr: Vec<String> = self
            .stderr_seen
            .into_iter()
            .chain(self.stderr.iter())
            .collect();
        assert!(
            status.success(),
            "the child exits with success: {status:?}\n{stderr:#?}"
        );
        assert!(
            !stderr.iter().any(|l| l.contains("panicked")),
            "{stderr:#?}"
        );
        assert!(stderr.iter().any(|l| l == SHUT_DOWN), "{stderr:#?}");
        // Every segment of stdout that starts a line of the crate is one whole JSON line (the
        // harness writes its own first line there too).
        let lines = stdout
            .split_terminator('\n')
            .filter(|l| l.starts_with('{'))
            .map(parse_line)
            .collect();
        let reports = stderr
            .iter()
            .filter(|l| l.starts_with('{'))
            .map(|l| parse_line(l))
            .collect();
        (lines, reports)
    }
}

/// Bytes waiting in the pipe of `fd` (`FIONREAD`).
fn queued_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: `FIONREAD` writes one `c_int` to the pointer given, which points to `n`.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    assert_eq!(r, 0, "FIONREAD: {}", std::io::Error::last_os_error());
    n as usize
}

/// The capacity of the pipe of `fd` (`F_GETPIPE_SZ`).
fn pipe_size(fd: RawFd) -> usize {
    // SAFETY: `F_GETPIPE_SZ` takes no argument and only reads the descriptor's pipe.
    let r = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    assert!(r > 0, "F_GETPIPE_SZ: {}", std::io::Error::last_os_error());
    r as usize
}

fn events(lines: &[Value]) -> Vec<u64> {
    lines
        .iter()
        .filter(|l| l["message"] == "order processed")
        .map(|l| l["n"].as_u64().unwrap())
        .collect()
}

fn is_shutdown_line(line: &Value) -> bool {
    line["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("telemetry shut down"))
}

/// A pipe nobody reads, a lossy queue: the thread that logs completes every event while the pipe
/// is full, and what the writer took plus what the queue dropped is what was emitted; the drops
/// are reported once, by the shutdown report, which (the pipe full) goes to stderr.
#[test]
fn a_stalled_reader_with_a_lossy_queue_never_blocks_and_written_plus_dropped_equals_emitted() {
    let mut run = Run::start("lossy", 200);
    // Completing the events while nothing reads the pipe is what shows the request thread did
    // not wait: a blocking writer would stall it at the 64 KiB the pipe holds.
    run.wait_for(&format!("{ALIVE} {LINES} events"));
    run.wait_until_stdout_is_full();
    run.wait_for(SHUT_DOWN);
    let (written, reports) = run.finish(true);

    assert_eq!(reports.len(), 1, "one report on stderr: {reports:#?}");
    let report = &reports[0];
    assert_eq!(
        report["message"], "telemetry shut down; some was not delivered",
        "{report}"
    );
    assert_eq!(report["level"], "WARN", "{report}");
    assert_eq!(
        report["lines_lost"], 0,
        "the writer refused nothing: {report}"
    );
    assert_eq!(
        report["timed_out"], true,
        "the queue was not drained: {report}"
    );
    let dropped = report["lines_dropped"].as_u64().unwrap();
    // The startup line, the events, the shutdown line.
    let emitted = 1 + LINES + 1;
    assert_eq!(
        written.len() as u64 + dropped,
        emitted,
        "written {} + dropped {dropped} = emitted {emitted}; not events: {:#?}; {report}",
        written.len(),
        written
            .iter()
            .filter(|l| l["message"] != "order processed")
            .collect::<Vec<_>>()
    );
    assert!(
        dropped >= LINES / 2,
        "most lines found the queue full: {report}"
    );
    // The pipe holds whole lines, the first ones, in order; the shutdown line is not among them
    // (it found the queue full): the report on stderr is its one copy.
    assert_eq!(written[0]["message"], "telemetry initialised");
    let ns = events(&written);
    assert_eq!(
        ns.len() + 1,
        written.len(),
        "only events after the startup line"
    );
    assert!(ns.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(!written.iter().any(is_shutdown_line));
    eprintln!(
        "lossy, queue {CAPACITY}, stalled pipe: written {} + dropped {dropped} = {emitted}",
        written.len()
    );
}

/// A blocking queue against a reader that stalls until the pipe is full, then drains it: the
/// thread that logs waits (it cannot emit `LINES` events into 64 KiB and 64 queued lines
/// otherwise) and nothing is lost.
#[test]
fn a_blocking_queue_loses_nothing_once_the_reader_drains() {
    let mut run = Run::start("blocking", 5_000);
    run.wait_until_stdout_is_full();
    let (written, reports) = run.finish(false);

    assert!(
        reports.is_empty(),
        "no loss to report on stderr: {reports:#?}"
    );
    assert_eq!(written[0]["message"], "telemetry initialised");
    assert_eq!(events(&written), (0..LINES).collect::<Vec<_>>());
    let shutdown = written.last().unwrap();
    assert!(
        is_shutdown_line(shutdown),
        "the shutdown line last: {shutdown}"
    );
    assert_eq!(shutdown["message"], "telemetry shut down", "{shutdown}");
    assert_eq!(shutdown["lines_dropped"], 0, "{shutdown}");
    assert_eq!(shutdown["lines_lost"], 0, "{shutdown}");
    assert_eq!(written.len() as u64, 1 + LINES + 1);
}

/// The guard flushes the queue when dropped: at the drop, the pipe is full and most lines are
/// still queued; the reader drains it from then on, and every line is written before the child
/// exits, the shutdown line last.
#[test]
fn the_guard_flushes_the_queue_on_drop() {
    let mut run = Run::start("lossy_default", 30_000);
    run.wait_for(DROPPING);
    // Nothing has been read: most of the lines are still in the queue.
    run.wait_until_stdout_is_full();
    let (written, reports) = run.finish(false);

    assert!(
        reports.is_empty(),
        "no loss to report on stderr: {reports:#?}"
    );
    assert_eq!(events(&written), (0..LINES).collect::<Vec<_>>());
    let shutdown = written.last().unwrap();
    assert_eq!(shutdown["message"], "telemetry shut down", "{shutdown}");
    assert_eq!(shutdown["lines_dropped"], 0, "{shutdown}");
    assert_eq!(written.len() as u64, 1 + LINES + 1);
}
