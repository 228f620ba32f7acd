//! The HTTP API, driven in-process through the router on both backends.
//! Every GeoJSON body is also handed to the independent validator.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use trygg_server::{AppState, Limits, Settings};
use trygg_store::Store;
use trygg_tests::{
    Identities, collect_geojson, feature, identities, linkoping, on_both_backends, point, square,
};

pub(crate) struct TestApp {
    pub router: Router,
    pub ids: Identities,
    pub store: Arc<dyn Store>,
    /// The server's in-memory indexes, for tests that write straight to
    /// the store and then tell the server, as the import route does.
    pub layers: Arc<trygg_server::layers::Layers>,
    /// Where analyses run, to see which answers were computed.
    pub heavy: Arc<trygg_server::heavy::Heavy>,
}

pub(crate) async fn app(store: Arc<dyn Store>) -> TestApp {
    app_with(store, |_| {}).await
}

/// The app with some settings changed from the tests' defaults.
pub(crate) async fn app_with(store: Arc<dyn Store>, change: impl FnOnce(&mut Settings)) -> TestApp {
    app_in_with(store, linkoping(), change).await
}

/// The app serving another service area.
pub(crate) async fn app_in(
    store: Arc<dyn Store>,
    area: trygg_core::service_area::ServiceArea,
) -> TestApp {
    app_in_with(store, area, |_| {}).await
}

async fn app_in_with(
    store: Arc<dyn Store>,
    area: trygg_core::service_area::ServiceArea,
    change: impl FnOnce(&mut Settings),
) -> TestApp {
    let ids = identities(store.as_ref()).await;
    let mut settings = Settings {
        limits: Limits {
            max_body_bytes: 64 * 1024,
            ..Limits::default()
        },
        public_url: Some("http://trygg.test".into()),
        ..Settings::default()
    };
    change(&mut settings);
    let state = AppState::new(Arc::clone(&store), area, settings)
        .await
        .expect("state");
    let layers = Arc::clone(&state.layers);
    let heavy = Arc::clone(&state.heavy);
    let router = trygg_server::app(state);
    TestApp {
        router,
        ids,
        store,
        layers,
        heavy,
    }
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Calls the API as the admin unless `extra` names an `authorization`
/// (an empty one calls anonymously).
/// Logs a test user in with the shared password, as a person at a browser
/// does: users who must have a second factor (admins and publishers by
/// default) get the suite's test factor and log in with its code, so the
/// suite keeps testing what they may do with the requirement on.
pub(crate) async fn login_as(app: &TestApp, username: &str) -> Reply {
    let (user, _) = app.store.user_by_username(username).await.unwrap().unwrap();
    if trygg_core::second_factor::Requirement::default().requires(&user) {
        trygg_tests::enrol_test_factor(app.store.as_ref(), user.id).await;
    }
    let code = trygg_tests::test_factor_code(app.store.as_ref(), user.id).await;
    let body = serde_json::json!({ "username": username, "password": trygg_tests::PLANNER_PASSWORD, "code": code });
    let r = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        Some(body.to_string()),
        &[("authorization", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "login as {username}: {}", r.body);
    r
}

pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> Reply {
    send(app, method, uri, body.map(Body::from), extra).await
}

/// [`call`] with a body of bytes (a gzip file, Windows-1252 text).
pub(crate) async fn call_bytes(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> Reply {
    send(app, method, uri, Some(Body::from(body)), extra).await
}

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: Option<Body>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "trygg.test");
    if !extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", app.ids.admin));
    }
    if body.is_some()
        && !extra
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req = req.header(header::CONTENT_TYPE, "application/geo+json");
    }
    for (k, v) in extra {
        if !v.is_empty() {
            req = req.header(*k, *v);
        }
    }
    let req = req.body(body.unwrap_or_else(Body::empty)).expect("request");
    let resp = app.router.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    // A gzipped answer is read as a client reads it, so its GeoJSON is
    // checked like any other.
    let bytes = if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v == "gzip")
    {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut plain)
            .expect("a gzip body");
        plain.into()
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes).to_string();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A 304 carries the type of the body it stands for, but no body.
    // Answers in another CRS (OGC API Part 2) are not RFC 7946 GeoJSON.
    let crs84 = headers
        .get("content-crs")
        .is_none_or(|v| v.to_str().is_ok_and(|c| c.ends_with("/CRS84>")));
    if content_type == "application/geo+json" && !text.is_empty() && crs84 {
        collect_geojson(uri, &text);
    }
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

pub(crate) async fn get(app: &TestApp, uri: &str) -> Reply {
    call(app, Method::GET, uri, None, &[]).await
}

pub(crate) async fn post(app: &TestApp, uri: &str, body: &Value) -> Reply {
    call(app, Method::POST, uri, Some(body.to_string()), &[]).await
}

#[track_caller]
pub(crate) fn assert_problem(r: &Reply, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert_eq!(r.body["status"], status.as_u16());
    assert_eq!(r.body["field"], field, "{}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

fn incident_body(category: &str, days_ago: i64) -> Value {
    point(
        15.6214,
        58.4108,
        json!({ "category": category, "occurred_at": Utc::now() - Duration::days(days_ago) }),
    )
}

async fn count(app: &TestApp, collection: &str) -> usize {
    let r = get(app, &format!("/api/v1/{collection}?limit=10000")).await;
    r.body["features"].as_array().map_or(0, Vec::len)
}

on_both_backends! {
    async fn health_and_readiness_answer(store) {
        let app = app(store).await;
        assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
        let ready = get(&app, "/readyz").await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.body["status"], "ready");
    }
}

on_both_backends! {
    async fn every_kind_supports_create_read_update_list_and_delete(store) {
        let app = app(store).await;
        let now = Utc::now();
        let cases = [
            ("incidents", incident_body("theft", 1), json!({ "category": "robbery", "occurred_at": now - Duration::days(1) })),
            ("reports", point(15.60, 58.40, json!({ "reasons": ["lighting"], "source": "survey", "reported_at": now })),
                json!({ "reasons": ["lighting", "vegetation"], "source": "survey", "reported_at": now })),
            ("presence", point(15.61, 58.41, json!({ "unit_type": "police", "started_at": now - Duration::minutes(20) })),
                json!({ "unit_type": "police", "started_at": now - Duration::minutes(20), "ended_at": now })),
            ("measures", feature(json!({"type": "LineString", "coordinates": [[15.62, 58.41], [15.622, 58.411]]}), json!({ "kind": "vegetation", "title": "Röjning" })),
                json!({ "kind": "vegetation", "title": "Röjning", "status": "planned" })),
            ("places", feature(square(15.625, 58.412, 150.0), json!({ "name": "Resecentrum", "active_from": now - Duration::days(3) })),
                json!({ "name": "Resecentrum", "active_from": now - Duration::days(3), "target_visits_per_week": 14 })),
            ("areas", feature(square(15.63, 58.40, 800.0), json!({ "code": "X1", "name": "Testområdet" })),
                json!({ "code": "X1", "name": "Testområdet, norra" })),
        ];
        for (collection, body, new_props) in cases {
            let created = post(&app, &format!("/api/v1/{collection}"), &body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{collection}: {}", created.body);
            let id = created.body["id"].as_str().unwrap().to_owned();
            let location = created.headers.get(header::LOCATION).unwrap().to_str().unwrap();
            assert_eq!(location, format!("/api/v1/{collection}/{id}"));
            assert_eq!(created.headers.get(header::ETAG).unwrap(), "\"1\"");

            let read = get(&app, location).await;
            assert_eq!(read.status, StatusCode::OK);
            assert_eq!(read.body, created.body);

            let mut changed = read.body.clone();
            changed["properties"] = new_props.clone();
            let put = call(&app, Method::PUT, location, Some(changed.to_string()), &[("if-match", "\"1\"")]).await;
            assert_eq!(put.status, StatusCode::OK, "{collection}: {}", put.body);
            assert_eq!(put.body["properties"]["version"], 2);
            for (k, v) in new_props.as_object().unwrap() {
                if !k.ends_with("_at") && !k.starts_with("active") {
                    assert_eq!(&put.body["properties"][k], v, "{collection}.{k}");
                }
            }

            let list = get(&app, &format!("/api/v1/{collection}")).await;
            assert_eq!(list.body["type"], "FeatureCollection");
            assert_eq!(list.body["numberReturned"], 1);
            assert_eq!(list.body["links"][0]["rel"], "self");

            let deleted = call(&app, Method::DELETE, location, None, &[]).await;
            assert_eq!(deleted.status, StatusCode::NO_CONTENT);
            assert_not_found(&get(&app, location).await);
        }
    }
}

/// Missing `field` in a problem renders as JSON null; `assert_problem` with
/// an empty field name would not match it, so not-found checks use this.
#[track_caller]
pub(crate) fn assert_not_found(r: &Reply) {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
}

on_both_backends! {
    async fn bad_feature_bodies_are_refused_naming_the_field_and_write_nothing(store) {
        let app = app(store).await;
        let now = Utc::now();
        let raw = |text: &str| text.to_owned();
        let cases: Vec<(String, StatusCode, &str)> = vec![
            (raw("{\"type\": \"Feature\", "), StatusCode::BAD_REQUEST, "body"),
            (raw("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[NaN,58.4]},\"properties\":{}}"), StatusCode::BAD_REQUEST, "body"),
            (json!({"type": "FeatureCollection", "features": []}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "type"),
            (json!({"type": "Feature", "properties": {}}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "geometry"),
            (point(58.41, 15.62, json!({"category": "theft", "occurred_at": now})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "geometry.coordinates"),
            (point(18.07, 59.33, json!({"category": "theft", "occurred_at": now})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "geometry.coordinates"),
            (point(15.62, 98.0, json!({"category": "theft", "occurred_at": now})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "geometry.coordinates[1]"),
            (point(15.62, 58.41, json!({"category": "jaywalking", "occurred_at": now})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "properties.category"),
            (point(15.62, 58.41, json!({"category": "theft", "occurred_at": now, "officer": "Svensson"})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "properties.officer"),
            (point(15.62, 58.41, json!({"category": "theft"})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "properties.occurred_at"),
            (point(15.62, 58.41, json!({"category": "theft", "occurred_at": now + Duration::days(2)})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "properties.occurred_at"),
            (point(15.62, 58.41, json!({"category": "theft", "occurred_at": now, "occurred_until": now - Duration::days(1)})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "properties.occurred_until"),
            (feature(json!({"type": "LineString", "coordinates": [[15.62, 58.41], [15.63, 58.41]]}), json!({"category": "theft", "occurred_at": now})).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "geometry.type"),
            (format!("{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[15.62,58.41]}},\"properties\":{{\"category\":\"theft\",\"occurred_at\":\"{}\",\"source_type\":\"{}\"}}}}", now.to_rfc3339(), "x".repeat(70_000)), StatusCode::PAYLOAD_TOO_LARGE, "body"),
        ];
        for (body, status, field) in cases {
            let r = call(&app, Method::POST, "/api/v1/incidents", Some(body.clone()), &[]).await;
            assert_problem(&r, status, field);
        }
        let presence = point(15.62, 58.41, json!({"unit_type": "police", "started_at": now - Duration::hours(1), "ended_at": now - Duration::hours(2)}));
        assert_problem(&post(&app, "/api/v1/presence", &presence).await, StatusCode::UNPROCESSABLE_ENTITY, "properties.ended_at");
        let wrong_type = call(&app, Method::POST, "/api/v1/incidents", None, &[("content-type", "text/csv")]).await;
        assert_problem(&wrong_type, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
        assert_eq!(count(&app, "incidents").await, 0);
        assert_eq!(count(&app, "presence").await, 0);
    }
}

on_both_backends! {
    async fn bad_query_parameters_are_refused_by_name(store) {
        let app = app(store).await;
        for (uri, field) in [
            ("/api/v1/incidents?bbox=15.6,58.4,15.7", "bbox"),
            ("/api/v1/incidents?bbox=15.7,58.4,15.6,58.5", "bbox"),
            ("/api/v1/incidents?bbox=-180,-90,180,90", "bbox"),
            ("/api/v1/layers/incidents/points?bbox=-180,-90,180,90", "bbox"),
            ("/api/v1/incidents?datetime=2024-05-01/2024-04-01", "datetime"),
            ("/api/v1/incidents?datetime=yesterday", "datetime"),
            ("/api/v1/incidents?category=jaywalking", "category"),
            ("/api/v1/incidents?limit=0", "limit"),
            ("/api/v1/incidents?limit=1000000", "limit"),
            ("/api/v1/incidents?after=nope", "after"),
            ("/api/v1/incidents?colour=red", "colour"),
            ("/api/v1/incidents?f=xml", "f"),
            ("/api/v1/measures?status=forgotten", "status"),
            ("/api/v1/layers/incidents/hexagons", "resolution"),
            ("/api/v1/layers/incidents/hexagons?resolution=12", "resolution"),
            ("/api/v1/layers/incidents/hexagons?resolution=4", "resolution"),
            ("/api/v1/layers/presence/hexagons?resolution=9&datetime=2025-02-01/2025-01-01", "datetime"),
            ("/api/v1/layers/presence/hexagons?resolution=9&category=theft", "category"),
            ("/api/v1/layers/incidents/points?resolution=9", "resolution"),
            ("/api/v1/layers/incidents/points?bbox=15.6,58.4", "bbox"),
            ("/api/v1/layers/reports/points?source=rumour", "source"),
        ] {
            assert_problem(&get(&app, uri).await, StatusCode::BAD_REQUEST, field);
        }
        assert_not_found(&get(&app, "/api/v1/layers/crimes/hexagons?resolution=9").await);
        assert_not_found(&get(&app, "/api/v1/incidents/not-a-uuid").await);
        assert_not_found(&get(&app, "/api/v1/incidents/0190a000-0000-7000-8000-000000000000").await);
        assert_not_found(&get(&app, "/api/v2/incidents").await);
        let r = call(&app, Method::PATCH, "/api/v1/incidents", None, &[]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
        // OGC clients such as GDAL add f=json to every request.
        assert_eq!(get(&app, "/api/v1/incidents?f=json").await.status, StatusCode::OK);
    }
}

on_both_backends! {
    async fn updates_check_versions_transitions_and_existence(store) {
        let app = app(store).await;
        let body = point(15.62, 58.41, json!({"kind": "lighting", "title": "Ny belysning", "status": "done"}));
        let created = post(&app, "/api/v1/measures", &body).await;
        let uri = format!("/api/v1/measures/{}", created.body["id"].as_str().unwrap());
        let back = point(15.62, 58.41, json!({"kind": "lighting", "title": "Ny belysning", "status": "planned"}));
        let stale = call(&app, Method::PUT, &uri, Some(back.to_string()), &[("if-match", "\"9\"")]).await;
        assert_problem(&stale, StatusCode::PRECONDITION_FAILED, "If-Match");
        let bad_etag = call(&app, Method::PUT, &uri, Some(back.to_string()), &[("if-match", "yesterday")]).await;
        assert_problem(&bad_etag, StatusCode::BAD_REQUEST, "If-Match");
        let reopened = call(&app, Method::PUT, &uri, Some(back.to_string()), &[]).await;
        assert_problem(&reopened, StatusCode::UNPROCESSABLE_ENTITY, "properties.status");
        let read = get(&app, &uri).await;
        assert_eq!(read.body["properties"]["version"], 1);
        assert_eq!(read.body["properties"]["status"], "done");
        let missing = call(&app, Method::PUT, "/api/v1/measures/0190a000-0000-7000-8000-000000000000", Some(back.to_string()), &[]).await;
        assert_not_found(&missing);
        assert_not_found(&call(&app, Method::DELETE, "/api/v1/measures/0190a000-0000-7000-8000-000000000000", None, &[]).await);
    }
}

on_both_backends! {
    async fn a_retried_presence_upload_answers_with_the_first_record(store) {
        let app = app(store).await;
        let now = Utc::now();
        let body = point(15.62, 58.41, json!({"unit_type": "night_walkers", "started_at": now - Duration::minutes(14), "ended_at": now, "client_id": "9b2f6c0e-offline-1"}));
        let first = post(&app, "/api/v1/presence", &body).await;
        let again = post(&app, "/api/v1/presence", &body).await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(first.body["id"], again.body["id"]);
        assert_eq!(count(&app, "presence").await, 1);
    }
}

on_both_backends! {
    async fn a_client_id_never_answers_with_another_partners_record(store) {
        let app = app(store).await;
        let now = Utc::now();
        let field = format!("Bearer {}", app.ids.field);
        let other = format!("Bearer {}", app.ids.field_other);
        // A guessable id (the README's example), used by both partners.
        let theirs = point(15.6214, 58.4108, json!({"unit_type": "police", "unit": "Patrull 2310", "note": "kontroll vid torget", "started_at": now - Duration::minutes(30), "ended_at": now - Duration::minutes(18), "client_id": "3f2c-phone-17"}));
        let first = call(&app, Method::POST, "/api/v1/presence", Some(theirs.to_string()), &[("authorization", &other)]).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let mine = point(15.5800, 58.3950, json!({"unit_type": "night_walkers", "started_at": now - Duration::minutes(14), "ended_at": now, "client_id": "3f2c-phone-17"}));
        let r = call(&app, Method::POST, "/api/v1/presence", Some(mine.to_string()), &[("authorization", &field)]).await;
        assert_eq!(r.status, StatusCode::CREATED, "a new record of the caller's own: {}", r.body);
        assert_ne!(r.body["id"], first.body["id"]);
        let text = r.body.to_string();
        assert!(!text.contains("Patrull") && !text.contains("kontroll") && !text.contains("15.6214"), "another partner's log leaked: {text}");
        assert_eq!(r.body["properties"]["organisation_id"], app.ids.municipality.to_string());
        assert_eq!(r.body["properties"]["unit_type"], "night_walkers");
        // Both logs are kept, and a retry by either partner finds its own.
        assert_eq!(count(&app, "presence").await, 2);
        let again = call(&app, Method::POST, "/api/v1/presence", Some(mine.to_string()), &[("authorization", &field)]).await;
        assert_eq!((again.status, &again.body["id"]), (StatusCode::OK, &r.body["id"]));
        let again = call(&app, Method::POST, "/api/v1/presence", Some(theirs.to_string()), &[("authorization", &other)]).await;
        assert_eq!((again.status, &again.body["id"]), (StatusCode::OK, &first.body["id"]));
        assert_eq!(count(&app, "presence").await, 2);
    }
}

on_both_backends! {
    async fn next_links_page_through_a_list(store) {
        let app = app(store).await;
        for i in 0..7 {
            assert_eq!(post(&app, "/api/v1/incidents", &incident_body("drugs", i)).await.status, StatusCode::CREATED);
        }
        let mut uri = "/api/v1/incidents?limit=3&category=drugs".to_owned();
        let mut seen = 0;
        let mut pages = 0;
        loop {
            let r = get(&app, &uri).await;
            pages += 1;
            seen += r.body["features"].as_array().unwrap().len();
            let next = r.body["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").cloned();
            let Some(next) = next else { break };
            let href = next["href"].as_str().unwrap();
            assert!(href.starts_with("http://trygg.test/api/v1/incidents?"), "{href}");
            assert!(href.contains("category=drugs"));
            uri = href.trim_start_matches("http://trygg.test").to_owned();
        }
        assert_eq!((seen, pages), (7, 3));
    }
}

on_both_backends! {
    async fn hexagon_layers_follow_every_write(store) {
        let app = app(store).await;
        let layer = "/api/v1/layers/incidents/hexagons?resolution=9&bbox=15.60,58.40,15.64,58.42";
        assert_eq!(get(&app, layer).await.body["features"].as_array().unwrap().len(), 0);
        let mut ids = Vec::new();
        for category in ["theft", "theft", "robbery"] {
            ids.push(post(&app, "/api/v1/incidents", &incident_body(category, 2)).await.body["id"].as_str().unwrap().to_owned());
        }
        let r = get(&app, layer).await;
        assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/geo+json");
        let features = r.body["features"].as_array().unwrap();
        assert_eq!(features.len(), 1);
        let cell = features[0]["properties"]["h3"].as_str().unwrap();
        assert_eq!(cell.len(), 15, "a hex string, not a number");
        assert_eq!(features[0]["properties"]["count"], 3);
        let robbery = get(&app, &format!("{layer}&category=robbery")).await;
        assert_eq!(robbery.body["features"][0]["properties"]["count"], 1);
        let old = get(&app, &format!("{layer}&datetime=../{}", (Utc::now() - Duration::days(30)).to_rfc3339())).await;
        assert_eq!(old.body["features"].as_array().unwrap().len(), 0);
        call(&app, Method::DELETE, &format!("/api/v1/incidents/{}", ids[0]), None, &[]).await;
        assert_eq!(get(&app, layer).await.body["features"][0]["properties"]["count"], 2);
        for res in 5..=11 {
            let r = get(&app, &format!("/api/v1/layers/incidents/hexagons?resolution={res}")).await;
            assert_eq!(r.body["features"][0]["properties"]["resolution"], res);
        }
    }
}

on_both_backends! {
    async fn point_layers_follow_every_write_and_match_the_list(store) {
        let app = app(store).await;
        let bbox = "bbox=15.60,58.40,15.64,58.42";
        let layer = format!("/api/v1/layers/incidents/points?{bbox}");
        assert_eq!(get(&app, &layer).await.body["numberReturned"], 0);
        let mut ids = Vec::new();
        for (category, days) in [("theft", 1), ("robbery", 3), ("theft", 40)] {
            ids.push(post(&app, "/api/v1/incidents", &incident_body(category, days)).await.body["id"].as_str().unwrap().to_owned());
        }
        post(&app, "/api/v1/incidents", &point(15.70, 58.45, json!({ "category": "theft", "occurred_at": Utc::now() }))).await;
        let r = get(&app, &layer).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/geo+json");
        let features = r.body["features"].as_array().unwrap();
        let got: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
        assert_eq!(got, vec![ids[2].as_str(), ids[1].as_str(), ids[0].as_str()], "oldest first, the far one left out");
        assert_eq!(features[0]["geometry"]["coordinates"], json!([15.6214, 58.4108]));
        assert_eq!(features[1]["properties"]["category"], "robbery");
        let list = get(&app, &format!("/api/v1/incidents?{bbox}&limit=10000")).await;
        assert_eq!(list.body["features"].as_array().unwrap().len(), features.len(), "the index and the store agree");
        let month = format!("{layer}&datetime={}/..&category=theft", (Utc::now() - Duration::days(30)).to_rfc3339());
        assert_eq!(get(&app, &month).await.body["numberReturned"], 1);
        call(&app, Method::DELETE, &format!("/api/v1/incidents/{}", ids[0]), None, &[]).await;
        assert_eq!(get(&app, &layer).await.body["numberReturned"], 2);
    }
}

on_both_backends! {
    async fn presence_layers_count_visits_and_minutes(store) {
        let app = app(store).await;
        let start = Utc::now() - Duration::days(2);
        for minutes in [12, 18] {
            let body = point(15.6214, 58.4108, json!({"unit_type": "police", "started_at": start, "ended_at": start + Duration::minutes(minutes)}));
            post(&app, "/api/v1/presence", &body).await;
        }
        let r = get(&app, "/api/v1/layers/presence/hexagons?resolution=10").await;
        let p = &r.body["features"][0]["properties"];
        assert_eq!(p["visits"], 2);
        assert!((p["minutes"].as_f64().unwrap() - 30.0).abs() < 0.2, "{p}");
        for kind in ["reports", "measures", "places", "areas", "presence"] {
            assert_eq!(get(&app, &format!("/api/v1/layers/{kind}/hexagons?resolution=8")).await.status, StatusCode::OK);
        }
    }
}

/// Every action in the audit log, newest first, read straight from the
/// store (the API's audit export needs an admin session).
pub(crate) async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.store
        .audit_entries(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}
