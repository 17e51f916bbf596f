//! Held lines (`JsonLayer::with_held_lines`): a trace's lines below the level are written only
//! when the trace fails, in order, before the line that failed it, as they would have been
//! written (ids, span fields, redaction, bounds, preset keys) plus `"held":true`; otherwise they
//! are discarded and counted. And `with_unsampled_level`: an unsampled trace's lines below the
//! level are dropped and counted.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing::field::Empty;
use tracing::{debug, debug_span, error, info, info_span, trace, warn, Level};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_correlate::{HeldLines, JsonLayer, Preset, Stats};

use crate::support::harness::Harness;

/// A harness whose JSON layer `configure` sets up, and the layer's counters.
fn harness(sampler: Sampler, configure: impl FnOnce(JsonLayer) -> JsonLayer) -> (Harness, Stats) {
    let stats = Arc::new(Mutex::new(None));
    let slot = stats.clone();
    let h = Harness::with(sampler, move |layer| {
        *slot.lock().unwrap() = Some(layer.stats());
        configure(layer)
    });
    let stats = stats.lock().unwrap().take().unwrap();
    (h, stats)
}

fn holding(level: Level) -> (Harness, Stats) {
    harness(Sampler::AlwaysOn, |l| {
        l.with_held_lines(HeldLines::new(level))
    })
}

fn messages(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["message"].as_str().unwrap_or(""))
        .collect()
}

fn hex(id: impl std::fmt::LowerHex) -> String {
    format!("{id:032x}")
}

#[test]
fn a_failing_trace_writes_its_held_lines_in_order_before_the_error_and_a_succeeding_one_discards_them(
) {
    let (h, stats) = holding(Level::DEBUG);
    h.run(|| {
        {
            let ok = info_span!("request", n = 1);
            let _ok = ok.enter();
            debug!(step = 1, "ok a");
            info!("ok handled");
            debug!(step = 2, "ok b");
        }
        {
            let bad = info_span!("request", n = 2);
            let _bad = bad.enter();
            debug!(step = 1, "bad a");
            {
                let db = debug_span!("db", table = "orders");
                let _db = db.enter();
                trace!(step = 2, "bad query");
            }
            info!("bad handled");
            error!("bad failed");
            debug!(step = 3, "bad after");
        }
    });
    let lines = h.lines();
    assert_eq!(
        messages(&lines),
        [
            "ok handled",
            "bad handled",
            "bad a",
            "bad query",
            "bad failed",
            "bad after"
        ]
    );
    let held: Vec<&Value> = lines.iter().filter(|l| l.get("held").is_some()).collect();
    assert_eq!(
        messages(&held.iter().map(|l| (*l).clone()).collect::<Vec<_>>()),
        ["bad a", "bad query"]
    );
    assert!(held.iter().all(|l| l["held"] == Value::Bool(true)));

    // Their ids are the exported spans', their span fields those of their spans.
    let request = h
        .spans()
        .into_iter()
        .find(|s| {
            s.name == "request"
                && lines[1]["span_id"] == format!("{:016x}", s.span_context.span_id())
        })
        .expect("the failing request's span");
    let db = h.span("db");
    let trace_id = hex(u128::from_be_bytes(
        request.span_context.trace_id().to_bytes(),
    ));
    for line in &lines[1..] {
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
    }
    assert_eq!(
        held[0]["span_id"],
        format!("{:016x}", request.span_context.span_id())
    );
    assert_eq!(held[0]["span_name"], "request");
    assert_eq!(
        (held[0]["n"].as_i64(), held[0]["step"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        held[1]["span_id"],
        format!("{:016x}", db.span_context.span_id())
    );
    assert_eq!(held[1]["span_name"], "db");
    assert_eq!(held[1]["level"], "TRACE");
    assert_eq!(held[1]["table"], "orders");
    assert_eq!(held[1]["n"].as_i64(), Some(2));
    // Their own timestamps: earlier than the line written at once after them.
    assert!(held[0]["timestamp"].as_str() <= lines[1]["timestamp"].as_str());

    assert_eq!(stats.held_lines(), 4);
    assert_eq!(stats.held_lines_written(), 2);
    assert_eq!(stats.held_lines_discarded(), 2);
    assert_eq!(
        (stats.held_lines_dropped(), stats.held_lines_pending()),
        (0, 0)
    );
    assert!(stats.held_bytes() > 0, "the pool keeps the buffers");
}

#[test]
fn a_span_status_error_and_a_root_5xx_fail_the_trace_and_a_child_5xx_does_not() {
    let (h, stats) = holding(Level::DEBUG);
    h.run(|| {
        // The server middleware's way: the root records its status code.
        let root = info_span!("GET /a", http.response.status_code = Empty);
        root.in_scope(|| debug!("a detail"));
        root.record("http.response.status_code", 503_u16);
        drop(root);

        // Any span of the trace with `otel.status_code` error.
        let root = info_span!("GET /b");
        root.in_scope(|| {
            debug!("b detail");
            let call = info_span!("call", otel.status_code = Empty);
            call.record("otel.status_code", "error");
        });
        drop(root);

        // A downstream's 5xx on a child span is the child's answer, not the request's.
        let root = info_span!("GET /c");
        root.in_scope(|| {
            debug!("c detail");
            let call = info_span!("call", http.response.status_code = Empty);
            call.record("http.response.status_code", 502_u16);
        });
        drop(root);
    });
    assert_eq!(messages(&h.lines()), ["a detail", "b detail"]);
    assert_eq!(
        (stats.held_lines_written(), stats.held_lines_discarded()),
        (2, 1)
    );
}

#[test]
fn lines_above_the_level_and_outside_any_span_are_written_at_once() {
    let (h, stats) = holding(Level::INFO);
    h.run(|| {
        debug!("outside");
        let root = info_span!("root");
        let _root = root.enter();
        warn!("a warning");
        info!("held info");
        debug!("held debug");
    });
    assert_eq!(messages(&h.lines()), ["outside", "a warning"]);
    assert_eq!(stats.held_lines_discarded(), 2);
}

#[test]
fn events_from_other_threads_hold_into_their_trace() {
    let (h, stats) = holding(Level::DEBUG);
    let dispatch = h.dispatch.clone();
    h.run(|| {
        let root = info_span!("root");
        let _root = root.enter();
        debug!("on main");
        std::thread::scope(|s| {
            let root = root.clone();
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    // An explicit parent, and a child span entered on this thread.
                    debug!(parent: &root, "explicit parent");
                    let child = debug_span!(parent: &root, "child");
                    child.in_scope(|| debug!("in a child on another thread"));
                })
            })
            .join()
            .unwrap();
        });
        error!("failed");
    });
    assert_eq!(
        messages(&h.lines()),
        [
            "on main",
            "explicit parent",
            "in a child on another thread",
            "failed"
        ]
    );
    assert_eq!(stats.held_lines_written(), 3);
}

/// Each line of `lines` without the keys that differ between runs (the time, the ids, `held`),
/// in message order.
fn comparable(lines: Vec<Value>) -> Vec<Value> {
    let mut lines: Vec<Value> = lines
        .into_iter()
        .map(|mut line| {
            let map = line.as_object_mut().unwrap();
            for key in ["timestamp", "trace_id", "span_id", "held"] {
                map.remove(key);
            }
            map.retain(|k, _| {
                !k.starts_with("transaction.")
                    && !k.starts_with("trace.")
                    && !k.starts_with("span.")
            });
            line
        })
        .collect();
    lines.sort_by_key(|l| l["message"].as_str().unwrap_or("").to_owned());
    lines
}

/// Lines written at once as a layer holding lines writes them: `held` is then a reserved key,
/// and an event's field of that name is `fields.held`.
fn as_when_held(mut lines: Vec<Value>) -> Vec<Value> {
    for line in &mut lines {
        let map = line.as_object_mut().unwrap();
        if let Some(v) = map.remove("held") {
            map.insert("fields.held".into(), v);
        }
    }
    lines
}

#[test]
fn a_held_line_written_is_the_line_that_would_have_been_written() {
    let scenario = || {
        let root = info_span!("request", api_key = "k-123", route = "/orders");
        let _root = root.enter();
        let inner = debug_span!(
            "inner",
            otel.name = "inner renamed",
            long = "0123456789abcdef"
        );
        let _inner = inner.enter();
        debug!(
            password = "hunter2",
            value = "a long value past the bound",
            n = 7_u64,
            "detail {}",
            1
        );
        debug!(level = "shadowed", held = true, "reserved names");
        error!("failed");
    };
    let configure = |l: JsonLayer| {
        l.with_preset(Preset::Ecs)
            .with_max_value_len(12)
            .with_max_fields(6)
            .with_file(true)
            .with_line_number(true)
            .with_thread_names(true)
    };
    let (written, _) = harness(Sampler::AlwaysOn, configure);
    written.run(scenario);
    let (held, stats) = harness(Sampler::AlwaysOn, move |l| {
        configure(l).with_held_lines(HeldLines::new(Level::DEBUG))
    });
    held.run(scenario);
    assert_eq!(stats.held_lines_written(), 2);

    let held_lines = held.lines();
    // ECS names the local root too: the held line's is the root span's id.
    let root_id = held_lines[0]["transaction.id"].clone();
    assert_eq!(held_lines[2]["transaction.id"], root_id);
    assert_eq!(held_lines[0]["held"], true);
    assert!(held_lines[0]["password"] == "[REDACTED]");
    assert_eq!(
        comparable(held_lines),
        comparable(as_when_held(written.lines()))
    );
}

/// The same as [`a_held_line_written_is_the_line_that_would_have_been_written`] for lines whose
/// fields are kept unformatted until written (values within the value length): every kind of
/// value, a secret, reserved and repeated names, span fields shadowed by event fields and by
/// inner spans, and the fields bound.
#[test]
fn a_held_line_whose_fields_were_kept_is_the_line_that_would_have_been_written() {
    #[derive(Debug)]
    #[allow(dead_code)] // read by its `Debug`
    struct Cart {
        items: Vec<&'static str>,
    }
    let scenario = || {
        let root = info_span!(
            "request",
            api_key = "k-123",
            route = "/orders",
            user = "outer"
        );
        let _root = root.enter();
        let inner = debug_span!("inner", user = "inner", attempt = 2_u64, note = "q\"uote");
        let _inner = inner.enter();
        debug!(
            i = -7_i64,
            u = 7_u64,
            big = 170141183460469231731687303715884105727_i128,
            ubig = 340282366920938463463374607431768211455_u128,
            ratio = 0.1_f64,
            inf = f64::INFINITY,
            ok = false,
            s = "tab\there",
            cart = ?Cart { items: vec!["a", "b\n"] },
            password = "hunter2",
            "detail {} of {:?}",
            1,
            "two"
        );
        debug!(
            level = "shadowed",
            held = true,
            user = "event",
            "reserved names"
        );
        debug!(message = "a message field", "and a formatted one");
        error!("failed");
    };
    let configure = |l: JsonLayer| l.with_file(true).with_thread_names(true);
    for max_fields in [128, 5] {
        let (written, _) = harness(Sampler::AlwaysOn, move |l| {
            configure(l).with_max_fields(max_fields)
        });
        written.run(scenario);
        let (held, stats) = harness(Sampler::AlwaysOn, move |l| {
            configure(l)
                .with_max_fields(max_fields)
                .with_held_lines(HeldLines::new(Level::DEBUG))
        });
        held.run(scenario);
        assert_eq!(stats.held_lines_written(), 3);
        let held_lines = held.lines();
        assert!(held_lines[..3].iter().all(|l| l["held"] == true));
        assert_eq!(
            comparable(held_lines),
            comparable(as_when_held(written.lines())),
            "max_fields {max_fields}"
        );
    }
}

#[test]
fn records_of_the_log_crate_are_held_with_their_own_metadata() {
    let (h, stats) = holding(Level::DEBUG);
    h.run(|| {
        let root = info_span!("root");
        let _root = root.enter();
        tracing_log::format_trace(
            &tracing_log::log::Record::builder()
                .level(tracing_log::log::Level::Debug)
                .target("legacy::module")
                .args(format_args!("from the log crate"))
                .build(),
        )
        .unwrap();
        error!("failed");
    });
    let lines = h.lines();
    assert_eq!(messages(&lines), ["from the log crate", "failed"]);
    assert_eq!(lines[0]["target"], "legacy::module");
    assert_eq!(lines[0]["level"], "DEBUG");
    assert_eq!(lines[0]["held"], true);
    assert_eq!(lines[0]["trace_id"], lines[1]["trace_id"]);
    assert_eq!(stats.held_lines_written(), 1);
}

#[test]
fn past_a_traces_bound_its_oldest_lines_go_first_and_are_counted() {
    let (h, stats) = harness(Sampler::AlwaysOn, |l| {
        l.with_held_lines(HeldLines::new(Level::DEBUG).with_max_lines_per_trace(3))
    });
    h.run(|| {
        let worker = info_span!("worker loop");
        let _worker = worker.enter();
        for i in 0..10 {
            debug!(i, "job");
        }
        error!("failed");
    });
    let lines = h.lines();
    let kept: Vec<i64> = lines.iter().filter_map(|l| l["i"].as_i64()).collect();
    assert_eq!(kept, [7, 8, 9]);
    assert_eq!(stats.held_lines_dropped(), 7);
    assert_eq!(stats.held_lines_written(), 3);
}

#[test]
fn ten_thousand_open_traces_stay_within_the_byte_bound_and_the_counts_add_up() {
    const TRACES: usize = 10_000;
    const BOUND: usize = 2 << 20;
    let (h, stats) = harness(Sampler::AlwaysOn, |l| {
        l.with_held_lines(HeldLines::new(Level::DEBUG).with_max_bytes(BOUND))
    });
    let dispatch = h.dispatch.clone();
    h.run(|| {
        let roots: Vec<tracing::Span> = (0..TRACES).map(|n| info_span!("request", n)).collect();
        // Half of each trace's lines from another thread, by explicit parent.
        std::thread::scope(|s| {
            let (first, second) = roots.split_at(TRACES / 2);
            for part in [first, second] {
                let dispatch = dispatch.clone();
                s.spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for root in part {
                            for step in 0..3 {
                                debug!(parent: root, step, "a detail of the request's work");
                            }
                        }
                    })
                });
            }
        });
        let open = (
            stats.held_bytes(),
            stats.held_lines_pending(),
            stats.held_lines_dropped(),
        );
        assert!(open.0 <= BOUND, "{} bytes held, past {BOUND}", open.0);
        assert_eq!(open.1 + open.2, (TRACES * 3) as u64, "{open:?}");
        assert!(open.1 > 0 && open.2 > 0, "the bound was reached: {open:?}");
        // Every tenth trace fails; then all end.
        for root in roots.iter().step_by(10) {
            error!(parent: root, "failed");
        }
        drop(roots);
    });
    let held_written = h.lines().iter().filter(|l| l.get("held").is_some()).count() as u64;
    assert_eq!(held_written, stats.held_lines_written());
    assert!(held_written > 0);
    assert_eq!(stats.held_lines_pending(), 0);
    assert_eq!(
        stats.held_lines_written() + stats.held_lines_discarded() + stats.held_lines_dropped(),
        stats.held_lines()
    );
    assert_eq!(stats.held_lines(), (TRACES * 3) as u64);
    assert!(stats.held_bytes() <= BOUND);
}

#[test]
fn an_unsampled_traces_lines_below_the_level_are_dropped_and_counted() {
    let (h, stats) = harness(Sampler::AlwaysOff, |l| l.with_unsampled_level(Level::WARN));
    h.run(|| {
        info!("outside any span");
        let root = info_span!("root");
        let _root = root.enter();
        info!("dropped info");
        debug!("dropped debug");
        warn!("kept warning");
        error!("kept error");
    });
    let lines = h.lines();
    assert_eq!(
        messages(&lines),
        ["outside any span", "kept warning", "kept error"]
    );
    assert_eq!(lines[1]["trace_flags"], "00");
    assert_eq!(stats.lines_unsampled(), 2);

    // A sampled trace keeps every line.
    let (h, stats) = harness(Sampler::AlwaysOn, |l| l.with_unsampled_level(Level::WARN));
    h.run(|| {
        let root = info_span!("root");
        let _root = root.enter();
        info!("kept info");
    });
    assert_eq!(messages(&h.lines()), ["kept info"]);
    assert_eq!(stats.lines_unsampled(), 0);
}

#[test]
fn a_baggage_entry_asks_for_a_traces_lines_at_once_within_the_rate() {
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::{Context, KeyValue};
    use tracing_correlate::DebugOnDemand;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    let (h, stats) = harness(Sampler::AlwaysOn, |l| {
        l.with_held_lines(HeldLines::new(Level::DEBUG))
            .with_debug_on_demand(DebugOnDemand::new("tc-debug", "7f3a").with_per_minute(1))
    });
    let request = |n: u64, value: Option<&str>| {
        let root = info_span!("request", n);
        if let Some(value) = value {
            let _ = root.set_parent(
                Context::new().with_baggage([KeyValue::new("tc-debug", value.to_owned())]),
            );
        }
        root.in_scope(|| debug!(n, "detail"));
    };
    h.run(|| {
        request(1, Some("7f3a")); // granted: written at once
        request(2, Some("wrong")); // a forged value: held, discarded
        request(3, None); // no entry: held, discarded
        request(4, Some("7f3a")); // past the rate of one a minute: held, discarded
    });
    let lines = h.lines();
    assert_eq!(messages(&lines), ["detail"]);
    assert_eq!(lines[0]["n"].as_i64(), Some(1));
    assert!(
        lines[0].get("held").is_none(),
        "written at once: {}",
        lines[0]
    );
    assert_eq!(stats.debug_on_demand_granted(), 1);
    assert_eq!(stats.debug_on_demand_refused(), 1);
    assert_eq!(stats.held_lines_discarded(), 3);
}
