//! Ids for rows that bring none, so that a re-import of the same file
//! changes nothing and identical rows stay separate records.
//!
//! The id is a hash of the row's text (every cell, as read) plus which
//! occurrence of that text the row is: the first `Burglary at X` row is
//! `row-<hash>`, the second identical one `row-<hash>-2`. A line number
//! would also tell them apart, but then one row added at the top of a
//! re-exported file would turn every later row into a new record; the
//! occurrence number changes only for rows identical to the added one.
//! Hashing the text rather than the feature means a re-import with a
//! corrected `--map` updates the records instead of duplicating them.

use std::collections::HashMap;

/// FNV-1a over the cells, each followed by a unit separator: stable across
/// Rust versions and platforms, which `std`'s hasher does not promise.
pub fn content_hash<'a>(cells: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for cell in cells {
        for b in cell.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Hands out `row-<hash>[-n]` ids, counting occurrences of each hash.
#[derive(Debug, Default)]
pub struct RowIds(HashMap<u64, u32>);

impl RowIds {
    pub fn next(&mut self, hash: u64) -> String {
        let n = self.0.entry(hash).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("row-{hash:016x}")
        } else {
            format!("row-{hash:016x}-{n}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_rows_get_separate_ids_and_the_same_ones_again() {
        let rows = [["Burglary", "X"], ["Burglary", "X"], ["Robbery", "X"]];
        let ids = |rows: &[[&str; 2]]| {
            let mut ids = RowIds::default();
            rows.iter()
                .map(|r| ids.next(content_hash(r.iter().copied())))
                .collect::<Vec<_>>()
        };
        let first = ids(&rows);
        assert_ne!(first[0], first[1]);
        assert!(first[1].ends_with("-2"));
        assert_eq!(first, ids(&rows), "stable from run to run");
        // A row added before them does not change their ids.
        let mut more = vec![["Fraud", "Y"]];
        more.extend(rows);
        assert_eq!(ids(&more)[1..], first[..]);
        assert_ne!(content_hash(["ab", "c"]), content_hash(["a", "bc"]));
    }
}
