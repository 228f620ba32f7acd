//! The one table of who may call what: every `/api/` and `/tiles/` route's
//! rule, looked up by the matched route and method. A route missing here is
//! refused (fail closed), and the role-matrix test walks this table.

use axum::http::Method;
use trygg_core::Kind;
use trygg_core::access::Permission;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, without logging in.
    Public,
    /// Any logged-in user (through a session or a token).
    LoggedIn,
    /// Any logged-in user allowed to read (tokens need the read scope).
    Read,
    Need(Permission),
}

/// Routes outside the per-kind collections.
const FIXED: [(Method, &str, Rule); 39] = [
    (Method::GET, "/api/v1/layers/{kind}/hexagons", Rule::Read),
    (Method::GET, "/api/v1/layers/{kind}/points", Rule::Read),
    (Method::GET, crate::routes::tiles::PATH, Rule::Read),
    (Method::GET, "/api/v1/followup/{period}", Rule::Read),
    (Method::GET, "/api/v1/analysis/picture", Rule::Read),
    (Method::GET, "/api/v1/analysis/hotspots", Rule::Read),
    (Method::GET, "/api/v1/analysis/emerging", Rule::Read),
    (Method::GET, "/api/v1/analysis/dosage", Rule::Read),
    (Method::GET, "/api/v1/analysis/evaluation", Rule::Read),
    (Method::GET, "/api/v1/analysis/yearly", Rule::Read),
    (
        Method::POST,
        "/api/v1/places/from-cells",
        Rule::Need(Permission::WriteFeatures(Kind::Place)),
    ),
    (
        Method::POST,
        "/api/v1/followup/{period}/publish",
        Rule::Need(Permission::Moderate),
    ),
    (Method::GET, "/api/v1/public/followup", Rule::Public),
    (Method::GET, "/api/v1/public/followup.atom", Rule::Public),
    (
        Method::GET,
        "/api/v1/public/followup/{period}",
        Rule::Public,
    ),
    (
        Method::POST,
        "/api/v1/import",
        Rule::Need(Permission::Import),
    ),
    (
        Method::POST,
        "/api/v1/reports/{id}/moderation",
        Rule::Need(Permission::Moderate),
    ),
    (Method::POST, "/api/v1/auth/login", Rule::Public),
    (Method::POST, "/api/v1/auth/logout", Rule::LoggedIn),
    (Method::GET, "/api/v1/auth/session", Rule::LoggedIn),
    (
        Method::GET,
        "/api/v1/auth/tokens",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::POST,
        "/api/v1/auth/tokens",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::DELETE,
        "/api/v1/auth/tokens/{id}",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::GET,
        "/api/v1/auth/second-factor",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::POST,
        "/api/v1/auth/second-factor",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::GET,
        "/api/v1/auth/second-factor/qr.svg",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::POST,
        "/api/v1/auth/second-factor/confirm",
        Rule::Need(Permission::ManageOwnTokens),
    ),
    (
        Method::GET,
        "/api/v1/admin/users",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::POST,
        "/api/v1/admin/users",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::PUT,
        "/api/v1/admin/users/{id}",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::GET,
        "/api/v1/admin/organisations",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::POST,
        "/api/v1/admin/organisations",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::GET,
        "/api/v1/admin/tokens",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::DELETE,
        "/api/v1/admin/tokens/{id}",
        Rule::Need(Permission::ManageUsers),
    ),
    (
        Method::GET,
        "/api/v1/admin/audit",
        Rule::Need(Permission::ReadAudit),
    ),
    (
        Method::GET,
        "/api/v1/public/layers/{kind}/hexagons",
        Rule::Public,
    ),
    (Method::GET, "/api/v1/public/areas", Rule::Public),
    (Method::GET, "/api/v1/public/measures", Rule::Public),
    (Method::POST, "/api/v1/public/reports", Rule::Public),
];

/// Every `/api/` route this server has, with its rule, for the matrix test
/// and the OpenAPI document to enumerate.
pub fn routes() -> Vec<(Method, String, Rule)> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let c = format!("/api/v1/{}", kind.collection());
        out.push((
            Method::GET,
            c.clone(),
            Rule::Need(Permission::ReadFeatures(kind)),
        ));
        out.push((
            Method::GET,
            format!("{c}/export"),
            Rule::Need(Permission::ReadFeatures(kind)),
        ));
        out.push((
            Method::POST,
            c.clone(),
            Rule::Need(Permission::WriteFeatures(kind)),
        ));
        let one = format!("{c}/{{id}}");
        out.push((
            Method::GET,
            one.clone(),
            Rule::Need(Permission::ReadFeatures(kind)),
        ));
        out.push((
            Method::PUT,
            one.clone(),
            Rule::Need(Permission::WriteFeatures(kind)),
        ));
        out.push((
            Method::DELETE,
            one,
            Rule::Need(Permission::DeleteFeatures(kind)),
        ));
    }
    out.extend(
        FIXED
            .iter()
            .map(|(m, p, r)| (m.clone(), (*p).to_owned(), *r)),
    );
    out
}

/// The rule for a matched route. Paths outside `/api/` and `/tiles/`
/// (health, the web pages and their assets) are public: the data behind
/// them is not.
pub fn rule(method: &Method, matched_path: &str) -> Option<Rule> {
    if matched_path == "/metrics" {
        return Some(Rule::Need(Permission::ReadMetrics));
    }
    let matched_path = table_path(matched_path);
    if !matched_path.starts_with("/api/") && !matched_path.starts_with("/tiles/") {
        return Some(Rule::Public);
    }
    // Preflight requests carry no credentials by design.
    if method == Method::OPTIONS && matched_path.starts_with("/api/v1/public/") {
        return Some(Rule::Public);
    }
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    routes()
        .into_iter()
        .find(|(m, p, _)| m == method && p == matched_path)
        .map(|(_, _, r)| r)
}

/// A matched route as this table names it: the router cannot match the
/// tile route's `.mvt` suffix, so it matches without it.
pub fn table_path(matched_path: &str) -> &str {
    if matched_path == crate::routes::tiles::MATCHED {
        crate::routes::tiles::PATH
    } else {
        matched_path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_exactly_one_rule() {
        let all = routes();
        for (i, (m, p, _)) in all.iter().enumerate() {
            assert!(
                !all[i + 1..].iter().any(|(m2, p2, _)| m2 == m && p2 == p),
                "{m} {p} twice"
            );
        }
    }

    #[test]
    fn unknown_api_routes_have_no_rule() {
        assert_eq!(rule(&Method::GET, "/api/v1/secret"), None);
        assert_eq!(rule(&Method::GET, "/healthz"), Some(Rule::Public));
        assert_eq!(
            rule(&Method::HEAD, "/api/v1/public/areas"),
            Some(Rule::Public)
        );
        assert_eq!(
            rule(&Method::GET, crate::routes::tiles::MATCHED),
            Some(Rule::Read)
        );
    }
}
