//! OGC API – Features: Part 1 Core with the GeoJSON and OpenAPI 3.0
//! classes, Part 2 (coordinate systems by reference: SWEREF 99 TM and its
//! local zones) and Part 3's queryables with simple property filters, so
//! QGIS, ArcGIS, GDAL and OWSLib read the layers. Every path also answers
//! with a trailing slash (OWSLib asks for `{root}/`). The public sees only
//! the public collections; a logged-in caller sees what their role may read
//! (the same permissions as the rest of the API).
//!
//! `collections` says what each collection is, `items` serves its
//! features, `api` is the OGC API's own OpenAPI document.

pub(super) mod api;
mod collections;
mod items;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::absolute;
use crate::auth::Caller;
use crate::extract::Params;
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};
use collections::Collection;

pub(super) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for path in [
        "/ogc",
        "/ogc/api",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{id}",
        "/ogc/collections/{id}/queryables",
        "/ogc/collections/{id}/schema",
        "/ogc/collections/{id}/items",
        "/ogc/collections/{id}/items/{feature}",
    ] {
        let handler = match path {
            "/ogc" => get(landing),
            "/ogc/api" => get(api_document),
            "/ogc/conformance" => get(conformance),
            "/ogc/collections" => get(collection_list),
            "/ogc/collections/{id}" => get(collection),
            "/ogc/collections/{id}/queryables" => get(queryables),
            "/ogc/collections/{id}/schema" => get(schema),
            "/ogc/collections/{id}/items" => get(items),
            _ => get(item),
        };
        // The same resource with a trailing slash, as OWSLib and some
        // proxies ask for it.
        router = router
            .route(path, handler.clone())
            .route(&format!("{path}/"), handler);
    }
    router
}

/// Hexagon collections are served at this resolution (≈ 174 m, the
/// planners' default); the layers API takes any.
pub(super) const INTERNAL_HEX_RESOLUTION: u8 = 9;
pub(super) const DEFAULT_LIMIT: usize = 100;
pub(super) const MAX_LIMIT: usize = 10_000;

pub(super) fn f_param(params: &[(String, String)]) -> Result<(), ApiError> {
    match params
        .iter()
        .find(|(k, _)| k == "f")
        .map(|(_, v)| v.as_str())
    {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
        Some(other) => Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "f",
            format!("`{other}` is not offered; use f=json"),
        )),
    }
}

/// Documents other than items take only `f`.
fn only_f(params: &[(String, String)]) -> Result<(), ApiError> {
    f_param(params)?;
    match params.iter().find(|(k, _)| k != "f") {
        Some((k, _)) => Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            k,
            "this document takes only f=json",
        )),
        None => Ok(()),
    }
}

pub(super) fn link(base: &str, path: &str, rel: &str, ty: &str, title: &str) -> Value {
    json!({ "href": absolute(base, path), "rel": rel, "type": ty, "title": title })
}

fn typed(body: &Value, content_type: &'static str) -> Response {
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn landing(
    State(state): State<AppState>,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only_f(&params)?;
    Ok(axum::Json(json!({
        "title": "Trygg",
        "description": "Crime-exposed and unsafe places, safety-creating presence and measures of a Swedish citizen promise (medborgarlöfte). Send an API token as `Authorization: Bearer …` or as the password of HTTP Basic (any username) to see more than the public collections.",
        "links": [
            link(&state.public_url, "/ogc", "self", "application/json", "this document"),
            link(&state.public_url, "/ogc/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            link(&state.public_url, "/ogc/conformance", "conformance", "application/json", "conformance classes"),
            link(&state.public_url, "/ogc/collections", "data", "application/json", "collections"),
        ],
    })))
}

async fn conformance(Params(params): Params) -> Result<axum::Json<Value>, ApiError> {
    only_f(&params)?;
    Ok(axum::Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        ]
    })))
}

async fn api_document(
    State(state): State<AppState>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    only_f(&params)?;
    Ok(typed(
        &api::document(&state.public_url),
        "application/vnd.oai.openapi+json;version=3.0",
    ))
}

async fn collection_list(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only_f(&params)?;
    let list: Vec<Value> = Collection::all()
        .into_iter()
        .filter(|c| c.visible_to(&caller))
        .map(|c| collections::describe(&state, &state.public_url, c))
        .collect();
    Ok(axum::Json(json!({
        "links": [link(&state.public_url, "/ogc/collections", "self", "application/json", "collections")],
        "crs": trygg_core::ogc::crs::OgcCrs::all().into_iter().map(trygg_core::ogc::crs::OgcCrs::uri).collect::<Vec<_>>(),
        "collections": list,
    })))
}

fn find(id: &str, caller: &Caller) -> Result<Collection, ApiError> {
    let c = Collection::parse(id).ok_or_else(|| {
        let hint = match trygg_core::Kind::from_collection(id) {
            Some(k) if k.shapes().len() > 1 => format!(
                "; {} has one collection per geometry type: {}",
                k.collection(),
                k.shapes()
                    .iter()
                    .map(|s| format!("{}-{}", k.collection(), s.plural()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        ApiError::not_found(format!("no collection `{id}`{hint}"))
    })?;
    if c.visible_to(caller) {
        Ok(c)
    } else if caller.who().is_none() {
        Err(crate::auth::unauthenticated())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "your role does not allow this collection",
        ))
    }
}

async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only_f(&params)?;
    let c = find(&id, &caller)?;
    Ok(axum::Json(collections::describe(
        &state,
        &state.public_url,
        c,
    )))
}

async fn queryables(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    json_schema(
        &caller,
        &state.public_url,
        &id,
        &params,
        collections::queryables,
    )
}

async fn schema(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    json_schema(
        &caller,
        &state.public_url,
        &id,
        &params,
        collections::schema,
    )
}

/// A JSON Schema document about a collection.
fn json_schema(
    caller: &Caller,
    base: &str,
    id: &str,
    params: &[(String, String)],
    make: fn(&str, Collection) -> Value,
) -> Result<Response, ApiError> {
    only_f(params)?;
    let c = find(id, caller)?;
    Ok(typed(&make(base, c), "application/schema+json"))
}

async fn items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let c = find(&id, &caller)?;
    items::items(&state, &caller, &state.public_url, c, &params).await
}

async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, feature)): Path<(String, String)>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let c = find(&id, &caller)?;
    let (mut value, transform) = items::item(&state, &caller, c, &feature, &params).await?;
    if let Some(g) = value.get_mut("geometry") {
        transform.geometry(g).map_err(ApiError::query)?;
    }
    let mut response = GeoJson::value(&value).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", transform.crs().uri())) {
        response.headers_mut().insert("content-crs", v);
    }
    Ok(response)
}
