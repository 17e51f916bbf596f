//! The standard OpenTelemetry environment, read as the specification says
//! (`../shared/reference/otel-environment.md`), including where `opentelemetry_sdk` 0.33 reads it
//! wrongly or not at all.
//!
//! Reading is a pure function of a variable getter, so every rule is tested without touching the
//! process environment. A bad value never stops a service: it gives one [`EnvConfig::warnings`]
//! entry naming the variable and the value, and the variable is treated as unset.

use std::collections::HashMap;
use std::time::Duration;

use percent_encoding::percent_decode_str;

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
    /// Every name is an HTTP token and every value visible ASCII, spaces and tabs: what
    /// `http::HeaderName::from_bytes` and `http::HeaderValue::from_str` accept.
    pub(crate) headers: Vec<(String, String)>,
    /// Default 10 s. `0` means no limit (the specification's "indefinite"), given as
    /// 2³¹ − 1 ms (about 24.8 days).
    pub(crate) timeout: Duration,
    pub(crate) compression: Option<Compression>,
}

/// `OTEL_BSP_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchConfig {
    /// Default 5000 ms.
    pub(crate) schedule_delay: Duration,
    /// Default 2048.
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
    pub(crate) batch: BatchConfig,
    pub(crate) span_limits: SpanLimitsConfig,
    /// One message per bad variable: `OTEL_X="value": why; what is used instead`, the value
    /// exactly as given. Header variables show `<hidden>` instead of their value: they usually
    /// hold credentials.
    pub(crate) warnings: Vec<String>,
}

/// Every variable [`read`] looks at (the fuzz targets read this list through
/// [`crate::fuzzing::ENV_VARIABLES`]).
pub(crate) const VARIABLES: [&str; 33] = [
    "OTEL_SDK_DISABLED",
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
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
];

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

    let general = r.otlp_general();
    let (traces_otlp, traces_endpoint_given) = r.otlp_signal(&general, Signal::Traces);
    let (logs_otlp, _) = r.otlp_signal(&general, Signal::Logs);

    let default_traces_exporter = if general.endpoint.is_some() || traces_endpoint_given {
        TracesExporter::Otlp
    } else {
        TracesExporter::Console
    };
    let (traces_exporter, traces_exporter_explicit) = r.traces_exporter(default_traces_exporter);
    let logs_exporter = r.logs_exporter();
    let propagators = r.propagators();
    let sampler = r.sampler();
    let batch = r.batch();
    let span_limits = r.span_limits();

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
        span_limits,
        warnings: r.warnings,
    }
}

/// The largest integer accepted anywhere: 2³¹ − 1, the range the specification asks every SDK to
/// support. Larger values are rejected, which also keeps every duration far from overflowing an
/// `Instant`.
const MAX_INTEGER: u64 = 2_147_483_647;
/// A timeout of `0` means no limit; this stands for it (the specification suggests this value).
const NO_TIMEOUT: Duration = Duration::from_millis(MAX_INTEGER);

const DEFAULT_HTTP_BASE: &str = "http://localhost:4318";
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_OTLP_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_SCHEDULE_DELAY_MS: u64 = 5_000;
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

/// The signal an OTLP configuration is for.
#[derive(Clone, Copy)]
enum Signal {
    Traces,
    Logs,
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
}

const TRACES: SignalVars = SignalVars {
    path: "v1/traces",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    compression: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
};

const LOGS: SignalVars = SignalVars {
    path: "v1/logs",
    endpoint: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    compression: "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
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
    protocol: Option<Protocol>,
    /// Validated, trimmed; the signal path is added per signal and protocol.
    endpoint: Option<String>,
    headers: Option<Vec<(String, String)>>,
    timeout: Option<Duration>,
    /// `Some(None)` is an explicit `none`.
    compression: Option<Option<Compression>>,
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

    fn warn(&mut self, var: &Var, why: &str, instead: &str) {
        self.warnings
            .push(format!("{}=\"{}\": {why}; {instead}", var.name, var.raw));
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

    /// A duration in milliseconds.
    fn duration(&mut self, name: &'static str, default_ms: u64) -> Duration {
        let ms = self.parse(
            name,
            |v| parse_integer(v, 0, "a duration in milliseconds"),
            &format!("using {default_ms}"),
        );
        Duration::from_millis(ms.unwrap_or(default_ms))
    }

    /// A timeout in milliseconds, `0` meaning no limit; `None` when unset or invalid.
    fn timeout(&mut self, name: &'static str, instead: &str) -> Option<Duration> {
        let ms = self.parse(
            name,
            |v| parse_integer(v, 0, "a timeout in milliseconds"),
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
        let pairs = match parse_pairs(var.value(), |_, _| Ok(())) {
            Ok(pairs) => pairs,
            Err(why) => {
                self.warn(&var, &why, "the whole variable is ignored");
                return (Vec::new(), None);
            }
        };
        // Grown as keys come, not sized for `pairs`: a list repeating one key keeps one.
        let mut attributes: Vec<(String, String)> = Vec::new();
        // Where each key is in `attributes`: a search of the list for each key made reading
        // 25,000 keys take seconds, quadratic in the number of keys.
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

    fn headers(&mut self, name: &'static str, instead: &str) -> Option<Vec<(String, String)>> {
        let var = self.var(name)?;
        match parse_pairs(var.value(), check_header) {
            Ok(headers) => Some(headers),
            Err(why) => {
                self.warn_hidden(&var, &why, instead);
                None
            }
        }
    }

    fn otlp_general(&mut self) -> GeneralOtlp {
        let protocol = self.parse(
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            parse_protocol,
            "using http/protobuf",
        );
        let endpoint = self.parse(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            |v| parse_url(v).map(|_| v.to_owned()),
            "using the default endpoints",
        );
        let headers = self.headers("OTEL_EXPORTER_OTLP_HEADERS", "no headers are sent");
        let timeout = self.timeout(
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            &format!("using {DEFAULT_OTLP_TIMEOUT_MS}"),
        );
        let compression = self.parse(
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            parse_compression,
            "using none",
        );
        GeneralOtlp {
            protocol,
            endpoint,
            headers,
            timeout,
            compression,
        }
    }

    /// One signal's OTLP settings, and whether its own endpoint variable gave the endpoint.
    fn otlp_signal(&mut self, general: &GeneralOtlp, signal: Signal) -> (OtlpConfig, bool) {
        let fallback = general.protocol.unwrap_or(Protocol::HttpProtobuf);
        let protocol = self
            .parse(
                signal.vars().protocol,
                parse_protocol,
                &format!("using {}", protocol_name(fallback)),
            )
            .unwrap_or(fallback);

        let fallback = match (&general.endpoint, protocol) {
            (Some(base), Protocol::Grpc) => base.clone(),
            (Some(base), _) => with_signal_path(base, signal),
            (None, Protocol::Grpc) => DEFAULT_GRPC_ENDPOINT.to_owned(),
            (None, _) => format!("{DEFAULT_HTTP_BASE}/{}", signal.vars().path),
        };
        let own = self.parse(
            signal.vars().endpoint,
            |v| parse_url(v).map(|url| url.with_root_path()),
            &format!("using {fallback}"),
        );
        let own_given = own.is_some();
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
        let compression = self
            .parse(
                signal.vars().compression,
                parse_compression,
                &format!("using {}", compression_name(fallback)),
            )
            .unwrap_or(fallback);

        let config = OtlpConfig {
            protocol,
            endpoint,
            headers,
            timeout,
            compression,
        };
        (config, own_given)
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
        for entry in list_entries(var.value()) {
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
                |v| parse_sampler(v).ok_or_else(|| "unknown sampler".to_owned()),
                "using parentbased_always_on",
            )
            .unwrap_or(SamplerConfig::ParentBasedAlwaysOn);
        // The argument is read only for the ratio samplers: elsewhere it means nothing.
        let mut ratio = || {
            // Unset: 1.0, silently, as the specification says.
            self.parse("OTEL_TRACES_SAMPLER_ARG", parse_ratio, "using 1.0")
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

    fn batch(&mut self) -> BatchConfig {
        let schedule_delay = self.duration("OTEL_BSP_SCHEDULE_DELAY", DEFAULT_SCHEDULE_DELAY_MS);
        let max_queue_size = self
            .parse(
                "OTEL_BSP_MAX_QUEUE_SIZE",
                parse_size,
                &format!("using {DEFAULT_MAX_QUEUE_SIZE}"),
            )
            .unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
        let default_batch = DEFAULT_MAX_EXPORT_BATCH_SIZE.min(max_queue_size);
        let max_export_batch_size = match self.var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
            None => default_batch,
            Some(var) => match parse_size(var.value()) {
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
                "OTEL_BSP_EXPORT_TIMEOUT",
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
        self.parse(name, |v| parse_integer(v, 0, "an integer"), instead)
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

/// The non-blank entries of a comma-separated list, trimmed.
fn list_entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// An integer in `min..=`[`MAX_INTEGER`]; `what` names it in the error.
fn parse_integer(value: &str, min: u64, what: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=MAX_INTEGER).contains(&n) => Ok(n),
        _ => Err(format!("not {what} from {min} to {MAX_INTEGER}")),
    }
}

/// A queue or batch size: a positive integer.
fn parse_size(value: &str) -> Result<usize, String> {
    let n = parse_integer(value, 1, "an integer")?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

fn parse_ratio(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        // `abs` only turns -0.0 into 0.0.
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio.abs()),
        _ => Err("not a ratio in [0, 1]".to_owned()),
    }
}

fn parse_sampler(value: &str) -> Option<SamplerConfig> {
    const SAMPLERS: [(&str, SamplerConfig); 6] = [
        ("always_on", SamplerConfig::AlwaysOn),
        ("always_off", SamplerConfig::AlwaysOff),
        ("traceidratio", SamplerConfig::TraceIdRatio(1.0)),
        ("parentbased_always_on", SamplerConfig::ParentBasedAlwaysOn),
        (
            "parentbased_always_off",
            SamplerConfig::ParentBasedAlwaysOff,
        ),
        (
            "parentbased_traceidratio",
            SamplerConfig::ParentBasedTraceIdRatio(1.0),
        ),
    ];
    SAMPLERS
        .iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, sampler)| *sampler)
}

fn parse_protocol(value: &str) -> Result<Protocol, String> {
    if value.eq_ignore_ascii_case("grpc") {
        Ok(Protocol::Grpc)
    } else if value.eq_ignore_ascii_case("http/protobuf") {
        Ok(Protocol::HttpProtobuf)
    } else if value.eq_ignore_ascii_case("http/json") {
        Ok(Protocol::HttpJson)
    } else {
        Err("unknown protocol (grpc, http/protobuf or http/json)".to_owned())
    }
}

/// `Ok(None)` is an explicit `none`.
fn parse_compression(value: &str) -> Result<Option<Compression>, String> {
    if value.eq_ignore_ascii_case("gzip") {
        Ok(Some(Compression::Gzip))
    } else if value.eq_ignore_ascii_case("none") {
        Ok(None)
    } else {
        Err("unknown compression (gzip or none)".to_owned())
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
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
    for entry in list_entries(value) {
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

fn propagator_names(kinds: &[PropagatorKind]) -> String {
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

/// `k=v,k2=v2`, keys and values trimmed then percent-decoded, each pair checked by `check`;
/// blank entries are skipped. Any bad pair rejects the whole list, with the reason.
fn parse_pairs(
    value: &str,
    check: impl Fn(&str, &str) -> Result<(), &'static str>,
) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (index, entry) in value.split(',').enumerate() {
        let n = index + 1;
        if entry.trim().is_empty() {
            continue;
        }
        // Split at the first `=`: an unencoded `=` in a value (base64 padding) is kept.
        let Some((key, value)) = entry.split_once('=') else {
            return Err(format!("entry {n} is not key=value"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("entry {n} has an empty key"));
        }
        let key = percent_decode(key).map_err(|why| format!("entry {n}: the key {why}"))?;
        let value =
            percent_decode(value.trim()).map_err(|why| format!("entry {n}: the value {why}"))?;
        check(&key, &value).map_err(|why| format!("entry {n}: {why}"))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Strict percent-decoding: `percent_decode_str` passes a `%` without two hex digits through
/// unchanged, which the specification counts as a decoding failure.
fn percent_decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(hi), Some(lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit()
            )
    });
    if !escapes_ok {
        return Err("has a % not followed by two hex digits");
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| "is not UTF-8 once percent-decoded")
}

/// What `http::HeaderName::from_bytes` and `http::HeaderValue::from_str` accept, so that no
/// header is dropped silently later.
fn check_header(name: &str, value: &str) -> Result<(), &'static str> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(token) {
        return Err("the header name is not an HTTP token");
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err("the header value has a control or non-ASCII character");
    }
    Ok(())
}

/// An `http://` or `https://` URL with a host, cut where the signal path goes.
#[derive(Debug, PartialEq)]
struct Url<'a> {
    /// Scheme and authority: `http://host:4318`.
    origin: &'a str,
    /// From the first `/` after the authority to the query or fragment; may be empty.
    path: &'a str,
    /// The query and fragment, from `?` or `#`; may be empty.
    rest: &'a str,
}

impl Url<'_> {
    /// As given, with `/` for an empty path.
    fn with_root_path(&self) -> String {
        let path = if self.path.is_empty() { "/" } else { self.path };
        format!("{}{path}{}", self.origin, self.rest)
    }
}

/// The base endpoint with `v1/<signal>` appended after exactly one `/`.
fn with_signal_path(base: &str, signal: Signal) -> String {
    match parse_url(base) {
        Ok(url) => format!(
            "{}{}/{}{}",
            url.origin,
            url.path.trim_end_matches('/'),
            signal.vars().path,
            url.rest
        ),
        // Only validated endpoints get here.
        Err(_) => format!("{DEFAULT_HTTP_BASE}/{}", signal.vars().path),
    }
}

fn parse_url(value: &str) -> Result<Url<'_>, String> {
    const NOT_A_URL: &str = "not an http:// or https:// URL with a host";
    let not_a_url = || NOT_A_URL.to_owned();
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(not_a_url());
    }
    let has_prefix = |prefix: &str| {
        value
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    let scheme_len = if has_prefix("http://") {
        "http://".len()
    } else if has_prefix("https://") {
        "https://".len()
    } else {
        return Err(not_a_url());
    };
    let after_scheme = &value[scheme_len..];
    let authority_len = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_len];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host_ok, port) = match host_port.strip_prefix('[') {
        // An IP literal: `[::1]:4318`.
        Some(literal) => match literal.split_once(']') {
            Some((ip, after)) => {
                let ip_ok = !ip.is_empty()
                    && ip.contains(':')
                    && ip
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
                match after.strip_prefix(':') {
                    Some(port) => (ip_ok, Some(port)),
                    None => (ip_ok && after.is_empty(), None),
                }
            }
            None => (false, None),
        },
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            let host_char = |c: char| {
                !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=".contains(c)
            };
            (!host.is_empty() && host.chars().all(host_char), port)
        }
    };
    // An empty port (`http://host:/`) is allowed by RFC 3986 and means the default port.
    let port_ok = port.map_or(true, |p| {
        p.is_empty() || (p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok())
    });
    if !host_ok || !port_ok {
        return Err(not_a_url());
    }
    let origin_len = scheme_len + authority_len;
    let rest_start = value[origin_len..]
        .find(['?', '#'])
        .map_or(value.len(), |i| origin_len + i);
    Ok(Url {
        origin: &value[..origin_len],
        path: &value[origin_len..rest_start],
        rest: &value[rest_start..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use proptest::prelude::*;

    /// Reads a configuration from these variables only.
    fn read_env(vars: &[(&str, &str)]) -> EnvConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        read(&|name| map.get(name).cloned())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The one warning, which must name `var`.
    fn only_warning(config: &EnvConfig, var: &str) -> String {
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        let warning = config.warnings[0].clone();
        assert!(
            warning.starts_with(&format!("{var}=")),
            "{warning:?} does not name {var}"
        );
        warning
    }

    fn assert_no_warnings(config: &EnvConfig) {
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    // General rules.

    #[test]
    fn no_variables_give_the_defaults_and_no_warnings() {
        let config = read_env(&[]);
        let otlp = |signal: &str| OtlpConfig {
            protocol: Protocol::HttpProtobuf,
            endpoint: format!("http://localhost:4318/v1/{signal}"),
            headers: Vec::new(),
            timeout: ms(10_000),
            compression: None,
        };
        assert_eq!(
            config,
            EnvConfig {
                sdk_disabled: false,
                service_name: None,
                resource_attributes: Vec::new(),
                traces_exporter: TracesExporter::Console,
                traces_exporter_explicit: false,
                logs_exporter: LogsExporter::None,
                traces_otlp: otlp("traces"),
                logs_otlp: otlp("logs"),
                propagators: vec![PropagatorKind::TraceContext, PropagatorKind::Baggage],
                sampler: SamplerConfig::ParentBasedAlwaysOn,
                batch: BatchConfig {
                    schedule_delay: ms(5_000),
                    max_queue_size: 2_048,
                    max_export_batch_size: 512,
                    export_timeout: ms(30_000),
                },
                span_limits: SpanLimitsConfig {
                    attribute_count: 128,
                    event_count: 128,
                    link_count: 128,
                    attribute_value_length: None,
                },
                warnings: Vec::new(),
            }
        );
    }

    #[test]
    fn empty_and_blank_values_count_as_unset() {
        let vars: Vec<(&str, &str)> = all_vars()
            .iter()
            .enumerate()
            .map(|(i, &name)| (name, if i % 2 == 0 { "" } else { "  \t " }))
            .collect();
        assert_eq!(read_env(&vars), read_env(&[]));
    }

    #[test]
    fn values_are_trimmed() {
        let config = read_env(&[
            ("OTEL_TRACES_SAMPLER", " always_off\n"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", " 100 "),
            ("OTEL_SERVICE_NAME", "  checkout "),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.sampler, SamplerConfig::AlwaysOff);
        assert_eq!(config.batch.max_queue_size, 100);
        assert_eq!(config.service_name.as_deref(), Some("checkout"));
    }

    #[test]
    fn warnings_quote_the_value_exactly_as_given() {
        let config = read_env(&[("OTEL_TRACES_SAMPLER", " alwayz_on ")]);
        assert_eq!(
            config.warnings,
            ["OTEL_TRACES_SAMPLER=\" alwayz_on \": unknown sampler; using parentbased_always_on"]
        );
        // No escaping here: the JSON layer escapes the whole message.
        let config = read_env(&[("OTEL_SDK_DISABLED", "x\"\n{\"level\":\"ERROR\"}")]);
        assert_eq!(
            config.warnings,
            ["OTEL_SDK_DISABLED=\"x\"\n{\"level\":\"ERROR\"}\": not a boolean (true or false); using false"]
        );
    }

    #[test]
    fn each_bad_variable_warns_once_even_when_shared_by_both_signals() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "udp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
        ]);
        let names: Vec<&str> = config
            .warnings
            .iter()
            .map(|w| w.split('=').next().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ]
        );
    }

    // OTEL_SDK_DISABLED.

    #[test]
    fn sdk_disabled_is_true_only_for_true_in_any_case() {
        for value in ["true", "TRUE", "True", " tRuE "] {
            let config = read_env(&[("OTEL_SDK_DISABLED", value)]);
            assert!(config.sdk_disabled, "{value:?}");
            assert_no_warnings(&config);
        }
    }

    #[test]
    fn sdk_disabled_false_is_false_without_warning() {
        for value in ["false", "FALSE", "False"] {
            let config = read_env(&[("OTEL_SDK_DISABLED", value)]);
            assert!(!config.sdk_disabled);
            assert_no_warnings(&config);
        }
    }

    #[test]
    fn sdk_disabled_other_values_warn_and_are_false() {
        for value in ["1", "yes", "on", "truee"] {
            let config = read_env(&[("OTEL_SDK_DISABLED", value)]);
            assert!(!config.sdk_disabled, "{value:?}");
            assert_eq!(
                only_warning(&config, "OTEL_SDK_DISABLED"),
                format!(
                    "OTEL_SDK_DISABLED=\"{value}\": not a boolean (true or false); using false"
                )
            );
        }
    }

    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.

    #[test]
    fn service_name_wins_over_resource_attributes() {
        let config = read_env(&[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=cart,team=shop"),
        ]);
        assert_eq!(config.service_name.as_deref(), Some("checkout"));
        assert_eq!(config.resource_attributes, pairs(&[("team", "shop")]));
        assert_no_warnings(&config);
    }

    #[test]
    fn service_name_comes_from_resource_attributes_without_otel_service_name() {
        let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=cart%20v2")]);
        assert_eq!(config.service_name.as_deref(), Some("cart v2"));
        assert!(config.resource_attributes.is_empty());
    }

    #[test]
    fn resource_attributes_are_trimmed_then_percent_decoded() {
        let config = read_env(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            " deployment.environment = prod , note=a%2Cb%3Dc%20d ,k%C3%A9y=%E2%9C%93,,",
        )]);
        assert_no_warnings(&config);
        assert_eq!(
            config.resource_attributes,
            pairs(&[
                ("deployment.environment", "prod"),
                ("note", "a,b=c d"),
                ("kéy", "✓"),
            ])
        );
    }

    #[test]
    fn resource_attributes_keep_a_raw_equals_sign_in_values_and_empty_values() {
        let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", "token=YWJj==,empty=")]);
        assert_no_warnings(&config);
        assert_eq!(
            config.resource_attributes,
            pairs(&[("token", "YWJj=="), ("empty", "")])
        );
    }

    #[test]
    fn resource_attributes_repeated_key_last_value_wins() {
        let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2,a=3")]);
        assert_eq!(config.resource_attributes, pairs(&[("a", "3"), ("b", "2")]));
    }

    #[test]
    fn resource_attributes_of_the_largest_legal_variable_are_all_kept_in_order() {
        // 25,000 distinct keys in 189 KB, more than one environment string may hold on Linux
        // (128 KiB); the first and last keys repeated at the end with new values. (A search of the
        // list for each key, as before, took 3.7 s on this input in a debug build; now 0.06 s.)
        let keys: Vec<String> = (0..25_000).map(|i| format!("k{i}")).collect();
        let mut value: String = keys.iter().map(|k| format!("{k}=,")).collect();
        value.push_str("k0=first,k24999=last");
        let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", &value)]);
        assert_no_warnings(&config);
        assert_eq!(config.resource_attributes.len(), 25_000);
        assert!(config
            .resource_attributes
            .iter()
            .zip(&keys)
            .all(|((k, _), expected)| k == expected));
        assert_eq!(config.resource_attributes[0].1, "first");
        assert_eq!(config.resource_attributes[24_999].1, "last");
        assert_eq!(config.resource_attributes[1].1, "");
    }

    #[test]
    fn resource_attributes_with_a_malformed_pair_are_discarded_whole() {
        for (value, why) in [
            ("a=1,b", "entry 2 is not key=value"),
            ("a=1, =2", "entry 2 has an empty key"),
            ("=2", "entry 1 has an empty key"),
        ] {
            let config = read_env(&[
                ("OTEL_RESOURCE_ATTRIBUTES", value),
                ("OTEL_SERVICE_NAME", ""),
            ]);
            assert!(config.resource_attributes.is_empty(), "{value:?}");
            assert_eq!(
                only_warning(&config, "OTEL_RESOURCE_ATTRIBUTES"),
                format!(
                    "OTEL_RESOURCE_ATTRIBUTES=\"{value}\": {why}; the whole variable is ignored"
                )
            );
        }
    }

    #[test]
    fn resource_attributes_with_a_bad_percent_escape_are_discarded_whole() {
        for value in [
            "a=1,b=50%",
            "a=1,b=%4",
            "a=%zz",
            "k%g1=v",
            "service.name=x,b=%%41",
        ] {
            let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", value)]);
            assert!(config.resource_attributes.is_empty(), "{value:?}");
            assert_eq!(config.service_name, None, "{value:?}");
            let warning = only_warning(&config, "OTEL_RESOURCE_ATTRIBUTES");
            assert!(
                warning.contains("has a % not followed by two hex digits"),
                "{warning}"
            );
        }
    }

    #[test]
    fn resource_attributes_not_utf8_once_decoded_are_discarded_whole() {
        let config = read_env(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=%FF%FE")]);
        assert!(config.resource_attributes.is_empty());
        assert_eq!(
            only_warning(&config, "OTEL_RESOURCE_ATTRIBUTES"),
            "OTEL_RESOURCE_ATTRIBUTES=\"a=1,b=%FF%FE\": entry 2: the value is not UTF-8 once \
             percent-decoded; the whole variable is ignored"
        );
    }

    // Headers.

    #[test]
    fn headers_are_percent_decoded_and_go_to_both_signals() {
        let config = read_env(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Authorization=Basic%20dXNlcg==, x-team = shop ",
        )]);
        assert_no_warnings(&config);
        let expected = pairs(&[("Authorization", "Basic dXNlcg=="), ("x-team", "shop")]);
        assert_eq!(config.traces_otlp.headers, expected);
        assert_eq!(config.logs_otlp.headers, expected);
    }

    #[test]
    fn signal_headers_replace_the_general_headers_entirely() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "c=3"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "d=4"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.headers, pairs(&[("c", "3")]));
        assert_eq!(config.logs_otlp.headers, pairs(&[("d", "4")]));
    }

    #[test]
    fn malformed_headers_are_discarded_whole_without_showing_the_value() {
        let config = read_env(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret,broken")]);
        assert!(config.traces_otlp.headers.is_empty());
        assert!(config.logs_otlp.headers.is_empty());
        let warning = only_warning(&config, "OTEL_EXPORTER_OTLP_HEADERS");
        assert_eq!(
            warning,
            "OTEL_EXPORTER_OTLP_HEADERS=<hidden>: entry 2 is not key=value; no headers are sent"
        );
        assert!(!warning.contains("secret"));
    }

    #[test]
    fn malformed_signal_headers_fall_back_to_the_general_headers() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=%x"),
        ]);
        assert_eq!(config.traces_otlp.headers, pairs(&[("a", "1")]));
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS=<hidden>: entry 1: the value has a % not followed \
             by two hex digits; using OTEL_EXPORTER_OTLP_HEADERS"
        );
    }

    #[test]
    fn headers_an_http_client_would_reject_are_discarded_whole() {
        for (value, why) in [
            (
                "a=1,x-inject=v%0D%0AHost: evil",
                "the header value has a control",
            ),
            ("bad%20name=1", "the header name is not an HTTP token"),
            ("b=caf%C3%A9", "the header value has a control or non-ASCII"),
        ] {
            let config = read_env(&[("OTEL_EXPORTER_OTLP_HEADERS", value)]);
            assert!(config.traces_otlp.headers.is_empty(), "{value:?}");
            let warning = only_warning(&config, "OTEL_EXPORTER_OTLP_HEADERS");
            assert!(warning.contains(why), "{warning}");
        }
    }

    // Endpoints.

    #[test]
    fn base_endpoint_gets_the_signal_path_after_exactly_one_slash_for_http() {
        for (base, traces, logs) in [
            (
                "http://c:4318",
                "http://c:4318/v1/traces",
                "http://c:4318/v1/logs",
            ),
            (
                "http://c:4318/",
                "http://c:4318/v1/traces",
                "http://c:4318/v1/logs",
            ),
            (
                "http://c:4318//",
                "http://c:4318/v1/traces",
                "http://c:4318/v1/logs",
            ),
            (
                "https://c/prefix",
                "https://c/prefix/v1/traces",
                "https://c/prefix/v1/logs",
            ),
            (
                "https://c/prefix/",
                "https://c/prefix/v1/traces",
                "https://c/prefix/v1/logs",
            ),
            (
                "http://c:4318?tenant=a",
                "http://c:4318/v1/traces?tenant=a",
                "http://c:4318/v1/logs?tenant=a",
            ),
        ] {
            for protocol in ["http/protobuf", "http/json"] {
                let config = read_env(&[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", base),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ]);
                assert_no_warnings(&config);
                assert_eq!(config.traces_otlp.endpoint, traces, "{base} {protocol}");
                assert_eq!(config.logs_otlp.endpoint, logs, "{base} {protocol}");
            }
        }
    }

    #[test]
    fn base_endpoint_is_used_as_is_for_grpc() {
        for base in ["http://c:4317", "https://c:4317/", "http://c:4317/prefix"] {
            let config = read_env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", base),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ]);
            assert_eq!(config.traces_otlp.endpoint, base);
            assert_eq!(config.logs_otlp.endpoint, base);
        }
    }

    #[test]
    fn signal_endpoint_is_used_as_is_and_no_path_means_root() {
        for protocol in ["grpc", "http/protobuf", "http/json"] {
            for (value, expected) in [
                ("http://c:4318", "http://c:4318/"),
                ("http://c:4318/", "http://c:4318/"),
                ("http://c:4318/custom", "http://c:4318/custom"),
                ("https://c/v1/traces", "https://c/v1/traces"),
                ("http://c:4318?x=1", "http://c:4318/?x=1"),
            ] {
                let config = read_env(&[
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value),
                    ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", value),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ]);
                assert_no_warnings(&config);
                assert_eq!(config.traces_otlp.endpoint, expected, "{value} {protocol}");
                assert_eq!(config.logs_otlp.endpoint, expected, "{value} {protocol}");
            }
        }
    }

    #[test]
    fn signal_endpoint_wins_over_the_base_endpoint() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/t"),
        ]);
        assert_eq!(config.traces_otlp.endpoint, "http://traces:4318/t");
        assert_eq!(config.logs_otlp.endpoint, "http://base:4318/v1/logs");
    }

    #[test]
    fn default_endpoints_depend_on_the_protocol() {
        let config = read_env(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")]);
        assert_eq!(config.traces_otlp.endpoint, "http://localhost:4317");
        assert_eq!(config.logs_otlp.endpoint, "http://localhost:4318/v1/logs");
        let config = read_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
        assert_eq!(
            config.traces_otlp.endpoint,
            "http://localhost:4318/v1/traces"
        );
    }

    #[test]
    fn invalid_endpoints_are_warned_about_and_unset() {
        for value in [
            "collector:4318",
            "localhost",
            "ftp://c:4318",
            "http://",
            "http:///v1/traces",
            "http://:4318",
            "http://user@:4318",
            "http://c:port",
            "http://c:99999",
            "http://c:4318:1",
            "http://c d:4318",
            "http://[::1",
            "http://[]:4318",
            "http://[::1]x",
            "http://c<:4318",
        ] {
            let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", value)]);
            assert_eq!(
                only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
                format!(
                    "OTEL_EXPORTER_OTLP_ENDPOINT=\"{value}\": not an http:// or https:// URL \
                     with a host; using the default endpoints"
                )
            );
            assert_eq!(
                config.traces_otlp.endpoint,
                "http://localhost:4318/v1/traces"
            );
            assert_eq!(config.traces_exporter, TracesExporter::Console, "{value}");
        }
    }

    #[test]
    fn valid_endpoint_forms() {
        for value in [
            "HTTP://c:4318",
            "https://user:pw@c.example.com:443/p",
            "http://[::1]:4318",
            "http://[::1]",
            "http://127.0.0.1:4318",
            "http://c:/",
            "http://c#frag",
        ] {
            let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", value)]);
            assert_no_warnings(&config);
        }
    }

    #[test]
    fn invalid_signal_endpoint_falls_back_to_the_base_endpoint() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "base:4318"),
        ]);
        assert_eq!(config.traces_otlp.endpoint, "http://base:4318/v1/traces");
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"base:4318\": not an http:// or https:// URL \
             with a host; using http://base:4318/v1/traces"
        );
    }

    // Protocol, timeout, compression.

    #[test]
    fn protocol_signal_variable_wins_and_values_are_case_insensitive() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", " HTTP/JSON "),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.protocol, Protocol::Grpc);
        assert_eq!(config.logs_otlp.protocol, Protocol::HttpJson);
        let config = read_env(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")]);
        assert_eq!(config.traces_otlp.protocol, Protocol::HttpProtobuf);
    }

    #[test]
    fn unknown_protocol_is_warned_about_and_ignored() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http"),
        ]);
        assert_eq!(config.traces_otlp.protocol, Protocol::Grpc);
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"http\": unknown protocol (grpc, http/protobuf \
             or http/json); using grpc"
        );
        let config = read_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/proto")]);
        assert_eq!(config.logs_otlp.protocol, Protocol::HttpProtobuf);
        only_warning(&config, "OTEL_EXPORTER_OTLP_PROTOCOL");
    }

    #[test]
    fn timeout_signal_variable_wins_over_the_general_one() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "500"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.timeout, ms(500));
        assert_eq!(config.logs_otlp.timeout, ms(2_000));
    }

    #[test]
    fn invalid_timeouts_are_warned_about_and_ignored() {
        for value in ["-1", "1.5", "10s", "2147483648", "99999999999999999999999"] {
            let config = read_env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", value)]);
            assert_eq!(config.traces_otlp.timeout, ms(10_000), "{value}");
            assert_eq!(
                only_warning(&config, "OTEL_EXPORTER_OTLP_TIMEOUT"),
                format!(
                    "OTEL_EXPORTER_OTLP_TIMEOUT=\"{value}\": not a timeout in milliseconds from \
                     0 to 2147483647; using 10000"
                )
            );
        }
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "-5"),
        ]);
        assert_eq!(config.logs_otlp.timeout, ms(3_000));
        assert!(only_warning(&config, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT").ends_with("; using 3000"));
    }

    #[test]
    fn zero_timeout_means_no_limit() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.timeout, ms(2_147_483_647));
        assert_eq!(config.batch.export_timeout, ms(2_147_483_647));
    }

    #[test]
    fn compression_signal_variable_wins_and_none_disables() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "none"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.compression, Some(Compression::Gzip));
        assert_eq!(config.logs_otlp.compression, None);
        let config = read_env(&[("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")]);
        assert_eq!(config.traces_otlp.compression, Some(Compression::Gzip));
        assert_eq!(config.logs_otlp.compression, None);
    }

    #[test]
    fn unknown_compression_is_warned_about_and_ignored() {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd"),
        ]);
        assert_eq!(config.traces_otlp.compression, Some(Compression::Gzip));
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=\"zstd\": unknown compression (gzip or none); \
             using gzip"
        );
    }

    // Exporters.

    #[test]
    fn traces_exporter_defaults_to_otlp_only_with_an_endpoint() {
        assert_eq!(read_env(&[]).traces_exporter, TracesExporter::Console);
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ] {
            let config = read_env(&[(var, "http://c:4318")]);
            assert_eq!(config.traces_exporter, TracesExporter::Otlp, "{var}");
            assert!(!config.traces_exporter_explicit);
        }
        // The logs endpoint says nothing about traces.
        let config = read_env(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://c:4318")]);
        assert_eq!(config.traces_exporter, TracesExporter::Console);
    }

    #[test]
    fn traces_exporter_explicit_values_are_case_insensitive() {
        for (value, expected) in [
            ("otlp", TracesExporter::Otlp),
            ("Console", TracesExporter::Console),
            (" NONE ", TracesExporter::None),
        ] {
            let config = read_env(&[
                ("OTEL_TRACES_EXPORTER", value),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ]);
            assert_no_warnings(&config);
            assert_eq!(config.traces_exporter, expected, "{value}");
            assert!(config.traces_exporter_explicit);
        }
    }

    #[test]
    fn traces_exporter_list_takes_the_first_known_value() {
        let config = read_env(&[("OTEL_TRACES_EXPORTER", "jaeger, otlp,otlp")]);
        assert_eq!(config.traces_exporter, TracesExporter::Otlp);
        assert!(config.traces_exporter_explicit);
        assert_eq!(
            only_warning(&config, "OTEL_TRACES_EXPORTER"),
            "OTEL_TRACES_EXPORTER=\"jaeger, otlp,otlp\": unknown exporter jaeger; using otlp"
        );
        let config = read_env(&[("OTEL_TRACES_EXPORTER", "none,console,zipkin")]);
        assert_eq!(config.traces_exporter, TracesExporter::None);
        assert_eq!(
            only_warning(&config, "OTEL_TRACES_EXPORTER"),
            "OTEL_TRACES_EXPORTER=\"none,console,zipkin\": console ignored (one exporter per \
             signal), zipkin is not implemented by tracing-correlate; using none"
        );
    }

    #[test]
    fn traces_exporter_with_no_known_value_uses_the_default() {
        let config = read_env(&[
            ("OTEL_TRACES_EXPORTER", "logging"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ]);
        assert_eq!(config.traces_exporter, TracesExporter::Otlp);
        assert!(!config.traces_exporter_explicit);
        assert_eq!(
            only_warning(&config, "OTEL_TRACES_EXPORTER"),
            "OTEL_TRACES_EXPORTER=\"logging\": unknown exporter logging; using otlp"
        );
        let config = read_env(&[("OTEL_TRACES_EXPORTER", ",,")]);
        assert_eq!(config.traces_exporter, TracesExporter::Console);
        assert!(only_warning(&config, "OTEL_TRACES_EXPORTER").contains("no exporter named"));
    }

    #[test]
    fn logs_exporter_defaults_to_none_and_reads_otlp_and_none() {
        assert_eq!(read_env(&[]).logs_exporter, LogsExporter::None);
        let config = read_env(&[("OTEL_LOGS_EXPORTER", "OTLP")]);
        assert_eq!(config.logs_exporter, LogsExporter::Otlp);
        assert_no_warnings(&config);
        let config = read_env(&[("OTEL_LOGS_EXPORTER", "none")]);
        assert_eq!(config.logs_exporter, LogsExporter::None);
        assert_no_warnings(&config);
    }

    #[test]
    fn logs_exporter_console_is_none_with_a_warning() {
        let config = read_env(&[("OTEL_LOGS_EXPORTER", "console")]);
        assert_eq!(config.logs_exporter, LogsExporter::None);
        assert_eq!(
            only_warning(&config, "OTEL_LOGS_EXPORTER"),
            "OTEL_LOGS_EXPORTER=\"console\": console: the JSON lines are the console log output; \
             using none"
        );
        // Listed with otlp, console does not hide it.
        let config = read_env(&[("OTEL_LOGS_EXPORTER", "console,otlp")]);
        assert_eq!(config.logs_exporter, LogsExporter::Otlp);
        only_warning(&config, "OTEL_LOGS_EXPORTER");
    }

    #[test]
    fn logs_exporter_unknown_is_warned_about_and_ignored() {
        let config = read_env(&[("OTEL_LOGS_EXPORTER", "loki,otlp")]);
        assert_eq!(config.logs_exporter, LogsExporter::Otlp);
        assert_eq!(
            only_warning(&config, "OTEL_LOGS_EXPORTER"),
            "OTEL_LOGS_EXPORTER=\"loki,otlp\": unknown exporter loki; using otlp"
        );
    }

    // Sampler.

    #[test]
    fn sampler_names_are_case_insensitive() {
        for (value, expected) in [
            ("always_on", SamplerConfig::AlwaysOn),
            ("ALWAYS_OFF", SamplerConfig::AlwaysOff),
            ("TraceIdRatio", SamplerConfig::TraceIdRatio(1.0)),
            ("parentbased_always_on", SamplerConfig::ParentBasedAlwaysOn),
            (
                "parentbased_always_off",
                SamplerConfig::ParentBasedAlwaysOff,
            ),
            (
                "parentbased_traceidratio",
                SamplerConfig::ParentBasedTraceIdRatio(1.0),
            ),
        ] {
            let config = read_env(&[("OTEL_TRACES_SAMPLER", value)]);
            assert_no_warnings(&config);
            assert_eq!(config.sampler, expected, "{value}");
        }
    }

    #[test]
    fn unknown_sampler_is_warned_about_and_the_default_used() {
        let config = read_env(&[("OTEL_TRACES_SAMPLER", "alwayz_on")]);
        assert_eq!(config.sampler, SamplerConfig::ParentBasedAlwaysOn);
        assert_eq!(
            config.warnings,
            ["OTEL_TRACES_SAMPLER=\"alwayz_on\": unknown sampler; using parentbased_always_on"]
        );
    }

    #[test]
    fn sampler_arg_is_the_ratio_of_the_ratio_samplers() {
        let config = read_env(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ]);
        assert_eq!(config.sampler, SamplerConfig::TraceIdRatio(0.25));
        let config = read_env(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ]);
        assert_eq!(config.sampler, SamplerConfig::ParentBasedTraceIdRatio(0.0));
        assert_no_warnings(&config);
    }

    #[test]
    fn sampler_arg_missing_is_one_silently() {
        let config = read_env(&[("OTEL_TRACES_SAMPLER", "traceidratio")]);
        assert_eq!(config.sampler, SamplerConfig::TraceIdRatio(1.0));
        assert_no_warnings(&config);
    }

    #[test]
    fn sampler_arg_invalid_is_warned_about_and_one_used() {
        for value in ["1.5", "-0.1", "NaN", "inf", "half", "25%"] {
            let config = read_env(&[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", value),
            ]);
            assert_eq!(config.sampler, SamplerConfig::ParentBasedTraceIdRatio(1.0));
            assert_eq!(
                only_warning(&config, "OTEL_TRACES_SAMPLER_ARG"),
                format!("OTEL_TRACES_SAMPLER_ARG=\"{value}\": not a ratio in [0, 1]; using 1.0")
            );
        }
    }

    #[test]
    fn sampler_arg_is_ignored_silently_for_other_samplers() {
        for sampler in ["", "always_on", "parentbased_always_off"] {
            let config = read_env(&[
                ("OTEL_TRACES_SAMPLER", sampler),
                ("OTEL_TRACES_SAMPLER_ARG", "not a number"),
            ]);
            assert_no_warnings(&config);
        }
    }

    // Propagators.

    #[test]
    fn propagators_are_read_case_insensitively_and_deduplicated() {
        let config = read_env(&[("OTEL_PROPAGATORS", "Baggage, tracecontext,baggage")]);
        assert_no_warnings(&config);
        assert_eq!(
            config.propagators,
            [PropagatorKind::Baggage, PropagatorKind::TraceContext]
        );
    }

    #[test]
    fn propagators_none_alone_gives_an_empty_list() {
        let config = read_env(&[("OTEL_PROPAGATORS", "none")]);
        assert_no_warnings(&config);
        assert!(config.propagators.is_empty());
    }

    #[test]
    fn propagators_none_alongside_others_is_ignored_with_a_warning() {
        let config = read_env(&[("OTEL_PROPAGATORS", "none,tracecontext")]);
        assert_eq!(config.propagators, [PropagatorKind::TraceContext]);
        assert_eq!(
            only_warning(&config, "OTEL_PROPAGATORS"),
            "OTEL_PROPAGATORS=\"none,tracecontext\": none ignored alongside other propagators; \
             using tracecontext"
        );
    }

    #[test]
    fn propagators_not_implemented_here_are_skipped_with_a_warning() {
        let config = read_env(&[(
            "OTEL_PROPAGATORS",
            "tracecontext,b3,B3MULTI,jaeger,xray,ottrace",
        )]);
        assert_eq!(config.propagators, [PropagatorKind::TraceContext]);
        assert_eq!(
            only_warning(&config, "OTEL_PROPAGATORS"),
            "OTEL_PROPAGATORS=\"tracecontext,b3,B3MULTI,jaeger,xray,ottrace\": b3 is not \
             implemented by tracing-correlate, B3MULTI is not implemented by tracing-correlate, \
             jaeger is not implemented by tracing-correlate, xray is not implemented by \
             tracing-correlate, ottrace is not implemented by tracing-correlate; using tracecontext"
        );
    }

    #[test]
    fn propagators_unknown_are_skipped_and_nothing_usable_means_the_default() {
        let config = read_env(&[("OTEL_PROPAGATORS", "w3c,baggage")]);
        assert_eq!(config.propagators, [PropagatorKind::Baggage]);
        assert_eq!(
            only_warning(&config, "OTEL_PROPAGATORS"),
            "OTEL_PROPAGATORS=\"w3c,baggage\": unknown propagator w3c; using baggage"
        );
        let config = read_env(&[("OTEL_PROPAGATORS", "b3")]);
        assert_eq!(
            config.propagators,
            [PropagatorKind::TraceContext, PropagatorKind::Baggage]
        );
        assert_eq!(
            only_warning(&config, "OTEL_PROPAGATORS"),
            "OTEL_PROPAGATORS=\"b3\": b3 is not implemented by tracing-correlate; using \
             tracecontext,baggage"
        );
    }

    // Batch span processor.

    #[test]
    fn batch_values_are_read() {
        let config = read_env(&[
            ("OTEL_BSP_SCHEDULE_DELAY", "0"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1024"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "1000"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(
            config.batch,
            BatchConfig {
                schedule_delay: ms(0),
                max_queue_size: 4_096,
                max_export_batch_size: 1_024,
                export_timeout: ms(1_000),
            }
        );
    }

    #[test]
    fn batch_invalid_values_are_warned_about_and_defaults_used() {
        for (var, value) in [
            ("OTEL_BSP_SCHEDULE_DELAY", "-1"),
            ("OTEL_BSP_SCHEDULE_DELAY", "5s"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "-2048"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "30.5"),
        ] {
            let config = read_env(&[(var, value)]);
            assert_eq!(config.batch, read_env(&[]).batch, "{var}={value}");
            only_warning(&config, var);
        }
        let config = read_env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "0")]);
        assert_eq!(
            config.warnings,
            ["OTEL_BSP_MAX_QUEUE_SIZE=\"0\": not an integer from 1 to 2147483647; using 2048"]
        );
    }

    #[test]
    fn batch_size_is_clamped_to_the_queue_size() {
        // The default batch size, silently.
        let config = read_env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")]);
        assert_no_warnings(&config);
        assert_eq!(config.batch.max_export_batch_size, 100);
        // A batch size given above the queue size, with a warning.
        let config = read_env(&[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")]);
        assert_eq!(config.batch.max_export_batch_size, 2_048);
        assert_eq!(
            only_warning(&config, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"4096\": above the max queue size 2048; using 2048"
        );
    }

    // Span limits.

    #[test]
    fn span_limits_are_read() {
        let config = read_env(&[
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "64"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "0"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "2147483647"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4096"),
        ]);
        assert_no_warnings(&config);
        assert_eq!(
            config.span_limits,
            SpanLimitsConfig {
                attribute_count: 64,
                event_count: 0,
                link_count: 2_147_483_647,
                attribute_value_length: Some(4_096),
            }
        );
    }

    #[test]
    fn span_attribute_value_length_limit_wins_over_the_general_one() {
        let config = read_env(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100")]);
        assert_eq!(config.span_limits.attribute_value_length, Some(100));
        let config = read_env(&[
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "200"),
        ]);
        assert_eq!(config.span_limits.attribute_value_length, Some(200));
        let config = read_env(&[
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1"),
        ]);
        assert_eq!(config.span_limits.attribute_value_length, Some(100));
        assert_eq!(
            only_warning(&config, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"-1\": not an integer from 0 to 2147483647; \
             using 100"
        );
    }

    #[test]
    fn span_attribute_count_limit_wins_over_the_general_attribute_count_limit() {
        let config = read_env(&[("OTEL_ATTRIBUTE_COUNT_LIMIT", "32")]);
        assert_eq!(config.span_limits.attribute_count, 32);
        let config = read_env(&[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "32"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "16"),
        ]);
        assert_eq!(config.span_limits.attribute_count, 16);
    }

    #[test]
    fn span_limits_invalid_are_warned_about_and_defaults_used() {
        for var in [
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
            "OTEL_SPAN_EVENT_COUNT_LIMIT",
            "OTEL_SPAN_LINK_COUNT_LIMIT",
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        ] {
            for value in ["-1", "ten", "2147483648"] {
                let config = read_env(&[(var, value)]);
                assert_eq!(
                    config.span_limits,
                    read_env(&[]).span_limits,
                    "{var}={value}"
                );
                only_warning(&config, var);
            }
        }
    }

    // URL parsing.

    #[test]
    fn url_is_cut_into_origin_path_and_rest() {
        assert_eq!(
            parse_url("https://u:p@c:4318/a/b?q=1#f"),
            Ok(Url {
                origin: "https://u:p@c:4318",
                path: "/a/b",
                rest: "?q=1#f",
            })
        );
        assert_eq!(
            parse_url("http://[::1]:4317"),
            Ok(Url {
                origin: "http://[::1]:4317",
                path: "",
                rest: "",
            })
        );
    }

    // Never panics.

    /// Every variable `read` looks at, then variables it ignores, which must not matter.
    fn all_vars() -> Vec<&'static str> {
        VARIABLES
            .iter()
            .copied()
            .chain(["OTEL_EXPORTER_OTLP_INSECURE", "OTEL_LOG_LEVEL", "RUST_LOG"])
            .collect()
    }

    /// Arbitrary strings, and strings made of the characters the parsers care about.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,40}",
            "[a-zA-Z0-9%=,:/._@?#\\[\\] +-]{0,40}",
            "(https?://)?[a-z:\\[\\]@%0-9]{0,12}(/[a-z/]{0,6})?([?#].{0,4})?",
            "(%[0-9A-Fa-fzZ]{0,2}|[a-z=, ]){0,12}",
            "-?[0-9]{0,12}(\\.[0-9]{0,3})?",
            Just("true".to_owned()),
            Just("parentbased_traceidratio".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn read_never_panics_and_keeps_its_invariants(
            values in proptest::collection::vec(proptest::option::of(value()), all_vars().len())
        ) {
            let vars: Vec<(&str, &str)> = all_vars()
                .iter()
                .zip(&values)
                .filter_map(|(&name, value)| Some((name, value.as_deref()?)))
                .collect();
            let config = read_env(&vars);

            // At most one warning per variable, each naming a variable that was set.
            let mut warned: Vec<&str> = Vec::new();
            for warning in &config.warnings {
                let name = warning.split('=').next().unwrap_or_default();
                prop_assert!(vars.iter().any(|(var, _)| *var == name), "{}", warning);
                prop_assert!(!warned.contains(&name), "{} warned twice", name);
                warned.push(name);
            }
            prop_assert!(config.batch.max_queue_size >= 1);
            prop_assert!(config.batch.max_export_batch_size >= 1);
            prop_assert!(config.batch.max_export_batch_size <= config.batch.max_queue_size);
            if let SamplerConfig::TraceIdRatio(r) | SamplerConfig::ParentBasedTraceIdRatio(r) =
                config.sampler
            {
                prop_assert!((0.0..=1.0).contains(&r));
            }
            for otlp in [&config.traces_otlp, &config.logs_otlp] {
                prop_assert!(parse_url(&otlp.endpoint).is_ok(), "{}", otlp.endpoint);
                for (name, value) in &otlp.headers {
                    prop_assert!(!name.is_empty());
                    prop_assert!(check_header(name, value).is_ok());
                }
            }
            let mut propagators = config.propagators.clone();
            propagators.dedup();
            prop_assert_eq!(propagators.len(), config.propagators.len());
            prop_assert!(config.resource_attributes.iter().all(|(k, _)| k != "service.name"));
        }
    }
}
