//! A seeded, clearly labelled synthetic scenario over Linköping's real
//! districts. No open source gives Swedish incidents or unsafe places at
//! street level, so the demo city is made up — but laid over real district
//! polygons, so that it looks and behaves like a city. Every record it
//! makes says it is synthetic (`source`, `client_id`, or text prefix).

mod rng;

use chrono::{DateTime, Duration, Timelike, Utc};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

use crate::NewFeature;
use crate::attrs::{
    AgeBand, Attributes, Gender, Incident, IncidentCategory, Measure, MeasureKind, MeasureStatus,
    Place, Presence, Reason, Report, ReportSource, ReportStatus, Respondent, Scores, TimeOfDay,
    UnitType,
};
use crate::service_area::ServiceArea;
pub use rng::Rng;

pub const SOURCE: &str = "demo-synthetic";
pub const LABEL: &str = "Syntetisk demodata";

/// How much to make; `Scale::default()` is the first-run demo.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub incidents: usize,
    pub reports: usize,
    pub presence: usize,
    pub measures: usize,
}

impl Default for Scale {
    fn default() -> Self {
        Self {
            incidents: 6_000,
            reports: 450,
            presence: 1_800,
            measures: 40,
        }
    }
}

/// The demo data, ready to write. Measures come as the sequence of their
/// versions, so that their status history is written the way a planner's
/// updates would write it.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub places: Vec<NewFeature>,
    pub incidents: Vec<NewFeature>,
    pub reports: Vec<NewFeature>,
    pub presence: Vec<NewFeature>,
    pub measures: Vec<Vec<NewFeature>>,
}

/// Hot spots named by the district they sit in: (district, weight, sigma m).
const HOT_SPOTS: [(&str, f64, f64); 12] = [
    ("Lilla Torget-Sankt Lars", 1.0, 220.0),
    ("Domkyrkan-Slottet", 0.7, 240.0),
    ("Skäggetorp-Tornby", 0.85, 320.0),
    ("Ryd", 0.55, 280.0),
    ("Berga", 0.45, 280.0),
    ("Lambohov-Slaka", 0.35, 300.0),
    ("Vasastaden-Hunneberg", 0.35, 260.0),
    ("Tannefors-Stångebro-Kallerstad", 0.3, 400.0),
    ("Valla-T1", 0.25, 300.0),
    ("Ekholmen", 0.25, 280.0),
    ("Gottfridsberg", 0.2, 260.0),
    ("Johannelund", 0.15, 260.0),
];

/// The urban part of the municipality, where the background noise falls.
const URBAN: [f64; 4] = [15.54, 58.37, 15.69, 58.44];

/// Weights of the hour of day, 00–23, leaning to evenings (as the bench recipe).
const HOUR_WEIGHTS: [f64; 24] = [
    5., 4., 3., 2., 2., 2., 2., 3., 4., 4., 4., 5., 5., 5., 5., 5., 6., 6., 7., 7., 8., 8., 7., 6.,
];

const CATEGORY_WEIGHTS: [(IncidentCategory, f64); 10] = [
    (IncidentCategory::Theft, 24.),
    (IncidentCategory::Burglary, 9.),
    (IncidentCategory::Vandalism, 13.),
    (IncidentCategory::Assault, 8.),
    (IncidentCategory::Drugs, 10.),
    (IncidentCategory::Fraud, 7.),
    (IncidentCategory::VehicleTheft, 6.),
    (IncidentCategory::Robbery, 3.),
    (IncidentCategory::Disturbance, 12.),
    (IncidentCategory::Traffic, 8.),
];

struct Spot {
    district: &'static str,
    centre: Coord<f64>,
    weight: f64,
    sigma_m: f64,
}

struct Builder<'a> {
    rng: Rng,
    area: &'a ServiceArea,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    spots: Vec<Spot>,
}

/// Makes the scenario. `districts` are the real district polygons by name;
/// hot spots sit at a point inside their named districts. `now` anchors the
/// 24 months of history so the demo is always current.
pub fn scenario(
    districts: &[(String, MultiPolygon<f64>)],
    area: &ServiceArea,
    now: DateTime<Utc>,
    seed: u64,
    scale: Scale,
) -> Scenario {
    use geo::InteriorPoint;
    let spots = HOT_SPOTS
        .iter()
        .filter_map(|(name, weight, sigma_m)| {
            let (_, shape) = districts.iter().find(|(n, _)| n == name)?;
            let centre = shape.interior_point()?.0;
            Some(Spot {
                district: name,
                centre,
                weight: *weight,
                sigma_m: *sigma_m,
            })
        })
        .collect();
    let now = now.with_nanosecond(0).unwrap_or(now);
    let mut b = Builder {
        rng: Rng::new(seed),
        area,
        now,
        start: now - Duration::days(730),
        spots,
    };
    let places = b.places();
    let incidents = (0..scale.incidents).map(|i| b.incident(i)).collect();
    let reports = (0..scale.reports).map(|i| b.report(i)).collect();
    let presence = (0..scale.presence)
        .map(|i| b.presence(i, &places))
        .collect();
    let measures = (0..scale.measures).map(|i| b.measure(i)).collect();
    Scenario {
        places,
        incidents,
        reports,
        presence,
        measures,
    }
}

fn offset_m(c: Coord<f64>, east_m: f64, north_m: f64) -> Coord<f64> {
    Coord {
        x: c.x + east_m / (111_320.0 * c.y.to_radians().cos()),
        y: c.y + north_m / 110_540.0,
    }
}

fn circle(centre: Coord<f64>, radius_m: f64) -> Polygon<f64> {
    let mut ring: Vec<Coord<f64>> = (0..24)
        .map(|i| {
            let a = f64::from(i) / 24.0 * std::f64::consts::TAU;
            offset_m(centre, radius_m * a.cos(), radius_m * a.sin())
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}

impl Builder<'_> {
    fn inside(&self, c: Coord<f64>) -> bool {
        self.area.contains(c)
    }

    /// A point near a weighted hot spot, or (15 %) anywhere in town.
    fn point(&mut self, spread: f64) -> Coord<f64> {
        for _ in 0..100 {
            let c = if self.spots.is_empty() || self.rng.chance(0.15) {
                Coord {
                    x: self.rng.range(URBAN[0], URBAN[2]),
                    y: self.rng.range(URBAN[1], URBAN[3]),
                }
            } else {
                let weights: Vec<f64> = self.spots.iter().map(|s| s.weight).collect();
                let s = &self.spots[self.rng.weighted(&weights)];
                let (centre, sigma) = (s.centre, s.sigma_m * spread);
                offset_m(centre, self.rng.normal() * sigma, self.rng.normal() * sigma)
            };
            if self.inside(c) {
                return c;
            }
        }
        self.area.bbox.to_rect().center()
    }

    /// A time in the last 24 months, trending up, leaning to evenings.
    fn time(&mut self) -> DateTime<Utc> {
        let day = loop {
            let d = self.rng.range(0.0, 730.0);
            if self.rng.unit() * 1.3 < 1.0 + 0.3 * d / 730.0 {
                break d.floor();
            }
        };
        let hour = self.rng.weighted(&HOUR_WEIGHTS) as i64;
        let t = self.start
            + Duration::days(day as i64)
            + Duration::hours(hour)
            + Duration::seconds((self.rng.unit() * 3600.0) as i64);
        t.min(self.now - Duration::hours(1))
    }

    fn places(&mut self) -> Vec<NewFeature> {
        let picks: Vec<(&'static str, Coord<f64>)> = self
            .spots
            .iter()
            .take(5)
            .map(|s| (s.district, s.centre))
            .collect();
        picks
            .into_iter()
            .map(|(district, centre)| NewFeature {
                geometry: Geometry::Polygon(circle(centre, 260.0)),
                attributes: Attributes::Place(Place {
                    name: format!("{district} centrum"),
                    reason: Some(format!(
                        "{LABEL}: återkommande otrygghet och brott i lägesbilden"
                    )),
                    active_from: self.start + Duration::days(180),
                    active_until: None,
                    target_visits_per_week: Some(10),
                }),
            })
            .collect()
    }

    fn incident(&mut self, i: usize) -> NewFeature {
        let c = self.point(1.0);
        let weights: Vec<f64> = CATEGORY_WEIGHTS.iter().map(|(_, w)| *w).collect();
        let category = CATEGORY_WEIGHTS[self.rng.weighted(&weights)].0;
        NewFeature {
            geometry: Geometry::Point(Point(c)),
            attributes: Attributes::Incident(Incident {
                category,
                occurred_at: self.time(),
                occurred_until: None,
                precision_m: 25,
                source: SOURCE.to_owned(),
                source_id: Some(format!("incident-{i}")),
                source_type: None,
                source_url: None,
                municipality: None,
            }),
        }
    }

    fn report(&mut self, i: usize) -> NewFeature {
        let c = self.point(1.6);
        let reason_weights = [35.0, 20.0, 10.0, 25.0, 5.0, 5.0];
        let mut reasons = vec![Reason::ALL[self.rng.weighted(&reason_weights)]];
        if self.rng.chance(0.4) {
            let extra = Reason::ALL[self.rng.weighted(&reason_weights)];
            if !reasons.contains(&extra) {
                reasons.push(extra);
            }
        }
        let source = [
            ReportSource::SafetyWalk,
            ReportSource::Survey,
            ReportSource::Staff,
        ][self.rng.weighted(&[40.0, 45.0, 15.0])];
        let time_of_day = TimeOfDay::ALL[self.rng.weighted(&[5.0, 10.0, 45.0, 40.0])];
        // Women report insecurity more often than men (≈ 25 % against 7 %).
        let respondent = self.rng.chance(0.7).then(|| Respondent {
            gender: Some(
                [
                    Gender::Woman,
                    Gender::Man,
                    Gender::NonBinary,
                    Gender::NotStated,
                ][self.rng.weighted(&[62.0, 30.0, 3.0, 5.0])],
            ),
            age_band: Some(AgeBand::ALL[self.rng.weighted(&[6.0, 25.0, 35.0, 22.0, 12.0])]),
            lgbtq: self.rng.chance(0.3).then(|| self.rng.chance(0.12)),
        });
        let walk = (source == ReportSource::SafetyWalk).then(|| self.rng.below(8));
        let scores = walk.map(|_| {
            let mut s = || Some(1 + self.rng.below(5) as u8);
            Scores {
                lighting: s(),
                visibility: s(),
                openness: s(),
                people_around: s(),
                upkeep: s(),
                walk_path: s(),
                overall: s(),
            }
        });
        NewFeature {
            geometry: Geometry::Point(Point(c)),
            attributes: Attributes::Report(Report {
                reasons,
                source,
                reported_at: self.time(),
                time_of_day: Some(time_of_day),
                status: ReportStatus::Approved,
                respondent,
                scores,
                walk_id: walk.map(|w| format!("demo-walk-{w}")),
                comment: Some(format!("{LABEL}.")),
                client_id: Some(format!("demo-report-{i}")),
                contact: None,
                moderation_note: None,
            }),
        }
    }

    fn presence(&mut self, i: usize, places: &[NewFeature]) -> NewFeature {
        use geo::InteriorPoint;
        let at_place = !places.is_empty() && self.rng.chance(0.7);
        let c = if at_place {
            let p = &places[self.rng.below(places.len())];
            let centre = p
                .geometry
                .interior_point()
                .map_or_else(|| self.point(1.0), |p| p.0);
            offset_m(centre, self.rng.normal() * 80.0, self.rng.normal() * 80.0)
        } else {
            self.point(1.2)
        };
        let c = if self.inside(c) { c } else { self.point(1.0) };
        // The Koper band (10–15 min) most often, longer stays sometimes.
        let minutes = match self.rng.weighted(&[55.0, 25.0, 20.0]) {
            0 => self.rng.range(10.0, 15.0),
            1 => self.rng.range(3.0, 10.0),
            _ => self.rng.range(15.0, 90.0),
        };
        let started_at = self.time();
        let ended_at = (started_at + Duration::seconds((minutes * 60.0) as i64))
            .min(self.now - Duration::minutes(1));
        let geometry = if self.rng.chance(0.25) {
            let a = self.rng.range(0.0, std::f64::consts::TAU);
            let end = offset_m(c, 300.0 * a.cos(), 300.0 * a.sin());
            let end = if self.inside(end) { end } else { c };
            if end == c {
                Geometry::Point(Point(c))
            } else {
                Geometry::LineString(LineString(vec![
                    c,
                    offset_m(c, 150.0 * a.cos(), 150.0 * a.sin() + 40.0),
                    end,
                ]))
            }
        } else {
            Geometry::Point(Point(c))
        };
        let unit_type = UnitType::ALL[self.rng.weighted(&[40.0, 20.0, 20.0, 10.0, 10.0, 0.0])];
        NewFeature {
            geometry,
            attributes: Attributes::Presence(Presence {
                unit_type,
                unit: Some(format!("Demo {}", 1 + self.rng.below(6))),
                started_at,
                ended_at: Some(ended_at),
                note: None,
                client_id: Some(format!("demo-presence-{i}")),
            }),
        }
    }

    fn measure(&mut self, i: usize) -> Vec<NewFeature> {
        let kind = MeasureKind::ALL[self.rng.weighted(&[30.0, 25.0, 15.0, 15.0, 5.0, 10.0])];
        let c = self.point(1.2);
        let geometry = match kind {
            MeasureKind::Vegetation if self.rng.chance(0.6) => {
                let a = self.rng.range(0.0, std::f64::consts::PI);
                let end = offset_m(c, 120.0 * a.cos(), 120.0 * a.sin());
                if self.inside(end) {
                    Geometry::LineString(LineString(vec![c, end]))
                } else {
                    Geometry::Point(Point(c))
                }
            }
            MeasureKind::Cleaning
                if self.rng.chance(0.5)
                    && self.inside(offset_m(c, 90.0, 90.0))
                    && self.inside(offset_m(c, -90.0, -90.0)) =>
            {
                Geometry::Polygon(circle(c, 80.0))
            }
            _ => Geometry::Point(Point(c)),
        };
        let title = match kind {
            MeasureKind::Lighting => "Ny och förstärkt belysning",
            MeasureKind::Vegetation => "Röjning av buskage längs gångväg",
            MeasureKind::Cleaning => "Extra städning och nedskräpning",
            MeasureKind::Graffiti => "Klottersanering",
            MeasureKind::Camera => "Kamerabevakning utreds",
            MeasureKind::Other => "Övrig åtgärd i stadsmiljön",
        };
        let org = [
            "Linköpings kommun",
            "Stångåstaden",
            "Polisen Linköping",
            "Tekniska verken",
        ][self.rng.weighted(&[60.0, 20.0, 10.0, 10.0])];
        let base = |status: MeasureStatus, at: DateTime<Utc>| NewFeature {
            geometry: geometry.clone(),
            attributes: Attributes::Measure(Measure {
                kind,
                title: title.to_owned(),
                status,
                status_date: Some(at),
                description: Some(format!("{LABEL}.")),
                responsible_org: Some(org.to_owned()),
                place_id: None,
                report_ids: vec![],
                client_id: Some(format!("demo-measure-{i}")),
            }),
        };
        let mut t = self.time();
        let mut versions = vec![base(MeasureStatus::Proposed, t)];
        let path: &[MeasureStatus] = match self.rng.weighted(&[55.0, 10.0, 8.0, 12.0, 15.0]) {
            0 => &[
                MeasureStatus::Planned,
                MeasureStatus::InProgress,
                MeasureStatus::Done,
            ],
            1 => &[MeasureStatus::Planned, MeasureStatus::Closed],
            2 => &[MeasureStatus::Rejected],
            3 => &[MeasureStatus::Planned, MeasureStatus::InProgress],
            _ => &[MeasureStatus::Planned],
        };
        for status in path {
            t += Duration::days(5 + self.rng.below(40) as i64);
            if t >= self.now {
                break;
            }
            versions.push(base(*status, t));
        }
        versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn fixture() -> (Vec<(String, MultiPolygon<f64>)>, ServiceArea) {
        let town: Polygon<f64> = polygon![(x: 15.50, y: 58.35), (x: 15.72, y: 58.35), (x: 15.72, y: 58.46), (x: 15.50, y: 58.46), (x: 15.50, y: 58.35)];
        let centre: Polygon<f64> = polygon![(x: 15.61, y: 58.40), (x: 15.63, y: 58.40), (x: 15.63, y: 58.42), (x: 15.61, y: 58.42), (x: 15.61, y: 58.40)];
        let districts = vec![(
            "Lilla Torget-Sankt Lars".to_owned(),
            MultiPolygon(vec![centre]),
        )];
        (
            districts,
            ServiceArea::new("0580", "Linköping", MultiPolygon(vec![town]), 0.0).unwrap(),
        )
    }

    fn small() -> Scale {
        Scale {
            incidents: 300,
            reports: 40,
            presence: 60,
            measures: 10,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_city() {
        let (d, a) = fixture();
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s1 = scenario(&d, &a, now, 42, small());
        let s2 = scenario(&d, &a, now, 42, small());
        assert_eq!(s1.incidents, s2.incidents);
        assert_eq!(s1.measures, s2.measures);
    }

    #[test]
    fn everything_lies_inside_the_area_and_in_the_past() {
        let (d, a) = fixture();
        let now = Utc::now();
        let s = scenario(&d, &a, now, 7, small());
        let all = s
            .places
            .iter()
            .chain(&s.incidents)
            .chain(&s.reports)
            .chain(&s.presence)
            .chain(s.measures.iter().flatten());
        for f in all {
            assert!(a.check(&f.geometry, "geometry").is_ok());
            let d = f.attributes.derived(&[]);
            if let Some(t) = d.t_start {
                assert!(t <= crate::time::to_ms(now), "{f:?}");
            }
        }
        assert_eq!(s.incidents.len(), 300);
    }

    #[test]
    fn incidents_cluster_at_the_hot_spot() {
        let (d, a) = fixture();
        let s = scenario(&d, &a, Utc::now(), 3, small());
        let near = s
            .incidents
            .iter()
            .filter(|f| matches!(f.geometry, Geometry::Point(p) if (p.x() - 15.62).abs() < 0.01 && (p.y() - 58.41).abs() < 0.006))
            .count();
        // The only hot spot holds 85 % of incidents; its ±600 m box most of them.
        assert!(near > 200, "{near}");
    }

    #[test]
    fn measure_versions_follow_allowed_transitions() {
        let (d, a) = fixture();
        let s = scenario(&d, &a, Utc::now(), 5, small());
        for versions in &s.measures {
            let mut history = Vec::new();
            for v in versions {
                let Attributes::Measure(m) = &v.attributes else {
                    panic!()
                };
                history = m.next_history(&history, Utc::now()).unwrap();
            }
        }
    }
}
