//! Public reports change status only through moderation, and a write never
//! erases what the writer could not see.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use trygg_tests::{on_both_backends, point};

use crate::api::{app, assert_problem, call, get};

on_both_backends! {
    async fn no_write_but_moderation_approves_a_public_report(store) {
        let app = app(store).await;
        let anon = [("authorization", "")];
        let body = point(15.6214, 58.4108, json!({ "reasons": ["lighting"], "comment": "Mörkt", "contact": "070-000 00 00", "respondent": { "gender": "woman", "age_band": "25-44" } }));
        let sent = call(&app, Method::POST, "/api/v1/public/reports", Some(body.to_string()), &anon).await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
        let uri = format!("/api/v1/reports/{}", sent.body["id"].as_str().unwrap());
        for who in [&app.ids.field, &app.ids.planner, &app.ids.admin] {
            let auth = format!("Bearer {who}");
            // Each writer edits the copy they were given and approves it.
            let mut seen = call(&app, Method::GET, &uri, None, &[("authorization", &auth)]).await.body;
            seen["properties"]["status"] = json!("approved");
            let put = call(&app, Method::PUT, &uri, Some(seen.to_string()), &[("authorization", &auth)]).await;
            assert_problem(&put, StatusCode::UNPROCESSABLE_ENTITY, "properties.status");
        }
        assert_eq!(get(&app, &uri).await.body["properties"]["status"], "pending");
        // Nor can a public report be made by another door, already decided.
        let forged = point(15.62, 58.41, json!({ "reasons": ["people"], "source": "public", "status": "approved", "reported_at": Utc::now() - Duration::days(40) }));
        let field = format!("Bearer {}", app.ids.field);
        let r = call(&app, Method::POST, "/api/v1/reports", Some(forged.to_string()), &[("authorization", &field)]).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "properties.status");
        // A staff report cannot be turned into an approved public one.
        let staff = point(15.62, 58.41, json!({ "reasons": ["people"], "source": "staff", "reported_at": Utc::now() }));
        let made = call(&app, Method::POST, "/api/v1/reports", Some(staff.to_string()), &[("authorization", &field)]).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let mut turned = made.body.clone();
        turned["properties"]["source"] = json!("public");
        let r = call(&app, Method::PUT, &format!("/api/v1/reports/{}", made.body["id"].as_str().unwrap()), Some(turned.to_string()), &[("authorization", &field)]).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "properties.source");
    }
}

on_both_backends! {
    async fn an_edit_keeps_the_fields_its_writer_could_not_see(store) {
        let app = app(store).await;
        let body = point(15.62, 58.41, json!({ "reasons": ["lighting"], "source": "survey", "reported_at": Utc::now(), "respondent": { "gender": "woman" }, "contact": "anna@example.org", "comment": "Mörk gångväg" }));
        let created = call(&app, Method::POST, "/api/v1/reports", Some(body.to_string()), &[]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let uri = format!("/api/v1/reports/{}", created.body["id"].as_str().unwrap());
        // A planner sees neither the group nor the contact, and fixes a typo.
        let planner = format!("Bearer {}", app.ids.planner);
        let mut seen = call(&app, Method::GET, &uri, None, &[("authorization", &planner)]).await.body;
        assert!(seen["properties"].get("respondent").is_none() && seen["properties"].get("contact").is_none());
        seen["properties"]["comment"] = json!("Mörk gångväg vid skolan");
        let put = call(&app, Method::PUT, &uri, Some(seen.to_string()), &[("authorization", &planner)]).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        assert!(put.body["properties"].get("respondent").is_none(), "the answer is redacted too");
        let stored = get(&app, &uri).await.body;
        assert_eq!(stored["properties"]["comment"], "Mörk gångväg vid skolan");
        assert_eq!(stored["properties"]["respondent"]["gender"], "woman", "{stored}");
        assert_eq!(stored["properties"]["contact"], "anna@example.org");
        // Sending a hidden field does not overwrite it either: the writer
        // could not see what they would replace.
        let mut blind = seen.clone();
        blind["properties"]["respondent"] = json!({ "gender": "man" });
        let put = call(&app, Method::PUT, &uri, Some(blind.to_string()), &[("authorization", &planner)]).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        assert_eq!(get(&app, &uri).await.body["properties"]["respondent"]["gender"], "woman");
    }
}
