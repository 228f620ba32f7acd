//! An attacker on the published respondent-group figures (test only).
//!
//! The follow-up publishes, per period, how many approved reports came from
//! each respondent group (gender, age band, LGBTQ), hiding groups of 1 to
//! k−1. Every figure any period shows, to anyone but an admin, at any time
//! (published, recomputed with late reports, as a correction) is a linear
//! equation over the unknown counts per month, group and moment; the
//! attacker learns exactly every linear combination in the span of those
//! equations (Gaussian elimination, nothing cleverer is needed for a sum of
//! counts). The property test draws reports over two years, publishes every
//! month, quarter, tertial and year as the server does, adds late reports
//! and recomputes, and then tries every difference: each group's count over
//! every period, every run of months and every period minus a period
//! inside it, at each moment and between the moments. None may be derived
//! and lie between 1 and k−1.

use std::collections::HashMap;

use chrono::Datelike;
use proptest::prelude::*;

use super::dosage::DosageConfig;
use super::followup::{FollowUp, FollowUpInput, ReportRecord, follow_up};
use super::groups::{GroupCount, GroupRow, GroupSplit};
use super::period::{Cadence, Period};
use crate::attrs::{AgeBand, Gender, Reason, ReportSource, ReportStatus, Respondent};
use crate::time::EpochMs;

const K: u64 = 5;
const YEAR: i32 = 2025;
const MONTHS: usize = 24;

/// The month (0..24 from January 2025) a moment falls in.
fn month_of(ms: EpochMs) -> usize {
    let d = crate::time::from_ms(ms);
    ((d.year() - YEAR) * 12 + d.month0() as i32) as usize
}

fn month_start(m: usize) -> EpochMs {
    let (y, mm) = (YEAR + (m / 12) as i32, (m % 12) as u32 + 1);
    chrono::NaiveDate::from_ymd_opt(y, mm, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |d| d.and_utc().timestamp_millis())
}

/// Every period of every cadence in the two years, with its months.
fn periods() -> Vec<(Period, Vec<usize>)> {
    let mut out = Vec::new();
    for cadence in Cadence::ALL {
        for year in [YEAR, YEAR + 1] {
            for index in 1..=cadence.per_year() {
                let p = Period::new(cadence, year, index).expect("a period of the two years");
                let first =
                    ((year - YEAR) * 12) as usize + ((index - 1) * cadence.months()) as usize;
                out.push((p, (first..first + cadence.months() as usize).collect()));
            }
        }
    }
    out
}

/// A split: its name and which group a report falls in.
type Split = (
    &'static str,
    fn(&FollowUp) -> Option<&std::collections::BTreeMap<String, GroupRow>>,
    fn(&ReportRecord) -> &'static str,
);

fn splits() -> [Split; 3] {
    [
        (
            "gender",
            |f| f.groups.as_ref().map(|g| &g.by_gender),
            |r| {
                r.respondent
                    .as_ref()
                    .and_then(|p| p.gender)
                    .map_or("not_stated", |g| g.as_str())
            },
        ),
        (
            "age",
            |f| f.groups.as_ref().map(|g| &g.by_age_band),
            |r| {
                r.respondent
                    .as_ref()
                    .and_then(|p| p.age_band)
                    .map_or("not_stated", |a| a.as_str())
            },
        ),
        (
            "lgbtq",
            |f| f.groups.as_ref().map(|g| &g.by_lgbtq),
            |r| match r.respondent.as_ref().and_then(|p| p.lgbtq) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not_stated",
            },
        ),
    ]
}

/// One published equation: Σ coefficient × unknown = value.
struct Equation {
    terms: Vec<(usize, f64)>,
    value: f64,
}

/// Unknowns: (moment, month, group) → column.
struct Columns {
    groups: Vec<&'static str>,
}

impl Columns {
    fn col(&self, moment: usize, month: usize, group: usize) -> usize {
        (moment * MONTHS + month) * self.groups.len() + group
    }
    fn len(&self) -> usize {
        2 * MONTHS * self.groups.len()
    }
}

/// Rows in echelon form, for membership of a vector in their span.
struct Span {
    rows: Vec<(usize, Vec<f64>)>,
}

impl Span {
    fn new() -> Self {
        Self { rows: Vec::new() }
    }

    fn reduce(&self, mut v: Vec<f64>) -> Vec<f64> {
        for (pivot, row) in &self.rows {
            let f = v[*pivot];
            if f.abs() > 1e-9 {
                for (a, b) in v.iter_mut().zip(row) {
                    *a -= f * b;
                }
            }
        }
        v
    }

    fn add(&mut self, v: Vec<f64>) {
        let v = self.reduce(v);
        if let Some(pivot) = v.iter().position(|x| x.abs() > 1e-9) {
            let p = v[pivot];
            let v: Vec<f64> = v.iter().map(|x| x / p).collect();
            for (_, row) in &mut self.rows {
                let f = row[pivot];
                if f.abs() > 1e-12 {
                    for (a, b) in row.iter_mut().zip(&v) {
                        *a -= f * b;
                    }
                }
            }
            self.rows.push((pivot, v));
        }
    }

    fn contains(&self, v: &[f64]) -> bool {
        self.reduce(v.to_vec()).iter().all(|x| x.abs() < 1e-6)
    }
}

/// The follow-up of every period as a caller sees it at `now`, from the
/// reports then stored, keeping each split the first time it is shown, as
/// the server does (the contract of `FollowUpInput::kept_groups`).
/// What was shown of a period: its months, the follow-up, and the moment
/// whose reports its split counts (the moment it was first computed).
type Shown = (Period, Vec<usize>, FollowUp, usize);

fn shown_at(
    reports: &[ReportRecord],
    now: EpochMs,
    moment: usize,
    group_cadence: Cadence,
    kept: &mut HashMap<String, (GroupSplit, usize)>,
) -> Vec<Shown> {
    periods()
        .into_iter()
        .map(|(p, months)| {
            let f = follow_up(&FollowUpInput {
                period: p,
                now_ms: now,
                presence: &[],
                places: &[],
                measures: &[],
                incidents: &[],
                reports,
                dosage: DosageConfig::default(),
                k: K,
                group_cadence,
                kept_groups: kept.get(&p.label()).map(|(g, _)| g),
            })
            .expect("a follow-up");
            let counted = match &f.groups {
                Some(g) => {
                    kept.entry(p.label())
                        .or_insert_with(|| (g.clone(), moment))
                        .1
                }
                None => moment,
            };
            (p, months, f, counted)
        })
        .collect()
}

/// Every figure derivable from what was shown that is a group's count (or
/// its change between the moments) over a set of months and lies between
/// 1 and k−1: what the scheme must never allow.
fn disclosures(shown: &[Vec<Shown>; 2], truth: &[Vec<ReportRecord>; 2]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, rows_of, group_of) in splits() {
        let groups: Vec<&'static str> = {
            let mut g: Vec<&'static str> = shown[0]
                .iter()
                .filter_map(|(_, _, f, _)| rows_of(f))
                .flat_map(|m| m.keys().map(|k| leak(k)))
                .collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        if groups.is_empty() {
            continue;
        }
        let cols = Columns {
            groups: groups.clone(),
        };
        let gi = |g: &str| groups.iter().position(|x| *x == g);
        // The true counts, per moment, month and group.
        let mut x = vec![0.0; cols.len()];
        for (moment, reports) in truth.iter().enumerate() {
            for r in reports
                .iter()
                .filter(|r| r.status == ReportStatus::Approved)
            {
                let m = month_of(r.reported_at_ms);
                if m < MONTHS
                    && let Some(g) = gi(group_of(r))
                {
                    x[cols.col(moment, m, g)] += 1.0;
                }
            }
        }
        let mut equations = Vec::new();
        for views in shown {
            for (_, months, f, moment) in views {
                let moment = *moment;
                let Some(rows) = rows_of(f) else { continue };
                let mut all_terms = Vec::new();
                for (group, row) in rows {
                    let Some(g) = gi(group) else { continue };
                    let terms: Vec<(usize, f64)> = months
                        .iter()
                        .map(|m| (cols.col(moment, *m, g), 1.0))
                        .collect();
                    all_terms.extend(terms.iter().copied());
                    if let GroupCount::Shown(n) = row.reports {
                        equations.push(Equation {
                            terms,
                            value: n as f64,
                        });
                    }
                }
                // The split's total is shown beside it.
                if let Some(g) = &f.groups {
                    equations.push(Equation {
                        terms: all_terms,
                        value: g.total as f64,
                    });
                }
            }
        }
        let span = attacker_span(&equations, &x);
        let sets = isolable_month_sets();
        for set in &sets {
            for (g, group) in groups.iter().enumerate() {
                let mut targets = Vec::new();
                for moment in 0..2 {
                    let mut v = vec![0.0; cols.len()];
                    for m in set {
                        v[cols.col(moment, *m, g)] = 1.0;
                    }
                    targets.push((format!("moment {moment}"), v));
                }
                let mut late = vec![0.0; cols.len()];
                for m in set {
                    late[cols.col(1, *m, g)] = 1.0;
                    late[cols.col(0, *m, g)] = -1.0;
                }
                targets.push(("late reports".to_owned(), late));
                for (what, v) in targets {
                    let value: f64 = v.iter().zip(&x).map(|(a, b)| a * b).sum();
                    if value >= 1.0 && value <= (K - 1) as f64 && span.contains(&v) {
                        found.push(format!("{name} `{group}`, months {set:?}, {what}: {value}"));
                    }
                }
            }
        }
    }
    found
}

/// What the attacker can derive: the span of every shown equation, each
/// checked against the truth `x` (the attacker's system must be right).
fn attacker_span(equations: &[Equation], x: &[f64]) -> Span {
    let mut span = Span::new();
    for e in equations {
        let mut v = vec![0.0; x.len()];
        for (c, a) in &e.terms {
            v[*c] += a;
        }
        let lhs: f64 = v.iter().zip(x).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - e.value).abs() < 1e-6,
            "an equation the truth does not satisfy: {lhs} vs {}",
            e.value
        );
        span.add(v);
    }
    span
}

/// Every set of months a difference of shown periods can isolate: each
/// period, each period minus a period inside it, and each single month.
fn isolable_month_sets() -> Vec<Vec<usize>> {
    let all = periods();
    let mut sets: Vec<Vec<usize>> = all.iter().map(|(_, m)| m.clone()).collect();
    for (_, a) in &all {
        for (_, b) in &all {
            if a.len() > b.len() && b.iter().all(|m| a.contains(m)) {
                sets.push(a.iter().copied().filter(|m| !b.contains(m)).collect());
            }
        }
    }
    sets.extend((0..MONTHS).map(|m| vec![m]));
    sets.sort();
    sets.dedup();
    sets
}

fn leak(s: &str) -> &'static str {
    // Group names come from fixed vocabularies; leaking a handful of
    // short strings in a test is harmless.
    Box::leak(s.to_owned().into_boxed_str())
}

fn report_strategy() -> impl Strategy<Value = ReportRecord> {
    (
        0..MONTHS,
        0..28u32,
        prop_oneof![Just(None), (0..Gender::NAMES.len()).prop_map(Some)],
        prop_oneof![Just(None), (0..AgeBand::NAMES.len()).prop_map(Some)],
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        prop_oneof![4 => Just(ReportStatus::Approved), 1 => Just(ReportStatus::Pending)],
    )
        .prop_map(|(month, day, gender, age, lgbtq, status)| ReportRecord {
            reported_at_ms: month_start(month) + i64::from(day) * 86_400_000 + 43_200_000,
            source: ReportSource::Survey,
            status,
            decided_at_ms: None,
            reasons: vec![Reason::Lighting],
            respondent: Some(Respondent {
                gender: gender
                    .and_then(|i| Gender::NAMES.get(i))
                    .and_then(|n| Gender::parse(n, "gender").ok()),
                age_band: age
                    .and_then(|i| AgeBand::NAMES.get(i))
                    .and_then(|n| AgeBand::parse(n, "age_band").ok()),
                lgbtq,
            }),
            overall_score: None,
        })
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(24))]

    #[test]
    fn no_difference_of_published_group_figures_reveals_a_group_under_k(
        first in prop::collection::vec(report_strategy(), 20..120),
        late in prop::collection::vec(report_strategy(), 1..25),
        group_cadence in prop::sample::select(Cadence::ALL.to_vec()),
    ) {
        // Everything is shown after both years ended; late reports arrive
        // after that, and everything is shown again.
        let after = month_start(MONTHS) + 86_400_000;
        let later = after + 30 * 86_400_000;
        let mut second = first.clone();
        second.extend(late);
        let mut kept = HashMap::new();
        let shown = [
            shown_at(&first, after, 0, group_cadence, &mut kept),
            shown_at(&second, later, 1, group_cadence, &mut kept),
        ];
        let found = disclosures(&shown, &[first, second]);
        prop_assert!(found.is_empty(), "derivable counts under k: {:#?}", &found[..found.len().min(10)]);
    }
}

/// The attacker is not blind: on the rules of today's follow-up it would
/// find what the issue found (a quarter minus its months, a figure now
/// minus the one published). Every period shows its own split, recomputed.
#[test]
fn the_attacker_finds_what_showing_every_period_would_reveal() {
    let at = |month: usize, gender: Gender| ReportRecord {
        reported_at_ms: month_start(month) + 86_400_000,
        source: ReportSource::Survey,
        status: ReportStatus::Approved,
        decided_at_ms: None,
        reasons: vec![Reason::Lighting],
        respondent: Some(Respondent {
            gender: Some(gender),
            age_band: None,
            lgbtq: None,
        }),
        overall_score: None,
    };
    // January 6 women, February 6 women, March 4 men and 6 women: each
    // month alone hides the men, but the quarter shows 4 + 0 men... and
    // the quarter minus January and February is March.
    let mut reports: Vec<ReportRecord> = (0..6).map(|_| at(0, Gender::Woman)).collect();
    reports.extend((0..6).map(|_| at(1, Gender::Woman)));
    reports.extend((0..6).map(|_| at(2, Gender::Woman)));
    reports.extend((0..4).map(|_| at(2, Gender::Man)));
    reports.extend((0..5).map(|_| at(3, Gender::Man)));
    let after = month_start(MONTHS) + 86_400_000;
    // Every period shown as if each were the group cadence, nothing kept.
    let every: Vec<Shown> = Cadence::ALL
        .into_iter()
        .flat_map(|c| {
            shown_at(&reports, after, 0, c, &mut HashMap::new())
                .into_iter()
                .filter(move |(p, _, _, _)| p.cadence() == c)
        })
        .collect();
    let found = disclosures(&[every.clone(), every], &[reports.clone(), reports]);
    assert!(!found.is_empty(), "the attacker missed a derivable group");
}
