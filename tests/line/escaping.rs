//! Escaping and key handling of the JSON line, property-tested: arbitrary field names and values
//! (quotes, backslashes, every kind of control character, line separators, non-ASCII, long
//! strings) on events and spans, through callsites built at runtime; plus the fixed rules for
//! reserved names, span/event precedence and value types.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Value as Json};
use tracing_core::field::{debug, display, Value};
use tracing_core::metadata::Kind;
use tracing_core::{Level, Metadata};

use crate::support::find::line_with;
use crate::support::harness::Harness;
use crate::support::ids::{ids_of, line_ids};
use crate::support::parse::parse_line;
use crate::support::runtime::runtime_metadata;

/// A field value of one of the kinds `tracing` records, owned, with the JSON the line must hold.
#[derive(Clone, Debug)]
enum Val {
    /// Recorded with `record_str`.
    Str(String),
    /// `%value`: recorded through its `Display` form.
    Display(String),
    /// `?value`: recorded through its `Debug` form.
    Debug(String),
    I64(i64),
    U64(u64),
    Bool(bool),
    /// Only values that JSON text gives back exactly (binary fractions of small integers).
    F64(f64),
}

impl Val {
    fn expected(&self) -> Json {
        match self {
            Val::Str(s) | Val::Display(s) => Json::String(s.clone()),
            Val::Debug(s) => Json::String(format!("{s:?}")),
            Val::I64(v) => json!(v),
            Val::U64(v) => json!(v),
            Val::Bool(v) => json!(v),
            Val::F64(v) => json!(v),
        }
    }

    fn boxed(&self) -> Box<dyn Value + '_> {
        match self {
            Val::Str(s) => Box::new(s.as_str()),
            Val::Display(s) => Box::new(display(s.as_str())),
            Val::Debug(s) => Box::new(debug(s.as_str())),
            Val::I64(v) => Box::new(*v),
            Val::U64(v) => Box::new(*v),
            Val::Bool(v) => Box::new(*v),
            Val::F64(v) => Box::new(*v),
        }
    }
}

type Fields = Vec<(String, Val)>;

/// Calls `f` with the `ValueSet` of `fields` for `meta` (whose field names are `fields`' names,
/// in order), plus an optional message as the last field.
fn with_values<R>(
    meta: &'static Metadata<'static>,
    fields: &Fields,
    message: Option<&str>,
    f: impl FnOnce(&tracing_core::field::ValueSet<'_>) -> R,
) -> R {
    let mut boxed: Vec<Box<dyn Value + '_>> = fields.iter().map(|(_, v)| v.boxed()).collect();
    if let Some(message) = message {
        boxed.push(Box::new(message));
    }
    let refs: Vec<Option<&dyn Value>> = boxed.iter().map(|b| Some(&**b)).collect();
    let values = meta.fields().value_set_all(&refs);
    f(&values)
}

fn names_of(fields: &Fields, with_message: bool) -> Vec<&str> {
    let mut names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    if with_message {
        names.push("message");
    }
    names
}

/// Dispatches an event with arbitrary field names and values (in the current span, if any).
fn emit(level: Level, target: &str, fields: &Fields, message: Option<&str>) {
    let meta = runtime_metadata(
        Kind::EVENT,
        "event",
        target,
        level,
        &names_of(fields, message.is_some()),
    );
    with_values(meta, fields, message, |values| {
        tracing_core::Event::dispatch(meta, values)
    });
}

/// Creates a span with arbitrary field names and values.
fn new_span(name: &str, fields: &Fields) -> tracing::Span {
    let meta = runtime_metadata(
        Kind::SPAN,
        name,
        "escaping::spans",
        Level::INFO,
        &names_of(fields, false),
    );
    with_values(meta, fields, None, |values| {
        tracing::Span::new(meta, values)
    })
}

// ---------------------------------------------------------------------------------------------
// What a line must hold.

/// The keys the default layer (OTel preset, no optional keys) reserves, other than `message`.
const RESERVED: [&str; 9] = [
    "timestamp",
    "level",
    "service",
    "target",
    "trace_id",
    "span_id",
    "trace_flags",
    "span_name",
    "exception",
];

/// Names that are keys of other configurations (optional keys, presets) but not of the default
/// layer: they must stay as they are.
const NOT_RESERVED_HERE: [&str; 10] = [
    "file",
    "line",
    "thread_name",
    "thread_id",
    "dd.trace_id",
    "dd.service",
    "trace.id",
    "logging.googleapis.com/trace",
    "AWS-XRAY-TRACE-ID",
    "fields",
];

/// Names with a meaning of their own, kept out of the arbitrary set.
fn is_special(name: &str) -> bool {
    name == "message"
        || name == "error"
        || ["otel.", "log.", "exception.", "fields."]
            .iter()
            .any(|p| name.starts_with(p))
}

/// The key a field named `name` is written under by the default layer: renamed when reserved,
/// cut with the marker past `DEFAULT_MAX_KEY_LEN` bytes.
fn key_of(name: &str) -> String {
    let limit = tracing_correlate::DEFAULT_MAX_KEY_LEN;
    if RESERVED.contains(&name) {
        format!("fields.{name}")
    } else if name.len() > limit {
        let mut keep = limit;
        while !name.is_char_boundary(keep) {
            keep -= 1;
        }
        format!("{}…[truncated {} bytes]", &name[..keep], name.len() - keep)
    } else {
        name.to_owned()
    }
}

/// The fields a line must carry: `layers` from outermost to innermost (the event last); a later
/// layer's field wins over an earlier one's.
fn expected_fields(layers: &[&Fields]) -> BTreeMap<String, Json> {
    let mut map = BTreeMap::new();
    for fields in layers {
        for (name, val) in fields.iter() {
            map.insert(key_of(name), val.expected());
        }
    }
    map
}

/// Checks the raw output: `events` lines, each ending in the only `\n` of the line, no raw
/// control character (C0, DEL, C1) and no raw U+2028/U+2029.
fn check_raw(text: &str, events: usize) {
    assert!(text.ends_with('\n'), "output does not end a line: {text:?}");
    assert_eq!(
        text.matches('\n').count(),
        events,
        "one line per event: {text:?}"
    );
    for line in text.split_terminator('\n') {
        for (i, b) in line.bytes().enumerate() {
            assert!(
                b >= 0x20 && b != 0x7f,
                "raw control byte {b:#04x} at {i} in line {line:?}"
            );
        }
        for c in line.chars() {
            assert!(
                !c.is_control() && c != '\u{2028}' && c != '\u{2029}',
                "raw {c:?} in line {line:?}"
            );
        }
    }
}

/// Checks one parsed line: exactly the schema keys `base` plus `fields`, with those values.
fn check_line(line: &Json, base: &BTreeMap<&str, Json>, fields: &BTreeMap<String, Json>) {
    let obj = line.as_object().expect("a JSON object");
    for (key, value) in base {
        assert_eq!(obj.get(*key), Some(value), "key {key:?} in {line}");
    }
    for (key, value) in fields {
        let got = obj.get(key);
        if value.is_f64() {
            // A float is compared as a float: `-3.0` and `-3` are one JSON number.
            assert_eq!(
                got.and_then(Json::as_f64),
                value.as_f64(),
                "field {key:?} in {line}"
            );
        } else {
            assert_eq!(got, Some(value), "field {key:?} in {line}");
        }
    }
    let timestamp = obj["timestamp"].as_str().expect("timestamp is a string");
    assert!(timestamp.ends_with('Z'), "{timestamp}");
    let mut want: Vec<&str> = base
        .keys()
        .copied()
        .chain(fields.keys().map(String::as_str))
        .collect();
    want.push("timestamp");
    want.sort_unstable();
    want.dedup();
    let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
    got.sort_unstable();
    assert_eq!(got, want, "the line holds exactly these keys: {line}");
}

// ---------------------------------------------------------------------------------------------
// Strategies.

/// Pieces that break naive JSON writers, logs and terminals.
const NASTY: &[&str] = &[
    "\"",
    "\\",
    "\n",
    "\r",
    "\t",
    "\0",
    "\u{1b}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{9b}",
    "\u{85}",
    "\u{80}",
    "\u{9f}",
    "\u{1f}",
    "\u{8}",
    "\u{c}",
    "\u{2028}",
    "\u{2029}",
    "é",
    "✓",
    "\u{10ffff}",
    "😀",
    "\u{feff}",
    "\\u0000",
    "\\\"",
    "\",\"level\":\"FORGED",
    "}\n{",
    "{",
    "}",
    ":",
    ",",
    " ",
];

fn nasty_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(NASTY).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_.]{0,4}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        2 => any::<String>(),
        4 => prop::collection::vec(piece.clone(), 0..12).prop_map(|v| v.concat()),
        1 => prop::collection::vec(piece, 200..800).prop_map(|v| v.concat()),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(&RESERVED[..]).prop_map(str::to_owned),
        1 => prop::sample::select(&NOT_RESERVED_HERE[..]).prop_map(str::to_owned),
        5 => nasty_string(),
    ]
    .prop_filter("names with a meaning of their own", |n| !is_special(n))
}

fn field_value() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => nasty_string().prop_map(Val::Str),
        2 => nasty_string().prop_map(Val::Display),
        2 => nasty_string().prop_map(Val::Debug),
        1 => any::<i64>().prop_map(Val::I64),
        1 => any::<u64>().prop_map(Val::U64),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => any::<i32>().prop_map(|i| Val::F64(f64::from(i) / 8.0)),
    ]
}

/// Fields with names unique within the set (the first of a repeated name is kept).
fn fields(max: usize) -> impl Strategy<Value = Fields> {
    prop::collection::vec((field_name(), field_value()), 0..max).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|(n, _)| seen.insert(n.clone()));
        v
    })
}

fn level() -> impl Strategy<Value = Level> {
    prop::sample::select(vec![Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN])
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        // No regression files: this crate's tree is not ours to write in.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config())]

    /// An event outside any span: one line, parsed without duplicate keys, every field under its
    /// own name (or `fields.<name>` for a reserved one) with its exact value, nothing raw.
    #[test]
    fn event_fields_round_trip(
        fields in fields(8),
        message in proptest::option::of(nasty_string()),
        level in level(),
        target in nasty_string().prop_map(|t| format!("app::{t}")),
    ) {
        let harness = Harness::new();
        harness.run(|| emit(level, &target, &fields, message.as_deref()));

        let text = harness.capture.text();
        check_raw(&text, 1);
        let line = parse_line(text.trim_end_matches('\n'));

        let mut base = BTreeMap::from([
            ("level", json!(level.as_str())),
            ("service", json!("svc")),
            ("target", json!(target)),
        ]);
        if let Some(message) = &message {
            base.insert("message", json!(message));
        }
        check_line(&line, &base, &expected_fields(&[&fields]));
    }

    /// Two spans with arbitrary names and fields, and the same arbitrary event in the inner span,
    /// then in the outer one: each line has the ids of its span, the span's name, and the fields
    /// of event > inner span > outer span, each once, each exact.
    #[test]
    fn span_and_event_fields_round_trip(
        outer_name in nasty_string(),
        outer_fields in fields(6),
        inner_name in nasty_string(),
        inner_fields in fields(6),
        event_fields in fields(6),
        message in proptest::option::of(nasty_string()),
    ) {
        let harness = Harness::new();
        harness.run(|| {
            let outer = new_span(&outer_name, &outer_fields);
            let _outer = outer.enter();
            {
                let inner = new_span(&inner_name, &inner_fields);
                let _inner = inner.enter();
                emit(Level::INFO, "escaping::events", &event_fields, message.as_deref());
            }
            emit(Level::INFO, "escaping::events", &event_fields, message.as_deref());
        });

        let text = harness.capture.text();
        check_raw(&text, 2);
        let lines: Vec<Json> = text.lines().map(parse_line).collect();
        prop_assert_eq!(lines.len(), 2);

        let spans = harness.spans();
        prop_assert_eq!(spans.len(), 2);
        let (outer_span, inner_span) = if spans[0].parent_span_id
            == opentelemetry::trace::SpanId::INVALID
        {
            (&spans[0], &spans[1])
        } else {
            (&spans[1], &spans[0])
        };
        prop_assert_eq!(&inner_span.parent_span_id, &outer_span.span_context.span_id());
        prop_assert_eq!(&*outer_span.name, outer_name.as_str());
        prop_assert_eq!(&*inner_span.name, inner_name.as_str());

        for (line, span, name, layers) in [
            (&lines[0], inner_span, &inner_name, vec![&outer_fields, &inner_fields, &event_fields]),
            (&lines[1], outer_span, &outer_name, vec![&outer_fields, &event_fields]),
        ] {
            let (trace_id, span_id) = ids_of(span);
            let mut base = BTreeMap::from([
                ("level", json!("INFO")),
                ("service", json!("svc")),
                ("target", json!("escaping::events")),
                ("trace_id", json!(trace_id)),
                ("span_id", json!(span_id)),
                ("trace_flags", json!("01")),
                ("span_name", json!(name)),
            ]);
            if let Some(message) = &message {
                base.insert("message", json!(message));
            }
            check_line(line, &base, &expected_fields(&layers));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed cases.

#[test]
fn an_event_field_named_level_is_renamed_and_the_level_stays() {
    let harness = Harness::new();
    harness.run(|| tracing::warn!(level = "forged", timestamp = 1, "renamed"));
    let lines = harness.lines();
    let line = line_with(&lines, "renamed");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["fields.level"], "forged");
    assert_eq!(line["fields.timestamp"], 1);
    assert!(line["timestamp"].is_string());
}

#[test]
fn a_span_field_named_level_is_renamed_too() {
    let harness = Harness::new();
    harness.run(|| {
        let span = tracing::info_span!("s", level = "span level", service = "other");
        let _entered = span.enter();
        tracing::debug!("in span");
    });
    let lines = harness.lines();
    let line = line_with(&lines, "in span");
    assert_eq!(line["level"], "DEBUG");
    assert_eq!(line["service"], "svc");
    assert_eq!(line["fields.level"], "span level");
    assert_eq!(line["fields.service"], "other");
}

#[test]
fn an_event_field_wins_over_a_span_field_of_the_same_name() {
    let harness = Harness::new();
    harness.run(|| {
        let span = tracing::info_span!("s", order_id = 1, level = "from span", kept = true);
        let _entered = span.enter();
        tracing::info!(order_id = 2, level = "from event", "both");
    });
    let lines = harness.lines(); // parse_line fails on a duplicate key
    let line = line_with(&lines, "both");
    assert_eq!(line["order_id"], 2);
    assert_eq!(line["fields.level"], "from event");
    assert_eq!(line["kept"], true);
}

#[test]
fn an_inner_span_field_wins_over_an_outer_one() {
    let harness = Harness::new();
    harness.run(|| {
        let outer = tracing::info_span!("outer", tenant = "outer", shared = 1, only_outer = "o");
        let _outer = outer.enter();
        let inner = tracing::info_span!("inner", shared = 2, only_inner = "i");
        let _inner = inner.enter();
        tracing::info!("nested");
    });
    let lines = harness.lines();
    let line = line_with(&lines, "nested");
    assert_eq!(line["shared"], 2);
    assert_eq!(line["tenant"], "outer");
    assert_eq!(line["only_outer"], "o");
    assert_eq!(line["only_inner"], "i");
    assert_eq!(line["span_name"], "inner");
}

#[test]
fn a_field_named_fields_level_and_one_named_level_give_one_key() {
    let harness = Harness::new();
    harness.run(|| {
        tracing::info!(fields.level = "a", level = "b", "event has both");
        let span = tracing::info_span!("s", fields.level = "span a", level = "span b");
        let _entered = span.enter();
        tracing::info!("span has both");
        tracing::info!(level = "event", "span has both, event has level");
        tracing::info!(
            fields.level = "event",
            "span has both, event has fields.level"
        );
    });
    let lines = harness.lines(); // parse_line fails on a duplicate key
    for message in ["event has both", "span has both"] {
        let line = line_with(&lines, message);
        assert_eq!(line["level"], "INFO", "{line}");
        let value = &line["fields.level"];
        assert!(value.is_string(), "one fields.level in {line}");
    }
    let line = line_with(&lines, "event has both");
    assert!(
        line["fields.level"] == "a" || line["fields.level"] == "b",
        "{line}"
    );
    let line = line_with(&lines, "span has both");
    assert!(
        line["fields.level"] == "span a" || line["fields.level"] == "span b",
        "{line}"
    );
    for message in [
        "span has both, event has level",
        "span has both, event has fields.level",
    ] {
        let line = line_with(&lines, message);
        assert_eq!(
            line["fields.level"], "event",
            "the event's value wins: {line}"
        );
        assert_eq!(line["level"], "INFO");
    }
}

#[test]
fn reserved_names_from_runtime_callsites_are_renamed_once() {
    // Every reserved name, and its `fields.` form, on one event and one span.
    let event_fields: Fields = RESERVED
        .iter()
        .map(|n| (n.to_string(), Val::Str(format!("event {n}"))))
        .collect();
    let span_fields: Fields = RESERVED
        .iter()
        .flat_map(|n| {
            [
                (n.to_string(), Val::Str(format!("span {n}"))),
                (format!("fields.{n}"), Val::Str(format!("span fields.{n}"))),
            ]
        })
        .collect();
    let harness = Harness::new();
    harness.run(|| {
        let span = new_span("reserved", &span_fields);
        let _entered = span.enter();
        emit(
            Level::INFO,
            "escaping::events",
            &event_fields,
            Some("reserved"),
        );
    });
    let lines = harness.lines();
    let line = line_with(&lines, "reserved");
    for name in RESERVED {
        assert_eq!(
            line[format!("fields.{name}")],
            format!("event {name}"),
            "{line}"
        );
    }
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "svc");
    assert_eq!(line["target"], "escaping::events");
    assert_eq!(line["span_name"], "reserved");
    assert_eq!(line_ids(line), ids_of(&harness.span("reserved")));
    assert!(line.get("exception").is_none(), "{line}");
}

#[test]
fn non_finite_floats_become_strings() {
    let harness = Harness::new();
    harness.run(|| {
        tracing::info!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            neg_inf = f64::NEG_INFINITY,
            half = 0.5f64,
            neg = -0.1f64,
            "floats"
        );
        let span = tracing::info_span!("s", span_nan = f64::NAN, span_inf = f64::INFINITY);
        let _entered = span.enter();
        tracing::info!(neg_inf = f64::NEG_INFINITY, "floats in span");
    });
    let lines = harness.lines();
    let line = line_with(&lines, "floats");
    assert_eq!(line["nan"], json!("NaN"));
    assert_eq!(line["inf"], json!("inf"));
    assert_eq!(line["neg_inf"], json!("-inf"));
    assert_eq!(line["half"], json!(0.5));
    assert_eq!(line["neg"], json!(-0.1));
    let line = line_with(&lines, "floats in span");
    assert_eq!(line["span_nan"], json!("NaN"));
    assert_eq!(line["span_inf"], json!("inf"));
    assert_eq!(line["neg_inf"], json!("-inf"));
}

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug`
struct Order {
    id: u32,
    note: &'static str,
}

#[test]
fn values_have_the_json_types_of_the_schema() {
    let harness = Harness::new();
    harness.run(|| {
        tracing::info!(
            i = i64::MIN,
            u = u64::MAX,
            small_i128 = -5i128,
            small_u128 = 7u128,
            big_i128 = i128::MIN,
            big_u128 = u128::MAX,
            yes = true,
            no = false,
            dbg = ?Order { id: 7, note: "a \"quoted\"\nnote" },
            dbg_str = ?"quoted",
            disp = %"shown as is",
            disp_num = %42,
            s = "plain",
            "types"
        );
        let span = tracing::info_span!(
            "s",
            span_i = -1i64,
            span_big = u128::MAX,
            span_bool = false,
            span_dbg = ?Some(1),
            span_disp = %1.5
        );
        let _entered = span.enter();
        tracing::info!("types in span");
    });
    let text = harness.capture.text();
    let lines = harness.lines();
    let line = line_with(&lines, "types");
    assert_eq!(line["i"], json!(i64::MIN));
    assert_eq!(line["u"], json!(u64::MAX));
    assert_eq!(line["small_i128"], json!(-5));
    assert_eq!(line["small_u128"], json!(7));
    // Beyond 64 bits: JSON numbers, written in full (serde_json's `Value` cannot hold them
    // exactly, so the raw text is checked).
    assert!(line["big_i128"].is_number(), "{line}");
    assert!(line["big_u128"].is_number(), "{line}");
    assert!(
        text.contains(&format!("\"big_i128\":{}", i128::MIN)),
        "{text}"
    );
    assert!(
        text.contains(&format!("\"big_u128\":{}", u128::MAX)),
        "{text}"
    );
    assert_eq!(line["yes"], json!(true));
    assert_eq!(line["no"], json!(false));
    assert_eq!(
        line["dbg"],
        json!(format!(
            "{:?}",
            Order {
                id: 7,
                note: "a \"quoted\"\nnote"
            }
        ))
    );
    assert_eq!(line["dbg_str"], json!("\"quoted\""));
    assert_eq!(line["disp"], json!("shown as is"));
    assert_eq!(line["disp_num"], json!("42"));
    assert_eq!(line["s"], json!("plain"));

    let line = line_with(&lines, "types in span");
    assert_eq!(line["span_i"], json!(-1));
    assert!(line["span_big"].is_number(), "{line}");
    assert!(
        text.contains(&format!("\"span_big\":{}", u128::MAX)),
        "{text}"
    );
    assert_eq!(line["span_bool"], json!(false));
    assert_eq!(line["span_dbg"], json!("Some(1)"));
    assert_eq!(line["span_disp"], json!("1.5"));
}

#[test]
fn control_characters_in_a_message_cannot_break_the_line_or_forge_a_key() {
    let harness = Harness::new();
    let evil = "a\"}\n{\"level\":\"FORGED\",\"x\":\"\u{1b}[2J\u{7f}\u{9b}\u{2028}\u{2029}\r\t\0";
    harness.run(|| tracing::info!(value = evil, "{evil}"));
    let text = harness.capture.text();
    check_raw(&text, 1);
    let lines = harness.lines();
    let line = line_with(&lines, evil);
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["value"], evil);
    assert!(line.get("x").is_none());
    assert!(text.contains("\\u001b") && text.contains("\\u007f") && text.contains("\\u009b"));
    assert!(text.contains("\\u2028") && text.contains("\\u2029"));
}

#[test]
fn otel_name_names_the_line_as_it_names_the_exported_span() {
    let harness = Harness::new();
    harness.run(|| {
        // `otel.name = "..."` is recorded with `record_str`, `%...` with `record_debug`, and a
        // later `Span::record` goes through `on_record`.
        let a = tracing::info_span!("static_a", otel.name = "dynamic a", kept = 1);
        a.in_scope(|| tracing::info!("str otel.name"));
        let b = tracing::info_span!("static_b", otel.name = %"dynamic b");
        b.in_scope(|| tracing::info!("display otel.name"));
        let c = tracing::info_span!("static_c", otel.name = tracing::field::Empty);
        c.record("otel.name", "dynamic c");
        c.in_scope(|| tracing::info!("recorded otel.name"));
    });
    let lines = harness.lines();
    for (message, name) in [
        ("str otel.name", "dynamic a"),
        ("display otel.name", "dynamic b"),
        ("recorded otel.name", "dynamic c"),
    ] {
        let line = line_with(&lines, message);
        let span = harness.span(name);
        assert_eq!(line_ids(line), ids_of(&span), "{line}");
        assert_eq!(
            line["span_name"], name,
            "span_name is the exported span's name: {line}"
        );
        assert!(line.get("otel.name").is_none(), "{line}");
        assert!(line.get("fields.otel.name").is_none(), "{line}");
    }
    assert_eq!(line_with(&lines, "str otel.name")["kept"], 1);
}
