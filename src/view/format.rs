//! The layer's output format under the init ([`Format`]).

/// How the init writes its lines: [`Builder::with_format`](crate::Builder::with_format), or
/// `TRACING_CORRELATE_FORMAT` (`json`, `pretty`), which wins.
///
/// `Pretty` is for a person at a terminal (`cargo run`): one short line per event with its short
/// ids, as `tracing-correlate pretty` shows them, coloured when stdout is a terminal and
/// `NO_COLOR` is unset. It is never chosen by itself (a terminal can exist in production, where
/// the aggregator needs the JSON), and it costs a parse of each line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line: the contract with the log aggregator.
    #[default]
    Json,
    /// Readable lines, for local development.
    Pretty,
}

impl Format {
    /// `json` or `pretty`, case-insensitive.
    #[cfg(feature = "init")]
    pub(crate) fn parse(value: &str) -> Option<Format> {
        match value.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "pretty" => Some(Format::Pretty),
            _ => None,
        }
    }
}
