//! Who is calling, and whether they may: sessions (cookie + CSRF header),
//! API tokens (`Authorization: Bearer`, or as the password of HTTP Basic),
//! and the check of every request against [`policy::rule`], in one
//! middleware.

pub mod credentials;
pub mod policy;
pub mod second_factor;
pub mod secrets;
pub mod throttle;

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use trygg_core::access::{Permission, PresenceVisibility, Principal, Via, View};
use trygg_store::Actor;

use crate::{ApiError, AppState};
use policy::Rule;

/// The cookie name over plain HTTP (development on loopback).
pub const SESSION_COOKIE: &str = "trygg_session";
/// Over HTTPS: the `__Host-` prefix pins the cookie to this host and path.
pub const SECURE_SESSION_COOKIE: &str = "__Host-trygg_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const TOKEN_PREFIX: &str = "trygg_";

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub presence_visibility: PresenceVisibility,
    pub session_hours: i64,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it; otherwise anyone could pick their own address).
    pub trust_forwarded: bool,
    /// Who must have a second factor (`--require-second-factor`).
    pub second_factor: trygg_core::second_factor::Requirement,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            presence_visibility: PresenceVisibility::default(),
            session_hours: 12,
            trust_forwarded: false,
            second_factor: trygg_core::second_factor::Requirement::default(),
        }
    }
}

/// The authenticated caller, if any, as the middleware found it, with the
/// [`View`] every read made for them must pass.
#[derive(Debug, Clone)]
pub struct Caller {
    principal: Option<Principal>,
    view: View,
}

impl Caller {
    /// The caller and what they may read under the configured visibility.
    pub fn new(principal: Option<Principal>, visibility: PresenceVisibility) -> Self {
        let view = principal
            .as_ref()
            .map_or_else(View::anonymous, |p| View::of(p, visibility));
        Self { principal, view }
    }

    pub fn anonymous() -> Self {
        Self {
            principal: None,
            view: View::anonymous(),
        }
    }

    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal.as_ref().ok_or_else(unauthenticated)
    }

    /// The principal, when someone is logged in.
    pub fn who(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// What this caller's reads may see.
    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn actor(&self) -> Actor {
        self.principal
            .as_ref()
            .map_or_else(|| Actor::system("public"), |p| Actor::user(&p.user))
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.principal.as_ref().is_some_and(|pr| pr.allows(p))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::anonymous))
    }
}

pub fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "log in, or send an API token as `Authorization: Bearer …` (or as the password of HTTP Basic)",
    )
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "your role or token does not allow this",
    )
}

/// The TCP peer, when the server runs with connection info (in-process
/// tests do not).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// The client address used for rate limits and the audit of logins. With
/// `--trust-forwarded`, Trygg sits behind exactly one proxy, which appends
/// the address it saw to `X-Forwarded-For`: the right-most entry. Entries
/// to its left are whatever the client sent and prove nothing. Always an
/// IP address or `unknown`, so it is safe to log and to key a map by.
pub fn client_address(headers: &HeaderMap, peer: Peer, config: &AuthConfig) -> String {
    if config.trust_forwarded {
        // Several headers are one list, in order (RFC 9110 §5.3).
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        if let Some(last) = last {
            return last
                .parse::<std::net::IpAddr>()
                .map_or_else(|_| "unknown".to_owned(), |ip| ip.to_string());
        }
    }
    peer.0
        .map_or_else(|| "unknown".to_owned(), |c| c.ip().to_string())
}

/// A cookie's value by name.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The session cookie: behind HTTPS only the `__Host-` one, which no other
/// site or plain-HTTP page can set; over plain HTTP (development) the plain one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, session_cookie_name(headers))
}

pub fn session_cookie_name(headers: &HeaderMap) -> &'static str {
    if is_https(headers) {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Text from a client (a username, a header) as a log or audit field:
/// at most `max` characters, control characters escaped, so that it can
/// neither forge a line nor fill a disk.
pub fn log_text(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).flat_map(char::escape_debug).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Sent with every answer given over HTTPS: browsers then refuse plain
/// HTTP to this host for a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether the client reached us over HTTPS (directly or via a proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        == Some("https")
}

async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Principal, Option<String>)>, ApiError> {
    let now = Utc::now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = credentials::token(value)
            .map_err(|why| ApiError::field(StatusCode::UNAUTHORIZED, "Authorization", why))?;
        let token = token.as_str();
        let (record, user) = state
            .store
            .token(&secrets::token_hash(token), now)
            .await?
            .ok_or_else(|| {
                ApiError::field(
                    StatusCode::UNAUTHORIZED,
                    "Authorization",
                    "unknown, expired or revoked token",
                )
            })?;
        // Last-used time is informative; a failure to record it must not
        // fail the request.
        if record
            .last_used_at
            .is_none_or(|t| now.timestamp_millis() - t > 60_000)
            && let Err(e) = state.store.touch_token(record.id, now).await
        {
            tracing::warn!(error = %e, "could not record token use");
        }
        let via = Via::Token {
            id: record.id,
            scopes: record.scopes,
        };
        return Ok(Some((Principal { user, via }, None)));
    }
    if let Some(cookie) = session_cookie(headers)
        && let Some((session, user)) = state
            .store
            .session(&secrets::token_hash(&cookie), now)
            .await?
    {
        return Ok(Some((
            Principal {
                user,
                via: Via::Session,
            },
            Some(session.csrf_token),
        )));
    }
    Ok(None)
}

/// The middleware: find the caller, check CSRF for cookie writes, check
/// the route's rule, and hand the caller to the handler.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let Some(matched) = matched else {
        // No route matched: the fallback answers 404.
        return next.run(req).await;
    };
    let Some(rule) = policy::rule(req.method(), &matched) else {
        if policy::routes()
            .iter()
            .any(|(_, p, _)| p == policy::table_path(&matched))
        {
            // A known resource asked with a method it does not have: let
            // the router answer 405.
            return next.run(req).await;
        }
        tracing::error!(route = %matched, method = %req.method(), "route without an access rule refused");
        return forbidden().into_response();
    };
    let browser_script = credentials::from_browser_script(req.headers());
    let caller = match resolve(&state, req.headers()).await {
        Ok(c) => c,
        // A public route never fails for credentials it does not need: a
        // GIS client that sends its login with every request still reads
        // the public landing page and layers.
        Err(e) if rule == Rule::Public && e.status == StatusCode::UNAUTHORIZED => None,
        Err(e) => return credentials::challenge(e.into_response(), browser_script),
    };
    if let Some((_, Some(csrf))) = &caller {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !safe && !secrets::same(sent, csrf) {
            return ApiError::field(
                StatusCode::FORBIDDEN,
                "X-CSRF-Token",
                "missing or wrong; send the token from /api/v1/auth/session",
            )
            .into_response();
        }
    }
    let principal = caller.map(|(p, _)| p);
    let allowed = match (rule, &principal) {
        (Rule::Public, _) => true,
        (_, None) => {
            return credentials::challenge(unauthenticated().into_response(), browser_script);
        }
        (Rule::LoggedIn, Some(p)) => !p.user.disabled,
        (Rule::Read, Some(p)) => p.allows(Permission::ReadFeatures(trygg_core::Kind::Area)),
        (Rule::Need(perm), Some(p)) => p.allows(perm),
    };
    if !allowed {
        return forbidden().into_response();
    }
    if rule != Rule::Public
        && let Some(p) = &principal
        && let Err(e) = second_factor::gate(&state, p, req.method(), &matched, req.headers()).await
    {
        return e.into_response();
    }
    req.extensions_mut().insert(Caller::new(
        principal,
        state.auth.config.presence_visibility,
    ));
    credentials::challenge(next.run(req).await, browser_script)
}

/// Time source for throttles; a function so tests read naturally.
pub fn instant() -> Instant {
    Instant::now()
}

/// How long a token lasts unless asked otherwise, and at most.
pub const TOKEN_DAYS: u32 = 90;
pub const MAX_TOKEN_DAYS: u32 = 730;

/// A new API token for a user, valid for `days` (1 to [`MAX_TOKEN_DAYS`]):
/// the secret (shown once) and the record to store (which holds only its
/// hash). Shared by the API and the CLI.
pub fn mint_token(
    user_id: uuid::Uuid,
    name: &str,
    scopes: Vec<trygg_core::access::Scope>,
    days: u32,
) -> Result<(String, trygg_store::TokenRecord), ApiError> {
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expires_in_days",
            format!("a token lasts 1 to {MAX_TOKEN_DAYS} days"),
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
            "give the token a name of 1–100 characters",
        ));
    }
    let secret = secrets::new_token(TOKEN_PREFIX)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let created_at = Utc::now().timestamp_millis();
    let record = trygg_store::TokenRecord {
        id: uuid::Uuid::now_v7(),
        user_id,
        name: name.to_owned(),
        token_hash: secrets::token_hash(&secret),
        scopes,
        created_at,
        last_used_at: None,
        revoked_at: None,
        expires_at: Some(created_at + i64::from(days) * 86_400_000),
    };
    Ok((secret, record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_address_is_the_right_most_forwarded_entry_and_an_address() {
        let trust = AuthConfig {
            trust_forwarded: true,
            ..AuthConfig::default()
        };
        let peer = Peer(Some("127.0.0.1:4000".parse().unwrap()));
        let at = |h: &[&str]| client_address(&forwarded(h), peer, &trust);
        assert_eq!(at(&["198.51.100.7"]), "198.51.100.7");
        assert_eq!(at(&["10.0.0.1, 198.51.100.7"]), "198.51.100.7");
        assert_eq!(at(&["10.0.0.1", "2001:db8::1"]), "2001:db8::1");
        assert_eq!(at(&["198.51.100.7, "]), "198.51.100.7");
        assert_eq!(at(&["not-an-address"]), "unknown");
        assert_eq!(at(&[]), "127.0.0.1");
        let direct = client_address(&forwarded(&["10.0.0.1"]), peer, &AuthConfig::default());
        assert_eq!(
            direct, "127.0.0.1",
            "without the flag the header is the client's word"
        );
    }

    #[test]
    fn log_text_is_one_bounded_line() {
        assert_eq!(log_text("anna", 64), "anna");
        let forged = log_text("x\n2026-01-01 INFO login ok", 64);
        assert!(!forged.contains('\n'), "{forged}");
        assert_eq!(log_text(&"a".repeat(100), 8), "aaaaaaaa…");
    }
}
