//! Handing one whole line to a writer: every byte it takes is counted, a line it tears is
//! finished by a newline before the next line, and a writer that panics is contained.
//!
//! Everything that writes lines to one destination (under the init: the event lines, the console
//! span lines, the startup and shutdown lines) writes them here with the same [`Stats`], which
//! holds the destination's state: whether its last line was torn, and whether its writer has
//! panicked.
//!
//! `write_all` cannot be used: on an error it does not say how many bytes went out, so a torn
//! line could not be told from a refused one. The loop below is `write_all`'s, keeping the count.

use std::cell::Cell;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::line::Stats;

/// `Interrupted` answers in a row after which a line is given up: `write_all` retries them without
/// end, which a writer that always answers so would turn into a spin on the caller's thread.
const MAX_INTERRUPTED: u32 = 16;

thread_local! {
    /// How many writer calls of this module are running on this thread (a writer that logs
    /// nests them).
    static WRITING: Cell<u32> = const { Cell::new(0) };
}

/// Whether a writer is being called by this module on this thread: a panic raised now comes
/// from inside a writer (or from what it called), and a panic hook must not log through it.
pub(crate) fn in_writer() -> bool {
    WRITING.try_with(|w| w.get() > 0).unwrap_or(false)
}

/// Why a line was not written whole.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The writer (or `make_writer`) returned an error, or `Ok(0)`.
    Io(io::Error),
    /// The writer (or `make_writer`, or its drop) panicked, with this message.
    Panicked(String),
    /// The writer was not called: the thread is panicking, and a panic of the writer now would
    /// abort the process (see [`write_line`]).
    NotCalled,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Io(error) => write!(f, "{error}"),
            Failure::Panicked(message) => write!(f, "the writer panicked: {message}"),
            Failure::NotCalled => f.write_str("the writer was not called during a panic"),
        }
    }
}

/// Writes `line` (one whole line, ending in `\n`) to the writer `make_writer` returns, and counts
/// it in `stats` when it is not written whole.
///
/// - A line the writer takes part of and then refuses (an error, `Ok(0)`, `WouldBlock`: never
///   waited on, nor retried) is torn: it is counted, and the next line written through `stats`
///   starts with a `\n`, so that the fragment sits alone on its line and the next line is whole.
///   A line of which only the final `\n` is missing is whole: that `\n` comes first next time.
/// - A writer that panics (in `make_writer`, `write`, or when dropped) costs its line, counted
///   as a write error; the panic goes no further. As it may have written part of the line, the
///   next line starts with a `\n` (an empty line, when it had written nothing).
/// - While the thread is panicking (in a panic hook, or unwinding), the writer is not called when
///   the panic came from inside a writer, or when this destination's writer has panicked before:
///   a panic inside a panic hook aborts the process, whatever catches it. The line is counted.
pub(crate) fn write_line<W: io::Write>(
    stats: &Stats,
    make_writer: impl FnOnce() -> W,
    line: &[u8],
) -> Result<(), Failure> {
    let panicking = std::thread::panicking();
    if panicking && (in_writer() || stats.writer_has_panicked()) {
        stats.write_failed();
        return Err(Failure::NotCalled);
    }
    // Bytes of `line` (not of a leading newline) the writer took.
    let sent = Cell::new(0);
    let _writing = Writing::enter();
    let written = catch_unwind(AssertUnwindSafe(|| {
        // A panic in `make_writer` wrote nothing: no `Tear` yet.
        let mut writer = make_writer();
        // Declared after `writer`, so dropped before it, on return and on unwinding alike: the
        // torn flag is set while the writer (a `Mutex` writer's lock, say) is still held, so no
        // other thread's line can be written onto the fragment.
        let mut tear = Tear {
            stats,
            sent: &sent,
            len: line.len(),
            done: false,
            was_panicking: panicking,
        };
        if stats.take_torn() {
            if let Err(error) = write_counted(&mut writer, b"\n", &Cell::new(0)) {
                stats.set_torn();
                return Err(error);
            }
        }
        let result = write_counted(&mut writer, line, &sent);
        tear.done = result.is_ok();
        result
    }));
    let whole = sent.get() + 1 >= line.len();
    let failure = match written {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(error)) => Failure::Io(error),
        Err(panic) => {
            stats.writer_panicked();
            Failure::Panicked(payload_message(&*panic).to_owned())
        }
    };
    if whole {
        // Taken whole but for the final newline (or whole, and a panic came after): not lost.
        return Ok(());
    }
    stats.write_failed();
    Err(failure)
}

/// Flushes the writer `make_writer` returns, containing a panic as [`write_line`] does.
#[cfg(feature = "init")] // only the init flushes (its console exporter and panic hook)
pub(crate) fn flush<W: io::Write>(
    stats: &Stats,
    make_writer: impl FnOnce() -> W,
) -> Result<(), Failure> {
    if std::thread::panicking() && (in_writer() || stats.writer_has_panicked()) {
        return Err(Failure::NotCalled);
    }
    let _writing = Writing::enter();
    match catch_unwind(AssertUnwindSafe(|| make_writer().flush())) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Failure::Io(error)),
        Err(panic) => {
            stats.writer_panicked();
            Err(Failure::Panicked(payload_message(&*panic).to_owned()))
        }
    }
}

/// `write_all`, adding each write's count to `sent` (which starts at the bytes already taken).
fn write_counted(writer: &mut impl io::Write, bytes: &[u8], sent: &Cell<usize>) -> io::Result<()> {
    let mut interrupted = 0;
    while sent.get() < bytes.len() {
        let rest = &bytes[sent.get()..];
        match writer.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            // A writer claiming more than it was given took all of it.
            Ok(n) => sent.set(sent.get() + n.min(rest.len())),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {
                interrupted += 1;
                if interrupted >= MAX_INTERRUPTED {
                    return Err(error);
                }
                continue;
            }
            Err(error) => return Err(error),
        }
        interrupted = 0;
    }
    Ok(())
}

/// Marks the destination torn when a line ends unfinished, before its writer is dropped.
///
/// A writer that refused part of the line after taking some of it tore it; one that panicked
/// may have written part of what it was given before panicking, so the next line starts with a
/// newline (which costs an empty line when it had not).
struct Tear<'a> {
    stats: &'a Stats,
    sent: &'a Cell<usize>,
    len: usize,
    done: bool,
    /// The thread was already panicking (a panic hook writing): its panic is not the writer's.
    was_panicking: bool,
}

impl Drop for Tear<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let unwinding = std::thread::panicking() && !self.was_panicking;
        let torn = if unwinding {
            self.sent.get() < self.len
        } else {
            self.sent.get() > 0
        };
        if torn {
            self.stats.set_torn();
        }
    }
}

/// Holds one level of [`WRITING`] while a writer is called.
struct Writing;

impl Writing {
    fn enter() -> Writing {
        let _ = WRITING.try_with(|w| w.set(w.get() + 1));
        Writing
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        let _ = WRITING.try_with(|w| w.set(w.get().saturating_sub(1)));
    }
}

/// A panic's message: the payload of `panic!("...")` is a `&str` or a `String`.
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
}
