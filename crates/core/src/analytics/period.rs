//! Follow-up periods: the calendar slices the promise is followed up in.
//!
//! The cadence has differed between promises (DESIGN.md), so it is a value,
//! monthly by default. A period is a calendar period of the service area's
//! time zone ([`Period::window_in`]; a Swedish October starts at 22:00 UTC
//! on 30 September), as are the public layers' months
//! ([`crate::privacy::closed_month`]), so both count on the same
//! boundaries. [`Period::window`] is the UTC period.
//!
//! Labels: `2026-10` (month), `2026-Q3` (quarter), `2026-T2` (tertial,
//! January–April, May–August, September–December), `2026` (year).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{EpochMs, TimeWindow, from_ms};
use crate::{Error, Result};

const MS_PER_DAY: f64 = 86_400_000.0;

/// How often the promise is followed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    #[default]
    Monthly,
    Quarterly,
    /// Three periods a year of four months each (*tertial*).
    Tertial,
    Yearly,
}

impl Cadence {
    pub const ALL: [Cadence; 4] = [
        Cadence::Monthly,
        Cadence::Quarterly,
        Cadence::Tertial,
        Cadence::Yearly,
    ];

    /// Calendar months in one period.
    pub const fn months(self) -> u32 {
        match self {
            Cadence::Monthly => 1,
            Cadence::Quarterly => 3,
            Cadence::Tertial => 4,
            Cadence::Yearly => 12,
        }
    }

    pub const fn per_year(self) -> u32 {
        12 / self.months()
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
            Cadence::Tertial => "tertial",
            Cadence::Yearly => "yearly",
        }
    }

    /// Parses `monthly`, `quarterly`, `tertial` or `yearly`.
    ///
    /// # Errors
    /// Any other word, naming `field`.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        Cadence::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    format!(
                        "unknown cadence `{s}`; expected one of monthly, quarterly, tertial, yearly"
                    ),
                )
            })
    }
}

/// One follow-up period: a cadence, a year and the period's number within
/// the year (1-based: month 1–12, quarter 1–4, tertial 1–3, year 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    cadence: Cadence,
    year: i32,
    index: u32,
}

/// Four-digit years keep labels unambiguous and every date inside chrono.
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

impl Period {
    /// # Errors
    /// A year outside 1–9999 or an index outside the cadence's range.
    pub fn new(cadence: Cadence, year: i32, index: u32) -> Result<Self> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(Error::invalid(
                "period",
                format!("the year must be between {MIN_YEAR} and {MAX_YEAR}"),
            ));
        }
        if !(1..=cadence.per_year()).contains(&index) {
            return Err(Error::invalid(
                "period",
                format!(
                    "a {} period is numbered 1 to {}",
                    cadence.as_str(),
                    cadence.per_year()
                ),
            ));
        }
        Ok(Self {
            cadence,
            year,
            index,
        })
    }

    /// The period of `cadence` that contains the instant `at_ms`.
    ///
    /// # Errors
    /// An instant outside the years 1–9999.
    pub fn containing(cadence: Cadence, at_ms: EpochMs) -> Result<Self> {
        let t = from_ms(at_ms);
        if crate::time::to_ms(t) != at_ms {
            return Err(Error::invalid("period", "the instant is out of range"));
        }
        Self::new(cadence, t.year(), (t.month() - 1) / cadence.months() + 1)
    }

    /// Parses a label, the cadence following from its shape: `2026-10`,
    /// `2026-Q3`, `2026-T2`, `2026`.
    ///
    /// # Errors
    /// Anything else, naming `field`.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let malformed = || {
            Error::invalid(
                field,
                format!("`{s}` is not a period (2026-10, 2026-Q3, 2026-T2 or 2026)"),
            )
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let s = s.trim();
        let (y, rest) = match s.split_once('-') {
            Some((y, rest)) => (y, Some(rest)),
            None => (s, None),
        };
        if !digits(y, 4) {
            return Err(malformed());
        }
        let year: i32 = y.parse().map_err(|_| malformed())?;
        let (cadence, index) = match rest {
            None => (Cadence::Yearly, "1"),
            Some(r) if digits(r, 2) => (Cadence::Monthly, r),
            Some(r) => match r.split_at_checked(1) {
                Some(("Q", n)) if digits(n, 1) => (Cadence::Quarterly, n),
                Some(("T", n)) if digits(n, 1) => (Cadence::Tertial, n),
                _ => return Err(malformed()),
            },
        };
        let index: u32 = index.parse().map_err(|_| malformed())?;
        Self::new(cadence, year, index).map_err(|e| Error::invalid(field, e.reason()))
    }

    pub fn cadence(self) -> Cadence {
        self.cadence
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// The period's number within its year, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    pub fn label(self) -> String {
        self.to_string()
    }

    fn first_month(self) -> u32 {
        (self.index - 1) * self.cadence.months() + 1
    }

    /// The first day of the period.
    pub fn start_date(self) -> NaiveDate {
        // `new` keeps year and month in range, so the date always exists.
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1).unwrap_or_default()
    }

    /// The first day after the period.
    fn end_date_exclusive(self) -> NaiveDate {
        let month0 = self.first_month() - 1 + self.cadence.months();
        NaiveDate::from_ymd_opt(self.year + (month0 / 12) as i32, month0 % 12 + 1, 1)
            .unwrap_or_default()
    }

    pub fn start_ms(self) -> EpochMs {
        self.start_date()
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
    }

    /// The last millisecond of the period (windows are closed intervals).
    pub fn end_ms(self) -> EpochMs {
        self.end_date_exclusive()
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
            - 1
    }

    /// The period as a closed window, first to last millisecond.
    pub fn window(self) -> TimeWindow {
        TimeWindow {
            start: self.start_ms(),
            end: self.end_ms(),
        }
    }

    /// The period as a closed window in a time zone: from local midnight
    /// of its first day to just before local midnight after its last (a
    /// Swedish October starts at 22:00 UTC on 30 September).
    pub fn window_in(self, tz: Tz) -> TimeWindow {
        TimeWindow {
            start: local_midnight_ms(self.start_date(), tz),
            end: local_midnight_ms(self.end_date_exclusive(), tz) - 1,
        }
    }

    /// Whether the period has ended by `now_ms` in a time zone.
    pub fn has_ended_in(self, now_ms: EpochMs, tz: Tz) -> bool {
        self.window_in(tz).end < now_ms
    }

    /// The period of `cadence` that contains `at_ms` in a time zone.
    ///
    /// # Errors
    /// An instant outside the years 1–9999.
    pub fn containing_in(cadence: Cadence, at_ms: EpochMs, tz: Tz) -> Result<Self> {
        let t = from_ms(at_ms);
        if crate::time::to_ms(t) != at_ms {
            return Err(Error::invalid("period", "the instant is out of range"));
        }
        let local = t.with_timezone(&tz);
        Self::new(
            cadence,
            local.year(),
            (local.month() - 1) / cadence.months() + 1,
        )
    }

    /// The period's length in days (28 to 366).
    pub fn days(self) -> f64 {
        (self.end_ms() + 1 - self.start_ms()) as f64 / MS_PER_DAY
    }

    /// Whether the period has ended by `now_ms`: only ended periods are
    /// published.
    pub fn has_ended(self, now_ms: EpochMs) -> bool {
        self.end_ms() < now_ms
    }

    /// # Errors
    /// Stepping past the year 9999.
    pub fn next(self) -> Result<Self> {
        if self.index == self.cadence.per_year() {
            Self::new(self.cadence, self.year + 1, 1)
        } else {
            Self::new(self.cadence, self.year, self.index + 1)
        }
    }

    /// # Errors
    /// Stepping before the year 1.
    pub fn previous(self) -> Result<Self> {
        if self.index == 1 {
            Self::new(self.cadence, self.year - 1, self.cadence.per_year())
        } else {
            Self::new(self.cadence, self.year, self.index - 1)
        }
    }

    /// The same period one year earlier: what the follow-up compares with,
    /// so that seasons do not pass for trends.
    ///
    /// # Errors
    /// Stepping before the year 1.
    pub fn year_earlier(self) -> Result<Self> {
        Self::new(self.cadence, self.year - 1, self.index)
    }

    /// The `n` periods that end with this one, oldest first (this period
    /// last), e.g. the twelve monthly steps of an emerging hot-spot run.
    ///
    /// # Errors
    /// Stepping before the year 1.
    pub fn back(self, n: usize) -> Result<Vec<Self>> {
        let mut out = Vec::with_capacity(n);
        let mut p = self;
        for i in 0..n {
            out.push(p);
            if i + 1 < n {
                p = p.previous()?;
            }
        }
        out.reverse();
        Ok(out)
    }
}

/// The first instant of a local day. Where a zone skips midnight (a
/// switch to summer time at 00:00), the day starts at the first local time
/// that exists.
pub fn local_midnight_ms(date: NaiveDate, tz: Tz) -> EpochMs {
    let mut local = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.timestamp_millis();
        }
        local += chrono::Duration::minutes(30);
    }
    date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cadence {
            Cadence::Monthly => write!(f, "{:04}-{:02}", self.year, self.index),
            Cadence::Quarterly => write!(f, "{:04}-Q{}", self.year, self.index),
            Cadence::Tertial => write!(f, "{:04}-T{}", self.year, self.index),
            Cadence::Yearly => write!(f, "{:04}", self.year),
        }
    }
}

impl FromStr for Period {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s, "period")
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s, "period").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn a_period_in_a_time_zone_starts_at_local_midnight() {
        let stockholm = chrono_tz::Europe::Stockholm;
        let oct = Period::parse("2026-10", "period")
            .unwrap()
            .window_in(stockholm);
        // Summer time at the start, winter time at the end.
        assert_eq!(oct.start, ms("2026-09-30T22:00:00Z"));
        assert_eq!(oct.end, ms("2026-10-31T23:00:00Z") - 1);
        let jan = Period::parse("2026-01", "period").unwrap();
        assert_eq!(jan.window_in(chrono_tz::UTC), jan.window());
        // 23:30 UTC on 31 January is 00:30 on 1 February in Stockholm.
        assert!(jan.has_ended_in(ms("2026-01-31T23:30:00Z"), stockholm));
        assert!(!jan.has_ended_in(ms("2026-01-31T23:30:00Z"), chrono_tz::UTC));
        assert_eq!(
            Period::containing_in(Cadence::Monthly, ms("2026-01-31T23:30:00Z"), stockholm)
                .unwrap()
                .label(),
            "2026-02"
        );
        // Santiago de Chile skipped midnight on 2024-09-08: the day began at 01:00.
        let d = NaiveDate::from_ymd_opt(2024, 9, 8).unwrap();
        assert_eq!(
            local_midnight_ms(d, chrono_tz::America::Santiago),
            ms("2024-09-08T04:00:00Z")
        );
    }

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn p(s: &str) -> Period {
        Period::parse(s, "period").unwrap()
    }

    #[test]
    fn every_label_shape_round_trips_and_names_its_cadence() {
        for (label, cadence) in [
            ("2026-10", Cadence::Monthly),
            ("2026-Q3", Cadence::Quarterly),
            ("2026-T2", Cadence::Tertial),
            ("2026", Cadence::Yearly),
        ] {
            let period = p(label);
            assert_eq!(period.cadence(), cadence);
            assert_eq!(period.to_string(), label);
            assert_eq!(label.parse::<Period>().unwrap(), period);
        }
    }

    #[test]
    fn malformed_labels_are_refused_naming_the_field() {
        for bad in [
            "", "26-10", "2026-1", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "2026-T4",
            "2026-q1", "2026-Q12", "2026-W10", "twenty", "2026-",
        ] {
            let err = Period::parse(bad, "period").unwrap_err();
            assert_eq!(err.field(), "period", "{bad}");
        }
    }

    #[test]
    fn a_month_runs_from_its_first_to_its_last_millisecond() {
        let w = p("2024-02").window();
        assert_eq!(w.start, ms("2024-02-01T00:00:00Z"));
        assert_eq!(w.end, ms("2024-02-29T23:59:59.999Z"));
        assert!((p("2024-02").days() - 29.0).abs() < 1e-12);
    }

    #[test]
    fn quarters_tertials_and_years_cover_their_months() {
        let q = p("2026-Q3").window();
        assert_eq!(q.start, ms("2026-07-01T00:00:00Z"));
        assert_eq!(q.end, ms("2026-09-30T23:59:59.999Z"));
        let t = p("2026-T2").window();
        assert_eq!(t.start, ms("2026-05-01T00:00:00Z"));
        assert_eq!(t.end, ms("2026-08-31T23:59:59.999Z"));
        let t3 = p("2026-T3").window();
        assert_eq!(t3.end, ms("2026-12-31T23:59:59.999Z"));
        let y = p("2026").window();
        assert_eq!(y.start, ms("2026-01-01T00:00:00Z"));
        assert_eq!(y.end, ms("2026-12-31T23:59:59.999Z"));
    }

    #[test]
    fn the_period_containing_an_instant_includes_its_edges() {
        let at = ms("2026-08-31T23:59:59.999Z");
        assert_eq!(
            Period::containing(Cadence::Monthly, at).unwrap(),
            p("2026-08")
        );
        assert_eq!(
            Period::containing(Cadence::Quarterly, at).unwrap(),
            p("2026-Q3")
        );
        assert_eq!(
            Period::containing(Cadence::Tertial, at).unwrap(),
            p("2026-T2")
        );
        assert_eq!(Period::containing(Cadence::Yearly, at).unwrap(), p("2026"));
        let next = at + 1;
        assert_eq!(
            Period::containing(Cadence::Tertial, next).unwrap(),
            p("2026-T3")
        );
    }

    #[test]
    fn stepping_back_crosses_the_new_year() {
        assert_eq!(p("2026-01").previous().unwrap(), p("2025-12"));
        assert_eq!(p("2026-Q1").previous().unwrap(), p("2025-Q4"));
        assert_eq!(p("2026-T1").previous().unwrap(), p("2025-T3"));
        assert_eq!(p("2026").previous().unwrap(), p("2025"));
        assert_eq!(p("2025-12").next().unwrap(), p("2026-01"));
        assert_eq!(p("2026-T2").year_earlier().unwrap(), p("2025-T2"));
    }

    #[test]
    fn n_periods_back_end_with_the_period_itself_oldest_first() {
        let months = p("2026-02").back(4).unwrap();
        let labels: Vec<String> = months.iter().map(|m| m.label()).collect();
        assert_eq!(labels, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert!(p("2026-02").back(0).unwrap().is_empty());
    }

    #[test]
    fn a_period_has_ended_only_after_its_last_millisecond() {
        let m = p("2026-10");
        assert!(!m.has_ended(m.end_ms()));
        assert!(m.has_ended(m.end_ms() + 1));
    }

    #[test]
    fn cadence_words_parse_and_monthly_is_the_default() {
        assert_eq!(Cadence::default(), Cadence::Monthly);
        assert_eq!(
            Cadence::parse("tertial", "cadence").unwrap(),
            Cadence::Tertial
        );
        assert_eq!(
            Cadence::parse("weekly", "cadence").unwrap_err().field(),
            "cadence"
        );
    }

    #[test]
    fn a_period_serialises_as_its_label() {
        let json = serde_json::to_string(&p("2026-Q3")).unwrap();
        assert_eq!(json, "\"2026-Q3\"");
        let back: Period = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p("2026-Q3"));
        assert!(serde_json::from_str::<Period>("\"2026-Q9\"").is_err());
    }
}
