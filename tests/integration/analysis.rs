//! The situational picture through the API: hot spots, emerging hot spots,
//! the per-cell and per-district picture, dosage with a patrol list,
//! before/after evaluation, and places made from hexagons.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use trygg_core::Kind;
use trygg_store::Actor;
use trygg_tests::{on_both_backends, point, square};

use crate::api::{app, assert_problem, call, get, post};

/// A planted hot spot at Stora torget and scattered background incidents.
async fn plant(app: &crate::api::TestApp) {
    let areas = trygg_core::regso::parse_areas(trygg_cli::data::LINKOPING_REGSO).unwrap();
    app.store
        .import(&areas, &Actor::system("test"), Utc::now())
        .await
        .unwrap();
    app.layers
        .reload(app.store.as_ref(), Kind::Area)
        .await
        .unwrap();
    let now = Utc::now();
    let mut batch = Vec::new();
    for i in 0..40 {
        batch.push((
            15.6214 + f64::from(i % 5) * 0.0002,
            58.4108,
            now - Duration::days(i64::from(i % 50) + 1),
        ));
    }
    for i in 0..30 {
        let f = f64::from(i);
        batch.push((
            15.55 + (f * 0.37).fract() * 0.15,
            58.37 + (f * 0.61).fract() * 0.07,
            now - Duration::days(i64::from(i) * 7 + 1),
        ));
    }
    for (lon, lat, t) in batch {
        post(
            app,
            "/api/v1/incidents",
            &point(lon, lat, json!({ "category": "theft", "occurred_at": t })),
        )
        .await;
    }
}

on_both_backends! {
    async fn the_planted_hot_spot_is_found_with_99_percent_confidence(store) {
        let app = app(store).await;
        plant(&app).await;
        let r = get(&app, "/api/v1/analysis/hotspots?resolution=9").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let features = r.body["features"].as_array().unwrap();
        let top = features.iter().max_by(|a, b| a["properties"]["value"].as_f64().partial_cmp(&b["properties"]["value"].as_f64()).unwrap()).unwrap();
        assert_eq!(top["properties"]["value"], 40.0);
        assert_eq!(top["properties"]["bin_fdr"], 3, "{top}");
        // The study area is the cells whose centres lie in the service area,
        // and the answer says so.
        let area = trygg_core::analytics::hotspots::study_area(&trygg_tests::linkoping().shape, h3o::Resolution::Nine).unwrap();
        assert_eq!(r.body["cells_in_area"], area.len(), "{}", r.body["study_area"]);
        assert!(r.body["study_area"].as_str().unwrap().contains("centres lie in the service area"));
        assert!(features.iter().filter(|f| f["properties"]["bin_fdr"].as_i64() == Some(3)).count() <= 7, "only the spot and its ring");
        let weighted = get(&app, "/api/v1/analysis/hotspots?resolution=9&weights=theft=2").await;
        let top2 = weighted.body["features"].as_array().unwrap().iter().map(|f| f["properties"]["value"].as_f64().unwrap()).fold(0.0, f64::max);
        assert!((top2 - 80.0).abs() < 1e-9);
        assert_problem(&get(&app, "/api/v1/analysis/hotspots?resolution=8").await, StatusCode::BAD_REQUEST, "resolution");
        assert_problem(&get(&app, "/api/v1/analysis/hotspots?weights=theft=x").await, StatusCode::BAD_REQUEST, "weights");
        let emerging = get(&app, "/api/v1/analysis/emerging?resolution=9&months=6").await;
        assert_eq!(emerging.status, StatusCode::OK, "{}", emerging.body);
        assert_eq!(emerging.body["periods"].as_array().unwrap().len(), 6);
        assert_eq!(emerging.body["cells_in_area"], area.len());
    }
}

on_both_backends! {
    async fn an_analysis_is_computed_once_per_data_generation(store) {
        let app = app(store).await;
        plant(&app).await;
        let uri = "/api/v1/analysis/hotspots?resolution=9";
        let first = get(&app, uri).await;
        // On PostgreSQL the notices of the writes above come back a moment
        // later and each makes a new generation: ask until one answer is
        // the kept one (a state, within a bounded number of asks).
        let mut kept = false;
        for _ in 0..20 {
            let computed = app.heavy.computed();
            let again = get(&app, uri).await;
            assert_eq!(again.body, first.body);
            if app.heavy.computed() == computed {
                kept = true;
                break;
            }
        }
        assert!(kept, "the same question at the same generation was never answered from what was kept");
        let computed = app.heavy.computed();
        // Another caller's view is another answer.
        let field = format!("Bearer {}", app.ids.field);
        call(&app, Method::GET, uri, None, &[("authorization", &field)]).await;
        assert_eq!(app.heavy.computed(), computed + 1);
        // A write makes a new generation: never a stale answer.
        post(&app, "/api/v1/incidents", &point(15.6214, 58.4108, json!({ "category": "theft", "occurred_at": Utc::now() - Duration::days(2) }))).await;
        let after = get(&app, uri).await;
        assert_eq!(app.heavy.computed(), computed + 2);
        assert_ne!(after.body, first.body);
        // Too much work is refused before it starts, naming what to change.
        assert_problem(&get(&app, "/api/v1/analysis/hotspots?resolution=10&distance=10").await, StatusCode::BAD_REQUEST, "distance");
    }
}

on_both_backends! {
    async fn the_picture_counts_per_cell_and_per_district(store) {
        let app = app(store).await;
        plant(&app).await;
        let r = get(&app, "/api/v1/analysis/picture?resolution=9").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let total: f64 = r.body["features"].as_array().unwrap().iter().map(|f| f["properties"]["incidents"].as_f64().unwrap()).sum();
        assert!((total - 70.0).abs() < 1e-9, "{total}");
        let centre = r.body["districts"].as_array().unwrap().iter().find(|d| d["incidents"].as_f64().unwrap() >= 40.0).unwrap();
        assert!(centre["district"].as_str().unwrap().len() > 2, "{centre}");
    }
}

on_both_backends! {
    async fn dosage_and_the_patrol_list_follow_presence_at_places(store) {
        let app = app(store).await;
        plant(&app).await;
        let now = Utc::now();
        let place = json!({ "type": "Feature", "geometry": square(15.6214, 58.4108, 120.0), "properties": { "name": "Stora torget", "active_from": now - Duration::days(200), "target_visits_per_week": 7 } });
        let quiet = json!({ "type": "Feature", "geometry": square(15.60, 58.40, 100.0), "properties": { "name": "Lugnt torg", "active_from": now - Duration::days(200) } });
        let created = post(&app, "/api/v1/places", &place).await;
        post(&app, "/api/v1/places", &quiet).await;
        let start = now - Duration::hours(5);
        post(&app, "/api/v1/presence", &point(15.6214, 58.4108, json!({ "unit_type": "police", "started_at": start, "ended_at": start + Duration::minutes(13) }))).await;
        let r = get(&app, "/api/v1/analysis/dosage").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let row = r.body["places"].as_array().unwrap().iter().find(|p| p["name"] == "Stora torget").unwrap().clone();
        assert_eq!(row["visits"], 1);
        assert_eq!(row["koper_share"], 1.0);
        let list = r.body["patrol_list"].as_array().unwrap();
        assert_eq!(list[0]["place_id"], created.body["id"], "the hot place leads the list: {list:?}");
        let id = created.body["id"].as_str().unwrap();
        let eval = get(&app, &format!("/api/v1/analysis/evaluation?place={id}&date={}", (now - Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))).await;
        assert_eq!(eval.status, StatusCode::OK, "{}", eval.body);
        let w = &eval.body["windows"][0];
        assert_eq!(w["months"], 6);
        assert_eq!(w["complete"], false);
        let html = get(&app, &format!("/api/v1/analysis/evaluation?place={id}&format=html")).await;
        assert!(html.body.as_str().unwrap().contains("Skillnad i skillnader"));
        let pdf = get(&app, &format!("/api/v1/analysis/evaluation?place={id}&format=pdf")).await;
        assert_eq!(pdf.status, StatusCode::BAD_REQUEST, "{}", pdf.body);
        assert_eq!(pdf.body["field"], "format");
        assert_eq!(get(&app, "/api/v1/analysis/yearly?format=null").await.status, StatusCode::BAD_REQUEST);
    }
}

on_both_backends! {
    async fn planners_turn_hot_cells_into_a_priority_place(store) {
        let app = app(store).await;
        plant(&app).await;
        let hot = get(&app, "/api/v1/analysis/hotspots?resolution=10").await;
        let cells: Vec<String> = hot.body["features"].as_array().unwrap().iter().filter(|f| f["properties"]["bin_fdr"].as_i64() == Some(3)).map(|f| f["id"].as_str().unwrap().to_owned()).collect();
        assert!(!cells.is_empty());
        let body = json!({ "cells": cells, "properties": { "name": "Torget (från hot spots)", "reason": "Gi* 99 %", "active_from": Utc::now() } });
        let r = call(&app, Method::POST, "/api/v1/places/from-cells", Some(body.to_string()), &[]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(matches!(r.body["geometry"]["type"].as_str(), Some("MultiPolygon" | "Polygon")));
        let bad = call(&app, Method::POST, "/api/v1/places/from-cells", Some(json!({ "cells": ["nope"] }).to_string()), &[]).await;
        assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "cells[0]");
    }
}

on_both_backends! {
    async fn the_yearly_evaluation_gathers_the_year_for_the_board(store) {
        use chrono::Datelike;
        let app = app(store).await;
        plant(&app).await;
        let now = Utc::now();
        let place = json!({ "type": "Feature", "geometry": square(15.6214, 58.4108, 120.0), "properties": { "name": "Stora torget", "active_from": now - Duration::days(40) } });
        post(&app, "/api/v1/places", &place).await;
        let start = now - Duration::days(3);
        post(&app, "/api/v1/presence", &point(15.6214, 58.4108, json!({ "unit_type": "police", "started_at": start, "ended_at": start + Duration::minutes(30) }))).await;
        let m = point(15.6214, 58.4108, json!({ "kind": "lighting", "title": "Ny belysning", "status": "done", "status_date": now - Duration::days(20) }));
        post(&app, "/api/v1/measures", &m).await;
        let year = now.year();
        let r = get(&app, &format!("/api/v1/analysis/yearly?year={year}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["presence_by_month"].as_array().unwrap().len(), 12);
        let hours: f64 = r.body["presence_by_month"].as_array().unwrap().iter().map(|m| m["hours"].as_f64().unwrap()).sum();
        assert!((hours - 0.5).abs() < 0.11, "{hours}");
        assert_eq!(r.body["places"][0]["name"], "Stora torget");
        assert!(!r.body["places"][0]["windows"].as_array().unwrap().is_empty());
        assert_eq!(r.body["measures"][0]["title"], "Ny belysning");
        let html = get(&app, &format!("/api/v1/analysis/yearly?year={year}&format=html")).await;
        let text = html.body.as_str().unwrap();
        assert!(text.contains("Utvärdering av medborgarlöftet") && text.contains("Stora torget") && text.contains("report.css"));
        assert_problem(&get(&app, "/api/v1/analysis/yearly?year=tjugo").await, StatusCode::BAD_REQUEST, "year");
    }
}
