use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use trygg_core::query::PointQuery;

use crate::auth::Caller;
use crate::extract::Params;
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/layers/{kind}/points", get(points))
}

/// The point features of a box and window, from the in-memory index: what
/// the map draws at street level, without a database query.
#[tracing::instrument(skip_all, fields(kind = %kind))]
async fn points(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    Params(params): Params,
) -> Result<GeoJson, ApiError> {
    let kind = super::layer_kind(&kind)?;
    let q = PointQuery::parse(kind, &params).map_err(ApiError::query)?;
    let hits = state
        .layers
        .points(kind, &q, caller.view(), state.limits.max_points)
        .map_err(ApiError::query)?;
    Ok(GeoJson(trygg_core::points::to_geojson(kind, &hits)))
}
