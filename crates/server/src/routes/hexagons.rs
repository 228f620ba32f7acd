use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::Utc;
use trygg_core::query::HexQuery;

use crate::auth::Caller;
use crate::extract::Params;
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/layers/{kind}/hexagons", get(hexagons))
}

/// Counts per H3 hexagon, from the in-memory index: what the heatmap draws.
#[tracing::instrument(skip_all, fields(kind = %kind))]
async fn hexagons(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let kind = super::layer_kind(&kind)?;
    let q = HexQuery::parse(kind, &params).map_err(ApiError::query)?;
    let now = Utc::now().timestamp_millis();
    let cells = state
        .layers
        .hexagons(kind, &q, caller.view(), now, state.limits.max_hex_cells)
        .map_err(ApiError::query)?;
    Ok(GeoJson(trygg_core::hexagons::to_geojson(
        kind,
        &cells,
        u8::from(q.resolution.get()),
    )))
}
