//! Reference data built into the binary, so a fresh machine needs no files
//! beside it: the outlines of Sweden's 290 municipalities (service areas),
//! Linköping's districts, and the police events used by the demo.
//! Provenance and licences: `fixtures/README.md`.

use std::path::Path;
use std::sync::OnceLock;

use trygg_core::import::Crs;
use trygg_core::service_area::{
    self, DEFAULT_TIMEZONE, Definition, Selection, ServiceArea, Sweden,
};

use crate::{Error, Result};

/// Every municipality's outline at street precision (the dissolve of SCB's
/// RegSO areas), made by `scripts/build-outlines.py`.
pub const OUTLINES: &[u8] = include_bytes!("../../../fixtures/sweden_municipalities.outlines");
pub const LINKOPING_REGSO: &str = include_str!("../../../fixtures/linkoping_regso_2025.geojson");
pub const POLISEN_EVENTS: &str = include_str!("../../../fixtures/polisen_events_ostergotland.json");

pub const LINKOPING_CODE: &str = "0580";

/// The embedded municipalities (only their index is read here).
pub fn sweden() -> Result<&'static Sweden<'static>> {
    static SWEDEN: OnceLock<Sweden<'static>> = OnceLock::new();
    if let Some(s) = SWEDEN.get() {
        return Ok(s);
    }
    let parsed = Sweden::parse(OUTLINES)?;
    Ok(SWEDEN.get_or_init(|| parsed))
}

/// The service-area options as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct AreaChoice {
    /// `--service-area`: municipalities, a county, or a boundary file.
    pub selector: Option<String>,
    /// `--service-area-name`.
    pub name: Option<String>,
    /// `--service-area-crs`, for a boundary file without a `crs` member.
    pub crs: Option<String>,
    /// `--timezone`.
    pub timezone: Option<String>,
}

impl AreaChoice {
    pub fn of(selector: &str) -> Self {
        Self {
            selector: Some(selector.to_owned()),
            ..Self::default()
        }
    }

    /// The area the options name, `None` when `--service-area` is not given.
    pub fn build(&self) -> Result<Option<ServiceArea>> {
        let Some(selector) = self.selector.as_deref() else {
            if self.name.is_some() || self.crs.is_some() {
                return Err(Error::Usage(
                    "--service-area-name and --service-area-crs go with --service-area".into(),
                ));
            }
            return Ok(None);
        };
        let timezone = match &self.timezone {
            Some(tz) => service_area::parse_timezone(tz, "--timezone")
                .map_err(|e| Error::Usage(format!("--timezone: {}", e.reason())))?,
            None => DEFAULT_TIMEZONE,
        };
        let (definition, file_name) = definition(selector, self.crs.as_deref())?;
        let name = self.name.clone().or(file_name);
        ServiceArea::build(definition, name.as_deref(), timezone, sweden()?)
            .map(Some)
            .map_err(|e| Error::Usage(format!("--service-area: {}", e.reason())))
    }
}

/// Whether a selector names a boundary file rather than municipalities.
fn is_file(selector: &str) -> bool {
    let path = Path::new(selector);
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"))
        || path.is_file()
}

/// What a `--service-area` value names, and the name a boundary file gives
/// itself (its `name` member, or its first feature's `name`/`namn`, or
/// the file's stem).
fn definition(selector: &str, crs: Option<&str>) -> Result<(Definition, Option<String>)> {
    if is_file(selector) {
        let path = Path::new(selector);
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Usage(format!("--service-area: {selector}: {e}")))?;
        let crs = crs
            .map(|c| Crs::parse(c, "--service-area-crs"))
            .transpose()?;
        let shape = service_area::boundary_from_geojson(&bytes, crs)
            .map_err(|e| Error::Usage(format!("--service-area {selector}: {e}")))?;
        return Ok((Definition::Boundary(shape), Some(file_name(&bytes, path))));
    }
    if crs.is_some() {
        return Err(Error::Usage(
            "--service-area-crs is for a boundary file; municipalities and counties need none"
                .into(),
        ));
    }
    let selection = sweden()?
        .select(selector)
        .map_err(|e| Error::Usage(format!("--service-area: {}", e.reason())))?;
    Ok((
        match selection {
            Selection::Municipalities(codes) => Definition::Municipalities(codes),
            Selection::County(c) => Definition::County(c),
        },
        None,
    ))
}

fn file_name(bytes: &[u8], path: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let props = v
        .pointer("/features/0/properties")
        .or_else(|| v.pointer("/properties"));
    v.get("name")
        .and_then(serde_json::Value::as_str)
        .or_else(|| {
            props.and_then(|p| {
                ["name", "namn", "NAME", "Name", "NAMN"]
                    .iter()
                    .find_map(|k| p.get(*k).and_then(serde_json::Value::as_str))
            })
        })
        .map_or_else(
            || {
                path.file_stem().map_or_else(
                    || "Service area".to_owned(),
                    |s| s.to_string_lossy().into_owned(),
                )
            },
            str::to_owned,
        )
}

/// The service area a selector names, in the default time zone (what the
/// demo and tests use).
pub fn service_area(selector: &str) -> Result<ServiceArea> {
    AreaChoice::of(selector)
        .build()?
        .ok_or_else(|| Error::Usage("--service-area is empty".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkoping_is_found_by_name_and_code() {
        let by_code = service_area("0580").unwrap();
        let by_name = service_area("linköping").unwrap();
        assert_eq!(by_code.code, by_name.code);
        assert_eq!(by_code.name, "Linköping");
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

    #[test]
    fn a_boundary_file_takes_its_name_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("centrum.geojson");
        std::fs::write(
            &path,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"namn":"Innerstaden"},
               "geometry":{"type":"Polygon","coordinates":[[[15.60,58.40],[15.64,58.40],[15.64,58.42],[15.60,58.42],[15.60,58.40]]]}}]}"#,
        )
        .unwrap();
        let mut choice = AreaChoice::of(path.to_str().unwrap());
        choice.timezone = Some("Europe/Oslo".into());
        let area = choice.build().unwrap().unwrap();
        assert_eq!(area.name, "Innerstaden");
        assert_eq!(area.timezone, chrono_tz::Europe::Oslo);
        assert!(area.members.is_empty());
        choice.name = Some("Centrum".into());
        assert_eq!(choice.build().unwrap().unwrap().name, "Centrum");
    }
}
