//! What the `OTEL_*` targets share: the variables `src/init/env/` reads, and the reader run with
//! its invariant.

#![allow(dead_code)] // Each target uses part of this module.

/// Variables the reader ignores, which must not matter.
pub const IGNORED_VARS: [&str; 3] = ["OTEL_EXPORTER_OTLP_INSECURE", "OTEL_LOG_LEVEL", "RUST_LOG"];

/// The `i`-th of the variables the reader reads (the crate's own list), then of
/// [`IGNORED_VARS`], counting round.
pub fn var(i: usize) -> &'static str {
    let read = tracing_correlate::fuzzing::ENV_VARIABLES;
    match i % (read.len() + IGNORED_VARS.len()) {
        i if i < read.len() => read[i],
        i => IGNORED_VARS[i - read.len()],
    }
}

/// Whether the reader reads `name`.
pub fn is_read(name: &str) -> bool {
    tracing_correlate::fuzzing::ENV_VARIABLES.contains(&name)
}

/// Runs the whole `OTEL_*` reader on `vars` (the last value of a name wins) and checks that it
/// gives at most one warning per variable it reads that is set. Returns the warning count.
pub fn read(vars: &[(&str, &str)]) -> usize {
    let warnings = tracing_correlate::fuzzing::read_env(vars);
    let mut read: Vec<&str> = vars
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| is_read(name))
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
