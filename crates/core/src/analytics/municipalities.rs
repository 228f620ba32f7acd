//! The follow-up per member municipality: a police area spanning several
//! municipalities reports what happened in each.
//!
//! Each record is counted in the municipality its `municipality` index
//! names (set from its position, or for a stand-in position from the
//! municipality it names: see `ServiceArea::member_of`); records in none
//! (a boundary file, a position on no member's side of a border) are in
//! the totals only. Incidents are counted by when they occurred, this
//! period against the same period a year earlier; presence by its hours
//! inside the period; reports by when they were received; measures by
//! when they were done.

use serde::{Deserialize, Serialize};

use super::followup::{FollowUpInput, YearOnYear, hours_in, in_window};
use crate::attrs::MeasureStatus;
use crate::time::TimeWindow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MunicipalityFigures {
    /// SCB code, e.g. `0583`.
    pub code: String,
    pub name: String,
    pub incidents: YearOnYear,
    /// Of this period's incidents, those whose position only stands in for
    /// the municipality or its county (the police feed's midpoints): they
    /// count here, never in a hexagon.
    pub incidents_without_position: u64,
    pub presence_hours: f64,
    pub reports_received: u64,
    pub measures_done: u64,
}

type Row = (u64, u64, u64, f64, u64, u64);

fn row(rows: &mut [Row], m: Option<u16>) -> Option<&mut Row> {
    m.and_then(|m| rows.get_mut(usize::from(m)))
}

pub(super) fn municipality_figures(
    input: &FollowUpInput<'_>,
    window: TimeWindow,
    year_before: TimeWindow,
) -> Vec<MunicipalityFigures> {
    let mut rows: Vec<Row> = vec![(0, 0, 0, 0.0, 0, 0); input.municipalities.len()];
    for i in input.incidents {
        if let Some(r) = row(&mut rows, i.municipality) {
            if in_window(window, i.occurred_at_ms) {
                r.0 += 1;
                r.2 += u64::from(i.stand_in);
            } else if in_window(year_before, i.occurred_at_ms) {
                r.1 += 1;
            }
        }
    }
    for log in input.presence {
        if let Some(r) = row(&mut rows, log.municipality) {
            r.3 += hours_in(log, window);
        }
    }
    for rep in input.reports {
        if let Some(r) = row(&mut rows, rep.municipality)
            && in_window(window, rep.reported_at_ms)
        {
            r.4 += 1;
        }
    }
    for m in input.measures {
        if let Some(r) = row(&mut rows, m.municipality) {
            r.5 += m
                .history
                .iter()
                .filter(|(s, at)| *s == MeasureStatus::Done && in_window(window, *at))
                .count() as u64;
        }
    }
    input
        .municipalities
        .iter()
        .zip(rows)
        .map(
            |(m, (now, before, stand_in, hours, reports, done))| MunicipalityFigures {
                code: m.code.clone(),
                name: m.name.clone(),
                incidents: YearOnYear::new(now, before),
                incidents_without_position: stand_in,
                presence_hours: hours,
                reports_received: reports,
                measures_done: done,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::dosage::{DosageConfig, PresenceLog};
    use crate::analytics::followup::{IncidentRecord, MeasureRecord, ReportRecord, follow_up};
    use crate::analytics::period::Period;
    use crate::attrs::{IncidentCategory, MeasureKind, ReportSource, ReportStatus, UnitType};
    use crate::service_area::Member;
    use geo_types::{Geometry, Point};

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    fn member(code: &str, name: &str) -> Member {
        Member {
            code: code.into(),
            name: name.into(),
            county_code: "05".into(),
            county_name: "Östergötlands län".into(),
        }
    }

    #[test]
    fn each_member_municipality_gets_its_own_row_and_stand_ins_count_where_they_name() {
        let members = [member("0580", "Linköping"), member("0583", "Motala")];
        let inc = |t: &str, m: Option<u16>, stand_in| IncidentRecord {
            category: IncidentCategory::Theft,
            occurred_at_ms: ms(t),
            municipality: m,
            stand_in,
        };
        let incidents = [
            inc("2026-10-03T12:00:00Z", Some(0), false),
            inc("2026-10-04T12:00:00Z", Some(1), true),
            inc("2025-10-04T12:00:00Z", Some(1), false),
            // A boundary file's record, or one on no member's side: totals only.
            inc("2026-10-05T12:00:00Z", None, false),
        ];
        let presence = [PresenceLog {
            id: uuid::Uuid::now_v7(),
            unit_type: UnitType::Police,
            organisation_id: None,
            start_ms: ms("2026-10-31T23:30:00Z"),
            end_ms: ms("2026-11-01T00:30:00Z"),
            geometry: Geometry::Point(Point::new(15.04, 58.54)),
            municipality: Some(1),
        }];
        let reports = [ReportRecord {
            reported_at_ms: ms("2026-10-10T10:00:00Z"),
            source: ReportSource::Survey,
            status: ReportStatus::Approved,
            decided_at_ms: None,
            reasons: Vec::new(),
            respondent: None,
            overall_score: None,
            municipality: Some(0),
        }];
        let measures = [MeasureRecord {
            id: uuid::Uuid::now_v7(),
            kind: MeasureKind::Lighting,
            history: vec![(MeasureStatus::Done, ms("2026-10-20T10:00:00Z"))],
            place_id: None,
            municipality: Some(1),
        }];
        let f = follow_up(&FollowUpInput {
            period: Period::parse("2026-10", "period").unwrap(),
            now_ms: ms("2026-11-02T00:00:00Z"),
            presence: &presence,
            places: &[],
            measures: &measures,
            incidents: &incidents,
            reports: &reports,
            dosage: DosageConfig::default(),
            k: 5,
            municipalities: &members,
            timezone: chrono_tz::UTC,
            group_cadence: crate::analytics::period::Cadence::Monthly,
            kept_groups: None,
        })
        .unwrap();
        assert_eq!(f.incidents.total.current, 3);
        let [linkoping, motala] = f.municipalities.as_slice() else {
            panic!("{:?}", f.municipalities)
        };
        assert_eq!(
            (linkoping.code.as_str(), linkoping.name.as_str()),
            ("0580", "Linköping")
        );
        assert_eq!(linkoping.incidents, YearOnYear::new(1, 0));
        assert_eq!(linkoping.reports_received, 1);
        assert_eq!(motala.incidents, YearOnYear::new(1, 1));
        assert_eq!(motala.incidents_without_position, 1);
        // Only the half hour inside October.
        assert!((motala.presence_hours - 0.5).abs() < 1e-9);
        assert_eq!(motala.measures_done, 1);
    }
}
