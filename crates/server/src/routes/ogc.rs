//! OGC API – Features, Part 1 Core, with the GeoJSON and OpenAPI 3.0
//! conformance classes, so QGIS, ArcGIS and GDAL read the layers. Every
//! feature layer is a collection, and so is every hexagon aggregate. The
//! public sees only the public collections; a logged-in caller sees what
//! their role may read (the same permissions as the rest of the API).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};
use trygg_core::Kind;
use trygg_core::access::Permission;
use trygg_core::index::HexCount;
use trygg_core::query::{HexQuery, ListQuery};
use uuid::Uuid;

use super::absolute;
use crate::auth::Caller;
use crate::extract::Params;
use crate::geojson::GeoJson;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/collections", get(collections))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{feature}", get(item))
}

/// Hexagon collections are served at this resolution (≈ 174 m, the
/// planners' default); the layers API takes any.
const INTERNAL_HEX_RESOLUTION: u8 = 9;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    Features(Kind),
    Hexagons(Kind),
    PublicHexagons(Kind),
    PublicAreas,
}

impl Collection {
    fn all() -> Vec<Collection> {
        let mut out: Vec<Collection> = Kind::ALL.into_iter().map(Collection::Features).collect();
        out.extend(
            [Kind::Incident, Kind::Report, Kind::Presence, Kind::Measure].map(Collection::Hexagons),
        );
        out.extend(
            [Kind::Incident, Kind::Report, Kind::Presence, Kind::Measure]
                .map(Collection::PublicHexagons),
        );
        out.push(Collection::PublicAreas);
        out
    }

    fn id(self) -> String {
        match self {
            Collection::Features(k) => k.collection().to_owned(),
            Collection::Hexagons(k) => format!("{}-hexagons", k.collection()),
            Collection::PublicHexagons(k) => format!("public-{}-hexagons", k.collection()),
            Collection::PublicAreas => "public-areas".to_owned(),
        }
    }

    fn parse(id: &str) -> Option<Collection> {
        Collection::all().into_iter().find(|c| c.id() == id)
    }

    fn title(self) -> String {
        match self {
            Collection::Features(k) => format!("{} (every record)", k.collection()),
            Collection::Hexagons(k) => format!(
                "{} per H3 hexagon, resolution {INTERNAL_HEX_RESOLUTION}",
                k.collection()
            ),
            Collection::PublicHexagons(k) => format!(
                "{} per hexagon, last closed month, public (suppressed below k)",
                k.collection()
            ),
            Collection::PublicAreas => "districts (public)".to_owned(),
        }
    }

    fn visible_to(self, caller: &Caller) -> bool {
        match self {
            Collection::PublicHexagons(_) | Collection::PublicAreas => true,
            Collection::Features(k) | Collection::Hexagons(k) => {
                caller.allows(Permission::ReadFeatures(k))
            }
        }
    }
}

fn f_param(params: &[(String, String)]) -> Result<(), ApiError> {
    match params
        .iter()
        .find(|(k, _)| k == "f")
        .map(|(_, v)| v.as_str())
    {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
        Some(other) => Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "f",
            format!("`{other}` is not offered; use f=json"),
        )),
    }
}

/// A link from the configured public address (`base`), never the request's host.
fn link(base: &str, path: &str, rel: &str, ty: &str, title: &str) -> Value {
    json!({ "href": absolute(base, path), "rel": rel, "type": ty, "title": title })
}

async fn landing(
    State(state): State<AppState>,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    f_param(&params)?;
    Ok(axum::Json(json!({
        "title": "Trygg",
        "description": "Crime-exposed and unsafe places, safety-creating presence and measures of a Swedish citizen promise (medborgarlöfte).",
        "links": [
            link(&state.public_url, "/ogc", "self", "application/json", "this document"),
            link(&state.public_url, "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            link(&state.public_url, "/ogc/conformance", "conformance", "application/json", "conformance classes"),
            link(&state.public_url, "/ogc/collections", "data", "application/json", "collections"),
        ],
    })))
}

async fn conformance(Params(params): Params) -> Result<axum::Json<Value>, ApiError> {
    f_param(&params)?;
    Ok(axum::Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        ]
    })))
}

fn describe(state: &AppState, c: Collection) -> Value {
    let b = state.area.bbox;
    let id = c.id();
    // Open intervals: the data runs from the first record to now.
    let temporal = json!([[null, null]]);
    json!({
        "id": id,
        "title": c.title(),
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": {
            "spatial": { "bbox": [[b.min_lon, b.min_lat, b.max_lon, b.max_lat]], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84" },
            "temporal": { "interval": temporal },
        },
        "links": [
            link(&state.public_url, &format!("/ogc/collections/{id}"), "self", "application/json", "this collection"),
            link(&state.public_url, &format!("/ogc/collections/{id}/items"), "items", "application/geo+json", "the features"),
        ],
    })
}

async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    f_param(&params)?;
    let list: Vec<Value> = Collection::all()
        .into_iter()
        .filter(|c| c.visible_to(&caller))
        .map(|c| describe(&state, c))
        .collect();
    Ok(axum::Json(json!({
        "links": [link(&state.public_url, "/ogc/collections", "self", "application/json", "collections")],
        "collections": list,
    })))
}

fn find(id: &str, caller: &Caller) -> Result<Collection, ApiError> {
    let c = Collection::parse(id)
        .ok_or_else(|| ApiError::not_found(format!("no collection `{id}`")))?;
    if c.visible_to(caller) {
        Ok(c)
    } else if caller.who().is_none() {
        Err(crate::auth::unauthenticated())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "your role does not allow this collection",
        ))
    }
}

async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<axum::Json<Value>, ApiError> {
    f_param(&params)?;
    let c = find(&id, &caller)?;
    Ok(axum::Json(describe(&state, c)))
}

fn take_usize(
    params: &mut Vec<(String, String)>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(i) = params.iter().position(|(k, _)| k == name) else {
        return Ok(default);
    };
    let (_, v) = params.remove(i);
    v.parse::<usize>()
        .ok()
        .filter(|n| *n <= max && (name == "offset" || *n > 0))
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                name,
                format!("a whole number up to {max}"),
            )
        })
}

fn page_links(
    base: &str,
    id: &str,
    params: &[(String, String)],
    next: Option<(String, String)>,
) -> Vec<Value> {
    let path = format!("/ogc/collections/{id}/items");
    let encode = |pairs: &[(String, String)]| {
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if qs.is_empty() {
            path.clone()
        } else {
            format!("{path}?{qs}")
        }
    };
    let mut links = vec![link(
        base,
        &encode(params),
        "self",
        "application/geo+json",
        "this page",
    )];
    if let Some((k, v)) = next {
        let mut p: Vec<(String, String)> = params
            .iter()
            .filter(|(key, _)| *key != k)
            .cloned()
            .collect();
        p.push((k, v));
        links.push(link(
            base,
            &encode(&p),
            "next",
            "application/geo+json",
            "next page",
        ));
    }
    links
}

async fn items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    f_param(&params)?;
    let c = find(&id, &caller)?;
    let original: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "f").cloned().collect();
    let mut rest = original.clone();
    match c {
        Collection::Features(kind) => {
            let q = ListQuery::parse(kind, &rest).map_err(ApiError::query)?;
            let page = super::list_page(&state, kind, &q, caller.view()).await?;
            let features: Vec<Value> = page.features.iter().map(|f| redacted(f, &caller)).collect();
            let next = page.next_after.map(|a| ("after".to_owned(), a.to_string()));
            Ok(GeoJson::value(&json!({
                "type": "FeatureCollection",
                "features": features,
                "numberReturned": features.len(),
                "timeStamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "links": page_links(&state.public_url, &id, &original, next),
            }))
            .into_response())
        }
        Collection::Hexagons(kind) | Collection::PublicHexagons(kind) => {
            let limit = take_usize(&mut rest, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
            let offset = take_usize(&mut rest, "offset", 0, usize::MAX)?;
            let cells = hexagon_cells(&state, &caller, c, kind, &rest).await?;
            let total = cells.len();
            let page: Vec<HexCount> = cells.into_iter().skip(offset).take(limit).collect();
            let next = (offset + page.len() < total)
                .then(|| ("offset".to_owned(), (offset + page.len()).to_string()));
            let mut meta = serde_json::Map::new();
            meta.insert("numberMatched".into(), json!(total));
            meta.insert(
                "links".into(),
                Value::Array(page_links(&state.public_url, &id, &original, next)),
            );
            let res = match c {
                Collection::PublicHexagons(_) => state.public_policy.max_resolution,
                _ => INTERNAL_HEX_RESOLUTION,
            };
            Ok(GeoJson(trygg_core::hexagons::to_geojson_with(
                kind, &page, res, &meta,
            ))
            .into_response())
        }
        Collection::PublicAreas => {
            let areas = super::public::public_area_features(&state).await?;
            let total = areas.len();
            Ok(GeoJson::value(&json!({
                "type": "FeatureCollection",
                "features": areas,
                "numberReturned": total,
                "numberMatched": total,
                "links": page_links(&state.public_url, &id, &original, None),
            }))
            .into_response())
        }
    }
}

fn redacted(f: &trygg_core::Feature, caller: &Caller) -> Value {
    super::features::redact(f.to_geojson(), f.kind(), caller)
}

async fn hexagon_cells(
    state: &AppState,
    caller: &Caller,
    c: Collection,
    kind: Kind,
    params: &[(String, String)],
) -> Result<Vec<HexCount>, ApiError> {
    if let Collection::PublicHexagons(_) = c {
        let period = params
            .iter()
            .find(|(k, _)| k == "period")
            .map(|(_, v)| v.as_str());
        if let Some((k, _)) = params.iter().find(|(k, _)| k != "period" && k != "bbox") {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                k,
                "public collections take bbox, period, limit, offset",
            ));
        }
        let bbox = params
            .iter()
            .find(|(k, _)| k == "bbox")
            .map(|(_, v)| trygg_core::bbox::Bbox::parse(v, "bbox"))
            .transpose()
            .map_err(ApiError::query)?;
        let cells = super::public::public_cells(state, kind, period).await?;
        return Ok(cells
            .iter()
            .filter(|h| {
                bbox.is_none_or(|b| {
                    let ll = h3o::LatLng::from(h.cell);
                    b.contains(ll.lng(), ll.lat())
                })
            })
            .copied()
            .collect());
    }
    let mut p = params.to_vec();
    p.push(("resolution".into(), INTERNAL_HEX_RESOLUTION.to_string()));
    let q = HexQuery::parse(kind, &p).map_err(ApiError::query)?;
    state
        .layers
        .hexagons(
            kind,
            &q,
            caller.view(),
            Utc::now().timestamp_millis(),
            state.limits.max_hex_cells,
        )
        .map_err(ApiError::query)
}

async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, feature)): Path<(String, String)>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    f_param(&params)?;
    let c = find(&id, &caller)?;
    match c {
        Collection::Features(kind) => {
            let fid = Uuid::parse_str(&feature)
                .map_err(|_| ApiError::not_found(format!("no feature `{feature}` in {id}")))?;
            let f = state.store.get(kind, fid, caller.view()).await?;
            Ok(GeoJson::value(&redacted(&f, &caller)).into_response())
        }
        Collection::Hexagons(kind) | Collection::PublicHexagons(kind) => {
            let cells = hexagon_cells(&state, &caller, c, kind, &[]).await?;
            let hit = cells
                .into_iter()
                .find(|h| h.cell.to_string() == feature)
                .ok_or_else(|| ApiError::not_found(format!("no hexagon `{feature}` in {id}")))?;
            let res = u8::from(hit.cell.resolution());
            let fc: Value =
                serde_json::from_str(&trygg_core::hexagons::to_geojson(kind, &[hit], res))
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(GeoJson::value(&fc["features"][0]).into_response())
        }
        Collection::PublicAreas => {
            let areas = super::public::public_area_features(&state).await?;
            let hit = areas
                .into_iter()
                .find(|a| a["id"] == feature.as_str())
                .ok_or_else(|| ApiError::not_found(format!("no district `{feature}`")))?;
            Ok(GeoJson::value(&hit).into_response())
        }
    }
}
