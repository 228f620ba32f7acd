use serde::{Deserialize, Serialize};

use super::{Derived, check_id, check_text};
use crate::Result;

/// An administrative district (e.g. a RegSO area) used for choropleths and
/// area-level statistics. Areas have no time extent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub code: String,
    pub name: String,
    /// What kind of division this is (`regso`, `district`, …).
    #[serde(default = "default_level")]
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn default_level() -> String {
    "district".to_owned()
}

impl Area {
    pub(super) fn validate(&self) -> Result<()> {
        check_id("code", Some(&self.code))?;
        check_text("name", &self.name, 120)?;
        check_text("level", &self.level, 32)?;
        Ok(())
    }

    pub(super) fn derived(&self) -> Derived {
        Derived {
            tags: Vec::new(),
            source: self.source.clone().or_else(|| Some(self.level.clone())),
            source_id: Some(self.code.clone()),
            ..Derived::default()
        }
    }
}
