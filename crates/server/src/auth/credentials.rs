//! The API token a request presents, as GIS clients send it: `Authorization:
//! Bearer trygg_…`, or HTTP Basic with any username and the token as the
//! password — the only way QGIS's credential dialog (and most other
//! desktop GIS) can send a token. And the challenge a 401 carries, so
//! clients that wait to be asked know what to send.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;

use super::TOKEN_PREFIX;

/// Why an `Authorization` header could not be used.
pub type Refusal = &'static str;

/// The token in an `Authorization` header. Auth schemes are
/// case-insensitive (RFC 9110 §11.1); a Basic username is ignored.
pub fn token(value: &HeaderValue) -> Result<String, Refusal> {
    let text = value
        .to_str()
        .map_err(|_| "expected `Bearer trygg_…` or HTTP Basic with a token as the password")?
        .trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let token = if scheme.eq_ignore_ascii_case("bearer") {
        rest.trim().to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| "HTTP Basic credentials are not valid base64")?;
        let pair =
            String::from_utf8(decoded).map_err(|_| "HTTP Basic credentials are not valid UTF-8")?;
        let (_, password) = pair
            .split_once(':')
            .ok_or("HTTP Basic credentials need `username:password`")?;
        password.to_owned()
    } else {
        return Err("expected `Bearer trygg_…` or HTTP Basic with a token as the password");
    };
    if token.starts_with(TOKEN_PREFIX) {
        Ok(token)
    } else {
        Err(
            "the token (or the HTTP Basic password) must be an API token, trygg_…; people log in at /api/v1/auth/login",
        )
    }
}

/// Whether the request comes from a script in a browser page (`fetch`):
/// browsers answer a Basic challenge to such a request with their own
/// password dialog, which the web pages must never show.
pub fn from_browser_script(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m != "navigate")
}

/// Adds `WWW-Authenticate` to a 401 that has none: Bearer always, Basic
/// (with the token as the password) unless a browser script asked.
pub fn challenge(mut response: Response, browser_script: bool) -> Response {
    if response.status() != StatusCode::UNAUTHORIZED
        || response.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        return response;
    }
    let h = response.headers_mut();
    h.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="Trygg""#),
    );
    if !browser_script {
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="Trygg", charset="UTF-8""#),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> HeaderValue {
        let b = base64::engine::general_purpose::STANDARD.encode(user_pass);
        HeaderValue::from_str(&format!("Basic {b}")).unwrap()
    }

    #[test]
    fn a_bearer_token_and_a_basic_password_give_the_same_token() {
        let bearer = HeaderValue::from_static("Bearer trygg_abc");
        assert_eq!(token(&bearer).unwrap(), "trygg_abc");
        assert_eq!(token(&basic("qgis:trygg_abc")).unwrap(), "trygg_abc");
        assert_eq!(token(&basic(":trygg_abc")).unwrap(), "trygg_abc");
        let lower = HeaderValue::from_static("bearer trygg_abc");
        assert_eq!(token(&lower).unwrap(), "trygg_abc");
    }

    #[test]
    fn a_password_that_is_no_token_and_other_schemes_are_refused() {
        assert!(token(&basic("anna:hunter2")).is_err());
        assert!(token(&HeaderValue::from_static("Basic !!!")).is_err());
        assert!(token(&HeaderValue::from_static("Digest x")).is_err());
        assert!(token(&basic("no-colon")).is_err());
    }

    #[test]
    fn a_401_is_challenged_with_basic_only_outside_browser_scripts() {
        use axum::response::IntoResponse;
        let r = challenge(StatusCode::UNAUTHORIZED.into_response(), false);
        let all: Vec<_> = r
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(all.len(), 2);
        let r = challenge(StatusCode::UNAUTHORIZED.into_response(), true);
        assert_eq!(
            r.headers().get_all(header::WWW_AUTHENTICATE).iter().count(),
            1
        );
        let ok = challenge(StatusCode::OK.into_response(), false);
        assert!(ok.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
