//! The reserved keys of a line: the schema's own keys plus the optional and preset keys a layer
//! is configured to write. A user field named like one is written as `fields.<name>`, so no line
//! ever holds a key twice.

/// The keys every line may have, whatever the layer's configuration (the schema's table): the
/// pretty view (`crate::view`) shows these in their own places, not as fields.
pub(crate) const SCHEMA_KEYS: [&str; 11] = [
    "timestamp",
    "level",
    "service",
    "target",
    "message",
    "trace_id",
    "span_id",
    "trace_flags",
    "span_name",
    "exception",
    "kind",
];

/// Which keys a configured layer writes besides the schema's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reserved {
    pub(crate) file: bool,
    pub(crate) line: bool,
    pub(crate) thread_name: bool,
    pub(crate) thread_id: bool,
    /// The keys the layer's preset writes (only those: a user's `dd.env` stays `dd.env` when the
    /// layer does not write one).
    pub(crate) preset_keys: Vec<&'static str>,
    /// `held`: written by held lines ([`HeldLines`](crate::HeldLines)), reserved when the layer
    /// holds lines.
    pub(crate) held: bool,
}

impl Reserved {
    /// The name a field is known by for duplicate detection: a reserved name and the user's own
    /// `fields.<reserved>` both become `fields.<reserved>` in the line, so they share one key.
    pub(crate) fn dedupe_key(&self, name: &'static str) -> &'static str {
        match name.strip_prefix("fields.") {
            Some(rest) if self.contains(rest) => rest,
            _ => name,
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        match name {
            "timestamp" | "level" | "service" | "target" | "message" | "trace_id" | "span_id"
            | "trace_flags" | "span_name" | "exception" | "fields_dropped" | "lines_suppressed"
            // `kind` is written by console span lines only: reserved on event lines, so that
            // `kind` tells the two kinds of line apart.
            | "kind" => true,
            "file" => self.file,
            "line" => self.line,
            "thread_name" => self.thread_name,
            "thread_id" => self.thread_id,
            "held" => self.held,
            other => self.preset_keys.contains(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_keys_are_always_reserved_optional_ones_only_when_written() {
        let r = Reserved::default();
        assert!(SCHEMA_KEYS.iter().all(|k| r.contains(k)));
        assert!(!r.contains("line") && !r.contains("dd.trace_id") && !r.contains("order_id"));
        let r = Reserved {
            line: true,
            preset_keys: vec!["dd.trace_id"],
            ..Reserved::default()
        };
        assert!(r.contains("line") && r.contains("dd.trace_id"));
    }
}
