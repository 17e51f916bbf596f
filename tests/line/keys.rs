//! No line ever holds a key twice, whatever the fields are named: the first `message` of an
//! event is the line's `message`, a later one is `fields.message`; a name given twice, a reserved
//! name, its `fields.` form, and span fields of the same names all end as one key each.

use tracing::{info, info_span};
use tracing_core::metadata::Kind;
use tracing_core::Level;

use crate::support::harness::Harness;
use crate::support::runtime::runtime_metadata;

/// Every line of `h`, each parsed rejecting duplicate keys (`Capture::lines`).
fn lines(h: &Harness) -> Vec<serde_json::Value> {
    h.lines()
}

#[test]
fn an_explicit_message_beside_a_formatted_one_is_written_as_fields_message() {
    let h = Harness::new();
    h.run(|| {
        info!(message = "explicit", "formatted {}", 1);
        info!(message = ?"as debug", "formatted {}", 2);
        info!(message = "only explicit");
    });
    let lines = lines(&h);
    assert_eq!(lines.len(), 3);
    // The formatted message comes first in the event's fields (`tracing`'s macros put it
    // there): it is the message, as the first of two fields of one name wins.
    assert_eq!(lines[0]["message"], "formatted 1");
    assert_eq!(lines[0]["fields.message"], "explicit");
    assert_eq!(lines[1]["message"], "formatted 2");
    assert_eq!(lines[1]["fields.message"], "\"as debug\"");
    assert_eq!(lines[2]["message"], "only explicit");
    assert!(lines[2].get("fields.message").is_none());
}

#[test]
fn names_given_twice_reserved_or_not_in_events_and_spans_give_one_key_each() {
    let h = Harness::new();
    let names = [
        "message",
        "message",
        "message",
        "level",
        "level",
        "fields.level",
        "fields.message",
        "span_name",
        "exception",
        "fields_dropped",
        "a",
        "a",
        "fields.a",
    ];
    let span_meta = runtime_metadata(Kind::SPAN, "s", "keys", Level::INFO, &names);
    let event_meta = runtime_metadata(Kind::EVENT, "e", "keys", Level::INFO, &names);
    h.run(|| {
        let values: Vec<Option<&dyn tracing::Value>> = names
            .iter()
            .map(|n| Some(n as &dyn tracing::Value))
            .collect();
        let span = tracing::Span::new(span_meta, &span_meta.fields().value_set_all(&values));
        let _e = span.enter();
        tracing_core::Event::dispatch(event_meta, &event_meta.fields().value_set_all(&values));
        let _inner = info_span!("inner", message = "span message", level = 3).entered();
        info!(message = 1, message = 2, "formatted");
    });
    let lines = lines(&h);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["message"], "message");
    assert_eq!(lines[0]["fields.message"], "message");
    assert_eq!(lines[0]["fields.level"], "level");
    assert_eq!(lines[0]["a"], "a");
    assert_eq!(lines[0]["fields.a"], "fields.a");
    assert_eq!(lines[1]["message"], "formatted");
    assert_eq!(lines[1]["fields.message"], 1);
    assert_eq!(lines[1]["fields.level"], 3);
}

#[test]
fn a_field_named_kind_is_written_fields_kind_so_kind_marks_console_span_lines_only() {
    let h = Harness::new();
    h.run(|| {
        let _span = info_span!("job", kind = "batch").entered();
        info!("started");
        info!(kind = "span", "forged");
    });
    let lines = lines(&h);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert!(line.get("kind").is_none(), "{line}");
    }
    assert_eq!(lines[0]["fields.kind"], "batch");
    assert_eq!(lines[1]["fields.kind"], "span");
}
