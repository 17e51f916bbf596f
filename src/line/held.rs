//! Held lines: the lines below a level that belong to a local root span, kept in a buffer of
//! that trace and written only when something in the trace fails.
//!
//! [`HeldLines`] is the setting; [`Hold`] the layer's shared state (the process-wide byte budget
//! and a pool of buffers); [`TraceLines`] sits in every span's state, and is used on local roots
//! only: whether the trace has failed, and its [`Buffer`] of held lines.
//!
//! A held line is kept in parts: a [`Record`] (its time, static metadata, ids and span name,
//! copied); the event's fields as they were given (`capture.rs`), since its values are gone once
//! the event is; and the span fields' fragments with their names, since the spans may be gone
//! when the line is written. The JSON of the event's fields, the head and the ids are made only
//! if the line is written. (Where the fields cannot be kept so, they are formatted at once, and
//! the span fields with them, as text.)
//!
//! Invariants:
//! - a trace that has failed holds nothing: its held lines are handed out when it fails (before
//!   the line that failed it is written, so the stream keeps their order), and its later lines
//!   are written at once;
//! - every byte of capacity of a buffer (bytes, records, names), in a trace or in the pool, is
//!   counted in [`Stats::held_bytes`]; growing a buffer past the process-wide bound is refused
//!   (what an allocator gives beyond what was asked is counted, and may pass it by that much);
//! - every line that entered the hold is counted once in `held`, and once more when it leaves:
//!   written, discarded (its trace ended without failing), or dropped (at a bound); the lines of
//!   traces still open are the difference (see [`Stats`]).

use std::fmt;
use std::mem::size_of;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry::trace::SpanId;
use tracing_core::field::{Field, Visit};
use tracing_core::{Level, Metadata};

use crate::line::on_demand::{DebugOnDemand, Rate};
use crate::line::Stats;
use crate::otel::ids::SpanIds;

/// Held lines at most per trace, by default ([`HeldLines::with_max_lines_per_trace`]).
pub const DEFAULT_HELD_LINES_PER_TRACE: usize = 256;

/// Bytes of held lines at most per trace, by default ([`HeldLines::with_max_bytes_per_trace`]).
pub const DEFAULT_HELD_BYTES_PER_TRACE: usize = 64 * 1024;

/// Bytes the held lines of all traces may take at most, by default ([`HeldLines::with_max_bytes`]).
pub const DEFAULT_HELD_BYTES: usize = 32 * 1024 * 1024;

/// Buffers of ended traces kept for the next ones, so that holding allocates nothing in a steady
/// state.
const POOL: usize = 64;

/// The first capacity of a trace's text; it doubles up to the trace's bound.
const FIRST_TEXT: usize = 2048;

/// The first capacity of a trace's records; it doubles up to the trace's bound.
const FIRST_RECORDS: usize = 8;

/// Which lines are held, and how many: the setting of
/// [`JsonLayer::with_held_lines`](crate::JsonLayer::with_held_lines) and
/// [`Builder::with_held_lines`](crate::Builder::with_held_lines).
///
/// An event at `level` or more verbose that belongs to a span is held in a buffer of its trace
/// (the trace of its local root span: the outermost span of this process above it) instead of being
/// written. When the local root span ends, the held lines are discarded and counted, unless
/// something in the trace failed:
///
/// | what fails a trace | seen as |
/// |---|---|
/// | an ERROR event in any of its spans (`error!`, [`record_exception`](crate::record_exception), `#[instrument(err)]`, a panic under the init's hook or the server middleware) | the event |
/// | a span of it with `otel.status_code` `error` (the server and client middleware's failures, a span marked so by hand) | the recorded field |
/// | the local root span with `http.response.status_code` 500 or more (the server middleware's answer) | the recorded field |
///
/// A trace that fails writes its held lines at once, in the order they were held, before the line
/// that failed it, with their own timestamps, ids and fields, and the key `"held":true`; its later
/// lines are written as they come. Lines more severe than `level`, and events outside any span,
/// are always written at once. ERROR events are never held (they fail the trace): a `level` of
/// `ERROR` holds WARN and more verbose.
///
/// **Bounds.** A trace holds at most [`DEFAULT_HELD_LINES_PER_TRACE`] lines and
/// [`DEFAULT_HELD_BYTES_PER_TRACE`] bytes of them: past either, its oldest held lines are dropped
/// first. A root span that lives long (a worker's loop) so keeps its last lines only. All traces
/// together take at most [`DEFAULT_HELD_BYTES`] of buffers (text and bookkeeping, buffers kept
/// for reuse included): a line that would need more is not held, and is dropped. A line longer
/// than a trace's byte bound is dropped. Every line dropped is counted
/// ([`Stats::held_lines_dropped`]).
///
/// **What a held line is.** The line that would have been written, with the same redaction and
/// bounds: its fields are kept as the event gave them (numbers, strings, `Debug` output; a
/// secret's value never) and made JSON only if the line is written; its span fields are those of
/// the moment of the event. A held line that is discarded costs about 0.6 × a written one, and
/// a request with six of them 1.45 × the same request at INFO (`BENCHMARKS.md`). It is a JSON line
/// only: under the init, an event that is held becomes no span event on the exported span (the
/// bridge makes span events of warnings and errors, and with warnings held of errors only), and
/// no OpenTelemetry log record (the logs bridge does not see the levels held).
///
/// **The end.** Nothing is held past the [`Guard`](crate::Guard): from its shutdown on, lines are
/// written at once, and the shutdown line counts the lines still held by open traces
/// (`held_lines_open`), which are never written.
///
/// ```
/// use tracing_correlate::HeldLines;
/// use tracing::Level;
///
/// let layer = tracing_correlate::layer()
///     .with_held_lines(HeldLines::new(Level::DEBUG).with_max_lines_per_trace(100));
/// # drop(layer);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldLines {
    level: Level,
    max_lines: usize,
    max_bytes: usize,
    max_total_bytes: usize,
}

impl HeldLines {
    /// Holds the lines at `level` and more verbose (`Level::DEBUG`: DEBUG and TRACE), with the
    /// default bounds.
    pub fn new(level: Level) -> HeldLines {
        HeldLines {
            level,
            max_lines: DEFAULT_HELD_LINES_PER_TRACE,
            max_bytes: DEFAULT_HELD_BYTES_PER_TRACE,
            max_total_bytes: DEFAULT_HELD_BYTES,
        }
    }

    /// Holds at most `lines` lines per trace (the oldest are dropped first); 0 holds none.
    pub fn with_max_lines_per_trace(mut self, lines: usize) -> HeldLines {
        self.max_lines = lines;
        self
    }

    /// Holds at most `bytes` bytes of lines per trace (the oldest are dropped first).
    pub fn with_max_bytes_per_trace(mut self, bytes: usize) -> HeldLines {
        self.max_bytes = bytes;
        self
    }

    /// Lets the buffers of all traces take at most `bytes` bytes.
    pub fn with_max_bytes(mut self, bytes: usize) -> HeldLines {
        self.max_total_bytes = bytes;
        self
    }

    /// The same bounds, holding `level` and more verbose.
    pub fn with_level(mut self, level: Level) -> HeldLines {
        self.level = level;
        self
    }

    /// The most severe level held.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether lines at `level` are held.
    #[inline]
    pub(crate) fn holds(&self, level: &Level) -> bool {
        // More verbose levels compare greater.
        *level >= self.level && *level != Level::ERROR
    }

    /// `debug and below (per trace 256 lines, 64 KiB; all traces 32 MiB)`: the startup line's.
    #[cfg_attr(not(feature = "init"), allow(dead_code))] // the startup line's
    pub(crate) fn describe(&self) -> String {
        let level = if self.level == Level::ERROR {
            Level::WARN
        } else {
            self.level
        };
        let level = level.as_str().to_ascii_lowercase();
        let below = if level == "trace" { "" } else { " and below" };
        format!(
            "{level}{below} (per trace {} lines, {}; all traces {})",
            self.max_lines,
            bytes(self.max_bytes),
            bytes(self.max_total_bytes)
        )
    }
}

#[cfg_attr(not(feature = "init"), allow(dead_code))]
fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// A layer's held lines: the setting, the bytes all buffers take, the buffers kept for reuse.
pub(crate) struct Hold {
    pub(crate) config: HeldLines,
    /// With [`DebugOnDemand`]: the entry, and the rate it is granted at.
    on_demand: Option<(DebugOnDemand, Rate)>,
    /// The layer's counters; they hold the bytes of every buffer, in a trace or in the pool.
    stats: Stats,
    // Boxed as the traces hold them: a buffer moves between a trace and the pool unallocated.
    #[allow(clippy::vec_box)]
    pool: Mutex<Vec<Box<Buffer>>>,
}

impl fmt::Debug for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hold")
            .field("config", &self.config)
            .field("held_bytes", &self.stats.held_bytes())
            .finish_non_exhaustive()
    }
}

/// What became of a line given to [`Hold::push`].
#[derive(Debug)]
pub(crate) enum Pushed {
    Held,
    /// The trace has failed: the line is to be written now.
    Failed(Record),
    /// Not held, and counted: past a bound.
    Dropped,
    /// Not held yet: the trace's baggage is to be read for [`DebugOnDemand`] first (see
    /// [`Hold::decide`]).
    Unchecked(Record),
}

impl Hold {
    pub(crate) fn new(config: HeldLines, stats: Stats, on_demand: Option<DebugOnDemand>) -> Hold {
        Hold {
            config,
            on_demand: on_demand.map(|d| {
                let rate = Rate::new(d.per_minute());
                (d, rate)
            }),
            stats,
            pool: Mutex::new(Vec::new()),
        }
    }

    #[cfg(test)]
    fn reserved(&self) -> usize {
        self.stats.held_bytes()
    }

    /// Holds a line in `trace`: `record` with its text `body` (see [`Record`] for its parts).
    pub(crate) fn push(&self, trace: &TraceLines, record: Record, parts: Parts<'_>) -> Pushed {
        let stats = &self.stats;
        let mut state = trace.lock();
        if state.failed {
            return Pushed::Failed(record);
        }
        if self.on_demand.is_some() && !state.checked {
            return Pushed::Unchecked(record);
        }
        stats.count_held(1);
        let config = &self.config;
        let len = parts.len();
        if config.max_lines == 0 || len > config.max_bytes {
            stats.count_held_dropped(1);
            return Pushed::Dropped;
        }
        let buffer = match &mut state.buffer {
            Some(buffer) => buffer,
            empty => empty.insert(self.take_buffer()),
        };
        // The trace's bounds: its oldest lines go first.
        let mut evicted = 0;
        while buffer.live_lines() >= config.max_lines
            || buffer.live_bytes() + len > config.max_bytes
        {
            buffer.evict_first();
            evicted += 1;
        }
        if evicted > 0 {
            stats.count_held_dropped(evicted);
        }
        if !self.make_room(buffer, parts) {
            stats.count_held_dropped(1);
            return Pushed::Dropped;
        }
        buffer.push(record, parts);
        Pushed::Held
    }

    /// Marks `trace` failed, handing out its held lines (to be written, then given back with
    /// [`Hold::recycle`]); `None` when it holds none.
    pub(crate) fn fail(&self, trace: &TraceLines) -> Option<Box<Buffer>> {
        let mut state = trace.lock();
        state.failed = true;
        state.buffer.take().filter(|b| b.live_lines() > 0)
    }

    /// The entry [`DebugOnDemand`] looks for in a trace's baggage, when it is set.
    pub(crate) fn on_demand(&self) -> Option<&DebugOnDemand> {
        self.on_demand.as_ref().map(|(d, _)| d)
    }

    /// Settles whether `trace` writes its lines on demand, `asked` saying whether its baggage
    /// asks: granted within the rate, the trace writes its lines at once from now on (as a failed
    /// one: the lines held meanwhile are handed out to be written). Only the first call for a
    /// trace counts.
    pub(crate) fn decide(&self, trace: &TraceLines, asked: bool) -> Option<Box<Buffer>> {
        let mut state = trace.lock();
        if state.checked {
            return None;
        }
        state.checked = true;
        let (_, rate) = self.on_demand.as_ref()?;
        if !asked {
            return None;
        }
        if !rate.admit(Instant::now()) {
            self.stats.count_on_demand(false);
            return None;
        }
        self.stats.count_on_demand(true);
        state.failed = true;
        state.buffer.take().filter(|b| b.live_lines() > 0)
    }

    /// The trace's local root span ended: its held lines are discarded and counted.
    pub(crate) fn end(&self, trace: &TraceLines) {
        let stats = &self.stats;
        let buffer = trace.lock().buffer.take();
        if let Some(buffer) = buffer {
            let discarded = buffer.live_lines() as u64;
            if discarded > 0 {
                stats.count_held_discarded(discarded);
            }
            self.recycle(buffer);
        }
    }

    /// Keeps an emptied buffer for the next trace, or frees it.
    pub(crate) fn recycle(&self, mut buffer: Box<Buffer>) {
        if buffer.capacity_bytes() == 0 {
            // Never grown (refused at the process bound): nothing to reuse.
            return;
        }
        buffer.clear();
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL {
            pool.push(buffer);
        } else {
            drop(pool);
            self.stats.release_held_bytes(buffer.capacity_bytes());
        }
    }

    fn take_buffer(&self) -> Box<Buffer> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        pooled.unwrap_or_default()
    }

    /// Makes room in `buffer` for one more record and its `parts`, within the process-wide
    /// bound; false when the bound leaves none.
    fn make_room(&self, buffer: &mut Buffer, parts: Parts<'_>) -> bool {
        let bytes_len = parts.text.len() + parts.kept.len();
        let fits = |buffer: &Buffer| {
            buffer.bytes.len() + bytes_len <= buffer.bytes.capacity()
                && buffer.records.len() < buffer.records.capacity()
                && buffer.names.len() + parts.names.len() <= buffer.names.capacity()
        };
        if fits(buffer) {
            return true;
        }
        // Evicted lines' space first.
        buffer.compact();
        if fits(buffer) {
            return true;
        }
        let config = &self.config;
        let bytes = grown(
            buffer.bytes.capacity(),
            buffer.bytes.len() + bytes_len,
            FIRST_TEXT,
            config.max_bytes,
        );
        let records = grown(
            buffer.records.capacity(),
            buffer.records.len() + 1,
            FIRST_RECORDS,
            config.max_lines,
        );
        let name_size = size_of::<(&str, u32)>();
        let names = grown(
            buffer.names.capacity(),
            buffer.names.len() + parts.names.len(),
            FIRST_RECORDS,
            config.max_bytes / name_size,
        );
        let extra = (bytes - buffer.bytes.capacity())
            + (records - buffer.records.capacity()) * size_of::<Record>()
            + (names - buffer.names.capacity()) * name_size;
        if extra == 0 {
            return true;
        }
        if !self.stats.reserve_held_bytes(extra, config.max_total_bytes) {
            return false;
        }
        let before = buffer.capacity_bytes();
        buffer.bytes.reserve_exact(bytes - buffer.bytes.len());
        buffer.records.reserve_exact(records - buffer.records.len());
        buffer.names.reserve_exact(names - buffer.names.len());
        // `reserve_exact` may give more than asked: the budget counts what was given.
        let given = buffer.capacity_bytes() - before;
        if given > extra {
            self.stats.reserve_held_bytes(given - extra, usize::MAX);
        }
        true
    }
}

/// The capacity a vector of capacity `cap` needs to hold `needed`: doubled (at least `first`),
/// at most `bound` unless `needed` is more.
fn grown(cap: usize, needed: usize, first: usize, bound: usize) -> usize {
    if needed <= cap {
        return cap;
    }
    cap.saturating_mul(2).max(first).min(bound).max(needed)
}

/// What a span's fields say of its failure: `otel.status_code` `error` (a failed span), and
/// `http.response.status_code` 500 or more (a failed request, when the span is a local root).
#[derive(Debug, Default)]
pub(crate) struct Failure {
    pub(crate) status_error: bool,
    pub(crate) server_error: bool,
}

impl Failure {
    /// Reads the failure the fields `record` visits say.
    pub(crate) fn of(record: impl FnOnce(&mut dyn Visit)) -> Failure {
        let mut failure = Failure::default();
        record(&mut failure);
        failure
    }

    pub(crate) fn any(&self) -> bool {
        self.status_error || self.server_error
    }

    fn status(&mut self, field: &Field, error: impl FnOnce() -> bool) {
        if field.name() == "otel.status_code" && error() {
            self.status_error = true;
        }
    }

    fn code(&mut self, field: &Field, code: i128) {
        if field.name() == "http.response.status_code" && code >= 500 {
            self.server_error = true;
        }
    }
}

impl Visit for Failure {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.status(field, || value.eq_ignore_ascii_case("error"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.status(field, || {
            format!("{value:?}")
                .trim_matches('"')
                .eq_ignore_ascii_case("error")
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.code(field, i128::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.code(field, i128::from(value));
    }
}

/// A span's part in holding lines; used on local roots only.
#[derive(Debug, Default)]
pub(crate) struct TraceLines(Mutex<TraceState>);

#[derive(Debug, Default)]
struct TraceState {
    /// Failed, or granted debug on demand: its lines are written at once.
    failed: bool,
    /// Its baggage was read for [`DebugOnDemand`].
    checked: bool,
    /// Boxed: every span's state has a `TraceLines`, few hold lines.
    buffer: Option<Box<Buffer>>,
}

impl TraceLines {
    fn lock(&self) -> std::sync::MutexGuard<'_, TraceState> {
        // A panic while the lock is held leaves the state as whole as it was: nothing in it
        // panics half-way through a change.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A held line's parts that are not text: the layer writes its head, ids and span name from them.
#[derive(Debug)]
pub(crate) struct Record {
    /// When the event happened, since the Unix epoch.
    pub(crate) time: Duration,
    /// The event's metadata; `None`: its head (metadata built per event: a `log` record's) is at
    /// the start of the text.
    pub(crate) meta: Option<&'static Metadata<'static>>,
    /// The ids of the event's span.
    pub(crate) ids: Option<SpanIds>,
    /// The local root span's id, for presets that name it (ECS).
    pub(crate) root_span: Option<SpanId>,
    /// The span's name, when it is its callsite's; `None`: it is in the text.
    pub(crate) name: Option<&'static str>,
    /// Where the text's parts end, from its start. Formatted at once (`kept` false): the head
    /// (when `meta` is `None`), the message and the optional keys; the span name (when `name` is
    /// `None`); the rest is the line's remaining keys. Kept (`kept` true): the optional keys;
    /// the span name; the span fields' fragments, the event's fields being in the kept bytes.
    pub(crate) optional_end: usize,
    pub(crate) name_end: usize,
    /// Whether the event's fields are kept (see `capture.rs`), and the span fields with them, to
    /// be written only with the line.
    pub(crate) kept: bool,
    /// With `kept`: the span fields' `fields_dropped`.
    pub(crate) span_dropped: usize,
    /// Set by the buffer: where the text, the kept bytes and the span field names are.
    start: usize,
    kept_at: usize,
    end: usize,
    names: (usize, usize),
}

impl Record {
    /// A record whose text has these parts (see the fields).
    pub(crate) fn new(
        time: Duration,
        meta: Option<&'static Metadata<'static>>,
        ids: Option<SpanIds>,
        root_span: Option<SpanId>,
        name: Option<&'static str>,
        [optional_end, name_end]: [usize; 2],
    ) -> Record {
        Record {
            time,
            meta,
            ids,
            root_span,
            name,
            optional_end,
            name_end,
            kept: false,
            span_dropped: 0,
            start: 0,
            kept_at: 0,
            end: 0,
            names: (0, 0),
        }
    }

    /// With its event's fields kept (see [`Record::kept`]).
    pub(crate) fn with_kept_fields(mut self, span_dropped: usize) -> Record {
        self.kept = true;
        self.span_dropped = span_dropped;
        self
    }
}

/// A held line as the layer writes it from.
pub(crate) struct HeldLine<'a> {
    pub(crate) record: &'a Record,
    /// The text (see [`Record::optional_end`]).
    pub(crate) text: &'a str,
    /// The event's fields, kept (see `capture.rs`).
    pub(crate) kept: &'a [u8],
    /// The span fields' names and fragment lengths, leaf first; the fragments follow the span
    /// name in the text.
    pub(crate) span_fields: &'a [(&'static str, u32)],
}

/// What a line brings to a buffer: its text, its kept fields, its span fields' names.
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub(crate) text: &'a str,
    pub(crate) kept: &'a [u8],
    pub(crate) names: &'a [(&'static str, u32)],
}

impl Parts<'_> {
    /// What the line takes of a trace's byte bound.
    fn len(&self) -> usize {
        self.text.len() + self.kept.len() + std::mem::size_of_val(self.names)
    }
}

/// A trace's held lines, oldest first: records, and their bytes one after the other.
#[derive(Debug, Default)]
pub(crate) struct Buffer {
    records: Vec<Record>,
    bytes: Vec<u8>,
    names: Vec<(&'static str, u32)>,
    /// Records before this one were evicted.
    first: usize,
    /// What the live records take of the trace's byte bound.
    live: usize,
}

impl Buffer {
    fn live_lines(&self) -> usize {
        self.records.len() - self.first
    }

    fn live_bytes(&self) -> usize {
        self.live
    }

    fn capacity_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.records.capacity() * size_of::<Record>()
            + self.names.capacity() * size_of::<(&str, u32)>()
    }

    fn evict_first(&mut self) {
        if let Some(record) = self.records.get(self.first) {
            self.live -= record_len(record);
        }
        self.first += 1;
    }

    /// Moves the live records and bytes to the front, keeping the capacity.
    fn compact(&mut self) {
        let Some(first) = self.records.get(self.first) else {
            self.clear();
            return;
        };
        if self.first == 0 {
            return;
        }
        let (base, names_base) = (first.start, first.names.0);
        self.records.drain(..self.first);
        self.bytes.drain(..base);
        self.names.drain(..names_base);
        for record in &mut self.records {
            record.start -= base;
            record.kept_at -= base;
            record.end -= base;
            record.names = (record.names.0 - names_base, record.names.1 - names_base);
        }
        self.first = 0;
    }

    fn push(&mut self, mut record: Record, parts: Parts<'_>) {
        record.start = self.bytes.len();
        self.bytes.extend_from_slice(parts.text.as_bytes());
        record.kept_at = self.bytes.len();
        self.bytes.extend_from_slice(parts.kept);
        record.end = self.bytes.len();
        let names = self.names.len();
        self.names.extend_from_slice(parts.names);
        record.names = (names, self.names.len());
        self.live += parts.len();
        self.records.push(record);
    }

    fn clear(&mut self) {
        self.records.clear();
        self.bytes.clear();
        self.names.clear();
        self.first = 0;
        self.live = 0;
    }

    /// The live lines, oldest first.
    pub(crate) fn lines(&self) -> impl Iterator<Item = HeldLine<'_>> + '_ {
        self.records[self.first..].iter().map(|record| HeldLine {
            record,
            // Copied from a `&str`.
            text: std::str::from_utf8(&self.bytes[record.start..record.kept_at])
                .unwrap_or_default(),
            kept: &self.bytes[record.kept_at..record.end],
            span_fields: &self.names[record.names.0..record.names.1],
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.live_lines()
    }
}

/// What `record` takes of its trace's byte bound (as [`Parts::len`]).
fn record_len(record: &Record) -> usize {
    (record.end - record.start) + (record.names.1 - record.names.0) * size_of::<(&str, u32)>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record::new(Duration::ZERO, None, None, None, Some("s"), [0, 0])
    }

    fn held(buffer: &Buffer) -> Vec<&str> {
        buffer.lines().map(|line| line.text).collect()
    }

    fn parts(text: &str) -> Parts<'_> {
        Parts {
            text,
            kept: &[],
            names: &[],
        }
    }

    #[test]
    fn past_the_line_bound_the_oldest_lines_go_first_and_are_counted() {
        let hold = HeldLines::new(Level::DEBUG).with_max_lines_per_trace(3);
        let (trace, stats) = (TraceLines::default(), Stats::default());
        let hold = Hold::new(hold, stats.clone(), None);
        for text in ["a", "b", "c", "d", "e"] {
            assert!(matches!(
                hold.push(&trace, record(), parts(text)),
                Pushed::Held
            ));
        }
        let buffer = hold.fail(&trace).unwrap();
        assert_eq!(held(&buffer), ["c", "d", "e"]);
        assert_eq!(
            (stats.held_lines_dropped(), stats.held_lines_pending()),
            (2, 3)
        );
        // Failed: the next line is for writing now.
        assert!(matches!(
            hold.push(&trace, record(), parts("f")),
            Pushed::Failed(_)
        ));
    }

    #[test]
    fn past_the_byte_bound_the_oldest_lines_go_first_and_a_line_too_long_is_dropped() {
        let hold = HeldLines::new(Level::DEBUG).with_max_bytes_per_trace(10);
        let (trace, stats) = (TraceLines::default(), Stats::default());
        let hold = Hold::new(hold, stats.clone(), None);
        for text in ["aaaa", "bbbb", "cccc"] {
            assert!(matches!(
                hold.push(&trace, record(), parts(text)),
                Pushed::Held
            ));
        }
        let long = "x".repeat(11);
        assert!(matches!(
            hold.push(&trace, record(), parts(&long)),
            Pushed::Dropped
        ));
        let buffer = hold.fail(&trace).unwrap();
        assert_eq!(held(&buffer), ["bbbb", "cccc"]);
        assert_eq!(stats.held_lines_dropped(), 2);
    }

    #[test]
    fn the_process_bound_refuses_what_would_pass_it_and_counts_every_byte_of_capacity() {
        let bound = 3 * FIRST_TEXT + 3 * FIRST_RECORDS * size_of::<Record>();
        let stats = Stats::default();
        let hold = Hold::new(
            HeldLines::new(Level::DEBUG).with_max_bytes(bound),
            stats.clone(),
            None,
        );
        let traces: Vec<TraceLines> = (0..5).map(|_| TraceLines::default()).collect();
        let held = traces
            .iter()
            .filter(|t| matches!(hold.push(t, record(), parts("line")), Pushed::Held))
            .count();
        assert_eq!(held, 3);
        assert_eq!(stats.held_lines_dropped(), 2);
        assert!(hold.reserved() <= bound, "{} > {bound}", hold.reserved());
        // Ended traces give their buffers to the pool: the next trace reuses one.
        for trace in &traces {
            hold.end(trace);
        }
        assert_eq!(stats.held_lines_discarded(), 3);
        let reserved = hold.reserved();
        let trace = TraceLines::default();
        assert!(matches!(
            hold.push(&trace, record(), parts("line")),
            Pushed::Held
        ));
        assert_eq!(hold.reserved(), reserved);
    }

    #[test]
    fn eviction_and_compaction_keep_the_texts_whole() {
        let config = HeldLines::new(Level::DEBUG)
            .with_max_lines_per_trace(4)
            .with_max_bytes_per_trace(64);
        let (trace, stats) = (TraceLines::default(), Stats::default());
        let hold = Hold::new(config, stats.clone(), None);
        let texts: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        for text in &texts {
            hold.push(&trace, record(), parts(text));
        }
        let buffer = hold.fail(&trace).unwrap();
        assert_eq!(held(&buffer), ["line 96", "line 97", "line 98", "line 99"]);
        assert_eq!(stats.held_lines_dropped(), 96);
        assert!(buffer.bytes.capacity() <= 64, "{}", buffer.bytes.capacity());
    }

    #[test]
    fn levels_held() {
        let held = HeldLines::new(Level::DEBUG);
        assert!(held.holds(&Level::TRACE) && held.holds(&Level::DEBUG));
        assert!(!held.holds(&Level::INFO) && !held.holds(&Level::ERROR));
        assert!(!HeldLines::new(Level::ERROR).holds(&Level::ERROR));
        assert!(HeldLines::new(Level::ERROR).holds(&Level::WARN));
        assert_eq!(
            HeldLines::new(Level::DEBUG).describe(),
            "debug and below (per trace 256 lines, 64 KiB; all traces 32 MiB)"
        );
    }
}
