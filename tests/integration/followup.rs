//! The monthly follow-up: computed, rendered in every format, published
//! once, frozen, and corrected in the open.

use axum::http::{Method, StatusCode, header};
use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::json;
use trygg_tests::{on_both_backends, point, square};

use crate::api::{TestApp, app, assert_problem, call, get, post};

fn last_month_label() -> (String, chrono::DateTime<Utc>) {
    let now = Utc::now();
    let (y, m) = if now.month() == 1 {
        (now.year() - 1, 12)
    } else {
        (now.year(), now.month() - 1)
    };
    (
        format!("{y}-{m:02}"),
        Utc.with_ymd_and_hms(y, m, 12, 19, 0, 0).unwrap(),
    )
}

async fn publisher_session(app: &TestApp) -> (String, String) {
    let r = crate::api::login_as(app, "publisher").await;
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, r.body["csrf_token"].as_str().unwrap().to_owned())
}

on_both_backends! {
    async fn a_month_is_followed_up_published_once_and_corrected_in_the_open(store) {
        let app = app(store).await;
        let (label, mid) = last_month_label();
        let place = json!({ "type": "Feature", "geometry": square(15.6214, 58.4108, 150.0), "properties": { "name": "Stora torget", "active_from": mid - Duration::days(60), "target_visits_per_week": 2 } });
        assert_eq!(post(&app, "/api/v1/places", &place).await.status, StatusCode::CREATED);
        for i in 0..3 {
            let start = mid + Duration::days(i) ;
            let body = point(15.6214, 58.4108, json!({ "unit_type": "night_walkers", "started_at": start, "ended_at": start + Duration::minutes(12) }));
            post(&app, "/api/v1/presence", &body).await;
        }
        for (cat, when) in [("theft", mid), ("theft", mid), ("robbery", mid), ("theft", mid - Duration::days(365))] {
            post(&app, "/api/v1/incidents", &point(15.62, 58.41, json!({ "category": cat, "occurred_at": when }))).await;
        }
        let m = point(15.62, 58.41, json!({ "kind": "lighting", "title": "Ny belysning", "status": "done", "status_date": mid }));
        post(&app, "/api/v1/measures", &m).await;

        let uri = format!("/api/v1/followup/{label}");
        let r = get(&app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let f = &r.body["figures"];
        assert_eq!(f["incidents"]["total"]["current"], 3);
        assert_eq!(f["incidents"]["by_category"]["theft"]["year_before"], 1);
        assert_eq!(f["measures"]["done"]["lighting"], 1);
        assert!((f["presence"]["hours"].as_f64().unwrap() - 0.6).abs() < 0.01, "{f}");
        let place_figures = f["places"].as_object().unwrap().values().next().unwrap();
        assert_eq!(place_figures["visits"], 3);
        assert!(r.body["published_at"].is_null());

        let csv = get(&app, &format!("{uri}?format=csv")).await;
        assert!(csv.body.as_str().unwrap().contains("incidents_by_category,theft,2,1"), "{}", csv.body);
        let html = get(&app, &format!("{uri}?format=html")).await;
        assert!(html.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(html.body.as_str().unwrap().contains("Stora torget"), "internal page lists places");
        let svg = get(&app, &format!("{uri}?format=svg")).await;
        assert!(svg.body.as_str().unwrap().starts_with("<svg") && svg.body.as_str().unwrap().contains("width=\"1200\""));
        assert_problem(&get(&app, &format!("{uri}?format=pdf")).await, StatusCode::BAD_REQUEST, "format");

        // Publishing takes the publish permission, in a browser session.
        let anon = [("authorization", "")];
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/public/followup/{label}"), None, &anon).await.status, StatusCode::NOT_FOUND);
        let planner = format!("Bearer {}", app.ids.planner);
        let publish = format!("{uri}/publish");
        assert_eq!(call(&app, Method::POST, &publish, None, &[("authorization", &planner)]).await.status, StatusCode::FORBIDDEN);
        let (cookie, csrf) = publisher_session(&app).await;
        let session = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        assert_eq!(call(&app, Method::POST, &publish, None, &session).await.status, StatusCode::CREATED);
        assert_problem(&call(&app, Method::POST, &publish, None, &session).await, StatusCode::CONFLICT, "period");
        let this_month = format!("/api/v1/followup/{}-{:02}/publish", Utc::now().year(), Utc::now().month());
        assert_problem(&call(&app, Method::POST, &this_month, None, &session).await, StatusCode::CONFLICT, "period");

        let public = call(&app, Method::GET, &format!("/api/v1/public/followup/{label}"), None, &anon).await;
        assert_eq!(public.status, StatusCode::OK);
        assert!(public.body["figures"].get("places").is_none(), "per-place dosage is internal");
        assert!(public.body["figures"]["presence"].get("hours_by_organisation").is_none());
        assert_eq!(public.body["figures"]["incidents"]["total"]["current"], 3);
        assert!(public.body["corrections"].as_array().unwrap().is_empty());

        // A late report of the month changes the record, not the published numbers.
        post(&app, "/api/v1/incidents", &point(15.62, 58.41, json!({ "category": "theft", "occurred_at": mid }))).await;
        let later = call(&app, Method::GET, &format!("/api/v1/public/followup/{label}"), None, &anon).await;
        assert_eq!(later.body["figures"]["incidents"]["total"]["current"], 3);
        let fields: Vec<&str> = later.body["corrections"].as_array().unwrap().iter().filter_map(|c| c["field"].as_str()).collect();
        assert!(fields.contains(&"incidents.total.current"), "{fields:?}");
        let internal = get(&app, &uri).await;
        assert_eq!(internal.body["figures"]["incidents"]["total"]["current"], 4);
        assert!(internal.body["published_at"].is_string());

        let list = call(&app, Method::GET, "/api/v1/public/followup", None, &anon).await;
        assert_eq!(list.body["published"][0]["period"], label.as_str());
        let feed = call(&app, Method::GET, "/api/v1/public/followup.atom", None, &anon).await;
        let atom = feed.body.as_str().unwrap();
        assert!(feed.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("application/atom+xml"));
        assert!(atom.contains(&format!("<title>Uppföljning {label}</title>")), "{atom}");
        let page = call(&app, Method::GET, &format!("/api/v1/public/followup/{label}?format=html"), None, &anon).await;
        let text = page.body.as_str().unwrap();
        assert!(!text.contains("Stora torget"), "the public page names no priority place");
        assert!(text.contains("Rättelser sedan publiceringen"));
    }
}

on_both_backends! {
    async fn public_answers_link_to_the_configured_address_and_are_rate_limited(store) {
        let app = crate::api::app_with(store, |s| {
            s.public_url = Some("https://trygg.example.se".into());
            s.auth.trust_forwarded = true;
        })
        .await;
        // What a cache in front keeps must not depend on what a client
        // says the host is.
        let forged = [("authorization", ""), ("host", "evil.example"), ("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "http"), ("x-forwarded-for", "192.0.2.50")];
        let feed = call(&app, Method::GET, "/api/v1/public/followup.atom", None, &forged).await;
        let atom = feed.body.as_str().unwrap().to_owned();
        assert!(atom.contains("<id>https://trygg.example.se/api/v1/public/followup.atom</id>"), "{atom}");
        assert!(!atom.contains("1970-01-01"), "an empty feed is updated when the service started: {atom}");
        let (label, _) = last_month_label();
        let (cookie, csrf) = publisher_session(&app).await;
        let session = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        let published = call(&app, Method::POST, &format!("/api/v1/followup/{label}/publish"), None, &session).await;
        assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
        for path in ["/api/v1/public/followup", "/api/v1/public/followup.atom", "/ogc", "/ogc/collections"] {
            let r = call(&app, Method::GET, path, None, &forged).await;
            let text = r.body.to_string();
            assert!(!text.contains("evil.example"), "{path}: {text}");
            assert!(text.contains("https://trygg.example.se/"), "{path}: {text}");
        }
        let atom = call(&app, Method::GET, "/api/v1/public/followup.atom", None, &forged).await.body.as_str().unwrap().to_owned();
        assert!(atom.contains(&format!("<id>https://trygg.example.se/api/v1/public/followup/{label}</id>")), "{atom}");
        // One address may ask a burst, then waits.
        let mut refused = None;
        for i in 0..700 {
            let r = call(&app, Method::GET, "/api/v1/public/followup", None, &forged).await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                refused = Some(i);
                break;
            }
            assert_eq!(r.status, StatusCode::OK);
        }
        assert!(refused.is_some(), "the public follow-up is not rate limited");
        let other = [("authorization", ""), ("x-forwarded-for", "192.0.2.51")];
        assert_eq!(call(&app, Method::GET, "/api/v1/public/followup", None, &other).await.status, StatusCode::OK);
    }
}

on_both_backends! {
    async fn group_figures_show_only_for_ended_years_and_stay_as_first_shown(store) {
        let app = app(store).await;
        let year = Utc::now().year() - 1;
        let report = |month: u32, gender: &str| {
            let at = Utc.with_ymd_and_hms(year, month, 10, 12, 0, 0).unwrap();
            point(15.62, 58.41, json!({ "reasons": ["lighting"], "source": "survey", "reported_at": at, "respondent": { "gender": gender } }))
        };
        for (month, gender, n) in [(1, "woman", 6), (2, "woman", 6), (3, "man", 6)] {
            for _ in 0..n {
                assert_eq!(post(&app, "/api/v1/reports", &report(month, gender)).await.status, StatusCode::CREATED);
            }
        }
        let shown = get(&app, &format!("/api/v1/followup/{year}")).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        let groups = &shown.body["figures"]["groups"];
        assert_eq!(groups["by_gender"]["woman"]["reports"], 12, "{groups}");
        assert_eq!(groups["by_gender"]["man"]["reports"], 6, "{groups}");
        // Months, quarters and tertials show no split: a quarter minus its
        // months would be a group of its own.
        for period in [format!("{year}-03"), format!("{year}-Q1"), format!("{year}-T1")] {
            let r = get(&app, &format!("/api/v1/followup/{period}")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body["figures"]["groups"].is_null(), "{period}: {}", r.body["figures"]["groups"]);
        }
        // A late report changes the records, never the split shown: the
        // difference would be the late reporter's group.
        assert_eq!(post(&app, "/api/v1/reports", &report(3, "man")).await.status, StatusCode::CREATED);
        let later = get(&app, &format!("/api/v1/followup/{year}")).await;
        assert_eq!(later.body["figures"]["groups"], *groups);
        let yearly = get(&app, &format!("/api/v1/analysis/yearly?year={year}")).await;
        assert_eq!(yearly.body["followup"]["groups"], *groups, "the yearly evaluation shows the same split");
    }
}

on_both_backends! {
    async fn a_past_months_public_measures_keep_their_status_then_and_no_change_is_dated_into_a_published_month(store) {
        let app = app(store).await;
        let (label, mid) = last_month_label();
        let m = point(15.62, 58.41, json!({ "kind": "lighting", "title": "Ny belysning vid tunneln", "responsible_org": "Tekniska förvaltningen, Kalle", "status": "in_progress", "status_date": mid }));
        let created = post(&app, "/api/v1/measures", &m).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let uri = format!("/api/v1/measures/{}", created.body["id"].as_str().unwrap());
        let done = point(15.62, 58.41, json!({ "kind": "lighting", "title": "Ny belysning vid tunneln", "responsible_org": "Tekniska förvaltningen, Kalle", "status": "done" }));
        assert_eq!(call(&app, Method::PUT, &uri, Some(done.to_string()), &[]).await.status, StatusCode::OK);

        let anon = [("authorization", "")];
        let public = call(&app, Method::GET, &format!("/api/v1/public/measures?period={label}"), None, &anon).await;
        assert_eq!(public.status, StatusCode::OK, "{}", public.body);
        let props = &public.body["features"][0]["properties"];
        assert_eq!(props["status"], "in_progress", "the status as the month ended, not today's: {props}");
        assert!(!public.body.to_string().contains("Kalle"), "no free text in public: {}", public.body);

        // Once the month is published, no status change can be dated in it.
        let other = point(15.63, 58.41, json!({ "kind": "cleaning", "title": "Klotter", "status": "planned", "status_date": mid - Duration::days(5) }));
        let other = post(&app, "/api/v1/measures", &other).await;
        let (cookie, csrf) = publisher_session(&app).await;
        let session = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        assert_eq!(call(&app, Method::POST, &format!("/api/v1/followup/{label}/publish"), None, &session).await.status, StatusCode::CREATED);
        let other_uri = format!("/api/v1/measures/{}", other.body["id"].as_str().unwrap());
        let backdated = point(15.63, 58.41, json!({ "kind": "cleaning", "title": "Klotter", "status": "done", "status_date": mid + Duration::days(1) }));
        let refused = call(&app, Method::PUT, &other_uri, Some(backdated.to_string()), &[]).await;
        assert_problem(&refused, StatusCode::CONFLICT, "properties.status_date");
        let created_backdated = post(&app, "/api/v1/measures", &point(15.64, 58.41, json!({ "kind": "cleaning", "title": "Klotter 2", "status": "done", "status_date": mid }))).await;
        assert_problem(&created_backdated, StatusCode::CONFLICT, "properties.status_date");
        // Dated today, the same change is accepted.
        let today = point(15.63, 58.41, json!({ "kind": "cleaning", "title": "Klotter", "status": "done" }));
        assert_eq!(call(&app, Method::PUT, &other_uri, Some(today.to_string()), &[]).await.status, StatusCode::OK);
    }
}
