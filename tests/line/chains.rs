//! `source()` chains that loop or never end: each walk of a chain is bounded, on the line and on
//! the exported span, and a loop costs no more than the bound.
//!
//! The looping errors here end their chain after [`SAFETY`] calls of `source()`, so that code
//! walking them without a bound fails these tests (too many calls, too many causes) instead of
//! exhausting the machine's memory.

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::Value;
use tracing::{error, info_span, warn};
use tracing_correlate::DEFAULT_MAX_CAUSES;

use crate::support::harness::Harness;

/// Calls of `source()` after which the looping errors below end their chain.
const SAFETY: usize = 5_000;

/// How many calls of `source()` a bounded walk of a looping chain may make, for the two layers
/// together: far below [`SAFETY`].
const BOUNDED: usize = 40 * (DEFAULT_MAX_CAUSES + 1);

/// An error that is its own source.
#[derive(Debug, Default)]
struct SelfLoop {
    calls: AtomicUsize,
}

impl fmt::Display for SelfLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("self loop")
    }
}

impl Error for SelfLoop {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        (self.calls.fetch_add(1, Ordering::Relaxed) < SAFETY).then_some(self as &dyn Error)
    }
}

/// One of two errors that are each other's source.
#[derive(Debug)]
struct Pair {
    name: &'static str,
    other: std::sync::OnceLock<&'static Pair>,
    calls: &'static AtomicUsize,
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Error for Pair {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        if self.calls.fetch_add(1, Ordering::Relaxed) >= SAFETY {
            return None;
        }
        self.other.get().map(|o| *o as &dyn Error)
    }
}

fn pair() -> (&'static Pair, &'static AtomicUsize) {
    let calls: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let a: &'static Pair = Box::leak(Box::new(Pair {
        name: "a",
        other: Default::default(),
        calls,
    }));
    let b: &'static Pair = Box::leak(Box::new(Pair {
        name: "b",
        other: Default::default(),
        calls,
    }));
    a.other.set(b).unwrap();
    b.other.set(a).unwrap();
    (a, calls)
}

/// One link of a long chain that ends.
#[derive(Debug)]
struct Link {
    index: usize,
    next: Option<&'static Link>,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.index)
    }
}

impl Error for Link {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.next.map(|n| n as &dyn Error)
    }
}

/// A chain of `len` distinct errors, `link 0` first.
fn chain(len: usize) -> &'static Link {
    let mut next = None;
    for index in (0..len).rev() {
        next = Some(&*Box::leak(Box::new(Link { index, next })));
    }
    next.expect("len > 0")
}

fn exception_line(h: &Harness) -> serde_json::Value {
    let lines = h.lines();
    let found: Vec<_> = lines
        .into_iter()
        .filter(|l| l.get("exception").is_some())
        .collect();
    assert_eq!(found.len(), 1, "exactly one exception line");
    found[0]["exception"].clone()
}

fn causes(exception: &serde_json::Value) -> Vec<String> {
    exception
        .get("causes")
        .map(|c| {
            c.as_array()
                .expect("causes is an array")
                .iter()
                .map(|c| c.as_str().expect("a cause is a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The `exception.causes` of the span's one `exception` event.
fn span_causes(h: &Harness) -> Vec<String> {
    let span = h.span("s");
    let events: Vec<_> = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .collect();
    assert_eq!(events.len(), 1);
    events[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.causes")
        .map(|kv| match &kv.value {
            Value::Array(opentelemetry::Array::String(items)) => {
                items.iter().map(|s| s.as_str().to_owned()).collect()
            }
            other => panic!("exception.causes is {other:?}"),
        })
        .unwrap_or_default()
}

#[test]
fn an_error_that_is_its_own_source_costs_a_bounded_walk() {
    let h = Harness::new();
    let err = SelfLoop::default();
    h.run(|| {
        let _s = info_span!("s").entered();
        error!(error = &err as &(dyn Error + 'static), "failed");
    });
    let calls = err.calls.load(Ordering::Relaxed);
    assert!(calls <= BOUNDED, "source() called {calls} times");
    let exception = exception_line(&h);
    assert_eq!(exception["message"], "self loop");
    // The chain holds one error: the loop back to it ends it. The reference the event was given
    // and the one `source()` returns may carry two vtables of one type (two codegen units),
    // which makes them look like two errors: the error may be written once as its own cause.
    for found in [causes(&exception), span_causes(&h)] {
        assert!(
            found.len() <= 1 && found.iter().all(|c| c == "self loop"),
            "{found:?}"
        );
    }
    assert!(exception.get("causes_dropped").is_none());
}

#[test]
fn two_errors_that_are_each_others_source_give_one_cause() {
    let h = Harness::new();
    let (a, calls) = pair();
    h.run(|| {
        let _s = info_span!("s").entered();
        error!(error = a as &(dyn Error + 'static), "failed");
    });
    let calls = calls.load(Ordering::Relaxed);
    assert!(calls <= BOUNDED, "source() called {calls} times");
    let exception = exception_line(&h);
    // `a` may be met once more through another vtable (see the self loop above).
    for found in [causes(&exception), span_causes(&h)] {
        assert!(found == ["b"] || found == ["b", "a"], "{found:?}");
    }
    assert!(exception.get("causes_dropped").is_none());
}

#[test]
fn a_chain_of_100_000_links_keeps_the_first_causes_and_counts_the_rest() {
    let len = 100_000;
    let h = Harness::new();
    let top = chain(len);
    h.run(|| {
        let _s = info_span!("s").entered();
        error!(error = top as &(dyn Error + 'static), "failed");
    });
    let exception = exception_line(&h);
    let kept = causes(&exception);
    let expected: Vec<String> = (1..=DEFAULT_MAX_CAUSES)
        .map(|i| format!("link {i}"))
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(
        exception["causes_dropped"],
        (len - 1 - DEFAULT_MAX_CAUSES) as u64
    );
    let on_span = span_causes(&h);
    assert_eq!(on_span.len(), DEFAULT_MAX_CAUSES + 1);
    assert_eq!(on_span[..DEFAULT_MAX_CAUSES], expected[..]);
    assert_eq!(
        on_span[DEFAULT_MAX_CAUSES],
        format!("…[{} more causes]", len - 1 - DEFAULT_MAX_CAUSES)
    );
}

#[test]
fn looping_errors_handed_to_tracing_opentelemetry_are_bounded_too() {
    // A WARN event is a span event (`tracing-opentelemetry` reads its error value), a span field
    // recorded as an error is an attribute, and a secret field beside an error makes the bridge
    // copy the values: each path walks the chain.
    let h = Harness::new();
    let in_event = SelfLoop::default();
    let in_span = SelfLoop::default();
    let in_copy = SelfLoop::default();
    let (a, pair_calls) = pair();
    h.run(|| {
        let _s = info_span!("s", error = &in_span as &(dyn Error + 'static)).entered();
        warn!(error = &in_event as &(dyn Error + 'static), "warned");
        warn!(
            error = &in_copy as &(dyn Error + 'static),
            password = "hunter2",
            "warned with a secret"
        );
        warn!(error = a as &(dyn Error + 'static), "warned with a pair");
    });
    for (what, calls) in [
        ("event", in_event.calls.load(Ordering::Relaxed)),
        ("span field", in_span.calls.load(Ordering::Relaxed)),
        ("copied event", in_copy.calls.load(Ordering::Relaxed)),
        ("pair", pair_calls.load(Ordering::Relaxed)),
    ] {
        assert!(calls <= BOUNDED, "{what}: source() called {calls} times");
    }
    let span = h.span("s");
    assert_eq!(span.events.len(), 3);
    for kv in span
        .attributes
        .iter()
        .chain(span.events.iter().flat_map(|e| e.attributes.iter()))
    {
        if let Value::Array(opentelemetry::Array::String(items)) = &kv.value {
            assert!(items.len() <= DEFAULT_MAX_CAUSES + 1, "{}", kv.key);
        }
    }
}
