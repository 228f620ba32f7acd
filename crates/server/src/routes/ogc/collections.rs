//! The collections of the OGC API and what each says about itself: one
//! collection per kind and geometry class (a desktop GIS types a layer
//! from its features, and a GeoPackage table holds one geometry type), the
//! hexagon aggregates, and the public ones. Each declares its geometry
//! type, fields (a JSON Schema, `describedby`), queryables (Part 3), the
//! coordinate systems it is served in (Part 2) and its page sizes, so an
//! empty collection still describes itself.

use serde_json::{Map, Value, json};
use trygg_core::access::Permission;
use trygg_core::ogc::crs::OgcCrs;
use trygg_core::ogc::fields::{self, Field, FieldType};
use trygg_core::{Kind, Shape};

use super::{DEFAULT_LIMIT, INTERNAL_HEX_RESOLUTION, MAX_LIMIT, link};
use crate::AppState;
use crate::auth::Caller;

/// Kinds with hexagon collections (places and districts are outlines).
pub(super) const HEXAGON_KINDS: [Kind; 4] =
    [Kind::Incident, Kind::Report, Kind::Presence, Kind::Measure];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Records(Kind, Shape),
    Hexagons(Kind),
    PublicHexagons(Kind),
    PublicAreas,
}

impl Collection {
    pub(super) fn all() -> Vec<Collection> {
        let mut out: Vec<Collection> = Kind::ALL
            .into_iter()
            .flat_map(|k| k.shapes().iter().map(move |s| Collection::Records(k, *s)))
            .collect();
        out.extend(HEXAGON_KINDS.map(Collection::Hexagons));
        out.extend(HEXAGON_KINDS.map(Collection::PublicHexagons));
        out.push(Collection::PublicAreas);
        out
    }

    pub(super) fn id(self) -> String {
        match self {
            Collection::Records(k, _) if k.shapes().len() == 1 => k.collection().to_owned(),
            Collection::Records(k, s) => format!("{}-{}", k.collection(), s.plural()),
            Collection::Hexagons(k) => format!("{}-hexagons", k.collection()),
            Collection::PublicHexagons(k) => format!("public-{}-hexagons", k.collection()),
            Collection::PublicAreas => "public-areas".to_owned(),
        }
    }

    pub(super) fn parse(id: &str) -> Option<Collection> {
        Collection::all().into_iter().find(|c| c.id() == id)
    }

    /// The GeoJSON type of every feature in the collection.
    pub(super) fn geometry_type(self) -> &'static str {
        match self {
            Collection::Records(_, s) => s.geojson_type(),
            Collection::Hexagons(_) | Collection::PublicHexagons(_) => "Polygon",
            Collection::PublicAreas => "MultiPolygon",
        }
    }

    pub(super) fn public(self) -> bool {
        matches!(
            self,
            Collection::PublicHexagons(_) | Collection::PublicAreas
        )
    }

    fn title(self) -> String {
        match self {
            Collection::Records(k, s) if k.shapes().len() == 1 => {
                format!("{} ({})", k.collection(), s.plural())
            }
            Collection::Records(k, s) => format!("{}: the {}", k.collection(), s.plural()),
            Collection::Hexagons(k) => format!(
                "{} per H3 hexagon, resolution {INTERNAL_HEX_RESOLUTION}",
                k.collection()
            ),
            Collection::PublicHexagons(k) => format!(
                "{} per hexagon, one closed month, public (suppressed below k)",
                k.collection()
            ),
            Collection::PublicAreas => "districts (public)".to_owned(),
        }
    }

    fn description(self) -> String {
        match self {
            Collection::Records(..) => "Every record of this geometry type the caller may read. Properties are flat (nested values as their own fields, lists as comma-separated text). `datetime` filters on the event time (see the queryables).".to_owned(),
            Collection::Hexagons(_) => "Counts of records per H3 hexagon; `datetime` and the kind's filters choose which records count. A `bbox` gives every hexagon that touches it, with its whole count.".to_owned(),
            Collection::PublicHexagons(_) => "Counts per hexagon of one closed month (`period=YYYY-MM`, or a `datetime` within that month; default the last month that has ended). Hexagons with fewer than k events, and some others so that none can be derived, are left out. No other filters: they would let one answer be subtracted from another.".to_owned(),
            Collection::PublicAreas => "District outlines (SCB RegSO): code, name and level. Districts are timeless: `datetime` is checked and matches every district.".to_owned(),
        }
    }

    pub(super) fn visible_to(self, caller: &Caller) -> bool {
        match self {
            Collection::PublicHexagons(_) | Collection::PublicAreas => true,
            Collection::Records(k, _) | Collection::Hexagons(k) => {
                caller.allows(Permission::ReadFeatures(k))
            }
        }
    }

    /// The collection's fields, in the order features carry them.
    pub(super) fn fields(self) -> Vec<Field> {
        match self {
            Collection::Records(k, _) => fields::record_fields(k),
            Collection::Hexagons(k) | Collection::PublicHexagons(k) => fields::hexagon_fields(k),
            Collection::PublicAreas => fields::public_area_fields(),
        }
    }

    /// The property filters the collection takes (Part 3), with their
    /// vocabularies: the kind's tags, statuses and sources. Public layers
    /// take none: a split by category could be subtracted from the whole.
    pub(super) fn filters(self) -> Vec<(&'static str, &'static [&'static str])> {
        match self {
            Collection::Records(k, _) | Collection::Hexagons(k) => {
                trygg_core::query::filter_vocabularies(k)
            }
            _ => Vec::new(),
        }
    }

    /// The record field `datetime` filters on, as (start, end).
    pub(super) fn temporal(self) -> Option<(&'static str, Option<&'static str>)> {
        match self {
            Collection::Records(k, _) => match k {
                Kind::Incident => Some(("occurred_at", Some("occurred_until"))),
                Kind::Report => Some(("reported_at", None)),
                Kind::Presence => Some(("started_at", Some("ended_at"))),
                Kind::Measure => Some(("status_history", None)),
                Kind::Place => Some(("active_from", Some("active_until"))),
                Kind::Area => None,
            },
            _ => None,
        }
    }
}

fn schema_type(f: &Field) -> Value {
    let mut s = match f.ty {
        FieldType::Text => json!({ "type": "string" }),
        FieldType::DateTime => json!({ "type": "string", "format": "date-time" }),
        FieldType::Integer => json!({ "type": "integer" }),
        FieldType::Number => json!({ "type": "number" }),
        FieldType::Boolean => json!({ "type": "boolean" }),
    };
    if let Some(values) = f.values {
        s["enum"] = json!(values);
    }
    s["title"] = json!(f.name);
    s["description"] = json!(f.description);
    s
}

/// The geometry as JSON Schema declares it (Part 5's format names, no
/// remote reference: the document must be self-contained).
fn geometry_schema(c: Collection) -> Value {
    let format = match c.geometry_type() {
        "Point" => "geometry-point",
        "LineString" => "geometry-linestring",
        "MultiPolygon" => "geometry-multipolygon",
        _ => "geometry-polygon",
    };
    json!({
        "title": "geometry",
        "format": format,
        "x-ogc-role": "primary-geometry",
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": { "type": { "type": "string", "enum": [c.geometry_type()] }, "coordinates": { "type": "array" } },
    })
}

/// The JSON Schema of the collection's features (`describedby`): a GeoJSON
/// Feature whose `properties` are the collection's fields, so a client
/// (GDAL reads it) knows the fields before the first feature, and an
/// empty collection still has them.
pub(super) fn schema(base: &str, c: Collection) -> Value {
    let mut props = Map::new();
    for f in c.fields() {
        props.insert(f.name.into(), schema_type(&f));
    }
    if let Some((start, end)) = c.temporal() {
        props[start]["x-ogc-role"] = json!(if end.is_some() {
            "primary-interval-start"
        } else {
            "primary-instant"
        });
        if let Some(end) = end {
            props[end]["x-ogc-role"] = json!("primary-interval-end");
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": super::absolute(base, &format!("/ogc/collections/{}/schema", c.id())),
        "title": c.id(),
        "description": format!("A feature of `{}`: a GeoJSON Feature with a {} and these properties.", c.id(), c.geometry_type()),
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": { "type": "string", "enum": ["Feature"] },
            "id": { "type": "string" },
            "geometry": geometry_schema(c),
            "properties": { "type": "object", "properties": props },
        },
    })
}

/// The queryables (Part 3): the properties the collection filters on by
/// name, the temporal property `datetime` filters on, and the geometry
/// `bbox` filters on.
pub(super) fn queryables(base: &str, c: Collection) -> Value {
    let mut props = Map::new();
    props.insert("geometry".into(), geometry_schema(c));
    for (name, values) in c.filters() {
        props.insert(
            name.into(),
            json!({ "title": name, "type": "string", "enum": values, "description": format!("`{name}=a,b` matches any of the values") }),
        );
    }
    if let Some((start, end)) = c.temporal() {
        let role = if end.is_some() {
            "primary-interval-start"
        } else {
            "primary-instant"
        };
        props.insert(
            start.into(),
            json!({ "title": start, "type": "string", "format": "date-time", "x-ogc-role": role, "description": "the event time: the `datetime` parameter filters on it (other times, such as updated_at, are not filtered on)" }),
        );
        if let Some(end) = end {
            props.insert(
                end.into(),
                json!({ "title": end, "type": "string", "format": "date-time", "x-ogc-role": "primary-interval-end", "description": "the end of the event time (`datetime` matches records whose time overlaps it)" }),
            );
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": super::absolute(base, &format!("/ogc/collections/{}/queryables", c.id())),
        "type": "object",
        "title": c.id(),
        "properties": props,
        "additionalProperties": false,
    })
}

/// A collection's metadata document.
pub(super) fn describe(state: &AppState, base: &str, c: Collection) -> Value {
    let b = state.area.bbox;
    let id = c.id();
    let crs: Vec<String> = OgcCrs::all().into_iter().map(OgcCrs::uri).collect();
    json!({
        "id": id,
        "title": c.title(),
        "description": c.description(),
        "itemType": "feature",
        "geometryType": c.geometry_type(),
        "crs": crs,
        "storageCrs": OgcCrs::Crs84.uri(),
        "extent": {
            "spatial": { "bbox": [[b.min_lon, b.min_lat, b.max_lon, b.max_lat]], "crs": OgcCrs::Crs84.uri() },
            // Open: the data runs from the first record to now.
            "temporal": { "interval": [[null, null]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" },
        },
        "limit": { "default": DEFAULT_LIMIT, "minimum": 0, "maximum": MAX_LIMIT, "description": "features per page; 0 answers only numberMatched" },
        "links": [
            link(base, &format!("/ogc/collections/{id}"), "self", "application/json", "this collection"),
            link(base, &format!("/ogc/collections/{id}/items"), "items", "application/geo+json", "the features"),
            link(base, &format!("/ogc/collections/{id}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "the properties to filter on"),
            link(base, &format!("/ogc/collections/{id}/schema"), "describedby", "application/schema+json", "the features' schema"),
            // GDAL (3.6) looks for these spellings.
            link(base, &format!("/ogc/collections/{id}/schema"), "describedBy", "application/schema+json", "the features' schema"),
            link(base, &format!("/ogc/collections/{id}/queryables"), "queryables", "application/schema+json", "the properties to filter on"),
        ],
    })
}
