//! Before and after a measure or a place's designation, against comparison
//! cells: a difference in differences.
//!
//! # Rules
//! - The **treated unit** is a set of cells: a place's cells, or the cell of
//!   a measure's location ([`super::hotspots::cells_of`]).
//! - For each window of `m` months (default 6 and 12): *before* is the `m`
//!   calendar months up to the date (the date itself excluded), *after* the
//!   `m` months from the date on. Months are UTC calendar months, counted
//!   from the date's day and time (`2026-03-15T00:00Z` minus 6 months is
//!   `2025-09-15T00:00Z`).
//! - **Comparison cells** come from the study area minus the treated cells
//!   and their first ring (`exclusion_ring`, default 1), where an effect —
//!   or displaced crime — would show. Of these, the `comparison_cells`
//!   (default 10) whose *before* count is closest to the treated unit's
//!   *before* count per cell are used, ties broken by cell id. They are
//!   chosen per window, since each window has its own starting level.
//! - **DiD** = Δtreated − n_treated · Δcomparison mean, in events of the
//!   whole treated unit: the change in the treated unit beyond what the
//!   comparison cells' trend would have given it. Negative means fewer
//!   events than expected.
//! - **Relative change** = DiD / treated before: the change beyond the
//!   comparison trend as a share of the starting level (`None` when the
//!   unit had no events before).
//! - A window whose *after* part has not yet ended is computed from what
//!   there is and marked `complete: false`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Months;
use h3o::CellIndex;
use serde::Serialize;

use super::serialize_cells;
use crate::time::{EpochMs, from_ms, to_ms};
use crate::{Error, Result};

pub const DEFAULT_COMPARISON_CELLS: usize = 10;
pub const DEFAULT_WINDOWS_MONTHS: [u32; 2] = [6, 12];
pub const DEFAULT_EXCLUSION_RING: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationConfig {
    pub comparison_cells: usize,
    pub windows_months: Vec<u32>,
    /// Rings around the treated cells kept out of the comparison.
    pub exclusion_ring: u32,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            comparison_cells: DEFAULT_COMPARISON_CELLS,
            windows_months: DEFAULT_WINDOWS_MONTHS.to_vec(),
            exclusion_ring: DEFAULT_EXCLUSION_RING,
        }
    }
}

/// The figures of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidWindow {
    pub months: u32,
    pub before_start_ms: EpochMs,
    /// The date: the first millisecond of *after*.
    pub date_ms: EpochMs,
    /// The last millisecond of *after*.
    pub after_end_ms: EpochMs,
    pub treated_cells: usize,
    pub treated_before: u64,
    pub treated_after: u64,
    /// How many comparison cells were used.
    pub comparison_cells: usize,
    /// The comparison cells, sorted.
    #[serde(serialize_with = "serialize_cells")]
    pub comparison: Vec<CellIndex>,
    pub comparison_mean_before: f64,
    pub comparison_mean_after: f64,
    pub did: f64,
    pub relative_change: Option<f64>,
    /// Whether the *after* part had ended by `now`.
    pub complete: bool,
}

/// The difference in differences of a treated unit for every configured
/// window.
///
/// `events` are (cell, time) pairs at the area's resolution or finer (finer
/// cells are counted in their parent, so res-11 index cells can be passed
/// as they are). `area` is the study area the comparison cells come from;
/// it must include cells without events.
///
/// # Errors
/// No treated cells, cells of mixed resolutions, an event cell coarser than
/// the area, a window of 0 months or a date out of range, or no comparison
/// cell left.
pub fn difference_in_differences(
    events: &[(CellIndex, EpochMs)],
    area: &[CellIndex],
    treated: &[CellIndex],
    date_ms: EpochMs,
    now_ms: EpochMs,
    config: &EvaluationConfig,
) -> Result<Vec<DidWindow>> {
    let treated: BTreeSet<CellIndex> = treated.iter().copied().collect();
    let Some(res) = treated.first().map(|c| c.resolution()) else {
        return Err(Error::invalid("treated", "no treated cells"));
    };
    if treated.iter().chain(area).any(|c| c.resolution() != res) {
        return Err(Error::invalid(
            "cells",
            "all cells must have one resolution",
        ));
    }
    if config.comparison_cells == 0 {
        return Err(Error::invalid("comparison_cells", "must be at least 1"));
    }
    let mut excluded = treated.clone();
    for c in &treated {
        excluded.extend(c.grid_disk::<Vec<_>>(config.exclusion_ring));
    }
    let candidates: BTreeSet<CellIndex> = area
        .iter()
        .copied()
        .filter(|c| !excluded.contains(c))
        .collect();
    if candidates.is_empty() {
        return Err(Error::invalid(
            "area",
            "no comparison cells outside the treated cells and their ring",
        ));
    }
    let events: Vec<(CellIndex, EpochMs)> = events
        .iter()
        .map(|&(c, t)| match c.resolution().cmp(&res) {
            std::cmp::Ordering::Less => Err(Error::invalid(
                "events",
                "an event cell is coarser than the study area",
            )),
            _ => Ok((c.parent(res).unwrap_or(c), t)),
        })
        .collect::<Result<_>>()?;

    config
        .windows_months
        .iter()
        .map(|&months| {
            window(
                &events,
                &treated,
                &candidates,
                date_ms,
                now_ms,
                months,
                config,
            )
        })
        .collect()
}

fn window(
    events: &[(CellIndex, EpochMs)],
    treated: &BTreeSet<CellIndex>,
    candidates: &BTreeSet<CellIndex>,
    date_ms: EpochMs,
    now_ms: EpochMs,
    months: u32,
    config: &EvaluationConfig,
) -> Result<DidWindow> {
    if months == 0 {
        return Err(Error::invalid(
            "windows_months",
            "a window is at least one month",
        ));
    }
    let out_of_range = || Error::invalid("date", "the date is out of range");
    let date = from_ms(date_ms);
    if to_ms(date) != date_ms {
        return Err(out_of_range());
    }
    let start = to_ms(
        date.checked_sub_months(Months::new(months))
            .ok_or_else(out_of_range)?,
    );
    let end = to_ms(
        date.checked_add_months(Months::new(months))
            .ok_or_else(out_of_range)?,
    ) - 1;

    let mut before: BTreeMap<CellIndex, u64> = BTreeMap::new();
    let mut after: BTreeMap<CellIndex, u64> = BTreeMap::new();
    for &(c, t) in events {
        if (start..date_ms).contains(&t) {
            *before.entry(c).or_default() += 1;
        } else if (date_ms..=end).contains(&t) {
            *after.entry(c).or_default() += 1;
        }
    }
    let count = |m: &BTreeMap<CellIndex, u64>, c: &CellIndex| m.get(c).copied().unwrap_or(0);
    let treated_before: u64 = treated.iter().map(|c| count(&before, c)).sum();
    let treated_after: u64 = treated.iter().map(|c| count(&after, c)).sum();
    let n_treated = treated.len() as f64;
    let level = treated_before as f64 / n_treated;

    let mut ranked: Vec<(f64, CellIndex)> = candidates
        .iter()
        .map(|c| ((count(&before, c) as f64 - level).abs(), *c))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    ranked.truncate(config.comparison_cells);
    let k = ranked.len() as f64;
    let mean = |m: &BTreeMap<CellIndex, u64>| {
        ranked.iter().map(|(_, c)| count(m, c) as f64).sum::<f64>() / k
    };
    let comparison_mean_before = mean(&before);
    let comparison_mean_after = mean(&after);
    let did = (treated_after as f64 - treated_before as f64)
        - n_treated * (comparison_mean_after - comparison_mean_before);
    Ok(DidWindow {
        months,
        before_start_ms: start,
        date_ms,
        after_end_ms: end,
        treated_cells: treated.len(),
        treated_before,
        treated_after,
        comparison_cells: ranked.len(),
        comparison: {
            let mut cells: Vec<CellIndex> = ranked.iter().map(|(_, c)| *c).collect();
            cells.sort_unstable();
            cells
        },
        comparison_mean_before,
        comparison_mean_after,
        did,
        relative_change: (treated_before > 0).then(|| did / treated_before as f64),
        complete: end < now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use h3o::{LatLng, Resolution};

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn centre() -> CellIndex {
        LatLng::new(58.41, 15.62).unwrap().to_cell(Resolution::Nine)
    }

    /// `n` events in a cell, spread over the days after `from`.
    fn events(cell: CellIndex, n: u64, from: &str) -> Vec<(CellIndex, EpochMs)> {
        (0..n)
            .map(|i| (cell, ms(from) + i as i64 * 86_400_000))
            .collect()
    }

    #[test]
    fn the_hand_computed_case_with_one_treated_cell() {
        // Treated: 10 before, 4 after. The ring-3 area minus the ring-1
        // exclusion leaves 30 candidates; two of them had 9 and 11 before
        // (distance 1 from 10) and 7 and 9 after; the rest had 0. With two
        // comparison cells: mean before 10, after 8 → Δ = −2.
        // DiD = (4 − 10) − 1 · (−2) = −4; relative −0.4.
        let t = centre();
        let ring2: Vec<CellIndex> = t.grid_ring_fast(2).flatten().collect();
        let (c1, c2, c3) = (ring2[0], ring2[3], ring2[5]);
        let date = "2026-03-01T00:00:00Z";
        let mut ev = Vec::new();
        ev.extend(events(t, 10, "2025-10-01T00:00:00Z"));
        ev.extend(events(t, 4, "2026-04-01T00:00:00Z"));
        ev.extend(events(c1, 9, "2025-10-01T00:00:00Z"));
        ev.extend(events(c1, 7, "2026-04-01T00:00:00Z"));
        ev.extend(events(c2, 11, "2025-10-01T00:00:00Z"));
        ev.extend(events(c2, 9, "2026-04-01T00:00:00Z"));
        // Far from the level: 30 before; never chosen.
        ev.extend(events(c3, 30, "2025-09-15T00:00:00Z"));
        // Before the 6-month window: counts only in the 12-month one.
        ev.extend(events(t, 2, "2025-05-01T00:00:00Z"));
        let area: Vec<CellIndex> = t.grid_disk(3);
        let config = EvaluationConfig {
            comparison_cells: 2,
            ..EvaluationConfig::default()
        };
        let out = difference_in_differences(
            &ev,
            &area,
            &[t],
            ms(date),
            ms("2027-06-01T00:00:00Z"),
            &config,
        )
        .unwrap();
        let six = &out[0];
        assert_eq!(six.months, 6);
        assert_eq!(six.before_start_ms, ms("2025-09-01T00:00:00Z"));
        assert_eq!(six.after_end_ms, ms("2026-08-31T23:59:59.999Z"));
        assert_eq!((six.treated_before, six.treated_after), (10, 4));
        assert_eq!(six.comparison_cells, 2);
        assert!((six.comparison_mean_before - 10.0).abs() < 1e-12);
        assert!((six.comparison_mean_after - 8.0).abs() < 1e-12);
        assert!((six.did + 4.0).abs() < 1e-12);
        assert!((six.relative_change.unwrap() + 0.4).abs() < 1e-12);
        assert!(six.complete);
        // Twelve months: treated 12 before; closest are c2 (11) and c1 (9)
        // … and c3 (30) stays out; mean before 10, after 8.
        // DiD = (4 − 12) + 2 = −6.
        let twelve = &out[1];
        assert_eq!(twelve.treated_before, 12);
        assert!((twelve.did + 6.0).abs() < 1e-12);
    }

    #[test]
    fn the_treated_cells_ring_is_never_a_comparison() {
        // Only the ring-1 cells have events like the treated cell: with
        // them excluded, the comparison is the zero cells.
        let t = centre();
        let mut ev = events(t, 5, "2025-12-01T00:00:00Z");
        for c in t.grid_ring_fast(1).flatten() {
            ev.extend(events(c, 5, "2025-12-01T00:00:00Z"));
        }
        let area: Vec<CellIndex> = t.grid_disk(2);
        let out = difference_in_differences(
            &ev,
            &area,
            &[t],
            ms("2026-03-01T00:00:00Z"),
            ms("2026-04-01T00:00:00Z"),
            &EvaluationConfig::default(),
        )
        .unwrap();
        assert_eq!(out[0].comparison_cells, 10);
        assert!(out[0].comparison_mean_before.abs() < 1e-12);
        assert!(!out[0].complete);
    }

    #[test]
    fn several_treated_cells_scale_the_comparison_trend() {
        // Two treated cells, 6 + 4 before (5 per cell), 3 + 3 after.
        // One comparison cell with 5 before, 6 after: Δ = +1 per cell.
        // DiD = (6 − 10) − 2 · 1 = −6.
        let t = centre();
        let t2 = t.grid_ring_fast(1).flatten().next().unwrap();
        let far = t.grid_ring_fast(4).flatten().next().unwrap();
        let date = "2026-03-01T00:00:00Z";
        let mut ev = Vec::new();
        ev.extend(events(t, 6, "2025-11-01T00:00:00Z"));
        ev.extend(events(t2, 4, "2025-11-01T00:00:00Z"));
        ev.extend(events(t, 3, "2026-03-02T00:00:00Z"));
        ev.extend(events(t2, 3, "2026-03-02T00:00:00Z"));
        ev.extend(events(far, 5, "2025-11-01T00:00:00Z"));
        ev.extend(events(far, 6, "2026-03-02T00:00:00Z"));
        let config = EvaluationConfig {
            comparison_cells: 1,
            windows_months: vec![6],
            ..EvaluationConfig::default()
        };
        let area: Vec<CellIndex> = t.grid_disk(4);
        let out =
            difference_in_differences(&ev, &area, &[t, t2], ms(date), i64::MAX, &config).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].treated_cells, 2);
        assert!((out[0].did + 6.0).abs() < 1e-12);
    }

    #[test]
    fn finer_event_cells_count_in_their_parent() {
        let t = centre();
        let child = t.center_child(Resolution::Eleven).unwrap();
        let ev = vec![(child, ms("2026-01-10T00:00:00Z"))];
        let area: Vec<CellIndex> = t.grid_disk(2);
        let out = difference_in_differences(
            &ev,
            &area,
            &[t],
            ms("2026-03-01T00:00:00Z"),
            i64::MAX,
            &EvaluationConfig::default(),
        )
        .unwrap();
        assert_eq!(out[0].treated_before, 1);
        let coarse = vec![(t.parent(Resolution::Eight).unwrap(), 0)];
        let err = difference_in_differences(
            &coarse,
            &area,
            &[t],
            ms("2026-03-01T00:00:00Z"),
            i64::MAX,
            &EvaluationConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.field(), "events");
    }

    #[test]
    fn no_treated_cells_or_no_comparison_left_is_refused() {
        let t = centre();
        let none = difference_in_differences(&[], &[t], &[], 0, 0, &EvaluationConfig::default());
        assert_eq!(none.unwrap_err().field(), "treated");
        let area: Vec<CellIndex> = t.grid_disk(1);
        let err = difference_in_differences(&[], &area, &[t], 0, 0, &EvaluationConfig::default())
            .unwrap_err();
        assert_eq!(err.field(), "area");
    }
}
