//! The analytics fixture scenario with known answers: hot spots, Mann-Kendall
//! and difference in differences against figures computed independently
//! (numpy/scipy and the `h3` Python package, see
//! `fixtures/analytics/make_expected.py`), and a hand-computed dosage case.

use std::collections::BTreeMap;

use chrono::DateTime;
use geo_types::{Coord, Geometry, LineString, Point, Polygon};
use h3o::CellIndex;
use serde_json::Value;
use trygg_core::analytics::dosage::{
    DosageConfig, PlaceArea, PresenceLog, dosage, patrol_list, visits,
};
use trygg_core::analytics::emerging::{EmergingConfig, Pattern, emerging_hot_spots, mann_kendall};
use trygg_core::analytics::evaluation::{EvaluationConfig, difference_in_differences};
use trygg_core::analytics::hotspots::{GiConfig, fill_area, gi_star};
use trygg_core::analytics::stats::two_sided_p;
use trygg_core::analytics::{Cadence, Period};
use trygg_core::attrs::UnitType;
use trygg_core::time::TimeWindow;
use uuid::Uuid;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/analytics/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("a fixture is JSON")
}

fn cell(v: &Value) -> CellIndex {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .expect("an H3 cell as a hex string")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn ms(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .timestamp_millis()
}

fn rel_close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn hot_spot_counts() -> (Value, BTreeMap<CellIndex, f64>) {
    let g = fixture("gi_star.json");
    let counts = g["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| (cell(&c["cell"]), f(&c["count"])))
        .collect();
    (g, counts)
}

#[test]
fn gi_star_z_scores_match_the_independent_computation_within_1e_6() {
    let (g, counts) = hot_spot_counts();
    assert_eq!(counts.len(), 91);
    for run in g["runs"].as_array().unwrap() {
        let distance = run["distance"].as_u64().unwrap() as u32;
        let config = GiConfig::new(distance, f(&run["fdr_q"])).unwrap();
        let out = gi_star(&counts, &config).unwrap();
        let by_cell: BTreeMap<CellIndex, _> = out.iter().map(|r| (r.cell, r)).collect();
        let expected = run["expected"].as_array().unwrap();
        assert_eq!(expected.len(), out.len());
        for e in expected {
            let r = by_cell[&cell(&e["cell"])];
            assert_eq!(u64::from(r.neighbours), e["neighbours"].as_u64().unwrap());
            assert!((r.z - f(&e["z"])).abs() < 1e-6, "d={distance} {r:?} vs {e}");
            // p over many orders of magnitude: relative.
            assert!(rel_close(r.p, f(&e["p"]), 1e-6), "{r:?} vs {e}");
            assert!(rel_close(r.p_fdr, f(&e["p_fdr"]), 1e-6), "{r:?} vs {e}");
            assert_eq!(i64::from(r.bin), e["bin"].as_i64().unwrap(), "{r:?} vs {e}");
            assert_eq!(
                i64::from(r.bin_fdr),
                e["bin_fdr"].as_i64().unwrap(),
                "{r:?} vs {e}"
            );
        }
    }
}

#[test]
fn the_planted_hot_spot_is_the_strongest_cell_and_significant_after_fdr() {
    let (g, counts) = hot_spot_counts();
    let hot = cell(&g["hot"]);
    let out = gi_star(&counts, &GiConfig::default()).unwrap();
    let top = out.iter().max_by(|a, b| a.z.total_cmp(&b.z)).unwrap();
    assert_eq!(top.cell, hot);
    assert_eq!(top.bin_fdr, 3);
}

#[test]
fn zeros_left_out_of_the_area_change_the_answer() {
    // Why the study area must list its empty cells: without them the mean
    // is higher and the planted hot spot looks weaker.
    let (g, counts) = hot_spot_counts();
    let hot = cell(&g["hot"]);
    let non_zero: BTreeMap<CellIndex, f64> = counts
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(c, v)| (*c, *v))
        .collect();
    assert!(non_zero.len() < counts.len());
    let z = |values: &BTreeMap<CellIndex, f64>| {
        gi_star(values, &GiConfig::default())
            .unwrap()
            .into_iter()
            .find(|r| r.cell == hot)
            .unwrap()
            .z
    };
    assert!(z(&non_zero) < z(&counts));
    let area: Vec<CellIndex> = counts.keys().copied().collect();
    assert!((z(&fill_area(area, &non_zero)) - z(&counts)).abs() < 1e-12);
}

#[test]
fn mann_kendall_matches_the_independent_computation_and_scipy() {
    let m = fixture("mann_kendall.json");
    for case in m["cases"].as_array().unwrap() {
        let series: Vec<f64> = case["series"].as_array().unwrap().iter().map(f).collect();
        let mk = mann_kendall(&series);
        assert_eq!(mk.s, case["s"].as_i64().unwrap(), "{case}");
        assert!((mk.var_s - f(&case["var_s"])).abs() < 1e-9, "{case}");
        assert!((mk.z - f(&case["z"])).abs() < 1e-9, "{case}");
        assert!(rel_close(mk.p, f(&case["p"]), 1e-6), "{mk:?} vs {case}");
        // scipy.stats.kendalltau's p has no continuity correction.
        let uncorrected = two_sided_p(mk.s as f64 / mk.var_s.sqrt());
        assert!(
            rel_close(uncorrected, f(&case["p_uncorrected_scipy"]), 1e-6),
            "{case}"
        );
    }
}

#[test]
fn difference_in_differences_matches_the_independent_computation() {
    let d = fixture("did.json");
    let cells = |v: &Value| -> Vec<CellIndex> { v.as_array().unwrap().iter().map(cell).collect() };
    let events: Vec<(CellIndex, i64)> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (cell(&e["cell"]), e["t_ms"].as_i64().unwrap()))
        .collect();
    let config = EvaluationConfig {
        comparison_cells: d["comparison_cells"].as_u64().unwrap() as usize,
        ..EvaluationConfig::default()
    };
    let out = difference_in_differences(
        &events,
        &cells(&d["area"]),
        &cells(&d["treated"]),
        d["date_ms"].as_i64().unwrap(),
        d["now_ms"].as_i64().unwrap(),
        &config,
    )
    .unwrap();
    let expected = d["windows"].as_array().unwrap();
    assert_eq!(out.len(), expected.len());
    for (w, e) in out.iter().zip(expected) {
        assert_eq!(u64::from(w.months), e["months"].as_u64().unwrap());
        assert_eq!(w.treated_before, e["treated_before"].as_u64().unwrap());
        assert_eq!(w.treated_after, e["treated_after"].as_u64().unwrap());
        assert_eq!(
            w.comparison_cells as u64,
            e["comparison_cells"].as_u64().unwrap()
        );
        let mut want = cells(&e["comparison"]);
        want.sort_unstable();
        assert_eq!(w.comparison, want);
        assert!((w.comparison_mean_before - f(&e["comparison_mean_before"])).abs() < 1e-12);
        assert!((w.comparison_mean_after - f(&e["comparison_mean_after"])).abs() < 1e-12);
        assert!((w.did - f(&e["did"])).abs() < 1e-12, "{w:?}");
        assert!((w.relative_change.unwrap() - f(&e["relative_change"])).abs() < 1e-12);
        assert!(w.complete);
    }
}

fn polygon(v: &Value) -> Geometry<f64> {
    let ring: Vec<Coord<f64>> = v
        .as_array()
        .expect("the fixture's shape")
        .iter()
        .map(|p| Coord {
            x: f(&p[0]),
            y: f(&p[1]),
        })
        .collect();
    Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
}

fn place(v: &Value, target: Option<u32>) -> PlaceArea {
    PlaceArea {
        id: v["id"]
            .as_str()
            .expect("the fixture's shape")
            .parse()
            .expect("the fixture's shape"),
        name: v["name"].as_str().expect("the fixture's shape").to_owned(),
        geometry: polygon(&v["polygon"]),
        target_visits_per_week: target,
        active: TimeWindow::ALL,
    }
}

fn logs(v: &Value) -> Vec<PresenceLog> {
    v.as_array()
        .expect("the fixture's shape")
        .iter()
        .map(|l| {
            let geometry = if let Some(p) = l.get("point") {
                Geometry::Point(Point::new(f(&p[0]), f(&p[1])))
            } else {
                let coords = l["line"]
                    .as_array()
                    .expect("the fixture's shape")
                    .iter()
                    .map(|p| Coord {
                        x: f(&p[0]),
                        y: f(&p[1]),
                    })
                    .collect();
                Geometry::LineString(LineString(coords))
            };
            PresenceLog {
                id: Uuid::now_v7(),
                unit_type: UnitType::parse(
                    l["unit_type"].as_str().expect("the fixture's shape"),
                    "unit_type",
                )
                .expect("the fixture's shape"),
                organisation_id: None,
                start_ms: ms(l["start"].as_str().expect("the fixture's shape")),
                end_ms: ms(l["end"].as_str().expect("the fixture's shape")),
                geometry,
                municipality: None,
            }
        })
        .collect()
}

#[test]
fn the_dosage_case_gives_the_hand_computed_visits_and_minutes() {
    let d = fixture("dosage.json");
    let e = &d["expected"];
    let tol = f(&e["tolerance_minutes"]);
    let target = d["place"]["target_visits_per_week"].as_u64().unwrap() as u32;
    let place = place(&d["place"], Some(target));
    let logs = logs(&d["logs"]);
    let config = DosageConfig::default();
    let period = Period::parse(d["period"].as_str().unwrap(), "period").unwrap();
    assert_eq!(period.cadence(), Cadence::Monthly);
    let all = visits(&place, &logs, &config);
    let result = dosage(
        &place,
        &all,
        period.window(),
        ms(d["now"].as_str().unwrap()),
        &config,
    );

    assert_eq!(u64::from(result.visits), e["visits"].as_u64().unwrap());
    let in_october: Vec<f64> = all
        .iter()
        .filter(|v| v.start_ms >= period.start_ms())
        .map(|v| v.minutes)
        .collect();
    let want: Vec<f64> = e["visit_minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    assert_eq!(in_october.len(), want.len());
    for (got, want) in in_october.iter().zip(&want) {
        assert!((got - want).abs() < tol, "{in_october:?} vs {want}");
    }
    assert!((result.total_minutes - f(&e["total_minutes"])).abs() < tol);
    assert!((result.median_minutes.unwrap() - f(&e["median_minutes"])).abs() < tol);
    assert!((result.koper_share.unwrap() - f(&e["koper_share"])).abs() < 1e-12);
    assert!((result.longest_gap_h.unwrap() - f(&e["longest_gap_h"])).abs() < tol / 60.0);
    assert!((result.longest_without_presence_h - f(&e["longest_without_presence_h"])).abs() < 1e-9);
    assert!((result.target_visits.unwrap() - f(&e["target_visits"])).abs() < 1e-9);
    assert!((result.target_share.unwrap() - f(&e["target_share"])).abs() < 1e-9);
}

#[test]
fn the_patrol_list_of_the_dosage_case_puts_the_never_visited_place_first() {
    let d = fixture("dosage.json");
    let p = &d["patrol"];
    let places = [place(&d["place"], None), place(&p["other_place"], None)];
    let hot: BTreeMap<Uuid, f64> = p["hot_levels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, v)| (id.parse().unwrap(), f(v)))
        .collect();
    let list = patrol_list(
        &places,
        &hot,
        &logs(&d["logs"]),
        ms(p["now"].as_str().unwrap()),
        &DosageConfig::default(),
    );
    let order: Vec<String> = list.iter().map(|s| s.place_id.to_string()).collect();
    let want: Vec<&str> = p["expected_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(order, want);
    for (s, (h, score)) in list.iter().zip(
        p["expected_hours_since"]
            .as_array()
            .unwrap()
            .iter()
            .zip(p["expected_scores"].as_array().unwrap()),
    ) {
        assert_eq!(s.hours_since_presence.is_none(), h.is_null());
        if let Some(h) = h.as_f64() {
            assert!((s.hours_since_presence.unwrap() - h).abs() < 1e-9);
        }
        assert!((s.score - f(score)).abs() < 1e-9);
    }
}

#[test]
fn a_spot_that_appears_in_the_last_month_is_new_and_one_that_stands_out_more_each_month_intensifies()
 {
    // Twelve monthly runs over the fixture's area. Gi* measures how much a
    // cell's neighbourhood stands out from the area, not its counts: the
    // `steady` cluster keeps its counts while the rest of the town calms
    // down month by month, so its z rises; `late` appears only in the last
    // month.
    let (g, background) = hot_spot_counts();
    let steady = cell(&g["hot"]);
    let centre = cell(&g["centre"]);
    let mut ring: Vec<CellIndex> = centre.grid_ring_fast(3).flatten().collect();
    ring.sort_unstable();
    let late = *ring.last().unwrap();
    assert!(steady.grid_distance(late).unwrap() > 3);
    let cluster: Vec<CellIndex> = steady.grid_disk(1);
    let months = Period::parse("2026-12", "period")
        .unwrap()
        .back(12)
        .unwrap();
    let runs: Vec<_> = (0..months.len())
        .map(|m| {
            let calm = 1.0 - m as f64 / 15.0;
            let mut values: BTreeMap<CellIndex, f64> = background
                .iter()
                .map(|(c, v)| (*c, if cluster.contains(c) { *v } else { v * calm }))
                .collect();
            if m == months.len() - 1 {
                for c in late.grid_disk::<Vec<_>>(1) {
                    *values.get_mut(&c).unwrap() += 8.0;
                }
            }
            gi_star(&values, &GiConfig::default()).unwrap()
        })
        .collect();
    let out = emerging_hot_spots(&runs, &EmergingConfig::default()).unwrap();
    let pattern = |c: CellIndex| out.iter().find(|e| e.cell == c).unwrap();
    assert_eq!(
        pattern(late).pattern,
        Pattern::NewHotSpot,
        "{:?}",
        pattern(late)
    );
    assert_eq!(
        pattern(steady).pattern,
        Pattern::IntensifyingHotSpot,
        "{:?}",
        pattern(steady)
    );
}
