//! The web front end (`web/public`), embedded in the binary so that a
//! visitor's browser talks to this server only (and to the configured
//! basemap): no CDN, and a Content-Security-Policy that can say
//! `script-src 'self'`.
//!
//! Pages live at clean paths; every other file keeps its path under
//! `web/public`. Routes are listed one by one rather than through a
//! catch-all so that unknown paths still reach the API's problem+json 404.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/public/"]
struct Assets;

/// Clean page paths and the file each one serves. The accessibility
/// statement has a Swedish and an English address; the page picks its
/// language from the path. The analysis and follow-up pages have an
/// English alias too, and so do the account and administration pages.
const PAGES: [(&str, &str); 18] = [
    ("/", "index.html"),
    ("/map", "index.html"),
    ("/analys", "analysis.html"),
    ("/analysis", "analysis.html"),
    ("/uppfoljning", "followup.html"),
    ("/followup", "followup.html"),
    ("/field", "field.html"),
    ("/measures", "measures.html"),
    ("/tillganglighet", "statement.html"),
    ("/accessibility", "statement.html"),
    ("/login", "login.html"),
    ("/konto", "account.html"),
    ("/tvastegsverifiering", "second-factor.html"),
    ("/second-factor", "second-factor.html"),
    ("/account", "account.html"),
    ("/administration", "admin.html"),
    ("/admin", "admin.html"),
    ("/embed", "embed.html"),
];

/// The one page other sites may put in an iframe: it shows only what the
/// public API serves, so being framed exposes nothing.
const EMBED_PAGE: &str = "embed.html";

/// The file the browser reads the basemap URL from; the CSP must allow the
/// same tile host, so both are derived from one value.
const CONFIG_FILE: &str = "config.json";

/// `embed_ancestors` is the embed page's `frame-ancestors` source list:
/// the municipal sites allowed to frame it.
pub(super) fn router(embed_ancestors: &str) -> Router<crate::AppState> {
    build(embed_ancestors)
}

fn build<S: Clone + Send + Sync + 'static>(embed_ancestors: &str) -> Router<S> {
    let tiles = tile_origin_from_config();
    let headers = Arc::new(SecurityHeaders::new(tiles.as_deref(), None));
    let embeddable = Arc::new(SecurityHeaders::new(
        tiles.as_deref(),
        Some(embed_ancestors),
    ));
    let mut router = Router::new();
    for (path, file) in PAGES {
        let h = Arc::clone(if file == EMBED_PAGE {
            &embeddable
        } else {
            &headers
        });
        router = router.route(
            path,
            get(move |req: HeaderMap| {
                let response = serve(file, &req, &h);
                async move { response }
            }),
        );
    }
    for file in Assets::iter() {
        // HTML is reachable only at its clean path, so each page has one URL.
        if file.ends_with(".html") {
            continue;
        }
        let h = Arc::clone(&headers);
        let route = format!("/{file}");
        let name = file.into_owned();
        router = router.route(
            &route,
            get(move |req: HeaderMap| {
                let response = serve(&name, &req, &h);
                async move { response }
            }),
        );
    }
    router
}

/// Headers every page and asset carries.
struct SecurityHeaders {
    csp: HeaderValue,
    framable: bool,
}

impl SecurityHeaders {
    /// `frame_ancestors`: who may frame the page (`None`: nobody).
    fn new(tile_origin: Option<&str>, frame_ancestors: Option<&str>) -> Self {
        let img = match tile_origin {
            Some(origin) => format!("img-src 'self' {origin}"),
            None => "img-src 'self'".to_owned(),
        };
        let csp = [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            &img,
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            &format!("frame-ancestors {}", frame_ancestors.unwrap_or("'none'")),
        ]
        .join("; ");
        Self {
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            framable: frame_ancestors.is_some(),
        }
    }

    fn apply(&self, h: &mut HeaderMap) {
        h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Not `no-referrer`: public tile servers ask for the site's origin.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        // For browsers that predate `frame-ancestors`.
        if !self.framable {
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        h.insert(
            "permissions-policy",
            HeaderValue::from_static("geolocation=(self), camera=(), microphone=(), payment=()"),
        );
        h.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
        // File names carry no content hash, so the browser revalidates each
        // time; the ETag keeps that to a 304. Offline use is the service
        // worker's job, not the HTTP cache's.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
}

fn serve(file: &str, request: &HeaderMap, headers: &SecurityHeaders) -> Response {
    let Some(asset) = Assets::get(file) else {
        // Only when a file vanished from disk in a debug build.
        return ApiError::not_found(format!("no file {file}")).into_response();
    };
    let etag = etag_of(&asset.metadata.sha256_hash());
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(asset.data));
        if let Ok(ct) = HeaderValue::from_str(&content_type(file, asset.metadata.mimetype())) {
            r.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    headers.apply(h);
    response
}

fn etag_of(hash: &[u8; 32]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in &hash[..12] {
        let _ = write!(s, "{b:02x}");
    }
    s.push('"');
    s
}

/// The types browsers are strict about (module scripts, manifests) are set
/// by extension; the rest come from the file name's usual type.
fn content_type(file: &str, guessed: &str) -> String {
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    let known = match ext {
        "html" => Some("text/html; charset=utf-8"),
        "js" | "mjs" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "json" => Some("application/json"),
        "webmanifest" => Some("application/manifest+json"),
        "svg" => Some("image/svg+xml"),
        "txt" | "" => Some("text/plain; charset=utf-8"),
        _ => None,
    };
    match known {
        Some(k) => k.to_owned(),
        None if guessed.starts_with("text/") => format!("{guessed}; charset=utf-8"),
        None => guessed.to_owned(),
    }
}

fn tile_origin_from_config() -> Option<String> {
    let file = Assets::get(CONFIG_FILE)?;
    let config: serde_json::Value = serde_json::from_slice(&file.data)
        .inspect_err(|e| tracing::warn!(error = %e, "web/public/config.json is not JSON"))
        .ok()?;
    let url = config.get("tiles")?.as_str()?;
    let origin = tile_origin(url);
    if origin.is_none() {
        tracing::warn!(
            tiles = url,
            "the basemap URL in config.json is not an absolute http(s) URL; the CSP will block it"
        );
    }
    origin
}

/// The CSP source for a Leaflet tile URL template: its scheme and host,
/// with Leaflet's `{s}` subdomain placeholder as a CSP wildcard. A relative
/// template is this server itself, which `'self'` already covers.
fn tile_origin(template: &str) -> Option<String> {
    if template.starts_with('/') && !template.starts_with("//") {
        return None;
    }
    let (scheme, rest) = template.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.replace("{s}", "*");
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'))
        && !host[1..].contains('*');
    valid.then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut req = Request::get(path);
        if let Some(tag) = if_none_match {
            req = req.header(header::IF_NONE_MATCH, tag);
        }
        build::<()>("*")
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    fn header<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn pages_carry_a_strict_policy() {
        for (path, _) in PAGES {
            let r = get(path, None).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
            let csp = header(&r, "content-security-policy");
            assert!(csp.contains("script-src 'self';"), "{csp}");
            if path == "/embed" {
                assert!(csp.contains("frame-ancestors *"), "{csp}");
                assert_eq!(header(&r, "x-frame-options"), "");
            } else {
                assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
                assert_eq!(header(&r, "x-frame-options"), "DENY");
            }
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert_eq!(header(&r, "x-content-type-options"), "nosniff");
            assert_eq!(
                header(&r, "referrer-policy"),
                "strict-origin-when-cross-origin"
            );
        }
    }

    #[tokio::test]
    async fn assets_have_their_types_and_revalidate() {
        let r = get("/vendor/leaflet/leaflet-src.esm.js", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        let tag = header(&r, "etag").to_owned();
        assert!(tag.starts_with('"'), "{tag}");
        let again = get("/vendor/leaflet/leaflet-src.esm.js", Some(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let css = get("/vendor/leaflet/leaflet.css", None).await;
        assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
        // The server-rendered follow-up and evaluation pages link it.
        let report = get("/css/report.css", None).await;
        assert_eq!(report.status(), StatusCode::OK);
        assert_eq!(header(&report, "content-type"), "text/css; charset=utf-8");
        let png = get("/vendor/leaflet/images/layers.png", None).await;
        assert_eq!(header(&png, "content-type"), "image/png");
    }

    #[tokio::test]
    async fn html_files_have_only_their_clean_path() {
        let r = build::<()>("*")
            .fallback(|| async { StatusCode::IM_A_TEAPOT })
            .oneshot(
                Request::get("/index.html")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(r.status(), StatusCode::IM_A_TEAPOT);
    }

    #[test]
    fn tile_hosts_become_csp_sources() {
        assert_eq!(
            tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.example.org")
        );
        assert_eq!(
            tile_origin("http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png").as_deref(),
            Some("http://127.0.0.1:8081")
        );
        assert_eq!(tile_origin("/tiles/{z}/{x}/{y}.png"), None);
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://evil.example;script-src *"), None);
        assert_eq!(tile_origin("https://a.{s}.example/x"), None);
    }
}
