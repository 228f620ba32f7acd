//! The second factor: who must have one, enrolling from a session, codes
//! and recovery codes at login (each taken once), and the back-off.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use trygg_core::second_factor::{self as factor, Requirement, STEP_SECONDS};
use trygg_tests::{PLANNER_PASSWORD, on_both_backends};

use super::{Session, session_of};
use crate::api::{TestApp, app, app_with, assert_problem, call};

async fn login(
    app: &TestApp,
    username: &str,
    code: Option<&str>,
    extra: &[(&str, &str)],
) -> crate::api::Reply {
    let mut body = json!({ "username": username, "password": PLANNER_PASSWORD });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    let mut headers = vec![("authorization", "")];
    headers.extend_from_slice(extra);
    call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        Some(body.to_string()),
        &headers,
    )
    .await
}

fn with_language<'a>(s: &'a Session, lang: &'a str) -> [(&'a str, &'a str); 4] {
    let [a, b, c] = s.headers();
    [a, b, c, ("accept-language", lang)]
}

/// The code of a secret at `steps` from now.
fn code(secret: &[u8], steps: i64) -> String {
    let now = chrono::Utc::now().timestamp() + steps * i64::try_from(STEP_SECONDS).unwrap();
    factor::code_at(secret, u64::try_from(now).unwrap()).unwrap()
}

fn secret_of(uri: &str) -> Vec<u8> {
    let value = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    factor::secret_from_base32(value).unwrap()
}

on_both_backends! {
    async fn an_admin_without_a_factor_may_only_enrol_and_then_logs_in_with_codes(store) {
        let app = app(store).await;
        let r = login(&app, "admin", None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["second_factor"], "enrol", "the login says what comes next");
        let s = session_of(&r);

        // Every route but enrolment refuses, saying why, in the caller's language.
        let refused = call(&app, Method::GET, "/api/v1/admin/users", None, &s.headers()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
        assert_eq!(refused.body["second_factor"], "enrol");
        assert!(refused.body["detail"].as_str().unwrap().contains("second factor"), "{}", refused.body);
        let sv = call(&app, Method::GET, "/api/v1/incidents", None, &with_language(&s, "sv-SE,en;q=0.5")).await;
        assert_eq!(sv.status, StatusCode::FORBIDDEN);
        assert!(sv.body["detail"].as_str().unwrap().contains("tvåstegsverifiering"), "{}", sv.body);
        let token = json!({ "name": "x", "scopes": ["read"] }).to_string();
        assert_eq!(call(&app, Method::POST, "/api/v1/auth/tokens", Some(token), &s.headers()).await.status, StatusCode::FORBIDDEN, "no token before the factor");
        let me = call(&app, Method::GET, "/api/v1/auth/session", None, &s.headers()).await;
        assert_eq!(me.body["second_factor"], json!({ "required": true, "enrolled": false }));
        // An API token of the same admin is not a login: it is unaffected.
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[]).await.status, StatusCode::OK);

        // Enrol: the URI, the secret for typing, and a QR code drawn here.
        let begun = call(&app, Method::POST, "/api/v1/auth/second-factor", None, &s.headers()).await;
        assert_eq!(begun.status, StatusCode::CREATED, "{}", begun.body);
        let uri = begun.body["otpauth_uri"].as_str().unwrap().to_owned();
        assert!(uri.starts_with("otpauth://totp/Trygg:admin?"), "{uri}");
        let secret = secret_of(&uri);
        assert_eq!(factor::secret_from_base32(begun.body["secret"].as_str().unwrap()).unwrap(), secret);
        assert_eq!(begun.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        let qr = call(&app, Method::GET, "/api/v1/auth/second-factor/qr.svg", None, &s.headers()).await;
        assert_eq!(qr.status, StatusCode::OK);
        assert_eq!(qr.headers.get(header::CONTENT_TYPE).unwrap(), "image/svg+xml");
        let svg = qr.body.as_str().unwrap_or_default();
        assert!(svg.contains("<svg"), "{svg:.200}");

        let wrong = call(&app, Method::POST, "/api/v1/auth/second-factor/confirm", Some(json!({ "code": "000000" }).to_string()), &s.headers()).await;
        assert_problem(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "code");
        let confirm = json!({ "code": code(&secret, 0) }).to_string();
        let done = call(&app, Method::POST, "/api/v1/auth/second-factor/confirm", Some(confirm), &s.headers()).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let recovery: Vec<String> = done.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(recovery.len(), 10);
        assert_eq!(recovery.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        // The same session may do everything now; the QR code is gone.
        assert_eq!(call(&app, Method::GET, "/api/v1/admin/users", None, &s.headers()).await.status, StatusCode::OK);
        assert_eq!(call(&app, Method::GET, "/api/v1/auth/second-factor/qr.svg", None, &s.headers()).await.status, StatusCode::NOT_FOUND);
        let again = call(&app, Method::POST, "/api/v1/auth/second-factor", None, &s.headers()).await;
        assert_problem(&again, StatusCode::CONFLICT, "second_factor");

        // Login asks for the code; a recovery code works once.
        let asked = login(&app, "admin", None, &[]).await;
        assert_problem(&asked, StatusCode::UNAUTHORIZED, "code");
        assert_eq!(asked.body["second_factor"], "code");
        let typed = recovery[3].to_uppercase().replace('-', " ");
        assert_eq!(login(&app, "admin", Some(&typed), &[]).await.status, StatusCode::OK, "a recovery code, typed loosely");
        assert_problem(&login(&app, "admin", Some(&recovery[3]), &[]).await, StatusCode::UNAUTHORIZED, "code");
        // The confirming code took this step: the next one works, once.
        let next = code(&secret, 1);
        assert_eq!(login(&app, "admin", Some(&next), &[]).await.status, StatusCode::OK);
        let status = call(&app, Method::GET, "/api/v1/auth/second-factor", None, &session_of(&login(&app, "admin", Some(&recovery[0]), &[]).await).headers()).await;
        assert_eq!(status.body["recovery_codes_left"], 8);

        // The secret is in no log, listing or audit entry.
        let typed_secret = factor::secret_to_base32(&secret);
        let users = call(&app, Method::GET, "/api/v1/admin/users", None, &s.headers()).await;
        assert!(!users.body.to_string().contains(&typed_secret));
        let audit = call(&app, Method::GET, "/api/v1/admin/audit", None, &s.headers()).await;
        assert_eq!(audit.status, StatusCode::OK);
        let audit = audit.body.to_string();
        assert!(audit.contains("second-factor-enrol") && !audit.contains(&typed_secret), "{audit}");
    }
}

on_both_backends! {
    async fn a_code_is_taken_once_and_wrong_codes_back_off(store) {
        let app = app(store).await;
        let (admin, _) = app.store.user_by_username("admin").await.unwrap().unwrap();
        trygg_tests::enrol_test_factor(app.store.as_ref(), admin.id).await;
        let good = trygg_tests::test_factor_code(app.store.as_ref(), admin.id).await;
        assert_eq!(login(&app, "admin", Some(&good), &[]).await.status, StatusCode::OK);
        let replay = login(&app, "admin", Some(&good), &[]).await;
        assert_problem(&replay, StatusCode::UNAUTHORIZED, "code");
        assert_eq!(login(&app, "admin", Some("123 456"), &[]).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login(&app, "admin", Some("kkkkk-kkkkk"), &[]).await.status, StatusCode::UNAUTHORIZED);
        // Three wrong codes: the back-off holds even the right code back.
        let fresh = trygg_tests::test_factor_code(app.store.as_ref(), admin.id).await;
        let held = login(&app, "admin", Some(&fresh), &[]).await;
        assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
        let audit = crate::api::audit_actions(&app).await;
        assert_eq!(audit.iter().filter(|a| *a == "login-failed").count(), 3, "{audit:?}");
    }
}

on_both_backends! {
    async fn by_default_admins_and_publishers_must_have_a_factor_and_others_may(store) {
        let app = app(store).await;
        // A planner without the publish permission is not asked by default…
        let planner = login(&app, "planner", None, &[]).await;
        assert_eq!(planner.status, StatusCode::OK);
        assert_eq!(planner.body.get("second_factor"), None::<&Value>);
        let s = session_of(&planner);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &s.headers()).await.status, StatusCode::OK);
        // …but may enrol, and is then asked for the code like anyone.
        let begun = call(&app, Method::POST, "/api/v1/auth/second-factor", None, &s.headers()).await;
        let secret = secret_of(begun.body["otpauth_uri"].as_str().unwrap());
        let done = call(&app, Method::POST, "/api/v1/auth/second-factor/confirm", Some(json!({ "code": code(&secret, 0) }).to_string()), &s.headers()).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_problem(&login(&app, "planner", None, &[]).await, StatusCode::UNAUTHORIZED, "code");
        // The publisher (a planner who may publish) must have one.
        let publisher = login(&app, "publisher", None, &[]).await;
        assert_eq!(publisher.body["second_factor"], "enrol");
        let p = session_of(&publisher);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &p.headers()).await.status, StatusCode::FORBIDDEN);
    }
}

on_both_backends! {
    async fn with_all_every_user_must_have_a_factor(store) {
        let all = app_with(store, |s| s.auth.second_factor = Requirement::All).await;
        let field = login(&all, "field", None, &[]).await;
        assert_eq!(field.body["second_factor"], "enrol", "with `all`, field users too");
        assert_eq!(call(&all, Method::GET, "/api/v1/incidents", None, &session_of(&field).headers()).await.status, StatusCode::FORBIDDEN);
    }
}

on_both_backends! {
    async fn with_off_nobody_must_and_admins_are_not_held(store) {
        let off = app_with(store, |s| s.auth.second_factor = Requirement::Off).await;
        let admin = login(&off, "admin", None, &[]).await;
        assert_eq!(admin.body.get("second_factor"), None::<&Value>);
        assert_eq!(call(&off, Method::GET, "/api/v1/admin/users", None, &session_of(&admin).headers()).await.status, StatusCode::OK);
    }
}

on_both_backends! {
    async fn the_store_takes_each_step_and_recovery_code_once_even_at_the_same_moment(store) {
        let app = app(store).await;
        let (admin, _) = app.store.user_by_username("admin").await.unwrap().unwrap();
        let actor = trygg_store::Actor::system("test");
        let now = chrono::Utc::now();
        app.store.begin_second_factor(admin.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", now).await.unwrap();
        assert!(!app.store.take_step(admin.id, 10).await.unwrap(), "no step before confirmation");
        let hashes = vec!["h1".to_owned(), "h2".to_owned()];
        app.store.confirm_second_factor(admin.id, 100, &hashes, &actor, now).await.unwrap();
        let (a, b) = tokio::join!(app.store.take_step(admin.id, 101), app.store.take_step(admin.id, 101));
        assert!(a.unwrap() ^ b.unwrap(), "exactly one of two requests with one code wins");
        assert!(!app.store.take_step(admin.id, 100).await.unwrap(), "an older step");
        let (a, b) = tokio::join!(app.store.use_recovery_code(admin.id, "h1", now), app.store.use_recovery_code(admin.id, "h1", now));
        assert!(a.unwrap() ^ b.unwrap(), "a recovery code works once");
        assert!(!app.store.use_recovery_code(admin.id, "unknown", now).await.unwrap());
        assert_eq!(app.store.recovery_codes_left(admin.id).await.unwrap(), 1);
        assert!(app.store.begin_second_factor(admin.id, "JBSWY3DPEHPK3PXP", now).await.is_err(), "a confirmed factor is reset first");
        let shown = format!("{:?}", app.store.second_factor(admin.id).await.unwrap().unwrap());
        assert!(!shown.contains("JBSWY3DP"), "the secret stays out of debug output: {shown}");
        assert!(app.store.reset_second_factor(admin.id, &actor, now).await.unwrap());
        assert!(app.store.second_factor(admin.id).await.unwrap().is_none());
        assert_eq!(app.store.recovery_codes_left(admin.id).await.unwrap(), 0);
        assert!(!app.store.reset_second_factor(admin.id, &actor, now).await.unwrap());
    }
}
