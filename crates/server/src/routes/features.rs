//! CRUD and lists for every kind, as GeoJSON, plus moderation of public
//! reports. Who may call which is decided by the policy table, not here.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};
use trygg_core::access::Role;
use trygg_core::attrs::{Attributes, ReportStatus};
use trygg_core::query::ListQuery;
use trygg_core::{Feature, Kind, NewFeature};
use uuid::Uuid;

use super::absolute;
use crate::auth::Caller;
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
                get(move |s: State<AppState>, c: Caller, p: Params| list(kind, s, c, p))
                    .post(move |s: State<AppState>, c: Caller, b: JsonBody| create(kind, s, c, b)),
            )
            .route(
                &format!("{collection}/{{id}}"),
                get(move |s: State<AppState>, c: Caller, id: Path<String>| read(kind, s, c, id))
                    .put(
                        move |s: State<AppState>,
                              c: Caller,
                              id: Path<String>,
                              h: HeaderMap,
                              b: JsonBody| {
                            replace(kind, s, c, id, h, b)
                        },
                    )
                    .delete(move |s: State<AppState>, c: Caller, id: Path<String>| {
                        remove(kind, s, c, id)
                    }),
            );
    }
    router.route("/api/v1/reports/{id}/moderation", post(moderate))
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

/// The properties of a kind a caller may not see: respondent groups only
/// for admins (an individual's group is below any threshold), a reporter's
/// contact only for moderators and admins. One list, for reading
/// ([`redact`]) and writing ([`keep_hidden`]).
fn hidden(kind: Kind, caller: &Caller) -> Vec<&'static str> {
    if kind != Kind::Report {
        return Vec::new();
    }
    let admin = caller.who().is_some_and(|p| p.user.role == Role::Admin);
    let moderator = caller
        .who()
        .is_some_and(|p| p.user.can_publish && !p.user.disabled);
    let mut out = Vec::new();
    if !admin {
        out.push("respondent");
    }
    if !admin && !moderator {
        out.push("contact");
    }
    out
}

/// What a caller may see of a feature.
pub(super) fn redact(mut v: Value, kind: Kind, caller: &Caller) -> Value {
    if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
        for name in hidden(kind, caller) {
            props.remove(name);
        }
    }
    v
}

/// A replacement body with the stored values of what the caller could not
/// see: they edited a redacted copy, so its missing fields are not
/// deletions, and whatever they sent for a field they cannot see would
/// overwrite a value blind.
fn keep_hidden(mut body: Value, stored: &Feature, caller: &Caller) -> Value {
    let names = hidden(stored.kind(), caller);
    if names.is_empty() {
        return body;
    }
    let before = stored.attributes.to_value();
    if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
        for name in names {
            match before.get(name) {
                Some(v) => props.insert(name.to_owned(), v.clone()),
                None => props.remove(name),
            };
        }
    }
    body
}

fn feature_response(
    status: StatusCode,
    kind: Kind,
    caller: &Caller,
    feature: &Feature,
) -> Response {
    let mut r = (
        status,
        GeoJson::value(&redact(feature.to_geojson(), kind, caller)),
    )
        .into_response();
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
    caller: Caller,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let q = ListQuery::parse(kind, &params).map_err(ApiError::query)?;
    let page = super::list_page(&state, kind, &q, caller.view()).await?;
    let path = format!("/api/v1/{}", kind.collection());
    let encode = |pairs: &[(String, String)]| super::with_query(&path, pairs);
    let mut links = vec![json!({
        "href": absolute(&state.public_url, &encode(&params)),
        "rel": "self",
        "type": "application/geo+json",
    })];
    if let Some(after) = page.next_after {
        links.push(json!({
            "href": absolute(&state.public_url, &encode(&q.next_params(&params, after))),
            "rel": "next",
            "type": "application/geo+json",
        }));
    }
    let features: Vec<Value> = page
        .features
        .iter()
        .map(|f| redact(f.to_geojson(), kind, &caller))
        .collect();
    Ok(GeoJson::value(&json!({
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": features.len(),
        "timeStamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "links": links,
    })))
}

/// A feature the caller may see, or 404 (not 403: whether it exists is
/// itself information); the store applies the caller's view.
async fn fetch_visible(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: Uuid,
) -> Result<Feature, ApiError> {
    Ok(state.store.get(kind, id, caller.view()).await?)
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn read(
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(kind, &id)?;
    let feature = fetch_visible(&state, &caller, kind, id).await?;
    Ok(feature_response(StatusCode::OK, kind, &caller, &feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind))]
async fn create(
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let input = NewFeature::parse(kind, &body, &state.area, now).map_err(ApiError::body)?;
    let created = state.store.create(&input, &caller.actor(), now).await?;
    if created.created {
        state.layers.apply(&created.feature);
    }
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(feature_response(status, kind, &caller, &created.feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn replace(
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    id: Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(kind, &id)?;
    let expected = if_match(&headers)?;
    let now = Utc::now();
    let stored = fetch_visible(&state, &caller, kind, id).await?;
    let body = keep_hidden(body, &stored, &caller);
    let input = NewFeature::parse(kind, &body, &state.area, now).map_err(ApiError::body)?;
    let feature = state
        .store
        .update(kind, id, &input, expected, &caller.actor(), now)
        .await?;
    state.layers.apply(&feature);
    Ok(feature_response(StatusCode::OK, kind, &caller, &feature))
}

#[tracing::instrument(skip_all, fields(kind = %kind, id = %id.0))]
async fn remove(
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(kind, &id)?;
    fetch_visible(&state, &caller, kind, id).await?;
    state
        .store
        .delete(kind, id, &caller.actor(), Utc::now())
        .await?;
    state.layers.remove(kind, id);
    Ok(StatusCode::NO_CONTENT)
}

/// Approve or reject a public report (the publish permission). Only
/// pending reports can be decided, and a rejection says why; the store
/// makes the change (`Store::moderate`), the only write that may.
async fn moderate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_id(Kind::Report, &id)?;
    let decision = match body.get("decision").and_then(Value::as_str) {
        Some("approve") => ReportStatus::Approved,
        Some("reject") => ReportStatus::Rejected,
        _ => {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "decision",
                "approve or reject",
            ));
        }
    };
    let note = body.get("reason").and_then(Value::as_str);
    let current = state.store.get(Kind::Report, id, caller.view()).await?;
    if let Attributes::Report(r) = &current.attributes
        && r.status != ReportStatus::Pending
    {
        return Err(ApiError::field(
            StatusCode::CONFLICT,
            "decision",
            format!("the report was already {}", r.status.as_str()),
        ));
    }
    let feature = state
        .store
        .moderate(
            id,
            decision,
            note,
            Some(current.version),
            &caller.actor(),
            Utc::now(),
        )
        .await?;
    state.layers.apply(&feature);
    Ok(feature_response(
        StatusCode::OK,
        Kind::Report,
        &caller,
        &feature,
    ))
}
