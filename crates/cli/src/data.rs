//! Reference data built into the binary, so a fresh machine needs no files
//! beside it: the municipality outlines (service areas), Linköping's
//! districts, and the police events used by the demo. Provenance and
//! licences: `fixtures/README.md`.

use trygg_core::service_area::{self, ServiceArea};

use crate::{Error, Result};

pub const MUNICIPALITIES: &str = include_str!("../../../fixtures/sweden_kommuner_scb.geojson");
pub const LINKOPING_BOUNDARY: &str =
    include_str!("../../../fixtures/linkoping_kommun_boundary.geojson");
pub const LINKOPING_REGSO: &str = include_str!("../../../fixtures/linkoping_regso_2025.geojson");
pub const POLISEN_EVENTS: &str = include_str!("../../../fixtures/polisen_events_ostergotland.json");

pub const LINKOPING_CODE: &str = "0580";

/// The SCB outlines are simplified to a few hundred metres; a point on the
/// true border may fall this far outside them.
const SIMPLIFIED_TOLERANCE_M: f64 = 2_000.0;
/// Linköping's outline is the RegSO dissolve (5 m simplification); this
/// allows for GPS error at the border.
const PRECISE_TOLERANCE_M: f64 = 100.0;

/// The service area by municipality name or code (`Linköping`, `0580`).
pub fn service_area(selector: &str) -> Result<ServiceArea> {
    let list = service_area::municipalities(MUNICIPALITIES)?;
    let m = service_area::select(&list, selector)
        .map_err(|e| Error::Usage(format!("--service-area: {}", e.reason())))?;
    if m.code == LINKOPING_CODE {
        let shape = service_area::shape_from_geojson(LINKOPING_BOUNDARY)?;
        Ok(ServiceArea::new(
            &m.code,
            &m.name,
            shape,
            PRECISE_TOLERANCE_M,
        )?)
    } else {
        Ok(ServiceArea::new(
            &m.code,
            &m.name,
            m.shape.clone(),
            SIMPLIFIED_TOLERANCE_M,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkoping_is_found_by_name_and_code() {
        let by_code = service_area("0580").unwrap();
        let by_name = service_area("linköping").unwrap();
        assert_eq!(by_code.code, by_name.code);
        assert!(by_code.contains(geo_types::coord! { x: 15.6214, y: 58.4108 }));
        assert!(!by_code.contains(geo_types::coord! { x: 18.07, y: 59.33 }));
    }

    #[test]
    fn another_municipality_can_be_chosen() {
        let stockholm = service_area("Stockholm").unwrap();
        assert!(stockholm.contains(geo_types::coord! { x: 18.07, y: 59.33 }));
    }

    #[test]
    fn an_unknown_municipality_is_named() {
        let err = service_area("Atlantis").unwrap_err().to_string();
        assert!(
            err.contains("--service-area") && err.contains("Atlantis"),
            "{err}"
        );
    }
}
