use super::endpoint::Endpoint;
use super::pairs::check_header;
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
        tls: TlsFiles::default(),
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
            logs_batch: BatchConfig {
                schedule_delay: ms(1_000),
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
            stacktraces: None,
            format: None,
            baggage_fields: None,
            held_lines: None,
            unsampled_level: None,
            warnings: Vec::new(),
        }
    );
}

#[test]
fn a_list_item_holding_a_userinfo_is_hidden_in_its_warning() {
    // Found by `read_never_panics_and_keeps_its_invariants`: the item was quoted whole.
    let config = read_env(&[("OTEL_PROPAGATORS", "a@://")]);
    assert_eq!(
        config.warnings,
        ["OTEL_PROPAGATORS=\"<hidden>@://\": unknown propagator <hidden>@://; using tracecontext,baggage"]
    );
}

#[test]
fn stacktraces_are_read_by_name_and_a_bad_value_is_warned_about() {
    for (value, expected) in [
        ("off", Some(Stacktraces::Off)),
        ("ON", Some(Stacktraces::On)),
        (" from_env ", Some(Stacktraces::FromEnv)),
    ] {
        let config = read_env(&[("TRACING_CORRELATE_STACKTRACES", value)]);
        assert_eq!((config.stacktraces, config.warnings.len()), (expected, 0));
    }
    let config = read_env(&[("TRACING_CORRELATE_STACKTRACES", "1")]);
    assert_eq!(config.stacktraces, None);
    assert_eq!(
        config.warnings,
        ["TRACING_CORRELATE_STACKTRACES=\"1\": not off, on or from_env; using the builder's setting"]
    );
}

#[test]
fn baggage_fields_are_a_trimmed_list_bounded_with_a_warning() {
    let config = read_env(&[(
        "TRACING_CORRELATE_BAGGAGE_FIELDS",
        " tenant, ,region,tenant ",
    )]);
    assert_eq!(
        (config.baggage_fields, config.warnings.len()),
        (Some(vec!["tenant".to_owned(), "region".to_owned()]), 0)
    );
    let many: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let config = read_env(&[("TRACING_CORRELATE_BAGGAGE_FIELDS", &many.join(","))]);
    assert_eq!(config.baggage_fields.as_deref(), Some(&many[..32]));
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0].ends_with(": more than 32 keys; using the first 32"),
        "{:?}",
        config.warnings
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
            format!("OTEL_SDK_DISABLED=\"{value}\": not a boolean (true or false); using false")
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
    // (128 KiB); the first and last keys repeated at the end with new values.
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
            format!("OTEL_RESOURCE_ATTRIBUTES=\"{value}\": {why}; the whole variable is ignored")
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
            "http://c/prefix",
            "http://c/prefix/v1/traces",
            "http://c/prefix/v1/logs",
        ),
        (
            "http://c/prefix/",
            "http://c/prefix/v1/traces",
            "http://c/prefix/v1/logs",
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
    for base in ["http://c:4317", "http://c:4317/", "http://c:4317/prefix"] {
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
            ("http://c/v1/traces", "http://c/v1/traces"),
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
        let shown = crate::init::credentials::hide_in_value(value);
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            format!(
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"{shown}\": not an http:// or https:// URL \
                 with a host; using the default endpoints"
            )
        );
        assert_eq!(
            config.traces_otlp.endpoint,
            "http://localhost:4318/v1/traces"
        );
        // The variable asked for OTLP export: the spans go to the default endpoint.
        assert_eq!(config.traces_exporter, TracesExporter::Otlp, "{value}");
    }
}

#[test]
fn valid_endpoint_forms() {
    for value in [
        "HTTP://c:4318",
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
fn endpoints_keep_their_spelling() {
    // What `url::Url` would normalise: case, default ports, dot segments, escapes, empty ports.
    for (base, traces) in [
        (
            "HTTP://Collector.Example:4318",
            "HTTP://Collector.Example:4318/v1/traces",
        ),
        ("http://c:443/a/./b/../", "http://c:443/a/./b/../v1/traces"),
        ("http://c/%7Etenant", "http://c/%7Etenant/v1/traces"),
        ("http://c:/", "http://c:/v1/traces"),
        ("http://[::1]:", "http://[::1]:/v1/traces"),
    ] {
        let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", base)]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.endpoint, traces, "{base}");
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", base),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert_eq!(config.traces_otlp.endpoint, base);
    }
    let config = read_env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "HTTP://C:80?Q=%41")]);
    assert_eq!(config.traces_otlp.endpoint, "HTTP://C:80/?Q=%41");
}

#[test]
fn endpoints_a_parser_reads_otherwise_or_refuses_are_invalid() {
    for value in [
        // `url` reads these as `http://c/...`; the exporters would not.
        "http:c",
        "http:/c",
        "http:\\\\c",
        "http://c\\x",
        "http://u\\p@c",
        // `url` would drop the tab, or encode the spaces.
        "http://c\td:4318",
        "http://c/a b",
        "http://c/a\u{2003}b",
        // `url` refuses these hosts: not an IPv4 address, not an IPv6 address, a bad escape.
        "http://c.1:4318",
        "http://1.2.3.256",
        "http://[1:2]",
        "http://a%zz",
        // `http::Uri`, which the exporters are built from, refuses these.
        "http://c{}:4318",
        "http://c\"",
        "http://caf\u{e9}.example",
        "http://c/a<b>",
    ] {
        let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", value)]);
        let shown = crate::init::credentials::hide_in_value(value);
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            format!(
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"{shown}\": not an http:// or https:// URL \
                 with a host; using the default endpoints"
            )
        );
        assert_eq!(
            config.traces_otlp.endpoint,
            "http://localhost:4318/v1/traces"
        );
    }
}

#[test]
fn credentials_in_an_endpoint_are_dropped_with_a_warning_that_hides_them() {
    for (value, used) in [
        ("http://user:p%40ss@c", "http://c/v1/traces"),
        (
            "http://user:pw@c.example.com:443/p",
            "http://c.example.com:443/p/v1/traces",
        ),
        ("http://u@[::1]:4318", "http://[::1]:4318/v1/traces"),
    ] {
        let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", value)]);
        assert_eq!(config.traces_otlp.endpoint, used);
        let base = used.trim_end_matches("/v1/traces");
        assert_eq!(
            only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            format!(
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"{}\": credentials in an endpoint are not sent \
                 (give them as a header, in OTEL_EXPORTER_OTLP_HEADERS); using {base}",
                crate::init::credentials::hide_in_value(value)
            )
        );
    }
    let config = read_env(&[(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://user:secret@c:4318/t",
    )]);
    assert_eq!(config.traces_otlp.endpoint, "http://c:4318/t");
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"http://<hidden>@c:4318/t\": credentials in an \
         endpoint are not sent (give them as a header, in OTEL_EXPORTER_OTLP_HEADERS); using \
         http://c:4318/t"
    );
    // Refused, the value is quoted with its userinfo hidden too.
    let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret@bad%zz")]);
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "OTEL_EXPORTER_OTLP_ENDPOINT=\"http://<hidden>@bad%zz\": not an http:// or https:// URL \
         with a host; using the default endpoints"
    );
}

#[test]
fn headers_longer_than_http_allows_are_discarded_whole() {
    let name = "x".repeat(1 << 16 | 1);
    let config = read_env(&[("OTEL_EXPORTER_OTLP_HEADERS", &format!("{name}=1"))]);
    assert!(config.traces_otlp.headers.is_empty());
    only_warning(&config, "OTEL_EXPORTER_OTLP_HEADERS");
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

#[test]
fn an_https_endpoint_is_used_over_every_protocol() {
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ]);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let expected = if protocol == "grpc" {
            "https://c:4318"
        } else {
            "https://c:4318/v1/traces"
        };
        assert_eq!(config.traces_otlp.endpoint, expected);
    }
    // A host TLS cannot verify a certificate against: tonic would fail the init on it.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://0"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "OTEL_EXPORTER_OTLP_ENDPOINT=\"https://0\": its host is not a name TLS can verify \
         (invalid dns name); using the default endpoints"
    );
    let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://[::1]:4318")]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn an_https_endpoint_is_refused_by_a_build_without_tls_saying_why() {
    // Such a build's gRPC exporter would fail the init on it, and every HTTP export would fail
    // with "network error".
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
        assert_eq!(
            endpoint::usable_in("https://c:4317/v1/traces", protocol, false),
            Err(
                "https:// needs the `tls` feature of tracing-correlate, which this build does \
                 not have (it is a default feature)"
                    .to_owned()
            )
        );
        assert_eq!(
            endpoint::usable_in("http://c:4317/v1/traces", protocol, false),
            Ok(())
        );
        assert_eq!(
            endpoint::usable_in("https://c:4317/v1/traces", protocol, true),
            Ok(())
        );
    }
}

#[test]
fn a_grpc_endpoint_without_a_scheme_is_https_unless_insecure() {
    // The specification's `host:port` for gRPC: TLS unless OTEL_EXPORTER_OTLP_INSECURE=true.
    let grpc = ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"), grpc]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.traces_otlp.endpoint, "https://c:4317");
    assert_eq!(config.logs_otlp.endpoint, "https://c:4317");
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "TRUE"),
        grpc,
    ]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.traces_otlp.endpoint, "http://c:4317");
    // Each signal by its own variable, over the general endpoint or its own.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "false"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "t:4317"),
        grpc,
    ]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.traces_otlp.endpoint, "http://t:4317/");
    assert_eq!(config.logs_otlp.endpoint, "https://c:4317");
    // A scheme given wins over the variable, as in the specification.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        grpc,
    ]);
    assert_eq!(config.traces_otlp.endpoint, "https://c:4317");
}

#[test]
fn an_endpoint_without_a_scheme_is_refused_where_a_signal_speaks_http() {
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "OTEL_EXPORTER_OTLP_ENDPOINT=\"c:4317\": not an http:// or https:// URL with a host; \
         using the default endpoints"
    );
    assert_eq!(config.traces_otlp.endpoint, "http://localhost:4317");
    // A signal's own endpoint is judged by its own protocol.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "t:4317"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "l:4318"),
    ]);
    assert_eq!(config.traces_otlp.endpoint, "https://t:4317/");
    assert_eq!(config.logs_otlp.endpoint, "http://localhost:4318/v1/logs");
    only_warning(&config, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
}

#[test]
fn an_insecure_value_that_is_not_a_boolean_is_warned_about() {
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "yes"),
    ]);
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_INSECURE"),
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE=\"yes\": not a boolean (true or false); using true, \
         as OTEL_EXPORTER_OTLP_INSECURE says"
    );
    assert_eq!(config.traces_otlp.endpoint, "http://c:4317");
}

#[test]
fn a_base_endpoint_too_long_once_the_signal_path_is_added_is_warned_about() {
    // Accepted by `http::Uri` as given (65,534 bytes at most), refused once `/v1/traces` is added.
    let base = format!(
        "http://c:4318/{}",
        "a".repeat(65_534 - "http://c:4318/".len())
    );
    assert!(base.parse::<http::Uri>().is_ok());
    let config = read_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &base)]);
    let warning = only_warning(&config, "OTEL_EXPORTER_OTLP_ENDPOINT");
    assert!(
        warning.ends_with(
            "longer than the exporter accepts once the signal path is added (65544 bytes; at \
             most 65534); using the default endpoints"
        ),
        "{}",
        &warning[warning.len() - 200..]
    );
    assert_eq!(
        config.traces_otlp.endpoint,
        "http://localhost:4318/v1/traces"
    );
    // As given, it is fine for gRPC.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    assert_no_warnings(&config);
    assert_eq!(config.traces_otlp.endpoint, base);
}

#[test]
fn an_invalid_endpoint_variable_still_asks_for_otlp_export() {
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        let config = read_env(&[(var, "http://a%zz:4318")]);
        only_warning(&config, var);
        assert_eq!(config.traces_exporter, TracesExporter::Otlp, "{var}");
        assert_eq!(
            config.traces_otlp.endpoint,
            "http://localhost:4318/v1/traces"
        );
    }
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

#[test]
fn a_signal_none_with_blanks_is_not_read_as_none_when_the_general_variable_compresses() {
    // What opentelemetry-otlp does with it (it reads the value untrimmed), said in the warning.
    let config = read_env(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", " none"),
    ]);
    assert_eq!(config.traces_otlp.compression, Some(Compression::Gzip));
    assert_eq!(
        only_warning(&config, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=\" none\": none with blanks around it, which \
         opentelemetry-otlp does not read as none; using gzip"
    );
    // Exactly none (any case) is none; with nothing to fall back on, blanks change nothing.
    for value in ["none", "NONE"] {
        let config = read_env(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", value),
        ]);
        assert_no_warnings(&config);
        assert_eq!(config.traces_otlp.compression, None);
    }
    let config = read_env(&[("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", " none ")]);
    assert_no_warnings(&config);
    assert_eq!(config.logs_otlp.compression, None);
}

// Batch span processor.

#[test]
fn batch_values_are_read() {
    let config = read_env(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1024"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "1000"),
    ]);
    assert_no_warnings(&config);
    assert_eq!(
        config.batch,
        BatchConfig {
            schedule_delay: ms(10),
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

#[test]
fn schedule_delays_below_the_floor_are_raised_with_a_warning() {
    // 0 makes the SDK's export thread spin; every delay below the floor is raised to it.
    for (var, batch) in [
        (
            "OTEL_BSP_SCHEDULE_DELAY",
            (|c: &EnvConfig| c.batch) as fn(&EnvConfig) -> BatchConfig,
        ),
        ("OTEL_BLRP_SCHEDULE_DELAY", |c: &EnvConfig| c.logs_batch),
    ] {
        for value in ["0", "1", "9", " 0 "] {
            let config = read_env(&[(var, value)]);
            assert_eq!(batch(&config).schedule_delay, ms(10), "{var}={value}");
            assert_eq!(
                only_warning(&config, var),
                format!(
                    "{var}=\"{value}\": below the floor of 10 ms (a shorter delay makes the \
                     export thread spin); using 10"
                )
            );
        }
        let config = read_env(&[(var, "10")]);
        assert_no_warnings(&config);
        assert_eq!(batch(&config).schedule_delay, ms(10));
        // The largest integer accepted stays as given (about 24.8 days).
        let config = read_env(&[(var, "2147483647")]);
        assert_no_warnings(&config);
        assert_eq!(batch(&config).schedule_delay, ms(2_147_483_647));
    }
}

#[test]
fn queue_sizes_above_the_ceiling_are_lowered_with_a_warning() {
    // The SDK allocates the whole queue up front: 2^31 - 1 spans would abort the process.
    for (var, batch) in [
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            (|c: &EnvConfig| c.batch) as fn(&EnvConfig) -> BatchConfig,
        ),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", |c: &EnvConfig| c.logs_batch),
    ] {
        for value in ["2147483647", "1000001"] {
            let config = read_env(&[(var, value)]);
            assert_eq!(batch(&config).max_queue_size, 1_000_000, "{var}={value}");
            assert_eq!(batch(&config).max_export_batch_size, 512);
            assert_eq!(
                only_warning(&config, var),
                format!(
                    "{var}=\"{value}\": above the ceiling of 1000000 (the SDK allocates the \
                     whole queue when it starts); using 1000000"
                )
            );
        }
        let config = read_env(&[(var, "1000000")]);
        assert_no_warnings(&config);
        assert_eq!(batch(&config).max_queue_size, 1_000_000);
        // Beyond the largest integer: invalid, the default.
        let config = read_env(&[(var, "99999999999")]);
        assert_eq!(batch(&config).max_queue_size, 2_048);
        only_warning(&config, var);
    }
}

// Batch log record processor.

#[test]
fn logs_batch_defaults_are_the_specification_s() {
    assert_eq!(
        read_env(&[]).logs_batch,
        BatchConfig {
            schedule_delay: ms(1_000),
            max_queue_size: 2_048,
            max_export_batch_size: 512,
            export_timeout: ms(30_000),
        }
    );
}

#[test]
fn logs_batch_values_are_read_apart_from_the_span_ones() {
    let config = read_env(&[
        ("OTEL_BLRP_SCHEDULE_DELAY", "250"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "10"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "0"),
    ]);
    assert_no_warnings(&config);
    assert_eq!(
        config.logs_batch,
        BatchConfig {
            schedule_delay: ms(250),
            max_queue_size: 100,
            max_export_batch_size: 10,
            export_timeout: ms(2_147_483_647),
        }
    );
    assert_eq!(config.batch, read_env(&[]).batch);
}

#[test]
fn logs_batch_size_is_clamped_to_the_queue_size() {
    let config = read_env(&[
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "4096"),
    ]);
    assert_eq!(config.logs_batch.max_export_batch_size, 100);
    assert_eq!(
        only_warning(&config, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"),
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=\"4096\": above the max queue size 100; using 100"
    );
    for (var, value) in [
        ("OTEL_BLRP_SCHEDULE_DELAY", "soon"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "-1"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "1.5"),
    ] {
        let config = read_env(&[(var, value)]);
        assert_eq!(config.logs_batch, read_env(&[]).logs_batch, "{var}={value}");
        only_warning(&config, var);
    }
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
        endpoint::parse("https://u:p@c:4318/a/b?q=1#f"),
        Ok(Endpoint {
            origin: "https://u:p@c:4318",
            path: "/a/b",
            rest: "?q=1#f",
        })
    );
    assert_eq!(
        endpoint::parse("http://[::1]:4317"),
        Ok(Endpoint {
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
            prop_assert!(endpoint::parse(&otlp.endpoint).is_ok(), "{}", otlp.endpoint);
            prop_assert!(
                endpoint::usable(&otlp.endpoint, otlp.protocol).is_ok(),
                "{}",
                otlp.endpoint
            );
            for (name, value) in &otlp.headers {
                prop_assert!(!name.is_empty());
                prop_assert!(check_header(name, value).is_ok());
            }
        }
        let mut propagators = config.propagators.clone();
        propagators.dedup();
        prop_assert_eq!(propagators.len(), config.propagators.len());
        prop_assert!(config.resource_attributes.iter().all(|(k, _)| k != "service.name"));
        // No endpoint keeps a userinfo, no warning quotes one.
        for otlp in [&config.traces_otlp, &config.logs_otlp] {
            prop_assert!(endpoint::without_userinfo(&otlp.endpoint).is_none(), "{}", otlp.endpoint);
        }
        for warning in &config.warnings {
            for (var, value) in &vars {
                if warning.starts_with(&format!("{var}=")) && value.contains("://") {
                    let hidden = crate::init::credentials::hide_in_value(value);
                    prop_assert!(hidden == *value || !warning.contains(value), "{}", warning);
                }
            }
        }
    }
}

#[test]
fn held_lines_and_unsampled_level_take_off_or_a_level_and_warn_about_the_rest() {
    use tracing::Level;
    let config = read_env(&[
        ("TRACING_CORRELATE_HELD_LINES", " Debug "),
        ("TRACING_CORRELATE_UNSAMPLED_LEVEL", "off"),
    ]);
    assert_eq!(config.held_lines, Some(Some(Level::DEBUG)));
    assert_eq!(config.unsampled_level, Some(None));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let config = read_env(&[
        ("TRACING_CORRELATE_HELD_LINES", "verbose"),
        ("TRACING_CORRELATE_UNSAMPLED_LEVEL", "WARN"),
    ]);
    assert_eq!(config.held_lines, None);
    assert_eq!(config.unsampled_level, Some(Some(Level::WARN)));
    assert_eq!(
        config.warnings,
        [
            r#"TRACING_CORRELATE_HELD_LINES="verbose": not off, error, warn, info, debug or trace; using the builder's setting"#
        ]
    );
}
