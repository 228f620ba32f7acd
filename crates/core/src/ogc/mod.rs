//! What the OGC API – Features serves that the rest of the API does not:
//! other coordinate systems (Part 2) and a flat, fixed field list per
//! collection (what desktop GIS and file formats can hold).

pub mod crs;
pub mod fields;

use chrono::{DateTime, Datelike};

use crate::time::TimeWindow;
use crate::{Error, Result};

/// The month (`YYYY-MM`, UTC, as public layers are published) that a
/// `datetime` on a public layer names: public layers exist per closed month
/// only, so an instant or interval must lie within one month. Whether the
/// month has ended is checked where the layer is made.
pub fn public_month(window: TimeWindow, field: &str) -> Result<String> {
    let month_of = |ms: i64| {
        DateTime::from_timestamp_millis(ms).map(|t| format!("{:04}-{:02}", t.year(), t.month()))
    };
    match (window.start, window.end) {
        (i64::MIN, _) | (_, i64::MAX) => Err(Error::invalid(
            field,
            "public layers are published per closed month: give an instant or an interval within one month (or period=YYYY-MM), not an open interval",
        )),
        (start, end) => match (month_of(start), month_of(end)) {
            (Some(a), Some(b)) if a == b => Ok(a),
            _ => Err(Error::invalid(
                field,
                "public layers are published per closed month: the interval must lie within one calendar month (UTC)",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datetime_within_one_month_names_it_and_others_are_refused() {
        let w = TimeWindow::parse("2026-10-03T10:00:00Z/2026-10-20T00:00:00Z", "datetime").unwrap();
        assert_eq!(public_month(w, "datetime").unwrap(), "2026-10");
        let day = TimeWindow::parse("2026-10-03", "datetime").unwrap();
        assert_eq!(public_month(day, "datetime").unwrap(), "2026-10");
        let two =
            TimeWindow::parse("2026-09-30T00:00:00Z/2026-10-02T00:00:00Z", "datetime").unwrap();
        assert_eq!(
            public_month(two, "datetime").unwrap_err().field(),
            "datetime"
        );
        let open = TimeWindow::parse("2026-10-01T00:00:00Z/..", "datetime").unwrap();
        assert!(public_month(open, "datetime").is_err());
    }
}
