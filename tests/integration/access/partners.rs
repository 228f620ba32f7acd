//! `--field-presence own` over every aggregate: a field user of one partner
//! must learn nothing of another partner's presence from any answer. Each
//! route is asked twice as partner A's field user — before and after
//! partner B logs presence at the same place and times — and must answer
//! the same. The route list is checked against the policy table, so a new
//! read route fails here until it is added.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use trygg_server::auth::policy;
use trygg_tests::{feature, on_both_backends, point, square};

use crate::api::{TestApp, app, call, post};

/// The place and the spot both partners patrol.
const LON: f64 = 15.6214;
const LAT: f64 = 58.4108;

/// Answers are compared without what changes by itself between two calls.
fn stable(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for key in ["generated_at", "timeStamp"] {
                m.remove(key);
            }
            m.values_mut().for_each(stable);
        }
        Value::Array(items) => items.iter_mut().for_each(stable),
        _ => {}
    }
}

fn month_start(offset: i32) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    let mut y = now.year();
    let mut m = now.month() as i32 + offset;
    while m < 1 {
        m += 12;
        y -= 1;
    }
    Utc.with_ymd_and_hms(y, m as u32, 1, 0, 0, 0).unwrap()
}

fn month_label(t: chrono::DateTime<Utc>) -> String {
    format!("{}-{:02}", t.year(), t.month())
}

/// Presence logs of one partner: at the place last month and this month
/// (ended an hour ago at the latest), and on a track across town.
async fn patrol(app: &TestApp, token: &str, unit: &str, shift_min: i64) {
    let auth = format!("Bearer {token}");
    let now = Utc::now();
    let mut starts = vec![
        month_start(-1) + Duration::days(9) + Duration::hours(20),
        month_start(-1) + Duration::days(20) + Duration::hours(21),
    ];
    let this_month = month_start(0) + Duration::hours(8);
    if this_month + Duration::hours(2) < now {
        starts.push(this_month);
    }
    for (i, start) in starts.into_iter().enumerate() {
        let start = start + Duration::minutes(shift_min);
        let log = point(
            LON + 0.0002 * i as f64,
            LAT,
            json!({ "unit_type": unit, "unit": format!("{unit} {i}"), "started_at": start, "ended_at": start + Duration::minutes(14) }),
        );
        let r = call(
            app,
            Method::POST,
            "/api/v1/presence",
            Some(log.to_string()),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let track = feature(
            json!({ "type": "LineString", "coordinates": [[15.60, 58.40], [15.61, 58.405]] }),
            json!({ "unit_type": unit, "started_at": start + Duration::hours(1), "ended_at": start + Duration::hours(2) }),
        );
        let r = call(
            app,
            Method::POST,
            "/api/v1/presence",
            Some(track.to_string()),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

/// Every read route that computes over presence (or could), with a URL
/// that exercises it. Keyed by the policy table's path, or by the path
/// itself for routes outside `/api/` (OGC, tiles).
#[expect(clippy::too_many_lines, reason = "one table of URLs, a line each")]
fn aggregate_urls(place: &str) -> Vec<(&'static str, String)> {
    let last = month_label(month_start(-1));
    let this = month_label(month_start(0));
    let year = month_start(-1).year();
    let window = format!(
        "{}/..",
        month_start(-13).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let mut urls = vec![
        (
            "/api/v1/presence",
            "/api/v1/presence?limit=10000".to_owned(),
        ),
        (
            "/api/v1/presence/export",
            "/api/v1/presence/export?format=csv".to_owned(),
        ),
        (
            "/api/v1/presence/export",
            "/api/v1/presence/export?format=geojson".to_owned(),
        ),
        (
            "/api/v1/layers/{kind}/hexagons",
            "/api/v1/layers/presence/hexagons?resolution=9".to_owned(),
        ),
        (
            "/api/v1/layers/{kind}/hexagons",
            "/api/v1/layers/presence/hexagons?resolution=11".to_owned(),
        ),
        (
            "/api/v1/layers/{kind}/points",
            "/api/v1/layers/presence/points".to_owned(),
        ),
        (
            "/tiles/{kind}/{z}/{x}/{y}.mvt",
            "/tiles/presence/15/17805/9798.mvt".to_owned(),
        ),
        (
            "/tiles/{kind}/{z}/{x}/{y}.mvt",
            "/tiles/presence/9/278/153.mvt".to_owned(),
        ),
        (
            "/api/v1/followup/{period}",
            format!("/api/v1/followup/{last}"),
        ),
        (
            "/api/v1/followup/{period}",
            format!("/api/v1/followup/{this}"),
        ),
        (
            "/api/v1/followup/{period}",
            format!("/api/v1/followup/{last}?format=csv"),
        ),
        (
            "/api/v1/followup/{period}",
            format!("/api/v1/followup/{year}"),
        ),
        (
            "/api/v1/analysis/picture",
            format!("/api/v1/analysis/picture?resolution=9&datetime={window}"),
        ),
        (
            "/api/v1/analysis/picture",
            format!("/api/v1/analysis/picture?resolution=10&datetime={window}"),
        ),
        (
            "/api/v1/analysis/hotspots",
            format!("/api/v1/analysis/hotspots?resolution=9&datetime={window}"),
        ),
        (
            "/api/v1/analysis/emerging",
            "/api/v1/analysis/emerging?resolution=9&months=3".to_owned(),
        ),
        (
            "/api/v1/analysis/dosage",
            format!("/api/v1/analysis/dosage?period={last}"),
        ),
        (
            "/api/v1/analysis/dosage",
            format!("/api/v1/analysis/dosage?period={this}"),
        ),
        (
            "/api/v1/analysis/evaluation",
            format!("/api/v1/analysis/evaluation?place={place}"),
        ),
        (
            "/api/v1/analysis/yearly",
            format!("/api/v1/analysis/yearly?year={year}"),
        ),
        (
            "/api/v1/analysis/yearly",
            format!("/api/v1/analysis/yearly?year={}", Utc::now().year()),
        ),
    ];
    // Lists and exports of the other kinds: nothing of presence in them,
    // but they are reads, and a reads' rule must hold on every one.
    for c in ["incidents", "reports", "measures", "places", "areas"] {
        urls.push(("/api/v1/{collection}", format!("/api/v1/{c}?limit=10000")));
        urls.push((
            "/api/v1/{collection}/export",
            format!("/api/v1/{c}/export?format=csv"),
        ));
    }
    urls
}

/// The read routes of the policy table that answer about many records:
/// every GET except single records, accounts and the public API (public
/// answers are aggregates of closed months of every partner, by design).
fn aggregate_routes() -> BTreeSet<String> {
    policy::routes()
        .into_iter()
        .filter(|(m, p, _)| {
            *m == Method::GET
                && !p.ends_with("{id}")
                && !p.starts_with("/api/v1/auth/")
                && !p.starts_with("/api/v1/admin/")
                && !p.starts_with("/api/v1/public/")
        })
        .map(|(_, p, _)| {
            // The per-kind routes, once each.
            let kinds = [
                "incidents",
                "reports",
                "presence",
                "measures",
                "places",
                "areas",
            ];
            let mut p = p;
            for k in kinds {
                if p == format!("/api/v1/{k}") {
                    p = if k == "presence" {
                        p
                    } else {
                        "/api/v1/{collection}".to_owned()
                    };
                } else if p == format!("/api/v1/{k}/export") {
                    p = if k == "presence" {
                        p
                    } else {
                        "/api/v1/{collection}/export".to_owned()
                    };
                }
            }
            p
        })
        .collect()
}

/// Figures that run up to now (hours since the last presence at a place
/// in the current period) may grow between two calls, by at most the time
/// that passed: more or less is a change of data.
const CLOCK_FIGURES: [&str; 2] = ["longest_without_presence_h", "hours_since_presence"];

/// Whether two answers are the same, a clock figure allowed to differ by
/// up to `elapsed_h`; the path of the first difference otherwise.
fn same(a: &Value, b: &Value, path: &str, elapsed_h: f64) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if CLOCK_FIGURES.contains(&k.as_str())
                    && let (Some(p), Some(q)) = (va.as_f64(), vb.as_f64())
                    && (q - p).abs() <= elapsed_h + 1e-9
                {
                    continue;
                }
                // A patrol suggestion's score is its hot level times the
                // hours since its last presence (capped): with both of those
                // the same, only the clock moved it.
                if k == "score"
                    && ["hot_level", "last_presence_ms"]
                        .iter()
                        .all(|f| x.get(*f).is_some() && x.get(*f) == y.get(*f))
                {
                    continue;
                }
                same(va, vb, &format!("{path}.{k}"), elapsed_h)?;
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .try_for_each(|(i, (p, q))| same(p, q, &format!("{path}[{i}]"), elapsed_h)),
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} then {b}")),
    }
}

struct Answer {
    url: String,
    body: Value,
    /// When the call was made and when its answer came: the server read
    /// its clock somewhere in between.
    sent: std::time::Instant,
    received: std::time::Instant,
}

/// Every OGC collection the caller is offered, as the server lists it: a
/// collection added later is covered without touching this test.
async fn ogc_urls(app: &TestApp, token: &str) -> Vec<(&'static str, String)> {
    let auth = format!("Bearer {token}");
    let r = call(
        app,
        Method::GET,
        "/ogc/collections",
        None,
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids: Vec<String> = r.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("presence")), "{ids:?}");
    ids.into_iter()
        .map(|id| {
            (
                "/ogc/collections/{id}/items",
                format!("/ogc/collections/{id}/items?limit=10000"),
            )
        })
        .collect()
}

async fn answers(app: &TestApp, token: &str, urls: &[(&str, String)]) -> Vec<Answer> {
    let auth = format!("Bearer {token}");
    let mut out = Vec::new();
    for (_, url) in urls {
        let sent = std::time::Instant::now();
        let r = call(app, Method::GET, url, None, &[("authorization", &auth)]).await;
        let received = std::time::Instant::now();
        assert!(r.status.is_success(), "{url}: {} {}", r.status, r.body);
        let mut body = r.body;
        stable(&mut body);
        out.push(Answer {
            url: url.clone(),
            body,
            sent,
            received,
        });
    }
    out
}

on_both_backends! {
    async fn no_answer_a_field_user_gets_changes_with_another_partners_presence(store) {
        let app = app(store).await;
        // A priority place around the spot both partners patrol, and some
        // incidents for the analyses to work on.
        let place = post(&app, "/api/v1/places", &feature(square(LON, LAT, 150.0), json!({ "name": "Torget", "active_from": month_start(-14) }))).await;
        assert_eq!(place.status, StatusCode::CREATED, "{}", place.body);
        let place_id = place.body["id"].as_str().unwrap().to_owned();
        for i in 0..12 {
            let t = month_start(-(i % 6)) + Duration::days(2) + Duration::hours(i64::from(i));
            if t < Utc::now() {
                post(&app, "/api/v1/incidents", &point(LON + 0.0003 * f64::from(i), LAT, json!({ "category": "vandalism", "occurred_at": t }))).await;
            }
        }
        let mut urls = aggregate_urls(&place_id);
        urls.extend(ogc_urls(&app, &app.ids.field).await);
        let covered: BTreeSet<String> = urls.iter().filter(|(p, _)| p.starts_with("/api/")).map(|(p, _)| (*p).to_owned()).collect();
        let mut wanted = aggregate_routes();
        wanted.insert("/tiles/{kind}/{z}/{x}/{y}.mvt".to_owned());
        for p in &covered {
            assert!(wanted.contains(p), "{p} is not a read route of the policy table");
        }
        for p in &wanted {
            assert!(covered.contains(p) || urls.iter().any(|(k, _)| k == p), "read route {p} is not covered by this test");
        }

        patrol(&app, &app.ids.field, "municipal_staff", 0).await;
        let before = answers(&app, &app.ids.field, &urls).await;
        // Partner B patrols the same place at the same times, and more.
        patrol(&app, &app.ids.field_other, "police", 3).await;
        patrol(&app, &app.ids.field_other, "police", 40).await;
        let after = answers(&app, &app.ids.field, &urls).await;
        for (a, b) in before.iter().zip(&after) {
            let elapsed_h = b.received.duration_since(a.sent).as_secs_f64() / 3600.0;
            if let Err(diff) = same(&a.body, &b.body, "", elapsed_h) {
                panic!("{}: partner B's presence changed what partner A's field user sees: {diff}", a.url);
            }
        }
        // And it is there: a planner's answers do change.
        let planner_view = answers(&app, &app.ids.planner, &urls[..1]).await;
        assert_ne!(planner_view[0].body, before[0].body, "the planner sees both partners");
    }
}
