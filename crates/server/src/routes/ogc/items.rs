//! The items of a collection: the parameters every collection takes and
//! checks (`bbox`, `bbox-crs`, `crs`, `limit`, `datetime`, `f`, the
//! collection's property filters; anything else is a 400 naming it), the
//! page, and its rendering: flat properties, one geometry type, the asked
//! CRS with `Content-Crs`, and `numberMatched` on every collection.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use geo::Intersects;
use serde_json::{Value, json};
use trygg_core::access::View;
use trygg_core::bbox::{Bbox, MAX_QUERY_AREA_KM2};
use trygg_core::index::HexCount;
use trygg_core::ogc::crs::{OgcCrs, Transform};
use trygg_core::ogc::fields::flatten;
use trygg_core::query::{HexQuery, ListQuery};
use trygg_core::time::TimeWindow;
use trygg_core::{Kind, Shape};

use super::collections::Collection;
use super::{DEFAULT_LIMIT, INTERNAL_HEX_RESOLUTION, MAX_LIMIT, f_param, link};
use crate::auth::Caller;
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

/// What every collection's items take, parsed; `rest` holds the
/// collection's own parameters (filters, `datetime`, cursors).
pub(super) struct Common {
    pub transform: Transform,
    pub bbox: Option<Bbox>,
    pub limit: usize,
    pub rest: Vec<(String, String)>,
}

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::field(StatusCode::BAD_REQUEST, field, detail)
}

fn numbers(text: &str, field: &str) -> Result<[f64; 4], ApiError> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .map_err(|_| bad(field, format!("`{}` is not a number", p.trim())))
        })
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [a, b, c, d] | [a, b, _, c, d, _] => Ok([*a, *b, *c, *d]),
        _ => Err(bad(
            field,
            "expected four numbers: the lower corner, then the upper corner, in the axis order of bbox-crs",
        )),
    }
}

impl Common {
    pub(super) fn parse(params: &[(String, String)]) -> Result<Self, ApiError> {
        f_param(params)?;
        let mut seen: Vec<&str> = Vec::new();
        for (k, _) in params {
            if seen.contains(&k.as_str()) {
                return Err(bad(k, "given more than once"));
            }
            seen.push(k);
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let crs = get("crs")
            .map(|v| OgcCrs::parse(v, "crs"))
            .transpose()
            .map_err(ApiError::query)?
            .unwrap_or(OgcCrs::Crs84);
        let bbox_crs = get("bbox-crs")
            .map(|v| OgcCrs::parse(v, "bbox-crs"))
            .transpose()
            .map_err(ApiError::query)?
            .unwrap_or(OgcCrs::Crs84);
        let bbox = match get("bbox") {
            None => None,
            Some(v) if bbox_crs == OgcCrs::Crs84 => {
                Some(Bbox::parse(v, "bbox").map_err(ApiError::query)?)
            }
            Some(v) => {
                let t = Transform::new(bbox_crs).map_err(ApiError::query)?;
                let b = t
                    .bbox_to_wgs84(numbers(v, "bbox")?, "bbox")
                    .map_err(ApiError::query)?;
                if b.area_km2() > MAX_QUERY_AREA_KM2 {
                    return Err(ApiError::field(
                        StatusCode::BAD_REQUEST,
                        "bbox",
                        format!(
                            "the box covers about {:.0} km²; at most {MAX_QUERY_AREA_KM2:.0} km² may be asked for at once",
                            b.area_km2()
                        ),
                    ));
                }
                Some(b)
            }
        };
        let limit = match get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v.trim().parse::<usize>().ok().filter(|n| *n <= MAX_LIMIT).ok_or_else(|| {
                bad("limit", format!("`{v}`: a whole number from 0 to {MAX_LIMIT} (0 answers only numberMatched)"))
            })?,
        };
        let rest = params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "f" | "crs" | "bbox-crs" | "bbox" | "limit"))
            .cloned()
            .collect();
        Ok(Self {
            transform: Transform::new(crs).map_err(ApiError::query)?,
            bbox,
            limit,
            rest,
        })
    }
}

/// One page, ready to render.
struct Page {
    features: Vec<Value>,
    matched: usize,
    next: Option<(&'static str, String)>,
}

pub(super) async fn items(
    state: &AppState,
    caller: &Caller,
    base: &str,
    c: Collection,
    params: &[(String, String)],
) -> Result<Response, ApiError> {
    let common = Common::parse(params)?;
    let page = match c {
        Collection::Records(kind, shape) => records(state, caller, c, kind, shape, &common).await?,
        Collection::Hexagons(kind) | Collection::PublicHexagons(kind) => {
            hexagons(state, caller, c, kind, &common).await?
        }
        Collection::PublicAreas => areas(state, &common).await?,
    };
    let mut features = page.features;
    for f in &mut features {
        if let Some(g) = f.get_mut("geometry") {
            common.transform.geometry(g).map_err(ApiError::query)?;
        }
    }
    let original: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "f").cloned().collect();
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": features.len(),
        "timeStamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "links": page_links(base, &c.id(), &original, page.next),
        "features": features,
    });
    let mut response = GeoJson::value(&body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", common.transform.crs().uri())) {
        response.headers_mut().insert("content-crs", v);
    }
    Ok(response)
}

/// A feature as the OGC API serves it: flat properties in the collection's
/// field order, polygons as MultiPolygons.
pub(super) fn ogc_feature(c: Collection, mut feature: Value) -> Value {
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    feature["properties"] = Value::Object(flatten(&props, &c.fields()));
    if c.geometry_type() == "MultiPolygon"
        && let Some(g) = feature.get_mut("geometry")
        && g["type"] == "Polygon"
    {
        *g = json!({ "type": "MultiPolygon", "coordinates": [g["coordinates"].take()] });
    }
    feature
}

async fn records(
    state: &AppState,
    caller: &Caller,
    c: Collection,
    kind: Kind,
    shape: Shape,
    common: &Common,
) -> Result<Page, ApiError> {
    let mut q = ListQuery::parse(kind, &common.rest).map_err(ApiError::query)?;
    q.bbox = common.bbox;
    q.shape = Some(shape);
    let matched = matched(state, kind, &q, caller.view()).await?;
    if common.limit == 0 {
        return Ok(Page {
            features: Vec::new(),
            matched,
            next: None,
        });
    }
    q.limit = u32::try_from(common.limit).unwrap_or(trygg_core::query::MAX_LIMIT);
    let page = super::super::list_page(state, kind, &q, caller.view()).await?;
    let features = page
        .features
        .iter()
        .map(|f| {
            ogc_feature(
                c,
                super::super::features::redact(f.to_geojson(), kind, caller),
            )
        })
        .collect();
    Ok(Page {
        features,
        matched,
        next: page.next_after.map(|a| ("after", a.to_string())),
    })
}

/// The exact number of records a query matches: counted in the index, and
/// lines and polygons whose bounds meet the box checked against their
/// geometry, as pages are.
async fn matched(
    state: &AppState,
    kind: Kind,
    q: &ListQuery,
    view: &View,
) -> Result<usize, ApiError> {
    let (exact, to_check) = state.layers.count(kind, q, view);
    if to_check.is_empty() {
        return Ok(exact);
    }
    let mut found = 0;
    for chunk in to_check.chunks(1_000) {
        found += state
            .store
            .get_many(kind, chunk, q.bbox.as_ref(), view)
            .await?
            .len();
    }
    Ok(exact + found)
}

/// Hexagons are paged by `offset` over the whole answer (already in memory).
fn take_offset(rest: &mut Vec<(String, String)>) -> Result<usize, ApiError> {
    let Some(i) = rest.iter().position(|(k, _)| k == "offset") else {
        return Ok(0);
    };
    let (_, v) = rest.remove(i);
    v.trim().parse::<usize>().map_err(|_| {
        bad(
            "offset",
            format!("`{v}` is not a whole number (take it from the next link)"),
        )
    })
}

fn paged<T>(
    all: Vec<T>,
    offset: usize,
    limit: usize,
) -> (Vec<T>, usize, Option<(&'static str, String)>) {
    let total = all.len();
    let page: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(page.len());
    let next = (limit > 0 && end < total).then(|| ("offset", end.to_string()));
    (page, total, next)
}

async fn hexagons(
    state: &AppState,
    caller: &Caller,
    c: Collection,
    kind: Kind,
    common: &Common,
) -> Result<Page, ApiError> {
    let mut rest = common.rest.clone();
    let offset = take_offset(&mut rest)?;
    let (cells, res) = if c.public() {
        (
            public_cells(state, kind, &rest, common.bbox).await?,
            state.public_policy.max_resolution,
        )
    } else {
        rest.push(("resolution".into(), INTERNAL_HEX_RESOLUTION.to_string()));
        let mut q = HexQuery::parse(kind, &rest).map_err(|e| {
            if e.field() == "resolution" {
                bad("resolution", "hexagon collections are served at one resolution; use /api/v1/layers/{kind}/hexagons for others")
            } else {
                ApiError::query(e)
            }
        })?;
        q.bbox = common.bbox;
        let cells = state
            .layers
            .hexagons(
                kind,
                &q,
                caller.view(),
                Utc::now().timestamp_millis(),
                state.limits.max_hex_cells,
            )
            .map_err(ApiError::query)?;
        (cells, INTERNAL_HEX_RESOLUTION)
    };
    let (page, matched, next) = paged(cells, offset, common.limit);
    Ok(Page {
        features: hexagon_features(c, kind, &page, res)?,
        matched,
        next,
    })
}

pub(super) fn hexagon_features(
    c: Collection,
    kind: Kind,
    cells: &[HexCount],
    res: u8,
) -> Result<Vec<Value>, ApiError> {
    let fc: Value = serde_json::from_str(&trygg_core::hexagons::to_geojson(kind, cells, res))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(match fc {
        Value::Object(mut m) => match m.remove("features") {
            Some(Value::Array(features)) => {
                features.into_iter().map(|f| ogc_feature(c, f)).collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    })
}

/// A public layer's hexagons: one closed month (`period`, or a `datetime`
/// within it), the box by touch; no other parameter.
pub(super) async fn public_cells(
    state: &AppState,
    kind: Kind,
    rest: &[(String, String)],
    bbox: Option<Bbox>,
) -> Result<Vec<HexCount>, ApiError> {
    let mut period: Option<String> = None;
    for (k, v) in rest {
        match k.as_str() {
            "period" => period = Some(v.clone()),
            "datetime" => {
                let window = TimeWindow::parse(v, "datetime").map_err(ApiError::query)?;
                let month =
                    trygg_core::ogc::public_month(window, "datetime").map_err(ApiError::query)?;
                period = Some(month);
            }
            other => {
                return Err(bad(
                    other,
                    "public collections take bbox, bbox-crs, crs, datetime (within one closed month), period, limit and offset; no other filter, so no answer can be subtracted from another",
                ));
            }
        }
    }
    if rest.iter().any(|(k, _)| k == "period") && rest.iter().any(|(k, _)| k == "datetime") {
        return Err(bad("datetime", "give period or datetime, not both"));
    }
    let cells = super::super::public::public_cells(state, kind, period.as_deref())
        .await
        .map_err(|e| {
            if rest.iter().any(|(k, _)| k == "datetime") && e.field.as_deref() == Some("period") {
                ApiError::field(e.status, "datetime", e.detail)
            } else {
                e
            }
        })?;
    Ok(cells
        .cells
        .iter()
        .filter(|h| bbox.is_none_or(|b| trygg_core::cells::touches(h.cell, &b)))
        .copied()
        .collect())
}

async fn areas(state: &AppState, common: &Common) -> Result<Page, ApiError> {
    let mut rest = common.rest.clone();
    let offset = take_offset(&mut rest)?;
    for (k, v) in &rest {
        match k.as_str() {
            // Districts are timeless: a valid datetime matches them all.
            "datetime" => {
                TimeWindow::parse(v, "datetime").map_err(ApiError::query)?;
            }
            other => {
                return Err(bad(
                    other,
                    "public-areas takes bbox, bbox-crs, crs, datetime, limit and offset",
                ));
            }
        }
    }
    let all = super::super::public::public_area_features(state).await?;
    let all: Vec<Value> = match common.bbox {
        None => all,
        Some(b) => all
            .into_iter()
            .filter(|f| {
                trygg_core::geometry::parse(&f["geometry"], "geometry")
                    .is_ok_and(|g| g.intersects(&b.to_rect()))
            })
            .collect(),
    };
    let (page, matched, next) = paged(all, offset, common.limit);
    Ok(Page {
        features: page
            .into_iter()
            .map(|f| ogc_feature(Collection::PublicAreas, f))
            .collect(),
        matched,
        next,
    })
}

fn page_links(
    base: &str,
    id: &str,
    params: &[(String, String)],
    next: Option<(&'static str, String)>,
) -> Vec<Value> {
    let path = format!("/ogc/collections/{id}/items");
    let encode = |pairs: &[(String, String)]| crate::routes::with_query(&path, pairs);
    let mut links = vec![link(
        base,
        &encode(params),
        "self",
        "application/geo+json",
        "this page",
    )];
    if let Some((k, v)) = next {
        let mut p: Vec<(String, String)> =
            params.iter().filter(|(key, _)| key != k).cloned().collect();
        p.push((k.to_owned(), v));
        links.push(link(
            base,
            &encode(&p),
            "next",
            "application/geo+json",
            "next page",
        ));
    }
    links.push(link(
        base,
        &format!("/ogc/collections/{id}"),
        "collection",
        "application/json",
        "the collection",
    ));
    links
}

/// One feature of a collection, by id.
pub(super) async fn item(
    state: &AppState,
    caller: &Caller,
    c: Collection,
    feature: &str,
    params: &[(String, String)],
) -> Result<(Value, Transform), ApiError> {
    let common = Common::parse(params)?;
    if let Some((k, _)) = common.rest.first() {
        return Err(bad(k, "a single feature takes crs and f"));
    }
    let id = c.id();
    let missing = || ApiError::not_found(format!("no feature `{feature}` in {id}"));
    let value = match c {
        Collection::Records(kind, shape) => {
            let fid = uuid::Uuid::parse_str(feature).map_err(|_| missing())?;
            let f = state
                .store
                .get(kind, fid, caller.view())
                .await
                .map_err(|e| match e {
                    trygg_store::Error::NotFound { .. } => missing(),
                    other => other.into(),
                })?;
            if Shape::of(&f.geometry) != shape {
                return Err(missing());
            }
            ogc_feature(
                c,
                super::super::features::redact(f.to_geojson(), kind, caller),
            )
        }
        Collection::Hexagons(kind) | Collection::PublicHexagons(kind) => {
            let cell: h3o::CellIndex = feature.parse().map_err(|_| missing())?;
            let cells = if c.public() {
                public_cells(state, kind, &[], None).await?
            } else {
                let mut q = HexQuery::parse(
                    kind,
                    &[("resolution".into(), INTERNAL_HEX_RESOLUTION.to_string())],
                )
                .map_err(ApiError::query)?;
                // Only this hexagon's records: a box around it, whole counts.
                let ll = h3o::LatLng::from(cell);
                q.bbox = Some(
                    Bbox::new(ll.lng(), ll.lat(), ll.lng(), ll.lat(), "feature")
                        .map_err(ApiError::query)?,
                );
                state
                    .layers
                    .hexagons(
                        kind,
                        &q,
                        caller.view(),
                        Utc::now().timestamp_millis(),
                        state.limits.max_hex_cells,
                    )
                    .map_err(ApiError::query)?
            };
            let hit = cells
                .into_iter()
                .find(|h| h.cell == cell)
                .ok_or_else(missing)?;
            let res = u8::from(hit.cell.resolution());
            hexagon_features(c, kind, &[hit], res)?
                .into_iter()
                .next()
                .ok_or_else(missing)?
        }
        Collection::PublicAreas => {
            let all = super::super::public::public_area_features(state).await?;
            let hit = all
                .into_iter()
                .find(|a| a["id"] == feature)
                .ok_or_else(missing)?;
            ogc_feature(c, hit)
        }
    };
    Ok((value, common.transform))
}
