//! Rows and queries the index's tests share.

use uuid::Uuid;

use super::IndexRow;
use crate::cells::{self, LayerResolution};
use crate::query::{Filters, HexQuery, ListQuery, PointQuery};
use crate::time::TimeWindow;
use crate::{Kind, Shape};

/// A point feature at a position and time, with one tag.
pub fn row(lon: f64, lat: f64, t: i64, tag: &str) -> IndexRow {
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

/// Theft incidents at (lon, lat, time).
pub fn rows_of(points: &[(f64, f64, i64)]) -> Vec<IndexRow> {
    points
        .iter()
        .map(|(lon, lat, t)| row(*lon, *lat, *t, "theft"))
        .collect()
}

/// A presence track from a position, `d` degrees east and half of it
/// north, lasting half an hour from `t`.
pub fn track(lon: f64, lat: f64, d: f64, t: i64) -> IndexRow {
    let line =
        geo_types::LineString::from(vec![(lon, lat), (lon + d, lat + d / 2.0), (lon + d, lat)]);
    let geometry = geo_types::Geometry::LineString(line);
    let (west, south, east, north) = crate::geometry::bounds(&geometry);
    let mut track = row(lon, lat, t, "police");
    track.t_end = Some(t + 1_800_000);
    track.bounds = [west, south, east, north];
    track.cells = cells::coverage(&geometry).unwrap();
    track.shape = Shape::Line;
    track
}

impl IndexRow {
    /// The same row under another id (a new version of that feature).
    #[must_use]
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }
}

pub fn query(res: u8, start: i64, end: i64) -> HexQuery {
    HexQuery {
        resolution: LayerResolution::new(res, "resolution").unwrap(),
        bbox: None,
        window: TimeWindow::new(start, end, "datetime").unwrap(),
        filters: Filters::default(),
        organisation: None,
    }
}

pub fn point_query(bbox: Option<[f64; 4]>, start: i64, end: i64) -> PointQuery {
    PointQuery {
        bbox: bbox.map(|b| crate::bbox::Bbox::new(b[0], b[1], b[2], b[3], "bbox").unwrap()),
        window: TimeWindow::new(start, end, "datetime").unwrap(),
        filters: Filters::default(),
        organisation: None,
    }
}

pub fn list_query(start: i64, end: i64, limit: u32) -> ListQuery {
    let mut q = ListQuery::parse(Kind::Incident, &[]).unwrap();
    q.window = TimeWindow::new(start, end, "datetime").unwrap();
    q.limit = limit;
    q
}
