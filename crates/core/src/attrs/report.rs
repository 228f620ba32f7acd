use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Derived, check_id, check_not_future, check_opt_text};
use crate::{Error, Result};

vocabulary!(
    /// Why a place feels unsafe.
    Reason {
        Lighting = "lighting",
        Vegetation = "vegetation",
        LitterGraffiti = "litter_graffiti",
        People = "people",
        Traffic = "traffic",
        Other = "other",
    }
);

vocabulary!(
    TimeOfDay {
        Morning = "morning",
        Day = "day",
        Evening = "evening",
        Night = "night",
    }
);

vocabulary!(
    /// Where a report came from; public reports wait for moderation.
    ReportSource {
        SafetyWalk = "safety_walk",
        Survey = "survey",
        Public = "public",
        Staff = "staff",
    }
);

vocabulary!(
    ReportStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
);

vocabulary!(
    Gender {
        Woman = "woman",
        Man = "man",
        NonBinary = "non_binary",
        NotStated = "not_stated",
    }
);

vocabulary!(
    AgeBand {
        Under16 = "0-15",
        From16To24 = "16-24",
        From25To44 = "25-44",
        From45To64 = "45-64",
        Over64 = "65+",
    }
);

/// Optional, sensitive: who reported. Never public below the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Respondent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// Self-identified as LGBTQ; DESIGN.md asks that their experience be visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lgbtq: Option<bool>,
}

/// A safety-walk score card, each item 1 (very poor) to 5 (very good), so
/// perception can be compared rather than only read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scores {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lighting: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openness: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people_around: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_path: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall: Option<u8>,
}

impl Scores {
    fn validate(&self) -> Result<()> {
        let items = [
            ("lighting", self.lighting),
            ("visibility", self.visibility),
            ("openness", self.openness),
            ("people_around", self.people_around),
            ("upkeep", self.upkeep),
            ("walk_path", self.walk_path),
            ("overall", self.overall),
        ];
        for (name, v) in items {
            if let Some(v) = v
                && !(1..=5).contains(&v)
            {
                return Err(Error::invalid(
                    format!("scores.{name}"),
                    "must be between 1 and 5",
                ));
            }
        }
        Ok(())
    }
}

/// A place where someone feels unsafe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub reasons: Vec<Reason>,
    pub source: ReportSource,
    pub reported_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_day: Option<TimeOfDay>,
    #[serde(default = "default_status")]
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent: Option<Respondent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    /// The safety walk this observation belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// How to reach a member of the public who reported; never published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Why a moderator approved or rejected a public report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation_note: Option<String>,
}

fn default_status() -> ReportStatus {
    ReportStatus::Approved
}

impl Report {
    pub(super) fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        if self.reasons.is_empty() {
            return Err(Error::invalid("reasons", "name at least one reason"));
        }
        let mut seen = self.reasons.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.reasons.len() {
            return Err(Error::invalid("reasons", "lists a reason twice"));
        }
        check_not_future("reported_at", self.reported_at, now)?;
        if let Some(s) = &self.scores {
            s.validate()?;
        }
        check_id("walk_id", self.walk_id.as_ref())?;
        check_opt_text("comment", self.comment.as_ref(), 2000)?;
        check_id("client_id", self.client_id.as_ref())?;
        check_opt_text("contact", self.contact.as_ref(), 200)?;
        check_opt_text("moderation_note", self.moderation_note.as_ref(), 1000)?;
        Ok(())
    }

    /// The rule every write of a report obeys, `previous` being the stored
    /// version (`None` on create): a public report starts pending, and its
    /// status, source and moderation note change only through moderation
    /// ([`Report::decided`]), never through an edit — nor can a report
    /// become or stop being public, which would bypass the queue.
    ///
    /// # Errors
    /// The field that may not change, named under `properties`.
    pub fn check_write(&self, previous: Option<&Report>) -> Result<()> {
        let moderation_only =
            "changes only through moderation (POST /api/v1/reports/{id}/moderation)";
        match previous {
            None if self.source == ReportSource::Public => {
                if self.status != ReportStatus::Pending {
                    return Err(Error::invalid(
                        "properties.status",
                        format!("a public report starts `pending` and {moderation_only}"),
                    ));
                }
                if self.moderation_note.is_some() {
                    return Err(Error::invalid(
                        "properties.moderation_note",
                        format!("is written by a moderator: it {moderation_only}"),
                    ));
                }
                Ok(())
            }
            None => Ok(()),
            Some(before) => {
                if before.source != self.source
                    && (before.source == ReportSource::Public
                        || self.source == ReportSource::Public)
                {
                    return Err(Error::invalid(
                        "properties.source",
                        "a report cannot become or stop being a public report",
                    ));
                }
                if self.source != ReportSource::Public {
                    return Ok(());
                }
                if before.status != self.status {
                    return Err(Error::invalid(
                        "properties.status",
                        format!("of a public report {moderation_only}"),
                    ));
                }
                if before.moderation_note != self.moderation_note {
                    return Err(Error::invalid(
                        "properties.moderation_note",
                        moderation_only,
                    ));
                }
                Ok(())
            }
        }
    }

    /// A moderator's decision on a pending public report: approved, or
    /// rejected with a reason. The one way a public report's status changes.
    ///
    /// # Errors
    /// Not a pending public report, a decision that is not a decision, a
    /// rejection without a reason, or a reason that is too long.
    pub fn decided(&self, decision: ReportStatus, note: Option<&str>) -> Result<Report> {
        if self.source != ReportSource::Public {
            return Err(Error::invalid(
                "decision",
                "only public reports are moderated",
            ));
        }
        if self.status != ReportStatus::Pending {
            return Err(Error::invalid(
                "decision",
                format!("the report was already {}", self.status.as_str()),
            ));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        match decision {
            ReportStatus::Pending => {
                return Err(Error::invalid("decision", "approve or reject"));
            }
            ReportStatus::Rejected if note.is_none() => {
                return Err(Error::invalid("reason", "say why the report is rejected"));
            }
            _ => {}
        }
        let note = note.map(str::to_owned);
        check_opt_text("reason", note.as_ref(), 1000)?;
        Ok(Report {
            status: decision,
            moderation_note: note,
            ..self.clone()
        })
    }

    pub(super) fn derived(&self) -> Derived {
        let t = Some(crate::time::to_ms(self.reported_at));
        Derived {
            t_start: t,
            t_end: t,
            tags: self.reasons.iter().map(|r| r.as_str()).collect(),
            status: Some(self.status.as_str()),
            source: Some(self.source.as_str().to_owned()),
            source_id: None,
            client_id: self.client_id.clone(),
            precision_m: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(source: ReportSource, status: ReportStatus) -> Report {
        Report {
            reasons: vec![Reason::Lighting],
            source,
            reported_at: Utc::now(),
            time_of_day: None,
            status,
            respondent: None,
            scores: None,
            walk_id: None,
            comment: None,
            client_id: None,
            contact: None,
            moderation_note: None,
        }
    }

    #[test]
    fn a_public_report_starts_pending_and_no_edit_decides_it() {
        use ReportSource::{Public, Staff};
        use ReportStatus::{Approved, Pending};
        assert!(report(Public, Pending).check_write(None).is_ok());
        let err = report(Public, Approved).check_write(None).unwrap_err();
        assert_eq!(err.field(), "properties.status");
        let pending = report(Public, Pending);
        let err = report(Public, Approved)
            .check_write(Some(&pending))
            .unwrap_err();
        assert_eq!(err.field(), "properties.status");
        let mut noted = pending.clone();
        noted.moderation_note = Some("ok".into());
        assert_eq!(
            noted.check_write(Some(&pending)).unwrap_err().field(),
            "properties.moderation_note"
        );
        let err = report(Public, Approved)
            .check_write(Some(&report(Staff, Approved)))
            .unwrap_err();
        assert_eq!(err.field(), "properties.source");
        let err = report(Staff, Approved)
            .check_write(Some(&pending))
            .unwrap_err();
        assert_eq!(err.field(), "properties.source");
        // Other reports are the staff's own records.
        assert!(
            report(Staff, Approved)
                .check_write(Some(&report(Staff, Pending)))
                .is_ok()
        );
        let mut edited = pending.clone();
        edited.comment = Some("vid tunneln".into());
        assert!(edited.check_write(Some(&pending)).is_ok());
    }

    #[test]
    fn moderation_decides_once_and_a_rejection_says_why() {
        let pending = report(ReportSource::Public, ReportStatus::Pending);
        let approved = pending.decided(ReportStatus::Approved, None).unwrap();
        assert_eq!(approved.status, ReportStatus::Approved);
        assert_eq!(
            approved
                .decided(ReportStatus::Rejected, Some("x"))
                .unwrap_err()
                .field(),
            "decision"
        );
        assert_eq!(
            pending
                .decided(ReportStatus::Rejected, Some("  "))
                .unwrap_err()
                .field(),
            "reason"
        );
        let rejected = pending
            .decided(ReportStatus::Rejected, Some(" Dubblett "))
            .unwrap();
        assert_eq!(rejected.moderation_note.as_deref(), Some("Dubblett"));
        assert!(
            report(ReportSource::Staff, ReportStatus::Pending)
                .decided(ReportStatus::Approved, None)
                .is_err()
        );
    }
}
