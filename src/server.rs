//! Server middleware (feature `tower`): one server span per request, continuing the caller's
//! trace, with the HTTP semantic-convention attributes.
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{routing::get, Router};
//!
//! let app: Router = Router::new()
//!     .route("/orders/{id}", get(|| async { "ok" }))
//!     .layer(tracing_correlate::server::TraceLayer::new());
//! # }
//! ```
//!
//! Each request gets a span named `{METHOD} {route}` (`{METHOD}` when the route is unknown), kind
//! server, with `http.request.method`, `url.path`, `url.scheme`, `http.route`,
//! `http.response.status_code`, `server.address`, `client.address` and `user_agent.original`. Its
//! parent is the trace context of the request's headers (read with the global propagator). That
//! context is also made current while the request is handled, so when a log filter disables the
//! server span, the handler's own spans still join the caller's trace: no filter can make the
//! request lose its remote parent. A 5xx response or an error from the service marks the span as
//! an error. Health probes are not traced ([`DEFAULT_EXCLUDED_PATHS`]).
//!
//! With feature `axum`, `http.route` is axum's matched route (`/orders/{id}`), and `client.address`
//! falls back to `ConnectInfo<SocketAddr>` when there is no `X-Forwarded-For`.
//!
//! Request headers are recorded only from an allow-list ([`TraceLayer::with_request_headers`],
//! empty by default), as the OpenTelemetry span attributes `http.request.header.<name>` (lowercase
//! name, an array of its values). A header whose name holds a secret (`authorization`, `cookie`,
//! `x-api-key`, … by the rules of [`DEFAULT_REDACTED_FIELDS`](crate::DEFAULT_REDACTED_FIELDS)) is
//! recorded as `"[REDACTED]"`, even when allowed: allowing it says the header's presence matters,
//! never its value.
//!
//! # Panics
//!
//! A panic of the inner service, in its `call` or while its future is polled, is caught (as
//! `tower-http`'s `CatchPanic` catches it) and answered `500 Internal Server Error` with an empty
//! body; [`TraceLayer::with_catch_panic`] turns this off. The server span gets, as for any
//! unhandled error:
//!
//! - an `exception` event: `exception.type` `panic`, `exception.message` the panic's message
//!   (`Box<dyn Any>` for a payload that is not a string), and, when the init's panic hook saw the
//!   panic, `location` (`file:line:column`) and `exception.stacktrace` (when backtraces are on);
//! - the status `Error` described by the message, `error.type` `panic` (the request failed before
//!   a status was sent: the conventions then name the error, not the code) and
//!   `http.response.status_code` 500, the code the client gets.
//!
//! The panic is logged once, with the request's trace id:
//!
//! - With the init ([`init`](crate::init())), its panic hook has already written the panic's ERROR
//!   line, with its location, on the span current when the handler panicked (one of the handler's
//!   spans, else the server span), which it marks as an error: the middleware writes no second
//!   line, and gives the server span its exception without one. When a filter drops the hook's
//!   line (its target is `tracing_correlate::init::panic`), the middleware writes one, as below.
//! - Without it (layers on a subscriber of the service's own), the middleware writes the line: an
//!   ERROR event `request handler panicked` on the server span, carrying the exception. A caught
//!   panic brings its payload only, so the line and the span's event have no `location`; with
//!   backtraces on, their stack trace is where the middleware logged, not where the handler
//!   panicked. A panic hook of the service's own that logs makes a second line.
//!
//! Requests of [excluded paths](TraceLayer::with_excluded_paths) pass through untouched: their
//! panics are not caught.
//!
//! # The access line
//!
//! With [`TraceLayer::with_access_line`], each traced request writes one more event when its
//! response is ready (the response head; a streamed body is not waited for): an INFO event
//! `request finished` of target [`ACCESS_TARGET`] (`tracing_correlate::access`), on the server
//! span, so its line carries the request's `trace_id` and `span_id`:
//!
//! | field | value |
//! |---|---|
//! | `http.request.method` | the request's method |
//! | `http.route` | the matched route (`/orders/{id}`), when known (feature `axum`) |
//! | `url.path` | the request's path, without the query |
//! | `http.response.status_code` | the status sent (an integer); absent when the service failed without a response |
//! | `duration_ms` | from the middleware's `call` to the response head, in milliseconds (microsecond resolution) |
//!
//! The line also carries the server span's fields (`client.address`, `user_agent.original`, ...),
//! as every line of the span does. It is INFO whatever the status: it records a response, not a
//! failure. A failure has its own line, once (the panic's ERROR line, the service's `request
//! failed`), and a 5xx answer marks the server span as an error; an access line at ERROR would
//! count a failure twice (see [counting failures](crate::JsonLayer#counting-failures)). A
//! caught panic gets its access line too, with the 500 it was answered. A filter silences access
//! lines alone with `tracing_correlate::access=off`.
//!
//! # Response bodies
//!
//! The middleware needs to make a response body of its own for the panic's answer, so the inner
//! service's body type must implement `Default` (an empty body), whether panics are caught or
//! not. Most do: axum's and tonic's `Body`, `http-body-util`'s `Full`, `Empty`, `BoxBody` and
//! `UnsyncBoxBody`, `String`, `Vec<u8>` and `Bytes`. One that does not (hyper's `Incoming`, as a
//! proxy forwards it) can be boxed between this layer and the service: map each response with
//! `|r| r.map(http_body_util::BodyExt::boxed_unsync)` (or `axum::body::Body::new`), e.g. with
//! tower's `ServiceBuilder::map_response` after `.layer(TraceLayer::new())`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::KeyValue;
use tracing::field::Empty;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::line::output::payload_message;
use crate::panic_note;
use crate::redact::{Redaction, REDACTED};

/// The `exception.type` and `error.type` of a caught panic, as the init's hook names it.
const PANIC: &str = "panic";

/// The target of the [access line](self#the-access-line), so that a filter can keep or silence it
/// alone.
pub const ACCESS_TARGET: &str = "tracing_correlate::access";

/// Paths the middleware does not trace unless told otherwise: the usual health probes.
pub const DEFAULT_EXCLUDED_PATHS: [&str; 6] = [
    "/health", "/healthz", "/live", "/livez", "/ready", "/readyz",
];

/// The `tower::Layer` of the server middleware; see [the module docs](self).
#[derive(Clone, Debug)]
pub struct TraceLayer {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    excluded: Vec<String>,
    response_trace_context: bool,
    /// The allow-list: `(lowercase header name, its attribute key)`.
    request_headers: Vec<(http::HeaderName, opentelemetry::Key)>,
    redaction: Redaction,
    catch_panic: bool,
    access_line: bool,
}

impl Default for TraceLayer {
    fn default() -> Self {
        TraceLayer::new()
    }
}

impl TraceLayer {
    /// The middleware with the default settings.
    pub fn new() -> Self {
        TraceLayer {
            config: Arc::new(Config {
                excluded: DEFAULT_EXCLUDED_PATHS
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect(),
                response_trace_context: false,
                request_headers: Vec::new(),
                redaction: Redaction::default(),
                catch_panic: true,
                access_line: false,
            }),
        }
    }

    /// Paths whose requests are not traced (matched exactly).
    ///
    /// By default, [`DEFAULT_EXCLUDED_PATHS`].
    pub fn with_excluded_paths<I>(self, paths: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.map_config(|c| c.excluded = paths.into_iter().map(Into::into).collect())
    }

    /// Adds the W3C `traceresponse` header (`00-<trace id>-<span id>-<flags>`) to responses, so a
    /// caller or a support desk can quote the trace of a request.
    ///
    /// By default, off.
    pub fn with_response_trace_context(self, on: bool) -> Self {
        self.map_config(|c| c.response_trace_context = on)
    }

    /// Records the recorded request headers that `redaction` calls secret as `"[REDACTED]"`:
    /// give it the value the layers have, so a header is redacted wherever a field of its name is.
    ///
    /// By default, [`Redaction::default()`](crate::Redaction).
    pub fn with_redaction(self, redaction: Redaction) -> Self {
        self.map_config(|c| c.redaction = redaction)
    }

    /// Records these request headers (names matched case-insensitively) as the span attributes
    /// `http.request.header.<name>`, each an array of the header's values; no other header is
    /// recorded. Secret-named headers are recorded as `"[REDACTED]"` (see [the module
    /// docs](self)). A name that is not a valid HTTP header name is skipped, with a warning.
    ///
    /// By default, none.
    ///
    /// ```
    /// let layer = tracing_correlate::server::TraceLayer::new()
    ///     .with_request_headers(["x-request-id", "content-type"]);
    /// # drop(layer);
    /// ```
    pub fn with_request_headers<I>(self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut headers = Vec::new();
        for name in names {
            let name = name.as_ref();
            match http::HeaderName::from_bytes(name.as_bytes()) {
                Ok(header) => {
                    let key = format!("http.request.header.{}", header.as_str());
                    headers.push((header, opentelemetry::Key::from(key)));
                }
                Err(_) => tracing::warn!(
                    target: "tracing_correlate",
                    header = name,
                    "not a valid HTTP header name; it is not recorded"
                ),
            }
        }
        self.map_config(|c| c.request_headers = headers)
    }

    /// Catches a panic of the inner service, in its `call` or while its future is polled, and
    /// answers `500 Internal Server Error` with an empty body (`ResBody::default()`), the
    /// `traceresponse` header when [`with_response_trace_context`](Self::with_response_trace_context)
    /// is on. The server span gets the exception (`exception.type` `panic`, the panic's message,
    /// its location when the init's hook saw it), the status `Error` described by the message,
    /// `error.type` `panic` and `http.response.status_code` 500; the panic is logged once (see
    /// [the module docs](self#panics)). Off, a panic unwinds through the middleware as through
    /// any future: with hyper, the connection is dropped without an answer, and the server span
    /// ends with nothing recorded by the middleware (the init's hook still logs the panic on the
    /// span that was current).
    ///
    /// By default, on.
    pub fn with_catch_panic(self, on: bool) -> Self {
        self.map_config(|c| c.catch_panic = on)
    }

    /// Writes one INFO event per response, the *access line*: method, route, path, status and
    /// duration, on the server span (so with the request's ids), of target [`ACCESS_TARGET`]; see
    /// [the module docs](self#the-access-line). Requests of excluded paths have none.
    ///
    /// By default, off: the server span holds the same facts, and a service exporting its spans
    /// may not want a line per request.
    ///
    /// ```
    /// let layer = tracing_correlate::server::TraceLayer::new().with_access_line(true);
    /// # drop(layer);
    /// ```
    pub fn with_access_line(self, on: bool) -> Self {
        self.map_config(|c| c.access_line = on)
    }

    fn map_config(self, f: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.config).clone();
        f(&mut config);
        TraceLayer {
            config: Arc::new(config),
        }
    }
}

impl<S> tower::Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`TraceLayer`] wraps around an HTTP service.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    config: Arc<Config>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for TraceService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: fmt::Display + Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        if self
            .config
            .excluded
            .iter()
            .any(|p| p == request.uri().path())
        {
            return Box::pin(self.inner.call(request));
        }
        let access = self.config.access_line.then(|| Access::of(&request));
        let remote = crate::propagation::extract(request.headers());
        let span = request_span(&request);
        let _ = span.set_parent(remote.clone());
        record_request_headers(&span, request.headers(), &self.config);
        let catch_panic = self.config.catch_panic;
        let called = {
            let _entered = span.enter();
            if catch_panic {
                let mark = panic_note::mark();
                // As tower-http's `CatchPanic` does: the service is used again after a panic of its
                // `call`, whatever state the panic left it in.
                std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
                    .map_err(|payload| Caught::new(payload, mark))
            } else {
                Ok(self.inner.call(request))
            }
        };
        let response_trace_context = self.config.response_trace_context;
        Box::pin(async move {
            let outcome = match called {
                Ok(future) if catch_panic => {
                    catching(future)
                        .instrument(span.clone())
                        .with_context(remote)
                        .await
                }
                Ok(future) => Ok(future.instrument(span.clone()).with_context(remote).await),
                Err(caught) => Err(caught),
            };
            match outcome {
                Ok(Ok(mut response)) => {
                    let status = response.status();
                    span.record("http.response.status_code", status.as_u16());
                    if status.is_server_error() {
                        span.record("otel.status_code", "error");
                        span.record("otel.status_description", status.to_string());
                        span.record("error.type", status.as_str());
                    }
                    if response_trace_context {
                        add_traceresponse(&span, response.headers_mut());
                    }
                    if let Some(access) = access {
                        access.write(&span, Some(status));
                    }
                    Ok(response)
                }
                Ok(Err(err)) => {
                    tracing::error!(parent: &span, error = %err, "request failed");
                    if let Some(access) = access {
                        access.write(&span, None);
                    }
                    Err(err)
                }
                Err(caught) => {
                    record_panic(&span, caught);
                    let mut response = http::Response::new(ResBody::default());
                    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    if response_trace_context {
                        add_traceresponse(&span, response.headers_mut());
                    }
                    if let Some(access) = access {
                        access.write(&span, Some(response.status()));
                    }
                    Ok(response)
                }
            }
        })
    }
}

/// What the access line says of a request, taken when the middleware is called.
struct Access {
    method: http::Method,
    route: Option<String>,
    path: String,
    start: Instant,
}

impl Access {
    fn of<B>(request: &http::Request<B>) -> Access {
        Access {
            method: request.method().clone(),
            route: route(request),
            path: request.uri().path().to_owned(),
            start: Instant::now(),
        }
    }

    /// Writes the access line on the server span; `status` is `None` when the service failed
    /// without a response.
    fn write(self, span: &tracing::Span, status: Option<http::StatusCode>) {
        // Microseconds, then milliseconds: three decimals, as `duration_ms` of a span line.
        let duration_ms = self.start.elapsed().as_micros() as f64 / 1000.0;
        tracing::event!(
            target: ACCESS_TARGET,
            parent: span,
            tracing::Level::INFO,
            http.request.method = self.method.as_str(),
            http.route = self.route.as_deref(),
            url.path = self.path.as_str(),
            http.response.status_code = status.map(|s| s.as_u16()),
            duration_ms,
            "request finished"
        );
    }
}

/// A panic caught in the inner service, with what the init's hook noted of it.
struct Caught {
    payload: Box<dyn Any + Send>,
    note: Option<panic_note::Note>,
}

impl Caught {
    /// The panic `payload` was caught; the hook's note is its own if the hook ran after `mark`.
    fn new(payload: Box<dyn Any + Send>, mark: u64) -> Caught {
        Caught {
            payload,
            note: panic_note::since(mark),
        }
    }
}

/// Polls `future` to its end, catching a panic of any poll.
///
/// `futures_util::FutureExt::catch_unwind` does the same with one `catch_unwind` per poll, as
/// here; it is not used because the hook's note must be marked before each poll (another task
/// of the thread may panic between two polls), which that combinator gives no place for.
async fn catching<F: Future>(future: F) -> Result<F::Output, Caught> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        let mark = panic_note::mark();
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(Caught::new(payload, mark))),
        }
    })
    .await
}

/// Records a caught panic on the server span, and logs it unless the init's hook has.
///
/// Without the hook's note, an ERROR event on the server span does all of it through the layers:
/// the line, the span's `exception` event, and (when the span closes) its status and `error.type`.
/// With it, the hook's line is the panic's line; its exception went to the span that was current
/// when the handler panicked: when that is the server span, nothing is left to record; when it is
/// one of the handler's spans, the server span gets its own `exception` event and status here,
/// without a second line.
fn record_panic(span: &tracing::Span, caught: Caught) {
    let message = payload_message(&*caught.payload);
    span.record("http.response.status_code", 500_u16);
    match caught.note {
        None => tracing::error!(
            parent: span,
            exception.type = PANIC,
            exception.message = message,
            "request handler panicked"
        ),
        Some(note) if note.span.is_some() && note.span == span.id() => {}
        Some(note) => {
            let mut attributes = vec![
                KeyValue::new("exception.type", PANIC),
                KeyValue::new("exception.message", message.to_owned()),
            ];
            if let Some(stacktrace) = note.stacktrace {
                attributes.push(KeyValue::new("exception.stacktrace", stacktrace));
            }
            if let Some(location) = note.location {
                attributes.push(KeyValue::new("location", location));
            }
            span.add_event("exception", attributes);
            span.record("otel.status_code", "error");
            span.record("otel.status_description", message);
            span.record("error.type", PANIC);
        }
    }
}

/// The server span of a request, with the attributes known before the response.
fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let method = request.method().as_str();
    let route = route(request);
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let header = |name: http::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let server_address = request
        .uri()
        .host()
        .map(str::to_owned)
        .or_else(|| header(http::header::HOST).map(|h| strip_port(&h).to_owned()));
    tracing::info_span!(
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = %method,
        url.path = %request.uri().path(),
        url.scheme = request.uri().scheme_str().unwrap_or("http"),
        http.route = route.as_deref(),
        http.response.status_code = Empty,
        server.address = server_address.as_deref(),
        client.address = client_address(request).as_deref(),
        user_agent.original = header(http::header::USER_AGENT).as_deref(),
        otel.status_code = Empty,
        otel.status_description = Empty,
        error.type = Empty,
    )
}

/// The allow-listed headers as span attributes, secret ones redacted.
fn record_request_headers(span: &tracing::Span, headers: &http::HeaderMap, config: &Config) {
    for (name, key) in &config.request_headers {
        let mut values = headers.get_all(name).iter().peekable();
        if values.peek().is_none() {
            continue;
        }
        let values: Vec<opentelemetry::StringValue> = if config.redaction.is_secret(key.as_str()) {
            values.map(|_| REDACTED.into()).collect()
        } else {
            values
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned().into())
                .collect()
        };
        span.set_attribute(
            key.clone(),
            opentelemetry::Value::Array(opentelemetry::Array::String(values)),
        );
    }
}

/// `host:port` or `[v6]:port` without the port.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    }
}

/// The client as the request says: the first `X-Forwarded-For` entry, else (with axum) the peer.
fn client_address<B>(request: &http::Request<B>) -> Option<String> {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    #[cfg(feature = "axum")]
    let forwarded = forwarded.or_else(|| {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
    });
    forwarded
}

fn route<B>(request: &http::Request<B>) -> Option<String> {
    #[cfg(feature = "axum")]
    {
        request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
    }
    #[cfg(not(feature = "axum"))]
    {
        let _ = request;
        None
    }
}

fn add_traceresponse(span: &tracing::Span, headers: &mut http::HeaderMap) {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    if !sc.is_valid() {
        return;
    }
    let value = format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8() & 0x03
    );
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        headers.insert("traceresponse", value);
    }
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("example.com"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
    }
}
