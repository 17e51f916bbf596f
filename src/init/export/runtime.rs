//! The runtime of the crate's own that the OTLP exporters run on, and the adapter that runs their
//! exports on it.
//!
//! Why a runtime of our own: the gRPC (tonic) and async HTTP (reqwest) exporters need a Tokio
//! reactor, the SDK's batch processors call them from their own plain threads, and the service may
//! have no runtime (`fn main`), a multi-thread one, or a current-thread one. Owning one small
//! runtime makes every protocol work the same way in all three, without the caller arranging
//! anything, and keeps export work off the service's own runtime.

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// A one-worker multi-thread Tokio runtime that the exporters run on.
///
/// It is shut down with `shutdown_background`, never dropped in place: dropping a runtime inside
/// another runtime's context panics, and the guard may well be dropped inside `#[tokio::main]`.
pub(crate) struct ExportRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for ExportRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRuntime").finish_non_exhaustive()
    }
}

impl ExportRuntime {
    pub(crate) fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tracing-correlate-export")
            .enable_all()
            .build()?;
        Ok(ExportRuntime {
            runtime: Some(runtime),
        })
    }

    pub(crate) fn handle(&self) -> tokio::runtime::Handle {
        match &self.runtime {
            Some(rt) => rt.handle().clone(),
            // Only `leak` takes the runtime, and it consumes `self`.
            None => unreachable!("the export runtime is present until it is leaked"),
        }
    }

    /// Leaves the runtime running for the rest of the process: used when exports may still be
    /// under way (a shutdown that timed out), so they fail by themselves instead of finding their
    /// runtime gone.
    pub(crate) fn leak(mut self) {
        if let Some(rt) = self.runtime.take() {
            std::mem::forget(rt);
        }
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs an exporter's exports on the [`ExportRuntime`].
///
/// The SDK's batch processors call `export` from their own threads, never from inside a
/// runtime, so blocking on the runtime's handle there is allowed.
pub(crate) struct OnRuntime<E> {
    inner: E,
    handle: tokio::runtime::Handle,
    /// `OTEL_BSP_EXPORT_TIMEOUT`: the SDK's thread-based batch processor ignores it, so it is
    /// applied here, around each export.
    export_timeout: Duration,
}

impl<E> fmt::Debug for OnRuntime<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnRuntime").finish_non_exhaustive()
    }
}

impl<E> OnRuntime<E> {
    pub(crate) fn new(inner: E, handle: tokio::runtime::Handle, export_timeout: Duration) -> Self {
        OnRuntime {
            inner,
            handle,
            export_timeout,
        }
    }

    /// Runs the export `make` builds, on the runtime, bounded by the export timeout. The future
    /// is built inside the runtime too: exporters (and the timeout) need its context to build.
    fn run<F>(&self, make: impl FnOnce() -> F) -> OTelSdkResult
    where
        F: std::future::Future<Output = OTelSdkResult>,
    {
        let timeout = self.export_timeout;
        self.handle.block_on(async move {
            tokio::time::timeout(timeout, make())
                .await
                .unwrap_or(Err(OTelSdkError::Timeout(timeout)))
        })
    }
}

impl<E: SpanExporter> SpanExporter for OnRuntime<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.run(|| self.inner.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for OnRuntime<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.run(|| self.inner.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
