//! The second factor at the door: who must have one before doing anything
//! but enrolling (one check in the middleware that every route passes),
//! and the check of a code at login. The rules themselves (RFC 6238,
//! recovery codes, who must) are in `trygg_core::second_factor`.

use axum::http::{HeaderMap, Method, StatusCode};
use chrono::Utc;
use trygg_core::access::{Principal, User, Via};
use trygg_core::second_factor as factor;
use trygg_store::SecondFactorRecord;

use super::secrets;
use crate::{ApiError, AppState};

/// What a session without its required factor may still call: its own
/// session, logging out, and enrolment.
fn enrolment_route(method: &Method, matched: &str) -> bool {
    matches!(
        (method.as_str(), matched),
        ("GET" | "HEAD", "/api/v1/auth/session") | ("POST", "/api/v1/auth/logout")
    ) || matched.starts_with("/api/v1/auth/second-factor")
}

/// Whether the caller's language is Swedish (`Accept-Language`; the web
/// front end sends the language it shows). English otherwise.
pub fn swedish(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("sv"))
}

/// Refuses a session whose user must have a second factor and has none
/// yet, on every route but enrolment. API tokens pass: only a user who has
/// logged in (and so met this rule) can make one.
pub async fn gate(
    state: &AppState,
    p: &Principal,
    method: &Method,
    matched: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if !matches!(p.via, Via::Session)
        || !state.auth.config.second_factor.requires(&p.user)
        || enrolment_route(method, matched)
    {
        return Ok(());
    }
    if enrolled(state, &p.user).await? {
        return Ok(());
    }
    let detail = if swedish(headers) {
        "Ditt konto måste ha tvåstegsverifiering. Aktivera den på /tvastegsverifiering innan du gör något annat."
    } else {
        "Your account must have a second factor. Set it up at /second-factor before doing anything else."
    };
    Err(ApiError::new(StatusCode::FORBIDDEN, detail)
        .with_member("second_factor", serde_json::json!("enrol")))
}

/// Whether a user has a confirmed second factor.
pub async fn enrolled(state: &AppState, user: &User) -> Result<bool, ApiError> {
    Ok(state
        .store
        .second_factor(user.id)
        .await?
        .is_some_and(|f| f.confirmed()))
}

/// Checks what a user typed at the code prompt: a one-time code (taken
/// once: its step is stored) or an unused recovery code (used up).
pub async fn accept_code(
    state: &AppState,
    user: &User,
    factor: &SecondFactorRecord,
    typed: &str,
) -> Result<bool, ApiError> {
    if typed.chars().count() > 64 {
        return Ok(false);
    }
    if factor::looks_like_code(typed) {
        let secret = factor::secret_from_base32(&factor.secret).map_err(internal)?;
        let last = factor.last_step.and_then(|s| u64::try_from(s).ok());
        let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
        let Some(step) = factor::accept(&secret, typed, now, last).map_err(internal)? else {
            return Ok(false);
        };
        let step = i64::try_from(step).map_err(|e| internal(e.to_string()))?;
        // Two requests with one code: the store lets only one take its step.
        return Ok(state.store.take_step(user.id, step).await?);
    }
    let hash = secrets::token_hash(&factor::normalise_recovery_code(typed));
    Ok(state
        .store
        .use_recovery_code(user.id, &hash, Utc::now())
        .await?)
}

/// A new secret's bytes.
pub fn new_secret() -> Result<Vec<u8>, ApiError> {
    let mut bytes = vec![0u8; factor::SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| internal(e.to_string()))?;
    Ok(bytes)
}

/// Ten new recovery codes, as shown once, and their hashes, as stored.
pub fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>), ApiError> {
    let mut codes = Vec::with_capacity(factor::RECOVERY_CODES);
    for _ in 0..factor::RECOVERY_CODES {
        let mut random = [0u8; 10];
        getrandom::fill(&mut random).map_err(|e| internal(e.to_string()))?;
        codes.push(factor::recovery_code(&random));
    }
    let hashes = codes
        .iter()
        .map(|c| secrets::token_hash(&factor::normalise_recovery_code(c)))
        .collect();
    Ok((codes, hashes))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "second factor");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "an internal error occurred; it has been logged",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_language_is_swedish_only_when_asked_first() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("accept-language", HeaderValue::from_str(v).unwrap());
            swedish(&h)
        };
        assert!(with("sv") && with("sv-SE,en;q=0.5"));
        assert!(!with("en-GB,sv;q=0.8") && !swedish(&HeaderMap::new()));
    }

    #[test]
    fn a_session_without_its_factor_may_only_enrol_and_leave() {
        assert!(enrolment_route(
            &Method::POST,
            "/api/v1/auth/second-factor/confirm"
        ));
        assert!(enrolment_route(&Method::GET, "/api/v1/auth/session"));
        assert!(enrolment_route(&Method::POST, "/api/v1/auth/logout"));
        assert!(!enrolment_route(&Method::POST, "/api/v1/auth/tokens"));
        assert!(!enrolment_route(&Method::GET, "/api/v1/admin/users"));
    }
}
