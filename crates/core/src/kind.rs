use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The kinds of record the citizen promise works with; each has its own
/// collection in the API and its own attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Incident,
    Report,
    Presence,
    Measure,
    Place,
    Area,
}

/// Which geometry types a kind accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryRule {
    PointOnly,
    PointOrLine,
    PointOrPolygon,
    Any,
    PolygonOnly,
}

/// The geometry classes a layer holds, each its own OGC API collection (a
/// desktop GIS types a layer from its features, and a GeoPackage table
/// holds one geometry type). Polygons include MultiPolygons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    Point,
    Line,
    Polygon,
}

impl Shape {
    pub fn of(geometry: &geo_types::Geometry<f64>) -> Shape {
        match geometry {
            geo_types::Geometry::Point(_) | geo_types::Geometry::MultiPoint(_) => Shape::Point,
            geo_types::Geometry::LineString(_)
            | geo_types::Geometry::MultiLineString(_)
            | geo_types::Geometry::Line(_) => Shape::Line,
            _ => Shape::Polygon,
        }
    }

    /// The plural used in collection names: `presence-points`.
    pub const fn plural(self) -> &'static str {
        match self {
            Shape::Point => "points",
            Shape::Line => "lines",
            Shape::Polygon => "polygons",
        }
    }

    /// The GeoJSON type every feature of the class is served as (polygons
    /// as MultiPolygons, so one table type holds them all).
    pub const fn geojson_type(self) -> &'static str {
        match self {
            Shape::Point => "Point",
            Shape::Line => "LineString",
            Shape::Polygon => "MultiPolygon",
        }
    }
}

impl Kind {
    /// The geometry classes a kind's records come in.
    pub const fn shapes(self) -> &'static [Shape] {
        match self.geometry_rule() {
            GeometryRule::PointOnly => &[Shape::Point],
            GeometryRule::PointOrLine => &[Shape::Point, Shape::Line],
            GeometryRule::PointOrPolygon => &[Shape::Point, Shape::Polygon],
            GeometryRule::Any => &[Shape::Point, Shape::Line, Shape::Polygon],
            GeometryRule::PolygonOnly => &[Shape::Polygon],
        }
    }

    pub const ALL: [Kind; 6] = [
        Kind::Incident,
        Kind::Report,
        Kind::Presence,
        Kind::Measure,
        Kind::Place,
        Kind::Area,
    ];

    /// The name stored in the database and used in hexagon layer paths.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::Report => "report",
            Kind::Presence => "presence",
            Kind::Measure => "measure",
            Kind::Place => "place",
            Kind::Area => "area",
        }
    }

    /// The collection name under `/api/v1/`.
    pub const fn collection(self) -> &'static str {
        match self {
            Kind::Incident => "incidents",
            Kind::Report => "reports",
            Kind::Presence => "presence",
            Kind::Measure => "measures",
            Kind::Place => "places",
            Kind::Area => "areas",
        }
    }

    pub fn from_collection(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.collection() == name)
    }

    pub const fn geometry_rule(self) -> GeometryRule {
        match self {
            Kind::Incident => GeometryRule::PointOnly,
            Kind::Presence => GeometryRule::PointOrLine,
            Kind::Report => GeometryRule::PointOrPolygon,
            Kind::Measure => GeometryRule::Any,
            Kind::Place | Kind::Area => GeometryRule::PolygonOnly,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;

    /// Accepts both the singular kind (`incident`) and the collection name
    /// (`incidents`), since layer URLs are written both ways by people.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.collection() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.collection()).collect();
                Error::invalid(
                    "kind",
                    format!("unknown kind `{s}`; expected one of {}", names.join(", ")),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_collection(kind.collection()), Some(kind));
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.collection().parse::<Kind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_kind_names_the_field() {
        let err = "crimes".parse::<Kind>().unwrap_err();
        assert_eq!(err.field(), "kind");
        assert!(err.reason().contains("incidents"));
    }
}
