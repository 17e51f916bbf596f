//! Redaction: secret-named fields never reach a JSON line nor the OpenTelemetry span (attributes
//! and span events), and their values are never even formatted.

use std::fmt;

use tracing::{info, info_span};
use tracing_correlate::opentelemetry_sdk::trace::Sampler;
use tracing_correlate::Redaction;

use crate::support::capture::Capture;
use crate::support::find::line_with;
use crate::support::harness::Harness;

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
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
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
        l.with_redaction(
            Redaction::default()
                .with_names(["ssn"])
                .with_predicate(|name| name.starts_with("pii.")),
        )
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

/// The OpenTelemetry layer composed by hand, without the init: what it hands the SDK.
mod otel_layer {
    use super::MustNotBeFormatted;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::Value;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use tracing::{error, info_span, warn};
    use tracing_correlate::Redaction;
    use tracing_subscriber::layer::SubscriberExt;

    fn exported(
        configure: impl FnOnce(
            tracing_correlate::OtelLayer<
                tracing_subscriber::Registry,
                opentelemetry_sdk::trace::Tracer,
            >,
        ) -> tracing_correlate::OtelLayer<
            tracing_subscriber::Registry,
            opentelemetry_sdk::trace::Tracer,
        >,
        f: impl FnOnce(),
    ) -> Vec<SpanData> {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = configure(tracing_correlate::otel_layer(provider.tracer("test")));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f);
        provider.force_flush().unwrap();
        exporter.get_finished_spans().unwrap()
    }

    fn attribute<'a>(attributes: &'a [opentelemetry::KeyValue], key: &str) -> Option<&'a Value> {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[derive(Debug)]
    struct Refused;
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("card refused")
        }
    }
    impl std::error::Error for Refused {}

    #[test]
    fn secret_fields_reach_neither_span_attributes_nor_span_events() {
        let spans = exported(
            |l| l.with_redaction(Redaction::default().with_names(["ssn"])),
            || {
                let span = info_span!(
                    "login",
                    user = "ada",
                    attempts = 3_i64,
                    api_key = "k-123",
                    session.token = tracing::field::Empty,
                );
                let _e = span.enter();
                span.record("session.token", "t-456");
                warn!(
                    password = "hunter2",
                    customer.ssn = "123-45-6789",
                    shape = ?(1, 2),
                    "weak password"
                );
                let err = Refused;
                error!(
                    error = &err as &(dyn std::error::Error + 'static),
                    authorization = "Bearer abc",
                    "payment failed"
                );
            },
        );
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        let redacted = Value::from("[REDACTED]");
        assert_eq!(attribute(&span.attributes, "api_key"), Some(&redacted));
        assert_eq!(
            attribute(&span.attributes, "session.token"),
            Some(&redacted)
        );
        // The other values keep their kinds.
        assert_eq!(
            attribute(&span.attributes, "user"),
            Some(&Value::from("ada"))
        );
        assert_eq!(
            attribute(&span.attributes, "attempts"),
            Some(&Value::I64(3))
        );

        let warning = span
            .events
            .iter()
            .find(|e| e.name == "weak password")
            .unwrap_or_else(|| panic!("{:#?}", span.events));
        assert_eq!(attribute(&warning.attributes, "password"), Some(&redacted));
        assert_eq!(
            attribute(&warning.attributes, "customer.ssn"),
            Some(&redacted)
        );
        assert_eq!(
            attribute(&warning.attributes, "shape"),
            Some(&Value::from("(1, 2)")),
            "a Debug value is still recorded by its Debug form"
        );
        let exception = span
            .events
            .iter()
            .find(|e| e.name == "exception")
            .unwrap_or_else(|| panic!("{:#?}", span.events));
        assert_eq!(
            attribute(&exception.attributes, "authorization"),
            Some(&redacted)
        );
        assert_eq!(
            attribute(&exception.attributes, "exception.message"),
            Some(&Value::from("card refused"))
        );

        let everything = format!("{span:?}");
        for secret in ["k-123", "t-456", "hunter2", "123-45-6789", "Bearer abc"] {
            assert!(
                !everything.contains(secret),
                "{secret} in the span: {everything}"
            );
        }
    }

    #[test]
    fn a_secret_value_is_never_formatted_for_the_span() {
        let spans = exported(
            |l| l,
            || {
                let span = info_span!("s", db_password = ?MustNotBeFormatted);
                let _e = span.enter();
                warn!(authorization = ?MustNotBeFormatted, "not formatted");
            },
        );
        let redacted = Value::from("[REDACTED]");
        assert_eq!(
            attribute(&spans[0].attributes, "db_password"),
            Some(&redacted)
        );
        assert_eq!(
            attribute(&spans[0].events[0].attributes, "authorization"),
            Some(&redacted)
        );
    }

    #[test]
    fn a_predicate_adds_rules_and_plain_callsites_pass_through_whole() {
        let spans = exported(
            |l| {
                l.with_redaction(
                    Redaction::default().with_predicate(|name| name.starts_with("pii.")),
                )
            },
            || {
                let span = info_span!("signup", pii.email = "a@b.c", plan = "pro");
                let _e = span.enter();
                let plain = info_span!("plain", token_count = 7_i64, ratio = 0.5);
                let _p = plain.enter();
            },
        );
        let signup = spans.iter().find(|s| s.name == "signup").unwrap();
        assert_eq!(
            attribute(&signup.attributes, "pii.email"),
            Some(&Value::from("[REDACTED]"))
        );
        assert_eq!(
            attribute(&signup.attributes, "plan"),
            Some(&Value::from("pro"))
        );
        let plain = spans.iter().find(|s| s.name == "plain").unwrap();
        assert_eq!(
            attribute(&plain.attributes, "token_count"),
            Some(&Value::I64(7))
        );
        assert_eq!(
            attribute(&plain.attributes, "ratio"),
            Some(&Value::F64(0.5))
        );
        assert_eq!(
            plain.parent_span_id,
            signup.span_context.span_id(),
            "a rebuilt span keeps its parent"
        );
    }

    #[test]
    fn a_secret_past_the_64th_field_is_redacted_too() {
        // The per-callsite mask holds 64 fields; later ones are checked by name.
        let spans = exported(
            |l| l,
            || {
                let span = info_span!(
                    "wide",
                    f0 = 0_i64,
                    f1 = 1_i64,
                    f2 = 2_i64,
                    f3 = 3_i64,
                    f4 = 4_i64,
                    f5 = 5_i64,
                    f6 = 6_i64,
                    f7 = 7_i64,
                    f8 = 8_i64,
                    f9 = 9_i64,
                    f10 = 10_i64,
                    f11 = 11_i64,
                    f12 = 12_i64,
                    f13 = 13_i64,
                    f14 = 14_i64,
                    f15 = 15_i64,
                    f16 = 16_i64,
                    f17 = 17_i64,
                    f18 = 18_i64,
                    f19 = 19_i64,
                    f20 = 20_i64,
                    f21 = 21_i64,
                    f22 = 22_i64,
                    f23 = 23_i64,
                    f24 = 24_i64,
                    f25 = 25_i64,
                    f26 = 26_i64,
                    f27 = 27_i64,
                    f28 = 28_i64,
                    f29 = 29_i64,
                    f30 = 30_i64,
                    f31 = 31_i64,
                    f32 = 32_i64,
                    f33 = 33_i64,
                    f34 = 34_i64,
                    f35 = 35_i64,
                    f36 = 36_i64,
                    f37 = 37_i64,
                    f38 = 38_i64,
                    f39 = 39_i64,
                    f40 = 40_i64,
                    f41 = 41_i64,
                    f42 = 42_i64,
                    f43 = 43_i64,
                    f44 = 44_i64,
                    f45 = 45_i64,
                    f46 = 46_i64,
                    f47 = 47_i64,
                    f48 = 48_i64,
                    f49 = 49_i64,
                    f50 = 50_i64,
                    f51 = 51_i64,
                    f52 = 52_i64,
                    f53 = 53_i64,
                    f54 = 54_i64,
                    f55 = 55_i64,
                    f56 = 56_i64,
                    f57 = 57_i64,
                    f58 = 58_i64,
                    f59 = 59_i64,
                    f60 = 60_i64,
                    f61 = 61_i64,
                    f62 = 62_i64,
                    f63 = 63_i64,
                    f64 = 64_i64,
                    f65 = 65_i64,
                    password = "hunter2",
                    f66 = 66_i64
                );
                let _e = span.enter();
            },
        );
        let span = &spans[0];
        assert_eq!(
            attribute(&span.attributes, "password"),
            Some(&Value::from("[REDACTED]"))
        );
        assert_eq!(attribute(&span.attributes, "f65"), Some(&Value::I64(65)));
        assert_eq!(attribute(&span.attributes, "f66"), Some(&Value::I64(66)));
        assert!(!format!("{span:?}").contains("hunter2"));
    }
}
