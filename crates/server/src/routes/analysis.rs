//! The situational picture: per-hexagon and per-district counts, hot spots
//! (Getis-Ord Gi* with FDR), emerging hot spots (Mann-Kendall over monthly
//! Gi*), patrol dosage per priority place with a suggested patrol list,
//! before/after evaluation (difference in differences), and priority places
//! made from chosen hexagons. Computation lives in `core::analytics`; this
//! gathers the inputs from the index and the store and renders.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Datelike, Utc};
use geo::Contains;
use geo_types::{Geometry, Point};
use h3o::{CellIndex, Resolution};
use serde_json::{Value, json};
use trygg_core::access::View;
use trygg_core::analytics::dosage::{DosageConfig, PlaceArea, dosage, patrol_list, visits};
use trygg_core::analytics::emerging::{EmergingConfig, emerging_hot_spots};
use trygg_core::analytics::evaluation::{EvaluationConfig, difference_in_differences};
use trygg_core::analytics::hotspots::{CategoryWeights, GiConfig, GiStar, cells_of, check_work};
use trygg_core::analytics::period::{Cadence, Period};
use trygg_core::attrs::{Attributes, MeasureStatus, Reason};
use trygg_core::cells::LayerResolution;
use trygg_core::omitted::{Omission, Omitted};
use trygg_core::query::{Filters, HexQuery};
use trygg_core::report;
use trygg_core::time::TimeWindow;
use trygg_core::{Feature, Kind, NewFeature};
use uuid::Uuid;

use super::inputs::{
    area_cells, area_grid, dense, incident_events, presence_logs, weighted_series,
};
use crate::auth::Caller;
use crate::extract::{JsonBody, Params};
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/analysis/picture", get(picture))
        .route("/api/v1/analysis/hotspots", get(hotspots))
        .route("/api/v1/analysis/emerging", get(emerging))
        .route("/api/v1/analysis/dosage", get(dosage_report))
        .route("/api/v1/analysis/evaluation", get(evaluation))
        .route("/api/v1/analysis/yearly", get(yearly))
        // Every analysis runs off the async workers (`heavy`).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::heavy::offload,
        ))
        .route("/api/v1/places/from-cells", post(place_from_cells))
}

/// What the study area of hot spots and emerging hot spots is, said in
/// every answer that uses it.
fn study_area_note(state: &AppState, res: Resolution, cells: usize) -> String {
    format!(
        "the {cells} H3 cells of resolution {} whose centres lie in the service area ({}); incidents in other cells are not counted",
        u8::from(res),
        state.area.name
    )
}

/// Query parameters, checked against what the endpoint takes.
struct Q(Vec<(String, String)>);

impl Q {
    fn new(params: Vec<(String, String)>, allowed: &[&str]) -> Result<Self, ApiError> {
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()) && k != "f")
        {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                k,
                format!(
                    "unknown parameter; this endpoint takes {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self(params))
    }

    /// `format`: json (the default) or html; anything else is refused, not
    /// silently answered as JSON.
    fn html(&self) -> Result<bool, ApiError> {
        match self.get("format") {
            None | Some("json") => Ok(false),
            Some("html") => Ok(true),
            Some(other) => Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "format",
                format!("`{other}` is not offered; use json or html"),
            )),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Hot-spot resolutions: 9 (≈ 174 m) or 10 (≈ 66 m, street segments).
    fn resolution(&self) -> Result<LayerResolution, ApiError> {
        let r = LayerResolution::parse(self.get("resolution").unwrap_or("9"), "resolution")
            .map_err(ApiError::query)?;
        if !matches!(u8::from(r.get()), 9 | 10) {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "resolution",
                "the situational picture is computed at 9 or 10",
            ));
        }
        Ok(r)
    }

    fn window(&self) -> Result<TimeWindow, ApiError> {
        if let Some(d) = self.get("datetime") {
            return TimeWindow::parse(d, "datetime").map_err(ApiError::query);
        }
        // The last twelve months, the usual horizon of a lägesbild, to the
        // end of the current minute: answers are kept per minute, and one
        // kept answer must say the window it was computed for.
        let now = Utc::now().timestamp_millis();
        let end = now - now.rem_euclid(60_000) + 59_999;
        Ok(TimeWindow {
            start: end - 365 * 86_400_000,
            end,
        })
    }

    fn weights(&self) -> Result<CategoryWeights, ApiError> {
        self.get("weights").map_or_else(
            || Ok(CategoryWeights::default()),
            |w| {
                CategoryWeights::parse(w)
                    .map_err(|e| ApiError::field(StatusCode::BAD_REQUEST, "weights", e.to_string()))
            },
        )
    }

    fn gi(&self) -> Result<GiConfig, ApiError> {
        let distance = self.get("distance").map_or(Ok(1), |d| {
            d.parse::<u32>()
                .map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, "distance", "a whole number"))
        })?;
        let q = self.get("fdr_q").map_or(Ok(0.05), |d| {
            d.parse::<f64>()
                .map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, "fdr_q", "a number"))
        })?;
        GiConfig::new(distance, q).map_err(ApiError::query)
    }
}

/// Counts per cell of one kind (optionally one tag) from the index, of
/// what the view sees.
fn counts(
    state: &AppState,
    view: &View,
    kind: Kind,
    res: LayerResolution,
    window: TimeWindow,
    tags: Vec<&'static str>,
) -> Result<BTreeMap<CellIndex, f64>, ApiError> {
    let q = HexQuery {
        resolution: res,
        bbox: None,
        window,
        filters: Filters {
            tags,
            ..Filters::default()
        },
        organisation: None,
    };
    let cells = state
        .layers
        .hexagons(
            kind,
            &q,
            view,
            Utc::now().timestamp_millis(),
            trygg_core::analytics::hotspots::MAX_CELLS,
        )
        .map_err(ApiError::query)?;
    Ok(cells.iter().map(|h| (h.cell, h.count as f64)).collect())
}

/// What an incident analysis over `window` leaves out: positions too
/// coarse for a hexagon at `res` and, with a study area, incidents in
/// hexagons outside it.
fn incidents_omitted(
    state: &AppState,
    view: &View,
    res: LayerResolution,
    window: TimeWindow,
    study_area: Option<&[CellIndex]>,
) -> Result<Omitted, ApiError> {
    let q = HexQuery {
        resolution: res,
        bbox: None,
        window,
        filters: Filters::default(),
        organisation: None,
    };
    let mut omitted = state.layers.hexagons_omitted(Kind::Incident, &q, view);
    if let Some(area) = study_area {
        omitted.add(Omission::OutsideStudyArea, 0);
        for (cell, n) in counts(state, view, Kind::Incident, res, window, vec![])? {
            if area.binary_search(&cell).is_err() {
                omitted.add(Omission::OutsideStudyArea, n as u64);
            }
        }
    }
    Ok(omitted)
}

/// The extra members of an answer: its own, then the window and what it
/// left out.
fn with_scope(extra: Value, window: TimeWindow, omitted: &Omitted) -> Value {
    let mut extra = extra;
    if let Value::Object(o) = &mut extra {
        o.extend(super::scope(window, omitted));
    }
    extra
}

/// Incidents per cell, each category weighted.
fn weighted(
    state: &AppState,
    view: &View,
    res: LayerResolution,
    window: TimeWindow,
    weights: &CategoryWeights,
) -> Result<BTreeMap<CellIndex, f64>, ApiError> {
    Ok(weighted_series(state, view, res, &[window], weights)?
        .pop()
        .into_iter()
        .flatten()
        .collect())
}

fn polygon(cell: CellIndex) -> Value {
    let ring: Vec<Value> = cell
        .boundary()
        .iter()
        .chain(cell.boundary().iter().take(1))
        .map(|ll| json!([round(ll.lng()), round(ll.lat())]))
        .collect();
    json!({ "type": "Polygon", "coordinates": [ring] })
}

fn round(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn hex_feature(cell: CellIndex, properties: Value) -> Value {
    let mut props = properties;
    props["h3"] = json!(cell.to_string());
    json!({ "type": "Feature", "id": cell.to_string(), "geometry": polygon(cell), "properties": props })
}

fn collection(features: Vec<Value>, extra: Value) -> GeoJson {
    let n = features.len();
    let mut fc = json!({ "type": "FeatureCollection", "numberReturned": n, "features": Value::Array(features) });
    if let (Some(o), Value::Object(e)) = (fc.as_object_mut(), extra) {
        o.extend(e);
    }
    GeoJson::value(&fc)
}

/// Per cell and per district: incidents (weighted too), reports by reason,
/// presence minutes and measures.
async fn picture(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let q = Q::new(params, &["resolution", "datetime", "weights"])?;
    let (res, window, weights) = (q.resolution()?, q.window()?, q.weights()?);
    let view = caller.view();
    let incidents = counts(&state, view, Kind::Incident, res, window, vec![])?;
    let weighted_incidents = weighted(&state, view, res, window, &weights)?;
    let mut reasons: BTreeMap<CellIndex, BTreeMap<&str, f64>> = BTreeMap::new();
    for r in Reason::ALL {
        for (cell, n) in counts(&state, view, Kind::Report, res, window, vec![r.as_str()])? {
            reasons.entry(cell).or_default().insert(r.as_str(), n);
        }
    }
    let presence = presence_cells(&state, view, res, window)?;
    let measures = counts(&state, view, Kind::Measure, res, window, vec![])?;
    let mut cells: Vec<CellIndex> = incidents
        .keys()
        .chain(reasons.keys())
        .chain(presence.keys())
        .chain(measures.keys())
        .copied()
        .collect();
    cells.sort_unstable();
    cells.dedup();
    let districts = super::public::district_outlines(&state).await?;
    // Each outline's bounding box first: thousands of cells against a
    // hundred districts' full outlines was most of a picture's time.
    let boxes: Vec<Option<geo_types::Rect<f64>>> = districts
        .iter()
        .map(|(_, shape)| geo::BoundingRect::bounding_rect(shape))
        .collect();
    let mut by_district: BTreeMap<String, [f64; 5]> = BTreeMap::new();
    let mut by_municipality = vec![[0.0; 6]; state.area.members.len()];
    let features: Vec<Value> = cells
        .iter()
        .map(|c| {
            let ll = h3o::LatLng::from(*c);
            let p = Point::new(ll.lng(), ll.lat());
            let district = districts
                .iter()
                .zip(&boxes)
                .find(|((_, shape), rect)| {
                    rect.is_some_and(|r| geo::Intersects::intersects(&r, &p)) && shape.contains(&p)
                })
                .map(|((name, _), _)| name.clone());
            let inc = incidents.get(c).copied().unwrap_or(0.0);
            let rep: f64 = reasons.get(c).map_or(0.0, |m| m.values().sum());
            let (visits, minutes) = presence.get(c).copied().unwrap_or((0, 0.0));
            let mea = measures.get(c).copied().unwrap_or(0.0);
            let weighted_inc = weighted_incidents.get(c).copied().unwrap_or(0.0);
            let figures = [inc, weighted_inc, rep, minutes, mea];
            if let Some(d) = &district {
                let row = by_district.entry(d.clone()).or_insert([0.0; 5]);
                row.iter_mut().zip(figures).for_each(|(r, v)| *r += v);
            }
            if let Some(m) = state
                .area
                .member_at(geo_types::coord! { x: ll.lng(), y: ll.lat() })
            {
                let row = &mut by_municipality[m];
                row.iter_mut().zip(figures).for_each(|(r, v)| *r += v);
            }
            hex_feature(
                *c,
                json!({
                    "district": district,
                    "incidents": inc,
                    "incidents_weighted": weighted_incidents.get(c).copied().unwrap_or(0.0),
                    "reports": rep,
                    "reports_by_reason": reasons.get(c),
                    "presence_visits": visits,
                    "presence_minutes": (minutes * 10.0).round() / 10.0,
                    "measures": mea,
                }),
            )
        })
        .collect();
    let districts: Vec<Value> = by_district
        .into_iter()
        .map(|(name, v)| json!({ "district": name, "incidents": v[0], "incidents_weighted": v[1], "reports": v[2], "presence_minutes": (v[3] * 10.0).round() / 10.0, "measures": v[4] }))
        .collect();
    coarse_incidents(
        &state,
        caller.view(),
        res,
        window,
        &weights,
        &mut by_municipality,
    )
    .await?;
    let omitted = incidents_omitted(&state, caller.view(), res, window, None)?;
    let municipalities = municipality_rows(&state, by_municipality);
    Ok(collection(
        features,
        with_scope(
            json!({ "resolution": u8::from(res.get()), "districts": districts, "municipalities": municipalities }),
            window,
            &omitted,
        ),
    ))
}

/// Presence visits and minutes per cell.
fn presence_cells(
    state: &AppState,
    view: &View,
    res: LayerResolution,
    window: TimeWindow,
) -> Result<BTreeMap<CellIndex, (u64, f64)>, ApiError> {
    let hq = HexQuery {
        resolution: res,
        bbox: None,
        window,
        filters: Filters::default(),
        organisation: None,
    };
    Ok(state
        .layers
        .hexagons(
            Kind::Presence,
            &hq,
            view,
            Utc::now().timestamp_millis(),
            trygg_core::analytics::hotspots::MAX_CELLS,
        )
        .map_err(ApiError::query)?
        .into_iter()
        .map(|h| (h.cell, (h.count, h.minutes)))
        .collect())
}

/// The picture's row per member municipality.
fn municipality_rows(state: &AppState, figures: Vec<[f64; 6]>) -> Vec<Value> {
    state
        .area
        .members
        .iter()
        .zip(figures)
        .map(|(m, v)| json!({ "code": m.code, "municipality": m.name, "county": m.county_name, "incidents": v[0], "incidents_weighted": v[1], "incidents_without_position": v[5], "reports": v[2], "presence_minutes": (v[3] * 10.0).round() / 10.0, "measures": v[4] }))
        .collect()
}

/// Incidents whose position is too coarse for a hexagon at `res` (the
/// police feed's municipality and county midpoints), counted in the
/// municipality they name or lie in: `[incidents, weighted, …, without
/// position]` of each member's row.
async fn coarse_incidents(
    state: &AppState,
    view: &View,
    res: LayerResolution,
    window: TimeWindow,
    weights: &CategoryWeights,
    rows: &mut [[f64; 6]],
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let limit = trygg_core::index::hexagon_precision_limit_m(res);
    let ids = state
        .layers
        .coarse_ids(Kind::Incident, window, limit.saturating_add(1), view);
    for chunk in ids.chunks(trygg_core::query::MAX_LIMIT as usize) {
        for f in state
            .store
            .get_many(Kind::Incident, chunk, None, view)
            .await?
        {
            let Attributes::Incident(i) = &f.attributes else {
                continue;
            };
            if let Some(m) = state.area.member_of(&f.geometry, &f.attributes) {
                rows[m][0] += 1.0;
                rows[m][1] += weights.weight(i.category);
                rows[m][5] += 1.0;
            }
        }
    }
    Ok(())
}

fn gi_feature(g: &GiStar) -> Value {
    hex_feature(
        g.cell,
        json!({ "value": g.value, "z": g.z, "p": g.p, "bin": g.bin, "p_fdr": g.p_fdr, "bin_fdr": g.bin_fdr }),
    )
}

/// Getis-Ord Gi* over weighted incidents in the service area.
async fn hotspots(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let q = Q::new(
        params,
        &["resolution", "datetime", "weights", "distance", "fdr_q"],
    )?;
    let (res, window, weights, config) = (q.resolution()?, q.window()?, q.weights()?, q.gi()?);
    let area = area_cells(&state, res.get())?;
    let costly = if config.distance > 1 {
        "distance"
    } else {
        "resolution"
    };
    // Before the grid: finding every cell's neighbours is itself the work.
    check_work(area.len(), config.distance, 1, costly).map_err(ApiError::query)?;
    let values = weighted(&state, caller.view(), res, window, &weights)?;
    let grid = area_grid(&state, res.get(), config.distance)?;
    let results = grid
        .gi_star(&dense(&grid, values), config.fdr_q)
        .map_err(ApiError::query)?;
    let features: Vec<Value> = results
        .iter()
        .filter(|g| g.value > 0.0 || g.bin_fdr != 0)
        .map(gi_feature)
        .collect();
    Ok(collection(
        features,
        with_scope(
            json!({ "resolution": u8::from(res.get()), "cells_in_area": area.len(), "study_area": study_area_note(&state, res.get(), area.len()), "distance": config.distance, "fdr_q": config.fdr_q }),
            window,
            &incidents_omitted(&state, caller.view(), res, window, Some(&area))?,
        ),
    ))
}

/// Emerging hot spots over the months up to `end` (default: the last
/// month that has ended).
async fn emerging(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let q = Q::new(
        params,
        &["resolution", "months", "end", "weights", "distance"],
    )?;
    let (res, weights, config) = (q.resolution()?, q.weights()?, q.gi()?);
    let months: usize = q
        .get("months")
        .map_or(Ok(12), str::parse)
        .ok()
        .filter(|m| (3..=36).contains(m))
        .ok_or_else(|| ApiError::field(StatusCode::BAD_REQUEST, "months", "3 to 36"))?;
    let now = Utc::now().timestamp_millis();
    let end = match q.get("end") {
        Some(p) => Period::parse(p, "end").map_err(ApiError::query)?,
        None => Period::containing_in(Cadence::Monthly, now, state.area.timezone)
            .and_then(Period::previous)
            .map_err(ApiError::query)?,
    };
    let periods = end.back(months).map_err(ApiError::query)?;
    let area = area_cells(&state, res.get())?;
    check_work(area.len(), config.distance, months, "months").map_err(ApiError::query)?;
    let grid = area_grid(&state, res.get(), config.distance)?;
    let windows: Vec<TimeWindow> = periods
        .iter()
        .map(|p| p.window_in(state.area.timezone))
        .collect();
    let runs = weighted_series(&state, caller.view(), res, &windows, &weights)?
        .into_iter()
        .map(|values| grid.gi_star(&dense(&grid, values), config.fdr_q))
        .collect::<trygg_core::Result<Vec<_>>>()
        .map_err(ApiError::query)?;
    let cells = emerging_hot_spots(&runs, &EmergingConfig::default()).map_err(ApiError::query)?;
    let features: Vec<Value> = cells
        .iter()
        .filter(|c| c.pattern != trygg_core::analytics::emerging::Pattern::NoPattern)
        .map(|c| hex_feature(c.cell, serde_json::to_value(c).unwrap_or(Value::Null)))
        .collect();
    let labels: Vec<String> = periods.iter().map(|p| p.label()).collect();
    let window = TimeWindow {
        start: periods
            .first()
            .map_or(0, |p| p.window_in(state.area.timezone).start),
        end: end.window_in(state.area.timezone).end,
    };
    Ok(collection(
        features,
        with_scope(
            json!({ "resolution": u8::from(res.get()), "periods": labels, "cells_in_area": area.len(), "study_area": study_area_note(&state, res.get(), area.len()) }),
            window,
            &incidents_omitted(&state, caller.view(), res, window, Some(&area))?,
        ),
    ))
}

/// Dosage per priority place in a period, and the suggested patrol list:
/// hot places (incidents in the last 90 days) with the least recent presence.
async fn dosage_report(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<Json<Value>, ApiError> {
    let q = Q::new(params, &["period"])?;
    let now = Utc::now().timestamp_millis();
    let period = match q.get("period") {
        Some(p) => Period::parse(p, "period").map_err(ApiError::query)?,
        None => Period::containing_in(Cadence::Monthly, now, state.area.timezone)
            .map_err(ApiError::query)?,
    };
    let config = DosageConfig::default();
    let w = period.window_in(state.area.timezone);
    let horizon = TimeWindow {
        start: (w.start - 5 * 60_000).min(now - 90 * 86_400_000),
        end: w.end.max(now),
    };
    let view = caller.view();
    let logs = presence_logs(&state, horizon, view, now).await?;
    let place_features = super::all_features(&state, Kind::Place, TimeWindow::ALL, view).await?;
    let places: Vec<PlaceArea> = place_features
        .iter()
        .filter_map(PlaceArea::from_feature)
        .collect();
    let res10 = LayerResolution::new(10, "resolution").map_err(ApiError::query)?;
    let last_90_days = TimeWindow {
        start: now - 90 * 86_400_000,
        end: now,
    };
    let recent = counts(&state, view, Kind::Incident, res10, last_90_days, vec![])?;
    let mut hot: BTreeMap<Uuid, f64> = BTreeMap::new();
    let mut rows = Vec::new();
    for (place, feature) in places.iter().zip(
        place_features
            .iter()
            .filter(|f| PlaceArea::from_feature(f).is_some()),
    ) {
        let cells = cells_of(&feature.geometry, Resolution::Ten).map_err(ApiError::query)?;
        hot.insert(place.id, cells.iter().filter_map(|c| recent.get(c)).sum());
        let v = visits(place, &logs, &config);
        rows.push(serde_json::to_value(dosage(place, &v, w, now, &config)).unwrap_or(Value::Null));
    }
    let list = patrol_list(&places, &hot, &logs, now, &config);
    // The patrol list's incident counts cannot use stand-in positions.
    let omitted = incidents_omitted(&state, caller.view(), res10, last_90_days, None)?;
    Ok(Json(with_scope(
        json!({ "period": period.label(), "places": rows, "patrol_list": list, "incidents_last_90_days": hot.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>() }),
        w,
        &omitted,
    )))
}

/// Before and after a measure or a place's designation: incidents in the
/// treated cells against comparison cells of a similar starting level.
async fn evaluation(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let q = Q::new(params, &["place", "measure", "date", "format"])?;
    let (kind, id) = match (q.get("place"), q.get("measure")) {
        (Some(p), None) => (Kind::Place, p),
        (None, Some(m)) => (Kind::Measure, m),
        _ => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "place",
                "give a place or a measure id",
            ));
        }
    };
    let id = Uuid::parse_str(id)
        .map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, kind.as_str(), "not an id"))?;
    let feature = state.store.get(kind, id, caller.view()).await?;
    let date = match q.get("date") {
        Some(d) => TimeWindow::parse(d, "date").map_err(ApiError::query)?.start,
        None => match &feature.attributes {
            Attributes::Place(p) => p.active_from.timestamp_millis(),
            // A measure is evaluated from when it was done (or, unfinished, from its start).
            _ => feature
                .status_history
                .iter()
                .find(|c| c.status == MeasureStatus::Done)
                .or(feature.status_history.first())
                .map_or_else(
                    || feature.created_at.timestamp_millis(),
                    |c| c.at.timestamp_millis(),
                ),
        },
    };
    let span = 366 * 86_400_000;
    let window = TimeWindow {
        start: date - span,
        end: date + span,
    };
    let (events, omitted) = incident_events(&state, window, caller.view());
    let windows = did_for(&state, &feature, date, &events)?;
    let body = with_scope(
        json!({ "kind": kind.as_str(), "id": id, "date": trygg_core::time::from_ms(date), "windows": windows }),
        window,
        &omitted,
    );
    if q.html()? {
        return Ok(super::report_page(evaluation_html(&body)));
    }
    Ok(Json(body).into_response())
}

/// Difference in differences for a place or measure from `date_ms`.
fn did_for(
    state: &AppState,
    feature: &Feature,
    date_ms: i64,
    events: &[(CellIndex, i64)],
) -> Result<Vec<trygg_core::analytics::evaluation::DidWindow>, ApiError> {
    let treated = cells_of(&feature.geometry, Resolution::Ten).map_err(ApiError::query)?;
    let area = area_cells(state, Resolution::Ten)?;
    difference_in_differences(
        events,
        &area,
        &treated,
        date_ms,
        Utc::now().timestamp_millis(),
        &EvaluationConfig::default(),
    )
    .map_err(ApiError::query)
}

/// The yearly evaluation for the municipal board: the year's follow-up,
/// presence month by month, every priority place and every measure done in
/// the year before and after (difference in differences), and the group
/// split of perceived insecurity.
async fn yearly(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let q = Q::new(params, &["year", "format"])?;
    let now = Utc::now();
    let year: i32 = q
        .get("year")
        .map_or(Ok(now.year() - 1), str::parse)
        .map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, "year", "a year, e.g. 2026"))?;
    let period = Period::new(Cadence::Yearly, year, 1).map_err(ApiError::query)?;
    let view = caller.view();
    let followup = super::followup::compute(&state, period, view).await?;
    let months = Period::new(Cadence::Monthly, year, 12)
        .and_then(|dec| dec.back(12))
        .map_err(ApiError::query)?;
    let w = period.window_in(state.area.timezone);
    let logs = presence_logs(&state, w, view, now.timestamp_millis()).await?;
    let trend: Vec<Value> = months
        .iter()
        .map(|m| {
            let mw = m.window_in(state.area.timezone);
            let hours: f64 = logs
                .iter()
                .map(|l| mw.overlap_ms(l.start_ms, l.end_ms) as f64 / 3_600_000.0)
                .sum();
            json!({ "period": m.label(), "hours": (hours * 10.0).round() / 10.0 })
        })
        .collect();
    let span = 366 * 86_400_000;
    let (events, _) = incident_events(
        &state,
        TimeWindow {
            start: w.start - span,
            end: w.end + span,
        },
        view,
    );
    let mut places = Vec::new();
    for f in super::all_features(&state, Kind::Place, TimeWindow::ALL, view).await? {
        let Attributes::Place(p) = &f.attributes else {
            continue;
        };
        let date = p.active_from.timestamp_millis();
        let windows = did_for(&state, &f, date, &events).unwrap_or_default();
        places
            .push(json!({ "id": f.id, "name": p.name, "date": p.active_from, "windows": windows }));
    }
    let mut measures = Vec::new();
    for f in super::all_features(&state, Kind::Measure, w, view).await? {
        let Attributes::Measure(m) = &f.attributes else {
            continue;
        };
        let Some(done) = f.status_history.iter().find(|c| {
            c.status == MeasureStatus::Done
                && w.overlaps(c.at.timestamp_millis(), Some(c.at.timestamp_millis()))
        }) else {
            continue;
        };
        let windows = did_for(&state, &f, done.at.timestamp_millis(), &events).unwrap_or_default();
        measures.push(json!({ "id": f.id, "kind": m.kind.as_str(), "title": m.title, "date": done.at, "windows": windows }));
    }
    // The year's incidents the before/after comparisons cannot place on
    // a street (the follow-up counts them per municipality).
    let res10 = LayerResolution::new(10, "resolution").map_err(ApiError::query)?;
    let body = with_scope(
        json!({
            "year": year,
            "followup": followup,
            "presence_by_month": trend,
            "places": places,
            "measures": measures,
        }),
        w,
        &incidents_omitted(&state, caller.view(), res10, w, None)?,
    );
    if q.html()? {
        return Ok(super::report_page(yearly_html(&state.area.name, &body)));
    }
    Ok(Json(body).into_response())
}

/// The columns of a before/after table.
const DID_HEAD: &str = "<thead><tr><th scope=\"col\">Enhet</th><th scope=\"col\">Fönster</th><th scope=\"col\">Före</th><th scope=\"col\">Efter</th><th scope=\"col\">Jämförelse före</th><th scope=\"col\">Jämförelse efter</th><th scope=\"col\">Skillnad i skillnader</th><th scope=\"col\">Fullständig</th></tr></thead>";

fn did_rows(h: &mut String, rows: &[Value], label: &dyn Fn(&Value) -> String) {
    use std::fmt::Write as _;
    for r in rows {
        for w in r["windows"].as_array().into_iter().flatten() {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td>{} mån</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:+.2}</td><td>{}</td></tr>",
                report::esc(&label(r)),
                w["months"],
                w["treated_before"],
                w["treated_after"],
                w["comparison_mean_before"].as_f64().unwrap_or(0.0),
                w["comparison_mean_after"].as_f64().unwrap_or(0.0),
                w["did"].as_f64().unwrap_or(0.0),
                if w["complete"].as_bool().unwrap_or(false) {
                    "ja"
                } else {
                    "nej"
                }
            );
        }
    }
}

fn yearly_html(municipality: &str, body: &Value) -> String {
    use std::fmt::Write as _;
    let year = &body["year"];
    let mut h = format!(
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Utvärdering av medborgarlöftet {year}</title><link rel=\"stylesheet\" href=\"/css/report.css\"></head><body><main><h1>Utvärdering av medborgarlöftet i {} {year}</h1>",
        report::esc(municipality)
    );
    let f = &body["followup"];
    let _ = write!(
        h,
        "<section><h2>Året i korthet</h2><p>{:.0} timmar trygghetsskapande närvaro, varav {:.0} vid prioriterade platser. {} anmälda händelser ({:+} mot året innan). {} rapporter om otrygga platser.</p></section>",
        f["presence"]["hours"].as_f64().unwrap_or(0.0),
        f["presence"]["hours_at_places"].as_f64().unwrap_or(0.0),
        f["incidents"]["total"]["current"],
        f["incidents"]["total"]["change"].as_i64().unwrap_or(0),
        f["reports"]["received"]
    );
    h.push_str("<section><h2>Närvaro månad för månad</h2><table><thead><tr><th scope=\"col\">Månad</th><th scope=\"col\">Timmar</th></tr></thead><tbody>");
    for m in body["presence_by_month"].as_array().into_iter().flatten() {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            m["period"].as_str().unwrap_or(""),
            m["hours"]
        );
    }
    h.push_str("</tbody></table></section>");
    let _ = write!(
        h,
        "<section><h2>Prioriterade platser före och efter</h2><p>Anmälda händelser i platsens celler mot jämförelseceller med liknande nivå före (skillnad i skillnader). Negativt tal: färre än väntat.</p><table>{DID_HEAD}<tbody>"
    );
    did_rows(
        &mut h,
        body["places"].as_array().map_or(&[][..], Vec::as_slice),
        &|r| r["name"].as_str().unwrap_or("").to_owned(),
    );
    let _ = write!(
        h,
        "</tbody></table></section><section><h2>Genomförda åtgärder före och efter</h2><table>{DID_HEAD}<tbody>"
    );
    did_rows(
        &mut h,
        body["measures"].as_array().map_or(&[][..], Vec::as_slice),
        &|r| {
            format!(
                "{} ({})",
                r["title"].as_str().unwrap_or(""),
                r["kind"].as_str().unwrap_or("")
            )
        },
    );
    h.push_str("</tbody></table></section><section><h2>Upplevd otrygghet per grupp</h2>");
    if f["groups"].is_null() {
        h.push_str("<p>Fördelningen per grupp redovisas bara för hela perioder av den längd som är inställd (normalt år) när de har slutat, så att ingen liten grupp kan räknas fram genom att jämföra perioder.</p></section></main></body></html>");
        return h;
    }
    h.push_str("<table><thead><tr><th scope=\"col\">Grupp</th><th scope=\"col\">Rapporter</th></tr></thead><tbody>");
    for (split, key) in [
        ("Kön", "by_gender"),
        ("Ålder", "by_age_band"),
        ("HBTQ", "by_lgbtq"),
    ] {
        for (g, r) in f["groups"][key].as_object().into_iter().flatten() {
            let n = r["reports"]
                .as_u64()
                .map_or_else(|| "färre än k".to_owned(), |n| n.to_string());
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{split}: {}</th><td>{n}</td></tr>",
                report::esc(g)
            );
        }
    }
    h.push_str("</tbody></table></section></main></body></html>");
    h
}

fn evaluation_html(body: &Value) -> String {
    use std::fmt::Write as _;
    let mut h = String::from(
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Utvärdering före och efter</title><link rel=\"stylesheet\" href=\"/css/report.css\"></head><body><main><h1>Utvärdering före och efter</h1>",
    );
    let _ = write!(
        h,
        "<p class=\"meta\">{} från {}. Jämförelse med celler som hade en liknande nivå före (skillnad i skillnader).</p><table>{DID_HEAD}<tbody>",
        body["kind"].as_str().unwrap_or(""),
        body["date"].as_str().unwrap_or("")
    );
    did_rows(&mut h, std::slice::from_ref(body), &|r| {
        r["kind"].as_str().unwrap_or("").to_owned()
    });
    h.push_str("</tbody></table></main></body></html>");
    h
}

/// A priority place from hexagons a planner picked on the map: their
/// outline dissolved into one polygon.
async fn place_from_cells(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let cells: Vec<CellIndex> = body["cells"]
        .as_array()
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cells",
                "a list of H3 cells (hex strings)",
            )
        })?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.as_str()
                .and_then(|s| s.parse::<CellIndex>().ok())
                .ok_or_else(|| {
                    ApiError::field(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("cells[{i}]"),
                        "not an H3 cell",
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    if cells.is_empty() || cells.len() > 500 {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "cells",
            "1 to 500 cells",
        ));
    }
    let shape = h3o::geom::SolventBuilder::new()
        .build()
        .dissolve(cells)
        .map_err(|e| {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cells",
                format!("cannot be joined: {e} (use one resolution)"),
            )
        })?;
    let feature = json!({
        "type": "Feature",
        "geometry": trygg_core::geometry::to_value(&Geometry::MultiPolygon(shape)),
        "properties": body.get("properties").cloned().unwrap_or(Value::Null),
    });
    let now = Utc::now();
    let input =
        NewFeature::parse(Kind::Place, &feature, &state.area, now).map_err(ApiError::body)?;
    let created = state.store.create(&input, &caller.actor(), now).await?;
    state.layers.apply(&created.feature);
    Ok((
        StatusCode::CREATED,
        GeoJson::value(&created.feature.to_geojson()),
    )
        .into_response())
}
