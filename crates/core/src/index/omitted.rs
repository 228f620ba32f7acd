//! What a layer leaves out of the features its filters and window select,
//! counted per reason ([`Omission`]) so an answer can say why a map is
//! emptier than the data: positions too coarse for the layer (the police
//! feed's municipality and county midpoints) and, for a point layer, lines
//! and polygons. Also the ids of those coarse positions, which the
//! analyses count by the municipality they name instead.
//!
//! Invariants (property-tested against a plain scan of the rows): a
//! feature is counted at most once, under the first reason that applies
//! (a coarse position before its shape); what the hexagon or point query
//! shows plus what is counted here is every feature the filters and window
//! select (within the box, for a point layer's lines and polygons); the
//! filters, the window and the organisation limit apply as in the layer.

use uuid::Uuid;

use super::points::Bucket;
use super::spans::Span;
use super::{LayerIndex, bbox_e7, meets};
use crate::bbox::Bbox;
use crate::omitted::{Omission, Omitted};
use crate::query::Filters;
use crate::time::TimeWindow;
use crate::{Error, Shape};

/// Whether a span is drawn by a point layer: a point with one position
/// (the test [`super::points::query`] applies).
fn span_is_a_point(s: &Span) -> bool {
    s.shape == Shape::Point && s.bounds[0] == s.bounds[2] && s.bounds[1] == s.bounds[3]
}

/// Every point of the kind whose extent overlaps the window, then every
/// span that does, each with its attributes' filter already passed.
fn each_selected(
    index: &LayerIndex,
    filters: &Filters,
    window: TimeWindow,
    organisation: Option<Uuid>,
    mut point: impl FnMut(&Bucket, usize),
    mut span: impl FnMut(&Span),
) {
    // No precision limit here: the precision is what is being counted.
    let filter = index.filter(filters, window, None, u32::MAX, organisation, None);
    let _ = index.points.each_in_window(None, window, |b, i| {
        if filter.attrs(b.attrs(i)) {
            point(b, i);
        }
        Ok::<(), Error>(())
    });
    for s in index.spans.candidates(window) {
        if s.t_end >= window.start && filter.attrs(s.attrs) {
            span(s);
        }
    }
}

/// See [`LayerIndex::omitted`].
pub(super) fn omitted(
    index: &LayerIndex,
    filters: &Filters,
    window: TimeWindow,
    organisation: Option<Uuid>,
    max_precision_m: u32,
    (point_layer, bbox): (bool, Option<&Bbox>),
) -> Omitted {
    let mut out = Omitted::of(if point_layer {
        &[Omission::CoarsePosition, Omission::NotAPoint]
    } else {
        &[Omission::CoarsePosition]
    });
    let in_box = bbox.map(bbox_e7);
    let (mut coarse_points, mut coarse_spans, mut not_a_point) = (0u64, 0u64, 0u64);
    each_selected(
        index,
        filters,
        window,
        organisation,
        |b, i| {
            if u32::from(b.attrs(i).precision) > max_precision_m {
                coarse_points += 1;
            }
        },
        |s| {
            if u32::from(s.attrs.precision) > max_precision_m {
                coarse_spans += 1;
            } else if point_layer
                && !span_is_a_point(s)
                && in_box.is_none_or(|b| meets(&s.bounds, &b))
            {
                not_a_point += 1;
            }
        },
    );
    out.add(Omission::CoarsePosition, coarse_points + coarse_spans);
    if point_layer {
        out.add(Omission::NotAPoint, not_a_point);
    }
    out
}

/// See [`LayerIndex::coarse_ids`].
pub(super) fn coarse_ids(
    index: &LayerIndex,
    window: TimeWindow,
    min_precision_m: u32,
    organisation: Option<Uuid>,
) -> Vec<Uuid> {
    let mut out = Vec::new();
    let mut ids = Vec::new();
    each_selected(
        index,
        &Filters::default(),
        window,
        organisation,
        |b, i| {
            if u32::from(b.attrs(i).precision) >= min_precision_m {
                out.push(b.id(i));
            }
        },
        |s| {
            if u32::from(s.attrs.precision) >= min_precision_m {
                ids.push(s.id);
            }
        },
    );
    out.extend(ids);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Kind;
    use crate::cells;
    use crate::index::test_rows::{point_query, query, row};
    use crate::index::{IndexRow, POINT_MAX_PRECISION_M, hexagon_precision_limit_m};

    #[test]
    fn a_hexagon_layer_counts_what_it_leaves_out_whatever_the_box() {
        let mut coarse = row(15.5198, 58.3454, 10, "theft");
        coarse.precision_m = Some(60_000);
        let mut burglary = coarse.clone();
        burglary.id = Uuid::now_v7();
        burglary.tags = Some("burglary".into());
        let index = LayerIndex::build(
            Kind::Incident,
            &[coarse, burglary, row(15.6214, 58.4108, 10, "theft")],
        );
        let mut q = query(9, 0, 100);
        let limit = hexagon_precision_limit_m(q.resolution);
        let said = index.omitted(&q.filters, q.window, None, limit, None);
        assert_eq!(said.to_json(), serde_json::json!({ "coarse_position": 2 }));
        q.bbox = Some(Bbox::new(15.70, 58.45, 15.71, 58.46, "bbox").unwrap());
        assert_eq!(index.hexagons_omitted(&q).get(Omission::CoarsePosition), 2);
        // The filters apply to what is left out as to what is shown.
        q.filters.tags = vec!["burglary"];
        assert_eq!(index.hexagons_omitted(&q).get(Omission::CoarsePosition), 1);
    }

    #[test]
    fn an_organisation_limit_applies_to_what_is_left_out() {
        let police = Uuid::now_v7();
        let mut ours = row(15.6214, 58.4108, 10, "police");
        ours.precision_m = Some(20_000);
        ours.organisation_id = Some(police);
        let mut theirs = ours.clone().with_id(Uuid::now_v7());
        theirs.organisation_id = Some(Uuid::now_v7());
        let index = LayerIndex::build(Kind::Presence, &[ours.clone(), theirs]);
        let mut q = query(9, 0, 100);
        assert_eq!(index.hexagons_omitted(&q).get(Omission::CoarsePosition), 2);
        q.organisation = Some(police);
        assert_eq!(index.hexagons_omitted(&q).get(Omission::CoarsePosition), 1);
        let w = q.window;
        assert_eq!(index.coarse_ids(w, 10_000, Some(police)), vec![ours.id]);
        assert_eq!(index.coarse_ids(w, 10_000, None).len(), 2);
        assert!(index.coarse_ids(w, 20_001, None).is_empty());
    }

    /// Rows of every shape the index places apart: points, lasting
    /// points, open points, polygons; precise and coarse.
    fn rows_from(
        points: &[(f64, f64, i64, u32, bool)],
        polygons: &[(f64, f64, i64, u32)],
    ) -> Vec<IndexRow> {
        let mut rows: Vec<IndexRow> = points
            .iter()
            .map(|(lon, lat, t, precision, open)| {
                let mut r = row(*lon, *lat, *t, "theft");
                r.precision_m = Some(*precision);
                r.t_end = if *open { None } else { Some(t + 50) };
                r
            })
            .collect();
        rows.extend(polygons.iter().map(|(lon, lat, t, precision)| {
            let mut r = row(*lon, *lat, *t, "theft");
            r.precision_m = Some(*precision);
            r.bounds = [*lon, *lat, lon + 0.01, lat + 0.005];
            r.cells = vec![
                u64::from(cells::point_cell(*lon, *lat).unwrap()),
                u64::from(cells::point_cell(lon + 0.01, lat + 0.005).unwrap()),
            ];
            r.shape = Shape::Polygon;
            r
        }));
        rows
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// What the point layer shows and what it says it left out add up
        /// to what a plain scan of the rows selects; the hexagon layer's
        /// coarse count is the plain scan's.
        #[test]
        fn shown_and_left_out_add_up_to_a_plain_scan(
            points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000, prop::sample::select(vec![25u32, 900, 5_000, 20_000, 70_000]), any::<bool>()), 0..120),
            polygons in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000, prop::sample::select(vec![25u32, 20_000])), 0..10),
            w in (0i64..1_100, 0i64..1_100),
            res in 5u8..=11,
        ) {
            let rows = rows_from(&points, &polygons);
            let index = LayerIndex::build(Kind::Incident, &rows);
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let selected: Vec<&IndexRow> = rows
                .iter()
                .filter(|r| r.t_start.unwrap() <= end && r.t_end.unwrap_or(i64::MAX) >= start)
                .collect();
            let pq = point_query(None, start, end);
            let shown = index.points(&pq, 1_000_000).unwrap().len() as u64;
            let said = index.points_omitted(&pq);
            prop_assert_eq!(shown + said.total(), selected.len() as u64);
            let coarse_for_points = selected.iter().filter(|r| r.precision_m.unwrap() > POINT_MAX_PRECISION_M).count() as u64;
            prop_assert_eq!(said.get(Omission::CoarsePosition), coarse_for_points);
            let hq = query(res, start, end);
            let limit = hexagon_precision_limit_m(hq.resolution);
            let coarse = selected.iter().filter(|r| r.precision_m.unwrap() > limit).count() as u64;
            prop_assert_eq!(index.hexagons_omitted(&hq).get(Omission::CoarsePosition), coarse);
            let mut ids = index.coarse_ids(hq.window, limit + 1, None);
            ids.sort_unstable();
            let mut want: Vec<Uuid> = selected.iter().filter(|r| r.precision_m.unwrap() > limit).map(|r| r.id).collect();
            want.sort_unstable();
            prop_assert_eq!(ids, want);
        }
    }
}
