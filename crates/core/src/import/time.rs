//! Times as spreadsheets write them. A time without an offset is Swedish
//! local time (Europe/Stockholm: CET, CEST from the last Sunday of March to
//! the last Sunday of October, switching at 01:00 UTC).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

use crate::{Error, Result};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap_or(NaiveDate::MIN)
        - chrono::Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= chrono::Duration::days(1);
    }
    d
}

/// Stockholm's UTC offset, in hours, at a UTC instant.
fn offset_hours_at(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let start = last_sunday(year, 3)
        .and_hms_opt(1, 0, 0)
        .unwrap_or_default();
    let end = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .unwrap_or_default();
    if utc >= start && utc < end { 2 } else { 1 }
}

/// `None` for a time at the very start of chrono's range (year -262143),
/// which has no UTC instant an hour or two earlier.
fn local_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Try summer time first; if that UTC instant is not in summer time,
    // the local time was winter time. An ambiguous autumn hour resolves to
    // summer time, a skipped spring hour to winter time.
    let utc = match local.checked_sub_signed(chrono::Duration::hours(2)) {
        Some(summer) if offset_hours_at(summer) == 2 => summer,
        _ => local.checked_sub_signed(chrono::Duration::hours(1))?,
    };
    Some(Utc.from_utc_datetime(&utc))
}

/// RFC 3339 (`2024-03-01T21:30:00+01:00`), or a local Swedish
/// `2024-03-01 21:30[:00]` / `2024-03-01T21:30`, or a date (local midnight).
pub fn parse_local_time(s: &str, field: &str) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let refused = || {
        Error::invalid(
            field,
            format!("`{s}` is not a date-time (2024-03-01 21:30 or 2024-03-01T20:30:00Z)"),
        )
    };
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return local_to_utc(t).ok_or_else(refused);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return local_to_utc(d.and_hms_opt(0, 0, 0).unwrap_or_default()).ok_or_else(refused);
    }
    Err(refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winter_and_summer_local_times() {
        assert_eq!(
            parse_local_time("2024-01-15 21:30", "t")
                .unwrap()
                .to_rfc3339(),
            "2024-01-15T20:30:00+00:00"
        );
        assert_eq!(
            parse_local_time("2024-07-15 21:30:00", "t")
                .unwrap()
                .to_rfc3339(),
            "2024-07-15T19:30:00+00:00"
        );
        // 2024's switches: 31 March and 27 October.
        assert_eq!(
            parse_local_time("2024-03-31 03:30", "t")
                .unwrap()
                .to_rfc3339(),
            "2024-03-31T01:30:00+00:00"
        );
        assert_eq!(
            parse_local_time("2024-10-27 04:00", "t")
                .unwrap()
                .to_rfc3339(),
            "2024-10-27T03:00:00+00:00"
        );
        assert_eq!(
            parse_local_time("2024-05-01T10:00:00Z", "t")
                .unwrap()
                .to_rfc3339(),
            "2024-05-01T10:00:00+00:00"
        );
        assert_eq!(
            parse_local_time("igår", "time").unwrap_err().field(),
            "time"
        );
    }

    #[test]
    fn the_first_hour_chrono_can_hold_is_refused_not_a_panic() {
        // A fuzz regression: local midnight of year -262143 has no UTC
        // instant two hours earlier, and the subtraction panicked.
        for s in ["-262143-01-01", "-262143-01-01 00:59:59"] {
            assert_eq!(parse_local_time(s, "time").unwrap_err().field(), "time");
        }
        // From 01:00 on, winter time (UTC+1) has an instant.
        assert_eq!(
            parse_local_time("-262143-01-01T01:00", "time")
                .unwrap()
                .to_rfc3339(),
            "-262143-01-01T00:00:00+00:00"
        );
    }
}
