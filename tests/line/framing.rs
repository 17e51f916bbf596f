//! Line framing: whatever the fields hold, a line stays one bounded line. Long values are cut at a
//! character boundary with a marker; fields past the bound are counted, not silently lost.

use std::error::Error;

use serde_json::Value;
use tracing::{error, info, info_span};
use tracing_core::field::Value as FieldValue;
use tracing_core::metadata::Kind;
use tracing_core::Level;
use tracing_correlate::opentelemetry_sdk::trace::Sampler;

use crate::support::find::line_with;
use crate::support::harness::Harness;
use crate::support::runtime::runtime_metadata;

/// `s` as the layer keeps it under a limit of `limit` bytes.
fn cut(s: &str, limit: usize) -> String {
    let mut keep = limit.min(s.len());
    while !s.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}…[truncated {} bytes]", &s[..keep], s.len() - keep)
}

#[test]
fn long_values_are_cut_at_a_character_boundary_with_a_marker() {
    let limit = 101; // falls inside a two-byte character
    let h = Harness::with(Sampler::AlwaysOn, |l| l.with_max_value_len(limit));
    let long = "é".repeat(5_000);
    let err = std::io::Error::other(long.clone());
    h.run(|| {
        let span = info_span!("s", note = long.as_str());
        let _e = span.enter();
        info!(text = long.as_str(), debug = ?long, short = "fine", "{long}");
        error!(error = &err as &(dyn Error + 'static), "failed");
    });
    let lines = h.lines();
    let info_line = lines.iter().find(|l| l["level"] == "INFO").unwrap();
    assert_eq!(info_line["text"], cut(&long, limit));
    assert_eq!(info_line["note"], cut(&long, limit), "span fields too");
    assert_eq!(info_line["message"], cut(&long, limit), "the message too");
    assert_eq!(info_line["debug"], cut(&format!("{long:?}"), limit));
    assert_eq!(info_line["short"], "fine");
    let error_line = line_with(&lines, "failed");
    assert_eq!(error_line["exception"]["message"], cut(&long, limit));
    for line in &lines {
        assert!(
            line.to_string().len() < 2_000,
            "every line stays short: {line}"
        );
    }
}

#[test]
fn the_default_limit_keeps_ordinary_values_whole() {
    let h = Harness::new();
    let value = "x".repeat(tracing_correlate::DEFAULT_MAX_VALUE_LEN);
    h.run(|| info!(value = value.as_str(), "exactly at the limit"));
    assert_eq!(
        line_with(&h.lines(), "exactly at the limit")["value"],
        value
    );
}

fn field_names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Emits one INFO event with `names` as string fields, inside `span` when given.
fn emit(names: &[String], message: &str) {
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("message");
    let meta = runtime_metadata(Kind::EVENT, "event", "framing", Level::INFO, &all);
    let mut values: Vec<Option<&dyn FieldValue>> =
        names.iter().map(|n| Some(n as &dyn FieldValue)).collect();
    values.push(Some(&message as &dyn FieldValue));
    tracing_core::Event::dispatch(meta, &meta.fields().value_set_all(&values));
}

fn user_keys(line: &Value) -> Vec<String> {
    line.as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("wide_") || k.starts_with("ev_"))
        .cloned()
        .collect()
}

#[test]
fn fields_past_the_bound_are_counted_in_the_line() {
    let h = Harness::with(Sampler::AlwaysOn, |l| l.with_max_fields(4));
    h.run(|| {
        emit(&field_names("ev_", 6), "event fields only");
        let span_names = field_names("wide_", 6);
        let all: Vec<&str> = span_names.iter().map(String::as_str).collect();
        let meta = runtime_metadata(Kind::SPAN, "wide", "framing", Level::INFO, &all);
        let values: Vec<Option<&dyn FieldValue>> = span_names
            .iter()
            .map(|n| Some(n as &dyn FieldValue))
            .collect();
        let span = tracing::Span::new(meta, &meta.fields().value_set_all(&values));
        let _e = span.enter();
        emit(&field_names("ev_", 2), "in a wide span");
    });
    let lines = h.lines();
    let only = line_with(&lines, "event fields only");
    assert_eq!(user_keys(only).len(), 4);
    assert_eq!(only["fields_dropped"], 2);

    // The span kept 4 of its 6 fields (2 dropped); the line writes the event's 2 first, then 2
    // of the span's 4 (2 more dropped).
    let wide = line_with(&lines, "in a wide span");
    let keys = user_keys(wide);
    assert_eq!(keys.len(), 4, "{wide}");
    assert!(keys.contains(&"ev_0".to_owned()) && keys.contains(&"ev_1".to_owned()));
    assert_eq!(wide["fields_dropped"], 4);
}

#[test]
fn a_line_without_drops_has_no_fields_dropped_key_and_the_key_is_reserved() {
    let h = Harness::new();
    h.run(|| info!(fields_dropped = 7, "user field"));
    let line = line_with(&h.lines(), "user field").clone();
    assert!(line.get("fields_dropped").is_none());
    assert_eq!(line["fields.fields_dropped"], 7);
}
