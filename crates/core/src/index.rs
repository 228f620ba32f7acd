//! The in-memory layer index: per kind, every feature's time extent, tags,
//! status, bounds and H3 cells, sorted by start time. Hexagon layers are
//! computed from it without touching the database; the database stays the
//! source of truth and the index is rebuilt from it at start.

use std::collections::HashMap;

use h3o::CellIndex;
use uuid::Uuid;

use crate::attrs::{IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportStatus, UnitType};
use crate::bbox::Bbox;
use crate::query::{Filters, HexQuery};
use crate::time::EpochMs;
use crate::{Error, Kind, Result, cells};

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
    pub bounds: [f64; 4],
    pub cells: Vec<u64>,
    pub precision_m: Option<u32>,
    pub organisation_id: Option<Uuid>,
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

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: Uuid,
    t_start: EpochMs,
    /// `i64::MAX` while open (ongoing presence, unfinished measure).
    t_end: EpochMs,
    tags: u32,
    status: u8,
    bounds: [f32; 4],
    cells: Cells,
    precision_m: u32,
    /// Index into `LayerIndex::organisations`, 0 for none.
    organisation: u16,
}

/// One hexagon of a layer: how many features touch it and, for presence,
/// how many minutes were spent in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HexCount {
    pub cell: CellIndex,
    pub count: u64,
    pub minutes: f64,
}

#[derive(Debug, Clone)]
pub struct LayerIndex {
    kind: Kind,
    entries: Vec<Entry>,
    pool: Vec<u64>,
    by_id: HashMap<Uuid, EpochMs>,
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

fn bits(names: &[&str], vocabulary: &[&str]) -> u32 {
    names
        .iter()
        .filter_map(|n| vocabulary.iter().position(|v| v == n))
        .fold(0, |acc, i| acc | (1 << i))
}

impl LayerIndex {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            entries: Vec::new(),
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
        index.entries.reserve(rows.len());
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
        self.note(&entry);
        self.entries.push(entry);
    }

    /// Ends a bulk build: sorts by time.
    pub fn finish(&mut self) {
        self.entries.sort_unstable_by_key(|e| (e.t_start, e.id));
        self.entries.shrink_to_fit();
        self.pool.shrink_to_fit();
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        let bounds = row.bounds.map(|v| v as f32);
        Entry {
            id: row.id,
            t_start: row.t_start.unwrap_or(i64::MIN),
            t_end: match (row.t_start, row.t_end) {
                (None, _) | (Some(_), None) => i64::MAX,
                (Some(_), Some(e)) => e,
            },
            tags: bits(&tag_list, tag_names(self.kind)),
            status,
            bounds,
            cells,
            precision_m: row.precision_m.unwrap_or(0),
            organisation: self.intern_organisation(row.organisation_id),
        }
    }

    fn intern_organisation(&mut self, org: Option<Uuid>) -> u16 {
        if let Some(i) = self.organisations.iter().position(|o| *o == org) {
            return i as u16;
        }
        self.organisations.push(org);
        (self.organisations.len() - 1) as u16
    }

    fn note(&mut self, e: &Entry) {
        self.by_id.insert(e.id, e.t_start);
        if e.t_end == i64::MAX {
            self.open_entries += 1;
        } else {
            self.max_span = self.max_span.max(e.t_end.saturating_sub(e.t_start));
        }
    }

    /// Adds a feature, replacing any earlier version of it.
    pub fn upsert(&mut self, row: &IndexRow) {
        self.remove(row.id);
        let entry = self.entry(row);
        self.note(&entry);
        let at = self
            .entries
            .partition_point(|e| (e.t_start, e.id) < (entry.t_start, entry.id));
        self.entries.insert(at, entry);
    }

    pub fn remove(&mut self, id: Uuid) {
        let Some(t_start) = self.by_id.remove(&id) else {
            return;
        };
        let at = self
            .entries
            .partition_point(|e| (e.t_start, e.id) < (t_start, id));
        if self.entries.get(at).is_some_and(|e| e.id == id) {
            let e = self.entries.remove(at);
            if e.t_end == i64::MAX {
                self.open_entries -= 1;
            }
        }
    }

    fn candidates(&self, window_start: EpochMs, window_end: EpochMs) -> &[Entry] {
        let lo = if self.open_entries > 0 {
            0
        } else {
            let earliest = window_start.saturating_sub(self.max_span);
            self.entries.partition_point(|e| e.t_start < earliest)
        };
        let hi = self.entries.partition_point(|e| e.t_start <= window_end);
        &self.entries[lo..hi.max(lo)]
    }

    fn matches(e: &Entry, tag_mask: u32, status_mask: u8, bbox: Option<&Bbox>) -> bool {
        (tag_mask == 0 || e.tags & tag_mask != 0)
            && (status_mask == 0 || e.status & status_mask != 0)
            && bbox.is_none_or(|b| {
                f64::from(e.bounds[0]) <= b.max_lon
                    && f64::from(e.bounds[2]) >= b.min_lon
                    && f64::from(e.bounds[1]) <= b.max_lat
                    && f64::from(e.bounds[3]) >= b.min_lat
            })
    }

    fn masks(&self, filters: &Filters) -> (u32, u8) {
        (
            bits(&filters.tags, tag_names(self.kind)),
            bits(&filters.statuses, status_names(self.kind)) as u8,
        )
    }

    /// Counts per hexagon at the query's resolution. Features whose position
    /// is known less exactly than twice the hexagon edge are left out: a
    /// police-feed event placed at the municipality's midpoint would
    /// otherwise paint a false hot spot there. Each feature counts
    /// once in every hexagon it touches; presence minutes (clipped to the
    /// window, open presence counted up to `now`) are shared evenly among
    /// the hexagons of a track. More than `max_cells` hexagons is refused.
    pub fn hexagons(&self, q: &HexQuery, now: EpochMs, max_cells: usize) -> Result<Vec<HexCount>> {
        let res = q.resolution.get();
        let (tag_mask, status_mask) = self.masks(&q.filters);
        // Features just outside the box still put weight in its edge hexagons.
        let search = q.bbox.map(|b| b.expanded_m(q.resolution.edge_m() * 2.0));
        let mut counts: HashMap<CellIndex, (u64, f64)> = HashMap::new();
        let mut scratch = Vec::new();
        let presence = self.kind == Kind::Presence;
        let max_precision_m = (q.resolution.edge_m() * 2.0) as u32;
        // An organisation never seen cannot match anything: u16::MAX.
        let organisation = q.organisation.map(|o| {
            self.organisations
                .iter()
                .position(|x| *x == Some(o))
                .map_or(u16::MAX, |i| i as u16)
        });
        for e in self.candidates(q.window.start, q.window.end) {
            if e.t_end < q.window.start
                || e.precision_m > max_precision_m
                || organisation.is_some_and(|o| o != e.organisation)
                || !Self::matches(e, tag_mask, status_mask, search.as_ref())
            {
                continue;
            }
            scratch.clear();
            match e.cells {
                Cells::One(c) => cells::at_resolution(c, res, &mut scratch),
                Cells::Many { start, len } => {
                    for c in &self.pool[start as usize..(start + len) as usize] {
                        cells::at_resolution(*c, res, &mut scratch);
                    }
                    scratch.sort_unstable();
                    scratch.dedup();
                }
            }
            let minutes = if presence && !scratch.is_empty() {
                let end = if e.t_end == i64::MAX { now } else { e.t_end };
                q.window.overlap_ms(e.t_start, end) as f64 / 60_000.0 / scratch.len() as f64
            } else {
                0.0
            };
            for cell in &scratch {
                let slot = counts.entry(*cell).or_insert((0, 0.0));
                slot.0 += 1;
                slot.1 += minutes;
            }
            if counts.len() > max_cells * 2 {
                return Err(too_many(counts.len(), max_cells));
            }
        }
        let mut out: Vec<HexCount> = counts
            .into_iter()
            .map(|(cell, (count, minutes))| HexCount {
                cell,
                count,
                minutes,
            })
            .filter(|h| q.bbox.is_none_or(|b| cell_touches(h.cell, &b)))
            .collect();
        if out.len() > max_cells {
            return Err(too_many(out.len(), max_cells));
        }
        out.sort_unstable_by_key(|h| h.cell);
        Ok(out)
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

fn cell_touches(cell: CellIndex, b: &Bbox) -> bool {
    let boundary = cell.boundary();
    let (mut min_lon, mut min_lat, mut max_lon, mut max_lat) =
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for ll in boundary.iter() {
        min_lon = min_lon.min(ll.lng());
        max_lon = max_lon.max(ll.lng());
        min_lat = min_lat.min(ll.lat());
        max_lat = max_lat.max(ll.lat());
    }
    min_lon <= b.max_lon && max_lon >= b.min_lon && min_lat <= b.max_lat && max_lat >= b.min_lat
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
            bounds: [west, south, east, north],
            cells: cells::coverage(&f.geometry)?,
            precision_m: d.precision_m,
            organisation_id: f.organisation_id,
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
            bounds: [lon, lat, lon, lat],
            cells: vec![u64::from(cells::point_cell(lon, lat).unwrap())],
            precision_m: Some(25),
            organisation_id: None,
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
            #![proptest_config(ProptestConfig::with_cases(64))]

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

            /// Windows that split time in two split the counts in two.
            #[test]
            fn time_windows_partition_the_counts(points in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, 0i64..1_000), 1..200), cut in 0i64..1_000) {
                let index = LayerIndex::build(Kind::Incident, &rows(&points));
                let all = total(&index.hexagons(&query(9, 0, 999), 0, 100_000).unwrap());
                let before = total(&index.hexagons(&query(9, 0, cut), 0, 100_000).unwrap());
                let after = total(&index.hexagons(&query(9, cut + 1, 999), 0, 100_000).unwrap());
                prop_assert_eq!(before + after, all);
            }
        }
    }
}
