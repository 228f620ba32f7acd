//! Import and export through the same functions `trygg import` and
//! `trygg export` use, on both backends: every fixture format round-trips,
//! re-imports change nothing, and a malformed file imports nothing and
//! names the line.

use std::path::{Path, PathBuf};

use trygg_cli::transfer::{ImportArgs, export, import};
use trygg_core::Kind;
use trygg_core::import::Format;
use trygg_core::service_area::ServiceArea;
use trygg_tests::{linkoping, on_both_backends};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

pub(crate) fn args(file: &Path, kind: Kind, format: Format) -> ImportArgs<'_> {
    ImportArgs {
        file,
        kind,
        format,
        crs: None,
        columns: None,
        source: None,
        skip_invalid: false,
        rejects: None,
        dry_run: false,
        include_summaries: false,
    }
}

/// Greater London, roughly: the police.uk fixture's service area.
fn london() -> ServiceArea {
    use geo_types::{MultiPolygon, polygon};
    let p = polygon![(x: -0.52, y: 51.27), (x: 0.34, y: 51.27), (x: 0.34, y: 51.70), (x: -0.52, y: 51.70), (x: -0.52, y: 51.27)];
    ServiceArea::new("LDN", "London", MultiPolygon(vec![p]), 0.0).unwrap()
}

/// Imports, checks a second import changes nothing, exports as GeoJSON and
/// CSV, and re-imports the GeoJSON export: nothing changes either.
async fn round_trip(
    store: &dyn trygg_store::Store,
    area: &ServiceArea,
    file: &Path,
    kind: Kind,
    format: Format,
    expect_inserted: usize,
) {
    let first = import(store, area, args(file, kind, format)).await.unwrap();
    assert!(
        first.contains(&format!("{expect_inserted} inserted")),
        "{first}"
    );
    let again = import(store, area, args(file, kind, format)).await.unwrap();
    assert!(
        again.contains(&format!(
            "0 inserted, 0 updated, {expect_inserted} unchanged"
        )),
        "{again}"
    );
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("export.geojson");
    std::fs::write(&exported, export(store, kind, false, &[]).await.unwrap()).unwrap();
    let back = import(store, area, args(&exported, kind, Format::GeoJson))
        .await
        .unwrap();
    assert!(
        back.contains(&format!(
            "0 inserted, 0 updated, {expect_inserted} unchanged"
        )),
        "{back}"
    );
    let csv = export(store, kind, true, &[]).await.unwrap();
    assert_eq!(csv.lines().count(), expect_inserted + 1);
}

on_both_backends! {
    async fn the_police_feed_round_trips(store) {
        round_trip(store.as_ref(), &linkoping(), &fixture("polisen_events_ostergotland.json"), Kind::Incident, Format::Polisen, 425).await;
    }
}

on_both_backends! {
    async fn the_districts_round_trip(store) {
        round_trip(store.as_ref(), &linkoping(), &fixture("linkoping_regso_2025.geojson"), Kind::Area, Format::GeoJson, 32).await;
    }
}

on_both_backends! {
    async fn a_police_uk_street_file_round_trips(store) {
        // 5,082 rows, 33 without a position; 77 repeat a Crime ID, which is
        // one crime, so 4,972 records.
        let area = london();
        let file = fixture("policeuk_met_burglary_street_2024-01.csv");
        let mut a = args(&file, Kind::Incident, Format::PoliceUk);
        a.skip_invalid = true;
        let dir = tempfile::tempdir().unwrap();
        let rejects = dir.path().join("rejects.csv");
        a.rejects = Some(&rejects);
        let first = import(store.as_ref(), &area, a).await.unwrap();
        assert!(first.contains("33 skipped"), "{first}");
        let count = store.count(Kind::Incident).await.unwrap() as usize;
        assert_eq!(count, 4_972);
        assert!(!rejects.exists(), "no row was refused");
        let mut again = args(&file, Kind::Incident, Format::PoliceUk);
        again.skip_invalid = true;
        again.rejects = Some(&rejects);
        let second = import(store.as_ref(), &area, again).await.unwrap();
        assert!(second.contains("0 inserted, 0 updated, 5049 unchanged"), "{second}");
    }
}

on_both_backends! {
    async fn a_sweref_csv_with_decimal_commas_imports_and_exports_as_wgs84(store) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kommun.csv");
        std::fs::write(&file, "nr,N,E,datum,typ\nK-1,\"6477205,881108\",\"186323,06558\",2024-03-05 21:30,vandalism\n").unwrap();
        let mut a = args(&file, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        a.columns = Some("id=nr,x=E,y=N,time=datum,category=typ");
        a.source = Some("kommunens-export");
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("1 inserted"), "{out}");
        let csv = export(store.as_ref(), Kind::Incident, true, &[]).await.unwrap();
        let row = csv.lines().nth(1).unwrap();
        assert!(row.contains("kommunens-export,K-1"), "{row}");
        assert!(row.contains("2024-03-05T20:30:00Z"), "local winter time: {row}");
        assert!(row.ends_with("15.6214,58.4108"), "{row}");
    }
}

on_both_backends! {
    async fn a_malformed_file_imports_nothing_and_names_the_line(store) {
        let dir = tempfile::tempdir().unwrap();
        let bad_row = dir.path().join("bad.csv");
        std::fs::write(&bad_row, "id,lon,lat,ts,category\n1,15.62,58.41,2024-01-05T20:00:00Z,theft\n2,15.62,58.41,2024-01-05T20:00:00Z,jaywalking\n").unwrap();
        let err = import(store.as_ref(), &linkoping(), args(&bad_row, Kind::Incident, Format::Csv)).await.unwrap_err().to_string();
        assert!(err.contains("line 3: properties.category"), "{err}");
        assert!(err.contains("nothing was imported"), "{err}");

        let wrong_crs = dir.path().join("wgs84-as-sweref.csv");
        std::fs::write(&wrong_crs, "id,lon,lat,ts,category\n1,15.62,58.41,2024-01-05T20:00:00Z,theft\n").unwrap();
        let mut a = args(&wrong_crs, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3006");
        let err = import(store.as_ref(), &linkoping(), a).await.unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");

        let truncated = dir.path().join("cut.json");
        let full = std::fs::read_to_string(fixture("polisen_events_ostergotland.json")).unwrap();
        std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
        let err = import(store.as_ref(), &linkoping(), args(&truncated, Kind::Incident, Format::Polisen)).await.unwrap_err().to_string();
        assert!(err.contains("line ") && err.contains("nothing was imported"), "{err}");

        assert_eq!(store.count(Kind::Incident).await.unwrap(), 0);

        // --skip-invalid keeps the good row and lists the bad one.
        let mut a = args(&bad_row, Kind::Incident, Format::Csv);
        a.skip_invalid = true;
        let rejects = dir.path().join("rejects.csv");
        a.rejects = Some(&rejects);
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("1 inserted") && out.contains("1 rejected"), "{out}");
        let listed = std::fs::read_to_string(&rejects).unwrap();
        assert!(listed.contains("line 3,properties.category"), "{listed}");
    }
}

on_both_backends! {
    async fn a_dry_run_counts_but_writes_nothing(store) {
        let file = fixture("polisen_events_ostergotland.json");
        let mut a = args(&file, Kind::Incident, Format::Polisen);
        a.dry_run = true;
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.starts_with("dry run") && out.contains("425 inserted"), "{out}");
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 0);
    }
}

on_both_backends! {
    async fn an_integration_imports_through_the_api_and_exports_a_layer(store) {
        use axum::http::{Method, StatusCode, header};
        let app = crate::api::app(store).await;
        let body = std::fs::read_to_string(fixture("polisen_events_ostergotland.json")).unwrap();
        let planner = format!("Bearer {}", app.ids.planner);
        let r = crate::api::call(&app, Method::POST, "/api/v1/import?kind=incidents&format=polisen", Some(body.clone()), &[("authorization", &planner)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!((r.body["inserted"].as_u64(), r.body["skipped"].as_u64()), (Some(425), Some(1957)));
        let again = crate::api::call(&app, Method::POST, "/api/v1/import?kind=incidents&format=polisen", Some(body), &[("authorization", &planner)]).await;
        assert_eq!(again.body["unchanged"], 425);
        let reader = format!("Bearer {}", app.ids.reader);
        let refused = crate::api::call(&app, Method::POST, "/api/v1/import?kind=incidents&format=polisen", Some("[]".into()), &[("authorization", &reader)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let bad = crate::api::call(&app, Method::POST, "/api/v1/import?kind=incidents&format=csv", Some("id,lon,lat,ts,category\n1,15.62,58.41,never,theft\n".into()), &[("authorization", &planner)]).await;
        crate::api::assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "line 2");
        let csv = crate::api::call(&app, Method::GET, "/api/v1/incidents/export?format=csv&category=assault", None, &[("authorization", &reader)]).await;
        assert!(csv.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/csv"), "{} {}", csv.status, csv.body);
        let text = csv.body.as_str().unwrap();
        assert!(text.lines().count() > 10 && text.lines().skip(1).all(|l| l.contains(",assault,")), "{text}");
        let layer = crate::api::get(&app, "/api/v1/incidents/export").await;
        assert_eq!(layer.body["features"].as_array().unwrap().len(), 425);
    }
}
