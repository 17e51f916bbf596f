//! Seed 004's pair in Rust: a caller's `/dispatch` calls a server's `/command`. One trace, three
//! spans (caller server span, caller client span, server server span), and the JSON lines of both
//! services carry its trace id.
//!
//! The example starts both on loopback: the command server as a second process (this program run
//! with `--command-server`, so each service has its own name and telemetry), the caller in this
//! one. It sends one request to `/dispatch`, prints the response on stderr, and stops both.
//!
//! Run: `cargo run --example two_services --features axum,reqwest`
//! With a collector: `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run ...`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use tracing::info;
use tracing_correlate::client::TracingMiddleware;
use tracing_correlate::server::TraceLayer;

fn main() {
    if std::env::args().any(|a| a == "--command-server") {
        command_server();
    } else {
        caller();
    }
}

/// The downstream service: `/command` answers, logging inside the caller's trace.
fn command_server() {
    let _guard = tracing_correlate::init("command");
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    runtime.block_on(async {
        let app = Router::new()
            .route("/command", get(run_command))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        // The parent reads the port from stderr; stdout carries the JSON lines.
        eprintln!("LISTENING {}", listener.local_addr().expect("addr").port());
        // The parent closes our stdin to stop us; the guard then flushes as `main` returns.
        let stopped = async {
            let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
            .expect("serve");
    });
}

// No `#[instrument]`: the line belongs to the request's server span.
async fn run_command() -> &'static str {
    info!(command = "restart-worker", "command executed");
    "done"
}

/// The calling service: `/dispatch` calls the command server through the client middleware.
fn caller() {
    let _guard = tracing_correlate::init("caller");
    let mut server = Command::new(std::env::current_exe().expect("own path"))
        .arg("--command-server")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command server starts");
    let port = read_port(server.stderr.take().expect("stderr"));

    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let answer = runtime.block_on(async move {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::default())
            .build();
        let downstream = format!("http://127.0.0.1:{port}/command");
        let app = Router::new()
            .route("/dispatch", get(dispatch))
            .with_state((client, downstream))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        // A plain client, as an outside caller would be: the caller's server span is the root.
        reqwest::get(format!("http://{addr}/dispatch"))
            .await
            .expect("dispatch answers")
            .text()
            .await
            .expect("a body")
    });
    eprintln!("/dispatch answered: {answer}");

    drop(server.stdin.take()); // stops the command server
    let _ = server.wait();
}

type Downstream = (reqwest_middleware::ClientWithMiddleware, String);

// No `#[instrument]`: the client span is the server span's child, as in seed 004.
async fn dispatch(State((client, downstream)): State<Downstream>) -> String {
    info!("dispatching the command");
    match client.get(&downstream).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(err) => {
            tracing::error!(
                error = &err as &(dyn std::error::Error + 'static),
                "dispatch failed"
            );
            "failed".to_owned()
        }
    }
}

/// The port the command server prints as `LISTENING <port>`; its other stderr is passed on.
fn read_port(stderr: std::process::ChildStderr) -> u16 {
    let mut lines = BufReader::new(stderr).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("LISTENING ").and_then(|p| p.parse().ok()))
        .expect("the command server prints its port");
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| eprintln!("{l}")));
    port
}
