//! The public API, for the embed page and anyone: aggregates of closed
//! months only, at one resolution, with cells under k suppressed (and
//! secondary suppression), no exact positions of incidents, reports or
//! presence, no free text. Cacheable (ETag, Cache-Control), open to every
//! origin for GET, rate limited per client address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use geo::Contains;
use geo_types::{Geometry, MultiPolygon, Point};
use serde_json::{Map, Value, json};
use trygg_core::access::View;
use trygg_core::attrs::Attributes;
use trygg_core::index::HexCount;
use trygg_core::privacy::{PublicPolicy, closed_month, public_resolution, publishable};
use trygg_core::query::{Filters, HexQuery, ListQuery};
use trygg_core::time::TimeWindow;
use trygg_core::{Kind, NewFeature};

use super::public_answer::{Answer, Answers};
use crate::auth::{self, Caller};
use crate::extract::{JsonBody, Params};
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/public/layers/{kind}/hexagons", get(hexagons))
        .route("/api/v1/public/areas", get(areas))
        .route("/api/v1/public/measures", get(measures))
        .route("/api/v1/public/reports", post(submit_report))
}

/// A closed month's public layer as first served (frozen), and how many
/// events the whole area has gained or lost since.
pub(crate) struct PublicLayer {
    pub cells: Vec<HexCount>,
    pub frozen_at_ms: i64,
    /// Events of the month recorded (or removed) since it was frozen, over
    /// the whole area: a correction that locates nothing.
    pub later_events: i64,
}

/// A public layer and the data generation it was read at.
type CachedCells = (u64, Arc<PublicLayer>);

/// A frozen layer as stored: `[[cell, count, minutes], …]` and the events
/// of the whole area (hidden cells included) at freezing.
fn frozen_json(cells: &[HexCount], events: u64) -> String {
    let cells: Vec<Value> = cells
        .iter()
        .map(|h| json!([h.cell.to_string(), h.count, h.minutes]))
        .collect();
    json!({ "cells": cells, "events": events }).to_string()
}

fn frozen_from_json(s: &str) -> Result<(Vec<HexCount>, u64), ApiError> {
    let broken = || {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "a frozen public layer is unreadable",
        )
    };
    let v: Value = serde_json::from_str(s).map_err(|_| broken())?;
    let cells = v["cells"]
        .as_array()
        .ok_or_else(broken)?
        .iter()
        .map(|c| {
            Some(HexCount {
                cell: c[0].as_str()?.parse().ok()?,
                count: c[1].as_u64()?,
                minutes: c[2].as_f64()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(broken)?;
    Ok((cells, v["events"].as_u64().ok_or_else(broken)?))
}

/// Public answers computed once per (layer, month) and data generation.
#[derive(Default)]
pub struct PublicCache {
    entries: Mutex<HashMap<(Kind, String), CachedCells>>,
    answers: Answers,
}

/// Kinds with a public hexagon layer. Places are left out: they show where
/// patrols are sent.
fn public_kind(name: &str) -> Result<Kind, ApiError> {
    match name.parse::<Kind>() {
        Ok(k @ (Kind::Incident | Kind::Report | Kind::Presence | Kind::Measure)) => Ok(k),
        _ => Err(ApiError::not_found(format!(
            "no public layer `{name}`; there are incidents, reports, presence and measures"
        ))),
    }
}

pub(crate) fn limit(
    state: &AppState,
    headers: &HeaderMap,
    peer: auth::Peer,
    bucket: &auth::throttle::RateLimit,
) -> Result<(), ApiError> {
    let address = auth::client_address(headers, peer, &state.auth.config);
    bucket.take(&address, auth::instant()).map_err(|wait| {
        ApiError::retry(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from your address; slow down",
            wait.as_secs().max(1),
        )
    })
}

fn only(params: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    for (k, _) in params {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                k,
                format!(
                    "unknown parameter; this endpoint takes {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// District names and outlines.
pub(crate) async fn district_outlines(
    state: &AppState,
) -> Result<Vec<(String, MultiPolygon<f64>)>, ApiError> {
    Ok(
        super::all_features(state, Kind::Area, TimeWindow::ALL, &View::everything())
            .await?
            .into_iter()
            .filter_map(|f| {
                let name = match &f.attributes {
                    Attributes::Area(a) => a.name.clone(),
                    _ => return None,
                };
                match f.geometry {
                    Geometry::Polygon(p) => Some((name, MultiPolygon(vec![p]))),
                    Geometry::MultiPolygon(mp) => Some((name, mp)),
                    _ => None,
                }
            })
            .collect(),
    )
}

/// District outlines by index, for the per-district secondary suppression.
async fn districts(state: &AppState) -> Result<Vec<MultiPolygon<f64>>, ApiError> {
    Ok(district_outlines(state)
        .await?
        .into_iter()
        .map(|(_, shape)| shape)
        .collect())
}

/// What the public map counts of a kind: public reports only once a
/// moderator approved them.
fn public_filters(kind: Kind) -> Filters {
    if kind == Kind::Report {
        Filters {
            statuses: vec!["approved"],
            ..Filters::default()
        }
    } else {
        Filters::default()
    }
}

async fn published_cells(
    state: &AppState,
    kind: Kind,
    period: &str,
    window: trygg_core::time::TimeWindow,
    policy: &PublicPolicy,
) -> Result<Arc<PublicLayer>, ApiError> {
    let generation = state.layers.generation(kind) + state.layers.generation(Kind::Area);
    let key = (kind, period.to_owned());
    if let Some((g, cells)) = state
        .public_cache
        .entries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
        && *g == generation
    {
        return Ok(Arc::clone(cells));
    }
    let resolution = public_resolution(None, policy).map_err(ApiError::query)?;
    let q = HexQuery {
        filters: public_filters(kind),
        resolution,
        bbox: None,
        window,
        organisation: None,
    };
    let cells = state
        .layers
        .hexagons(
            kind,
            &q,
            // Every partner's records: the public layer is an aggregate of a
            // closed month, suppressed below k, by design (DESIGN.md).
            &View::everything(),
            Utc::now().timestamp_millis(),
            state.limits.max_hex_cells,
        )
        .map_err(ApiError::query)?;
    let outlines = districts(state).await?;
    let district_of = |cell: h3o::CellIndex| {
        let ll = h3o::LatLng::from(cell);
        let p = Point::new(ll.lng(), ll.lat());
        outlines.iter().position(|d| d.contains(&p))
    };
    let live = publishable(&cells, policy.k, &district_of);
    // The month has ended: what is first served is what is served ever
    // after, so a late record can never move a cell across k and locate
    // itself. Later changes show only as a count for the whole area.
    let name = format!(
        "layer|{kind}|{period}|r{}|k{}",
        u8::from(resolution.get()),
        policy.k
    );
    let events = cells.iter().map(|h| h.count).sum::<u64>();
    let record = state
        .store
        .freeze(&name, &frozen_json(&live, events), Utc::now())
        .await?;
    let (frozen, frozen_events) = frozen_from_json(&record.content)?;
    let published = Arc::new(PublicLayer {
        cells: frozen,
        frozen_at_ms: record.frozen_at,
        later_events: i64::try_from(events).unwrap_or(i64::MAX)
            - i64::try_from(frozen_events).unwrap_or(i64::MAX),
    });
    state
        .public_cache
        .entries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key, (generation, Arc::clone(&published)));
    Ok(published)
}

/// A public answer kept per data generation, publication (and minute:
/// other instances publish too) and `key`, made by `make` when there is
/// none: a crowd reading the follow-up costs one computation.
pub(crate) async fn kept<F>(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    make: F,
) -> Result<Response, ApiError>
where
    F: Future<Output = Result<Answer, ApiError>>,
{
    let generation = state.layers.generation_all();
    let key = format!(
        "{key}|{}|{}",
        state.published_generation(),
        Utc::now().timestamp() / 60
    );
    if let Some(answer) = state.public_cache.answers.get(&key, generation) {
        return Ok(answer.respond(headers));
    }
    let answer = Arc::new(make.await?);
    let response = answer.respond(headers);
    state.public_cache.answers.keep(key, generation, answer);
    Ok(response)
}

/// A cacheable public answer: strong ETag from the body, 304 when the
/// client has it, open CORS for GET.
pub(crate) fn cacheable(headers: &HeaderMap, body: String, content_type: &'static str) -> Response {
    Answer::plain(body, content_type).respond(headers)
}

async fn hexagons(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    limit(&state, &headers, peer, &state.auth.public_reads)?;
    let kind = public_kind(&kind)?;
    only(&params, &["period", "resolution", "bbox", "f"])?;
    let policy = state.public_policy;
    let resolution =
        public_resolution(param(&params, "resolution"), &policy).map_err(ApiError::query)?;
    let (period, window) = closed_month(param(&params, "period"), Utc::now(), state.area.timezone)
        .map_err(ApiError::query)?;
    let generation = state.layers.generation(kind) + state.layers.generation(Kind::Area);
    let key = format!(
        "hexagons|{kind}|{period}|{}|{}",
        u8::from(resolution.get()),
        param(&params, "bbox").unwrap_or_default()
    );
    if let Some(answer) = state.public_cache.answers.get(&key, generation) {
        return Ok(answer.respond(&headers));
    }
    let bbox = param(&params, "bbox")
        .map(|b| trygg_core::bbox::Bbox::parse(b, "bbox"))
        .transpose()
        .map_err(ApiError::query)?;
    let layer = published_cells(&state, kind, &period, window, &policy).await?;
    let visible: Vec<HexCount> = layer
        .cells
        .iter()
        .filter(|h| bbox.is_none_or(|b| trygg_core::cells::touches(h.cell, &b)))
        .copied()
        .collect();
    let mut meta = Map::new();
    meta.insert("period".into(), json!(period));
    meta.insert("k".into(), json!(policy.k));
    // Stand-in positions are counted nowhere on the public map; how many
    // there are is a monthly total, not a place. Hexagons left out below
    // the threshold are not counted here: their sum would give them away.
    let omitted = state.layers.hexagons_omitted(
        kind,
        &HexQuery {
            resolution,
            bbox: None,
            window,
            filters: public_filters(kind),
            organisation: None,
        },
        &View::everything(),
    );
    meta.extend(super::scope(window, &omitted));
    meta.insert(
        "frozen_at".into(),
        json!(trygg_core::time::from_ms(layer.frozen_at_ms)),
    );
    if layer.later_events != 0 {
        meta.insert(
            "corrections".into(),
            json!({ "events_since_frozen": layer.later_events, "note": "Records of this month added or removed after the layer was first shown; the hexagons stay as first shown, so no late record can be located." }),
        );
    }
    meta.insert(
        "note".into(),
        json!(format!("Aggregated per H3 hexagon (resolution {}) for one closed month; hexagons with fewer than {} events, and some others so that none can be derived, are left out.", u8::from(resolution.get()), policy.k)),
    );
    let body =
        trygg_core::hexagons::to_geojson_with(kind, &visible, u8::from(resolution.get()), &meta);
    let answer = Arc::new(Answer::new(body, "application/geo+json"));
    let response = answer.respond(&headers);
    state.public_cache.answers.keep(key, generation, answer);
    Ok(response)
}

/// The districts as public features: code, name and outline.
pub(crate) async fn public_area_features(state: &AppState) -> Result<Vec<Value>, ApiError> {
    Ok(
        super::all_features(state, Kind::Area, TimeWindow::ALL, &View::everything())
            .await?
            .iter()
            .filter_map(|f| match &f.attributes {
                Attributes::Area(a) => Some(json!({
                    "type": "Feature",
                    "id": a.code,
                    "geometry": trygg_core::geometry::to_value(&f.geometry),
                    "properties": { "code": a.code, "name": a.name, "level": a.level },
                })),
                _ => None,
            })
            .collect(),
    )
}

/// The published hexagons of a public layer for a closed month (the last
/// one when `period` is `None`).
pub(crate) async fn public_cells(
    state: &AppState,
    kind: Kind,
    period: Option<&str>,
) -> Result<Arc<PublicLayer>, ApiError> {
    let (period, window) =
        closed_month(period, Utc::now(), state.area.timezone).map_err(ApiError::query)?;
    published_cells(state, kind, &period, window, &state.public_policy).await
}

async fn areas(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<Response, ApiError> {
    limit(&state, &headers, peer, &state.auth.public_reads)?;
    only(&params, &["f"])?;
    let features = public_area_features(&state).await?;
    let body = json!({ "type": "FeatureCollection", "features": features, "numberReturned": features.len() }).to_string();
    Ok(cacheable(&headers, body, "application/geo+json"))
}

/// Measures whose status changed in a closed month: what was done. Kind,
/// status, dates, place and responsible partner; no titles or notes.
async fn measures(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<Response, ApiError> {
    limit(&state, &headers, peer, &state.auth.public_reads)?;
    only(&params, &["period", "f"])?;
    let (period, window) = closed_month(param(&params, "period"), Utc::now(), state.area.timezone)
        .map_err(ApiError::query)?;
    let mut q = ListQuery::parse(Kind::Measure, &[]).map_err(ApiError::query)?;
    q.limit = trygg_core::query::MAX_LIMIT;
    q.window = window;
    let page = super::list_page(&state, Kind::Measure, &q, &View::everything()).await?;
    let features: Vec<Value> = page
        .features
        .iter()
        .filter_map(|f| {
            let Attributes::Measure(m) = &f.attributes else {
                return None;
            };
            let in_period: Vec<_> = f
                .status_history
                .iter()
                .filter(|c| window.overlaps(c.at.timestamp_millis(), Some(c.at.timestamp_millis())))
                .collect();
            // The status as the month ended, never today's: a past month's
            // list stays what it was. No free text (the responsible
            // organisation is written by hand): kind, status, dates only.
            let last = in_period.last()?;
            let changes: Vec<Value> = in_period
                .iter()
                .map(|c| json!({ "status": c.status.as_str(), "at": c.at }))
                .collect();
            Some(json!({
                "type": "Feature",
                "id": f.id,
                "geometry": trygg_core::geometry::to_value(&f.geometry),
                "properties": {
                    "kind": m.kind.as_str(),
                    "status": last.status.as_str(),
                    "changes_in_period": changes,
                },
            }))
        })
        .collect();
    let body = json!({ "type": "FeatureCollection", "features": features, "numberReturned": features.len(), "period": period }).to_string();
    Ok(cacheable(&headers, body, "application/geo+json"))
}

/// The fields a member of the public may send; everything else is set here.
pub(crate) const PUBLIC_REPORT_FIELDS: [&str; 5] =
    ["reasons", "time_of_day", "comment", "contact", "respondent"];
const MAX_PUBLIC_REPORT_BYTES: usize = 16 * 1024;

/// An anonymous report of a place that feels unsafe: into the moderation
/// queue, counted publicly only after approval and only as an aggregate.
async fn submit_report(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    limit(&state, &headers, peer, &state.auth.public_reports)?;
    if body.to_string().len() > MAX_PUBLIC_REPORT_BYTES {
        return Err(ApiError::field(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            "a public report is at most 16 KB",
        ));
    }
    let mut props = match body.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "properties",
                "must be an object with at least `reasons`",
            ));
        }
    };
    if let Some(extra) = props
        .keys()
        .find(|k| !PUBLIC_REPORT_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("properties.{extra}"),
            format!(
                "not accepted in a public report; send {}",
                PUBLIC_REPORT_FIELDS.join(", ")
            ),
        ));
    }
    let now = Utc::now();
    props.insert("source".into(), json!("public"));
    props.insert("status".into(), json!("pending"));
    props.insert("reported_at".into(), json!(now));
    let mut feature = body.clone();
    feature["properties"] = Value::Object(props);
    let input =
        NewFeature::parse(Kind::Report, &feature, &state.area, now).map_err(ApiError::body)?;
    if !matches!(input.geometry, Geometry::Point(_)) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "geometry.type",
            "a public report is a Point",
        ));
    }
    let created = state.store.create(&input, &caller.actor(), now).await?;
    state.layers.apply(&created.feature);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": created.feature.id,
            "status": "pending",
            "message": "Tack! Rapporten granskas innan den räknas; den visas bara som en del av en sammanställning.",
        })),
    )
        .into_response())
}
