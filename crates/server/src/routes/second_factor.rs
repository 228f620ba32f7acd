//! Enrolling one's own second factor from a session: a new secret (as an
//! `otpauth://` URI, a QR code drawn here, and base32 for typing), confirmed
//! by a first code, which hands out ten recovery codes once.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use qrcode::QrCode;
use qrcode::render::svg;
use serde_json::{Value, json};
use trygg_core::second_factor as factor;

use crate::auth::Caller;
use crate::auth::second_factor::{self as gate, swedish};
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/second-factor", get(status).post(begin))
        .route("/api/v1/auth/second-factor/qr.svg", get(qr))
        .route("/api/v1/auth/second-factor/confirm", post(confirm))
}

/// Whether the caller has a factor, must have one, and how many recovery
/// codes are left.
async fn status(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let p = caller.principal()?;
    let record = state.store.second_factor(p.user.id).await?;
    let enrolled = record
        .as_ref()
        .is_some_and(trygg_store::SecondFactorRecord::confirmed);
    let left = if enrolled {
        state.store.recovery_codes_left(p.user.id).await?
    } else {
        0
    };
    Ok(Json(json!({
        "enrolled": enrolled,
        "required": state.auth.config.second_factor.requires(&p.user),
        "recovery_codes_left": left,
    })))
}

/// The secret of the enrolment waiting for its first code.
async fn pending_secret(state: &AppState, caller: &Caller) -> Result<(Vec<u8>, String), ApiError> {
    let p = caller.principal()?;
    let record = state
        .store
        .second_factor(p.user.id)
        .await?
        .filter(|f| !f.confirmed())
        .ok_or_else(|| {
            ApiError::not_found(
                "no enrolment is waiting; start one with POST /api/v1/auth/second-factor",
            )
        })?;
    let secret = factor::secret_from_base32(&record.secret).map_err(ApiError::body)?;
    Ok((secret, p.user.username.clone()))
}

/// Starts (or restarts) an enrolment. The secret is in this answer and the
/// QR code only, and only until it is confirmed.
async fn begin(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = caller.principal()?;
    let secret = gate::new_secret()?;
    match state
        .store
        .begin_second_factor(p.user.id, &factor::secret_to_base32(&secret), Utc::now())
        .await
    {
        Ok(()) => {}
        Err(trygg_store::Error::Conflict { .. }) => {
            let detail = if swedish(&headers) {
                "Kontot har redan tvåstegsverifiering. En administratör kan återställa den."
            } else {
                "This account has a second factor already. An admin can reset it."
            };
            return Err(ApiError::field(
                StatusCode::CONFLICT,
                "second_factor",
                detail,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let uri = factor::otpauth_uri(&secret, &p.user.username).map_err(ApiError::body)?;
    let mut r = (
        StatusCode::CREATED,
        Json(json!({
            "otpauth_uri": uri,
            "secret": factor::secret_for_typing(&secret),
            "qr_code": "/api/v1/auth/second-factor/qr.svg",
            "note": "scan the QR code or enter the secret in an authenticator app, then confirm with its first code",
        })),
    )
        .into_response();
    no_store(&mut r);
    Ok(r)
}

/// The waiting enrolment's URI as a QR code (SVG), drawn on this server:
/// the secret never goes to a QR service.
async fn qr(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let (secret, username) = pending_secret(&state, &caller).await?;
    let uri = factor::otpauth_uri(&secret, &username).map_err(ApiError::body)?;
    let code = QrCode::new(uri.as_bytes())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let mut r = ([(header::CONTENT_TYPE, "image/svg+xml")], image).into_response();
    no_store(&mut r);
    Ok(r)
}

/// Confirms the waiting enrolment with its first code; answers the ten
/// recovery codes, shown this once.
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let p = caller.principal()?;
    let (secret, _) = pending_secret(&state, &caller).await?;
    let typed = body.get("code").and_then(Value::as_str).unwrap_or("");
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let step = factor::accept(&secret, typed, now, None)
        .map_err(ApiError::body)?
        .and_then(|s| i64::try_from(s).ok());
    let Some(step) = step else {
        let detail = if swedish(&headers) {
            "Koden stämmer inte. Skriv de sex siffrorna som appen visar just nu."
        } else {
            "That code is not right. Type the six digits the app shows now."
        };
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
            detail,
        ));
    };
    let (codes, hashes) = gate::new_recovery_codes()?;
    state
        .store
        .confirm_second_factor(p.user.id, step, &hashes, &caller.actor(), Utc::now())
        .await?;
    let mut r = Json(json!({
        "enrolled": true,
        "recovery_codes": codes,
        "note": "each recovery code works once, instead of a code from the app; this is the only time they are shown",
    }))
    .into_response();
    no_store(&mut r);
    Ok(r)
}

fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
