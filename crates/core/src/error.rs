use std::fmt;

/// Every way domain input can be wrong. `field` is a JSON-pointer-like path
/// (`properties.category`, `geometry.coordinates[2][0]`, `bbox`) so that an
/// API client or an import log can point at the exact place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The input is well formed but asks for more than one answer may hold
    /// (too many cells, too large an area); a narrower question will work.
    #[error("{field}: {reason}")]
    TooLarge { field: String, reason: String },
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn too_large(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::TooLarge {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn field(&self) -> &str {
        match self {
            Self::Invalid { field, .. } | Self::TooLarge { field, .. } => field,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { reason, .. } | Self::TooLarge { reason, .. } => reason,
        }
    }

    /// The same error, one level deeper: `prefix.field`.
    #[must_use]
    pub fn within(self, prefix: &str) -> Self {
        let join = |f: String| {
            if f.is_empty() {
                prefix.to_owned()
            } else if f.starts_with('[') {
                format!("{prefix}{f}")
            } else {
                format!("{prefix}.{f}")
            }
        };
        match self {
            Self::Invalid { field, reason } => Self::Invalid {
                field: join(field),
                reason,
            },
            Self::TooLarge { field, reason } => Self::TooLarge {
                field: join(field),
                reason,
            },
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
