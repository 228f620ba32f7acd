//! The in-memory layer index: per kind, every feature's time extent, tags,
//! status, position or bounds and H3 cells. Hexagon layers, point layers,
//! list pages and the analyses' inputs are computed from it without
//! touching the database; the database stays the source of truth and the
//! index is rebuilt from it at start.
//!
//! One file per structure, each with its invariants stated and
//! property-tested against a plain scan of the rows:
//!
//! - [`points`]: point features in ~1 km buckets, each a time-sorted run of
//!   columns (most features: incidents, reports, presence);
//! - [`spans`]: lines, polygons and the few points that do not fit a bucket
//!   (open or very long extents, timeless features), in one time-sorted list;
//! - [`aggregate`]: counting features into hexagons at a resolution;
//! - [`paging`]: list pages in id order and counts;
//! - [`omitted`]: what a layer leaves out, per reason;
//! - [`ids`]: where each feature sits, by id, for updates and deletes.
//!
//! A feature takes about 60 bytes (id 16, time 8, position 8, cell 8,
//! attributes 8, its place in the id table 12), which is what lets one
//! instance hold a national police deployment's 10–20 million features.

mod aggregate;
mod ids;
mod omitted;
mod paging;
mod points;
mod spans;

use h3o::CellIndex;
use uuid::Uuid;

use crate::attrs::{
    IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportSource, ReportStatus, UnitType,
};
use crate::bbox::Bbox;
use crate::omitted::Omitted;
use crate::query::{Filters, HexQuery, ListQuery, PointQuery};
use crate::time::{EpochMs, TimeWindow};
use crate::{Kind, Result, Shape, cells};

pub use aggregate::{SeriesQuery, parent, resolution_of};
use ids::Locations;
use points::{Point, PointBuckets};
use spans::{Span, SpanList};

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

/// Degrees times 10⁷: exact for the 6 decimals features are stored with,
/// and the same size as an `f32`, which is not exact at Swedish longitudes.
pub(crate) type E7 = i32;

pub(crate) fn to_e7(deg: f64) -> E7 {
    (deg * 1e7).round() as E7
}

pub(crate) fn from_e7(v: E7) -> f64 {
    f64::from(v) / 1e7
}

fn bbox_e7(b: &Bbox) -> [E7; 4] {
    [
        to_e7(b.min_lon),
        to_e7(b.min_lat),
        to_e7(b.max_lon),
        to_e7(b.max_lat),
    ]
}

/// What a query filters on besides time and place, in eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Attrs {
    /// Bits of the kind's tag vocabulary ([`tag_names`]).
    pub tags: u16,
    pub status: u8,
    pub source: u8,
    /// Index into [`LayerIndex::organisations`]; 0 for none.
    pub organisation: u16,
    /// Metres, saturating: every threshold a query compares with is below
    /// `u16::MAX` (or is "any"), so a saturated value still fails or passes
    /// exactly as the true one.
    pub precision: u16,
}

// Tags, statuses and sources are bit masks of their vocabularies.
const _: () = {
    assert!(IncidentCategory::NAMES.len() <= 16);
    assert!(Reason::NAMES.len() <= 16);
    assert!(UnitType::NAMES.len() <= 16);
    assert!(MeasureKind::NAMES.len() <= 16);
    assert!(ReportStatus::NAMES.len() <= 8 && MeasureStatus::NAMES.len() <= 8);
    assert!(ReportSource::NAMES.len() <= 8);
};

pub(crate) fn tag_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Incident => IncidentCategory::NAMES,
        Kind::Report => Reason::NAMES,
        Kind::Presence => UnitType::NAMES,
        Kind::Measure => MeasureKind::NAMES,
        Kind::Place | Kind::Area => &[],
    }
}

pub(crate) fn status_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Report => ReportStatus::NAMES,
        Kind::Measure => MeasureStatus::NAMES,
        _ => &[],
    }
}

pub(crate) fn source_names(kind: Kind) -> &'static [&'static str] {
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

/// The coarsest position a hexagon layer at `resolution` counts: twice
/// the hexagon's edge. Anything coarser is a stand-in for an area, not a
/// place in a hexagon.
pub fn hexagon_precision_limit_m(resolution: cells::LayerResolution) -> u32 {
    (resolution.edge_m() * 2.0) as u32
}

/// What a query asks of each feature besides its time, prepared once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    pub window: TimeWindow,
    pub tag_mask: u16,
    pub status_mask: u8,
    pub source_mask: u8,
    /// An organisation never seen cannot match anything: `u16::MAX`.
    pub organisation: Option<u16>,
    pub max_precision_m: u32,
    pub shape: Option<Shape>,
    /// West, south, east, north: the feature's bounds must meet it.
    pub bbox: Option<[E7; 4]>,
}

impl Filter {
    /// Whether the attributes pass (time and place are checked apart).
    #[inline]
    pub fn attrs(&self, a: Attrs) -> bool {
        u32::from(a.precision) <= self.max_precision_m
            && (self.tag_mask == 0 || a.tags & self.tag_mask != 0)
            && (self.status_mask == 0 || a.status & self.status_mask != 0)
            && (self.source_mask == 0 || a.source & self.source_mask != 0)
            && self.organisation.is_none_or(|o| o == a.organisation)
    }
}

/// Whether bounds (west, south, east, north) meet a box.
#[inline]
pub(crate) fn meets(bounds: &[E7; 4], b: &[E7; 4]) -> bool {
    bounds[0] <= b[2] && bounds[2] >= b[0] && bounds[1] <= b[3] && bounds[3] >= b[1]
}

/// The in-memory index of one kind: point buckets for most features, a
/// time-sorted list for the rest, and where each id sits.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    kind: Kind,
    points: PointBuckets,
    spans: SpanList,
    ids: Locations,
    /// Organisation ids, interned; slot 0 stands for "none".
    organisations: Vec<Option<Uuid>>,
}

/// Where a row goes: a point bucket when it is a point with one cell at
/// the index resolution and a closed extent short enough for a bucket's
/// duration column; the span list otherwise.
enum Placed {
    Point(Point),
    Span(Span, Vec<u64>),
}

impl LayerIndex {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            points: PointBuckets::default(),
            spans: SpanList::default(),
            ids: Locations::default(),
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
    /// never sit in memory twice; call [`LayerIndex::finish`] after the
    /// last. A row whose id is already indexed must go through
    /// [`LayerIndex::upsert`] instead.
    pub fn push(&mut self, row: &IndexRow) {
        match self.place(row) {
            Placed::Point(p) => {
                let bucket = self.points.push(p);
                self.ids.push(row.id, bucket);
            }
            Placed::Span(s, cells) => {
                self.spans.push(s, &cells);
                self.ids.push(row.id, ids::SPANS);
            }
        }
    }

    /// Ends a bulk build: sorts by time, settles the id table and gives
    /// spare capacity back.
    pub fn finish(&mut self) {
        self.points.finish();
        self.spans.finish();
        self.ids.finish();
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.points.len() + self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the index's own tables (not counting allocator slack).
    pub fn heap_bytes(&self) -> usize {
        self.points.heap_bytes() + self.spans.heap_bytes() + self.ids.heap_bytes()
    }

    fn attrs(&mut self, row: &IndexRow) -> Attrs {
        let tag_list: Vec<&str> = row
            .tags
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.is_empty())
            .collect();
        Attrs {
            tags: bits(&tag_list, tag_names(self.kind)) as u16,
            status: row
                .status
                .as_deref()
                .map_or(0, |s| bits(&[s], status_names(self.kind)) as u8),
            source: row
                .source
                .as_deref()
                .map_or(0, |s| bits(&[s], source_names(self.kind)) as u8),
            organisation: self.intern_organisation(row.organisation_id),
            precision: row.precision_m.unwrap_or(0).min(u32::from(u16::MAX)) as u16,
        }
    }

    fn intern_organisation(&mut self, org: Option<Uuid>) -> u16 {
        if let Some(i) = self.organisations.iter().position(|o| *o == org) {
            return i as u16;
        }
        self.organisations.push(org);
        (self.organisations.len() - 1) as u16
    }

    fn place(&mut self, row: &IndexRow) -> Placed {
        let attrs = self.attrs(row);
        let bounds = row.bounds.map(to_e7);
        let degenerate = bounds[0] == bounds[2] && bounds[1] == bounds[3];
        if row.shape == Shape::Point
            && degenerate
            && let [cell] = row.cells.as_slice()
            && resolution_of(*cell) == u8::from(cells::INDEX_RESOLUTION)
            && let (Some(start), Some(end)) = (row.t_start, row.t_end)
            && let Some(dur) = points::duration(start, end)
        {
            return Placed::Point(Point {
                id: row.id,
                t: start,
                dur,
                lon: bounds[0],
                lat: bounds[1],
                cell: *cell,
                attrs,
            });
        }
        let span = Span {
            id: row.id,
            t_start: row.t_start.unwrap_or(i64::MIN),
            t_end: match (row.t_start, row.t_end) {
                (None, _) | (Some(_), None) => i64::MAX,
                (Some(_), Some(e)) => e,
            },
            attrs,
            bounds,
            cells: spans::Cells::One(0),
            shape: row.shape,
        };
        Placed::Span(span, row.cells.clone())
    }

    /// Adds a feature, replacing any earlier version of it.
    pub fn upsert(&mut self, row: &IndexRow) {
        self.remove(row.id);
        match self.place(row) {
            Placed::Point(p) => {
                let bucket = self.points.insert(p);
                self.ids.insert(row.id, bucket);
            }
            Placed::Span(s, cells) => {
                self.spans.insert(s, &cells);
                self.ids.insert(row.id, ids::SPANS);
            }
        }
    }

    pub fn remove(&mut self, id: Uuid) {
        let (points, spans) = (&self.points, &self.spans);
        let Some(place) = self.ids.take(id, |place| {
            if place == ids::SPANS {
                spans.contains(id)
            } else {
                points.contains(place, id)
            }
        }) else {
            return;
        };
        if place == ids::SPANS {
            self.spans.remove(id);
        } else {
            self.points.remove(place, id);
        }
    }

    fn filter(
        &self,
        filters: &Filters,
        window: TimeWindow,
        bbox: Option<&Bbox>,
        max_precision_m: u32,
        organisation: Option<Uuid>,
        shape: Option<Shape>,
    ) -> Filter {
        Filter {
            window,
            tag_mask: bits(&filters.tags, tag_names(self.kind)) as u16,
            status_mask: bits(&filters.statuses, status_names(self.kind)) as u8,
            source_mask: bits(&filters.sources, source_names(self.kind)) as u8,
            organisation: organisation.map(|o| {
                self.organisations
                    .iter()
                    .position(|x| *x == Some(o))
                    .map_or(u16::MAX, |i| i as u16)
            }),
            max_precision_m,
            shape,
            bbox: bbox.map(bbox_e7),
        }
    }

    /// Counts per hexagon at the query's resolution; see
    /// [`aggregate::hexagons`] for the rules (precision, boxes, minutes,
    /// the cap).
    pub fn hexagons(&self, q: &HexQuery, now: EpochMs, max_cells: usize) -> Result<Vec<HexCount>> {
        aggregate::hexagons(self, q, now, max_cells)
    }

    /// Weighted counts per hexagon over consecutive windows in one pass;
    /// see [`aggregate::series`].
    pub fn series(
        &self,
        q: &SeriesQuery<'_>,
        tag_weight: &dyn Fn(&str) -> f64,
    ) -> Result<Vec<Vec<(CellIndex, f64)>>> {
        aggregate::series(self, q, tag_weight)
    }

    /// The ids of one page of a list; see [`paging::page_ids`].
    pub fn page_ids(&self, q: &ListQuery) -> (Vec<Uuid>, bool) {
        paging::page_ids(self, q)
    }

    /// How many features a list query matches; see [`paging::count`].
    pub fn count(&self, q: &ListQuery) -> (usize, Vec<Uuid>) {
        paging::count(self, q)
    }

    /// The point features in a box and window, oldest first; see
    /// [`points::query`].
    pub fn points(&self, q: &PointQuery, max_points: usize) -> Result<Vec<PointHit>> {
        points::query(self, q, max_points)
    }

    /// What a hexagon layer (`points: None`) or a point layer over `bbox`
    /// (`points: Some(bbox)`) leaves out of the features the filters,
    /// window and organisation select: positions coarser than
    /// `max_precision_m`, whichever box is asked for, since they stand in
    /// for a whole municipality or county; and for a point layer, lines
    /// and polygons meeting the box. See [`omitted`].
    pub fn omitted(
        &self,
        filters: &Filters,
        window: TimeWindow,
        organisation: Option<Uuid>,
        max_precision_m: u32,
        points: Option<Option<&Bbox>>,
    ) -> Omitted {
        omitted::omitted(
            self,
            filters,
            window,
            organisation,
            max_precision_m,
            (points.is_some(), points.flatten()),
        )
    }

    /// What [`LayerIndex::hexagons`] leaves out of this query.
    pub fn hexagons_omitted(&self, q: &HexQuery) -> Omitted {
        self.omitted(
            &q.filters,
            q.window,
            q.organisation,
            hexagon_precision_limit_m(q.resolution),
            None,
        )
    }

    /// What [`LayerIndex::points`] leaves out of this query.
    pub fn points_omitted(&self, q: &PointQuery) -> Omitted {
        self.omitted(
            &q.filters,
            q.window,
            q.organisation,
            POINT_MAX_PRECISION_M,
            Some(q.bbox.as_ref()),
        )
    }

    /// The ids of the organisation's entries (all, without one) whose
    /// position is `min_precision_m` or coarser (stand-ins for a
    /// municipality or county, which no hexagon or point layer shows) and
    /// whose time meets the window: what is counted by the municipality
    /// it names instead. One pass over the kind, in no particular order.
    pub fn coarse_ids(
        &self,
        window: TimeWindow,
        min_precision_m: u32,
        organisation: Option<Uuid>,
    ) -> Vec<Uuid> {
        omitted::coarse_ids(self, window, min_precision_m, organisation)
    }

    /// Every feature the scan selects, in no particular order, as the
    /// analyses and the follow-up read them: id, time, bounds, cells, tags
    /// and organisation.
    pub fn each_feature(&self, scan: &FeatureScan<'_>, mut each: impl FnMut(FeatureRef<'_>)) {
        let FeatureScan {
            window,
            filters,
            organisation,
            max_precision_m,
            shape,
        } = *scan;
        let filter = self.filter(filters, window, None, max_precision_m, organisation, shape);
        let tags = tag_names(self.kind);
        if shape.is_none_or(|s| s == Shape::Point) {
            let _ = self.points.each_in_window(None, window, |b, i| {
                let a = b.attrs(i);
                if filter.attrs(a) {
                    let (lon, lat) = (b.lon(i), b.lat(i));
                    each(FeatureRef {
                        id: b.id(i),
                        shape: Shape::Point,
                        bounds_e7: [lon, lat, lon, lat],
                        t_start: b.t(i),
                        t_end: Some(b.end(i)),
                        cells: b.cells(i),
                        tag_mask: a.tags,
                        tag_names: tags,
                        organisation: self.organisations[usize::from(a.organisation)],
                        precision_m: u32::from(a.precision),
                    });
                }
                Ok::<(), ()>(())
            });
        }
        for s in self.spans.candidates(window) {
            if s.t_end >= window.start
                && shape.is_none_or(|shape| shape == s.shape)
                && filter.attrs(s.attrs)
            {
                each(FeatureRef {
                    id: s.id,
                    shape: s.shape,
                    bounds_e7: s.bounds,
                    t_start: s.t_start,
                    t_end: (s.t_end != i64::MAX).then_some(s.t_end),
                    cells: self.spans.cells_of(s),
                    tag_mask: s.attrs.tags,
                    tag_names: tags,
                    organisation: self.organisations[usize::from(s.attrs.organisation)],
                    precision_m: u32::from(s.attrs.precision),
                });
            }
        }
    }
}

/// Which features [`LayerIndex::each_feature`] visits: those overlapping
/// the window that pass the filters, of the organisation and the shape when
/// given, and known at least as exactly as `max_precision_m`.
#[derive(Clone, Copy)]
pub struct FeatureScan<'a> {
    pub window: TimeWindow,
    pub filters: &'a Filters,
    pub organisation: Option<Uuid>,
    pub max_precision_m: u32,
    pub shape: Option<Shape>,
}

/// A feature as [`LayerIndex::each_feature`] shows it.
#[derive(Debug, Clone, Copy)]
pub struct FeatureRef<'a> {
    pub id: Uuid,
    pub shape: Shape,
    /// West, south, east, north in degrees × 10⁷ (exact for the stored 6
    /// decimals); a point's position twice.
    pub bounds_e7: [i32; 4],
    /// `i64::MIN` for timeless features.
    pub t_start: EpochMs,
    /// `None` while open.
    pub t_end: Option<EpochMs>,
    /// The feature's cells as stored (a point's one cell at the index
    /// resolution; a line's or polygon's compacted cover).
    pub cells: &'a [u64],
    tag_mask: u16,
    tag_names: &'a [&'static str],
    pub organisation: Option<Uuid>,
    /// How exactly the position is known, in metres, saturating at
    /// `u16::MAX` (every threshold a caller compares with lies below).
    pub precision_m: u32,
}

impl FeatureRef<'_> {
    /// A point's position in degrees (the west and south bounds of others).
    pub fn lon(&self) -> f64 {
        from_e7(self.bounds_e7[0])
    }

    pub fn lat(&self) -> f64 {
        from_e7(self.bounds_e7[1])
    }

    /// Whether the feature carries this tag.
    pub fn has_tag(&self, name: &str) -> bool {
        self.tag_names
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.tag_mask & (1 << i) != 0)
    }

    /// The feature's tags, in vocabulary order.
    pub fn tags(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tag_names
            .iter()
            .enumerate()
            .filter(|(i, _)| self.tag_mask & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    /// The first tag's position in the kind's vocabulary (an incident's
    /// category is its one tag).
    pub fn first_tag(&self) -> Option<usize> {
        (self.tag_mask != 0).then(|| self.tag_mask.trailing_zeros() as usize)
    }
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
pub(crate) mod test_rows;

#[cfg(test)]
mod tests;
