//! List pages and counts from the index: which ids a page of a list (or of
//! an OGC collection) holds, in id order after a cursor, and how many
//! features a list matches. The caller reads the page's features from the
//! store and checks lines and polygons against the box exactly.
//!
//! Invariant (property-tested against a plain scan): paging through a list
//! from no cursor until no more follow gives every matching id once, in id
//! order; a feature matches when its extent overlaps the window, its
//! bounds meet the box and it passes the filters.

use uuid::Uuid;

use super::points::inside;
use super::{Filter, LayerIndex, meets};
use crate::Shape;
use crate::query::ListQuery;

/// A feature as a list sees it.
struct Candidate {
    id: Uuid,
    point: bool,
}

/// Every feature that passes the query's window, box and filters.
fn each_match(index: &LayerIndex, filter: &Filter, mut each: impl FnMut(Candidate)) {
    let w = filter.window;
    if filter.shape.is_none_or(|s| s == Shape::Point) {
        let _ = index.points.each_in_window(filter.bbox, w, |b, i| {
            let (lon, lat) = (b.lon(i), b.lat(i));
            if filter.attrs(b.attrs(i)) && filter.bbox.is_none_or(|bx| inside(lon, lat, &bx)) {
                each(Candidate {
                    id: b.id(i),
                    point: true,
                });
            }
            Ok::<(), ()>(())
        });
    }
    for s in index.spans.candidates(w) {
        if s.t_end >= w.start
            && filter.attrs(s.attrs)
            && filter.shape.is_none_or(|shape| shape == s.shape)
            && filter.bbox.is_none_or(|bx| meets(&s.bounds, &bx))
        {
            each(Candidate {
                id: s.id,
                point: s.bounds[0] == s.bounds[2] && s.bounds[1] == s.bounds[3],
            });
        }
    }
}

fn list_filter(index: &LayerIndex, q: &ListQuery) -> Filter {
    index.filter(
        &q.filters,
        q.window,
        q.bbox.as_ref(),
        u32::MAX,
        q.organisation,
        q.shape,
    )
}

/// The ids of one page of a list: every feature of the window whose
/// bounds meet the box and that passes the filters, in id order after the
/// cursor, at most `limit` of them, and whether more follow.
pub(super) fn page_ids(index: &LayerIndex, q: &ListQuery) -> (Vec<Uuid>, bool) {
    let filter = list_filter(index, q);
    let limit = q.limit as usize;
    let mut ids = Vec::new();
    each_match(index, &filter, |c| {
        if q.after.is_none_or(|a| c.id > a) {
            ids.push(c.id);
            // Keep the smallest limit + 1 without holding every match:
            // a whole-history page of a million features otherwise holds
            // a million ids.
            if ids.len() >= 4 * (limit + 1) + 1024 {
                ids.select_nth_unstable(limit);
                ids.truncate(limit + 1);
            }
        }
    });
    if ids.len() > limit {
        ids.select_nth_unstable(limit);
        ids.truncate(limit + 1);
    }
    ids.sort_unstable();
    let more = ids.len() > limit;
    ids.truncate(limit);
    (ids, more)
}

/// How many features a list query matches (its cursor and limit aside):
/// the number whose position is exact against the box (points, and
/// everything when there is no box), and the ids of lines and polygons
/// whose bounds meet the box, which the caller checks against their
/// geometry as a page does.
pub(super) fn count(index: &LayerIndex, q: &ListQuery) -> (usize, Vec<Uuid>) {
    let filter = list_filter(index, q);
    let mut exact = 0;
    let mut to_check = Vec::new();
    each_match(index, &filter, |c| {
        if q.bbox.is_none() || c.point {
            exact += 1;
        } else {
            to_check.push(c.id);
        }
    });
    (exact, to_check)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Kind;
    use crate::bbox::Bbox;
    use crate::index::test_rows::{list_query, row, track};
    use crate::index::{IndexRow, to_e7};

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// Paging through a list with a box, a window and a tag filter
        /// gives exactly the matches of a plain scan, once each, in id
        /// order; the count agrees.
        #[test]
        fn pages_match_a_plain_scan(
            points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000, 0usize..2), 0..150),
            tracks in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, -0.02f64..0.02, 0i64..1_000), 0..10),
            b in prop::option::of((15.50f64..15.75, 58.34f64..58.48, 0.0f64..0.1, 0.0f64..0.05)),
            w in (0i64..1_000, 0i64..1_000),
            limit in 1u32..40,
            only_theft in any::<bool>(),
        ) {
            let mut rows: Vec<IndexRow> = points.iter().map(|(lon, lat, t, tag)| row(*lon, *lat, *t, ["theft", "robbery"][*tag])).collect();
            rows.extend(tracks.iter().map(|(lon, lat, d, t)| {
                let mut r = track(*lon, *lat, *d, *t);
                r.tags = Some(",theft,".into());
                r
            }));
            let index = LayerIndex::build(Kind::Incident, &rows);
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let mut q = list_query(start, end, limit);
            q.bbox = b.map(|b| Bbox::new(b.0, b.1, b.0 + b.2, b.1 + b.3, "bbox").unwrap());
            if only_theft {
                q.filters.tags = vec!["theft"];
            }
            let bx = q.bbox.map(|b| [to_e7(b.min_lon), to_e7(b.min_lat), to_e7(b.max_lon), to_e7(b.max_lat)]);
            let mut want: Vec<Uuid> = rows.iter().filter(|r| {
                let bounds = r.bounds.map(to_e7);
                r.t_start.unwrap() <= end && r.t_end.unwrap() >= start
                    && bx.is_none_or(|bx| meets(&bounds, &bx))
                    && (!only_theft || r.tags.as_deref() == Some(",theft,"))
            }).map(|r| r.id).collect();
            want.sort_unstable();
            let mut seen = Vec::new();
            loop {
                let (ids, more) = index.page_ids(&q);
                prop_assert!(ids.len() <= limit as usize);
                seen.extend(ids.iter().copied());
                if !more {
                    break;
                }
                q.after = ids.last().copied();
            }
            prop_assert_eq!(&seen, &want);
            q.after = None;
            let (exact, to_check) = index.count(&q);
            prop_assert_eq!(exact + to_check.len(), want.len());
        }
    }
}
