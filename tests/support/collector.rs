//! Reading what the in-process OTLP receiver (`mock-collector`) got, and finding the example
//! binaries the end-to-end tests run.

use std::path::PathBuf;

use mock_collector::ServerHandle;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

/// The OTLP `SpanKind` numbers.
pub const SERVER: i32 = 2;
pub const CLIENT: i32 = 3;

/// A span as the receiver got it, ids in lowercase hex (an empty parent id for a root).
#[derive(Debug, Clone)]
pub struct Received {
    pub service: String,
    pub name: String,
    pub kind: i32,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// The resource attributes, string values as they are, others in their `Debug` form.
    pub resource: Vec<(String, String)>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP value as text: strings as they are, others in their `Debug` form.
pub fn text(value: Option<AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Every span the receiver got so far.
pub fn received(rt: &tokio::runtime::Runtime, server: &ServerHandle) -> Vec<Received> {
    rt.block_on(server.with_collector(|c| {
        c.spans()
            .iter()
            .map(|s| {
                let span = s.span();
                let resource: Vec<(String, String)> = s
                    .resource_attrs()
                    .iter()
                    .map(|kv| {
                        let value = kv.value.as_ref().and_then(|v| v.value.clone());
                        (kv.key.clone(), text(value))
                    })
                    .collect();
                Received {
                    service: resource
                        .iter()
                        .find(|(k, _)| k == "service.name")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                    name: span.name.clone(),
                    kind: span.kind,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    resource,
                }
            })
            .collect()
    }))
}

/// `target/<profile>`: a test binary is `target/<profile>/deps/<test>-<hash>`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(std::path::Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .to_owned()
}

/// An example's binary, which `cargo test --all-features` builds next to the tests.
pub fn example(name: &str) -> PathBuf {
    let path = profile_dir().join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests as CI does, `cargo test --all-features`, which builds it",
        path.display()
    );
    path
}
