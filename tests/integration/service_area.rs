//! The police feed in every municipality: events named to a served
//! municipality are kept wherever the feed puts them, at the precision
//! their midpoint deserves, and counted by the municipality they name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo_types::Coord;
use trygg_cli::transfer::{ImportArgs, import};
use trygg_core::attrs::Attributes;
use trygg_core::import::Format;
use trygg_core::polisen::{self, COUNTY_PRECISION_M, MUNICIPALITY_PRECISION_M};
use trygg_core::service_area::ServiceArea;
use trygg_core::{Kind, query::ListQuery};
use trygg_tests::on_both_backends;

pub(crate) fn feed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/polisen_events_ostergotland.json")
}

pub(crate) fn args(file: &Path) -> ImportArgs<'_> {
    crate::transfer::args(file, Kind::Incident, Format::Polisen)
}

/// Incidents the feed names to each municipality (by its title's last
/// part or its location), counted from the file itself: crime and
/// disorder types only, as the importer keeps.
pub(crate) fn expected_per_municipality() -> BTreeMap<String, usize> {
    let events = polisen::parse_events(&std::fs::read_to_string(feed()).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for e in &events {
        if polisen::category_of(&e.kind).is_none() {
            continue;
        }
        let name = if e.location.name.ends_with(" län") {
            e.municipality().to_owned()
        } else {
            e.location.name.clone()
        };
        *out.entry(name).or_default() += 1;
    }
    out
}

/// The county's midpoint, where the feed puts events it names only to
/// the county.
const COUNTY_MIDPOINT: Coord<f64> = Coord {
    x: 15.519_784,
    y: 58.345_364,
};

pub(crate) async fn stored_incidents(store: &dyn trygg_store::Store) -> Vec<trygg_core::Feature> {
    let mut q = ListQuery::parse(Kind::Incident, &[]).unwrap();
    q.limit = trygg_core::query::MAX_LIMIT;
    let mut all = Vec::new();
    loop {
        let page = store
            .list(Kind::Incident, &q, &trygg_core::access::View::everything())
            .await
            .unwrap();
        all.extend(page.features);
        match page.next_after {
            Some(a) => q.after = Some(a),
            None => return all,
        }
    }
}

on_both_backends! {
    async fn the_police_feed_imports_in_every_ostergotland_municipality_wherever_its_midpoint_lies(store) {
        let expected = expected_per_municipality();
        let file = feed();
        let mut total = 0;
        for (code, name) in [
            ("0583", "Motala"),
            ("0586", "Mjölby"),
            ("0562", "Finspång"),
            ("0582", "Söderköping"),
            ("0563", "Valdemarsvik"),
            ("0561", "Åtvidaberg"),
            ("0580", "Linköping"),
        ] {
            let area: ServiceArea = trygg_cli::data::service_area(code).unwrap();
            assert_eq!(area.name, name);
            if code != "0580" {
                // The case this is about: the county midpoint is not in them.
                assert!(!area.contains(COUNTY_MIDPOINT), "{name}");
            }
            let want = expected[name];
            assert!(want > 0, "{name}");
            // No --skip-invalid: every event named to the area imports.
            let said = import(store.as_ref(), &area, args(&file)).await.unwrap();
            assert!(said.contains(&format!("{want} inserted")), "{name}: {said}");
            assert!(said.contains("0 rejected"), "{name}: {said}");
            total += want;
        }
        let stored = stored_incidents(store.as_ref()).await;
        assert_eq!(stored.len(), total);
        let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
        for f in &stored {
            let Attributes::Incident(i) = &f.attributes else { panic!() };
            let code = i.municipality.clone().expect("every police event names its municipality");
            *by_code.entry(code).or_default() += 1;
            let at_county_midpoint = f.geometry == geo_types::Geometry::Point(geo_types::Point(COUNTY_MIDPOINT));
            // Kept where the feed put it, with the precision that deserves.
            assert_eq!(i.precision_m, if at_county_midpoint { COUNTY_PRECISION_M } else { MUNICIPALITY_PRECISION_M });
        }
        assert_eq!(by_code["0583"], expected["Motala"]);
        assert_eq!(by_code["0563"], expected["Valdemarsvik"]);

        // The whole county: every municipality's events, the ones above
        // unchanged, the rest (Boxholm, Kinda, Vadstena, Ydre, Ödeshög) new,
        // and the events the feed names only to the county itself.
        let county = trygg_cli::data::service_area("05").unwrap();
        assert_eq!(county.name, "Östergötlands län");
        let said = import(store.as_ref(), &county, args(&file)).await.unwrap();
        let all: usize = expected.values().sum();
        assert!(expected["Östergötlands län"] > 0);
        assert!(said.contains(&format!("{} inserted, 0 updated, {total} unchanged", all - total)), "{said}");
        assert_eq!(stored_incidents(store.as_ref()).await.len(), all);
    }
}

on_both_backends! {
    async fn an_event_named_to_another_municipality_is_left_out_not_refused(store) {
        // Motala's database: Linköping's events lie at their own midpoint or
        // the county's and belong to Linköping, so they are skipped, never
        // stored under Motala.
        let motala = trygg_cli::data::service_area("Motala").unwrap();
        let said = import(store.as_ref(), &motala, args(&feed())).await.unwrap();
        for f in stored_incidents(store.as_ref()).await {
            let Attributes::Incident(i) = &f.attributes else { panic!() };
            assert_eq!(i.municipality.as_deref(), Some("0583"), "{said}");
        }
    }
}

/// Incidents the feed names to each municipality, per local month.
pub(crate) fn expected_per_month() -> BTreeMap<(String, String), u64> {
    let events = polisen::parse_events(&std::fs::read_to_string(feed()).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for e in &events {
        if polisen::category_of(&e.kind).is_none() {
            continue;
        }
        let month = e
            .published_at("datetime")
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .format("%Y-%m")
            .to_string();
        *out.entry((e.municipality().to_owned(), month)).or_default() += 1;
    }
    out
}

on_both_backends! {
    async fn a_police_area_sees_each_municipality_in_the_picture_and_the_follow_up(store) {
        use crate::api::{app_in, get, post};
        let area = trygg_cli::data::service_area("0580,0583,0586").unwrap();
        let said = import(store.as_ref(), &area, args(&feed())).await.unwrap();
        assert!(said.contains("0 rejected"), "{said}");
        let app = app_in(store, area).await;
        app.layers.reload(app.store.as_ref(), Kind::Incident).await.unwrap();
        // A precise incident in Motala's centre counts there by its position.
        let r = post(&app, "/api/v1/incidents", &trygg_tests::point(15.0364, 58.5378, serde_json::json!({ "category": "theft", "occurred_at": "2024-03-10T12:00:00Z" }))).await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);

        let expected = expected_per_municipality();
        let r = get(&app, "/api/v1/analysis/picture?resolution=9&datetime=2022-01-01T00:00:00Z/..").await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        let rows = r.body["municipalities"].as_array().unwrap();
        let names: Vec<&str> = rows.iter().map(|m| m["municipality"].as_str().unwrap()).collect();
        assert_eq!(names, ["Linköping", "Motala", "Mjölby"]);
        for row in rows {
            let name = row["municipality"].as_str().unwrap();
            let coarse = expected[name] as f64;
            let precise = if name == "Motala" { 1.0 } else { 0.0 };
            assert_eq!(row["incidents_without_position"], coarse, "{row}");
            assert_eq!(row["incidents"], coarse + precise, "{row}");
            assert_eq!(row["county"], "Östergötlands län");
        }
        // Only the precise one is in a hexagon.
        let in_cells: f64 = r.body["features"].as_array().unwrap().iter().map(|f| f["properties"]["incidents"].as_f64().unwrap()).sum();
        assert!((in_cells - 1.0).abs() < 1e-9, "{in_cells}");

        // The follow-up of the month with most of Motala's events.
        let months = expected_per_month();
        let ((_, month), _) = months.iter().filter(|((m, _), _)| m == "Motala").max_by_key(|(_, n)| **n).unwrap();
        let r = get(&app, &format!("/api/v1/followup/{month}")).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        let rows = r.body["figures"]["municipalities"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        let mut sum = 0;
        for row in rows {
            let name = row["name"].as_str().unwrap();
            let want = months.get(&(name.to_owned(), month.clone())).copied().unwrap_or(0) + u64::from(name == "Motala" && month == "2024-03");
            assert_eq!(row["incidents"]["current"], want, "{name} {month}: {row}");
            sum += want;
        }
        assert_eq!(r.body["figures"]["incidents"]["total"]["current"], sum);
        // The precise incident's month: it counts in Motala by its position
        // (read from the index), beside the feed's stand-ins (read back for
        // the municipality they name).
        let r = get(&app, "/api/v1/followup/2024-03").await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        for row in r.body["figures"]["municipalities"].as_array().unwrap() {
            let name = row["name"].as_str().unwrap();
            let stand_ins = months.get(&(name.to_owned(), "2024-03".to_owned())).copied().unwrap_or(0);
            assert_eq!(row["incidents"]["current"], stand_ins + u64::from(name == "Motala"), "{name}: {row}");
            assert_eq!(row["incidents_without_position"], stand_ins, "{name}: {row}");
        }
        let html = get(&app, &format!("/api/v1/followup/{month}?format=html")).await;
        let html = html.body.as_str().unwrap();
        assert!(html.contains("Per kommun") && html.contains("Mjölby"), "{html}");
    }
}
