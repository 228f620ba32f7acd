use crate::{Error, Result};

/// The largest box a query may ask about: about four times Sweden, more
/// than the planner map's widest view (zoom 8) on a 4K screen. Answers are
/// bounded by page size and cells per response anyway; this catches a
/// whole-world box sent by mistake before any work is done.
pub const MAX_QUERY_AREA_KM2: f64 = 2_000_000.0;

/// A WGS84 bounding box, `min_lon,min_lat,max_lon,max_lat` as in OGC API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl Bbox {
    pub fn new(
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
        field: &str,
    ) -> Result<Self> {
        for v in [min_lon, min_lat, max_lon, max_lat] {
            if !v.is_finite() {
                return Err(Error::invalid(field, "every value must be a finite number"));
            }
        }
        if !(-180.0..=180.0).contains(&min_lon) || !(-180.0..=180.0).contains(&max_lon) {
            return Err(Error::invalid(field, "longitudes must be within -180..180"));
        }
        if !(-90.0..=90.0).contains(&min_lat) || !(-90.0..=90.0).contains(&max_lat) {
            return Err(Error::invalid(field, "latitudes must be within -90..90"));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(Error::invalid(
                field,
                "the minimum must not exceed the maximum (min_lon,min_lat,max_lon,max_lat)",
            ));
        }
        Ok(Self {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Parses `min_lon,min_lat,max_lon,max_lat`. Six-number (3D) boxes are
    /// accepted as OGC API allows, their heights ignored.
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let nums = parts
            .iter()
            .map(|p| {
                p.parse::<f64>()
                    .map_err(|_| Error::invalid(field, format!("`{p}` is not a number")))
            })
            .collect::<Result<Vec<_>>>()?;
        let b = match nums.as_slice() {
            [w, s, e, n] | [w, s, _, e, n, _] => Self::new(*w, *s, *e, *n, field)?,
            _ => {
                return Err(Error::invalid(
                    field,
                    "expected four numbers, min_lon,min_lat,max_lon,max_lat (or six, with heights)",
                ));
            }
        };
        let area = b.area_km2();
        if area > MAX_QUERY_AREA_KM2 {
            return Err(Error::too_large(
                field,
                format!(
                    "the box covers about {area:.0} km²; at most {MAX_QUERY_AREA_KM2:.0} km² may be asked for at once"
                ),
            ));
        }
        Ok(b)
    }

    /// The area on the ground, approximately (a spherical Earth).
    pub fn area_km2(&self) -> f64 {
        const R_KM: f64 = 6_371.0;
        let band = self.max_lat.to_radians().sin() - self.min_lat.to_radians().sin();
        R_KM * R_KM * (self.max_lon - self.min_lon).to_radians() * band
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }

    pub fn intersects(&self, other: &Bbox) -> bool {
        self.min_lon <= other.max_lon
            && self.max_lon >= other.min_lon
            && self.min_lat <= other.max_lat
            && self.max_lat >= other.min_lat
    }

    /// The box grown by `m` metres on every side (equirectangular: fine at
    /// city scale, which is the only scale this is used at).
    #[must_use]
    pub fn expanded_m(&self, m: f64) -> Bbox {
        let dlat = m / 111_320.0;
        let mid = f64::midpoint(self.min_lat, self.max_lat).to_radians();
        let dlon = m / (111_320.0 * mid.cos().max(0.01));
        Bbox {
            min_lon: (self.min_lon - dlon).max(-180.0),
            min_lat: (self.min_lat - dlat).max(-90.0),
            max_lon: (self.max_lon + dlon).min(180.0),
            max_lat: (self.max_lat + dlat).min(90.0),
        }
    }

    pub fn to_rect(&self) -> geo_types::Rect<f64> {
        geo_types::Rect::new(
            geo_types::coord! { x: self.min_lon, y: self.min_lat },
            geo_types::coord! { x: self.max_lon, y: self.max_lat },
        )
    }
}

#[cfg(test)]
mod area_tests {
    use super::*;

    #[test]
    fn a_city_box_is_fine_and_the_world_is_too_large() {
        let city = Bbox::parse("15.49,58.34,15.75,58.48", "bbox").unwrap();
        assert!((city.area_km2() - 235.0).abs() < 5.0, "{}", city.area_km2());
        let world = Bbox::parse("-180,-90,180,90", "bbox").unwrap_err();
        assert_eq!(world.field(), "bbox");
        assert!(world.reason().contains("km²"));
        assert!(Bbox::parse("10,55,25,69", "bbox").is_ok(), "all of Sweden");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_numbers_make_a_box() {
        let b = Bbox::parse("15.600,58.400,15.635,58.418", "bbox").unwrap();
        assert!(b.contains(15.62, 58.41));
        assert!(!b.contains(15.64, 58.41));
    }

    #[test]
    fn three_numbers_are_refused_naming_bbox() {
        let err = Bbox::parse("15.6,58.4,15.7", "bbox").unwrap_err();
        assert_eq!(err.field(), "bbox");
    }

    #[test]
    fn inverted_and_non_finite_boxes_are_refused() {
        assert!(Bbox::parse("15.7,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("NaN,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("inf,58.4,15.6,58.5", "bbox").is_err());
        assert!(Bbox::parse("15.6,58.4,15.7,91", "bbox").is_err());
    }
}
