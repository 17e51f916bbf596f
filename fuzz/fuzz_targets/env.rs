//! What the `OTEL_*` targets share: the variables `src/env.rs` reads, and the reader run with
//! its invariant.

#![allow(dead_code)] // Each target uses part of this module.

/// Every variable the reader looks at (the list of the crate's own proptest in `src/env.rs`),
/// then variables it ignores, which must not matter.
pub const ALL_VARS: [&str; 36] = [
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
    // Not read.
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_LOG_LEVEL",
    "RUST_LOG",
];

/// How many of [`ALL_VARS`] the reader reads.
pub const READ_VARS: usize = 33;

/// Runs the whole `OTEL_*` reader on `vars` (the last value of a name wins) and checks that it
/// gives at most one warning per variable it reads that is set. Returns the warning count.
pub fn read(vars: &[(&str, &str)]) -> usize {
    let warnings = tracing_correlate::fuzzing::read_env(vars);
    let mut read: Vec<&str> = vars
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| ALL_VARS[..READ_VARS].contains(name))
        .collect();
    read.sort_unstable();
    read.dedup();
    assert!(
        warnings <= read.len(),
        "{warnings} warnings for {} variables: {vars:?}",
        read.len()
    );
    warnings
}
