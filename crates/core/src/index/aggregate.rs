//! Counting features into hexagons: what every hexagon layer, tile, public
//! layer and analysis reads. Points count through their stored cell's
//! parent at the asked resolution, taken by bit arithmetic on the H3 index
//! ([`parent`]); lines and polygons through each stored cell's parent or
//! children. Counts go into a hash map keyed by the raw cell.
//!
//! Invariants (property-tested against a plain scan with h3o's own
//! `parent` and `children`): a feature counts once in every hexagon it
//! touches at the resolution and in no other; with a box, the answer is
//! exactly the hexagons whose outline touches the box, each with its whole
//! count; windows that split time split the counts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use h3o::CellIndex;

use super::points::inside;
use super::spans::Span;
use super::{E7, HexCount, LayerIndex, bbox_e7, hexagon_precision_limit_m, meets};
use crate::attrs::Presence;
use crate::query::HexQuery;
use crate::time::EpochMs;
use crate::{Error, Kind, Result, cells};

/// The resolution of a raw H3 cell index (bits 52–55).
#[inline]
pub fn resolution_of(cell: u64) -> u8 {
    ((cell >> 52) & 0xF) as u8
}

/// The parent of a raw H3 cell index at a resolution no finer than its
/// own: the resolution field set to `res` and the digits below it set to
/// 7 ("unused"), as the H3 index format lays them out (4 mode bits, 3
/// reserved, 4 resolution, 7 base cell, then 15 digits of 3 bits). Written
/// here because it is the inner loop of every hexagon layer: h3o's
/// `CellIndex::parent` checks its input first and took a third of a
/// layer's time; the property test below checks this against it.
#[inline]
pub fn parent(cell: u64, res: u8) -> u64 {
    debug_assert!(res <= resolution_of(cell));
    let unused = (1u64 << (3 * (15 - u32::from(res)))) - 1;
    (cell & !(0xF << 52) & !unused) | (u64::from(res) << 52) | unused
}

/// A multiply-and-fold hasher for raw cell indexes: the standard SipHash
/// is four times slower and resists attacks that cell counts do not face
/// (the keys are the index's own cells, not a client's input).
#[derive(Default)]
pub(super) struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x ^ (x >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 32);
    }
}

pub(super) type CellMap<V> = HashMap<u64, V, BuildHasherDefault<CellHasher>>;

/// Counts (and presence minutes) per raw cell.
#[derive(Default)]
struct Counts(CellMap<(u64, f64)>);

impl Counts {
    #[inline]
    fn add(&mut self, cell: u64, minutes: f64) {
        let slot = self.0.entry(cell).or_insert((0, 0.0));
        slot.0 += 1;
        slot.1 += minutes;
    }
}

fn too_many(n: usize, max: usize) -> Error {
    Error::too_large(
        "resolution",
        format!(
            "the layer would have more than {max} hexagons ({n} so far); choose a coarser resolution or a smaller bbox"
        ),
    )
}

/// Counts per hexagon at the query's resolution. Features whose position
/// is known less exactly than twice the hexagon edge are left out: a
/// police-feed event placed at the municipality's midpoint would otherwise
/// paint a false hot spot there. Each feature counts once in every hexagon
/// it touches; presence minutes (clipped to the window, open presence
/// counted up to `now` and at most `Presence::MAX_HOURS` after its start)
/// are shared evenly among the hexagons of a track; an open presence that
/// closed itself before the window is no visit in it.
/// More than `max_cells` hexagons is refused.
///
/// The boxes to search for the features of the hexagons that touch the
/// query's box, one per stored resolution (none without a box). A feature
/// counts in a hexagon through one of its stored cells; for that hexagon to
/// touch the box, the feature lies within the reach of the hexagon and of
/// the stored cell from it. Searching that far finds every feature of every
/// hexagon that touches the box; the exact touch test then drops the others.
fn search_boxes(q: &HexQuery) -> Option<Vec<[E7; 4]>> {
    let res = q.resolution.get();
    q.bbox.map(|b| {
        (0..=u8::from(cells::INDEX_RESOLUTION))
            .map(|stored| {
                let stored = h3o::Resolution::try_from(stored).unwrap_or(cells::INDEX_RESOLUTION);
                bbox_e7(&b.expanded_m(cells::reach_m(res) + cells::reach_m(stored)))
            })
            .collect()
    })
}

/// Where a span's counted time ends: its end, but a presence log left
/// open closed itself after the longest a presence lasts, and is no visit
/// in a window starting after that (`None`).
fn counted_end(presence: bool, s: &Span, window_start: EpochMs, now: EpochMs) -> Option<EpochMs> {
    if !(presence && s.t_end == i64::MAX) {
        return Some(s.t_end);
    }
    let end = Presence::counted_end_ms(s.t_start, None, now);
    (end >= window_start).then_some(end)
}

/// With a box (a `bbox`, a tile), the answer is exactly the hexagons whose
/// outline touches the box ([`cells::touches`]), each with its whole count
/// — the count it has without a box, features outside the box included —
/// so a hexagon cut by a tile edge shows the same number in both tiles, and
/// a track through the box adds nothing to hexagons far from it.
pub(super) fn hexagons(
    index: &LayerIndex,
    q: &HexQuery,
    now: EpochMs,
    max_cells: usize,
) -> Result<Vec<HexCount>> {
    let res = q.resolution.get();
    let r = u8::from(res);
    let search = search_boxes(q);
    let filter = index.filter(
        &q.filters,
        q.window,
        None,
        hexagon_precision_limit_m(q.resolution),
        q.organisation,
        None,
    );
    let presence = index.kind == Kind::Presence;
    let limit = max_cells.saturating_mul(4);
    let mut counts = Counts::default();

    // Points: one stored cell each, at the index resolution.
    let points_box = search.as_ref().and_then(|boxes| boxes.last().copied());
    let (ws, we) = (q.window.start, q.window.end);
    index.points.each_bucket(points_box, |b| {
        let range = b.window(ws, we);
        let lasting = b.has_durations();
        for i in range {
            if lasting && b.end(i) < ws {
                continue;
            }
            if !filter.attrs(b.attrs(i)) {
                continue;
            }
            if let Some(pb) = &points_box
                && !inside(b.lon(i), b.lat(i), pb)
            {
                continue;
            }
            let minutes = if presence {
                q.window.overlap_ms(b.t(i), b.end(i)) as f64 / 60_000.0
            } else {
                0.0
            };
            counts.add(parent(b.cell(i), r), minutes);
        }
        if counts.0.len() > limit {
            return Err(too_many(counts.0.len(), max_cells));
        }
        Ok(())
    })?;

    // Lines, polygons and the points no bucket takes.
    let within_reach = |bounds: &[E7; 4], coarsest: u8| {
        search
            .as_ref()
            .is_none_or(|boxes| meets(bounds, &boxes[usize::from(coarsest).min(boxes.len() - 1)]))
    };
    let mut scratch: Vec<CellIndex> = Vec::new();
    for s in index.spans.candidates(q.window) {
        if s.t_end < ws || !filter.attrs(s.attrs) {
            continue;
        }
        let Some(end) = counted_end(presence, s, ws, now) else {
            continue;
        };
        let stored = index.spans.cells_of(s);
        let coarsest = stored.iter().map(|c| resolution_of(*c)).min().unwrap_or(0);
        if !within_reach(&s.bounds, coarsest) {
            continue;
        }
        scratch.clear();
        for c in stored {
            cells::at_resolution(*c, res, &mut scratch);
        }
        scratch.sort_unstable();
        scratch.dedup();
        let minutes = if presence && !scratch.is_empty() {
            q.window.overlap_ms(s.t_start, end) as f64 / 60_000.0 / scratch.len() as f64
        } else {
            0.0
        };
        for cell in &scratch {
            counts.add(u64::from(*cell), minutes);
        }
        if counts.0.len() > limit {
            return Err(too_many(counts.0.len(), max_cells));
        }
    }

    let mut out: Vec<HexCount> = counts
        .0
        .into_iter()
        .filter_map(|(cell, (count, minutes))| {
            let cell = CellIndex::try_from(cell).ok()?;
            q.bbox
                .is_none_or(|b| cells::touches(cell, &b))
                .then_some(HexCount {
                    cell,
                    count,
                    minutes,
                })
        })
        .collect();
    if out.len() > max_cells {
        return Err(too_many(out.len(), max_cells));
    }
    out.sort_unstable_by_key(|h| h.cell);
    Ok(out)
}

/// Weighted counts per hexagon over several windows in one pass, for the
/// analyses: 36 monthly runs of ten categories each were 360 layer
/// queries. `windows` must be sorted and disjoint (consecutive periods);
/// a feature counts in every window it overlaps, once per hexagon it
/// touches, weighted by the sum of `tag_weight` over its tags, and is left
/// out when that is 0. Precision, filters and the organisation limit work
/// as in [`hexagons`]. Returns one list of (hexagon, value) per window, in
/// no particular order.
pub(super) fn series(
    index: &LayerIndex,
    q: &SeriesQuery<'_>,
    tag_weight: &dyn Fn(&str) -> f64,
) -> Result<Vec<Vec<(CellIndex, f64)>>> {
    let windows = q.windows;
    if windows
        .windows(2)
        .any(|w| w[0].start > w[0].end || w[0].end >= w[1].start)
    {
        return Err(Error::invalid(
            "windows",
            "must be sorted and must not overlap",
        ));
    }
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(Vec::new());
    };
    let whole = crate::time::TimeWindow {
        start: first.start,
        end: last.end,
    };
    let res = q.resolution.get();
    let r = u8::from(res);
    let filter = index.filter(
        q.filters,
        whole,
        None,
        hexagon_precision_limit_m(q.resolution),
        q.organisation,
        None,
    );
    let names = super::tag_names(index.kind);
    let weights: Vec<f64> = names.iter().map(|n| tag_weight(n)).collect();
    let weight_of = |tags: u16| -> f64 {
        let mut w = 0.0;
        let mut bits = tags;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            w += weights.get(i).copied().unwrap_or(0.0);
            bits &= bits - 1;
        }
        w
    };
    let ends: Vec<EpochMs> = windows.iter().map(|w| w.end).collect();
    let mut out: Vec<CellMap<f64>> = (0..windows.len()).map(|_| CellMap::default()).collect();
    let mut add = |start: EpochMs, end: EpochMs, cell: u64, w: f64| {
        let mut k = ends.partition_point(|&e| e < start);
        while k < windows.len() && windows[k].start <= end {
            *out[k].entry(cell).or_insert(0.0) += w;
            k += 1;
        }
    };
    index.points.each_bucket(None, |b| {
        for i in b.window(whole.start, whole.end) {
            let a = b.attrs(i);
            if !filter.attrs(a) {
                continue;
            }
            let w = weight_of(a.tags);
            if w == 0.0 {
                continue;
            }
            add(b.t(i), b.end(i), parent(b.cell(i), r), w);
        }
        Ok::<(), Error>(())
    })?;
    let mut scratch: Vec<CellIndex> = Vec::new();
    for s in index.spans.candidates(whole) {
        if s.t_end < whole.start || !filter.attrs(s.attrs) {
            continue;
        }
        let w = weight_of(s.attrs.tags);
        if w == 0.0 {
            continue;
        }
        scratch.clear();
        for c in index.spans.cells_of(s) {
            cells::at_resolution(*c, res, &mut scratch);
        }
        scratch.sort_unstable();
        scratch.dedup();
        for c in &scratch {
            add(s.t_start, s.t_end, u64::from(*c), w);
        }
    }
    Ok(out
        .into_iter()
        .map(|m| {
            m.into_iter()
                .filter_map(|(c, v)| Some((CellIndex::try_from(c).ok()?, v)))
                .collect()
        })
        .collect())
}

/// What [`series`] counts: hexagons of one resolution over consecutive
/// windows, with the usual filters.
#[derive(Debug, Clone, Copy)]
pub struct SeriesQuery<'a> {
    pub resolution: crate::cells::LayerResolution,
    pub windows: &'a [crate::time::TimeWindow],
    pub filters: &'a crate::query::Filters,
    pub organisation: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::Shape;
    use crate::bbox::Bbox;
    use crate::index::IndexRow;
    use crate::index::test_rows::{query, row, rows_of, track};

    fn total(h: &[HexCount]) -> u64 {
        h.iter().map(|c| c.count).sum()
    }

    /// Counts the slow, obvious way: h3o's parent and children of every
    /// stored cell of every row that passes, deduplicated per row.
    fn plain_counts(
        rows: &[IndexRow],
        res: u8,
        start: i64,
        end: i64,
        max_precision: u32,
    ) -> BTreeMap<CellIndex, u64> {
        let res = h3o::Resolution::try_from(res).unwrap();
        let mut out = BTreeMap::new();
        for r in rows {
            let (s, e) = (r.t_start.unwrap_or(i64::MIN), r.t_end.unwrap_or(i64::MAX));
            if s > end || e < start || r.precision_m.unwrap_or(0) > max_precision {
                continue;
            }
            let mut cells: Vec<CellIndex> = Vec::new();
            for c in &r.cells {
                let c = CellIndex::try_from(*c).unwrap();
                match c.resolution().cmp(&res) {
                    std::cmp::Ordering::Less => cells.extend(c.children(res)),
                    _ => cells.push(c.parent(res).unwrap()),
                }
            }
            cells.sort_unstable();
            cells.dedup();
            for c in cells {
                *out.entry(c).or_insert(0) += 1;
            }
        }
        out
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// The bit arithmetic gives h3o's parent at every resolution.
        #[test]
        fn parent_is_h3os_parent(lon in -180.0f64..180.0, lat in -85.0f64..85.0, fine in 0u8..=15, coarse in 0u8..=15) {
            let (fine, coarse) = (fine.max(coarse), fine.min(coarse));
            let cell = h3o::LatLng::new(lat, lon).unwrap().to_cell(h3o::Resolution::try_from(fine).unwrap());
            let want = cell.parent(h3o::Resolution::try_from(coarse).unwrap()).unwrap();
            prop_assert_eq!(parent(u64::from(cell), coarse), u64::from(want));
            prop_assert_eq!(resolution_of(u64::from(cell)), fine);
        }

        /// Points, lasting points and tracks count exactly as a plain scan
        /// with h3o's parents and children counts them, at every
        /// resolution and window, coarse positions left out.
        #[test]
        fn counts_match_a_plain_scan(
            points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000, 0i64..300, 1u32..30_000), 0..150),
            tracks in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, -0.02f64..0.02, 0i64..1_000), 0..10),
            res in 5u8..=11,
            w in (0i64..1_400, 0i64..1_400),
        ) {
            let mut rows: Vec<IndexRow> = points.iter().map(|(lon, lat, t, d, p)| {
                let mut r = row(*lon, *lat, *t, "police");
                r.t_end = Some(t + d);
                r.precision_m = Some(*p);
                r
            }).collect();
            rows.extend(tracks.iter().map(|(lon, lat, d, t)| track(*lon, *lat, *d, *t)));
            let index = LayerIndex::build(Kind::Presence, &rows);
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let q = query(res, start, end);
            let got: BTreeMap<CellIndex, u64> = index.hexagons(&q, 0, 1_000_000).unwrap().into_iter().map(|h| (h.cell, h.count)).collect();
            let max_precision = hexagon_precision_limit_m(q.resolution);
            prop_assert_eq!(got, plain_counts(&rows, res, start, end, max_precision));
        }

        /// Every point counts once at every resolution, and the children
        /// of a hexagon add up to it.
        #[test]
        fn children_sum_to_their_parent(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), res in 6u8..=11) {
            let index = LayerIndex::build(Kind::Incident, &rows_of(&points));
            let fine = index.hexagons(&query(res, 0, 1_000), 0, 100_000).unwrap();
            let coarse = index.hexagons(&query(res - 1, 0, 1_000), 0, 100_000).unwrap();
            prop_assert_eq!(total(&fine), points.len() as u64);
            prop_assert_eq!(total(&coarse), points.len() as u64);
            let parent_res = coarse[0].cell.resolution();
            for parent in &coarse {
                let children: u64 = fine.iter().filter(|c| c.cell.parent(parent_res) == Some(parent.cell)).map(|c| c.count).sum();
                prop_assert_eq!(children, parent.count);
            }
        }

        /// With a box, the answer is exactly the hexagons of the whole
        /// layer whose outline touches the box, each with the count and
        /// minutes it has without a box: points and tracks, at every
        /// resolution, whatever the box.
        #[test]
        fn a_box_gives_exactly_the_touching_hexagons_with_whole_counts(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 0..120), tracks in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, -0.02f64..0.02, -0.01f64..0.01, 0i64..1_000), 0..12), b in (15.50f64..15.75, 58.34f64..58.48, 0.0f64..0.1, 0.0f64..0.05), res in 5u8..=11) {
            let mut rows: Vec<IndexRow> = points.iter().map(|(lon, lat, t)| {
                let mut r = row(*lon, *lat, *t, "police");
                r.t_end = Some(t + 600_000);
                r
            }).collect();
            for (lon, lat, dlon, dlat, t) in &tracks {
                let line = geo_types::LineString::from(vec![(*lon, *lat), (lon + dlon, lat + dlat), (lon + dlon, *lat)]);
                let g = geo_types::Geometry::LineString(line);
                let (w, s, e, n) = crate::geometry::bounds(&g);
                let mut r = row(*lon, *lat, *t, "police");
                r.t_end = Some(t + 1_800_000);
                r.bounds = [w, s, e, n];
                r.cells = cells::coverage(&g).unwrap();
                r.shape = Shape::Line;
                rows.push(r);
            }
            let index = LayerIndex::build(Kind::Presence, &rows);
            let bbox = Bbox::new(b.0, b.1, b.0 + b.2, b.1 + b.3, "bbox").unwrap();
            let whole = index.hexagons(&query(res, 0, 10_000_000), 0, 1_000_000).unwrap();
            let mut q = query(res, 0, 10_000_000);
            q.bbox = Some(bbox);
            let boxed = index.hexagons(&q, 0, 1_000_000).unwrap();
            let want: Vec<HexCount> = whole.into_iter().filter(|h| cells::touches(h.cell, &bbox)).collect();
            prop_assert_eq!(boxed.len(), want.len(), "hexagons touching the box");
            for (got, want) in boxed.iter().zip(&want) {
                prop_assert_eq!(got.cell, want.cell);
                prop_assert_eq!(got.count, want.count, "count of {}", got.cell);
                prop_assert!((got.minutes - want.minutes).abs() < 1e-9, "minutes of {}", got.cell);
            }
        }

        /// A series over consecutive windows gives, window by window, what
        /// one hexagon layer per window and tag (weighted) gives.
        #[test]
        fn a_series_matches_one_layer_per_window_and_tag(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000, 0usize..3), 0..200), tracks in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, -0.02f64..0.02, 0i64..1_000), 0..6), cuts in prop::collection::btree_set(1i64..999, 0..6), res in 7u8..=10) {
            let tags = ["theft", "robbery", "assault"];
            let mut rows: Vec<IndexRow> = points.iter().map(|(lon, lat, t, tag)| row(*lon, *lat, *t, tags[*tag])).collect();
            rows.extend(tracks.iter().map(|(lon, lat, d, t)| {
                let mut r = track(*lon, *lat, *d, *t);
                r.tags = Some(",robbery,".into());
                r.t_end = Some(t + 100);
                r
            }));
            let index = LayerIndex::build(Kind::Incident, &rows);
            let mut bounds: Vec<i64> = vec![0];
            bounds.extend(cuts.iter().copied());
            bounds.push(1_200);
            let windows: Vec<crate::time::TimeWindow> = bounds.windows(2).map(|b| crate::time::TimeWindow::new(b[0], b[1] - 1, "datetime").unwrap()).collect();
            let weight = |t: &str| match t { "theft" => 1.0, "robbery" => 3.0, _ => 0.0 };
            let filters = crate::query::Filters::default();
            let q = SeriesQuery { resolution: crate::cells::LayerResolution::new(res, "resolution").unwrap(), windows: &windows, filters: &filters, organisation: None };
            let got = index.series(&q, &weight).unwrap();
            prop_assert_eq!(got.len(), windows.len());
            for (w, values) in windows.iter().zip(got) {
                let mut want: BTreeMap<CellIndex, f64> = BTreeMap::new();
                for tag in tags {
                    let mut hq = query(res, w.start, w.end);
                    hq.filters.tags = vec![tag];
                    if weight(tag) == 0.0 {
                        continue;
                    }
                    for h in index.hexagons(&hq, 0, 1_000_000).unwrap() {
                        *want.entry(h.cell).or_insert(0.0) += h.count as f64 * weight(tag);
                    }
                }
                let got: BTreeMap<CellIndex, f64> = values.into_iter().collect();
                prop_assert_eq!(got, want);
            }
        }

        /// Windows that split time split the counts. The cut leaves both
        /// halves non-empty: `cut + 1 ..= 999` needs `cut < 999`.
        #[test]
        fn time_windows_partition_the_counts(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), cut in 0i64..999) {
            let index = LayerIndex::build(Kind::Incident, &rows_of(&points));
            let all = total(&index.hexagons(&query(9, 0, 999), 0, 100_000).unwrap());
            let before = total(&index.hexagons(&query(9, 0, cut), 0, 100_000).unwrap());
            let after = total(&index.hexagons(&query(9, cut + 1, 999), 0, 100_000).unwrap());
            prop_assert_eq!(before + after, all);
        }
    }
}
