//! CRUD and lists for every kind, as GeoJSON.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};
use trygg_core::query::ListQuery;
use trygg_core::{Kind, NewFeature};
use uuid::Uuid;

use super::absolute;
use crate::extract::{JsonBody, Params};
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for kind in Kind::ALL {
        let collection = format!("/api/v1/{}", kind.collection());
        router = router
            .route(
                &collection,
                get(move |s: State<AppState>, h: HeaderMap, p: Params| list(kind, s, h, p)).post(
                    move |s: State<AppState>, h: HeaderMap, b: JsonBody| create(kind, s, h, b),
                ),
            )
            .route(
                &format!("{collection}/{{id}}"),
                get(move |s: State<AppState>, id: Path<String>| read(kind, s, id))
                    .put(
                        move |s: State<AppState>, id: Path<String>, h: HeaderMap, b: JsonBody| {
                            replace(kind, s, id, h, b)
                        },
                    )
                    .delete(move |s: State<AppState>, id: Path<String>| remove(kind, s, id)),
            );
    }
    router
}

fn parse_id(kind: Kind, id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found(format!("no {kind} with id {id}")))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// `If-Match: "3"` → `Some(3)`; absent or `*` → `None`.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "If-Match",
                "expected the ETag this server sent, e.g. \"3\"",
            )
        })
}

fn feature_response(status: StatusCode, kind: Kind, feature: &trygg_core::Feature) -> Response {
    let mut r = (status, GeoJson::value(&feature.to_geojson())).into_response();
    let h = r.headers_mut();
    h.insert(header::ETAG, etag(feature.version));
    if status == StatusCode::CREATED
        && let Ok(loc) =
            HeaderValue::from_str(&format!("/api/v1/{}/{}", kind.collection(), feature.id))
    {
        h.insert(header::LOCATION, loc);
    }
    r
}

#[tracing::instrument(skip_all, fields(kind = %kind))]
async fn list(
    kind: Kind,
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let q = ListQuery::parse(kind, &params).map_err(ApiError::query)?;
    let page = state.store.list(kind, &q).await?;
    let path = format!("/api/v1/{}", kind.collection());
    let encode = |pairs: &[(String, String)]| {
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if qs.is_empty() {
            path.clone()
        } else {
            format!("{path}?{qs}")
        }
    };
    let mut links = vec![json!({
        "href": absolute(&headers, &encode(&params)),
        "rel": "self",
        "type": "application/geo+json",
    })];
    if let Some(after) = page.next_after {
        links.push(json!({
            "href": absolute(&headers, &encode(&q.next_params(&params, after))),
            "rel": "next",
            "type": "application/geo+json",
        }));
    }
    let features: Vec<Value> = page
        .features
        .iter()
        .map(trygg_core::Feature::to_geojson)
        .collect();
    Ok(GeoJson::value(&json!({
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": features.len(),
        "timeStamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "links": links,
    })))
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn read(
    kind: Kind,
    State(state): State<AppState>,
    id: Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(kind, &id)?;
    let feature = state.store.get(kind, id).await?;
    Ok(feature_response(StatusCode::OK, kind, &feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind))]
async fn create(
    kind: Kind,
    State(state): State<AppState>,
    _headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let input = NewFeature::parse(kind, &body, &state.area, now).map_err(ApiError::body)?;
    let created = state.store.create(&input, now).await?;
    if created.created {
        state.layers.apply(&created.feature);
    }
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(feature_response(status, kind, &created.feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn replace(
    kind: Kind,
    State(state): State<AppState>,
    id: Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(kind, &id)?;
    let expected = if_match(&headers)?;
    let now = Utc::now();
    let input = NewFeature::parse(kind, &body, &state.area, now).map_err(ApiError::body)?;
    let feature = state.store.update(kind, id, &input, expected, now).await?;
    state.layers.apply(&feature);
    Ok(feature_response(StatusCode::OK, kind, &feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn remove(
    kind: Kind,
    State(state): State<AppState>,
    id: Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(kind, &id)?;
    state.store.delete(kind, id).await?;
    state.layers.remove(kind, id);
    Ok(StatusCode::NO_CONTENT)
}
