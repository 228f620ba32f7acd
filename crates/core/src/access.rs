//! Who may do what. Roles, token scopes and permissions are decided here,
//! once; the server checks every route against [`Principal::allows`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Error, Kind, Result};

vocabulary!(
    /// A user's role. The publish permission is separate (see [`User::can_publish`]).
    Role {
        Admin = "admin",
        Planner = "planner",
        Field = "field",
    }
);

vocabulary!(
    /// What an API token may do; a token never does more than its user.
    Scope {
        Read = "read",
        Write = "write",
        Import = "import",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Releasing a period's follow-up and approving public reports.
    pub can_publish: bool,
    pub organisation_id: Uuid,
    pub organisation: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What a request may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadFeatures(Kind),
    WriteFeatures(Kind),
    DeleteFeatures(Kind),
    /// Approve or reject public reports.
    Moderate,
    Import,
    ManageUsers,
    ReadAudit,
    /// Create, list and revoke one's own API tokens, and enrol one's own
    /// second factor (sessions only: credentials take a person at a browser).
    ManageOwnTokens,
    /// Scrape `/metrics` (admins; a monitoring token needs the read scope).
    ReadMetrics,
}

/// How the request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session,
    Token { id: Uuid, scopes: Vec<Scope> },
}

/// An authenticated user acting through a session or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub via: Via,
}

/// What field users may see of other partners' presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PresenceVisibility {
    /// Only their own organisation's (the default: police secrecy).
    #[default]
    OwnOrganisation,
    All,
}

impl PresenceVisibility {
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        match s {
            "own" => Ok(Self::OwnOrganisation),
            "all" => Ok(Self::All),
            other => Err(Error::invalid(
                field,
                format!("unknown value `{other}`; expected own or all"),
            )),
        }
    }
}

/// Whose records a read may see. Made once per request from the caller
/// (the server's middleware) and required by every read of the in-memory
/// index and of the store, so no answer — a list, a map, an analysis, a
/// follow-up, an export — can forget it. Only presence is ever limited:
/// it shows where another partner's patrols were (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    presence: PresenceScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PresenceScope {
    Every,
    Organisation(Uuid),
    Nothing,
}

/// No organisation has the nil id (ids are UUID v7), so a filter on it
/// matches nothing: how a view that sees no presence filters the index and SQL.
const NO_ORGANISATION: Uuid = Uuid::nil();

impl View {
    /// Every record of every partner: for callers whose role sees them all,
    /// for Trygg's own work (following other instances' writes), and for
    /// aggregates that are public by design (closed months, published
    /// follow-ups). Say why at each use.
    pub const fn everything() -> Self {
        Self {
            presence: PresenceScope::Every,
        }
    }

    /// What a principal may see under the configured visibility.
    pub fn of(principal: &Principal, visibility: PresenceVisibility) -> Self {
        match principal.presence_limit(visibility) {
            Some(org) => Self {
                presence: PresenceScope::Organisation(org),
            },
            None => Self::everything(),
        }
    }

    /// An anonymous caller: no presence at all.
    pub const fn anonymous() -> Self {
        Self {
            presence: PresenceScope::Nothing,
        }
    }

    /// Whether this view leaves anything out.
    pub fn is_limited(&self) -> bool {
        self.presence != PresenceScope::Every
    }

    /// The only organisation whose records of `kind` this view may read;
    /// `None` for all of them. A view that may see none of a kind gets the
    /// nil id, which no record carries.
    pub fn organisation_for(&self, kind: Kind) -> Option<Uuid> {
        if kind != Kind::Presence {
            return None;
        }
        match self.presence {
            PresenceScope::Every => None,
            PresenceScope::Organisation(org) => Some(org),
            PresenceScope::Nothing => Some(NO_ORGANISATION),
        }
    }

    /// Whether a record of `kind` written by `organisation` is in this view.
    pub fn sees(&self, kind: Kind, organisation: Option<Uuid>) -> bool {
        self.organisation_for(kind)
            .is_none_or(|org| organisation == Some(org))
    }
}

impl Principal {
    fn role_allows(&self, p: Permission) -> bool {
        let role = self.user.role;
        match p {
            Permission::ReadFeatures(_) | Permission::ManageOwnTokens => true,
            Permission::WriteFeatures(kind) => match role {
                Role::Admin | Role::Planner => true,
                Role::Field => matches!(kind, Kind::Presence | Kind::Measure | Kind::Report),
            },
            Permission::DeleteFeatures(_) | Permission::Import => {
                matches!(role, Role::Admin | Role::Planner)
            }
            Permission::Moderate => self.user.can_publish,
            Permission::ManageUsers | Permission::ReadAudit | Permission::ReadMetrics => {
                role == Role::Admin
            }
        }
    }

    fn scope_allows(&self, p: Permission) -> bool {
        let Via::Token { scopes, .. } = &self.via else {
            return true;
        };
        let needed = match p {
            Permission::ReadFeatures(_) | Permission::ReadMetrics => Scope::Read,
            Permission::WriteFeatures(_) | Permission::DeleteFeatures(_) => Scope::Write,
            Permission::Import => Scope::Import,
            // Managing people, tokens, moderation and the audit log takes a
            // person at a browser, not an integration.
            Permission::Moderate
            | Permission::ManageUsers
            | Permission::ReadAudit
            | Permission::ManageOwnTokens => return false,
        };
        scopes.contains(&needed)
    }

    pub fn allows(&self, p: Permission) -> bool {
        !self.user.disabled && self.role_allows(p) && self.scope_allows(p)
    }

    /// The organisation whose presence this principal is limited to, if any.
    pub fn presence_limit(&self, visibility: PresenceVisibility) -> Option<Uuid> {
        (self.user.role == Role::Field && visibility == PresenceVisibility::OwnOrganisation)
            .then_some(self.user.organisation_id)
    }
}

/// Usernames: what people type at a login form, so plain and bounded.
pub fn check_username(name: &str) -> Result<()> {
    let ok = (3..=64).contains(&name.len())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '@')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "use 3–64 characters: a–z, 0–9, . - _ @",
        ))
    }
}

/// Passwords: long enough to resist guessing when hashes leak; no upper
/// bound worth enforcing beyond what a request body allows.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 12 {
        return Err(Error::invalid("password", "use at least 12 characters"));
    }
    if password.len() > 1024 {
        return Err(Error::invalid("password", "use at most 1024 bytes"));
    }
    Ok(())
}

pub fn parse_scopes(s: &str, field: &str) -> Result<Vec<Scope>> {
    let mut scopes = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let scope = Scope::parse(part, field)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(Error::invalid(
            field,
            "name at least one scope: read, write, import",
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, can_publish: bool, via: Via) -> Principal {
        Principal {
            user: User {
                id: Uuid::nil(),
                username: "u".into(),
                display_name: "U".into(),
                role,
                can_publish,
                organisation_id: Uuid::nil(),
                organisation: "Polisen".into(),
                disabled: false,
                created_at: Utc::now(),
            },
            via,
        }
    }

    #[test]
    fn field_staff_log_presence_but_do_not_designate_places() {
        let p = principal(Role::Field, false, Via::Session);
        assert!(p.allows(Permission::WriteFeatures(Kind::Presence)));
        assert!(!p.allows(Permission::WriteFeatures(Kind::Place)));
        assert!(!p.allows(Permission::DeleteFeatures(Kind::Presence)));
        assert!(!p.allows(Permission::ManageUsers));
    }

    #[test]
    fn publishing_is_its_own_permission() {
        assert!(!principal(Role::Admin, false, Via::Session).allows(Permission::Moderate));
        assert!(principal(Role::Field, true, Via::Session).allows(Permission::Moderate));
    }

    #[test]
    fn a_token_never_exceeds_its_scopes_or_its_user() {
        let read_only = principal(
            Role::Admin,
            true,
            Via::Token {
                id: Uuid::nil(),
                scopes: vec![Scope::Read],
            },
        );
        assert!(read_only.allows(Permission::ReadFeatures(Kind::Incident)));
        assert!(!read_only.allows(Permission::WriteFeatures(Kind::Incident)));
        assert!(!read_only.allows(Permission::ManageUsers));
        let field_import = principal(
            Role::Field,
            false,
            Via::Token {
                id: Uuid::nil(),
                scopes: vec![Scope::Import],
            },
        );
        assert!(!field_import.allows(Permission::Import));
    }

    #[test]
    fn a_disabled_user_may_do_nothing() {
        let mut p = principal(Role::Admin, true, Via::Session);
        p.user.disabled = true;
        assert!(!p.allows(Permission::ReadFeatures(Kind::Area)));
    }

    #[test]
    fn field_presence_is_limited_to_the_own_organisation_by_default() {
        let p = principal(Role::Field, false, Via::Session);
        assert_eq!(
            p.presence_limit(PresenceVisibility::default()),
            Some(Uuid::nil())
        );
        assert_eq!(p.presence_limit(PresenceVisibility::All), None);
        assert_eq!(
            principal(Role::Planner, false, Via::Session)
                .presence_limit(PresenceVisibility::default()),
            None
        );
    }

    #[test]
    fn a_view_limits_presence_only_and_only_where_configured() {
        let org = Uuid::now_v7();
        let mut field = principal(Role::Field, false, Via::Session);
        field.user.organisation_id = org;
        let own = View::of(&field, PresenceVisibility::OwnOrganisation);
        assert!(own.sees(Kind::Presence, Some(org)));
        assert!(!own.sees(Kind::Presence, Some(Uuid::now_v7())));
        assert!(!own.sees(Kind::Presence, None));
        assert!(own.sees(Kind::Incident, Some(Uuid::now_v7())));
        assert_eq!(own.organisation_for(Kind::Incident), None);
        assert!(!View::of(&field, PresenceVisibility::All).is_limited());
        let planner = principal(Role::Planner, false, Via::Session);
        assert!(!View::of(&planner, PresenceVisibility::OwnOrganisation).is_limited());
        let anonymous = View::anonymous();
        assert!(
            !anonymous.sees(Kind::Presence, Some(org)) && !anonymous.sees(Kind::Presence, None)
        );
        assert_eq!(
            anonymous.organisation_for(Kind::Presence),
            Some(Uuid::nil())
        );
    }

    #[test]
    fn credentials_are_checked() {
        assert!(check_username("anna.berg").is_ok());
        assert!(check_username("Anna Berg").is_err());
        assert!(check_password("kort").is_err());
        assert!(check_password("en lång lösenfras").is_ok());
        assert_eq!(
            parse_scopes("read, import", "scopes").unwrap(),
            vec![Scope::Read, Scope::Import]
        );
        assert!(parse_scopes("", "scopes").is_err());
    }
}
