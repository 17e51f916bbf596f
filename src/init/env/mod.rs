//! The standard OpenTelemetry environment, read as the specification says
//! (`../shared/reference/otel-environment.md`), including where `opentelemetry_sdk` 0.33 reads it
//! wrongly or not at all.
//!
//! Reading is a pure function of a variable getter, so every rule is tested without touching the
//! process environment. A bad value never stops a service: it gives one [`EnvConfig::warnings`]
//! entry naming the variable and the value, and the variable is treated as unset.

use std::collections::HashMap;
use std::time::Duration;

use crate::init::credentials;
use crate::line::MAX_BAGGAGE_FIELDS;
use crate::stacktrace::Stacktraces;
use crate::view::Format;
use tracing::Level;

mod endpoint;
mod pairs;
mod parse;
#[cfg(test)]
mod tests;

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

/// `OTEL_TRACES_EXPORTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TracesExporter {
    Otlp,
    Console,
    None,
}

/// `OTEL_LOGS_EXPORTER`. Our default is `None`: the JSON lines are the log signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogsExporter {
    Otlp,
    None,
}

/// `OTEL_TRACES_SAMPLER` with its argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SamplerConfig {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

/// One entry of `OTEL_PROPAGATORS` that this crate implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PropagatorKind {
    TraceContext,
    Baggage,
}

/// `OTEL_EXPORTER_OTLP_COMPRESSION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
}

/// The OTLP settings of one signal (traces or logs), after the signal-specific variables
/// (`OTEL_EXPORTER_OTLP_TRACES_*`) have won over the general ones (`OTEL_EXPORTER_OTLP_*`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OtlpConfig {
    pub(crate) protocol: Protocol,
    /// The full URL the exporter sends to: for HTTP, the base endpoint with `/v1/traces` (or
    /// `/v1/logs`) appended after exactly one `/`, or the signal-specific endpoint as given (a URL
    /// without a path means `/`); for gRPC, the endpoint as given. Defaults:
    /// `http://localhost:4318/v1/<signal>` (HTTP), `http://localhost:4317` (gRPC).
    pub(crate) endpoint: String,
    /// Percent-decoded `key=value` pairs, in the order given (a repeated name is kept twice).
    /// Every name is an HTTP token (what `http::HeaderName::from_bytes` accepts) and every value
    /// visible ASCII, spaces and tabs (what `http::HeaderValue::from_str` accepts, less the bytes
    /// above 0x7F).
    pub(crate) headers: Vec<(String, String)>,
    /// Default 10 s. `0` means no limit (the specification's "indefinite"), given as
    /// 2³¹ − 1 ms (about 24.8 days).
    pub(crate) timeout: Duration,
    pub(crate) compression: Option<Compression>,
    /// The TLS files for an `https://` endpoint: the signal's variable, else the general one.
    pub(crate) tls: TlsFiles,
}

/// `OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_CERTIFICATE`, `_CLIENT_KEY` (or the signal's):
/// each the variable that named it and its path, read when the exporter is built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// PEM certificates to trust besides the system's roots.
    pub(crate) certificate: Option<TlsFile>,
    /// A PEM certificate chain, with `client_key`, for mutual TLS.
    pub(crate) client_certificate: Option<TlsFile>,
    pub(crate) client_key: Option<TlsFile>,
}

/// A path given by a TLS variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsFile {
    pub(crate) var: &'static str,
    pub(crate) path: String,
}

/// `OTEL_BSP_*` (spans) or `OTEL_BLRP_*` (log records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchConfig {
    /// Default 5000 ms (spans), 1000 ms (log records); never below [`MIN_SCHEDULE_DELAY`].
    pub(crate) schedule_delay: Duration,
    /// Default 2048; never above [`MAX_QUEUE_SIZE`].
    pub(crate) max_queue_size: usize,
    /// Default 512 (and never above `max_queue_size`).
    pub(crate) max_export_batch_size: usize,
    /// Default 30000 ms. `0` means no limit, given as 2³¹ − 1 ms (as for
    /// [`OtlpConfig::timeout`]).
    pub(crate) export_timeout: Duration,
}

/// `OTEL_SPAN_*_COUNT_LIMIT` and the attribute value length limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SpanLimitsConfig {
    /// Default 128.
    pub(crate) attribute_count: u32,
    /// Default 128.
    pub(crate) event_count: u32,
    /// Default 128.
    pub(crate) link_count: u32,
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`; default
    /// no limit.
    pub(crate) attribute_value_length: Option<usize>,
}

/// Everything the init reads from the environment.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EnvConfig {
    /// `OTEL_SDK_DISABLED=true` (case-insensitive; anything else is false, and a value other than
    /// `true`/`false` is warned about).
    pub(crate) sdk_disabled: bool,
    /// `OTEL_SERVICE_NAME`, else `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else `None` (the
    /// init's argument then names the service).
    pub(crate) service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, without `service.name` (see above); empty when
    /// the variable could not be decoded (it is then discarded whole, with a warning).
    pub(crate) resource_attributes: Vec<(String, String)>,
    /// `OTEL_TRACES_EXPORTER`; when unset: `Otlp` if any OTLP endpoint variable (general or traces)
    /// is set, else `Console`.
    pub(crate) traces_exporter: TracesExporter,
    /// Whether `traces_exporter` was given explicitly (for the startup line).
    pub(crate) traces_exporter_explicit: bool,
    /// `OTEL_LOGS_EXPORTER`; default `None` (`console` is treated as `None` with a warning: the
    /// JSON lines already are the console log output).
    pub(crate) logs_exporter: LogsExporter,
    pub(crate) traces_otlp: OtlpConfig,
    pub(crate) logs_otlp: OtlpConfig,
    /// `OTEL_PROPAGATORS`, default `tracecontext,baggage`; `none` gives an empty list; names this
    /// crate does not implement (`b3`, `b3multi`, `jaeger`, `xray`, `ottrace`) are warned about and
    /// skipped.
    pub(crate) propagators: Vec<PropagatorKind>,
    /// `OTEL_TRACES_SAMPLER` (case-insensitive) with `OTEL_TRACES_SAMPLER_ARG`; default
    /// `ParentBasedAlwaysOn`. A ratio sampler without an argument uses 1.0 (as the specification
    /// says, silently); an invalid ratio (not a number in [0, 1]) is warned about and 1.0 is used.
    pub(crate) sampler: SamplerConfig,
    /// `OTEL_BSP_*`, the span batch processor.
    pub(crate) batch: BatchConfig,
    /// `OTEL_BLRP_*`, the log record batch processor (used with `OTEL_LOGS_EXPORTER=otlp`).
    pub(crate) logs_batch: BatchConfig,
    pub(crate) span_limits: SpanLimitsConfig,
    /// `TRACING_CORRELATE_STACKTRACES` (`off`, `on`, `from_env`, case-insensitive); `None` when
    /// unset or not one of these (warned about): the builder's setting is then used.
    pub(crate) stacktraces: Option<Stacktraces>,
    /// `TRACING_CORRELATE_FORMAT` (`json`, `pretty`); `None` when unset or neither (warned about):
    /// the builder's setting is then used.
    pub(crate) format: Option<Format>,
    /// `TRACING_CORRELATE_BAGGAGE_FIELDS`: the baggage keys lines carry, comma-separated, each
    /// trimmed, empty items skipped; `None` when unset: the builder's list is then used.
    pub(crate) baggage_fields: Option<Vec<String>>,
    /// `TRACING_CORRELATE_HELD_LINES` (`off`, or the most severe level held: `warn`, `info`,
    /// `debug`, `trace`); `None` when unset or none of these (warned about): the builder's setting
    /// is then used. `Some(None)` is `off`.
    pub(crate) held_lines: Option<Option<Level>>,
    /// `TRACING_CORRELATE_UNSAMPLED_LEVEL` (`off`, or the least severe level an unsampled trace's
    /// lines are written at); as `held_lines`.
    pub(crate) unsampled_level: Option<Option<Level>>,
    /// One message per bad variable: `OTEL_X="value": why; what is used instead`, the value
    /// exactly as given but for the userinfo of a URL (`user:password@`, shown `<hidden>@`; an
    /// endpoint's userinfo is dropped, with one of these messages). Header variables show
    /// `<hidden>` instead of their value: they usually hold credentials.
    pub(crate) warnings: Vec<String>,
}

/// Every variable [`read`] looks at (the fuzz targets read this list through
/// [`crate::fuzzing::ENV_VARIABLES`]).
pub(crate) const VARIABLES: [&str; 54] = [
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
    "OTEL_SDK_DISABLED",
    "TRACING_CORRELATE_STACKTRACES",
    "TRACING_CORRELATE_FORMAT",
    "TRACING_CORRELATE_BAGGAGE_FIELDS",
    "TRACING_CORRELATE_HELD_LINES",
    "TRACING_CORRELATE_UNSAMPLED_LEVEL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
];

/// Reads the configuration from the process environment. A value that is not UTF-8 (which
/// `std::env::var` reports as an error) is warned about and counts as unset, instead of being
/// unset without a word.
pub(crate) fn read_process() -> EnvConfig {
    let not_unicode: Vec<&str> = VARIABLES
        .iter()
        .copied()
        .filter(|name| matches!(std::env::var(name), Err(std::env::VarError::NotUnicode(_))))
        .collect();
    let mut config = read(&|name| std::env::var(name).ok());
    for name in not_unicode {
        config
            .warnings
            .push(format!("{name}: not valid UTF-8; treated as unset"));
    }
    config
}

/// Reads the configuration through `get` (the process environment in the init, a map in tests).
/// An empty value counts as unset.
pub(crate) fn read(get: &dyn Fn(&str) -> Option<String>) -> EnvConfig {
    let mut r = Reader {
        get,
        warnings: Vec::new(),
    };

    let sdk_disabled = r.boolean("OTEL_SDK_DISABLED");
    let explicit_service_name = r.var("OTEL_SERVICE_NAME").map(|v| v.value().to_owned());
    let (resource_attributes, attribute_service_name) = r.resource_attributes();
    let service_name = explicit_service_name.or(attribute_service_name);

    let general_protocol = r.parse(
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        parse::protocol,
        "using http/protobuf",
    );
    let traces_protocol = r.signal_protocol(general_protocol, Signal::Traces);
    let logs_protocol = r.signal_protocol(general_protocol, Signal::Logs);
    let general_insecure = r.insecure("OTEL_EXPORTER_OTLP_INSECURE", None);
    let traces = SignalChoice {
        signal: Signal::Traces,
        protocol: traces_protocol,
        insecure: r
            .insecure(TRACES.insecure, general_insecure)
            .unwrap_or(false),
    };
    let logs = SignalChoice {
        signal: Signal::Logs,
        protocol: logs_protocol,
        insecure: r.insecure(LOGS.insecure, general_insecure).unwrap_or(false),
    };
    let general = r.otlp_general(&[traces, logs]);
    let (traces_otlp, traces_endpoint_set) = r.otlp_signal(&general, traces);
    let (logs_otlp, _) = r.otlp_signal(&general, logs);

    // An endpoint variable set to a value that cannot be used still asks for OTLP export: the
    // spans go to the default endpoint, as its warning says.
    let default_traces_exporter = if general.endpoint_set || traces_endpoint_set {
        TracesExporter::Otlp
    } else {
        TracesExporter::Console
    };
    let (traces_exporter, traces_exporter_explicit) = r.traces_exporter(default_traces_exporter);
    let logs_exporter = r.logs_exporter();
    let propagators = r.propagators();
    let sampler = r.sampler();
    let batch = r.batch(&BSP);
    let logs_batch = r.batch(&BLRP);
    let span_limits = r.span_limits();
    let stacktraces = r.parse(
        "TRACING_CORRELATE_STACKTRACES",
        |v| Stacktraces::parse(v).ok_or_else(|| "not off, on or from_env".to_owned()),
        "using the builder's setting",
    );
    let format = r.parse(
        "TRACING_CORRELATE_FORMAT",
        |v| Format::parse(v).ok_or_else(|| "not json or pretty".to_owned()),
        "using the builder's setting",
    );
    let baggage_fields = r.baggage_fields();
    let held_lines = r.parse(
        "TRACING_CORRELATE_HELD_LINES",
        |v| level_or_off(v).ok_or_else(|| "not off, error, warn, info, debug or trace".to_owned()),
        "using the builder's setting",
    );
    let unsampled_level = r.parse(
        "TRACING_CORRELATE_UNSAMPLED_LEVEL",
        |v| level_or_off(v).ok_or_else(|| "not off, error, warn, info, debug or trace".to_owned()),
        "using the builder's setting",
    );

    EnvConfig {
        sdk_disabled,
        service_name,
        resource_attributes,
        traces_exporter,
        traces_exporter_explicit,
        logs_exporter,
        traces_otlp,
        logs_otlp,
        propagators,
        sampler,
        batch,
        logs_batch,
        span_limits,
        stacktraces,
        format,
        baggage_fields,
        held_lines,
        unsampled_level,
        warnings: r.warnings,
    }
}

/// `off`, or a level's name (case-insensitive); `None` for anything else. `error` is a level
/// here too: held lines take it as WARN and below (ERROR is never held).
fn level_or_off(value: &str) -> Option<Option<Level>> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    [
        Level::ERROR,
        Level::WARN,
        Level::INFO,
        Level::DEBUG,
        Level::TRACE,
    ]
    .into_iter()
    .find(|level| value.eq_ignore_ascii_case(level.as_str()))
    .map(Some)
}

/// A timeout of `0` means no limit; this stands for it (the specification suggests this value).
const NO_TIMEOUT: Duration = Duration::from_millis(parse::MAX_INTEGER);

const DEFAULT_HTTP_BASE: &str = "http://localhost:4318";
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_OTLP_TIMEOUT_MS: u64 = 10_000;
/// The smallest schedule delay used. `opentelemetry_sdk`'s batch processors wait the delay
/// between two looks at their queue, and a delay of `0` makes that wait return at once, forever:
/// the export thread spins (about a whole core while the service is idle). 10 ms keeps that
/// thread's idle cost at about a hundred wake-ups a second while spans and records still leave
/// within 10 ms, a five-hundredth of the default delay.
pub(crate) const MIN_SCHEDULE_DELAY: Duration = Duration::from_millis(10);
/// The largest queue size used. `opentelemetry_sdk` allocates the whole queue when the processor
/// starts (a bounded channel, one slot per span or record, and the span processor's export batch
/// beside it), so a huge value aborts the process at init, out of memory: 2³¹ − 1 spans would
/// need about 790 GB. At this ceiling the span processor allocates about 370 MB up front (measured: 367 MB over the defaults' resident set).
pub(crate) const MAX_QUEUE_SIZE: usize = 1_000_000;
const DEFAULT_MAX_QUEUE_SIZE: usize = 2_048;
const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
const DEFAULT_EXPORT_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_SPAN_LIMIT: u32 = 128;
const DEFAULT_PROPAGATORS: [PropagatorKind; 2] =
    [PropagatorKind::TraceContext, PropagatorKind::Baggage];
/// Propagators the specification names and this crate does not implement.
const UNIMPLEMENTED_PROPAGATORS: [&str; 5] = ["b3", "b3multi", "jaeger", "xray", "ottrace"];

/// Reads variables through the getter and collects the warnings.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<String>,
}

/// A variable that is set (to something other than blanks).
struct Var {
    name: &'static str,
    /// As given: warnings quote it exactly.
    raw: String,
}

impl Var {
    /// The value to interpret: leading and trailing whitespace removed.
    fn value(&self) -> &str {
        self.raw.trim()
    }
}

/// The variables of one batch processor, and its default schedule delay.
struct BatchVars {
    schedule_delay: &'static str,
    max_queue_size: &'static str,
    max_export_batch_size: &'static str,
    export_timeout: &'static str,
    default_schedule_delay_ms: u64,
}

const BSP: BatchVars = BatchVars {
    schedule_delay: "OTEL_BSP_SCHEDULE_DELAY",
    max_queue_size: "OTEL_BSP_MAX_QUEUE_SIZE",
    max_export_batch_size: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    export_timeout: "OTEL_BSP_EXPORT_TIMEOUT",
    default_schedule_delay_ms: 5_000,
};

const BLRP: BatchVars = BatchVars {
    schedule_delay: "OTEL_BLRP_SCHEDULE_DELAY",
    max_queue_size: "OTEL_BLRP_MAX_QUEUE_SIZE",
    max_export_batch_size: "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    export_timeout: "OTEL_BLRP_EXPORT_TIMEOUT",
    default_schedule_delay_ms: 1_000,
};

/// The general endpoint `base` for one signal: with the signal's scheme when it was given without
/// one.
fn signal_base(base: &str, schemeless: bool, choice: SignalChoice) -> String {
    match (schemeless, choice.scheme_if_missing()) {
        (true, Some(scheme)) => {
            let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
            format!("{scheme}://{rest}")
        }
        _ => base.to_owned(),
    }
}

/// The signal an OTLP configuration is for.
#[derive(Clone, Copy)]
enum Signal {
    Traces,
    Logs,
}

/// What a signal's endpoint is judged by: its protocol and, for a gRPC endpoint given without a
/// scheme, whether it is `http://` (`OTEL_EXPORTER_OTLP_INSECURE=true`) or `https://`.
#[derive(Clone, Copy)]
struct SignalChoice {
    signal: Signal,
    protocol: Protocol,
    insecure: bool,
}

impl SignalChoice {
    /// The scheme put before an endpoint given without one: only gRPC endpoints may leave it out
    /// (the specification's `host:port`); an HTTP endpoint must be a URL.
    fn scheme_if_missing(self) -> Option<&'static str> {
        match (self.protocol, self.insecure) {
            (Protocol::Grpc, true) => Some("http"),
            (Protocol::Grpc, false) => Some("https"),
            _ => None,
        }
    }
}

/// The names one signal's variables have.
struct SignalVars {
    /// The path appended to the base endpoint for HTTP.
    path: &'static str,
    endpoint: &'static str,
    protocol: &'static str,
    headers: &'static str,
    timeout: &'static str,
    compression: &'static str,
    insecure: &'static str,
    certificate: &'static str,
    client_certificate: &'static str,
    client_key: &'static str,
}

const TRACES: SignalVars = SignalVars {
    path: "v1/traces",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    compression: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    insecure: "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    certificate: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    client_certificate: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    client_key: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
};

const LOGS: SignalVars = SignalVars {
    path: "v1/logs",
    endpoint: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    compression: "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    insecure: "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
    certificate: "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    client_certificate: "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    client_key: "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
};

impl Signal {
    fn vars(self) -> &'static SignalVars {
        match self {
            Signal::Traces => &TRACES,
            Signal::Logs => &LOGS,
        }
    }
}

/// The general `OTEL_EXPORTER_OTLP_*` variables, each read (and warned about) once for both
/// signals; `None` where unset or invalid.
struct GeneralOtlp {
    /// Trimmed, accepted by [`endpoint::parse`], and [`endpoint::usable`] for each signal's
    /// protocol once the signal path is added. Given without a scheme (gRPC only), it holds the
    /// scheme of the first signal and `schemeless` is set: each signal puts its own.
    endpoint: Option<String>,
    schemeless: bool,
    /// Whether `OTEL_EXPORTER_OTLP_ENDPOINT` is set, valid or not.
    endpoint_set: bool,
    headers: Option<Vec<(String, String)>>,
    timeout: Option<Duration>,
    /// `Some(None)` is an explicit `none`.
    compression: Option<Option<Compression>>,
    tls: TlsFiles,
}

impl Reader<'_> {
    /// The variable, or `None` when unset, empty or only blanks.
    fn var(&self, name: &'static str) -> Option<Var> {
        let raw = (self.get)(name)?;
        if raw.trim().is_empty() {
            return None;
        }
        Some(Var { name, raw })
    }

    /// `TRACING_CORRELATE_BAGGAGE_FIELDS`: its keys, at most [`MAX_BAGGAGE_FIELDS`], the others
    /// warned about (the JSON layer keeps as many, and could not warn before the subscriber is
    /// set).
    fn baggage_fields(&mut self) -> Option<Vec<String>> {
        let var = self.var("TRACING_CORRELATE_BAGGAGE_FIELDS")?;
        let mut keys: Vec<String> = Vec::new();
        for key in var.value().split(',').map(str::trim) {
            if !key.is_empty() && !keys.iter().any(|k| k == key) {
                keys.push(key.to_owned());
            }
        }
        if keys.len() > MAX_BAGGAGE_FIELDS {
            let why = format!("more than {MAX_BAGGAGE_FIELDS} keys");
            let instead = format!("using the first {MAX_BAGGAGE_FIELDS}");
            self.warn(&var, &why, &instead);
            keys.truncate(MAX_BAGGAGE_FIELDS);
        }
        Some(keys)
    }

    /// A TLS variable's path, trimmed; the file is read when the exporter is built (a file that
    /// cannot be read or parsed is warned about then, naming this variable).
    fn tls_file(&self, name: &'static str) -> Option<TlsFile> {
        self.var(name).map(|v| TlsFile {
            var: name,
            path: v.value().to_owned(),
        })
    }

    /// Quotes the value as given, less the userinfo of a URL in it (also where `why` repeats
    /// part of the value).
    fn warn(&mut self, var: &Var, why: &str, instead: &str) {
        let value = credentials::hide_in_value(&var.raw);
        // `why` may quote an item of a list (`unknown propagator a@b://`), which a URL's rule
        // alone would not hide: each item is hidden as the whole value is.
        let mut why = credentials::hide_in_text(why).into_owned();
        for item in var.raw.split(|c: char| c == ',' || c.is_whitespace()) {
            let hidden = credentials::hide_in_value(item);
            if !item.is_empty() && hidden != item {
                why = why.replace(item, &hidden);
            }
        }
        self.warnings
            .push(format!("{}=\"{value}\": {why}; {instead}", var.name));
    }

    /// For variables that usually hold credentials: the value is not repeated.
    fn warn_hidden(&mut self, var: &Var, why: &str, instead: &str) {
        self.warnings
            .push(format!("{}=<hidden>: {why}; {instead}", var.name));
    }

    /// Reads `name` with `parse` (given the trimmed value); a value it rejects is warned about
    /// (its reason, then `instead`) and counts as unset.
    fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        instead: &str,
    ) -> Option<T> {
        let var = self.var(name)?;
        match parse(var.value()) {
            Ok(value) => Some(value),
            Err(why) => {
                self.warn(&var, &why, instead);
                None
            }
        }
    }

    /// `OTEL_EXPORTER_OTLP_INSECURE` or a signal's: unset or invalid (warned about) is `fallback`,
    /// the general variable's value for a signal's, `false` for the general one.
    fn insecure(&mut self, name: &'static str, fallback: Option<bool>) -> Option<bool> {
        let instead = match fallback {
            Some(v) => format!("using {v}, as OTEL_EXPORTER_OTLP_INSECURE says"),
            None => "using false".to_owned(),
        };
        self.parse(
            name,
            |v| match v {
                v if v.eq_ignore_ascii_case("true") => Ok(true),
                v if v.eq_ignore_ascii_case("false") => Ok(false),
                _ => Err("not a boolean (true or false)".to_owned()),
            },
            &instead,
        )
        .or(fallback)
    }

    fn boolean(&mut self, name: &'static str) -> bool {
        let Some(var) = self.var(name) else {
            return false;
        };
        if var.value().eq_ignore_ascii_case("true") {
            return true;
        }
        if !var.value().eq_ignore_ascii_case("false") {
            self.warn(&var, "not a boolean (true or false)", "using false");
        }
        false
    }

    /// A timeout in milliseconds, `0` meaning no limit; `None` when unset or invalid.
    fn timeout(&mut self, name: &'static str, instead: &str) -> Option<Duration> {
        let ms = self.parse(
            name,
            |v| parse::integer(v, 0, "a timeout in milliseconds"),
            instead,
        )?;
        Some(match ms {
            0 => NO_TIMEOUT,
            ms => Duration::from_millis(ms),
        })
    }

    /// `OTEL_RESOURCE_ATTRIBUTES` without `service.name`, and that `service.name`.
    fn resource_attributes(&mut self) -> (Vec<(String, String)>, Option<String>) {
        let Some(var) = self.var("OTEL_RESOURCE_ATTRIBUTES") else {
            return (Vec::new(), None);
        };
        let pairs = match pairs::parse(var.value(), |_, _| Ok(())) {
            Ok(pairs) => pairs,
            Err(why) => {
                self.warn(&var, &why, "the whole variable is ignored");
                return (Vec::new(), None);
            }
        };
        // Grown as keys come, not sized for `pairs`: a list repeating one key keeps one.
        let mut attributes: Vec<(String, String)> = Vec::new();
        // Where each key is in `attributes`, so that finding a repeated key costs the same
        // whatever the number of keys (the variable may hold tens of thousands).
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut service_name = None;
        for (key, value) in pairs {
            if key == "service.name" {
                service_name = Some(value).filter(|v| !v.is_empty());
                continue;
            }
            // A repeated key: the last value wins, in the place of its first occurrence, as for
            // any other resource merge.
            match index.get(&key) {
                Some(&at) => attributes[at].1 = value,
                None => {
                    index.insert(key.clone(), attributes.len());
                    attributes.push((key, value));
                }
            }
        }
        (attributes, service_name)
    }

    /// An endpoint variable: [`endpoint::parse`] must accept it, then `judge` the value without
    /// its userinfo (it gives the endpoint to use). A refused value is warned about (its userinfo
    /// hidden, as in every warning) and counts as unset. Userinfo on an accepted value is dropped,
    /// with a warning: the SDK's and hyper's own lines print the URL they send to, and the HTTP
    /// exporter would not send it as credentials anyway (opentelemetry-otlp hands reqwest an
    /// `http::Request`, which skips reqwest's userinfo-to-`Authorization` step).
    ///
    /// A value without `://` gets `scheme` put before it, when given (a gRPC endpoint's
    /// `host:port`); the warnings quote it as given.
    fn endpoint(
        &mut self,
        name: &'static str,
        scheme: Option<&str>,
        judge: impl FnOnce(&str) -> Result<String, String>,
        instead: &str,
    ) -> Option<String> {
        let var = self.var(name)?;
        let with_scheme = match scheme {
            Some(scheme) if !var.value().contains("://") => {
                Some(format!("{scheme}://{}", var.value()))
            }
            _ => None,
        };
        let value = with_scheme.as_deref().unwrap_or(var.value());
        let judged = endpoint::parse(value).and_then(|_| {
            let without = endpoint::without_userinfo(value);
            judge(without.as_deref().unwrap_or(value)).map(|used| (used, without.is_some()))
        });
        match judged {
            Ok((used, had_userinfo)) => {
                if had_userinfo {
                    self.warn(
                        &var,
                        "credentials in an endpoint are not sent (give them as a header, \
                         in OTEL_EXPORTER_OTLP_HEADERS)",
                        &format!("using {used}"),
                    );
                }
                Some(used)
            }
            Err(why) => {
                self.warn(&var, &why, instead);
                None
            }
        }
    }

    fn headers(&mut self, name: &'static str, instead: &str) -> Option<Vec<(String, String)>> {
        let var = self.var(name)?;
        match pairs::parse(var.value(), pairs::check_header) {
            Ok(headers) => Some(headers),
            Err(why) => {
                self.warn_hidden(&var, &why, instead);
                None
            }
        }
    }

    /// One signal's protocol: its own variable, else `general`, else `http/protobuf`.
    fn signal_protocol(&mut self, general: Option<Protocol>, signal: Signal) -> Protocol {
        let fallback = general.unwrap_or(Protocol::HttpProtobuf);
        self.parse(
            signal.vars().protocol,
            parse::protocol,
            &format!("using {}", protocol_name(fallback)),
        )
        .unwrap_or(fallback)
    }

    /// The general variables; the endpoint is judged for every signal with its protocol.
    fn otlp_general(&mut self, signals: &[SignalChoice]) -> GeneralOtlp {
        let endpoint_set = self.var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some();
        // Without a scheme only if every signal can take it (gRPC); then each signal's scheme.
        let scheme = signals
            .iter()
            .map(|s| s.scheme_if_missing())
            .reduce(|a, b| a.and(b))
            .flatten();
        let schemeless = scheme.is_some()
            && self
                .var("OTEL_EXPORTER_OTLP_ENDPOINT")
                .is_some_and(|v| !v.value().contains("://"));
        let endpoint = self.endpoint(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            scheme,
            |v| {
                for &choice in signals {
                    let base = signal_base(v, schemeless, choice);
                    let full =
                        endpoint::from_base(&base, choice.protocol, choice.signal.vars().path);
                    endpoint::usable(&full, choice.protocol)?;
                }
                Ok(v.to_owned())
            },
            "using the default endpoints",
        );
        let headers = self.headers("OTEL_EXPORTER_OTLP_HEADERS", "no headers are sent");
        let timeout = self.timeout(
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            &format!("using {DEFAULT_OTLP_TIMEOUT_MS}"),
        );
        let compression = self.parse(
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            parse::compression,
            "using none",
        );
        let tls = TlsFiles {
            certificate: self.tls_file("OTEL_EXPORTER_OTLP_CERTIFICATE"),
            client_certificate: self.tls_file("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
            client_key: self.tls_file("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
        };
        GeneralOtlp {
            endpoint,
            schemeless,
            endpoint_set,
            headers,
            timeout,
            compression,
            tls,
        }
    }

    /// One signal's OTLP settings, and whether its own endpoint variable is set (valid or not).
    fn otlp_signal(&mut self, general: &GeneralOtlp, choice: SignalChoice) -> (OtlpConfig, bool) {
        let SignalChoice {
            signal, protocol, ..
        } = choice;
        let fallback = match (&general.endpoint, protocol) {
            (Some(base), _) => endpoint::from_base(
                &signal_base(base, general.schemeless, choice),
                protocol,
                signal.vars().path,
            ),
            (None, Protocol::Grpc) => DEFAULT_GRPC_ENDPOINT.to_owned(),
            (None, _) => format!("{DEFAULT_HTTP_BASE}/{}", signal.vars().path),
        };
        let own_set = self.var(signal.vars().endpoint).is_some();
        let own = self.endpoint(
            signal.vars().endpoint,
            choice.scheme_if_missing(),
            |v| {
                let full = endpoint::cut(v).with_root_path();
                endpoint::usable(&full, protocol)?;
                Ok(full)
            },
            &format!("using {fallback}"),
        );
        let endpoint = own.unwrap_or(fallback);

        let instead = match general.headers {
            Some(_) => "using OTEL_EXPORTER_OTLP_HEADERS",
            None => "no headers are sent",
        };
        let headers = self
            .headers(signal.vars().headers, instead)
            .or_else(|| general.headers.clone())
            .unwrap_or_default();

        let fallback = general
            .timeout
            .unwrap_or(Duration::from_millis(DEFAULT_OTLP_TIMEOUT_MS));
        let timeout = self
            .timeout(
                signal.vars().timeout,
                &format!("using {}", timeout_text(fallback)),
            )
            .unwrap_or(fallback);

        let fallback = general.compression.flatten();
        let instead = format!("using {}", compression_name(fallback));
        let compression = match self.var(signal.vars().compression) {
            // opentelemetry-otlp reads the signal variable untrimmed: to it `" none"` is unknown,
            // and it compresses as the general variable says, with no setting to stop it. Said
            // as it is done.
            Some(var)
                if fallback.is_some()
                    && var.value().eq_ignore_ascii_case("none")
                    && !var.raw.eq_ignore_ascii_case("none") =>
            {
                self.warn(
                    &var,
                    "none with blanks around it, which opentelemetry-otlp does not read as none",
                    &instead,
                );
                fallback
            }
            _ => self
                .parse(signal.vars().compression, parse::compression, &instead)
                .unwrap_or(fallback),
        };

        let vars = signal.vars();
        let tls = TlsFiles {
            certificate: self
                .tls_file(vars.certificate)
                .or_else(|| general.tls.certificate.clone()),
            client_certificate: self
                .tls_file(vars.client_certificate)
                .or_else(|| general.tls.client_certificate.clone()),
            client_key: self
                .tls_file(vars.client_key)
                .or_else(|| general.tls.client_key.clone()),
        };
        let config = OtlpConfig {
            protocol,
            endpoint,
            headers,
            timeout,
            compression,
            tls,
        };
        (config, own_set)
    }

    /// `OTEL_TRACES_EXPORTER`, and whether the variable chose it.
    fn traces_exporter(&mut self, default: TracesExporter) -> (TracesExporter, bool) {
        let Some(var) = self.var("OTEL_TRACES_EXPORTER") else {
            return (default, false);
        };
        let (chosen, problems) = pick_exporter(var.value(), |entry| match entry {
            "otlp" => Ok(TracesExporter::Otlp),
            "console" => Ok(TracesExporter::Console),
            "none" => Ok(TracesExporter::None),
            "zipkin" | "otlp/stdout" => Err("is not implemented by tracing-correlate"),
            _ => Err(""),
        });
        let result = chosen.unwrap_or(default);
        if !problems.is_empty() {
            let instead = format!("using {}", traces_exporter_name(result));
            self.warn(&var, &problems, &instead);
        }
        (result, chosen.is_some())
    }

    fn logs_exporter(&mut self) -> LogsExporter {
        let Some(var) = self.var("OTEL_LOGS_EXPORTER") else {
            return LogsExporter::None;
        };
        let (chosen, problems) = pick_exporter(var.value(), |entry| match entry {
            "otlp" => Ok(LogsExporter::Otlp),
            "none" => Ok(LogsExporter::None),
            "console" => Err(": the JSON lines are the console log output"),
            "otlp/stdout" => Err("is not implemented by tracing-correlate"),
            _ => Err(""),
        });
        let result = chosen.unwrap_or(LogsExporter::None);
        if !problems.is_empty() {
            let instead = match result {
                LogsExporter::Otlp => "using otlp",
                LogsExporter::None => "using none",
            };
            self.warn(&var, &problems, instead);
        }
        result
    }

    fn propagators(&mut self) -> Vec<PropagatorKind> {
        let Some(var) = self.var("OTEL_PROPAGATORS") else {
            return DEFAULT_PROPAGATORS.to_vec();
        };
        let mut kinds = Vec::new();
        let mut none = false;
        let mut problems = Vec::new();
        for entry in parse::list_entries(var.value()) {
            let kind = if entry.eq_ignore_ascii_case("tracecontext") {
                PropagatorKind::TraceContext
            } else if entry.eq_ignore_ascii_case("baggage") {
                PropagatorKind::Baggage
            } else if entry.eq_ignore_ascii_case("none") {
                none = true;
                continue;
            } else if UNIMPLEMENTED_PROPAGATORS
                .iter()
                .any(|name| entry.eq_ignore_ascii_case(name))
            {
                problems.push(format!("{entry} is not implemented by tracing-correlate"));
                continue;
            } else {
                problems.push(format!("unknown propagator {entry}"));
                continue;
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if none && !kinds.is_empty() {
            problems.push("none ignored alongside other propagators".to_owned());
        }
        if !none && kinds.is_empty() {
            // Nothing usable named: the variable is ignored as a whole.
            if problems.is_empty() {
                problems.push("no propagator named".to_owned());
            }
            kinds = DEFAULT_PROPAGATORS.to_vec();
        }
        if !problems.is_empty() {
            let instead = format!("using {}", propagator_names(&kinds));
            self.warn(&var, &problems.join(", "), &instead);
        }
        kinds
    }

    fn sampler(&mut self) -> SamplerConfig {
        let sampler = self
            .parse(
                "OTEL_TRACES_SAMPLER",
                |v| parse::sampler(v).ok_or_else(|| "unknown sampler".to_owned()),
                "using parentbased_always_on",
            )
            .unwrap_or(SamplerConfig::ParentBasedAlwaysOn);
        // The argument is read only for the ratio samplers: elsewhere it means nothing.
        let mut ratio = || {
            // Unset: 1.0, silently, as the specification says.
            self.parse("OTEL_TRACES_SAMPLER_ARG", parse::ratio, "using 1.0")
                .unwrap_or(1.0)
        };
        match sampler {
            SamplerConfig::TraceIdRatio(_) => SamplerConfig::TraceIdRatio(ratio()),
            SamplerConfig::ParentBasedTraceIdRatio(_) => {
                SamplerConfig::ParentBasedTraceIdRatio(ratio())
            }
            other => other,
        }
    }

    fn batch(&mut self, vars: &BatchVars) -> BatchConfig {
        let default_delay = vars.default_schedule_delay_ms;
        let floor = MIN_SCHEDULE_DELAY.as_millis();
        let schedule_delay = match self.var(vars.schedule_delay) {
            None => Duration::from_millis(default_delay),
            Some(var) => match parse::integer(var.value(), 0, "a duration in milliseconds") {
                Ok(ms) if u128::from(ms) >= floor => Duration::from_millis(ms),
                Ok(_) => {
                    self.warn(
                        &var,
                        &format!(
                            "below the floor of {floor} ms (a shorter delay makes the export \
                             thread spin)"
                        ),
                        &format!("using {floor}"),
                    );
                    MIN_SCHEDULE_DELAY
                }
                Err(why) => {
                    self.warn(&var, &why, &format!("using {default_delay}"));
                    Duration::from_millis(default_delay)
                }
            },
        };
        let max_queue_size = match self.var(vars.max_queue_size) {
            None => DEFAULT_MAX_QUEUE_SIZE,
            Some(var) => match parse::size(var.value()) {
                Ok(size) if size <= MAX_QUEUE_SIZE => size,
                Ok(_) => {
                    self.warn(
                        &var,
                        &format!(
                            "above the ceiling of {MAX_QUEUE_SIZE} (the SDK allocates the whole \
                             queue when it starts)"
                        ),
                        &format!("using {MAX_QUEUE_SIZE}"),
                    );
                    MAX_QUEUE_SIZE
                }
                Err(why) => {
                    self.warn(&var, &why, &format!("using {DEFAULT_MAX_QUEUE_SIZE}"));
                    DEFAULT_MAX_QUEUE_SIZE
                }
            },
        };
        let default_batch = DEFAULT_MAX_EXPORT_BATCH_SIZE.min(max_queue_size);
        let max_export_batch_size = match self.var(vars.max_export_batch_size) {
            None => default_batch,
            Some(var) => match parse::size(var.value()) {
                Ok(size) if size <= max_queue_size => size,
                Ok(_) => {
                    self.warn(
                        &var,
                        &format!("above the max queue size {max_queue_size}"),
                        &format!("using {max_queue_size}"),
                    );
                    max_queue_size
                }
                Err(why) => {
                    self.warn(&var, &why, &format!("using {default_batch}"));
                    default_batch
                }
            },
        };
        let export_timeout = self
            .timeout(
                vars.export_timeout,
                &format!("using {DEFAULT_EXPORT_TIMEOUT_MS}"),
            )
            .unwrap_or(Duration::from_millis(DEFAULT_EXPORT_TIMEOUT_MS));
        BatchConfig {
            schedule_delay,
            max_queue_size,
            max_export_batch_size,
            export_timeout,
        }
    }

    /// A non-negative integer limit; `None` when unset or invalid.
    fn limit(&mut self, name: &'static str, instead: &str) -> Option<u64> {
        self.parse(name, |v| parse::integer(v, 0, "an integer"), instead)
    }

    fn span_limits(&mut self) -> SpanLimitsConfig {
        let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let default_text = format!("using {DEFAULT_SPAN_LIMIT}");

        // The general attribute limits apply to spans unless the span-specific ones are set.
        let general_count = self
            .limit("OTEL_ATTRIBUTE_COUNT_LIMIT", &default_text)
            .map(to_u32);
        let fallback = general_count.unwrap_or(DEFAULT_SPAN_LIMIT);
        let attribute_count = self
            .limit(
                "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                &format!("using {fallback}"),
            )
            .map_or(fallback, to_u32);
        let event_count = self
            .limit("OTEL_SPAN_EVENT_COUNT_LIMIT", &default_text)
            .map_or(DEFAULT_SPAN_LIMIT, to_u32);
        let link_count = self
            .limit("OTEL_SPAN_LINK_COUNT_LIMIT", &default_text)
            .map_or(DEFAULT_SPAN_LIMIT, to_u32);

        let general_length = self
            .limit("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "no limit")
            .map(to_usize);
        let instead = match general_length {
            Some(n) => format!("using {n}"),
            None => "no limit".to_owned(),
        };
        let attribute_value_length = self
            .limit("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", &instead)
            .map(to_usize)
            .or(general_length);

        SpanLimitsConfig {
            attribute_count,
            event_count,
            link_count,
            attribute_value_length,
        }
    }
}

/// The protocol as `OTEL_EXPORTER_OTLP_PROTOCOL` names it.
pub(crate) fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        Protocol::HttpProtobuf => "http/protobuf",
        Protocol::HttpJson => "http/json",
    }
}

fn compression_name(compression: Option<Compression>) -> &'static str {
    match compression {
        Some(Compression::Gzip) => "gzip",
        None => "none",
    }
}

/// Reads an `OTEL_*_EXPORTER` list: the first value `classify` knows is the exporter; the others,
/// and the values it refuses (with the reason it gives: empty means unknown; a reason starting with
/// `:` follows the value directly, any other after a space), are the problems, joined for one
/// warning. Values are compared in lowercase.
fn pick_exporter<E: Copy + PartialEq>(
    value: &str,
    classify: impl Fn(&str) -> Result<E, &'static str>,
) -> (Option<E>, String) {
    let mut chosen = None;
    let mut problems = Vec::new();
    for entry in parse::list_entries(value) {
        match classify(&entry.to_ascii_lowercase()) {
            Ok(exporter) => match chosen {
                None => chosen = Some(exporter),
                Some(first) if first == exporter => {}
                Some(_) => problems.push(format!("{entry} ignored (one exporter per signal)")),
            },
            Err("") => problems.push(format!("unknown exporter {entry}")),
            Err(why) if why.starts_with(':') => problems.push(format!("{entry}{why}")),
            Err(why) => problems.push(format!("{entry} {why}")),
        }
    }
    if chosen.is_none() && problems.is_empty() {
        problems.push("no exporter named".to_owned());
    }
    (chosen, problems.join(", "))
}

fn traces_exporter_name(exporter: TracesExporter) -> &'static str {
    match exporter {
        TracesExporter::Otlp => "otlp",
        TracesExporter::Console => "console",
        TracesExporter::None => "none",
    }
}

/// The propagators as `OTEL_PROPAGATORS` names them.
pub(crate) fn propagator_names(kinds: &[PropagatorKind]) -> String {
    if kinds.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<&str> = kinds
        .iter()
        .map(|kind| match kind {
            PropagatorKind::TraceContext => "tracecontext",
            PropagatorKind::Baggage => "baggage",
        })
        .collect();
    names.join(",")
}

/// A timeout as it would be written in the variable.
fn timeout_text(timeout: Duration) -> String {
    if timeout == NO_TIMEOUT {
        "0 (no limit)".to_owned()
    } else {
        timeout.as_millis().to_string()
    }
}
