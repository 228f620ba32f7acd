//! Login, logout, the current session, and one's own API tokens.

use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use trygg_core::access::{Principal, Scope, User, Via, check_username, parse_scopes};
use trygg_store::{Actor, SessionRecord, TokenRecord};
use uuid::Uuid;

use crate::auth::{self, Caller, SECURE_SESSION_COOKIE, SESSION_COOKIE, second_factor, secrets};
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/auth/login",
            post(login).layer(DefaultBodyLimit::max(MAX_LOGIN_BYTES)),
        )
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/session", get(session))
        .route("/api/v1/auth/tokens", get(my_tokens).post(create_token))
        .route("/api/v1/auth/tokens/{id}", delete(revoke_my_token))
}

pub(crate) fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.as_str(),
        "can_publish": u.can_publish,
        "organisation_id": u.organisation_id,
        "organisation": u.organisation,
        "disabled": u.disabled,
        "created_at": u.created_at,
    })
}

pub(crate) fn token_json(t: &TokenRecord) -> Value {
    let ms = |v: Option<i64>| v.map(trygg_core::time::from_ms);
    json!({
        "id": t.id,
        "user_id": t.user_id,
        "name": t.name,
        "scopes": t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "created_at": trygg_core::time::from_ms(t.created_at),
        "last_used_at": ms(t.last_used_at),
        "revoked_at": ms(t.revoked_at),
        "expires_at": ms(t.expires_at),
    })
}

fn text_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    body.get(name).and_then(Value::as_str).ok_or_else(|| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            name,
            format!("{name} is required"),
        )
    })
}

/// The largest login request read: a username, a password and a code fit
/// many times over; anything bigger is refused before it is read.
const MAX_LOGIN_BYTES: usize = 16 * 1024;

/// The cookie that marks a browser that has logged in to an account
/// before (`__Host-` behind HTTPS, like the session's).
const DEVICE_COOKIE: &str = "trygg_device";
const SECURE_DEVICE_COOKIE: &str = "__Host-trygg_device";
const DEVICE_DAYS: i64 = 365;

fn device_cookie_name(headers: &HeaderMap) -> &'static str {
    if auth::is_https(headers) {
        SECURE_DEVICE_COOKIE
    } else {
        DEVICE_COOKIE
    }
}

/// Who a login attempt is about, as the log and the audit log say it: a
/// well-formed username as it is, anything else only by its length.
fn attempted(raw: &str, username: &str) -> String {
    if check_username(username).is_ok() {
        username.to_owned()
    } else {
        format!("(not a username, {} characters)", raw.chars().count())
    }
}

/// Checks a password. Failures back off per client address always, and
/// per account only for devices that have not logged in to it before: a
/// stranger guessing the password waits, its owner's browser does not.
/// Refused attempts are written once per wait, and what is written of a
/// client's text is bounded and escaped. Unknown users take as long as
/// wrong passwords.
async fn login(
    State(state): State<AppState>,
    peer: auth::Peer,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let raw_username = text_field(&body, "username")?;
    let password = text_field(&body, "password")?;
    let username = raw_username.trim().to_lowercase();
    let who = attempted(raw_username, &username);
    let address = auth::client_address(&headers, peer, &state.auth.config);
    let well_formed = check_username(&username).is_ok() && password.len() <= 1024;
    let found = if well_formed {
        state.store.user_by_username(&username).await?
    } else {
        None
    };
    let device = auth::cookie(&headers, device_cookie_name(&headers));
    let device_user = match &device {
        Some(secret) => {
            state
                .store
                .known_device(&secrets::token_hash(secret))
                .await?
        }
        None => None,
    };
    let known_device = matches!((device_user, &found), (Some(d), Some((u, _))) if d == u.id);
    let mut keys = vec![format!("addr:{address}")];
    if !known_device && well_formed {
        keys.push(format!("user:{username}"));
    }
    let now = auth::instant();
    throttle(&state, &keys, &who, &address, now).await?;
    // Argon2 is deliberately slow: keep it off the async workers.
    let check_password = password.to_owned();
    let hash = found
        .as_ref()
        .map_or_else(|| secrets::decoy_hash().to_owned(), |(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&check_password, &hash))
        .await
        .unwrap_or(false);
    let user = match found {
        Some((user, _)) if ok && !user.disabled => user,
        _ => return Err(reject_login(&state, &keys, &who, &address, now).await),
    };
    let factor = state
        .store
        .second_factor(user.id)
        .await?
        .filter(trygg_store::SecondFactorRecord::confirmed);
    let needs_enrolment = match &factor {
        Some(factor) => {
            // The password was right; without the code nothing is counted
            // (and nothing reset: the back-off keeps counting wrong codes).
            let typed = body
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            if typed.is_empty() {
                return Err(code_needed(&headers, false));
            }
            if !second_factor::accept_code(&state, &user, factor, typed).await? {
                reject_login(&state, &keys, &who, &address, now).await;
                return Err(code_needed(&headers, true));
            }
            false
        }
        None => state.auth.config.second_factor.requires(&user),
    };

    for k in &keys {
        state.auth.logins.succeeded(k);
    }
    let device = device.filter(|_| known_device);
    start_session(&state, &headers, &user, device, &address, needs_enrolment).await
}

/// The answer to a right password of an account with a second factor,
/// without its code (`wrong`: with a wrong, used or old one).
fn code_needed(headers: &HeaderMap, wrong: bool) -> ApiError {
    let sv = second_factor::swedish(headers);
    let detail = match (wrong, sv) {
        (false, true) => "Skriv koden från din autentiseringsapp (eller en återställningskod).",
        (false, false) => "Enter the code from your authenticator app (or a recovery code).",
        (true, true) => "Koden stämmer inte eller är redan använd.",
        (true, false) => "That code is wrong or already used.",
    };
    ApiError::field(StatusCode::UNAUTHORIZED, "code", detail)
        .with_member("second_factor", json!("code"))
}

/// Refuses an attempt while any of its keys waits, reporting only the
/// first refusal of a wait.
async fn throttle(
    state: &AppState,
    keys: &[String],
    who: &str,
    address: &str,
    now: std::time::Instant,
) -> Result<(), ApiError> {
    let Some(wait) = keys
        .iter()
        .filter_map(|k| state.auth.logins.wait(k, now))
        .max()
    else {
        return Ok(());
    };
    // `refused` on every key (no short-circuit): each notes its wait.
    let first = keys
        .iter()
        .map(|k| state.auth.logins.refused(k))
        .fold(false, |a, b| a | b);
    if first {
        let who = auth::log_text(who, 80);
        tracing::warn!(username = %who, %address, "login attempts throttled");
        state
            .store
            .record(
                &Actor::system(&format!("login:{who}")),
                "login-throttled",
                Some(json!({ "address": address }).to_string()),
                Utc::now(),
            )
            .await?;
    }
    Err(ApiError::retry(
        StatusCode::TOO_MANY_REQUESTS,
        "too many failed logins; wait and try again",
        wait.as_secs().max(1),
    ))
}

/// A new session for a user who has proved who they are, its audit row,
/// and the cookies: the session's, and the device's (`known_device`: the
/// secret of a browser already remembered for this user, kept; otherwise a
/// new one). What every way of logging in ends with.
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    known_device: Option<String>,
    address: &str,
    needs_enrolment: bool,
) -> Result<Response, ApiError> {
    let token = secrets::new_token("s_")
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let csrf = secrets::new_token("c_")
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let created = Utc::now();
    let expires = created + Duration::hours(state.auth.config.session_hours);
    state
        .store
        .create_session(&SessionRecord {
            token_hash: secrets::token_hash(&token),
            user_id: user.id,
            csrf_token: csrf.clone(),
            created_at: created.timestamp_millis(),
            expires_at: expires.timestamp_millis(),
        })
        .await?;
    state
        .store
        .record(
            &Actor::user(user),
            "login",
            Some(json!({ "address": address }).to_string()),
            created,
        )
        .await?;
    let device = match known_device {
        Some(secret) => secret,
        None => secrets::new_token("d_")
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?,
    };
    state
        .store
        .remember_device(&secrets::token_hash(&device), user.id, created)
        .await?;
    let secure = auth::is_https(headers);
    let flags = if secure { "; Secure" } else { "" };
    let session_cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{flags}",
        auth::session_cookie_name(headers),
        state.auth.config.session_hours * 3600,
    );
    let device_cookie = format!(
        "{}={device}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{flags}",
        device_cookie_name(headers),
        DEVICE_DAYS * 86_400,
    );
    let mut body = json!({ "user": user_json(user), "csrf_token": csrf, "expires_at": expires });
    if needs_enrolment {
        // This session may only enrol until it has (see auth::second_factor).
        body["second_factor"] = json!("enrol");
    }
    let mut r = Json(body).into_response();
    for c in [session_cookie, device_cookie] {
        r.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        );
    }
    Ok(r)
}

/// Counts a failed login towards the back-off and writes it to the log
/// and the audit log (`who` is already bounded: see [`attempted`]).
async fn reject_login(
    state: &AppState,
    keys: &[String],
    who: &str,
    address: &str,
    now: std::time::Instant,
) -> ApiError {
    for k in keys {
        state.auth.logins.failed(k, now);
    }
    let who = auth::log_text(who, 80);
    tracing::warn!(username = %who, %address, "failed login");
    let actor = Actor::system(&format!("login:{who}"));
    if let Err(e) = state
        .store
        .record(
            &actor,
            "login-failed",
            Some(json!({ "address": address }).to_string()),
            Utc::now(),
        )
        .await
    {
        return e.into();
    }
    ApiError::new(StatusCode::UNAUTHORIZED, "wrong username or password")
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(cookie) = auth::session_cookie(&headers) {
        state
            .store
            .delete_session(&secrets::token_hash(&cookie))
            .await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for name in [SESSION_COOKIE, SECURE_SESSION_COOKIE] {
        let secure = if name == SECURE_SESSION_COOKIE {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
        )) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

async fn session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let p = caller.principal()?;
    let csrf = match &p.via {
        Via::Session => {
            let cookie = auth::session_cookie(&headers).unwrap_or_default();
            state
                .store
                .session(&secrets::token_hash(&cookie), Utc::now())
                .await?
                .map(|(s, _)| s.csrf_token)
        }
        Via::Token { .. } => None,
    };
    let required = state.auth.config.second_factor.requires(&p.user);
    let enrolled = second_factor::enrolled(&state, &p.user).await?;
    Ok(Json(json!({
        "user": user_json(&p.user),
        "csrf_token": csrf,
        "via": via_name(p),
        "second_factor": { "required": required, "enrolled": enrolled },
    })))
}

fn via_name(p: &Principal) -> &'static str {
    match p.via {
        Via::Session => "session",
        Via::Token { .. } => "token",
    }
}

async fn my_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let p = caller.principal()?;
    let tokens = state.store.tokens(Some(p.user.id)).await?;
    Ok(Json(
        json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }),
    ))
}

/// `expires_in_days` of a token request: a whole number, 90 when absent.
pub(crate) fn token_days(body: &Value) -> Result<u32, ApiError> {
    match body.get("expires_in_days") {
        None | Some(Value::Null) => Ok(auth::TOKEN_DAYS),
        Some(v) => v
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .ok_or_else(|| {
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "expires_in_days",
                    format!("a whole number of days, 1 to {}", auth::MAX_TOKEN_DAYS),
                )
            }),
    }
}

/// Creates a token for a user. The secret is in this answer only.
pub(crate) async fn issue_token(
    state: &AppState,
    actor: &Actor,
    user: &User,
    name: &str,
    scopes: Vec<Scope>,
    days: u32,
) -> Result<(String, TokenRecord), ApiError> {
    let (secret, record) = auth::mint_token(user.id, name, scopes, days)?;
    state.store.create_token(&record, actor, Utc::now()).await?;
    Ok((secret, record))
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let p = caller.principal()?;
    let name = text_field(&body, "name")?;
    let scopes = match body.get("scopes") {
        Some(Value::Array(items)) => {
            let joined = items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",");
            parse_scopes(&joined, "scopes").map_err(ApiError::body)?
        }
        Some(Value::String(s)) => parse_scopes(s, "scopes").map_err(ApiError::body)?,
        _ => {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "scopes",
                "list the scopes: read, write, import",
            ));
        }
    };
    let days = token_days(&body)?;
    let (secret, record) =
        issue_token(&state, &caller.actor(), &p.user, name, scopes, days).await?;
    let mut body = token_json(&record);
    body["token"] = json!(secret);
    body["note"] = json!("this is the only time the token is shown; store it now");
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_my_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let p = caller.principal()?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such token"))?;
    state
        .store
        .revoke_token(id, Some(p.user.id), &caller.actor(), Utc::now())
        .await
        .map_err(|_| ApiError::not_found("no such active token of yours"))?;
    Ok(StatusCode::NO_CONTENT)
}
