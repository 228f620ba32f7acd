use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Derived, check_opt_text, check_order, check_text, span};
use crate::Result;

/// A named priority place designated by planners from the situational picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub active_from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<DateTime<Utc>>,
    /// Planned visits per week; patrol dosage is measured against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_visits_per_week: Option<u32>,
}

impl Place {
    pub(super) fn validate(&self) -> Result<()> {
        check_text("name", &self.name, 120)?;
        check_opt_text("reason", self.reason.as_ref(), 2000)?;
        check_order("active_until", self.active_from, self.active_until)?;
        if let Some(t) = self.target_visits_per_week
            && t > 1000
        {
            return Err(crate::Error::invalid(
                "target_visits_per_week",
                "must be at most 1000",
            ));
        }
        Ok(())
    }

    pub(super) fn derived(&self) -> Derived {
        let (t_start, t_end) = span(self.active_from, self.active_until);
        Derived {
            t_start,
            t_end,
            ..Derived::default()
        }
    }
}
