//! Backend presets: the correlation keys in a log backend's own shape
//! (`../shared/reference/backend-formats.md`).
//!
//! A preset *adds* its backend's keys after the OpenTelemetry keys (`trace_id`, `span_id`,
//! `trace_flags`), which stay on every line: they are the schema's contract, Grafana Loki and
//! CloudWatch Application Signals read them as they are, and a line keeps joining the trace when the
//! backend changes. Nothing else in the line changes.

use crate::line::escape::limited_escape_into;
use crate::otel::ids::SpanIds;

/// The shape of the correlation keys, chosen with [`JsonLayer::with_preset`](crate::JsonLayer::with_preset).
///
/// | preset | keys added to a line inside a span |
/// |---|---|
/// | `Otel` (default) | none: `trace_id`, `span_id`, `trace_flags` only |
/// | `Gcp` | `logging.googleapis.com/trace` (`projects/<project>/traces/<32 hex>`, only when a project id is known), `logging.googleapis.com/spanId` (16 hex), `logging.googleapis.com/trace_sampled` (boolean) |
/// | `Datadog` | `dd.trace_id`, `dd.span_id` (decimal strings: the lower 64 bits of the trace id, the span id); on every line `dd.service`, and `dd.env` / `dd.version` when `DD_ENV` / `DD_VERSION` are set |
/// | `Ecs` | `trace.id` (32 hex), `span.id` (16 hex), `transaction.id` (16 hex span id of the local root span) |
/// | `Xray` | `AWS-XRAY-TRACE-ID` (`1-<first 8 hex>-<last 24 hex>`) |
///
/// The GCP project id comes from [`JsonLayer::with_gcp_project_id`](crate::JsonLayer::with_gcp_project_id),
/// else from `GOOGLE_CLOUD_PROJECT` when the layer is built. X-Ray only accepts trace ids whose first
/// 32 bits are a recent Unix time: X-Ray users need an id generator that makes such ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Preset {
    /// The OpenTelemetry keys only.
    #[default]
    Otel,
    /// Google Cloud Logging.
    Gcp,
    /// Datadog.
    Datadog,
    /// Elastic Common Schema.
    Ecs,
    /// AWS X-Ray / CloudWatch.
    Xray,
}

/// What a preset needs besides the ids, fixed when the layer is built.
#[derive(Clone, Debug, Default)]
pub(crate) struct PresetConfig {
    pub(crate) preset: Preset,
    /// The project id, escaped and cut at the layer's value length.
    pub(crate) gcp_project_id: Option<Box<str>>,
    /// `,"dd.service":..,"dd.env":..,"dd.version":..` ready to splice, for the Datadog preset.
    pub(crate) datadog_tags: Box<str>,
    /// The keys in `datadog_tags`.
    datadog_keys: Vec<&'static str>,
}

impl PresetConfig {
    /// The preset's settings; its strings (the service, `DD_ENV`, `DD_VERSION`, the project id)
    /// are cut at `value_len` bytes as every string of a line is.
    pub(crate) fn new(
        preset: Preset,
        gcp_project_id: Option<String>,
        service: &str,
        value_len: usize,
    ) -> Self {
        let gcp_project_id = match preset {
            Preset::Gcp => gcp_project_id
                .or_else(|| std::env::var("GOOGLE_CLOUD_PROJECT").ok())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let mut escaped = String::new();
                    limited_escape_into(&mut escaped, &p, value_len);
                    escaped.into_boxed_str()
                }),
            _ => None,
        };
        let mut datadog_tags = String::new();
        let mut datadog_keys = Vec::new();
        if preset == Preset::Datadog {
            let from_env = [("dd.env", "DD_ENV"), ("dd.version", "DD_VERSION")]
                .into_iter()
                .filter_map(|(key, var)| Some((key, std::env::var(var).ok()?)))
                .filter(|(_, value)| !value.is_empty());
            for (key, value) in [("dd.service", service.to_owned())]
                .into_iter()
                .chain(from_env)
            {
                push_str_key(&mut datadog_tags, key, &value, value_len);
                datadog_keys.push(key);
            }
        }
        PresetConfig {
            preset,
            gcp_project_id,
            datadog_tags: datadog_tags.into_boxed_str(),
            datadog_keys,
        }
    }

    /// The keys this configuration writes (a key it can leave out, such as `dd.env` without
    /// `DD_ENV`, only when it writes it). Each is one [`is_preset_key`] knows.
    pub(crate) fn written_keys(&self) -> Vec<&'static str> {
        match self.preset {
            Preset::Otel => vec![],
            Preset::Gcp => {
                let mut keys = vec![
                    "logging.googleapis.com/spanId",
                    "logging.googleapis.com/trace_sampled",
                ];
                if self.gcp_project_id.is_some() {
                    keys.push("logging.googleapis.com/trace");
                }
                keys
            }
            Preset::Datadog => {
                let mut keys = vec!["dd.trace_id", "dd.span_id"];
                keys.extend_from_slice(&self.datadog_keys);
                keys
            }
            Preset::Ecs => vec!["trace.id", "span.id", "transaction.id"],
            Preset::Xray => vec!["AWS-XRAY-TRACE-ID"],
        }
    }

    /// Writes the keys a preset puts on every line, inside a span or not.
    pub(crate) fn write_always(&self, buf: &mut String) {
        buf.push_str(&self.datadog_tags);
    }

    /// Writes the preset's correlation keys for a line inside a span. `local_root` is the outermost
    /// span of this process in the event's scope (ECS `transaction.id`).
    pub(crate) fn write_ids(&self, buf: &mut String, ids: &SpanIds, local_root: Option<&SpanIds>) {
        use std::fmt::Write;
        match self.preset {
            Preset::Otel => {}
            Preset::Gcp => {
                if let Some(project) = &self.gcp_project_id {
                    buf.push_str(",\"logging.googleapis.com/trace\":\"projects/");
                    buf.push_str(project);
                    buf.push_str("/traces/");
                    buf.push_str(ids.trace_hex());
                    buf.push('"');
                }
                buf.push_str(",\"logging.googleapis.com/spanId\":\"");
                buf.push_str(ids.span_hex());
                buf.push_str("\",\"logging.googleapis.com/trace_sampled\":");
                buf.push_str(if ids.is_sampled() { "true" } else { "false" });
            }
            Preset::Datadog => {
                let trace = u128::from_be_bytes(ids.trace_id.to_bytes()) as u64;
                let span = u64::from_be_bytes(ids.span_id.to_bytes());
                let _ = write!(
                    buf,
                    ",\"dd.trace_id\":\"{trace}\",\"dd.span_id\":\"{span}\""
                );
            }
            Preset::Ecs => {
                buf.push_str(",\"trace.id\":\"");
                buf.push_str(ids.trace_hex());
                buf.push_str("\",\"span.id\":\"");
                buf.push_str(ids.span_hex());
                buf.push_str("\",\"transaction.id\":\"");
                buf.push_str(local_root.unwrap_or(ids).span_hex());
                buf.push('"');
            }
            Preset::Xray => {
                let hex = ids.trace_hex();
                buf.push_str(",\"AWS-XRAY-TRACE-ID\":\"1-");
                buf.push_str(&hex[..8]);
                buf.push('-');
                buf.push_str(&hex[8..]);
                buf.push('"');
            }
        }
    }
}

fn push_str_key(buf: &mut String, key: &str, value: &str, value_len: usize) {
    buf.push_str(",\"");
    buf.push_str(key);
    buf.push_str("\":");
    crate::line::escape::limited_str_into(buf, value, value_len);
}

/// Whether `key` is one some preset writes (see `written_keys`): they repeat the line's ids,
/// service and version for a backend, so the pretty view leaves them out.
pub(crate) fn is_preset_key(key: &str) -> bool {
    key.starts_with("logging.googleapis.com/")
        || key.starts_with("dd.")
        || matches!(
            key,
            "trace.id" | "span.id" | "transaction.id" | "AWS-XRAY-TRACE-ID"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_a_preset_writes_is_a_preset_key() {
        for preset in [
            Preset::Otel,
            Preset::Gcp,
            Preset::Datadog,
            Preset::Ecs,
            Preset::Xray,
        ] {
            let config = PresetConfig::new(preset, Some("p".to_owned()), "svc", 64);
            for key in config.written_keys() {
                assert!(is_preset_key(key), "{preset:?}: {key}");
            }
        }
        assert!(!is_preset_key("order_id"));
    }
}
