//! The OpenAPI 3.0 document at `/openapi.json`, generated from the same
//! route table the authorization middleware reads, so it cannot list a
//! route that does not exist or miss one that does. Self-contained: no
//! remote references.

use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};
use trygg_core::Kind;
use trygg_core::attrs::{
    IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportSource, ReportStatus, UnitType,
};

use crate::AppState;
use crate::auth::policy::{self, Rule};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { axum::Json(document()) }))
}

/// Routes outside `/api/`, listed here for the document (their rules come
/// from the policy, like every other route's).
pub const OTHER_ROUTES: [(&str, &str); 18] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
    ("get", "/metrics"),
    ("get", "/ogc"),
    ("get", "/ogc/api"),
    ("get", "/ogc/conformance"),
    ("get", "/ogc/collections"),
    ("get", "/ogc/collections/{id}"),
    ("get", "/ogc/collections/{id}/queryables"),
    ("get", "/ogc/collections/{id}/schema"),
    ("get", "/ogc/collections/{id}/items"),
    ("get", "/ogc/collections/{id}/items/{feature}"),
    ("get", "/open311/v2/services.json"),
    ("get", "/open311/v2/services/{code}"),
    ("get", "/open311/v2/requests.json"),
    ("post", "/open311/v2/requests.json"),
    ("get", "/open311/v2/requests/{id}"),
];

fn query(name: &str, description: &str, schema: &Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn list_of(values: &[&str]) -> Value {
    json!({ "type": "string", "description": format!("comma-separated: {}", values.join(", ")) })
}

fn kind_filters(kind: Kind) -> Vec<Value> {
    match kind {
        Kind::Incident => vec![query(
            "category",
            "incident categories",
            &list_of(IncidentCategory::NAMES),
        )],
        Kind::Report => vec![
            query("reason", "reasons", &list_of(Reason::NAMES)),
            query("status", "moderation status", &list_of(ReportStatus::NAMES)),
            query("source", "report source", &list_of(ReportSource::NAMES)),
        ],
        Kind::Presence => vec![query("unit_type", "unit types", &list_of(UnitType::NAMES))],
        Kind::Measure => vec![
            query("kind", "measure kinds", &list_of(MeasureKind::NAMES)),
            query("status", "measure status", &list_of(MeasureStatus::NAMES)),
        ],
        Kind::Place | Kind::Area => vec![],
    }
}

fn common_filters() -> Vec<Value> {
    vec![
        query("bbox", "min_lon,min_lat,max_lon,max_lat (WGS84)", &string()),
        query(
            "datetime",
            "an instant, a date, or start/end with .. for an open end",
            &string(),
        ),
        query("f", "json (accepted for OGC API clients)", &string()),
    ]
}

fn kind_of(path: &str) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|k| path.starts_with(&format!("/api/v1/{}", k.collection())))
}

/// `POST /api/v1/import`: the kind and format, then the options every
/// import takes (`trygg_core::import::Options::set`).
fn import_parameters() -> Vec<Value> {
    let mut out = Vec::new();
    for (name, d) in [
        (
            "kind",
            "incidents, reports, presence, measures, places or areas",
        ),
        ("format", "csv, geojson, polisen or policeuk"),
        ("crs", "WGS84, EPSG:3006 or EPSG:3007–3018"),
        ("columns", "CSV headers, e.g. x=E,y=N,time=datum"),
        ("source", "source recorded on CSV incidents"),
        (
            "skip_invalid",
            "true: import the valid rows and list the others",
        ),
        ("dry_run", "true: check and count, write nothing"),
        (
            "include_summaries",
            "police feed: include nightly summaries",
        ),
        (
            "delimiter",
            "CSV delimiter: `,`, `;` or tab (default: detected)",
        ),
        (
            "encoding",
            "utf-8, windows-1252, … (default: UTF-8, else Windows-1252)",
        ),
        (
            "default_duration",
            "length of a presence without an end or duration, e.g. 15m",
        ),
        (
            "timezone",
            "IANA zone of times without an offset (default Europe/Stockholm)",
        ),
    ] {
        out.push(query(name, d, &string()));
    }
    out.push(json!({
        "name": "map", "in": "query", "required": false, "style": "form", "explode": true,
        "description": "values mapped onto Trygg's, e.g. category=Misshandel:assault,Rån:robbery; repeatable",
        "schema": { "type": "array", "items": { "type": "string" } },
    }));
    out
}

fn parameters(path: &str) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|seg| {
            seg.strip_prefix('{')
                .and_then(|s| s.split_once('}'))
                .map(|(name, _)| name)
        })
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    let int = json!({ "type": "integer", "minimum": 0 });
    match path {
        p if p.ends_with("/export") => {
            out.push(query("format", "geojson (default) or csv", &string()));
            out.extend(common_filters());
            out.extend(kind_of(p).map(kind_filters).unwrap_or_default());
        }
        p if p.starts_with("/api/v1/public/layers/") => {
            out.push(query(
                "period",
                "a closed month, YYYY-MM (default: the last one)",
                &string(),
            ));
            out.push(query(
                "resolution",
                "only the configured public resolution",
                &int,
            ));
            out.push(query("bbox", "min_lon,min_lat,max_lon,max_lat", &string()));
        }
        "/api/v1/public/measures" => {
            out.push(query("period", "a closed month, YYYY-MM", &string()));
        }
        "/api/v1/layers/{kind}/hexagons" => {
            out.push(json!({ "name": "resolution", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 5, "maximum": 11 } }));
            out.extend(common_filters());
        }
        "/api/v1/layers/{kind}/points" => out.extend(common_filters()),
        super::tiles::PATH => out.extend(tile_parameters()),
        "/api/v1/admin/audit" => {
            out.push(query("before", "entries older than this id", &int));
            out.push(query("limit", "1–10000", &int));
            out.push(query("format", "json or csv", &string()));
        }
        "/api/v1/import" => out.extend(import_parameters()),
        // The OGC API's own document (/ogc/api) says more; these are the
        // same parameters.
        p if p.starts_with("/ogc/collections/{id}/items") && !p.ends_with("{feature}") => {
            out.extend(
                super::ogc::api::item_parameters()
                    .into_iter()
                    .map(|(_, p)| p),
            );
        }
        p if p.starts_with("/ogc") => out.push(query("f", "json", &string())),
        p if kind_of(p).is_some() && !p.ends_with('}') => {
            let kind = kind_of(p).unwrap_or(Kind::Area);
            out.extend(common_filters());
            out.push(query("limit", "1–10000, default 100", &int));
            out.push(query("after", "cursor from the next link", &string()));
            out.extend(kind_filters(kind));
        }
        _ => {}
    }
    out
}

/// A tile's bounds come from its path, so no bbox; the resolution follows
/// the zoom unless given.
fn tile_parameters() -> Vec<Value> {
    vec![
        json!({ "name": "resolution", "in": "query", "required": false, "description": "H3 resolution; by default the zoom's (z 15 → 10)", "schema": { "type": "integer", "minimum": 5, "maximum": 11 } }),
        query(
            "datetime",
            "an instant, a date, or start/end with .. for an open end",
            &string(),
        ),
    ]
}

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn operation(method: &str, path: &str, rule: Rule) -> Value {
    let mut responses = Map::new();
    let ok = match method {
        "post" if path.starts_with("/api/v1/public/reports") => "202",
        "post"
            if path.ends_with("/login")
                || path.ends_with("/moderation")
                || path.ends_with("/import") =>
        {
            "200"
        }
        "post" => "201",
        "delete" => "204",
        _ => "200",
    };
    let body_type = if path.contains("/ogc")
        || path.contains("export")
        || path.contains("hexagons")
        || path.ends_with("/points")
        || kind_of(path).is_some()
    {
        "application/geo+json"
    } else {
        "application/json"
    };
    if path == super::tiles::PATH {
        responses.insert(ok.into(), json!({ "description": "a Mapbox Vector Tile (2.1): one layer named after the kind, a polygon per hexagon with h3, count (and minutes for presence)", "content": { trygg_core::mvt::CONTENT_TYPE: { "schema": { "type": "string", "format": "binary" } } } }));
        responses.insert(
            "204".into(),
            json!({ "description": "no hexagon in this tile" }),
        );
        responses.insert(
            "304".into(),
            json!({ "description": "unchanged since the ETag sent in If-None-Match" }),
        );
    } else {
        responses.insert(ok.into(), json!({ "description": "success", "content": { body_type: { "schema": { "type": "object" } } } }));
    }
    responses.insert(
        "400".into(),
        problem("a query parameter is wrong; `field` names it"),
    );
    if method != "get" {
        responses.insert("413".into(), problem("the body is too large"));
        responses.insert("415".into(), problem("the body is not JSON"));
        responses.insert(
            "422".into(),
            problem("the body is refused; `field` names what is wrong"),
        );
        responses.insert(
            "409".into(),
            problem("the write conflicts with what is stored"),
        );
    }
    if method == "put" {
        responses.insert(
            "412".into(),
            problem("If-Match does not match the stored version"),
        );
    }
    if rule != Rule::Public {
        responses.insert("401".into(), problem("not logged in"));
        responses.insert(
            "403".into(),
            problem("the role or token does not allow this"),
        );
    }
    if path.contains('{') {
        responses.insert("404".into(), problem("no such resource"));
    }
    if path.starts_with("/api/v1/public/") || path.ends_with("/login") {
        responses.insert("429".into(), problem("too many requests; see Retry-After"));
    }
    responses.insert(
        "503".into(),
        problem("the database is unavailable; see Retry-After"),
    );
    let mut op = json!({
        "operationId": format!("{method}{}", path.replace(['/', '{', '}', '-', '.'], "_")),
        "summary": format!("{} {path}", method.to_uppercase()),
        "parameters": parameters(path),
        "responses": responses,
    });
    if rule == Rule::Public {
        op["security"] = json!([]);
    }
    if matches!(method, "post" | "put") {
        let ty = if path.ends_with("/import") {
            "application/octet-stream"
        } else {
            "application/json"
        };
        op["requestBody"] = json!({ "required": true, "content": { ty: { "schema": { "type": if ty == "application/json" { "object" } else { "string" } } } } });
    }
    op
}

/// RFC 9457 problem+json, as every error is written.
pub(crate) fn problem_schema() -> Value {
    json!({
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "field": { "type": "string", "description": "the input that is wrong" },
        },
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, rule) in policy::routes() {
        let entry = paths.entry(path.clone()).or_insert_with(|| json!({}));
        let m = method.as_str().to_ascii_lowercase();
        entry[m.as_str()] = operation(&m, &path, rule);
    }
    for (method, path) in OTHER_ROUTES {
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        let m = axum::http::Method::from_bytes(method.to_uppercase().as_bytes())
            .unwrap_or(axum::http::Method::GET);
        entry[method] = operation(method, path, policy::rule(&m, path).unwrap_or(Rule::Public));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Trygg",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The map behind a Swedish citizen promise (medborgarlöfte): incidents, unsafe-place reports, presence, measures, priority places and districts, as GeoJSON (RFC 7946, WGS84). Errors are RFC 9457 problem+json naming the field.",
            "license": { "name": "AGPL-3.0-or-later" },
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "security": [{ "bearer": [] }, { "session": [] }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "an API token, trygg_…" },
                "session": { "type": "apiKey", "in": "cookie", "name": "trygg_session", "description": "from POST /api/v1/auth/login; writes also need X-CSRF-Token" },
            },
            "schemas": { "Problem": problem_schema() },
        },
    })
}
