//! Login and what surrounds it: sizes limited before anything is written,
//! log and audit fields never raw text, a back-off that slows the attacker
//! and not the owner, JSON only, the `__Host-` cookie and HSTS behind
//! HTTPS, request ids, the right-most forwarded address, tokens that
//! expire and stay dead.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use trygg_tests::{PLANNER_PASSWORD, on_both_backends};

use crate::api::{TestApp, app, app_with, assert_problem, audit_actions, call};

/// A login from a client address (the app trusts `X-Forwarded-For`).
async fn login_from(
    app: &TestApp,
    address: &str,
    username: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> crate::api::Reply {
    let body = json!({ "username": username, "password": password }).to_string();
    let mut headers = vec![
        ("authorization", ""),
        ("x-forwarded-for", address),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        Some(body),
        &headers,
    )
    .await
}

fn cookies(r: &crate::api::Reply) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect()
}

async fn audit(app: &TestApp) -> Vec<Value> {
    let entries = app.store.audit_entries(None, 10_000).await.unwrap();
    entries
        .into_iter()
        .map(|e| json!({ "action": e.action, "username": e.username, "after": e.after }))
        .collect()
}

on_both_backends! {
    async fn a_huge_or_forged_username_writes_nothing_but_a_bounded_line(store) {
        let app = app_with(store, |s| s.auth.trust_forwarded = true).await;
        let before = audit(&app).await.len();
        // A username of 40 KB (the tests' body limit is 64 KB; the server's
        // 2 MB): refused before it is read, let alone written.
        let huge = "a".repeat(40_000);
        let r = login_from(&app, "192.0.2.7", &huge, "whatever password", &[]).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        // A long or forged name is a failed login like any other, but what
        // the audit log keeps of it is bounded and on one line.
        let forged = format!("{}\n2026-12-01T00:00:00Z  INFO login succeeded username=admin", "x".repeat(3000));
        let r = login_from(&app, "192.0.2.7", &forged, "whatever password", &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        let written = audit(&app).await;
        let new: Vec<&Value> = written.iter().take(written.len() - before).collect();
        assert_eq!(new.len(), 1, "{new:?}");
        let text = new[0].to_string();
        assert!(text.len() < 600, "the audit row is bounded: {} bytes", text.len());
        assert!(!text.contains("INFO login succeeded") && !text.contains("\\n"), "{text}");
    }
}

on_both_backends! {
    async fn throttled_attempts_are_not_written_one_by_one(store) {
        let app = app_with(store, |s| s.auth.trust_forwarded = true).await;
        for _ in 0..3 {
            assert_eq!(login_from(&app, "192.0.2.8", "planner", "wrong password!", &[]).await.status, StatusCode::UNAUTHORIZED);
        }
        for _ in 0..50 {
            assert_eq!(login_from(&app, "192.0.2.8", "planner", "wrong password!", &[]).await.status, StatusCode::TOO_MANY_REQUESTS);
        }
        let actions = audit_actions(&app).await;
        assert_eq!(actions.iter().filter(|a| *a == "login-failed").count(), 3);
        assert_eq!(actions.iter().filter(|a| *a == "login-throttled").count(), 1, "one row when the back-off starts, not one per attempt: {actions:?}");
    }
}

on_both_backends! {
    async fn the_back_off_slows_the_attacker_not_the_owner(store) {
        let app = app_with(store, |s| s.auth.trust_forwarded = true).await;
        // The owner logs in once from their own browser, which remembers it.
        let first = login_from(&app, "198.51.100.1", "planner", PLANNER_PASSWORD, &[]).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let device = cookies(&first).into_iter().find(|c| c.starts_with("trygg_device=")).expect("a device cookie");
        // Someone else guesses from elsewhere until the account backs off.
        for _ in 0..6 {
            login_from(&app, "203.0.113.9", "planner", "guess guess guess", &[]).await;
        }
        assert_eq!(login_from(&app, "203.0.113.9", "planner", PLANNER_PASSWORD, &[]).await.status, StatusCode::TOO_MANY_REQUESTS, "the guesser's address waits, even with the right password");
        assert_eq!(login_from(&app, "198.51.100.2", "planner", PLANNER_PASSWORD, &[]).await.status, StatusCode::TOO_MANY_REQUESTS, "an unknown device waits for the account");
        let owner = login_from(&app, "198.51.100.1", "planner", PLANNER_PASSWORD, &[("cookie", &device)]).await;
        assert_eq!(owner.status, StatusCode::OK, "the owner's known browser is not kept out: {}", owner.body);
    }
}

on_both_backends! {
    async fn login_takes_only_json(store) {
        let app = app(store).await;
        let body = json!({ "username": "planner", "password": PLANNER_PASSWORD }).to_string();
        for ty in ["", "text/plain", "application/x-www-form-urlencoded"] {
            let r = call(&app, Method::POST, "/api/v1/auth/login", Some(body.clone()), &[("authorization", ""), ("content-type", ty)]).await;
            assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
        }
    }
}

on_both_backends! {
    async fn behind_https_only_the_host_cookie_counts_and_hsts_is_sent(store) {
        let app = app(store).await;
        let https = [("x-forwarded-proto", "https")];
        let r = crate::api::call(&app, Method::POST, "/api/v1/auth/login", Some(json!({ "username": "planner", "password": PLANNER_PASSWORD }).to_string()), &[("authorization", ""), ("x-forwarded-proto", "https")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.get("strict-transport-security").is_some_and(|v| v.to_str().unwrap().contains("max-age=")), "{:?}", r.headers);
        let host = cookies(&r).into_iter().find(|c| c.starts_with("__Host-trygg_session=")).unwrap();
        let secret = host.split_once('=').unwrap().1.to_owned();
        let ok = call(&app, Method::GET, "/api/v1/auth/session", None, &[("authorization", ""), ("x-forwarded-proto", "https"), ("cookie", &host)]).await;
        assert_eq!(ok.status, StatusCode::OK);
        // The same secret under the plain name, as a sibling site could set it.
        let plain = format!("trygg_session={secret}");
        let r = call(&app, Method::GET, "/api/v1/auth/session", None, &[("authorization", ""), ("x-forwarded-proto", "https"), ("cookie", &plain)]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "behind HTTPS the plain cookie is not a session");
        // A planted plain cookie beside the real one is not preferred.
        let both = format!("trygg_session=s_planted; {host}");
        let r = call(&app, Method::GET, "/api/v1/auth/session", None, &[("authorization", ""), ("x-forwarded-proto", "https"), ("cookie", &both)]).await;
        assert_eq!(r.status, StatusCode::OK);
        let plain_http = call(&app, Method::GET, "/healthz", None, &[("authorization", "")]).await;
        assert!(plain_http.headers.get("strict-transport-security").is_none());
        let page = call(&app, Method::GET, "/login", None, &[("authorization", ""), https[0]]).await;
        assert!(page.headers.get("strict-transport-security").is_some(), "pages too");
    }
}

on_both_backends! {
    async fn a_clients_request_id_is_kept_only_when_it_is_a_plain_token(store) {
        let app = app(store).await;
        let kept = call(&app, Method::GET, "/healthz", None, &[("x-request-id", "ab12-CD34_ef.56")]).await;
        assert_eq!(kept.headers.get("x-request-id").unwrap(), "ab12-CD34_ef.56");
        for bad in ["a b", "x\"y", &"z".repeat(200), "=cmd|' /C calc'!A0"] {
            let r = call(&app, Method::GET, "/healthz", None, &[("x-request-id", bad)]).await;
            let id = r.headers.get("x-request-id").unwrap().to_str().unwrap();
            assert_ne!(id, bad);
            assert!(id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{id}");
        }
    }
}

on_both_backends! {
    async fn the_address_is_the_one_the_proxy_appended(store) {
        let app = app_with(store, |s| s.auth.trust_forwarded = true).await;
        // A client that sends its own X-Forwarded-For gets the proxy's entry
        // appended: rotating the first entry must not escape the back-off.
        for i in 0..3 {
            let spoofed = format!("10.0.0.{i}, 192.0.2.44");
            login_from(&app, &spoofed, "nobody", "wrong password!", &[]).await;
        }
        let r = login_from(&app, "10.9.9.9, 192.0.2.44", "planner", PLANNER_PASSWORD, &[]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    }
}

on_both_backends! {
    async fn tokens_expire_and_stay_revoked_when_their_user_is_enabled_again(store) {
        let app = app(store).await;
        let field = format!("Bearer {}", app.ids.field);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", &field)]).await.status, StatusCode::OK);
        let (user, _) = app.store.user_by_username("field").await.unwrap().unwrap();
        let admin = trygg_store::Actor::system("test");
        let off = trygg_store::UserChange { disabled: Some(true), ..Default::default() };
        app.store.change_user(user.id, &off, &admin, chrono::Utc::now()).await.unwrap();
        let on = trygg_store::UserChange { disabled: Some(false), ..Default::default() };
        app.store.change_user(user.id, &on, &admin, chrono::Utc::now()).await.unwrap();
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", &field)]).await.status, StatusCode::UNAUTHORIZED, "disabling revoked the token for good");
        // Every token has an end; one past it is refused.
        let planner = format!("Bearer {}", app.ids.planner);
        let tokens = app.store.tokens(None).await.unwrap();
        assert!(tokens.iter().all(|t| t.expires_at.is_some_and(|e| e > t.created_at)), "{tokens:?}");
        let (planner_user, _) = app.store.user_by_username("planner").await.unwrap().unwrap();
        let (secret, mut record) = trygg_server::auth::mint_token(planner_user.id, "old", vec![trygg_core::access::Scope::Read], 30).unwrap();
        record.created_at -= 40 * 86_400_000;
        record.expires_at = Some(record.created_at + 30 * 86_400_000);
        app.store.create_token(&record, &admin, chrono::Utc::now()).await.unwrap();
        let old = format!("Bearer {secret}");
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", &old)]).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&app, Method::GET, "/api/v1/incidents", None, &[("authorization", &planner)]).await.status, StatusCode::OK);
    }
}
