//! The measured work: scenario (a), one event in an entered span; scenario (b), a request; and the
//! loops that run (a) on one thread or several.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use tracing::{Dispatch, Span};

/// The target of every event of the scenarios (what the lines say in `target`).
pub const TARGET: &str = module_path!();

/// Scenario (a) emits at most this many events in one span, then closes it and opens another:
/// every OpenTelemetry rung keeps its span under the SDK's default limit of 128 events per span,
/// so no event is measured on the cheaper path of an event the SDK drops.
pub const EVENTS_PER_SPAN: u64 = 100;

/// The span of scenario (a): two fields.
pub fn event_span() -> Span {
    tracing::info_span!("checkout", region = "eu-west-1", attempt = 2_i64)
}

/// The event of scenario (a): an INFO event with a message and three fields.
#[inline(never)]
pub fn emit_event() {
    tracing::info!(
        order_id = black_box(42_i64),
        customer = black_box("alice"),
        express = black_box(true),
        "order placed"
    );
}

/// Defines a twin of scenario (a)'s event with a fourth field named `$field`.
macro_rules! event_with_fourth_field {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        #[inline(never)]
        pub fn $name() {
            tracing::info!(
                order_id = black_box(42_i64),
                customer = black_box("alice"),
                express = black_box(true),
                $field = black_box("hunter2"),
                "order placed"
            );
        }
    };
}

/// Defines a twin of scenario (b) whose request span has a third field named `$field`.
macro_rules! request_with_third_field {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        #[inline(never)]
        pub fn $name() {
            let request = tracing::info_span!(
                "handle_request",
                method = "GET",
                route = "/orders/{id}",
                $field = black_box("k-123")
            );
            request_in(request, |_| {});
        }
    };
}

event_with_fourth_field!(
    /// Scenario (a)'s event with a fourth field named as a secret, `password`: the JSON layer
    /// writes `"[REDACTED]"` without formatting the value.
    emit_event_with_secret,
    password
);
event_with_fourth_field!(
    /// [`emit_event_with_secret`]'s twin with a field that is not a secret, `passcode`.
    emit_event_with_plain,
    passcode
);
request_with_third_field!(
    /// Scenario (b) whose request span has a third field named as a secret, `api_key`: the
    /// bridge hands `tracing-opentelemetry` a copy of the span's values with the marker in its
    /// place.
    request_with_secret,
    api_key
);
request_with_third_field!(
    /// [`request_with_secret`]'s twin with a field that is not a secret, `api_ref`.
    request_with_plain,
    api_ref
);

/// Scenario (b) in `request`, once it is made: `probe` sees it once it is entered.
#[inline(always)]
fn request_in(request: Span, probe: impl FnOnce(&Span)) {
    let _request = request.enter();
    probe(&request);
    tracing::info!(order_id = black_box(42_i64), "request received");
    {
        let child = tracing::info_span!("load_cart");
        let _child = child.enter();
        tracing::info!(
            customer = black_box("alice"),
            items = black_box(3_i64),
            "cart loaded"
        );
    }
    tracing::info!(
        express = black_box(true),
        status = black_box(200_i64),
        "order placed"
    );
}

/// Scenario (a), `iters` times, under the current dispatcher: the span is opened and entered
/// before each batch of [`EVENTS_PER_SPAN`] events and closed after it, outside the clock; only
/// the events are timed.
pub fn events_in_spans(iters: u64) -> Duration {
    events_in_spans_of(emit_event, iters)
}

/// [`events_in_spans`] with another event.
pub fn events_in_spans_of(emit: fn(), iters: u64) -> Duration {
    let mut measured = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(EVENTS_PER_SPAN);
        let span = event_span();
        let entered = span.enter();
        let start = Instant::now();
        for _ in 0..n {
            emit();
        }
        measured += start.elapsed();
        drop(entered);
        drop(span);
        left -= n;
    }
    measured
}

/// Scenario (c): [`events_in_spans`]'s work on `threads` threads at once under `dispatch`, each
/// emitting `iters` events, started together by a barrier. Returns the wall time from the first
/// start to the last end divided by `threads`: the time per event at the rate all threads achieve
/// together (the spans' opening and closing, one per [`EVENTS_PER_SPAN`] events, included).
pub fn events_on_threads(dispatch: &Dispatch, threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads);
    let runs: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    tracing::dispatcher::with_default(dispatch, || {
                        // A fresh thread: its first line allocates the thread's buffers.
                        events_in_spans(1);
                        barrier.wait();
                        let start = Instant::now();
                        let mut left = iters;
                        while left > 0 {
                            let n = left.min(EVENTS_PER_SPAN);
                            let span = event_span();
                            let _entered = span.enter();
                            for _ in 0..n {
                                emit_event();
                            }
                            left -= n;
                        }
                        (start, Instant::now())
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let start = runs.iter().map(|r| r.0).min().unwrap();
    let end = runs.iter().map(|r| r.1).max().unwrap();
    (end - start) / threads as u32
}

/// Scenario (b), a request: a span with two fields, an event, a child span with an event, the
/// child closed, a last event, the span closed. `probe` sees the request's span once it is entered
/// (the checks read its OpenTelemetry ids there; the measured requests pass nothing).
#[inline(always)]
pub fn request_with(probe: impl FnOnce(&Span)) {
    let request = tracing::info_span!("handle_request", method = "GET", route = "/orders/{id}");
    request_in(request, probe);
}

/// Scenario (b), as measured.
#[inline(never)]
pub fn request() {
    request_with(|_| {});
}

/// The error of scenario (d): a failure with one cause, as a service's error type wraps the I/O
/// error below it.
#[derive(Debug)]
pub struct ChargeFailed(std::io::Error);

impl std::fmt::Display for ChargeFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("charge failed")
    }
}

impl std::error::Error for ChargeFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// How deep below the benchmark's own frames scenario (d) logs its error: a service's handler
/// runs about this many frames above its thread's entry (tokio's worker, hyper, tower, axum),
/// and a stack trace's cost grows with the frames it walks.
pub const ERROR_DEPTH: u32 = 40;

/// The event of scenario (d): an ERROR event carrying an error (`&dyn Error`, with its cause),
/// logged [`ERROR_DEPTH`] frames down.
#[inline(never)]
pub fn emit_error() {
    descend(black_box(ERROR_DEPTH));
}

#[inline(never)]
fn descend(depth: u32) {
    if depth == 0 {
        let err = ChargeFailed(std::io::Error::other("connection refused"));
        tracing::error!(
            error = &err as &(dyn std::error::Error + 'static),
            order_id = black_box(42_i64),
            "payment failed"
        );
    } else {
        descend(black_box(depth - 1));
    }
}

/// Scenario (d), `iters` times: each error in a span of its own (a request that fails once), the
/// span opened and closed off the clock, so each error is also recorded on its span as an
/// `exception` event. Only the events are timed.
pub fn errors_in_requests(iters: u64) -> Duration {
    let mut measured = Duration::ZERO;
    for _ in 0..iters {
        let span = event_span();
        let entered = span.enter();
        let start = Instant::now();
        emit_error();
        measured += start.elapsed();
        drop(entered);
        drop(span);
    }
    measured
}

/// The event of the held-lines group (e): scenario (a)'s event at DEBUG.
#[inline(never)]
pub fn emit_debug_event() {
    tracing::debug!(
        order_id = black_box(42_i64),
        customer = black_box("alice"),
        express = black_box(true),
        "order detail"
    );
}

/// The request of the held-lines group (e): scenario (b)'s request, its three INFO events, with
/// six DEBUG events of detail among them; `fail` ends it with an ERROR event instead of its last
/// INFO event (the trace fails, so its held lines are written).
#[inline(always)]
fn request_with_debug_in(fail: bool) {
    let request = tracing::info_span!("handle_request", method = "GET", route = "/orders/{id}");
    let _request = request.enter();
    tracing::info!(order_id = black_box(42_i64), "request received");
    tracing::debug!(step = black_box(1_i64), "body parsed");
    tracing::debug!(
        step = black_box(2_i64),
        user = black_box("alice"),
        "authorized"
    );
    {
        let child = tracing::info_span!("load_cart");
        let _child = child.enter();
        tracing::debug!(step = black_box(3_i64), "cache miss");
        tracing::info!(
            customer = black_box("alice"),
            items = black_box(3_i64),
            "cart loaded"
        );
        tracing::debug!(
            step = black_box(4_i64),
            total = black_box(4200_i64),
            "cart priced"
        );
    }
    tracing::debug!(step = black_box(5_i64), "stock reserved");
    tracing::debug!(step = black_box(6_i64), "receipt rendered");
    if fail {
        tracing::error!(status = black_box(500_i64), "order failed");
    } else {
        tracing::info!(
            express = black_box(true),
            status = black_box(200_i64),
            "order placed"
        );
    }
}

/// Group (e)'s request that succeeds.
#[inline(never)]
pub fn request_with_debug() {
    request_with_debug_in(false);
}

/// Group (e)'s request that fails.
#[inline(never)]
pub fn failing_request_with_debug() {
    request_with_debug_in(true);
}

/// The DEBUG events per request of group (e).
pub const DEBUG_EVENTS_PER_REQUEST: usize = 6;
