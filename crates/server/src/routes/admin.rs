//! Users, organisations, everyone's tokens and the audit log: admins only
//! (the policy table says so; these handlers only do the work).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use trygg_core::access::{Role, check_password, check_username};
use trygg_core::export::csv_field;
use trygg_store::{AuditEntry, NewUser, UserChange};
use uuid::Uuid;

use super::auth::{token_json, user_json};
use crate::auth::{Caller, secrets};
use crate::extract::{JsonBody, Params};
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(users).post(create_user))
        .route("/api/v1/admin/users/{id}", put(change_user))
        .route(
            "/api/v1/admin/organisations",
            get(organisations).post(create_organisation),
        )
        .route("/api/v1/admin/tokens", get(tokens))
        .route("/api/v1/admin/tokens/{id}", delete(revoke_token))
        .route("/api/v1/admin/audit", get(audit))
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, reason)
}

fn opt_str<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(name, "must be a string")),
    }
}

fn opt_bool(body: &Value, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

/// Hashing is slow on purpose; off the async workers.
pub(crate) async fn hash(password: &str) -> Result<String, ApiError> {
    check_password(password).map_err(ApiError::body)?;
    let p = password.to_owned();
    tokio::task::spawn_blocking(move || secrets::hash_password(&p))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))
}

async fn users(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let users = state.store.users().await?;
    Ok(Json(
        json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let username = opt_str(&body, "username")?
        .ok_or_else(|| invalid("username", "required"))?
        .trim()
        .to_lowercase();
    check_username(&username).map_err(ApiError::body)?;
    let role = Role::parse(
        opt_str(&body, "role")?
            .ok_or_else(|| invalid("role", "required: admin, planner or field"))?,
        "role",
    )
    .map_err(ApiError::body)?;
    let org_name = opt_str(&body, "organisation")?
        .ok_or_else(|| invalid("organisation", "required: the partner's name"))?;
    let org = state
        .store
        .organisation_by_name(org_name)
        .await?
        .ok_or_else(|| {
            invalid(
                "organisation",
                format!("no organisation named `{org_name}`; create it first"),
            )
        })?;
    let password = opt_str(&body, "password")?.ok_or_else(|| invalid("password", "required"))?;
    let display_name = opt_str(&body, "display_name")?
        .unwrap_or(&username)
        .trim()
        .to_owned();
    let user = NewUser {
        password_hash: hash(password).await?,
        username,
        display_name,
        role,
        can_publish: opt_bool(&body, "can_publish")?.unwrap_or(false),
        organisation_id: org.id,
    };
    let created = state
        .store
        .create_user(&user, &caller.actor(), Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(user_json(&created))).into_response())
}

async fn change_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such user"))?;
    state
        .store
        .user(id)
        .await
        .map_err(|_| ApiError::not_found("no such user"))?;
    let role = opt_str(&body, "role")?
        .map(|r| Role::parse(r, "role"))
        .transpose()
        .map_err(ApiError::body)?;
    let password_hash = match opt_str(&body, "password")? {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let change = UserChange {
        display_name: opt_str(&body, "display_name")?.map(str::to_owned),
        role,
        can_publish: opt_bool(&body, "can_publish")?,
        disabled: opt_bool(&body, "disabled")?,
        password_hash,
    };
    let user = state
        .store
        .change_user(id, &change, &caller.actor(), Utc::now())
        .await?;
    Ok(Json(user_json(&user)))
}

async fn organisations(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let orgs = state.store.organisations().await?;
    Ok(Json(
        json!({ "organisations": orgs.iter().map(|o| json!({ "id": o.id, "name": o.name })).collect::<Vec<_>>() }),
    ))
}

async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let name = opt_str(&body, "name")?.map_or("", str::trim);
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid(
            "name",
            "give the organisation a name of 1–120 characters",
        ));
    }
    let org = state
        .store
        .create_organisation(name, &caller.actor(), Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": org.id, "name": org.name })),
    )
        .into_response())
}

async fn tokens(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.tokens(None).await?;
    Ok(Json(
        json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such token"))?;
    state
        .store
        .revoke_token(id, None, &caller.actor(), Utc::now())
        .await
        .map_err(|_| ApiError::not_found("no such active token"))?;
    Ok(StatusCode::NO_CONTENT)
}

fn entry_json(e: &AuditEntry) -> Value {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap_or_else(|_| json!(t)))
    };
    json!({
        "id": e.id,
        "at": e.at,
        "user_id": e.user_id,
        "username": e.username,
        "organisation_id": e.organisation_id,
        "action": e.action,
        "kind": e.kind,
        "feature_id": e.feature_id,
        "before": parse(&e.before),
        "after": parse(&e.after),
    })
}

/// The audit log, newest first; `format=csv` exports it.
async fn audit(
    State(state): State<AppState>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let mut before = None;
    let mut limit = 100u32;
    let mut csv = false;
    for (k, v) in &params {
        match k.as_str() {
            "before" => {
                before = Some(v.parse::<i64>().map_err(|_| {
                    ApiError::field(StatusCode::BAD_REQUEST, "before", "an audit entry id")
                })?);
            }
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| {
                        ApiError::field(StatusCode::BAD_REQUEST, "limit", "between 1 and 10000")
                    })?;
            }
            "format" => match v.as_str() {
                "csv" => csv = true,
                "json" => csv = false,
                _ => {
                    return Err(ApiError::field(
                        StatusCode::BAD_REQUEST,
                        "format",
                        "json or csv",
                    ));
                }
            },
            other => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    other,
                    "unknown parameter; this endpoint takes before, limit, format",
                ));
            }
        }
    }
    let entries = state.store.audit_entries(before, limit).await?;
    if csv {
        let mut out = String::from(
            "id,at,username,user_id,organisation_id,action,kind,feature_id,before,after\n",
        );
        for e in &entries {
            let opt = |v: Option<String>| csv_field(&v.unwrap_or_default());
            out.push_str(
                &[
                    e.id.to_string(),
                    csv_field(&e.at.to_rfc3339()),
                    opt(e.username.clone()),
                    opt(e.user_id.map(|u| u.to_string())),
                    opt(e.organisation_id.map(|u| u.to_string())),
                    csv_field(&e.action),
                    opt(e.kind.clone()),
                    opt(e.feature_id.map(|u| u.to_string())),
                    opt(e.before.clone()),
                    opt(e.after.clone()),
                ]
                .join(","),
            );
            out.push('\n');
        }
        let mut r = out.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"trygg-audit.csv\""),
        );
        return Ok(r);
    }
    let next = entries
        .last()
        .filter(|_| entries.len() == limit as usize)
        .map(|e| e.id);
    Ok(Json(json!({ "entries": entries.iter().map(entry_json).collect::<Vec<_>>(), "next_before": next })).into_response())
}
