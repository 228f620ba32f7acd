//! Every layer and analysis answer says the window it used and what it
//! left out: after a police feed import in Motala (every event at a
//! municipality or county midpoint) the maps are nearly empty, and each
//! answer says how many incidents it could not place.

use axum::http::StatusCode;
use serde_json::{Value, json};
use trygg_cli::transfer::import;
use trygg_core::Kind;
use trygg_core::attrs::Attributes;
use trygg_core::time::TimeWindow;
use trygg_tests::on_both_backends;

use crate::api::{get, post};
use crate::service_area::{args, feed, stored_incidents};

/// Stand-in positions (the feed's municipality and county midpoints)
/// stored whose time meets `window`.
pub(crate) async fn coarse_in(store: &dyn trygg_store::Store, window: TimeWindow) -> u64 {
    let mut n = 0;
    for f in stored_incidents(store).await {
        let Attributes::Incident(i) = &f.attributes else {
            panic!()
        };
        if i.precision_m < trygg_core::polisen::MUNICIPALITY_PRECISION_M {
            continue;
        }
        let start = i.occurred_at.timestamp_millis();
        let end = i.occurred_until.map_or(start, |u| u.timestamp_millis());
        if window.overlaps(start, Some(end)) {
            n += 1;
        }
    }
    n
}

pub(crate) fn omitted(body: &Value, reason: &str) -> u64 {
    body["omitted"][reason]
        .as_u64()
        .unwrap_or_else(|| panic!("no omitted.{reason} in {}", body["omitted"]))
}

on_both_backends! {
    async fn every_layer_and_analysis_says_its_window_and_the_incidents_it_cannot_place(store) {
        let area = trygg_cli::data::service_area("Motala").unwrap();
        let said = import(store.as_ref(), &area, args(&feed())).await.unwrap();
        assert!(said.contains("0 rejected"), "{said}");
        let app = crate::api::app_in(store, area).await;
        app.layers.reload(app.store.as_ref(), Kind::Incident).await.unwrap();
        // One precise incident in Motala's centre: the only one a map shows.
        let r = post(&app, "/api/v1/incidents", &trygg_tests::point(15.0364, 58.5378, json!({ "category": "theft", "occurred_at": "2024-03-10T12:00:00Z" }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        let interval = "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z";
        let window = TimeWindow::parse(interval, "datetime").unwrap();
        let coarse = coarse_in(app.store.as_ref(), window).await;
        assert!(coarse > 10, "{coarse}");

        let r = get(&app, &format!("/api/v1/layers/incidents/hexagons?resolution=9&datetime={interval}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["datetime"], interval);
        assert_eq!(r.body["omitted"], json!({ "coarse_position": coarse }));
        assert_eq!(r.body["features"].as_array().unwrap().len(), 1);
        // A box far from every stand-in position leaves them out all the same.
        let r = get(&app, &format!("/api/v1/layers/incidents/hexagons?resolution=9&bbox=15.03,58.53,15.04,58.54&datetime={interval}")).await;
        assert_eq!(omitted(&r.body, "coarse_position"), coarse);
        // Filters apply to what is left out as to what is shown.
        let r = get(&app, &format!("/api/v1/layers/incidents/hexagons?resolution=9&category=theft&datetime={interval}")).await;
        assert!(omitted(&r.body, "coarse_position") < coarse, "{}", r.body["omitted"]);

        let r = get(&app, &format!("/api/v1/layers/incidents/points?bbox=14.8,58.3,15.5,58.8&datetime={interval}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["datetime"], interval);
        assert_eq!(r.body["omitted"], json!({ "coarse_position": coarse, "not_a_point": 0 }));

        let r = get(&app, &format!("/api/v1/analysis/picture?resolution=9&datetime={interval}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["datetime"], interval);
        assert_eq!(omitted(&r.body, "coarse_position"), coarse);
        assert_eq!(r.body["municipalities"][0]["incidents_without_position"], coarse as f64);

        let r = get(&app, &format!("/api/v1/analysis/hotspots?resolution=9&datetime={interval}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["datetime"], interval);
        assert_eq!(r.body["omitted"], json!({ "coarse_position": coarse, "outside_study_area": 0 }));

        // Without a datetime the analyses say the default they used: the
        // twelve months up to now.
        let r = get(&app, "/api/v1/analysis/hotspots?resolution=9").await;
        let used = TimeWindow::parse(r.body["datetime"].as_str().unwrap(), "datetime").unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - used.end).abs() < 3_600_000 && used.end - used.start == 365 * 86_400_000, "{}", r.body["datetime"]);

        // The public map: one closed month in local time, stand-ins counted
        // as a monthly total only.
        let r = get(&app, "/api/v1/public/layers/incidents/hexagons?period=2024-03").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["datetime"], "2024-02-29T23:00:00Z/2024-03-31T21:59:59.999Z");
        let march = TimeWindow::parse(r.body["datetime"].as_str().unwrap(), "datetime").unwrap();
        assert_eq!(omitted(&r.body, "coarse_position"), coarse_in(app.store.as_ref(), march).await);
        assert_eq!(r.body["omitted"].as_object().unwrap().len(), 1, "nothing about suppressed hexagons: {}", r.body["omitted"]);
    }
}
