//! What one request costs the thread that serves it while spans are exported over OTLP/HTTP to a
//! collector that is healthy, slow, failing or gone (issue 6: "the cost of creating spans and
//! events stays within a few percent of the healthy case"). Every rung is one benchmark of the
//! criterion group `collector_faults`, in one run, so the figures read as ratios to `healthy`.
//! `BENCHMARKS.md` holds the figures and the command.
//!
//! The measured work is scenario (b) of `layer.rs` (`support/scenario.rs`: a span with two fields,
//! an event, a child span with an event, a last event; three lines, two spans), all timed.
//!
//! The stack is the one `tracing_correlate::init` builds with an OTLP/HTTP endpoint and the
//! default `OTEL_BSP_*` settings, rebuilt here from public parts because the init installs a global
//! subscriber, once per process, and each rung needs its own collector (it runs as the thread's
//! scoped default instead): `EnvFilter` with `DEFAULT_FILTER`, `otel_layer` with the tracer named
//! `tracing-correlate`, the JSON layer writing to the discarding sink (`support/sink.rs`); under
//! them an `SdkTracerProvider` with a `BatchSpanProcessor` (queue 2,048, batch 512, schedule delay
//! 5 s: the SDK's and the init's defaults) whose exporter is `opentelemetry_otlp`'s HTTP/protobuf
//! `SpanExporter`, each export run on a one-worker Tokio runtime of its own within a 30 s export
//! timeout (what `src/init/export/runtime.rs`'s `OnRuntime` does), and a processor in front that counts each
//! ended span with one atomic add (as the init's `Counted` does). What the init's `Counted` also
//! does and this rebuild does not: replace secret-named attribute values (a name check per
//! attribute of each ended span) and cut long values (off by default).
//!
//! The collector is `tests/support/fault_collector.rs` (an axum server on 127.0.0.1), in this
//! process, on its own runtime: on 2 CPUs, the export thread, its runtime and the collector share
//! the machine with the measured thread, as a service's exporter shares its host.
//!
//! Rungs, in the order they run: `no_export` (for reference: the provider has no processor, as the
//! ladder's `ours_init_stack`), `healthy` (200 at once), `http_500`, `http_429` (no
//! `Retry-After`: the exporter retries with backoff), `http_429_retry_after` (`Retry-After: 1`),
//! `slow_500ms` (200 after 500 ms), `refused` (nothing listens on the port), `never_answers` (the
//! request is read and never answered). After each rung its provider is shut down within 5 s (or
//! left behind, with its runtime, when an export hangs) and what the rung ended, exported and sent
//! is printed for `report.py`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, Span, SpanData, SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use support::run::note_run;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::EnvFilter;

#[allow(dead_code)]
mod support;

#[allow(dead_code)]
#[path = "../tests/support/fault_collector.rs"]
mod fault_collector;

use fault_collector::{Fault, FaultCollector, Received};
use support::checks;
use support::rungs::Rung;
use support::scenario;
use support::sink::Sink;
use support::SERVICE;

/// The criterion group, and the prefix of the lines `report.py` reads.
const GROUP: &str = "collector_faults";

/// What the collector of a rung does.
#[derive(Clone, Copy)]
enum Peer {
    /// No exporter at all.
    None,
    Collector(Fault),
    /// A port nothing listens on.
    Refused,
}

/// The rungs, in the order they run: the ones whose exports may outlive their rung last.
fn rungs() -> Vec<(&'static str, Peer)> {
    vec![
        ("no_export", Peer::None),
        ("healthy", Peer::Collector(Fault::HEALTHY)),
        ("http_500", Peer::Collector(Fault::status(500))),
        ("http_429", Peer::Collector(Fault::status(429))),
        (
            "http_429_retry_after",
            Peer::Collector(Fault::Status {
                code: 429,
                retry_after_secs: Some(1),
                delay: Duration::ZERO,
            }),
        ),
        (
            "slow_500ms",
            Peer::Collector(Fault::slow(Duration::from_millis(500))),
        ),
        ("refused", Peer::Refused),
        ("never_answers", Peer::Collector(Fault::NeverAnswers)),
    ]
}

/// Counts the spans an exporter delivered and failed to (off the measured thread).
#[derive(Debug, Default)]
struct Delivery {
    ended: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
}

/// Runs each export on the export runtime within the export timeout, and counts its outcome: what
/// `OnRuntime` (`src/init/export/runtime.rs`) and `Counting` (`delivery.rs`) do around the OTLP
/// exporter.
#[derive(Debug)]
struct OnRuntime<E> {
    inner: E,
    handle: tokio::runtime::Handle,
    delivery: Arc<Delivery>,
}

/// `OTEL_BSP_EXPORT_TIMEOUT`'s default.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(30);

impl<E: SpanExporter> SpanExporter for OnRuntime<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len() as u64;
        let result = self.handle.block_on(async {
            tokio::time::timeout(EXPORT_TIMEOUT, self.inner.export(batch))
                .await
                .unwrap_or(Err(OTelSdkError::Timeout(EXPORT_TIMEOUT)))
        });
        let counter = if result.is_ok() {
            &self.delivery.exported
        } else {
            &self.delivery.failed
        };
        counter.fetch_add(n, Ordering::Relaxed);
        std::future::ready(result)
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

/// Counts each ended (sampled) span with one atomic add, then hands it on: the request thread's
/// share of the init's `Counted`.
#[derive(Debug)]
struct Counted<P> {
    inner: P,
    delivery: Arc<Delivery>,
}

impl<P: SpanProcessor> SpanProcessor for Counted<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.delivery.ended.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// One rung's exporting stack and what it talks to.
struct Stack {
    provider: SdkTracerProvider,
    delivery: Arc<Delivery>,
    runtime: Option<tokio::runtime::Runtime>,
    collector: Option<FaultCollector>,
}

impl Stack {
    fn new(peer: Peer) -> Stack {
        let delivery = Arc::new(Delivery::default());
        let resource = Resource::builder_empty().with_service_name(SERVICE).build();
        let builder = SdkTracerProvider::builder().with_resource(resource);
        let (endpoint, collector) = match peer {
            Peer::None => {
                return Stack {
                    provider: builder.build(),
                    delivery,
                    runtime: None,
                    collector: None,
                }
            }
            Peer::Collector(fault) => {
                let collector = FaultCollector::start(fault);
                (collector.endpoint(), Some(collector))
            }
            Peer::Refused => {
                // Bind then drop: the port is free and refuses connections.
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .expect("a free port")
                    .port();
                (format!("http://127.0.0.1:{port}"), None)
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-export")
            .enable_all()
            .build()
            .expect("the export runtime");
        let exporter = {
            let _entered = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(format!("{endpoint}/v1/traces"))
                // `OTEL_EXPORTER_OTLP_TIMEOUT`'s default.
                .with_timeout(Duration::from_secs(10))
                .build()
                .expect("the OTLP/HTTP exporter")
        };
        let exporter = OnRuntime {
            inner: exporter,
            handle: runtime.handle().clone(),
            delivery: delivery.clone(),
        };
        let processor = Counted {
            inner: BatchSpanProcessor::builder(exporter).build(),
            delivery: delivery.clone(),
        };
        Stack {
            provider: builder.with_span_processor(processor).build(),
            delivery,
            runtime: Some(runtime),
            collector,
        }
    }

    /// The init's subscriber around `sink`.
    fn dispatch(&self, sink: Sink) -> Dispatch {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(EnvFilter::new(tracing_correlate::DEFAULT_FILTER))
                .with(tracing_correlate::otel_layer(
                    self.provider.tracer("tracing-correlate"),
                ))
                .with(
                    tracing_correlate::layer()
                        .with_service_name(SERVICE)
                        .with_writer(sink),
                ),
        )
    }

    /// Shuts the provider down within `timeout`, prints what the rung ended, exported and sent,
    /// and leaves the export runtime behind when an export is still hanging.
    fn finish(mut self, name: &str, timeout: Duration) {
        let started = Instant::now();
        let provider = self.provider.clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = provider.shutdown_with_timeout(timeout);
            let _ = done.send(());
        });
        let in_time = finished.recv_timeout(timeout).is_ok();
        let d = &self.delivery;
        let received = self
            .collector
            .as_ref()
            .map(FaultCollector::received)
            .unwrap_or_default();
        let Received {
            requests, spans, ..
        } = received;
        eprintln!(
            "{GROUP}/{name}: spans ended {}, exported {}, failed {}; collector requests {requests}, \
             spans {spans}; shutdown {} ms, in time {in_time}",
            d.ended.load(Ordering::Relaxed),
            d.exported.load(Ordering::Relaxed),
            d.failed.load(Ordering::Relaxed),
            started.elapsed().as_millis(),
        );
        match self.runtime.take() {
            Some(rt) if !in_time => std::mem::forget(rt),
            Some(rt) => rt.shutdown_background(),
            None => {}
        }
        if !in_time {
            // Its exports may still be running: leave the collector to them too.
            std::mem::forget(self.collector.take());
        }
    }
}

fn bench_collector_faults(c: &mut Criterion) {
    note_run("start");
    // See Cargo.toml: without a provider, building the HTTP exporter panics in reqwest.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut group = c.benchmark_group(GROUP);
    for (name, peer) in rungs() {
        let stack = Arc::new(Stack::new(peer));
        let rung = Rung {
            name,
            build: Box::new({
                let stack = stack.clone();
                move |sink| stack.dispatch(sink)
            }),
            writes: true,
            trace_id: true,
        };
        // Three lines, each with the request's trace id, before anything is measured.
        checks::request(GROUP, &rung);
        let dispatch = stack.dispatch(Sink::discard());
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        scenario::request();
                    }
                    start.elapsed()
                })
            });
        });
        drop(dispatch);
        drop(rung);
        let stack = Arc::into_inner(stack).expect("the rung's stack is no longer shared");
        stack.finish(name, Duration::from_secs(5));
    }
    group.finish();
    note_run("end");
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_collector_faults
}
criterion_main!(benches);
