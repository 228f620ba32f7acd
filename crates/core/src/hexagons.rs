//! Hexagon layers written as GeoJSON. Written by hand into one string: a
//! city layer has thousands of polygons and this is on the map's hot path
//! (coordinates with [`push_fixed6`], ids in lower-case hex as h3o writes
//! them).

use std::fmt::Write as _;

use crate::Kind;
use crate::index::HexCount;
use crate::points::push_fixed6;

/// Writes a FeatureCollection of hexagon polygons with `h3` (hex string)
/// and `count` (plus `visits` and `minutes` for presence).
pub fn to_geojson(kind: Kind, hexagons: &[HexCount], resolution: u8) -> String {
    to_geojson_with(kind, hexagons, resolution, &serde_json::Map::new())
}

/// As [`to_geojson`], with extra top-level members (a public layer's
/// period and threshold, say).
pub fn to_geojson_with(
    kind: Kind,
    hexagons: &[HexCount],
    resolution: u8,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut out = String::with_capacity(64 + hexagons.len() * 420);
    out.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, h) in hexagons.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"type":"Feature","id":"{:x}","#, u64::from(h.cell));
        out.push_str(r#""geometry":{"type":"Polygon","coordinates":[["#);
        let boundary = h.cell.boundary();
        let first = boundary.iter().next().copied();
        for ll in boundary.iter().chain(first.as_ref()) {
            out.push('[');
            push_fixed6(&mut out, ll.lng());
            out.push(',');
            push_fixed6(&mut out, ll.lat());
            out.push_str("],");
        }
        out.pop();
        let _ = write!(
            out,
            r#"]]}},"properties":{{"h3":"{:x}","resolution":{resolution},"count":{}"#,
            u64::from(h.cell),
            h.count
        );
        if kind == Kind::Presence {
            let _ = write!(out, r#","visits":{},"minutes":{:.1}"#, h.count, h.minutes);
        }
        out.push_str("}}");
    }
    let _ = write!(out, r#"],"numberReturned":{}"#, hexagons.len());
    for (k, v) in extra {
        let _ = write!(out, ",{}:{v}", serde_json::Value::String(k.clone()));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::point_cell;
    use h3o::Resolution;

    #[test]
    fn a_hexagon_is_a_closed_ring_with_its_hex_id() {
        let cell = point_cell(15.62, 58.41)
            .unwrap()
            .parent(Resolution::Nine)
            .unwrap();
        let json = to_geojson(
            Kind::Presence,
            &[HexCount {
                cell,
                count: 3,
                minutes: 42.0,
            }],
            9,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let f = &v["features"][0];
        assert_eq!(f["properties"]["h3"], cell.to_string());
        assert_eq!(f["properties"]["visits"], 3);
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 7);
        assert_eq!(ring.first(), ring.last());
    }
}
