//! What one event costs the thread that logs it when the lines go to a reader that keeps
//! stalling (a log shipper under back-pressure), written on that thread or through the
//! non-blocking queue (`Builder::with_non_blocking`, issue 14). `BENCHMARKS.md` holds the
//! figures and the command.
//!
//! The init installs a global subscriber once per process, so each output runs in a process of
//! its own, named by `TC_OUTPUT`: `direct` (no queue: the line is written on the thread that
//! logs), `blocking` (`NonBlocking::blocking()`, a full queue waits) and `lossy`
//! (`NonBlocking::lossy()`, a full queue drops the line, counted), each with the default capacity
//! (16,384 lines). The writer is one end of a Unix stream socket pair; a thread of this process
//! reads the other end 16 KiB at a time and stalls 10 ms after each read, so the reader drains
//! at most about 1.6 MB/s and the writer spends most of the run with a full socket. The measured
//! work is one INFO event with two fields inside a span (a line of about 250 bytes).
//!
//! The figure is the time per event on the thread that logs; with `direct` and `blocking` it is
//! the reader's pace (the thread waits for the reader), with `lossy` the cost of formatting the
//! line and offering it to the queue. The guard's shutdown line (on stderr too when lines were
//! dropped) says how many the queue dropped.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

use criterion::Criterion;
use tracing_correlate::NonBlocking;

fn main() {
    let output = std::env::var("TC_OUTPUT").unwrap_or_else(|_| "lossy".to_owned());
    // No collector: spans are not exported (the console exporter would add span lines). Set
    // before any thread starts.
    std::env::set_var("OTEL_TRACES_EXPORTER", "none");
    let (writer, mut reader) = UnixStream::pair().expect("a socket pair");
    std::thread::spawn(move || {
        let mut buf = vec![0; 16 * 1024];
        while reader.read(&mut buf).is_ok_and(|n| n > 0) {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let builder = tracing_correlate::builder("checkout")
        .with_writer(Mutex::new(writer))
        .with_shutdown_timeout(Duration::from_secs(1));
    let builder = match output.as_str() {
        "direct" => builder,
        "blocking" => builder.with_non_blocking(NonBlocking::blocking()),
        "lossy" => builder.with_non_blocking(NonBlocking::lossy()),
        other => panic!("TC_OUTPUT={other:?}: direct, blocking or lossy"),
    };
    let guard = builder.try_init().expect("the init");

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("non_blocking_stalled_reader");
    let span = tracing::info_span!("request", route = "/orders");
    group.bench_function(output.as_str(), |b| {
        let _entered = span.enter();
        b.iter(|| tracing::info!(order_id = 42, items = 3, "order placed"))
    });
    group.finish();
    criterion.final_summary();
    drop(guard);
}
