//! The OpenTelemetry SDK's own crates, and the transports its exporters use: their events and
//! spans never become OpenTelemetry data (an exporter that logs must not feed itself), and the
//! JSON layer never looks up span ids for them (they may come while a span's lock is held).

/// Crates whose events and spans never become OpenTelemetry data: the SDK itself and the stacks
/// its exporters use. A prefix matches the crate and its modules (`h2` and `h2::codec`, not `h2o`);
/// `opentelemetry` matches every `opentelemetry*` crate.
const SDK_TARGETS: [&str; 6] = ["hyper", "hyper_util", "h2", "tonic", "reqwest", "tower"];

/// Whether `target` belongs to the OpenTelemetry SDK or the transport it exports with.
pub(crate) fn is_sdk_target(target: &str) -> bool {
    target.starts_with("opentelemetry")
        || SDK_TARGETS.iter().any(|prefix| {
            target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

#[cfg(test)]
mod tests {
    use super::is_sdk_target;

    #[test]
    fn sdk_targets_match_crates_and_their_modules_only() {
        for t in [
            "opentelemetry",
            "opentelemetry_sdk::trace",
            "opentelemetry-otlp",
            "h2",
            "h2::codec",
            "hyper_util::client",
            "tonic::transport",
        ] {
            assert!(is_sdk_target(t), "{t}");
        }
        for t in ["h2o", "tower_http::trace", "checkout", "my_hyper"] {
            assert!(!is_sdk_target(t), "{t}");
        }
    }
}
