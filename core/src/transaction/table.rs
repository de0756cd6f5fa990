//! The live transactions: a slab of slots found through an ordered index from [`TxId`].
//!
//! A transaction used to be a box of its own in the map: one allocation per transaction (two
//! to four per call, more per transfer) and a free when it ended. Here the transactions live
//! side by side in one `Vec` whose free slots are reused, so starting one allocates nothing
//! once the table has grown to the load; the index keeps the ids in order (iteration, hence
//! every output, stays deterministic) and its nodes hold a slot number, not the transaction.
//! After a burst the table compacts itself once few of its slots are used, and gives all its
//! memory back when empty ([`Table::clear_if_empty`]).

use super::{Tx, TxId};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Below this many slots the table is never compacted.
const MIN_SLOTS: usize = 1024;

/// The table is compacted once fewer than one slot in this many is used: far enough below
/// the peak that transactions coming and going in waves (a burst of INVITEs, then of their
/// ACKs, ...) do not shrink and regrow it each time.
const SPARSE: usize = 8;

/// One slot of the slab. A free slot is as large as a used one: the transactions sit side by
/// side on purpose (boxing them would be the allocation the slab removes).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Slot {
    /// Free; the next free slot, if any.
    Free(Option<u32>),
    Used(Tx),
}

/// The live transactions by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    index: BTreeMap<TxId, u32>,
    slots: Vec<Slot>,
    /// The first free slot.
    free: Option<u32>,
}

impl Table {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn get(&self, id: &TxId) -> Option<&Tx> {
        match self.slots.get(*self.index.get(id)? as usize) {
            Some(Slot::Used(tx)) => Some(tx),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, id: &TxId) -> Option<&mut Tx> {
        match self.slots.get_mut(*self.index.get(id)? as usize) {
            Some(Slot::Used(tx)) => Some(tx),
            _ => None,
        }
    }

    /// Adds `tx` as `id` (a fresh id: the layer never reuses one).
    pub fn insert(&mut self, id: TxId, tx: Tx) {
        let slot = match self.free {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                self.free = match s {
                    Slot::Free(next) => *next,
                    Slot::Used(_) => unreachable!("the free list holds free slots"),
                };
                *s = Slot::Used(tx);
                slot
            }
            None => {
                self.slots.push(Slot::Used(tx));
                // Bounded by `Config::max_transactions`, far below u32::MAX.
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(id, slot);
    }

    pub fn remove(&mut self, id: &TxId) -> Option<Tx> {
        let slot = self.index.remove(id)?;
        let s = core::mem::replace(&mut self.slots[slot as usize], Slot::Free(self.free));
        self.free = Some(slot);
        self.compact_if_sparse();
        match s {
            Slot::Used(tx) => Some(tx),
            Slot::Free(_) => None,
        }
    }

    /// Once fewer than one slot in [`SPARSE`] is used (a burst has passed), moves the live
    /// transactions to a slab of about their own size, so that the table holds about what its
    /// live transactions need and not what the burst did. O(live) each time, and a time only
    /// after most slots emptied since the last: O(1) per removal, amortized.
    fn compact_if_sparse(&mut self) {
        if self.slots.len() <= MIN_SLOTS || self.index.len() * SPARSE >= self.slots.len() {
            return;
        }
        // Room to grow back by half before the next reallocation.
        let mut slots = Vec::with_capacity((self.index.len() * 3 / 2).max(MIN_SLOTS));
        for slot in self.index.values_mut() {
            let s = core::mem::replace(&mut self.slots[*slot as usize], Slot::Free(None));
            *slot = slots.len() as u32;
            slots.push(s);
        }
        self.slots = slots;
        self.free = None;
    }

    /// The transactions in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&TxId, &Tx)> + '_ {
        self.index
            .iter()
            .filter_map(|(id, &slot)| match &self.slots[slot as usize] {
                Slot::Used(tx) => Some((id, tx)),
                Slot::Free(_) => None,
            })
    }

    pub fn values(&self) -> impl Iterator<Item = &Tx> + '_ {
        self.iter().map(|(_, tx)| tx)
    }

    /// With no transaction left, gives back the slab and the index nodes.
    pub fn clear_if_empty(&mut self) {
        if self.is_empty() {
            *self = Table::default();
        }
    }
}

impl core::ops::Index<&TxId> for Table {
    type Output = Tx;

    fn index(&self, id: &TxId) -> &Tx {
        self.get(id).expect("a live transaction")
    }
}
