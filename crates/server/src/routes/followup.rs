//! The follow-up of a period: computed from the records, shown internally
//! with its corrections, published (frozen) with the publish permission,
//! and served to the public as JSON, CSV, a printable page, an image and
//! an Atom feed.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;
use trygg_core::analytics::dosage::{DosageConfig, PlaceArea, PresenceLog};
use trygg_core::analytics::followup::{
    FollowUp, FollowUpInput, IncidentRecord, MeasureRecord, Published, ReportRecord, corrections,
    follow_up,
};
use trygg_core::analytics::period::{Cadence, Period};
use trygg_core::report::{self, FeedEntry, Meta};
use trygg_core::time::{TimeWindow, from_ms};
use trygg_core::{Feature, Kind};

use super::absolute;
use crate::auth::Caller;
use crate::extract::Params;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/followup/{period}", get(internal))
        .route("/api/v1/followup/{period}/publish", post(publish))
        .route("/api/v1/public/followup", get(public_list))
        .route("/api/v1/public/followup.atom", get(feed))
        .route("/api/v1/public/followup/{period}", get(public_one))
}

fn period_of(label: &str) -> Result<Period, ApiError> {
    Period::parse(label, "period")
        .map_err(|e| ApiError::field(StatusCode::NOT_FOUND, "period", e.to_string()))
}

/// The follow-up as the records say now.
pub(crate) async fn compute(state: &AppState, period: Period) -> Result<FollowUp, ApiError> {
    let now = Utc::now().timestamp_millis();
    let tz = state.area.timezone;
    let w = period.window_in(tz);
    // A visit across the period's start merges with the one before it.
    let presence_window = TimeWindow {
        start: w.start - 5 * 60_000,
        end: w.end,
    };
    let earlier = period
        .year_earlier()
        .map_err(ApiError::query)?
        .window_in(tz);
    // Public reports decided this period may have been sent up to a few
    // months before it.
    let report_window = TimeWindow {
        start: w.start - 120 * 86_400_000,
        end: w.end,
    };
    // Each record's member municipality: where it lies, or for a stand-in
    // position the municipality it names.
    let area = &state.area;
    let member = |f: &Feature| area.member_of(&f.geometry, &f.attributes).map(|m| m as u16);
    let presence: Vec<PresenceLog> = super::all_features(state, Kind::Presence, presence_window)
        .await?
        .iter()
        .filter_map(|f| {
            PresenceLog::from_feature(f, now).map(|l| PresenceLog {
                municipality: member(f),
                ..l
            })
        })
        .collect();
    let places: Vec<PlaceArea> = super::all_features(state, Kind::Place, TimeWindow::ALL)
        .await?
        .iter()
        .filter_map(PlaceArea::from_feature)
        .collect();
    let measures: Vec<MeasureRecord> = super::all_features(state, Kind::Measure, TimeWindow::ALL)
        .await?
        .iter()
        .filter_map(|f| {
            MeasureRecord::from_feature(f).map(|m| MeasureRecord {
                municipality: member(f),
                ..m
            })
        })
        .collect();
    let incident = |f: &Feature| {
        IncidentRecord::from_feature(f).map(|i| IncidentRecord {
            municipality: member(f),
            ..i
        })
    };
    let mut incidents: Vec<IncidentRecord> = super::all_features(state, Kind::Incident, w)
        .await?
        .iter()
        .filter_map(incident)
        .collect();
    incidents.extend(
        super::all_features(state, Kind::Incident, earlier)
            .await?
            .iter()
            .filter_map(incident),
    );
    let reports: Vec<ReportRecord> = super::all_features(state, Kind::Report, report_window)
        .await?
        .iter()
        .filter_map(|f| {
            ReportRecord::from_feature(f).map(|r| ReportRecord {
                municipality: member(f),
                ..r
            })
        })
        .collect();
    follow_up(&FollowUpInput {
        period,
        now_ms: now,
        presence: &presence,
        places: &places,
        measures: &measures,
        incidents: &incidents,
        reports: &reports,
        dosage: DosageConfig::default(),
        k: state.public_policy.k,
        municipalities: &state.area.members,
        timezone: tz,
    })
    .map_err(ApiError::query)
}

/// An instant in the service area's local time, with its offset.
fn stamp(state: &AppState, ms: i64) -> String {
    from_ms(ms)
        .with_timezone(&state.area.timezone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn published(state: &AppState, period: Period) -> Result<Option<Published>, ApiError> {
    let Some(record) = state.store.published_followup(&period.label()).await? else {
        return Ok(None);
    };
    let figures: FollowUp = serde_json::from_str(&record.figures).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("stored follow-up unreadable: {e}"),
        )
    })?;
    Ok(Some(Published {
        published_at_ms: record.published_at,
        figures,
    }))
}

enum Format {
    Json,
    Csv,
    Html,
    Svg,
}

fn format_of(params: &[(String, String)]) -> Result<Format, ApiError> {
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "format") {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            k,
            "unknown parameter; this endpoint takes format",
        ));
    }
    match params
        .iter()
        .find(|(k, _)| k == "format")
        .map_or("json", |(_, v)| v.as_str())
    {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "html" => Ok(Format::Html),
        "svg" => Ok(Format::Svg),
        other => Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "format",
            format!("`{other}` is not offered; use json, csv, html or svg"),
        )),
    }
}

async fn render(
    state: &AppState,
    f: &FollowUp,
    public: bool,
    meta: &Meta,
    format: Format,
) -> Result<Response, ApiError> {
    let (body, ty) = match format {
        Format::Json => (
            report::json_value(f, public, meta).to_string(),
            "application/json",
        ),
        Format::Csv => (report::csv(f, public), "text/csv; charset=utf-8"),
        Format::Html => (report::html(f, public, meta), "text/html; charset=utf-8"),
        Format::Svg => {
            // The map shows only what the public layer shows, whoever asks.
            let cells = if f.period.cadence() == Cadence::Monthly {
                super::public::public_cells(state, Kind::Incident, Some(&f.period.label()))
                    .await
                    .map(|c| c.to_vec())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            (
                report::svg(f, &cells, &state.area.bbox, meta),
                "image/svg+xml",
            )
        }
    };
    if matches!(format, Format::Html) {
        return Ok(super::report_page(body));
    }
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
    Ok(r)
}

/// Corrections of what the public saw: internal figures are left out.
fn public_corrections(meta: &mut Meta) {
    meta.corrections.retain(|c| {
        !c.field.starts_with("places") && !c.field.starts_with("presence.hours_by_organisation")
    });
}

async fn internal(
    State(state): State<AppState>,
    Path(label): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let format = format_of(&params)?;
    let period = period_of(&label)?;
    let current = compute(&state, period).await?;
    let frozen = published(&state, period).await?;
    let meta = Meta {
        municipality: state.area.name.clone(),
        published_at: frozen.as_ref().map(|p| stamp(&state, p.published_at_ms)),
        generated_at: stamp(&state, Utc::now().timestamp_millis()),
        corrections: frozen
            .as_ref()
            .map(|p| corrections(p, &current))
            .transpose()
            .map_err(ApiError::query)?
            .unwrap_or_default(),
    };
    render(&state, &current, false, &meta, format).await
}

async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(label): Path<String>,
) -> Result<Response, ApiError> {
    let period = period_of(&label)?;
    if !period.has_ended_in(Utc::now().timestamp_millis(), state.area.timezone) {
        return Err(ApiError::field(
            StatusCode::CONFLICT,
            "period",
            format!(
                "{} has not ended; a period is published after it ends",
                period.label()
            ),
        ));
    }
    let figures = compute(&state, period).await?;
    let json = serde_json::to_string(&figures)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let record = state
        .store
        .publish_followup(&period.label(), &json, &caller.actor(), Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "period": record.period, "published_at": stamp(&state, record.published_at), "published_by": record.published_by }))).into_response())
}

async fn public_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let list: Vec<_> = state
        .store
        .published_followups()
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "period": r.period,
                "published_at": stamp(&state, r.published_at),
                "links": {
                    "json": absolute(&headers, &format!("/api/v1/public/followup/{}", r.period)),
                    "html": absolute(&headers, &format!("/api/v1/public/followup/{}?format=html", r.period)),
                    "svg": absolute(&headers, &format!("/api/v1/public/followup/{}?format=svg", r.period)),
                },
            })
        })
        .collect();
    Ok(super::public::cacheable(
        &headers,
        json!({ "published": list }).to_string(),
        "application/json",
    ))
}

async fn public_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(label): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let format = format_of(&params)?;
    let period = period_of(&label)?;
    let frozen = published(&state, period)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{} is not published", period.label())))?;
    let current = compute(&state, period).await?;
    let mut meta = Meta {
        municipality: state.area.name.clone(),
        published_at: Some(stamp(&state, frozen.published_at_ms)),
        generated_at: stamp(&state, Utc::now().timestamp_millis()),
        corrections: corrections(&frozen, &current).map_err(ApiError::query)?,
    };
    public_corrections(&mut meta);
    // The public always sees the numbers as published.
    let r = render(&state, &frozen.figures, true, &meta, format).await?;
    let ty = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let csp = r.headers().get(header::CONTENT_SECURITY_POLICY).cloned();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let static_ty: &'static str = match ty.as_str() {
        "text/csv; charset=utf-8" => "text/csv; charset=utf-8",
        "text/html; charset=utf-8" => "text/html; charset=utf-8",
        "image/svg+xml" => "image/svg+xml",
        _ => "application/json",
    };
    let mut out = super::public::cacheable(
        &headers,
        String::from_utf8_lossy(&bytes).into_owned(),
        static_ty,
    );
    if let Some(csp) = csp {
        out.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(out)
}

async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut entries = Vec::new();
    for r in state.store.published_followups().await? {
        let summary = serde_json::from_str::<FollowUp>(&r.figures)
            .map(|f| report::summary(&f))
            .unwrap_or_default();
        entries.push(FeedEntry {
            period: r.period,
            published_at: stamp(&state, r.published_at),
            summary,
        });
    }
    let base = absolute(&headers, "");
    Ok(super::public::cacheable(
        &headers,
        report::atom(&base, &state.area.name, &entries),
        "application/atom+xml",
    ))
}
