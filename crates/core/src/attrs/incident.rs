use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Derived, check_id, check_not_future, check_opt_text, check_order, span};
use crate::Result;

vocabulary!(
    /// Incident categories: the ten the follow-up reports on, plus `other`.
    IncidentCategory {
        Theft = "theft",
        Burglary = "burglary",
        Vandalism = "vandalism",
        Assault = "assault",
        Drugs = "drugs",
        Fraud = "fraud",
        VehicleTheft = "vehicle_theft",
        Robbery = "robbery",
        Disturbance = "disturbance",
        Traffic = "traffic",
        Other = "other",
    }
);

/// A crime-exposed place: something that happened at a point, with an
/// honest location precision (police feed coordinates are area centroids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub category: IncidentCategory,
    pub occurred_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_until: Option<DateTime<Utc>>,
    /// Radius in metres within which the true location lies.
    #[serde(default = "default_precision_m")]
    pub precision_m: u32,
    #[serde(default = "default_source")]
    pub source: String,
    /// The source's own id: with `source`, what makes a re-import idempotent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The source's own label for the type, kept for traceability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// The municipality (SCB code, e.g. `0583`) a record concerns when its
    /// position only stands in for an area (the police feed's municipality
    /// or county midpoints): such a record is counted by this code, never
    /// by its position. See `service_area::NOT_A_POSITION_M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
}

fn default_precision_m() -> u32 {
    25
}

fn default_source() -> String {
    "manual".to_owned()
}

/// The coarsest precision worth storing: a county centroid.
const MAX_PRECISION_M: u32 = 200_000;

impl Incident {
    pub(super) fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        check_not_future("occurred_at", self.occurred_at, now)?;
        check_order("occurred_until", self.occurred_at, self.occurred_until)?;
        if self.precision_m == 0 || self.precision_m > MAX_PRECISION_M {
            return Err(crate::Error::invalid(
                "precision_m",
                format!("must be between 1 and {MAX_PRECISION_M} metres"),
            ));
        }
        super::check_text("source", &self.source, 64)?;
        check_id("source_id", self.source_id.as_ref())?;
        check_opt_text("source_type", self.source_type.as_ref(), 200)?;
        check_opt_text("source_url", self.source_url.as_ref(), 500)?;
        if let Some(m) = &self.municipality
            && (m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(crate::Error::invalid(
                "municipality",
                format!("`{m}` is not a four-digit SCB municipality code"),
            ));
        }
        Ok(())
    }

    pub(super) fn derived(&self) -> Derived {
        let (t_start, t_end) = span(
            self.occurred_at,
            Some(self.occurred_until.unwrap_or(self.occurred_at)),
        );
        Derived {
            t_start,
            t_end,
            tags: vec![self.category.as_str()],
            status: None,
            source: Some(self.source.clone()),
            source_id: self.source_id.clone(),
            client_id: None,
            precision_m: Some(self.precision_m),
        }
    }
}
