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

fn args(file: &Path, kind: Kind, format: Format) -> ImportArgs<'_> {
    ImportArgs::new(file, kind, format)
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
        // 5,082 rows, 33 without a position; 77 repeat a Crime ID with the
        // same values (police.uk lists a crime once per outcome), which is
        // one crime, so 4,972 records, all "inserted" the first time.
        let area = london();
        let file = fixture("policeuk_met_burglary_street_2024-01.csv");
        let mut a = args(&file, Kind::Incident, Format::PoliceUk);
        a.skip_invalid = true;
        let dir = tempfile::tempdir().unwrap();
        let rejects = dir.path().join("rejects.csv");
        a.rejects = Some(&rejects);
        let first = import(store.as_ref(), &area, a).await.unwrap();
        assert!(first.contains("4972 inserted, 0 updated, 0 unchanged, 33 skipped, 0 rejected; 77 rows repeated"), "{first}");
        let count = store.count(Kind::Incident).await.unwrap() as usize;
        assert_eq!(count, 4_972);
        assert!(!rejects.exists(), "no row was refused");
        let mut again = args(&file, Kind::Incident, Format::PoliceUk);
        again.skip_invalid = true;
        again.rejects = Some(&rejects);
        let second = import(store.as_ref(), &area, again).await.unwrap();
        assert!(second.contains("0 inserted, 0 updated, 4972 unchanged"), "{second}");
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

        // A rejects file that cannot be written stops the import first.
        let mut a = args(&bad_row, Kind::Incident, Format::Csv);
        a.skip_invalid = true;
        a.rejects = Some(dir.path());
        let err = import(store.as_ref(), &linkoping(), a).await.unwrap_err().to_string();
        assert!(err.starts_with("--rejects ") && err.ends_with("nothing was imported"), "{err}");
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
        crate::api::assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "time");
        assert_eq!(bad.body["location"], "line 2", "{}", bad.body);
        let csv = crate::api::call(&app, Method::GET, "/api/v1/incidents/export?format=csv&category=assault", None, &[("authorization", &reader)]).await;
        assert!(csv.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/csv"), "{} {}", csv.status, csv.body);
        let text = csv.body.as_str().unwrap();
        assert!(text.lines().count() > 10 && text.lines().skip(1).all(|l| l.contains(",assault,")), "{text}");
        let layer = crate::api::get(&app, "/api/v1/incidents/export").await;
        assert_eq!(layer.body["features"].as_array().unwrap().len(), 425);
    }
}

/// How Swedish Excel saves "CSV (semikolonavgränsad)": Windows-1252,
/// semicolons, decimal commas, CRLF line ends.
fn excel(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&crlf);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An incidents export from a municipality's case system, saved from
/// Swedish Excel: SWEREF 99 15 00, Swedish column and category names, no id.
const KOMMUN_CSV: &str = "Nordlig;Östlig;Datum;Brottstyp;Plats\n\
    6477205,881108;186323,06558;2024-03-05 21:30;Misshandel;Ågatan\n\
    6477205,881108;186323,06558;2024-03-05 21:30;Misshandel;Ågatan\n\
    6477300,5;186400,25;2024-03-06 1:05;trafikolycka;Trädgårdstorget\n\
    6477100;186250;20240307;Stöld;Stora torget\n\
    6477150,75;186290;2024-03-08T22:15;Skadegörelse;Hunnebergsgatan\n";

on_both_backends! {
    async fn a_swedish_excel_export_imports_and_imports_again_unchanged(store) {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("kommun.csv");
        std::fs::write(&plain, excel(KOMMUN_CSV)).unwrap();
        let mut a = args(&plain, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        a.columns = Some("x=Östlig,y=Nordlig,time=Datum,category=Brottstyp");
        let first = import(store.as_ref(), &linkoping(), a).await.unwrap();
        // Two identical rows are two incidents, both new.
        assert!(first.starts_with(&format!("{}: 5 inserted, 0 updated, 0 unchanged", plain.display())), "{first}");
        assert!(first.contains("note: read as Windows-1252"), "{first}");
        let csv = export(store.as_ref(), Kind::Incident, true, &[]).await.unwrap();
        for category in ["assault", "traffic", "theft", "vandalism"] {
            assert!(csv.contains(&format!(",{category},")), "{category}: {csv}");
        }
        assert!(csv.contains("2024-03-05T20:30:00Z"), "local winter time: {csv}");
        // The same file gzipped, under another name: the same records.
        let packed = dir.path().join("export.dat");
        std::fs::write(&packed, gzip(&excel(KOMMUN_CSV))).unwrap();
        let mut a = args(&packed, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        let again = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(again.contains("0 inserted, 0 updated, 5 unchanged"), "{again}");
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 5);
    }
}

on_both_backends! {
    async fn a_wrong_category_names_the_file_line_and_what_is_known_and_a_map_fixes_it(store) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kommun.csv");
        let text = KOMMUN_CSV.replace("2024-03-06 1:05;trafikolycka", "2024-03-06 1:05;Misshandlat");
        std::fs::write(&file, excel(&text)).unwrap();
        let mut a = args(&file, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        let err = import(store.as_ref(), &linkoping(), a).await.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: line 4: properties.category: unknown value \"Misshandlat\"; known: theft (stöld), ", file.display())),
            "{err}"
        );
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 0);

        let maps = ["category=Misshandlat:assault".to_owned()];
        let mut a = args(&file, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        a.maps = &maps;
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("5 inserted"), "{out}");
        // A mapping file does the same.
        let map_file = dir.path().join("map.csv");
        std::fs::write(&map_file, excel("fält;värde;ny\ncategory;Misshandlat;misshandel\n")).unwrap();
        let mut a = args(&file, Kind::Incident, Format::Csv);
        a.crs = Some("EPSG:3009");
        a.map_file = Some(&map_file);
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("0 inserted, 0 updated, 5 unchanged"), "{out}");
    }
}

on_both_backends! {
    async fn a_presence_without_an_end_is_refused_unless_a_default_duration_is_given(store) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("narvaro.csv");
        std::fs::write(&file, excel("lon;lat;start;slut;enhetstyp\n15,6214;58,4108;2024-03-05 21:00;2024-03-05 21:40;Nattvandrare\n15,6214;58,4108;2024-03-06 21:00;;Polis\n")).unwrap();
        let err = import(store.as_ref(), &linkoping(), args(&file, Kind::Presence, Format::Csv)).await.unwrap_err().to_string();
        assert!(err.contains("line 3: properties.ended_at: an imported presence needs an end or a duration"), "{err}");
        let mut a = args(&file, Kind::Presence, Format::Csv);
        a.skip_invalid = true;
        let rejects = dir.path().join("kept-aside.csv");
        a.rejects = Some(&rejects);
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains(&format!("1 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected (listed in {})", rejects.display())), "{out}");
        let listed = std::fs::read_to_string(&rejects).unwrap();
        assert!(listed.starts_with("location,field,reason\nline 3,properties.ended_at,"), "{listed}");
        let mut a = args(&file, Kind::Presence, Format::Csv);
        a.default_duration = Some("15m");
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("1 inserted, 0 updated, 1 unchanged"), "{out}");
        let csv = export(store.as_ref(), Kind::Presence, true, &[]).await.unwrap();
        assert!(csv.contains("2024-03-06T20:00:00Z,2024-03-06T20:15:00Z"), "{csv}");
    }
}

on_both_backends! {
    async fn a_night_walkers_log_kept_in_excel_imports_with_its_shifts_past_midnight(store) {
        // Excel's `sep=` line, a date column and clocks alone, SWEREF 99
        // 15 00 with the northing under `X` as Swedish geodesy names it.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nattvandring.csv");
        std::fs::write(&file, excel("sep=;\nDatum;Starttid;Sluttid;Enhetstyp;X;Y\n\
            2024-03-05;21:00;01:30;Nattvandrare;6477205,881108;186323,06558\n\
            2024-03-06;kl. 18.15;19:05;Trygghetsvärd;6477205,881108;186323,06558\n")).unwrap();
        let mut a = args(&file, Kind::Presence, Format::Csv);
        a.crs = Some("EPSG:3009");
        let out = import(store.as_ref(), &linkoping(), a).await.unwrap();
        assert!(out.contains("2 inserted, 0 updated, 0 unchanged"), "{out}");
        assert!(out.contains("note: 2 rows had the northing in the x column"), "{out}");
        let csv = export(store.as_ref(), Kind::Presence, true, &[]).await.unwrap();
        assert!(csv.contains("2024-03-05T20:00:00Z,2024-03-06T00:30:00Z"), "past midnight: {csv}");
        assert!(csv.contains("2024-03-06T17:15:00Z,2024-03-06T18:05:00Z"), "{csv}");
        assert!(csv.contains("15.6214,58.4108"), "{csv}");
    }
}

/// Calls `op` on every position of a GeoJSON coordinates array.
fn each_position(v: &mut serde_json::Value, op: &mut dyn FnMut(&mut serde_json::Value)) {
    let serde_json::Value::Array(items) = v else {
        return;
    };
    if items.first().is_some_and(serde_json::Value::is_number) {
        op(v);
    } else {
        for i in items.iter_mut() {
            each_position(i, op);
        }
    }
}

/// One municipality's RegSO districts from SCB's national file, with the
/// attributes a municipal GIS adds, and the box around them as the
/// service area (the outline itself is another issue's).
fn districts_of(kommunkod: &str, sweref: bool) -> (String, ServiceArea, Vec<String>) {
    use geo_types::{MultiPolygon, polygon};
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sweden_regso_2025.geojson.gz"),
        )
        .unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let to_sweref = proj4rs::proj::Proj::from_proj_string(
        "+proj=utm +zone=33 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
    )
    .unwrap();
    let wgs84 =
        proj4rs::proj::Proj::from_proj_string("+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs")
            .unwrap();
    let (mut min, mut max) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    let mut names = Vec::new();
    let mut features = Vec::new();
    for (i, f) in all["features"].as_array().unwrap().iter().enumerate() {
        if f["properties"]["kommunkod"] != kommunkod {
            continue;
        }
        names.push(f["properties"]["regsonamn"].as_str().unwrap().to_owned());
        let mut f = f.clone();
        f["properties"]["OBJECTID"] = serde_json::json!(i);
        f["properties"]["Shape_Area"] = serde_json::json!(1234.5);
        each_position(&mut f["geometry"]["coordinates"], &mut |p| {
            let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            min = (min.0.min(x), min.1.min(y));
            max = (max.0.max(x), max.1.max(y));
            if sweref {
                let mut q = (x.to_radians(), y.to_radians(), 0.0);
                proj4rs::transform::transform(&wgs84, &to_sweref, &mut q).unwrap();
                *p = serde_json::json!([q.0, q.1]);
            }
        });
        features.push(f);
    }
    let mut fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    if sweref {
        fc["crs"] = serde_json::json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}});
    }
    let (w, s, e, n) = (min.0 - 0.01, min.1 - 0.01, max.0 + 0.01, max.1 + 0.01);
    let area = ServiceArea::new(
        kommunkod,
        kommunkod,
        MultiPolygon(vec![
            polygon![(x: w, y: s), (x: e, y: s), (x: e, y: n), (x: w, y: n), (x: w, y: s)],
        ]),
        0.0,
    )
    .unwrap();
    (fc.to_string(), area, names)
}

on_both_backends! {
    async fn other_municipalities_districts_import_in_sweref_with_extra_attributes(store) {
        let dir = tempfile::tempdir().unwrap();
        // Malmö (SCB prefixes its names with "RegSO-"), in SWEREF 99 TM with
        // the legacy crs member; Kalmar in WGS84.
        for (code, sweref, expected) in [("1280", true, 91), ("0880", false, 0)] {
            let (fc, area, names) = districts_of(code, sweref);
            let expected = if expected == 0 { names.len() } else { expected };
            let file = dir.path().join(format!("{code}.geojson"));
            std::fs::write(&file, fc).unwrap();
            let out = import(store.as_ref(), &area, args(&file, Kind::Area, Format::GeoJson)).await.unwrap();
            assert!(out.contains(&format!("{expected} inserted")), "{code}: {out}");
            assert_eq!(out.matches("note: attributes not imported: OBJECTID, Shape_Area, kommunkod, lanskod, referensdatum, version").count(), 1, "{out}");
            let again = import(store.as_ref(), &area, args(&file, Kind::Area, Format::GeoJson)).await.unwrap();
            assert!(again.contains(&format!("0 inserted, 0 updated, {expected} unchanged")), "{code}: {again}");
        }
        let csv = export(store.as_ref(), Kind::Area, false, &[]).await.unwrap();
        assert!(csv.contains("\"Hamnen-Stortorget\"") || csv.contains("Hamnen"), "Malmö's names");
        assert!(!csv.contains("RegSO-"), "the prefix is dropped");
    }
}

/// A municipality's districts as its GIS exports them: SWEREF 99 TM
/// without a `crs` member, the name under `name_attribute`, and of the
/// other attributes only `kept`.
fn municipal_gis_export(
    kommunkod: &str,
    name_attribute: &str,
    kept: &[&str],
) -> (serde_json::Value, ServiceArea, Vec<String>) {
    let (fc, area, names) = districts_of(kommunkod, true);
    let mut fc: serde_json::Value = serde_json::from_str(&fc).unwrap();
    fc.as_object_mut().unwrap().remove("crs");
    for f in fc["features"].as_array_mut().unwrap() {
        let p = f["properties"].as_object_mut().unwrap();
        let name = p["regsonamn"].clone();
        p.retain(|k, _| kept.contains(&k.as_str()));
        p.insert(name_attribute.into(), name);
    }
    (fc, area, names)
}

on_both_backends! {
    async fn a_municipal_gis_export_in_sweref_without_a_crs_member_imports_with_crs(store) {
        // Uppsala's districts as a municipal GIS writes them: OBJECTID,
        // namn, Shape_Area, SWEREF 99 TM and no `crs` member.
        let (fc, area, names) = municipal_gis_export("0380", "namn", &["OBJECTID", "Shape_Area"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stadsdelar.geojson");
        std::fs::write(&file, fc.to_string()).unwrap();
        let err = import(store.as_ref(), &area, args(&file, Kind::Area, Format::GeoJson)).await.unwrap_err().to_string();
        assert!(err.contains("feature 1: geometry.coordinates:") && err.contains("--crs"), "{err}");
        assert_eq!(store.count(Kind::Area).await.unwrap(), 0);
        let mut a = args(&file, Kind::Area, Format::GeoJson);
        a.crs = Some("EPSG:3006");
        let out = import(store.as_ref(), &area, a).await.unwrap();
        assert!(out.contains(&format!("{} inserted, 0 updated, 0 unchanged", names.len())), "{out}");
        assert!(out.ends_with("\nnote: attributes not imported: OBJECTID, Shape_Area"), "{out}");
        let geojson = export(store.as_ref(), Kind::Area, false, &[]).await.unwrap();
        for name in &names {
            assert!(geojson.contains(&format!("\"name\":\"{name}\"")), "{name}");
        }
        let mut a = args(&file, Kind::Area, Format::GeoJson);
        a.crs = Some("EPSG:3006");
        let again = import(store.as_ref(), &area, a).await.unwrap();
        assert!(again.contains(&format!("0 inserted, 0 updated, {} unchanged", names.len())), "{again}");
    }
}

on_both_backends! {
    async fn the_api_takes_the_same_options_and_reads_gzip_and_windows_1252(store) {
        use axum::http::{Method, StatusCode};
        let app = crate::api::app(store).await;
        let planner = format!("Bearer {}", app.ids.planner);
        let body = gzip(&excel(&KOMMUN_CSV.replace("2024-03-06 1:05;trafikolycka", "2024-03-06 1:05;Misshandlat")));
        let uri = "/api/v1/import?kind=incidents&format=csv&crs=EPSG:3009&delimiter=;&encoding=windows-1252";
        let bad = crate::api::call_bytes(&app, Method::POST, uri, body.clone(), &[("authorization", &planner)]).await;
        crate::api::assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "properties.category");
        assert_eq!(bad.body["location"], "line 4", "{}", bad.body);
        let mapped = format!("{uri}&map=category%3DMisshandlat%3Aassault");
        let ok = crate::api::call_bytes(&app, Method::POST, &mapped, body, &[("authorization", &planner)]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.body["inserted"], 5, "{}", ok.body);
        let unknown = crate::api::call_bytes(&app, Method::POST, &format!("{uri}&map=colour%3Dred%3Ablue"), Vec::new(), &[("authorization", &planner)]).await;
        crate::api::assert_problem(&unknown, StatusCode::BAD_REQUEST, "map");
        let xlsx = crate::api::call_bytes(&app, Method::POST, "/api/v1/import?kind=incidents&format=csv", b"PK\x03\x04rest".to_vec(), &[("authorization", &planner)]).await;
        crate::api::assert_problem(&xlsx, StatusCode::UNPROCESSABLE_ENTITY, "body");
        assert!(xlsx.body["detail"].as_str().unwrap().contains("xlsx"), "{}", xlsx.body);
    }
}

on_both_backends! {
    async fn the_api_imports_sweref_districts_with_crs_and_columns_and_names_a_bad_feature(store) {
        use axum::http::{Method, StatusCode};
        let app = crate::api::app(store).await;
        let planner = format!("Bearer {}", app.ids.planner);
        let (fc, _, names) = municipal_gis_export("0580", "BENAMNING", &["OBJECTID"]);
        let post = |uri: String, body: Vec<u8>| {
            let app = &app;
            let planner = planner.clone();
            async move { crate::api::call_bytes(app, Method::POST, &uri, body, &[("authorization", &planner)]).await }
        };
        let body = gzip(fc.to_string().as_bytes());
        let metres = post("/api/v1/import?kind=areas&format=geojson".into(), body.clone()).await;
        crate::api::assert_problem(&metres, StatusCode::UNPROCESSABLE_ENTITY, "geometry.coordinates");
        assert_eq!(metres.body["location"], "feature 1", "{}", metres.body);
        let uri = "/api/v1/import?kind=areas&format=geojson&crs=EPSG:3006";
        let unnamed = post(uri.into(), body.clone()).await;
        crate::api::assert_problem(&unnamed, StatusCode::UNPROCESSABLE_ENTITY, "properties.name");
        assert!(unnamed.body["detail"].as_str().unwrap().contains("with columns=name=ATTRIBUTE (this feature has BENAMNING, OBJECTID)"), "{}", unnamed.body);
        let ok = post(format!("{uri}&columns=name%3DBENAMNING"), body).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.body["inserted"], names.len(), "{}", ok.body);
        assert_eq!(ok.body["notes"], serde_json::json!(["attributes not imported: OBJECTID"]));
        assert_eq!(app.store.count(Kind::Area).await.unwrap() as usize, names.len());
    }
}
