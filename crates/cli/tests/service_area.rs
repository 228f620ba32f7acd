#![allow(
    clippy::unwrap_used,
    clippy::duration_suboptimal_units,
    reason = "test code: a panic is the failure report"
)]
//! The database remembers its service area: recorded at first use, read
//! by every command, a different one refused naming both, and changed only
//! by `trygg service-area set`, which re-checks every stored record.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use support::{cli, start, wait_ready};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Runs `trygg` expecting it to fail; returns what it said on stderr.
fn refused(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trygg"))
        .args(args)
        .args(["--database-url", db])
        .env("TRYGG_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "trygg {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

fn fresh() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("area.db").display());
    (dir, db)
}

#[test]
fn serve_without_an_area_on_an_empty_database_says_what_to_pass() {
    let (_dir, db) = fresh();
    let said = refused(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        said.contains("does not know its service area yet"),
        "{said}"
    );
    assert!(
        said.contains("--service-area") && said.contains("--demo"),
        "{said}"
    );
    // Nothing was recorded by the refusal.
    assert!(cli(&db, &["service-area", "show"]).starts_with("no service area recorded yet"));
}

#[test]
fn every_command_reads_the_recorded_area_and_refuses_another() {
    let (_dir, db) = fresh();
    let set = cli(&db, &["service-area", "set", "Malmö"]);
    assert!(
        set.contains("now serves Malmö (municipalities:1280, time zone Europe/Stockholm)"),
        "{set}"
    );
    let shown = cli(&db, &["service-area", "show"]);
    assert!(shown.contains("1280 Malmö (Skåne län)"), "{shown}");

    // Uppsala's districts lie outside Malmö: refused, nothing written.
    let uppsala = fixture("uppsala_regso_2025.geojson");
    let said = refused(
        &db,
        &["import", &uppsala, "--kind", "areas", "--format", "geojson"],
    );
    assert!(
        said.contains("km outside the service area Malmö (1280)"),
        "{said}"
    );
    assert!(said.contains("nothing was imported"), "{said}");

    // Another area on the command line is refused, naming both.
    let linkoping = fixture("linkoping_regso_2025.geojson");
    let said = refused(
        &db,
        &[
            "import",
            &linkoping,
            "--kind",
            "areas",
            "--format",
            "geojson",
            "--service-area",
            "0580",
        ],
    );
    assert!(
        said.contains("this database serves Malmö") && said.contains("Linköping"),
        "{said}"
    );
    assert!(said.contains("trygg service-area set 0580"), "{said}");
    let said = refused(&db, &["user", "list", "--service-area", "Uppsala"]);
    assert!(said.contains("Malmö") && said.contains("Uppsala"), "{said}");
    let said = refused(
        &db,
        &["serve", "--listen", "127.0.0.1:0", "--service-area", "0580"],
    );
    assert!(
        said.contains("this database serves Malmö") && said.contains("Linköping"),
        "{said}"
    );
    let said = refused(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--timezone",
            "Europe/Oslo",
        ],
    );
    assert!(
        said.contains("Europe/Stockholm") && said.contains("Europe/Oslo"),
        "{said}"
    );

    // The same area again is fine, and the server serves what is stored.
    let server = start(Some(&db), &["--service-area", "1280"]);
    wait_ready(&server.addr);
    assert!(
        server.log().contains("service area loaded"),
        "the server never loaded its area"
    );
}

#[test]
fn changing_the_area_rechecks_every_stored_record() {
    let (_dir, db) = fresh();
    cli(&db, &["service-area", "set", "0580"]);
    let linkoping = fixture("linkoping_regso_2025.geojson");
    let said = cli(
        &db,
        &[
            "import", &linkoping, "--kind", "areas", "--format", "geojson",
        ],
    );
    assert!(said.contains("32 inserted"), "{said}");

    // The county holds Linköping: nothing falls outside.
    let said = cli(&db, &["service-area", "set", "Östergötlands län"]);
    assert!(
        said.contains("now serves Östergötlands län (county:05"),
        "{said}"
    );

    // Malmö does not: refused with counts and examples, nothing changed.
    let said = refused(&db, &["service-area", "set", "Malmö"]);
    assert!(
        said.contains("32 stored records lie outside Malmö (32 areas)"),
        "{said}"
    );
    assert!(
        said.contains("for example:") && said.contains("km outside the service area Malmö"),
        "{said}"
    );
    assert!(
        said.contains("--outside delete") && said.contains("--outside keep"),
        "{said}"
    );
    assert!(cli(&db, &["service-area", "show"]).starts_with("Östergötlands län"));
    let said = cli(
        &db,
        &[
            "service-area",
            "set",
            "Malmö",
            "--outside",
            "keep",
            "--dry-run",
        ],
    );
    assert!(
        said.contains("would be kept; nothing was changed"),
        "{said}"
    );
    assert!(cli(&db, &["service-area", "show"]).starts_with("Östergötlands län"));

    let said = cli(
        &db,
        &["service-area", "set", "Malmö", "--outside", "delete"],
    );
    assert!(
        said.contains("32 records outside the new area (32 areas) deleted"),
        "{said}"
    );
    assert!(said.contains("(was Östergötlands län"), "{said}");
    let left = cli(&db, &["export", "--kind", "areas"]);
    assert!(left.contains("\"features\":[]"), "{left}");
}

#[test]
fn a_boundary_file_in_sweref_serves_with_its_own_name_and_time_zone() {
    let (dir, db) = fresh();
    // Linköping's inner city, 2 × 2 km in SWEREF 99 TM, without a crs member.
    let file = dir.path().join("innerstaden.geojson");
    std::fs::write(
        &file,
        r#"{"type":"Feature","properties":{"namn":"Innerstaden"},"geometry":{"type":"Polygon","coordinates":[[[535300,6473600],[537300,6473600],[537300,6475600],[535300,6475600],[535300,6473600]]]}}"#,
    )
    .unwrap();
    let file = file.display().to_string();
    let said = cli(
        &db,
        &[
            "service-area",
            "set",
            &file,
            "--service-area-crs",
            "EPSG:3006",
            "--timezone",
            "Europe/Stockholm",
        ],
    );
    assert!(said.contains("now serves Innerstaden (boundary"), "{said}");
    // Linköping's districts reach far outside it.
    let linkoping = fixture("linkoping_regso_2025.geojson");
    let said = refused(
        &db,
        &[
            "import", &linkoping, "--kind", "areas", "--format", "geojson",
        ],
    );
    assert!(
        said.contains("outside the service area Innerstaden (boundary)"),
        "{said}"
    );
    // The same file again is the same area.
    let server = start(
        Some(&db),
        &["--service-area", &file, "--service-area-crs", "EPSG:3006"],
    );
    wait_ready(&server.addr);
}

/// Motala's first day with the real binary, as the README's "Getting
/// started" walks it: serve without the demo, users from the CLI (the
/// admin with a second factor), the districts cut from SCB's national
/// RegSO file and the police feed imported while the server runs,
/// presence from the field, the picture and the follow-up. The county
/// midpoint the feed gives many of Motala's events lies outside Motala.
#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one first day, step by step, as the README walks it"
)]
fn motala_from_first_start_to_follow_up_with_the_real_binary() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    use support::{request, request_as, user_token};

    let (dir, db) = fresh();
    let server = start(Some(&db), &["--service-area", "Motala"]);
    wait_ready(&server.addr);

    // Users: an admin who enrols a second factor, a planner, field staff.
    cli(
        &db,
        &[
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "admin",
            "--organisation",
            "Motala kommun",
        ],
    );
    let enrolled = cli(
        &db,
        &["user", "second-factor", "enrol", "--username", "admin"],
    );
    let base32 = enrolled
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_else(|| panic!("no secret in {enrolled}"));
    let secret = trygg_core::second_factor::secret_from_base32(base32).unwrap();
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let code = trygg_core::second_factor::code_at(&secret, now).unwrap();
    let login =
        serde_json::json!({ "username": "admin", "password": support::PASSWORD, "code": code });
    let (status, _, body) = request(
        &server.addr,
        "POST",
        "/api/v1/auth/login",
        Some(&login.to_string()),
    );
    assert_eq!(status, 200, "{body}");
    let planner = user_token(&db, "planerare", "planner", "read,write,import");
    let field = user_token(&db, "patrull", "field", "read,write");

    // Motala's RegSO districts, cut from the national file by kommunkod.
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture("sweden_regso_2025.geojson.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let motala: Vec<&serde_json::Value> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["kommunkod"] == "0583")
        .collect();
    let districts = dir.path().join("motala_regso.geojson");
    std::fs::write(
        &districts,
        serde_json::json!({ "type": "FeatureCollection", "features": motala }).to_string(),
    )
    .unwrap();
    let said = cli(
        &db,
        &[
            "import",
            districts.to_str().unwrap(),
            "--kind",
            "areas",
            "--format",
            "geojson",
        ],
    );
    assert!(
        said.contains(&format!("{} inserted", motala.len())) && said.contains("0 rejected"),
        "{said}"
    );

    // The police feed, without --skip-invalid: every event the feed names
    // to Motala, wherever its midpoint lies.
    let feed = fixture("polisen_events_ostergotland.json");
    let events =
        trygg_core::polisen::parse_events(&std::fs::read_to_string(&feed).unwrap()).unwrap();
    let mut per_month = std::collections::BTreeMap::<String, u64>::new();
    for e in &events {
        if trygg_core::polisen::category_of(&e.kind).is_some() && e.municipality() == "Motala" {
            let month = e
                .published_at("datetime")
                .unwrap()
                .with_timezone(&chrono_tz::Europe::Stockholm)
                .format("%Y-%m")
                .to_string();
            *per_month.entry(month).or_default() += 1;
        }
    }
    let want: u64 = per_month.values().sum();
    assert!(want > 10, "{want}");
    let said = cli(
        &db,
        &[
            "import",
            &feed,
            "--kind",
            "incidents",
            "--format",
            "polisen",
        ],
    );
    assert!(
        said.contains(&format!("{want} inserted")) && said.contains("0 rejected"),
        "{said}"
    );

    // The running server picks the imports up; the picture says the events
    // it cannot put in a hexagon.
    let window = "2020-01-01T00:00:00Z/2030-01-01T00:00:00Z";
    let picture = format!("/api/v1/analysis/picture?resolution=9&datetime={window}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (status, _, body) = request_as(&server.addr, "GET", &picture, None, Some(&planner));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["omitted"]["coarse_position"] == want {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the police import never reached the server: {}",
            v["omitted"]
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(body["datetime"], window);
    assert_eq!(
        body["municipalities"][0]["incidents_without_position"],
        want as f64
    );

    // Presence at Motala's square from the field; 200 m west of the
    // municipality's westernmost point is refused, naming the distance.
    let end = chrono::Utc::now() - chrono::Duration::minutes(5);
    let props = serde_json::json!({ "unit_type": "police", "started_at": end - chrono::Duration::minutes(30), "ended_at": end });
    let at = |lon: f64, lat: f64| {
        serde_json::json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": props }).to_string()
    };
    let (status, _, body) = request_as(
        &server.addr,
        "POST",
        "/api/v1/presence",
        Some(&at(15.0364, 58.5378)),
        Some(&field),
    );
    assert_eq!(status, 201, "{body}");
    let area = trygg_cli::data::service_area("0583").unwrap();
    let west = area
        .shape
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter())
        .copied()
        .min_by(|a, b| a.x.total_cmp(&b.x))
        .unwrap();
    let lon = west.x - 200.0 / (111_320.0 * west.y.to_radians().cos());
    let (status, _, body) = request_as(
        &server.addr,
        "POST",
        "/api/v1/presence",
        Some(&at(lon, west.y)),
        Some(&field),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("m outside the service area Motala (0583)"),
        "{body}"
    );
    let (status, _, body) = request_as(&server.addr, "GET", &picture, None, Some(&planner));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let in_districts: Vec<&serde_json::Value> = v["districts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["presence_minutes"].as_f64().unwrap() > 0.0)
        .collect();
    assert_eq!(in_districts.len(), 1, "{}", v["districts"]);

    // The follow-up of Motala's busiest month counts its police events.
    let (month, n) = per_month.iter().max_by_key(|(_, n)| **n).unwrap();
    let (status, _, body) = request_as(
        &server.addr,
        "GET",
        &format!("/api/v1/followup/{month}"),
        None,
        Some(&planner),
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["figures"]["municipalities"][0]["name"], "Motala");
    assert_eq!(
        v["figures"]["municipalities"][0]["incidents"]["current"],
        *n
    );
    assert_eq!(v["figures"]["incidents"]["total"]["current"], *n);
}
