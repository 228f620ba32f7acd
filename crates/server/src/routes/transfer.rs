//! Bulk import for integrations (tokens with the import scope) and export
//! of every layer with the list filters.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;
use trygg_core::Kind;
use trygg_core::import::{self, Format, Options};
use trygg_core::query::ListQuery;

use crate::auth::Caller;
use crate::extract::Params;
use crate::{ApiError, AppState};

/// An import body may be a large export; lists and writes stay small.
const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    let mut router = Router::new().route(
        "/api/v1/import",
        post(import_file).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
    );
    for kind in Kind::ALL {
        router = router.route(
            &format!("/api/v1/{}/export", kind.collection()),
            get(move |s: State<AppState>, c: Caller, p: Params| export(kind, s, c, p)),
        );
    }
    router
}

fn flag(v: &str, field: &str) -> Result<bool, ApiError> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            field,
            "true or false",
        )),
    }
}

/// `POST /api/v1/import?kind=incidents&format=csv[&crs=EPSG:3006][&columns=…]
/// [&delimiter=;][&encoding=windows-1252][&map=category=Misshandel:assault]…
/// [&default_duration=15m][&timezone=Europe/Stockholm][&skip_invalid=true][&dry_run=true]`
/// with the file as the body (gzip-compressed or not). All or nothing
/// unless `skip_invalid`; a refused file is a problem naming the field,
/// with the line in `location`.
async fn import_file(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bad = |field: &str, e: &trygg_core::Error| {
        ApiError::field(StatusCode::BAD_REQUEST, field, e.to_string())
    };
    let (mut kind, mut format, mut skip_invalid, mut dry_run) = (None, None, false, false);
    let mut settings = Vec::new();
    for (k, v) in &params {
        match k.as_str() {
            "kind" => kind = Some(v.parse::<Kind>().map_err(|e| bad("kind", &e))?),
            "format" => format = Some(Format::parse(v, "format").map_err(|e| bad("format", &e))?),
            "skip_invalid" => skip_invalid = flag(v, "skip_invalid")?,
            "dry_run" => dry_run = flag(v, "dry_run")?,
            name if import::OPTION_NAMES.contains(&name) => settings.push((name, v)),
            other => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    other,
                    format!(
                        "unknown parameter; this endpoint takes kind, format, skip_invalid, dry_run, {}",
                        import::OPTION_NAMES.join(", ")
                    ),
                ));
            }
        }
    }
    let kind = kind.ok_or_else(|| ApiError::field(StatusCode::BAD_REQUEST, "kind", "required"))?;
    let format = format.ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "format",
            "required: csv, geojson, polisen or policeuk",
        )
    })?;
    let mut opts = Options::new(kind, format);
    for (name, value) in settings {
        opts.set(name, value, name).map_err(|e| bad(name, &e))?;
    }
    let parsed = import::parse(&body, &opts, &state.area, Utc::now());
    if let Some(problem) = parsed
        .fatal
        .as_ref()
        .or_else(|| (!skip_invalid).then(|| parsed.rejects.first()).flatten())
    {
        let field = if problem.field.is_empty() {
            "body"
        } else {
            problem.field.as_str()
        };
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
            api_wording(&format!(
                "{problem}; nothing was imported ({} rows refused in all)",
                parsed.rejects.len().max(1)
            )),
        )
        .with_member("location", json!(problem.location)));
    }
    let summary = state
        .store
        .import_with(
            &parsed.features,
            &caller.actor(),
            Utc::now(),
            dry_run,
            &|_| {},
        )
        .await?;
    if !dry_run {
        state.layers.reload(state.store.as_ref(), kind).await?;
    }
    let rejects: Vec<_> = parsed
        .rejects
        .iter()
        .take(1000)
        .map(|r| json!({ "location": r.location, "field": r.field, "reason": api_wording(&r.reason) }))
        .collect();
    let notes: Vec<String> = parsed.notes.iter().map(|n| api_wording(n)).collect();
    Ok(Json(json!({
        "dry_run": dry_run,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "skipped": parsed.skipped,
        "merged": parsed.merged,
        "rejected": parsed.rejects.len(),
        "rejects": rejects,
        "notes": notes,
    }))
    .into_response())
}

/// An import message as an API caller needs it: core's messages name the
/// command line's flags (`--columns name=ATTRIBUTE`, `--crs`), which are
/// this endpoint's query parameters (`columns=name=ATTRIBUTE`, `crs`).
fn api_wording(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
            .unwrap_or(after.len());
        if name_len == 0 {
            out.push_str("--");
            rest = after;
            continue;
        }
        out.push_str(&after[..name_len].replace('-', "_"));
        rest = &after[name_len..];
        // A value follows as `=VALUE` in a query (`15m`, `name=…`, `utf-16le`).
        if let Some(value) = rest.strip_prefix(' ') {
            let word = value.split(' ').next().unwrap_or("");
            if word.contains(['=', ':']) || word.contains(|c: char| c.is_ascii_digit()) {
                out.push('=');
                rest = value;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every matching feature (not a page) as GeoJSON or CSV.
async fn export(
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let mut csv = false;
    let mut filters = Vec::new();
    for (k, v) in params {
        match k.as_str() {
            "format" => {
                csv = match v.as_str() {
                    "csv" => true,
                    "geojson" | "json" => false,
                    _ => {
                        return Err(ApiError::field(
                            StatusCode::BAD_REQUEST,
                            "format",
                            "geojson or csv",
                        ));
                    }
                };
            }
            "limit" | "after" => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    k,
                    "an export has every feature; page with the list endpoint instead",
                ));
            }
            _ => filters.push((k, v)),
        }
    }
    let mut q = ListQuery::parse(kind, &filters).map_err(ApiError::query)?;
    q.limit = trygg_core::query::MAX_LIMIT;
    let mut features = Vec::new();
    loop {
        let page = super::list_page(&state, kind, &q, caller.view()).await?;
        features.extend(page.features);
        match page.next_after {
            Some(a) => q.after = Some(a),
            None => break,
        }
    }
    if kind == Kind::Report {
        // Exports carry no respondent groups or contacts: they leave the system.
        for f in &mut features {
            if let trygg_core::attrs::Attributes::Report(r) = &mut f.attributes {
                r.respondent = None;
                r.contact = None;
            }
        }
    }
    let (body, content_type, ext) = if csv {
        (
            trygg_core::export::csv(kind, &features),
            "text/csv; charset=utf-8",
            "csv",
        )
    } else {
        (
            trygg_core::export::geojson(&features),
            "application/geo+json",
            "geojson",
        )
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"trygg-{}.{ext}\"",
        kind.collection()
    )) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::api_wording;

    #[test]
    fn flags_in_import_messages_become_query_parameters() {
        for (cli, api) in [
            (
                "no name; name the attribute with --columns name=ATTRIBUTE (this feature has namn)",
                "no name; name the attribute with columns=name=ATTRIBUTE (this feature has namn)",
            ),
            (
                "is in metres: name the coordinate system with --crs (SWEREF 99 TM is EPSG:3006)",
                "is in metres: name the coordinate system with crs (SWEREF 99 TM is EPSG:3006)",
            ),
            ("or --default-duration 15m", "or default_duration=15m"),
            (
                "or map it with --map category=Misshandlat:VALUE",
                "or map it with map=category=Misshandlat:VALUE",
            ),
            (
                "leave out --encoding to have it detected",
                "leave out encoding to have it detected",
            ),
            (
                "name it with --encoding utf-16le)",
                "name it with encoding=utf-16le)",
            ),
            ("a -- b, a value of --5", "a -- b, a value of --5"),
        ] {
            assert_eq!(api_wording(cli), api, "{cli}");
        }
    }
}
