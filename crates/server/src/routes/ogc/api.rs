//! The OGC API's own OpenAPI 3.0 document (`/ogc/api`, the landing page's
//! `service-desc`), with the server at `/ogc` and the paths OGC clients
//! look for: `/collections/{collectionId}/items` with `limit` declared as
//! `components/parameters/limit` (where QGIS and GDAL read the default and
//! maximum page size) and each collection's own items path with its
//! property filters (where QGIS finds simple queryables). Self-contained:
//! no remote references.

use serde_json::{Map, Value, json};
use trygg_core::ogc::crs::OgcCrs;

use super::collections::Collection;
use super::{DEFAULT_LIMIT, MAX_LIMIT};

fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn query(name: &str, description: &str, schema: &Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "style": "form", "explode": false, "description": description, "schema": schema })
}

/// The parameters every collection's items take, written out (for the
/// API-wide document) or referenced (here).
pub(crate) fn item_parameters() -> Vec<(&'static str, Value)> {
    let crs: Vec<String> = OgcCrs::all().into_iter().map(OgcCrs::uri).collect();
    vec![
        (
            "limit",
            query(
                "limit",
                &format!(
                    "features per page: default {DEFAULT_LIMIT}, at most {MAX_LIMIT}; 0 answers only numberMatched"
                ),
                &json!({ "type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
            ),
        ),
        (
            "bbox",
            query(
                "bbox",
                "lower corner, upper corner (4 or 6 numbers) in the axis order of bbox-crs (CRS84: lon,lat); matches every feature that overlaps it, hexagons by their outline",
                &json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } }),
            ),
        ),
        (
            "bbox-crs",
            query(
                "bbox-crs",
                "the CRS of bbox (default CRS84)",
                &json!({ "type": "string", "format": "uri", "enum": crs }),
            ),
        ),
        (
            "crs",
            query(
                "crs",
                "the CRS of the answer (default CRS84); coordinates follow the CRS's axis order: EPSG:4326 lat,lon; SWEREF 99 (EPSG:3006–3018) northing,easting. The answer's Content-Crs header names it.",
                &json!({ "type": "string", "format": "uri", "enum": crs }),
            ),
        ),
        (
            "datetime",
            query(
                "datetime",
                "the event time (see each collection's queryables): an instant, a date, or start/end with .. for an open end. Public hexagon collections take only an instant or interval within one closed month (400 otherwise); districts are timeless.",
                &json!({ "type": "string" }),
            ),
        ),
        (
            "f",
            query(
                "f",
                "json (GeoJSON); accepted because GDAL sends it",
                &json!({ "type": "string", "enum": ["json", "geojson", "application/json", "application/geo+json"] }),
            ),
        ),
        (
            "after",
            query(
                "after",
                "record collections: the cursor of the next link",
                &json!({ "type": "string", "format": "uuid" }),
            ),
        ),
        (
            "offset",
            query(
                "offset",
                "hexagon and district collections: the start of the next link's page",
                &json!({ "type": "integer", "minimum": 0 }),
            ),
        ),
        (
            "period",
            query(
                "period",
                "public hexagon collections: a closed month (default the last one)",
                &json!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" }),
            ),
        ),
    ]
}

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn responses(ok: &str, content_type: &str) -> Value {
    json!({
        "200": { "description": ok, "content": { content_type: { "schema": { "type": "object" } } } },
        "400": problem("a parameter is wrong; `field` names it"),
        "401": problem("a collection that needs a token (Bearer, or the password of HTTP Basic)"),
        "403": problem("the token's role does not allow this collection"),
        "404": problem("no such collection or feature"),
    })
}

fn get(id: &str, summary: &str, parameters: &[Value], ok: &str, content_type: &str) -> Value {
    json!({ "get": { "operationId": id, "summary": summary, "parameters": parameters, "responses": responses(ok, content_type) } })
}

/// Every path of the OGC API, and each collection's own items path with
/// its property filters.
#[expect(
    clippy::too_many_lines,
    reason = "one table of the paths, which rustfmt spreads over many lines"
)]
fn paths() -> Map<String, Value> {
    let f = [param_ref("f")];
    let common: Vec<Value> = item_parameters()
        .iter()
        .map(|(n, _)| param_ref(n))
        .collect();
    let mut paths = Map::new();
    paths.insert(
        "/".into(),
        get(
            "landing",
            "landing page",
            &f,
            "the landing page",
            "application/json",
        ),
    );
    paths.insert(
        "/conformance".into(),
        get(
            "conformance",
            "conformance classes",
            &f,
            "the classes",
            "application/json",
        ),
    );
    paths.insert(
        "/api".into(),
        get(
            "api",
            "this document",
            &f,
            "this document",
            "application/vnd.oai.openapi+json;version=3.0",
        ),
    );
    paths.insert(
        "/collections".into(),
        get(
            "collections",
            "the collections the caller may read",
            &f,
            "the collections",
            "application/json",
        ),
    );
    let id = [param_ref("collectionId"), param_ref("f")];
    paths.insert(
        "/collections/{collectionId}".into(),
        get(
            "collection",
            "one collection",
            &id,
            "the collection",
            "application/json",
        ),
    );
    paths.insert(
        "/collections/{collectionId}/queryables".into(),
        get(
            "queryables",
            "the properties to filter on (Part 3)",
            &id,
            "a JSON Schema",
            "application/schema+json",
        ),
    );
    paths.insert(
        "/collections/{collectionId}/schema".into(),
        get(
            "schema",
            "the features' schema",
            &id,
            "a JSON Schema",
            "application/schema+json",
        ),
    );
    let mut items = vec![param_ref("collectionId")];
    items.extend(common.iter().cloned());
    paths.insert(
        "/collections/{collectionId}/items".into(),
        get(
            "items",
            "the features of a collection",
            &items,
            "a GeoJSON FeatureCollection with numberMatched",
            "application/geo+json",
        ),
    );
    let one = [
        param_ref("collectionId"),
        param_ref("featureId"),
        param_ref("crs"),
        param_ref("f"),
    ];
    paths.insert(
        "/collections/{collectionId}/items/{featureId}".into(),
        get(
            "item",
            "one feature",
            &one,
            "a GeoJSON Feature",
            "application/geo+json",
        ),
    );
    for c in Collection::all() {
        let mut params = common.clone();
        for (name, values) in c.filters() {
            params.push(query(
                name,
                &format!("any of these, comma-separated: {}", values.join(", ")),
                &json!({ "type": "string" }),
            ));
        }
        let cid = c.id();
        paths.insert(
            format!("/collections/{cid}/items"),
            get(
                &format!("items_{}", cid.replace('-', "_")),
                &format!("the features of {cid}"),
                &params,
                "a GeoJSON FeatureCollection with numberMatched",
                "application/geo+json",
            ),
        );
    }
    paths
}

pub(super) fn document(base: &str) -> Value {
    let paths = paths();
    let mut parameters = Map::new();
    for (name, p) in item_parameters() {
        parameters.insert(name.into(), p);
    }
    parameters.insert("collectionId".into(), json!({ "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string", "enum": Collection::all().into_iter().map(Collection::id).collect::<Vec<_>>() } }));
    parameters.insert("featureId".into(), json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Trygg – OGC API – Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incidents, unsafe-place reports, presence, measures, places and districts of a Swedish citizen promise, one collection per geometry type, as GeoJSON. Public collections need no login; the others need an API token, as `Authorization: Bearer trygg_…` or as the password of HTTP Basic with any username (what QGIS's credential dialog sends).",
            "license": { "name": "AGPL-3.0-or-later" },
        },
        "servers": [{ "url": super::absolute(base, "/ogc") }],
        "paths": paths,
        "security": [{}, { "bearer": [] }, { "basic": [] }],
        "components": {
            "parameters": parameters,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "an API token, trygg_…" },
                "basic": { "type": "http", "scheme": "basic", "description": "any username, an API token (trygg_…) as the password" },
            },
            "schemas": { "Problem": crate::routes::openapi::problem_schema() },
        },
    })
}
