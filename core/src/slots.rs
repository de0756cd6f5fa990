//! Values found by the number of the slot they lie in, a number their owner keeps: the
//! requests of the transaction layer's transactions, each transaction holding its request's
//! slot.
//!
//! A [`crate::slab`] finds its values by key through a hash table, and links them in key
//! order. The requests need neither: nothing looks one up but its own transaction, which is
//! found first anyway, and nothing walks them in order. So a request is added, read and given
//! up without a hash table of its own — no index entry made, probed and removed for each
//! transaction (three or four lookups of one for every transaction, each a likely cache miss
//! under load), and no neighbours relinked.
//!
//! The slots lie in the slab's chunks ([`Chunks`]: no value moves when more are added, but
//! in the first chunk, which grows as it fills), free slots are reused last-freed first, and a table left sparse after a burst is
//! compacted as the slab is, with one difference: a value that moves tells its owner its new
//! slot ([`Slots::compact_if_sparse`]). Emptied, the table gives its chunks back.

use crate::slab::Chunks;

/// No slot: what an owner without a value holds.
pub(crate) const NONE: u32 = u32::MAX;

/// One slot: free (with the next free one), or a value and its owner.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Cell<K, V> {
    Free(u32),
    Used(K, V),
}

/// Values by slot number (see the module documentation).
#[derive(Clone, Debug)]
pub(crate) struct Slots<K, V> {
    /// The slots.
    chunks: Chunks<Cell<K, V>>,
    /// The first free slot, or [`NONE`].
    free: u32,
    /// Used slots.
    len: usize,
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Slots {
            chunks: Chunks::default(),
            free: NONE,
            len: 0,
        }
    }
}

impl<K: Copy, V> Slots<K, V> {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots in all (used and free).
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.chunks.len()
    }

    fn cell(&self, n: u32) -> Option<&Cell<K, V>> {
        self.chunks.get(n)
    }

    fn cell_mut(&mut self, n: u32) -> Option<&mut Cell<K, V>> {
        self.chunks.get_mut(n)
    }

    /// The value in slot `n` ([`NONE`], a free slot or one past the end: none).
    #[inline]
    pub fn get(&self, n: u32) -> Option<&V> {
        match self.cell(n) {
            Some(Cell::Used(_, v)) => Some(v),
            _ => None,
        }
    }

    #[inline]
    pub fn get_mut(&mut self, n: u32) -> Option<&mut V> {
        match self.cell_mut(n) {
            Some(Cell::Used(_, v)) => Some(v),
            _ => None,
        }
    }

    /// Puts `value` of `owner` in a free slot (the last freed) or a new one; its number.
    pub fn insert(&mut self, owner: K, value: V) -> u32 {
        let n = self.free;
        let next = match self.cell(n) {
            Some(Cell::Free(next)) => Some(*next),
            _ => None,
        };
        self.len += 1;
        match (next, self.cell_mut(n)) {
            (Some(next), Some(cell)) => {
                *cell = Cell::Used(owner, value);
                self.free = next;
                n
            }
            _ => self.chunks.push(Cell::Used(owner, value)),
        }
    }

    /// Drops the value in slot `n` where it lies and frees the slot; whether there was one.
    /// The caller then lets the table [`Slots::compact_if_sparse`].
    pub fn discard(&mut self, n: u32) -> bool {
        let free = self.free;
        match self.cell_mut(n) {
            Some(cell @ Cell::Used(..)) => {
                *cell = Cell::Free(free);
                self.free = n;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    /// Once fewer than one slot in [`crate::slab::SPARSE`] is used (a burst has passed), moves the values
    /// that lie at or past slot `len` into the free slots below it, telling `moved` each
    /// one's owner and new slot, and drops the chunks past `len` (all of them once the table
    /// is empty). In place, O(slots) each time and a time only after most slots emptied:
    /// O(1) per removal, amortized.
    pub fn compact_if_sparse(&mut self, mut moved: impl FnMut(K, u32)) {
        // Compacted as a slab is ([`crate::slab::Compaction`]).
        let Some(mut c) = self.chunks.compaction(self.len) else {
            return;
        };
        while let Some((from, to)) = c.next(&self.chunks, |s| matches!(s, Cell::Used(..))) {
            let Some(Cell::Used(owner, value)) = self
                .cell_mut(from)
                .map(|c| core::mem::replace(c, Cell::Free(NONE)))
            else {
                break;
            };
            if let Some(c) = self.cell_mut(to) {
                *c = Cell::Used(owner, value);
            }
            moved(owner, to);
        }
        self.chunks.truncate(c.live());
        // Every slot left is used.
        self.free = NONE;
    }

    /// With nothing left, gives back the chunks.
    pub fn clear_if_empty(&mut self) {
        if self.is_empty() {
            *self = Slots::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::{MIN_SLOTS, SPARSE};
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    /// Against a map from owner to value, through bursts that fill the table and drain it:
    /// every owner's slot (kept as an owner keeps it, and updated when a value moves) holds
    /// that owner's value, and the slots stay within a few times the values held.
    #[test]
    fn matches_a_map_through_bursts() {
        let mut t: Slots<u64, u64> = Slots::default();
        // owner -> (slot, value)
        let mut model: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
        let mut next = 1u64;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..40 {
            // A burst up, then down to a few (or none, every fourth round).
            let up = 50 + (rand() % 400) as usize;
            for _ in 0..up {
                let v = rand();
                let n = t.insert(next, v);
                assert!(model.insert(next, (n, v)).is_none());
                next += 1;
            }
            let keep = if round % 4 == 3 { 0 } else { rand() % 8 };
            while model.len() as u64 > keep {
                let owners: Vec<u64> = model.keys().copied().collect();
                let owner = owners[(rand() % owners.len() as u64) as usize];
                let (n, v) = model.remove(&owner).unwrap();
                assert_eq!(t.get(n), Some(&v));
                assert!(t.discard(n));
                assert!(!t.discard(n), "a free slot is not discarded twice");
                assert_eq!(t.get(n), None);
                t.compact_if_sparse(|o, new| {
                    model.get_mut(&o).expect("a live owner moved").0 = new;
                });
                assert_eq!(t.len(), model.len());
                assert!(
                    t.slots() <= MIN_SLOTS.max(SPARSE * t.len()),
                    "{} slots for {}",
                    t.slots(),
                    t.len()
                );
            }
            for (&o, &(n, v)) in &model {
                assert_eq!(t.get(n), Some(&v), "owner {o}");
                *t.get_mut(n).unwrap() ^= 1;
                assert_eq!(t.get(n), Some(&(v ^ 1)));
                *t.get_mut(n).unwrap() ^= 1;
            }
            if model.is_empty() {
                assert!(t.slots() <= MIN_SLOTS, "{}", t.slots());
                t.clear_if_empty();
                assert_eq!(
                    (t.slots(), t.chunks.capacity()),
                    (0, 0),
                    "emptied: all given back"
                );
            }
        }
        assert_eq!(t.get(NONE), None);
    }

    /// Free slots are reused, the last freed first, before the table grows.
    #[test]
    fn free_slots_reused_last_first() {
        let mut t: Slots<u32, &str> = Slots::default();
        let a = t.insert(1, "a");
        let b = t.insert(2, "b");
        let c = t.insert(3, "c");
        assert_eq!((a, b, c), (0, 1, 2));
        assert!(t.discard(a));
        assert!(t.discard(c));
        assert_eq!(t.insert(4, "d"), c);
        assert_eq!(t.insert(5, "e"), a);
        assert_eq!(t.insert(6, "f"), 3);
        assert_eq!(t.get(b), Some(&"b"));
        assert_eq!(t.len(), 4);
    }
}
