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
