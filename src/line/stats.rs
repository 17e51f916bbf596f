//! Counters of what a layer could not deliver, so nothing is lost silently.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A handle on a [`JsonLayer`](crate::JsonLayer)'s counters, taken with
/// [`JsonLayer::stats`](crate::JsonLayer::stats) before the layer is installed.
///
/// ```
/// let layer = tracing_correlate::layer();
/// let stats = layer.stats();
/// assert_eq!(stats.write_errors(), 0);
/// ```
///
/// The counters are shared with the state of the destination the lines go to (whether its last
/// line was torn, whether its writer has panicked; see
/// [what the layer does when the writer fails](crate::JsonLayer#what-the-layer-does-when-the-writer-fails)):
/// the init gives one to both the JSON layer and the console span exporter, which write to the same
/// writer.
#[derive(Clone, Debug, Default)]
pub struct Stats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    write_errors: AtomicU64,
    dropped_reentrant: AtomicU64,
    sdk_lines_suppressed: AtomicU64,
    lines_dropped: AtomicU64,
    held: AtomicU64,
    held_written: AtomicU64,
    held_discarded: AtomicU64,
    held_dropped: AtomicU64,
    lines_unsampled: AtomicU64,
    on_demand_granted: AtomicU64,
    on_demand_refused: AtomicU64,
    held_bytes: AtomicUsize,
    /// The [`Guard`](crate::Guard) has shut down: nothing is held any more.
    holding_closed: AtomicBool,
    /// The destination's last line was torn: the next line starts with a newline.
    torn: AtomicBool,
    /// The destination's writer has panicked at least once.
    writer_panicked: AtomicBool,
}

impl Stats {
    /// Lines the writer did not take whole (a closed pipe, a full disk, `WouldBlock`, `Ok(0)`, a
    /// line torn part-way, a writer that panicked): each such line is lost.
    pub fn write_errors(&self) -> u64 {
        self.0.write_errors.load(Ordering::Relaxed)
    }

    /// Events dropped because they were emitted while this layer was already writing a line on
    /// the same thread, two levels deep (for example by a writer that logs each write): writing
    /// them would recurse without end. One level of nesting (a `Debug` impl that logs) is written.
    pub fn dropped_reentrant(&self) -> u64 {
        self.0.dropped_reentrant.load(Ordering::Relaxed)
    }

    /// Lines of the OpenTelemetry SDK left out because their callsite had written one within
    /// the interval ([`JsonLayer::with_sdk_line_interval`](crate::JsonLayer::with_sdk_line_interval)).
    /// Not lost: the next line of the callsite says how many it stands for.
    pub fn sdk_lines_suppressed(&self) -> u64 {
        self.0.sdk_lines_suppressed.load(Ordering::Relaxed)
    }

    /// Lines a non-blocking queue ([`NonBlocking`](crate::NonBlocking)) did not pass to the
    /// writer: dropped at a full `lossy` queue (or a line of the crate's own that found no room in
    /// time), or still queued, or being written, when the [`Guard`](crate::Guard) gave up on them
    /// at its shutdown timeout. Always 0 for lines written on the thread that logs.
    pub fn lines_dropped(&self) -> u64 {
        self.0.lines_dropped.load(Ordering::Relaxed)
    }

    /// Lines held ([`HeldLines`](crate::HeldLines)) so far, each of which is, or will be,
    /// counted once more: in [`held_lines_written`](Self::held_lines_written),
    /// [`held_lines_discarded`](Self::held_lines_discarded),
    /// [`held_lines_dropped`](Self::held_lines_dropped), or, while its trace is open,
    /// [`held_lines_pending`](Self::held_lines_pending).
    pub fn held_lines(&self) -> u64 {
        self.0.held.load(Ordering::Relaxed)
    }

    /// Held lines written, because their trace failed.
    pub fn held_lines_written(&self) -> u64 {
        self.0.held_written.load(Ordering::Relaxed)
    }

    /// Held lines discarded, because their trace ended without failing: the lines holding saves.
    pub fn held_lines_discarded(&self) -> u64 {
        self.0.held_discarded.load(Ordering::Relaxed)
    }

    /// Lines not held, or no longer held, because of a bound: a trace's (its oldest lines go
    /// first), the process's, or a line longer than a trace's byte bound.
    pub fn held_lines_dropped(&self) -> u64 {
        self.0.held_dropped.load(Ordering::Relaxed)
    }

    /// Lines held now, by traces still open.
    pub fn held_lines_pending(&self) -> u64 {
        // Read in the order they are added to: a line is counted held before its outcome.
        let done =
            self.held_lines_written() + self.held_lines_discarded() + self.held_lines_dropped();
        self.held_lines().saturating_sub(done)
    }

    /// Lines not written because their trace is not sampled and they are below the level
    /// [`JsonLayer::with_unsampled_level`](crate::JsonLayer::with_unsampled_level) keeps.
    pub fn lines_unsampled(&self) -> u64 {
        self.0.lines_unsampled.load(Ordering::Relaxed)
    }

    /// Bytes the buffers of held lines take now: those of open traces, and those kept for the
    /// next traces. At most [`HeldLines::with_max_bytes`](crate::HeldLines::with_max_bytes) (but for
    /// what the allocator gives beyond what was asked, which is counted too).
    pub fn held_bytes(&self) -> usize {
        self.0.held_bytes.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more of held lines' buffers, unless that passes `bound`.
    pub(crate) fn reserve_held_bytes(&self, bytes: usize, bound: usize) -> bool {
        let before = self.0.held_bytes.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > bound {
            self.0.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub(crate) fn release_held_bytes(&self, bytes: usize) {
        self.0.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Traces whose baggage asked for [`DebugOnDemand`](crate::DebugOnDemand) and were granted
    /// it: their lines were written at once.
    pub fn debug_on_demand_granted(&self) -> u64 {
        self.0.on_demand_granted.load(Ordering::Relaxed)
    }

    /// Traces whose baggage asked for [`DebugOnDemand`](crate::DebugOnDemand) past its rate: their
    /// lines were held as any other's.
    pub fn debug_on_demand_refused(&self) -> u64 {
        self.0.on_demand_refused.load(Ordering::Relaxed)
    }

    pub(crate) fn count_on_demand(&self, granted: bool) {
        let counter = if granted {
            &self.0.on_demand_granted
        } else {
            &self.0.on_demand_refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_held(&self, lines: u64) {
        self.0.held.fetch_add(lines, Ordering::Relaxed);
    }

    pub(crate) fn count_held_written(&self, lines: u64) {
        self.0.held_written.fetch_add(lines, Ordering::Relaxed);
    }

    pub(crate) fn count_held_discarded(&self, lines: u64) {
        self.0.held_discarded.fetch_add(lines, Ordering::Relaxed);
    }

    pub(crate) fn count_held_dropped(&self, lines: u64) {
        self.0.held_dropped.fetch_add(lines, Ordering::Relaxed);
    }

    pub(crate) fn count_unsampled(&self) {
        self.0.lines_unsampled.fetch_add(1, Ordering::Relaxed);
    }

    /// From now on nothing is held (the `Guard` shut down).
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    pub(crate) fn close_holding(&self) {
        self.0.holding_closed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn holding_closed(&self) -> bool {
        self.0.holding_closed.load(Ordering::Relaxed)
    }

    #[cfg_attr(not(feature = "init"), allow(dead_code))] // only the init's queue drops lines
    pub(crate) fn lines_dropped_by(&self, lines: u64) {
        self.0.lines_dropped.fetch_add(lines, Ordering::Relaxed);
    }

    pub(crate) fn write_failed(&self) {
        self.0.write_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the last line was torn, clearing it: the caller writes the newline that ends it.
    pub(crate) fn take_torn(&self) -> bool {
        // Read first: a write on every line would move the cache line between the threads that
        // log at once.
        self.0.torn.load(Ordering::Relaxed) && self.0.torn.swap(false, Ordering::Relaxed)
    }

    pub(crate) fn set_torn(&self) {
        self.0.torn.store(true, Ordering::Relaxed);
    }

    pub(crate) fn writer_panicked(&self) {
        self.0.writer_panicked.store(true, Ordering::Relaxed);
    }

    pub(crate) fn writer_has_panicked(&self) -> bool {
        self.0.writer_panicked.load(Ordering::Relaxed)
    }

    pub(crate) fn sdk_line_suppressed(&self) {
        self.0.sdk_lines_suppressed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reentrant_dropped(&self) {
        self.0.dropped_reentrant.fetch_add(1, Ordering::Relaxed);
    }
}
