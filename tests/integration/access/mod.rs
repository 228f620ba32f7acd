//! Who may do what, and what the public can never see: the role matrix
//! over every route, sessions and CSRF, login back-off, tokens, the audit
//! log, presence visibility between partners, and the public API's
//! privacy guarantees. Each case runs on SQLite and PostgreSQL.

use axum::http::{Method, StatusCode, header};
use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use trygg_server::auth::policy;
use trygg_tests::{PLANNER_PASSWORD, on_both_backends, point};

use crate::api::{TestApp, app, assert_problem, call, get, post};

mod login;
mod moderation;
mod partners;
mod second_factor;

const FALLBACK: &str = "no such resource; the API lives under /api/v1/";

/// The identities of the matrix, by name.
fn token<'a>(app: &'a TestApp, who: &str) -> Option<&'a str> {
    let ids = &app.ids;
    match who {
        "anonymous" => None,
        "admin" => Some(&ids.admin),
        "planner" => Some(&ids.planner),
        "publisher" => Some(&ids.publisher),
        "field" => Some(&ids.field),
        "reader" => Some(&ids.reader),
        other => unreachable!("{other}"),
    }
}

/// The expected answer, written out by hand from the roles in DESIGN.md
/// and the issue — independent of the policy table it checks.
fn allowed(method: &Method, path: &str, who: &str) -> bool {
    let collection = |names: &[&str]| {
        names
            .iter()
            .any(|n| path.starts_with(&format!("/api/v1/{n}")))
    };
    let write = *method != Method::GET;
    if path.starts_with("/api/v1/public/") || path == "/api/v1/auth/login" {
        return true;
    }
    if who == "anonymous" {
        return false;
    }
    // Every identity here calls with an API token. Accounts, tokens, the
    // audit log, moderation and publishing take a person at a browser.
    if path.starts_with("/api/v1/auth/tokens")
        || path.starts_with("/api/v1/auth/second-factor")
        || path.starts_with("/api/v1/admin/")
        || path.ends_with("/moderation")
        || path.ends_with("/publish")
    {
        return false;
    }
    if path.starts_with("/api/v1/auth/") || path.starts_with("/api/v1/layers/") {
        return true;
    }
    if !write {
        return true;
    }
    if who == "reader" {
        return false;
    }
    if *method == Method::DELETE {
        return matches!(who, "admin" | "planner" | "publisher");
    }
    if collection(&["presence", "measures", "reports"]) {
        return true;
    }
    matches!(who, "admin" | "planner" | "publisher")
}

on_both_backends! {
    async fn every_route_answers_every_role_as_expected(store) {
        let app = app(store).await;
        let id = "0190a000-0000-7000-8000-000000000000";
        let mut checked = 0;
        for (method, template, _) in policy::routes() {
            let path = template.replace("{id}", id).replace("{kind}", "incidents");
            for who in ["anonymous", "admin", "planner", "publisher", "field", "reader"] {
                let auth = token(&app, who).map(|t| format!("Bearer {t}")).unwrap_or_default();
                let body = (method != Method::GET && method != Method::DELETE).then(|| "{}".to_owned());
                let r = call(&app, method.clone(), &path, body, &[("authorization", &auth)]).await;
                let expected = allowed(&method, &path, who);
                let refused = matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
                assert_eq!(!refused, expected, "{method} {path} as {who}: {} {}", r.status, r.body);
                if refused {
                    let want = if who == "anonymous" { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
                    assert_eq!(r.status, want, "{method} {path} as {who}");
                    assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
                } else {
                    assert_ne!(r.body["detail"], FALLBACK, "{method} {path} is in the policy but not routed");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, policy::routes().len() * 6);
    }
}

/// A logged-in browser: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    fn headers(&self) -> [(&str, &str); 3] {
        [
            ("authorization", ""),
            ("cookie", self.cookie.as_str()),
            ("x-csrf-token", self.csrf.as_str()),
        ]
    }
}

/// Every test user shares the planner's password (see `api::login_as`).
async fn session(app: &TestApp, username: &str) -> Session {
    session_of(&crate::api::login_as(app, username).await)
}

/// The cookie and CSRF token a successful login answered.
fn session_of(r: &crate::api::Reply) -> Session {
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
    Session {
        cookie,
        csrf: r.body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

on_both_backends! {
    async fn admins_manage_users_and_the_audit_log_from_a_session(store) {
        let app = app(store).await;
        let admin = session(&app, "admin").await;
        let body = json!({ "username": "nils.nattvandrare", "role": "field", "organisation": "Polisen Linköping", "password": "ett långt lösenord här" }).to_string();
        let created = call(&app, Method::POST, "/api/v1/admin/users", Some(body), &admin.headers()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["organisation"], "Polisen Linköping");
        let short = json!({ "username": "kort", "role": "field", "organisation": "Polisen Linköping", "password": "kort" }).to_string();
        assert_problem(&call(&app, Method::POST, "/api/v1/admin/users", Some(short), &admin.headers()).await, StatusCode::UNPROCESSABLE_ENTITY, "password");
        let id = created.body["id"].as_str().unwrap();
        let disable = json!({ "disabled": true }).to_string();
        let changed = call(&app, Method::PUT, &format!("/api/v1/admin/users/{id}"), Some(disable), &admin.headers()).await;
        assert_eq!(changed.body["disabled"], true);
        assert_eq!(login(&app, "nils.nattvandrare", "ett långt lösenord här").await.status, StatusCode::UNAUTHORIZED);
        let planner = session(&app, "planner").await;
        assert_eq!(call(&app, Method::GET, "/api/v1/admin/users", None, &planner.headers()).await.status, StatusCode::FORBIDDEN);
        let users = call(&app, Method::GET, "/api/v1/admin/users", None, &admin.headers()).await;
        assert!(!users.body.to_string().contains("argon2"), "password hashes never leave the server");
    }
}

async fn login(app: &TestApp, username: &str, password: &str) -> crate::api::Reply {
    let body = json!({ "username": username, "password": password }).to_string();
    call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        Some(body),
        &[("authorization", "")],
    )
    .await
}

on_both_backends! {
    async fn a_session_needs_its_csrf_token_for_writes_and_ends_at_logout(store) {
        let app = app(store).await;
        let r = login(&app, "planner", PLANNER_PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let set_cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let csrf = r.body["csrf_token"].as_str().unwrap().to_owned();
        let with_cookie = [("authorization", ""), ("cookie", cookie.as_str())];
        let session = call(&app, Method::GET, "/api/v1/auth/session", None, &with_cookie).await;
        assert_eq!(session.body["user"]["username"], "planner");
        assert_eq!(session.body["csrf_token"], csrf.as_str());

        let incident = point(15.62, 58.41, json!({ "category": "theft", "occurred_at": Utc::now() })).to_string();
        let no_csrf = call(&app, Method::POST, "/api/v1/incidents", Some(incident.clone()), &with_cookie).await;
        assert_problem(&no_csrf, StatusCode::FORBIDDEN, "X-CSRF-Token");
        let wrong = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", "c_forged")];
        assert_eq!(call(&app, Method::POST, "/api/v1/incidents", Some(incident.clone()), &wrong).await.status, StatusCode::FORBIDDEN);
        let right = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        let created = call(&app, Method::POST, "/api/v1/incidents", Some(incident), &right).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

        let out = call(&app, Method::POST, "/api/v1/auth/logout", None, &right).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&app, Method::GET, "/api/v1/auth/session", None, &with_cookie).await.status, StatusCode::UNAUTHORIZED);
        // Behind HTTPS the cookie is Secure and host-bound.
        let body = json!({ "username": "planner", "password": PLANNER_PASSWORD }).to_string();
        let https = call(&app, Method::POST, "/api/v1/auth/login", Some(body), &[("authorization", ""), ("x-forwarded-proto", "https")]).await;
        let cookie = https.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cookie.starts_with("__Host-trygg_session=") && cookie.contains("; Secure"), "{cookie}");
    }
}

on_both_backends! {
    async fn a_brute_force_login_is_slowed_and_logged(store) {
        let app = app(store).await;
        // An unknown user is refused the same way as a wrong password.
        assert_eq!(login(&app, "nobody", "whatever password").await.status, StatusCode::UNAUTHORIZED);
        for _ in 0..2 {
            assert_eq!(login(&app, "planner", "wrong password!").await.status, StatusCode::UNAUTHORIZED);
        }
        let throttled = login(&app, "planner", PLANNER_PASSWORD).await;
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        assert!(throttled.headers.get(header::RETRY_AFTER).is_some());
        // Three failures from one address: every login from it waits now.
        assert_eq!(login(&app, "admin", PLANNER_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
        let audit = crate::api::audit_actions(&app).await;
        assert_eq!(audit.iter().filter(|a| *a == "login-failed").count(), 3, "{audit:?}");
        let actions = audit;
        assert!(actions.iter().any(|a| a == "login-throttled"));
    }
}

on_both_backends! {
    async fn tokens_are_shown_once_scoped_and_revocable(store) {
        let app = app(store).await;
        let r = login(&app, "planner", PLANNER_PASSWORD).await;
        let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let csrf = r.body["csrf_token"].as_str().unwrap().to_owned();
        let session = [("authorization", ""), ("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
        let body = json!({ "name": "QGIS-läsning", "scopes": ["read"] }).to_string();
        let created = call(&app, Method::POST, "/api/v1/auth/tokens", Some(body), &session).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let secret = created.body["token"].as_str().unwrap().to_owned();
        let listed = call(&app, Method::GET, "/api/v1/auth/tokens", None, &session).await;
        assert!(!listed.body.to_string().contains(&secret), "the secret is shown only once");
        let bearer = format!("Bearer {secret}");
        let as_token = [("authorization", bearer.as_str())];
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &as_token).await.status, StatusCode::OK);
        let write = point(15.62, 58.41, json!({ "category": "theft", "occurred_at": Utc::now() })).to_string();
        assert_eq!(call(&app, Method::POST, "/api/v1/incidents", Some(write), &as_token).await.status, StatusCode::FORBIDDEN);
        let listed = call(&app, Method::GET, "/api/v1/auth/tokens", None, &session).await;
        let entry = listed.body["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "QGIS-läsning").unwrap().clone();
        assert!(entry["last_used_at"].is_string(), "{entry}");
        let id = entry["id"].as_str().unwrap();
        let revoked = call(&app, Method::DELETE, &format!("/api/v1/auth/tokens/{id}"), None, &session).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &as_token).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", "Bearer trygg_forged")]).await.status, StatusCode::UNAUTHORIZED);
    }
}

on_both_backends! {
    async fn every_write_is_in_the_audit_log_with_before_and_after(store) {
        let app = app(store).await;
        let body = point(15.62, 58.41, json!({ "kind": "lighting", "title": "Belysning", "status": "planned" }));
        let planner = format!("Bearer {}", app.ids.planner);
        let created = call(&app, Method::POST, "/api/v1/measures", Some(body.to_string()), &[("authorization", &planner)]).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let mut done = created.body.clone();
        done["properties"]["status"] = json!("done");
        let put = call(&app, Method::PUT, &format!("/api/v1/measures/{id}"), Some(done.to_string()), &[("authorization", &planner)]).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        call(&app, Method::DELETE, &format!("/api/v1/measures/{id}"), None, &[("authorization", &planner)]).await;
        let admin = session(&app, "admin").await;
        let audit = call(&app, Method::GET, "/api/v1/admin/audit", None, &admin.headers()).await;
        let mine: Vec<&Value> = audit.body["entries"].as_array().unwrap().iter().filter(|e| e["feature_id"] == id.as_str()).collect();
        let actions: Vec<&str> = mine.iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, ["delete", "update", "create"]);
        assert!(mine.iter().all(|e| e["username"] == "planner"));
        let update = mine[1];
        assert_eq!(update["before"]["properties"]["status"], "planned");
        assert_eq!(update["after"]["properties"]["status"], "done");
        assert!(mine[0]["after"].is_null() && mine[0]["before"]["properties"]["status"] == "done");
        let csv = call(&app, Method::GET, "/api/v1/admin/audit?format=csv", None, &admin.headers()).await;
        assert!(csv.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/csv"));
        assert!(csv.body.as_str().unwrap().lines().count() >= 4);
    }
}

on_both_backends! {
    async fn field_staff_do_not_see_other_partners_presence(store) {
        let app = app(store).await;
        let start = Utc::now() - Duration::hours(3);
        let body = point(15.6214, 58.4108, json!({ "unit_type": "municipal_staff", "started_at": start, "ended_at": start + Duration::minutes(12) }));
        let field = format!("Bearer {}", app.ids.field);
        let other = format!("Bearer {}", app.ids.field_other);
        let created = call(&app, Method::POST, "/api/v1/presence", Some(body.to_string()), &[("authorization", &field)]).await;
        assert_eq!(created.body["properties"]["organisation_id"], app.ids.municipality.to_string());
        let id = created.body["id"].as_str().unwrap();
        let count = |r: &crate::api::Reply| r.body["features"].as_array().map_or(0, Vec::len);
        assert_eq!(count(&call(&app, Method::GET, "/api/v1/presence", None, &[("authorization", &field)]).await), 1);
        assert_eq!(count(&call(&app, Method::GET, "/api/v1/presence", None, &[("authorization", &other)]).await), 0);
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/presence/{id}"), None, &[("authorization", &other)]).await.status, StatusCode::NOT_FOUND);
        let layer = "/api/v1/layers/presence/hexagons?resolution=9";
        assert_eq!(count(&call(&app, Method::GET, layer, None, &[("authorization", &other)]).await), 0);
        assert_eq!(count(&get(&app, layer).await), 1, "planners and admins see every partner");
        let points = "/api/v1/layers/presence/points";
        assert_eq!(count(&call(&app, Method::GET, points, None, &[("authorization", &other)]).await), 0);
        assert_eq!(count(&call(&app, Method::GET, points, None, &[("authorization", &field)]).await), 1);
        assert_eq!(count(&get(&app, points).await), 1);
    }
}

on_both_backends! {
    async fn respondent_groups_and_contacts_are_shown_only_to_those_who_need_them(store) {
        let app = app(store).await;
        let body = point(15.62, 58.41, json!({ "reasons": ["lighting"], "source": "survey", "reported_at": Utc::now(), "respondent": { "gender": "woman" }, "contact": "anna@example.org" }));
        let created = post(&app, "/api/v1/reports", &body).await;
        let uri = format!("/api/v1/reports/{}", created.body["id"].as_str().unwrap());
        let as_ = async |t: &str| call(&app, Method::GET, &uri, None, &[("authorization", &format!("Bearer {t}"))]).await.body["properties"].clone();
        let admin = as_(&app.ids.admin).await;
        assert_eq!(admin["respondent"]["gender"], "woman");
        let planner = as_(&app.ids.planner).await;
        assert!(planner.get("respondent").is_none() && planner.get("contact").is_none(), "{planner}");
        let publisher = as_(&app.ids.publisher).await;
        assert!(publisher.get("respondent").is_none());
        assert_eq!(publisher["contact"], "anna@example.org");
    }
}

/// A moment in the middle of last month, the latest closed period.
fn last_month(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    let (y, m) = if now.month() == 1 {
        (now.year() - 1, 12)
    } else {
        (now.year(), now.month() - 1)
    };
    Utc.with_ymd_and_hms(y, m, day, hour, 0, 0).unwrap()
}

fn incident_at(lon: f64, lat: f64, t: chrono::DateTime<Utc>) -> Value {
    point(
        lon,
        lat,
        json!({ "category": "vandalism", "occurred_at": t }),
    )
}

/// Every coordinate pair in a JSON document.
fn positions(v: &Value, out: &mut Vec<(f64, f64)>) {
    match v {
        Value::Array(items) if items.len() >= 2 && items.iter().all(Value::is_number) => {
            out.push((items[0].as_f64().unwrap(), items[1].as_f64().unwrap()));
        }
        Value::Array(items) => items.iter().for_each(|i| positions(i, out)),
        Value::Object(m) => m.values().for_each(|i| positions(i, out)),
        _ => {}
    }
}

on_both_backends! {
    async fn the_public_never_sees_a_small_cell_an_exact_point_or_free_text(store) {
        let app = app(store).await;
        // Three clusters last month: 3, 6 and 7 incidents (k = 5).
        let clusters = [((15.5800, 58.3950), 3), ((15.6214, 58.4108), 6), ((15.6600, 58.4300), 7)];
        let mut exact = Vec::new();
        for ((lon, lat), n) in clusters {
            for i in 0..n {
                let (x, y) = (lon + f64::from(i) * 0.0003, lat);
                exact.push((x, y));
                post(&app, "/api/v1/incidents", &incident_at(x, y, last_month(10, 20))).await;
            }
        }
        let anon = [("authorization", "")];
        let r = call(&app, Method::GET, "/api/v1/public/layers/incidents/hexagons", None, &anon).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let cells = r.body["features"].as_array().unwrap();
        let counts: Vec<u64> = cells.iter().map(|c| c["properties"]["count"].as_u64().unwrap()).collect();
        // The cell of 3 is under k; then the 6 must go too, or the total
        // (16) minus what is shown (13) would reveal the hidden 3.
        assert_eq!(counts, [7], "{}", r.body);
        let published: u64 = counts.iter().sum();
        let hidden = 16 - published;
        assert!(hidden == 0 || hidden >= 5);
        let mut seen = Vec::new();
        positions(&r.body, &mut seen);
        for (x, y) in &exact {
            assert!(!seen.iter().any(|(a, b)| (a - x).abs() < 1e-6 && (b - y).abs() < 1e-6), "exact point {x},{y} published");
        }
        assert_eq!(r.body["k"], 5);
        assert!(r.headers.get(header::ETAG).is_some());
        assert_eq!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
        assert!(r.headers.get(header::CACHE_CONTROL).unwrap().to_str().unwrap().contains("public"));
        let etag = r.headers.get(header::ETAG).unwrap().to_str().unwrap().to_owned();
        let again = call(&app, Method::GET, "/api/v1/public/layers/incidents/hexagons", None, &[("authorization", ""), ("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        let zipped = call(&app, Method::GET, "/api/v1/public/layers/incidents/hexagons", None, &[("authorization", ""), ("accept-encoding", "gzip")]).await;
        assert_eq!(zipped.headers.get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(zipped.headers.get(header::ETAG).unwrap().to_str().unwrap(), etag);
        assert_eq!(zipped.body, r.body, "the gzip copy is the same answer");
        // The answer is kept between requests, but never past a write.
        for i in 0..2 {
            post(&app, "/api/v1/incidents", &incident_at(15.5800 + f64::from(3 + i) * 0.0003, 58.3950, last_month(10, 20))).await;
        }
        let changed = call(&app, Method::GET, "/api/v1/public/layers/incidents/hexagons", None, &[("authorization", ""), ("if-none-match", &etag)]).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_ne!(changed.headers.get(header::ETAG).unwrap().to_str().unwrap(), etag);
        // The month was closed when first shown: its layer is frozen. Live,
        // the hidden 3 would now be a 5 and show where the late records
        // are; frozen, only their number for the whole area shows.
        let now: Vec<u64> = changed.body["features"].as_array().unwrap().iter().map(|c| c["properties"]["count"].as_u64().unwrap()).collect();
        assert_eq!(now, [7], "{}", changed.body);
        assert_eq!(changed.body["corrections"]["events_since_frozen"], 2, "{}", changed.body);
        assert!(changed.body["frozen_at"].is_string());
        // Only the policy's resolution, never a finer one.
        let fine = call(&app, Method::GET, "/api/v1/public/layers/incidents/hexagons?resolution=10", None, &anon).await;
        assert_problem(&fine, StatusCode::BAD_REQUEST, "resolution");
        // Places are not public: they show where patrols are sent.
        assert_eq!(call(&app, Method::GET, "/api/v1/public/layers/places/hexagons", None, &anon).await.status, StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn todays_presence_is_never_public(store) {
        let app = app(store).await;
        let now = Utc::now();
        for i in 0..8 {
            let start = now - Duration::hours(2) + Duration::minutes(i);
            let body = point(15.6214, 58.4108, json!({ "unit_type": "police", "unit": "Patrull 2310", "started_at": start, "ended_at": start + Duration::minutes(12), "note": "kontroll vid torget" }));
            post(&app, "/api/v1/presence", &body).await;
        }
        let anon = [("authorization", "")];
        let r = call(&app, Method::GET, "/api/v1/public/layers/presence/hexagons", None, &anon).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["features"].as_array().unwrap().len(), 0, "last month had none; today is not shown");
        let this_month = format!("{}-{:02}", now.year(), now.month());
        let current = call(&app, Method::GET, &format!("/api/v1/public/layers/presence/hexagons?period={this_month}"), None, &anon).await;
        assert_problem(&current, StatusCode::BAD_REQUEST, "period");
        let text = r.body.to_string();
        assert!(!text.contains("Patrull") && !text.contains("kontroll"), "no free text in public answers");
    }
}

on_both_backends! {
    async fn public_reports_wait_for_moderation_and_count_only_as_aggregates(store) {
        let app = app(store).await;
        let anon = [("authorization", "")];
        let body = point(15.6214, 58.4108, json!({ "reasons": ["lighting"], "time_of_day": "evening", "comment": "Mörkt vid tunneln", "contact": "070-000 00 00" }));
        let r = call(&app, Method::POST, "/api/v1/public/reports", Some(body.to_string()), &anon).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let sneaky = point(15.6214, 58.4108, json!({ "reasons": ["lighting"], "status": "approved" }));
        let refused = call(&app, Method::POST, "/api/v1/public/reports", Some(sneaky.to_string()), &anon).await;
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "properties.status");
        let stored = get(&app, &format!("/api/v1/reports/{id}")).await;
        assert_eq!(stored.body["properties"]["status"], "pending");
        assert_eq!(stored.body["properties"]["source"], "public");
        let planner = session(&app, "planner").await;
        let publisher = session(&app, "publisher").await;
        let decide = |d: &str| json!({ "decision": d, "reason": "Dubblett" }).to_string();
        let uri = format!("/api/v1/reports/{id}/moderation");
        assert_eq!(call(&app, Method::POST, &uri, Some(decide("approve")), &planner.headers()).await.status, StatusCode::FORBIDDEN);
        let no_reason = call(&app, Method::POST, &uri, Some(json!({ "decision": "reject" }).to_string()), &publisher.headers()).await;
        assert_problem(&no_reason, StatusCode::UNPROCESSABLE_ENTITY, "reason");
        let ok = call(&app, Method::POST, &uri, Some(decide("reject")), &publisher.headers()).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.body["properties"]["status"], "rejected");
        assert_eq!(ok.body["properties"]["moderation_note"], "Dubblett");
        let twice = call(&app, Method::POST, &uri, Some(decide("approve")), &publisher.headers()).await;
        assert_problem(&twice, StatusCode::CONFLICT, "decision");
    }
}

on_both_backends! {
    async fn metrics_are_for_admins_and_every_answer_carries_a_request_id(store) {
        let app = app(store).await;
        let r = get(&app, "/api/v1/incidents").await;
        assert!(r.headers.get("x-request-id").is_some_and(|v| v.len() >= 32), "{:?}", r.headers);
        let metrics = get(&app, "/metrics").await;
        assert_eq!(metrics.status, StatusCode::OK);
        let text = metrics.body.as_str().unwrap();
        assert!(text.contains("trygg_http_requests_total{method=\"GET\",route=\"/api/v1/incidents\",status=\"2xx\"} 1"), "{text}");
        assert!(text.contains("trygg_index_features{kind=\"incident\"} 0"));
        assert!(text.contains("trygg_db_pool_connections"));
        let planner = format!("Bearer {}", app.ids.planner);
        assert_eq!(call(&app, Method::GET, "/metrics", None, &[("authorization", &planner)]).await.status, StatusCode::FORBIDDEN);
        assert_eq!(call(&app, Method::GET, "/metrics", None, &[("authorization", "")]).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn only_the_configured_municipal_sites_may_frame_the_embed_page() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let (store, _dir) = trygg_tests::sqlite_store().await;
    let settings = trygg_server::Settings {
        embed_origins: vec!["https://www.linkoping.se".into()],
        ..trygg_server::Settings::default()
    };
    let router = trygg_server::app(
        trygg_server::AppState::new(store, trygg_tests::linkoping(), settings)
            .await
            .unwrap(),
    );
    let csp = |r: &axum::response::Response| {
        r.headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let embed = router
        .clone()
        .oneshot(Request::get("/embed").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(
        csp(&embed).contains("frame-ancestors https://www.linkoping.se"),
        "{}",
        csp(&embed)
    );
    let map = router
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(
        csp(&map).contains("frame-ancestors 'none'"),
        "{}",
        csp(&map)
    );
}
