//! Point layers written as GeoJSON: what a map shows at street level. Written
//! by hand into one string, like the hexagon layers, because a few thousand
//! points per request is the common case and this is on the map's hot path.

use std::fmt::Write as _;

use crate::Kind;
use crate::index::PointHit;
use crate::query::tag_param;
use crate::time::from_ms;

/// A FeatureCollection of points with `time` (and `end` for kinds that
/// last), the kind's tags under the name its filter uses (`category`,
/// `unit_type`, …; a list for report reasons) and `status` where the kind
/// has one. Coordinates carry the 6 decimals they are stored with.
pub fn to_geojson(kind: Kind, points: &[PointHit]) -> String {
    to_geojson_with(kind, points, &serde_json::Map::new())
}

/// As [`to_geojson`], with extra top-level members (what the layer left
/// out and the window it shows, say).
pub fn to_geojson_with(
    kind: Kind,
    points: &[PointHit],
    extra: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let tag_name = tag_param(kind);
    let lasting = matches!(kind, Kind::Presence | Kind::Measure);
    let mut out = String::with_capacity(64 + points.len() * 160);
    let mut times = Times::default();
    let mut id = uuid::Uuid::encode_buffer();
    out.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"type":"Feature","id":""#);
        out.push_str(p.id.hyphenated().encode_lower(&mut id));
        out.push_str(r#"","geometry":{"type":"Point","coordinates":["#);
        push_fixed6(&mut out, p.lon);
        out.push(',');
        push_fixed6(&mut out, p.lat);
        out.push_str(r#"]},"properties":{"time":""#);
        times.push(&mut out, p.t_start);
        out.push('"');
        if lasting {
            match p.t_end {
                Some(end) => {
                    out.push_str(r#","end":""#);
                    times.push(&mut out, end);
                    out.push('"');
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
    let _ = write!(out, r#"],"numberReturned":{}"#, points.len());
    for (k, v) in extra {
        let _ = write!(out, ",{}:{v}", serde_json::Value::String(k.clone()));
    }
    out.push('}');
    out
}

/// Degrees with exactly 6 decimals, by integer arithmetic into a small
/// buffer: float formatting was a quarter of a point layer's cost and most
/// of a hexagon layer's (14 numbers a hexagon).
pub(crate) fn push_fixed6(out: &mut String, v: f64) {
    let micro = (v * 1e6).round() as i64;
    let mut n = micro.unsigned_abs();
    // 20 digits, the point, a sign: u64::MAX has 20 digits.
    let mut buf = [0u8; 22];
    let mut at = buf.len();
    for i in 0..7 {
        if i == 6 {
            at -= 1;
            buf[at] = b'.';
        }
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    while n > 0 {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if micro < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // Only ASCII digits, a point and a sign were written.
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

/// RFC 3339 UTC times, the date written once per day: a point layer is
/// sorted by time, so neighbours share their day.
#[derive(Default)]
struct Times {
    day: Option<i64>,
    date: String,
}

impl Times {
    fn push(&mut self, out: &mut String, ms: i64) {
        const DAY_MS: i64 = 86_400_000;
        let day = ms.div_euclid(DAY_MS);
        if self.day != Some(day) {
            self.day = Some(day);
            self.date = from_ms(day * DAY_MS).format("%Y-%m-%dT").to_string();
        }
        let in_day = ms.rem_euclid(DAY_MS);
        let (s, milli) = (in_day / 1000, in_day % 1000);
        out.push_str(&self.date);
        let _ = write!(out, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        if milli != 0 {
            let _ = write!(out, ".{milli:03}");
        }
        out.push('Z');
    }
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
    fn times_and_coordinates_match_the_general_formatters() {
        use chrono::SecondsFormat;
        let mut times = Times::default();
        for ms in [
            0,
            1_704_067_200_000,
            1_704_067_261_007,
            -1_000,
            1_709_251_199_999,
        ] {
            let mut out = String::new();
            times.push(&mut out, ms);
            assert_eq!(
                out,
                from_ms(ms).to_rfc3339_opts(SecondsFormat::AutoSi, true)
            );
        }
        for v in [
            15.621_4,
            -0.000_000_4,
            -12.5,
            58.999_999_7,
            0.0,
            179.999_999,
            -0.5,
            1e9,
        ] {
            let mut out = String::new();
            push_fixed6(&mut out, v);
            let want = format!("{v:.6}");
            assert_eq!(
                out.trim_start_matches('-'),
                want.trim_start_matches('-'),
                "{v}"
            );
            assert!((out.parse::<f64>().unwrap() - want.parse::<f64>().unwrap()).abs() < 1e-12);
        }
    }

    #[test]
    fn an_empty_layer_is_a_valid_collection() {
        let v: serde_json::Value = serde_json::from_str(&to_geojson(Kind::Incident, &[])).unwrap();
        assert_eq!(v["features"], serde_json::json!([]));
    }
}
