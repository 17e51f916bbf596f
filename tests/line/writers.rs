//! Writers that fail part-way and writers that panic, for the layer alone.
//!
//! A torn line (the writer took part of it, then failed) is counted, and the next line starts on
//! a line of its own: in the stream, every whole line parses and every fragment sits alone on its
//! line, and (lines written whole) + (lines counted) = lines emitted. A writer that panics (in
//! `make_writer`, in `write`) costs its line, which is counted; the panic never reaches the
//! `info!` call site, and the lines after it are written whole.

use std::collections::BTreeSet;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing::info;
use tracing_correlate::Stats;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The stream split into its lines (empty ones left out): each either a whole JSON object, or a
/// fragment. Fails when a segment holds more than one line's start (a line glued onto a fragment).
fn split(bytes: &[u8]) -> (Vec<Value>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let mut whole = Vec::new();
    let mut fragments = Vec::new();
    for segment in text.split('\n').filter(|s| !s.is_empty()) {
        assert!(
            segment.matches("{\"timestamp\"").count() <= 1,
            "a line glued onto a fragment: {:?} ... {:?}",
            &segment[..segment.len().min(80)],
            &segment[segment.rfind("{\"timestamp\"").unwrap_or(0)..]
        );
        match serde_json::from_str::<Value>(segment) {
            Ok(line) if line.is_object() => whole.push(line),
            _ => fragments.push(segment.to_owned()),
        }
    }
    (whole, fragments)
}

/// What a scripted writer does with the bytes of one `make_writer` call.
#[derive(Clone, Copy, Debug)]
enum Script {
    /// Takes everything.
    Whole,
    /// Takes `n` bytes, then answers every write with an error of this kind.
    TakeThenErr(usize, io::ErrorKind),
    /// Takes `n` bytes, then answers `Ok(0)`.
    TakeThenZero(usize),
}

/// A `MakeWriter` whose `k`-th writer follows `script(k)`; everything taken goes to one buffer.
#[derive(Clone)]
struct Scripted {
    out: Arc<Mutex<Vec<u8>>>,
    made: Arc<AtomicUsize>,
    script: fn(usize) -> Script,
}

struct ScriptedWriter {
    out: Arc<Mutex<Vec<u8>>>,
    script: Script,
    taken: usize,
}

impl io::Write for ScriptedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let budget = match self.script {
            Script::Whole => usize::MAX,
            Script::TakeThenErr(n, _) | Script::TakeThenZero(n) => n - self.taken,
        };
        if budget == 0 {
            return match self.script {
                Script::TakeThenErr(_, kind) => Err(io::Error::from(kind)),
                _ => Ok(0),
            };
        }
        let n = buf.len().min(budget);
        self.taken += n;
        self.out.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Scripted {
    type Writer = ScriptedWriter;
    fn make_writer(&'a self) -> ScriptedWriter {
        let k = self.made.fetch_add(1, Ordering::SeqCst);
        ScriptedWriter {
            out: self.out.clone(),
            script: (self.script)(k),
            taken: 0,
        }
    }
}

/// Emits `lines` events numbered from 0 through a layer writing to `make_writer`.
fn emit_through<W>(make_writer: W, lines: u64) -> Stats
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let layer = tracing_correlate::layer().with_writer(make_writer);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..lines {
            info!(n, "line");
        }
    });
    stats
}

/// The numbers (`n`) of the whole lines.
fn numbers(whole: &[Value]) -> BTreeSet<u64> {
    whole.iter().map(|l| l["n"].as_u64().unwrap()).collect()
}

#[test]
fn a_torn_line_is_counted_and_the_next_line_starts_on_a_line_of_its_own() {
    const LINES: u64 = 30;
    // Writers 3, 10, 20 take part of a line and then fail (`WouldBlock`, a full disk, `Ok(0)`);
    // writer 4 takes nothing (`Ok(0)`: `WriteZero`), right after a torn line; 21 refuses at once.
    let script = |k| match k {
        3 => Script::TakeThenErr(10, io::ErrorKind::WouldBlock),
        4 => Script::TakeThenZero(0),
        10 => Script::TakeThenErr(50, io::ErrorKind::StorageFull),
        20 => Script::TakeThenZero(120),
        21 => Script::TakeThenErr(0, io::ErrorKind::WouldBlock),
        _ => Script::Whole,
    };
    let writer = Scripted {
        out: Arc::default(),
        made: Arc::default(),
        script,
    };
    let out = writer.out.clone();
    let stats = emit_through(writer, LINES);

    let (whole, fragments) = split(&out.lock().unwrap());
    assert_eq!(fragments.len(), 3, "three torn lines: {fragments:#?}");
    assert_eq!(
        whole.len() as u64 + stats.write_errors(),
        LINES,
        "every line is either written whole or counted ({} whole, {} counted)",
        whole.len(),
        stats.write_errors()
    );
    let lost: BTreeSet<u64> = (0..LINES)
        .filter(|n| !numbers(&whole).contains(n))
        .collect();
    assert_eq!(lost, BTreeSet::from([3, 4, 10, 20, 21]), "the lines lost");
}

/// A pipe whose both ends are non-blocking, as `File`s.
#[cfg(target_os = "linux")]
fn nonblocking_pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Reads what the pipe holds until it answers `WouldBlock`.
#[cfg(target_os = "linux")]
fn drain(mut reader: &std::fs::File, limit: usize) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while out.len() < limit {
        let want = chunk.len().min(limit - out.len());
        match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("reading the pipe: {e}"),
        }
    }
    out
}

/// A real non-blocking pipe with room for two pages takes two pages of a 12 KiB line and then
/// answers `WouldBlock`: the fragment stays alone on its line, the next line is whole.
#[cfg(target_os = "linux")]
#[test]
fn a_line_torn_by_a_full_nonblocking_pipe_is_counted_and_the_next_is_whole() {
    use std::io::Write;
    let (reader, writer) = nonblocking_pipe();
    // Fill the pipe with empty lines, a page at a time, until it refuses.
    let page = [b'\n'; 4096];
    let mut filled = 0;
    loop {
        match (&writer).write(&page) {
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the pipe: {e}"),
        }
    }
    // Free two pages: a 12 KiB line does not fit.
    assert_eq!(drain(&reader, 8192).len(), 8192, "filled {filled} bytes");

    let writer = Arc::new(writer);
    let layer = tracing_correlate::layer().with_writer(writer.clone());
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let big = "a".repeat(12 * 1024);
    let mut stream = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        info!(big = big.as_str(), "too big for the room left");
        // Everything read (the filler, the fragment): the pipe has room again.
        stream.extend(drain(&reader, usize::MAX));
        info!("after the torn line");
    });
    stream.extend(drain(&reader, usize::MAX));

    let (whole, fragments) = split(&stream);
    assert_eq!(fragments.len(), 1, "the torn line's fragment, alone");
    assert!(
        fragments[0].starts_with("{\"timestamp\"") && fragments[0].len() < big.len(),
        "{} bytes",
        fragments[0].len()
    );
    assert_eq!(whole.len(), 1, "{whole:#?}");
    assert_eq!(whole[0]["message"], "after the torn line");
    assert_eq!(stats.write_errors(), 1, "the torn line is counted");
    assert_eq!(whole.len() as u64 + stats.write_errors(), 2);
    eprintln!(
        "pipe filled with {filled} bytes, 8192 freed; fragment {} of {} bytes; whole 1, counted 1",
        fragments[0].len(),
        big.len()
    );
}

/// What a panicking writer does with the bytes of one `make_writer` call.
#[derive(Clone, Default)]
struct Panicking {
    out: Arc<Mutex<Vec<u8>>>,
    made: Arc<AtomicUsize>,
}

struct PanickingWriter {
    out: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for PanickingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if text.contains("boom in write") {
            // Part of the line first: the panic tears it.
            self.out.lock().unwrap().extend_from_slice(&buf[..20]);
            panic!("the writer panics in write");
        }
        self.out.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Panicking {
    type Writer = PanickingWriter;
    fn make_writer(&'a self) -> PanickingWriter {
        let k = self.made.fetch_add(1, Ordering::SeqCst);
        if k % 5 == 4 {
            panic!("the writer panics in make_writer");
        }
        PanickingWriter {
            out: self.out.clone(),
        }
    }
}

#[test]
fn a_panicking_writer_costs_its_line_which_is_counted_and_never_reaches_the_caller() {
    let writer = Panicking::default();
    let out = writer.out.clone();
    let layer = tracing_correlate::layer().with_writer(writer);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut emitted = 0u64;
    let mut reached_the_caller = 0;
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..20u64 {
            let message = if n % 3 == 1 { "boom in write" } else { "fine" };
            emitted += 1;
            if catch_unwind(AssertUnwindSafe(|| info!(n, "{message}"))).is_err() {
                reached_the_caller += 1;
            }
        }
    });
    assert_eq!(reached_the_caller, 0, "the writer's panic reached info!");
    let (whole, fragments) = split(&out.lock().unwrap());
    // Writers 4, 9, 14, 19 panic in make_writer; lines 1, 4, 7, ... panic in write.
    let expected: BTreeSet<u64> = (0..20).filter(|n| n % 3 != 1 && n % 5 != 4).collect();
    assert_eq!(
        numbers(&whole),
        expected,
        "every other line is written whole"
    );
    for line in &whole {
        assert_eq!(
            line["message"], "fine",
            "no part of a line that panicked: {line}"
        );
    }
    assert!(!fragments.is_empty(), "the panics tore lines");
    assert_eq!(
        whole.len() as u64 + stats.write_errors(),
        emitted,
        "each line that panicked is counted"
    );
}

/// Panics on the first line holding `boom`, inside `tracing-subscriber`'s `Mutex<W>` writer: the
/// panic poisons the mutex, and that `MakeWriter` then panics in every later `make_writer`.
struct PanicsOnBoomOnce(Arc<Mutex<Vec<u8>>>);

impl io::Write for PanicsOnBoomOnce {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if String::from_utf8_lossy(buf).contains("boom") {
            panic!("the writer panics while its mutex is locked");
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_poisoned_mutex_writer_costs_every_later_line_each_counted_none_reaching_the_caller() {
    let out = Arc::new(Mutex::new(Vec::new()));
    let layer = tracing_correlate::layer().with_writer(Mutex::new(PanicsOnBoomOnce(out.clone())));
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let reached = tracing::subscriber::with_default(subscriber, || {
        catch_unwind(AssertUnwindSafe(|| {
            info!(n = 0u64, "fine");
            info!(n = 1u64, "boom");
            info!(n = 2u64, "fine");
            info!(n = 3u64, "fine");
        }))
    });
    assert!(reached.is_ok(), "a panic reached info!");
    let (whole, _) = split(&out.lock().unwrap());
    assert_eq!(numbers(&whole), BTreeSet::from([0]));
    assert_eq!(
        stats.write_errors(),
        3,
        "the line that panicked and the two after it"
    );
}

/// Answers `Interrupted` to its first `interrupted` writes (`usize::MAX`: to every write), then
/// takes everything.
struct Interrupting {
    out: Arc<Mutex<Vec<u8>>>,
    interrupted: usize,
    calls: usize,
}

impl io::Write for Interrupting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls <= self.interrupted {
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.out.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `Interrupted` is retried, as `write_all` does, but not without end: a writer that always
/// answers it costs its line (counted) instead of spinning on the caller's thread. Run on a
/// worker thread with a time bound, so a spin fails instead of hanging.
#[test]
fn interrupted_writes_are_retried_a_bounded_number_of_times() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let out = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (out.clone(), out.clone());
        let retried = emit_through(
            move || Interrupting {
                out: a.clone(),
                interrupted: 3,
                calls: 0,
            },
            2,
        );
        let forever = emit_through(
            move || Interrupting {
                out: b.clone(),
                interrupted: usize::MAX,
                calls: 0,
            },
            2,
        );
        let _ = done.send((retried.write_errors(), forever.write_errors(), out));
    });
    let (retried, forever, out) = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a writer answering Interrupted forever made the layer spin");
    assert_eq!(retried, 0, "three Interrupted in a row are retried");
    assert_eq!(
        forever, 2,
        "a writer that is always interrupted costs its lines"
    );
    let (whole, fragments) = split(&out.lock().unwrap());
    assert_eq!((whole.len(), fragments.len()), (2, 0));
}

/// Claims to have taken more bytes than it was given (a broken writer): `write_all` slices past
/// the end of the line and panics on that.
struct Overclaiming(Arc<Mutex<Vec<u8>>>);

impl io::Write for Overclaiming {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len() + 10)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_claiming_more_bytes_than_it_was_given_took_the_whole_line() {
    let out = Arc::new(Mutex::new(Vec::new()));
    let writer = out.clone();
    let reached = catch_unwind(AssertUnwindSafe(|| {
        emit_through(move || Overclaiming(writer.clone()), 3)
    }));
    let stats = reached.expect("the writer's overclaim reached info! as a panic");
    let (whole, fragments) = split(&out.lock().unwrap());
    assert_eq!((whole.len(), fragments.len()), (3, 0));
    assert_eq!(stats.write_errors(), 0);
}

/// A writer for a line holding `tear me`: takes 10 bytes, then answers `WouldBlock`; when it is
/// dropped after that, another thread writes a line through the same subscriber, and is waited
/// for. That is a `Mutex` writer's window: its lock released, the fragment in the stream.
struct TearsThenLetsAnotherThreadWrite {
    out: Arc<Mutex<Vec<u8>>>,
    dispatch: Arc<Mutex<Option<tracing::Dispatch>>>,
}

struct TearingWriter<'a> {
    make: &'a TearsThenLetsAnotherThreadWrite,
    tears: bool,
    taken: usize,
}

impl io::Write for TearingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.tears && String::from_utf8_lossy(buf).contains("tear me") {
            self.tears = true;
        }
        if self.tears {
            if self.taken >= 10 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(10 - self.taken);
            self.taken += n;
            self.make.out.lock().unwrap().extend_from_slice(&buf[..n]);
            return Ok(n);
        }
        self.make.out.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TearingWriter<'_> {
    fn drop(&mut self) {
        if self.tears {
            let dispatch = self.make.dispatch.lock().unwrap().clone().unwrap();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || info!(n = 1u64, "other thread"));
            })
            .join()
            .unwrap();
        }
    }
}

impl<'a> MakeWriter<'a> for TearsThenLetsAnotherThreadWrite {
    type Writer = TearingWriter<'a>;

    fn make_writer(&'a self) -> TearingWriter<'a> {
        TearingWriter {
            make: self,
            tears: false,
            taken: 0,
        }
    }
}

#[test]
fn a_torn_line_is_marked_before_its_writer_is_released_so_no_other_thread_glues_onto_it() {
    let out = Arc::new(Mutex::new(Vec::new()));
    let dispatch_slot = Arc::new(Mutex::new(None));
    let layer = tracing_correlate::layer().with_writer(TearsThenLetsAnotherThreadWrite {
        out: out.clone(),
        dispatch: dispatch_slot.clone(),
    });
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    *dispatch_slot.lock().unwrap() = Some(dispatch.clone());
    tracing::dispatcher::with_default(&dispatch, || {
        info!(n = 0u64, "tear me");
        info!(n = 2u64, "after");
    });
    let bytes = out.lock().unwrap().clone();
    let (whole, fragments) = split(&bytes);
    assert_eq!(fragments.len(), 1, "{fragments:?}");
    assert_eq!(numbers(&whole), BTreeSet::from([1, 2]));
    assert_eq!(stats.write_errors(), 1);
}
