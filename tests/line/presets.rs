//! Backend presets: each preset's keys and value formats, checked against the ids of the exported
//! OpenTelemetry span; the OTel keys stay on every preset's lines; user fields named like a preset
//! key are renamed only when that preset is active; no id keys outside a span.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use serde_json::{json, Value as Json};
use tracing_core::field::Value;
use tracing_core::metadata::Kind;
use tracing_core::Level;
use tracing_correlate::opentelemetry_sdk::trace::{Sampler, SpanData};
use tracing_correlate::tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_correlate::Preset;

use crate::support::find::line_with;
use crate::support::harness::Harness;
use crate::support::ids::{ids_of, line_ids};
use crate::support::runtime::runtime_metadata;

const GCP_TRACE: &str = "logging.googleapis.com/trace";
const GCP_SPAN: &str = "logging.googleapis.com/spanId";
const GCP_SAMPLED: &str = "logging.googleapis.com/trace_sampled";

/// The keys each preset adds (from the backend formats reference), `dd.env` and `dd.version`
/// aside: they are written only when `DD_ENV` / `DD_VERSION` are set.
const PRESET_KEYS: [(Preset, &[&str]); 5] = [
    (Preset::Otel, &[]),
    (Preset::Gcp, &[GCP_TRACE, GCP_SPAN, GCP_SAMPLED]),
    (
        Preset::Datadog,
        &["dd.trace_id", "dd.span_id", "dd.service"],
    ),
    (Preset::Ecs, &["trace.id", "span.id", "transaction.id"]),
    (Preset::Xray, &["AWS-XRAY-TRACE-ID"]),
];

/// The keys of every preset that name ids (written only inside a span).
const ID_KEYS: [&str; 9] = [
    GCP_TRACE,
    GCP_SPAN,
    GCP_SAMPLED,
    "dd.trace_id",
    "dd.span_id",
    "trace.id",
    "span.id",
    "transaction.id",
    "AWS-XRAY-TRACE-ID",
];

/// A remote parent with the W3C example ids, for fixed expected values.
const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

fn remote_parent() -> opentelemetry::Context {
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex(REMOTE_TRACE).unwrap(),
        SpanId::from_hex(REMOTE_SPAN).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

/// The line of an event in a span whose parent is the remote W3C example trace.
fn known_trace_line(h: &Harness) -> Json {
    h.run(|| {
        let span = tracing::info_span!("child_of_remote");
        span.set_parent(remote_parent()).expect("parent set");
        let _entered = span.enter();
        tracing::info!("known trace");
    });
    let lines = h.lines();
    line_with(&lines, "known trace").clone()
}

fn harness(preset: Preset) -> Harness {
    Harness::with(Sampler::AlwaysOn, |l| l.with_preset(preset))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Emits `message` in a span named `op` (one line), returning the line and the exported span.
fn line_in_span(harness: &Harness, message: &str) -> (Json, SpanData) {
    harness.run(|| {
        let span = tracing::info_span!("op");
        let _entered = span.enter();
        tracing::info!("{message}");
    });
    let lines = harness.lines();
    (line_with(&lines, message).clone(), harness.span("op"))
}

/// The OTel keys of a line match the exported span, sampled.
fn assert_otel_keys(line: &Json, span: &SpanData) {
    assert_eq!(line_ids(line), ids_of(span), "{line}");
    assert_eq!(line["trace_flags"], "01", "{line}");
}

/// Emits an INFO event with string fields `fields` and the message `message`.
fn emit(fields: &[(&str, &str)], message: &str) {
    let mut names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    names.push("message");
    let meta = runtime_metadata(Kind::EVENT, "event", "presets", Level::INFO, &names);
    let mut values: Vec<Option<&dyn Value>> =
        fields.iter().map(|(_, v)| Some(v as &dyn Value)).collect();
    values.push(Some(&message));
    tracing_core::Event::dispatch(meta, &meta.fields().value_set_all(&values));
}

/// A span named `name` with string fields `fields`.
fn span_with(name: &'static str, fields: &[(&str, &str)]) -> tracing::Span {
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let meta = runtime_metadata(Kind::SPAN, name, "presets", Level::INFO, &names);
    let values: Vec<Option<&dyn Value>> =
        fields.iter().map(|(_, v)| Some(v as &dyn Value)).collect();
    tracing::Span::new(meta, &meta.fields().value_set_all(&values))
}

// ---------------------------------------------------------------------------------------------
// One test per preset.

#[test]
fn otel_preset_adds_no_backend_keys() {
    for h in [harness(Preset::Otel), Harness::new()] {
        let (line, span) = line_in_span(&h, "otel line");
        assert_otel_keys(&line, &span);
        assert_eq!(line["span_name"], "op");
        for key in ID_KEYS
            .iter()
            .chain(&["dd.service", "dd.env", "dd.version"])
        {
            assert!(line.get(*key).is_none(), "{key} in {line}");
        }
        let mut keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "level",
                "message",
                "service",
                "span_id",
                "span_name",
                "target",
                "timestamp",
                "trace_flags",
                "trace_id"
            ]
        );
    }
}

#[test]
fn gcp_preset_with_a_project_id() {
    // The project id may be set before or after the preset.
    for h in [
        Harness::with(Sampler::AlwaysOn, |l| {
            l.with_preset(Preset::Gcp).with_gcp_project_id("my-project")
        }),
        Harness::with(Sampler::AlwaysOn, |l| {
            l.with_gcp_project_id("my-project").with_preset(Preset::Gcp)
        }),
    ] {
        let (line, span) = line_in_span(&h, "gcp line");
        assert_otel_keys(&line, &span);
        let (trace_id, span_id) = ids_of(&span);
        assert!(is_hex(&trace_id, 32) && is_hex(&span_id, 16));
        assert_eq!(
            line[GCP_TRACE],
            json!(format!("projects/my-project/traces/{trace_id}")),
            "{line}"
        );
        assert_eq!(line[GCP_SPAN], json!(span_id), "{line}");
        assert_eq!(line[GCP_SAMPLED], json!(true), "a JSON boolean: {line}");
    }
}

#[test]
fn gcp_project_id_is_escaped() {
    let project = "odd\"project\\\n";
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_preset(Preset::Gcp).with_gcp_project_id(project)
    });
    let (line, span) = line_in_span(&h, "odd project");
    let (trace_id, _) = ids_of(&span);
    assert_eq!(
        line[GCP_TRACE],
        json!(format!("projects/{project}/traces/{trace_id}"))
    );
}

#[test]
fn gcp_preset_unsampled_lines_still_carry_ids() {
    let h = Harness::with(Sampler::AlwaysOff, |l| {
        l.with_preset(Preset::Gcp).with_gcp_project_id("my-project")
    });
    let ids = h.run(|| {
        let span = tracing::info_span!("unsampled");
        let _entered = span.enter();
        tracing::info!("not sampled");
        let cx = span.context();
        let sc = cx.span().span_context().clone();
        (
            sc.trace_id().to_string(),
            sc.span_id().to_string(),
            sc.is_sampled(),
        )
    });
    assert!(h.spans().is_empty(), "nothing is exported when not sampled");
    let (trace_id, span_id, sampled) = ids;
    assert!(!sampled);
    assert!(
        is_hex(&trace_id, 32) && trace_id != "0".repeat(32),
        "{trace_id}"
    );
    assert!(
        is_hex(&span_id, 16) && span_id != "0".repeat(16),
        "{span_id}"
    );

    let lines = h.lines();
    let line = line_with(&lines, "not sampled");
    assert_eq!(line_ids(line), (trace_id.clone(), span_id.clone()));
    assert_eq!(line["trace_flags"], "00");
    assert_eq!(
        line[GCP_TRACE],
        json!(format!("projects/my-project/traces/{trace_id}"))
    );
    assert_eq!(line[GCP_SPAN], json!(span_id));
    assert_eq!(line[GCP_SAMPLED], json!(false), "a JSON boolean: {line}");
}

#[test]
fn gcp_preset_without_a_project_id_has_no_trace_key() {
    let env_project = std::env::var("GOOGLE_CLOUD_PROJECT")
        .ok()
        .filter(|p| !p.is_empty());
    let (line, span) = line_in_span(&harness(Preset::Gcp), "no project");
    assert_otel_keys(&line, &span);
    let (trace_id, span_id) = ids_of(&span);
    match env_project {
        None => assert!(line.get(GCP_TRACE).is_none(), "{line}"),
        Some(project) => {
            println!(
                "note: GOOGLE_CLOUD_PROJECT={project:?} is set in this environment; \
                 the absence of {GCP_TRACE} is not checked"
            );
            assert_eq!(
                line[GCP_TRACE],
                json!(format!("projects/{project}/traces/{trace_id}"))
            );
        }
    }
    assert_eq!(line[GCP_SPAN], json!(span_id));
    assert_eq!(line[GCP_SAMPLED], json!(true));
}

#[test]
fn datadog_preset() {
    let h = harness(Preset::Datadog);
    let (line, span) = line_in_span(&h, "dd line");
    assert_otel_keys(&line, &span);
    let (trace_id, span_id) = ids_of(&span);
    let lower = u64::from_str_radix(&trace_id[16..], 16).unwrap();
    let span_num = u64::from_str_radix(&span_id, 16).unwrap();
    assert_eq!(line["dd.trace_id"], json!(lower.to_string()), "{line}");
    assert_eq!(line["dd.span_id"], json!(span_num.to_string()), "{line}");
    assert_eq!(line["dd.service"], json!("svc"));
    for (key, var) in [("dd.env", "DD_ENV"), ("dd.version", "DD_VERSION")] {
        match std::env::var(var).ok().filter(|v| !v.is_empty()) {
            None => assert!(line.get(key).is_none(), "{key} in {line}"),
            Some(v) => assert_eq!(line[key], json!(v)),
        }
    }
}

#[test]
fn datadog_ids_of_a_known_trace_are_the_decimal_lower_64_bits() {
    let h = harness(Preset::Datadog);
    let line = known_trace_line(&h);
    let span = h.span("child_of_remote");
    assert_eq!(line["trace_id"], REMOTE_TRACE);
    assert_eq!(span.parent_span_id.to_string(), REMOTE_SPAN);
    // 0xa3ce929d0e0e4736: the lower half, above i64::MAX, as an unsigned decimal.
    assert_eq!(line["dd.trace_id"], json!("11803532876627986230"));
    let (_, span_id) = ids_of(&span);
    assert_eq!(
        line["dd.span_id"],
        json!(u64::from_str_radix(&span_id, 16).unwrap().to_string())
    );
}

#[test]
fn datadog_service_follows_the_service_name_set_after_the_preset() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_preset(Preset::Datadog).with_service_name("checkout")
    });
    h.run(|| tracing::info!("outside"));
    let lines = h.lines();
    let line = line_with(&lines, "outside");
    assert_eq!(line["service"], "checkout");
    assert_eq!(line["dd.service"], "checkout");
}

#[test]
fn ecs_preset_transaction_id_is_the_local_root_span() {
    let h = harness(Preset::Ecs);
    h.run(|| {
        let root = tracing::info_span!("root");
        let _root = root.enter();
        tracing::info!("in root");
        let child = tracing::info_span!("child");
        let _child = child.enter();
        tracing::info!("in child");
        let grandchild = tracing::info_span!("grandchild");
        let _grandchild = grandchild.enter();
        tracing::info!("in grandchild");
    });
    let lines = h.lines();
    let root = h.span("root");
    let child = h.span("child");
    let grandchild = h.span("grandchild");
    assert_eq!(child.parent_span_id, root.span_context.span_id());
    assert_eq!(grandchild.parent_span_id, child.span_context.span_id());
    let (_, root_id) = ids_of(&root);
    for (message, span) in [
        ("in root", &root),
        ("in child", &child),
        ("in grandchild", &grandchild),
    ] {
        let line = line_with(&lines, message);
        assert_otel_keys(line, span);
        let (trace_id, span_id) = ids_of(span);
        assert_eq!(line["trace.id"], json!(trace_id), "{line}");
        assert_eq!(line["span.id"], json!(span_id), "{line}");
        assert_eq!(line["transaction.id"], json!(root_id), "{line}");
    }
}

#[test]
fn ecs_transaction_id_under_a_remote_parent_is_the_local_root() {
    let h = harness(Preset::Ecs);
    h.run(|| {
        let root = tracing::info_span!("local_root");
        root.set_parent(remote_parent()).expect("parent set");
        let _root = root.enter();
        let child = tracing::info_span!("local_child");
        let _child = child.enter();
        tracing::info!("under remote");
    });
    let lines = h.lines();
    let line = line_with(&lines, "under remote");
    let root = h.span("local_root");
    let child = h.span("local_child");
    assert_eq!(root.parent_span_id.to_string(), REMOTE_SPAN);
    assert_otel_keys(line, &child);
    assert_eq!(line["trace.id"], REMOTE_TRACE);
    assert_eq!(line["span.id"], json!(ids_of(&child).1));
    assert_eq!(line["transaction.id"], json!(ids_of(&root).1), "{line}");
}

#[test]
fn xray_preset() {
    let h = harness(Preset::Xray);
    let (line, span) = line_in_span(&h, "xray line");
    assert_otel_keys(&line, &span);
    let (trace_id, _) = ids_of(&span);
    assert_eq!(
        line["AWS-XRAY-TRACE-ID"],
        json!(format!("1-{}-{}", &trace_id[..8], &trace_id[8..])),
        "{line}"
    );

    let h = harness(Preset::Xray);
    let line = known_trace_line(&h);
    assert_eq!(
        line["AWS-XRAY-TRACE-ID"],
        json!("1-4bf92f35-77b34da6a3ce929d0e0e4736")
    );
}

// ---------------------------------------------------------------------------------------------
// Rules common to all presets.

#[test]
fn otel_keys_stay_on_every_presets_lines() {
    for (preset, keys) in PRESET_KEYS {
        let h = Harness::with(Sampler::AlwaysOn, |l| {
            l.with_preset(preset).with_gcp_project_id("p")
        });
        let (line, span) = line_in_span(&h, "ids");
        assert_otel_keys(&line, &span);
        assert_eq!(line["span_name"], "op", "{preset:?}");
        for key in keys {
            assert!(
                line.get(*key).is_some(),
                "{preset:?}: {key} missing in {line}"
            );
        }
        // No other preset's keys.
        for (other, other_keys) in PRESET_KEYS {
            if other != preset {
                for key in other_keys {
                    assert!(
                        line.get(*key).is_none(),
                        "{preset:?}: {other:?} key {key} in {line}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_user_field_named_like_a_preset_key_is_renamed_only_under_that_preset() {
    let all_keys: Vec<&str> = PRESET_KEYS
        .iter()
        .flat_map(|(_, k)| k.iter().copied())
        .collect();
    for (preset, active) in PRESET_KEYS {
        let h = Harness::with(Sampler::AlwaysOn, |l| {
            l.with_preset(preset).with_gcp_project_id("p")
        });
        h.run(|| {
            for key in &all_keys {
                let span_message = format!("span field {key}");
                let event_message = format!("event field {key}");
                let outside_message = format!("outside {key}");
                emit(&[(key, "user")], &outside_message);
                let span = span_with("s", &[(key, "from span")]);
                let _entered = span.enter();
                emit(&[], &span_message);
                emit(&[(key, "user")], &event_message);
            }
        });
        let lines = h.lines(); // parse_line fails on a duplicate key
        for key in &all_keys {
            let renamed = format!("fields.{key}");
            for (message, value) in [
                (format!("event field {key}"), "user"),
                (format!("span field {key}"), "from span"),
                (format!("outside {key}"), "user"),
            ] {
                let line = line_with(&lines, &message);
                if active.contains(key) {
                    assert_eq!(line[&renamed], value, "{preset:?}: {line}");
                    assert_ne!(line.get(*key), Some(&json!(value)), "{preset:?}: {line}");
                    if !message.starts_with("outside") || *key == "dd.service" {
                        assert!(
                            line.get(*key).is_some(),
                            "{preset:?}: the preset's {key}: {line}"
                        );
                    }
                } else {
                    assert_eq!(line[*key], value, "{preset:?}: {line}");
                    assert!(line.get(&renamed).is_none(), "{preset:?}: {line}");
                }
            }
        }
    }
}

#[test]
fn outside_any_span_there_are_no_id_keys() {
    for (preset, _) in PRESET_KEYS {
        let h = Harness::with(Sampler::AlwaysOn, |l| {
            l.with_preset(preset).with_gcp_project_id("p")
        });
        h.run(|| tracing::info!("outside"));
        let lines = h.lines();
        let line = line_with(&lines, "outside");
        for key in ID_KEYS
            .iter()
            .chain(&["trace_id", "span_id", "trace_flags", "span_name"])
        {
            assert!(line.get(*key).is_none(), "{preset:?}: {key} in {line}");
        }
        if preset == Preset::Datadog {
            assert_eq!(line["dd.service"], "svc", "{line}");
        } else {
            assert!(line.get("dd.service").is_none(), "{line}");
        }
    }
}

#[test]
fn keys_a_preset_leaves_out_are_not_reserved() {
    // Without DD_ENV / DD_VERSION the Datadog preset writes no `dd.env` / `dd.version`, and
    // without a project id the GCP preset writes no trace key: a user's own field of that name
    // (a Datadog user tagging by hand) keeps its name.
    let dd_unset = ["DD_ENV", "DD_VERSION"]
        .iter()
        .all(|v| std::env::var(v).map_or(true, |s| s.is_empty()));
    if dd_unset {
        let h = harness(Preset::Datadog);
        h.run(|| tracing::info!(dd.env = "staging", "tagged by hand"));
        let lines = h.lines();
        assert_eq!(line_with(&lines, "tagged by hand")["dd.env"], "staging");
    } else {
        eprintln!("note: DD_ENV or DD_VERSION is set here; the Datadog half is not checked");
    }
    if std::env::var("GOOGLE_CLOUD_PROJECT").map_or(true, |s| s.is_empty()) {
        let h = harness(Preset::Gcp);
        h.run(|| emit(&[(GCP_TRACE, "mine")], "gcp without project"));
        let lines = h.lines();
        let line = line_with(&lines, "gcp without project");
        assert_eq!(line[GCP_TRACE], "mine");
        assert!(line.get(format!("fields.{GCP_TRACE}")).is_none());
    }
}
