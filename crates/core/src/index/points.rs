//! Point buckets: the point features of a kind by square of about 1 km
//! (0.01° of longitude by 0.01° of latitude), each square's points one
//! time-sorted run of columns. A 2 × 2 km box over three months reads a
//! dozen squares and binary-searches each; a whole-city hexagon layer reads
//! the time, cell and attribute columns of every square and nothing else.
//!
//! Invariants (checked by [`PointBuckets::check`] in the property tests):
//! - every point sits in the bucket of its position ([`key_of`]);
//! - in a bucket, every column has the same length, and `dur` is `None`
//!   only while every duration in the bucket is 0;
//! - a bucket is sorted by (time, id);
//! - `max_dur` is at least every duration in its bucket (it never
//!   shrinks, which stays correct: a window then looks a little further
//!   back than it must);
//! - durations are closed and shorter than [`MAX_DURATION_MS`]: open and
//!   longer extents live in the span list;
//! - `len` is the number of points in all buckets.

use std::collections::HashMap;
use std::ops::Range;

use uuid::Uuid;

use super::{
    Attrs, E7, LayerIndex, POINT_MAX_PRECISION_M, PointHit, from_e7, names_of, status_names,
    tag_names,
};
use crate::query::PointQuery;
use crate::time::{EpochMs, TimeWindow};
use crate::{Error, Result, Shape};

/// Buckets of about 1 km: a 2 × 2 km query reads a dozen of them, and a
/// city has a few hundred.
pub(super) const BUCKET_E7: E7 = 100_000;

pub(super) type BucketKey = (i32, i32);

pub(super) fn key_of(lon: E7, lat: E7) -> BucketKey {
    (lon.div_euclid(BUCKET_E7), lat.div_euclid(BUCKET_E7))
}

/// The longest extent a bucket keeps, in milliseconds (about 49 days):
/// a presence log lasts hours, an incident usually an instant.
pub(super) const MAX_DURATION_MS: u32 = u32::MAX - 1;

/// A closed extent as a bucket stores it, if it fits.
pub(super) fn duration(start: EpochMs, end: EpochMs) -> Option<u32> {
    let d = end.checked_sub(start)?;
    (0..=i64::from(MAX_DURATION_MS))
        .contains(&d)
        .then_some(d as u32)
}

/// One point feature, as it goes into and out of a bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub id: Uuid,
    pub t: EpochMs,
    pub dur: u32,
    pub lon: E7,
    pub lat: E7,
    /// At the index resolution.
    pub cell: u64,
    pub attrs: Attrs,
}

/// The points of one square, as columns sorted by (time, id).
#[derive(Debug, Clone, Default)]
pub(super) struct Bucket {
    key: BucketKey,
    t: Vec<EpochMs>,
    cell: Vec<u64>,
    attrs: Vec<Attrs>,
    pos: Vec<[E7; 2]>,
    id: Vec<Uuid>,
    /// `None` while every duration is 0 (incidents, reports).
    dur: Option<Vec<u32>>,
    max_dur: u32,
}

/// Grows a column by an eighth at a time: a bucket built row by row never
/// holds more than 1/8 of spare room, where doubling would hold up to a
/// half (and the peak is what a server's memory limit sees).
fn grow<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(8));
    }
}

impl Bucket {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    #[inline]
    pub fn t(&self, i: usize) -> EpochMs {
        self.t[i]
    }

    #[inline]
    pub fn dur(&self, i: usize) -> u32 {
        self.dur.as_ref().map_or(0, |d| d[i])
    }

    #[inline]
    pub fn end(&self, i: usize) -> EpochMs {
        self.t[i] + i64::from(self.dur(i))
    }

    #[inline]
    pub fn cell(&self, i: usize) -> u64 {
        self.cell[i]
    }

    /// The point's cell as a one-cell slice.
    pub fn cells(&self, i: usize) -> &[u64] {
        &self.cell[i..=i]
    }

    #[inline]
    pub fn attrs(&self, i: usize) -> Attrs {
        self.attrs[i]
    }

    #[inline]
    pub fn lon(&self, i: usize) -> E7 {
        self.pos[i][0]
    }

    #[inline]
    pub fn lat(&self, i: usize) -> E7 {
        self.pos[i][1]
    }

    #[inline]
    pub fn id(&self, i: usize) -> Uuid {
        self.id[i]
    }

    pub fn has_durations(&self) -> bool {
        self.dur.is_some()
    }

    pub fn point(&self, i: usize) -> Point {
        Point {
            id: self.id[i],
            t: self.t[i],
            dur: self.dur(i),
            lon: self.pos[i][0],
            lat: self.pos[i][1],
            cell: self.cell[i],
            attrs: self.attrs[i],
        }
    }

    /// The positions whose extent can overlap `[start, end]`: those that
    /// start by `end` and no earlier than `max_dur` before `start`. The
    /// caller still checks each end against `start` ([`Bucket::end`]).
    pub fn window(&self, start: EpochMs, end: EpochMs) -> Range<usize> {
        let earliest = start.saturating_sub(i64::from(self.max_dur));
        let lo = self.t.partition_point(|&t| t < earliest);
        let hi = self.t.partition_point(|&t| t <= end);
        lo..hi.max(lo)
    }

    fn reserve_one(&mut self) {
        grow(&mut self.t);
        grow(&mut self.cell);
        grow(&mut self.attrs);
        grow(&mut self.pos);
        grow(&mut self.id);
        if let Some(d) = &mut self.dur {
            grow(d);
        }
    }

    fn note_duration(&mut self, dur: u32) {
        if dur != 0 && self.dur.is_none() {
            let mut d = Vec::with_capacity(self.t.capacity());
            d.resize(self.t.len(), 0);
            self.dur = Some(d);
        }
        self.max_dur = self.max_dur.max(dur);
    }

    fn push(&mut self, p: Point) {
        self.note_duration(p.dur);
        self.reserve_one();
        self.t.push(p.t);
        self.cell.push(p.cell);
        self.attrs.push(p.attrs);
        self.pos.push([p.lon, p.lat]);
        self.id.push(p.id);
        if let Some(d) = &mut self.dur {
            d.push(p.dur);
        }
    }

    fn insert(&mut self, p: Point) {
        self.note_duration(p.dur);
        self.reserve_one();
        let at = self.lower_by_id(p.t, p.id);
        self.t.insert(at, p.t);
        self.cell.insert(at, p.cell);
        self.attrs.insert(at, p.attrs);
        self.pos.insert(at, [p.lon, p.lat]);
        self.id.insert(at, p.id);
        if let Some(d) = &mut self.dur {
            d.insert(at, p.dur);
        }
    }

    /// The first position at time `t` whose id is not below `id`.
    fn lower_by_id(&self, t: EpochMs, id: Uuid) -> usize {
        let lo = self.t.partition_point(|&x| x < t);
        let hi = self.t.partition_point(|&x| x <= t);
        lo + self.id[lo..hi].partition_point(|&x| x < id)
    }

    /// Where a point with this id sits: a scan of the id column, which a
    /// write can afford (a bucket holds thousands, not millions).
    pub fn position(&self, id: Uuid) -> Option<usize> {
        self.id.iter().position(|x| *x == id)
    }

    fn remove_at(&mut self, i: usize) -> Point {
        let p = self.point(i);
        self.t.remove(i);
        self.cell.remove(i);
        self.attrs.remove(i);
        self.pos.remove(i);
        self.id.remove(i);
        if let Some(d) = &mut self.dur {
            d.remove(i);
        }
        p
    }

    /// Sorts the columns by (time, id), once, after a bulk build.
    fn sort(&mut self) {
        fn apply<T: Copy>(v: &mut Vec<T>, order: &[u32]) {
            if v.is_empty() {
                return;
            }
            let sorted: Vec<T> = order.iter().map(|&i| v[i as usize]).collect();
            *v = sorted;
        }
        let sorted =
            (1..self.len()).all(|i| (self.t[i - 1], self.id[i - 1]) <= (self.t[i], self.id[i]));
        if sorted {
            return;
        }
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_unstable_by_key(|&i| (self.t[i as usize], self.id[i as usize]));
        apply(&mut self.t, &order);
        apply(&mut self.cell, &order);
        apply(&mut self.attrs, &order);
        apply(&mut self.pos, &order);
        apply(&mut self.id, &order);
        if let Some(d) = &mut self.dur {
            apply(d, &order);
        }
    }

    fn shrink(&mut self) {
        self.t.shrink_to_fit();
        self.cell.shrink_to_fit();
        self.attrs.shrink_to_fit();
        self.pos.shrink_to_fit();
        self.id.shrink_to_fit();
        if let Some(d) = &mut self.dur {
            d.shrink_to_fit();
        }
    }

    fn heap_bytes(&self) -> usize {
        self.t.capacity() * 8
            + self.cell.capacity() * 8
            + self.attrs.capacity() * size_of::<Attrs>()
            + self.pos.capacity() * 8
            + self.id.capacity() * 16
            + self.dur.as_ref().map_or(0, Vec::capacity) * 4
    }
}

/// Every point bucket of a kind.
#[derive(Debug, Clone, Default)]
pub(super) struct PointBuckets {
    buckets: Vec<Bucket>,
    by_key: HashMap<BucketKey, u32>,
    len: usize,
}

impl PointBuckets {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn heap_bytes(&self) -> usize {
        self.buckets.iter().map(Bucket::heap_bytes).sum::<usize>()
            + self.buckets.capacity() * size_of::<Bucket>()
            + self.by_key.capacity() * 16
    }

    fn bucket_for(&mut self, p: &Point) -> u32 {
        let key = key_of(p.lon, p.lat);
        *self.by_key.entry(key).or_insert_with(|| {
            self.buckets.push(Bucket {
                key,
                ..Bucket::default()
            });
            (self.buckets.len() - 1) as u32
        })
    }

    /// Adds a point during a bulk build (unsorted until [`Self::finish`]);
    /// returns its bucket.
    pub fn push(&mut self, p: Point) -> u32 {
        let b = self.bucket_for(&p);
        self.buckets[b as usize].push(p);
        self.len += 1;
        b
    }

    /// Adds a point in its sorted place; returns its bucket.
    pub fn insert(&mut self, p: Point) -> u32 {
        let b = self.bucket_for(&p);
        self.buckets[b as usize].insert(p);
        self.len += 1;
        b
    }

    pub fn contains(&self, bucket: u32, id: Uuid) -> bool {
        self.buckets
            .get(bucket as usize)
            .is_some_and(|b| b.position(id).is_some())
    }

    /// Removes the point with this id from a bucket, if it is there.
    pub fn remove(&mut self, bucket: u32, id: Uuid) -> Option<Point> {
        let b = self.buckets.get_mut(bucket as usize)?;
        let i = b.position(id)?;
        self.len -= 1;
        Some(b.remove_at(i))
    }

    pub fn finish(&mut self) {
        for b in &mut self.buckets {
            b.sort();
            b.shrink();
        }
        self.buckets.shrink_to_fit();
        self.by_key.shrink_to_fit();
    }

    /// The buckets a box (west, south, east, north) can hold points of,
    /// or all of them.
    pub fn each_bucket<E>(
        &self,
        bbox: Option<[E7; 4]>,
        mut each: impl FnMut(&Bucket) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let Some(b) = bbox else {
            return self.buckets.iter().try_for_each(each);
        };
        let (lo, hi) = (key_of(b[0], b[1]), key_of(b[2], b[3]));
        let squares =
            (i64::from(hi.0) - i64::from(lo.0) + 1) * (i64::from(hi.1) - i64::from(lo.1) + 1);
        if squares < self.buckets.len() as i64 {
            // A small box: look its squares up rather than walk them all.
            for x in lo.0..=hi.0 {
                for y in lo.1..=hi.1 {
                    if let Some(&i) = self.by_key.get(&(x, y)) {
                        each(&self.buckets[i as usize])?;
                    }
                }
            }
            Ok(())
        } else {
            self.buckets
                .iter()
                .filter(|bucket| {
                    (lo.0..=hi.0).contains(&bucket.key.0) && (lo.1..=hi.1).contains(&bucket.key.1)
                })
                .try_for_each(each)
        }
    }

    /// Every point of the buckets a box touches whose extent overlaps the
    /// window (the box itself is not checked against each position).
    pub fn each_in_window<E>(
        &self,
        bbox: Option<[E7; 4]>,
        window: TimeWindow,
        mut each: impl FnMut(&Bucket, usize) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.each_bucket(bbox, |b| {
            for i in b.window(window.start, window.end) {
                if b.end(i) >= window.start {
                    each(b, i)?;
                }
            }
            Ok(())
        })
    }

    /// Panics when an invariant of the module docs does not hold.
    #[cfg(test)]
    pub fn check(&self) {
        let mut total = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            assert_eq!(self.by_key[&b.key], i as u32);
            let n = b.len();
            assert!(
                [b.cell.len(), b.attrs.len(), b.pos.len(), b.id.len()]
                    .iter()
                    .all(|&l| l == n)
            );
            assert!(b.dur.as_ref().is_none_or(|d| d.len() == n));
            for j in 0..n {
                assert_eq!(key_of(b.lon(j), b.lat(j)), b.key, "point in its square");
                assert!(b.dur(j) <= b.max_dur && b.dur(j) <= MAX_DURATION_MS);
                if j > 0 {
                    assert!((b.t[j - 1], b.id[j - 1]) <= (b.t[j], b.id[j]), "sorted");
                }
            }
            total += n;
        }
        assert_eq!(total, self.len);
    }
}

/// Whether a position lies in a box (edges included).
#[inline]
pub(super) fn inside(lon: E7, lat: E7, b: &[E7; 4]) -> bool {
    lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}

fn too_many_points(max_points: usize) -> Error {
    Error::too_large(
        "bbox",
        format!(
            "more than {max_points} points match; choose a smaller bbox or a shorter datetime window, or use the hexagon layer"
        ),
    )
}

/// The point features in a box and window, oldest first, for maps at
/// street level. Lines and polygons are not points and are left out, as
/// are positions known less exactly than [`POINT_MAX_PRECISION_M`]. More
/// than `max_points` is refused rather than cut, so a map never shows a
/// silently partial picture.
pub(super) fn query(
    index: &LayerIndex,
    q: &PointQuery,
    max_points: usize,
) -> Result<Vec<PointHit>> {
    let filter = index.filter(
        &q.filters,
        q.window,
        q.bbox.as_ref(),
        POINT_MAX_PRECISION_M,
        q.organisation,
        None,
    );
    // (start, id, end or MAX, position, attributes)
    let mut hits: Vec<(EpochMs, Uuid, EpochMs, [E7; 2], Attrs)> = Vec::new();
    let mut keep = |hit| {
        hits.push(hit);
        if hits.len() > max_points {
            return Err(too_many_points(max_points));
        }
        Ok(())
    };
    index.points.each_in_window(filter.bbox, q.window, |b, i| {
        let (lon, lat) = (b.lon(i), b.lat(i));
        if filter.attrs(b.attrs(i)) && filter.bbox.is_none_or(|bx| inside(lon, lat, &bx)) {
            keep((b.t(i), b.id(i), b.end(i), [lon, lat], b.attrs(i)))?;
        }
        Ok::<(), Error>(())
    })?;
    for s in index.spans.candidates(q.window) {
        let [lon, lat, ..] = s.bounds;
        if s.shape == Shape::Point
            && s.bounds[0] == s.bounds[2]
            && s.bounds[1] == s.bounds[3]
            && s.t_end >= q.window.start
            && filter.attrs(s.attrs)
            && filter.bbox.is_none_or(|bx| inside(lon, lat, &bx))
        {
            keep((s.t_start, s.id, s.t_end, [lon, lat], s.attrs))?;
        }
    }
    hits.sort_unstable_by_key(|h| (h.0, h.1));
    let tags = tag_names(index.kind);
    let statuses = status_names(index.kind);
    Ok(hits
        .into_iter()
        .map(|(t, id, end, [lon, lat], a)| PointHit {
            id,
            lon: from_e7(lon),
            lat: from_e7(lat),
            t_start: t,
            t_end: (end != i64::MAX).then_some(end),
            tags: names_of(u32::from(a.tags), tags),
            status: names_of(u32::from(a.status), statuses).first().copied(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Kind;
    use crate::index::test_rows::{point_query, row, rows_of};
    use crate::index::{IndexRow, to_e7};

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// The point query returns exactly what a scan of every row would,
        /// whatever buckets the box and the points fall in.
        #[test]
        fn points_match_a_plain_scan(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), b in (15.50f64..15.75, 58.34f64..58.48, 0.0f64..0.1, 0.0f64..0.05), w in (0i64..1_000, 0i64..1_000)) {
            let rows = rows_of(&points);
            let index = LayerIndex::build(Kind::Incident, &rows);
            index.points.check();
            let bbox = [b.0, b.1, b.0 + b.2, b.1 + b.3];
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let got: Vec<Uuid> = index.points(&point_query(Some(bbox), start, end), 100_000).unwrap().into_iter().map(|h| h.id).collect();
            let mut want: Vec<&IndexRow> = rows.iter().filter(|r| {
                let (lon, lat, t) = (to_e7(r.bounds[0]), to_e7(r.bounds[1]), r.t_start.unwrap());
                lon >= to_e7(bbox[0]) && lon <= to_e7(bbox[2]) && lat >= to_e7(bbox[1]) && lat <= to_e7(bbox[3]) && t >= start && t <= end
            }).collect();
            want.sort_by_key(|r| (r.t_start, r.id));
            prop_assert_eq!(got, want.iter().map(|r| r.id).collect::<Vec<_>>());
        }

        /// Points with durations (presence) are found by every window they
        /// overlap and by no other, after inserts, moves and removals in
        /// any order; the buckets keep their invariants throughout.
        #[test]
        fn lasting_points_match_a_plain_scan_after_writes(
            logs in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..10_000, 0i64..5_000), 1..80),
            moves in prop::collection::vec((any::<prop::sample::Index>(), 15.50f64..15.75, 58.34f64..58.48, 0i64..10_000), 0..20),
            removals in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
            w in (0i64..15_000, 0i64..15_000),
        ) {
            let mut rows: Vec<IndexRow> = logs.iter().map(|(lon, lat, t, d)| {
                let mut r = row(*lon, *lat, *t, "police");
                r.t_end = Some(t + d);
                r
            }).collect();
            let mut index = LayerIndex::build(Kind::Presence, &rows[..rows.len() / 2]);
            for r in &rows[rows.len() / 2..] {
                index.upsert(r);
            }
            for (which, lon, lat, t) in &moves {
                let r = &mut rows[which.index(logs.len())];
                let d = r.t_end.unwrap() - r.t_start.unwrap();
                *r = IndexRow { t_start: Some(*t), t_end: Some(t + d), ..row(*lon, *lat, *t, "police") }.with_id(r.id);
                index.upsert(r);
            }
            let mut gone = std::collections::BTreeSet::new();
            for which in &removals {
                let id = rows[which.index(logs.len())].id;
                index.remove(id);
                gone.insert(id);
            }
            index.points.check();
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let got: Vec<Uuid> = index.points(&point_query(None, start, end), 100_000).unwrap().into_iter().map(|h| h.id).collect();
            let mut want: Vec<&IndexRow> = rows.iter().filter(|r| !gone.contains(&r.id) && r.t_start.unwrap() <= end && r.t_end.unwrap() >= start).collect();
            want.sort_by_key(|r| (r.t_start, r.id));
            prop_assert_eq!(index.len(), rows.len() - gone.len());
            prop_assert_eq!(got, want.iter().map(|r| r.id).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_duration_too_long_for_a_bucket_is_refused() {
        assert_eq!(duration(0, 0), Some(0));
        assert_eq!(
            duration(0, i64::from(MAX_DURATION_MS)),
            Some(MAX_DURATION_MS)
        );
        assert_eq!(duration(0, i64::from(u32::MAX)), None);
        assert_eq!(duration(10, 5), None);
        assert_eq!(duration(i64::MIN, 0), None);
    }
}
