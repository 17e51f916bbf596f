//! Debug on demand: a baggage entry that makes one trace write its held lines at once, within a
//! per-process rate.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Traces a minute, by default, that [`DebugOnDemand`] writes in full
/// ([`DebugOnDemand::with_per_minute`]).
pub const DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE: u32 = 10;

/// A baggage entry that makes a trace write the lines [held](crate::HeldLines) for it at once,
/// as if it had failed: the setting of
/// [`JsonLayer::with_debug_on_demand`](crate::JsonLayer::with_debug_on_demand) and
/// [`Builder::with_debug_on_demand`](crate::Builder::with_debug_on_demand).
///
/// A request whose local root span's baggage (the `baggage` header the server middleware
/// extracted, through the global propagator) holds `key` with exactly `value` writes every line
/// that reaches the layer, the levels held included, so that one request can be followed in
/// full in production: `baggage: tc-debug=7f3a…`. At most
/// [`DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE`] traces a minute in the process are granted
/// ([`with_per_minute`](Self::with_per_minute)); past that, a trace's lines are held as any
/// other's. Both are counted ([`Stats::debug_on_demand_granted`](crate::Stats::debug_on_demand_granted),
/// [`Stats::debug_on_demand_refused`](crate::Stats::debug_on_demand_refused)). It does nothing
/// without held lines. The entry is read once per trace, when its first line would be held.
///
/// **What a forged entry can and cannot do.** Baggage comes from the caller, and anyone who can
/// send a request can send the entry; choose a `value` only the operators know (a random token)
/// so that guessing the key is not enough, and remember that baggage is sent in clear text and
/// goes on to every service the request reaches (each applies its own setting). With the entry, a
/// caller can:
///
/// - make the service write its request's lines at the held levels, at most the rate's number of
///   traces a minute for the whole process (more log volume, bounded);
///
/// and cannot:
///
/// - read anything: the lines go to the service's log, never to the caller;
/// - see lines the filter drops (`RUST_LOG`): the level is raised only as far as the events that
///   reach the layer;
/// - undo the redaction or the bounds of a line, or reach another request's lines;
/// - pass the rate: the traces past it are held as usual, and counted.
///
/// ```
/// use tracing_correlate::{DebugOnDemand, HeldLines};
/// use tracing::Level;
///
/// let layer = tracing_correlate::layer()
///     .with_held_lines(HeldLines::new(Level::DEBUG))
///     .with_debug_on_demand(DebugOnDemand::new("tc-debug", "7f3a9c").with_per_minute(5));
/// # drop(layer);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugOnDemand {
    key: String,
    value: String,
    per_minute: u32,
}

impl DebugOnDemand {
    /// The baggage entry `key` with exactly `value` (keys are case-sensitive, as W3C's are), at
    /// most [`DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE`] traces a minute.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> DebugOnDemand {
        DebugOnDemand {
            key: key.into(),
            value: value.into(),
            per_minute: DEFAULT_DEBUG_ON_DEMAND_PER_MINUTE,
        }
    }

    /// Grants at most `traces` traces a minute in the process; 0 grants none.
    pub fn with_per_minute(mut self, traces: u32) -> DebugOnDemand {
        self.per_minute = traces;
        self
    }

    pub(crate) fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Whether `baggage` asks for it.
    pub(crate) fn asked_by(&self, baggage: &opentelemetry::baggage::Baggage) -> bool {
        baggage
            .get(self.key.as_str())
            .is_some_and(|value| value.as_str() == self.value)
    }

    /// `key tc-debug (5 traces a minute)`: the startup line's.
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    pub(crate) fn describe(&self) -> String {
        format!("key {} ({} traces a minute)", self.key, self.per_minute)
    }
}

/// The traces granted in the current minute: a fixed window, so that at most `per_minute` are
/// granted in any window of it (and at most twice that in any 60 s that straddle two).
#[derive(Debug)]
pub(crate) struct Rate {
    per_minute: u32,
    window: Mutex<(Option<Instant>, u32)>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Rate {
    pub(crate) fn new(per_minute: u32) -> Rate {
        Rate {
            per_minute,
            window: Mutex::new((None, 0)),
        }
    }

    /// Takes one trace of the window's rate, if any is left at `now`.
    pub(crate) fn admit(&self, now: Instant) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let (start, granted) = &mut *window;
        if start.map_or(true, |s| now.saturating_duration_since(s) >= WINDOW) {
            *start = Some(now);
            *granted = 0;
        }
        if *granted >= self.per_minute {
            return false;
        }
        *granted += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_grants_per_minute_traces_a_window() {
        let rate = Rate::new(2);
        let t0 = Instant::now();
        assert!(rate.admit(t0) && rate.admit(t0 + Duration::from_secs(1)));
        assert!(!rate.admit(t0 + Duration::from_secs(59)));
        assert!(rate.admit(t0 + WINDOW));
        assert!(!Rate::new(0).admit(t0));
    }

    #[test]
    fn only_the_exact_value_asks() {
        use opentelemetry::baggage::Baggage;
        use opentelemetry::KeyValue;
        let on_demand = DebugOnDemand::new("tc-debug", "7f3a");
        let with = |v: &str| Baggage::from_iter([KeyValue::new("tc-debug", v.to_owned())]);
        assert!(on_demand.asked_by(&with("7f3a")));
        assert!(!on_demand.asked_by(&with("7f3a ")));
        assert!(!on_demand.asked_by(&with("1")));
        assert!(!on_demand.asked_by(&Baggage::default()));
    }
}
