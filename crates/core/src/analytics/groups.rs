//! Respondent groups (gender, age band, LGBTQ): the split of approved
//! reports, and when it is shown, so that no group of 1 to k−1 reports can
//! be derived from everything shown, whoever subtracts what from what.
//!
//! Within one period, a group of 1 to k−1 is `suppressed`; if the hidden
//! groups of a split then hold fewer than k reports together, the smallest
//! shown groups are hidden as well (the total minus the shown groups would
//! reveal them). Zero is shown — it singles out nobody — except in a split
//! of fewer than k reports, where every group is hidden (the total beside
//! three zeros is the fourth group). A group's mean
//! overall score (safety-walk score card) is shown only when at least k of
//! its reports carry one.
//!
//! That protects one period. Periods overlap (a quarter holds three months,
//! a year four quarters) and change (a late report changes a published
//! month): a quarter minus two of its months, or a figure now minus the
//! figure published, is a count of its own, which no suppression inside one
//! period can protect. So the split is shown:
//!
//! - only for periods of **one cadence** (`--group-period`, yearly by
//!   default): they never overlap, and a sum of whole periods is no finer
//!   than a period, so no difference of shown splits isolates fewer months
//!   than a shown split covers;
//! - only once the period **has ended**, and then **as first computed**:
//!   the caller keeps it ([`FollowUpInput::kept_groups`]) and shows it ever
//!   after, so a late report never becomes the difference between two
//!   shown figures, and a split is never a correction.
//!
//! Other periods show no split (`groups: null`). The totals of approved
//! reports per period are shown everywhere, but they are sums over every
//! group and isolate none. `disclosure.rs` attacks all of this by linear
//! algebra over random reports and every period of every cadence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::followup::{FollowUpInput, ReportRecord};
use crate::attrs::ReportStatus;
use crate::time::TimeWindow;

/// The split a follow-up shows, by the rules above: `None` outside the
/// group cadence and before the period has ended; the kept split when
/// there is one; a new one otherwise (which the caller then keeps).
pub fn shown(input: &FollowUpInput<'_>, window: TimeWindow) -> Option<GroupSplit> {
    if input.period.cadence() != input.group_cadence || !input.period.has_ended(input.now_ms) {
        return None;
    }
    Some(
        input
            .kept_groups
            .cloned()
            .unwrap_or_else(|| split_of(input.reports, window, input.k)),
    )
}

/// The marker a suppressed figure carries instead of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Suppressed {
    #[serde(rename = "suppressed")]
    Suppressed,
}

/// A count that is either shown or, below the threshold, suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupCount {
    Shown(u64),
    Suppressed(Suppressed),
}

impl GroupCount {
    pub fn shown(self) -> Option<u64> {
        match self {
            GroupCount::Shown(n) => Some(n),
            GroupCount::Suppressed(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub reports: GroupCount,
    pub mean_overall_score: Option<f64>,
}

/// The approved reports of the period split by respondent group, each
/// split keyed by the group's wire name or `not_stated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSplit {
    pub total: u64,
    pub by_gender: BTreeMap<String, GroupRow>,
    pub by_age_band: BTreeMap<String, GroupRow>,
    /// Keys `yes`, `no`, `not_stated`.
    pub by_lgbtq: BTreeMap<String, GroupRow>,
}

const NOT_STATED: &str = "not_stated";

/// The split of the approved reports of `window`, suppressed below `k`.
pub fn split_of(reports: &[ReportRecord], window: TimeWindow, k: u64) -> GroupSplit {
    let counted: Vec<&ReportRecord> = reports
        .iter()
        .filter(|r| {
            r.status == ReportStatus::Approved
                && window.start <= r.reported_at_ms
                && r.reported_at_ms <= window.end
        })
        .collect();
    let gender = |r: &ReportRecord| {
        r.respondent
            .as_ref()
            .and_then(|p| p.gender)
            .map_or(NOT_STATED, |g| g.as_str())
    };
    let age = |r: &ReportRecord| {
        r.respondent
            .as_ref()
            .and_then(|p| p.age_band)
            .map_or(NOT_STATED, |a| a.as_str())
    };
    let lgbtq = |r: &ReportRecord| match r.respondent.as_ref().and_then(|p| p.lgbtq) {
        Some(true) => "yes",
        Some(false) => "no",
        None => NOT_STATED,
    };
    let genders: Vec<&str> = crate::attrs::Gender::NAMES.to_vec();
    let ages: Vec<&str> = crate::attrs::AgeBand::NAMES.to_vec();
    GroupSplit {
        total: counted.len() as u64,
        by_gender: split(&counted, &genders, &gender, k),
        by_age_band: split(&counted, &ages, &age, k),
        by_lgbtq: split(&counted, &["yes", "no"], &lgbtq, k),
    }
}

fn split(
    reports: &[&ReportRecord],
    groups: &[&str],
    group_of: &dyn Fn(&ReportRecord) -> &'static str,
    k: u64,
) -> BTreeMap<String, GroupRow> {
    let mut counts: BTreeMap<&str, (u64, Vec<u8>)> = groups
        .iter()
        .chain(&[NOT_STATED])
        .map(|g| (*g, (0, Vec::new())))
        .collect();
    for r in reports {
        let slot = counts.entry(group_of(r)).or_default();
        slot.0 += 1;
        slot.1.extend(r.overall_score);
    }
    let hidden = suppress(&counts.iter().map(|(g, (n, _))| (*g, *n)).collect(), k);
    counts
        .into_iter()
        .map(|(g, (n, scores))| {
            let shown = !hidden.contains(g);
            let mean = (shown && scores.len() as u64 >= k)
                .then(|| scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64);
            let reports = if shown {
                GroupCount::Shown(n)
            } else {
                GroupCount::Suppressed(Suppressed::Suppressed)
            };
            (
                g.to_owned(),
                GroupRow {
                    reports,
                    mean_overall_score: mean,
                },
            )
        })
        .collect()
}

/// The groups to hide: those of 1 to k−1, then the smallest shown ones
/// until the hidden total is 0 or at least k (see the module docs). A split
/// of fewer than k reports in all hides every group, zeros too: its total
/// is shown, and beside shown zeros it would be the one group's count.
fn suppress<'a>(counts: &BTreeMap<&'a str, u64>, k: u64) -> std::collections::BTreeSet<&'a str> {
    let total: u64 = counts.values().sum();
    if (1..k).contains(&total) {
        return counts.keys().copied().collect();
    }
    let mut hidden: std::collections::BTreeSet<&str> = counts
        .iter()
        .filter(|(_, n)| (1..k).contains(*n))
        .map(|(g, _)| *g)
        .collect();
    let mut sum: u64 = hidden.iter().map(|g| counts[g]).sum();
    let mut visible: Vec<(u64, &str)> = counts
        .iter()
        .filter(|(g, n)| **n > 0 && !hidden.contains(*g))
        .map(|(g, n)| (*n, *g))
        .collect();
    visible.sort_unstable();
    for (n, g) in visible {
        if sum == 0 || sum >= k {
            break;
        }
        hidden.insert(g);
        sum += n;
    }
    hidden
}
