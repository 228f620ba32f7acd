//! What the public map may show: one coarse resolution, whole closed months,
//! cells of at least k events, and secondary suppression so that no hidden
//! count can be recovered from what is published.
//!
//! [`publishable`] protects one layer, one resolution and one period against
//! differencing with the totals published beside it (the whole area's and each
//! district's). It cannot protect against differencing across several
//! publications, so callers must keep these constraints:
//!
//! - One resolution per public layer, the policy's ([`public_resolution`]):
//!   a coarse cell minus its published children would reveal the hidden
//!   children, and a fine hidden cell would be read off its published parent.
//! - Single closed calendar months ([`closed_month`]), never free windows:
//!   Jan–Mar minus Jan–Feb would reveal a March cell hidden on its own.
//!   A month that is still going on would also reveal where a patrol is today.
//! - No category split: all categories minus one category reveals the rest,
//!   whichever cells each of them hides.
//! - Suppress over the whole service area, then filter by bbox, so that the
//!   answer never depends on the box asked for.
//! - A published total is itself a count: an area or district total below k
//!   must not be published. Hiding cells cannot protect it: that is the one
//!   case where [`publishable`] hides the whole group and the remainder is
//!   the total itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use h3o::CellIndex;

use crate::cells::{LayerResolution, MIN_LAYER_RESOLUTION};
use crate::index::HexCount;
use crate::time::TimeWindow;
use crate::{Error, Result};

/// The finest resolution the public map may ever use (DESIGN.md: never finer
/// than 9, ≈ 200 m edge); finer cells single out a house or a patrol route.
pub const MAX_PUBLIC_RESOLUTION: u8 = 9;

/// How coarse and how thick the public map is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicPolicy {
    /// The one resolution public hexagon layers are served at.
    pub max_resolution: u8,
    /// Cells (and hidden remainders) with fewer events than this stay hidden.
    pub k: u64,
}

impl Default for PublicPolicy {
    fn default() -> Self {
        Self {
            max_resolution: 8,
            k: 5,
        }
    }
}

impl PublicPolicy {
    pub fn new(max_resolution: u8, k: u64) -> Result<Self> {
        if !(MIN_LAYER_RESOLUTION..=MAX_PUBLIC_RESOLUTION).contains(&max_resolution) {
            return Err(Error::invalid(
                "public_max_resolution",
                format!("must be between {MIN_LAYER_RESOLUTION} and {MAX_PUBLIC_RESOLUTION}"),
            ));
        }
        // k = 1 hides nothing: every event would be visible on its own.
        if k < 2 {
            return Err(Error::invalid("public_k", "must be at least 2"));
        }
        Ok(Self { max_resolution, k })
    }
}

/// The public layer's resolution: only the policy's is served, since every
/// other one would allow differencing against it (see the module docs).
pub fn public_resolution(asked: Option<&str>, policy: &PublicPolicy) -> Result<LayerResolution> {
    let allowed = policy.max_resolution;
    if let Some(s) = asked
        && s.trim().parse::<u8>().ok() != Some(allowed)
    {
        return Err(Error::invalid(
            "resolution",
            format!("public layers are served only at resolution {allowed}"),
        ));
    }
    LayerResolution::new(allowed, "public_max_resolution")
}

/// The closed calendar month `period` (`YYYY-MM`; `None`: the last month that
/// has ended) of the time zone `tz` as its canonical name and its window,
/// first to last millisecond. Months are the service area's local months,
/// the same as the follow-up's periods.
pub fn closed_month(
    period: Option<&str>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<(String, TimeWindow)> {
    let local_now = now.with_timezone(&tz);
    let first = match period {
        Some(s) => parse_month(s)?,
        None => previous_month(first_of_month(local_now.year(), local_now.month())?)?,
    };
    let next = next_month(first)?;
    let start = crate::analytics::period::local_midnight_ms(first, tz);
    let end = crate::analytics::period::local_midnight_ms(next, tz);
    if end > now.timestamp_millis() {
        return Err(Error::invalid(
            "period",
            "public data is published only for months that have ended",
        ));
    }
    let window = TimeWindow::new(start, end - 1, "period")?;
    Ok((format!("{:04}-{:02}", first.year(), first.month()), window))
}

fn parse_month(s: &str) -> Result<NaiveDate> {
    let malformed = || Error::invalid("period", format!("`{s}` is not a month (YYYY-MM)"));
    let (y, m) = s.trim().split_once('-').ok_or_else(malformed)?;
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(y, 4) || !digits(m, 2) {
        return Err(malformed());
    }
    let year = y.parse().map_err(|_| malformed())?;
    let month = m.parse().map_err(|_| malformed())?;
    first_of_month(year, month).map_err(|_| malformed())
}

fn first_of_month(year: i32, month: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| Error::invalid("period", format!("{year}-{month:02} is not a month")))
}

fn next_month(d: NaiveDate) -> Result<NaiveDate> {
    match d.month() {
        12 => first_of_month(d.year() + 1, 1),
        m => first_of_month(d.year(), m + 1),
    }
}

fn previous_month(d: NaiveDate) -> Result<NaiveDate> {
    match d.month() {
        1 => first_of_month(d.year() - 1, 12),
        m => first_of_month(d.year(), m - 1),
    }
}

/// The cells of one layer and one closed period that may be published, with
/// primary (count < k) and secondary suppression against the whole area's
/// total and each district's (`district_of`: the district a cell's centre
/// lies in). `cells` must cover the whole service area; filter by bbox after.
/// Duplicate cells are merged. The result is sorted by cell and depends only
/// on the set of cells, never on their order.
pub fn publishable(
    cells: &[HexCount],
    k: u64,
    district_of: &dyn Fn(CellIndex) -> Option<usize>,
) -> Vec<HexCount> {
    let cells = canonical(cells);
    let mut hidden: Vec<bool> = cells.iter().map(|c| c.count < k).collect();

    let mut districts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        if let Some(d) = district_of(c.cell) {
            districts.entry(d).or_default().push(i);
        }
    }
    let mut groups: Vec<Vec<usize>> = districts.into_values().collect();
    groups.push((0..cells.len()).collect());
    // Smallest first loses the least; the cell id makes ties deterministic.
    for g in &mut groups {
        g.sort_unstable_by_key(|&i| (cells[i].count, cells[i].cell));
    }

    // Hiding a cell only raises hidden sums, so this ends within one pass per
    // hidden cell; one more pass confirms nothing moved.
    loop {
        let mut changed = false;
        for g in &groups {
            changed |= cover_remainder(g, &cells, &mut hidden, k);
        }
        if !changed {
            break;
        }
    }

    cells
        .into_iter()
        .zip(hidden)
        .filter_map(|(c, h)| (!h).then_some(c))
        .collect()
}

/// Sorted by cell, duplicates merged, so that input order cannot matter.
fn canonical(cells: &[HexCount]) -> Vec<HexCount> {
    let mut out = cells.to_vec();
    out.sort_unstable_by(|a, b| {
        (a.cell, a.count)
            .cmp(&(b.cell, b.count))
            .then(a.minutes.total_cmp(&b.minutes))
    });
    out.dedup_by(|next, kept| {
        let same = next.cell == kept.cell;
        if same {
            kept.count = kept.count.saturating_add(next.count);
            kept.minutes += next.minutes;
        }
        same
    });
    out
}

/// Hides the group's smallest visible cells while its hidden sum is in
/// (0, k): the published group total minus its published cells would
/// otherwise reveal a remainder below k. `group` is sorted smallest first.
fn cover_remainder(group: &[usize], cells: &[HexCount], hidden: &mut [bool], k: u64) -> bool {
    let mut sum = group
        .iter()
        .filter(|&&i| hidden[i])
        .fold(0u64, |s, &i| s.saturating_add(cells[i].count));
    let mut changed = false;
    for &i in group {
        if sum == 0 || sum >= k {
            break;
        }
        if !hidden[i] {
            hidden[i] = true;
            sum = sum.saturating_add(cells[i].count);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::{LatLng, Resolution};
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Res-8 cells around central Linköping, in a fixed order.
    fn disk() -> Vec<CellIndex> {
        let centre = LatLng::new(58.41, 15.62)
            .unwrap()
            .to_cell(Resolution::Eight);
        let mut cells: Vec<CellIndex> = centre.grid_disk(6);
        cells.sort_unstable();
        cells
    }

    fn hex(cell: CellIndex, count: u64) -> HexCount {
        HexCount {
            cell,
            count,
            minutes: count as f64 * 10.0,
        }
    }

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn no_districts(_: CellIndex) -> Option<usize> {
        None
    }

    #[test]
    fn the_default_policy_is_resolution_eight_and_k_five() {
        assert_eq!(PublicPolicy::default(), PublicPolicy::new(8, 5).unwrap());
    }

    #[test]
    fn a_policy_finer_than_nine_coarser_than_five_or_with_k_below_two_is_refused() {
        assert_eq!(
            PublicPolicy::new(10, 5).unwrap_err().field(),
            "public_max_resolution"
        );
        assert_eq!(
            PublicPolicy::new(4, 5).unwrap_err().field(),
            "public_max_resolution"
        );
        assert_eq!(PublicPolicy::new(9, 1).unwrap_err().field(), "public_k");
        assert!(PublicPolicy::new(9, 2).is_ok());
    }

    #[test]
    fn only_the_policy_resolution_is_served() {
        let policy = PublicPolicy::default();
        let r = public_resolution(None, &policy).unwrap();
        assert_eq!(r.get(), Resolution::Eight);
        assert_eq!(public_resolution(Some("8"), &policy).unwrap(), r);
        for asked in ["9", "7", "11", "eight", ""] {
            let err = public_resolution(Some(asked), &policy).unwrap_err();
            assert_eq!(err.field(), "resolution");
            assert!(err.reason().contains("resolution 8"), "{}", err.reason());
        }
    }

    #[test]
    fn a_cell_under_k_is_absent() {
        let c = disk();
        let cells = [hex(c[0], 4), hex(c[1], 2), hex(c[2], 5), hex(c[3], 9)];
        // Together the hidden cells hold 6 ≥ k: no secondary suppression.
        let out = publishable(&cells, 5, &no_districts);
        assert_eq!(out, vec![hex(c[2], 5), hex(c[3], 9)]);
    }

    #[test]
    fn a_hidden_three_forces_the_smallest_visible_cell_of_its_district_to_hide() {
        let c = disk();
        let cells = [
            hex(c[0], 3),
            hex(c[1], 7),
            hex(c[2], 6),
            hex(c[3], 5),
            hex(c[4], 12),
        ];
        let district =
            |cell: CellIndex| Some(usize::from(cell != c[0] && cell != c[1] && cell != c[2]));
        let out = publishable(&cells, 5, &district);
        // District 0 hides 3 and then 6 (not 7); district 1 hides nothing,
        // and the area's hidden sum is then 9.
        assert_eq!(out, vec![hex(c[1], 7), hex(c[3], 5), hex(c[4], 12)]);
    }

    #[test]
    fn a_district_whose_hidden_sum_is_zero_stays_as_is() {
        let c = disk();
        let cells = [hex(c[0], 0), hex(c[1], 5), hex(c[2], 6)];
        let out = publishable(&cells, 5, &|_| Some(0));
        assert_eq!(out, vec![hex(c[1], 5), hex(c[2], 6)]);
    }

    #[test]
    fn ties_are_broken_by_cell_id() {
        let c = disk();
        let out = publishable(
            &[hex(c[5], 6), hex(c[0], 1), hex(c[3], 6)],
            5,
            &no_districts,
        );
        assert_eq!(out, vec![hex(c[5], 6)]);
    }

    #[test]
    fn nothing_left_to_hide_hides_everything() {
        let c = disk();
        let out = publishable(&[hex(c[0], 2), hex(c[1], 1)], 5, &no_districts);
        assert!(out.is_empty());
    }

    #[test]
    fn the_result_never_depends_on_input_order() {
        let c = disk();
        let cells: Vec<HexCount> = (0..12).map(|i| hex(c[i], (i as u64 * 7) % 11)).collect();
        let district = |cell: CellIndex| Some(u64::from(cell) as usize % 3);
        let forward = publishable(&cells, 5, &district);
        let mut reversed = cells.clone();
        reversed.reverse();
        assert_eq!(publishable(&reversed, 5, &district), forward);
        assert!(forward.windows(2).all(|w| w[0].cell < w[1].cell));
    }

    #[test]
    fn the_current_month_is_refused() {
        let err =
            closed_month(Some("2024-05"), at("2024-05-31T23:59:59Z"), chrono_tz::UTC).unwrap_err();
        assert_eq!(err.field(), "period");
        assert!(err.reason().contains("months that have ended"));
        assert!(closed_month(Some("2025-01"), at("2024-05-10T00:00:00Z"), chrono_tz::UTC).is_err());
        assert!(closed_month(Some("2024-05"), at("2024-06-01T00:00:00Z"), chrono_tz::UTC).is_ok());
    }

    #[test]
    fn a_month_ends_at_local_midnight_in_the_service_areas_time_zone() {
        // 22:30 UTC on 31 May is 00:30 on 1 June in Stockholm.
        let now = at("2024-05-31T22:30:00Z");
        let stockholm = chrono_tz::Europe::Stockholm;
        let (name, w) = closed_month(Some("2024-05"), now, stockholm).unwrap();
        assert_eq!(name, "2024-05");
        assert_eq!(w.start, at("2024-04-30T22:00:00Z").timestamp_millis());
        assert_eq!(w.end, now.timestamp_millis() - 30 * 60_000 - 1);
        assert!(closed_month(Some("2024-05"), now, chrono_tz::UTC).is_err());
        assert_eq!(closed_month(None, now, stockholm).unwrap().0, "2024-05");
    }

    #[test]
    fn no_period_means_the_last_month_that_has_ended() {
        let (name, w) = closed_month(None, at("2024-05-10T12:00:00Z"), chrono_tz::UTC).unwrap();
        assert_eq!(name, "2024-04");
        assert_eq!(w.start, ms("2024-04-01T00:00:00Z"));
        assert_eq!(w.end, ms("2024-04-30T23:59:59.999Z"));
    }

    #[test]
    fn january_defaults_to_december_of_the_year_before() {
        let (name, w) = closed_month(None, at("2025-01-01T00:00:00Z"), chrono_tz::UTC).unwrap();
        assert_eq!(name, "2024-12");
        assert_eq!(w.start, ms("2024-12-01T00:00:00Z"));
        assert_eq!(w.end, ms("2024-12-31T23:59:59.999Z"));
    }

    #[test]
    fn a_leap_february_ends_on_the_twenty_ninth() {
        let (name, w) = closed_month(
            Some(" 2024-02 "),
            at("2024-06-01T00:00:00Z"),
            chrono_tz::UTC,
        )
        .unwrap();
        assert_eq!(name, "2024-02");
        assert_eq!(w.end, ms("2024-02-29T23:59:59.999Z"));
        let (_, w) =
            closed_month(Some("2023-02"), at("2024-06-01T00:00:00Z"), chrono_tz::UTC).unwrap();
        assert_eq!(w.end, ms("2023-02-28T23:59:59.999Z"));
    }

    #[test]
    fn a_malformed_period_is_refused() {
        let now = at("2024-06-01T00:00:00Z");
        for bad in [
            "",
            "2024",
            "2024-13",
            "2024-00",
            "2024-1",
            "24-01",
            "2024-01-01",
            "+202-01",
            "maj",
        ] {
            let err = closed_month(Some(bad), now, chrono_tz::UTC).unwrap_err();
            assert_eq!(err.field(), "period", "{bad}");
        }
    }

    type Scenario = (
        Vec<(HexCount, Option<usize>)>,
        Vec<(HexCount, Option<usize>)>,
        u64,
    );

    /// Random counts on random cells with random districts, the same set
    /// shuffled, and a random k.
    fn scenario() -> impl Strategy<Value = Scenario> {
        let cells = disk();
        let n = cells.len();
        (
            prop::collection::btree_map(0..n, (1u64..40, prop::option::of(0usize..4)), 0..60),
            2u64..10,
        )
            .prop_flat_map(move |(picked, k)| {
                let set: Vec<(HexCount, Option<usize>)> = picked
                    .into_iter()
                    .map(|(i, (count, d))| (hex(cells[i], count), d))
                    .collect();
                (Just(set.clone()), Just(set).prop_shuffle(), Just(k))
            })
    }

    fn split(
        set: &[(HexCount, Option<usize>)],
    ) -> (Vec<HexCount>, HashMap<CellIndex, Option<usize>>) {
        let cells = set.iter().map(|(h, _)| *h).collect();
        let districts = set.iter().map(|(h, d)| (h.cell, *d)).collect();
        (cells, districts)
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn published_cells_are_safe_against_every_published_total((set, shuffled, k) in scenario()) {
            let (cells, districts) = split(&set);
            let district_of = |c: CellIndex| districts.get(&c).copied().flatten();
            let out = publishable(&cells, k, &district_of);
            let input: HashMap<CellIndex, HexCount> = cells.iter().map(|h| (h.cell, *h)).collect();

            for h in &out {
                prop_assert!(h.count >= k, "{h:?} published under k = {k}");
                prop_assert_eq!(input.get(&h.cell), Some(h));
            }

            let mut keys: Vec<Option<Option<usize>>> = vec![None];
            keys.extend((0..4).map(|d| Some(Some(d))));
            for key in keys {
                let in_group = |c: CellIndex| key.is_none_or(|d| district_of(c) == d);
                let total: u64 = cells.iter().filter(|h| in_group(h.cell)).map(|h| h.count).sum();
                let shown: u64 = out.iter().filter(|h| in_group(h.cell)).map(|h| h.count).sum();
                let rest = total - shown;
                // A group whose total is under k has nothing that can cover
                // it; everything is hidden, and so must its total be.
                let whole_group_hidden = shown == 0 && total < k;
                prop_assert!(
                    rest == 0 || rest >= k || whole_group_hidden,
                    "group {key:?}: remainder {rest} under k = {k}"
                );
            }

            // Hiding nothing without a cause keeps the properties above from
            // passing on an empty map.
            if cells.iter().all(|h| h.count >= k) {
                prop_assert_eq!(out.len(), cells.len());
            }

            let (shuffled_cells, _) = split(&shuffled);
            prop_assert_eq!(publishable(&shuffled_cells, k, &district_of), out);
        }
    }
}
