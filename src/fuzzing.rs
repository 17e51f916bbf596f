//! Entry points for the fuzz targets under `fuzz/` and the parser allocation tests. Hidden from
//! the documentation and not part of the API: they may change in any release.
//!
//! The W3C parsers are reachable through the public propagators; this module adds the carrier
//! the propagators' tests and the fuzz targets send headers in, and the `OTEL_*` reader, which is
//! private to the init.

use opentelemetry::propagation::Extractor;

/// A carrier that holds each header as many times as it was sent, as HTTP does (the `HashMap`
/// carrier holds one value per name).
#[derive(Clone, Debug, Default)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Adds one header line.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).map(|values| values[0])
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Reads the `OTEL_*` configuration from `vars` alone, as the init would from the process
/// environment, and returns how many warnings it gave. Runs every parser of `src/init/env/`
/// (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, endpoints, numbers, lists).
#[cfg(feature = "init")]
pub fn read_env(vars: &[(&str, &str)]) -> usize {
    let get = |name: &str| {
        vars.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let config = crate::init::read_env(&get);
    std::hint::black_box(&config);
    config.warnings.len()
}

/// Every `OTEL_*` variable [`read_env`] looks at.
#[cfg(feature = "init")]
pub const ENV_VARIABLES: &[&str] = &crate::init::ENV_VARIABLES;

/// How many stack traces this thread has captured (walked) so far: the tests check with it that
/// an event's one capture is shared by the layers (`src/stacktrace.rs`).
pub fn stacktraces_captured() -> u64 {
    crate::stacktrace::CAPTURES
        .try_with(|c| c.get())
        .unwrap_or(0)
}
