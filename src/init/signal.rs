//! The signal that asks a service to stop, as a future for a server's graceful shutdown.

/// Resolves when the process is asked to stop: `SIGTERM` (what Kubernetes, systemd and Docker
/// send) or `SIGINT` (Ctrl-C) on Unix, Ctrl-C elsewhere. It writes one line saying which signal
/// came (`shutdown signal received`, field `signal`).
///
/// Give it to the server so that a stop request ends `main` normally and the [`Guard`] is
/// dropped, delivering what is still queued:
///
/// ```no_run
/// # #[cfg(feature = "axum")]
/// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) {
/// let _guard = tracing_correlate::init("checkout");
/// axum::serve(listener, app)
///     .with_graceful_shutdown(tracing_correlate::shutdown_signal())
///     .await
///     .unwrap();
/// // `_guard` is dropped here: the last requests' spans are exported, and the shutdown line says so.
/// # }
/// ```
///
/// Without it, `SIGTERM`'s default action ends the process at once: no destructor runs, so the
/// guard never flushes, and every span and log record still queued (up to
/// `OTEL_BSP_SCHEDULE_DELAY`'s worth, 5 s by default) is lost without a line saying so.
///
/// Once it has resolved the signals stay caught: a second `SIGTERM` does not end the process,
/// the guard's shutdown timeout bounds what follows (and an orchestrator's `SIGKILL` after its
/// grace period still does). It needs a Tokio runtime with its drivers enabled
/// (`#[tokio::main]`, or `enable_all()`); where it cannot listen for the signals (polled outside
/// Tokio, or without the IO driver) it says so in a WARN line and never resolves, leaving the
/// signals' default action as it was.
///
/// [`Guard`]: crate::Guard
pub async fn shutdown_signal() {
    match received().await {
        Ok(signal) => tracing::info!(
            target: "tracing_correlate",
            signal,
            "shutdown signal received"
        ),
        Err(why) => {
            tracing::warn!(
                target: "tracing_correlate",
                "shutdown_signal() cannot listen for the stop signals ({why}): it never resolves, \
                 and a SIGTERM ends the process without flushing"
            );
            std::future::pending::<()>().await;
        }
    }
}

/// The name of the first stop signal received, or why none can be listened for.
async fn received() -> Result<&'static str, String> {
    // Tokio's signal functions panic outside a runtime.
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("no Tokio runtime".to_owned());
    }
    wait().await
}

#[cfg(unix)]
async fn wait() -> Result<&'static str, String> {
    use std::task::Poll;
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|e| format!("listening for {name}: {e}"))
    };
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
    // Whichever comes first (`tokio::select!` would need tokio's `macros` feature).
    std::future::poll_fn(|cx| {
        if terminate.poll_recv(cx).is_ready() {
            Poll::Ready(Ok("SIGTERM"))
        } else if interrupt.poll_recv(cx).is_ready() {
            Poll::Ready(Ok("SIGINT"))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(not(unix))]
async fn wait() -> Result<&'static str, String> {
    tokio::signal::ctrl_c()
        .await
        .map(|()| "Ctrl-C")
        .map_err(|e| format!("listening for Ctrl-C: {e}"))
}
