//! CSV rows to features. Columns are found by header name; which header
//! holds what is configurable (`x=E,y=N,time=datum`). Each row becomes a
//! GeoJSON Feature and goes through `NewFeature::parse`, the same
//! validation as an API write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Options, Parsed, Reject, ToWgs84, parse_local_time};
use crate::service_area::ServiceArea;
use crate::{Error, Kind, NewFeature, Result};

/// Which header holds each logical column. Unset ones are looked for under
/// common names (`lon`/`longitude`/`x`/`e`, `lat`/`latitude`/`y`/`n`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns(HashMap<String, String>);

/// Logical columns and the headers tried when none is configured.
const DEFAULTS: [(&str, &[&str]); 15] = [
    ("id", &["source_id", "client_id", "id"]),
    (
        "x",
        &["x", "lon", "lng", "longitude", "e", "easting", "östlig"],
    ),
    ("y", &["y", "lat", "latitude", "n", "northing", "nordlig"]),
    (
        "time",
        &[
            "time",
            "ts",
            "datetime",
            "occurred_at",
            "reported_at",
            "started_at",
            "tid",
            "datum",
        ],
    ),
    ("end", &["end", "occurred_until", "ended_at", "slut"]),
    ("category", &["category", "kategori", "type", "typ"]),
    ("precision", &["precision", "precision_m"]),
    ("reasons", &["reasons", "reason", "orsak"]),
    ("source", &["source", "källa"]),
    ("source_type", &["source_type"]),
    ("source_url", &["source_url"]),
    ("time_of_day", &["time_of_day"]),
    ("unit_type", &["unit_type", "enhetstyp"]),
    ("unit", &["unit", "enhet"]),
    ("comment", &["comment", "note", "kommentar"]),
];

impl Columns {
    /// Parses `x=E,y=N,time=datum`, naming an unknown logical column.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let mut map = HashMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid(field, format!("`{pair}` is not name=header")))?;
            let k = k.trim();
            if !DEFAULTS.iter().any(|(name, _)| *name == k) {
                let names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
                return Err(Error::invalid(
                    field,
                    format!("unknown column `{k}`; use {}", names.join(", ")),
                ));
            }
            map.insert(k.to_owned(), v.trim().to_owned());
        }
        Ok(Self(map))
    }

    /// The index of each logical column in this header row.
    fn resolve(&self, headers: &csv::StringRecord) -> HashMap<&'static str, usize> {
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        DEFAULTS
            .iter()
            .filter_map(|(logical, tried)| {
                let index = match self.0.get(*logical) {
                    Some(header) => find(header),
                    None => tried.iter().find_map(|t| find(t)),
                };
                index.map(|i| (*logical, i))
            })
            .collect()
    }
}

pub(super) fn parse(
    bytes: &[u8],
    opts: &Options,
    area: &ServiceArea,
    now: DateTime<Utc>,
) -> Parsed {
    let mut out = Parsed::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.fatal = Some(Reject {
                location: "line 1".into(),
                field: "header".into(),
                reason: e.to_string(),
            });
            return out;
        }
    };
    let columns = opts.columns.resolve(&headers);
    for needed in ["x", "y"] {
        if !columns.contains_key(needed) {
            out.fatal = Some(Reject {
                location: "line 1".into(),
                field: needed.into(),
                reason: format!("no {needed} column; name it with --columns {needed}=HEADER"),
            });
            return out;
        }
    }
    let transform = match ToWgs84::new(opts.crs) {
        Ok(t) => t,
        Err(e) => {
            out.fatal = Some(Reject::from_error("line 1".into(), &e));
            return out;
        }
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                out.rejects.push(Reject {
                    location: format!("line {line}"),
                    field: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let get = |name: &str| {
            columns
                .get(name)
                .and_then(|i| record.get(*i))
                .filter(|v| !v.is_empty())
        };
        match row_feature(opts, &transform, &get)
            .and_then(|f| NewFeature::parse(opts.kind, &f, area, now))
        {
            Ok(f) => out.features.push(f),
            Err(e) => out.reject(format!("line {line}"), &e),
        }
    }
    out
}

fn number(v: Option<&str>, field: &str) -> Result<f64> {
    let v = v.ok_or_else(|| Error::invalid(field, "is empty"))?;
    // Swedish spreadsheets write decimal commas.
    v.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| Error::invalid(field, format!("`{v}` is not a number")))
}

fn time(v: Option<&str>, field: &str) -> Result<Value> {
    let t = parse_local_time(v.ok_or_else(|| Error::invalid(field, "is empty"))?, field)?;
    Ok(json!(t))
}

/// The GeoJSON Feature a row stands for.
fn row_feature<'a>(
    opts: &Options,
    transform: &ToWgs84,
    get: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Value> {
    let (lon, lat) = transform.convert(number(get("x"), "x")?, number(get("y"), "y")?, "x, y")?;
    let mut p = Map::new();
    let mut put = |k: &str, v: Value| {
        p.insert(k.to_owned(), v);
    };
    match opts.kind {
        Kind::Incident => {
            put(
                "category",
                json!(get("category").unwrap_or("other").to_lowercase()),
            );
            put("occurred_at", time(get("time"), "time")?);
            if get("end").is_some() {
                put("occurred_until", time(get("end"), "end")?);
            }
            if let Some(pr) = get("precision") {
                put(
                    "precision_m",
                    json!(number(Some(pr), "precision")?.round() as i64),
                );
            }
            put("source", json!(get("source").unwrap_or(&opts.source)));
            if let Some(id) = get("id") {
                put("source_id", json!(id));
            }
            if let Some(t) = get("source_type") {
                put("source_type", json!(t));
            }
            if let Some(u) = get("source_url") {
                put("source_url", json!(u));
            }
        }
        Kind::Report => {
            let reasons: Vec<String> = get("reasons")
                .unwrap_or("other")
                .split([';', '|'])
                .map(|r| r.trim().to_lowercase())
                .collect();
            put("reasons", json!(reasons));
            put("source", json!(get("source").unwrap_or("survey")));
            put("reported_at", time(get("time"), "time")?);
            if let Some(t) = get("time_of_day") {
                put("time_of_day", json!(t));
            }
            if let Some(c) = get("comment") {
                put("comment", json!(c));
            }
            if let Some(id) = get("id") {
                put("client_id", json!(id));
            }
        }
        Kind::Presence => {
            put("unit_type", json!(get("unit_type").unwrap_or("other")));
            put("started_at", time(get("time"), "time")?);
            if get("end").is_some() {
                put("ended_at", time(get("end"), "end")?);
            }
            if let Some(u) = get("unit") {
                put("unit", json!(u));
            }
            if let Some(n) = get("comment") {
                put("note", json!(n));
            }
            if let Some(id) = get("id") {
                put("client_id", json!(id));
            }
        }
        other => {
            return Err(Error::invalid(
                "kind",
                format!(
                    "CSV import takes incidents, reports or presence, not {}; use GeoJSON",
                    other.collection()
                ),
            ));
        }
    }
    Ok(
        json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": Value::Object(p) }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Crs, Format, Options, parse as parse_file};
    use super::*;
    use geo_types::{MultiPolygon, polygon};

    fn area() -> ServiceArea {
        let p = polygon![(x: 15.3, y: 58.2), (x: 15.9, y: 58.2), (x: 15.9, y: 58.6), (x: 15.3, y: 58.6), (x: 15.3, y: 58.2)];
        ServiceArea::new("0580", "Linköping", MultiPolygon(vec![p]), 0.0).unwrap()
    }

    #[test]
    fn the_bench_format_reads_with_default_names() {
        let csv = b"id,lon,lat,ts,category\n1,15.6214,58.4108,2024-01-05T20:00:00Z,theft\n2,15.63,58.41,2024-01-06 21:00,robbery\n";
        let p = parse_file(
            csv,
            &Options::new(Kind::Incident, Format::Csv),
            &area(),
            Utc::now(),
        );
        assert_eq!(p.features.len(), 2, "{:?}", p.rejects);
        assert!(p.rejects.is_empty() && p.fatal.is_none());
    }

    #[test]
    fn sweref_columns_with_decimal_commas_are_reprojected() {
        let csv = "nr;N;E;datum;typ\n7;6474614,998755;536308,536354;2024-01-05 21:00;vandalism\n";
        let csv = csv.replace(';', "\t");
        let mut o = Options::new(Kind::Incident, Format::Csv);
        o.crs = Crs::Sweref(3006);
        o.columns = Columns::parse("x=E,y=N,id=nr", "--columns").unwrap();
        let p = parse_file(
            csv.replace('\t', ",")
                .replace("6474614,998755", "\"6474614,998755\"")
                .replace("536308,536354", "\"536308,536354\"")
                .as_bytes(),
            &o,
            &area(),
            Utc::now(),
        );
        assert_eq!(p.features.len(), 1, "{:?} {:?}", p.rejects, p.fatal);
        let geo_types::Geometry::Point(pt) = p.features[0].geometry else {
            panic!()
        };
        assert!((pt.x() - 15.6214).abs() < 1e-6, "{pt:?}");
    }

    #[test]
    fn a_bad_row_is_named_by_its_line_and_column() {
        let csv = b"id,lon,lat,ts,category\n1,15.62,58.41,2024-01-05T20:00:00Z,theft\n2,15.62,58.41,not a time,theft\n3,15.62,,2024-01-05T20:00:00Z,theft\n4,15.62,58.41\n";
        let p = parse_file(
            csv,
            &Options::new(Kind::Incident, Format::Csv),
            &area(),
            Utc::now(),
        );
        assert_eq!(p.features.len(), 1);
        let described: Vec<String> = p.rejects.iter().map(ToString::to_string).collect();
        assert!(described[0].starts_with("line 3: time:"), "{described:?}");
        assert!(described[1].starts_with("line 4: y:"), "{described:?}");
        assert!(described[2].starts_with("line 5"), "{described:?}");
    }

    #[test]
    fn missing_coordinate_columns_are_fatal() {
        let p = parse_file(
            b"a,b\n1,2\n",
            &Options::new(Kind::Incident, Format::Csv),
            &area(),
            Utc::now(),
        );
        assert_eq!(p.fatal.unwrap().field, "x");
        assert!(Columns::parse("z=foo", "--columns").is_err());
    }
}
