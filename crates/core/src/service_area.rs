//! The service area: the municipality whose map this is. Every written
//! coordinate must lie inside it (within a tolerance for simplified shapes).

use geo::{Contains, Distance, Euclidean};
use geo_types::{Coord, Geometry, MultiPolygon, Point, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use serde_json::Value;
use std::collections::HashSet;

use crate::bbox::Bbox;
use crate::{Error, Result, geometry};

/// Cells this coarse that lie wholly inside the area let most points skip
/// the exact polygon test.
const FAST_RESOLUTION: Resolution = Resolution::Seven;
const M_PER_DEG_LAT: f64 = 110_540.0;
const M_PER_DEG_LON_EQUATOR: f64 = 111_320.0;

/// A municipality from the SCB list (code like `0580`, name like `Linköping`).
#[derive(Debug, Clone)]
pub struct Municipality {
    pub code: String,
    pub name: String,
    pub shape: MultiPolygon<f64>,
}

/// Reads an SCB municipality FeatureCollection (properties `code`, `name`).
pub fn municipalities(geojson: &str) -> Result<Vec<Municipality>> {
    let value: Value =
        serde_json::from_str(geojson).map_err(|e| Error::invalid("municipalities", e))?;
    let features = value["features"]
        .as_array()
        .ok_or_else(|| Error::invalid("municipalities", "not a FeatureCollection"))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let field = format!("features[{i}]");
            let code = f["properties"]["code"]
                .as_str()
                .ok_or_else(|| Error::invalid(format!("{field}.properties.code"), "missing"))?;
            let name = f["properties"]["name"]
                .as_str()
                .ok_or_else(|| Error::invalid(format!("{field}.properties.name"), "missing"))?;
            let shape = to_multipolygon(geometry::parse(
                &f["geometry"],
                &format!("{field}.geometry"),
            )?);
            Ok(Municipality {
                code: code.to_owned(),
                name: name.to_owned(),
                shape,
            })
        })
        .collect()
}

/// Finds a municipality by its four-digit code or its name (any case).
pub fn select<'a>(list: &'a [Municipality], selector: &str) -> Result<&'a Municipality> {
    let wanted = selector.trim();
    list.iter()
        .find(|m| m.code == wanted || m.name.to_lowercase() == wanted.to_lowercase())
        .ok_or_else(|| {
            Error::invalid(
                "service_area",
                format!("no Swedish municipality has the name or code `{wanted}` (e.g. `Linköping` or `0580`)"),
            )
        })
}

/// Reads the first (Multi)Polygon of a FeatureCollection or Feature.
pub fn shape_from_geojson(geojson: &str) -> Result<MultiPolygon<f64>> {
    let value: Value =
        serde_json::from_str(geojson).map_err(|e| Error::invalid("service_area", e))?;
    let geometry = match value["type"].as_str() {
        Some("FeatureCollection") => &value["features"][0]["geometry"],
        Some("Feature") => &value["geometry"],
        _ => &value,
    };
    Ok(to_multipolygon(geometry::parse(
        geometry,
        "service_area.geometry",
    )?))
}

fn to_multipolygon(g: Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        _ => MultiPolygon(Vec::new()),
    }
}

#[derive(Debug, Clone)]
pub struct ServiceArea {
    pub code: String,
    pub name: String,
    pub shape: MultiPolygon<f64>,
    pub bbox: Bbox,
    /// How far outside the shape a coordinate may lie, for shapes that were
    /// simplified (the SCB list is; a point on the true border would
    /// otherwise be refused).
    pub tolerance_m: f64,
    inner_cells: HashSet<CellIndex>,
    metric_shape: MultiPolygon<f64>,
    origin_lat_cos: f64,
}

impl ServiceArea {
    pub fn new(code: &str, name: &str, shape: MultiPolygon<f64>, tolerance_m: f64) -> Result<Self> {
        let (min_lon, min_lat, max_lon, max_lat) =
            geometry::bounds(&Geometry::MultiPolygon(shape.clone()));
        let bbox = Bbox::new(min_lon, min_lat, max_lon, max_lat, "service_area")?;
        let mut tiler = TilerBuilder::new(FAST_RESOLUTION)
            .containment_mode(ContainmentMode::ContainsBoundary)
            .build();
        for p in &shape.0 {
            tiler
                .add(p.clone())
                .map_err(|e| Error::invalid("service_area", e))?;
        }
        let inner_cells = tiler.into_coverage().collect();
        let origin_lat_cos = f64::midpoint(min_lat, max_lat).to_radians().cos();
        let metric_shape = MultiPolygon(
            shape
                .0
                .iter()
                .map(|p| {
                    Polygon::new(
                        p.exterior()
                            .0
                            .iter()
                            .map(|c| to_metric(*c, origin_lat_cos))
                            .collect(),
                        p.interiors()
                            .iter()
                            .map(|r| r.0.iter().map(|c| to_metric(*c, origin_lat_cos)).collect())
                            .collect(),
                    )
                })
                .collect(),
        );
        Ok(Self {
            code: code.to_owned(),
            name: name.to_owned(),
            shape,
            bbox,
            tolerance_m,
            inner_cells,
            metric_shape,
            origin_lat_cos,
        })
    }

    /// Whether a position lies inside the area or within the tolerance.
    pub fn contains(&self, c: Coord<f64>) -> bool {
        if !self.bbox.expanded_m(self.tolerance_m).contains(c.x, c.y) {
            return false;
        }
        if let Ok(ll) = LatLng::new(c.y, c.x)
            && self.inner_cells.contains(&ll.to_cell(FAST_RESOLUTION))
        {
            return true;
        }
        let p = Point(to_metric(c, self.origin_lat_cos));
        if self.metric_shape.contains(&p) {
            return true;
        }
        self.tolerance_m > 0.0
            && self
                .metric_shape
                .0
                .iter()
                .any(|poly| Euclidean.distance(&p, poly) <= self.tolerance_m)
    }

    /// Refuses a geometry with any vertex outside the area, naming it.
    pub fn check(&self, geometry: &Geometry<f64>, field: &str) -> Result<()> {
        for (i, c) in geometry::vertices(geometry).into_iter().enumerate() {
            if !self.contains(c) {
                let which = if i == 0 {
                    String::new()
                } else {
                    format!(" (vertex {i})")
                };
                return Err(Error::invalid(
                    field,
                    format!(
                        "[{:.6}, {:.6}]{which} lies outside the service area {} ({}); GeoJSON is [longitude, latitude]",
                        c.x, c.y, self.name, self.code
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Equirectangular metres around the area's mid latitude: exact enough for
/// a tolerance of a few hundred metres within one municipality.
fn to_metric(c: Coord<f64>, lat_cos: f64) -> Coord<f64> {
    Coord {
        x: c.x * M_PER_DEG_LON_EQUATOR * lat_cos,
        y: c.y * M_PER_DEG_LAT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square() -> ServiceArea {
        let p: Polygon<f64> = polygon![(x: 15.5, y: 58.3), (x: 15.7, y: 58.3), (x: 15.7, y: 58.5), (x: 15.5, y: 58.5), (x: 15.5, y: 58.3)];
        ServiceArea::new("9999", "Test", MultiPolygon(vec![p]), 200.0).unwrap()
    }

    #[test]
    fn inside_near_and_far_points() {
        let a = square();
        assert!(a.contains(Coord { x: 15.6, y: 58.4 }));
        // ≈ 100 m east of the edge: within the 200 m tolerance.
        assert!(a.contains(Coord {
            x: 15.7017,
            y: 58.4
        }));
        // ≈ 1 km east: outside.
        assert!(!a.contains(Coord { x: 15.717, y: 58.4 }));
        // lat/lon swapped: far away.
        assert!(!a.contains(Coord { x: 58.4, y: 15.6 }));
    }

    #[test]
    fn a_line_leaving_the_area_names_the_vertex() {
        let a = square();
        let g = Geometry::LineString(geo_types::LineString::from(vec![
            (15.6, 58.4),
            (16.6, 58.4),
        ]));
        let err = a.check(&g, "geometry.coordinates").unwrap_err();
        assert_eq!(err.field(), "geometry.coordinates");
        assert!(err.reason().contains("vertex 1"), "{}", err.reason());
    }
}
