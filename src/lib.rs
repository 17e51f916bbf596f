//! JSON log lines that join their OpenTelemetry trace, for services built on [`tracing`].
//!
//! A service built from `tracing` spans and events produces two things that must agree:
//! OpenTelemetry spans for the tracing backend, and JSON log lines that a log aggregator joins to
//! those spans by `trace_id`. This crate gives both from the same spans:
//!
//! - [`layer()`] writes one JSON line per event, stamped with the `trace_id`, `span_id` and
//!   `trace_flags` of the span the event belongs to;
//! - [`otel_layer()`] is `tracing-opentelemetry`'s layer, set up so that errors become
//!   OpenTelemetry exceptions once, by the conventions;
//! - [`record_exception`] and [`SpanExt::record_exception`] do what the OpenTelemetry SDKs'
//!   `span.record_exception(e)` does, and `#[instrument(err)]` and ERROR events map the same way
//!   (which forms keep the error's type and `source()` chain: the table on [`record_exception`]);
//! - [`init`] does all of it in one line of `main`, configured by the standard `OTEL_*`
//!   environment, exporting over OTLP or to the console;
//! - [`propagation`], [`server`] and [`client`] carry one trace across services, strictly by the W3C
//!   specifications;
//! - [`HeldLines`] keeps a request's DEBUG lines in a buffer of its trace and writes them only when
//!   the request fails, so a service logging at INFO still has the detail of every failure.
//!
//! Library code needs none of this: it uses `tracing` and `#[instrument]`, and its spans and errors
//! flow through these layers in the service that installs them.
//!
//! # One-line init
//!
//! A service's `main` needs one line (feature `init`, on by default):
//!
//! ```no_run
//! let _guard = tracing_correlate::init("checkout"); // or try_init, or builder("checkout")...
//! ```
//!
//! It installs the global subscriber, the OpenTelemetry bridge, the JSON layer on stdout, the
//! global tracer provider and propagator and a panic hook, configured by the standard `OTEL_*`
//! environment ([`Builder`] has the table of every variable it reads), and returns a [`Guard`]
//! that flushes on drop within a bound and reports what was delivered and lost.
//!
//! `RUST_BACKTRACE=1 cargo run --example quickstart` (the repository's `examples/quickstart.rs`)
//! logs a failed reservation as this line, its `exception` carrying the error and the stack from
//! the function that failed down to `main` ([`Stacktraces`] says when, and what it costs):
//!
//! ```json
//! {"timestamp":"2026-12-02T09:57:49.308138Z","level":"ERROR","service":"checkout","target":"quickstart","trace_id":"f0c6dc7a3f1238994c95d6aa61d5b0d4","span_id":"41989ad70c07193b","trace_flags":"01","span_name":"reserve","exception":{"message":"sku-missing is out of stock","stacktrace":"   0: quickstart::reserve\n             at ./examples/quickstart.rs:29:1\n   1: quickstart::place_order\n             at ./examples/quickstart.rs:42:12\n   2: quickstart::main\n             at ./examples/quickstart.rs:52:5\n"},"sku":"sku-missing","quantity":1,"items":"[\"sku-1\", \"sku-missing\"]","order_id":42}
//! ```
//!
//! # Composing the layers
//!
//! ```
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! // Any `opentelemetry_sdk` provider: with an OTLP exporter in a service, in memory in a test.
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//! let tracer = provider.tracer("checkout");
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_correlate::otel_layer(tracer)) // tracing-opentelemetry, errors mapped by us
//!     .with(
//!         tracing_correlate::layer() // the JSON layer
//!             .with_service_name("checkout")
//!             .with_writer(std::io::stdout), // any tracing_subscriber MakeWriter
//!     );
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("create_order", order_id = 42);
//!     let _entered = span.enter();
//!     tracing::info!(items = 3, "order placed");
//! });
//! ```
//!
//! The OpenTelemetry layer goes first (below): the JSON layer reads the ids of the spans it makes.
//! Without it, lines carry no ids. `opentelemetry`, `opentelemetry_sdk` and
//! `tracing_opentelemetry` are re-exported, so a service uses the versions this crate was built
//! with.
//!
//! # Where the reference lives
//!
//! | to know | read |
//! |---|---|
//! | the keys of a line (event lines and console span lines, one table), their bounds, how to count failures, and what the layer costs | [`JsonLayer`] |
//! | how errors become exceptions on the line and the span | [`record_exception`] |
//! | when exceptions carry a stack trace, and what it costs | [`Stacktraces`] |
//! | what the bridge records, and its settings | [`OtelLayer`] |
//! | which fields are redacted, and how to give the rules to every layer | [`Redaction`] |
//! | a log backend's own correlation keys | [`Preset`] |
//! | the `OTEL_*` environment and what the init installs | [`Builder`] (feature `init`) |
//! | what the shutdown line reports, flushing mid-life, stopping on `SIGTERM` | [`Guard`], [`shutdown_signal`] (feature `init`) |
//! | keeping a request's DEBUG lines only when it fails; dropping an unsampled trace's lines | [`HeldLines`], [`JsonLayer::with_unsampled_level`] |
//! | the lines rendered for a person | [`Format`], and the `tracing-correlate` command (feature `cli`) |
//! | testing one's own instrumentation | [`testing`] (feature `testing`) |
//! | W3C propagation, the server and client middleware | [`propagation`], `server`, `client` |
//!
//! The crate is three pipelines, one folder each: the line (event → span ids → line → writer,
//! `src/line/`), the bridge (`tracing` span → OpenTelemetry span, `src/otel/`) and the init
//! (`OTEL_*` environment → providers and exporters → guard, `src/init/`), with propagation and the
//! HTTP middleware beside them. `RELIABILITY.md` holds every fault, bad input and load the crate
//! is tested against, and `BENCHMARKS.md` what each part costs against its peers.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `init` | on | [`init`], [`try_init`], [`builder`], [`Guard`]: OTLP export through `opentelemetry-otlp` (gRPC, HTTP/protobuf, HTTP/JSON), console spans, the `OTEL_*` environment, the panic hook |
//! | `tls` | on | with `init`: OTLP over `https://` for all three protocols (rustls with `ring`, the system's root certificates, `OTEL_EXPORTER_OTLP_CERTIFICATE`, mutual TLS); without it an `https://` endpoint is refused at startup with a warning |
//! | `testing` | off | with `init`: [`testing`], captures of what code under test logs and traces, joins and assertions |
//! | `cli` | off | the `tracing-correlate` command (`pretty`, `trace ID`, `traces`); its dependency (`clap`) reaches no library user |
//! | `tls-webpki-roots` | off | with `tls`: Mozilla's root certificates built into the binary, trusted besides the system's (images without a CA bundle) |
//! | `tower` | off | [`server::TraceLayer`]: one server span per request, for any `tower` HTTP service; a handler's panic answered 500 and recorded on it; an access line per response, opt-in |
//! | `axum` | off | with `tower`: `http.route` from axum's matched route, `client.address` from `ConnectInfo` |
//! | `reqwest` | off | [`client::TracingMiddleware`] for `reqwest-middleware`: one client span per request, context injected |
//!
//! [`propagation`] (the W3C propagators and the `extract`/`inject` helpers for headers and message
//! payloads) needs no feature.
//!
//! Without `init`, the layers need only `tracing-subscriber`, `tracing-opentelemetry`,
//! `opentelemetry` and `opentelemetry_sdk`.

#![warn(
    missing_docs,
    unreachable_pub,
    rust_2018_idioms,
    missing_debug_implementations
)]
#![deny(unsafe_op_in_unsafe_fn)]

mod callsite;
mod exception;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "init")]
mod init;
mod line;
mod otel;
#[cfg(feature = "tower")]
mod panic_note;
pub mod propagation;
mod redact;
mod stacktrace;
#[cfg(feature = "testing")]
pub mod testing;
#[doc(hidden)]
pub mod view;

#[cfg(feature = "reqwest")]
pub mod client;
#[cfg(feature = "tower")]
pub mod server;

pub use exception::{record_dyn_exception, record_exception, SpanExt, DEFAULT_MAX_CAUSES};
#[cfg(feature = "init")]
pub use init::{
    builder, init, shutdown_signal, try_init, Builder, FlushReport, Guard, InitError,
    DEFAULT_FILTER, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use line::{
    layer, DebugOnDemand, HeldLines, JsonLayer, Preset, Stats, DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE,
    DEFAULT_HELD_BYTES, DEFAULT_HELD_BYTES_PER_TRACE, DEFAULT_HELD_LINES_PER_TRACE,
    DEFAULT_MAX_FIELDS, DEFAULT_MAX_KEY_LEN, DEFAULT_MAX_VALUE_LEN, DEFAULT_SDK_LINE_INTERVAL,
    DEFAULT_SERVICE_NAME, MAX_BAGGAGE_FIELDS,
};
#[cfg(feature = "init")]
pub use line::{NonBlocking, DEFAULT_NON_BLOCKING_CAPACITY};
pub use otel::{otel_layer, OtelLayer, DEFAULT_SPAN_EVENTS};
pub use redact::{Redaction, DEFAULT_REDACTED_FIELDS, REDACTED};
pub use stacktrace::{Stacktraces, MAX_STACKTRACE_FRAMES, MAX_STACKTRACE_LEN};
pub use view::Format;

pub use opentelemetry;
pub use opentelemetry_sdk;
pub use tracing_opentelemetry;
