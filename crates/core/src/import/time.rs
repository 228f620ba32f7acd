//! Times as spreadsheets, exports and the police feed write them. Written
//! by hand rather than as a list of chrono formats tried one after another:
//! one pass over the text, so a 100,000-row file does not pay for twenty
//! failed attempts per cell, and an error can say what was not understood.
//!
//! Accepted:
//! - `2024-01-05T21:00:00Z`, `2024-01-05T21:00:00.250+01:00` (RFC 3339);
//! - the police feed's `2022-09-26 15:55:23 +02:00`, also with an unpadded
//!   hour (`2022-10-07 1:03:33 +02:00`), and offsets as `+0200`, `+02`, `Z`,
//!   `UTC`;
//! - local times `2024-01-05 21:00`, `2024-01-05T21:00[:00]`, `2024-01-05
//!   21.00` (the Swedish clock with a dot), `2024-01-05 kl. 21.00`, a date
//!   alone (local midnight), `20240105` and `20240105T2100[00]`;
//! - day-first dotted dates `5.1.2024 21:00` (dotted dates are day-first
//!   wherever they are written: Norway, Finland, Denmark, Germany).
//!
//! Refused, on purpose: dates with slashes that do not start with the year
//! (`5/1/2024`). Swedish Excel does not write them, and where they come
//! from, 5 January and 1 May cannot be told apart; the message says how to
//! export ISO dates instead. Year first (`2024/01/05 21:00:00`, as GDAL and
//! QGIS write GeoJSON dates) is unambiguous and read.
//!
//! A time without an offset is local time in the import's time zone
//! (default Europe/Stockholm), with that zone's daylight-saving rules from
//! the IANA database (chrono-tz). An hour that occurs twice (autumn) is read
//! as the first (summer time); an hour that is skipped (spring) as the
//! offset before the change.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::{Error, Result};

/// The zone of times without an offset unless the import names another.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Europe::Stockholm;

/// Parses an IANA zone name (`Europe/Stockholm`, `Europe/Oslo`,
/// `Europe/London`).
pub fn parse_timezone(s: &str, field: &str) -> Result<Tz> {
    s.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(
            field,
            format!(
                "`{}` is not an IANA time zone (e.g. Europe/Stockholm, Europe/Oslo)",
                s.trim()
            ),
        )
    })
}

/// A time in `tz` unless it carries its own offset; see the module doc.
pub fn parse_time(s: &str, tz: Tz, field: &str) -> Result<DateTime<Utc>> {
    let s = s.trim();
    let refused = |why: &str| {
        Error::invalid(
            field,
            format!(
                "`{s}` is not a date-time{why} (write 2024-03-01 21:30, 2024-03-01T20:30:00Z or 2024-03-01)"
            ),
        )
    };
    if slashed_day_first(s) {
        return Err(Error::invalid(
            field,
            format!(
                "`{s}`: dates with slashes are refused because day and month cannot be told apart; export ISO dates (2024-01-05 21:00; in Excel: Format Cells → Custom → åååå-MM-dd tt:mm)"
            ),
        ));
    }
    let (date, rest) = date(s).ok_or_else(|| refused(""))?;
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .unwrap_or(rest)
        .trim_start();
    let rest = strip_kl(rest);
    let (time, rest) = if rest.is_empty() {
        (NaiveTime::MIN, "")
    } else {
        clock(rest).ok_or_else(|| refused(""))?
    };
    let local = date.and_time(time);
    let rest = rest.trim();
    if rest.is_empty() {
        return local_to_utc(local, tz)
            .ok_or_else(|| refused(": it lies outside the range of dates"));
    }
    let offset = offset(rest).ok_or_else(|| refused(&format!(": `{rest}` is not an offset")))?;
    match offset.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        _ => Err(refused(": it lies outside the range of dates")),
    }
}

/// A clock time alone (`21:30`, `1:05`, `21.30`, `21:30:00`), as a
/// spreadsheet writes it in a column of its own beside the date.
pub fn parse_clock(s: &str) -> Option<NaiveTime> {
    let s = strip_kl(s.trim());
    if !s.contains([':', '.']) {
        return None;
    }
    match clock(s)? {
        (t, "") => Some(t),
        _ => None,
    }
}

/// [`parse_time`] in Swedish local time.
pub fn parse_local_time(s: &str, field: &str) -> Result<DateTime<Utc>> {
    parse_time(s, DEFAULT_TIMEZONE, field)
}

/// `kl. 21.30` → `21.30`: the Swedish "klockan" before a clock.
fn strip_kl(s: &str) -> &str {
    ["kl.", "kl", "Kl.", "Kl", "KL"]
        .iter()
        .find_map(|kl| s.strip_prefix(kl).filter(|r| r.starts_with(' ')))
        .map_or(s, str::trim_start)
}

fn digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// A slashed date that does not start with a four-digit year (`5/1/2024`).
fn slashed_day_first(s: &str) -> bool {
    let lead = s.bytes().take_while(u8::is_ascii_digit).count();
    lead != 4 && s.as_bytes().get(lead) == Some(&b'/')
}

/// `2024-01-05`, `2024-1-5`, `2024/01/05` (GDAL's), `20240105`, `5.1.2024`;
/// the rest of the text.
fn date(s: &str) -> Option<(NaiveDate, &str)> {
    let (first, rest) = digits(s, 1, 8)?;
    let len = s.len() - rest.len();
    if len == 8 {
        let d = NaiveDate::from_ymd_opt((first / 10_000) as i32, first / 100 % 100, first % 100)?;
        return Some((d, rest));
    }
    if len == 4
        && let Some(sep) = rest.chars().next().filter(|c| *c == '-' || *c == '/')
    {
        let (m, rest) = digits(&rest[1..], 1, 2)?;
        let (d, rest) = digits(rest.strip_prefix(sep)?, 1, 2)?;
        return Some((NaiveDate::from_ymd_opt(first as i32, m, d)?, rest));
    }
    if len <= 2
        && let Some(rest) = rest.strip_prefix('.')
    {
        let (m, rest) = digits(rest, 1, 2)?;
        let (y, rest) = digits(rest.strip_prefix('.')?, 4, 4)?;
        return Some((NaiveDate::from_ymd_opt(y as i32, m, first)?, rest));
    }
    None
}

/// `21:00`, `1:03:33`, `21.00`, `21:00:00.250`, `2100`, `210000`.
fn clock(s: &str) -> Option<(NaiveTime, &str)> {
    let (h, rest) = digits(s, 1, 2)?;
    if s.len() - rest.len() == 2 && rest.starts_with(|c: char| c.is_ascii_digit()) {
        // Basic form: HHMM[SS].
        let (m, rest) = digits(rest, 2, 2)?;
        let (sec, rest) = digits(rest, 2, 2).unwrap_or((0, rest));
        return Some((NaiveTime::from_hms_opt(h, m, sec)?, rest));
    }
    let sep = rest.chars().next().filter(|c| *c == ':' || *c == '.')?;
    let (m, rest) = digits(&rest[1..], 2, 2)?;
    if let Some(after) = rest.strip_prefix(sep)
        && let Some((sec, rest)) = digits(after, 2, 2)
    {
        let (nanos, rest) = fraction(rest);
        return Some((NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?, rest));
    }
    Some((NaiveTime::from_hms_opt(h, m, 0)?, rest))
}

/// `.250` or `,250` after the seconds, as nanoseconds.
fn fraction(s: &str) -> (u32, &str) {
    let Some(after) = s.strip_prefix(['.', ',']) else {
        return (0, s);
    };
    let n = after.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return (0, s);
    }
    let mut nanos = 0u32;
    for (i, b) in after
        .bytes()
        .take(9)
        .take_while(u8::is_ascii_digit)
        .enumerate()
    {
        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
    }
    (nanos, &after[n..])
}

/// `Z`, `UTC`, `GMT`, `+02:00`, `+0200`, `+02`, `-05:30`.
fn offset(s: &str) -> Option<FixedOffset> {
    if matches!(s, "Z" | "z" | "UTC" | "GMT") {
        return FixedOffset::east_opt(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, rest) = digits(&s[1..], 2, 2)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (m, rest) = if rest.is_empty() {
        (0, rest)
    } else {
        digits(rest, 2, 2)?
    };
    if !rest.is_empty() || h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60) as i32)
}

/// `None` where the instant falls outside what chrono can hold.
fn local_to_utc(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Skipped by a change of offset: read with the offset before it.
            let before = local.checked_sub_signed(Duration::days(1))?;
            let offset = tz.offset_from_local_datetime(&before).earliest()?.fix();
            let utc =
                local.checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
            Some(Utc.from_utc_datetime(&utc))
        }
    }
}

/// A length of time: `15` or `15m` (minutes), `90 min`, `1h`, `1h30m`,
/// `1:30` (hours and minutes), `45s`.
pub fn parse_duration(s: &str, field: &str) -> Result<Duration> {
    let t = s.trim();
    let refused = || {
        Error::invalid(
            field,
            format!("`{t}` is not a duration (write 15m, 1h30m, 90 or 1:30)"),
        )
    };
    if let Some((h, m)) = t.split_once(':') {
        let (h, m): (i64, i64) = (
            h.trim().parse().map_err(|_| refused())?,
            m.trim().parse().map_err(|_| refused())?,
        );
        if !(0..60).contains(&m) || h < 0 {
            return Err(refused());
        }
        return Ok(Duration::minutes(h * 60 + m));
    }
    let mut total = Duration::zero();
    let mut rest = t;
    let mut any = false;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.' || *b == b',')
            .count();
        let number: f64 = rest[..n].replace(',', ".").parse().map_err(|_| refused())?;
        rest = rest[n..].trim_start();
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let seconds = match &rest[..unit_len] {
            "" | "m" | "min" | "mins" | "minute" | "minutes" | "minut" | "minuter" => 60.0,
            "h" | "hr" | "hour" | "hours" | "tim" | "timme" | "timmar" => 3600.0,
            "s" | "sec" | "sek" | "second" | "seconds" => 1.0,
            _ => return Err(refused()),
        };
        if !(0.0..=1.0e6).contains(&number) {
            return Err(refused());
        }
        total += Duration::milliseconds((number * seconds * 1000.0).round() as i64);
        rest = rest[unit_len..].trim_start();
        any = true;
    }
    if !any || total <= Duration::zero() {
        return Err(Error::invalid(
            field,
            format!("`{t}` is not a duration longer than zero (write 15m)"),
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> String {
        parse_local_time(s, "time").unwrap().to_rfc3339()
    }

    #[test]
    fn winter_and_summer_local_times() {
        assert_eq!(utc("2024-01-15 21:30"), "2024-01-15T20:30:00+00:00");
        assert_eq!(utc("2024-07-15 21:30:00"), "2024-07-15T19:30:00+00:00");
        // 2024's switches: 31 March and 27 October.
        assert_eq!(utc("2024-03-31 03:30"), "2024-03-31T01:30:00+00:00");
        assert_eq!(utc("2024-10-27 04:00"), "2024-10-27T03:00:00+00:00");
        // The hour that is skipped, and the hour that occurs twice.
        assert_eq!(utc("2024-03-31 02:30"), "2024-03-31T01:30:00+00:00");
        assert_eq!(utc("2024-10-27 02:30"), "2024-10-27T00:30:00+00:00");
        assert_eq!(utc("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00+00:00");
        assert_eq!(
            parse_local_time("igår", "time").unwrap_err().field(),
            "time"
        );
    }

    #[test]
    fn the_police_feed_format_with_and_without_a_padded_hour() {
        assert_eq!(
            utc("2022-09-26 15:55:23 +02:00"),
            "2022-09-26T13:55:23+00:00"
        );
        assert_eq!(
            utc("2022-10-07 1:03:33 +02:00"),
            "2022-10-06T23:03:33+00:00"
        );
        assert_eq!(utc("2022-10-07 1:03:33 +0200"), "2022-10-06T23:03:33+00:00");
        assert_eq!(
            utc("2022-10-07T01:03:33.5-01"),
            "2022-10-07T02:03:33.500+00:00"
        );
        assert_eq!(utc("2022-10-07 01:03 UTC"), "2022-10-07T01:03:00+00:00");
    }

    #[test]
    fn the_common_swedish_forms_are_local_time() {
        for s in [
            "2024-01-05 21:00",
            "2024-01-05T21:00",
            "2024-01-05 21.00",
            "2024-01-05 kl. 21.00",
            "2024-01-05 kl 21:00",
            "2024-1-5 21:00",
            "20240105T2100",
            "20240105 210000",
            "2024/01/05 21:00:00",
            "5.1.2024 21:00",
            "05.01.2024 21.00.00",
        ] {
            assert_eq!(utc(s), "2024-01-05T20:00:00+00:00", "{s}");
        }
        assert_eq!(utc("20240105"), "2024-01-04T23:00:00+00:00");
        assert_eq!(utc("2024-01-05"), "2024-01-04T23:00:00+00:00");
    }

    #[test]
    fn a_clock_alone_is_told_from_a_date() {
        assert_eq!(parse_clock("21:30"), NaiveTime::from_hms_opt(21, 30, 0));
        assert_eq!(parse_clock(" 1.05 "), NaiveTime::from_hms_opt(1, 5, 0));
        assert_eq!(parse_clock("kl. 18.15"), NaiveTime::from_hms_opt(18, 15, 0));
        assert_eq!(parse_clock("21:30:15"), NaiveTime::from_hms_opt(21, 30, 15));
        for not_a_clock in [
            "2130",
            "5.1.2024",
            "2024-01-05 21:30",
            "21:30 +01:00",
            "25:00",
            "",
        ] {
            assert_eq!(parse_clock(not_a_clock), None, "{not_a_clock}");
        }
    }

    #[test]
    fn slashed_dates_are_refused_with_the_reason() {
        let err = parse_local_time("5/1/2024 21:00", "time").unwrap_err();
        assert!(
            err.reason().contains("day and month cannot be told apart"),
            "{err}"
        );
        for bad in [
            "2024-13-01",
            "2024-01-05 25:00",
            "2024-01-05 21:00 +2",
            "2024-01-05 21:00 CET",
            "2024-01-05x",
        ] {
            assert!(parse_local_time(bad, "time").is_err(), "{bad}");
        }
    }

    #[test]
    fn another_zone_reads_its_own_local_time() {
        let london = parse_timezone("Europe/London", "timezone").unwrap();
        assert_eq!(
            parse_time("2024-07-01 12:00", london, "t")
                .unwrap()
                .to_rfc3339(),
            "2024-07-01T11:00:00+00:00"
        );
        assert!(parse_timezone("Mars/Olympus", "timezone").is_err());
    }

    #[test]
    fn dates_at_the_edge_of_the_range_are_refused_not_a_panic() {
        // A fuzz regression: local midnight of year -262143 had no UTC
        // instant and the subtraction panicked. Years are four digits now.
        for s in [
            "-262143-01-01",
            "-262143-01-01 00:59:59",
            "+262143-12-31 23:59",
        ] {
            assert_eq!(parse_local_time(s, "time").unwrap_err().field(), "time");
        }
        // Before standard time the zone's local mean time applies.
        assert!(parse_local_time("0001-01-01 02:00", "time").is_ok());
        assert!(parse_local_time("9999-12-31 23:59:59", "time").is_ok());
    }

    #[test]
    fn durations_read_as_people_write_them() {
        for (s, minutes) in [
            ("15", 15),
            ("15m", 15),
            ("90 min", 90),
            ("1h", 60),
            ("1h30m", 90),
            ("1:30", 90),
            ("0,5 h", 30),
        ] {
            assert_eq!(
                parse_duration(s, "d").unwrap(),
                Duration::minutes(minutes),
                "{s}"
            );
        }
        for bad in ["", "0", "-5m", "15 parsecs", "1:75"] {
            assert!(parse_duration(bad, "d").is_err(), "{bad}");
        }
    }
}
