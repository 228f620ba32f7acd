//! Open311 GeoReport v2 (JSON) for citizen reports about lighting,
//! vegetation, litter and graffiti, so existing citizen-report apps can
//! talk to Trygg. Requests take the same path as the public report form:
//! into the moderation queue, counted publicly only as aggregates once
//! approved. Unlike a typical Open311 server, requests are never listed
//! with their positions or texts: a reporter can follow their own request
//! by its id, and nobody can read another's whereabouts.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Map, Value, json};
use trygg_core::attrs::{Attributes, ReportStatus};
use trygg_core::{Kind, NewFeature};
use uuid::Uuid;

use crate::auth::{self, Caller};
use crate::extract::Params;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/services.json", get(services))
        .route("/open311/v2/services/{code}", get(service))
        .route("/open311/v2/requests.json", get(requests).post(create))
        .route("/open311/v2/requests/{id}", get(request))
}

/// (code, Swedish name, English description, the report reason it files).
const SERVICES: [(&str, &str, &str, &str); 4] = [
    (
        "lighting",
        "Trasig eller saknad belysning",
        "A street light is broken or missing, or a place is too dark",
        "lighting",
    ),
    (
        "vegetation",
        "Igenvuxen växtlighet",
        "Bushes or trees block the view or the path",
        "vegetation",
    ),
    (
        "litter",
        "Nedskräpning",
        "Litter or dumped rubbish makes a place feel neglected",
        "litter_graffiti",
    ),
    ("graffiti", "Klotter", "Graffiti or tags", "litter_graffiti"),
];

fn service_json(code: &str, name: &str, description: &str) -> Value {
    json!({
        "service_code": code,
        "service_name": name,
        "description": description,
        "metadata": false,
        "type": "realtime",
        "keywords": "trygghet, otrygg plats",
        "group": "Trygghet",
    })
}

async fn services() -> Json<Value> {
    Json(Value::Array(
        SERVICES
            .iter()
            .map(|(c, n, d, _)| service_json(c, n, d))
            .collect(),
    ))
}

async fn service(Path(code): Path<String>) -> Result<Json<Value>, ApiError> {
    let code = code.strip_suffix(".json").unwrap_or(&code);
    SERVICES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(c, n, d, _)| Json(json!([service_json(c, n, d)])))
        .ok_or_else(|| ApiError::not_found(format!("no service `{code}`")))
}

/// Open311 clients send form-encoded bodies; JSON is accepted as well.
fn fields(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence == "application/json" || essence.ends_with("+json") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "body",
                "a JSON object of Open311 fields",
            )),
        };
    }
    Ok(form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect())
}

fn text<'a>(f: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    f.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn number(f: &Map<String, Value>, name: &str) -> Result<f64, ApiError> {
    let v = f.get(name).ok_or_else(|| {
        ApiError::field(StatusCode::BAD_REQUEST, name, "required (WGS84 degrees)")
    })?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| ApiError::field(StatusCode::BAD_REQUEST, name, "must be a number"))
}

/// `POST requests.json`: a new request, into the moderation queue.
async fn create(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    super::public::limit(&state, &headers, peer, &state.auth.public_reports)?;
    if body.len() > 16 * 1024 {
        return Err(ApiError::field(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            "an Open311 request is at most 16 KB",
        ));
    }
    let f = fields(&headers, &body)?;
    let code = text(&f, "service_code").ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "service_code",
            "required; see services.json",
        )
    })?;
    let (_, _, _, reason) = SERVICES.iter().find(|(c, ..)| *c == code).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "service_code",
            format!("unknown service `{code}`; see services.json"),
        )
    })?;
    let (lat, lon) = (number(&f, "lat")?, number(&f, "long")?);
    let contact = [text(&f, "email"), text(&f, "phone")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let mut props = json!({
        "reasons": [reason],
        "source": "public",
        "status": "pending",
        "reported_at": Utc::now(),
    });
    if let Some(d) = text(&f, "description") {
        props["comment"] = json!(d);
    }
    if !contact.is_empty() {
        props["contact"] = json!(contact);
    }
    let feature = json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": props });
    let now = Utc::now();
    let input = NewFeature::parse(Kind::Report, &feature, &state.area, now).map_err(|e| {
        // Name the Open311 field, not Trygg's.
        let field = match e.field() {
            f if f.starts_with("geometry") => "lat, long",
            "properties.comment" => "description",
            "properties.contact" => "email",
            other => other,
        };
        ApiError::field(StatusCode::BAD_REQUEST, field, e.to_string())
    })?;
    let created = state.store.create(&input, &caller.actor(), now).await?;
    state.layers.apply(&created.feature);
    Ok((
        StatusCode::CREATED,
        Json(json!([{
            "service_request_id": created.feature.id,
            "service_notice": "Tack! Rapporten granskas innan den räknas och visas bara som en del av en sammanställning.",
        }])),
    )
        .into_response())
}

/// A request's status, without its position or text.
async fn status_json(state: &AppState, id: &str) -> Result<Value, ApiError> {
    let uuid =
        Uuid::parse_str(id).map_err(|_| ApiError::not_found(format!("no request `{id}`")))?;
    let f = state
        .store
        // What anyone may ask: the view of an anonymous caller.
        .get(Kind::Report, uuid, &trygg_core::access::View::anonymous())
        .await
        .map_err(|_| ApiError::not_found(format!("no request `{id}`")))?;
    let Attributes::Report(r) = &f.attributes else {
        return Err(ApiError::not_found(format!("no request `{id}`")));
    };
    if r.source.as_str() != "public" {
        return Err(ApiError::not_found(format!("no request `{id}`")));
    }
    let (status, notice) = match r.status {
        ReportStatus::Pending => ("open", "Granskas"),
        ReportStatus::Approved => ("closed", "Godkänd: räknas i sammanställningen"),
        ReportStatus::Rejected => ("closed", "Avslagen"),
    };
    let code = SERVICES
        .iter()
        .find(|(_, _, _, reason)| r.reasons.iter().any(|x| x.as_str() == *reason))
        .map_or("other", |(c, ..)| *c);
    Ok(json!({
        "service_request_id": f.id,
        "status": status,
        "status_notes": notice,
        "service_code": code,
        "requested_datetime": r.reported_at,
        "updated_datetime": f.updated_at,
    }))
}

async fn request(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    Ok(Json(json!([status_json(&state, id).await?])))
}

/// How many requests one status query may name.
const MAX_REQUESTS_ASKED: usize = 50;

/// `GET requests.json?service_request_id=a,b`: the status of known
/// requests. Listing everyone's requests is not offered.
async fn requests(
    State(state): State<AppState>,
    Params(params): Params,
) -> Result<Json<Value>, ApiError> {
    let ids = params
        .iter()
        .find(|(k, _)| k == "service_request_id")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "service_request_id",
                "required: requests are followed by id, never listed with their places",
            )
        })?;
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let refuse = |why: String| ApiError::field(StatusCode::BAD_REQUEST, "service_request_id", why);
    if ids.is_empty() {
        return Err(refuse("names no request id".into()));
    }
    if ids.len() > MAX_REQUESTS_ASKED {
        return Err(refuse(format!(
            "at most {MAX_REQUESTS_ASKED} request ids at a time, {} given",
            ids.len()
        )));
    }
    if let Some(bad) = ids.iter().find(|id| Uuid::parse_str(id).is_err()) {
        return Err(refuse(format!("`{bad}` is not a request id (a UUID)")));
    }
    let mut out = Vec::new();
    for id in ids {
        out.push(status_json(&state, id).await?);
    }
    Ok(Json(Value::Array(out)))
}
