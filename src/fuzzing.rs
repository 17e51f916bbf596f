//! Entry points for the fuzz targets under `fuzz/` and the parser allocation tests. Hidden from
//! the documentation and not part of the API: they may change in any release.
//!
//! The W3C parsers are reachable through the public propagators; this module only adds the
//! `OTEL_*` reader, which is private to the init.

/// Reads the `OTEL_*` configuration from `vars` alone, as the init would from the process
/// environment, and returns how many warnings it gave. Runs every parser of `src/env.rs`
/// (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, endpoints, numbers, lists).
#[cfg(feature = "init")]
pub fn read_env(vars: &[(&str, &str)]) -> usize {
    let get = |name: &str| {
        vars.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let config = crate::env::read(&get);
    std::hint::black_box(&config);
    config.warnings.len()
}

/// Every `OTEL_*` variable [`read_env`] looks at.
#[cfg(feature = "init")]
pub const ENV_VARIABLES: &[&str] = &crate::env::VARIABLES;
