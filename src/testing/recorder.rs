//! The capture's configuration and the subscriber it builds: the init's layers, writing into
//! memory.

use std::future::Future;
use std::sync::Arc;

use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use opentelemetry_sdk::Resource;
use tracing::instrument::WithSubscriber as _;
use tracing::Dispatch;
use tracing_subscriber::filter::EnvFilter;

use crate::init::export::{Counted, Delivery};
use crate::init::log_exceptions::ExceptionAttributes;
use crate::testing::captured::Captured;
use crate::testing::ids::Sequential;
use crate::testing::writer::Buffer;
use crate::{HeldLines, JsonLayer, Preset, Redaction, Stacktraces};

/// How a capture is made, configured like the init's [`Builder`](crate::Builder).
///
/// | setting | default | what it does |
/// |---|---|---|
/// | [`with_service_name`](Self::with_service_name) | `test` | the lines' `service` and the spans' resource `service.name` |
/// | [`with_preset`](Self::with_preset) | [`Preset::Otel`] | the lines' schema, as the init's |
/// | [`with_redaction`](Self::with_redaction) | [`Redaction::default`] | secret fields, on the lines, the spans and the log records |
/// | [`with_stacktraces`](Self::with_stacktraces) | [`Stacktraces::Off`] (the init's `FromEnv` would make a test depend on `RUST_BACKTRACE`) | when exceptions carry a stack trace |
/// | [`with_filter`](Self::with_filter) | `trace` | which events and spans are captured (`EnvFilter` directives; `RUST_LOG` is not read) |
/// | [`with_held_lines`](Self::with_held_lines) | none | hold lines as the init's [`Builder::with_held_lines`](crate::Builder::with_held_lines) does: a capture shows which lines a failing and a succeeding request write |
/// | [`with_log_records`](Self::with_log_records) | off | also capture each event as an OpenTelemetry log record, as `OTEL_LOGS_EXPORTER=otlp` sends it |
/// | [`with_deterministic`](Self::with_deterministic) | off | ids counted from 1 and timestamps replaced by a fixed sequence, for snapshots |
///
/// ```
/// use tracing_correlate::testing::Recorder;
/// use tracing_correlate::Redaction;
///
/// let (_, captured) = Recorder::new()
///     .with_service_name("billing")
///     .with_redaction(Redaction::default().with_names(["iban"]))
///     .with_filter("info")
///     .record(|| {
///         tracing::debug!("not captured");
///         tracing::info!(iban = "DE89 3704", "refund sent");
///     });
/// captured
///     .assert_lines_at("DEBUG", 0)
///     .assert_field("refund sent", "service", "billing")
///     .assert_nowhere("DE89 3704");
/// ```
#[derive(Clone, Debug)]
pub struct Recorder {
    service: String,
    preset: Preset,
    redaction: Redaction,
    stacktraces: Stacktraces,
    filter: String,
    log_records: bool,
    deterministic: bool,
    held_lines: Option<HeldLines>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// The defaults of the table above.
    pub fn new() -> Recorder {
        Recorder {
            service: "test".to_owned(),
            preset: Preset::Otel,
            redaction: Redaction::default(),
            stacktraces: Stacktraces::Off,
            filter: "trace".to_owned(),
            log_records: false,
            deterministic: false,
            held_lines: None,
        }
    }

    /// The lines' `service` and the resource's `service.name`.
    pub fn with_service_name(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The lines' schema ([`Preset`]).
    pub fn with_preset(mut self, preset: Preset) -> Self {
        self.preset = preset;
        self
    }

    /// The redaction rules of the lines, the spans and the log records.
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// Holds lines as [`HeldLines`] says (a held level then becomes no span event and no
    /// log record, as under the init).
    pub fn with_held_lines(mut self, held: impl Into<Option<HeldLines>>) -> Self {
        self.held_lines = held.into();
        self
    }

    /// When exceptions carry a stack trace.
    pub fn with_stacktraces(mut self, stacktraces: Stacktraces) -> Self {
        self.stacktraces = stacktraces;
        self
    }

    /// Which events and spans are captured, as `EnvFilter` directives (`info`,
    /// `my_crate=debug`); directives it cannot parse capture everything, as `trace`.
    pub fn with_filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = directives.into();
        self
    }

    /// Also captures each event as an OpenTelemetry log record ([`Captured::logs`]).
    pub fn with_log_records(mut self, on: bool) -> Self {
        self.log_records = on;
        self
    }

    /// Trace and span ids counted from 1 in the order spans start, and each line's `timestamp`
    /// replaced by `2000-01-01T00:00:00.000001Z`, `…02Z`, … in the order written: the lines and
    /// [`Captured::snapshot`] are the same on every run (with stack traces off).
    pub fn with_deterministic(mut self, on: bool) -> Self {
        self.deterministic = on;
        self
    }

    /// Runs `f` under the capture.
    pub fn record<R>(&self, f: impl FnOnce() -> R) -> (R, Captured) {
        let parts = self.build();
        let result = tracing::dispatcher::with_default(&parts.dispatch, f);
        (result, parts.finish())
    }

    /// Runs `future` under the capture, whichever thread polls it.
    pub async fn record_async<F: Future>(&self, future: F) -> (F::Output, Captured) {
        let parts = self.build();
        let output = future.with_subscriber(parts.dispatch.clone()).await;
        (output, parts.finish())
    }

    /// Starts capturing on this thread until [`Recording::finish`]: the guard form, for a whole
    /// test (a `#[tokio::test]` on the current-thread runtime runs all of it on this thread).
    ///
    /// ```
    /// let recording = tracing_correlate::testing::Recorder::new().start();
    /// tracing::warn!("disk almost full");
    /// assert_eq!(recording.captured().lines().len(), 1);
    /// tracing::warn!("disk full");
    /// recording.finish().assert_lines_at("WARN", 2);
    /// ```
    pub fn start(&self) -> Recording {
        let parts = self.build();
        let default = tracing::dispatcher::set_default(&parts.dispatch);
        Recording {
            parts,
            _default: default,
        }
    }

    fn build(&self) -> Parts {
        let buffer = Buffer::default();
        let json = JsonLayer::new()
            .with_service_name(self.service.clone())
            .with_preset(self.preset)
            .with_redaction(self.redaction.clone())
            .with_stacktraces(self.stacktraces)
            .with_held_lines(self.held_lines)
            .with_writer(buffer.clone());
        let resource = Resource::builder_empty()
            .with_service_name(self.service.clone())
            .build();
        let spans = InMemorySpanExporter::default();
        // The init's processor (redaction, value limits) around a synchronous export: a span is
        // in memory as soon as it ends.
        let mut provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(Counted::new(
                SimpleSpanProcessor::new(spans.clone()),
                Arc::new(Delivery::default()),
                None,
                self.redaction.clone(),
            ));
        if self.deterministic {
            provider = provider.with_id_generator(Sequential::default());
        }
        let tracer_provider = provider.build();
        let logs = self.log_records.then(|| {
            let exporter = InMemoryLogExporter::default();
            let provider = SdkLoggerProvider::builder()
                .with_resource(resource)
                .with_log_processor(ExceptionAttributes)
                .with_simple_exporter(exporter.clone())
                .build();
            (exporter, provider)
        });
        let filter = EnvFilter::try_new(&self.filter).unwrap_or_else(|_| EnvFilter::new("trace"));
        let subscriber = crate::init::layers(
            filter,
            &tracer_provider,
            json,
            logs.as_ref().map(|(_, provider)| provider),
            &self.redaction,
            self.stacktraces,
            self.held_lines,
        );
        Parts {
            dispatch: Dispatch::new(subscriber),
            buffer,
            spans,
            tracer_provider,
            logs,
            deterministic: self.deterministic,
        }
    }
}

/// What one capture writes into.
struct Parts {
    dispatch: Dispatch,
    buffer: Buffer,
    spans: InMemorySpanExporter,
    tracer_provider: SdkTracerProvider,
    logs: Option<(InMemoryLogExporter, SdkLoggerProvider)>,
    deterministic: bool,
}

impl Parts {
    fn finish(&self) -> Captured {
        let _ = self.tracer_provider.force_flush();
        let spans = self.spans.get_finished_spans().unwrap_or_default();
        let logs = match &self.logs {
            Some((exporter, provider)) => {
                let _ = provider.force_flush();
                exporter.get_emitted_logs().unwrap_or_default()
            }
            None => Vec::new(),
        };
        Captured::new(self.buffer.lines(), spans, logs, self.deterministic)
    }
}

/// A capture running on this thread, from [`Recorder::start`] to [`finish`](Self::finish).
#[must_use = "the capture ends when the recording is dropped: bind it and call `finish`"]
pub struct Recording {
    parts: Parts,
    _default: tracing::subscriber::DefaultGuard,
}

impl Recording {
    /// What was captured so far; the capture goes on.
    pub fn captured(&self) -> Captured {
        self.parts.finish()
    }

    /// Ends the capture and returns what it holds.
    pub fn finish(self) -> Captured {
        self.parts.finish()
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}
