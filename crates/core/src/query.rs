//! Query parameters of the list and layer endpoints, parsed into validated
//! values. Unknown parameters are refused by name: a typo must not silently
//! return everything.

use uuid::Uuid;

use crate::attrs::{
    IncidentCategory, MeasureKind, MeasureStatus, Reason, ReportSource, ReportStatus, UnitType,
};
use crate::bbox::Bbox;
use crate::cells::LayerResolution;
use crate::time::TimeWindow;
use crate::{Error, Kind, Result};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 10_000;

/// Filters shared by lists and hexagon layers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    /// Match any of these tags (category, reason, unit type, measure kind).
    pub tags: Vec<&'static str>,
    pub statuses: Vec<&'static str>,
    pub sources: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub bbox: Option<Bbox>,
    pub window: TimeWindow,
    pub filters: Filters,
    pub limit: u32,
    /// Keyset cursor: the last id of the previous page.
    pub after: Option<Uuid>,
    /// Only records of this organisation. Never from the query string:
    /// the server's index reads and the store fill it from the caller's
    /// [`crate::access::View`] (which they require), replacing whatever is here.
    pub organisation: Option<Uuid>,
    /// Only records of this geometry class (set by the server for the OGC
    /// API's per-geometry collections).
    pub shape: Option<crate::Shape>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HexQuery {
    pub resolution: LayerResolution,
    pub bbox: Option<Bbox>,
    pub window: TimeWindow,
    pub filters: Filters,
    /// As in [`ListQuery::organisation`].
    pub organisation: Option<Uuid>,
}

/// A point query: the point features of a box and window.
#[derive(Debug, Clone, PartialEq)]
pub struct PointQuery {
    pub bbox: Option<Bbox>,
    pub window: TimeWindow,
    pub filters: Filters,
    /// As in [`ListQuery::organisation`].
    pub organisation: Option<Uuid>,
}

/// The name a kind's tag filter goes by (`category`, `reason`, …), which
/// is also the property that carries the tags in point layers.
pub fn tag_param(kind: Kind) -> Option<&'static str> {
    filter_params(kind)
        .iter()
        .find(|(_, slot, _)| matches!(slot, Slot::Tag))
        .map(|(name, _, _)| *name)
}

/// The filter parameters a kind takes (`category`, `status`, …) with the
/// values each accepts, for documents that describe them.
pub fn filter_vocabularies(kind: Kind) -> Vec<(&'static str, &'static [&'static str])> {
    filter_params(kind)
        .iter()
        .map(|(name, _, values)| (*name, *values))
        .collect()
}

/// The filter parameters a kind takes, with their vocabularies.
fn filter_params(kind: Kind) -> &'static [(&'static str, Slot, &'static [&'static str])] {
    match kind {
        Kind::Incident => &[("category", Slot::Tag, IncidentCategory::NAMES)],
        Kind::Report => &[
            ("reason", Slot::Tag, Reason::NAMES),
            ("status", Slot::Status, ReportStatus::NAMES),
            ("source", Slot::Source, ReportSource::NAMES),
        ],
        Kind::Presence => &[("unit_type", Slot::Tag, UnitType::NAMES)],
        Kind::Measure => &[
            ("kind", Slot::Tag, MeasureKind::NAMES),
            ("status", Slot::Status, MeasureStatus::NAMES),
        ],
        Kind::Place | Kind::Area => &[],
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Tag,
    Status,
    Source,
}

/// Parameters every request may carry that this layer ignores: `f` is sent
/// by GDAL on every OGC API request.
const HARMLESS: [&str; 1] = ["f"];

struct Parsed {
    bbox: Option<Bbox>,
    window: TimeWindow,
    filters: Filters,
    rest: Vec<(String, String)>,
}

fn parse_common(kind: Kind, params: &[(String, String)]) -> Result<Parsed> {
    let mut bbox = None;
    let mut window = TimeWindow::ALL;
    let mut filters = Filters::default();
    let mut rest = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in params {
        if seen.contains(&key.as_str()) {
            return Err(Error::invalid(key, "given more than once"));
        }
        seen.push(key);
        match key.as_str() {
            "bbox" => bbox = Some(Bbox::parse(value, "bbox")?),
            "datetime" => window = TimeWindow::parse(value, "datetime")?,
            "f" => match value.as_str() {
                "json" | "geojson" | "application/geo+json" | "application/json" => {}
                other => {
                    return Err(Error::invalid(
                        "f",
                        format!("unsupported format `{other}`; this endpoint returns GeoJSON"),
                    ));
                }
            },
            k => {
                if let Some((name, slot, names)) =
                    filter_params(kind).iter().find(|(n, _, _)| *n == k)
                {
                    let values = parse_list(value, name, names)?;
                    match slot {
                        Slot::Tag => filters.tags = values,
                        Slot::Status => filters.statuses = values,
                        Slot::Source => filters.sources = values,
                    }
                } else {
                    rest.push((key.clone(), value.clone()));
                }
            }
        }
    }
    Ok(Parsed {
        bbox,
        window,
        filters,
        rest,
    })
}

fn parse_list(
    value: &str,
    field: &str,
    names: &'static [&'static str],
) -> Result<Vec<&'static str>> {
    let mut out = Vec::new();
    for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let name = names.iter().find(|n| **n == v).ok_or_else(|| {
            Error::invalid(
                field,
                format!("unknown value `{v}`; expected one of {}", names.join(", ")),
            )
        })?;
        out.push(*name);
    }
    if out.is_empty() {
        return Err(Error::invalid(field, "must name at least one value"));
    }
    Ok(out)
}

fn unknown(kind: Kind, key: &str, extra: &[&str]) -> Error {
    let mut allowed = vec!["bbox", "datetime"];
    allowed.extend(filter_params(kind).iter().map(|(n, _, _)| *n));
    allowed.extend_from_slice(extra);
    allowed.extend_from_slice(&HARMLESS);
    Error::invalid(
        key,
        format!(
            "unknown parameter; this endpoint takes {}",
            allowed.join(", ")
        ),
    )
}

impl ListQuery {
    pub fn parse(kind: Kind, params: &[(String, String)]) -> Result<Self> {
        let parsed = parse_common(kind, params)?;
        let mut limit = DEFAULT_LIMIT;
        let mut after = None;
        for (key, value) in &parsed.rest {
            match key.as_str() {
                "limit" => {
                    let n: u32 = value.parse().map_err(|_| {
                        Error::invalid("limit", format!("`{value}` is not a whole number"))
                    })?;
                    if n == 0 || n > MAX_LIMIT {
                        return Err(Error::invalid(
                            "limit",
                            format!("must be between 1 and {MAX_LIMIT}"),
                        ));
                    }
                    limit = n;
                }
                "after" => {
                    after = Some(
                        Uuid::parse_str(value)
                            .map_err(|_| Error::invalid("after", "is not a feature id"))?,
                    );
                }
                k => return Err(unknown(kind, k, &["limit", "after"])),
            }
        }
        Ok(Self {
            bbox: parsed.bbox,
            window: parsed.window,
            filters: parsed.filters,
            limit,
            after,
            organisation: None,
            shape: None,
        })
    }

    /// The query string that asks for the page after `last_id`.
    pub fn next_params(
        &self,
        original: &[(String, String)],
        last_id: Uuid,
    ) -> Vec<(String, String)> {
        let mut out: Vec<_> = original
            .iter()
            .filter(|(k, _)| k != "after")
            .cloned()
            .collect();
        out.push(("after".into(), last_id.to_string()));
        out
    }
}

impl PointQuery {
    pub fn parse(kind: Kind, params: &[(String, String)]) -> Result<Self> {
        let parsed = parse_common(kind, params)?;
        if let Some((key, _)) = parsed.rest.first() {
            return Err(unknown(kind, key, &[]));
        }
        Ok(Self {
            bbox: parsed.bbox,
            window: parsed.window,
            filters: parsed.filters,
            organisation: None,
        })
    }
}

impl HexQuery {
    pub fn parse(kind: Kind, params: &[(String, String)]) -> Result<Self> {
        let parsed = parse_common(kind, params)?;
        let mut resolution = None;
        for (key, value) in &parsed.rest {
            match key.as_str() {
                "resolution" => resolution = Some(LayerResolution::parse(value, "resolution")?),
                k => return Err(unknown(kind, k, &["resolution"])),
            }
        }
        let resolution = resolution.ok_or_else(|| {
            Error::invalid("resolution", "missing; choose 5 to 11 (9 ≈ 174 m hexagons)")
        })?;
        Ok(Self {
            resolution,
            bbox: parsed.bbox,
            window: parsed.window,
            filters: parsed.filters,
            organisation: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_full_incident_query() {
        let q = ListQuery::parse(
            Kind::Incident,
            &p(&[
                ("bbox", "15.6,58.4,15.7,58.5"),
                ("datetime", "2024-01-01/.."),
                ("category", "theft,robbery"),
                ("limit", "10"),
                ("f", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(q.limit, 10);
        assert_eq!(q.filters.tags, vec!["theft", "robbery"]);
        assert_eq!(q.window.end, i64::MAX);
    }

    #[test]
    fn an_unknown_category_is_named() {
        let err = ListQuery::parse(Kind::Incident, &p(&[("category", "jaywalking")])).unwrap_err();
        assert_eq!(err.field(), "category");
        assert!(err.reason().contains("theft"));
    }

    #[test]
    fn an_unknown_parameter_is_named() {
        let err = ListQuery::parse(Kind::Place, &p(&[("category", "theft")])).unwrap_err();
        assert_eq!(err.field(), "category");
        let err = ListQuery::parse(Kind::Incident, &p(&[("limt", "5")])).unwrap_err();
        assert_eq!(err.field(), "limt");
    }

    #[test]
    fn limits_are_bounded() {
        assert!(ListQuery::parse(Kind::Incident, &p(&[("limit", "0")])).is_err());
        assert!(ListQuery::parse(Kind::Incident, &p(&[("limit", "10001")])).is_err());
        assert_eq!(
            ListQuery::parse(Kind::Incident, &[]).unwrap().limit,
            DEFAULT_LIMIT
        );
    }

    #[test]
    fn hexagons_need_a_resolution() {
        let err = HexQuery::parse(Kind::Incident, &[]).unwrap_err();
        assert_eq!(err.field(), "resolution");
        let q = HexQuery::parse(
            Kind::Presence,
            &p(&[("resolution", "9"), ("unit_type", "police")]),
        )
        .unwrap();
        assert_eq!(q.filters.tags, vec!["police"]);
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let err =
            ListQuery::parse(Kind::Incident, &p(&[("limit", "5"), ("limit", "6")])).unwrap_err();
        assert_eq!(err.field(), "limit");
    }
}
