//! Point layers written as GeoJSON: what a map shows at street level. Written
//! by hand into one string, like the hexagon layers, because a few thousand
//! points per request is the common case and this is on the map's hot path.

use std::fmt::Write as _;

use chrono::SecondsFormat;

use crate::Kind;
use crate::index::PointHit;
use crate::query::tag_param;
use crate::time::from_ms;

/// A FeatureCollection of points with `time` (and `end` for kinds that
/// last), the kind's tags under the name its filter uses (`category`,
/// `unit_type`, …; a list for report reasons) and `status` where the kind
/// has one. Coordinates carry the 6 decimals they are stored with.
pub fn to_geojson(kind: Kind, points: &[PointHit]) -> String {
    let tag_name = tag_param(kind);
    let lasting = matches!(kind, Kind::Presence | Kind::Measure);
    let mut out = String::with_capacity(64 + points.len() * 160);
    out.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"type":"Feature","id":"{}","geometry":{{"type":"Point","coordinates":[{:.6},{:.6}]}},"properties":{{"time":"{}""#,
            p.id,
            p.lon,
            p.lat,
            from_ms(p.t_start).to_rfc3339_opts(SecondsFormat::AutoSi, true)
        );
        if lasting {
            match p.t_end {
                Some(end) => {
                    let _ = write!(
                        out,
                        r#","end":"{}""#,
                        from_ms(end).to_rfc3339_opts(SecondsFormat::AutoSi, true)
                    );
                }
                None => out.push_str(r#","end":null"#),
            }
        }
        if let Some(name) = tag_name {
            if kind == Kind::Report {
                let _ = write!(out, r#","{name}":["#);
                for (j, tag) in p.tags.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, r#""{tag}""#);
                }
                out.push(']');
            } else if let Some(tag) = p.tags.first() {
                let _ = write!(out, r#","{name}":"{tag}""#);
            }
        }
        if let Some(status) = p.status {
            let _ = write!(out, r#","status":"{status}""#);
        }
        out.push_str("}}");
    }
    let _ = write!(out, r#"],"numberReturned":{}}}"#, points.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn hit(tags: Vec<&'static str>, t_end: Option<i64>) -> PointHit {
        PointHit {
            id: Uuid::nil(),
            lon: 15.621_4,
            lat: 58.410_85,
            t_start: 1_704_067_200_000,
            t_end,
            tags,
            status: None,
        }
    }

    #[test]
    fn an_incident_point_has_time_and_category() {
        let json = to_geojson(Kind::Incident, &[hit(vec!["theft"], Some(1))]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let f = &v["features"][0];
        assert_eq!(f["geometry"]["coordinates"][0], 15.6214);
        assert_eq!(f["geometry"]["coordinates"][1], 58.41085);
        assert_eq!(f["properties"]["time"], "2024-01-01T00:00:00Z");
        assert_eq!(f["properties"]["category"], "theft");
        assert!(f["properties"].get("end").is_none());
        assert_eq!(v["numberReturned"], 1);
    }

    #[test]
    fn presence_says_when_it_ended_or_that_it_has_not() {
        let json = to_geojson(
            Kind::Presence,
            &[
                hit(vec!["police"], None),
                hit(vec!["police"], Some(1_704_067_260_000)),
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["features"][0]["properties"]["end"].is_null());
        assert_eq!(
            v["features"][1]["properties"]["end"],
            "2024-01-01T00:01:00Z"
        );
        assert_eq!(v["features"][1]["properties"]["unit_type"], "police");
    }

    #[test]
    fn report_reasons_are_a_list() {
        let json = to_geojson(Kind::Report, &[hit(vec!["lighting", "people"], Some(1))]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["features"][0]["properties"]["reason"],
            serde_json::json!(["lighting", "people"])
        );
    }

    #[test]
    fn an_empty_layer_is_a_valid_collection() {
        let v: serde_json::Value = serde_json::from_str(&to_geojson(Kind::Incident, &[])).unwrap();
        assert_eq!(v["features"], serde_json::json!([]));
    }
}
