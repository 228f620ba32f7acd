//! The inputs of the analyses and the follow-up, gathered from the
//! in-memory index (one pass each, under its read lock) and, for what the
//! index does not hold (the shape of a presence track, places, measures,
//! reports), from the store. Reading a year of a million incidents back
//! from the store as whole features took longer than any analysis may.
//! Every input takes the caller's [`View`]: the index and the store apply
//! it, so presence of partners the caller may not see never enters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use geo_types::{Coord, Geometry, Point};
use h3o::{CellIndex, Resolution};
use trygg_core::access::View;
use trygg_core::analytics::dosage::PresenceLog;
use trygg_core::analytics::followup::IncidentRecord;
use trygg_core::analytics::grid::StudyGrid;
use trygg_core::analytics::hotspots::{CategoryWeights, study_area};
use trygg_core::attrs::{IncidentCategory, Presence, UnitType};
use trygg_core::cells::LayerResolution;
use trygg_core::geometry::representative_point;
use trygg_core::index::{FeatureRef, FeatureScan, SeriesQuery, parent, resolution_of};
use trygg_core::omitted::{Omission, Omitted};
use trygg_core::query::Filters;
use trygg_core::service_area::NOT_A_POSITION_M;
use trygg_core::time::{EpochMs, TimeWindow};
use trygg_core::{Kind, Shape};

use crate::{ApiError, AppState};

/// The service area's cells per resolution (the study area, see
/// [`study_area`]) and their Gi* grids per distance: tiling a
/// municipality and finding every cell's neighbours take a moment and
/// never change while the server runs.
#[derive(Default)]
pub struct AreaCells {
    cells: Mutex<HashMap<u8, Arc<Vec<CellIndex>>>>,
    grids: Mutex<HashMap<(u8, u32), Arc<StudyGrid>>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn area_cells(
    state: &AppState,
    res: Resolution,
) -> Result<Arc<Vec<CellIndex>>, ApiError> {
    let key = u8::from(res);
    if let Some(c) = locked(&state.area_cells.cells).get(&key) {
        return Ok(Arc::clone(c));
    }
    let cells = Arc::new(study_area(&state.area.shape, res).map_err(ApiError::query)?);
    locked(&state.area_cells.cells).insert(key, Arc::clone(&cells));
    Ok(cells)
}

/// The study area's Gi* grid at a resolution and k-ring distance.
pub(crate) fn area_grid(
    state: &AppState,
    res: Resolution,
    distance: u32,
) -> Result<Arc<StudyGrid>, ApiError> {
    let key = (u8::from(res), distance);
    if let Some(g) = locked(&state.area_cells.grids).get(&key) {
        return Ok(Arc::clone(g));
    }
    let cells = area_cells(state, res)?;
    let grid = Arc::new(StudyGrid::new(cells.iter().copied(), distance).map_err(ApiError::query)?);
    locked(&state.area_cells.grids).insert(key, Arc::clone(&grid));
    Ok(grid)
}

/// Values per hexagon as a grid's dense array (cells outside the study
/// area dropped, the rest 0).
pub(crate) fn dense(
    grid: &StudyGrid,
    values: impl IntoIterator<Item = (CellIndex, f64)>,
) -> Vec<f64> {
    let mut out = vec![0.0; grid.len()];
    for (cell, v) in values {
        if let Some(i) = grid.position(cell) {
            out[i] += v;
        }
    }
    out
}

/// Incidents per hexagon, each category weighted, for each of consecutive
/// windows: one pass over the index.
pub(crate) fn weighted_series(
    state: &AppState,
    view: &View,
    res: LayerResolution,
    windows: &[TimeWindow],
    weights: &CategoryWeights,
) -> Result<Vec<Vec<(CellIndex, f64)>>, ApiError> {
    let filters = Filters::default();
    let q = SeriesQuery {
        resolution: res,
        windows,
        filters: &filters,
        // Set from the view by `Layers::series`.
        organisation: None,
    };
    state
        .layers
        .series(Kind::Incident, &q, view, &|tag| {
            IncidentCategory::parse(tag, "weights").map_or(0.0, |c| weights.weight(c))
        })
        .map_err(ApiError::query)
}

/// Visits, under the index's read lock, the features of `kind` the view
/// sees that overlap `window`, known at least as exactly as
/// `max_precision_m` and of `shape` when given.
fn each_seen(
    state: &AppState,
    view: &View,
    kind: Kind,
    window: TimeWindow,
    (max_precision_m, shape): (u32, Option<Shape>),
    each: impl FnMut(FeatureRef<'_>),
) {
    let scan = FeatureScan {
        window,
        filters: &Filters::default(),
        // Set from the view by `Layers::each_feature`.
        organisation: None,
        max_precision_m,
        shape,
    };
    state.layers.each_feature(kind, &scan, view, each);
}

/// The coarsest incident position a before/after comparison of streets
/// uses.
const STREET_PRECISION_M: u32 = 100;

/// Whether a feature is one position (what a point layer draws).
fn is_one_point(f: &FeatureRef<'_>) -> bool {
    let b = f.bounds_e7;
    f.shape == Shape::Point && b[0] == b[2] && b[1] == b[3]
}

/// Incidents as (res-10 cell, time) for before/after comparisons, and
/// what was left out: coarse positions (the police feed's midpoints) say
/// nothing about a street, and lines or polygons are not one place. The
/// cell is the parent of the stored one, as in every hexagon layer and in
/// a place's own cells.
pub(crate) fn incident_events(
    state: &AppState,
    window: TimeWindow,
    view: &View,
) -> (Vec<(CellIndex, i64)>, Omitted) {
    let mut omitted = Omitted::of(&[Omission::CoarsePosition, Omission::NotAPoint]);
    let mut out = Vec::new();
    each_seen(state, view, Kind::Incident, window, (u32::MAX, None), |f| {
        if f.precision_m > STREET_PRECISION_M {
            omitted.add(Omission::CoarsePosition, 1);
        } else if !is_one_point(&f) {
            omitted.add(Omission::NotAPoint, 1);
        } else if let Some(&c) = f.cells.first()
            && resolution_of(c) >= 10
            && let Ok(cell) = CellIndex::try_from(parent(c, 10))
        {
            out.push((cell, f.t_start));
        }
    });
    (out, omitted)
}

/// The incidents overlapping a window as the follow-up counts them: every
/// one, whatever its precision or shape, each in the member municipality
/// it lies in or, for a stand-in position, the one it names (see
/// `ServiceArea::member_of`). A precise point's municipality comes from
/// its position in the index; the others (stand-ins, whose named
/// municipality only the store holds, and lines or polygons) are read
/// back from the store, and only when the area has member municipalities.
pub(crate) async fn incident_records(
    state: &AppState,
    window: TimeWindow,
    view: &View,
) -> Result<Vec<IncidentRecord>, ApiError> {
    let area = &state.area;
    let by_member = !area.members.is_empty();
    let mut placed: Vec<(IncidentRecord, Option<(f64, f64)>)> = Vec::new();
    let mut from_store = Vec::new();
    each_seen(state, view, Kind::Incident, window, (u32::MAX, None), |f| {
        let Some(category) = f.first_tag().and_then(|i| IncidentCategory::ALL.get(i)) else {
            return;
        };
        let stand_in = f.precision_m >= NOT_A_POSITION_M;
        let position = (by_member && is_one_point(&f)).then(|| (f.lon(), f.lat()));
        if by_member && (stand_in || position.is_none()) {
            from_store.push(f.id);
            return;
        }
        placed.push((
            IncidentRecord {
                category: *category,
                occurred_at_ms: f.t_start,
                municipality: None,
                stand_in,
            },
            position,
        ));
    });
    // Outside the index's read lock: a point-in-outline test each.
    let mut out: Vec<IncidentRecord> = placed
        .into_iter()
        .map(|(record, position)| IncidentRecord {
            municipality: position
                .and_then(|(x, y)| area.member_at(Coord { x, y }))
                .map(|m| m as u16),
            ..record
        })
        .collect();
    for chunk in from_store.chunks(trygg_core::query::MAX_LIMIT as usize) {
        for f in state
            .store
            .get_many(Kind::Incident, chunk, None, view)
            .await?
        {
            out.extend(IncidentRecord::from_feature(&f).map(|r| IncidentRecord {
                municipality: area.member_of(&f.geometry, &f.attributes).map(|m| m as u16),
                ..r
            }));
        }
    }
    Ok(out)
}

/// The member municipality each log lies in (presence never stands in for
/// an area), for the follow-up's figures per municipality.
pub(crate) fn place_presence(state: &AppState, logs: &mut [PresenceLog]) {
    if state.area.members.is_empty() {
        return;
    }
    for l in logs {
        l.municipality = state
            .area
            .member_at(representative_point(&l.geometry))
            .map(|m| m as u16);
    }
}

/// The presence logs the view sees overlapping a window, an ongoing one
/// ending at `now` or [`Presence::MAX_HOURS`] after its start, as
/// [`PresenceLog::from_feature`] ends it: points from the index, tracks (whose shape the index
/// does not hold) from the store.
pub(crate) async fn presence_logs(
    state: &AppState,
    window: TimeWindow,
    view: &View,
    now: EpochMs,
) -> Result<Vec<PresenceLog>, ApiError> {
    let mut logs = Vec::new();
    let mut tracks = Vec::new();
    each_seen(state, view, Kind::Presence, window, (u32::MAX, None), |f| {
        let b = f.bounds_e7;
        let unit = f.first_tag().and_then(|i| UnitType::ALL.get(i));
        match unit {
            Some(unit) if f.shape == Shape::Point && b[0] == b[2] && b[1] == b[3] => {
                logs.push(PresenceLog {
                    id: f.id,
                    unit_type: *unit,
                    organisation_id: f.organisation,
                    start_ms: f.t_start,
                    end_ms: Presence::counted_end_ms(f.t_start, f.t_end, now),
                    geometry: Geometry::Point(Point::new(f.lon(), f.lat())),
                    municipality: None,
                });
            }
            _ => tracks.push(f.id),
        }
    });
    for chunk in tracks.chunks(trygg_core::query::MAX_LIMIT as usize) {
        for f in state
            .store
            .get_many(Kind::Presence, chunk, None, view)
            .await?
        {
            logs.extend(PresenceLog::from_feature(&f, now));
        }
    }
    // In id order, as a list reads them: sums of hours then add up in the
    // same order on every run, and a published figure is not "corrected"
    // by a rounding difference.
    logs.sort_unstable_by_key(|l| l.id);
    Ok(logs)
}
