//! The index's behaviour as its callers see it: hexagon layers, point
//! layers, list pages and writes, each on a few rows.

use uuid::Uuid;

use super::test_rows::{point_query, query, row};
use super::*;
use crate::omitted::Omission;
use crate::query::ListQuery;
use crate::time::TimeWindow;

#[test]
fn points_in_one_hexagon_add_up_and_the_window_cuts() {
    let rows = vec![
        row(15.6214, 58.4108, 10, "theft"),
        row(15.6215, 58.4108, 20, "theft"),
        row(15.6214, 58.4109, 30, "robbery"),
        row(15.70, 58.45, 20, "theft"),
    ];
    let index = LayerIndex::build(Kind::Incident, &rows);
    let all = index.hexagons(&query(8, 0, 100), 0, 1000).unwrap();
    assert_eq!(all.iter().map(|h| h.count).sum::<u64>(), 4);
    assert_eq!(all.len(), 2);
    let early = index.hexagons(&query(8, 0, 20), 0, 1000).unwrap();
    assert_eq!(early.iter().map(|h| h.count).sum::<u64>(), 3);
    let mut q = query(8, 0, 100);
    q.filters.tags = vec!["robbery"];
    let robbery = index.hexagons(&q, 0, 1000).unwrap();
    assert_eq!(robbery.len(), 1);
    assert_eq!(robbery[0].count, 1);
}

#[test]
fn coarse_positions_stay_out_of_fine_hexagons() {
    let mut coarse = row(15.6214, 58.4108, 10, "theft");
    coarse.precision_m = Some(20_000);
    let index = LayerIndex::build(
        Kind::Incident,
        &[coarse, row(15.6214, 58.4108, 10, "theft")],
    );
    let h = index.hexagons(&query(9, 0, 100), 0, 10).unwrap();
    assert_eq!(h[0].count, 1);
}

#[test]
fn an_organisation_limit_keeps_other_partners_out() {
    let police = Uuid::now_v7();
    let mut a = row(15.6214, 58.4108, 10, "police");
    a.organisation_id = Some(police);
    let b = row(15.6214, 58.4108, 10, "night_walkers");
    let index = LayerIndex::build(Kind::Presence, &[a, b]);
    let mut q = query(9, 0, 100);
    q.organisation = Some(police);
    assert_eq!(index.hexagons(&q, 0, 10).unwrap()[0].count, 1);
    q.organisation = Some(Uuid::now_v7());
    assert!(index.hexagons(&q, 0, 10).unwrap().is_empty());
}

#[test]
fn upsert_replaces_and_remove_forgets() {
    let mut index = LayerIndex::new(Kind::Incident);
    let mut r = row(15.62, 58.41, 10, "theft");
    index.upsert(&r);
    r.t_start = Some(50);
    r.t_end = Some(50);
    index.upsert(&r);
    assert_eq!(index.len(), 1);
    assert!(index.hexagons(&query(9, 0, 20), 0, 10).unwrap().is_empty());
    assert_eq!(index.hexagons(&query(9, 0, 60), 0, 10).unwrap().len(), 1);
    index.remove(r.id);
    assert!(index.is_empty());
}

#[test]
fn a_point_query_returns_the_box_and_window_oldest_first() {
    let rows = vec![
        row(15.6214, 58.4108, 30, "theft"),
        row(15.6215, 58.4108, 10, "robbery"),
        row(15.6300, 58.4200, 20, "theft"),
        row(15.6214, 58.4108, 500, "theft"),
    ];
    let index = LayerIndex::build(Kind::Incident, &rows);
    let hits = index
        .points(
            &point_query(Some([15.62, 58.41, 15.625, 58.415]), 0, 100),
            10,
        )
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, rows[1].id);
    assert_eq!(hits[0].tags, vec!["robbery"]);
    assert!((hits[0].lon - 15.6215).abs() < 1e-9);
    assert_eq!(hits[1].t_start, 30);
    let all = index.points(&point_query(None, 0, 1_000), 10).unwrap();
    assert_eq!(all.len(), 4);
}

#[test]
fn a_point_on_the_box_edge_is_inside() {
    let index = LayerIndex::build(Kind::Incident, &[row(15.6, 58.4, 10, "theft")]);
    let hits = index
        .points(&point_query(Some([15.6, 58.4, 15.635, 58.418]), 0, 100), 10)
        .unwrap();
    assert_eq!(hits.len(), 1);
}

#[test]
fn too_many_points_is_an_error_naming_bbox() {
    let rows: Vec<_> = (0..5).map(|i| row(15.62, 58.41, i, "theft")).collect();
    let index = LayerIndex::build(Kind::Incident, &rows);
    let e = index.points(&point_query(None, 0, 100), 4).unwrap_err();
    assert_eq!(e.field(), "bbox");
    assert_eq!(
        index.points(&point_query(None, 0, 100), 5).unwrap().len(),
        5
    );
}

#[test]
fn list_pages_come_in_id_order_after_the_cursor() {
    let rows: Vec<_> = (0..7).map(|i| row(15.62, 58.41, 10 - i, "theft")).collect();
    let mut area = row(15.62, 58.41, 5, "theft");
    area.bounds = [15.61, 58.40, 15.63, 58.42];
    let index = LayerIndex::build(Kind::Incident, &[rows.clone(), vec![area.clone()]].concat());
    let mut q = ListQuery::parse(Kind::Incident, &[]).unwrap();
    q.limit = 3;
    let mut seen = Vec::new();
    loop {
        let (ids, more) = index.page_ids(&q);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        seen.extend(ids.iter().copied());
        if !more {
            break;
        }
        q.after = ids.last().copied();
    }
    let mut all: Vec<Uuid> = rows.iter().chain([&area]).map(|r| r.id).collect();
    all.sort_unstable();
    assert_eq!(seen, all);
    q.after = None;
    q.window = TimeWindow::new(0, 6, "datetime").unwrap();
    q.limit = 100;
    assert_eq!(
        index.page_ids(&q).0.len(),
        4,
        "times 4, 5, 6 and the area at 5"
    );
}

#[test]
fn coarse_positions_and_polygons_are_not_points() {
    let mut coarse = row(15.6214, 58.4108, 10, "theft");
    coarse.precision_m = Some(20_000);
    let mut area = row(15.6214, 58.4108, 10, "theft");
    area.bounds = [15.62, 58.41, 15.63, 58.42];
    area.cells = vec![
        u64::from(cells::point_cell(15.62, 58.41).unwrap()),
        u64::from(cells::point_cell(15.63, 58.42).unwrap()),
    ];
    let index = LayerIndex::build(Kind::Incident, &[coarse, area]);
    assert!(
        index
            .points(&point_query(None, 0, 100), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(index.len(), 2);
    // And the point layer says so.
    let q = point_query(None, 0, 100);
    let said = index.points_omitted(&q);
    assert_eq!(said.get(Omission::CoarsePosition), 1);
    assert_eq!(said.get(Omission::NotAPoint), 1);
    // Outside the window nothing is left out.
    let later = TimeWindow::new(200, 300, "datetime").unwrap();
    let said = index.omitted(&q.filters, later, None, POINT_MAX_PRECISION_M, Some(None));
    assert_eq!(said.total(), 0);
    // The area away from the box is not left out of it; the coarse
    // position is, whichever box is asked for.
    let q = point_query(Some([15.70, 58.45, 15.71, 58.46]), 0, 100);
    let said = index.points_omitted(&q);
    assert_eq!(said.get(Omission::NotAPoint), 0);
    assert_eq!(said.get(Omission::CoarsePosition), 1);
}

#[test]
fn an_update_moves_a_point_between_buckets() {
    let mut index = LayerIndex::new(Kind::Incident);
    let mut r = row(15.62, 58.41, 10, "theft");
    index.upsert(&r);
    r.bounds = [15.70, 58.45, 15.70, 58.45];
    r.cells = vec![u64::from(cells::point_cell(15.70, 58.45).unwrap())];
    index.upsert(&r);
    let near = Some([15.61, 58.40, 15.63, 58.42]);
    assert!(
        index
            .points(&point_query(near, 0, 100), 10)
            .unwrap()
            .is_empty()
    );
    let far = index.points(&point_query(Some([15.69, 58.44, 15.71, 58.46]), 0, 100), 10);
    assert_eq!(far.unwrap().len(), 1);
    index.remove(r.id);
    assert!(index.is_empty());
    assert!(
        index
            .points(&point_query(None, 0, 100), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn report_sources_filter_hexagons_and_points() {
    let mut walk = row(15.62, 58.41, 10, "lighting");
    walk.source = Some("safety_walk".into());
    let mut survey = row(15.62, 58.41, 10, "lighting");
    survey.source = Some("survey".into());
    let index = LayerIndex::build(Kind::Report, &[walk, survey]);
    let mut q = query(9, 0, 100);
    q.filters.sources = vec!["survey"];
    assert_eq!(index.hexagons(&q, 0, 10).unwrap()[0].count, 1);
    let mut p = point_query(None, 0, 100);
    p.filters.sources = vec!["survey"];
    assert_eq!(index.points(&p, 10).unwrap().len(), 1);
}

#[test]
fn presence_minutes_are_clipped_to_the_window() {
    let mut r = row(15.62, 58.41, 0, "police");
    r.t_end = Some(30 * 60_000);
    let index = LayerIndex::build(Kind::Presence, &[r]);
    let h = index
        .hexagons(&query(9, 10 * 60_000, 100 * 60_000), 0, 10)
        .unwrap();
    assert_eq!(h[0].count, 1);
    assert!((h[0].minutes - 20.0).abs() < 1e-9);
}

#[test]
fn a_presence_left_open_closes_itself_after_the_longest_a_presence_lasts() {
    const HOUR: i64 = 3_600_000;
    let mut r = row(15.62, 58.41, 0, "police");
    r.t_end = None;
    let index = LayerIndex::build(Kind::Presence, &[r]);
    // An hour in: counted up to now.
    let h = index.hexagons(&query(9, 0, 100 * HOUR), HOUR, 10).unwrap();
    assert!((h[0].minutes - 60.0).abs() < 1e-9, "{h:?}");
    // Ten years on: 24 hours, not ten years.
    let years = 10 * 365 * 24 * HOUR;
    let h = index.hexagons(&query(9, 0, years), years, 10).unwrap();
    assert!((h[0].minutes - 24.0 * 60.0).abs() < 1e-9, "{h:?}");
    // And no visit at all in a window after it closed.
    let later = index
        .hexagons(&query(9, 30 * HOUR, years), years, 10)
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
}

#[test]
fn too_many_hexagons_is_an_error_naming_resolution() {
    let rows: Vec<IndexRow> = (0..50)
        .map(|i| row(15.5 + f64::from(i) * 0.005, 58.41, 1, "theft"))
        .collect();
    let index = LayerIndex::build(Kind::Incident, &rows);
    let err = index.hexagons(&query(11, 0, 10), 0, 10).unwrap_err();
    assert_eq!(err.field(), "resolution");
}
