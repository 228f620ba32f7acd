//! Bulk import: CSV with configurable columns (WGS84 or SWEREF 99), GeoJSON
//! FeatureCollections, the Swedish Police events feed (its JSON, or the same
//! fields as CSV) and the data.police.uk street-level CSV. Every row goes
//! through the same validation as an API write; a bad row is named by its
//! line (or feature) and the reason.
//!
//! Every file passes `text::decode` first (gzip, encoding) and every row
//! the [`Collector`]: ids repeated within a file, presence without an end,
//! and the rejects are handled there once for all formats.

mod areas;
mod columns;
pub mod crs;
mod csv_rows;
mod geojson;
mod ids;
pub mod names;
mod police_uk;
mod polisen_feed;
mod table;
mod text;
mod time;

use std::collections::HashMap;

use crate::attrs::{Attributes, Presence};
use crate::service_area::ServiceArea;
use crate::{Error, Kind, NewFeature, Result, geometry};
use chrono::{DateTime, Duration, Utc};
pub use chrono_tz::Tz;
pub use columns::Columns;
pub use crs::{Crs, ToWgs84};
pub use names::ValueMaps;
pub use text::{TextEncoding, decode, detect_delimiter, parse_delimiter};
pub use time::{
    DEFAULT_TIMEZONE, parse_clock, parse_duration, parse_local_time, parse_time, parse_timezone,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    /// The `polisen.se/api/events` JSON, or its fields as CSV.
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
    pub encoding: TextEncoding,
    /// The CSV delimiter; `None`: detected.
    pub delimiter: Option<u8>,
    /// The user's `--map`s, applied before Trygg's own names.
    pub maps: ValueMaps,
    /// The zone of times written without an offset.
    pub timezone: Tz,
    /// The length of an imported presence that has no end or duration.
    pub default_duration: Option<Duration>,
}

/// The options [`Options::set`] takes, for error messages and the API.
pub const OPTION_NAMES: &[&str] = &[
    "crs",
    "columns",
    "source",
    "include_summaries",
    "encoding",
    "delimiter",
    "map",
    "timezone",
    "default_duration",
];

impl Options {
    pub fn new(kind: Kind, format: Format) -> Self {
        Self {
            kind,
            format,
            crs: Crs::Wgs84,
            columns: Columns::default(),
            source: "csv".to_owned(),
            include_summaries: false,
            encoding: TextEncoding::Detect,
            delimiter: None,
            maps: ValueMaps::default(),
            timezone: time::DEFAULT_TIMEZONE,
            default_duration: None,
        }
    }

    /// Sets one option by name (`default_duration` or `default-duration`),
    /// as the command line and the API both name them; `field` is what an
    /// error names (`--crs`, `crs`). `map` adds to the maps given before.
    pub fn set(&mut self, name: &str, value: &str, field: &str) -> Result<()> {
        match name.replace('-', "_").as_str() {
            "crs" => self.crs = Crs::parse(value, field)?,
            "columns" => self.columns = Columns::parse(value, field)?,
            "source" => {
                crate::attrs::check_text(field, value, 64)?;
                value.trim().clone_into(&mut self.source);
            }
            "include_summaries" => {
                self.include_summaries = match value {
                    "true" | "1" | "yes" | "" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(Error::invalid(field, "true or false")),
                };
            }
            "encoding" => self.encoding = TextEncoding::parse(value, field)?,
            "delimiter" => self.delimiter = text::parse_delimiter(value, field)?,
            "map" => self.maps.add(self.kind, value, field)?,
            "timezone" => self.timezone = time::parse_timezone(value, field)?,
            "default_duration" => {
                let d = time::parse_duration(value, field)?;
                if d > Duration::hours(Presence::MAX_HOURS) {
                    return Err(Error::invalid(
                        field,
                        format!("a presence lasts at most {} hours", Presence::MAX_HOURS),
                    ));
                }
                self.default_duration = Some(d);
            }
            other => {
                return Err(Error::invalid(
                    field,
                    format!("unknown option `{other}`; use {}", OPTION_NAMES.join(", ")),
                ));
            }
        }
        Ok(())
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
        // A problem of the whole file needs no "file:" before it.
        if self.location == "file" {
            if self.field.is_empty() {
                return write!(f, "{}", self.reason);
            }
            return write!(f, "{}: {}", self.field, self.reason);
        }
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
    /// Rows that repeat an earlier row's id with the same values (police.uk
    /// lists a crime once per outcome): one record, counted here.
    pub merged: u64,
    /// What was assumed or left out for the whole file, said once
    /// (`read as Windows-1252`, `ignored attributes: OBJECTID, Shape_Area`).
    pub notes: Vec<String>,
    /// A file-level failure (truncated JSON, wrong columns): nothing can be
    /// read past it.
    pub fatal: Option<Reject>,
}

impl Parsed {
    fn reject(&mut self, location: String, e: &Error) {
        self.rejects.push(Reject::from_error(location, e));
    }

    fn fatal(reject: Reject) -> Self {
        Self {
            fatal: Some(reject),
            ..Self::default()
        }
    }

    /// The first problem, if any: what an all-or-nothing import reports.
    pub fn first_problem(&self) -> Option<&Reject> {
        self.fatal.as_ref().or_else(|| self.rejects.first())
    }
}

/// Where a row sits in its file, formatted only when it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Row {
    Line(u64),
    /// Counted from 0; shown from 1.
    Feature(usize),
    Event {
        index: usize,
        id: i64,
    },
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Row::Line(n) => write!(f, "line {n}"),
            Row::Feature(i) => write!(f, "feature {}", i + 1),
            Row::Event { index, id } => write!(f, "event {} (id {id})", index + 1),
        }
    }
}

/// Where every read row goes: ids repeated in a file become one record
/// (same values) or a reject (other values); a presence without an end
/// gets the default duration or is refused.
struct Collector<'a> {
    out: Parsed,
    opts: &'a Options,
    now: DateTime<Utc>,
    /// Hash of a record's key → the feature that holds it, and its row.
    /// Kept small (no allocation per row): a 100,000-row file pays for
    /// this map and nothing else.
    seen: HashMap<u64, (u32, Row)>,
}

impl<'a> Collector<'a> {
    fn new(opts: &'a Options, now: DateTime<Utc>) -> Self {
        Self {
            out: Parsed::default(),
            opts,
            now,
            seen: HashMap::new(),
        }
    }

    /// The value, or `None` with the file's failure recorded.
    fn or_fatal<T>(&mut self, r: std::result::Result<T, Reject>) -> Option<T> {
        r.map_err(|fatal| self.out.fatal = Some(fatal)).ok()
    }

    fn reject(&mut self, row: Row, e: &Error) {
        self.out.reject(row.to_string(), e);
    }

    fn accept(&mut self, row: Row, feature: NewFeature) {
        let feature = match self.close_presence(feature) {
            Ok(f) => f,
            Err(e) => return self.reject(row, &e),
        };
        if let Some((key, field)) = record_key(&feature.attributes) {
            let hash = ids::content_hash(key);
            if let Some(&(i, first)) = self.seen.get(&hash) {
                let earlier = &self.out.features[i as usize];
                // Another key with the same hash (never seen in practice)
                // is simply another record.
                if record_key(&earlier.attributes).is_some_and(|(k, _)| k == key) {
                    if *earlier == feature {
                        self.out.merged += 1;
                    } else {
                        let e = Error::invalid(
                            field,
                            format!(
                                "`{}` is also the id of {first}, with other values; one record cannot hold both",
                                key[1]
                            ),
                        );
                        self.reject(row, &e);
                    }
                    return;
                }
            } else {
                self.seen
                    .insert(hash, (self.out.features.len() as u32, row));
            }
        }
        self.out.features.push(feature);
    }

    /// Only a live log from the field may be open: an imported presence
    /// needs an end, or the default duration is its length.
    fn close_presence(&self, feature: NewFeature) -> Result<NewFeature> {
        let Attributes::Presence(p) = &feature.attributes else {
            return Ok(feature);
        };
        if p.ended_at.is_some() {
            return Ok(feature);
        }
        let Some(d) = self.opts.default_duration else {
            return Err(Error::invalid(
                "properties.ended_at",
                "an imported presence needs an end or a duration: give an end column (end, ended_at, slut), a duration column (duration, minutes, minuter) or --default-duration 15m",
            ));
        };
        let mut closed = p.clone();
        closed.ended_at = Some(p.started_at + d);
        validate(
            NewFeature {
                geometry: feature.geometry,
                attributes: Attributes::Presence(closed),
            },
            None,
            self.now,
            "geometry",
        )
    }

    fn finish(mut self) -> Parsed {
        self.out.notes.dedup();
        self.out
    }
}

/// The parts that make a record the same as another, and the field that
/// holds its id: (source, source id) for incidents and areas, the client
/// id for the rest.
fn record_key(a: &Attributes) -> Option<([&str; 2], &'static str)> {
    match a {
        Attributes::Incident(i) => i
            .source_id
            .as_deref()
            .map(|id| ([i.source.as_str(), id], "properties.source_id")),
        Attributes::Area(x) => Some((
            [x.source.as_deref().unwrap_or(&x.level), x.code.as_str()],
            "properties.code",
        )),
        Attributes::Report(r) => r
            .client_id
            .as_deref()
            .map(|c| (["", c], "properties.client_id")),
        Attributes::Presence(p) => p
            .client_id
            .as_deref()
            .map(|c| (["", c], "properties.client_id")),
        Attributes::Measure(m) => m
            .client_id
            .as_deref()
            .map(|c| (["", c], "properties.client_id")),
        Attributes::Place(_) => None,
    }
}

/// Reads a whole file. Never fails half-way: every row is either a feature,
/// a reject or skipped, and a file that cannot be read past some point says
/// so in `fatal`.
pub fn parse(bytes: &[u8], opts: &Options, area: &ServiceArea, now: DateTime<Utc>) -> Parsed {
    let decoded = match text::decode(bytes, opts.encoding) {
        Ok(d) => d,
        Err(fatal) => return Parsed::fatal(fatal),
    };
    let mut c = Collector::new(opts, now);
    if decoded.fell_back {
        c.out
            .notes
            .push("read as Windows-1252 (the file is not UTF-8)".to_owned());
    }
    let text = &*decoded.text;
    match opts.format {
        Format::Csv => csv_rows::parse(text, area, &mut c),
        Format::PoliceUk => police_uk::parse(text, area, &mut c),
        Format::GeoJson if opts.kind == Kind::Area => areas::parse(text, area, &mut c),
        Format::GeoJson => geojson::parse(text, area, &mut c),
        Format::Polisen => polisen_feed::parse(text, area, &mut c),
    }
    let mut parsed = c.finish();
    if parsed.fatal.is_some() {
        parsed.features.clear();
        parsed.rejects.clear();
    }
    parsed
}

/// Features a reader builds itself (districts, police events, presence
/// closed by the default duration) get the checks `NewFeature::parse`
/// gives every other row: the kind's geometry types, the service area, and
/// the attributes' own rules.
fn validate(
    f: NewFeature,
    area: Option<&ServiceArea>,
    now: DateTime<Utc>,
    field: &str,
) -> Result<NewFeature> {
    geometry::check_rule(&f.geometry, f.kind().geometry_rule(), "geometry")?;
    if let Some(area) = area {
        area.check(&f.geometry, field)?;
    }
    let attributes = Attributes::parse(f.kind(), &f.attributes.to_value(), now)?;
    Ok(NewFeature {
        geometry: f.geometry,
        attributes,
    })
}

fn json_fatal(e: &serde_json::Error) -> Reject {
    Reject {
        location: format!("line {}, column {}", e.line(), e.column()),
        field: String::new(),
        reason: format!("not valid JSON: {e}"),
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
    fn the_police_feed_as_csv_gives_what_its_json_gives() {
        let now = "2026-11-25T12:00:00Z".parse().unwrap();
        let opts = Options::new(Kind::Incident, Format::Polisen);
        let json = parse(
            include_bytes!("../../../../fixtures/polisen_events_ostergotland.json"),
            &opts,
            &area(),
            now,
        );
        let csv = parse(
            include_bytes!("../../../../fixtures/polisen_events_ostergotland.csv"),
            &opts,
            &area(),
            now,
        );
        assert!(
            csv.fatal.is_none() && csv.rejects.is_empty(),
            "{:?}",
            csv.first_problem()
        );
        assert_eq!(json.features.len(), 425);
        assert_eq!(csv.features, json.features);
        assert_eq!(csv.skipped, json.skipped);
    }

    #[test]
    fn a_gzipped_feature_collection_with_swedish_values_and_no_ids_imports() {
        use std::io::Write;
        let fc = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[15.62,58.41]},"properties":{"reasons":["Belysning","Buskage"],"source":"Trygghetsvandring","reported_at":"2024-01-01 21:00"}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[15.62,58.41]},"properties":{"reasons":["Belysning","Buskage"],"source":"Trygghetsvandring","reported_at":"2024-01-01 21:00"}}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(fc.as_bytes()).unwrap();
        let p = parse(
            &gz.finish().unwrap(),
            &Options::new(Kind::Report, Format::GeoJson),
            &area(),
            Utc::now(),
        );
        assert_eq!(
            p.features.len(),
            2,
            "identical features stay two: {:?}",
            p.rejects
        );
        let Attributes::Report(r) = &p.features[0].attributes else {
            panic!()
        };
        assert_eq!(
            r.reported_at.to_rfc3339(),
            "2024-01-01T20:00:00+00:00",
            "local time"
        );
        let bad = parse(
            fc.replace("2024-01-01 21:00", "1/1/2024 21:00").as_bytes(),
            &Options::new(Kind::Report, Format::GeoJson),
            &area(),
            Utc::now(),
        );
        assert_eq!(bad.rejects[0].field, "properties.reported_at");
        assert_eq!(
            r.reasons,
            [
                crate::attrs::Reason::Lighting,
                crate::attrs::Reason::Vegetation
            ]
        );
        assert!(
            r.client_id
                .as_deref()
                .is_some_and(|c| c.starts_with("row-"))
        );
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
