//! Every string that reaches a line is bounded, not only field values: span names (`otel.name`
//! and the span's own), field names, the target, the file, the thread name, the service, and
//! the exception's type, message and causes. Names cut to the same key stay one key.

use std::error::Error;
use std::fmt;
use std::sync::OnceLock;

use tracing::{error, info, info_span};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value as FieldValue};
use tracing_core::metadata::Kind;
use tracing_core::{Interest, Level, Metadata};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_correlate::{DEFAULT_MAX_KEY_LEN, DEFAULT_MAX_VALUE_LEN};

use crate::support::harness::Harness;
use crate::support::runtime::leak;

/// A string of `len` bytes: a request path, as a client may send it.
fn huge(len: usize, c: char) -> String {
    let mut s = String::from("/");
    while s.len() < len {
        s.push(c);
    }
    s
}

const MIB: usize = 1 << 20;

/// `s` as the layer keeps it under a limit of `limit` bytes.
fn cut(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_owned();
    }
    let mut keep = limit;
    while !s.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}…[truncated {} bytes]", &s[..keep], s.len() - keep)
}

/// Checks that every line of `h` stays under the bound of `strings` strings and keys cut at
/// their limits plus the line's own keys (2 KiB), and returns the lines.
fn assert_bounded(h: &Harness, strings: usize) -> Vec<serde_json::Value> {
    let bound = strings * (DEFAULT_MAX_VALUE_LEN + DEFAULT_MAX_KEY_LEN) + 2048;
    let text = h.capture.text();
    for line in text.lines() {
        assert!(
            line.len() < bound,
            "a line of {} bytes (bound {bound}): {}…",
            line.len(),
            &line[..line.len().min(300)]
        );
    }
    h.lines()
}

/// A callsite whose metadata (name, target, file, module, field names) is made at runtime.
struct Runtime(OnceLock<&'static Metadata<'static>>);

impl Callsite for Runtime {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.0.get().expect("set after the leak")
    }
}

struct Site<'a> {
    kind: Kind,
    name: &'a str,
    target: &'a str,
    file: &'a str,
    fields: &'a [&'a str],
}

fn metadata(site: Site<'_>) -> &'static Metadata<'static> {
    let callsite: &'static Runtime = Box::leak(Box::new(Runtime(OnceLock::new())));
    let names: &'static [&'static str] =
        Box::leak(site.fields.iter().map(|n| leak(n)).collect::<Box<[_]>>());
    let meta: &'static Metadata<'static> = Box::leak(Box::new(Metadata::new(
        leak(site.name),
        leak(site.target),
        Level::INFO,
        Some(leak(site.file)),
        Some(1),
        Some(leak(site.target)),
        FieldSet::new(names, Identifier(callsite)),
        site.kind,
    )));
    assert!(callsite.0.set(meta).is_ok());
    meta
}

/// Emits an event at `meta`, each field's value its own name.
fn emit(meta: &'static Metadata<'static>) {
    let names: Vec<&'static str> = meta.fields().iter().map(|f| f.name()).collect();
    let values: Vec<Option<&dyn FieldValue>> =
        names.iter().map(|n| Some(n as &dyn FieldValue)).collect();
    tracing_core::Event::dispatch(meta, &meta.fields().value_set_all(&values));
}

#[test]
fn a_one_mib_otel_name_or_span_name_is_cut_like_a_value() {
    let path = huge(MIB, 'p');
    let h = Harness::new();
    let span_meta = metadata(Site {
        kind: Kind::SPAN,
        name: &path,
        target: "bounds",
        file: "bounds.rs",
        fields: &[],
    });
    h.run(|| {
        let span = info_span!("request", otel.name = path.as_str());
        span.in_scope(|| info!("in otel.name"));
        let named = tracing::Span::new(span_meta, &span_meta.fields().value_set_all(&[]));
        named.in_scope(|| info!("in a long name"));
    });
    let lines = assert_bounded(&h, 1);
    assert_eq!(lines[0]["span_name"], cut(&path, DEFAULT_MAX_VALUE_LEN));
    assert_eq!(lines[1]["span_name"], cut(&path, DEFAULT_MAX_VALUE_LEN));
}

#[test]
fn one_mib_field_names_are_cut_and_names_cut_alike_stay_one_key() {
    // Two names of one length and one prefix: cut, they would be one key.
    let a = format!("{}a", huge(MIB, 'k'));
    let b = format!("{}b", huge(MIB, 'k'));
    let short = huge(DEFAULT_MAX_KEY_LEN, 's');
    let h = Harness::new();
    let event = metadata(Site {
        kind: Kind::EVENT,
        name: "e",
        target: "bounds",
        file: "bounds.rs",
        fields: &[&a, &b, &short],
    });
    let span_meta = metadata(Site {
        kind: Kind::SPAN,
        name: "s",
        target: "bounds",
        file: "bounds.rs",
        fields: &[&a],
    });
    h.run(|| {
        emit(event);
        let values: Vec<Option<&dyn FieldValue>> = vec![Some(&1_u64 as &dyn FieldValue)];
        let span = tracing::Span::new(span_meta, &span_meta.fields().value_set_all(&values));
        span.in_scope(|| info!(x = 1, "in a span with a long field name"));
    });
    // Each field's value is its name: the kept one and the one at the limit.
    let lines = assert_bounded(&h, 2);
    let first = lines[0].as_object().unwrap();
    let key = cut(&a, DEFAULT_MAX_KEY_LEN);
    assert_eq!(
        first[&key],
        cut(&a, DEFAULT_MAX_VALUE_LEN),
        "the first of the names cut alike wins"
    );
    assert_eq!(
        first[&short],
        short.as_str(),
        "a name at the limit is kept whole"
    );
    assert_eq!(lines[0]["fields_dropped"], 1, "the other is counted");
    assert_eq!(lines[1][&key], 1, "span field names are cut the same way");
}

#[test]
fn target_file_thread_name_and_service_are_cut_like_values() {
    let long = huge(MIB, 't');
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_file(true)
            .with_thread_names(true)
            .with_service_name(long.clone())
    });
    let event = metadata(Site {
        kind: Kind::EVENT,
        name: "e",
        target: &long,
        file: &long,
        fields: &["message"],
    });
    let thread = std::thread::Builder::new().name(long.clone());
    h.run(|| {
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        thread
            .spawn(move || tracing::dispatcher::with_default(&dispatch, || emit(event)))
            .unwrap()
            .join()
            .unwrap();
    });
    let lines = assert_bounded(&h, 4);
    let expected = cut(&long, DEFAULT_MAX_VALUE_LEN);
    for key in ["target", "file", "thread_name", "service"] {
        assert_eq!(lines[0][key], expected.as_str(), "{key}");
    }
}

/// An error with a long message and a chain of long messages.
#[derive(Debug)]
struct Long {
    message: String,
    source: Option<Box<Long>>,
}

impl fmt::Display for Long {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Long {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

#[test]
fn exception_type_message_and_each_cause_are_cut() {
    let long = huge(MIB, 'e');
    let err = Long {
        message: long.clone(),
        source: Some(Box::new(Long {
            message: long.clone(),
            source: None,
        })),
    };
    let h = Harness::with(Sampler::AlwaysOn, |l| l.with_max_value_len(1024));
    h.run(|| {
        error!(
            exception.type = long.as_str(),
            error = &err as &(dyn Error + 'static),
            "failed"
        )
    });
    let text = h.capture.text();
    assert!(text.len() < 8 * 1024, "a line of {} bytes", text.len());
    let lines = h.lines();
    let exception = &lines[0]["exception"];
    let expected = cut(&long, 1024);
    assert_eq!(exception["type"], expected.as_str());
    assert_eq!(exception["message"], expected.as_str());
    assert_eq!(exception["causes"], serde_json::json!([expected]));
}
