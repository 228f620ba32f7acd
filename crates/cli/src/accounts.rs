//! `trygg org …`, `trygg user …`, `trygg token …`: managing partners,
//! people and integration tokens from the command line (the first admin
//! included). Passwords are read from `TRYGG_PASSWORD` or standard input,
//! never from the command line, where other users could see them.

use std::io::BufRead;

use chrono::Utc;
use trygg_core::access::{Role, Scope, User, check_password, check_username, parse_scopes};
use trygg_store::{Actor, NewUser, Store, UserChange};
use uuid::Uuid;

use crate::{Error, Result};

fn cli_actor() -> Actor {
    Actor::system(&format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ))
}

/// A password from `TRYGG_PASSWORD`, or the first line of standard input.
pub fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("TRYGG_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    if p.is_empty() {
        return Err(Error::Usage(
            "give the password in TRYGG_PASSWORD or on standard input".into(),
        ));
    }
    Ok(p)
}

fn hash(password: &str) -> Result<String> {
    check_password(password)?;
    trygg_server::auth::secrets::hash_password(password).map_err(Error::Usage)
}

pub async fn add_organisation(store: &dyn Store, name: &str) -> Result<String> {
    if name.trim().is_empty() {
        return Err(Error::Usage("the organisation needs a name".into()));
    }
    let org = store
        .create_organisation(name, &cli_actor(), Utc::now())
        .await?;
    Ok(format!("organisation {} ({})", org.name, org.id))
}

pub async fn list_organisations(store: &dyn Store) -> Result<String> {
    let orgs = store.organisations().await?;
    Ok(orgs
        .iter()
        .map(|o| format!("{}\t{}", o.id, o.name))
        .collect::<Vec<_>>()
        .join("\n"))
}

pub struct AddUser<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub organisation: &'a str,
    pub publish: bool,
    pub password: String,
}

/// Adds a user; the organisation is created when it does not exist yet,
/// so the first admin needs one command.
pub async fn add_user(store: &dyn Store, u: AddUser<'_>) -> Result<User> {
    let username = u.username.trim().to_lowercase();
    check_username(&username)?;
    let role = Role::parse(u.role, "role")?;
    let org = match store.organisation_by_name(u.organisation).await? {
        Some(org) => org,
        None => {
            store
                .create_organisation(u.organisation, &cli_actor(), Utc::now())
                .await?
        }
    };
    let user = NewUser {
        display_name: u.display_name.unwrap_or(&username).to_owned(),
        username,
        password_hash: hash(&u.password)?,
        role,
        can_publish: u.publish,
        organisation_id: org.id,
    };
    Ok(store.create_user(&user, &cli_actor(), Utc::now()).await?)
}

pub fn describe(u: &User) -> String {
    format!(
        "{}\t{}\t{}{}\t{}{}",
        u.username,
        u.role.as_str(),
        u.organisation,
        if u.can_publish { "\tpublish" } else { "" },
        u.id,
        if u.disabled { "\tdisabled" } else { "" }
    )
}

pub async fn list_users(store: &dyn Store) -> Result<String> {
    Ok(store
        .users()
        .await?
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join("\n"))
}

async fn find_user(store: &dyn Store, username: &str) -> Result<User> {
    store
        .user_by_username(&username.trim().to_lowercase())
        .await?
        .map(|(u, _)| u)
        .ok_or_else(|| Error::Usage(format!("no user named `{username}`")))
}

pub struct SetUser<'a> {
    pub username: &'a str,
    pub role: Option<&'a str>,
    pub publish: Option<bool>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

pub async fn set_user(store: &dyn Store, s: SetUser<'_>) -> Result<User> {
    let user = find_user(store, s.username).await?;
    let change = UserChange {
        display_name: None,
        role: s.role.map(|r| Role::parse(r, "role")).transpose()?,
        can_publish: s.publish,
        disabled: s.disabled,
        password_hash: s.password.as_deref().map(hash).transpose()?,
    };
    Ok(store
        .change_user(user.id, &change, &cli_actor(), Utc::now())
        .await?)
}

/// Creates a token and returns its secret: the only time it is shown.
pub async fn create_token(
    store: &dyn Store,
    username: &str,
    name: &str,
    scopes: &str,
    days: u32,
) -> Result<String> {
    let user = find_user(store, username).await?;
    let scopes: Vec<Scope> = parse_scopes(scopes, "--scopes")?;
    let (secret, record) = trygg_server::auth::mint_token(user.id, name, scopes, days)
        .map_err(|e| Error::Usage(e.detail))?;
    store
        .create_token(&record, &cli_actor(), Utc::now())
        .await?;
    Ok(secret)
}

pub async fn list_tokens(store: &dyn Store, username: Option<&str>) -> Result<String> {
    let owner = match username {
        Some(u) => Some(find_user(store, u).await?.id),
        None => None,
    };
    let tokens = store.tokens(owner).await?;
    Ok(tokens
        .iter()
        .map(|t| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                t.id,
                t.name,
                t.scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                if t.revoked_at.is_some() {
                    "revoked"
                } else if t
                    .expires_at
                    .is_none_or(|e| e <= Utc::now().timestamp_millis())
                {
                    "expired"
                } else {
                    "active"
                },
                t.expires_at.map_or_else(
                    || "-".to_owned(),
                    |e| trygg_core::time::from_ms(e).format("%Y-%m-%d").to_string()
                )
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

pub async fn revoke_token(store: &dyn Store, id: &str) -> Result<()> {
    let id = Uuid::parse_str(id).map_err(|_| Error::Usage(format!("`{id}` is not a token id")))?;
    store
        .revoke_token(id, None, &cli_actor(), Utc::now())
        .await?;
    Ok(())
}

/// `trygg user second-factor enrol`: gives a user a second factor now (an
/// operator setting up an account, or a test) and returns what its owner
/// needs, once: the `otpauth://` URI, the secret for typing, and ten
/// recovery codes. A user who has one already is reset first.
pub async fn enrol_second_factor(store: &dyn Store, username: &str) -> Result<String> {
    use trygg_core::second_factor as factor;
    use trygg_server::auth::second_factor as server;
    let user = find_user(store, username).await?;
    let secret = server::new_secret().map_err(|e| Error::Usage(e.detail))?;
    let now = Utc::now();
    store
        .begin_second_factor(user.id, &factor::secret_to_base32(&secret), now)
        .await
        .map_err(|_| {
            Error::Usage(format!(
                "`{}` has a second factor already; `trygg user second-factor reset --username {}` first",
                user.username, user.username
            ))
        })?;
    // No code has been used yet: every code of the accepted window (±1
    // step around now) stays good for the owner's first login.
    let before_window = now.timestamp() / 30 - i64::from(factor::SKEW_STEPS) - 1;
    let (codes, hashes) = server::new_recovery_codes().map_err(|e| Error::Usage(e.detail))?;
    store
        .confirm_second_factor(user.id, before_window, &hashes, &cli_actor(), now)
        .await?;
    let uri = factor::otpauth_uri(&secret, &user.username)?;
    Ok(format!(
        "{uri}\nsecret: {}\nrecovery codes (each works once; shown only now):\n{}",
        factor::secret_for_typing(&secret),
        codes.join("\n")
    ))
}

/// `trygg user second-factor reset`: removes a user's second factor and
/// recovery codes (a lost phone); they enrol again at their next login.
pub async fn reset_second_factor(store: &dyn Store, username: &str) -> Result<String> {
    let user = find_user(store, username).await?;
    if store
        .reset_second_factor(user.id, &cli_actor(), Utc::now())
        .await?
    {
        Ok(format!(
            "`{}` has no second factor now; they set one up at their next login",
            user.username
        ))
    } else {
        Err(Error::Usage(format!(
            "`{}` has no second factor to reset",
            user.username
        )))
    }
}
