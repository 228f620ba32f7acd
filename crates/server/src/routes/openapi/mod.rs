//! The OpenAPI 3.0 document at `/openapi.json`, generated from the same
//! route table the authorization middleware reads, so it cannot list a
//! route that does not exist or miss one that does. Self-contained: no
//! remote references.

use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};
use trygg_core::Kind;

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

mod params;
mod schemas;

use schemas::{attributes_name, reference};

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": reference("Problem") } } })
}

fn content(media_type: &str, schema: &Value) -> Value {
    json!({ media_type: { "schema": schema } })
}

fn kind_of(path: &str) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|k| path.starts_with(&format!("/api/v1/{}", k.collection())))
}

fn any_object() -> Value {
    json!({ "type": "object" })
}

fn with_schema(media_type: &str, schema: Value) -> Value {
    let mut c = json!({ media_type: {} });
    c[media_type]["schema"] = schema;
    c
}

fn geo(schema: Value) -> Value {
    with_schema("application/geo+json", schema)
}

fn json(schema: Value) -> Value {
    with_schema("application/json", schema)
}

fn ok(description: &str, content: Value) -> Value {
    let mut answer = json!({ "description": description });
    answer["content"] = content;
    answer
}

/// The success answers of a route: status, description, content.
fn successes(method: &str, path: &str) -> Vec<(&'static str, Value)> {
    let mut answers = match kind_of(path).filter(|_| !path.ends_with("/moderation")) {
        Some(kind) => record_answers(method, path, kind),
        None => other_answers(method, path),
    };
    if says_its_scope(path) {
        for (_, answer) in answers.iter_mut().filter(|(status, _)| *status == "200") {
            let said = answer["description"]
                .as_str()
                .unwrap_or("success")
                .to_owned();
            answer["description"] = Value::String(format!("{said}; {SCOPE}"));
        }
    }
    answers
}

/// Layers and analyses say their window and what they left out.
const SCOPE: &str = "top-level `datetime` is the interval actually used (defaults included, `..` for an open end) and `omitted` counts what the answer leaves out per reason (`coarse_position`: a municipality or county stand-in; `not_a_point`; `outside_study_area`)";

fn says_its_scope(path: &str) -> bool {
    path.contains("hexagons") || path.ends_with("/points") || path.starts_with("/api/v1/analysis/")
}

/// The per-kind record routes.
fn record_answers(method: &str, path: &str, kind: Kind) -> Vec<(&'static str, Value)> {
    {
        let name = attributes_name(kind);
        let one = reference(&format!("{name}Feature"));
        let many = reference(&format!("{name}Collection"));
        match (method, path.ends_with('}'), path.ends_with("/export")) {
            ("get", _, true) => {
                let mut c = geo(many);
                c["text/csv"] = json!({ "schema": { "type": "string" } });
                vec![("200", ok("every matching record, as GeoJSON or CSV", c))]
            }
            ("get", false, _) => vec![("200", ok("a page of records", geo(many)))],
            ("get", true, _) => vec![("200", ok("the record", geo(one)))],
            ("post", ..) => vec![
                ("201", ok("created", geo(one.clone()))),
                ("200", ok("already stored under this client_id", geo(one))),
            ],
            ("put", ..) => vec![("200", ok("updated", geo(one)))],
            _ => vec![("204", json!({ "description": "deleted" }))],
        }
    }
}

/// Everything else that writes or answers with a fixed shape.
fn other_answers(method: &str, path: &str) -> Vec<(&'static str, Value)> {
    match (method, path) {
        (_, "/api/v1/reports/{id}/moderation") => {
            vec![(
                "200",
                ok("the decided report", geo(reference("ReportFeature"))),
            )]
        }
        (_, super::tiles::PATH) => vec![
            (
                "200",
                json!({ "description": "a Mapbox Vector Tile (2.1): one layer named after the kind, a polygon per hexagon with h3, count (and minutes for presence)", "content": content(trygg_core::mvt::CONTENT_TYPE, &json!({ "type": "string", "format": "binary" })) }),
            ),
            ("204", json!({ "description": "no hexagon in this tile" })),
            (
                "304",
                json!({ "description": "unchanged since the ETag sent in If-None-Match" }),
            ),
        ],
        (_, "/api/v1/layers/{kind}/hexagons" | "/api/v1/public/layers/{kind}/hexagons") => {
            vec![(
                "200",
                ok(
                    "hexagons with their counts",
                    geo(reference("HexagonCollection")),
                ),
            )]
        }
        (_, "/api/v1/public/areas") => {
            vec![(
                "200",
                ok(
                    "the districts",
                    geo(
                        json!({ "type": "object", "required": ["type", "features"], "properties": { "type": { "enum": ["FeatureCollection"] }, "features": { "type": "array" } } }),
                    ),
                ),
            )]
        }
        ("get", "/open311/v2/requests.json" | "/open311/v2/requests/{id}") => vec![(
            "200",
            ok(
                "the requests' status",
                json(
                    json!({ "type": "array", "items": { "type": "object", "required": ["service_request_id", "status"], "properties": { "service_request_id": { "type": "string", "format": "uuid" }, "status": { "type": "string", "enum": ["open", "closed"] } } } }),
                ),
            ),
        )],
        (_, "/open311/v2/services.json" | "/open311/v2/services/{code}") => vec![(
            "200",
            ok(
                "Open311 services",
                json(json!({ "type": "array", "items": reference("Open311Service") })),
            ),
        )],
        ("get", "/api/v1/auth/tokens" | "/api/v1/admin/tokens") => vec![(
            "200",
            ok(
                "tokens, without their secrets",
                json(
                    json!({ "type": "object", "required": ["tokens"], "properties": { "tokens": { "type": "array", "items": reference("Token") } } }),
                ),
            ),
        )],
        ("post", "/api/v1/auth/tokens") => vec![(
            "201",
            ok(
                "the token; its secret is shown only here",
                json(
                    json!({ "allOf": [reference("Token"), { "type": "object", "required": ["token"], "properties": { "token": { "type": "string", "pattern": "^trygg_" }, "note": { "type": "string" } } }] }),
                ),
            ),
        )],
        ("delete", _) | ("post", "/api/v1/auth/logout") => {
            vec![("204", json!({ "description": "done" }))]
        }
        _ => read_answers(method, path),
    }
}

/// Reports, analyses and the rest of the reads.
fn read_answers(method: &str, path: &str) -> Vec<(&'static str, Value)> {
    match (method, path) {
        ("get", "/metrics") => vec![(
            "200",
            ok(
                "Prometheus text exposition",
                content("text/plain", &json!({ "type": "string" })),
            ),
        )],
        ("get", "/api/v1/public/followup.atom") => vec![(
            "200",
            ok(
                "an Atom feed of published follow-ups",
                content("application/atom+xml", &json!({ "type": "string" })),
            ),
        )],
        ("post", "/api/v1/public/reports") => {
            vec![(
                "202",
                ok("received; it waits for moderation", json(any_object())),
            )]
        }
        ("post", "/open311/v2/requests.json") => vec![(
            "201",
            ok(
                "the new request's id",
                json(
                    json!({ "type": "array", "items": { "type": "object", "required": ["service_request_id"], "properties": { "service_request_id": { "type": "string", "format": "uuid" } } } }),
                ),
            ),
        )],
        ("post", "/api/v1/import" | "/api/v1/auth/login") => {
            vec![("200", ok("success", json(any_object())))]
        }
        ("post", _) => vec![("201", ok("created", json(any_object())))],
        ("get", "/api/v1/followup/{period}" | "/api/v1/public/followup/{period}") => {
            let mut c = json(any_object());
            c["text/csv"] = json!({ "schema": { "type": "string" } });
            c["text/html; charset=utf-8"] = json!({ "schema": { "type": "string" } });
            c["image/svg+xml"] = json!({ "schema": { "type": "string" } });
            vec![("200", ok("the follow-up in the format asked for", c))]
        }
        ("get", "/api/v1/analysis/evaluation" | "/api/v1/analysis/yearly") => {
            let mut c = json(any_object());
            c["text/html; charset=utf-8"] = json!({ "schema": { "type": "string" } });
            vec![("200", ok("the report, as JSON or a printable page", c))]
        }
        ("get", "/ogc/collections/{id}/queryables" | "/ogc/collections/{id}/schema") => {
            vec![(
                "200",
                ok(
                    "a JSON Schema of the collection's properties",
                    content("application/schema+json", &any_object()),
                ),
            )]
        }
        _ => {
            let media = match path {
                "/ogc/api" => "application/vnd.oai.openapi+json;version=3.0",
                "/api/v1/public/measures"
                | "/api/v1/analysis/picture"
                | "/api/v1/analysis/hotspots"
                | "/api/v1/analysis/emerging" => "application/geo+json",
                p if p.starts_with("/ogc/collections/{id}/items") || p.ends_with("/points") => {
                    "application/geo+json"
                }
                _ => "application/json",
            };
            vec![("200", ok("success", content(media, &any_object())))]
        }
    }
}

/// The request body of a write.
fn request_body(path: &str) -> Value {
    let (media, schema) = match path {
        "/api/v1/import" => (
            "application/octet-stream",
            json!({ "type": "string", "format": "binary" }),
        ),
        "/api/v1/auth/login" => ("application/json", reference("Login")),
        "/api/v1/auth/tokens" => ("application/json", reference("NewToken")),
        "/api/v1/reports/{id}/moderation" => ("application/json", reference("Moderation")),
        "/api/v1/public/reports" => ("application/json", reference("PublicReport")),
        p => match kind_of(p) {
            Some(kind) => (
                "application/geo+json",
                reference(&format!("{}Feature", attributes_name(kind))),
            ),
            None => ("application/json", any_object()),
        },
    };
    let mut c = content(media, &schema);
    if media == "application/geo+json" {
        c["application/json"] = json!({ "schema": schema });
    }
    json!({ "required": true, "content": c })
}

fn operation(method: &str, path: &str, rule: Rule) -> Value {
    let mut responses = Map::new();
    for (status, answer) in successes(method, path) {
        responses.insert(status.into(), answer);
    }
    responses.insert(
        "400".into(),
        problem("a query parameter is wrong; `field` names it"),
    );
    if method != "get" && method != "delete" {
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
    if path.ends_with("/login") {
        responses.insert("401".into(), problem("wrong username or password"));
    }
    if path.contains('{')
        || path == "/api/v1/analysis/evaluation"
        || path == "/open311/v2/requests.json"
    {
        responses.insert("404".into(), problem("no such resource"));
    }
    if path.starts_with("/api/v1/public/")
        || path.ends_with("/login")
        || path.starts_with("/open311/v2/requests")
    {
        responses.insert("429".into(), problem("too many requests; see Retry-After"));
    }
    responses.insert(
        "503".into(),
        problem("the database is unavailable; see Retry-After"),
    );
    let mut op = json!({
        "operationId": format!("{method}{}", path.replace(['/', '{', '}', '-', '.'], "_")),
        "summary": format!("{} {path}", method.to_uppercase()),
        "parameters": params::parameters(method, path),
        "responses": responses,
    });
    if rule == Rule::Public {
        op["security"] = json!([]);
    }
    if matches!(method, "post" | "put")
        && path != "/api/v1/auth/logout"
        && !path.ends_with("/publish")
    {
        op["requestBody"] = request_body(path);
    }
    op
}

/// RFC 9457 problem+json, as every error is written.
pub(crate) fn problem_schema() -> Value {
    schemas::problem_schema()
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
        "openapi": "3.1.0",
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
            "schemas": schemas::components(),
        },
    })
}
