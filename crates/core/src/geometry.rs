//! GeoJSON geometries (RFC 7946: WGS84, `[lon, lat]`) in and out.
//!
//! Parsing is hand-written rather than delegated so that every error names
//! the exact coordinate that is wrong (`geometry.coordinates[1][3]`).

use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use serde_json::{Map, Value};

use crate::kind::GeometryRule;
use crate::{Error, Result};

/// GeoJSON output keeps six decimals: about 0.1 m, finer than any source.
const OUTPUT_SCALE: f64 = 1e6;

/// Parses a GeoJSON geometry object. `field` is the path used in errors.
pub fn parse(value: &Value, field: &str) -> Result<Geometry<f64>> {
    let obj = value
        .as_object()
        .ok_or_else(|| Error::invalid(field, "must be a GeoJSON geometry object"))?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(format!("{field}.type"), "missing geometry type"))?;
    let coords_field = format!("{field}.coordinates");
    let coords = coordinates(obj, &coords_field)?;
    match ty {
        "Point" => Ok(Geometry::Point(Point(position(coords, &coords_field)?))),
        "LineString" => Ok(Geometry::LineString(line(coords, &coords_field)?)),
        "Polygon" => Ok(Geometry::Polygon(polygon(coords, &coords_field)?)),
        "MultiPolygon" => {
            let parts = array(coords, &coords_field)?;
            if parts.is_empty() {
                return Err(Error::invalid(
                    coords_field,
                    "a MultiPolygon needs at least one polygon",
                ));
            }
            let polygons = parts
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("{coords_field}[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            Ok(Geometry::MultiPolygon(MultiPolygon(polygons)))
        }
        other => Err(Error::invalid(
            format!("{field}.type"),
            format!(
                "unsupported geometry type `{other}`; expected Point, LineString, Polygon or MultiPolygon"
            ),
        )),
    }
}

fn coordinates<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a Value> {
    obj.get("coordinates")
        .ok_or_else(|| Error::invalid(field, "missing coordinates"))
}

fn array<'a>(value: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| Error::invalid(field, "must be an array"))
}

fn position(value: &Value, field: &str) -> Result<Coord<f64>> {
    let items = array(value, field)?;
    if !(2..=3).contains(&items.len()) {
        return Err(Error::invalid(field, "a position is [longitude, latitude]"));
    }
    let number = |i: usize| -> Result<f64> {
        let f = format!("{field}[{i}]");
        let v = items[i]
            .as_f64()
            .ok_or_else(|| Error::invalid(&f, "must be a number"))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::invalid(f, "must be a finite number"))
        }
    };
    let lon = number(0)?;
    let lat = number(1)?;
    if !(-180.0..=180.0).contains(&lon) {
        return Err(Error::invalid(
            format!("{field}[0]"),
            "longitude must be within -180..180 (GeoJSON is [lon, lat] in WGS84)",
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(Error::invalid(
            format!("{field}[1]"),
            "latitude must be within -90..90 (GeoJSON is [lon, lat] in WGS84)",
        ));
    }
    Ok(Coord { x: lon, y: lat })
}

fn line(value: &Value, field: &str) -> Result<LineString<f64>> {
    let items = array(value, field)?;
    if items.len() < 2 {
        return Err(Error::invalid(
            field,
            "a LineString needs at least two positions",
        ));
    }
    let coords = items
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{field}[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(LineString(coords))
}

fn ring(value: &Value, field: &str) -> Result<LineString<f64>> {
    let ring = line(value, field)?;
    if ring.0.len() < 4 {
        return Err(Error::invalid(
            field,
            "a linear ring needs at least four positions",
        ));
    }
    if ring.0.first() != ring.0.last() {
        return Err(Error::invalid(
            field,
            "a linear ring must end where it starts",
        ));
    }
    Ok(ring)
}

fn polygon(value: &Value, field: &str) -> Result<Polygon<f64>> {
    let rings = array(value, field)?;
    let Some((outer, holes)) = rings.split_first() else {
        return Err(Error::invalid(field, "a Polygon needs an outer ring"));
    };
    let exterior = ring(outer, &format!("{field}[0]"))?;
    let interiors = holes
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("{field}[{}]", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Polygon::new(exterior, interiors))
}

/// Checks that a kind accepts this geometry type.
pub fn check_rule(geometry: &Geometry<f64>, rule: GeometryRule, field: &str) -> Result<()> {
    let ok = matches!(
        (rule, geometry),
        (_, Geometry::Point(_)) if rule != GeometryRule::PolygonOnly
    ) || matches!(
        (rule, geometry),
        (
            GeometryRule::PointOrLine | GeometryRule::Any,
            Geometry::LineString(_)
        ) | (
            GeometryRule::PointOrPolygon | GeometryRule::Any | GeometryRule::PolygonOnly,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        )
    );
    if ok {
        Ok(())
    } else {
        let expected = match rule {
            GeometryRule::PointOnly => "a Point",
            GeometryRule::PointOrLine => "a Point or a LineString",
            GeometryRule::PointOrPolygon => "a Point, Polygon or MultiPolygon",
            GeometryRule::Any => "a Point, LineString, Polygon or MultiPolygon",
            GeometryRule::PolygonOnly => "a Polygon or MultiPolygon",
        };
        Err(Error::invalid(
            format!("{field}.type"),
            format!("must be {expected}"),
        ))
    }
}

/// Every vertex of a geometry, in order, for checks that look at each one.
pub fn vertices(geometry: &Geometry<f64>) -> Vec<Coord<f64>> {
    use geo::CoordsIter;
    geometry.coords_iter().collect()
}

/// Rounds to the output precision so that what is stored equals what is
/// served and a round trip does not drift.
pub fn round_coord(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x * OUTPUT_SCALE).round() / OUTPUT_SCALE,
        y: (c.y * OUTPUT_SCALE).round() / OUTPUT_SCALE,
    }
}

/// Writes a geometry as a GeoJSON value; polygon rings are rewound to the
/// RFC 7946 right-hand rule (outer counter-clockwise, holes clockwise).
pub fn to_value(geometry: &Geometry<f64>) -> Value {
    fn pos(c: Coord<f64>) -> Value {
        let c = round_coord(c);
        Value::Array(vec![c.x.into(), c.y.into()])
    }
    fn line(l: &LineString<f64>) -> Value {
        Value::Array(l.0.iter().copied().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> Value {
        use geo::orient::{Direction, Orient};
        let p = p.orient(Direction::Default);
        let mut rings = vec![line(p.exterior())];
        rings.extend(p.interiors().iter().map(line));
        Value::Array(rings)
    }
    let (ty, coordinates) = match geometry {
        Geometry::Point(p) => ("Point", pos(p.0)),
        Geometry::LineString(l) => ("LineString", line(l)),
        Geometry::Polygon(p) => ("Polygon", poly(p)),
        Geometry::MultiPolygon(mp) => (
            "MultiPolygon",
            Value::Array(mp.0.iter().map(poly).collect()),
        ),
        // Only the types `parse` accepts are ever stored.
        other => unreachable!("unsupported geometry stored: {other:?}"),
    };
    serde_json::json!({ "type": ty, "coordinates": coordinates })
}

/// The geometry's bounding box as `(min_lon, min_lat, max_lon, max_lat)`.
pub fn bounds(geometry: &Geometry<f64>) -> (f64, f64, f64, f64) {
    use geo::BoundingRect;
    geometry.bounding_rect().map_or((0.0, 0.0, 0.0, 0.0), |r| {
        (r.min().x, r.min().y, r.max().x, r.max().y)
    })
}

/// A point that lies on the geometry (for polygons: inside it), used to
/// place a feature when a single position is needed.
pub fn representative_point(geometry: &Geometry<f64>) -> Coord<f64> {
    use geo::InteriorPoint;
    geometry
        .interior_point()
        .map_or_else(|| Coord { x: 0.0, y: 0.0 }, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_point_parses_as_lon_lat() {
        let g = parse(
            &json!({"type": "Point", "coordinates": [15.62, 58.41]}),
            "geometry",
        )
        .unwrap();
        assert_eq!(g, Geometry::Point(Point::new(15.62, 58.41)));
    }

    #[test]
    fn a_latitude_out_of_range_names_the_coordinate() {
        let err = parse(
            &json!({"type": "LineString", "coordinates": [[15.6, 58.4], [15.6, 98.4]]}),
            "geometry",
        )
        .unwrap_err();
        assert_eq!(err.field(), "geometry.coordinates[1][1]");
    }

    #[test]
    fn a_string_coordinate_is_not_a_number() {
        let err = parse(
            &json!({"type": "Point", "coordinates": ["15.6", 58.4]}),
            "geometry",
        )
        .unwrap_err();
        assert_eq!(err.field(), "geometry.coordinates[0]");
    }

    #[test]
    fn an_open_ring_is_rejected() {
        let err = parse(
            &json!({"type": "Polygon", "coordinates": [[[15.6, 58.4], [15.7, 58.4], [15.7, 58.5], [15.6, 58.5]]]}),
            "geometry",
        )
        .unwrap_err();
        assert_eq!(err.field(), "geometry.coordinates[0]");
        assert!(err.reason().contains("end where it starts"));
    }

    #[test]
    fn unsupported_types_are_named() {
        let err = parse(
            &json!({"type": "GeometryCollection", "geometries": []}),
            "geometry",
        )
        .unwrap_err();
        assert_eq!(err.field(), "geometry.coordinates");
        let err = parse(
            &json!({"type": "Circle", "coordinates": [1, 2]}),
            "geometry",
        )
        .unwrap_err();
        assert_eq!(err.field(), "geometry.type");
    }

    #[test]
    fn output_is_rounded_and_counter_clockwise() {
        let clockwise = parse(
            &json!({"type": "Polygon", "coordinates": [[[15.6, 58.4], [15.6, 58.5], [15.7, 58.5], [15.7, 58.4], [15.6, 58.4]]]}),
            "geometry",
        )
        .unwrap();
        let out = to_value(&clockwise);
        let ring = out["coordinates"][0].as_array().unwrap();
        // Shoelace sum is positive for a counter-clockwise ring in lon/lat.
        let mut area2 = 0.0;
        for w in ring.windows(2) {
            let (x0, y0) = (w[0][0].as_f64().unwrap(), w[0][1].as_f64().unwrap());
            let (x1, y1) = (w[1][0].as_f64().unwrap(), w[1][1].as_f64().unwrap());
            area2 += x0 * y1 - x1 * y0;
        }
        assert!(area2 > 0.0);
        let p = to_value(&Geometry::Point(Point::new(15.123_456_789, 58.1)));
        assert_eq!(p["coordinates"][0], json!(15.123_457));
    }

    #[test]
    fn kinds_only_accept_their_geometry_types() {
        let line = Geometry::LineString(LineString::from(vec![(15.6, 58.4), (15.7, 58.4)]));
        assert!(check_rule(&line, GeometryRule::PointOrLine, "geometry").is_ok());
        let err = check_rule(&line, GeometryRule::PointOnly, "geometry").unwrap_err();
        assert_eq!(err.field(), "geometry.type");
        let point = Geometry::Point(Point::new(15.6, 58.4));
        assert!(check_rule(&point, GeometryRule::PolygonOnly, "geometry").is_err());
    }
}
