//! The numbers of a follow-up report, and the corrections to a published
//! one.
//!
//! [`follow_up`] computes [`FollowUp`] from records the caller has already
//! loaded (see [`FollowUpInput`] for what each slice must cover). The
//! rules:
//!
//! - **Presence hours**: each log's time inside the period (logs still
//!   going on end at `now`), overall and per unit type and organisation.
//!   Hours *at priority places* are the places' visit minutes
//!   ([`super::dosage`]) summed over places: a log at two overlapping
//!   places counts at both.
//! - **Places**: every place active at some time in the period, with its
//!   dosage figures, keyed by place id.
//! - **Measures**: done, closed without being done, and rejected are
//!   counted by the date of that status change, per kind; *open at the
//!   end* is every measure whose last status on the period's last
//!   millisecond is not final.
//! - **Incidents**: per category, by the time they occurred, this period
//!   against the same period a year earlier.
//! - **Reports**: *received* by the time of the report, whatever its
//!   status; *handled* are public reports whose moderation (approval or
//!   rejection) was decided in the period.
//! - **Group split**: approved reports by gender, age band and LGBTQ
//!   self-identification, suppressed below k, shown only in periods of one
//!   cadence that have ended and kept as first shown: the rules, and why
//!   they survive differencing, are in [`super::groups`].
//!
//! # Freezing
//! A published follow-up is kept as [`Published`]. [`corrections`]
//! compares a recomputation with it and lists every figure that has
//! changed, so a late import or a corrected record shows as a correction
//! instead of silently changing what was published.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::dosage::{DosageConfig, PlaceArea, PlaceDosage, PresenceLog, dosage, visits};
use super::groups::{self, GroupSplit};
use super::period::{Cadence, Period};
use crate::attrs::{
    Attributes, IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportSource, ReportStatus,
    Respondent, UnitType,
};
use crate::time::{EpochMs, TimeWindow, to_ms};
use crate::{Error, Feature, Result};

const MS_PER_HOUR: f64 = 3_600_000.0;

/// An incident as the follow-up needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentRecord {
    pub category: IncidentCategory,
    pub occurred_at_ms: EpochMs,
}

impl IncidentRecord {
    pub fn from_feature(f: &Feature) -> Option<Self> {
        let Attributes::Incident(i) = &f.attributes else {
            return None;
        };
        Some(Self {
            category: i.category,
            occurred_at_ms: to_ms(i.occurred_at),
        })
    }
}

/// An unsafe-place report as the follow-up needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub reported_at_ms: EpochMs,
    pub source: ReportSource,
    pub status: ReportStatus,
    /// When a moderator approved or rejected it; `None` for reports that
    /// are not moderated (all but public ones) and pending ones.
    pub decided_at_ms: Option<EpochMs>,
    pub reasons: Vec<Reason>,
    pub respondent: Option<Respondent>,
    /// The score card's overall feeling (1–5), if any.
    pub overall_score: Option<u8>,
}

impl ReportRecord {
    /// The record of a stored report. The moderation time is taken from
    /// `updated_at`, which a later edit also moves: a store that keeps the
    /// moderation time (the audit log) should set `decided_at_ms` from it.
    pub fn from_feature(f: &Feature) -> Option<Self> {
        let Attributes::Report(r) = &f.attributes else {
            return None;
        };
        let moderated = r.source == ReportSource::Public && r.status != ReportStatus::Pending;
        Some(Self {
            reported_at_ms: to_ms(r.reported_at),
            source: r.source,
            status: r.status,
            decided_at_ms: moderated.then(|| to_ms(f.updated_at)),
            reasons: r.reasons.clone(),
            respondent: r.respondent.clone(),
            overall_score: r.scores.as_ref().and_then(|s| s.overall),
        })
    }
}

/// A measure as the follow-up needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureRecord {
    pub id: Uuid,
    pub kind: MeasureKind,
    /// Every status with the time it took effect, oldest first.
    pub history: Vec<(MeasureStatus, EpochMs)>,
    pub place_id: Option<Uuid>,
}

impl MeasureRecord {
    pub fn from_feature(f: &Feature) -> Option<Self> {
        let Attributes::Measure(m) = &f.attributes else {
            return None;
        };
        Some(Self {
            id: f.id,
            kind: m.kind,
            history: f
                .status_history
                .iter()
                .map(|c| (c.status, to_ms(c.at)))
                .collect(),
            place_id: m.place_id,
        })
    }

    /// The status in force at `at_ms`, `None` before the first.
    pub fn status_at(&self, at_ms: EpochMs) -> Option<MeasureStatus> {
        self.history
            .iter()
            .take_while(|(_, t)| *t <= at_ms)
            .last()
            .map(|(s, _)| *s)
    }
}

/// What a follow-up is computed from.
#[derive(Debug, Clone)]
pub struct FollowUpInput<'a> {
    pub period: Period,
    pub now_ms: EpochMs,
    /// Presence logs that overlap the period; include the last few minutes
    /// before it so a visit across the boundary is merged correctly.
    pub presence: &'a [PresenceLog],
    /// Priority places (those inactive in the period are skipped).
    pub places: &'a [PlaceArea],
    /// Every measure that was not final before the period started, or
    /// simply every measure.
    pub measures: &'a [MeasureRecord],
    /// Incidents of this period and of the same period a year earlier.
    pub incidents: &'a [IncidentRecord],
    /// Reports received or moderated in the period.
    pub reports: &'a [ReportRecord],
    pub dosage: DosageConfig,
    /// The privacy threshold: `privacy::PublicPolicy::k`.
    pub k: u64,
    /// The one cadence whose periods show the respondent-group split.
    pub group_cadence: Cadence,
    /// The split of this period as first computed, when it was: shown
    /// instead of a recomputation (see [`super::groups`]).
    pub kept_groups: Option<&'a GroupSplit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceFigures {
    pub hours: f64,
    pub hours_at_places: f64,
    pub hours_by_unit_type: BTreeMap<UnitType, f64>,
    /// Keyed by organisation id; `none` for logs without one.
    pub hours_by_organisation: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeasureFigures {
    pub done: BTreeMap<MeasureKind, u64>,
    pub closed_without_being_done: BTreeMap<MeasureKind, u64>,
    pub rejected: BTreeMap<MeasureKind, u64>,
    pub open_at_end: BTreeMap<MeasureKind, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearOnYear {
    pub current: u64,
    pub year_before: u64,
    pub change: i64,
}

impl YearOnYear {
    fn new(current: u64, year_before: u64) -> Self {
        Self {
            current,
            year_before,
            change: current as i64 - year_before as i64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFigures {
    pub total: YearOnYear,
    /// Categories with an incident in either period.
    pub by_category: BTreeMap<IncidentCategory, YearOnYear>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportFigures {
    pub received: u64,
    pub received_by_source: BTreeMap<ReportSource, u64>,
    pub handled: u64,
    pub approved: u64,
    pub rejected: u64,
}

/// The numbers of one follow-up period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub period: Period,
    pub presence: PresenceFigures,
    /// Keyed by place id.
    pub places: BTreeMap<String, PlaceDosage>,
    pub measures: MeasureFigures,
    pub incidents: IncidentFigures,
    pub reports: ReportFigures,
    /// Only in periods of the group cadence that have ended, and then the
    /// split as first computed: see [`super::groups`].
    #[serde(default)]
    pub groups: Option<GroupSplit>,
}

/// Computes the follow-up of `input.period`.
///
/// # Errors
/// A dosage configuration out of range, k below 2, or a period a year
/// before the year 1.
pub fn follow_up(input: &FollowUpInput<'_>) -> Result<FollowUp> {
    input.dosage.validate()?;
    if input.k < 2 {
        return Err(Error::invalid("k", "must be at least 2"));
    }
    let window = input.period.window();
    let places = place_figures(input, window);
    Ok(FollowUp {
        period: input.period,
        presence: presence_figures(input.presence, window, &places),
        places,
        measures: measure_figures(input.measures, window),
        incidents: incident_figures(
            input.incidents,
            window,
            input.period.year_earlier()?.window(),
        ),
        reports: report_figures(input.reports, window),
        groups: groups::shown(input, window),
    })
}

fn place_figures(input: &FollowUpInput<'_>, window: TimeWindow) -> BTreeMap<String, PlaceDosage> {
    input
        .places
        .iter()
        .filter(|p| p.active.start <= window.end && p.active.end >= window.start)
        .map(|p| {
            let v = visits(p, input.presence, &input.dosage);
            let d = dosage(p, &v, window, input.now_ms, &input.dosage);
            (p.id.to_string(), d)
        })
        .collect()
}

fn presence_figures(
    logs: &[PresenceLog],
    window: TimeWindow,
    places: &BTreeMap<String, PlaceDosage>,
) -> PresenceFigures {
    let mut hours = 0.0;
    let mut by_unit: BTreeMap<UnitType, f64> = BTreeMap::new();
    let mut by_org: BTreeMap<String, f64> = BTreeMap::new();
    for log in logs {
        // The window is closed: time runs to just after its last millisecond.
        let from = log.start_ms.max(window.start);
        let to = log.end_ms.min(window.end.saturating_add(1));
        let h = (to - from).max(0) as f64 / MS_PER_HOUR;
        if h <= 0.0 {
            continue;
        }
        hours += h;
        *by_unit.entry(log.unit_type).or_default() += h;
        let org = log
            .organisation_id
            .map_or_else(|| "none".to_owned(), |o| o.to_string());
        *by_org.entry(org).or_default() += h;
    }
    PresenceFigures {
        hours,
        hours_at_places: places.values().map(|d| d.total_minutes / 60.0).sum(),
        hours_by_unit_type: by_unit,
        hours_by_organisation: by_org,
    }
}

fn in_window(window: TimeWindow, t: EpochMs) -> bool {
    window.start <= t && t <= window.end
}

fn measure_figures(measures: &[MeasureRecord], window: TimeWindow) -> MeasureFigures {
    let mut out = MeasureFigures::default();
    for m in measures {
        for &(status, at) in &m.history {
            if !in_window(window, at) {
                continue;
            }
            let slot = match status {
                MeasureStatus::Done => &mut out.done,
                MeasureStatus::Closed => &mut out.closed_without_being_done,
                MeasureStatus::Rejected => &mut out.rejected,
                _ => continue,
            };
            *slot.entry(m.kind).or_default() += 1;
        }
        if m.status_at(window.end).is_some_and(|s| !s.is_final()) {
            *out.open_at_end.entry(m.kind).or_default() += 1;
        }
    }
    out
}

fn incident_figures(
    incidents: &[IncidentRecord],
    window: TimeWindow,
    year_before: TimeWindow,
) -> IncidentFigures {
    let mut counts: BTreeMap<IncidentCategory, (u64, u64)> = BTreeMap::new();
    for i in incidents {
        if in_window(window, i.occurred_at_ms) {
            counts.entry(i.category).or_default().0 += 1;
        } else if in_window(year_before, i.occurred_at_ms) {
            counts.entry(i.category).or_default().1 += 1;
        }
    }
    let (now, before) = counts
        .values()
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    IncidentFigures {
        total: YearOnYear::new(now, before),
        by_category: counts
            .into_iter()
            .map(|(c, (x, y))| (c, YearOnYear::new(x, y)))
            .collect(),
    }
}

fn report_figures(reports: &[ReportRecord], window: TimeWindow) -> ReportFigures {
    let mut out = ReportFigures::default();
    for r in reports {
        if in_window(window, r.reported_at_ms) {
            out.received += 1;
            *out.received_by_source.entry(r.source).or_default() += 1;
        }
        if r.decided_at_ms.is_some_and(|t| in_window(window, t)) {
            out.handled += 1;
            match r.status {
                ReportStatus::Approved => out.approved += 1,
                ReportStatus::Rejected => out.rejected += 1,
                ReportStatus::Pending => {}
            }
        }
    }
    out
}

/// A follow-up as it was published: the frozen numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub published_at_ms: EpochMs,
    pub figures: FollowUp,
}

/// One published figure that a recomputation no longer gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The figure's path in the follow-up, e.g. `incidents.by_category.theft.current`.
    pub field: String,
    /// `null` where the figure did not exist.
    pub published: Value,
    pub current: Value,
}

/// Every figure of `current` that differs from what was published, in path
/// order. Numbers equal to within 1e-9 (relative) are the same figure.
///
/// # Errors
/// The two follow-ups are of different periods.
pub fn corrections(published: &Published, current: &FollowUp) -> Result<Vec<Correction>> {
    if published.figures.period != current.period {
        return Err(Error::invalid(
            "period",
            format!(
                "the published follow-up is of {}, not {}",
                published.figures.period, current.period
            ),
        ));
    }
    let (Ok(a), Ok(b)) = (
        serde_json::to_value(&published.figures),
        serde_json::to_value(current),
    ) else {
        return Err(Error::invalid(
            "figures",
            "could not be represented as JSON",
        ));
    };
    let mut out = Vec::new();
    diff("", &a, &b, &mut out);
    // A group split is never corrected: it is kept as first shown, since
    // published minus current would be the late reports of a group.
    out.retain(|c| c.field != "groups" && !c.field.starts_with("groups."));
    Ok(out)
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<Correction>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let null = Value::Null;
                diff(
                    &join(key),
                    x.get(key).unwrap_or(&null),
                    y.get(key).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let null = Value::Null;
                diff(
                    &format!("{path}[{i}]"),
                    x.get(i).unwrap_or(&null),
                    y.get(i).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) else {
                return;
            };
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0) {
                out.push(correction(path, a, b));
            }
        }
        _ if a != b => out.push(correction(path, a, b)),
        _ => {}
    }
}

fn correction(path: &str, a: &Value, b: &Value) -> Correction {
    Correction {
        field: path.to_owned(),
        published: a.clone(),
        current: b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::groups::GroupCount;
    use crate::attrs::{AgeBand, Gender};
    use chrono::DateTime;
    use geo_types::{Geometry, Point, polygon};

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn period() -> Period {
        Period::parse("2026-10", "period").unwrap()
    }

    fn place() -> PlaceArea {
        PlaceArea {
            id: Uuid::from_u128(1),
            name: "Torget".into(),
            geometry: Geometry::Polygon(polygon![
                (x: 15.620, y: 58.410), (x: 15.621, y: 58.410), (x: 15.621, y: 58.411),
                (x: 15.620, y: 58.411), (x: 15.620, y: 58.410)
            ]),
            target_visits_per_week: Some(2),
            active: TimeWindow::ALL,
        }
    }

    fn log(lon: f64, start: &str, minutes: i64, unit_type: UnitType) -> PresenceLog {
        let start_ms = ms(start);
        PresenceLog {
            id: Uuid::now_v7(),
            unit_type,
            organisation_id: None,
            start_ms,
            end_ms: start_ms + minutes * 60_000,
            geometry: Geometry::Point(Point::new(lon, 58.4105)),
        }
    }

    fn report(at: &str, gender: Option<Gender>, status: ReportStatus) -> ReportRecord {
        ReportRecord {
            reported_at_ms: ms(at),
            source: ReportSource::Survey,
            status,
            decided_at_ms: None,
            reasons: vec![Reason::Lighting],
            respondent: gender.map(|g| Respondent {
                gender: Some(g),
                age_band: Some(AgeBand::From25To44),
                lgbtq: None,
            }),
            overall_score: Some(2),
        }
    }

    fn measure(kind: MeasureKind, history: &[(MeasureStatus, &str)]) -> MeasureRecord {
        MeasureRecord {
            id: Uuid::now_v7(),
            kind,
            history: history.iter().map(|(s, t)| (*s, ms(t))).collect(),
            place_id: None,
        }
    }

    fn input<'a>(
        presence: &'a [PresenceLog],
        places: &'a [PlaceArea],
        measures: &'a [MeasureRecord],
        incidents: &'a [IncidentRecord],
        reports: &'a [ReportRecord],
    ) -> FollowUpInput<'a> {
        FollowUpInput {
            period: period(),
            now_ms: ms("2026-11-02T00:00:00Z"),
            presence,
            places,
            measures,
            incidents,
            reports,
            dosage: DosageConfig::default(),
            k: 5,
            group_cadence: Cadence::Monthly,
            kept_groups: None,
        }
    }

    #[test]
    fn presence_hours_are_clipped_to_the_period_and_split_by_unit() {
        let logs = [
            // At the place: 12 min.
            log(15.6205, "2026-10-05T10:00:00Z", 12, UnitType::Police),
            // Elsewhere: 90 min.
            log(15.64, "2026-10-06T20:00:00Z", 90, UnitType::NightWalkers),
            // Across the start: 30 of its 60 minutes fall in October.
            log(15.64, "2026-09-30T23:30:00Z", 60, UnitType::NightWalkers),
        ];
        let places = [place()];
        let f = follow_up(&input(&logs, &places, &[], &[], &[])).unwrap();
        assert!(
            (f.presence.hours - 2.2).abs() < 1e-9,
            "{}",
            f.presence.hours
        );
        assert!((f.presence.hours_at_places - 0.2).abs() < 1e-9);
        assert!((f.presence.hours_by_unit_type[&UnitType::NightWalkers] - 2.0).abs() < 1e-9);
        assert!((f.presence.hours_by_organisation["none"] - 2.2).abs() < 1e-9);
        let d = &f.places[&Uuid::from_u128(1).to_string()];
        assert_eq!(d.visits, 1);
        // 2 a week over 31 days.
        assert!((d.target_visits.unwrap() - 62.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn measures_count_by_the_date_of_their_status_change() {
        use MeasureStatus::{Closed, Done, InProgress, Planned, Proposed, Rejected};
        let measures = [
            measure(
                MeasureKind::Lighting,
                &[
                    (Planned, "2026-09-01T00:00:00Z"),
                    (Done, "2026-10-10T00:00:00Z"),
                ],
            ),
            measure(
                MeasureKind::Lighting,
                &[
                    (Planned, "2026-09-01T00:00:00Z"),
                    (Done, "2026-09-20T00:00:00Z"),
                ],
            ),
            measure(
                MeasureKind::Vegetation,
                &[
                    (Proposed, "2026-10-01T00:00:00Z"),
                    (Closed, "2026-10-20T00:00:00Z"),
                ],
            ),
            measure(
                MeasureKind::Graffiti,
                &[
                    (Proposed, "2026-08-01T00:00:00Z"),
                    (Rejected, "2026-10-31T23:59:59.999Z"),
                ],
            ),
            measure(
                MeasureKind::Cleaning,
                &[
                    (Planned, "2026-10-01T00:00:00Z"),
                    (InProgress, "2026-10-15T00:00:00Z"),
                ],
            ),
            // Done after the period: still open at its end.
            measure(
                MeasureKind::Cleaning,
                &[
                    (Planned, "2026-10-01T00:00:00Z"),
                    (Done, "2026-11-01T00:00:00Z"),
                ],
            ),
            // Proposed after the period: not open at its end.
            measure(MeasureKind::Camera, &[(Proposed, "2026-11-01T00:00:00Z")]),
        ];
        let f = follow_up(&input(&[], &[], &measures, &[], &[])).unwrap();
        let m = &f.measures;
        assert_eq!(m.done, BTreeMap::from([(MeasureKind::Lighting, 1)]));
        assert_eq!(
            m.closed_without_being_done,
            BTreeMap::from([(MeasureKind::Vegetation, 1)])
        );
        assert_eq!(m.rejected, BTreeMap::from([(MeasureKind::Graffiti, 1)]));
        assert_eq!(m.open_at_end, BTreeMap::from([(MeasureKind::Cleaning, 2)]));
    }

    #[test]
    fn incidents_are_set_against_the_same_period_a_year_earlier() {
        let inc = |c, t: &str| IncidentRecord {
            category: c,
            occurred_at_ms: ms(t),
        };
        let incidents = [
            inc(IncidentCategory::Theft, "2026-10-03T12:00:00Z"),
            inc(IncidentCategory::Theft, "2026-10-30T12:00:00Z"),
            inc(IncidentCategory::Theft, "2025-10-11T12:00:00Z"),
            inc(IncidentCategory::Robbery, "2025-10-11T12:00:00Z"),
            inc(IncidentCategory::Robbery, "2026-09-11T12:00:00Z"),
        ];
        let f = follow_up(&input(&[], &[], &[], &incidents, &[])).unwrap();
        let theft = f.incidents.by_category[&IncidentCategory::Theft];
        assert_eq!((theft.current, theft.year_before, theft.change), (2, 1, 1));
        let robbery = f.incidents.by_category[&IncidentCategory::Robbery];
        assert_eq!(
            (robbery.current, robbery.year_before, robbery.change),
            (0, 1, -1)
        );
        assert_eq!(f.incidents.total, YearOnYear::new(2, 2));
    }

    #[test]
    fn reports_received_and_handled_count_by_their_own_dates() {
        let mut public = report("2026-09-28T12:00:00Z", None, ReportStatus::Rejected);
        public.source = ReportSource::Public;
        public.decided_at_ms = Some(ms("2026-10-02T09:00:00Z"));
        let reports = [
            public,
            report("2026-10-02T12:00:00Z", None, ReportStatus::Approved),
            report("2026-10-03T12:00:00Z", None, ReportStatus::Pending),
        ];
        let f = follow_up(&input(&[], &[], &[], &[], &reports)).unwrap();
        assert_eq!(f.reports.received, 2);
        assert_eq!(f.reports.received_by_source[&ReportSource::Survey], 2);
        assert_eq!(
            (f.reports.handled, f.reports.rejected, f.reports.approved),
            (1, 1, 0)
        );
    }

    #[test]
    fn groups_under_k_are_suppressed_and_so_is_what_would_reveal_them() {
        // Approved in October: 8 women, 6 men, 2 non-binary, 0 not stated.
        // Non-binary (2) is under k = 5; the hidden total 2 would be read
        // off the total minus women and men, so men (the smallest shown)
        // are hidden too.
        let mut reports = Vec::new();
        for _ in 0..8 {
            reports.push(report(
                "2026-10-05T12:00:00Z",
                Some(Gender::Woman),
                ReportStatus::Approved,
            ));
        }
        for _ in 0..6 {
            reports.push(report(
                "2026-10-05T12:00:00Z",
                Some(Gender::Man),
                ReportStatus::Approved,
            ));
        }
        for _ in 0..2 {
            reports.push(report(
                "2026-10-05T12:00:00Z",
                Some(Gender::NonBinary),
                ReportStatus::Approved,
            ));
        }
        // Neither pending nor out-of-period reports count.
        reports.push(report(
            "2026-10-05T12:00:00Z",
            Some(Gender::Man),
            ReportStatus::Pending,
        ));
        reports.push(report(
            "2026-09-05T12:00:00Z",
            Some(Gender::Man),
            ReportStatus::Approved,
        ));
        let f = follow_up(&input(&[], &[], &[], &[], &reports)).unwrap();
        let g = f
            .groups
            .as_ref()
            .expect("October ended: its split is shown");
        assert_eq!(g.total, 16);
        assert_eq!(g.by_gender["woman"].reports, GroupCount::Shown(8));
        assert_eq!(g.by_gender["woman"].mean_overall_score, Some(2.0));
        assert_eq!(g.by_gender["man"].reports.shown(), None);
        assert_eq!(g.by_gender["man"].mean_overall_score, None);
        assert_eq!(g.by_gender["non_binary"].reports.shown(), None);
        assert_eq!(g.by_gender["not_stated"].reports, GroupCount::Shown(0));
        // Everyone gave the same age band: 16 shown, the rest 0.
        assert_eq!(g.by_age_band["25-44"].reports, GroupCount::Shown(16));
        assert_eq!(g.by_lgbtq["not_stated"].reports, GroupCount::Shown(16));
        let json = serde_json::to_value(g).unwrap();
        assert_eq!(json["by_gender"]["man"]["reports"], "suppressed");
        assert_eq!(json["by_gender"]["woman"]["reports"], 8);
    }

    #[test]
    fn a_split_is_shown_for_one_cadence_once_ended_and_kept_as_first_shown() {
        let reports: Vec<ReportRecord> = (0..6)
            .map(|_| {
                report(
                    "2026-10-05T12:00:00Z",
                    Some(Gender::Woman),
                    ReportStatus::Approved,
                )
            })
            .collect();
        let mut i = input(&[], &[], &[], &[], &reports);
        let first = follow_up(&i).unwrap().groups.unwrap();
        assert_eq!(first.by_gender["woman"].reports, GroupCount::Shown(6));
        // Not a period of the group cadence: no split at all.
        i.group_cadence = Cadence::Yearly;
        assert!(follow_up(&i).unwrap().groups.is_none());
        // Not ended yet: no split.
        i.group_cadence = Cadence::Monthly;
        i.now_ms = ms("2026-10-20T00:00:00Z");
        assert!(follow_up(&i).unwrap().groups.is_none());
        // A late report changes the records, not the split shown.
        let mut more = reports.clone();
        more.push(report(
            "2026-10-06T12:00:00Z",
            Some(Gender::Man),
            ReportStatus::Approved,
        ));
        let mut later = input(&[], &[], &[], &[], &more);
        later.kept_groups = Some(&first);
        let f = follow_up(&later).unwrap();
        assert_eq!(f.groups.as_ref(), Some(&first));
        // And it is never a correction.
        let published = Published {
            published_at_ms: 0,
            figures: follow_up(&input(&[], &[], &[], &[], &more)).unwrap(),
        };
        let fixed = corrections(&published, &f).unwrap();
        assert!(
            fixed.iter().all(|c| !c.field.starts_with("groups")),
            "{fixed:?}"
        );
    }

    #[test]
    fn a_follow_up_round_trips_through_json() {
        let logs = [log(15.6205, "2026-10-05T10:00:00Z", 12, UnitType::Police)];
        let places = [place()];
        let reports = [report(
            "2026-10-02T12:00:00Z",
            Some(Gender::Woman),
            ReportStatus::Approved,
        )];
        let f = follow_up(&input(&logs, &places, &[], &[], &reports)).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        let back: FollowUp = serde_json::from_str(&json).unwrap();
        // serde_json may read a float back one ulp off: the reason
        // corrections compare numbers with a tolerance.
        let published = Published {
            published_at_ms: 0,
            figures: back,
        };
        assert!(corrections(&published, &f).unwrap().is_empty());
        assert_eq!(published.figures.groups, f.groups);
    }

    #[test]
    fn a_recomputation_lists_what_changed_since_publishing() {
        let inc = |t: &str| IncidentRecord {
            category: IncidentCategory::Theft,
            occurred_at_ms: ms(t),
        };
        let before = [inc("2026-10-03T12:00:00Z")];
        let published = Published {
            published_at_ms: ms("2026-11-03T00:00:00Z"),
            figures: follow_up(&input(&[], &[], &[], &before, &[])).unwrap(),
        };
        assert!(
            corrections(&published, &published.figures)
                .unwrap()
                .is_empty()
        );
        // A late import adds a theft and a first burglary.
        let after = [
            inc("2026-10-03T12:00:00Z"),
            inc("2026-10-04T12:00:00Z"),
            IncidentRecord {
                category: IncidentCategory::Burglary,
                occurred_at_ms: ms("2026-10-05T12:00:00Z"),
            },
        ];
        let now = follow_up(&input(&[], &[], &[], &after, &[])).unwrap();
        let c = corrections(&published, &now).unwrap();
        let fields: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "incidents.by_category.burglary",
                "incidents.by_category.theft.change",
                "incidents.by_category.theft.current",
                "incidents.total.change",
                "incidents.total.current",
            ]
        );
        assert_eq!(c[2].published, 1);
        assert_eq!(c[2].current, 2);
        assert_eq!(c[0].published, Value::Null);
        let mut other = now.clone();
        other.period = Period::parse("2026-09", "period").unwrap();
        assert_eq!(
            corrections(&published, &other).unwrap_err().field(),
            "period"
        );
    }

    #[test]
    fn a_k_below_two_is_refused() {
        let mut i = input(&[], &[], &[], &[], &[]);
        i.k = 1;
        assert_eq!(follow_up(&i).unwrap_err().field(), "k");
    }
}
