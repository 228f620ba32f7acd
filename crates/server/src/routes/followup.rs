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
use trygg_core::access::View;
use trygg_core::analytics::dosage::{DosageConfig, PlaceArea};
use trygg_core::analytics::followup::{
    FollowUp, FollowUpInput, MeasureRecord, Published, ReportRecord, corrections, follow_up,
};
use trygg_core::analytics::groups::GroupSplit;
use trygg_core::analytics::period::{Cadence, Period};
use trygg_core::report::{self, FeedEntry, Meta};
use trygg_core::time::{TimeWindow, from_ms};
use trygg_core::{Feature, Kind};

use super::absolute;
use super::public_answer::Answer;
use crate::auth::{self, Caller};
use crate::extract::Params;
use crate::{ApiError, AppState};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/followup/{period}", get(internal))
        // Computing a period is an analysis: off the async workers.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::heavy::offload,
        ))
        .route("/api/v1/followup/{period}/publish", post(publish))
        .route("/api/v1/public/followup", get(public_list))
        .route("/api/v1/public/followup.atom", get(feed))
        .route("/api/v1/public/followup/{period}", get(public_one))
}

fn period_of(label: &str) -> Result<Period, ApiError> {
    Period::parse(label, "period")
        .map_err(|e| ApiError::field(StatusCode::NOT_FOUND, "period", e.to_string()))
}

/// Public reports decided in a period may have been sent up to a few
/// months before it.
fn reports_window(w: TimeWindow) -> TimeWindow {
    TimeWindow {
        start: w.start - 120 * 86_400_000,
        end: w.end,
    }
}

/// The follow-up as the records a view sees say now.
pub(crate) async fn compute(
    state: &AppState,
    period: Period,
    view: &View,
) -> Result<FollowUp, ApiError> {
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
    let report_window = reports_window(w);
    // Each record's member municipality: where it lies, or for a stand-in
    // position the municipality it names.
    let area = &state.area;
    let member = |f: &Feature| area.member_of(&f.geometry, &f.attributes).map(|m| m as u16);
    let mut presence = super::inputs::presence_logs(state, presence_window, view, now).await?;
    super::inputs::place_presence(state, &mut presence);
    let places: Vec<PlaceArea> = super::all_features(state, Kind::Place, TimeWindow::ALL, view)
        .await?
        .iter()
        .filter_map(PlaceArea::from_feature)
        .collect();
    let measures: Vec<MeasureRecord> =
        super::all_features(state, Kind::Measure, TimeWindow::ALL, view)
            .await?
            .iter()
            .filter_map(|f| {
                MeasureRecord::from_feature(f).map(|m| MeasureRecord {
                    municipality: member(f),
                    ..m
                })
            })
            .collect();
    let mut incidents = super::inputs::incident_records(state, w, view).await?;
    incidents.extend(super::inputs::incident_records(state, earlier, view).await?);
    let reports: Vec<ReportRecord> = super::all_features(state, Kind::Report, report_window, view)
        .await?
        .iter()
        .filter_map(|f| {
            ReportRecord::from_feature(f).map(|r| ReportRecord {
                municipality: member(f),
                ..r
            })
        })
        .collect();
    // Reports are not limited by a view, so the kept split is the same
    // whoever asks first.
    let kept_name = groups_name(state, period);
    let kept = kept_groups(state, &kept_name).await?;
    let mut f = follow_up(&FollowUpInput {
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
        group_cadence: state.group_cadence,
        kept_groups: kept.as_ref(),
    })
    .map_err(ApiError::query)?;
    if kept.is_none()
        && let Some(split) = &f.groups
    {
        // Shown for the first time: kept as shown, ever after. Another
        // instance may have kept its own first; theirs is the one shown.
        let json = serde_json::to_string(split).map_err(|e| unreadable(&e))?;
        let record = state.store.freeze(&kept_name, &json, Utc::now()).await?;
        if record.content != json {
            f.groups = Some(serde_json::from_str(&record.content).map_err(|e| unreadable(&e))?);
        }
    }
    Ok(f)
}

/// Where a period's group split is kept: per period and threshold.
fn groups_name(state: &AppState, period: Period) -> String {
    format!("groups|{}|k{}", period.label(), state.public_policy.k)
}

async fn kept_groups(state: &AppState, name: &str) -> Result<Option<GroupSplit>, ApiError> {
    state
        .store
        .frozen(name)
        .await?
        .map(|r| serde_json::from_str(&r.content).map_err(|e| unreadable(&e)))
        .transpose()
}

fn unreadable(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("stored figures unreadable: {e}"),
    )
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

#[derive(Debug)]
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

/// A follow-up rendered: the body and its type.
async fn render_body(
    state: &AppState,
    f: &FollowUp,
    public: bool,
    meta: &Meta,
    format: &Format,
) -> (String, &'static str) {
    match format {
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
                    .map(|c| c.cells.clone())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            (
                report::svg(f, &cells, &state.area.bbox, meta),
                "image/svg+xml",
            )
        }
    }
}

async fn render(
    state: &AppState,
    f: &FollowUp,
    public: bool,
    meta: &Meta,
    format: &Format,
) -> Response {
    let (body, ty) = render_body(state, f, public, meta, format).await;
    if matches!(format, Format::Html) {
        return super::report_page(body);
    }
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
    r
}

/// Corrections of what the public saw: the published figures against
/// every partner's records now, internal figures left out. What anyone may
/// read, so also what a caller with a limited view is shown.
async fn public_corrections(
    state: &AppState,
    frozen: &Published,
) -> Result<Vec<trygg_core::analytics::followup::Correction>, ApiError> {
    // The published figures are of every partner: so is what they are
    // compared with.
    let current = compute(state, frozen.figures.period, &View::everything()).await?;
    let mut out = corrections(frozen, &current).map_err(ApiError::query)?;
    out.retain(|c| {
        !c.field.starts_with("places") && !c.field.starts_with("presence.hours_by_organisation")
    });
    Ok(out)
}

async fn internal(
    State(state): State<AppState>,
    caller: Caller,
    Path(label): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let format = format_of(&params)?;
    let period = period_of(&label)?;
    let current = compute(&state, period, caller.view()).await?;
    let frozen = published(&state, period).await?;
    let corrections = match &frozen {
        None => Vec::new(),
        // Figures of one partner against the published ones of all would
        // be the other partners' figures: a limited view gets the
        // corrections the public gets.
        Some(p) if caller.view().is_limited() => public_corrections(&state, p).await?,
        Some(p) => corrections(p, &current).map_err(ApiError::query)?,
    };
    let meta = Meta {
        municipality: state.area.name.clone(),
        published_at: frozen.as_ref().map(|p| stamp(&state, p.published_at_ms)),
        generated_at: stamp(&state, Utc::now().timestamp_millis()),
        corrections,
    };
    Ok(render(&state, &current, false, &meta, &format).await)
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
    // Published figures are every partner's (aggregates of an ended
    // period, no hours per partner in public), whoever publishes them.
    let figures = compute(&state, period, &View::everything()).await?;
    let json = serde_json::to_string(&figures)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let record = state
        .store
        .publish_followup(&period.label(), &json, &caller.actor(), Utc::now())
        .await?;
    state.note_publication();
    Ok((StatusCode::CREATED, Json(json!({ "period": record.period, "published_at": stamp(&state, record.published_at), "published_by": record.published_by }))).into_response())
}

/// The published periods, with links from the configured address.
async fn public_list(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    super::public::limit(&state, &headers, peer, &state.auth.public_reads)?;
    super::public::kept(&state, &headers, "followup-list", async {
        let base = &state.public_url;
        let list: Vec<_> = state
            .store
            .published_followups()
            .await?
            .into_iter()
            .map(|r| {
                let p = &r.period;
                json!({
                    "period": p,
                    "published_at": stamp(&state, r.published_at),
                    "links": {
                        "json": absolute(base, &format!("/api/v1/public/followup/{p}")),
                        "html": absolute(base, &format!("/api/v1/public/followup/{p}?format=html")),
                        "svg": absolute(base, &format!("/api/v1/public/followup/{p}?format=svg")),
                    },
                })
            })
            .collect();
        Ok(Answer::new(
            json!({ "published": list }).to_string(),
            "application/json",
        ))
    })
    .await
}

/// A published period as it was published, with the corrections since.
async fn public_one(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    Path(label): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    super::public::limit(&state, &headers, peer, &state.auth.public_reads)?;
    let format = format_of(&params)?;
    let period = period_of(&label)?;
    let key = format!("followup|{}|{format:?}", period.label());
    super::public::kept(&state, &headers, &key, async {
        let frozen = published(&state, period)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("{} is not published", period.label())))?;
        let meta = Meta {
            municipality: state.area.name.clone(),
            published_at: Some(stamp(&state, frozen.published_at_ms)),
            generated_at: stamp(&state, Utc::now().timestamp_millis()),
            corrections: public_corrections(&state, &frozen).await?,
        };
        // The public always sees the numbers as published.
        let (body, ty) = render_body(&state, &frozen.figures, true, &meta, &format).await;
        let answer = Answer::new(body, ty);
        Ok(if matches!(format, Format::Html) {
            answer.with_csp(HeaderValue::from_static(super::REPORT_CSP))
        } else {
            answer
        })
    })
    .await
}

/// The Atom feed of published periods. Its ids are permanent: they come
/// from the configured address, and an empty feed was last updated when
/// this service started.
async fn feed(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    super::public::limit(&state, &headers, peer, &state.auth.public_reads)?;
    super::public::kept(&state, &headers, "followup-feed", async {
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
        let started = stamp(&state, state.started_at.timestamp_millis());
        Ok(Answer::new(
            report::atom(&state.public_url, &state.area.name, &entries, &started),
            "application/atom+xml",
        ))
    })
    .await
}
