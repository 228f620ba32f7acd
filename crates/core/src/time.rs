//! Time windows as the API takes them (`datetime=` in OGC API – Features:
//! an instant, or an interval `start/end` with `..` for an open end) and
//! the one overlap rule every filter and aggregate uses.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::{Error, Result};

/// Milliseconds since the Unix epoch, UTC: how times are stored and indexed.
pub type EpochMs = i64;

pub fn to_ms(t: DateTime<Utc>) -> EpochMs {
    t.timestamp_millis()
}

pub fn from_ms(ms: EpochMs) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The same instant at the millisecond precision times are stored with.
pub fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    from_ms(to_ms(t))
}

/// A closed time window `[start, end]` in epoch milliseconds; open ends are
/// `i64::MIN` / `i64::MAX`. Closed, because OGC API intervals include both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: EpochMs,
    pub end: EpochMs,
}

impl TimeWindow {
    pub const ALL: TimeWindow = TimeWindow {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// Builds a window, refusing one that ends before it starts.
    pub fn new(start: EpochMs, end: EpochMs, field: &str) -> Result<Self> {
        if end < start {
            return Err(Error::invalid(field, "the interval ends before it starts"));
        }
        Ok(Self { start, end })
    }

    /// Parses `datetime`: `2024-01-01T10:00:00Z`, `2024-01-01`,
    /// `2024-01-01/2024-03-31T23:59:59Z`, `../2024-01-01`, `2024-01-01/..`.
    /// A bare date as an instant means that whole day (UTC).
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once('/') {
            let start = match a.trim() {
                "" | ".." => i64::MIN,
                a => parse_instant(a, field, Edge::Start)?,
            };
            let end = match b.trim() {
                "" | ".." => i64::MAX,
                b => parse_instant(b, field, Edge::End)?,
            };
            Self::new(start, end, field)
        } else {
            let start = parse_instant(s, field, Edge::Start)?;
            let end = parse_instant(s, field, Edge::End)?;
            Self::new(start, end, field)
        }
    }

    /// Whether something present from `start` to `end` (inclusive; `end`
    /// `None` means still going on) touches this window.
    pub fn overlaps(&self, start: EpochMs, end: Option<EpochMs>) -> bool {
        start <= self.end && end.unwrap_or(i64::MAX) >= self.start
    }

    /// How many milliseconds of `[start, end]` fall inside the window.
    pub fn overlap_ms(&self, start: EpochMs, end: EpochMs) -> i64 {
        let a = start.max(self.start);
        let b = end.min(self.end);
        (b - a).max(0)
    }

    pub fn is_all(&self) -> bool {
        *self == Self::ALL
    }

    /// The window as an RFC 3339 interval, the form `datetime=` takes:
    /// `2025-01-01T00:00:00Z/2025-12-31T23:59:59.999Z`, `..` for an open
    /// end. Every answer says the window it used in this form.
    pub fn interval(&self) -> String {
        let edge = |ms: EpochMs, open: EpochMs| {
            if ms == open {
                "..".to_owned()
            } else {
                from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            }
        };
        format!(
            "{}/{}",
            edge(self.start, i64::MIN),
            edge(self.end, i64::MAX)
        )
    }
}

#[derive(Clone, Copy)]
enum Edge {
    Start,
    End,
}

fn parse_instant(s: &str, field: &str, edge: Edge) -> Result<EpochMs> {
    // An unencoded `+` in a query string arrives as a space:
    // `2024-01-01T10:00:00 01:00` means `+01:00`.
    let repaired;
    // Six bytes from the end may fall inside a multi-byte character.
    let s = match s.len().checked_sub(6).and_then(|i| s.split_at_checked(i)) {
        Some((head, tail))
            if tail.starts_with(' ')
                && tail[1..].chars().all(|c| c.is_ascii_digit() || c == ':') =>
        {
            repaired = format!("{head}+{}", &tail[1..]);
            repaired.as_str()
        }
        _ => s,
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = match edge {
            Edge::Start => d.and_time(NaiveTime::MIN),
            Edge::End => d.and_hms_milli_opt(23, 59, 59, 999).unwrap_or_default(),
        };
        return Ok(t.and_utc().timestamp_millis());
    }
    Err(Error::invalid(
        field,
        format!("`{s}` is not an RFC 3339 date-time (2024-01-31T18:00:00Z) or a date (2024-01-31)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn a_window_is_said_as_the_interval_datetime_takes_back() {
        for text in [
            "2024-01-01T00:00:00Z/2024-04-01T00:00:00Z",
            "2024-01-01T00:00:00Z/..",
            "../2024-03-31T23:59:59.999Z",
            "../..",
        ] {
            let w = TimeWindow::parse(text, "datetime").unwrap();
            assert_eq!(w.interval(), text);
            assert_eq!(TimeWindow::parse(&w.interval(), "datetime").unwrap(), w);
        }
        // A bare day is the whole day.
        let day = TimeWindow::parse("2024-02-29", "datetime").unwrap();
        assert_eq!(
            day.interval(),
            "2024-02-29T00:00:00Z/2024-02-29T23:59:59.999Z"
        );
    }

    #[test]
    fn an_interval_with_both_ends() {
        let w = TimeWindow::parse("2024-01-01T00:00:00Z/2024-04-01T00:00:00Z", "datetime").unwrap();
        assert_eq!(w.start, ms("2024-01-01T00:00:00Z"));
        assert_eq!(w.end, ms("2024-04-01T00:00:00Z"));
    }

    #[test]
    fn open_ends_use_two_dots_or_nothing() {
        let w = TimeWindow::parse("../2024-01-01T00:00:00Z", "datetime").unwrap();
        assert_eq!(w.start, i64::MIN);
        let w = TimeWindow::parse("2024-01-01T00:00:00+01:00/", "datetime").unwrap();
        assert_eq!(w.start, ms("2023-12-31T23:00:00Z"));
        assert_eq!(w.end, i64::MAX);
    }

    #[test]
    fn a_plus_lost_in_a_query_string_is_restored() {
        let w = TimeWindow::parse("2024-01-01T01:00:00 01:00/..", "datetime").unwrap();
        assert_eq!(w.start, ms("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn a_bare_date_is_the_whole_day() {
        let w = TimeWindow::parse("2024-02-29", "datetime").unwrap();
        assert_eq!(w.start, ms("2024-02-29T00:00:00Z"));
        assert_eq!(w.end, ms("2024-02-29T23:59:59.999Z"));
    }

    #[test]
    fn an_interval_that_ends_before_it_starts_is_refused() {
        let err = TimeWindow::parse("2024-05-01/2024-04-01", "datetime").unwrap_err();
        assert_eq!(err.field(), "datetime");
        assert!(err.reason().contains("ends before it starts"));
    }

    #[test]
    fn text_ending_in_multi_byte_characters_is_refused_not_a_panic() {
        // Found by the query_params fuzzer: the offset check sliced six bytes
        // from the end, inside the `é`.
        let err = TimeWindow::parse("2024-01-01é12345", "datetime").unwrap_err();
        assert_eq!(err.field(), "datetime");
        assert!(TimeWindow::parse("58.\u{fffd},100", "datetime").is_err());
    }

    #[test]
    fn garbage_names_the_field() {
        let err = TimeWindow::parse("yesterday", "datetime").unwrap_err();
        assert_eq!(err.field(), "datetime");
    }

    #[test]
    fn overlap_is_inclusive_and_open_ended_things_last() {
        let w = TimeWindow::new(100, 200, "t").unwrap();
        assert!(w.overlaps(200, Some(300)));
        assert!(w.overlaps(50, Some(100)));
        assert!(!w.overlaps(201, Some(300)));
        assert!(w.overlaps(0, None));
        assert_eq!(w.overlap_ms(150, 400), 50);
        assert_eq!(w.overlap_ms(300, 400), 0);
    }
}
