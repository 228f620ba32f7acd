//! The coordinate systems imports accept: WGS84 and Sweden's SWEREF 99 TM
//! (EPSG:3006) with its twelve local zones (EPSG:3007–3018, Linköping's is
//! 3009, SWEREF 99 15 00). Municipal spreadsheets list northing before
//! easting; here every projected coordinate is (easting, northing).

use proj4rs::proj::Proj;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    /// An EPSG code of SWEREF 99 TM or one of its local zones.
    Sweref(u16),
}

/// Central meridians of the SWEREF 99 local zones, EPSG 3007–3018.
const LOCAL_ZONES: [(u16, f64); 12] = [
    (3007, 12.0),
    (3008, 13.5),
    (3009, 15.0),
    (3010, 16.5),
    (3011, 18.0),
    (3012, 14.25),
    (3013, 15.75),
    (3014, 17.25),
    (3015, 18.75),
    (3016, 20.25),
    (3017, 21.75),
    (3018, 23.25),
];

impl Crs {
    /// Parses `EPSG:3006`, `3006`, `urn:ogc:def:crs:EPSG::3009`, `WGS84`,
    /// `EPSG:4326`, `CRS84`.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let t = s.trim();
        let upper = t.to_ascii_uppercase();
        if matches!(upper.as_str(), "WGS84" | "CRS84" | "4326" | "EPSG:4326")
            || upper.ends_with("CRS84")
            || upper.ends_with("EPSG::4326")
        {
            return Ok(Crs::Wgs84);
        }
        let code = upper.rsplit(':').next().unwrap_or("").trim();
        match code.parse::<u16>() {
            Ok(3006) => Ok(Crs::Sweref(3006)),
            Ok(c) if LOCAL_ZONES.iter().any(|(z, _)| *z == c) => Ok(Crs::Sweref(c)),
            _ => Err(Error::invalid(
                field,
                format!(
                    "`{t}` is not a coordinate system Trygg reads; use WGS84 (EPSG:4326), SWEREF 99 TM (EPSG:3006) or a SWEREF 99 local zone (EPSG:3007–3018)"
                ),
            )),
        }
    }

    pub(crate) fn proj_string(self) -> Option<String> {
        match self {
            Crs::Wgs84 => None,
            Crs::Sweref(3006) => Some("+proj=utm +zone=33 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs".into()),
            Crs::Sweref(code) => LOCAL_ZONES.iter().find(|(z, _)| *z == code).map(|(_, lon0)| {
                format!("+proj=tmerc +lat_0=0 +lon_0={lon0} +k=1 +x_0=150000 +y_0=0 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs")
            }),
        }
    }
}

/// Converts positions of one coordinate system to WGS84 degrees.
pub struct ToWgs84 {
    from: Option<(Proj, Proj)>,
}

impl ToWgs84 {
    pub fn new(crs: Crs) -> Result<Self> {
        let from = match crs.proj_string() {
            None => None,
            Some(p) => {
                let src = Proj::from_proj_string(&p).map_err(|e| Error::invalid("crs", e))?;
                let dst =
                    Proj::from_proj_string("+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs")
                        .map_err(|e| Error::invalid("crs", e))?;
                Some((src, dst))
            }
        };
        Ok(Self { from })
    }

    /// `(x, y)` in the source system (easting, northing for SWEREF; lon,
    /// lat for WGS84) to `(lon, lat)` in degrees.
    pub fn convert(&self, x: f64, y: f64, field: &str) -> Result<(f64, f64)> {
        if !x.is_finite() || !y.is_finite() {
            return Err(Error::invalid(field, "coordinates must be finite numbers"));
        }
        let Some((src, dst)) = &self.from else {
            return Ok((x, y));
        };
        // Northing first (as Swedish grids list it) would put a northing of
        // millions in x: say so rather than return a point at sea.
        if x > 2_000_000.0 && y < 2_000_000.0 {
            return Err(Error::invalid(
                field,
                "easting and northing look swapped (SWEREF northings are in the millions)",
            ));
        }
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(src, dst, &mut p).map_err(|e| Error::invalid(field, e))?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from pyproj 3 (PROJ 9) for 15.6214 E, 58.4108 N and 16.1 E, 58.6 N.
    const CASES: [(u16, f64, f64, f64, f64); 3] = [
        (3006, 536_308.536_354, 6_474_614.998_755, 15.6214, 58.4108),
        (3009, 186_323.065_580, 6_477_205.881_108, 15.6214, 58.4108),
        (3010, 126_743.893_814, 6_498_181.714_549, 16.1, 58.6),
    ];

    #[test]
    fn sweref_positions_match_proj_to_a_millimetre() {
        for (code, e, n, lon, lat) in CASES {
            let t = ToWgs84::new(Crs::Sweref(code)).unwrap();
            let (x, y) = t.convert(e, n, "x").unwrap();
            assert!(
                (x - lon).abs() < 1e-7 && (y - lat).abs() < 1e-7,
                "{code}: {x} {y}"
            );
        }
    }

    #[test]
    fn names_of_coordinate_systems_parse() {
        assert_eq!(Crs::parse("EPSG:3006", "crs").unwrap(), Crs::Sweref(3006));
        assert_eq!(
            Crs::parse("urn:ogc:def:crs:EPSG::3009", "crs").unwrap(),
            Crs::Sweref(3009)
        );
        assert_eq!(Crs::parse("wgs84", "crs").unwrap(), Crs::Wgs84);
        assert_eq!(
            Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84", "crs").unwrap(),
            Crs::Wgs84
        );
        assert_eq!(Crs::parse("EPSG:3857", "crs").unwrap_err().field(), "crs");
    }

    #[test]
    fn swapped_northing_and_easting_are_named() {
        let t = ToWgs84::new(Crs::Sweref(3006)).unwrap();
        let err = t.convert(6_474_614.0, 536_308.0, "line 2").unwrap_err();
        assert!(err.reason().contains("swapped"));
    }
}
