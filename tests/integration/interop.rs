//! OGC API – Features and the OpenAPI document, in-process on both
//! backends (GDAL itself reads a running server in the CLI's e2e tests).

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use trygg_server::auth::policy;
use trygg_server::routes::openapi::{OTHER_ROUTES, document};
use trygg_tests::{on_both_backends, point};

use crate::api::{app, call, get, post};

on_both_backends! {
    async fn ogc_clients_see_public_collections_anonymously_and_more_with_a_token(store) {
        let app = app(store).await;
        let anon = [("authorization", "")];
        let landing = call(&app, Method::GET, "/ogc?f=json", None, &anon).await;
        assert_eq!(landing.status, StatusCode::OK);
        let rels: Vec<&str> = landing.body["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
        for rel in ["self", "service-desc", "conformance", "data"] {
            assert!(rels.contains(&rel), "{rels:?}");
        }
        let conf = call(&app, Method::GET, "/ogc/conformance", None, &anon).await;
        assert!(conf.body["conformsTo"].to_string().contains("conf/geojson"));
        let ids = |r: &crate::api::Reply| -> Vec<String> {
            r.body["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
        };
        let public = ids(&call(&app, Method::GET, "/ogc/collections", None, &anon).await);
        assert!(public.iter().all(|id| id.starts_with("public-")), "{public:?}");
        assert_eq!(call(&app, Method::GET, "/ogc/collections/incidents/items", None, &anon).await.status, StatusCode::UNAUTHORIZED);
        let all = ids(&get(&app, "/ogc/collections").await);
        assert!(all.contains(&"incidents".to_owned()) && all.contains(&"presence-hexagons".to_owned()), "{all:?}");
        assert_eq!(call(&app, Method::GET, "/ogc/collections?f=html", None, &anon).await.status, StatusCode::BAD_REQUEST);
    }
}

on_both_backends! {
    async fn ogc_items_page_by_next_links_and_read_one_by_one(store) {
        let app = app(store).await;
        for i in 0..5 {
            let body = point(15.60 + f64::from(i) * 0.01, 58.41, json!({ "category": "theft", "occurred_at": Utc::now() - Duration::days(1) }));
            post(&app, "/api/v1/incidents", &body).await;
        }
        let mut uri = "/ogc/collections/incidents/items?limit=2&f=json".to_owned();
        let mut ids = Vec::new();
        loop {
            let r = get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            ids.extend(r.body["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()));
            let Some(next) = r.body["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") else { break };
            uri = next["href"].as_str().unwrap().trim_start_matches("http://trygg.test").to_owned();
        }
        assert_eq!(ids.len(), 5);
        let one = get(&app, &format!("/ogc/collections/incidents/items/{}", ids[0])).await;
        assert_eq!(one.body["id"], ids[0].as_str());
        let hex = get(&app, "/ogc/collections/incidents-hexagons/items?limit=2").await;
        assert_eq!(hex.body["numberMatched"], 5);
        assert_eq!(hex.body["numberReturned"], 2);
        let cell = hex.body["features"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(get(&app, &format!("/ogc/collections/incidents-hexagons/items/{cell}")).await.body["properties"]["h3"], cell.as_str());
        assert_eq!(get(&app, "/ogc/collections/nope/items").await.status, StatusCode::NOT_FOUND);
    }
}

#[test]
fn the_openapi_document_lists_exactly_the_routes() {
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let mut expected: Vec<(String, String)> = policy::routes()
        .into_iter()
        .map(|(m, p, _)| (m.as_str().to_ascii_lowercase(), p))
        .collect();
    expected.extend(
        OTHER_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned())),
    );
    for (m, p) in &expected {
        assert!(
            paths.get(p).and_then(|o| o.get(m)).is_some(),
            "{m} {p} missing from the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|o| o.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "the document lists routes that do not exist"
    );
    assert!(
        !doc.to_string().contains("\"$ref\":\"http"),
        "no remote references"
    );
    if let Ok(dir) = std::env::var("TRYGG_GEOJSON_SAMPLES") {
        let out = std::path::Path::new(&dir).join("../openapi.json");
        std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
}

on_both_backends! {
    async fn every_documented_route_is_served(store) {
        let app = app(store).await;
        let doc = document();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                let uri = path
                    .replace("{id}", "0190a000-0000-7000-8000-000000000000")
                    .replace("{kind}", "incidents")
                    .replace("{feature}", "x")
                    .replace("{code}", "lighting.json")
                    .replace("{period}", "2024-01");
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = (m == Method::POST || m == Method::PUT).then(|| "{}".to_owned());
                let r = call(&app, m, &uri, body, &[]).await;
                assert_ne!(r.body["detail"], "no such resource; the API lives under /api/v1/", "{method} {path} is documented but not routed");
                assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            }
        }
    }
}

/// Every (method, path) the router serves, read from axum's `Debug` of a
/// router (its path table and each path's method router): axum has no
/// other way to list routes. The caller checks the list is not empty, so a
/// change of that format fails loudly instead of passing.
fn routed(router: &axum::Router) -> Vec<(String, String)> {
    let debug = format!("{router:?}");
    let mut paths = std::collections::HashMap::new();
    let mut methods = std::collections::HashMap::new();
    for part in debug.split("RouteId(").skip(1) {
        let Some((id, rest)) = part.split_once(')') else {
            continue;
        };
        if let Some(path) = rest
            .strip_prefix(": \"")
            .and_then(|r| r.split_once('"'))
            .map(|(p, _)| p)
        {
            paths.insert(id.to_owned(), path.to_owned());
        } else if let Some(router) = rest.strip_prefix(": MethodRouter(MethodRouter { ") {
            let fields = router.split("fallback:").next().unwrap_or("");
            let served: Vec<String> = ["get", "delete", "patch", "post", "put"]
                .into_iter()
                .filter(|m| {
                    fields
                        .split(", ")
                        .any(|f| f.starts_with(&format!("{m}: ")) && !f.ends_with(": None"))
                })
                .map(str::to_owned)
                .collect();
            methods.insert(id.to_owned(), served);
        }
    }
    let mut out = Vec::new();
    for (id, path) in paths {
        for m in methods.get(&id).into_iter().flatten() {
            out.push((m.clone(), path.clone()));
        }
    }
    out
}

on_both_backends! {
    async fn every_route_the_router_serves_is_documented(store) {
        let app = app(store).await;
        let doc = document();
        let documented = |m: &str, p: &str| doc["paths"].get(p).and_then(|o| o.get(m)).is_some();
        let routes = routed(&app.router);
        assert!(routes.len() > 50, "could not read the router's routes: {routes:?}");
        let api = ["/api/", "/ogc", "/open311/", "/tiles/", "/healthz", "/readyz", "/metrics", "/openapi.json"];
        let mut missing = Vec::new();
        for (m, p) in &routes {
            // The tile route is matched without its `.mvt`; OGC paths also
            // answer with a trailing slash (the same operation).
            let p = if p == trygg_server::routes::tiles::MATCHED { trygg_server::routes::tiles::PATH } else { p.as_str() };
            let canonical = if p.len() > 1 { p.strip_suffix('/').unwrap_or(p) } else { p };
            if api.iter().any(|a| p.starts_with(a)) && !documented(m, canonical) {
                missing.push(format!("{m} {p}"));
            }
        }
        assert!(missing.is_empty(), "served but not in the OpenAPI document: {missing:?}");
    }
}

on_both_backends! {
    async fn open311_apps_file_requests_into_the_moderation_queue(store) {
        let app = app(store).await;
        let anon = [("authorization", "")];
        let services = call(&app, Method::GET, "/open311/v2/services.json", None, &anon).await;
        let codes: Vec<&str> = services.body.as_array().unwrap().iter().filter_map(|s| s["service_code"].as_str()).collect();
        assert_eq!(codes, ["lighting", "vegetation", "litter", "graffiti"]);
        let form = [("authorization", ""), ("content-type", "application/x-www-form-urlencoded")];
        let body = "service_code=lighting&lat=58.4108&long=15.6214&description=M%C3%B6rk+gr%C3%A4nd&email=anna%40example.org";
        let r = call(&app, Method::POST, "/open311/v2/requests.json", Some(body.into()), &form).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body[0]["service_request_id"].as_str().unwrap().to_owned();
        let stored = get(&app, &format!("/api/v1/reports/{id}")).await;
        assert_eq!(stored.body["properties"]["status"], "pending");
        assert_eq!(stored.body["properties"]["reasons"], json!(["lighting"]));
        assert_eq!(stored.body["properties"]["comment"], "Mörk gränd");
        let status = call(&app, Method::GET, &format!("/open311/v2/requests/{id}.json"), None, &anon).await;
        assert_eq!(status.body[0]["status"], "open");
        assert!(status.body[0].get("lat").is_none() && status.body[0].get("description").is_none(), "no position or text back out");
        let bad = call(&app, Method::POST, "/open311/v2/requests.json", Some("service_code=potholes&lat=58.41&long=15.62".into()), &form).await;
        crate::api::assert_problem(&bad, StatusCode::BAD_REQUEST, "service_code");
        let away = call(&app, Method::POST, "/open311/v2/requests.json", Some("service_code=graffiti&lat=59.33&long=18.07".into()), &form).await;
        crate::api::assert_problem(&away, StatusCode::BAD_REQUEST, "lat, long");
        let listing = call(&app, Method::GET, "/open311/v2/requests.json", None, &anon).await;
        crate::api::assert_problem(&listing, StatusCode::BAD_REQUEST, "service_request_id");
        // Only blank space (U+0085 is blank to Rust's trim) or a name that is not an id is refused, never an empty answer.
        for asked in ["%C2%85", "abc", &format!("{id},nope"), ""] {
            let r = call(&app, Method::GET, &format!("/open311/v2/requests.json?service_request_id={asked}"), None, &anon).await;
            crate::api::assert_problem(&r, StatusCode::BAD_REQUEST, "service_request_id");
        }
        let many = vec![id.clone(); 51].join(",");
        let r = call(&app, Method::GET, &format!("/open311/v2/requests.json?service_request_id={many}"), None, &anon).await;
        crate::api::assert_problem(&r, StatusCode::BAD_REQUEST, "service_request_id");
        let both = call(&app, Method::GET, &format!("/open311/v2/requests.json?service_request_id={id},{id}"), None, &anon).await;
        assert_eq!(both.body.as_array().map(Vec::len), Some(2), "{}", both.body);
        let json_body = json!({ "service_code": "vegetation", "lat": 58.4108, "long": 15.6214 }).to_string();
        let as_json = call(&app, Method::POST, "/open311/v2/requests.json", Some(json_body), &[("authorization", ""), ("content-type", "application/json")]).await;
        assert_eq!(as_json.status, StatusCode::CREATED, "{}", as_json.body);
    }
}
