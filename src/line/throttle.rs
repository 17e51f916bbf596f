//! The OpenTelemetry SDK's own lines, at most one per callsite per interval.
//!
//! The SDK logs every export that fails (`BatchSpanProcessor.ExportError`, one ERROR event per
//! batch): while a collector answers HTTP 500, a busy service would write hundreds of identical
//! lines a second (`BENCHMARKS.md`, "Collector faults": 3,652 failed exports in 7 s), drowning its
//! own lines and paying for the log volume. So the JSON layer writes the first such line of a
//! callsite, then at most one per interval; the next line written carries `lines_suppressed`, the
//! number of lines of that callsite left out since the previous one, and [`Stats`](crate::Stats)
//! counts them all, so nothing is left out silently.
//!
//! Only targets starting with `opentelemetry` are throttled: the service's own lines, and those
//! of the libraries it uses directly, never are.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing_core::Metadata;

/// How often one callsite of the SDK may write a line unless
/// [`JsonLayer::with_sdk_line_interval`](crate::JsonLayer::with_sdk_line_interval) says
/// otherwise: every 10 seconds.
pub const DEFAULT_SDK_LINE_INTERVAL: Duration = Duration::from_secs(10);

/// Whether lines of `target` are throttled.
pub(crate) fn is_throttled(target: &str) -> bool {
    target.starts_with("opentelemetry")
}

/// The state of every SDK callsite that wrote a line.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    /// Keyed by the callsite's metadata address. Only the SDK's callsites get here, a few dozen
    /// at most, each kept for the layer's life: the map's size is bounded by the code, not by
    /// the input.
    windows: Mutex<HashMap<usize, Window>>,
}

#[derive(Debug)]
struct Window {
    /// When the callsite last wrote a line.
    written: Instant,
    /// Lines left out since.
    suppressed: u64,
}

/// What to do with one SDK line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Write it, saying how many lines of its callsite were left out before it.
    Write { suppressed: u64 },
    /// Leave it out (counted).
    Suppress,
}

impl Throttle {
    /// Decides for a line of `meta`'s callsite at `now`.
    pub(crate) fn admit(
        &self,
        meta: &'static Metadata<'static>,
        interval: Duration,
        now: Instant,
    ) -> Admit {
        let key = meta as *const Metadata<'static> as usize;
        // A panic while the lock was held cannot leave a window half-updated in a way that
        // matters: the worst case is one line too many or too few.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match windows.get_mut(&key) {
            Some(window) if now.saturating_duration_since(window.written) < interval => {
                window.suppressed += 1;
                Admit::Suppress
            }
            Some(window) => {
                window.written = now;
                Admit::Write {
                    suppressed: std::mem::take(&mut window.suppressed),
                }
            }
            None => {
                windows.insert(
                    key,
                    Window {
                        written: now,
                        suppressed: 0,
                    },
                );
                Admit::Write { suppressed: 0 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_callsite_per_interval_the_next_one_counting_the_rest() {
        // A span's metadata stands for the SDK event's callsite: only its address matters.
        let meta = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            tracing::error_span!(target: "opentelemetry_sdk", "export").metadata()
        })
        .unwrap();
        let throttle = Throttle::default();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let ten = Duration::from_secs(10);
        assert_eq!(
            throttle.admit(meta, ten, t0),
            Admit::Write { suppressed: 0 }
        );
        for i in 1..=5 {
            assert_eq!(throttle.admit(meta, ten, t0 + i * second), Admit::Suppress);
        }
        assert_eq!(
            throttle.admit(meta, ten, t0 + ten),
            Admit::Write { suppressed: 5 }
        );
        assert_eq!(
            throttle.admit(meta, ten, t0 + ten + second),
            Admit::Suppress
        );
        assert_eq!(
            throttle.admit(meta, ten, t0 + 3 * ten),
            Admit::Write { suppressed: 1 }
        );
        // A zero interval writes every line.
        assert_eq!(
            throttle.admit(meta, Duration::ZERO, t0 + 3 * ten),
            Admit::Write { suppressed: 0 }
        );
    }

    #[test]
    fn only_the_sdk_is_throttled() {
        for t in [
            "opentelemetry_sdk",
            "opentelemetry_otlp::exporter",
            "opentelemetry",
        ] {
            assert!(is_throttled(t), "{t}");
        }
        for t in [
            "checkout",
            "hyper::proto",
            "reqwest",
            "tower_http::trace",
            "h2",
        ] {
            assert!(!is_throttled(t), "{t}");
        }
    }
}
