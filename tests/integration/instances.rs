//! Two server instances on one PostgreSQL database: each one's in-memory
//! index follows the other's writes through LISTEN/NOTIFY.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use trygg_server::{AppState, Settings};
use trygg_tests::{linkoping, point, postgres_store};

use crate::api::{app, call, post};

async fn hexagon_count(router: &axum::Router, token: &str) -> u64 {
    let req = Request::builder()
        .method(Method::GET)
        .uri("/api/v1/layers/incidents/hexagons?resolution=8")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum()
}

/// Polls (never a fixed sleep) until the count is as expected.
async fn eventually(router: &axum::Router, token: &str, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n = hexagon_count(router, token).await;
        if n == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the other instance shows {n}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_second_instance_follows_the_first_ones_writes() {
    let Some((store_a, db)) = postgres_store().await else {
        return;
    };
    let a = app(store_a).await;
    let store_b = trygg_store::connect(&db.url).await.unwrap();
    let b = trygg_server::app(
        AppState::new(store_b, linkoping(), Settings::default())
            .await
            .unwrap(),
    );
    let token = a.ids.planner.clone();
    assert_eq!(hexagon_count(&b, &token).await, 0);
    let created = post(
        &a,
        "/api/v1/incidents",
        &point(
            15.6214,
            58.4108,
            json!({ "category": "theft", "occurred_at": Utc::now() }),
        ),
    )
    .await;
    eventually(&b, &token, 1).await;
    let id = created.body["id"].as_str().unwrap();
    call(
        &a,
        Method::DELETE,
        &format!("/api/v1/incidents/{id}"),
        None,
        &[],
    )
    .await;
    eventually(&b, &token, 0).await;
    let csv = "id,lon,lat,ts,category\n1,15.62,58.41,2026-01-05T20:00:00Z,theft\n2,15.63,58.41,2026-01-05T21:00:00Z,theft\n";
    let imported = call(
        &a,
        Method::POST,
        "/api/v1/import?kind=incidents&format=csv",
        Some(csv.into()),
        &[("content-type", "text/csv")],
    )
    .await;
    assert_eq!(imported.body["inserted"], 2, "{}", imported.body);
    eventually(&b, &token, 2).await;
    db.drop().await;
}
