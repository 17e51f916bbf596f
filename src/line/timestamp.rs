//! RFC 3339 timestamps in UTC with microseconds and a `Z` suffix, in every build profile.

use std::cell::Cell;
use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Appends `time` as `2026-11-21T10:23:45.123456Z`, formatted without allocating.
#[cfg_attr(not(feature = "init"), allow(dead_code))] // the console exporter's, and the tests'
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

/// `2026-11-21T10:23:45` as bytes, formatted on the stack (no allocation, even once a second);
/// `None` for a year past 9999.
fn seconds_text(time: &DateTime<Utc>) -> Option<[u8; 19]> {
    let year = u32::try_from(time.year()).ok().filter(|y| *y <= 9999)?;
    let mut text = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for d in text[at..at + width].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, time.month());
    put(8, 2, time.day());
    put(11, 2, time.hour());
    put(14, 2, time.minute());
    put(17, 2, time.second());
    Some(text)
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

/// The current time, as [`push_at`] takes it.
#[inline]
pub(crate) fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Appends the current time.
#[cfg_attr(not(feature = "init"), allow(dead_code))] // the guard's and the console exporter's
#[inline]
pub(crate) fn push_now(buf: &mut String) {
    push_at(buf, now());
}

/// Appends the time `since_epoch` after the Unix epoch (a time [`now`] read earlier: a held
/// line's).
pub(crate) fn push_at(buf: &mut String, since_epoch: Duration) {
    let (secs, micros) = (since_epoch.as_secs(), since_epoch.subsec_micros());
    let cached = LAST_SECOND
        .try_with(|last| {
            let (second, text) = last.get();
            if second == secs {
                return Some(text);
            }
            let text = seconds_text(&datetime(secs))?;
            last.set((secs, text));
            Some(text)
        })
        .ok()
        .flatten();
    match cached {
        Some(text) => {
            // The whole timestamp on the stack, validated once: `2026-11-21T10:23:45.123456Z`.
            let mut stamp = [0u8; 27];
            stamp[..19].copy_from_slice(&text);
            stamp[19] = b'.';
            let mut n = micros;
            for d in stamp[20..26].iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            stamp[26] = b'Z';
            match std::str::from_utf8(&stamp) {
                Ok(stamp) => buf.push_str(stamp),
                Err(_) => push_slow(buf, secs, micros),
            }
        }
        // Years past 9999 (or a thread being torn down) take the general path.
        None => push_slow(buf, secs, micros),
    }
}

fn push_slow(buf: &mut String, secs: u64, micros: u32) {
    push_seconds(buf, &datetime(secs));
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
    fn the_stack_formatting_agrees_with_fmt() {
        for t in [
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ] {
            let mut expected = String::new();
            push_seconds(&mut expected, &t);
            assert_eq!(
                seconds_text(&t).map(|b| b.to_vec()),
                Some(expected.into_bytes())
            );
        }
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
