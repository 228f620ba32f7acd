//! H3 indexing at write time. Points get one cell at the finest served
//! resolution; lines and polygons get the set of cells they cover.

use geo_types::{Geometry, LineString};
use h3o::geom::{ContainmentMode, PlotterBuilder, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};

use crate::{Error, Result};

/// The resolution every feature is indexed at: the finest a hexagon layer
/// serves (res 11, ≈ 25 m edge). Coarser layers take parents.
pub const INDEX_RESOLUTION: Resolution = Resolution::Eleven;

pub const MIN_LAYER_RESOLUTION: u8 = 5;
pub const MAX_LAYER_RESOLUTION: u8 = 11;

/// Large polygons (a whole district) would cover hundreds of thousands of
/// res-11 cells; above this many, coverage is computed one resolution
/// coarser until it fits, then compacted.
const MAX_COVERAGE_CELLS: usize = 20_000;

/// Interior cells a polygon's first tiling aims at. Tiling cost grows with
/// the cell count and the outline's length, so a district is tiled at a few
/// hundred metres (compaction then merges its interior), while a park or a
/// priority place still gets res-11 cells.
const START_TARGET_CELLS: f64 = 2_000.0;

/// A hexagon layer resolution as the API accepts it (5–11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerResolution(Resolution);

impl LayerResolution {
    pub fn new(res: u8, field: &str) -> Result<Self> {
        if !(MIN_LAYER_RESOLUTION..=MAX_LAYER_RESOLUTION).contains(&res) {
            return Err(Error::invalid(
                field,
                format!("must be between {MIN_LAYER_RESOLUTION} and {MAX_LAYER_RESOLUTION}"),
            ));
        }
        Resolution::try_from(res)
            .map(Self)
            .map_err(|e| Error::invalid(field, e))
    }

    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let n: u8 = s
            .trim()
            .parse()
            .map_err(|_| Error::invalid(field, format!("`{s}` is not a whole number")))?;
        Self::new(n, field)
    }

    pub fn get(self) -> Resolution {
        self.0
    }

    /// Mean hexagon edge length in metres.
    pub fn edge_m(self) -> f64 {
        self.0.edge_length_m()
    }
}

/// The res-11 cell of a WGS84 position.
pub fn point_cell(lon: f64, lat: f64) -> Result<CellIndex> {
    LatLng::new(lat, lon)
        .map(|ll| ll.to_cell(INDEX_RESOLUTION))
        .map_err(|e| Error::invalid("geometry.coordinates", e))
}

/// The cells a geometry covers, as raw H3 indexes. A point gives one cell at
/// [`INDEX_RESOLUTION`]; lines and polygons give a compacted set (mixed
/// resolutions, never finer than the index resolution).
pub fn coverage(geometry: &Geometry<f64>) -> Result<Vec<u64>> {
    let mut cells = match geometry {
        Geometry::Point(p) => vec![point_cell(p.x(), p.y())?],
        Geometry::LineString(l) => line_cells(l)?,
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => polygon_cells(geometry)?,
        _ => return Err(Error::invalid("geometry.type", "unsupported geometry type")),
    };
    cells.sort_unstable();
    cells.dedup();
    if cells.len() > 1 {
        CellIndex::compact(&mut cells).map_err(|e| Error::invalid("geometry", e))?;
    }
    Ok(cells.into_iter().map(u64::from).collect())
}

fn line_cells(line: &LineString<f64>) -> Result<Vec<CellIndex>> {
    let mut res = INDEX_RESOLUTION;
    loop {
        let mut plotter = PlotterBuilder::new(res).build();
        plotter
            .add_batch(line.lines())
            .map_err(|e| Error::invalid("geometry.coordinates", e))?;
        let cells = plotter
            .plot()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid("geometry.coordinates", e))?;
        if cells.len() <= MAX_COVERAGE_CELLS || res == Resolution::Zero {
            return Ok(cells);
        }
        res = res.pred().unwrap_or(Resolution::Zero);
    }
}

fn polygon_cells(geometry: &Geometry<f64>) -> Result<Vec<CellIndex>> {
    let polygons = match geometry {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(mp) => mp.0.clone(),
        _ => Vec::new(),
    };
    let mut res = start_resolution(geometry);
    loop {
        let mut tiler = TilerBuilder::new(res)
            .containment_mode(ContainmentMode::Covers)
            .build();
        for p in &polygons {
            tiler
                .add(p.clone())
                .map_err(|e| Error::invalid("geometry.coordinates", e))?;
        }
        if tiler.coverage_size_hint() <= MAX_COVERAGE_CELLS * 4 || res == Resolution::Zero {
            let cells: Vec<_> = tiler.into_coverage().collect();
            if cells.len() <= MAX_COVERAGE_CELLS || res == Resolution::Zero {
                return Ok(cells);
            }
        }
        res = res.pred().unwrap_or(Resolution::Zero);
    }
}

/// The finest resolution at which a polygon of this size stays well under
/// the coverage cap, so that a district is not first tiled at 25 m.
fn start_resolution(geometry: &Geometry<f64>) -> Resolution {
    use geo::ChamberlainDuquetteArea;
    let area_m2 = geometry.chamberlain_duquette_unsigned_area();
    let mut res = INDEX_RESOLUTION;
    while area_m2 / res.area_m2() > START_TARGET_CELLS {
        match res.pred() {
            Some(coarser) => res = coarser,
            None => break,
        }
    }
    res
}

/// The cells at `res` that a stored cell stands for: its parent when the
/// stored cell is finer, its children when coarser.
pub fn at_resolution(cell: u64, res: Resolution, out: &mut Vec<CellIndex>) {
    let Ok(cell) = CellIndex::try_from(cell) else {
        return;
    };
    match cell.resolution().cmp(&res) {
        std::cmp::Ordering::Equal => out.push(cell),
        std::cmp::Ordering::Greater => out.extend(cell.parent(res)),
        std::cmp::Ordering::Less => out.extend(cell.children(res)),
    }
}

/// A bound on how far apart two points of one cell at `res` can lie, in
/// metres: three mean edge lengths. A regular hexagon spans two edges; H3
/// cells vary in size over the globe (the largest about 1.3 times the mean
/// edge), and the test below checks the bound on cells everywhere.
pub fn reach_m(res: Resolution) -> f64 {
    3.0 * res.edge_length_m()
}

/// Whether a cell's hexagon (its boundary as a polygon in degrees) touches
/// a box: the one test of "the hexagons of a box" and "the hexagons of a
/// tile", for every layer, public or not.
pub fn touches(cell: CellIndex, b: &crate::bbox::Bbox) -> bool {
    use geo::Intersects;
    let centre = LatLng::from(cell);
    if b.contains(centre.lng(), centre.lat()) {
        return true;
    }
    let ring: Vec<geo_types::Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| geo_types::coord! { x: ll.lng(), y: ll.lat() })
        .collect();
    geo_types::Polygon::new(LineString::new(ring), vec![]).intersects(&b.to_rect())
}

/// Hex string, as cells travel to browsers (JSON numbers lose precision past 2^53).
pub fn hex(cell: CellIndex) -> String {
    cell.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, Point, Polygon, polygon};

    #[test]
    fn a_point_is_one_cell_at_the_index_resolution() {
        let cells = coverage(&Geometry::Point(Point::new(15.6214, 58.4108))).unwrap();
        assert_eq!(cells.len(), 1);
        let c = CellIndex::try_from(cells[0]).unwrap();
        assert_eq!(c.resolution(), INDEX_RESOLUTION);
    }

    #[test]
    fn a_street_length_line_covers_a_chain_of_cells() {
        // About 700 m east-west through the centre: ≈ 15–30 res-11 cells.
        let line = LineString::from(vec![(15.615, 58.41), (15.627, 58.41)]);
        let cells = coverage(&Geometry::LineString(line)).unwrap();
        assert!((10..60).contains(&cells.len()), "{}", cells.len());
    }

    #[test]
    fn a_park_polygon_is_covered_and_compacted() {
        let park: Polygon<f64> = polygon![
            (x: 15.610, y: 58.405), (x: 15.620, y: 58.405), (x: 15.620, y: 58.410), (x: 15.610, y: 58.410), (x: 15.610, y: 58.405)
        ];
        let cells = coverage(&Geometry::Polygon(park)).unwrap();
        let resolutions: Vec<u8> = cells
            .iter()
            .map(|c| u8::from(CellIndex::try_from(*c).unwrap().resolution()))
            .collect();
        assert!(resolutions.iter().all(|r| *r <= 11));
        assert!(
            resolutions.iter().any(|r| *r < 11),
            "interior should compact"
        );
    }

    #[test]
    fn a_district_sized_polygon_stays_under_the_coverage_cap() {
        let big: Polygon<f64> = polygon![
            (x: 15.3, y: 58.2), (x: 15.9, y: 58.2), (x: 15.9, y: 58.6), (x: 15.3, y: 58.6), (x: 15.3, y: 58.2)
        ];
        let cells = coverage(&Geometry::Polygon(big)).unwrap();
        assert!(!cells.is_empty() && cells.len() <= MAX_COVERAGE_CELLS);
    }

    #[test]
    fn layer_resolution_accepts_five_to_eleven() {
        assert!(LayerResolution::new(5, "resolution").is_ok());
        assert!(LayerResolution::new(11, "resolution").is_ok());
        assert_eq!(
            LayerResolution::new(12, "resolution").unwrap_err().field(),
            "resolution"
        );
        assert!(LayerResolution::parse("4", "resolution").is_err());
        assert!(LayerResolution::parse("nine", "resolution").is_err());
    }

    #[test]
    fn no_two_points_of_a_cell_lie_farther_apart_than_its_reach() {
        use geo::{Distance, Haversine};
        // Cells around the globe, near the poles and the equator, at every
        // layer resolution and the coarse ones tiles use.
        for (lat, lng) in [
            (58.41, 15.62),
            (0.0, 0.0),
            (-45.0, 170.0),
            (85.0, -40.0),
            (69.0, 20.0),
            (30.0, -100.0),
        ] {
            for r in 0..=11u8 {
                let res = Resolution::try_from(r).unwrap();
                let cell = LatLng::new(lat, lng).unwrap().to_cell(res);
                let ring: Vec<_> = cell
                    .boundary()
                    .iter()
                    .map(|ll| geo_types::Point::new(ll.lng(), ll.lat()))
                    .collect();
                for a in &ring {
                    for b in &ring {
                        let d = Haversine.distance(*a, *b);
                        assert!(
                            d <= reach_m(res),
                            "res {r} at {lat},{lng}: {d} m > {}",
                            reach_m(res)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_cell_touches_a_box_it_only_grazes_and_not_one_beside_it() {
        use crate::bbox::Bbox;
        let cell = point_cell(15.62, 58.41)
            .unwrap()
            .parent(Resolution::Eight)
            .unwrap();
        let ring: Vec<LatLng> = cell.boundary().iter().copied().collect();
        let east = ring.iter().map(|ll| ll.lng()).fold(f64::MIN, f64::max);
        let lat = ring
            .iter()
            .find(|ll| (ll.lng() - east).abs() < 1e-12)
            .unwrap()
            .lat();
        // A box whose west edge sits a hair inside the easternmost vertex.
        let graze = Bbox::new(east - 1e-7, lat - 1e-4, east + 0.01, lat + 1e-4, "bbox").unwrap();
        assert!(touches(cell, &graze));
        let beside = Bbox::new(east + 1e-5, lat - 1e-4, east + 0.01, lat + 1e-4, "bbox").unwrap();
        assert!(!touches(cell, &beside));
    }

    #[test]
    fn coarser_and_finer_conversions() {
        let cell = point_cell(15.62, 58.41).unwrap();
        let mut out = Vec::new();
        at_resolution(u64::from(cell), Resolution::Nine, &mut out);
        assert_eq!(out, vec![cell.parent(Resolution::Nine).unwrap()]);
        out.clear();
        let parent = cell.parent(Resolution::Ten).unwrap();
        at_resolution(u64::from(parent), Resolution::Eleven, &mut out);
        assert_eq!(out.len(), 7);
    }
}
