#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]
//! Every municipality's outline against SCB's own data: each RegSO area
//! and each urban area (tätort) lies in its own municipality, known places
//! near the coast are inside, and a position just outside is refused with
//! its distance named.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use geo_types::{Coord, Geometry, Point};
use trygg_core::service_area::{
    COUNTIES, DEFAULT_TIMEZONE, Definition, Selection, ServiceArea, Sweden,
};

const OUTLINES: &[u8] = include_bytes!("../../../fixtures/sweden_municipalities.outlines");
const REGSO_POINTS: &str = include_str!("../../../fixtures/regso_2025_interior_points.csv");
const TATORTER: &str = include_str!("../../../fixtures/sweden_tatorter_scb.geojson");
const LINKOPING_REGSO: &str = include_str!("../../../fixtures/linkoping_regso_2025.geojson");

fn sweden() -> &'static Sweden<'static> {
    static S: OnceLock<Sweden<'static>> = OnceLock::new();
    S.get_or_init(|| Sweden::parse(OUTLINES).expect("the embedded outlines parse"))
}

/// Every municipality as its own service area, built once.
fn every_municipality() -> &'static BTreeMap<String, ServiceArea> {
    static A: OnceLock<BTreeMap<String, ServiceArea>> = OnceLock::new();
    A.get_or_init(|| {
        sweden()
            .municipalities()
            .map(|(code, _)| {
                let area = ServiceArea::build(
                    Definition::Municipalities(vec![code.to_owned()]),
                    None,
                    DEFAULT_TIMEZONE,
                    sweden(),
                )
                .expect("every municipality builds");
                (code.to_owned(), area)
            })
            .collect()
    })
}

fn area(selector: &str) -> ServiceArea {
    let definition = match sweden().select(selector).unwrap() {
        Selection::Municipalities(codes) => Definition::Municipalities(codes),
        Selection::County(c) => Definition::County(c),
    };
    ServiceArea::build(definition, None, DEFAULT_TIMEZONE, sweden()).unwrap()
}

fn at(lon: f64, lat: f64) -> Coord<f64> {
    Coord { x: lon, y: lat }
}

#[test]
fn all_290_municipalities_have_a_name_a_county_and_an_outline() {
    let all = every_municipality();
    assert_eq!(all.len(), 290);
    for (code, a) in all {
        assert_eq!(a.members.len(), 1);
        assert_eq!(&a.members[0].code, code);
        assert!(!a.name.is_empty());
        assert!(a.members[0].county_name.ends_with(" län"));
    }
    assert_eq!(all["0580"].name, "Linköping");
    assert_eq!(all["0580"].members[0].county_name, "Östergötlands län");
    let counties: std::collections::BTreeSet<_> = all
        .values()
        .map(|a| a.members[0].county_code.clone())
        .collect();
    assert_eq!(counties.len(), COUNTIES.len());
}

#[test]
fn every_regso_area_lies_inside_its_own_municipality() {
    let all = every_municipality();
    let mut checked = 0;
    for line in REGSO_POINTS.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (regso, kommun) = (f[0], f[1]);
        let c = at(f[2].parse().unwrap(), f[3].parse().unwrap());
        let own = &all[kommun];
        assert!(
            own.strictly_contains(c),
            "RegSO {regso} lies {} m outside {kommun} {}",
            own.distance_outside_m(c),
            own.name
        );
        checked += 1;
    }
    assert_eq!(checked, 3_363);
}

/// Urban areas that straddle a municipal border: SCB gives each one point,
/// and for these five the point lies in the neighbouring municipality (as
/// SCB's own RegSO areas say), 0.1 to 3 km from their own.
const CROSS_BORDER: [(&str, &str, &str); 5] = [
    ("Trunnerup, Bleckstorp och Rögla", "1286", "1264"),
    (
        "Humlamaden och Hemmestorps björke, boke och fure",
        "1265",
        "1281",
    ),
    ("Frillesås", "1384", "1383"),
    ("Göteborg", "1480", "1481"),
    ("Tumba", "0127", "0128"),
];

#[test]
fn every_urban_area_lies_inside_its_own_municipality_or_straddles_its_border() {
    let all = every_municipality();
    let v: serde_json::Value = serde_json::from_str(TATORTER).unwrap();
    let (mut inside, mut straddling) = (0, 0);
    for f in v["features"].as_array().unwrap() {
        let p = &f["properties"];
        let (name, kommun) = (p["name"].as_str().unwrap(), p["mun_code"].as_str().unwrap());
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let c = at(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        if let Some((_, _, neighbour)) = CROSS_BORDER
            .iter()
            .find(|(n, k, _)| *n == name && *k == kommun)
        {
            assert!(all[*neighbour].strictly_contains(c), "{name}");
            let both = area(&format!("{kommun},{neighbour}"));
            assert!(both.contains(c), "{name}");
            straddling += 1;
        } else {
            assert!(
                all[kommun].strictly_contains(c),
                "urban area {name} lies {} m outside {kommun} {}",
                all[kommun].distance_outside_m(c),
                all[kommun].name
            );
            inside += 1;
        }
    }
    assert_eq!((inside, straddling), (2_012, 5));
}

#[test]
fn every_vertex_of_linkopings_districts_is_inside_linkoping() {
    let linkoping = area("Linköping");
    let v: serde_json::Value = serde_json::from_str(LINKOPING_REGSO).unwrap();
    let mut n = 0;
    for f in v["features"].as_array().unwrap() {
        let g = trygg_core::geometry::parse(&f["geometry"], "geometry").unwrap();
        n += trygg_core::geometry::vertices(&g).len();
        linkoping.check(&g, "geometry").unwrap();
    }
    assert!(n > 10_000, "{n}");
}

#[test]
fn kalmar_and_malmo_city_centres_are_inside() {
    let kalmar = area("Kalmar");
    for (what, c) in [
        ("Stortorget", at(16.3646, 56.6637)),
        ("Kalmar slott", at(16.3561, 56.6591)),
        ("Kalmar centralstation", at(16.3597, 56.6608)),
    ] {
        assert!(kalmar.strictly_contains(c), "{what}");
    }
    let malmo = area("Malmö");
    for (what, c) in [
        ("Turning Torso, Västra hamnen", at(12.9760, 55.6131)),
        ("Bo01, Västra hamnen", at(12.9740, 55.6100)),
        ("Ribersborg", at(12.9730, 55.6000)),
        ("Malmö centralstation", at(13.0007, 55.6090)),
    ] {
        assert!(malmo.strictly_contains(c), "{what}");
    }
}

#[test]
fn a_point_200_m_off_the_coast_is_refused_naming_the_distance() {
    let kalmar = area("0880");
    // Kalmar's easternmost vertex is on the coast; 200 m further east is
    // sea outside the municipality, exactly 200 m from its boundary.
    let east = trygg_core::geometry::vertices(&Geometry::MultiPolygon(kalmar.shape.clone()))
        .into_iter()
        .max_by(|a, b| a.x.total_cmp(&b.x))
        .unwrap();
    let off = at(
        east.x + 200.0 / (111_320.0 * east.y.to_radians().cos()),
        east.y,
    );
    assert!(kalmar.contains(east));
    assert!(!kalmar.contains(off));
    let err = kalmar
        .check(&Geometry::Point(Point(off)), "geometry.coordinates")
        .unwrap_err();
    assert!(
        err.reason()
            .contains("lies 200 m outside the service area Kalmar (0880)"),
        "{}",
        err.reason()
    );
    // GPS error at the border is allowed: 50 m off the same vertex.
    let near = at(
        east.x + 50.0 / (111_320.0 * east.y.to_radians().cos()),
        east.y,
    );
    assert!(kalmar.contains(near));
}

#[test]
fn a_county_is_all_its_municipalities() {
    let lan = area("05");
    assert_eq!(lan.name, "Östergötlands län");
    assert_eq!(lan.code, "05");
    assert_eq!(lan.members.len(), 13);
    assert_eq!(area("Östergötlands län").members, lan.members);
    assert_eq!(area("Östergötland").members, lan.members);
    // Norrköping's and Motala's centres are in the county.
    assert!(lan.contains(at(16.1826, 58.5877)));
    assert!(lan.contains(at(15.0364, 58.5378)));
    assert!(!lan.contains(at(18.07, 59.33)));
}

#[test]
fn an_event_named_only_to_the_county_counts_in_no_municipality() {
    use trygg_core::attrs::{Attributes, Incident, IncidentCategory};
    let lan = area("05");
    // The feed's midpoint for Östergötlands län lies inside Linköping.
    let midpoint = Geometry::Point(Point::new(15.519_784, 58.345_364));
    assert!(lan.member_at(at(15.519_784, 58.345_364)).is_some());
    let event = |precision_m: u32, municipality: Option<&str>| {
        Attributes::Incident(Incident {
            category: IncidentCategory::Fraud,
            occurred_at: "2023-12-18T10:00:00Z".parse().unwrap(),
            occurred_until: None,
            precision_m,
            source: "polisen".into(),
            source_id: Some("1".into()),
            source_type: Some("Åldringsbrott".into()),
            source_url: None,
            municipality: municipality.map(str::to_owned),
        })
    };
    let county_only = event(60_000, None);
    assert_eq!(lan.member_of(&midpoint, &county_only), None);
    let named = event(60_000, Some("0583"));
    assert_eq!(
        lan.members[lan.member_of(&midpoint, &named).unwrap()].name,
        "Motala"
    );
    // A precise position counts where it lies.
    let precise = event(10, None);
    assert_eq!(
        lan.members[lan.member_of(&midpoint, &precise).unwrap()].name,
        "Linköping"
    );
}

#[test]
fn several_municipalities_by_code_or_name_and_each_is_known() {
    let police_area = area("0580,0583,0586");
    assert_eq!(police_area.name, "Linköping, Motala och Mjölby");
    assert_eq!(
        area("Mjölby, motala ,Linköping").members,
        police_area.members
    );
    // A position is attributed to the municipality it lies in.
    let motala = police_area.member_at(at(15.0364, 58.5378)).unwrap();
    assert_eq!(police_area.members[motala].name, "Motala");
    let err = sweden().select("Linköping, Atlantis").unwrap_err();
    assert!(err.reason().contains("`Atlantis`"), "{err}");
    // A municipality's name wins over a county's short name.
    assert_eq!(
        sweden().select("Kalmar").unwrap(),
        Selection::Municipalities(vec!["0880".into()])
    );
    assert_eq!(
        sweden().select("Kalmar län").unwrap(),
        Selection::County("08".into())
    );
}
