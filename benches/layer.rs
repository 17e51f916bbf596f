//! The ladder: what one log line costs through each way of getting JSON lines (and OpenTelemetry
//! spans) from `tracing`, every rung of a scenario measured in one criterion group of one run, so
//! the results read as ratios. `BENCHMARKS.md` holds the figures and how to regenerate them.
//!
//! Every rung writes to a sink that discards the bytes and counts them (`support/sink.rs`); before
//! a rung is measured, the same stack is built around a capturing sink and its lines are checked
//! and printed (`support/checks.rs`).
//!
//! Rungs (`support/rungs.rs`):
//!
//! 1. `floor`: the line built by hand in a reused buffer (`support/floor.rs`); `floor_no_ids`: the
//!    same without the id keys, as our JSON layer alone writes it;
//! 2. `no_subscriber`; `registry_empty_layer`;
//! 3. `fmt_json_otel`: `tracing_subscriber::fmt().json()` above `tracing_opentelemetry::layer()`;
//! 4. `json_subscriber_otel`: `json-subscriber` with its OpenTelemetry ids;
//! 5. `bunyan`: `tracing-bunyan-formatter`;
//! 6. `init_tracing_otel`: `init-tracing-opentelemetry`'s production stack, rebuilt non-global;
//! 7. `ours_json`: our JSON layer alone; `ours_otel`: above our bridge;
//!    `ours_otel_span_events_all`: the bridge recording every event as a span event, as
//!    `tracing-opentelemetry` does on its own (like for like with rungs 3, 4 and 6);
//!    `ours_init_stack`: the stack the one-line init builds, rebuilt from public API.
//!
//! Groups:
//!
//! - `a_event`: one INFO event with a message and three fields in an entered span with two fields;
//!   only the events are timed (the span is reopened every 100 events, off the clock);
//! - `b_request`: a span with two fields, three events, a child span, both closed, all timed;
//! - `c_threads`: `a_event`'s work on one thread and on two at once, as time per event at the
//!   combined rate (the spans' reopening included);
//! - `settings_a_event`, `settings_b_request`: our bridge under each of its settings;
//! - `redaction`: ours with the bridge, (a) with a fourth event field and (b) with a third request
//!   span field, named as a secret (`password`, `api_key`) or not (`passcode`, `api_ref`);
//! - `d_error`: an ERROR event carrying an error, 40 frames down, one per span, with the peer and
//!   ours with stack traces off and on.

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, BenchmarkGroup, Criterion};

mod support;

use support::checks;
use support::floor::{self, FloorSpan, RequestBuffers};
use support::run::note_run;
use support::rungs::{self, Rung};
use support::scenario;
use support::sink::Sink;
use tracing_correlate::Stacktraces;

fn bench_a_event(c: &mut Criterion) {
    note_run("start");
    let provider = rungs::provider();
    let ladder = rungs::ladder(&provider);
    let mut group = c.benchmark_group("a_event");

    let by_name = |name: &str| ladder.iter().find(|r| r.name == name).unwrap();
    let check = "floor check";
    checks::floors(
        &checks::event_lines(check, by_name("ours_otel")).0,
        &checks::event_lines(check, by_name("ours_json")).0,
        &checks::request_lines(check, by_name("ours_otel")).0,
    );
    checks::init_tracing_rebuild(&checks::event_lines(check, by_name("init_tracing_otel")).0);

    let sink = Sink::discard();
    let mut line = String::with_capacity(1024);
    let mut span = FloorSpan::default();
    for (name, with_ids) in [("floor", true), ("floor_no_ids", false)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| floor_events(iters, with_ids, &mut line, &mut span, &sink))
        });
    }
    for rung in &ladder {
        checks::event("a_event", rung);
        measure(&mut group, rung, scenario::events_in_spans);
    }
    group.finish();
}

/// The floor of scenario (a), timed as the rungs are: the span's part formatted once per
/// [`scenario::EVENTS_PER_SPAN`] lines, off the clock.
fn floor_events(
    iters: u64,
    with_ids: bool,
    line: &mut String,
    span: &mut FloorSpan,
    sink: &Sink,
) -> Duration {
    let mut measured = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(scenario::EVENTS_PER_SPAN);
        floor::event_span(span, with_ids);
        let start = Instant::now();
        for _ in 0..n {
            floor::event(line, span, sink);
        }
        measured += start.elapsed();
        left -= n;
    }
    measured
}

/// Measures `rung` with `routine` (a criterion `iter_custom` routine) under its subscriber.
fn measure(group: &mut BenchmarkGroup<'_, WallTime>, rung: &Rung, routine: fn(u64) -> Duration) {
    let dispatch = (rung.build)(Sink::discard());
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function(rung.name, |b| b.iter_custom(routine));
    });
}

fn bench_b_request(c: &mut Criterion) {
    let provider = rungs::provider();
    let ladder = rungs::ladder(&provider);
    let mut group = c.benchmark_group("b_request");

    let sink = Sink::discard();
    let mut buffers = RequestBuffers::default();
    group.bench_function("floor", |b| b.iter(|| floor::request(&mut buffers, &sink)));
    for rung in &ladder {
        checks::request("b_request", rung);
        measure(&mut group, rung, timed_requests);
    }
    group.finish();
}

fn timed_requests(iters: u64) -> Duration {
    timed(scenario::request, iters)
}

fn bench_c_threads(c: &mut Criterion) {
    let provider = rungs::provider();
    let mut group = c.benchmark_group("c_threads");
    for rung in [
        rungs::fmt_json_otel(&provider),
        rungs::ours_json(),
        rungs::ours_otel(&provider),
    ] {
        checks::event("c_threads", &rung);
        let dispatch = (rung.build)(Sink::discard());
        for (threads, suffix) in [(1, "1_thread"), (2, "2_threads")] {
            group.bench_function(format!("{}_{suffix}", rung.name), |b| {
                b.iter_custom(|iters| scenario::events_on_threads(&dispatch, threads, iters))
            });
        }
    }
    group.finish();
}

fn bench_settings(c: &mut Criterion) {
    let provider = rungs::provider();
    let settings = rungs::settings(&provider);
    let mut group = c.benchmark_group("settings_a_event");
    for rung in &settings {
        checks::event("settings_a_event", rung);
        measure(&mut group, rung, scenario::events_in_spans);
    }
    group.finish();
    let mut group = c.benchmark_group("settings_b_request");
    for rung in &settings {
        checks::request("settings_b_request", rung);
        measure(&mut group, rung, timed_requests);
    }
    group.finish();
}

fn bench_redaction(c: &mut Criterion) {
    let provider = rungs::provider();
    let rung = rungs::ours_otel(&provider);
    checks::redaction(&rung);
    let dispatch = (rung.build)(Sink::discard());
    let mut group = c.benchmark_group("redaction");
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("a_plain", |b| {
            b.iter_custom(|n| scenario::events_in_spans_of(scenario::emit_event_with_plain, n))
        });
        group.bench_function("a_secret", |b| {
            b.iter_custom(|n| scenario::events_in_spans_of(scenario::emit_event_with_secret, n))
        });
        group.bench_function("b_plain", |b| {
            b.iter_custom(|n| timed(scenario::request_with_plain, n))
        });
        group.bench_function("b_secret", |b| {
            b.iter_custom(|n| timed(scenario::request_with_secret, n))
        });
    });
    group.finish();
}

fn bench_d_error(c: &mut Criterion) {
    let provider = rungs::provider();
    let mut group = c.benchmark_group("d_error");
    for rung in [
        rungs::fmt_json_otel(&provider),
        rungs::ours_stacktraces(&provider, "ours_stacktraces_off", Stacktraces::Off),
        rungs::ours_stacktraces(&provider, "ours_stacktraces_on", Stacktraces::On),
    ] {
        checks::error(&rung);
        measure(&mut group, &rung, scenario::errors_in_requests);
    }
    group.finish();
}

fn bench_e_held(c: &mut Criterion) {
    let provider = rungs::provider();
    let mut group = c.benchmark_group("e_held_event");
    for rung in rungs::held_events(&provider) {
        checks::held(&rung, false);
        measure(&mut group, &rung, |iters| {
            scenario::events_in_spans_of(scenario::emit_debug_event, iters)
        });
    }
    group.finish();
    let mut group = c.benchmark_group("e_held_request");
    for rung in [
        rungs::held(&provider, "info_only", "info", false),
        rungs::held(&provider, "debug_written", "debug", false),
        rungs::held(&provider, "debug_held", "debug", true),
    ] {
        checks::held(&rung, false);
        measure(&mut group, &rung, |iters| {
            timed(scenario::request_with_debug, iters)
        });
    }
    for rung in [
        rungs::held(&provider, "info_only_failing", "info", false),
        rungs::held(&provider, "debug_held_failing", "debug", true),
    ] {
        checks::held(&rung, true);
        measure(&mut group, &rung, |iters| {
            timed(scenario::failing_request_with_debug, iters)
        });
    }
    group.finish();
    note_run("end");
}

fn timed(routine: fn(), iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        routine();
    }
    start.elapsed()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_a_event, bench_b_request, bench_c_threads, bench_settings, bench_redaction, bench_d_error, bench_e_held
}

/// `layer --instructions <rung> <events>` runs scenario (a) for `instructions.sh` instead of the
/// benchmarks (see [`instructions`]); any other arguments are criterion's.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, rung, events] = args.as_slice() {
        if flag == "--instructions" {
            let events = events.parse().expect("events is a number");
            if let Err(why) = instructions(rung, events) {
                eprintln!("{why}");
                std::process::exit(2);
            }
            return;
        }
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

/// Emits `events` events of scenario (a) under `rung` (or the floor's lines), untimed: the
/// program `instructions.sh` runs under callgrind, which counts the instructions executed, the
/// same count for the same binary and input whatever else the machine does.
fn instructions(rung: &str, events: u64) -> Result<(), String> {
    if let Some(with_ids) = match rung {
        "floor" => Some(true),
        "floor_no_ids" => Some(false),
        _ => None,
    } {
        let mut line = String::with_capacity(1024);
        floor_events(
            events,
            with_ids,
            &mut line,
            &mut FloorSpan::default(),
            &Sink::discard(),
        );
        return Ok(());
    }
    let provider = rungs::provider();
    // Group (e)'s rungs: `held_event:<rung>` counts per DEBUG event, `held_request:<rung>` per
    // request of the group.
    if let Some((kind, name)) = rung.split_once(':') {
        let held = rungs::held_events(&provider);
        let found = held.iter().find(|r| r.name == name).ok_or_else(|| {
            let names: Vec<_> = held.iter().map(|r| r.name).collect();
            format!("no rung {name:?}; group (e)'s: {}", names.join(", "))
        })?;
        let dispatch = (found.build)(Sink::discard());
        tracing::dispatcher::with_default(&dispatch, || match kind {
            "held_event" => {
                scenario::events_in_spans_of(scenario::emit_debug_event, events);
                Ok(())
            }
            "held_request" => {
                timed(scenario::request_with_debug, events);
                Ok(())
            }
            _ => Err(format!("{kind:?} is not held_event or held_request")),
        })?;
        return Ok(());
    }
    let ladder = rungs::ladder(&provider);
    let found = ladder.iter().find(|r| r.name == rung).ok_or_else(|| {
        let names: Vec<_> = ladder.iter().map(|r| r.name).collect();
        format!(
            "no rung {rung:?}; the rungs: floor, floor_no_ids, {}",
            names.join(", ")
        )
    })?;
    let dispatch = (found.build)(Sink::discard());
    tracing::dispatcher::with_default(&dispatch, || scenario::events_in_spans(events));
    Ok(())
}
