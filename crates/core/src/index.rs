//! The in-memory layer index: per kind, every feature's time extent, tags,
//! status, bounds and H3 cells, sorted by start time. Hexagon layers are
//! computed from it without touching the database; the database stays the
//! source of truth and the index is rebuilt from it at start.

use std::collections::HashMap;

use h3o::CellIndex;
use uuid::Uuid;

use crate::attrs::{
    IncidentCategory, MeasureKind, MeasureStatus, Presence, Reason, ReportSource, ReportStatus,
    UnitType,
};
use crate::bbox::Bbox;
use crate::query::{Filters, HexQuery, ListQuery, PointQuery};
use crate::time::EpochMs;
use crate::{Error, Kind, Result, Shape, cells};

/// A feature as the index needs it, in the form a store can read cheaply
/// from its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub id: Uuid,
    pub t_start: Option<EpochMs>,
    pub t_end: Option<EpochMs>,
    /// The `,a,b,` tags column.
    pub tags: Option<String>,
    pub status: Option<String>,
    /// Where a report came from (safety walk, survey, …); other kinds' sources
    /// are import names, which no filter asks for.
    pub source: Option<String>,
    pub bounds: [f64; 4],
    pub cells: Vec<u64>,
    pub precision_m: Option<u32>,
    pub organisation_id: Option<Uuid>,
    pub shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cells {
    One(u64),
    /// A range in the index's shared pool of cells.
    Many {
        start: u32,
        len: u32,
    },
}

/// Degrees times 10⁷: exact for the 6 decimals features are stored with,
/// and the same size as an `f32`, which is not exact at Swedish longitudes.
type E7 = i32;

fn to_e7(deg: f64) -> E7 {
    (deg * 1e7).round() as E7
}

fn from_e7(v: E7) -> f64 {
    f64::from(v) / 1e7
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: Uuid,
    t_start: EpochMs,
    /// `i64::MAX` while open (ongoing presence, unfinished measure).
    t_end: EpochMs,
    tags: u32,
    status: u8,
    source: u8,
    /// West, south, east, north.
    bounds: [E7; 4],
    cells: Cells,
    precision_m: u32,
    /// Index into `LayerIndex::organisations`, 0 for none.
    organisation: u16,
    shape: Shape,
}

impl Entry {
    fn is_point(&self) -> bool {
        self.bounds[0] == self.bounds[2] && self.bounds[1] == self.bounds[3]
    }

    /// Whether the entry's bounds meet a box (west, south, east, north).
    fn meets(&self, b: &[E7; 4]) -> bool {
        self.bounds[0] <= b[2]
            && self.bounds[2] >= b[0]
            && self.bounds[1] <= b[3]
            && self.bounds[3] >= b[1]
    }
}

/// Buckets of about 1 km: a 2 × 2 km query reads a dozen of them, and a
/// city has a few hundred.
const BUCKET_E7: E7 = 100_000;

type BucketKey = (i32, i32);

fn bucket_of(lon: E7, lat: E7) -> BucketKey {
    (lon.div_euclid(BUCKET_E7), lat.div_euclid(BUCKET_E7))
}

/// Where the index keeps a feature, so an update finds it again.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    t_start: EpochMs,
    /// `None` for the time-sorted list of lines and polygons.
    bucket: Option<BucketKey>,
}

/// One hexagon of a layer: how many features touch it and, for presence,
/// how many minutes were spent in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HexCount {
    pub cell: CellIndex,
    pub count: u64,
    pub minutes: f64,
}

/// A point feature as a point query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointHit {
    pub id: Uuid,
    pub lon: f64,
    pub lat: f64,
    pub t_start: EpochMs,
    /// `None` while open.
    pub t_end: Option<EpochMs>,
    pub tags: Vec<&'static str>,
    pub status: Option<&'static str>,
}

/// Positions known less exactly than this are not shown as points: a
/// police-feed event at the municipality's midpoint is not a place.
pub const POINT_MAX_PRECISION_M: u32 = 1_000;

/// The in-memory index of one kind. Points (most features: incidents,
/// reports, presence) sit in spatial buckets, each sorted by start time, so
/// that a small box over a short window reads only what it returns; lines
/// and polygons sit in one list sorted by start time.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    kind: Kind,
    spans: Vec<Entry>,
    buckets: HashMap<BucketKey, Vec<Entry>>,
    pool: Vec<u64>,
    by_id: HashMap<Uuid, Slot>,
    /// The longest closed extent seen; lets a window query skip entries that
    /// started too early to reach it. Never shrinks, which stays correct.
    max_span: i64,
    open_entries: usize,
    /// Organisation ids, interned; slot 0 stands for "none".
    organisations: Vec<Option<Uuid>>,
}

fn tag_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Incident => IncidentCategory::NAMES,
        Kind::Report => Reason::NAMES,
        Kind::Presence => UnitType::NAMES,
        Kind::Measure => MeasureKind::NAMES,
        Kind::Place | Kind::Area => &[],
    }
}

fn status_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Report => ReportStatus::NAMES,
        Kind::Measure => MeasureStatus::NAMES,
        _ => &[],
    }
}

fn source_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Report => ReportSource::NAMES,
        _ => &[],
    }
}

fn bits(names: &[&str], vocabulary: &[&str]) -> u32 {
    names
        .iter()
        .filter_map(|n| vocabulary.iter().position(|v| v == n))
        .fold(0, |acc, i| acc | (1 << i))
}

fn names_of(mask: u32, vocabulary: &'static [&'static str]) -> Vec<&'static str> {
    vocabulary
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn sort_key(e: &Entry) -> (EpochMs, Uuid) {
    (e.t_start, e.id)
}

/// The entries of a time-sorted list that can overlap a window.
fn candidates(
    list: &[Entry],
    window_start: EpochMs,
    window_end: EpochMs,
    max_span: i64,
    open: bool,
) -> &[Entry] {
    let lo = if open {
        0
    } else {
        let earliest = window_start.saturating_sub(max_span);
        list.partition_point(|e| e.t_start < earliest)
    };
    let hi = list.partition_point(|e| e.t_start <= window_end);
    &list[lo..hi.max(lo)]
}

/// What a query asks of each entry, prepared once.
struct Filter {
    window_start: EpochMs,
    tag_mask: u32,
    status_mask: u8,
    source_mask: u8,
    bbox: Option<[E7; 4]>,
    max_precision_m: u32,
    /// An organisation never seen cannot match anything: `u16::MAX`.
    organisation: Option<u16>,
    shape: Option<Shape>,
}

impl Filter {
    fn accepts(&self, e: &Entry) -> bool {
        e.t_end >= self.window_start
            && e.precision_m <= self.max_precision_m
            && self.organisation.is_none_or(|o| o == e.organisation)
            && self.shape.is_none_or(|s| s == e.shape)
            && (self.tag_mask == 0 || e.tags & self.tag_mask != 0)
            && (self.status_mask == 0 || e.status & self.status_mask != 0)
            && (self.source_mask == 0 || e.source & self.source_mask != 0)
            && self.bbox.is_none_or(|b| e.meets(&b))
    }
}

fn bbox_e7(b: &Bbox) -> [E7; 4] {
    [
        to_e7(b.min_lon),
        to_e7(b.min_lat),
        to_e7(b.max_lon),
        to_e7(b.max_lat),
    ]
}

impl LayerIndex {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            spans: Vec::new(),
            buckets: HashMap::new(),
            pool: Vec::new(),
            by_id: HashMap::new(),
            max_span: 0,
            open_entries: 0,
            organisations: vec![None],
        }
    }

    /// Builds the index from every row of a kind at once.
    pub fn build(kind: Kind, rows: &[IndexRow]) -> Self {
        let mut index = Self::new(kind);
        for row in rows {
            index.push(row);
        }
        index.finish();
        index
    }

    /// Adds a row during a bulk build, one row at a time so a million rows
    /// never sit in memory twice; call [`LayerIndex::finish`] after the last.
    pub fn push(&mut self, row: &IndexRow) {
        let entry = self.entry(row);
        let slot = self.note(&entry);
        match slot.bucket {
            Some(key) => self.buckets.entry(key).or_default().push(entry),
            None => self.spans.push(entry),
        }
    }

    /// Ends a bulk build: sorts by time.
    pub fn finish(&mut self) {
        self.spans.sort_unstable_by_key(sort_key);
        self.spans.shrink_to_fit();
        for bucket in self.buckets.values_mut() {
            bucket.sort_unstable_by_key(sort_key);
            bucket.shrink_to_fit();
        }
        self.pool.shrink_to_fit();
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn entry(&mut self, row: &IndexRow) -> Entry {
        let tag_list: Vec<&str> = row
            .tags
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.is_empty())
            .collect();
        let status = row
            .status
            .as_deref()
            .map_or(0, |s| bits(&[s], status_names(self.kind)) as u8);
        let source = row
            .source
            .as_deref()
            .map_or(0, |s| bits(&[s], source_names(self.kind)) as u8);
        let cells = match row.cells.as_slice() {
            [one] => Cells::One(*one),
            many => {
                let start = self.pool.len() as u32;
                self.pool.extend_from_slice(many);
                Cells::Many {
                    start,
                    len: many.len() as u32,
                }
            }
        };
        Entry {
            id: row.id,
            t_start: row.t_start.unwrap_or(i64::MIN),
            t_end: match (row.t_start, row.t_end) {
                (None, _) | (Some(_), None) => i64::MAX,
                (Some(_), Some(e)) => e,
            },
            tags: bits(&tag_list, tag_names(self.kind)),
            status,
            source,
            bounds: row.bounds.map(to_e7),
            cells,
            precision_m: row.precision_m.unwrap_or(0),
            organisation: self.intern_organisation(row.organisation_id),
            shape: row.shape,
        }
    }

    fn intern_organisation(&mut self, org: Option<Uuid>) -> u16 {
        if let Some(i) = self.organisations.iter().position(|o| *o == org) {
            return i as u16;
        }
        self.organisations.push(org);
        (self.organisations.len() - 1) as u16
    }

    fn note(&mut self, e: &Entry) -> Slot {
        let slot = Slot {
            t_start: e.t_start,
            bucket: e.is_point().then(|| bucket_of(e.bounds[0], e.bounds[1])),
        };
        self.by_id.insert(e.id, slot);
        if e.t_end == i64::MAX {
            self.open_entries += 1;
        } else {
            self.max_span = self.max_span.max(e.t_end.saturating_sub(e.t_start));
        }
        slot
    }

    /// Adds a feature, replacing any earlier version of it.
    pub fn upsert(&mut self, row: &IndexRow) {
        self.remove(row.id);
        let entry = self.entry(row);
        let slot = self.note(&entry);
        let list = match slot.bucket {
            Some(key) => self.buckets.entry(key).or_default(),
            None => &mut self.spans,
        };
        let at = list.partition_point(|e| sort_key(e) < sort_key(&entry));
        list.insert(at, entry);
    }

    pub fn remove(&mut self, id: Uuid) {
        let Some(slot) = self.by_id.remove(&id) else {
            return;
        };
        let list = match slot.bucket {
            Some(key) => match self.buckets.get_mut(&key) {
                Some(list) => list,
                None => return,
            },
            None => &mut self.spans,
        };
        let at = list.partition_point(|e| sort_key(e) < (slot.t_start, id));
        if list.get(at).is_some_and(|e| e.id == id) {
            let e = list.remove(at);
            if e.t_end == i64::MAX {
                self.open_entries -= 1;
            }
        }
        if let Some(key) = slot.bucket
            && self.buckets.get(&key).is_some_and(Vec::is_empty)
        {
            self.buckets.remove(&key);
        }
    }

    /// Every entry that can overlap the window and lie in the box, in no
    /// particular order: the lines and polygons (when asked for), then the
    /// points of each bucket the box touches.
    fn each_candidate<'a>(
        &'a self,
        window_start: EpochMs,
        window_end: EpochMs,
        bbox: Option<[E7; 4]>,
        with_spans: bool,
        mut each: impl FnMut(&'a Entry) -> Result<()>,
    ) -> Result<()> {
        let open = self.open_entries > 0;
        let span = self.max_span;
        if with_spans {
            for e in candidates(&self.spans, window_start, window_end, span, open) {
                each(e)?;
            }
        }
        let range = bbox.map(|b| (bucket_of(b[0], b[1]), bucket_of(b[2], b[3])));
        let wanted = |key: &BucketKey| {
            range.is_none_or(|(lo, hi)| {
                (lo.0..=hi.0).contains(&key.0) && (lo.1..=hi.1).contains(&key.1)
            })
        };
        let visit = |list: &'a Vec<Entry>, each: &mut dyn FnMut(&'a Entry) -> Result<()>| {
            for e in candidates(list, window_start, window_end, span, open) {
                each(e)?;
            }
            Ok::<(), Error>(())
        };
        match range {
            // A small box: look the buckets up rather than walk them all.
            Some((lo, hi))
                if (i64::from(hi.0 - lo.0) + 1) * (i64::from(hi.1 - lo.1) + 1)
                    < self.buckets.len() as i64 =>
            {
                for x in lo.0..=hi.0 {
                    for y in lo.1..=hi.1 {
                        if let Some(list) = self.buckets.get(&(x, y)) {
                            visit(list, &mut each)?;
                        }
                    }
                }
            }
            _ => {
                for (key, list) in &self.buckets {
                    if wanted(key) {
                        visit(list, &mut each)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn filter(
        &self,
        filters: &Filters,
        window_start: EpochMs,
        bbox: Option<&Bbox>,
        max_precision_m: u32,
        organisation: Option<Uuid>,
        shape: Option<Shape>,
    ) -> Filter {
        Filter {
            window_start,
            tag_mask: bits(&filters.tags, tag_names(self.kind)),
            status_mask: bits(&filters.statuses, status_names(self.kind)) as u8,
            source_mask: bits(&filters.sources, source_names(self.kind)) as u8,
            bbox: bbox.map(bbox_e7),
            max_precision_m,
            organisation: organisation.map(|o| {
                self.organisations
                    .iter()
                    .position(|x| *x == Some(o))
                    .map_or(u16::MAX, |i| i as u16)
            }),
            shape,
        }
    }

    /// Counts per hexagon at the query's resolution. Features whose position
    /// is known less exactly than twice the hexagon edge are left out: a
    /// police-feed event placed at the municipality's midpoint would
    /// otherwise paint a false hot spot there. Each feature counts
    /// once in every hexagon it touches; presence minutes (clipped to the
    /// window, open presence counted up to `now` and at most
    /// `Presence::MAX_HOURS` after its start) are shared evenly among
    /// the hexagons of a track. More than `max_cells` hexagons is refused.
    ///
    /// With a box (a `bbox`, a tile), the answer is exactly the hexagons
    /// whose outline touches the box ([`cells::touches`]), each with its
    /// whole count — the count it has without a box, features outside the
    /// box included — so a hexagon cut by a tile edge shows the same number
    /// in both tiles, and a track through the box adds nothing to hexagons
    /// far from it.
    pub fn hexagons(&self, q: &HexQuery, now: EpochMs, max_cells: usize) -> Result<Vec<HexCount>> {
        let res = q.resolution.get();
        // A feature counts in a hexagon through one of its stored cells; for
        // that hexagon to touch the box, the feature lies within the reach of
        // the hexagon and of the stored cell from it. Searching that far
        // (per stored resolution) finds every feature of every hexagon that
        // touches the box; the exact touch test then drops the others.
        let search: Option<Vec<[E7; 4]>> = q.bbox.map(|b| {
            (0..=u8::from(cells::INDEX_RESOLUTION))
                .map(|stored| {
                    let stored =
                        h3o::Resolution::try_from(stored).unwrap_or(cells::INDEX_RESOLUTION);
                    bbox_e7(&b.expanded_m(cells::reach_m(res) + cells::reach_m(stored)))
                })
                .collect()
        });
        let filter = self.filter(
            &q.filters,
            q.window.start,
            None,
            (q.resolution.edge_m() * 2.0) as u32,
            q.organisation,
            None,
        );
        let within_reach = |e: &Entry, coarsest: u8| {
            search
                .as_ref()
                .is_none_or(|boxes| e.meets(&boxes[usize::from(coarsest).min(boxes.len() - 1)]))
        };
        let mut counts: HashMap<CellIndex, (u64, f64)> = HashMap::new();
        let mut scratch = Vec::new();
        let presence = self.kind == Kind::Presence;
        let points_box = search.as_ref().and_then(|boxes| boxes.last().copied());
        self.each_candidate(q.window.start, q.window.end, points_box, true, |e| {
            if !filter.accepts(e) {
                return Ok(());
            }
            scratch.clear();
            match e.cells {
                Cells::One(c) => {
                    if !within_reach(e, stored_resolution(c)) {
                        return Ok(());
                    }
                    cells::at_resolution(c, res, &mut scratch);
                }
                Cells::Many { start, len } => {
                    let stored = &self.pool[start as usize..(start + len) as usize];
                    let coarsest = stored
                        .iter()
                        .map(|c| stored_resolution(*c))
                        .min()
                        .unwrap_or(0);
                    if !within_reach(e, coarsest) {
                        return Ok(());
                    }
                    for c in stored {
                        cells::at_resolution(*c, res, &mut scratch);
                    }
                    scratch.sort_unstable();
                    scratch.dedup();
                }
            }
            // A log left open closed itself after the longest a presence
            // lasts: it is no visit in a window after that.
            let end = if presence && e.t_end == i64::MAX {
                let end = Presence::counted_end_ms(e.t_start, None, now);
                if end < q.window.start {
                    return Ok(());
                }
                end
            } else {
                e.t_end
            };
            let minutes = if presence && !scratch.is_empty() {
                q.window.overlap_ms(e.t_start, end) as f64 / 60_000.0 / scratch.len() as f64
            } else {
                0.0
            };
            for cell in &scratch {
                let slot = counts.entry(*cell).or_insert((0, 0.0));
                slot.0 += 1;
                slot.1 += minutes;
            }
            if counts.len() > max_cells * 4 {
                return Err(too_many(counts.len(), max_cells));
            }
            Ok(())
        })?;
        let mut out: Vec<HexCount> = counts
            .into_iter()
            .filter(|(cell, _)| q.bbox.is_none_or(|b| cells::touches(*cell, &b)))
            .map(|(cell, (count, minutes))| HexCount {
                cell,
                count,
                minutes,
            })
            .collect();
        if out.len() > max_cells {
            return Err(too_many(out.len(), max_cells));
        }
        out.sort_unstable_by_key(|h| h.cell);
        Ok(out)
    }

    /// The ids of one page of a list: every feature of the window whose
    /// bounds meet the box and that passes the filters, in id order after
    /// the cursor, at most `limit` of them, and whether more follow. The
    /// caller reads the features themselves from the store and checks exact
    /// geometry against the box.
    pub fn page_ids(&self, q: &ListQuery) -> (Vec<Uuid>, bool) {
        let filter = self.filter(
            &q.filters,
            q.window.start,
            q.bbox.as_ref(),
            u32::MAX,
            q.organisation,
            q.shape,
        );
        let mut ids = Vec::new();
        let _ = self.each_candidate(q.window.start, q.window.end, filter.bbox, true, |e| {
            if filter.accepts(e) && q.after.is_none_or(|a| e.id > a) {
                ids.push(e.id);
            }
            Ok(())
        });
        let limit = q.limit as usize;
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
    pub fn count(&self, q: &ListQuery) -> (usize, Vec<Uuid>) {
        let filter = self.filter(
            &q.filters,
            q.window.start,
            q.bbox.as_ref(),
            u32::MAX,
            q.organisation,
            q.shape,
        );
        let mut exact = 0;
        let mut to_check = Vec::new();
        let _ = self.each_candidate(q.window.start, q.window.end, filter.bbox, true, |e| {
            if filter.accepts(e) {
                if q.bbox.is_none() || e.is_point() {
                    exact += 1;
                } else {
                    to_check.push(e.id);
                }
            }
            Ok(())
        });
        (exact, to_check)
    }

    /// The point features in a box and window, oldest first, for maps at
    /// street level. Lines and polygons are not points and are left out, as
    /// are positions known less exactly than [`POINT_MAX_PRECISION_M`].
    /// More than `max_points` is refused rather than cut, so a map never
    /// shows a silently partial picture.
    pub fn points(&self, q: &PointQuery, max_points: usize) -> Result<Vec<PointHit>> {
        let filter = self.filter(
            &q.filters,
            q.window.start,
            q.bbox.as_ref(),
            POINT_MAX_PRECISION_M,
            q.organisation,
            None,
        );
        let mut hits: Vec<&Entry> = Vec::new();
        self.each_candidate(q.window.start, q.window.end, filter.bbox, false, |e| {
            if filter.accepts(e) {
                hits.push(e);
                if hits.len() > max_points {
                    return Err(Error::too_large(
                        "bbox",
                        format!(
                            "more than {max_points} points match; choose a smaller bbox or a shorter datetime window, or use the hexagon layer"
                        ),
                    ));
                }
            }
            Ok(())
        })?;
        hits.sort_unstable_by_key(|e| sort_key(e));
        let tags = tag_names(self.kind);
        let statuses = status_names(self.kind);
        Ok(hits
            .into_iter()
            .map(|e| PointHit {
                id: e.id,
                lon: from_e7(e.bounds[0]),
                lat: from_e7(e.bounds[1]),
                t_start: e.t_start,
                t_end: (e.t_end != i64::MAX).then_some(e.t_end),
                tags: names_of(e.tags, tags),
                status: names_of(u32::from(e.status), statuses).first().copied(),
            })
            .collect())
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

/// The resolution of a stored cell (the bits H3 keeps it in).
fn stored_resolution(cell: u64) -> u8 {
    ((cell >> 52) & 0xF) as u8
}

impl IndexRow {
    /// The index row of a feature as stored (what a write adds to the index).
    pub fn from_feature(f: &crate::Feature) -> Result<Self> {
        let d = f.derived();
        let (west, south, east, north) = crate::geometry::bounds(&f.geometry);
        Ok(Self {
            id: f.id,
            t_start: d.t_start,
            t_end: d.t_end,
            tags: crate::feature::tags_column(&d.tags),
            status: d.status.map(str::to_owned),
            source: d.source.clone(),
            bounds: [west, south, east, north],
            cells: cells::coverage(&f.geometry)?,
            precision_m: d.precision_m,
            organisation_id: f.organisation_id,
            shape: Shape::of(&f.geometry),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::LayerResolution;
    use crate::time::TimeWindow;

    fn row(lon: f64, lat: f64, t: i64, tag: &str) -> IndexRow {
        IndexRow {
            id: Uuid::now_v7(),
            t_start: Some(t),
            t_end: Some(t),
            tags: Some(format!(",{tag},")),
            status: None,
            source: None,
            bounds: [lon, lat, lon, lat],
            cells: vec![u64::from(cells::point_cell(lon, lat).unwrap())],
            precision_m: Some(25),
            organisation_id: None,
            shape: Shape::Point,
        }
    }

    fn query(res: u8, start: i64, end: i64) -> HexQuery {
        HexQuery {
            resolution: LayerResolution::new(res, "resolution").unwrap(),
            bbox: None,
            window: TimeWindow::new(start, end, "datetime").unwrap(),
            filters: Filters::default(),
            organisation: None,
        }
    }

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

    fn point_query(bbox: Option<[f64; 4]>, start: i64, end: i64) -> PointQuery {
        PointQuery {
            bbox: bbox.map(|b| Bbox::new(b[0], b[1], b[2], b[3], "bbox").unwrap()),
            window: TimeWindow::new(start, end, "datetime").unwrap(),
            filters: Filters::default(),
            organisation: None,
        }
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn rows(points: &[(f64, f64, i64)]) -> Vec<IndexRow> {
            points
                .iter()
                .map(|(lon, lat, t)| row(*lon, *lat, *t, "theft"))
                .collect()
        }

        fn total(h: &[HexCount]) -> u64 {
            h.iter().map(|c| c.count).sum()
        }

        proptest! {
            #![proptest_config(crate::test_support::proptest_config(64))]

            /// Every point counts once at every resolution, and the children
            /// of a hexagon add up to it.
            #[test]
            fn children_sum_to_their_parent(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), res in 6u8..=11) {
                let index = LayerIndex::build(Kind::Incident, &rows(&points));
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

            /// The point query returns exactly what a scan of every row
            /// would, whatever buckets the box and the points fall in.
            #[test]
            fn points_match_a_plain_scan(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), b in (15.50f64..15.75, 58.34f64..58.48, 0.0f64..0.1, 0.0f64..0.05), w in (0i64..1_000, 0i64..1_000)) {
                let rows = rows(&points);
                let index = LayerIndex::build(Kind::Incident, &rows);
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

            /// Windows that split time in two split the counts in two. The
            /// cut leaves both halves non-empty: `cut + 1 ..= 999` needs
            /// `cut < 999`.
            #[test]
            fn time_windows_partition_the_counts(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), cut in 0i64..999) {
                let index = LayerIndex::build(Kind::Incident, &rows(&points));
                let all = total(&index.hexagons(&query(9, 0, 999), 0, 100_000).unwrap());
                let before = total(&index.hexagons(&query(9, 0, cut), 0, 100_000).unwrap());
                let after = total(&index.hexagons(&query(9, cut + 1, 999), 0, 100_000).unwrap());
                prop_assert_eq!(before + after, all);
            }
        }
    }
}
