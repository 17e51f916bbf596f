//! Every endpoint value, of every endpoint variable and under every protocol, gives exporters
//! that build: the reader judges an endpoint by what the exporters will do with the final string,
//! so no value reaches them that would fail the init.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;

use crate::init::env::{self, EnvConfig};
use crate::init::export::Delivery;
use crate::init::providers::{logger_provider, tracer_provider, LineSink, Shared};
use crate::redact::Redaction;
use crate::Stats;

/// The endpoint variables.
const ENDPOINTS: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

fn read(vars: &[(&str, String)]) -> EnvConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env::read(&|name| map.get(name).cloned())
}

/// Builds both providers from `config` as the init does; the error's text when one fails.
fn build(config: &EnvConfig) -> Result<(), String> {
    let make_writer = Shared(Arc::new(std::io::sink), Default::default());
    let stats = Stats::default();
    let lines = LineSink {
        make_writer: &make_writer,
        service: "checkout",
        stats: &stats,
    };
    let resource = crate::init::providers::resource("checkout", config);
    let delivery = Arc::new(Delivery::default());
    let mut runtime = None;
    let (traces, _) = tracer_provider(
        config,
        &resource,
        &lines,
        &Redaction::default(),
        &delivery,
        &mut runtime,
        &mut Vec::new(),
    )
    .map_err(|e| e.to_string())?;
    let (logs, _) = logger_provider(config, &resource, &delivery, &mut runtime, &mut Vec::new())
        .map_err(|e| e.to_string())?;
    let _ = traces.shutdown();
    if let Some(logs) = logs {
        let _ = logs.shutdown();
    }
    Ok(())
}

/// `vars` plus OTLP export of both signals over `protocol`.
fn with_otlp(protocol: &str, vars: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
        ("OTEL_LOGS_EXPORTER", "otlp".to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
    ];
    all.extend_from_slice(vars);
    all
}

const PROTOCOLS: [&str; 3] = ["grpc", "http/protobuf", "http/json"];

/// The values the issue names, and their kin: each must be warned about, or used, never fail
/// the init.
fn named_values() -> Vec<String> {
    // Just under `http::Uri`'s limit (65,534 bytes) as given, over it once `/v1/traces` is added.
    let long = format!(
        "http://c:4318/{}",
        "a".repeat(65_534 - "http://c:4318/".len() - 2)
    );
    vec![
        "http://a%zz:4318".to_owned(),
        "http://b\u{fc}cher.example:4318".to_owned(),
        "http://xn--a.example:4318".to_owned(),
        "http://a\u{200b}b.example:4318".to_owned(),
        "http://c d:4318".to_owned(),
        "http://c:65536".to_owned(),
        "http://c:99999999999999999999".to_owned(),
        long,
        "https://c:4317".to_owned(),
        "HTTPS://c".to_owned(),
        "http://user:secret@c:4318".to_owned(),
        "http://user:secret@bad%zz".to_owned(),
    ]
}

#[test]
fn the_named_endpoint_values_never_fail_the_init() {
    let mut failures = Vec::new();
    for protocol in PROTOCOLS {
        for var in ENDPOINTS {
            for value in named_values() {
                let config = read(&with_otlp(protocol, &[(var, value.clone())]));
                if let Err(e) = build(&config) {
                    let shown: String = value.chars().take(40).collect();
                    let e: String = e.chars().take(200).collect();
                    failures.push(format!("{var}={shown:?} over {protocol}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn endpoint_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(https?|HTTPS?)://[a-z0-9.:@%\\[\\]-]{0,16}(/[a-z%/.]{0,8})?([?#][ -~]{0,6})?",
        "https?://[^/?#]{0,12}(:[0-9]{0,7})?",
        "https?://\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_endpoint_value_fails_the_init(
        protocol in proptest::sample::select(PROTOCOLS.to_vec()),
        values in proptest::collection::vec(proptest::option::of(endpoint_value()), 3),
    ) {
        let vars: Vec<(&'static str, String)> = ENDPOINTS
            .iter()
            .zip(values)
            .filter_map(|(&var, value)| Some((var, value?)))
            .collect();
        let config = read(&with_otlp(protocol, &vars));
        let built = build(&config);
        prop_assert!(built.is_ok(), "{:?}: {:?}", vars, built);
    }
}
