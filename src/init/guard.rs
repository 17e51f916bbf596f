//! The guard the init returns: on drop, flushes and shuts the telemetry down within a bound,
//! whatever the collector does, and reports in one line what was delivered and what was lost.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::init::export::{Delivery, ExportRuntime};
use crate::init::sdk_gate::SdkGate;
use crate::line::non_blocking::{deadline_after, waiting_at_most, LineQueue};
use crate::Stats;

/// Flushes and shuts down the telemetry when dropped; returned by [`init`](crate::init) and friends.
///
/// Dropping it flushes the span and log exporters and the writer, then shuts them down, taking at
/// most the shutdown timeout ([`Builder::with_shutdown_timeout`](crate::Builder::with_shutdown_timeout), 5 s by default) whatever the
/// collector does (refuses connections, never answers), also inside a Tokio runtime. It then
/// writes one line saying what was delivered and what was lost; when lines themselves were lost
/// (stdout closed, a full disk), that report also goes to stderr, since the writer failed. A span
/// line the console exporter could not write counts as a lost line and a lost span. It never
/// panics.
///
/// [`Guard::flush`] delivers what is queued without shutting down, and writes a `telemetry
/// flushed` line with the same figures. Dropping it is what delivers the last spans: a process
/// ended by a signal runs no destructor, so a server should stop on
/// [`shutdown_signal`](crate::shutdown_signal) and let `main` return.
///
/// With [`Builder::with_non_blocking`](crate::Builder::with_non_blocking), the lines still queued
/// get what is left of the timeout once the exporters are shut down; those the writer has not
/// taken by then are given up and counted in `lines_dropped`, and the line reports them. The
/// shutdown line itself goes through the queue, waiting for room no later than the timeout; when
/// it is not written in time (the queue full, or the writer stalled), the report goes to stderr
/// too, counting it.
///
/// The shutdown line is the last line of the SDK and its exporters: a shutdown that did not end
/// in time (`timed_out`) goes on in the background, and what the SDK then reports (export
/// errors, its own shutdown timing out) is not written, since the line already says it. Those
/// lines are told by their targets, the SDK's and its transports' (`opentelemetry*`, `hyper`,
/// `hyper_util`, `h2`, `tonic`, `reqwest`, `tower`): a line of the service's own HTTP stack under those
/// targets after the guard is dropped is not written either, nor counted. Every other line the
/// service writes after dropping the guard is written as usual.
///
/// The line's fields: `spans_exported`; `spans_lost` (ended and not exported: dropped at a full
/// queue, refused by the collector, or still queued when the timeout came); `logs_lost` (OTLP
/// log records emitted and not exported, on the same terms); `lines_lost` (lines the writer did
/// not take whole: refused, torn part-way, or lost to a writer that panicked; and re-entrant events
/// dropped); `lines_dropped` (with [`Builder::with_non_blocking`](crate::Builder::with_non_blocking):
/// lines the queue did not pass to the writer, dropped at a full `lossy` queue, or still queued or
/// being written when the timeout came; always 0 without it); `sdk_lines_suppressed` (the SDK's
/// own lines left out by the throttle, see
/// [`JsonLayer::with_sdk_line_interval`](crate::JsonLayer::with_sdk_line_interval)); with
/// [held lines](crate::HeldLines), `held_lines_written`, `held_lines_discarded`,
/// `held_lines_dropped` and `held_lines_open` (held by traces still open: from the shutdown on,
/// nothing is held, and these are never written); `shutdown_ms`;
/// and `timed_out` when the report is a WARN (also when the queued lines were not all written in
/// time).
#[must_use = "dropping the guard at once shuts telemetry down at once: bind it for the whole of \
              `main` with `let _guard = ...` (not `let _ = ...`)"]
pub struct Guard {
    state: Option<GuardState>,
}

/// What the guard flushes, shuts down and reports on.
pub(crate) struct GuardState {
    pub(crate) tracer_provider: SdkTracerProvider,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub(crate) runtime: Option<ExportRuntime>,
    pub(crate) timeout: Duration,
    pub(crate) delivery: Arc<Delivery>,
    pub(crate) stats: Stats,
    pub(crate) service: String,
    /// Flushes the writer (through the queue, with it), at most the given time when there is a
    /// queue: `true` when everything given to it before the call was handled in time.
    pub(crate) flush_writer: Box<dyn Fn(Duration) -> bool + Send + Sync>,
    /// The non-blocking output's queue (`Builder::with_non_blocking`).
    pub(crate) queue: Option<LineQueue>,
    /// Closed just before the shutdown line: no line of the SDK follows it.
    pub(crate) sdk_gate: Arc<SdkGate>,
    /// Whether the JSON layer holds lines (`Builder::with_held_lines`): the lines report them.
    pub(crate) holds_lines: bool,
}

impl Guard {
    pub(crate) fn new(state: GuardState) -> Guard {
        Guard { state: Some(state) }
    }

    /// Flushes what is queued (spans, OTLP log records, the writer's lines, through the
    /// non-blocking queue when there is one) without shutting anything down, taking at most the
    /// shutdown timeout, and writes one line saying what has been delivered and lost since the
    /// init: `telemetry flushed`, with the shutdown line's figures and `flush_ms` (a WARN,
    /// `telemetry flushed; some was not delivered`, when something was lost, or is still queued,
    /// or the flush did not end in time). It returns the same figures.
    ///
    /// For what ends without `main` returning: a serverless handler between invocations (the
    /// process may be frozen or killed before the next), a batch job between batches. A flush
    /// that does not end in time goes on in the background; nothing is given up, and the next
    /// flush or the shutdown waits for it as usual.
    ///
    /// ```no_run
    /// let guard = tracing_correlate::init("billing-job");
    /// for batch in 0..3 {
    ///     tracing::info!(batch, "batch done");
    ///     let report = guard.flush();
    ///     if report.spans_lost > 0 {
    ///         eprintln!("{} spans lost so far", report.spans_lost);
    ///     }
    /// }
    /// ```
    pub fn flush(&self) -> FlushReport {
        let Some(state) = &self.state else {
            return FlushReport::default();
        };
        let started = Instant::now();
        let deadline = deadline_after(state.timeout);
        let tracer_provider = state.tracer_provider.clone();
        let logger_provider = state.logger_provider.clone();
        let in_time = bounded(state.timeout, move || {
            let _ = tracer_provider.force_flush();
            if let Some(logger_provider) = logger_provider {
                let _ = logger_provider.force_flush();
            }
        });
        // The lines (the console spans among them) get what is left of the bound; nothing is
        // given up mid-life (`abandon` is the shutdown's).
        let lines_in_time =
            (state.flush_writer)(deadline.saturating_duration_since(Instant::now()));
        let report = state.report(in_time && lines_in_time);
        // The held lines' figures are written only when lines are held.
        let held = state.holds_lines.then_some(report);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // A full `blocking` queue keeps this line waiting no later than the deadline.
        let waiting = waiting_at_most(deadline_after(state.timeout));
        if report.delivered_all() {
            tracing::info!(
                target: "tracing_correlate",
                spans_exported = report.spans_exported,
                spans_lost = report.spans_lost,
                logs_lost = report.logs_lost,
                lines_lost = report.lines_lost,
                lines_dropped = report.lines_dropped,
                sdk_lines_suppressed = report.sdk_lines_suppressed,
                held_lines_written = held.map(|r| r.held_lines_written),
                held_lines_discarded = held.map(|r| r.held_lines_discarded),
                held_lines_dropped = held.map(|r| r.held_lines_dropped),
                held_lines_open = held.map(|r| r.held_lines_open),
                flush_ms = elapsed_ms,
                "telemetry flushed"
            );
        } else {
            tracing::warn!(
                target: "tracing_correlate",
                spans_exported = report.spans_exported,
                spans_lost = report.spans_lost,
                logs_lost = report.logs_lost,
                lines_lost = report.lines_lost,
                lines_dropped = report.lines_dropped,
                sdk_lines_suppressed = report.sdk_lines_suppressed,
                held_lines_written = held.map(|r| r.held_lines_written),
                held_lines_discarded = held.map(|r| r.held_lines_discarded),
                held_lines_dropped = held.map(|r| r.held_lines_dropped),
                held_lines_open = held.map(|r| r.held_lines_open),
                flush_ms = elapsed_ms,
                timed_out = report.timed_out,
                "telemetry flushed; some was not delivered"
            );
        }
        drop(waiting);
        // After the line, so that it is written too.
        let _ = (state.flush_writer)(state.timeout);
        report
    }
}

/// What has been delivered and lost since the init, as [`Guard::flush`] returns it: the figures of
/// the flush and shutdown lines (see [`Guard`]'s table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Spans the exporter delivered.
    pub spans_exported: u64,
    /// Spans ended and not exported: dropped at a full queue, refused by the collector, or still
    /// queued when the flush's bound came.
    pub spans_lost: u64,
    /// OTLP log records emitted and not exported, on the same terms.
    pub logs_lost: u64,
    /// Lines the writer did not take whole, and re-entrant events dropped.
    pub lines_lost: u64,
    /// With the non-blocking output: lines dropped at a full `lossy` queue, and lines still
    /// queued when the flush's bound came (not given up: they may be written later).
    pub lines_dropped: u64,
    /// The SDK's own lines left out by the throttle (not lost: reported).
    pub sdk_lines_suppressed: u64,
    /// With [held lines](crate::HeldLines): held lines written, because their trace failed.
    pub held_lines_written: u64,
    /// Held lines discarded, because their trace ended without failing (not lost: what holding
    /// is for).
    pub held_lines_discarded: u64,
    /// Lines not held, or no longer held, because of a bound (see [`HeldLines`](crate::HeldLines)).
    pub held_lines_dropped: u64,
    /// Lines held now by traces still open (at shutdown: never written).
    pub held_lines_open: u64,
    /// The flush did not end within the shutdown timeout.
    pub timed_out: bool,
}

impl FlushReport {
    /// Nothing lost or still queued, and in time.
    pub fn delivered_all(&self) -> bool {
        self.spans_lost + self.logs_lost + self.lines_lost + self.lines_dropped == 0
            && !self.timed_out
    }
}

impl GuardState {
    /// The figures now, for a flush; `in_time`: whether it ended within its bound.
    fn report(&self, in_time: bool) -> FlushReport {
        let d = &self.delivery;
        let spans_exported = Delivery::get(&d.spans_exported);
        FlushReport {
            spans_exported,
            spans_lost: Delivery::get(&d.spans_ended).saturating_sub(spans_exported),
            logs_lost: Delivery::get(&d.logs_emitted)
                .saturating_sub(Delivery::get(&d.logs_exported)),
            lines_lost: self.stats.write_errors() + self.stats.dropped_reentrant(),
            lines_dropped: self.stats.lines_dropped()
                + self.queue.as_ref().map_or(0, LineQueue::pending),
            sdk_lines_suppressed: self.stats.sdk_lines_suppressed(),
            held_lines_written: self.stats.held_lines_written(),
            held_lines_discarded: self.stats.held_lines_discarded(),
            held_lines_dropped: self.stats.held_lines_dropped(),
            held_lines_open: self.stats.held_lines_pending(),
            timed_out: !in_time,
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Set once the guard has shut telemetry down, so a panic hook running later does not flush.
pub(crate) static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// Runs `work` on a thread of its own and waits for it at most `timeout`: `true` when it ended
/// in time. A thread that does not end in time is left to finish (or not) by itself.
pub(crate) fn bounded(timeout: Duration, work: impl FnOnce() + Send + 'static) -> bool {
    let (done, finished) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tracing-correlate-shutdown".into())
        .spawn(move || {
            work();
            let _ = done.send(());
        });
    spawned.is_ok() && finished.recv_timeout(timeout).is_ok()
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        SHUT_DOWN.store(true, Ordering::SeqCst);
        // Nothing is held past the guard: later lines are written at once.
        state.stats.close_holding();
        let started = std::time::Instant::now();
        let deadline = deadline_after(state.timeout);
        let tracer_provider = state.tracer_provider.clone();
        let logger_provider = state.logger_provider.clone();
        let in_time = bounded(state.timeout, move || {
            let _ = tracer_provider.shutdown();
            if let Some(logger_provider) = logger_provider {
                let _ = logger_provider.shutdown();
            }
        });
        // The queued lines (the console spans among them) get what is left of the timeout; what
        // the queue still holds then is given up, and counted.
        let lines_in_time = match &state.queue {
            Some(queue) => {
                let in_time = queue.flush(deadline.saturating_duration_since(Instant::now()));
                queue.abandon();
                in_time
            }
            None => true,
        };
        let in_time = in_time && lines_in_time;
        let d = &state.delivery;
        let ended = Delivery::get(&d.spans_ended);
        let exported = Delivery::get(&d.spans_exported);
        let spans_lost = ended.saturating_sub(exported);
        let logs_lost =
            Delivery::get(&d.logs_emitted).saturating_sub(Delivery::get(&d.logs_exported));
        let lines_lost = state.stats.write_errors() + state.stats.dropped_reentrant();
        let lines_dropped = state.stats.lines_dropped();
        // Not lost (each written line of the callsite counts those before it), but reported.
        let sdk_lines_suppressed = state.stats.sdk_lines_suppressed();
        // Held lines of traces still open are never written; the others were written (their
        // trace failed) or discarded as their trace ended.
        let held = state.holds_lines.then(|| state.report(in_time));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // A shutdown that did not end in time goes on in the background, and the SDK then reports
        // what it sees (export errors, its own timeout): what `timed_out` and the counts say.
        state.sdk_gate.close();
        // A full `blocking` queue keeps this line waiting no later than the deadline.
        let waiting = waiting_at_most(deadline);
        if spans_lost + logs_lost + lines_lost + lines_dropped > 0 || !in_time {
            tracing::warn!(
                target: "tracing_correlate",
                spans_exported = exported,
                spans_lost,
                logs_lost,
                lines_lost,
                lines_dropped,
                sdk_lines_suppressed,
                held_lines_written = held.map(|r| r.held_lines_written),
                held_lines_discarded = held.map(|r| r.held_lines_discarded),
                held_lines_dropped = held.map(|r| r.held_lines_dropped),
                held_lines_open = held.map(|r| r.held_lines_open),
                shutdown_ms = elapsed_ms,
                timed_out = !in_time,
                "telemetry shut down; some was not delivered"
            );
        } else {
            tracing::info!(
                target: "tracing_correlate",
                spans_exported = exported,
                spans_lost,
                logs_lost,
                lines_lost,
                lines_dropped,
                sdk_lines_suppressed,
                held_lines_written = held.map(|r| r.held_lines_written),
                held_lines_discarded = held.map(|r| r.held_lines_discarded),
                held_lines_dropped = held.map(|r| r.held_lines_dropped),
                held_lines_open = held.map(|r| r.held_lines_open),
                shutdown_ms = elapsed_ms,
                "telemetry shut down"
            );
        }
        drop(waiting);
        let _ = (state.flush_writer)(deadline.saturating_duration_since(Instant::now()));
        if let Some(queue) = &state.queue {
            queue.abandon();
        }
        // The line above went to the writer; when that writer is what failed (stdout closed, disk
        // full), the report is lost with it, and so it is when the queue had no room for it or
        // could not write it in time. Then the report goes to stderr, the one channel the process
        // still has, as one JSON line (counting the shutdown line's own loss too).
        let lines_lost = state.stats.write_errors() + state.stats.dropped_reentrant();
        let shutdown_line_dropped = state.stats.lines_dropped() > lines_dropped;
        let lines_dropped = state.stats.lines_dropped();
        if lines_lost > 0 || shutdown_line_dropped {
            let mut timestamp = String::new();
            crate::line::timestamp::push_now(&mut timestamp);
            let mut line = serde_json::json!({
                "timestamp": timestamp,
                "level": "WARN",
                "service": state.service,
                "target": "tracing_correlate",
                "message": "telemetry shut down; some was not delivered",
                "spans_exported": exported,
                "spans_lost": spans_lost,
                "logs_lost": logs_lost,
                "lines_lost": lines_lost,
                "lines_dropped": lines_dropped,
                "sdk_lines_suppressed": sdk_lines_suppressed,
                "shutdown_ms": elapsed_ms,
                "timed_out": !in_time,
            });
            if let (Some(held), Some(line)) = (held, line.as_object_mut()) {
                line.insert("held_lines_written".into(), held.held_lines_written.into());
                line.insert(
                    "held_lines_discarded".into(),
                    held.held_lines_discarded.into(),
                );
                line.insert("held_lines_dropped".into(), held.held_lines_dropped.into());
                line.insert("held_lines_open".into(), held.held_lines_open.into());
            }
            let _ = writeln!(io::stderr(), "{line}");
        }
        match state.runtime {
            // Exports may still be running on it: let them fail by themselves.
            Some(runtime) if !in_time => runtime.leak(),
            other => drop(other),
        }
    }
}
