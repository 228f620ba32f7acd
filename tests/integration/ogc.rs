//! OGC API – Features as outside clients use it, in-process on both
//! backends: trailing slashes, HTTP Basic with a token, one collection per
//! geometry type, parameters checked on every collection, numberMatched,
//! queryables and property filters, Part 2 coordinate systems, public
//! hexagons by overlap. The real clients (OWSLib, GDAL, QGIS) run in
//! `tests/clients/`.

use axum::http::{Method, StatusCode, header};
use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::json;
use trygg_tests::{on_both_backends, point};

use crate::api::{Reply, app, assert_problem, call, get, post};

fn basic(password: &str) -> String {
    use std::fmt::Write as _;
    // Base64 by hand keeps the test free of another dependency.
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("qgis:{password}");
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = write!(out, "{}", ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn anon(app: &crate::api::TestApp, uri: &str) -> impl std::future::Future<Output = Reply> {
    call(app, Method::GET, uri, None, &[("authorization", "")])
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn every_ogc_path_answers_with_a_trailing_slash_too(store) {
        let app = app(store).await;
        for path in ["/ogc/", "/ogc/api/", "/ogc/conformance/", "/ogc/collections/", "/ogc/collections/public-areas/", "/ogc/collections/public-areas/items/", "/ogc/collections/public-areas/queryables/", "/ogc/collections/incidents/items/"] {
            let r = get(&app, path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        }
        let conf = get(&app, "/ogc/conformance/").await;
        for class in ["ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/queryables"] {
            assert!(conf.body.to_string().contains(class), "{class}");
        }
    }
}

on_both_backends! {
    async fn qgis_users_get_in_with_basic_credentials_and_public_routes_ignore_bad_ones(store) {
        let app = app(store).await;
        let token = app.ids.admin.clone();
        let with_basic = call(&app, Method::GET, "/ogc/collections", None, &[("authorization", &basic(&token))]).await;
        assert!(ids(&with_basic).contains(&"incidents".to_owned()), "{:?}", ids(&with_basic));
        for bad in [basic("not-a-token"), basic("trygg_unknown"), "Digest x".to_owned(), "Bearer nonsense".to_owned()] {
            let landing = call(&app, Method::GET, "/ogc", None, &[("authorization", &bad)]).await;
            assert_eq!(landing.status, StatusCode::OK, "{bad}: {}", landing.body);
            let public = call(&app, Method::GET, "/ogc/collections/public-areas/items", None, &[("authorization", &bad)]).await;
            assert_eq!(public.status, StatusCode::OK, "{bad}");
            let list = call(&app, Method::GET, "/ogc/collections", None, &[("authorization", &bad)]).await;
            assert!(ids(&list).iter().all(|c| c.starts_with("public-")));
            let closed = call(&app, Method::GET, "/ogc/collections/incidents/items", None, &[("authorization", &bad)]).await;
            assert_eq!(closed.status, StatusCode::UNAUTHORIZED, "{bad}");
            let challenges: Vec<&str> = closed.headers.get_all(header::WWW_AUTHENTICATE).iter().map(|v| v.to_str().unwrap()).collect();
            assert!(challenges.iter().any(|c| c.starts_with("Bearer")) && challenges.iter().any(|c| c.starts_with("Basic")), "{challenges:?}");
        }
        // The API itself: a 401 is challenged, but a browser script is never
        // asked for Basic (its browser would show a password dialog).
        let api = call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", "")]).await;
        assert_eq!(api.headers.get_all(header::WWW_AUTHENTICATE).iter().count(), 2);
        let script = call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", ""), ("sec-fetch-mode", "cors")]).await;
        let only: Vec<_> = script.headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
        assert_eq!(only.len(), 1);
        assert!(only[0].to_str().unwrap().starts_with("Bearer"));
        let by_basic = call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", &basic(&token))]).await;
        assert_eq!(by_basic.status, StatusCode::OK);
    }
}

async fn seed(app: &crate::api::TestApp) {
    let yesterday = Utc::now() - Duration::days(1);
    for (i, cat) in ["theft", "theft", "robbery"].iter().enumerate() {
        post(
            app,
            "/api/v1/incidents",
            &point(
                15.60 + i as f64 * 0.01,
                58.41,
                json!({ "category": cat, "occurred_at": yesterday }),
            ),
        )
        .await;
    }
    let report = point(
        15.62,
        58.41,
        json!({ "reasons": ["lighting", "people"], "source": "safety_walk", "status": "approved", "reported_at": yesterday, "scores": { "lighting": 2, "overall": 3 } }),
    );
    let r = post(app, "/api/v1/reports", &report).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let track = json!({ "type": "Feature", "geometry": { "type": "LineString", "coordinates": [[15.61, 58.41], [15.63, 58.415]] }, "properties": { "unit_type": "police", "started_at": yesterday, "ended_at": yesterday + Duration::minutes(20) } });
    assert_eq!(
        post(app, "/api/v1/presence", &track).await.status,
        StatusCode::CREATED
    );
    post(app, "/api/v1/presence", &point(15.62, 58.41, json!({ "unit_type": "night_walkers", "started_at": yesterday, "ended_at": yesterday + Duration::minutes(10) }))).await;
}

on_both_backends! {
    async fn each_geometry_type_is_its_own_collection_with_numbers_matched(store) {
        let app = app(store).await;
        seed(&app).await;
        let all = ids(&get(&app, "/ogc/collections").await);
        for id in ["incidents", "reports-points", "reports-polygons", "presence-points", "presence-lines", "measures-points", "measures-lines", "measures-polygons", "places", "areas"] {
            assert!(all.contains(&id.to_owned()), "{id} in {all:?}");
        }
        assert!(!all.contains(&"presence".to_owned()), "no mixed collection");
        let lines = get(&app, "/ogc/collections/presence-lines/items").await;
        assert_eq!(lines.body["numberMatched"], 1);
        assert_eq!(lines.body["features"][0]["geometry"]["type"], "LineString");
        let points = get(&app, "/ogc/collections/presence-points/items").await;
        assert_eq!(points.body["numberMatched"], 1);
        let meta = get(&app, "/ogc/collections/presence-lines").await;
        assert_eq!(meta.body["geometryType"], "LineString");
        assert_eq!(meta.body["limit"]["maximum"], 10_000);
        assert!(meta.body["crs"].as_array().unwrap().iter().any(|c| c == "http://www.opengis.net/def/crs/EPSG/0/3009"));
        assert_eq!(meta.body["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        // Empty collections still describe their geometry, fields and CRS.
        let empty = get(&app, "/ogc/collections/reports-polygons").await;
        assert_eq!(empty.body["geometryType"], "MultiPolygon");
        let schema = get(&app, "/ogc/collections/reports-polygons/schema").await;
        assert_eq!(schema.body["properties"]["properties"]["properties"]["scores_lighting"]["type"], "integer");
        // limit=0 answers only the count; paging reaches every record.
        let count = get(&app, "/ogc/collections/incidents/items?limit=0").await;
        assert_eq!((count.body["numberMatched"].as_u64(), count.body["numberReturned"].as_u64()), (Some(3), Some(0)));
        let page = get(&app, "/ogc/collections/incidents/items?limit=2").await;
        assert_eq!((page.body["numberMatched"].as_u64(), page.body["numberReturned"].as_u64()), (Some(3), Some(2)));
        // One feature is found in its own collection only.
        let id = lines.body["features"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(get(&app, &format!("/ogc/collections/presence-lines/items/{id}")).await.status, StatusCode::OK);
        assert_eq!(get(&app, &format!("/ogc/collections/presence-points/items/{id}")).await.status, StatusCode::NOT_FOUND);
        let old = get(&app, "/ogc/collections/presence/items").await;
        assert_eq!(old.status, StatusCode::NOT_FOUND);
        assert!(old.body["detail"].as_str().unwrap().contains("presence-lines"));
    }
}

on_both_backends! {
    async fn nested_properties_are_flat_and_tags_filter_by_name(store) {
        let app = app(store).await;
        seed(&app).await;
        let reports = get(&app, "/ogc/collections/reports-points/items").await;
        let props = &reports.body["features"][0]["properties"];
        assert_eq!(props["reasons"], "lighting,people");
        assert_eq!(props["scores_lighting"], 2);
        assert!(props.as_object().unwrap().values().all(|v| !v.is_object() && !v.is_array()), "{props}");
        let theft = get(&app, "/ogc/collections/incidents/items?category=theft").await;
        assert_eq!(theft.body["numberMatched"], 2);
        let q = get(&app, "/ogc/collections/incidents/queryables").await;
        assert_eq!(q.headers.get(header::CONTENT_TYPE).unwrap(), "application/schema+json");
        assert!(q.body["properties"]["category"]["enum"].as_array().unwrap().iter().any(|v| v == "theft"));
        assert_eq!(q.body["properties"]["occurred_at"]["format"], "date-time");
        assert!(q.body["properties"].get("updated_at").is_none(), "datetime is the event time only");
        let hex = get(&app, "/ogc/collections/incidents-hexagons/items?category=robbery").await;
        assert_eq!(hex.body["numberMatched"], 1);
    }
}

on_both_backends! {
    async fn every_collection_checks_every_parameter(store) {
        let app = app(store).await;
        seed(&app).await;
        let all = ids(&get(&app, "/ogc/collections").await);
        for id in &all {
            for (q, field) in [("bbox=garbage", "bbox"), ("limit=-5", "limit"), ("limit=10001", "limit"), ("jaywalking=1", "jaywalking"), ("crs=EPSG:3857", "crs"), ("bbox-crs=EPSG:2400&bbox=1,2,3,4", "bbox-crs"), ("datetime=yesterday", "datetime")] {
                assert_problem(&get(&app, &format!("/ogc/collections/{id}/items?{q}")).await, StatusCode::BAD_REQUEST, field);
            }
            let far = get(&app, &format!("/ogc/collections/{id}/items?bbox=11.0,55.4,11.1,55.5")).await;
            assert_eq!(far.status, StatusCode::OK, "{id}: {}", far.body);
            assert_eq!(far.body["numberMatched"], 0, "{id}: nothing near Trelleborg");
            let five = get(&app, &format!("/ogc/collections/{id}/items?limit=1")).await;
            assert!(five.body["numberReturned"].as_u64().unwrap() <= 1, "{id}");
            assert!(five.body["numberMatched"].is_u64(), "{id}");
        }
        assert_problem(&get(&app, "/ogc/collections/public-incidents-hexagons/items?category=theft").await, StatusCode::BAD_REQUEST, "category");
    }
}

on_both_backends! {
    async fn sweref_99_is_served_northing_first_and_boxes_are_read_in_it(store) {
        let app = app(store).await;
        seed(&app).await;
        let r = get(&app, "/ogc/collections/incidents/items?crs=http://www.opengis.net/def/crs/EPSG/0/3009&limit=1").await;
        assert_eq!(r.headers.get("content-crs").unwrap(), "<http://www.opengis.net/def/crs/EPSG/0/3009>");
        let c = &r.body["features"][0]["geometry"]["coordinates"];
        assert!(c[0].as_f64().unwrap() > 6_400_000.0 && c[1].as_f64().unwrap() < 400_000.0, "northing, easting: {c}");
        let plain = get(&app, "/ogc/collections/incidents/items?limit=1").await;
        assert_eq!(plain.headers.get("content-crs").unwrap(), "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
        // A SWEREF 99 TM box around 15.60–15.615 E (northing, easting).
        let t = trygg_core::ogc::crs::Transform::new(trygg_core::ogc::crs::OgcCrs::Sweref(3006)).unwrap();
        let (n0, e0) = t.forward(15.595, 58.405).unwrap();
        let (n1, e1) = t.forward(15.615, 58.415).unwrap();
        let boxed = get(&app, &format!("/ogc/collections/incidents/items?bbox-crs=EPSG:3006&bbox={n0},{e0},{n1},{e1}")).await;
        assert_eq!(boxed.body["numberMatched"], 2, "{}", boxed.body);
        let lat_first = get(&app, "/ogc/collections/incidents/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1").await;
        assert!(lat_first.body["features"][0]["geometry"]["coordinates"][0].as_f64().unwrap() > 58.0);
    }
}

on_both_backends! {
    async fn public_hexagons_match_a_box_by_overlap_and_a_datetime_within_one_closed_month(store) {
        let app = app(store).await;
        let now = Utc::now();
        let first_of_this = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).unwrap();
        let last_month = first_of_this - Duration::days(10);
        for i in 0..6 {
            let body = point(15.6214 + f64::from(i) * 1e-5, 58.4108, json!({ "category": "theft", "occurred_at": last_month }));
            assert_eq!(post(&app, "/api/v1/incidents", &body).await.status, StatusCode::CREATED);
        }
        let all = anon(&app, "/ogc/collections/public-incidents-hexagons/items").await;
        assert_eq!(all.body["numberMatched"], 1, "{}", all.body);
        let ring: Vec<(f64, f64)> = all.body["features"][0]["geometry"]["coordinates"][0].as_array().unwrap().iter().map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).collect();
        let (west, east) = ring.iter().fold((f64::MAX, f64::MIN), |(w, e), (x, _)| (w.min(*x), e.max(*x)));
        let (south, north) = ring.iter().fold((f64::MAX, f64::MIN), |(s, n), (_, y)| (s.min(*y), n.max(*y)));
        // The eastern 30 % of the hexagon: its centre lies outside the box.
        let cut = east - (east - west) * 0.3;
        let r = anon(&app, &format!("/ogc/collections/public-incidents-hexagons/items?bbox={cut},{south},{},{north}", east + 0.01)).await;
        assert_eq!(r.body["numberMatched"], 1, "{}", r.body);
        let label = format!("{:04}-{:02}", last_month.year(), last_month.month());
        let day = anon(&app, &format!("/ogc/collections/public-incidents-hexagons/items?datetime={}", last_month.format("%Y-%m-%d"))).await;
        assert_eq!(day.body["numberMatched"], 1, "{label}: {}", day.body);
        let across = format!("{}/{}", (last_month - Duration::days(40)).format("%Y-%m-%dT00:00:00Z"), last_month.format("%Y-%m-%dT00:00:00Z"));
        assert_problem(&anon(&app, &format!("/ogc/collections/public-incidents-hexagons/items?datetime={across}")).await, StatusCode::BAD_REQUEST, "datetime");
        let open = anon(&app, &format!("/ogc/collections/public-incidents-hexagons/items?datetime={}", first_of_this.format("%Y-%m-%dT01:00:00Z"))).await;
        assert_problem(&open, StatusCode::BAD_REQUEST, "datetime");
    }
}

on_both_backends! {
    async fn the_ogc_api_document_declares_limits_where_clients_read_them(store) {
        let app = app(store).await;
        let doc = get(&app, "/ogc/api").await.body;
        let limit = &doc["components"]["parameters"]["limit"];
        assert_eq!(limit["schema"]["maximum"], 10_000);
        assert_eq!(limit["schema"]["default"], 100);
        assert_eq!(limit["schema"]["minimum"], 0);
        let items = &doc["paths"]["/collections/incidents/items"]["get"]["parameters"];
        assert!(items.as_array().unwrap().iter().any(|p| p["name"] == "category" && p["style"] == "form" && p["explode"] == false));
        assert!(doc["servers"][0]["url"].as_str().unwrap().ends_with("/ogc"));
        assert!(!doc.to_string().contains("\"$ref\":\"http"), "self-contained");
    }
}
