//! RFC 3339 timestamps in UTC with microseconds and a `Z` suffix, in every build profile.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Appends `time` as `2026-11-21T10:23:45.123456Z`, formatted without allocating.
pub(crate) fn push_rfc3339(buf: &mut String, time: DateTime<Utc>) {
    // A leap second shows as nanoseconds >= 1e9; it is written as the last microsecond of its second.
    let micros = (time.nanosecond() / 1_000).min(999_999);
    let _ = write!(
        buf,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        micros
    );
}

/// Appends the current time.
pub(crate) fn push_now(buf: &mut String) {
    push_rfc3339(buf, Utc::now());
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_with_microseconds_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 10, 23, 45).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        let mut b = String::new();
        push_rfc3339(&mut b, t);
        assert_eq!(b, "2026-11-21T10:23:45.123456Z");
        assert_eq!(
            DateTime::parse_from_rfc3339(&b).unwrap(),
            t - chrono::Duration::nanoseconds(789)
        );
    }
}
