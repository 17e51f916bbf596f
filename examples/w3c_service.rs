//! The test service of the W3C Trace Context test suite (`w3c/trace-context`, `test/`), built the
//! way a service built on this crate is: `tracing_correlate::init`, the server `TraceLayer`, the
//! client `TracingMiddleware`.
//!
//! The suite's harness POSTs a JSON list of `{"url": ..., "arguments": ...}` to `/test`; for each
//! entry the service POSTs `arguments` (as JSON) to `url`, from inside the request's span, so the
//! harness receives the trace context the service propagates.
//!
//! It binds 127.0.0.1 (port `W3C_SERVICE_PORT`, or a free one), prints `LISTENING <port>` on
//! stderr (stdout carries the JSON lines), and stops, flushing its telemetry, when its stdin
//! closes.
//!
//! Run it, then the suite in strict level 2:
//!
//! ```text
//! W3C_SERVICE_PORT=5000 cargo run --example w3c_service --features axum,reqwest
//! STRICT_LEVEL=2 SPEC_LEVEL=2 python test.py http://127.0.0.1:5000/test
//! ```

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use reqwest_middleware::ClientWithMiddleware;
use serde_json::Value;
use tracing_correlate::client::TracingMiddleware;
use tracing_correlate::server::TraceLayer;

fn main() {
    let _guard = tracing_correlate::init("w3c-service");
    let port: u16 = match std::env::var("W3C_SERVICE_PORT") {
        Ok(port) => port.parse().expect("W3C_SERVICE_PORT is a port number"),
        Err(_) => 0,
    };
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    runtime.block_on(async {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::default())
            .build();
        let app = Router::new()
            .route("/test", post(test))
            .with_state(client)
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        eprintln!("LISTENING {}", listener.local_addr().expect("addr").port());
        let stopped = async {
            let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
            .expect("serve");
    });
}

/// Calls each `url` of the list with its `arguments`, one after the other, inside the server span.
async fn test(State(client): State<ClientWithMiddleware>, body: Bytes) -> &'static str {
    let actions = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(actions)) => actions,
        Ok(_) | Err(_) => {
            tracing::warn!("the body is not a JSON list; nothing to call");
            return "ignored";
        }
    };
    for action in actions {
        let Some(url) = action["url"].as_str() else {
            tracing::warn!(%action, "an action without a url");
            continue;
        };
        let arguments = match &action["arguments"] {
            Value::Null => Value::Array(Vec::new()),
            arguments => arguments.clone(),
        };
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .body(arguments.to_string())
            .send()
            .await;
        if let Err(err) = sent {
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                url,
                "callback failed"
            );
        }
    }
    "done"
}
