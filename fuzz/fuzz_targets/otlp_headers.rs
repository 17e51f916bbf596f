//! `OTEL_EXPORTER_OTLP_HEADERS` and the per-signal `OTEL_EXPORTER_OTLP_{TRACES,LOGS}_HEADERS`
//! through the crate's whole `OTEL_*` reader (`tracing_correlate::fuzzing::read_env`).
//!
//! The input is UTF-8 (other inputs are skipped). Its first character picks the variables, by
//! `(char - '0') % 4`: `0` the general variable, `1` the traces one, `2` the logs one, each
//! given the rest of the input; `3` the general and the traces one, given the rest of the input
//! up to the first `\n` and after it. Checks that reading never panics (percent-decoding, the
//! `key=value` list, the header name and value checks, the fallback from a signal's variable to
//! the general one) and gives at most one warning per variable.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "env.rs"]
mod env;

const GENERAL: &str = "OTEL_EXPORTER_OTLP_HEADERS";
const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
const LOGS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut chars = input.chars();
    let Some(selector) = chars.next() else {
        return;
    };
    let rest = chars.as_str();
    match u32::from(selector).wrapping_sub(u32::from('0')) % 4 {
        0 => env::read(&[(GENERAL, rest)]),
        1 => env::read(&[(TRACES, rest)]),
        2 => env::read(&[(LOGS, rest)]),
        _ => {
            let (general, traces) = rest.split_once('\n').unwrap_or((rest, ""));
            env::read(&[(GENERAL, general), (TRACES, traces)])
        }
    };
});
