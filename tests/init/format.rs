//! The init's output format: `TRACING_CORRELATE_FORMAT=pretty` renders each line for a person,
//! as `tracing-correlate pretty` does; `json` (the default) and a bad value keep the JSON.

use crate::support;

pub const CHILD_CASES: &[support::child::Case] = &[("format", format)];

fn format() {
    let _guard = tracing_correlate::builder("checkout")
        .with_stacktraces(tracing_correlate::Stacktraces::Off)
        .try_init()
        .unwrap();
    let span = tracing::info_span!("place_order", order_id = 42);
    let _e = span.enter();
    tracing::info!(sku = "sku-1", "order received");
    let err = std::io::Error::other("out of stock");
    tracing_correlate::record_exception(&err);
}

/// The child's stdout, with `TRACING_CORRELATE_FORMAT` set to `value` (unset for `None`).
fn stdout_with(value: Option<&str>) -> String {
    let mut cmd = support::child::command("format");
    // Not a terminal here: no colours.
    cmd.env("OTEL_TRACES_EXPORTER", "none");
    if let Some(value) = value {
        cmd.env("TRACING_CORRELATE_FORMAT", value);
    }
    let out = support::child::output(&mut cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pretty_renders_every_line_of_the_init_with_its_ids() {
    let out = stdout_with(Some("PRETTY"));
    let ours: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("running") && !l.is_empty())
        .collect();
    assert!(
        ours.iter().all(|l| !l.starts_with('{')),
        "no JSON line: {out}"
    );
    let line = ours
        .iter()
        .find(|l| l.contains("order received"))
        .unwrap_or_else(|| panic!("{out}"));
    // `15:10:37.614 INFO  checkout <target>: order received order_id=42 sku=sku-1  [trace span]`
    assert_eq!(line.as_bytes()[2], b':', "{line}");
    assert!(line[13..].starts_with("INFO  checkout "), "{line}");
    assert!(
        line.contains(": order received order_id=42 sku=sku-1  ["),
        "{line}"
    );
    let ids = &line[line.rfind('[').unwrap() + 1..line.len() - 1];
    let (trace, span) = ids.split_once(' ').unwrap();
    assert_eq!((trace.len(), span.len()), (8, 8), "{line}");
    // The exception on its own indented line, under its ERROR line with the same ids.
    let error = ours.iter().position(|l| l.contains("ERROR")).unwrap();
    assert!(
        ours[error].ends_with(&format!("[{trace} {span}]")),
        "{}",
        ours[error]
    );
    assert_eq!(ours[error + 1], "    std::io::error::Error: out of stock");
    assert!(ours.iter().any(|l| l.contains("telemetry shut down")));
}

#[test]
fn json_is_the_default_and_a_bad_value_keeps_it_with_a_warning() {
    for value in [None, Some("json"), Some("fancy")] {
        let out = stdout_with(value);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            lines.iter().any(|l| l["message"] == "order received"),
            "{value:?}: {out}"
        );
        let warnings: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["level"] == "WARN" && l["target"] == "tracing_correlate")
            .collect();
        if value == Some("fancy") {
            assert_eq!(warnings.len(), 1, "{out}");
            assert_eq!(
                warnings[0]["message"],
                "TRACING_CORRELATE_FORMAT=\"fancy\": not json or pretty; using the builder's setting"
            );
        } else {
            assert!(warnings.is_empty(), "{out}");
        }
    }
}
