//! Where each feature sits, by id, so that an update or a delete finds it:
//! the point bucket it is in, or the span list.
//!
//! A hash map of a million UUIDs takes 30–40 bytes each; this table takes
//! 12: a table sorted by a 64-bit key mixed from the id, built in bulk, and
//! a small map of the ids added since, merged into the table now and then.
//! Two ids can share a key; a lookup then asks the caller which of the
//! places holds the id.
//!
//! Invariants (checked by [`Locations::check`] in the property tests):
//! - `table` is sorted by key;
//! - an id is in `table` (not removed) or in `recent`, never both;
//! - `removed` counts the table's entries marked removed.

use std::collections::HashMap;

use uuid::Uuid;

/// The place of the features that live in the span list.
pub(super) const SPANS: u32 = u32::MAX;
/// A table entry whose feature was removed.
const REMOVED: u32 = u32::MAX - 1;

/// One table entry: the key in two halves (so the entry is 12 bytes, not
/// the 16 a `u64` field would align it to) and the place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key_hi: u32,
    key_lo: u32,
    place: u32,
}

impl Entry {
    fn key(&self) -> u64 {
        (u64::from(self.key_hi) << 32) | u64::from(self.key_lo)
    }
}

/// The id mixed into 64 bits: UUIDv7's first half is mostly its time, so
/// both halves go in.
fn key(id: Uuid) -> u64 {
    let (hi, lo) = id.as_u64_pair();
    let x = hi ^ lo.rotate_left(29);
    let x = (x ^ (x >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

#[derive(Debug, Clone, Default)]
pub(super) struct Locations {
    table: Vec<Entry>,
    removed: usize,
    recent: HashMap<Uuid, u32>,
}

impl Locations {
    pub fn heap_bytes(&self) -> usize {
        self.table.capacity() * size_of::<Entry>() + self.recent.capacity() * 24
    }

    /// Adds an id during a bulk build (the table is sorted by
    /// [`Self::finish`]).
    pub fn push(&mut self, id: Uuid, place: u32) {
        let k = key(id);
        if self.table.len() == self.table.capacity() {
            self.table.reserve_exact((self.table.len() / 8).max(64));
        }
        self.table.push(Entry {
            key_hi: (k >> 32) as u32,
            key_lo: k as u32,
            place,
        });
    }

    pub fn finish(&mut self) {
        self.table.sort_unstable_by_key(Entry::key);
        self.table.shrink_to_fit();
    }

    /// Adds an id that is not in the index.
    pub fn insert(&mut self, id: Uuid, place: u32) {
        self.recent.insert(id, place);
        if self.recent.len() > 1024 && self.recent.len() * 32 > self.table.len() {
            self.merge();
        }
    }

    /// The table positions with this id's key.
    fn range(&self, k: u64) -> std::ops::Range<usize> {
        let lo = self.table.partition_point(|e| e.key() < k);
        let hi = lo + self.table[lo..].partition_point(|e| e.key() == k);
        lo..hi
    }

    /// Removes an id and returns where it was; `holds` says whether a place
    /// holds the id (to tell ids with the same key apart).
    pub fn take(&mut self, id: Uuid, holds: impl Fn(u32) -> bool) -> Option<u32> {
        if let Some(place) = self.recent.remove(&id) {
            return Some(place);
        }
        for i in self.range(key(id)) {
            let place = self.table[i].place;
            if place != REMOVED && holds(place) {
                self.table[i].place = REMOVED;
                self.removed += 1;
                return Some(place);
            }
        }
        None
    }

    /// Folds the recent ids into the table, dropping removed entries: in
    /// place, from the back, so the table is never held twice.
    fn merge(&mut self) {
        if self.removed > 0 {
            self.table.retain(|e| e.place != REMOVED);
            self.removed = 0;
        }
        let mut recent: Vec<Entry> = self
            .recent
            .drain()
            .map(|(id, place)| {
                let k = key(id);
                Entry {
                    key_hi: (k >> 32) as u32,
                    key_lo: k as u32,
                    place,
                }
            })
            .collect();
        recent.sort_unstable_by_key(Entry::key);
        let old = self.table.len();
        self.table.reserve_exact(recent.len());
        self.table.resize(
            old + recent.len(),
            Entry {
                key_hi: 0,
                key_lo: 0,
                place: REMOVED,
            },
        );
        let (mut a, mut b, mut out) = (old, recent.len(), old + recent.len());
        while b > 0 {
            out -= 1;
            if a > 0 && self.table[a - 1].key() > recent[b - 1].key() {
                a -= 1;
                self.table[out] = self.table[a];
            } else {
                b -= 1;
                self.table[out] = recent[b];
            }
        }
        self.recent.shrink_to_fit();
    }

    /// Panics when an invariant of the module docs does not hold.
    #[cfg(test)]
    pub fn check(&self) {
        assert!(self.table.windows(2).all(|w| w[0].key() <= w[1].key()));
        assert_eq!(
            self.table.iter().filter(|e| e.place == REMOVED).count(),
            self.removed
        );
    }

    /// Where an id sits, without changing anything.
    #[cfg(test)]
    pub fn get(&self, id: Uuid, holds: impl Fn(u32) -> bool) -> Option<u32> {
        if let Some(place) = self.recent.get(&id) {
            return Some(*place);
        }
        self.range(key(id))
            .map(|i| self.table[i].place)
            .find(|&p| p != REMOVED && holds(p))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u128),
        Remove(prop::sample::Index),
        Move(prop::sample::Index, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..50, any::<u128>()).prop_map(|(p, id)| Op::Insert(p, id)),
            any::<prop::sample::Index>().prop_map(Op::Remove),
            (any::<prop::sample::Index>(), 0u32..50).prop_map(|(i, p)| Op::Move(i, p)),
        ]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        /// After a bulk build and any sequence of inserts, moves and
        /// removals (enough to merge several times), every id is found
        /// where a plain map says it is, removed ids are not found, and the
        /// table keeps its invariants.
        #[test]
        fn locations_match_a_plain_map(bulk in 0usize..3_000, ops in prop::collection::vec(op(), 0..3_000)) {
            let mut locations = Locations::default();
            let mut plain: HashMap<Uuid, u32> = HashMap::new();
            for i in 0..bulk {
                let id = Uuid::now_v7();
                locations.push(id, (i % 50) as u32);
                plain.insert(id, (i % 50) as u32);
            }
            locations.finish();
            let mut ids: Vec<Uuid> = plain.keys().copied().collect();
            ids.sort_unstable();
            for op in ops {
                // Places are what the plain map says: a place "holds" an
                // id exactly when the plain map puts it there.
                match op {
                    Op::Insert(place, id) => {
                        let id = Uuid::from_u128(id);
                        if plain.contains_key(&id) {
                            continue;
                        }
                        locations.insert(id, place);
                        plain.insert(id, place);
                        ids.push(id);
                    }
                    Op::Remove(i) if !ids.is_empty() => {
                        let id = ids.swap_remove(i.index(ids.len()));
                        let want = plain.remove(&id);
                        let got = locations.take(id, |p| want == Some(p));
                        prop_assert_eq!(got, want);
                    }
                    Op::Move(i, place) if !ids.is_empty() => {
                        let id = ids[i.index(ids.len())];
                        let was = plain[&id];
                        prop_assert_eq!(locations.take(id, |p| p == was), Some(was));
                        locations.insert(id, place);
                        plain.insert(id, place);
                    }
                    _ => {}
                }
            }
            locations.check();
            for (id, place) in &plain {
                prop_assert_eq!(locations.get(*id, |p| p == *place), Some(*place));
            }
            let stranger = Uuid::from_u128(u128::MAX - 7);
            prop_assert_eq!(locations.get(stranger, |_| true), None);
        }
    }

    #[test]
    fn ids_with_the_same_key_are_told_apart_by_their_place() {
        let mut locations = Locations::default();
        let a = Uuid::from_u128(0x1234_5678);
        locations.push(a, 1);
        // A second entry with a's key, as a colliding id would make.
        locations.table.push(locations.table[0]);
        locations.table[1].place = 2;
        locations.finish();
        assert_eq!(locations.get(a, |p| p == 2), Some(2));
        assert_eq!(locations.take(a, |p| p == 2), Some(2));
        assert_eq!(locations.get(a, |p| p == 1), Some(1));
        assert_eq!(locations.get(a, |p| p == 2), None);
    }
}
