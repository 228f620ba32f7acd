//! The service area: what a deployment serves. One Swedish municipality,
//! several (a police area often spans two to five), a whole county, or any
//! boundary it is given (other countries too), with the time zone its
//! local times are in.
//!
//! **Every written coordinate must lie inside it**, within
//! [`BORDER_TOLERANCE_M`] of the outline for GPS error at the border; a
//! refused position is named with its distance to the boundary. The one
//! exception is a record whose position is only a stand-in: an incident
//! whose precision is [`NOT_A_POSITION_M`] or coarser and that names a
//! served municipality (the police feed places events at a county's
//! midpoint, which may lie outside the municipality they concern). Such a
//! record keeps the position and precision its source gave, is never in a
//! hexagon (the index's precision rule) and is counted by the municipality
//! it names. [`ServiceArea::check_feature`] is the one place every write,
//! import and re-check passes.
//!
//! Swedish outlines are at street precision (the dissolve of SCB's RegSO
//! areas, see [`sweden`]); no simplified outline widened by a tolerance.

pub mod outline;
pub mod sweden;

use chrono_tz::Tz;
use geo_types::{Coord, Geometry, MultiPolygon};
use serde_json::Value;

use crate::attrs::Attributes;
use crate::bbox::Bbox;
use crate::{Error, Result, geometry};
pub use outline::Outline;
pub use sweden::{COUNTIES, Member, Selection, Sweden, county_name};

/// How far outside the legal boundary a position may lie: GPS error at the
/// border, nothing more.
pub const BORDER_TOLERANCE_M: f64 = 100.0;
/// A precision this coarse says the point stands in for an area (a
/// municipality's or county's midpoint), not a place.
pub const NOT_A_POSITION_M: u32 = 10_000;
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Europe::Stockholm;
/// Sweden with a margin: where a stand-in position of a Swedish
/// municipality may lie.
const SWEDEN: Bbox = Bbox {
    min_lon: 10.0,
    min_lat: 55.0,
    max_lon: 24.5,
    max_lat: 69.5,
};

/// What was asked for, as the database remembers it.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    /// SCB codes, sorted.
    Municipalities(Vec<String>),
    /// A county's two-digit code.
    County(String),
    /// A boundary given as a file, in WGS84.
    Boundary(MultiPolygon<f64>),
}

impl Definition {
    /// The stored form: `municipalities:0580,0583`, `county:05` or
    /// `boundary` (the geometry then goes beside it as GeoJSON).
    pub fn key(&self) -> String {
        match self {
            Definition::Municipalities(codes) => format!("municipalities:{}", codes.join(",")),
            Definition::County(c) => format!("county:{c}"),
            Definition::Boundary(_) => "boundary".to_owned(),
        }
    }

    /// The boundary as stored GeoJSON (6 decimals), for a boundary file.
    pub fn boundary_geojson(&self) -> Option<String> {
        match self {
            Definition::Boundary(shape) => {
                Some(geometry::to_value(&Geometry::MultiPolygon(shape.clone())).to_string())
            }
            _ => None,
        }
    }

    /// What to pass to `--service-area` for this definition.
    pub fn selector(&self) -> String {
        match self {
            Definition::Municipalities(codes) => codes.join(","),
            Definition::County(c) => c.clone(),
            Definition::Boundary(_) => "FILE.geojson".to_owned(),
        }
    }

    /// # Errors
    /// A stored form this version does not know.
    pub fn from_stored(key: &str, boundary: Option<&str>) -> Result<Self> {
        if let Some(codes) = key.strip_prefix("municipalities:") {
            return Ok(Definition::Municipalities(
                codes.split(',').map(str::to_owned).collect(),
            ));
        }
        if let Some(c) = key.strip_prefix("county:") {
            return Ok(Definition::County(c.to_owned()));
        }
        if key == "boundary" {
            let text = boundary.ok_or_else(|| {
                Error::invalid("service_area", "a stored boundary has no geometry")
            })?;
            return Ok(Definition::Boundary(shape_from_geojson(text.as_bytes())?));
        }
        Err(Error::invalid(
            "service_area",
            format!("unknown stored definition `{key}`"),
        ))
    }
}

/// A service area as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// [`Definition::key`].
    pub definition: String,
    pub name: String,
    /// IANA name, e.g. `Europe/Stockholm`.
    pub timezone: String,
    /// GeoJSON geometry, for a boundary file.
    pub boundary: Option<String>,
}

impl std::fmt::Display for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.definition, self.timezone)
    }
}

/// Parses an IANA time zone name (`Europe/Stockholm`, `Europe/Oslo`).
///
/// # Errors
/// A name the time zone database does not know.
pub fn parse_timezone(name: &str, field: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(
            field,
            format!("`{name}` is not an IANA time zone (e.g. Europe/Stockholm, Europe/London)"),
        )
    })
}

/// Reads a boundary: a GeoJSON Polygon, MultiPolygon, Feature or
/// FeatureCollection (every polygon of it), in WGS84 or in the CRS its
/// legacy `crs` member or `crs` names (SWEREF 99 TM and the local zones).
///
/// # Errors
/// Not JSON, no polygon, or coordinates that do not convert.
pub fn boundary_from_geojson(
    bytes: &[u8],
    crs: Option<crate::import::Crs>,
) -> Result<MultiPolygon<f64>> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| Error::invalid("service_area", e))?;
    let crs = match value
        .pointer("/crs/properties/name")
        .and_then(Value::as_str)
    {
        Some(name) => crate::import::Crs::parse(name, "crs")?,
        None => crs.unwrap_or(crate::import::Crs::Wgs84),
    };
    if crs != crate::import::Crs::Wgs84 {
        let t = crate::import::ToWgs84::new(crs)?;
        reproject(&mut value, &t)?;
    }
    shape_from_value(&value)
}

fn reproject(v: &mut Value, t: &crate::import::ToWgs84) -> Result<()> {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "coordinates" {
                    crate::import::reproject(child, t)
                        .map_err(|e| Error::invalid("service_area", e.reason()))?;
                } else if k != "properties" && k != "crs" {
                    reproject(child, t)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| reproject(i, t)),
        _ => Ok(()),
    }
}

/// Reads every polygon of a GeoJSON geometry, Feature or FeatureCollection
/// in WGS84.
///
/// # Errors
/// Not JSON, or no polygon in it.
pub fn shape_from_geojson(bytes: &[u8]) -> Result<MultiPolygon<f64>> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Error::invalid("service_area", e))?;
    shape_from_value(&value)
}

fn shape_from_value(value: &Value) -> Result<MultiPolygon<f64>> {
    let mut polygons = Vec::new();
    collect_polygons(value, "service_area", &mut polygons)?;
    if polygons.is_empty() {
        return Err(Error::invalid(
            "service_area",
            "the boundary holds no Polygon or MultiPolygon",
        ));
    }
    Ok(MultiPolygon(polygons))
}

fn collect_polygons(
    value: &Value,
    field: &str,
    out: &mut Vec<geo_types::Polygon<f64>>,
) -> Result<()> {
    match value["type"].as_str() {
        Some("FeatureCollection") => {
            let features = value["features"]
                .as_array()
                .ok_or_else(|| Error::invalid(format!("{field}.features"), "must be an array"))?;
            for (i, f) in features.iter().enumerate() {
                collect_polygons(f, &format!("{field}.features[{i}]"), out)?;
            }
            Ok(())
        }
        Some("Feature") => collect_polygons(&value["geometry"], &format!("{field}.geometry"), out),
        Some("Polygon" | "MultiPolygon") => {
            match geometry::parse(value, field)? {
                Geometry::Polygon(p) => out.push(p),
                Geometry::MultiPolygon(mp) => out.extend(mp.0),
                _ => {}
            }
            Ok(())
        }
        Some(other) => Err(Error::invalid(
            format!("{field}.type"),
            format!("a boundary is a Polygon or MultiPolygon, not `{other}`"),
        )),
        None => Err(Error::invalid(
            format!("{field}.type"),
            "missing; expected a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection",
        )),
    }
}

/// The area a deployment serves.
#[derive(Debug, Clone)]
pub struct ServiceArea {
    /// Short form for messages: `0580`, `0580,0583`, `05`, `boundary`.
    pub code: String,
    pub name: String,
    pub definition: Definition,
    pub timezone: Tz,
    /// Every part of every member, for tiling and framing.
    pub shape: MultiPolygon<f64>,
    pub bbox: Bbox,
    /// The Swedish municipalities it is made of (empty for a boundary file).
    pub members: Vec<Member>,
    /// One per member, or one for a boundary file.
    outlines: Vec<Outline>,
    pub tolerance_m: f64,
}

impl ServiceArea {
    /// A service area from a boundary (no member municipalities), in the
    /// default time zone. `tolerance_m` is for GPS error at the border and
    /// may not exceed [`BORDER_TOLERANCE_M`].
    ///
    /// # Errors
    /// An empty shape or a tolerance above 100 m.
    pub fn new(code: &str, name: &str, shape: MultiPolygon<f64>, tolerance_m: f64) -> Result<Self> {
        if !(0.0..=BORDER_TOLERANCE_M).contains(&tolerance_m) {
            return Err(Error::invalid(
                "service_area",
                format!("a border tolerance is at most {BORDER_TOLERANCE_M} m"),
            ));
        }
        let outline = Outline::new(&shape, "service_area")?;
        Ok(Self {
            code: code.to_owned(),
            name: name.to_owned(),
            definition: Definition::Boundary(shape.clone()),
            timezone: DEFAULT_TIMEZONE,
            bbox: outline.bbox,
            shape,
            members: Vec::new(),
            outlines: vec![outline],
            tolerance_m,
        })
    }

    /// Builds the area a definition names. `name` overrides the default
    /// (the municipality's or county's name, or the names of several
    /// municipalities).
    ///
    /// # Errors
    /// An unknown municipality or county, or an empty boundary.
    pub fn build(
        definition: Definition,
        name: Option<&str>,
        timezone: Tz,
        sweden: &Sweden<'_>,
    ) -> Result<Self> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let codes = match &definition {
            Definition::Boundary(shape) => {
                let mut area = Self::new(
                    "boundary",
                    name.unwrap_or("Service area"),
                    shape.clone(),
                    BORDER_TOLERANCE_M,
                )?;
                area.timezone = timezone;
                return Ok(area);
            }
            Definition::Municipalities(codes) => codes.clone(),
            Definition::County(c) => sweden.county_members(c),
        };
        if codes.is_empty() {
            return Err(Error::invalid("service_area", "names no municipality"));
        }
        let mut members = Vec::with_capacity(codes.len());
        let mut outlines = Vec::with_capacity(codes.len());
        let mut parts = Vec::new();
        for code in &codes {
            let member = sweden.member(code).ok_or_else(|| {
                Error::invalid("service_area", format!("no Swedish municipality `{code}`"))
            })?;
            let shape = sweden.outline(code)?;
            outlines.push(Outline::new(&shape, "service_area")?);
            parts.extend(shape.0);
            members.push(member);
        }
        let bbox = outlines.iter().skip(1).fold(outlines[0].bbox, |b, o| Bbox {
            min_lon: b.min_lon.min(o.bbox.min_lon),
            min_lat: b.min_lat.min(o.bbox.min_lat),
            max_lon: b.max_lon.max(o.bbox.max_lon),
            max_lat: b.max_lat.max(o.bbox.max_lat),
        });
        let (code, default_name) = match &definition {
            Definition::County(c) => (c.clone(), county_name(c).unwrap_or("county").to_owned()),
            _ => (codes.join(","), list_names(&members)),
        };
        Ok(Self {
            code,
            name: name.map_or(default_name, str::to_owned),
            definition,
            timezone,
            shape: MultiPolygon(parts),
            bbox,
            members,
            outlines,
            tolerance_m: BORDER_TOLERANCE_M,
        })
    }

    /// The area a database remembers.
    ///
    /// # Errors
    /// A stored form or time zone this version cannot read.
    pub fn from_stored(stored: &Stored, sweden: &Sweden<'_>) -> Result<Self> {
        let definition = Definition::from_stored(&stored.definition, stored.boundary.as_deref())?;
        let tz = parse_timezone(&stored.timezone, "timezone")?;
        Self::build(definition, Some(&stored.name), tz, sweden)
    }

    /// What the database keeps of this area.
    pub fn to_stored(&self) -> Stored {
        Stored {
            definition: self.definition.key(),
            name: self.name.clone(),
            timezone: self.timezone.name().to_owned(),
            boundary: self.definition.boundary_geojson(),
        }
    }

    /// Whether a position lies inside the area or within the border
    /// tolerance of it.
    pub fn contains(&self, c: Coord<f64>) -> bool {
        self.outlines.iter().any(|o| o.contains(c))
            || (self.tolerance_m > 0.0
                && self
                    .outlines
                    .iter()
                    .any(|o| o.boundary_within_m(c, self.tolerance_m)))
    }

    /// Whether a position lies inside the outline itself (no tolerance).
    pub fn strictly_contains(&self, c: Coord<f64>) -> bool {
        self.outlines.iter().any(|o| o.contains(c))
    }

    /// How far outside the area a position lies, in metres.
    pub fn distance_outside_m(&self, c: Coord<f64>) -> f64 {
        if self.outlines.iter().any(|o| o.contains(c)) {
            return 0.0;
        }
        self.outlines
            .iter()
            .map(|o| o.distance_to_boundary_m(c))
            .fold(f64::INFINITY, f64::min)
    }

    /// The member municipality a position lies in (or, within the border
    /// tolerance, next to), by its index in [`Self::members`].
    pub fn member_at(&self, c: Coord<f64>) -> Option<usize> {
        if self.members.is_empty() {
            return None;
        }
        self.outlines
            .iter()
            .position(|o| o.contains(c))
            .or_else(|| {
                self.outlines
                    .iter()
                    .position(|o| o.boundary_within_m(c, self.tolerance_m))
            })
    }

    /// The member municipality with this name (any case; hyphens as
    /// spaces), by index.
    pub fn member_by_name(&self, name: &str) -> Option<usize> {
        let wanted = sweden::fold(name);
        self.members
            .iter()
            .position(|m| sweden::fold(&m.name) == wanted)
    }

    /// The member municipality with this SCB code, by index.
    pub fn member_index(&self, code: &str) -> Option<usize> {
        self.members.iter().position(|m| m.code == code)
    }

    /// The member municipality a record belongs to: for a stand-in
    /// position, the one it names or none (an event named only to the
    /// county: its midpoint lies in some municipality, which did not
    /// necessarily see it); else the one its position lies in.
    pub fn member_of(&self, geometry: &Geometry<f64>, attributes: &Attributes) -> Option<usize> {
        if is_stand_in(attributes) {
            return stand_in_municipality(attributes).and_then(|code| self.member_index(code));
        }
        self.member_at(geometry::representative_point(geometry))
    }

    /// Refuses a geometry with any vertex outside the area, naming it and
    /// how far outside it lies.
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
                        "[{:.6}, {:.6}]{which} lies {} outside the service area {} ({}); GeoJSON is [longitude, latitude]",
                        c.x,
                        c.y,
                        describe_distance(self.distance_outside_m(c)),
                        self.name,
                        self.code
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The service-area rule for a whole record: [`Self::check`], except
    /// for a stand-in position (see the module documentation), which must
    /// name a served municipality instead.
    pub fn check_feature(
        &self,
        geometry: &Geometry<f64>,
        attributes: &Attributes,
        field: &str,
    ) -> Result<()> {
        let Some(code) = stand_in_municipality(attributes).filter(|_| !self.members.is_empty())
        else {
            return self.check(geometry, field);
        };
        if self.member_index(code).is_none() {
            return Err(Error::invalid(
                "properties.municipality",
                format!(
                    "`{code}` is not one of the municipalities the service area {} serves ({})",
                    self.name,
                    self.members
                        .iter()
                        .map(|m| m.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        for c in geometry::vertices(geometry) {
            if !SWEDEN.contains(c.x, c.y) {
                return Err(Error::invalid(
                    field,
                    format!(
                        "[{:.6}, {:.6}] is not in Sweden; GeoJSON is [longitude, latitude]",
                        c.x, c.y
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether this is the same area as `other` (definition and time zone;
    /// the name too when `compare_name`).
    pub fn same_as(&self, other: &Stored, compare_name: bool) -> bool {
        let mine = self.to_stored();
        mine.definition == other.definition
            && mine.timezone == other.timezone
            && mine.boundary == other.boundary
            && (!compare_name || mine.name == other.name)
    }
}

/// Whether a record's position only stands in for an area: an incident
/// coarser than [`NOT_A_POSITION_M`] (the police feed's midpoints).
pub fn is_stand_in(attributes: &Attributes) -> bool {
    matches!(attributes, Attributes::Incident(i) if i.precision_m >= NOT_A_POSITION_M)
}

/// The municipality (SCB code) a stand-in position names, if any.
pub fn stand_in_municipality(attributes: &Attributes) -> Option<&str> {
    match attributes {
        Attributes::Incident(i) if i.precision_m >= NOT_A_POSITION_M => i.municipality.as_deref(),
        _ => None,
    }
}

/// `Mjölby, Boxholm och Ödeshög`.
fn list_names(members: &[Member]) -> String {
    match members {
        [] => String::new(),
        [one] => one.name.clone(),
        [init @ .., last] => format!(
            "{} och {}",
            init.iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            last.name
        ),
    }
}

/// `212 m`, `3.4 km`, `1 234 km`.
fn describe_distance(m: f64) -> String {
    if m < 10_000.0 {
        if m < 1_000.0 {
            format!("{m:.0} m")
        } else {
            format!("{:.1} km", m / 1_000.0)
        }
    } else {
        format!("{:.0} km", m / 1_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{Polygon, polygon};

    fn square() -> ServiceArea {
        let p: Polygon<f64> = polygon![(x: 15.5, y: 58.3), (x: 15.7, y: 58.3), (x: 15.7, y: 58.5), (x: 15.5, y: 58.5), (x: 15.5, y: 58.3)];
        ServiceArea::new("9999", "Test", MultiPolygon(vec![p]), 100.0).unwrap()
    }

    #[test]
    fn inside_near_and_far_points() {
        let a = square();
        assert!(a.contains(Coord { x: 15.6, y: 58.4 }));
        // ≈ 60 m east of the edge: within the 100 m tolerance.
        assert!(a.contains(Coord { x: 15.701, y: 58.4 }));
        // ≈ 200 m east: outside.
        assert!(!a.contains(Coord {
            x: 15.7034,
            y: 58.4
        }));
        // lat/lon swapped: far away.
        assert!(!a.contains(Coord { x: 58.4, y: 15.6 }));
    }

    #[test]
    fn a_refusal_names_the_distance_to_the_boundary() {
        let a = square();
        let g = Geometry::Point(geo_types::Point::new(15.7034, 58.4));
        let err = a.check(&g, "geometry.coordinates").unwrap_err();
        assert!(
            err.reason().contains("lies 198 m outside"),
            "{}",
            err.reason()
        );
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
        assert!(err.reason().contains("52 km outside"), "{}", err.reason());
    }

    #[test]
    fn a_tolerance_beyond_gps_error_is_refused() {
        let p: Polygon<f64> = polygon![(x: 15.5, y: 58.3), (x: 15.7, y: 58.3), (x: 15.7, y: 58.5), (x: 15.5, y: 58.3)];
        assert!(ServiceArea::new("x", "x", MultiPolygon(vec![p]), 2_000.0).is_err());
    }

    #[test]
    fn a_projected_boundary_file_is_read_in_wgs84() {
        // A square of 2 km around Linköping's centre in SWEREF 99 TM.
        let fc = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3006"}},
          "features":[{"type":"Feature","properties":{"OBJECTID":1},"geometry":{"type":"Polygon","coordinates":[[[535300,6473600],[537300,6473600],[537300,6475600],[535300,6475600],[535300,6473600]]]}}]}"#;
        let shape = boundary_from_geojson(fc, None).unwrap();
        let a = ServiceArea::new("boundary", "Centrum", shape, 100.0).unwrap();
        assert!(a.contains(Coord {
            x: 15.6214,
            y: 58.4108
        }));
        assert!(!a.contains(Coord { x: 15.7, y: 58.41 }));
    }

    #[test]
    fn a_boundary_without_polygons_is_refused_by_name() {
        let err = shape_from_geojson(br#"{"type":"Point","coordinates":[15,58]}"#).unwrap_err();
        assert!(err.reason().contains("Polygon or MultiPolygon"), "{err}");
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            parse_timezone("Europe/Oslo", "timezone").unwrap(),
            chrono_tz::Europe::Oslo
        );
        assert_eq!(
            parse_timezone("CEST", "timezone").unwrap_err().field(),
            "timezone"
        );
    }
}
