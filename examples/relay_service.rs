//! A Rust service between two others: `GET /relay` calls the URL in `RELAY_DOWNSTREAM` and answers
//! with its body. Used by the interoperability test, where a Python FastAPI service calls it and
//! it calls a second Python endpoint, all in one trace.
//!
//! It binds 127.0.0.1 on a free port and prints `LISTENING <port>` on stderr (stdout carries the
//! JSON lines); it stops, flushing its telemetry, when its stdin closes.
//!
//! Run: `RELAY_DOWNSTREAM=http://127.0.0.1:8000/end cargo run --example relay_service --features axum,reqwest`

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use tracing::info;
use tracing_correlate::client::TracingMiddleware;
use tracing_correlate::server::TraceLayer;

type Downstream = (reqwest_middleware::ClientWithMiddleware, String);

fn main() {
    let _guard = tracing_correlate::init("rust-relay");
    let downstream =
        std::env::var("RELAY_DOWNSTREAM").expect("RELAY_DOWNSTREAM names the next hop");
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    runtime.block_on(async {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::default())
            .build();
        let app = Router::new()
            .route("/relay", get(relay))
            .with_state((client, downstream))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
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

// No `#[instrument]`: the client span is the server span's child.
async fn relay(State((client, downstream)): State<Downstream>) -> String {
    info!(downstream = %downstream, "relaying");
    match client.get(&downstream).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(err) => {
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                "relay failed"
            );
            "failed".to_owned()
        }
    }
}
