//! The parameters of every route: path segments with their formats, query
//! filters with the vocabularies' enums (the component schemas derived
//! from core's types), comma-separated lists as OpenAPI form arrays.

use serde_json::{Value, json};
use trygg_core::Kind;

use super::kind_of;
use super::schemas::reference;

pub(super) fn query(name: &str, description: &str, schema: &Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// A comma-separated list of a vocabulary (`?category=theft,assault`).
fn list_of(description: &str, name: &str, vocabulary: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "style": "form", "explode": false,
        "schema": { "type": "array", "minItems": 1, "items": reference(vocabulary) },
    })
}

const MONTH: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])$";

fn kind_filters(kind: Kind) -> Vec<Value> {
    match kind {
        Kind::Incident => vec![list_of(
            "incident categories",
            "category",
            "IncidentCategory",
        )],
        Kind::Report => vec![
            list_of("reasons", "reason", "Reason"),
            list_of("moderation status", "status", "ReportStatus"),
            list_of("report source", "source", "ReportSource"),
        ],
        Kind::Presence => vec![list_of("unit types", "unit_type", "UnitType")],
        Kind::Measure => vec![
            list_of("measure kinds", "kind", "MeasureKind"),
            list_of("measure status", "status", "MeasureStatus"),
        ],
        Kind::Place | Kind::Area => vec![],
    }
}

/// `category=weight,…`, weights finite and ≥ 0, as `CategoryWeights::parse`
/// reads them: spaces around names and numbers, empty pairs skipped.
fn weights() -> Value {
    let category = trygg_core::attrs::IncidentCategory::NAMES.join("|");
    let number = r"\+?([0-9]{1,6}(\.[0-9]{0,6})?|\.[0-9]{1,6})([eE][+-]?[0-9]{1,2})?";
    let pair = format!(" *({category}) *= *{number} *");
    query(
        "weights",
        "category weights, category=weight,… (weights ≥ 0)",
        &json!({ "type": "string", "pattern": format!("^[ ,]*({pair}(,[ ,]*{pair})*[ ,]*)?$") }),
    )
}

fn distance() -> Value {
    query(
        "distance",
        "neighbourhood rings",
        &json!({ "type": "integer", "minimum": 1, "maximum": trygg_core::analytics::hotspots::MAX_DISTANCE }),
    )
}

fn bbox() -> Value {
    json!({
        "name": "bbox", "in": "query", "required": false,
        "description": "min_lon,min_lat,max_lon,max_lat (WGS84; latitudes within ±90, min ≤ max), or the six numbers of a box with heights (min_lon,min_lat,min_h,max_lon,max_lat,max_h; heights ignored)",
        "style": "form", "explode": false,
        "schema": { "anyOf": [
            { "type": "array", "minItems": 4, "maxItems": 4, "items": { "type": "number", "minimum": -180, "maximum": 180 } },
            { "type": "array", "minItems": 6, "maxItems": 6, "items": { "type": "number" } },
        ] },
    })
}

fn datetime() -> Value {
    let day = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    query(
        "datetime",
        "an instant (RFC 3339), a date, or start/end with .. for an open end",
        &json!({ "anyOf": [
            { "type": "string", "format": "date-time" },
            { "type": "string", "format": "date" },
            { "type": "string", "pattern": format!("^({day}|\\.\\.)/({day}|\\.\\.)$") },
        ] }),
    )
}

fn common_filters() -> Vec<Value> {
    vec![
        bbox(),
        datetime(),
        query(
            "f",
            "json (accepted for OGC API clients)",
            &one_of(&["json"]),
        ),
    ]
}

fn path_parameter(path: &str, name: &str) -> Value {
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.collection()).collect();
    let schema = match name {
        "id" if path.starts_with("/ogc/") => json!({ "type": "string" }),
        "id" if path.starts_with("/open311/") => {
            json!({ "type": "string", "pattern": r"^[0-9a-f-]{36}(\.json)?$" })
        }
        "id" => json!({ "type": "string", "format": "uuid" }),
        "kind" => json!({ "type": "string", "enum": kinds }),
        "period" => json!({ "type": "string", "pattern": MONTH }),
        "z" => {
            json!({ "type": "integer", "minimum": trygg_core::mvt::MIN_ZOOM, "maximum": trygg_core::mvt::MAX_ZOOM })
        }
        "x" | "y" => json!({ "type": "integer", "minimum": 0 }),
        _ => string(),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

pub(super) fn parameters(method: &str, path: &str) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|seg| {
            seg.strip_prefix('{')
                .and_then(|s| s.split_once('}'))
                .map(|(name, _)| name)
        })
        .map(|name| path_parameter(path, name))
        .collect();
    let resolution =
        |min: u8, max: u8| json!({ "type": "integer", "minimum": min, "maximum": max });
    match path {
        p if p.ends_with("/export") => {
            out.push(query("format", "geojson (default) or csv", &one_of(&["geojson", "csv"])));
            out.extend(common_filters());
            out.extend(kind_of(p).map(kind_filters).unwrap_or_default());
        }
        p if p.starts_with("/api/v1/public/layers/") => {
            out.push(query(
                "period",
                "a closed month, YYYY-MM (default: the last one)",
                &json!({ "type": "string", "pattern": MONTH }),
            ));
            out.push(query(
                "resolution",
                "only the configured public resolution",
                &resolution(5, 11),
            ));
            out.push(bbox());
        }
        "/api/v1/public/measures" => {
            out.push(query(
                "period",
                "a closed month, YYYY-MM",
                &json!({ "type": "string", "pattern": MONTH }),
            ));
        }
        "/api/v1/layers/{kind}/hexagons" => {
            out.push(json!({ "name": "resolution", "in": "query", "required": true, "schema": resolution(5, 11) }));
            out.extend(common_filters());
        }
        "/api/v1/layers/{kind}/points" => out.extend(common_filters()),
        super::super::tiles::PATH => {
            out.push(query(
                "resolution",
                "H3 resolution; by default the zoom's (z 15 → 10)",
                &resolution(5, 11),
            ));
            out.push(datetime());
        }
        p if p.starts_with("/api/v1/analysis/")
            || p == "/api/v1/admin/audit"
            || p == "/api/v1/import" =>
        {
            out.extend(report_parameters(p));
        }
        // The OGC API's own document (/ogc/api) says more; these are the
        // same parameters.
        p if p.starts_with("/ogc/collections/{id}/items") && !p.ends_with("{feature}") => {
            out.extend(
                super::super::ogc::api::item_parameters()
                    .into_iter()
                    .map(|(_, p)| p),
            );
        }
        p if p.starts_with("/ogc") => out.push(query("f", "json", &one_of(&["json"]))),
        p if kind_of(p).is_some() && !p.ends_with('}') && !p.ends_with("/moderation") => {
            let kind = kind_of(p).unwrap_or(Kind::Area);
            out.extend(common_filters());
            out.push(query("limit", "1–10000, default 100", &json!({ "type": "integer", "minimum": 1, "maximum": 10_000, "default": 100 })));
            out.push(query("after", "cursor from the next link", &json!({ "type": "string", "format": "uuid" })));
            out.extend(kind_filters(kind));
        }
        "/api/v1/followup/{period}" | "/api/v1/public/followup/{period}" => out.push(query(
            "format",
            "json (default), csv, html or svg",
            &one_of(&["json", "csv", "html", "svg"]),
        )),
        "/open311/v2/requests.json" if method == "get" => out.push(json!({
            "name": "service_request_id", "in": "query", "required": true,
            "description": "the ids to follow, comma-separated (at most 50)",
            "style": "form", "explode": false,
            "schema": { "type": "array", "minItems": 1, "maxItems": 50, "items": { "type": "string", "format": "uuid" } },
        })),
        _ => {}
    }
    out
}

/// The analyses', the audit log's and the import's query parameters.
fn report_parameters(path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let int = json!({ "type": "integer", "minimum": 0 });
    let resolution =
        |min: u8, max: u8| json!({ "type": "integer", "minimum": min, "maximum": max });
    match path {
        "/api/v1/analysis/picture" | "/api/v1/analysis/hotspots" => {
            out.push(query("resolution", "9 (default) or 10", &resolution(9, 10)));
            out.push(datetime());
            out.push(weights());
            if path.ends_with("hotspots") {
                out.push(distance());
                out.push(query(
                    "fdr_q",
                    "false discovery rate",
                    &json!({ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 }),
                ));
            }
        }
        "/api/v1/analysis/emerging" => {
            out.push(query("resolution", "9 (default) or 10", &resolution(9, 10)));
            out.push(query(
                "months",
                "how many months, 3 to 36",
                &json!({ "type": "integer", "minimum": 3, "maximum": 36 }),
            ));
            out.push(query(
                "end",
                "the last month, YYYY-MM",
                &json!({ "type": "string", "pattern": MONTH }),
            ));
            out.push(weights());
            out.push(distance());
        }
        "/api/v1/analysis/dosage" => out.push(query(
            "period",
            "a closed month, YYYY-MM",
            &json!({ "type": "string", "pattern": MONTH }),
        )),
        "/api/v1/analysis/evaluation" => {
            out.push(query(
                "place",
                "a place's id",
                &json!({ "type": "string", "format": "uuid" }),
            ));
            out.push(query(
                "measure",
                "a measure's id",
                &json!({ "type": "string", "format": "uuid" }),
            ));
            out.push(query(
                "date",
                "the date it began",
                &json!({ "type": "string", "format": "date" }),
            ));
            out.push(query(
                "format",
                "json (default) or html",
                &one_of(&["json", "html"]),
            ));
        }
        "/api/v1/analysis/yearly" => {
            out.push(query(
                "year",
                "the year (default: the last one)",
                &json!({ "type": "integer", "minimum": 2, "maximum": 9999 }),
            ));
            out.push(query(
                "format",
                "json (default) or html",
                &one_of(&["json", "html"]),
            ));
        }
        "/api/v1/admin/audit" => {
            out.push(query("before", "entries older than this id", &int));
            out.push(query(
                "limit",
                "1–10000",
                &json!({ "type": "integer", "minimum": 1, "maximum": 10_000 }),
            ));
            out.push(query("format", "json or csv", &one_of(&["json", "csv"])));
        }
        "/api/v1/import" => out.extend(import_parameters()),
        _ => {}
    }
    out
}

/// What an import file is and how to read it.
fn import_parameters() -> Vec<Value> {
    let mut out = Vec::new();
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.collection()).collect();
    out.push(json!({ "name": "kind", "in": "query", "required": true, "schema": one_of(&kinds) }));
    out.push(query(
        "format",
        "the file's format",
        &one_of(&["csv", "geojson", "polisen", "policeuk"]),
    ));
    out.push(query(
        "crs",
        "WGS84, EPSG:3006 or EPSG:3007–3018",
        &string(),
    ));
    out.push(query(
        "columns",
        "CSV headers, e.g. x=E,y=N,time=datum",
        &string(),
    ));
    out.push(query(
        "source",
        "source recorded on CSV incidents",
        &string(),
    ));
    out.push(query(
        "skip_invalid",
        "true: import the valid rows and list the others",
        &boolean(),
    ));
    out.push(query(
        "dry_run",
        "true: check and count, write nothing",
        &boolean(),
    ));
    out.push(query(
        "include_summaries",
        "police feed: include nightly summaries",
        &boolean(),
    ));
    for (name, d) in [
        (
            "delimiter",
            "CSV delimiter: `,`, `;` or tab (default: detected)",
        ),
        (
            "encoding",
            "utf-8, windows-1252, … (default: UTF-8, else Windows-1252)",
        ),
        (
            "default_duration",
            "length of a presence without an end or duration, e.g. 15m",
        ),
        (
            "timezone",
            "IANA zone of times without an offset (default Europe/Stockholm)",
        ),
    ] {
        out.push(query(name, d, &string()));
    }
    out.push(json!({
        "name": "map", "in": "query", "required": false, "style": "form", "explode": true,
        "description": "values mapped onto Trygg's, e.g. category=Misshandel:assault,Rån:robbery; repeatable",
        "schema": { "type": "array", "items": { "type": "string" } },
    }));
    out
}
