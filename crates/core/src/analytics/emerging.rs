//! Emerging hot spots: how each cell's Gi* has moved over a run of periods
//! (monthly by default).
//!
//! Input: one Gi* run per period over the same study area
//! ([`super::hotspots::gi_star`] per period, each over the same cells with
//! zeros filled in). Gi* is purely spatial within each period; the time
//! dimension enters only through the trend and the categories below.
//!
//! # Trend
//! The Mann-Kendall test over the cell's series of z-scores, oldest first:
//! S = Σᵢ<ⱼ sign(zⱼ − zᵢ); Var(S) = [n(n−1)(2n+5) − Σₜ t(t−1)(2t+5)] / 18,
//! t running over groups of tied values; Z = (S − 1)/√Var for S > 0,
//! (S + 1)/√Var for S < 0, 0 for S = 0 (continuity correction); p two-sided.
//! The trend is significant when p ≤ `trend_alpha` (default 0.05).
//!
//! # Categories
//! A period is *hot* for a cell when its Gi* bin is positive and *cold*
//! when negative: by default the bin after the FDR correction
//! (`bin_fdr`), so with the default q a period counts only at 95 % or more
//! after correction. "Most periods" means at least `share` of them (default
//! 90 %; of 12 monthly periods that is 11, of fewer than 10 periods it is
//! all of them). The rules, checked in this order, for hot spots:
//!
//! 1. **Intensifying**: hot in the last period and in most periods, and a
//!    significant upward trend.
//! 2. **Diminishing**: hot in the last period and in most periods, and a
//!    significant downward trend.
//! 3. **Persistent**: hot in the last period and in most periods, without a
//!    significant trend.
//! 4. **Historical**: not hot in the last period, but hot in most periods.
//! 5. **Oscillating**: hot in the last period, hot in fewer than most, and
//!    cold in at least one earlier period (the history of coldness decides,
//!    whichever of the next three would also fit).
//! 6. **New**: hot in the last period and in no earlier period.
//! 7. **Consecutive**: hot in an unbroken run of two or more periods that
//!    ends with the last one, never hot before that run, and hot in fewer
//!    than most.
//! 8. **Sporadic**: hot in the last period, hot in fewer than most, on and
//!    off before, never cold.
//!
//! Gi* measures how much a neighbourhood stands out from the whole area,
//! not its counts: a hot spot whose counts grow as fast as the rest of the
//! town's is persistent, not intensifying, and one whose counts stay put
//! while the town around it calms down intensifies.
//!
//! Cold spots mirror every rule (hot ↔ cold, upward ↔ downward: an
//! intensifying cold spot grows colder, its z falls). A cell that is
//! neither is **no pattern**. When both a hot and a cold rule could fit
//! (only possible through rule 4 for one and rules 1–8 for the other), the
//! pattern of the last period wins.
//!
//! These follow the categories of ArcGIS's Emerging Hot Spot Analysis,
//! with two conventions of ours: persistent requires the last period to be
//! hot (otherwise it is historical), and oscillating takes precedence over
//! new, consecutive and sporadic.

use h3o::CellIndex;
use serde::Serialize;

use super::hotspots::GiStar;
use super::serialize_cell;
use super::stats::two_sided_p;
use crate::{Error, Result};

pub const DEFAULT_SHARE: f64 = 0.9;
pub const DEFAULT_TREND_ALPHA: f64 = 0.05;

/// The Mann-Kendall trend test of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannKendall {
    pub n: usize,
    pub s: i64,
    /// Var(S) with the tie correction.
    pub var_s: f64,
    /// With the continuity correction.
    pub z: f64,
    /// Two-sided.
    pub p: f64,
}

/// The Mann-Kendall test of `series` (oldest first). Fewer than two values
/// give S = 0, Z = 0 and p = 1.
pub fn mann_kendall(series: &[f64]) -> MannKendall {
    let n = series.len();
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            s += match series[j].total_cmp(&series[i]) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
        }
    }
    let mut sorted = series.to_vec();
    sorted.sort_by(f64::total_cmp);
    let tie_term: f64 = sorted
        .chunk_by(|a, b| a.total_cmp(b).is_eq())
        .map(|g| g.len() as f64)
        .map(|t| t * (t - 1.0) * (2.0 * t + 5.0))
        .sum();
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
    let z = if var_s <= 0.0 || s == 0 {
        0.0
    } else if s > 0 {
        (s - 1) as f64 / var_s.sqrt()
    } else {
        (s + 1) as f64 / var_s.sqrt()
    };
    MannKendall {
        n,
        s,
        var_s,
        z,
        p: two_sided_p(z),
    }
}

/// The emerging hot-spot categories (see the module docs for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    NoPattern,
    NewHotSpot,
    ConsecutiveHotSpot,
    IntensifyingHotSpot,
    PersistentHotSpot,
    DiminishingHotSpot,
    SporadicHotSpot,
    OscillatingHotSpot,
    HistoricalHotSpot,
    NewColdSpot,
    ConsecutiveColdSpot,
    IntensifyingColdSpot,
    PersistentColdSpot,
    DiminishingColdSpot,
    SporadicColdSpot,
    OscillatingColdSpot,
    HistoricalColdSpot,
}

impl Pattern {
    pub fn is_hot(self) -> bool {
        matches!(
            self,
            Pattern::NewHotSpot
                | Pattern::ConsecutiveHotSpot
                | Pattern::IntensifyingHotSpot
                | Pattern::PersistentHotSpot
                | Pattern::DiminishingHotSpot
                | Pattern::SporadicHotSpot
                | Pattern::OscillatingHotSpot
                | Pattern::HistoricalHotSpot
        )
    }

    pub fn is_cold(self) -> bool {
        self != Pattern::NoPattern && !self.is_hot()
    }
}

/// The settings of an emerging hot-spot run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingConfig {
    /// The share of periods that counts as "most" (0 < share ≤ 1).
    pub share: f64,
    /// The trend is significant when its p is at most this.
    pub trend_alpha: f64,
    /// Hot and cold from `bin_fdr` (true) or the uncorrected `bin`.
    pub use_fdr: bool,
}

impl Default for EmergingConfig {
    fn default() -> Self {
        Self {
            share: DEFAULT_SHARE,
            trend_alpha: DEFAULT_TREND_ALPHA,
            use_fdr: true,
        }
    }
}

/// One cell's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingCell {
    #[serde(serialize_with = "serialize_cell")]
    pub cell: CellIndex,
    pub pattern: Pattern,
    pub trend: MannKendall,
    /// Periods in which the cell was a hot spot, and a cold spot.
    pub hot_periods: usize,
    pub cold_periods: usize,
    /// The z-score of every period, oldest first.
    pub z: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Hot,
    Cold,
}

/// The category of one cell from its per-period bins (only the sign
/// matters) and z-scores, both oldest first and of equal length.
pub fn classify(bins: &[i8], z: &[f64], config: &EmergingConfig) -> Pattern {
    let trend = mann_kendall(z);
    let significant = trend.p <= config.trend_alpha;
    let up = significant && trend.s > 0;
    let down = significant && trend.s < 0;
    let hot = side_pattern(bins, config.share, Side::Hot, up, down);
    let cold = side_pattern(bins, config.share, Side::Cold, down, up);
    let last = bins.last().copied().unwrap_or(0);
    match (hot, cold) {
        (Some(h), Some(c)) => {
            if last < 0 {
                c
            } else {
                h
            }
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => Pattern::NoPattern,
    }
}

/// The pattern of one side, `towards` meaning a significant trend that
/// makes this side stronger (rising z for hot, falling for cold).
fn side_pattern(bins: &[i8], share: f64, side: Side, towards: bool, away: bool) -> Option<Pattern> {
    let is = |b: i8| match side {
        Side::Hot => b > 0,
        Side::Cold => b < 0,
    };
    let is_other = |b: i8| match side {
        Side::Hot => b < 0,
        Side::Cold => b > 0,
    };
    let (&last, earlier) = bins.split_last()?;
    let n = bins.len() as f64;
    let count = bins.iter().filter(|&&b| is(b)).count();
    // A small epsilon keeps 0.9 × 10 = 9 from failing on rounding.
    let most = count as f64 >= share * n - 1e-9;
    let pick = |hot: Pattern, cold: Pattern| match side {
        Side::Hot => hot,
        Side::Cold => cold,
    };
    if !is(last) {
        return most.then(|| pick(Pattern::HistoricalHotSpot, Pattern::HistoricalColdSpot));
    }
    if most {
        return Some(if towards {
            pick(Pattern::IntensifyingHotSpot, Pattern::IntensifyingColdSpot)
        } else if away {
            pick(Pattern::DiminishingHotSpot, Pattern::DiminishingColdSpot)
        } else {
            pick(Pattern::PersistentHotSpot, Pattern::PersistentColdSpot)
        });
    }
    if earlier.iter().any(|&b| is_other(b)) {
        return Some(pick(
            Pattern::OscillatingHotSpot,
            Pattern::OscillatingColdSpot,
        ));
    }
    if count == 1 {
        return Some(pick(Pattern::NewHotSpot, Pattern::NewColdSpot));
    }
    let run = bins.iter().rev().take_while(|&&b| is(b)).count();
    if run == count {
        return Some(pick(
            Pattern::ConsecutiveHotSpot,
            Pattern::ConsecutiveColdSpot,
        ));
    }
    Some(pick(Pattern::SporadicHotSpot, Pattern::SporadicColdSpot))
}

/// Emerging hot-spot categories for every cell of the study area.
/// `periods` holds one Gi* run per period, oldest first, every run over the
/// same cells. The result is sorted by cell.
///
/// # Errors
/// No periods, a share or alpha out of range, or runs over different cells.
pub fn emerging_hot_spots(
    periods: &[Vec<GiStar>],
    config: &EmergingConfig,
) -> Result<Vec<EmergingCell>> {
    if !(config.share > 0.0 && config.share <= 1.0) {
        return Err(Error::invalid("share", "must be above 0 and at most 1"));
    }
    if !(config.trend_alpha > 0.0 && config.trend_alpha < 1.0) {
        return Err(Error::invalid(
            "trend_alpha",
            "must lie strictly between 0 and 1",
        ));
    }
    let Some(first) = periods.first() else {
        return Err(Error::invalid("periods", "at least one period is needed"));
    };
    let mut runs: Vec<Vec<GiStar>> = periods.to_vec();
    for run in &mut runs {
        run.sort_unstable_by_key(|g| g.cell);
    }
    let cells: Vec<CellIndex> = runs[0].iter().map(|g| g.cell).collect();
    if runs
        .iter()
        .any(|r| r.len() != first.len() || r.iter().map(|g| g.cell).ne(cells.iter().copied()))
    {
        return Err(Error::invalid(
            "periods",
            "every period must cover the same cells (fill the area with zeros)",
        ));
    }
    Ok(cells
        .iter()
        .enumerate()
        .map(|(i, &cell)| {
            let z: Vec<f64> = runs.iter().map(|r| r[i].z).collect();
            let bins: Vec<i8> = runs
                .iter()
                .map(|r| {
                    if config.use_fdr {
                        r[i].bin_fdr
                    } else {
                        r[i].bin
                    }
                })
                .collect();
            EmergingCell {
                cell,
                pattern: classify(&bins, &z, config),
                trend: mann_kendall(&z),
                hot_periods: bins.iter().filter(|&&b| b > 0).count(),
                cold_periods: bins.iter().filter(|&&b| b < 0).count(),
                z,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EmergingConfig {
        EmergingConfig::default()
    }

    /// z-scores that rise steadily (a significant upward trend over 12).
    fn rising(n: usize) -> Vec<f64> {
        (0..n).map(|i| 2.0 + i as f64 * 0.1).collect()
    }

    fn flat(n: usize) -> Vec<f64> {
        // Alternating keeps S at 0 or ±1: no trend.
        (0..n).map(|i| if i % 2 == 0 { 2.5 } else { 2.6 }).collect()
    }

    #[test]
    fn mann_kendall_of_a_hand_computed_series() {
        // 1 3 2 4: pairs (1,3)+ (1,2)+ (1,4)+ (3,2)− (3,4)+ (2,4)+ → S = 4.
        // Var = 4·3·13/18 = 156/18; Z = 3/√(156/18).
        let mk = mann_kendall(&[1.0, 3.0, 2.0, 4.0]);
        assert_eq!(mk.s, 4);
        assert!((mk.var_s - 156.0 / 18.0).abs() < 1e-12);
        assert!((mk.z - 3.0 / (156f64 / 18.0).sqrt()).abs() < 1e-12);
        assert!((mk.p - two_sided_p(mk.z)).abs() < 1e-15);
    }

    #[test]
    fn ties_lower_the_variance() {
        // 1 1 2 2 3: groups of 2, 2 and 1. Var = (5·4·15 − 2·(2·1·9))/18 = 264/18.
        // S: (1,1)0 (1,2)+ (1,2)+ (1,3)+ twice over, (2,2)0, (2,3)+ twice → 8.
        let mk = mann_kendall(&[1.0, 1.0, 2.0, 2.0, 3.0]);
        assert_eq!(mk.s, 8);
        assert!((mk.var_s - 264.0 / 18.0).abs() < 1e-12);
        let mk = mann_kendall(&[5.0]);
        assert_eq!((mk.s, mk.z, mk.p), (0, 0.0, 1.0));
    }

    #[test]
    fn hot_in_all_twelve_with_a_rising_z_is_intensifying() {
        let bins = [2; 12];
        assert_eq!(
            classify(&bins, &rising(12), &cfg()),
            Pattern::IntensifyingHotSpot
        );
        let falling: Vec<f64> = rising(12).into_iter().rev().collect();
        assert_eq!(
            classify(&bins, &falling, &cfg()),
            Pattern::DiminishingHotSpot
        );
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::PersistentHotSpot
        );
    }

    #[test]
    fn eleven_of_twelve_is_most_and_ten_is_not() {
        let mut bins = [3; 12];
        bins[4] = 0;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::PersistentHotSpot
        );
        bins[5] = 0;
        assert_eq!(classify(&bins, &flat(12), &cfg()), Pattern::SporadicHotSpot);
    }

    #[test]
    fn hot_for_most_but_not_at_the_end_is_historical() {
        let mut bins = [2; 12];
        bins[11] = 0;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::HistoricalHotSpot
        );
    }

    #[test]
    fn the_last_period_alone_is_new_and_an_unbroken_final_run_is_consecutive() {
        let mut bins = [0; 12];
        bins[11] = 2;
        assert_eq!(classify(&bins, &flat(12), &cfg()), Pattern::NewHotSpot);
        bins[10] = 3;
        bins[9] = 2;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::ConsecutiveHotSpot
        );
        bins[3] = 2;
        assert_eq!(classify(&bins, &flat(12), &cfg()), Pattern::SporadicHotSpot);
    }

    #[test]
    fn a_cold_history_makes_a_new_hot_spot_oscillating() {
        let mut bins = [0; 12];
        bins[2] = -2;
        bins[11] = 2;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::OscillatingHotSpot
        );
    }

    #[test]
    fn cold_spots_mirror_hot_spots() {
        let falling: Vec<f64> = rising(12).into_iter().map(|z| -z).collect();
        assert_eq!(
            classify(&[-2; 12], &falling, &cfg()),
            Pattern::IntensifyingColdSpot
        );
        let mut bins = [0; 12];
        bins[11] = -3;
        assert_eq!(classify(&bins, &flat(12), &cfg()), Pattern::NewColdSpot);
        assert!(Pattern::NewColdSpot.is_cold() && !Pattern::NewColdSpot.is_hot());
    }

    #[test]
    fn a_cold_spot_for_most_periods_that_is_hot_now_takes_the_hot_pattern() {
        // Historical cold spot and oscillating hot spot both fit: the last
        // period decides.
        let mut bins = [-2; 12];
        bins[11] = 2;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::OscillatingHotSpot
        );
        bins[11] = 0;
        assert_eq!(
            classify(&bins, &flat(12), &cfg()),
            Pattern::HistoricalColdSpot
        );
    }

    #[test]
    fn never_significant_is_no_pattern() {
        assert_eq!(classify(&[0; 12], &rising(12), &cfg()), Pattern::NoPattern);
        assert_eq!(classify(&[], &[], &cfg()), Pattern::NoPattern);
    }

    fn run(z: &[(CellIndex, f64)], bin: i8) -> Vec<GiStar> {
        z.iter()
            .map(|&(cell, z)| GiStar {
                cell,
                value: 0.0,
                neighbours: 7,
                z,
                p: two_sided_p(z),
                bin,
                p_fdr: 1.0,
                bin_fdr: bin,
            })
            .collect()
    }

    #[test]
    fn periods_over_different_cells_are_refused() {
        let a = h3o::LatLng::new(58.41, 15.62)
            .unwrap()
            .to_cell(h3o::Resolution::Nine);
        let b = a.grid_ring_fast(1).flatten().next().unwrap();
        let p1 = run(&[(a, 1.0), (b, 1.0)], 0);
        let p2 = run(&[(a, 1.0)], 0);
        let err = emerging_hot_spots(&[p1.clone(), p2], &cfg()).unwrap_err();
        assert_eq!(err.field(), "periods");
        assert_eq!(
            emerging_hot_spots(&[], &cfg()).unwrap_err().field(),
            "periods"
        );
        let out = emerging_hot_spots(&[p1.clone(), run(&[(b, 2.0), (a, 3.0)], 2)], &cfg()).unwrap();
        assert_eq!(out.len(), 2);
        let first = out.iter().find(|c| c.cell == a).unwrap();
        assert_eq!(first.z, vec![1.0, 3.0]);
        assert_eq!(first.pattern, Pattern::NewHotSpot);
        assert_eq!(first.hot_periods, 1);
    }
}
