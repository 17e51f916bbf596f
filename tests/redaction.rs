//! Redaction in the JSON lines: secret-named fields never reach a line, and their values are never
//! even formatted.

mod support;

use std::fmt;

use support::{line_with, Harness};
use tracing::{info, info_span};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;

/// A value whose formatting fails the test: proof that a secret is never formatted.
struct MustNotBeFormatted;

impl fmt::Debug for MustNotBeFormatted {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("a secret field's value was formatted")
    }
}

#[test]
fn secret_fields_are_redacted_in_events_and_spans() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!(
            "login",
            user = "ada",
            api_key = "k-123",
            db_password = "pw-9"
        );
        let _e = span.enter();
        info!(
            password = "hunter2",
            authorization = "Bearer abc",
            "user.token" = "t-1",
            token_count = 3,
            "logged in"
        );
    });
    let lines = h.lines();
    let line = line_with(&lines, "logged in");
    for key in [
        "password",
        "authorization",
        "user.token",
        "api_key",
        "db_password",
    ] {
        assert_eq!(line[key], "[REDACTED]", "{key}");
    }
    assert_eq!(line["user"], "ada");
    assert_eq!(
        line["token_count"], 3,
        "not a secret: the name only starts with one"
    );
    let text = h.capture.text();
    for secret in ["hunter2", "k-123", "t-1", "pw-9", "Bearer abc"] {
        assert!(!text.contains(secret), "{secret} in the output");
    }
}

#[test]
fn the_json_layer_never_formats_a_secret_value() {
    // The JSON layer alone: `tracing-opentelemetry` formats span fields for its own attributes
    // (the init redacts those before export; see RELIABILITY.md).
    use tracing_subscriber::layer::SubscriberExt;
    let capture = support::Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::layer().with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("s", db_password = ?MustNotBeFormatted);
        let _e = span.enter();
        info!(authorization = ?MustNotBeFormatted, "not formatted");
    });
    let lines = capture.lines();
    let line = line_with(&lines, "not formatted");
    assert_eq!(line["authorization"], "[REDACTED]");
    assert_eq!(line["db_password"], "[REDACTED]");
}

#[test]
fn the_list_extends_and_a_predicate_adds_rules() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_redacted_fields(["ssn"])
            .with_redaction(|name| name.starts_with("pii."))
    });
    h.run(|| {
        info!(
            customer.ssn = "123-45-6789",
            pii.email = "a@b.c",
            plan = "pro",
            "signed up"
        )
    });
    let lines = h.lines();
    let line = line_with(&lines, "signed up");
    assert_eq!(line["customer.ssn"], "[REDACTED]");
    assert_eq!(line["pii.email"], "[REDACTED]");
    assert_eq!(line["plan"], "pro");
}

#[test]
fn a_secret_recorded_later_on_a_span_is_redacted_too() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("session", token = tracing::field::Empty);
        let _e = span.enter();
        span.record("token", "s3cr3t");
        info!("in session");
    });
    let lines = h.lines();
    assert_eq!(line_with(&lines, "in session")["token"], "[REDACTED]");
    assert!(!h.capture.text().contains("s3cr3t"));
}
