//! One outline (a municipality, or a boundary file) prepared for the two
//! questions every write asks: is this position inside, and if not, how far
//! outside is it?
//!
//! Written by hand rather than with `geo::Contains` on the polygon: a
//! municipality at street precision has thousands of vertices and a county
//! tens of thousands, and `Contains` walks every edge for every point. Here
//! the edges are sorted into horizontal bands once, so a point is tested
//! against the few edges of its band (a ray cast to the east, even-odd
//! rule, so holes of a boundary file work too). Building it is one pass
//! over the edges, which keeps start-up fast; an H3 cover of the interior
//! (what this replaced) took far longer to build for a whole county.
//!
//! Distances are metres on a local equirectangular projection around the
//! point asked about: within 0.5 % at the few hundred metres a border
//! tolerance is about, and good enough to name how far outside a refused
//! position lies.

use geo_types::{Coord, MultiPolygon};

use crate::bbox::Bbox;
use crate::{Error, Result};

const M_PER_DEG_LAT: f64 = 111_320.0;
/// Aim for about this many edges per band.
const EDGES_PER_BAND: usize = 4;
const MAX_BANDS: usize = 1 << 16;

#[derive(Debug, Clone, Copy)]
struct Edge {
    a: Coord<f64>,
    b: Coord<f64>,
}

#[derive(Debug, Clone)]
pub struct Outline {
    edges: Vec<Edge>,
    /// `band_start[i]..band_start[i + 1]` indexes `band_edges` for band i.
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
    min_lat: f64,
    band_height: f64,
    pub bbox: Bbox,
}

impl Outline {
    /// Prepares every ring of `shape` (exteriors and holes alike).
    ///
    /// # Errors
    /// An empty shape, or one with coordinates outside WGS84's range.
    pub fn new(shape: &MultiPolygon<f64>, field: &str) -> Result<Self> {
        let mut edges = Vec::new();
        for p in &shape.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in ring.0.windows(2) {
                    if w[0] != w[1] {
                        edges.push(Edge { a: w[0], b: w[1] });
                    }
                }
                // Rings from geo-types are closed; an open one is closed here.
                if let (Some(first), Some(last)) = (ring.0.first(), ring.0.last())
                    && first != last
                {
                    edges.push(Edge {
                        a: *last,
                        b: *first,
                    });
                }
            }
        }
        if edges.len() < 3 {
            return Err(Error::invalid(field, "the outline has no area"));
        }
        let (mut min_lon, mut min_lat) = (f64::INFINITY, f64::INFINITY);
        let (mut max_lon, mut max_lat) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for e in &edges {
            min_lon = min_lon.min(e.a.x);
            max_lon = max_lon.max(e.a.x);
            min_lat = min_lat.min(e.a.y);
            max_lat = max_lat.max(e.a.y);
        }
        let bbox = Bbox::new(min_lon, min_lat, max_lon, max_lat, field)?;
        let bands = (edges.len() / EDGES_PER_BAND).clamp(1, MAX_BANDS);
        let band_height = ((max_lat - min_lat) / bands as f64).max(1e-9);
        let band_of = |lat: f64| (((lat - min_lat) / band_height) as usize).min(bands - 1);
        // Counting sort of edges into every band their latitude range meets.
        let mut counts = vec![0u32; bands + 1];
        for e in &edges {
            let (lo, hi) = (band_of(e.a.y.min(e.b.y)), band_of(e.a.y.max(e.b.y)));
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut band_start = Vec::with_capacity(bands + 1);
        let mut total = 0u32;
        for c in &counts[..bands] {
            band_start.push(total);
            total += c;
        }
        band_start.push(total);
        let mut fill = band_start.clone();
        let mut band_edges = vec![0u32; total as usize];
        for (i, e) in edges.iter().enumerate() {
            let (lo, hi) = (band_of(e.a.y.min(e.b.y)), band_of(e.a.y.max(e.b.y)));
            for f in &mut fill[lo..=hi] {
                band_edges[*f as usize] = i as u32;
                *f += 1;
            }
        }
        Ok(Self {
            edges,
            band_start,
            band_edges,
            min_lat,
            band_height,
            bbox,
        })
    }

    fn bands(&self) -> usize {
        self.band_start.len() - 1
    }

    fn band_edges(&self, band: usize) -> impl Iterator<Item = &Edge> {
        let (from, to) = (self.band_start[band], self.band_start[band + 1]);
        self.band_edges[from as usize..to as usize]
            .iter()
            .map(|i| &self.edges[*i as usize])
    }

    /// Whether `c` lies inside (on the boundary counts either way).
    pub fn contains(&self, c: Coord<f64>) -> bool {
        if !self.bbox.contains(c.x, c.y) {
            return false;
        }
        let band = (((c.y - self.min_lat) / self.band_height) as usize).min(self.bands() - 1);
        let mut inside = false;
        for e in self.band_edges(band) {
            // Half-open in latitude, so a vertex on the ray counts once.
            if (e.a.y > c.y) != (e.b.y > c.y) {
                let x = e.a.x + (c.y - e.a.y) * (e.b.x - e.a.x) / (e.b.y - e.a.y);
                if x > c.x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// Whether the boundary passes within `m` metres of `c` (looks only at
    /// the bands that far north and south).
    pub fn boundary_within_m(&self, c: Coord<f64>, m: f64) -> bool {
        if !self.bbox.expanded_m(m).contains(c.x, c.y) {
            return false;
        }
        let dlat = m / M_PER_DEG_LAT;
        let band = |lat: f64| {
            (((lat - self.min_lat) / self.band_height).max(0.0) as usize).min(self.bands() - 1)
        };
        let cos = c.y.to_radians().cos();
        (band(c.y - dlat)..=band(c.y + dlat)).any(|b| {
            self.band_edges(b)
                .any(|e| segment_distance_m(c, e, cos) <= m)
        })
    }

    /// The distance in metres from `c` to the nearest point of the
    /// boundary (every edge: this is for error messages, not the hot path).
    pub fn distance_to_boundary_m(&self, c: Coord<f64>) -> f64 {
        let cos = c.y.to_radians().cos();
        self.edges
            .iter()
            .map(|e| segment_distance_m(c, e, cos))
            .fold(f64::INFINITY, f64::min)
    }

    pub fn vertex_count(&self) -> usize {
        self.edges.len()
    }
}

fn segment_distance_m(point: Coord<f64>, edge: &Edge, cos: f64) -> f64 {
    let to_m = |p: Coord<f64>| Coord {
        x: (p.x - point.x) * M_PER_DEG_LAT * cos,
        y: (p.y - point.y) * M_PER_DEG_LAT,
    };
    // The point is the origin; find the edge's nearest point to it.
    let (start, end) = (to_m(edge.a), to_m(edge.b));
    let along = end - start;
    let len2 = along.x * along.x + along.y * along.y;
    let share = if len2 > 0.0 {
        (-(start.x * along.x + start.y * along.y) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let nearest = start + along * share;
    nearest.x.hypot(nearest.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Contains;
    use geo_types::{Point, Polygon, polygon};
    use proptest::prelude::*;

    fn ring_with_hole() -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            vec![
                (15.0, 58.0),
                (16.0, 58.0),
                (16.0, 59.0),
                (15.0, 59.0),
                (15.0, 58.0),
            ]
            .into(),
            vec![
                vec![
                    (15.4, 58.4),
                    (15.6, 58.4),
                    (15.6, 58.6),
                    (15.4, 58.6),
                    (15.4, 58.4),
                ]
                .into(),
            ],
        )])
    }

    #[test]
    fn a_hole_is_outside_and_the_ring_around_it_inside() {
        let o = Outline::new(&ring_with_hole(), "area").unwrap();
        assert!(o.contains(Coord { x: 15.2, y: 58.5 }));
        assert!(!o.contains(Coord { x: 15.5, y: 58.5 }));
        assert!(!o.contains(Coord { x: 16.5, y: 58.5 }));
    }

    #[test]
    fn the_distance_to_the_boundary_is_in_metres() {
        let p: Polygon<f64> = polygon![(x: 15.0, y: 58.0), (x: 16.0, y: 58.0), (x: 16.0, y: 59.0), (x: 15.0, y: 59.0), (x: 15.0, y: 58.0)];
        let o = Outline::new(&MultiPolygon(vec![p]), "area").unwrap();
        // 0.01° of latitude north of the top edge ≈ 1 113 m.
        let d = o.distance_to_boundary_m(Coord { x: 15.5, y: 59.01 });
        assert!((d - 1_113.2).abs() < 1.0, "{d}");
        assert!(o.boundary_within_m(
            Coord {
                x: 15.5,
                y: 59.0005
            },
            100.0
        ));
        assert!(!o.boundary_within_m(Coord { x: 15.5, y: 59.002 }, 100.0));
    }

    #[test]
    fn an_outline_without_area_is_refused() {
        let p: Polygon<f64> = polygon![(x: 15.0, y: 58.0), (x: 15.0, y: 58.0)];
        assert!(Outline::new(&MultiPolygon(vec![p]), "area").is_err());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]
        #[test]
        fn the_band_index_agrees_with_geo(x in 14.9f64..16.1, y in 57.9f64..59.1) {
            let shape = ring_with_hole();
            let o = Outline::new(&shape, "area").unwrap();
            let c = Coord { x, y };
            // Points on an edge may go either way; keep clear of them.
            prop_assume!(o.distance_to_boundary_m(c) > 0.01);
            prop_assert_eq!(o.contains(c), shape.contains(&Point(c)));
        }
    }
}
