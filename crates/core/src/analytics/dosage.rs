//! Patrol dosage per priority place, measured against the Koper curve
//! (stops of about 10–15 minutes deter longest; revisit within about two
//! hours), and a suggested patrol list.
//!
//! # Matching presence to a place
//! A presence log is at a place when its geometry lies inside the place's
//! polygon or within `reach_m` of it. Distances are Euclidean in a local
//! equirectangular projection centred on the place (sphere of radius
//! 6 371 008.8 m): within a few kilometres of the place the error is far
//! below a metre, well under the precision of a phone's position.
//!
//! - A **point** log is at the place for its whole duration.
//! - A **track** (line) carries no times along it, so the unit is assumed
//!   to move at constant speed: the track is sampled every 5 m, and the
//!   time at the place runs from the first to the last sample within
//!   reach. A two-hour foot patrol that crosses a square counts only the
//!   minutes spent near it.
//!
//! # Visits
//! Intervals at the same place are merged into one visit when the next
//! starts less than `merge_gap_min` (default 5) minutes after the previous
//! ends (overlaps included: two units there at once are one visit). A
//! visit's minutes are the time covered by its logs, each minute counted
//! once; the short gaps inside it are not counted. A visit belongs to the
//! period it starts in.
//!
//! # Per period
//! Visits, total minutes, median minutes per visit, the share of visits in
//! the Koper band (10–15 minutes, inclusive), the longest gap between two
//! visits, the longest stretch without presence (including the period's
//! edges, up to `now` for a period still going on), and the target: the
//! place's visits per week times the days it was active in the period / 7.

use std::collections::BTreeMap;

use geo::{BoundingRect, Distance, Euclidean, MapCoords};
use geo_types::{Coord, Geometry, LineString, Point};
use serde::Serialize;
use uuid::Uuid;

use super::stats::median;
use crate::attrs::{Attributes, Presence, UnitType};
use crate::time::{EpochMs, TimeWindow, to_ms};
use crate::{Error, Feature, Result};

pub const DEFAULT_REACH_M: f64 = 25.0;
pub const DEFAULT_MERGE_GAP_MIN: f64 = 5.0;
pub const KOPER_BAND_MIN: [f64; 2] = [10.0, 15.0];
/// After a week without presence a place is as overdue as it gets.
pub const DEFAULT_MAX_WAIT_H: f64 = 168.0;
/// No place is a kilometre beyond reach of its own patrol.
pub const MAX_REACH_M: f64 = 1_000.0;

const EARTH_RADIUS_M: f64 = 6_371_008.8;
const TRACK_STEP_M: f64 = 5.0;
const MS_PER_MIN: f64 = 60_000.0;
const MS_PER_HOUR: f64 = 3_600_000.0;
const MS_PER_DAY: f64 = 86_400_000.0;

/// How presence is matched, merged and judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DosageConfig {
    /// How far outside the place's polygon presence still counts.
    pub reach_m: f64,
    /// Logs closer together than this are one visit.
    pub merge_gap_min: f64,
    /// The Koper band, inclusive.
    pub band_min: [f64; 2],
    /// The waiting time at which the patrol list stops adding urgency.
    pub max_wait_h: f64,
}

impl Default for DosageConfig {
    fn default() -> Self {
        Self {
            reach_m: DEFAULT_REACH_M,
            merge_gap_min: DEFAULT_MERGE_GAP_MIN,
            band_min: KOPER_BAND_MIN,
            max_wait_h: DEFAULT_MAX_WAIT_H,
        }
    }
}

impl DosageConfig {
    /// # Errors
    /// A reach outside 0–1000 m, a negative gap, an empty band or a
    /// non-positive waiting cap.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=MAX_REACH_M).contains(&self.reach_m) {
            return Err(Error::invalid(
                "reach_m",
                format!("must be between 0 and {MAX_REACH_M} metres"),
            ));
        }
        if !(self.merge_gap_min >= 0.0 && self.merge_gap_min.is_finite()) {
            return Err(Error::invalid("merge_gap_min", "must be 0 or more minutes"));
        }
        let [lo, hi] = self.band_min;
        if !(lo >= 0.0 && hi >= lo && hi.is_finite()) {
            return Err(Error::invalid(
                "band_min",
                "must be two minutes, low ≤ high",
            ));
        }
        if !(self.max_wait_h > 0.0 && self.max_wait_h.is_finite()) {
            return Err(Error::invalid(
                "max_wait_h",
                "must be a positive number of hours",
            ));
        }
        Ok(())
    }
}

/// A presence log as dosage needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceLog {
    pub id: Uuid,
    pub unit_type: UnitType,
    pub organisation_id: Option<Uuid>,
    pub start_ms: EpochMs,
    /// Closed: an ongoing log is closed at `now` by [`PresenceLog::from_feature`].
    pub end_ms: EpochMs,
    /// A point or a line (track), WGS84.
    pub geometry: Geometry<f64>,
}

impl PresenceLog {
    /// The log of a stored presence feature (`None` for other kinds); one
    /// still going on ends at `now_ms`, or closes itself
    /// [`Presence::MAX_HOURS`] after its start.
    pub fn from_feature(f: &Feature, now_ms: EpochMs) -> Option<Self> {
        let Attributes::Presence(p) = &f.attributes else {
            return None;
        };
        let start_ms = to_ms(p.started_at);
        Some(Self {
            id: f.id,
            unit_type: p.unit_type,
            organisation_id: f.organisation_id,
            start_ms,
            end_ms: Presence::counted_end_ms(start_ms, p.ended_at.map(to_ms), now_ms),
            geometry: f.geometry.clone(),
        })
    }

    pub fn minutes(&self) -> f64 {
        (self.end_ms - self.start_ms).max(0) as f64 / MS_PER_MIN
    }
}

/// A priority place as dosage needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceArea {
    pub id: Uuid,
    pub name: String,
    /// A polygon or multipolygon, WGS84.
    pub geometry: Geometry<f64>,
    pub target_visits_per_week: Option<u32>,
    /// When the place is a priority place (`end` is `i64::MAX` while open).
    pub active: TimeWindow,
}

impl PlaceArea {
    /// The place of a stored place feature (`None` for other kinds).
    pub fn from_feature(f: &Feature) -> Option<Self> {
        let Attributes::Place(p) = &f.attributes else {
            return None;
        };
        Some(Self {
            id: f.id,
            name: p.name.clone(),
            geometry: f.geometry.clone(),
            target_visits_per_week: p.target_visits_per_week,
            active: TimeWindow {
                start: to_ms(p.active_from),
                end: p.active_until.map_or(i64::MAX, to_ms),
            },
        })
    }
}

/// A place projected to local metres once, for many distance tests.
struct Projected {
    origin: Coord<f64>,
    cos_lat: f64,
    place: Geometry<f64>,
}

impl Projected {
    fn new(place: &PlaceArea) -> Option<Self> {
        let rect = place.geometry.bounding_rect()?;
        let origin = rect.center();
        let cos_lat = origin.y.to_radians().cos();
        let mut p = Self {
            origin,
            cos_lat,
            place: place.geometry.clone(),
        };
        p.place = p.project(&place.geometry);
        Some(p)
    }

    fn to_m(&self, c: Coord<f64>) -> Coord<f64> {
        let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        Coord {
            x: (c.x - self.origin.x) * self.cos_lat * k,
            y: (c.y - self.origin.y) * k,
        }
    }

    fn project(&self, g: &Geometry<f64>) -> Geometry<f64> {
        g.map_coords(|c| self.to_m(c))
    }

    fn distance_m(&self, p: Coord<f64>) -> f64 {
        Euclidean.distance(&Point(p), &self.place)
    }
}

/// The part of a log's time spent at a place, or `None` when it never came
/// within reach (see the module docs for tracks).
pub fn time_at_place(
    place: &PlaceArea,
    log: &PresenceLog,
    config: &DosageConfig,
) -> Option<(EpochMs, EpochMs)> {
    let projected = Projected::new(place)?;
    time_at(&projected, log, config.reach_m)
}

fn time_at(place: &Projected, log: &PresenceLog, reach_m: f64) -> Option<(EpochMs, EpochMs)> {
    let whole = Some((log.start_ms, log.end_ms));
    match place.project(&log.geometry) {
        Geometry::Point(p) => (place.distance_m(p.0) <= reach_m).then_some(whole)?,
        Geometry::LineString(line) => {
            let (first, last) = reach_along(place, &line, reach_m)?;
            let span = (log.end_ms - log.start_ms) as f64;
            let at = |share: f64| log.start_ms + (span * share).round() as i64;
            Some((at(first), at(last)))
        }
        _ => None,
    }
}

/// The first and last share (0–1) of a track's length within reach.
fn reach_along(place: &Projected, line: &LineString<f64>, reach_m: f64) -> Option<(f64, f64)> {
    let total: f64 = line.lines().map(|l| l.dx().hypot(l.dy())).sum();
    let &start = line.0.first()?;
    if total <= 0.0 {
        return (place.distance_m(start) <= reach_m).then_some((0.0, 1.0));
    }
    let mut first = None;
    let mut last = None;
    let mut walked = 0.0;
    let mut visit = |c: Coord<f64>, at_m: f64| {
        if place.distance_m(c) <= reach_m {
            first.get_or_insert(at_m / total);
            last = Some(at_m / total);
        }
    };
    visit(start, 0.0);
    for seg in line.lines() {
        let len = seg.dx().hypot(seg.dy());
        let steps = (len / TRACK_STEP_M).ceil().max(1.0) as u32;
        for i in 1..=steps {
            let f = f64::from(i) / f64::from(steps);
            let c = Coord {
                x: seg.start.x + seg.dx() * f,
                y: seg.start.y + seg.dy() * f,
            };
            visit(c, walked + len * f);
        }
        walked += len;
    }
    Some((first?, last?))
}

/// One visit: presence at a place without a break of `merge_gap_min`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Visit {
    pub start_ms: EpochMs,
    pub end_ms: EpochMs,
    /// Time covered by the visit's logs, each minute once.
    pub minutes: f64,
    /// Logs merged into it.
    pub logs: usize,
}

/// Every visit to a place, oldest first.
pub fn visits(place: &PlaceArea, logs: &[PresenceLog], config: &DosageConfig) -> Vec<Visit> {
    let Some(projected) = Projected::new(place) else {
        return Vec::new();
    };
    let mut intervals: Vec<(EpochMs, EpochMs)> = logs
        .iter()
        .filter_map(|l| time_at(&projected, l, config.reach_m))
        .collect();
    merge(&mut intervals, config.merge_gap_min)
}

fn merge(intervals: &mut [(EpochMs, EpochMs)], gap_min: f64) -> Vec<Visit> {
    intervals.sort_unstable();
    let gap_ms = (gap_min * MS_PER_MIN).round() as i64;
    let mut out: Vec<Visit> = Vec::new();
    for &(s, e) in intervals.iter() {
        match out.last_mut() {
            Some(v) if s - v.end_ms < gap_ms || s <= v.end_ms => {
                let covered_from = s.max(v.end_ms);
                v.minutes += (e - covered_from).max(0) as f64 / MS_PER_MIN;
                v.end_ms = v.end_ms.max(e);
                v.logs += 1;
            }
            _ => out.push(Visit {
                start_ms: s,
                end_ms: e,
                minutes: (e - s) as f64 / MS_PER_MIN,
                logs: 1,
            }),
        }
    }
    out
}

/// The dosage figures of one place in one period.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PlaceDosage {
    pub place_id: Uuid,
    pub name: String,
    pub visits: u32,
    pub total_minutes: f64,
    pub median_minutes: Option<f64>,
    /// Share (0–1) of visits within the Koper band.
    pub koper_share: Option<f64>,
    /// The longest time between the end of one visit and the start of the
    /// next, both in the period; `None` with fewer than two visits.
    pub longest_gap_h: Option<f64>,
    /// The longest stretch of the period (up to `now`) without presence.
    pub longest_without_presence_h: f64,
    /// Visits the place's weekly target asks for in this period.
    pub target_visits: Option<f64>,
    /// `visits / target_visits`.
    pub target_share: Option<f64>,
}

/// The dosage of a place in a window, from its visits ([`visits`]).
pub fn dosage(
    place: &PlaceArea,
    visits: &[Visit],
    window: TimeWindow,
    now_ms: EpochMs,
    config: &DosageConfig,
) -> PlaceDosage {
    let inside: Vec<&Visit> = visits
        .iter()
        .filter(|v| v.start_ms >= window.start && v.start_ms <= window.end)
        .collect();
    let minutes: Vec<f64> = inside.iter().map(|v| v.minutes).collect();
    let [lo, hi] = config.band_min;
    let in_band = minutes.iter().filter(|&&m| m >= lo && m <= hi).count();
    let koper_share = (!minutes.is_empty()).then(|| in_band as f64 / minutes.len() as f64);
    let longest_gap_h = inside
        .windows(2)
        .map(|w| (w[1].start_ms - w[0].end_ms).max(0) as f64 / MS_PER_HOUR)
        .reduce(f64::max);
    let target_visits = place.target_visits_per_week.map(|t| {
        let active = TimeWindow {
            start: window.start.max(place.active.start),
            end: window.end.min(place.active.end),
        };
        let days = if active.end >= active.start {
            (active.end - active.start).saturating_add(1) as f64 / MS_PER_DAY
        } else {
            0.0
        };
        f64::from(t) * days / 7.0
    });
    let visits_n = inside.len() as u32;
    PlaceDosage {
        place_id: place.id,
        name: place.name.clone(),
        visits: visits_n,
        total_minutes: minutes.iter().sum(),
        median_minutes: median(&minutes),
        koper_share,
        longest_gap_h,
        longest_without_presence_h: longest_without(visits, window, now_ms),
        target_visits,
        target_share: target_visits
            .filter(|t| *t > 0.0)
            .map(|t| f64::from(visits_n) / t),
    }
}

/// The longest uncovered stretch of `[window.start, min(window.end, now)]`.
fn longest_without(visits: &[Visit], window: TimeWindow, now_ms: EpochMs) -> f64 {
    let from = window.start;
    let to = window.end.saturating_add(1).min(now_ms);
    if to <= from {
        return 0.0;
    }
    let mut cursor = from;
    let mut longest = 0;
    for v in visits {
        if v.end_ms < from || v.start_ms > to {
            continue;
        }
        longest = longest.max(v.start_ms - cursor);
        cursor = cursor.max(v.end_ms);
    }
    longest = longest.max(to - cursor);
    longest.max(0) as f64 / MS_PER_HOUR
}

/// One line of the suggested patrol list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolSuggestion {
    pub place_id: Uuid,
    pub name: String,
    pub hot_level: f64,
    /// When presence at the place last ended (up to now); `None`: never.
    pub last_presence_ms: Option<EpochMs>,
    pub hours_since_presence: Option<f64>,
    /// hot level × waiting time (hours since presence, capped at
    /// `max_wait_h`, never visited counting as the cap) / `max_wait_h`.
    pub score: f64,
}

/// Hot places with the least recent presence first.
///
/// `hot_levels` gives each place its hot-spot level, in whatever unit the
/// caller chooses as long as it is the same for all (incident count in the
/// place, or the mean Gi* z over its cells); places without a level, with a
/// level of 0 or less, or not active at `now_ms` are left out. Ranked by
/// score (see [`PatrolSuggestion::score`]), then hot level, then the
/// longest wait, then place id.
pub fn patrol_list(
    places: &[PlaceArea],
    hot_levels: &BTreeMap<Uuid, f64>,
    logs: &[PresenceLog],
    now_ms: EpochMs,
    config: &DosageConfig,
) -> Vec<PatrolSuggestion> {
    let mut out: Vec<PatrolSuggestion> = places
        .iter()
        .filter(|p| p.active.start <= now_ms && now_ms <= p.active.end)
        .filter_map(|place| {
            let hot = *hot_levels.get(&place.id)?;
            if !(hot > 0.0 && hot.is_finite()) {
                return None;
            }
            let projected = Projected::new(place)?;
            let last = logs
                .iter()
                .filter(|l| l.start_ms <= now_ms)
                .filter_map(|l| time_at(&projected, l, config.reach_m))
                .map(|(_, end)| end.min(now_ms))
                .max();
            let hours = last.map(|t| (now_ms - t) as f64 / MS_PER_HOUR);
            let wait = hours.map_or(config.max_wait_h, |h| h.min(config.max_wait_h));
            Some(PatrolSuggestion {
                place_id: place.id,
                name: place.name.clone(),
                hot_level: hot,
                last_presence_ms: last,
                hours_since_presence: hours,
                score: hot * wait / config.max_wait_h,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.hot_level.total_cmp(&a.hot_level))
            .then(
                b.hours_since_presence
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&a.hours_since_presence.unwrap_or(f64::INFINITY)),
            )
            .then(a.place_id.cmp(&b.place_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use geo_types::{line_string, polygon};

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    /// A square of about 67 × 111 m: 0.001° of longitude is ≈ 58.4 m at
    /// this latitude, 0.001° of latitude ≈ 111.2 m.
    fn square(id: u128) -> PlaceArea {
        PlaceArea {
            id: Uuid::from_u128(id),
            name: format!("Torget {id}"),
            geometry: Geometry::Polygon(polygon![
                (x: 15.620, y: 58.410), (x: 15.621, y: 58.410), (x: 15.621, y: 58.411),
                (x: 15.620, y: 58.411), (x: 15.620, y: 58.410)
            ]),
            target_visits_per_week: Some(7),
            active: TimeWindow::ALL,
        }
    }

    fn at_point(lon: f64, lat: f64, start: &str, minutes: i64) -> PresenceLog {
        let start_ms = ms(start);
        PresenceLog {
            id: Uuid::now_v7(),
            unit_type: UnitType::Police,
            organisation_id: None,
            start_ms,
            end_ms: start_ms + minutes * 60_000,
            geometry: Geometry::Point(Point::new(lon, lat)),
        }
    }

    #[test]
    fn a_point_inside_or_within_reach_matches_and_one_beyond_does_not() {
        let place = square(1);
        let cfg = DosageConfig::default();
        let inside = at_point(15.6205, 58.4105, "2026-10-01T10:00:00Z", 10);
        assert!(time_at_place(&place, &inside, &cfg).is_some());
        // 0.0003° east of the edge ≈ 17.5 m: within 25 m.
        let near = at_point(15.6213, 58.4105, "2026-10-01T10:00:00Z", 10);
        assert!(time_at_place(&place, &near, &cfg).is_some());
        // 0.0006° ≈ 35 m: beyond.
        let far = at_point(15.6216, 58.4105, "2026-10-01T10:00:00Z", 10);
        assert!(time_at_place(&place, &far, &cfg).is_none());
        let wide = DosageConfig {
            reach_m: 40.0,
            ..cfg
        };
        assert!(time_at_place(&place, &far, &wide).is_some());
    }

    #[test]
    fn a_track_counts_only_the_minutes_near_the_place() {
        // West to east along the square's middle latitude, 0.010° ≈ 584 m
        // in 60 min. The square spans 15.620–15.621, reach 25 m ≈ 0.00043°:
        // in reach from ≈ 15.61957 to ≈ 15.62143, i.e. shares ≈ 0.357 to
        // ≈ 0.543 of the track (≈ 21.4 to 32.6 minutes).
        let place = square(1);
        let start = ms("2026-10-01T10:00:00Z");
        let log = PresenceLog {
            id: Uuid::now_v7(),
            unit_type: UnitType::NightWalkers,
            organisation_id: None,
            start_ms: start,
            end_ms: start + 3_600_000,
            geometry: Geometry::LineString(line_string![
                (x: 15.6160, y: 58.4105), (x: 15.6260, y: 58.4105)
            ]),
        };
        let (s, e) = time_at_place(&place, &log, &DosageConfig::default()).unwrap();
        let from_min = (s - start) as f64 / 60_000.0;
        let to_min = (e - start) as f64 / 60_000.0;
        // Samples every 5 m ≈ 0.5 min of walking.
        assert!((from_min - 21.43).abs() < 0.6, "{from_min}");
        assert!((to_min - 32.57).abs() < 0.6, "{to_min}");
    }

    #[test]
    fn logs_closer_than_five_minutes_merge_into_one_visit() {
        let place = square(1);
        let logs = [
            at_point(15.6205, 58.4105, "2026-10-01T10:00:00Z", 6),
            // 4 minutes later: merged; 6 + 5 = 11 minutes covered.
            at_point(15.6205, 58.4105, "2026-10-01T10:10:00Z", 5),
            // Overlapping, from another unit: 2 more minutes covered.
            at_point(15.6206, 58.4106, "2026-10-01T10:13:00Z", 4),
            // Exactly 5 minutes after: a new visit.
            at_point(15.6205, 58.4105, "2026-10-01T10:22:00Z", 3),
        ];
        let v = visits(&place, &logs, &DosageConfig::default());
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].logs, 3);
        assert!((v[0].minutes - 13.0).abs() < 1e-9);
        assert_eq!(v[0].end_ms, ms("2026-10-01T10:17:00Z"));
        assert!((v[1].minutes - 3.0).abs() < 1e-9);
    }

    #[test]
    fn the_period_figures_of_a_hand_made_week() {
        // October 2026 (31 days), target 7 a week → 31 visits expected.
        let place = square(1);
        let logs = [
            at_point(15.6205, 58.4105, "2026-10-01T10:00:00Z", 12),
            at_point(15.6205, 58.4105, "2026-10-01T14:00:00Z", 8),
            at_point(15.6205, 58.4105, "2026-10-03T14:00:00Z", 15),
            at_point(15.6205, 58.4105, "2026-10-04T02:00:00Z", 30),
            // September: outside the period.
            at_point(15.6205, 58.4105, "2026-09-30T23:00:00Z", 10),
        ];
        let cfg = DosageConfig::default();
        let v = visits(&place, &logs, &cfg);
        let period = crate::analytics::Period::parse("2026-10", "p").unwrap();
        let d = dosage(
            &place,
            &v,
            period.window(),
            ms("2026-11-05T00:00:00Z"),
            &cfg,
        );
        assert_eq!(d.visits, 4);
        assert!((d.total_minutes - 65.0).abs() < 1e-9);
        assert_eq!(d.median_minutes, Some(13.5));
        assert_eq!(d.koper_share, Some(0.5));
        // Gaps: 10:12→14:00 (3.8 h), 14:08 on the 1st → 14:00 on the 3rd
        // (47.866… h), 14:15 → 02:00 (11.75 h).
        assert!((d.longest_gap_h.unwrap() - (47.0 + 52.0 / 60.0)).abs() < 1e-9);
        // From 02:30 on the 4th to the end of the month: 27 days 21.5 hours.
        assert!((d.longest_without_presence_h - (27.0 * 24.0 + 21.5)).abs() < 1e-9);
        assert!((d.target_visits.unwrap() - 31.0).abs() < 1e-9);
        assert!((d.target_share.unwrap() - 4.0 / 31.0).abs() < 1e-12);
    }

    #[test]
    fn a_period_still_going_on_counts_no_presence_only_up_to_now() {
        let place = square(1);
        let cfg = DosageConfig::default();
        let period = crate::analytics::Period::parse("2026-10", "p").unwrap();
        let d = dosage(
            &place,
            &[],
            period.window(),
            ms("2026-10-02T12:00:00Z"),
            &cfg,
        );
        assert_eq!(d.visits, 0);
        assert_eq!(d.median_minutes, None);
        assert_eq!(d.koper_share, None);
        assert_eq!(d.longest_gap_h, None);
        assert!((d.longest_without_presence_h - 36.0).abs() < 1e-9);
        assert_eq!(d.target_share, Some(0.0));
    }

    #[test]
    fn the_target_counts_only_the_days_the_place_was_active() {
        let mut place = square(1);
        place.active = TimeWindow {
            start: ms("2026-10-18T00:00:00Z"),
            end: i64::MAX,
        };
        let period = crate::analytics::Period::parse("2026-10", "p").unwrap();
        let d = dosage(
            &place,
            &[],
            period.window(),
            i64::MAX,
            &DosageConfig::default(),
        );
        assert!((d.target_visits.unwrap() - 14.0).abs() < 1e-9);
        place.target_visits_per_week = None;
        let d = dosage(
            &place,
            &[],
            period.window(),
            i64::MAX,
            &DosageConfig::default(),
        );
        assert_eq!((d.target_visits, d.target_share), (None, None));
    }

    #[test]
    fn the_patrol_list_puts_hot_and_long_unvisited_places_first() {
        let now = ms("2026-10-10T12:00:00Z");
        let a = square(1);
        let mut b = square(2);
        // b lies 0.01° further north, far from a.
        b.geometry = b.geometry.map_coords(|c| Coord {
            x: c.x,
            y: c.y + 0.01,
        });
        let logs = [
            // a visited 2 h ago, b 48 h ago; c never.
            at_point(15.6205, 58.4105, "2026-10-10T09:50:00Z", 10),
            at_point(15.6205, 58.4205, "2026-10-08T11:50:00Z", 10),
        ];
        let hot = BTreeMap::from([(a.id, 10.0), (b.id, 4.0), (Uuid::from_u128(9), 50.0)]);
        let mut c_far = square(3);
        c_far.geometry = c_far.geometry.map_coords(|k| Coord {
            x: k.x + 0.05,
            y: k.y,
        });
        let mut hot_c = hot.clone();
        hot_c.insert(c_far.id, 1.0);
        let list = patrol_list(
            &[a.clone(), b.clone(), c_far.clone()],
            &hot_c,
            &logs,
            now,
            &DosageConfig::default(),
        );
        let order: Vec<u128> = list.iter().map(|s| s.place_id.as_u128()).collect();
        // Scores: a 10·2/168 ≈ 0.119, b 4·48/168 ≈ 1.143, c 1·168/168 = 1.
        assert_eq!(order, [2, 3, 1]);
        assert_eq!(list[1].last_presence_ms, None);
        assert!((list[0].hours_since_presence.unwrap() - 48.0).abs() < 1e-9);
        assert!((list[2].hours_since_presence.unwrap() - 2.0).abs() < 1e-9);
        // Places without a level are left out.
        let list = patrol_list(&[a, b, c_far], &hot, &logs, now, &DosageConfig::default());
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = DosageConfig {
            reach_m: -1.0,
            ..DosageConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field(), "reach_m");
        let bad = DosageConfig {
            band_min: [15.0, 10.0],
            ..DosageConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field(), "band_min");
        assert!(DosageConfig::default().validate().is_ok());
    }
}
