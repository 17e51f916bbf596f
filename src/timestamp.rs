//! RFC 3339 timestamps in UTC with microseconds and a `Z` suffix, in every build profile.

use std::cell::Cell;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Appends `time` as `2026-11-21T10:23:45.123456Z`, formatted without allocating.
pub(crate) fn push_rfc3339(buf: &mut String, time: DateTime<Utc>) {
    // A leap second shows as nanoseconds >= 1e9; it is written as the last microsecond of its second.
    let micros = (time.nanosecond() / 1_000).min(999_999);
    push_seconds(buf, &time);
    push_fraction(buf, micros);
}

/// `2026-11-21T10:23:45`: the 19 characters before the fraction.
fn push_seconds(buf: &mut String, time: &DateTime<Utc>) {
    let _ = write!(
        buf,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
    );
}

/// `.123456Z`.
fn push_fraction(buf: &mut String, micros: u32) {
    let mut digits = [b'0'; 6];
    let mut n = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.push('.');
    // Only ASCII digits were written.
    buf.push_str(std::str::from_utf8(&digits).unwrap_or("000000"));
    buf.push('Z');
}

thread_local! {
    /// The second last formatted on this thread and its 19 characters: the date and time change
    /// once a second, the fraction on every line.
    static LAST_SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// Appends the current time.
pub(crate) fn push_now(buf: &mut String) {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, micros) = (since_epoch.as_secs(), since_epoch.subsec_micros());
    let cached = LAST_SECOND
        .try_with(|last| {
            let (second, text) = last.get();
            if second == secs {
                return Some(text);
            }
            let mut fresh = String::with_capacity(19);
            push_seconds(&mut fresh, &datetime(secs));
            let text: [u8; 19] = fresh.as_bytes().try_into().ok()?;
            last.set((secs, text));
            Some(text)
        })
        .ok()
        .flatten();
    match cached.as_ref().and_then(|t| std::str::from_utf8(t).ok()) {
        Some(text) => buf.push_str(text),
        // Years past 9999 (or a thread being torn down) take the general path.
        None => push_seconds(buf, &datetime(secs)),
    }
    push_fraction(buf, micros);
}

fn datetime(secs: u64) -> DateTime<Utc> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_default()
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

    #[test]
    fn now_agrees_with_chrono_and_the_cache_keeps_the_second() {
        let before = Utc::now();
        let mut a = String::new();
        push_now(&mut a);
        let mut b = String::new();
        push_now(&mut b);
        let after = Utc::now();
        for s in [&a, &b] {
            assert_eq!(s.len(), "2026-11-21T10:23:45.123456Z".len(), "{s}");
            let t = DateTime::parse_from_rfc3339(s).unwrap();
            let floor = before - chrono::Duration::microseconds(1);
            assert!(floor <= t && t <= after, "{floor} <= {t} <= {after}");
        }
        assert!(a <= b);
    }
}
