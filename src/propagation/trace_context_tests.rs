//! The tests of `trace_context.rs`.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::fuzzing::Headers;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";
const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn tp(value: &str) -> Headers {
    Headers::default().with(TRACEPARENT, value)
}

/// The remote span context extracted from `headers`, if any.
fn extract(headers: &dyn Extractor) -> Option<SpanContext> {
    let cx = TraceContextPropagator::new().extract_with_context(&Context::new(), headers);
    cx.has_active_span()
        .then(|| cx.span().span_context().clone())
}

fn valid(traceparent: &str) -> bool {
    extract(&tp(traceparent)).is_some()
}

/// Extracts, then injects the result into a map.
fn relay(headers: &dyn Extractor) -> HashMap<String, String> {
    let propagator = TraceContextPropagator::new();
    let cx = propagator.extract_with_context(&Context::new(), headers);
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    out
}

/// The `tracestate` injected after extracting `traceparent` (valid) and these headers.
fn relayed_tracestate(tracestate: &[&str]) -> Option<String> {
    let mut headers = tp(VALID);
    for value in tracestate {
        headers = headers.with(TRACESTATE, value);
    }
    relay(&headers).remove(TRACESTATE)
}

fn with_version(version: &str) -> String {
    format!("{version}-{TRACE}-{PARENT}-01")
}

fn inject(span_context: SpanContext) -> HashMap<String, String> {
    let mut out = HashMap::new();
    TraceContextPropagator::new().inject_context(
        &Context::new().with_remote_span_context(span_context),
        &mut out,
    );
    out
}

fn span_context(flags: u8, trace_state: TraceState) -> SpanContext {
    SpanContext::new(
        TraceId::from_hex(TRACE).unwrap(),
        SpanId::from_hex(PARENT).unwrap(),
        TraceFlags::new(flags),
        true,
        trace_state,
    )
}

#[test]
fn valid_traceparent_gives_a_remote_span_context() {
    let sc = extract(&tp(VALID)).unwrap();
    assert_eq!(sc, span_context(0x01, TraceState::NONE));
    assert!(sc.is_remote());
    // Not sampled.
    let sc = extract(&tp(&format!("00-{TRACE}-{PARENT}-00"))).unwrap();
    assert!(!sc.is_sampled());
    // The header name is case-insensitive (the carrier's job; the test carrier does it).
    assert!(extract(&Headers::default().with("TraceParent", VALID)).is_some());
}

#[test]
fn uppercase_hex_is_invalid() {
    // Rule: all lowercase hex; uppercase is invalid, in each field.
    assert!(!valid(&format!("0A-{TRACE}-{PARENT}-01")), "version");
    assert!(
        !valid(&format!("00-{}-{PARENT}-01", TRACE.to_uppercase())),
        "trace-id"
    );
    assert!(
        !valid(&format!("00-{TRACE}-{}-01", "00F067AA0BA902B7")),
        "parent-id"
    );
    assert!(!valid(&format!("00-{TRACE}-{PARENT}-0A")), "flags");
    // Lowercase of the same is valid.
    assert!(valid(&format!("00-{TRACE}-{PARENT}-0a")));
}

#[test]
fn version_must_be_exactly_two_hex_digits() {
    // Rule: version is exactly two lowercase hex digits.
    assert!(!valid(&with_version("0")), "one digit");
    assert!(!valid(&with_version("000")), "three digits");
    assert!(!valid(&with_version("+0")), "sign");
    assert!(!valid(&with_version("-0")), "sign");
    assert!(!valid(&with_version("0x")), "not hex");
    assert!(!valid(&with_version("g0")), "not hex");
    assert!(!valid(&with_version(" 0")), "space inside");
}

#[test]
fn version_ff_is_invalid() {
    // Rule: version ff is forbidden.
    assert!(!valid(&with_version("ff")));
    // fe is the highest valid version.
    assert!(valid(&with_version("fe")));
}

#[test]
fn trace_id_must_be_32_hex_digits() {
    // Rule: trace-id is exactly 32 hex.
    assert!(
        !valid(&format!("00-{}-{PARENT}-01", &TRACE[..31])),
        "31 chars"
    );
    assert!(!valid(&format!("00-{TRACE}0-{PARENT}-01")), "33 chars");
    assert!(
        !valid(&format!("00-{}g-{PARENT}-01", &TRACE[..31])),
        "not hex"
    );
    // A future version is no more lenient: 31 or 33 chars shift the dashes.
    assert!(
        !valid(&format!("01-{}-{PARENT}-01-xx", &TRACE[..31])),
        "31, future"
    );
    assert!(!valid(&format!("01-{TRACE}0-{PARENT}-01-xx")), "33, future");
}

#[test]
fn parent_id_must_be_16_hex_digits() {
    // Rule: parent-id is exactly 16 hex.
    assert!(
        !valid(&format!("00-{TRACE}-{}-01", &PARENT[..15])),
        "15 chars"
    );
    assert!(!valid(&format!("00-{TRACE}-{PARENT}0-01")), "17 chars");
    assert!(
        !valid(&format!("00-{TRACE}-{}z-01", &PARENT[..15])),
        "not hex"
    );
}

#[test]
fn flags_must_be_2_hex_digits() {
    // Rule: trace-flags is exactly 2 hex.
    assert!(!valid(&format!("00-{TRACE}-{PARENT}-1")), "1 char");
    assert!(!valid(&format!("00-{TRACE}-{PARENT}-011")), "3 chars");
    assert!(!valid(&format!("00-{TRACE}-{PARENT}-0g")), "not hex");
    assert!(!valid(&format!("00-{TRACE}-{PARENT}-")), "empty");
    assert!(!valid(&format!("00-{TRACE}-{PARENT}")), "missing");
}

#[test]
fn all_zero_ids_are_invalid() {
    // Rule: trace-id all zeros is invalid; parent-id all zeros is invalid.
    let zero_trace = "0".repeat(32);
    let zero_parent = "0".repeat(16);
    assert!(!valid(&format!("00-{zero_trace}-{PARENT}-01")));
    assert!(!valid(&format!("00-{TRACE}-{zero_parent}-01")));
    assert!(!valid(&format!("00-{zero_trace}-{zero_parent}-01")));
    assert!(
        !valid(&format!("01-{zero_trace}-{PARENT}-01-x")),
        "future version"
    );
}

#[test]
fn version_00_is_exactly_55_chars() {
    // Rule: version 00 is exactly 55 characters, nothing after the flags.
    assert_eq!(VALID.len(), 55);
    assert!(valid(VALID));
    assert!(!valid(&format!("{VALID}-")), "trailing dash");
    assert!(!valid(&format!("{VALID}-extra")), "trailing field");
    assert!(!valid(&format!("{VALID}0")), "trailing char");
}

#[test]
fn future_versions_are_read_by_the_00_layout() {
    // Rule: a higher version needs at least 55 chars; the flags are followed by `-` or end;
    // the rest is ignored.
    let expected = span_context(0x01, TraceState::NONE);
    assert_eq!(
        extract(&tp(&format!("01-{TRACE}-{PARENT}-01-extra"))),
        Some(expected.clone()),
        "trailing data after a dash"
    );
    assert_eq!(
        extract(&tp(&format!("01-{TRACE}-{PARENT}-01"))),
        Some(expected.clone()),
        "exactly 55"
    );
    assert_eq!(
        extract(&tp(&format!("cc-{TRACE}-{PARENT}-01-what-ever-"))),
        Some(expected),
        "any version below ff"
    );
    assert!(
        !valid(&format!("01-{TRACE}-{PARENT}-01x")),
        "no dash after flags"
    );
    assert!(!valid(&format!("01-{TRACE}-{PARENT}-1")), "shorter than 55");
    assert!(
        !valid(&format!("01-{TRACE}x{PARENT}-01-x")),
        "no dash after trace-id"
    );
    assert!(
        !valid(&format!("01-{TRACE}-{PARENT}x01-x")),
        "no dash after parent-id"
    );
}

#[test]
fn future_versions_are_re_emitted_as_00() {
    // Rule: re-emit as version 00.
    let out = relay(&tp(&format!("01-{TRACE}-{PARENT}-03-extra")));
    assert_eq!(out[TRACEPARENT], format!("00-{TRACE}-{PARENT}-03"));
}

#[test]
fn spaces_and_tabs_around_the_value_are_trimmed() {
    // Rule: leading and trailing spaces/tabs are trimmed, not rejected.
    assert!(valid(&format!("  {VALID}")));
    assert!(valid(&format!("{VALID}  ")));
    assert!(valid(&format!("\t {VALID} \t")));
    // Only spaces and tabs, and only around the value.
    assert!(!valid(&format!("\n{VALID}")));
    assert!(!valid(&format!("00 -{TRACE}-{PARENT}-01")));
    assert!(!valid(&format!("00-{TRACE}-{PARENT}- 01")));
}

#[test]
fn two_traceparent_headers_are_invalid() {
    // Rule: two traceparent headers: invalid, restart the trace (even identical ones).
    assert_eq!(extract(&tp(VALID).with(TRACEPARENT, VALID)), None);
    let other = format!("00-{TRACE}-{}-01", "1111111111111111");
    assert_eq!(extract(&tp(VALID).with("TRACEPARENT", &other)), None);
    // And no tracestate is read then.
    assert_eq!(
        relay(&tp(VALID).with(TRACEPARENT, VALID).with(TRACESTATE, "a=b")),
        HashMap::new()
    );
}

#[test]
fn random_flag_is_kept_and_re_emitted() {
    // Rule: bit 1 (random trace-id) is propagated unchanged.
    let sc = extract(&tp(&format!("00-{TRACE}-{PARENT}-02"))).unwrap();
    assert_eq!(sc.trace_flags(), TraceFlags::new(0x02));
    assert!(!sc.is_sampled());
    let sc = extract(&tp(&format!("00-{TRACE}-{PARENT}-03"))).unwrap();
    assert_eq!(sc.trace_flags(), TraceFlags::new(0x03));
    assert!(sc.is_sampled());
    assert_eq!(
        relay(&tp(&format!("00-{TRACE}-{PARENT}-03")))[TRACEPARENT],
        format!("00-{TRACE}-{PARENT}-03")
    );
    assert_eq!(
        inject(span_context(0x02, TraceState::NONE))[TRACEPARENT],
        format!("00-{TRACE}-{PARENT}-02")
    );
}

#[test]
fn other_flag_bits_are_zeroed() {
    // Rule: flags other than sampled and random are set to zero, on extract and on inject.
    let flags = |f: &str| {
        extract(&tp(&format!("00-{TRACE}-{PARENT}-{f}")))
            .unwrap()
            .trace_flags()
    };
    assert_eq!(flags("ff"), TraceFlags::new(0x03));
    assert_eq!(flags("09"), TraceFlags::new(0x01));
    assert_eq!(flags("04"), TraceFlags::new(0x00));
    assert_eq!(flags("fe"), TraceFlags::new(0x02));
    assert_eq!(
        inject(span_context(0xff, TraceState::NONE))[TRACEPARENT],
        format!("00-{TRACE}-{PARENT}-03")
    );
    assert_eq!(
        inject(span_context(0x04, TraceState::NONE))[TRACEPARENT],
        format!("00-{TRACE}-{PARENT}-00")
    );
}

#[test]
fn invalid_traceparent_returns_the_context_unchanged() {
    // Rule: invalid traceparent: no remote parent (the trace restarts), tracestate dropped.
    #[derive(Debug, PartialEq)]
    struct Marker(u8);
    let parent = span_context(0x01, TraceState::NONE);
    let cx = Context::new()
        .with_remote_span_context(parent.clone())
        .with_value(Marker(7));
    let headers = tp(&with_version("ff")).with(TRACESTATE, "a=b");
    let out = TraceContextPropagator::new().extract_with_context(&cx, &headers);
    assert_eq!(out.span().span_context(), &parent);
    assert_eq!(out.get::<Marker>(), Some(&Marker(7)));
    // No header at all: the same.
    let out = TraceContextPropagator::new()
        .extract_with_context(&Context::new(), &Headers::default().with(TRACESTATE, "a=b"));
    assert!(!out.has_active_span());
}

#[test]
fn tracestate_32_members_are_valid_33_are_not() {
    // Rule: at most 32 members; 33 discards the header whole.
    let members = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(relayed_tracestate(&[&members(32)]), Some(members(32)));
    assert_eq!(relayed_tracestate(&[&members(33)]), None);
    // Empty members do not count.
    let with_empties = format!("{},,, ,\t,", members(32));
    assert_eq!(relayed_tracestate(&[&with_empties]), Some(members(32)));
    // 33 across two headers.
    assert_eq!(relayed_tracestate(&[&members(32), "z=1"]), None);
}

#[test]
fn tracestate_key_grammar() {
    let ok = |key: &str| relayed_tracestate(&[&format!("{key}=v")]).is_some();
    // Rule: a key starts with a lowercase letter or digit.
    assert!(ok("a"));
    assert!(ok("0a"));
    assert!(!ok("_a"));
    assert!(!ok("@a"));
    assert!(!ok("-a"));
    // Rule: then `a-z 0-9 _ - * / @`.
    assert!(ok("a_-*/@z9"));
    assert!(!ok("a.b"));
    assert!(!ok("a b"));
    assert!(!ok("a+b"));
    // Rule: uppercase is invalid.
    assert!(!ok("Foo"));
    assert!(!ok("fOo"));
    // Rule: multi-tenant keys `tenant@system` are valid.
    assert!(ok("foo@bar"));
    assert!(ok("123@vendor"));
    // Level 2 grammar: `@` is a keychar like the others, any number of times after the
    // first character, so `foo@bar@baz` is VALID (the Level 1 grammar, and `TraceState`'s,
    // refuse it).
    assert!(ok("foo@bar@baz"));
    assert!(ok("tenant@a-long-system-id"));
    // Rule: at most 256 characters.
    assert!(ok(&"k".repeat(256)));
    assert!(!ok(&"k".repeat(257)));
    // Rule: a key is not empty, and has no OWS before `=`.
    assert!(!ok(""));
    assert!(!ok("a "));
}

#[test]
fn tracestate_keys_trace_state_refuses_are_propagated() {
    // Level 2 keys the older `TraceState` grammar refuses travel beside the span context.
    let header = "foo@bar@baz=1,congo=t61,tenant@a-long-system-id=2";
    let headers = tp(VALID).with(TRACESTATE, header);
    let sc = extract(&headers).unwrap();
    // The span context holds what `TraceState` accepts...
    assert_eq!(sc.trace_state().header(), "congo=t61");
    // ...and the whole list is injected.
    assert_eq!(relay(&headers)[TRACESTATE], header);
    // Also through a child span of an SDK tracer, which inherits the trace state.
    use opentelemetry::trace::{Tracer, TracerProvider};
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("test");
    let propagator = TraceContextPropagator::new();
    let parent = propagator.extract_with_context(&Context::new(), &headers);
    let child = parent.with_span(tracer.start_with_context("child", &parent));
    let mut out = HashMap::new();
    propagator.inject_context(&child, &mut out);
    assert_eq!(out[TRACESTATE], header);
    assert_ne!(out[TRACEPARENT], VALID, "the child's own span id");
    // Once the trace state is changed, what the span context holds is what is sent.
    let changed = sc.trace_state().insert("mine", "x").unwrap();
    let changed_cx = parent.with_remote_span_context(SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags(),
        true,
        changed,
    ));
    let mut out = HashMap::new();
    propagator.inject_context(&changed_cx, &mut out);
    assert_eq!(out[TRACESTATE], "mine=x,congo=t61");
}

#[test]
fn a_later_extraction_hides_a_list_kept_for_an_earlier_one() {
    // Extracting into a context that holds a kept list: the new tracestate is what is sent,
    // even when `TraceState` holds the same for both.
    let propagator = TraceContextPropagator::new();
    let first = tp(VALID).with(TRACESTATE, "foo@bar@baz=1,congo=t61");
    let cx = propagator.extract_with_context(&Context::new(), &first);
    let second = tp(VALID).with(TRACESTATE, "congo=t61");
    let cx = propagator.extract_with_context(&cx, &second);
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    assert_eq!(out[TRACESTATE], "congo=t61");
}

#[test]
fn tracestate_value_grammar() {
    let relayed = |value: &str| relayed_tracestate(&[&format!("k={value}")]);
    // Rule: printable ASCII 0x20-0x7e except `,` and `=`.
    assert_eq!(
        relayed("!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"),
        Some("k=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~".to_owned())
    );
    assert_eq!(relayed("a=b"), None, "`=` in a value");
    assert_eq!(
        relayed("a,b"),
        None,
        "`,` splits: `b` is a member without `=`"
    );
    assert_eq!(relayed("a\tb"), None, "tab inside");
    assert_eq!(relayed("caf\u{e9}"), None, "not ASCII");
    assert_eq!(relayed("a\u{7f}"), None, "DEL");
    // Rule: leading spaces are part of the value.
    assert_eq!(relayed("  a"), Some("k=  a".to_owned()));
    assert_eq!(relayed("a b"), Some("k=a b".to_owned()));
    // Rule: not ending in a space: trailing spaces are OWS, trimmed, not part of the value.
    assert_eq!(relayed("a  "), Some("k=a".to_owned()));
    // Rule: a value is 1 to 256 characters; empty (or spaces only) is invalid.
    assert_eq!(relayed(""), None);
    assert_eq!(relayed("   "), None);
    let v256 = "v".repeat(256);
    assert_eq!(relayed(&v256), Some(format!("k={v256}")));
    assert_eq!(relayed(&"v".repeat(257)), None);
}

#[test]
fn tracestate_duplicate_keys_keep_the_leftmost_entry() {
    // Rule: a vendor MAY discard duplicate keys it did not generate; the leftmost entry is the most
    // recent position, so it is the one kept, and the others keep their order.
    assert_eq!(
        relayed_tracestate(&["a=1,b=2,a=3"]),
        Some("a=1,b=2".to_owned())
    );
    assert_eq!(
        relayed_tracestate(&["foo=1,foo=1"]),
        Some("foo=1".to_owned())
    );
    assert_eq!(
        relayed_tracestate(&["foo=1,foo=2"]),
        Some("foo=1".to_owned())
    );
    assert_eq!(
        relayed_tracestate(&["foo=1", "foo=1"]),
        Some("foo=1".to_owned()),
        "across headers"
    );
    assert_eq!(
        relayed_tracestate(&["foo=1", "foo=2"]),
        Some("foo=1".to_owned()),
        "across headers"
    );
    // A duplicate is still a member: it counts toward the 32, and it must be valid.
    let dup33 = ["a=1"; 33].join(",");
    assert_eq!(relayed_tracestate(&[&dup33]), None, "33 members");
    assert_eq!(
        relayed_tracestate(&[&["a=1"; 32].join(",")]),
        Some("a=1".to_owned())
    );
    assert_eq!(
        relayed_tracestate(&["a=1,a="]),
        None,
        "an invalid duplicate"
    );
    assert_eq!(relayed_tracestate(&["a=1,a=x "]), Some("a=1".to_owned()));
    // Distinct keys that share a prefix are fine.
    assert_eq!(
        relayed_tracestate(&["a=1,a@b=2,ab=3"]),
        Some("a=1,a@b=2,ab=3".to_owned())
    );
}

#[test]
fn tracestate_empty_members_and_whitespace_are_allowed() {
    // Rule: empty and whitespace-only members, and OWS around members, are allowed.
    assert_eq!(
        relayed_tracestate(&[" a=1 ,\t, ,b=2\t,,"]),
        Some("a=1,b=2".to_owned())
    );
    assert_eq!(relayed_tracestate(&[",a=1"]), Some("a=1".to_owned()));
    // No OWS around `=`: that is a key with a space.
    assert_eq!(relayed_tracestate(&["a =1"]), None);
}

#[test]
fn tracestate_empty_header_is_accepted_and_not_sent() {
    // Rule: an empty header is accepted, and not sent on.
    let headers = tp(VALID).with(TRACESTATE, "");
    assert_eq!(
        extract(&headers),
        Some(span_context(0x01, TraceState::NONE))
    );
    assert!(!relay(&headers).contains_key(TRACESTATE));
    assert_eq!(relayed_tracestate(&[" ", ",", "\t"]), None);
}

#[test]
fn tracestate_headers_are_joined_in_order() {
    // Rule: several tracestate headers are joined with `,` in order.
    assert_eq!(
        relayed_tracestate(&["a=1,b=2", "c=3", "", "d=4"]),
        Some("a=1,b=2,c=3,d=4".to_owned())
    );
    let headers = tp(VALID).with(TRACESTATE, "b=2").with("TraceState", "a=1");
    assert_eq!(extract(&headers).unwrap().trace_state().header(), "b=2,a=1");
    // A member never spans two headers: `a` and `=1` are two invalid members.
    assert_eq!(relayed_tracestate(&["a", "=1"]), None);
}

#[test]
fn invalid_tracestate_keeps_traceparent() {
    // Rule: a tracestate failure never affects traceparent; the tracestate is discarded whole.
    let headers = tp(VALID).with(TRACESTATE, "a=1,B=2,c=3");
    assert_eq!(
        extract(&headers),
        Some(span_context(0x01, TraceState::NONE))
    );
    let out = relay(&headers);
    assert_eq!(out[TRACEPARENT], VALID);
    assert!(!out.contains_key(TRACESTATE));
    // A member without `=`.
    assert_eq!(relayed_tracestate(&["a=1,nonsense"]), None);
}

#[test]
fn tracestate_too_long_to_be_valid_is_refused_unparsed() {
    // Bound on attacker input: longer than 32 maximal members (with separators) is refused.
    let spaces = " ".repeat(MAX_TRACESTATE_LEN + 1);
    let headers = tp(VALID).with(TRACESTATE, &format!("a=1,{spaces}"));
    assert_eq!(
        extract(&headers),
        Some(span_context(0x01, TraceState::NONE))
    );
    // Many headers, each short, add up the same way.
    let mut headers = tp(VALID);
    for _ in 0..=MAX_TRACESTATE_LEN / 4 {
        headers = headers.with(TRACESTATE, "   ");
    }
    assert_eq!(
        extract(&headers),
        Some(span_context(0x01, TraceState::NONE))
    );
    // The longest valid list is accepted.
    let longest: Vec<String> = (0..32)
        .map(|i| format!("{}={}", format!("{i:02}").repeat(128), "v".repeat(256)))
        .collect();
    let longest = longest.join(", ");
    assert!(longest.len() <= MAX_TRACESTATE_LEN);
    let sc = extract(&tp(VALID).with(TRACESTATE, &longest)).unwrap();
    assert_eq!(sc.trace_state().header(), longest.replace(", ", ","));
}

#[test]
fn tracestate_is_truncated_to_512_chars_on_inject() {
    // Rule: at most 512 characters, whole entries dropped, entries over 128 chars first,
    // then from the right.
    let long = |key: &str| (key.to_owned(), "v".repeat(200)); // 202 chars
    let short = |key: &str| (key.to_owned(), "v".repeat(98)); // 100 chars
    let state =
        |members: &[(String, String)]| TraceState::from_key_value(members.iter().cloned()).unwrap();
    let header_of = |members: &[(String, String)]| {
        members
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };

    // 100 + 202 + 100 + 100 + 100 + 4 commas = 606: the long one goes, 403 remain.
    let members = [short("a"), long("b"), short("c"), short("d"), short("e")];
    let expected = [short("a"), short("c"), short("d"), short("e")];
    let injected = inject(span_context(0x01, state(&members)))[TRACESTATE].clone();
    assert_eq!(injected, header_of(&expected));

    // Six short ones (605 chars): dropped from the right until within 512.
    let members: Vec<_> = ["a", "b", "c", "d", "e", "f"].map(short).into();
    let injected = inject(span_context(0x01, state(&members)))[TRACESTATE].clone();
    assert_eq!(injected, header_of(&members[..5]));
    assert_eq!(injected.len(), 504);

    // Two long ones among short ones: only as many long ones go as needed, rightmost first.
    let members = [long("a"), short("b"), long("c"), short("d")]; // 607
    let injected = inject(span_context(0x01, state(&members)))[TRACESTATE].clone();
    assert_eq!(injected, header_of(&[long("a"), short("b"), short("d")]));

    // Exactly 512 is sent whole.
    let members = [
        ("a".to_owned(), "v".repeat(254)),
        ("b".to_owned(), "v".repeat(253)),
    ]; // 256 + 1 + 255
    let injected = inject(span_context(0x01, state(&members)))[TRACESTATE].clone();
    assert_eq!(injected.len(), 512);
    assert_eq!(injected, header_of(&members));

    // A relayed list is truncated the same way.
    let received = (0..32)
        .map(|i| format!("k{i:02}={}", "v".repeat(40)))
        .collect::<Vec<_>>();
    let relayed = relayed_tracestate(&[&received.join(",")]).unwrap();
    assert!(relayed.len() <= 512);
    assert_eq!(relayed, received[..11].join(","));
}

#[test]
fn inject_leaves_out_entries_a_strict_receiver_refuses() {
    // `TraceState` accepts values our receivers would refuse; sending one would make them
    // discard every other entry.
    let state = TraceState::from_key_value([
        ("a", "1"),
        ("empty", ""),
        ("trailing", "x "),
        ("ctl", "x\ny"),
        ("a", "2"),
        ("b", "2"),
    ])
    .unwrap();
    assert_eq!(inject(span_context(0x01, state))[TRACESTATE], "a=1,b=2");
}

#[test]
fn inject_needs_a_valid_span_context() {
    let mut out = HashMap::new();
    TraceContextPropagator::new().inject_context(&Context::new(), &mut out);
    assert!(out.is_empty());
    TraceContextPropagator::new().inject_context(
        &Context::new().with_remote_span_context(SpanContext::empty_context()),
        &mut out,
    );
    assert!(out.is_empty());
}

#[test]
fn valid_headers_round_trip() {
    // inject(extract(x)) == x for valid canonical input.
    let cases: &[(&str, Option<&str>)] = &[
        (VALID, None),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            None,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02",
            Some("a=1"),
        ),
        (
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03",
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ),
        (
            "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01",
            Some("a@b=  leading,0=~,x/y*z_-=v"),
        ),
        (
            "00-00000000000000000000000000000001-0000000000000001-01",
            Some("foo@bar@baz=1,t@longer-than-13=2"),
        ),
    ];
    for &(traceparent, tracestate) in cases {
        let mut headers = tp(traceparent);
        let mut expected = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        if let Some(tracestate) = tracestate {
            headers = headers.with(TRACESTATE, tracestate);
            expected.insert(TRACESTATE.to_owned(), tracestate.to_owned());
        }
        assert_eq!(relay(&headers), expected, "{traceparent} {tracestate:?}");
    }
}

#[test]
fn fields_are_traceparent_and_tracestate() {
    let propagator = TraceContextPropagator::default();
    assert_eq!(
        propagator.fields().collect::<Vec<_>>(),
        ["traceparent", "tracestate"]
    );
}

#[test]
fn differences_from_the_upstream_propagator() {
    // Each input on which `opentelemetry_sdk` 0.33.1's `TraceContextPropagator` and ours
    // differ. The assertion is on OUR result; the comment says what upstream gives (observed
    // by running it on the same input).
    let upstream = opentelemetry_sdk::propagation::TraceContextPropagator::new();
    let ours = |headers: &Headers| relay(headers);
    let upstream_relay = |headers: &Headers| {
        let cx = upstream.extract_with_context(&Context::new(), headers);
        let mut out = HashMap::new();
        upstream.inject_context(&cx, &mut out);
        out
    };
    let none = HashMap::new();
    let only_tp = |tp: &str| HashMap::from([(TRACEPARENT.to_owned(), tp.to_owned())]);
    let both = |tp: &str, ts: &str| {
        HashMap::from([
            (TRACEPARENT.to_owned(), tp.to_owned()),
            (TRACESTATE.to_owned(), ts.to_owned()),
        ])
    };

    let cases: Vec<(Headers, HashMap<String, String>)> = vec![
        // Version `0`: upstream accepts it (it parses the version as a number).
        (tp(&with_version("0")), none.clone()),
        // Version `000`: upstream accepts it.
        (tp(&with_version("000")), none.clone()),
        // Version `+0`: upstream accepts it.
        (tp(&with_version("+0")), none.clone()),
        // 31-char trace-id: upstream accepts it (left-padded with a zero).
        (
            tp(&format!("00-{}-{PARENT}-01", &TRACE[..31])),
            none.clone(),
        ),
        // 15-char parent-id: upstream accepts it.
        (
            tp(&format!("00-{TRACE}-{}-01", &PARENT[..15])),
            none.clone(),
        ),
        // 1-char flags: upstream accepts it.
        (tp(&format!("00-{TRACE}-{PARENT}-1")), none.clone()),
        // 3-char flags: upstream accepts `001`.
        (tp(&format!("00-{TRACE}-{PARENT}-001")), none.clone()),
        // Version 00 with a trailing `-`: upstream accepts it.
        (tp(&format!("{VALID}-")), none.clone()),
        // Random flag: upstream drops it (re-emits `-01`).
        (
            tp(&format!("00-{TRACE}-{PARENT}-03")),
            only_tp(&format!("00-{TRACE}-{PARENT}-03")),
        ),
        // Two traceparent headers: upstream reads the first and continues the trace.
        (tp(VALID).with(TRACEPARENT, VALID), none.clone()),
        // Two tracestate headers: upstream reads the first only (`a=1`).
        (
            tp(VALID).with(TRACESTATE, "a=1").with(TRACESTATE, "b=2"),
            both(VALID, "a=1,b=2"),
        ),
        // 33 members: upstream keeps the first 32.
        (
            tp(VALID).with(
                TRACESTATE,
                &(0..33)
                    .map(|i| format!("k{i}=v"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            only_tp(VALID),
        ),
        // Duplicate key: upstream keeps both; the leftmost is kept.
        (tp(VALID).with(TRACESTATE, "a=1,a=2"), both(VALID, "a=1")),
        // Empty value: upstream accepts it (and sends `a=`).
        (tp(VALID).with(TRACESTATE, "a=,b=2"), only_tp(VALID)),
        // A tab inside a value: upstream accepts it (and sends it).
        (tp(VALID).with(TRACESTATE, "a=x\ty"), only_tp(VALID)),
        // `foo@bar@baz` (valid by Level 2): upstream discards the whole tracestate.
        (
            tp(VALID).with(TRACESTATE, "foo@bar@baz=1,b=2"),
            both(VALID, "foo@bar@baz=1,b=2"),
        ),
        // A 14-char system id after `@`: upstream discards the whole tracestate.
        (
            tp(VALID).with(TRACESTATE, "t@abcdefghijklmn=1"),
            both(VALID, "t@abcdefghijklmn=1"),
        ),
        // Empty tracestate: upstream sends an empty `tracestate` header.
        (tp(VALID).with(TRACESTATE, ""), only_tp(VALID)),
        // No tracestate at all: upstream sends an empty `tracestate` header too.
        (tp(VALID), only_tp(VALID)),
        // A tracestate over 512 chars: upstream sends it whole (here 32 × 41 - 1 = 1311).
        (
            tp(VALID).with(
                TRACESTATE,
                &(0..32)
                    .map(|i| format!("k{i:02}={}", "v".repeat(36)))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            both(
                VALID,
                &(0..12)
                    .map(|i| format!("k{i:02}={}", "v".repeat(36)))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(ours(&headers), expected, "{headers:?}");
        assert_ne!(
            upstream_relay(&headers),
            expected,
            "no longer a difference: {headers:?}"
        );
    }
}

/// Valid traceparents, of any version, with OWS and trailing fields.
fn valid_traceparent() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => Just("00".to_owned()), 1 => "[0-9a-f]{2}"],
        "[0-9a-f]{32}",
        "[0-9a-f]{16}",
        "[0-9a-f]{2}",
        prop_oneof![3 => Just(String::new()), 1 => "-[ -~]{0,8}"],
        "[ \t]{0,2}",
    )
        .prop_map(|(v, t, p, f, rest, ows)| {
            let rest = if v == "00" { String::new() } else { rest };
            format!("{ows}{v}-{t}-{p}-{f}{rest}{ows}")
        })
}

/// Valid, near-valid (one character replaced, inserted or removed) and arbitrary.
fn traceparent() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => valid_traceparent(),
        2 => (valid_traceparent(), any::<prop::sample::Index>(), any::<char>(), 0..3u8)
            .prop_map(|(tp, at, c, op)| {
                let mut chars: Vec<char> = tp.chars().collect();
                let i = at.index(chars.len());
                match op {
                    0 => chars[i] = c,
                    1 => chars.insert(i, c),
                    _ => {
                        chars.remove(i);
                    }
                }
                chars.into_iter().collect()
            }),
        1 => "\\PC{0,70}",
    ]
}

fn traceparents() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        1 => Just(Vec::new()),
        8 => traceparent().prop_map(|tp| vec![tp]),
        1 => proptest::collection::vec(traceparent(), 2..3),
    ]
}

/// Tracestate header values: valid lists (some with Level 2 keys `TraceState` refuses, some
/// long enough to be truncated on inject, some over 32 members) and lists with invalid
/// members.
fn tracestate() -> impl Strategy<Value = String> {
    let valid_key = prop_oneof![
        8 => "[a-z0-9][a-z0-9_*/@\\-]{0,8}",
        1 => "[a-z]{1,3}@[a-z]{1,3}@[a-z]{1,3}",
        1 => "[a-z]{1,3}@[a-z]{14,16}",
    ];
    let valid_value = prop_oneof![
        8 => "[ -+\\--<>-~]{0,6}[!-+\\--<>-~]",
        1 => "[a-z]{100,200}",
    ];
    let valid_member = prop_oneof![
        8 => (valid_key, valid_value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => "[ \t]{0,2}",
    ];
    let any_member = prop_oneof![
        4 => valid_member.clone(),
        1 => "[a-zA-Z0-9_@. ]{0,4}=[a-z]{1,3}",
        1 => "[a-z]{1,3}=[ -~]{0,8}",
        1 => Just(format!("{}=v", "k".repeat(257))),
        1 => Just(format!("k={}", "v".repeat(257))),
        1 => "\\PC{0,6}",
    ];
    prop_oneof![
        2 => proptest::collection::vec(valid_member, 0..40),
        1 => proptest::collection::vec(any_member, 0..6),
    ]
    .prop_map(|members| members.join(","))
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic_and_extracted_contexts_re_inject_stably(
        traceparents in traceparents(),
        tracestates in proptest::collection::vec(tracestate(), 0..3),
    ) {
        let mut headers = Headers::default();
        for value in &traceparents {
            headers = headers.with(TRACEPARENT, value);
        }
        for value in &tracestates {
            headers = headers.with(TRACESTATE, value);
        }
        let propagator = TraceContextPropagator::new();
        let first = propagator.extract_with_context(&Context::new(), &headers);
        let mut injected = HashMap::new();
        propagator.inject_context(&first, &mut injected);
        if !first.has_active_span() {
            prop_assert!(injected.is_empty());
            return Ok(());
        }
        prop_assert_eq!(injected[TRACEPARENT].len(), TRACEPARENT_LEN);
        prop_assert!(injected[TRACEPARENT].starts_with("00-"));
        prop_assert!(injected.get(TRACESTATE).is_none_or(|ts| ts.len() <= 512));

        let second = propagator.extract_with_context(&Context::new(), &injected);
        prop_assert!(second.has_active_span());
        let mut reinjected = HashMap::new();
        propagator.inject_context(&second, &mut reinjected);
        prop_assert_eq!(&reinjected, &injected);
        // The same span context, except for a tracestate cut to 512 characters.
        let a = first.span().span_context().clone();
        let b = second.span().span_context().clone();
        prop_assert_eq!(
            (a.trace_id(), a.span_id(), a.trace_flags(), a.is_remote()),
            (b.trace_id(), b.span_id(), b.trace_flags(), b.is_remote())
        );
        let untruncated_len = match first.get::<ReceivedTraceState>() {
            Some(received) if received.matches(&a) => {
                let members = received.members.iter();
                header_len(&members.map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
            }
            _ => header_len(&sendable_entries(a.trace_state())),
        };
        if untruncated_len <= MAX_INJECTED_TRACESTATE_LEN {
            prop_assert_eq!(a, b);
        }
    }
}
