//! Bulk import: CSV with configurable columns (WGS84 or SWEREF 99), GeoJSON
//! FeatureCollections, the Swedish Police events feed and the data.police.uk
//! street-level CSV. Every row goes through the same validation as an API
//! write; a bad row is named by its line (or feature) and the reason.

pub mod crs;
mod csv_rows;
mod police_uk;
mod time;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::attrs::Attributes;
use crate::service_area::ServiceArea;
use crate::{Error, Kind, NewFeature, Result, geometry};
pub use crs::{Crs, ToWgs84};
pub use csv_rows::Columns;
pub use time::parse_local_time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    /// The `polisen.se/api/events` JSON.
    Polisen,
    /// data.police.uk street-level crime CSV.
    PoliceUk,
}

impl Format {
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "geojson" | "json" => Ok(Self::GeoJson),
            "polisen" => Ok(Self::Polisen),
            "policeuk" | "police-uk" | "police.uk" => Ok(Self::PoliceUk),
            other => Err(Error::invalid(
                field,
                format!("unknown format `{other}`; use csv, geojson, polisen or policeuk"),
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub kind: Kind,
    pub format: Format,
    /// Coordinates of CSV and GeoJSON input (a GeoJSON `crs` member wins).
    pub crs: Crs,
    pub columns: Columns,
    /// The `source` recorded on CSV incidents (with the id column, what makes
    /// a re-import idempotent).
    pub source: String,
    /// Police feed: also import the nightly summaries (as `other`).
    pub include_summaries: bool,
}

impl Options {
    pub fn new(kind: Kind, format: Format) -> Self {
        Self {
            kind,
            format,
            crs: Crs::Wgs84,
            columns: Columns::default(),
            source: "csv".to_owned(),
            include_summaries: false,
        }
    }
}

/// One refused row: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// `line 12`, `feature 3`, `event 7`.
    pub location: String,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.location, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.location, self.field, self.reason)
        }
    }
}

impl Reject {
    fn from_error(location: String, e: &Error) -> Self {
        Self {
            location,
            field: e.field().to_owned(),
            reason: e.reason().to_owned(),
        }
    }
}

/// What a file holds: the valid features, the refused rows, and the rows
/// left out on purpose (summaries, other municipalities, rows without a
/// position).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub features: Vec<NewFeature>,
    pub rejects: Vec<Reject>,
    pub skipped: u64,
    /// A file-level failure (truncated JSON, wrong columns): nothing can be
    /// read past it.
    pub fatal: Option<Reject>,
}

impl Parsed {
    fn reject(&mut self, location: String, e: &Error) {
        self.rejects.push(Reject::from_error(location, e));
    }

    /// The first problem, if any: what an all-or-nothing import reports.
    pub fn first_problem(&self) -> Option<&Reject> {
        self.fatal.as_ref().or_else(|| self.rejects.first())
    }
}

/// Reads a whole file. Never fails half-way: every row is either a feature,
/// a reject or skipped, and a file that cannot be read past some point says
/// so in `fatal`.
pub fn parse(bytes: &[u8], opts: &Options, area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    match opts.format {
        Format::Csv => csv_rows::parse(bytes, opts, area, now),
        Format::PoliceUk => police_uk::parse(bytes, area, now),
        Format::GeoJson if opts.kind == Kind::Area && is_regso(bytes) => {
            parse_regso(bytes, area, now)
        }
        Format::GeoJson => parse_geojson(bytes, opts, area, now),
        Format::Polisen => parse_polisen(bytes, opts, area, now),
    }
}

/// Features a reader builds itself (RegSO districts, police events) get the
/// checks `NewFeature::parse` gives every other row: the kind's geometry
/// types, the service area, and the attributes' own rules.
fn validate(
    f: NewFeature,
    area: &ServiceArea,
    now: DateTime<Utc>,
    field: &str,
) -> Result<NewFeature> {
    geometry::check_rule(&f.geometry, f.kind().geometry_rule(), "geometry")?;
    let attributes = match Attributes::parse(f.kind(), &f.attributes.to_value(), now) {
        Ok(a) => a,
        Err(e) => {
            area.check(&f.geometry, field)?;
            return Err(e);
        }
    };
    area.check_feature(&f.geometry, &attributes, field)?;
    Ok(NewFeature {
        geometry: f.geometry,
        attributes,
    })
}

/// SCB RegSO files name their districts `regsokod`/`regsonamn`.
fn is_regso(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    head.windows(8).any(|w| w == b"regsokod")
}

fn parse_regso(bytes: &[u8], area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    let mut out = Parsed::default();
    match crate::regso::parse_areas(&String::from_utf8_lossy(bytes)) {
        Ok(features) => {
            for (i, f) in features.into_iter().enumerate() {
                match validate(f, area, now, "geometry.coordinates") {
                    Ok(f) => out.features.push(f),
                    Err(e) => out.reject(format!("feature {}", i + 1), &e),
                }
            }
        }
        Err(e) => out.fatal = Some(Reject::from_error("file".into(), &e)),
    }
    out
}

fn json_fatal(e: &serde_json::Error) -> Reject {
    Reject {
        location: format!("line {}, column {}", e.line(), e.column()),
        field: String::new(),
        reason: format!("not valid JSON: {e}"),
    }
}

fn parse_geojson(bytes: &[u8], opts: &Options, area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    let mut out = Parsed::default();
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            out.fatal = Some(json_fatal(&e));
            return out;
        }
    };
    let Some(features) = value
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| value["type"] == "FeatureCollection")
    else {
        out.fatal = Some(Reject {
            location: "file".into(),
            field: "type".into(),
            reason: "expected a GeoJSON FeatureCollection".into(),
        });
        return out;
    };
    let crs = match value
        .pointer("/crs/properties/name")
        .and_then(Value::as_str)
    {
        Some(name) => match Crs::parse(name, "crs") {
            Ok(c) => c,
            Err(e) => {
                out.fatal = Some(Reject::from_error("file".into(), &e));
                return out;
            }
        },
        None => opts.crs,
    };
    let transform = match ToWgs84::new(crs) {
        Ok(t) => t,
        Err(e) => {
            out.fatal = Some(Reject::from_error("file".into(), &e));
            return out;
        }
    };
    for (i, feature) in features.iter().enumerate() {
        let location = format!("feature {}", i + 1);
        let mut feature = feature.clone();
        if crs != Crs::Wgs84
            && let Some(coords) = feature.pointer_mut("/geometry/coordinates")
            && let Err(e) = reproject(coords, &transform)
        {
            out.reject(location, &e);
            continue;
        }
        match NewFeature::parse(opts.kind, &feature, area, now) {
            Ok(f) => out.features.push(f),
            Err(e) => out.reject(location, &e),
        }
    }
    out
}

/// Rewrites every position of a GeoJSON coordinates array in place.
pub(crate) fn reproject(v: &mut Value, t: &ToWgs84) -> Result<()> {
    let Value::Array(items) = v else {
        return Err(Error::invalid("geometry.coordinates", "must be an array"));
    };
    if items.len() >= 2 && items.iter().all(Value::is_number) {
        let x = items[0].as_f64().unwrap_or(f64::NAN);
        let y = items[1].as_f64().unwrap_or(f64::NAN);
        let (lon, lat) = t.convert(x, y, "geometry.coordinates")?;
        *v = serde_json::json!([lon, lat]);
        return Ok(());
    }
    items.iter_mut().try_for_each(|i| reproject(i, t))
}

fn parse_polisen(bytes: &[u8], opts: &Options, area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    let mut out = Parsed::default();
    let text = String::from_utf8_lossy(bytes);
    let events = match crate::polisen::parse_events(&text) {
        Ok(e) => e,
        Err(e) => {
            out.fatal = Some(match serde_json::from_str::<Value>(&text) {
                Err(json) => json_fatal(&json),
                Ok(_) => Reject::from_error("file".into(), &e),
            });
            return out;
        }
    };
    for (i, event) in events.iter().enumerate() {
        let municipality = match polisen_concerns(event, area) {
            Concerns::Municipality(code) => Some(code),
            Concerns::Area => None,
            Concerns::Other => {
                out.skipped += 1;
                continue;
            }
        };
        let incident = if event.is_summary() && opts.include_summaries {
            event.to_summary_incident(i, municipality)
        } else {
            event.to_incident(i, municipality)
        };
        match incident {
            Ok(Some(f)) => match validate(f, area, now, "location.gps") {
                Ok(f) => out.features.push(f),
                Err(e) => out.reject(format!("event {} (id {})", i + 1, event.id), &e),
            },
            Ok(None) => out.skipped += 1,
            Err(e) => out.reject(format!("event {} (id {})", i + 1, event.id), &e),
        }
    }
    out
}

/// Whether a police event is the service area's, and the municipality
/// (SCB code) it is counted by. The feed places every event at its
/// municipality's or its county's midpoint, so the event's own words
/// decide, not its position:
///
/// - made of Swedish municipalities: events whose title ends in a served
///   municipality (or whose location is one), wherever their midpoint
///   lies; events named only to a county when the area is that county
///   (kept, but counted in no municipality);
/// - a boundary file: municipality-level events whose midpoint lies inside
///   (a county's midpoint says nothing about the boundary).
enum Concerns<'a> {
    /// A served municipality (SCB code), which counts it.
    Municipality(&'a str),
    /// The area as a whole (a county's own events), counted in no municipality.
    Area,
    /// Somewhere else.
    Other,
}

fn polisen_concerns<'a>(event: &crate::polisen::Event, area: &'a ServiceArea) -> Concerns<'a> {
    if let Some(m) = event.served_member(area) {
        return Concerns::Municipality(area.members[m].code.as_str());
    }
    if let crate::service_area::Definition::County(c) = &area.definition {
        let named_to_county = crate::service_area::county_name(c) == Some(event.municipality());
        return if named_to_county {
            Concerns::Area
        } else {
            Concerns::Other
        };
    }
    if !area.members.is_empty() || event.is_county_level() {
        return Concerns::Other;
    }
    match event.position("location.gps") {
        Ok((lon, lat)) if area.contains(geo_types::Coord { x: lon, y: lat }) => Concerns::Area,
        _ => Concerns::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{MultiPolygon, polygon};

    fn area() -> ServiceArea {
        let p = polygon![(x: 15.3, y: 58.2), (x: 15.9, y: 58.2), (x: 15.9, y: 58.6), (x: 15.3, y: 58.6), (x: 15.3, y: 58.2)];
        ServiceArea::new("0580", "Linköping", MultiPolygon(vec![p]), 0.0).unwrap()
    }

    #[test]
    fn a_feature_collection_imports_and_names_a_bad_feature() {
        let fc = br#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[15.62,58.41]},"properties":{"category":"theft","occurred_at":"2024-01-01T10:00:00Z"}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[15.62,58.41]},"properties":{"category":"nope","occurred_at":"2024-01-01T10:00:00Z"}}]}"#;
        let p = parse(
            fc,
            &Options::new(Kind::Incident, Format::GeoJson),
            &area(),
            Utc::now(),
        );
        assert_eq!(p.features.len(), 1);
        assert_eq!(p.rejects[0].location, "feature 2");
        assert_eq!(p.rejects[0].field, "properties.category");
    }

    #[test]
    fn a_sweref_feature_collection_is_reprojected() {
        let fc = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3006"}},"features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[536308.536354,6474614.998755]},"properties":{"category":"theft","occurred_at":"2024-01-01T10:00:00Z"}}]}"#;
        let p = parse(
            fc,
            &Options::new(Kind::Incident, Format::GeoJson),
            &area(),
            Utc::now(),
        );
        assert_eq!(p.features.len(), 1, "{:?}", p.rejects);
        let geo_types::Geometry::Point(pt) = p.features[0].geometry else {
            panic!()
        };
        assert!((pt.x() - 15.6214).abs() < 1e-6 && (pt.y() - 58.4108).abs() < 1e-6);
    }

    #[test]
    fn police_events_and_districts_get_the_api_validation() {
        // Fuzz regressions: these readers build their features themselves
        // and skipped the checks every other row gets.
        let future = r#"[{"id": 5, "datetime": "2031-01-01 9:00:00 +01:00", "type": "Rån",
            "name": "01 januari 08:50, Rån, Linköping",
            "location": {"name": "Linköping", "gps": "58.410807,15.621373"}}]"#;
        let now = "2026-11-25T12:00:00Z".parse().unwrap();
        let p = parse(
            future.as_bytes(),
            &Options::new(Kind::Incident, Format::Polisen),
            &area(),
            now,
        );
        assert!(p.features.is_empty());
        assert_eq!(p.rejects[0].location, "event 1 (id 5)");
        assert_eq!(p.rejects[0].field, "properties.occurred_at");

        let point_district = br#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"regsokod":"0580R001","regsonamn":"Berga"},
            "geometry":{"type":"Point","coordinates":[15.62,58.41]}}]}"#;
        let p = parse(
            point_district,
            &Options::new(Kind::Area, Format::GeoJson),
            &area(),
            now,
        );
        assert!(p.features.is_empty());
        assert_eq!(p.rejects[0].location, "feature 1");
        assert_eq!(p.rejects[0].field, "geometry.type");
    }

    #[test]
    fn truncated_json_is_fatal_with_its_line() {
        let p = parse(
            b"{\"type\":\"FeatureCollection\",\n\"features\":[{",
            &Options::new(Kind::Incident, Format::GeoJson),
            &area(),
            Utc::now(),
        );
        let fatal = p.fatal.unwrap();
        assert!(fatal.location.starts_with("line 2"), "{fatal}");
        let p = parse(
            b"[{\"id\": 1,",
            &Options::new(Kind::Incident, Format::Polisen),
            &area(),
            Utc::now(),
        );
        assert!(p.fatal.is_some());
    }
}
