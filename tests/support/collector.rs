//! Reading what the in-process OTLP receiver (`mock-collector`) got.

use mock_collector::ServerHandle;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

/// A span as the receiver got it, ids in lowercase hex (an empty parent id for a root).
///
/// The binaries that include this file read different fields (the init tests the resource, the
/// http tests the service and the kind), and the fields of one struct cannot be split between
/// files: hence the `allow`s on the fields that one of them never reads.
#[derive(Debug, Clone)]
pub struct Received {
    /// `service.name` of the resource.
    #[allow(dead_code)]
    pub service: String,
    pub name: String,
    /// The OTLP `SpanKind` number.
    #[allow(dead_code)]
    pub kind: i32,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// The resource attributes, string values as they are, others in their `Debug` form.
    #[allow(dead_code)]
    pub resource: Vec<(String, String)>,
    /// The span's attributes, each value as the receiver decoded it (its kind kept).
    #[allow(dead_code)]
    pub attributes: Vec<(String, Option<AnyValue>)>,
    /// The span's events: each one's name and attributes (their kinds kept).
    #[allow(dead_code)]
    pub events: Vec<(String, Attributes)>,
}

/// Attributes as the receiver decoded them: each key with its value, its kind kept.
pub type Attributes = Vec<(String, Option<AnyValue>)>;

fn attributes(kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Attributes {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().and_then(|v| v.value.clone()),
            )
        })
        .collect()
}

/// A log record as the receiver got it, ids in lowercase hex.
#[allow(dead_code)] // only the init tests receive log records
#[derive(Debug, Clone)]
pub struct ReceivedLog {
    pub severity_text: String,
    /// The body as text ([`text`]).
    pub body: String,
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Attributes,
}

/// Every log record the receiver got so far.
#[allow(dead_code)] // only the init tests receive log records
pub fn received_logs(rt: &tokio::runtime::Runtime, server: &ServerHandle) -> Vec<ReceivedLog> {
    rt.block_on(server.with_collector(|c| {
        c.logs()
            .iter()
            .map(|l| {
                let r = l.log_record();
                ReceivedLog {
                    severity_text: r.severity_text.clone(),
                    body: text(r.body.as_ref().and_then(|b| b.value.clone())),
                    trace_id: hex(&r.trace_id),
                    span_id: hex(&r.span_id),
                    attributes: attributes(&r.attributes),
                }
            })
            .collect()
    }))
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
                    attributes: attributes(&span.attributes),
                    events: span
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), attributes(&e.attributes)))
                        .collect(),
                }
            })
            .collect()
    }))
}
