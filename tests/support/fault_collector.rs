//! A fault collector: an OTLP receiver on 127.0.0.1 (port 0) that takes every trace export in full
//! and then answers it with one chosen fault, counting what it received, so a test can tell that
//! the exporter really reached it.
//!
//! It is a real HTTP server (axum on hyper, on a Tokio runtime of its own), serving
//!
//! - OTLP/HTTP, `POST /v1/traces` (protobuf or JSON): [`Fault::Answer`] (200 with an empty
//!   response, at once or after a delay: a healthy or a slow collector), [`Fault::Status`] (500,
//!   429 with or without `Retry-After`, at once or after a delay) or [`Fault::NeverAnswers`];
//! - OTLP/gRPC, `POST /opentelemetry.proto.collector.trace.v1.TraceService/Export`:
//!   [`Fault::Grpc`] (a trailers-only response with a `grpc-status`, e.g. `UNAVAILABLE`) or
//!   [`Fault::NeverAnswers`]. gRPC needs HTTP/2 without TLS: `axum::serve` serves it when
//!   `hyper-util`'s `http2` feature is on, which `tonic` (through the OTLP exporter) turns on in
//!   this build; a test that expects gRPC requests asserts that some arrived, so it would fail
//!   loudly if that changed. A gRPC success needs trailers after the message, which this server
//!   does not write: the other faults answer a gRPC export with `INTERNAL`.
//!
//! "Never answers" reads the whole request, counts it, and then holds it open without a
//! response until the client gives up or the collector is dropped.
//!
//! Spans are counted per request. An HTTP/JSON body is parsed with `serde_json`. A protobuf body
//! (HTTP, or a gRPC message after its 5-byte prefix) is walked by [`count_spans_protobuf`], which
//! reads only the three length-delimited levels down to the spans; it is written by hand because
//! `prost` is not a dependency of these tests (`opentelemetry-proto`'s generated types are, but
//! decoding them needs `prost::Message` in scope).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// The gRPC method of a trace export.
pub const GRPC_TRACE_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The gRPC method of a log export.
pub const GRPC_LOGS_EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// gRPC status codes used as faults.
pub const GRPC_RESOURCE_EXHAUSTED: u32 = 8;
pub const GRPC_INTERNAL: u32 = 13;
pub const GRPC_UNAVAILABLE: u32 = 14;

/// How the collector answers each export, after reading it in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 200 with an empty `ExportTraceServiceResponse`, after `delay` (zero: a healthy
    /// collector).
    Answer { delay: Duration },
    /// This HTTP status, with `Retry-After: <seconds>` when given, after `delay`.
    Status {
        code: u16,
        retry_after_secs: Option<u64>,
        delay: Duration,
    },
    /// A gRPC trailers-only response with this `grpc-status`.
    Grpc { code: u32 },
    /// No answer at all: the request is read, then held open.
    NeverAnswers,
}

impl Fault {
    pub const HEALTHY: Fault = Fault::Answer {
        delay: Duration::ZERO,
    };

    pub fn slow(delay: Duration) -> Fault {
        Fault::Answer { delay }
    }

    pub fn status(code: u16) -> Fault {
        Fault::Status {
            code,
            retry_after_secs: None,
            delay: Duration::ZERO,
        }
    }
}

/// What the collector received, and answered.
#[derive(Debug, Default)]
pub struct Counts {
    requests: AtomicU64,
    bytes: AtomicU64,
    spans: AtomicU64,
    /// The most spans one request carried.
    max_spans_per_request: AtomicU64,
    /// Requests whose body could not be read as OTLP traces.
    undecodable: AtomicU64,
    /// Requests answered 200 (after their delay), and the spans they carried.
    answered_ok: AtomicU64,
    answered_ok_spans: AtomicU64,
}

/// A snapshot of [`Counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    pub requests: u64,
    pub bytes: u64,
    pub spans: u64,
    pub max_spans_per_request: u64,
    pub undecodable: u64,
    pub answered_ok: u64,
    pub answered_ok_spans: u64,
}

struct Shared {
    fault: Fault,
    counts: Counts,
    /// The path and headers (HTTP) or metadata (gRPC) of every export request, traces and logs,
    /// in order.
    headers: std::sync::Mutex<Vec<(String, HeaderMap)>>,
}

/// A running fault collector; dropping it stops it (held requests are dropped with it).
pub struct FaultCollector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultCollector {
    /// Starts a collector answering every export with `fault`, on 127.0.0.1 and a free port.
    pub fn start(fault: Fault) -> FaultCollector {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fault-collector")
            .enable_all()
            .build()
            .expect("the fault collector's runtime");
        let shared = Arc::new(Shared {
            fault,
            counts: Counts::default(),
            headers: std::sync::Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/traces", post(http_export))
            .route(GRPC_TRACE_EXPORT, post(grpc_export))
            .route("/v1/logs", post(logs_export))
            .route(GRPC_LOGS_EXPORT, post(logs_export))
            .with_state(shared.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the fault collector binds 127.0.0.1");
        let addr = listener.local_addr().expect("a bound address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FaultCollector {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The path and headers (HTTP) or metadata (gRPC) of every export request so far, traces
    /// and logs.
    pub fn request_headers(&self) -> Vec<(String, HeaderMap)> {
        self.shared
            .headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn received(&self) -> Received {
        let c = &self.shared.counts;
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Received {
            requests: get(&c.requests),
            bytes: get(&c.bytes),
            spans: get(&c.spans),
            max_spans_per_request: get(&c.max_spans_per_request),
            undecodable: get(&c.undecodable),
            answered_ok: get(&c.answered_ok),
            answered_ok_spans: get(&c.answered_ok_spans),
        }
    }

    /// What was received once nothing more has arrived for `quiet` (at most `limit`): a client
    /// that has just exited may have requests still in the server's socket buffers.
    pub fn received_when_quiet(&self, quiet: Duration, limit: Duration) -> Received {
        let start = std::time::Instant::now();
        let mut last = self.received();
        loop {
            std::thread::sleep(quiet);
            let now = self.received();
            if now == last || start.elapsed() >= limit {
                return now;
            }
            last = now;
        }
    }
}

impl Drop for FaultCollector {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Shared {
    fn record_headers(&self, uri: &Uri, headers: &HeaderMap) {
        self.headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((uri.path().to_owned(), headers.clone()));
    }

    /// Counts one request; returns its spans (0 when undecodable).
    fn count(&self, body: &[u8], spans: Option<u64>) -> u64 {
        let c = &self.counts;
        c.requests.fetch_add(1, Ordering::SeqCst);
        c.bytes.fetch_add(body.len() as u64, Ordering::SeqCst);
        match spans {
            Some(n) => {
                c.spans.fetch_add(n, Ordering::SeqCst);
                c.max_spans_per_request.fetch_max(n, Ordering::SeqCst);
                n
            }
            None => {
                c.undecodable.fetch_add(1, Ordering::SeqCst);
                0
            }
        }
    }
}

async fn http_export(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record_headers(&uri, &headers);
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let spans = if json {
        count_spans_json(&body)
    } else {
        count_spans_protobuf(&body)
    };
    let n = shared.count(&body, spans);
    match shared.fault {
        Fault::Answer { delay } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let c = &shared.counts;
            c.answered_ok.fetch_add(1, Ordering::SeqCst);
            c.answered_ok_spans.fetch_add(n, Ordering::SeqCst);
            let (content_type, body): (&str, &[u8]) = if json {
                ("application/json", b"{}")
            } else {
                // An empty protobuf message: no partial success to report.
                ("application/x-protobuf", b"")
            };
            ([("content-type", content_type)], body.to_vec()).into_response()
        }
        Fault::Status {
            code,
            retry_after_secs,
            delay,
        } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let status = StatusCode::from_u16(code).expect("a valid status code");
            let mut response = (status, "fault collector").into_response();
            if let Some(secs) = retry_after_secs {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            response
        }
        Fault::NeverAnswers => std::future::pending().await,
        Fault::Grpc { .. } => (StatusCode::NOT_FOUND, "gRPC faults only").into_response(),
    }
}

/// A log export (HTTP or gRPC): its headers are recorded, and it is answered at once (an empty
/// HTTP 200, or a gRPC `INTERNAL`, as for traces).
async fn logs_export(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record_headers(&uri, &headers);
    let grpc = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if grpc {
        (
            StatusCode::OK,
            [
                ("content-type", "application/grpc".to_owned()),
                ("grpc-status", GRPC_INTERNAL.to_string()),
            ],
        )
            .into_response()
    } else {
        StatusCode::OK.into_response()
    }
}

async fn grpc_export(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record_headers(&uri, &headers);
    // A gRPC message: a compressed flag (0: not compressed), a 4-byte big-endian length, the
    // protobuf message.
    let spans = match body.as_ref() {
        [0, len @ ..] if len.len() >= 4 => {
            let n = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            len[4..]
                .get(..n)
                .filter(|m| m.len() == len.len() - 4)
                .and_then(count_spans_protobuf)
        }
        _ => None,
    };
    shared.count(&body, spans);
    let code = match shared.fault {
        Fault::NeverAnswers => return std::future::pending().await,
        Fault::Grpc { code } => code,
        _ => GRPC_INTERNAL,
    };
    (
        StatusCode::OK,
        [
            ("content-type", "application/grpc".to_owned()),
            ("grpc-status", code.to_string()),
            ("grpc-message", "fault%20collector".to_owned()),
        ],
    )
        .into_response()
}

/// The spans of an OTLP/JSON `ExportTraceServiceRequest`.
pub fn count_spans_json(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut n = 0;
    for resource in value.get("resourceSpans")?.as_array()? {
        for scope in resource
            .get("scopeSpans")
            .and_then(|s| s.as_array())
            .into_iter()
            .flatten()
        {
            n += scope
                .get("spans")
                .and_then(|s| s.as_array())
                .map_or(0, Vec::len) as u64;
        }
    }
    Some(n)
}

/// The spans of a protobuf `ExportTraceServiceRequest`: `resource_spans` (field 1) hold
/// `scope_spans` (field 2), which hold `spans` (field 2), each length-delimited. `None` when the
/// bytes are not well-formed protobuf.
pub fn count_spans_protobuf(body: &[u8]) -> Option<u64> {
    let mut n = 0;
    for (field, resource) in fields(body)? {
        if field != 1 {
            continue;
        }
        for (field, scope) in fields(resource?)? {
            if field != 2 {
                continue;
            }
            for (field, span) in fields(scope?)? {
                if field == 2 {
                    span?;
                    n += 1;
                }
            }
        }
    }
    Some(n)
}

/// The fields of one protobuf message: number and, for length-delimited ones, the payload.
/// `None` when the message is malformed.
#[allow(clippy::type_complexity)]
fn fields(mut buf: &[u8]) -> Option<Vec<(u64, Option<&[u8]>)>> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = buf.split_first()?;
            *buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (field, wire) = (key >> 3, key & 7);
        let payload = match wire {
            0 => {
                varint(&mut buf)?;
                None
            }
            1 | 5 => {
                let size = if wire == 1 { 8 } else { 4 };
                buf = buf.get(size..)?;
                None
            }
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                let payload = buf.get(..len)?;
                buf = &buf[len..];
                Some(payload)
            }
            _ => return None,
        };
        out.push((field, payload));
    }
    Some(out)
}
