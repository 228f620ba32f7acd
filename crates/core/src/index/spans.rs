//! The span list: lines, polygons and the few points no bucket takes
//! (open presence, timeless features, extents longer than a bucket keeps),
//! in one list sorted by start time, with their H3 cells in a shared pool.
//!
//! Invariants (checked by [`SpanList::check`] in the property tests):
//! - entries are sorted by (start, id);
//! - `max_span` is at least the length of every closed extent (it never
//!   shrinks, which stays correct: a window then looks further back);
//! - `open` counts the entries whose end is open (`i64::MAX`): while there
//!   is one, a window must look back to the first entry;
//! - an entry's cells are one cell, or a range of `pool` that no other
//!   entry uses; `garbage` counts the pool's cells no entry uses.

use uuid::Uuid;

use super::{Attrs, E7};
use crate::Shape;
use crate::time::{EpochMs, TimeWindow};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cells {
    One(u64),
    /// A range in the list's pool of cells.
    Many {
        start: u32,
        len: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Span {
    pub id: Uuid,
    /// `i64::MIN` for timeless features.
    pub t_start: EpochMs,
    /// `i64::MAX` while open (ongoing presence, unfinished measure) and for
    /// timeless features.
    pub t_end: EpochMs,
    pub attrs: Attrs,
    /// West, south, east, north.
    pub bounds: [E7; 4],
    pub cells: Cells,
    pub shape: Shape,
}

fn sort_key(s: &Span) -> (EpochMs, Uuid) {
    (s.t_start, s.id)
}

#[derive(Debug, Clone, Default)]
pub(super) struct SpanList {
    entries: Vec<Span>,
    pool: Vec<u64>,
    garbage: usize,
    max_span: i64,
    open: usize,
}

impl SpanList {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Span>() + self.pool.capacity() * 8
    }

    pub fn cells_of<'a>(&'a self, s: &'a Span) -> &'a [u64] {
        match &s.cells {
            Cells::One(c) => std::slice::from_ref(c),
            Cells::Many { start, len } => &self.pool[*start as usize..(*start + *len) as usize],
        }
    }

    fn store(&mut self, mut s: Span, cells: &[u64]) -> Span {
        s.cells = match cells {
            [one] => Cells::One(*one),
            many => {
                let start = self.pool.len() as u32;
                self.pool.extend_from_slice(many);
                Cells::Many {
                    start,
                    len: many.len() as u32,
                }
            }
        };
        if s.t_end == i64::MAX {
            self.open += 1;
        } else {
            self.max_span = self.max_span.max(s.t_end.saturating_sub(s.t_start));
        }
        s
    }

    /// Adds an entry during a bulk build (sorted by [`Self::finish`]).
    pub fn push(&mut self, s: Span, cells: &[u64]) {
        let s = self.store(s, cells);
        self.entries.push(s);
    }

    /// Adds an entry in its sorted place.
    pub fn insert(&mut self, s: Span, cells: &[u64]) {
        let s = self.store(s, cells);
        let at = self.entries.partition_point(|e| sort_key(e) < sort_key(&s));
        self.entries.insert(at, s);
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.entries.iter().any(|e| e.id == id)
    }

    /// Removes the entry with this id; the list is short (lines and
    /// polygons are hundreds, not millions), so a scan finds it.
    pub fn remove(&mut self, id: Uuid) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else {
            return false;
        };
        let e = self.entries.remove(at);
        if e.t_end == i64::MAX {
            self.open -= 1;
        }
        if let Cells::Many { len, .. } = e.cells {
            self.garbage += len as usize;
            if self.garbage > 4096 && self.garbage * 2 > self.pool.len() {
                self.compact_pool();
            }
        }
        true
    }

    /// Copies the cells still in use into a fresh pool (after many
    /// removals of tracks and polygons).
    fn compact_pool(&mut self) {
        let mut pool = Vec::with_capacity(self.pool.len() - self.garbage);
        for e in &mut self.entries {
            if let Cells::Many { start, len } = e.cells {
                let fresh = pool.len() as u32;
                pool.extend_from_slice(&self.pool[start as usize..(start + len) as usize]);
                e.cells = Cells::Many { start: fresh, len };
            }
        }
        self.pool = pool;
        self.garbage = 0;
    }

    pub fn finish(&mut self) {
        self.entries.sort_unstable_by_key(sort_key);
        self.entries.shrink_to_fit();
        self.pool.shrink_to_fit();
    }

    /// The entries that can overlap a window: those that start by its end
    /// and, unless one is open, no earlier than the longest extent before
    /// its start. Each entry's end is still to be checked.
    pub fn candidates(&self, w: TimeWindow) -> &[Span] {
        let lo = if self.open > 0 {
            0
        } else {
            let earliest = w.start.saturating_sub(self.max_span);
            self.entries.partition_point(|e| e.t_start < earliest)
        };
        let hi = self.entries.partition_point(|e| e.t_start <= w.end);
        &self.entries[lo..hi.max(lo)]
    }

    /// Panics when an invariant of the module docs does not hold.
    #[cfg(test)]
    pub fn check(&self) {
        let mut open = 0;
        let mut used = 0;
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                assert!(sort_key(&self.entries[i - 1]) <= sort_key(e), "sorted");
            }
            if e.t_end == i64::MAX {
                open += 1;
            } else {
                assert!(e.t_end - e.t_start <= self.max_span);
            }
            if let Cells::Many { start, len } = e.cells {
                assert!((start + len) as usize <= self.pool.len());
                used += len as usize;
            }
        }
        assert_eq!(open, self.open);
        assert_eq!(used + self.garbage, self.pool.len());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Kind;
    use crate::index::test_rows::{list_query, track};
    use crate::index::{IndexRow, LayerIndex};

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// Tracks, open tracks and timeless features are found by exactly
        /// the windows they overlap, after inserts and removals in any
        /// order, and the list keeps its invariants.
        #[test]
        fn spans_match_a_plain_scan(
            tracks in prop::collection::vec((15.50f64..15.75, 58.34f64..58.48, -0.02f64..0.02, 0i64..10_000, prop::option::of(0i64..20_000)), 1..60),
            removals in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
            w in (0i64..40_000, 0i64..40_000),
            timeless in 0usize..3,
        ) {
            let mut rows: Vec<IndexRow> = tracks.iter().map(|(lon, lat, d, t, len)| {
                let mut r = track(*lon, *lat, *d, *t);
                r.t_end = len.map(|l| t + l);
                r
            }).collect();
            for _ in 0..timeless {
                let mut r = track(15.6, 58.4, 0.01, 0);
                r.t_start = None;
                r.t_end = None;
                rows.push(r);
            }
            let mut index = LayerIndex::build(Kind::Presence, &rows[..rows.len() / 2]);
            for r in &rows[rows.len() / 2..] {
                index.upsert(r);
            }
            let mut gone = std::collections::BTreeSet::new();
            for which in &removals {
                let id = rows[which.index(rows.len())].id;
                index.remove(id);
                gone.insert(id);
            }
            index.spans.check();
            let (start, end) = (w.0.min(w.1), w.0.max(w.1));
            let (mut got, more) = index.page_ids(&list_query(start, end, 10_000));
            prop_assert!(!more);
            got.sort_unstable();
            let mut want: Vec<Uuid> = rows.iter().filter(|r| {
                !gone.contains(&r.id) && match r.t_start {
                    None => true,
                    Some(s) => s <= end && r.t_end.is_none_or(|e| e >= start),
                }
            }).map(|r| r.id).collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
        }
    }
}
