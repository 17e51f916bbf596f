//! The ids on a line are those of the OpenTelemetry span exported for the span the event belongs
//! to: checked against `opentelemetry_sdk`'s in-memory exporter for every case of the contract.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use serde_json::json;
use tracing::{info, info_span};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use crate::support::capture::Capture;
use crate::support::find::line_with;
use crate::support::harness::Harness;
use crate::support::ids::{ids_of, line_ids};

#[test]
fn root_span_line_carries_the_exported_span_ids() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("create_order", order_id = 42, customer = "c-17");
        let _e = span.enter();
        info!(items = 3, paid = true, "order placed");
    });
    let lines = h.lines();
    let line = line_with(&lines, "order placed");
    let span = h.span("create_order");
    assert_eq!(line_ids(line), ids_of(&span));
    assert_eq!(line["trace_flags"], "01");
    assert_eq!(line["span_name"], "create_order");
    assert_eq!(line["service"], "svc");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], module_path!());
    assert_eq!(line["order_id"], 42);
    assert_eq!(line["customer"], "c-17");
    assert_eq!(line["items"], 3);
    assert_eq!(line["paid"], true);
}

#[test]
fn every_key_has_the_schema_format() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("s");
        let _e = span.enter();
        info!("formats");
    });
    let lines = h.lines();
    let line = line_with(&lines, "formats");
    let ts = line["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2026-11-21T10:23:45.123456Z".len(), "{ts}");
    assert!(ts.ends_with('Z'));
    chrono::DateTime::parse_from_rfc3339(ts).expect("RFC 3339");
    let hex = |v: &serde_json::Value, n: usize| {
        let s = v.as_str().unwrap();
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    assert!(hex(&line["trace_id"], 32));
    assert!(hex(&line["span_id"], 16));
    assert!(hex(&line["trace_flags"], 2));
}

#[test]
fn child_span_line_carries_the_child_ids_and_the_parent_links() {
    let h = Harness::new();
    h.run(|| {
        let parent = info_span!("parent");
        let _p = parent.enter();
        info!("in parent");
        let child = info_span!("child");
        let _c = child.enter();
        info!("in child");
    });
    let lines = h.lines();
    let (parent, child) = (h.span("parent"), h.span("child"));
    assert_eq!(line_ids(line_with(&lines, "in parent")), ids_of(&parent));
    assert_eq!(line_ids(line_with(&lines, "in child")), ids_of(&child));
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
}

#[test]
fn span_created_but_never_entered_gives_its_ids_to_explicit_events() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("never_entered");
        info!(parent: &span, "explicit parent");
    });
    let lines = h.lines();
    let line = line_with(&lines, "explicit parent");
    assert_eq!(line_ids(line), ids_of(&h.span("never_entered")));
    assert_eq!(line["span_name"], "never_entered");
}

#[test]
fn open_telemetry_span_ext_context_works_through_our_layer() {
    // Crates that call `OpenTelemetrySpanExt::context()` keep working with `otel_layer`.
    let h = Harness::new();
    let from_ext = h.run(|| {
        let span = info_span!("ext");
        let cx = span.context();
        info!(parent: &span, "via ext");
        let sc = cx.span().span_context().clone();
        (sc.trace_id().to_string(), sc.span_id().to_string())
    });
    let lines = h.lines();
    assert_eq!(line_ids(line_with(&lines, "via ext")), from_ext);
    assert_eq!(ids_of(&h.span("ext")), from_ext);
}

#[test]
fn explicit_parent_wins_over_the_current_span() {
    let h = Harness::new();
    h.run(|| {
        let other = info_span!("other");
        let current = info_span!("current");
        let _e = current.enter();
        info!(parent: &other, "to other");
        info!("to current");
    });
    let lines = h.lines();
    assert_eq!(
        line_ids(line_with(&lines, "to other")),
        ids_of(&h.span("other"))
    );
    assert_eq!(
        line_ids(line_with(&lines, "to current")),
        ids_of(&h.span("current"))
    );
}

#[test]
fn event_with_explicit_parent_on_another_thread() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        let dispatch = h.dispatch.clone();
        let for_thread = span.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                info!(parent: &for_thread, "from worker");
            })
        })
        .join()
        .unwrap();
    });
    let lines = h.lines();
    assert_eq!(
        line_ids(line_with(&lines, "from worker")),
        ids_of(&h.span("request"))
    );
}

#[test]
fn remote_parent_set_before_start_gives_the_remote_trace_id() {
    let h = Harness::new();
    let remote = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    h.run(|| {
        let span = info_span!("server");
        span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote.clone()))
            .expect("set_parent before start");
        let _e = span.enter();
        info!("handled");
    });
    let lines = h.lines();
    let line = line_with(&lines, "handled");
    let span = h.span("server");
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(line_ids(line), ids_of(&span));
    assert_eq!(span.parent_span_id, remote.span_id());
}

#[test]
fn unsampled_spans_still_give_ids_with_flags_00() {
    let h = Harness::with(Sampler::AlwaysOff, |l| l);
    h.run(|| {
        let span = info_span!("dropped");
        let _e = span.enter();
        info!("unsampled outer");
        let child = info_span!("dropped_child");
        let _c = child.enter();
        info!("unsampled inner");
    });
    let lines = h.lines();
    let (outer, inner) = (
        line_with(&lines, "unsampled outer"),
        line_with(&lines, "unsampled inner"),
    );
    for line in [outer, inner] {
        assert_eq!(line["trace_flags"], "00");
        assert_ne!(line["trace_id"], "00000000000000000000000000000000");
        assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
    }
    assert_eq!(outer["trace_id"], inner["trace_id"]);
    assert_ne!(outer["span_id"], inner["span_id"]);
    assert!(h.spans().is_empty(), "nothing is exported when unsampled");
}

#[test]
fn events_outside_any_span_carry_no_id_keys() {
    let h = Harness::new();
    h.run(|| info!("no span"));
    let lines = h.lines();
    let line = line_with(&lines, "no span");
    for key in ["trace_id", "span_id", "trace_flags", "span_name"] {
        assert!(line.get(key).is_none(), "{key} present: {line}");
    }
}

#[test]
fn explicit_root_event_inside_a_span_carries_no_ids() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("s");
        let _e = span.enter();
        info!(parent: None, "explicit root");
    });
    let lines = h.lines();
    assert!(line_with(&lines, "explicit root").get("trace_id").is_none());
}

#[test]
fn span_fields_flatten_inner_wins_and_event_wins() {
    let h = Harness::new();
    h.run(|| {
        let outer = info_span!("outer", shared = "outer", only_outer = 1, clash = "span");
        let _o = outer.enter();
        let inner = info_span!("inner", shared = "inner", only_inner = 2);
        let _i = inner.enter();
        info!(clash = "event", "merged");
    });
    let lines = h.lines();
    let line = line_with(&lines, "merged");
    assert_eq!(line["shared"], "inner");
    assert_eq!(line["only_outer"], 1);
    assert_eq!(line["only_inner"], 2);
    assert_eq!(line["clash"], "event");
}

#[test]
fn fields_recorded_later_replace_and_extend_span_fields() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("s", status = "pending", user = tracing::field::Empty);
        let _e = span.enter();
        info!("before");
        span.record("status", "paid");
        span.record("user", 7);
        info!("after");
    });
    let lines = h.lines();
    let before = line_with(&lines, "before");
    assert_eq!(before["status"], "pending");
    assert!(
        before.get("user").is_none(),
        "an Empty field is not written"
    );
    let after = line_with(&lines, "after");
    assert_eq!(after["status"], "paid");
    assert_eq!(after["user"], 7);
}

#[test]
fn otel_name_names_the_line_span_like_the_exported_span() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("handler", otel.name = "GET /orders", otel.kind = "server");
        let _e = span.enter();
        info!("named");
    });
    let lines = h.lines();
    let line = line_with(&lines, "named");
    let span = h.span("GET /orders");
    assert_eq!(line["span_name"], "GET /orders");
    assert_eq!(line_ids(line), ids_of(&span));
    assert!(line.get("otel.name").is_none() && line.get("otel.kind").is_none());
}

#[test]
fn without_the_otel_layer_lines_have_span_data_but_no_ids() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::layer().with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("plain", k = 1);
        let _e = span.enter();
        info!("no otel");
    });
    let lines = capture.lines();
    let line = line_with(&lines, "no otel");
    assert_eq!(line["span_name"], "plain");
    assert_eq!(line["k"], 1);
    assert!(line.get("trace_id").is_none());
    assert_eq!(line["service"], "unknown_service");
}

#[test]
fn ids_are_stable_across_many_events_of_one_span() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("busy");
        let _e = span.enter();
        for i in 0..5 {
            info!(i, "tick");
        }
    });
    let lines = h.lines();
    let ids = ids_of(&h.span("busy"));
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_eq!(line_ids(line), ids);
    }
}

#[test]
fn optional_keys_are_written_when_switched_on() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_file(true)
            .with_line_number(true)
            .with_thread_ids(true)
            .with_thread_names(true)
    });
    std::thread::Builder::new()
        .name("worker-1".into())
        .spawn({
            let dispatch = h.dispatch.clone();
            move || tracing::dispatcher::with_default(&dispatch, || info!(line = "user", "located"))
        })
        .unwrap()
        .join()
        .unwrap();
    let lines = h.lines();
    let line = line_with(&lines, "located");
    assert_eq!(line["file"], file!());
    assert!(line["line"].is_u64());
    assert_eq!(line["thread_name"], "worker-1");
    assert!(line["thread_id"].is_u64());
    assert_eq!(
        line["fields.line"], "user",
        "a user field named like an optional key is renamed"
    );
}

#[test]
fn records_of_the_log_crate_keep_their_target_and_no_log_fields() {
    // tracing-log normalises records bridged from the `log` crate; build one as the bridge does.
    let h = Harness::new();
    h.run(|| {
        let record = log::Record::builder()
            .args(format_args!("from log"))
            .level(log::Level::Warn)
            .target("legacy::module")
            .file(Some("legacy.rs"))
            .line(Some(7))
            .build();
        tracing_log::format_trace(&record).unwrap();
    });
    let lines = h.lines();
    let line = line_with(&lines, "from log");
    assert_eq!(
        json!({"level": line["level"], "target": line["target"]}),
        json!({"level": "WARN", "target": "legacy::module"})
    );
    assert!(line
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.starts_with("log.")));
}

#[test]
fn nested_dispatchers_on_one_thread_each_see_only_their_own_current_span() {
    let outer = Harness::new();
    let inner = Harness::new();
    outer.run(|| {
        let a = info_span!("outer_span");
        let _a = a.enter();
        info!("outer before");
        inner.run(|| {
            info!("inner without a span");
            let b = info_span!("inner_span");
            let _b = b.enter();
            info!("inner inside");
        });
        info!("outer after");
    });
    let (outer_lines, inner_lines) = (outer.lines(), inner.lines());
    let outer_ids = ids_of(&outer.span("outer_span"));
    assert_eq!(line_ids(line_with(&outer_lines, "outer before")), outer_ids);
    assert_eq!(line_ids(line_with(&outer_lines, "outer after")), outer_ids);
    assert!(line_with(&inner_lines, "inner without a span")
        .get("trace_id")
        .is_none());
    assert_eq!(
        line_ids(line_with(&inner_lines, "inner inside")),
        ids_of(&inner.span("inner_span"))
    );
}

#[test]
fn a_span_entered_twice_stays_current_until_both_exits() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("reentered");
        let first = span.enter();
        let second = span.enter();
        drop(second);
        info!("after one exit");
        drop(first);
        info!("after both");
    });
    let lines = h.lines();
    assert_eq!(
        line_ids(line_with(&lines, "after one exit")),
        ids_of(&h.span("reentered"))
    );
    assert!(line_with(&lines, "after both").get("trace_id").is_none());
}
