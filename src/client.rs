//! Client middleware (feature `reqwest`, on `reqwest-middleware`): one client span per request,
//! its trace context injected into the request, the response status and errors recorded.
//!
//! ```
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(tracing_correlate::client::TracingMiddleware::default())
//!     .build();
//! # drop(client);
//! ```
//!
//! The span is named `{METHOD}`, kind client, with `http.request.method`, `server.address`,
//! `server.port`, `url.full` (without credentials) and `http.response.status_code`. Its trace
//! context goes into the request's headers through the global propagator, so the server's span
//! becomes its child. A 4xx or 5xx response, or a failed request, marks the span as an error; a
//! failed request also logs an ERROR line with its exception. For any other client,
//! [`inject_current`](crate::propagation::inject_current) does the injection.

use reqwest_middleware::{Middleware, Next};
use tracing::field::Empty;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The client middleware; see [the module docs](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingMiddleware {
    _private: (),
}

#[async_trait::async_trait]
impl Middleware for TracingMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let span = request_span(&request);
        crate::propagation::inject(&span.context(), request.headers_mut());
        let result = next.run(request, extensions).instrument(span.clone()).await;
        match &result {
            Ok(response) => {
                let status = response.status();
                span.record("http.response.status_code", status.as_u16());
                if status.is_client_error() || status.is_server_error() {
                    span.record("otel.status_code", "error");
                    span.record("otel.status_description", status.to_string());
                    span.record("error.type", status.as_str());
                }
            }
            Err(err) => {
                tracing::error!(
                    parent: &span,
                    error = err as &(dyn std::error::Error + 'static),
                    "request failed"
                );
            }
        }
        result
    }
}

fn request_span(request: &reqwest::Request) -> tracing::Span {
    let method = request.method().as_str();
    let url = request.url();
    let mut full = url.clone();
    // Credentials never go into telemetry.
    let _ = full.set_username("");
    let _ = full.set_password(None);
    tracing::info_span!(
        "HTTP client request",
        otel.name = %method,
        otel.kind = "client",
        http.request.method = %method,
        server.address = url.host_str(),
        server.port = url.port_or_known_default(),
        url.full = %full,
        http.response.status_code = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
        error.type = Empty,
    )
}
