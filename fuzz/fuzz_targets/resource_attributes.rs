//! `OTEL_RESOURCE_ATTRIBUTES` through the crate's whole `OTEL_*` reader
//! (`tracing_correlate::fuzzing::read_env`).
//!
//! The input (UTF-8; other inputs are skipped) is the variable's value. Checks that reading never
//! panics (percent-decoding, the `key=value` list, the `service.name` entry, repeated keys) and
//! gives at most one warning.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "env.rs"]
mod env;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    env::read(&[("OTEL_RESOURCE_ATTRIBUTES", value)]);
});
