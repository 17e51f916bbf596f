//! Baggage fields (`JsonLayer::with_baggage_fields`) and the line's rules: the span's baggage
//! reaches its children's lines, values are cut at the value length, a field of the same name
//! wins, baggage fields past the fields bound are counted in `fields_dropped`, redaction follows
//! the layer's rules, and without an allow-list no `baggage.*` key is ever written.

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::{Context, KeyValue};
use serde_json::Value;
use tracing::{info, info_span};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_correlate::Redaction;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::support::find::line_with;
use crate::support::harness::Harness;

/// A context carrying `pairs` as baggage, as the propagator extracts it.
fn baggage(pairs: &[(&'static str, &str)]) -> Context {
    Context::new().with_baggage(
        pairs
            .iter()
            .map(|(k, v)| KeyValue::new(*k, v.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// Logs `message` in a child of a span whose parent context carries `pairs`.
fn log_in_child(message: &'static str, pairs: &[(&'static str, &str)]) {
    let root = info_span!("root");
    let _ = root.set_parent(baggage(pairs));
    let _root = root.enter();
    let child = info_span!("child");
    let _child = child.enter();
    info!("{message}");
}

#[test]
fn child_spans_carry_the_baggage_values_are_cut_and_a_field_of_the_same_name_wins() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_max_value_len(8)
            .with_baggage_fields(["tenant", "region", "user.password", "absent"])
    });
    h.run(|| {
        log_in_child(
            "child",
            &[
                ("tenant", "acme"),
                ("region", "eu-west-1-long"),
                ("user.password", "hunter2"),
            ],
        );
        let root = info_span!("root");
        let _ = root.set_parent(baggage(&[("tenant", "acme")]));
        let _root = root.enter();
        info!(baggage.tenant = "event", "shadowed");
    });
    let lines = h.lines();
    let child = line_with(&lines, "child");
    assert_eq!(child["span_name"], "child");
    assert_eq!(child["baggage.tenant"], "acme");
    assert_eq!(child["baggage.region"], "eu-west-…[truncated 6 bytes]");
    assert_eq!(child["baggage.user.password"], "[REDACTED]");
    assert!(child.get("baggage.absent").is_none(), "{child}");
    assert!(child.get("fields_dropped").is_none(), "{child}");
    let shadowed = line_with(&lines, "shadowed");
    assert_eq!(shadowed["baggage.tenant"], "event");
    assert!(shadowed.get("fields_dropped").is_none(), "{shadowed}");
}

#[test]
fn baggage_fields_past_the_fields_bound_are_counted() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_max_fields(2).with_baggage_fields(["a", "b", "c"])
    });
    h.run(|| {
        let root = info_span!("root", s = 1);
        let _ = root.set_parent(baggage(&[("a", "1"), ("b", "2"), ("c", "3")]));
        let _root = root.enter();
        info!(e = 1, "bounded");
    });
    let lines = h.lines();
    let line = line_with(&lines, "bounded");
    assert_eq!((&line["e"], &line["s"]), (&Value::from(1), &Value::from(1)));
    let written: Vec<_> = ["a", "b", "c"]
        .iter()
        .filter(|k| line.get(format!("baggage.{k}")).is_some())
        .collect();
    assert_eq!(written, Vec::<&&str>::new(), "{line}");
    assert_eq!(line["fields_dropped"], 3, "{line}");
}

#[test]
fn the_layers_redaction_rules_apply_to_baggage_field_names() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_baggage_fields(["tenant", "card"])
            .with_redaction(Redaction::default().with_names(["card"]))
    });
    h.run(|| log_in_child("redacted", &[("tenant", "acme"), ("card", "4111")]));
    let lines = h.lines();
    let line = line_with(&lines, "redacted");
    assert_eq!(line["baggage.tenant"], "acme");
    assert_eq!(line["baggage.card"], "[REDACTED]");
}

#[test]
fn without_an_allow_list_no_baggage_is_written() {
    let h = Harness::new();
    h.run(|| log_in_child("plain", &[("tenant", "acme")]));
    let lines = h.lines();
    let line = line_with(&lines, "plain");
    assert!(
        line.as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("baggage")),
        "{line}"
    );
}
