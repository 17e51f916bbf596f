//! Non-blocking output: a bounded queue of whole lines between the threads that log and one
//! worker thread that writes them, counting every line it does not write.
//!
//! Written here rather than taken from `tracing-appender`'s `non_blocking`: its worker writes with
//! `write_all` (a torn or refused line is not counted, nor is the next line started on a line of
//! its own), its `WorkerGuard` flushes only when dropped, waiting a fixed second, and the lines still
//! queued when that second ends are lost without being counted. Here the worker writes each line
//! through [`write_line`](crate::line::output::write_line), a flush can be asked for at any time
//! with a bound ([`LineQueue::flush`]), and what is still queued when the Guard gives up is counted
//! ([`LineQueue::abandon`]). The queue itself is `crossbeam-channel`'s bounded channel.
//!
//! Every line given to the queue ends in exactly one of: written (whole), counted in
//! [`Stats::write_errors`] (the writer refused, tore or panicked on it), or counted in
//! [`Stats::lines_dropped`] (the queue was full, or the line was still queued or being written
//! when the Guard gave up on it).

use std::cell::Cell;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use tracing_subscriber::fmt::MakeWriter;

use crate::line::output;
use crate::line::Stats;

/// The lines a non-blocking queue holds unless [`NonBlocking::with_capacity`] says otherwise:
/// about 8 MB of lines of 500 bytes, a second of a service logging 16,000 lines a second.
pub const DEFAULT_NON_BLOCKING_CAPACITY: usize = 16_384;

/// Lines written by a worker thread of their own, through a bounded queue, so that a slow writer
/// (a pipe whose reader is under back-pressure) does not slow the threads that log; given to
/// [`Builder::with_non_blocking`](crate::Builder::with_non_blocking).
///
/// ```no_run
/// use tracing_correlate::NonBlocking;
///
/// let _guard = tracing_correlate::builder("checkout")
///     .with_non_blocking(NonBlocking::lossy().with_capacity(4096))
///     .try_init()?;
/// # Ok::<(), tracing_correlate::InitError>(())
/// ```
///
/// A line is queued whole, and the worker writes it as the layer would have (see
/// [what the layer does when the writer fails](crate::JsonLayer#what-the-layer-does-when-the-writer-fails)),
/// so what the writer refuses or tears is counted in [`Stats::write_errors`] and the Guard's
/// `lines_lost` as before. The worker asks the writer for a writer with `make_writer()`: a
/// `make_writer_for` choosing by the event's metadata is not consulted.
///
/// | setting | default | what it does |
/// |---|---|---|
/// | [`lossy`](NonBlocking::lossy) or [`blocking`](NonBlocking::blocking) | none: without [`Builder::with_non_blocking`](crate::Builder::with_non_blocking), lines are written on the thread that logs | when the queue is full: `lossy` drops the line, counted in [`Stats::lines_dropped`] and the Guard's `lines_dropped`; `blocking` waits for room |
/// | [`with_capacity`](NonBlocking::with_capacity) | [`DEFAULT_NON_BLOCKING_CAPACITY`] (16,384 lines) | how many lines the queue holds (at least 1) |
///
/// The [`Guard`](crate::Guard) flushes the queue when dropped, within its shutdown timeout
/// ([`Builder::with_shutdown_timeout`](crate::Builder::with_shutdown_timeout)); the lines still
/// queued then, and the one the writer is still taking, are given up and counted in
/// `lines_dropped`. The crate's own lines that must not hang (the shutdown line, the panic hook's
/// line) wait for room at most that timeout, in `blocking` mode too, and are counted when they do
/// not get in. A line logged by the writer itself, on the worker thread, never waits (it would
/// wait for itself): it is dropped and counted when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonBlocking {
    lossy: bool,
    capacity: usize,
}

impl NonBlocking {
    /// A full queue drops the line, counted: the thread that logs never waits for the writer.
    pub const fn lossy() -> NonBlocking {
        NonBlocking {
            lossy: true,
            capacity: DEFAULT_NON_BLOCKING_CAPACITY,
        }
    }

    /// A full queue makes the thread that logs wait for room: no line is dropped, and a stalled
    /// writer stalls the service once the queue is full, as a blocking writer would.
    pub const fn blocking() -> NonBlocking {
        NonBlocking {
            lossy: false,
            capacity: DEFAULT_NON_BLOCKING_CAPACITY,
        }
    }

    /// How many lines the queue holds; 0 is raised to 1.
    ///
    /// By default, [`DEFAULT_NON_BLOCKING_CAPACITY`] (16,384).
    pub const fn with_capacity(mut self, lines: usize) -> NonBlocking {
        self.capacity = if lines == 0 { 1 } else { lines };
        self
    }
}

thread_local! {
    /// Set on a queue's worker thread: a line it logs must not wait for room (the worker is the
    /// one that makes room).
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
    /// The latest moment a `blocking` queue may keep this thread waiting for room, while
    /// [`waiting_at_most`] runs.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// While the returned value lives, a `blocking` queue keeps this thread waiting for room no
/// later than `deadline` (a line that does not get in by then is dropped and counted): for the
/// crate's own lines that must not hang, the shutdown line and the panic hook's. (A value rather
/// than a closure: the panic hook's line must not gain a frame, its stack trace starts where the
/// panic happened.)
pub(crate) fn waiting_at_most(deadline: Instant) -> WaitingAtMost {
    WaitingAtMost(
        DEADLINE
            .try_with(|d| d.replace(Some(deadline)))
            .ok()
            .flatten(),
    )
}

/// Restores the thread's previous bound when dropped; see [`waiting_at_most`].
#[derive(Debug)]
pub(crate) struct WaitingAtMost(Option<Instant>);

impl Drop for WaitingAtMost {
    fn drop(&mut self) {
        let _ = DEADLINE.try_with(|d| d.set(self.0));
    }
}

/// `timeout` from now, or a moment far enough away when that cannot be represented.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365))
}

enum Msg {
    Line(Box<[u8]>),
    /// Flush the writer, then say so (every line queued before this one has been handled).
    Flush(Sender<()>),
}

/// What the worker is doing, read and changed under one lock by the worker and by
/// [`LineQueue::abandon`], so that each line is seen either queued or being written, never
/// neither nor both.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InFlight {
    Nothing,
    Writing,
    /// Being written, and already counted as dropped by `abandon`: its outcome is not counted.
    Abandoned,
}

struct Inner {
    sender: Sender<Msg>,
    /// A receiver of the queue's own, for `abandon` to empty it.
    receiver: Receiver<Msg>,
    in_flight: Mutex<InFlight>,
    lossy: bool,
    stats: Stats,
}

/// The sending side of a non-blocking queue, shared by the writers the layer gets and the Guard.
#[derive(Clone)]
pub(crate) struct LineQueue(Arc<Inner>);

impl fmt::Debug for LineQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineQueue")
            .field("lossy", &self.0.lossy)
            .field("queued", &self.0.sender.len())
            .finish_non_exhaustive()
    }
}

impl LineQueue {
    /// Starts the worker thread writing to `make_writer`; `stats` counts the lines lost, dropped
    /// or refused (the layer's, shared with everything writing to this destination).
    pub(crate) fn spawn<W>(make_writer: W, stats: Stats, setting: NonBlocking) -> io::Result<Self>
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        let (sender, receiver) = crossbeam_channel::bounded(setting.capacity.max(1));
        let queue = LineQueue(Arc::new(Inner {
            sender,
            receiver: receiver.clone(),
            in_flight: Mutex::new(InFlight::Nothing),
            lossy: setting.lossy,
            stats,
        }));
        let worker = queue.0.clone();
        std::thread::Builder::new()
            .name("tracing-correlate-writer".into())
            .spawn(move || work(&worker, &receiver, &make_writer))?;
        Ok(queue)
    }

    /// Queues one line, or counts it dropped (see [`NonBlocking`] for when it waits).
    fn push(&self, line: &[u8]) {
        let msg = Msg::Line(line.into());
        let inner = &*self.0;
        let on_worker = ON_WORKER.try_with(Cell::get).unwrap_or(false);
        let queued = if inner.lossy || on_worker {
            inner.sender.try_send(msg).is_ok()
        } else {
            match DEADLINE.try_with(Cell::get).ok().flatten() {
                Some(deadline) => inner.sender.send_deadline(msg, deadline).is_ok(),
                None => inner.sender.send(msg).is_ok(),
            }
        };
        if !queued {
            inner.stats.lines_dropped_by(1);
        }
    }

    /// Waits until every line queued before this call is handled (written, or counted) and the
    /// writer flushed, at most `timeout`: `true` when that happened in time. Lines queued
    /// meanwhile by other threads may or may not be written by then. Nothing is given up: lines
    /// still queued at the timeout stay queued (see [`LineQueue::abandon`]).
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        if ON_WORKER.try_with(Cell::get).unwrap_or(false) {
            // The worker would wait for itself.
            return false;
        }
        let deadline = deadline_after(timeout);
        let (ack, acked) = crossbeam_channel::bounded(1);
        // Waits for room even in a lossy queue: the request is bounded, and it is not a line.
        if self
            .0
            .sender
            .send_deadline(Msg::Flush(ack), deadline)
            .is_err()
        {
            return false;
        }
        acked.recv_deadline(deadline).is_ok()
    }

    /// Lines queued or being written: not yet written nor counted.
    // The Guard's mid-life flush (`Guard::flush`) reports it; the shutdown abandons them.
    #[allow(dead_code)]
    pub(crate) fn pending(&self) -> u64 {
        let in_flight = lock(&self.0.in_flight);
        self.0.sender.len() as u64 + u64::from(*in_flight == InFlight::Writing)
    }

    /// Gives up the lines still queued and the one being written, counting them in
    /// [`Stats::lines_dropped`]; returns how many. Lines queued afterwards are written as usual.
    ///
    /// A line the writer was still taking is counted as dropped even if the writer takes it
    /// whole later (when its reader drains after the Guard gave up): the report says what the
    /// Guard could not deliver in time, and the process usually ends right after it.
    pub(crate) fn abandon(&self) -> u64 {
        let mut in_flight = lock(&self.0.in_flight);
        let mut given_up = 0;
        loop {
            match self.0.receiver.try_recv() {
                Ok(Msg::Line(_)) => given_up += 1,
                // Its flusher sees the acknowledgement's sender dropped: not flushed.
                Ok(Msg::Flush(_)) => {}
                Err(_) => break,
            }
        }
        if *in_flight == InFlight::Writing {
            *in_flight = InFlight::Abandoned;
            given_up += 1;
        }
        drop(in_flight);
        self.0.stats.lines_dropped_by(given_up);
        given_up
    }
}

fn lock(in_flight: &Mutex<InFlight>) -> std::sync::MutexGuard<'_, InFlight> {
    // Only plain stores happen under the lock: a poisoned one still holds a valid state.
    in_flight.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The worker thread's loop: one message at a time, in order, until the process ends (the
/// queue holds a receiver of its own, so the channel never disconnects while it is in use).
fn work<W>(inner: &Inner, receiver: &Receiver<Msg>, make_writer: &W)
where
    W: for<'a> MakeWriter<'a>,
{
    let _ = ON_WORKER.try_with(|w| w.set(true));
    // The writer's own state (torn, panicked): only this thread writes to it. The layer's side
    // of the queue never fails, so the two states never mix; refused lines are counted in the
    // shared `Stats` below.
    let writer_state = Stats::default();
    let mut select = Select::new();
    select.recv(receiver);
    loop {
        // Waits for a message without taking it: it is taken under the lock, so that `abandon`
        // finds every line either in the channel or in flight.
        select.ready();
        let msg = {
            let mut in_flight = lock(&inner.in_flight);
            match receiver.try_recv() {
                Ok(msg) => {
                    if let Msg::Line(_) = msg {
                        *in_flight = InFlight::Writing;
                    }
                    msg
                }
                // `abandon` took it first.
                Err(TryRecvError::Empty) => continue,
                Err(TryRecvError::Disconnected) => return,
            }
        };
        match msg {
            Msg::Line(line) => {
                let written =
                    output::write_line(&writer_state, || make_writer.make_writer(), &line);
                let mut in_flight = lock(&inner.in_flight);
                if written.is_err() && *in_flight == InFlight::Writing {
                    inner.stats.write_failed();
                }
                *in_flight = InFlight::Nothing;
            }
            Msg::Flush(ack) => {
                // A flush that fails loses what the writer held, which it does not say.
                let _ = output::flush(&writer_state, || make_writer.make_writer());
                let _ = ack.send(());
            }
        }
    }
}

impl<'a> MakeWriter<'a> for LineQueue {
    type Writer = QueuedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        QueuedLine(self)
    }
}

/// The writer the layer gets: each `write` is one whole line (the layer hands a line over in one
/// `write` call, which this writer always takes whole), queued.
#[derive(Debug)]
pub(crate) struct QueuedLine<'a>(&'a LineQueue);

impl io::Write for QueuedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.is_empty() {
            self.0.push(buf);
        }
        Ok(buf.len())
    }

    /// Does not wait for the worker: the Guard and the panic hook flush the queue with a bound
    /// ([`LineQueue::flush`]).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where the init's lines go: to the writer, on the thread that logs, or through a queue.
#[derive(Debug)]
pub(crate) enum Output<W> {
    Direct(W),
    Queued(LineQueue),
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Output<W> {
    type Writer = OutputWriter<'a, W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        match self {
            Output::Direct(w) => OutputWriter::Direct(w.make_writer()),
            Output::Queued(queue) => OutputWriter::Queued(queue.make_writer()),
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        match self {
            Output::Direct(w) => OutputWriter::Direct(w.make_writer_for(meta)),
            Output::Queued(queue) => OutputWriter::Queued(queue.make_writer()),
        }
    }
}

/// The writer of an [`Output`].
#[derive(Debug)]
pub(crate) enum OutputWriter<'a, W> {
    Direct(W),
    Queued(QueuedLine<'a>),
}

impl<W: io::Write> io::Write for OutputWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutputWriter::Direct(w) => w.write(buf),
            OutputWriter::Queued(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutputWriter::Direct(w) => w.write_all(buf),
            OutputWriter::Queued(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutputWriter::Direct(w) => w.flush(),
            OutputWriter::Queued(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Condvar;

    /// A writer that keeps every byte and stalls in `write` until its gate opens: a reader that
    /// stalls, under the test's control.
    #[derive(Clone, Default)]
    struct Gated(Arc<(Mutex<GateState>, Condvar)>);

    /// Whether the gate is open, and the bytes written.
    type GateState = (bool, Vec<u8>);

    impl Gated {
        fn open(&self) {
            self.0 .0.lock().unwrap().0 = true;
            self.0 .1.notify_all();
        }
        fn lines(&self) -> Vec<String> {
            let state = self.0 .0.lock().unwrap();
            String::from_utf8_lossy(&state.1)
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    impl io::Write for &Gated {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (lock, opened) = &*self.0;
            let mut state = opened
                .wait_while(lock.lock().unwrap(), |(open, _)| !*open)
                .unwrap();
            state.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Gated {
        type Writer = &'a Gated;
        fn make_writer(&'a self) -> Self::Writer {
            self
        }
    }

    /// Waits until the worker has taken every queued line and is writing one.
    fn until_writing(queue: &LineQueue) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(queue.0.sender.is_empty() && queue.pending() == 1) {
            assert!(Instant::now() < deadline, "the worker never took the line");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_flush_is_bounded_while_the_writer_stalls_and_succeeds_once_it_drains() {
        let gate = Gated::default();
        let stats = Stats::default();
        let queue = LineQueue::spawn(gate.clone(), stats.clone(), NonBlocking::blocking()).unwrap();
        queue.push(b"first\n");
        until_writing(&queue);
        assert!(
            !queue.flush(Duration::from_millis(20)),
            "the writer is stalled"
        );
        gate.open();
        assert!(queue.flush(Duration::from_secs(30)));
        assert_eq!(queue.pending(), 0);
        assert_eq!(gate.lines(), ["first"]);
        assert_eq!((stats.lines_dropped(), stats.write_errors()), (0, 0));
    }

    #[test]
    fn abandon_counts_the_queued_lines_and_the_one_being_written_once() {
        let gate = Gated::default();
        let stats = Stats::default();
        let setting = NonBlocking::lossy().with_capacity(2);
        let queue = LineQueue::spawn(gate.clone(), stats.clone(), setting).unwrap();
        queue.push(b"in flight\n");
        until_writing(&queue);
        for line in ["queued 1\n", "queued 2\n", "dropped 1\n", "dropped 2\n"] {
            queue.push(line.as_bytes());
        }
        assert_eq!(stats.lines_dropped(), 2, "the full queue dropped two");
        assert_eq!(queue.abandon(), 3, "two queued and the one being written");
        assert_eq!(stats.lines_dropped(), 5);
        assert_eq!(queue.pending(), 0);
        // Lines queued after it are written as usual; the abandoned one's outcome is not
        // counted again (it was counted as dropped, and lands when the writer takes it).
        queue.push(b"after\n");
        gate.open();
        assert!(queue.flush(Duration::from_secs(30)));
        assert_eq!(gate.lines(), ["in flight", "after"]);
        assert_eq!((stats.lines_dropped(), stats.write_errors()), (5, 0));
    }
}
