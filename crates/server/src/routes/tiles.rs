//! Hexagon layers as Mapbox Vector Tiles: `/tiles/{kind}/{z}/{x}/{y}.mvt`,
//! the fine layers a map would otherwise fetch as too many GeoJSON
//! hexagons. Same kinds, filters, time window and access rule as
//! `/api/v1/layers/{kind}/hexagons`; the bbox is the tile's and the
//! resolution follows the zoom unless asked for. A tile without hexagons
//! is `204 No Content`.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use sha2::{Digest, Sha256};
use trygg_core::Kind;
use trygg_core::access::View;
use trygg_core::mvt::{self, TileId};
use trygg_core::query::HexQuery;

use crate::auth::Caller;
use crate::extract::Params;
use crate::{ApiError, AppState};

/// The route as clients call it, in the policy table and the OpenAPI
/// document.
pub const PATH: &str = "/tiles/{kind}/{z}/{x}/{y}.mvt";
/// The route as the router matches it: a path parameter must fill its
/// whole segment, so `{y}` takes the `.mvt` along and the handler checks it.
pub const MATCHED: &str = "/tiles/{kind}/{z}/{x}/{y}";

pub(super) fn router() -> Router<AppState> {
    Router::new().route(MATCHED, get(tile))
}

/// Identifies this process in ETags: layer generations restart at zero
/// with every start and every instance behind a balancer counts its own,
/// so a generation alone could match a tag that described other data.
fn instance() -> &'static [u8; 16] {
    static ID: OnceLock<[u8; 16]> = OnceLock::new();
    ID.get_or_init(|| {
        let mut id = [0u8; 16];
        if getrandom::fill(&mut id).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            id = nanos.to_le_bytes();
        }
        id
    })
}

/// A tag for the exact question at the layer's current generation; taken
/// before the tile is computed, so a write in between can only make the
/// next request recompute, never keep a stale tile.
fn etag(
    kind: Kind,
    generation: u64,
    tile: TileId,
    q: &HexQuery,
    view: &View,
    now_ms: i64,
) -> String {
    let mut h = Sha256::new();
    h.update(instance());
    h.update(generation.to_le_bytes());
    h.update(kind.as_str());
    h.update(format!("{}/{}/{}", tile.z(), tile.x(), tile.y()));
    // The parsed query, not the query string: the same question asked in
    // another order or spelling shares its tag.
    h.update(format!("{q:?}"));
    // Whose records the tile shows: a browser that kept a planner's tile
    // must not have it confirmed to a field user logged in after.
    h.update(format!("{view:?}"));
    // Ongoing presence counts its minutes up to now, so a window still
    // open changes by the minute.
    if kind == Kind::Presence && q.window.end > now_ms {
        h.update((now_ms / 60_000).to_le_bytes());
    }
    let digest = h.finalize();
    let mut tag = digest.iter().take(12).fold(String::from("\""), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    tag.push('"');
    tag
}

fn fresh(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.trim_start_matches("W/") == etag
            })
        })
}

/// One tile of a hexagon layer.
#[tracing::instrument(skip_all, fields(kind = tracing::field::Empty, tile = tracing::field::Empty))]
async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    Params(mut params): Params,
) -> Result<Response, ApiError> {
    // A segment that is not UTF-8 once decoded: still a problem naming it.
    let Path((kind, zoom, column, row)) =
        path.map_err(|e| ApiError::field(StatusCode::BAD_REQUEST, "path", e.body_text()))?;
    let span = tracing::Span::current();
    span.record("kind", kind.as_str());
    span.record("tile", format!("{zoom}/{column}/{row}"));
    let kind = super::layer_kind(&kind)?;
    let row = row.strip_suffix(".mvt").ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "y",
            format!("`{row}`: a tile is named by its row and `.mvt`, as in /tiles/incidents/15/17805/9798.mvt"),
        )
    })?;
    let tile = TileId::parse(&zoom, &column, row).map_err(ApiError::query)?;
    if params.iter().any(|(k, _)| k == "bbox") {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "bbox",
            "a tile's bounds come from z/x/y; leave bbox out",
        ));
    }
    if !params.iter().any(|(k, _)| k == "resolution") {
        params.push((
            "resolution".into(),
            u8::from(tile.resolution().get()).to_string(),
        ));
    }
    let mut query = HexQuery::parse(kind, &params).map_err(ApiError::query)?;
    query.bbox = Some(tile.bounds());
    let now = Utc::now().timestamp_millis();
    let etag = etag(
        kind,
        state.layers.generation(kind),
        tile,
        &query,
        caller.view(),
        now,
    );
    let mut response = if fresh(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let cells = state
            .layers
            .hexagons(kind, &query, caller.view(), now, state.limits.max_hex_cells)
            .map_err(ApiError::query)?;
        let body = mvt::hexagon_tile(kind, tile, &cells);
        if body.is_empty() {
            StatusCode::NO_CONTENT.into_response()
        } else {
            let mut ok = body.into_response();
            ok.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(mvt::CONTENT_TYPE),
            );
            ok
        }
    };
    let out = response.headers_mut();
    // The data is not public: the browser may keep a tile but must ask
    // each time whether it still holds, which a repeat answers with 304.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    Ok(response)
}
