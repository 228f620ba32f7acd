use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Derived, check_id, check_not_future, check_opt_text, check_text};
use crate::time::to_ms;
use crate::{Error, Result};

vocabulary!(
    MeasureKind {
        Lighting = "lighting",
        Vegetation = "vegetation",
        Cleaning = "cleaning",
        Graffiti = "graffiti",
        Camera = "camera",
        Other = "other",
    }
);

vocabulary!(
    /// An honest status: a measure is done, or closed without being done,
    /// or rejected, never silently dropped.
    MeasureStatus {
        Proposed = "proposed",
        Planned = "planned",
        InProgress = "in_progress",
        Done = "done",
        Closed = "closed",
        Rejected = "rejected",
    }
);

impl MeasureStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MeasureStatus::Done | MeasureStatus::Closed | MeasureStatus::Rejected
        )
    }

    /// Forward moves only, plus closing or rejecting an open measure. A
    /// finished measure stays finished: a new problem is a new measure, so
    /// the follow-up's history is never rewritten.
    pub fn can_move_to(self, next: MeasureStatus) -> bool {
        use MeasureStatus::{Closed, Done, InProgress, Planned, Proposed, Rejected};
        self == next
            || matches!(
                (self, next),
                (Proposed, Planned | InProgress | Done | Closed | Rejected)
                    | (Planned, InProgress | Done | Closed | Rejected)
                    | (InProgress, Done | Closed)
            )
    }
}

/// One entry of a measure's status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub status: MeasureStatus,
    pub at: DateTime<Utc>,
}

/// A physical measure in the city environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub kind: MeasureKind,
    pub title: String,
    #[serde(default = "default_status")]
    pub status: MeasureStatus,
    /// When the given status took effect; the server's clock when absent.
    /// Input only: it becomes an entry of the status history.
    #[serde(default, skip_serializing)]
    pub status_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

fn default_status() -> MeasureStatus {
    MeasureStatus::Proposed
}

impl Measure {
    pub(super) fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        check_text("title", &self.title, 200)?;
        check_opt_text("description", self.description.as_ref(), 4000)?;
        check_opt_text("responsible_org", self.responsible_org.as_ref(), 120)?;
        if let Some(d) = self.status_date {
            check_not_future("status_date", d, now)?;
        }
        if self.report_ids.len() > 100 {
            return Err(Error::invalid("report_ids", "at most 100 linked reports"));
        }
        check_id("client_id", self.client_id.as_ref())?;
        Ok(())
    }

    /// A measure spans from its first status to its final one (open while
    /// it is not finished).
    pub(super) fn derived(&self, history: &[StatusChange]) -> Derived {
        let t_start = history.first().map(|c| to_ms(c.at));
        let t_end = history
            .last()
            .filter(|c| c.status.is_final())
            .map(|c| to_ms(c.at));
        Derived {
            t_start,
            t_end,
            tags: vec![self.kind.as_str()],
            status: Some(self.status.as_str()),
            source: None,
            source_id: None,
            client_id: self.client_id.clone(),
            precision_m: None,
        }
    }

    /// The history after this write: the first entry on create, one more
    /// on a status change, unchanged otherwise.
    pub fn next_history(
        &self,
        previous: &[StatusChange],
        now: DateTime<Utc>,
    ) -> Result<Vec<StatusChange>> {
        let at = crate::time::truncate_ms(self.status_date.unwrap_or(now));
        let Some(last) = previous.last() else {
            return Ok(vec![StatusChange {
                status: self.status,
                at,
            }]);
        };
        if last.status == self.status {
            return Ok(previous.to_vec());
        }
        if !last.status.can_move_to(self.status) {
            return Err(Error::invalid(
                "properties.status",
                format!(
                    "a measure that is `{}` cannot become `{}`",
                    last.status.as_str(),
                    self.status.as_str()
                ),
            ));
        }
        if at < last.at {
            return Err(Error::invalid(
                "properties.status_date",
                "lies before the previous status change",
            ));
        }
        let mut next = previous.to_vec();
        next.push(StatusChange {
            status: self.status,
            at,
        });
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(status: MeasureStatus) -> Measure {
        Measure {
            kind: MeasureKind::Lighting,
            title: "Ny belysning".into(),
            status,
            status_date: None,
            description: None,
            responsible_org: None,
            place_id: None,
            report_ids: vec![],
            client_id: None,
        }
    }

    #[test]
    fn a_new_measure_starts_its_history() {
        let now = crate::time::truncate_ms(Utc::now());
        let h = measure(MeasureStatus::Proposed)
            .next_history(&[], now)
            .unwrap();
        assert_eq!(
            h,
            vec![StatusChange {
                status: MeasureStatus::Proposed,
                at: now
            }]
        );
    }

    #[test]
    fn a_status_change_appends_and_a_done_measure_stays_done() {
        let t0 = Utc::now() - chrono::Duration::days(10);
        let now = Utc::now();
        let h0 = vec![StatusChange {
            status: MeasureStatus::Planned,
            at: t0,
        }];
        let h1 = measure(MeasureStatus::Done).next_history(&h0, now).unwrap();
        assert_eq!(h1.len(), 2);
        let err = measure(MeasureStatus::Planned)
            .next_history(&h1, now)
            .unwrap_err();
        assert_eq!(err.field(), "properties.status");
    }

    #[test]
    fn the_time_extent_closes_with_a_final_status() {
        let t0 = Utc::now() - chrono::Duration::days(10);
        let t1 = Utc::now();
        let m = measure(MeasureStatus::Closed);
        let d = m.derived(&[
            StatusChange {
                status: MeasureStatus::Proposed,
                at: t0,
            },
            StatusChange {
                status: MeasureStatus::Closed,
                at: t1,
            },
        ]);
        assert_eq!(d.t_start, Some(to_ms(t0)));
        assert_eq!(d.t_end, Some(to_ms(t1)));
        let open = measure(MeasureStatus::Planned).derived(&[StatusChange {
            status: MeasureStatus::Planned,
            at: t0,
        }]);
        assert_eq!(open.t_end, None);
    }
}
