//! Vector tiles of the hexagon layers over the demo data, decoded here by
//! a reader written from the MVT specification apart from the encoder:
//! each tile must hold exactly the hexagons and counts the GeoJSON layer
//! gives for the tile's bounds. Each case runs on SQLite and PostgreSQL.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use trygg_core::demo::Scale;
use trygg_core::mvt::TileId;
use trygg_tests::{linkoping, on_both_backends, point};

use crate::api::{TestApp, app, assert_problem, call, get, post};

// ------------------------------------------------------------ a decoder

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn more(&self) -> bool {
        !self.0.is_empty()
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0;
        for (i, b) in self.0.iter().enumerate() {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return v;
            }
        }
        panic!("a varint runs off the end");
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }

    /// The next field: its number and, for every wire type a tile uses,
    /// its payload (a varint's value as bytes of its own).
    fn field(&mut self) -> (u64, Payload<'a>) {
        let key = self.varint();
        let payload = match key & 7 {
            0 => Payload::Int(self.varint()),
            1 => Payload::Fixed(u64::from_le_bytes(self.take(8).try_into().unwrap())),
            2 => {
                let n = self.varint() as usize;
                Payload::Bytes(self.take(n))
            }
            other => panic!("wire type {other}"),
        };
        (key >> 3, payload)
    }
}

enum Payload<'a> {
    Int(u64),
    Fixed(u64),
    Bytes(&'a [u8]),
}

impl<'a> Payload<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Payload::Bytes(b) => b,
            _ => panic!("expected a length-delimited field"),
        }
    }

    fn int(self) -> u64 {
        match self {
            Payload::Int(v) => v,
            _ => panic!("expected a varint"),
        }
    }
}

fn varints(b: &[u8]) -> Vec<u64> {
    let mut c = Cursor(b);
    let mut out = Vec::new();
    while c.more() {
        out.push(c.varint());
    }
    out
}

#[derive(Debug)]
struct TileFeature {
    geometry_type: u64,
    properties: BTreeMap<String, Value>,
    rings: Vec<Vec<(i64, i64)>>,
}

#[derive(Debug)]
struct TileLayer {
    name: String,
    version: u64,
    extent: u64,
    features: Vec<TileFeature>,
}

fn rings(commands: &[u64]) -> Vec<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let mut ring = Vec::new();
    let (mut x, mut y) = (0i64, 0i64);
    let mut it = commands.iter();
    while let Some(c) = it.next() {
        match (c & 7, c >> 3) {
            (7, _) => out.push(std::mem::take(&mut ring)),
            (1 | 2, n) => {
                for _ in 0..n {
                    let (dx, dy) = (*it.next().unwrap(), *it.next().unwrap());
                    x += ((dx >> 1) as i64) ^ -((dx & 1) as i64);
                    y += ((dy >> 1) as i64) ^ -((dy & 1) as i64);
                    ring.push((x, y));
                }
            }
            (id, _) => panic!("command {id}"),
        }
    }
    assert!(ring.is_empty(), "a ring without ClosePath");
    out
}

fn decode(tile: &[u8]) -> Vec<TileLayer> {
    let mut layers = Vec::new();
    let mut top = Cursor(tile);
    while top.more() {
        let (field, payload) = top.field();
        assert_eq!(field, 3, "a tile holds layers only");
        let mut fields = Cursor(payload.bytes());
        let mut layer = TileLayer {
            name: String::new(),
            version: 1,
            extent: 4096,
            features: Vec::new(),
        };
        let (mut keys, mut values, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        while fields.more() {
            match fields.field() {
                (1, p) => layer.name = String::from_utf8(p.bytes().to_vec()).unwrap(),
                (2, p) => raw.push(p.bytes()),
                (3, p) => keys.push(String::from_utf8(p.bytes().to_vec()).unwrap()),
                (4, p) => {
                    let mut value = Cursor(p.bytes());
                    values.push(match value.field() {
                        (1, p) => json!(String::from_utf8(p.bytes().to_vec()).unwrap()),
                        (3, Payload::Fixed(bits)) => json!(f64::from_bits(bits)),
                        (5, p) => json!(p.int()),
                        (other, _) => panic!("value field {other}"),
                    });
                }
                (5, p) => layer.extent = p.int(),
                (15, p) => layer.version = p.int(),
                (other, _) => panic!("layer field {other}"),
            }
        }
        for bytes in raw {
            let mut fc = Cursor(bytes);
            let mut feature = TileFeature {
                geometry_type: 0,
                properties: BTreeMap::new(),
                rings: Vec::new(),
            };
            while fc.more() {
                match fc.field() {
                    (1, _) => {}
                    (2, p) => {
                        for pair in varints(p.bytes()).chunks(2) {
                            feature.properties.insert(
                                keys[pair[0] as usize].clone(),
                                values[pair[1] as usize].clone(),
                            );
                        }
                    }
                    (3, p) => feature.geometry_type = p.int(),
                    (4, p) => feature.rings = rings(&varints(p.bytes())),
                    (other, _) => panic!("feature field {other}"),
                }
            }
            layer.features.push(feature);
        }
        layers.push(layer);
    }
    layers
}

fn area2(ring: &[(i64, i64)]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

// ------------------------------------------------------------ helpers

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A request as the admin (or as `auth`, empty for anonymous) whose body
/// stays bytes.
async fn raw(app: &TestApp, uri: &str, auth: Option<&str>, if_none_match: Option<&str>) -> Raw {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::HOST, "trygg.test");
    let auth = auth.map_or_else(|| format!("Bearer {}", app.ids.admin), str::to_owned);
    if !auth.is_empty() {
        req = req.header(header::AUTHORIZATION, auth);
    }
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Raw {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

async fn demo_app(store: std::sync::Arc<dyn trygg_store::Store>) -> TestApp {
    // A fifth of the first-run demo: the same hot spots, quicker to write.
    let scale = Scale {
        incidents: 1_200,
        reports: 90,
        presence: 360,
        measures: 5,
    };
    trygg_cli::demo::load(store.as_ref(), &linkoping(), Utc::now(), scale)
        .await
        .unwrap();
    app(store).await
}

/// The centre of the hottest hexagon at a resolution: where a tile has
/// something to show.
async fn hottest(app: &TestApp, kind: &str, res: u8) -> (f64, f64) {
    let r = get(
        app,
        &format!("/api/v1/layers/{kind}/hexagons?resolution={res}"),
    )
    .await;
    let hottest = r.body["features"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|f| f["properties"]["count"].as_u64().unwrap())
        .unwrap()
        .clone();
    let ring = hottest["geometry"]["coordinates"][0].as_array().unwrap();
    let n = (ring.len() - 1) as f64;
    let sum = ring[..ring.len() - 1].iter().fold((0.0, 0.0), |(x, y), p| {
        (x + p[0].as_f64().unwrap(), y + p[1].as_f64().unwrap())
    });
    (sum.0 / n, sum.1 / n)
}

fn tile_path(kind: &str, t: TileId, query: &str) -> String {
    format!("/tiles/{kind}/{}/{}/{}.mvt{query}", t.z(), t.x(), t.y())
}

fn bbox(t: TileId) -> String {
    let b = t.bounds();
    format!("{},{},{},{}", b.min_lon, b.min_lat, b.max_lon, b.max_lat)
}

/// What the GeoJSON layer says for the tile's bounds, by cell.
async fn layer_for(app: &TestApp, kind: &str, t: TileId, params: &str) -> BTreeMap<String, Value> {
    let r = get(
        app,
        &format!("/api/v1/layers/{kind}/hexagons?bbox={}{params}", bbox(t)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["h3"].as_str().unwrap().to_owned(),
                f["properties"].clone(),
            )
        })
        .collect()
}

/// The tile's features by cell, after checking what every feature must be.
fn by_cell(kind: &str, body: &[u8]) -> BTreeMap<String, BTreeMap<String, Value>> {
    let layers = decode(body);
    assert_eq!(layers.len(), 1);
    let layer = &layers[0];
    assert_eq!(
        (layer.name.as_str(), layer.version, layer.extent),
        (kind, 2, 4096)
    );
    layer
        .features
        .iter()
        .map(|f| {
            assert_eq!(f.geometry_type, 3, "polygons");
            assert_eq!(f.rings.len(), 1, "a hexagon is one ring");
            assert!(f.rings[0].len() >= 6, "{:?}", f.rings[0]);
            assert!(
                area2(&f.rings[0]) > 0,
                "exterior rings wind clockwise (y down)"
            );
            // Every hexagon lies within the tile's buffer of one tile: it
            // touches the tile, or holds a feature that does (a fine cell
            // can poke out of its coarse parent's outline).
            let (xs, ys): (Vec<i64>, Vec<i64>) = f.rings[0].iter().copied().unzip();
            assert!(*xs.iter().max().unwrap() >= -4096 && *xs.iter().min().unwrap() <= 8192);
            assert!(*ys.iter().max().unwrap() >= -4096 && *ys.iter().min().unwrap() <= 8192);
            (
                f.properties["h3"].as_str().unwrap().to_owned(),
                f.properties.clone(),
            )
        })
        .collect()
}

// ------------------------------------------------------------ cases

on_both_backends! {
    async fn a_tile_over_the_demo_holds_the_hexagon_layers_counts(store) {
        let app = demo_app(store).await;
        let (lon, lat) = hottest(&app, "incidents", 10).await;
        let t = TileId::containing(lon, lat, 15).unwrap();

        let r = raw(&app, &tile_path("incidents", t, ""), None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/vnd.mapbox-vector-tile");
        assert_eq!(r.headers[header::CACHE_CONTROL], "private, no-cache");
        let tile = by_cell("incidents", &r.body);
        // Zoom 15 shows resolution 10, as the planner map does.
        let api = layer_for(&app, "incidents", t, "&resolution=10").await;
        assert!(!api.is_empty());
        assert_eq!(tile.keys().collect::<Vec<_>>(), api.keys().collect::<Vec<_>>(), "the same hexagons");
        for (cell, props) in &tile {
            assert_eq!(props["count"], api[cell]["count"], "{cell}");
            assert!(!props.contains_key("minutes"));
        }
        let sum: u64 = tile.values().map(|p| p["count"].as_u64().unwrap()).sum();
        assert!(sum > 0);

        // A repeat is a 304 with the same tag; a filter is another tile.
        let tag = r.headers[header::ETAG].to_str().unwrap().to_owned();
        let again = raw(&app, &tile_path("incidents", t, ""), None, Some(&tag)).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        assert_eq!(again.headers[header::ETAG], tag.as_str());
        let theft = raw(&app, &tile_path("incidents", t, "?category=theft&datetime=2020-01-01/.."), None, Some(&tag)).await;
        assert_eq!(theft.status, StatusCode::OK);
        let theft_tile = by_cell("incidents", &theft.body);
        let theft_api = layer_for(&app, "incidents", t, "&resolution=10&category=theft&datetime=2020-01-01/..").await;
        assert_eq!(theft_tile.len(), theft_api.len());
        for (cell, props) in &theft_tile {
            assert_eq!(props["count"], theft_api[cell]["count"], "{cell}");
        }

        // A resolution asked for wins over the zoom's.
        let coarse = raw(&app, &tile_path("incidents", t, "?resolution=9"), None, None).await;
        let coarse_tile = by_cell("incidents", &coarse.body);
        let coarse_api = layer_for(&app, "incidents", t, "&resolution=9").await;
        assert_eq!(coarse_tile.keys().collect::<Vec<_>>(), coarse_api.keys().collect::<Vec<_>>());

        // A write changes the layer: the old tag no longer holds.
        let body = point(lon, lat, json!({ "category": "robbery", "occurred_at": Utc::now() - Duration::hours(1) }));
        assert_eq!(post(&app, "/api/v1/incidents", &body).await.status, StatusCode::CREATED);
        let after = raw(&app, &tile_path("incidents", t, ""), None, Some(&tag)).await;
        assert_eq!(after.status, StatusCode::OK);
        let after_sum: u64 = by_cell("incidents", &after.body).values().map(|p| p["count"].as_u64().unwrap()).sum();
        assert_eq!(after_sum, sum + 1);

        // Far from every hexagon: no content.
        let empty = TileId::containing(15.0, 57.5, 15).unwrap();
        let nothing = raw(&app, &tile_path("incidents", empty, ""), None, None).await;
        assert_eq!(nothing.status, StatusCode::NO_CONTENT);
        assert!(nothing.body.is_empty());
    }
}

on_both_backends! {
    async fn presence_tiles_carry_minutes_and_keep_the_partner_limit(store) {
        let app = demo_app(store).await;
        let (lon, lat) = hottest(&app, "presence", 10).await;
        let t = TileId::containing(lon, lat, 15).unwrap();
        // A window that has ended, so ongoing logs stop adding minutes
        // between the two questions.
        let window = format!("datetime=2000-01-01/{}", (Utc::now() - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"));
        let r = raw(&app, &tile_path("presence", t, &format!("?{window}")), None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        let tile = by_cell("presence", &r.body);
        let api = layer_for(&app, "presence", t, &format!("&resolution=10&{window}")).await;
        assert_eq!(tile.len(), api.len());
        for (cell, props) in &tile {
            assert_eq!(props["count"], api[cell]["visits"], "{cell}");
            let (a, b) = (props["minutes"].as_f64().unwrap(), api[cell]["minutes"].as_f64().unwrap());
            assert!((a - b).abs() < 1e-9, "{cell}: {a} {b}");
        }

        // Field staff see only their own partner's presence: the demo's
        // logs belong to no partner, so each sees exactly what it logged.
        let start = Utc::now() - Duration::hours(3);
        let spot = TileId::containing(15.5702, 58.3961, 16).unwrap();
        let b = spot.bounds();
        let body = point(f64::midpoint(b.min_lon, b.max_lon), f64::midpoint(b.min_lat, b.max_lat), json!({ "unit_type": "municipal_staff", "started_at": start, "ended_at": start + Duration::minutes(12) }));
        let field = format!("Bearer {}", app.ids.field);
        let other = format!("Bearer {}", app.ids.field_other);
        let created = call(&app, Method::POST, "/api/v1/presence", Some(body.to_string()), &[("authorization", &field)]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let own = raw(&app, &tile_path("presence", spot, ""), Some(&field), None).await;
        assert_eq!(own.status, StatusCode::OK);
        let own_tile = by_cell("presence", &own.body);
        assert_eq!(own_tile.values().map(|p| p["count"].as_u64().unwrap()).sum::<u64>(), 1);
        let theirs = raw(&app, &tile_path("presence", spot, ""), Some(&other), None).await;
        assert_eq!(theirs.status, StatusCode::NO_CONTENT, "the police never see the municipality's log");
        // Nor may the one reuse the other's tag.
        let tag = own.headers[header::ETAG].to_str().unwrap();
        assert_eq!(raw(&app, &tile_path("presence", spot, ""), Some(&other), Some(tag)).await.status, StatusCode::NO_CONTENT);
    }
}

on_both_backends! {
    async fn bad_tile_addresses_are_problems_naming_the_field(store) {
        let app = app(store).await;
        for (uri, status, field) in [
            ("/tiles/incidents/fifteen/1/1.mvt", StatusCode::BAD_REQUEST, "z"),
            ("/tiles/incidents/%FF/1/1.mvt", StatusCode::BAD_REQUEST, "path"),
            ("/tiles/incidents/4/1/1.mvt", StatusCode::BAD_REQUEST, "z"),
            ("/tiles/incidents/21/1/1.mvt", StatusCode::BAD_REQUEST, "z"),
            ("/tiles/incidents/15/32768/1.mvt", StatusCode::BAD_REQUEST, "x"),
            ("/tiles/incidents/15/-1/1.mvt", StatusCode::BAD_REQUEST, "x"),
            ("/tiles/incidents/15/1/1.5.mvt", StatusCode::BAD_REQUEST, "y"),
            ("/tiles/incidents/15/17805/9798.png", StatusCode::BAD_REQUEST, "y"),
            ("/tiles/incidents/15/17805/9798", StatusCode::BAD_REQUEST, "y"),
            ("/tiles/incidents/15/17805/9798.mvt?bbox=15,58,16,59", StatusCode::BAD_REQUEST, "bbox"),
            ("/tiles/incidents/15/17805/9798.mvt?resolution=12", StatusCode::BAD_REQUEST, "resolution"),
            ("/tiles/incidents/15/17805/9798.mvt?category=nope", StatusCode::BAD_REQUEST, "category"),
            ("/tiles/incidents/15/17805/9798.mvt?colour=red", StatusCode::BAD_REQUEST, "colour"),
            ("/tiles/incidents/15/17805/9798.mvt?datetime=yesterday", StatusCode::BAD_REQUEST, "datetime"),
        ] {
            let r = get(&app, uri).await;
            assert_problem(&r, status, field);
        }
        let r = get(&app, "/tiles/nothing/15/17805/9798.mvt").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
        // Tiles hold the same data as the layers: no login, no tile.
        let anon = call(&app, Method::GET, "/tiles/incidents/15/17805/9798.mvt", None, &[("authorization", "")]).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anon.headers[header::CONTENT_TYPE], "application/problem+json");
    }
}
