#![allow(clippy::unwrap_used, reason = "a test panics to report a failure")]

//! The study area of hot spots and emerging hot spots is defined once: the
//! cells whose centres lie in the service area. Checked against a plain
//! per-cell centre test (geo's point-in-polygon on every cell of the
//! outline's bounding box) and h3o's tiler in centroid mode, on real outlines: Linköping's, and
//! the precise outlines of Stockholm (a city on islands) and Gotland (islands).

use geo::{BoundingRect, Contains};
use geo_types::{Geometry, MultiPolygon, Point, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use trygg_core::analytics::hotspots::{cells_of, study_area};
use trygg_core::service_area::{Sweden, shape_from_geojson};

fn fixture(name: &str) -> String {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every cell of the outline's bounding rectangle (a superset), kept when
/// its centre lies in the outline.
fn by_centre_test(outline: &MultiPolygon<f64>, res: Resolution) -> Vec<CellIndex> {
    let rect = outline.bounding_rect().expect("an outline has bounds");
    let mut tiler = TilerBuilder::new(res)
        .containment_mode(ContainmentMode::Covers)
        .build();
    tiler.add(Polygon::from(rect)).expect("a rectangle tiles");
    let mut out: Vec<CellIndex> = tiler
        .into_coverage()
        .filter(|c| {
            let ll = LatLng::from(*c);
            outline.contains(&Point::new(ll.lng(), ll.lat()))
        })
        .collect();
    out.sort_unstable();
    out
}

fn check(name: &str, outline: &MultiPolygon<f64>, resolutions: &[u8]) {
    for r in resolutions {
        let res = Resolution::try_from(*r).unwrap();
        let area = study_area(outline, res).unwrap();
        let plain = by_centre_test(outline, res);
        assert_eq!(
            area.len(),
            plain.len(),
            "{name}, resolution {r}: {} cells in the study area, {} by the centre test",
            area.len(),
            plain.len()
        );
        assert_eq!(area, plain, "{name}, resolution {r}: the same cells");
        // h3o's own tiler in centroid mode: slow on a long outline at fine
        // resolutions, so only where it takes seconds.
        if *r <= 8 {
            let mut tiler = TilerBuilder::new(res)
                .containment_mode(ContainmentMode::ContainsCentroid)
                .build();
            for p in &outline.0 {
                tiler.add(p.clone()).unwrap();
            }
            let mut by_tiler: Vec<CellIndex> = tiler.into_coverage().collect();
            by_tiler.sort_unstable();
            assert_eq!(
                area, by_tiler,
                "{name}, resolution {r}: h3o's centroid tiler agrees"
            );
        }
        let touching = cells_of(&Geometry::MultiPolygon(outline.clone()), res).unwrap();
        assert!(
            area.iter().all(|c| touching.binary_search(c).is_ok()) && touching.len() > area.len(),
            "{name}, resolution {r}: the cells that touch the area ({}) hold the study area ({}) and more",
            touching.len(),
            area.len()
        );
        eprintln!(
            "{name} res {r}: {} cells with their centre inside, {} touching",
            area.len(),
            touching.len()
        );
    }
}

#[test]
fn linkopings_study_area_is_the_cells_whose_centres_lie_in_it() {
    let outline =
        shape_from_geojson(fixture("linkoping_kommun_boundary.geojson").as_bytes()).unwrap();
    check("Linköping", &outline, &[7, 8, 9]);
}

#[test]
fn other_municipalities_study_areas_follow_the_same_rule() {
    let bytes = std::fs::read(format!(
        "{}/../../fixtures/sweden_municipalities.outlines",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let sweden = Sweden::parse(&bytes).unwrap();
    for code in ["0180", "0980"] {
        let m = sweden.member(code).unwrap();
        check(&m.name, &sweden.outline(code).unwrap(), &[7, 8]);
    }
}
