//! The wire shapes of the OpenAPI document, from Rust types through
//! `utoipa`'s derive: the attributes and vocabularies come from core's own
//! types (its `openapi` feature); the envelopes the handlers write with
//! `json!` (problem, feature, collection, token, Open311 service) are
//! described here by types that mirror them field for field. GeoJSON
//! geometry is the one hand-written part: the server keeps it as
//! `geo_types`, which has no schema, and RFC 7946 fixes its shape.
//!
//! The types here are never built: they exist to be described.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use trygg_core::Kind;
use trygg_core::attrs::{
    AgeBand, Area, Gender, Incident, IncidentCategory, Measure, MeasureKind, MeasureStatus, Place,
    Presence, Reason, Report, ReportSource, ReportStatus, Respondent, Scores, StatusChange,
    TimeOfDay, UnitType,
};
use trygg_core::kind::GeometryRule;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// RFC 9457 problem+json, as every error is written.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// The input that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// What the server adds to every record's properties; a client may send
/// them back (they are ignored), so they are read-only.
#[derive(Serialize, ToSchema)]
pub struct ServerFields {
    #[schema(read_only)]
    version: i64,
    #[schema(read_only)]
    #[serde(skip_serializing_if = "Option::is_none")]
    organisation_id: Option<Uuid>,
    #[schema(read_only)]
    created_at: DateTime<Utc>,
    #[schema(read_only)]
    updated_at: DateTime<Utc>,
    /// Measures: every status with the time it took effect.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_history: Vec<StatusChange>,
}

#[derive(Serialize, ToSchema)]
pub struct Link {
    href: String,
    rel: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Write,
    Import,
}

/// An API token as listed (the secret is shown once, on creation).
#[derive(Serialize, ToSchema)]
pub struct Token {
    id: Uuid,
    user_id: Uuid,
    name: String,
    scopes: Vec<TokenScope>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct NewToken {
    name: String,
    scopes: Vec<TokenScope>,
}

#[derive(Serialize, ToSchema)]
pub struct Login {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

/// A moderator's decision on a pending report; rejecting needs a reason.
#[derive(Serialize, ToSchema)]
pub struct Moderation {
    decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Realtime,
}

/// An Open311 GeoReport v2 service.
#[derive(Serialize, ToSchema)]
pub struct Open311Service {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    #[serde(rename = "type")]
    kind: ServiceType,
    keywords: String,
    group: String,
}

/// Every derived schema, with the types they refer to.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Problem,
    ServerFields,
    Link,
    Token,
    NewToken,
    Login,
    Moderation,
    Open311Service,
    Incident,
    Report,
    Presence,
    Measure,
    Place,
    Area,
    Respondent,
    Scores,
    StatusChange,
    IncidentCategory,
    Reason,
    ReportSource,
    ReportStatus,
    TimeOfDay,
    Gender,
    AgeBand,
    UnitType,
    MeasureKind,
    MeasureStatus,
)))]
struct Derived;

/// The name of a kind's attribute schema.
pub fn attributes_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Incident => "Incident",
        Kind::Report => "Report",
        Kind::Presence => "Presence",
        Kind::Measure => "Measure",
        Kind::Place => "Place",
        Kind::Area => "Area",
    }
}

pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema of one derived type, for documents that need only it.
pub fn problem_schema() -> Value {
    components()
        .remove("Problem")
        .unwrap_or_else(|| json!({ "type": "object" }))
}

/// Every component schema of the document.
pub fn components() -> Map<String, Value> {
    let doc = serde_json::to_value(Derived::openapi()).unwrap_or(Value::Null);
    let mut out = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let server = out
        .get("ServerFields")
        .and_then(|s| s["properties"].as_object())
        .cloned()
        .unwrap_or_default();
    // A record's properties: its attributes plus the server's fields (the
    // attributes refuse unknown keys, so they are merged, not combined).
    for kind in Kind::ALL {
        let mut props = out
            .get(attributes_name(kind))
            .cloned()
            .unwrap_or_else(|| json!({ "type": "object" }));
        if let Some(p) = props["properties"].as_object_mut() {
            p.extend(server.clone());
        }
        out.insert(format!("{}Properties", attributes_name(kind)), props);
        out.insert(
            format!("{}Feature", attributes_name(kind)),
            feature(
                kind.geometry_rule(),
                &reference(&format!("{}Properties", attributes_name(kind))),
            ),
        );
        out.insert(
            format!("{}Collection", attributes_name(kind)),
            collection(&reference(&format!("{}Feature", attributes_name(kind)))),
        );
    }
    out.insert("PublicReport".into(), public_report(&out));
    out.extend(geometries());
    out.insert(
        "Hexagon".into(),
        feature(
            GeometryRule::PolygonOnly,
            &json!({
                "type": "object",
                "required": ["h3", "count"],
                "properties": {
                    "h3": { "type": "string", "pattern": "^[0-9a-f]{15}$", "description": "the H3 cell" },
                    "count": { "type": "integer", "minimum": 0 },
                },
            }),
        ),
    );
    out.insert(
        "HexagonCollection".into(),
        collection(&reference("Hexagon")),
    );
    out
}

/// What anyone may send: a point and a few of a report's attributes.
fn public_report(derived: &Map<String, Value>) -> Value {
    let all = derived
        .get("Report")
        .and_then(|r| r["properties"].as_object())
        .cloned()
        .unwrap_or_default();
    let allowed: Map<String, Value> = all
        .into_iter()
        .filter(|(k, _)| crate::routes::public::PUBLIC_REPORT_FIELDS.contains(&k.as_str()))
        .collect();
    feature(
        GeometryRule::PointOnly,
        &json!({
            "type": "object",
            "required": ["reasons"],
            "additionalProperties": false,
            "properties": allowed,
        }),
    )
}

/// A GeoJSON Feature whose geometry follows `rule`.
fn feature(rule: GeometryRule, properties: &Value) -> Value {
    let types: &[&str] = match rule {
        GeometryRule::PointOnly => &["Point"],
        GeometryRule::PointOrLine => &["Point", "LineString"],
        GeometryRule::PointOrPolygon => &["Point", "Polygon", "MultiPolygon"],
        GeometryRule::Any => &["Point", "LineString", "Polygon", "MultiPolygon"],
        GeometryRule::PolygonOnly => &["Polygon", "MultiPolygon"],
    };
    let geometry = if let [one] = types {
        reference(one)
    } else {
        json!({ "oneOf": types.iter().map(|t| reference(t)).collect::<Vec<_>>() })
    };
    json!({
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": { "type": "string", "enum": ["Feature"] },
            "id": { "type": "string" },
            "geometry": geometry,
            "properties": properties,
        },
    })
}

fn collection(feature: &Value) -> Value {
    json!({
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": { "type": "string", "enum": ["FeatureCollection"] },
            "features": { "type": "array", "items": feature },
            "numberReturned": { "type": "integer", "minimum": 0 },
            "numberMatched": { "type": "integer", "minimum": 0 },
            "timeStamp": { "type": "string", "format": "date-time" },
            "links": { "type": "array", "items": reference("Link") },
        },
    })
}

/// RFC 7946 geometries, WGS84 longitude and latitude.
fn geometries() -> Map<String, Value> {
    let position = json!({
        "type": "array",
        "minItems": 2,
        "maxItems": 3,
        "items": { "type": "number" },
    });
    let line = json!({ "type": "array", "minItems": 2, "items": position });
    let ring = json!({ "type": "array", "minItems": 4, "items": position });
    let polygon = json!({ "type": "array", "minItems": 1, "items": ring });
    let geometry = |name: &str, coordinates: Value| {
        json!({
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": { "type": "string", "enum": [name] },
                "coordinates": coordinates,
            },
        })
    };
    let mut out = Map::new();
    out.insert("Point".into(), geometry("Point", position.clone()));
    out.insert("LineString".into(), geometry("LineString", line));
    out.insert("Polygon".into(), geometry("Polygon", polygon.clone()));
    out.insert(
        "MultiPolygon".into(),
        geometry(
            "MultiPolygon",
            json!({ "type": "array", "minItems": 1, "items": polygon }),
        ),
    );
    out
}
