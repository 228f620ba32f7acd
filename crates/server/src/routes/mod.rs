mod admin;
pub(crate) mod analysis;
mod auth;
mod features;
mod followup;
mod health;
mod hexagons;
pub(crate) mod inputs;
mod ogc;
mod open311;
pub mod openapi;
mod points;
pub(crate) mod public;
mod public_answer;
mod second_factor;
pub mod tiles;
mod transfer;
mod web;

use axum::Router;
use axum::http::StatusCode;
use trygg_core::access::View;

use crate::{ApiError, AppState};

/// Every route; `embed_ancestors` is who may frame the public embed page.
pub(crate) fn router(embed_ancestors: &str, state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(features::router())
        .merge(hexagons::router())
        .merge(points::router())
        .merge(tiles::router())
        .merge(auth::router())
        .merge(second_factor::router())
        .merge(admin::router())
        .merge(public::router())
        .merge(transfer::router())
        .merge(ogc::router())
        .merge(open311::router())
        .merge(followup::router(state))
        .merge(analysis::router(state))
        .merge(openapi::router())
        .merge(web::router(embed_ancestors))
        .fallback(|| async {
            ApiError::not_found("no such resource; the API lives under /api/v1/")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this resource does not accept that method",
            )
        })
}

/// What every layer and analysis answer says about itself: the window it
/// shows (`"datetime"`, the interval actually used, defaults included) and
/// what it leaves out (`"omitted"`, see [`trygg_core::omitted`]).
pub(crate) fn scope(
    window: trygg_core::time::TimeWindow,
    omitted: &trygg_core::omitted::Omitted,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("datetime".into(), window.interval().into());
    m.insert("omitted".into(), omitted.to_json());
    m
}

/// The kind a layer path names; an unknown one is a 404, not a bad request.
pub(crate) fn layer_kind(name: &str) -> Result<trygg_core::Kind, ApiError> {
    name.parse()
        .map_err(|e: trygg_core::Error| ApiError::not_found(e.to_string()))
}

/// One page of a list, answered from the in-memory index (which ids) and
/// the store (those rows): filtering and ordering a million rows in SQL
/// for a page of a hundred took seconds.
pub(crate) async fn list_page(
    state: &AppState,
    kind: trygg_core::Kind,
    q: &trygg_core::query::ListQuery,
    view: &View,
) -> Result<trygg_store::Page, ApiError> {
    let (ids, more) = state.layers.page_ids(kind, q, view);
    let features = state
        .store
        .get_many(kind, &ids, q.bbox.as_ref(), view)
        .await?;
    Ok(trygg_store::Page {
        features,
        next_after: if more { ids.last().copied() } else { None },
    })
}

/// Every feature of a kind overlapping a window, every page of it: what
/// computations over a whole layer (follow-up, analysis, exports) read.
pub(crate) async fn all_features(
    state: &AppState,
    kind: trygg_core::Kind,
    window: trygg_core::time::TimeWindow,
    view: &View,
) -> Result<Vec<trygg_core::Feature>, ApiError> {
    let mut q = trygg_core::query::ListQuery::parse(kind, &[]).map_err(ApiError::query)?;
    q.limit = trygg_core::query::MAX_LIMIT;
    q.window = window;
    let mut out = Vec::new();
    loop {
        let page = list_page(state, kind, &q, view).await?;
        out.extend(page.features);
        match page.next_after {
            Some(after) => q.after = Some(after),
            None => return Ok(out),
        }
    }
}

/// The policy of a server-rendered report page: it links the report
/// stylesheet and nothing else.
pub(crate) const REPORT_CSP: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'";

/// A server-rendered report page: it links the report stylesheet and
/// nothing else, so its policy allows exactly that.
pub(crate) fn report_page(html: String) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = html.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    r
}

/// An absolute URL on this server for `path_and_query`, from the configured
/// public address (`--public-url`), never from a request's `Host` or
/// `X-Forwarded-Host`: answers are cached, by Trygg and by proxies, and a
/// link must not be whatever one client said the host was.
pub(crate) fn absolute(base: &str, path_and_query: &str) -> String {
    format!("{base}{path_and_query}")
}

/// `path` with `pairs` as its query string (none when there are none),
/// for the self and next links of paged answers.
pub(crate) fn with_query(path: &str, pairs: &[(String, String)]) -> String {
    let qs = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    if qs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{qs}")
    }
}
