//! A slab of values found through an ordered index from their keys: the live transactions
//! of the transaction layer, the calls of an endpoint.
//!
//! A transaction (a call) used to be a box of its own in a map: one allocation each (two to
//! four transactions per call, more per transfer) and a free when it ended. Here the values
//! live side by side in chunks of [`CHUNK`] slots whose free slots are reused, so adding one
//! allocates nothing once the slab has grown to the load, and growing allocates one chunk
//! per [`CHUNK`] values without moving the others (one `Vec` of slots would copy them all at
//! each growth, and keep up to as many again as slack). The index keeps the keys in order
//! (iteration, hence every output, stays deterministic) and its nodes hold a slot number,
//! not the value. After a burst the slab compacts itself once few of its slots are used,
//! and gives all its memory back when empty ([`Slab::clear_if_empty`]).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Slots per chunk: a chunk is about 5 KB, the slack of a table at most one chunk.
pub(crate) const CHUNK: usize = 8;

/// Below this many slots the table is never compacted.
const MIN_SLOTS: usize = 64;

/// The table is compacted once fewer than one slot in this many is used. Compacting moves
/// the live transactions, once per as many removals (O(1) amortized), and allocates no more
/// chunks than they fill, so a table holds at most about twice what its live transactions
/// need.
const SPARSE: usize = 2;

/// One slot of the slab. A free slot is as large as a used one: the values sit side by
/// side on purpose (boxing them would be the allocation the slab removes).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Slot<V> {
    /// Free; the next free slot, if any.
    Free(Option<u32>),
    Used(V),
}

/// Values by key (see the module documentation).
#[derive(Clone, Debug)]
pub(crate) struct Slab<K, V> {
    index: BTreeMap<K, u32>,
    /// Slot `n` is `chunks[n / CHUNK][n % CHUNK]`; every chunk but the last is full.
    chunks: Vec<Vec<Slot<V>>>,
    /// The first free slot.
    free: Option<u32>,
}

impl<K, V> Default for Slab<K, V> {
    fn default() -> Self {
        Slab {
            index: BTreeMap::new(),
            chunks: Vec::new(),
            free: None,
        }
    }
}

impl<K: Ord + Copy, V> Slab<K, V> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Slots in all (used and free).
    fn slots(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |c| (self.chunks.len() - 1) * CHUNK + c.len())
    }

    fn slot(&self, n: u32) -> Option<&Slot<V>> {
        let n = n as usize;
        self.chunks.get(n / CHUNK)?.get(n % CHUNK)
    }

    fn slot_mut(&mut self, n: u32) -> Option<&mut Slot<V>> {
        let n = n as usize;
        self.chunks.get_mut(n / CHUNK)?.get_mut(n % CHUNK)
    }

    pub fn get(&self, id: &K) -> Option<&V> {
        match self.slot(*self.index.get(id)?) {
            Some(Slot::Used(tx)) => Some(tx),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let n = *self.index.get(id)?;
        match self.slot_mut(n) {
            Some(Slot::Used(tx)) => Some(tx),
            _ => None,
        }
    }

    /// Puts `s` in a new slot at the end; its number.
    fn push(&mut self, s: Slot<V>) -> u32 {
        // Bounded by `Config::max_transactions` / `max_dialogs`, far below u32::MAX.
        let n = self.slots() as u32;
        match self.chunks.last_mut().filter(|c| c.len() < CHUNK) {
            Some(c) => c.push(s),
            None => {
                // The first chunk grows as it fills (an endpoint with a call or two — a
                // device's — holds no room for eight); the next ones are allocated whole.
                let mut c = if self.chunks.is_empty() {
                    Vec::new()
                } else {
                    Vec::with_capacity(CHUNK)
                };
                c.push(s);
                self.chunks.push(c);
            }
        }
        n
    }

    /// Adds `tx` as `id` (a fresh key: the layer and the endpoint never reuse one).
    pub fn insert(&mut self, id: K, tx: V) {
        let reuse = self.free.and_then(|n| match self.slot(n) {
            Some(Slot::Free(next)) => Some((n, *next)),
            _ => None,
        });
        let n = match reuse {
            Some((n, next)) => {
                self.free = next;
                if let Some(s) = self.slot_mut(n) {
                    *s = Slot::Used(tx);
                }
                n
            }
            None => self.push(Slot::Used(tx)),
        };
        self.index.insert(id, n);
    }

    pub fn remove(&mut self, id: &K) -> Option<V> {
        let n = self.index.remove(id)?;
        let free = self.free;
        let s = core::mem::replace(self.slot_mut(n)?, Slot::Free(free));
        self.free = Some(n);
        self.compact_if_sparse();
        match s {
            Slot::Used(tx) => Some(tx),
            Slot::Free(_) => None,
        }
    }

    /// Once fewer than one slot in [`SPARSE`] is used (a burst has passed), moves the live
    /// values to fresh chunks in id order, so that the table holds about what its live
    /// transactions need and not what the burst did. O(live) each time, and a time only
    /// after most slots emptied since the last: O(1) per removal, amortized.
    fn compact_if_sparse(&mut self) {
        let slots = self.slots();
        if slots <= MIN_SLOTS || self.index.len() * SPARSE >= slots {
            return;
        }
        let mut old = core::mem::take(&mut self.chunks);
        self.free = None;
        let mut index = core::mem::take(&mut self.index);
        for n in index.values_mut() {
            let (c, i) = (*n as usize / CHUNK, *n as usize % CHUNK);
            let s = core::mem::replace(&mut old[c][i], Slot::Free(None));
            *n = self.push(s);
        }
        self.index = index;
    }

    pub fn contains_key(&self, id: &K) -> bool {
        self.index.contains_key(id)
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.index.keys()
    }

    /// The values in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.index.iter().filter_map(|(id, &n)| match self.slot(n) {
            Some(Slot::Used(tx)) => Some((id, tx)),
            _ => None,
        })
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, tx)| tx)
    }

    /// With nothing left, gives back the chunks and the index nodes.
    pub fn clear_if_empty(&mut self) {
        if self.is_empty() {
            *self = Slab::default();
        }
    }
}

impl<K: Ord + Copy, V> core::ops::Index<&K> for Slab<K, V> {
    type Output = V;

    fn index(&self, id: &K) -> &V {
        self.get(id).expect("a live entry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{Tx, TxId};

    type Table = Slab<TxId, Tx>;

    /// A transaction told apart by its `last_status`.
    fn tx(n: u64) -> Tx {
        use crate::msg::{builder::RequestBuilder, Method, NameAddr, Uri};
        let to = Uri::parse("sip:bob@192.0.2.2").unwrap();
        let request = RequestBuilder::new(Method::Options, to.clone())
            .from(NameAddr::new(to.clone()), "a1")
            .to(NameAddr::new(to))
            .call_id("table")
            .cseq(1)
            .build();
        let addr = "192.0.2.2:5060".parse().unwrap();
        Tx {
            kind: crate::transaction::Kind::NonInviteClient,
            state: crate::transaction::State::Trying,
            reliable: false,
            dest: crate::transport::Destination::udp(addr),
            local: None,
            request,
            last: None,
            last_status: n as u16,
            rfc2543: None,
            shed: false,
            interval: crate::time::Duration::from_millis(500),
            armed: Default::default(),
            key: None,
            cancel_pending: false,
            cancelled: false,
            internal: false,
            keep_request: false,
        }
    }

    /// Slots are reused, chunks are added as needed, and a sparse table is compacted with
    /// every transaction still found by its id.
    #[test]
    fn slots_reused_and_compacted() {
        let mut t = Table::default();
        for i in 0..3000u64 {
            t.insert(TxId(i), tx(i));
        }
        assert_eq!(
            (t.len(), t.slots(), t.chunks.len()),
            (3000, 3000, 3000 / CHUNK)
        );
        // Free then reuse: no new slot.
        let _ = t.remove(&TxId(5));
        t.insert(TxId(5000), tx(5000));
        assert_eq!(t.slots(), 3000);
        // Down to 101 live: compacted on the way.
        for i in (0..3000u64).filter(|i| i % 30 != 0 && *i != 5) {
            assert!(t.remove(&TxId(i)).is_some());
        }
        assert!(t.slots() < 3000, "{}", t.slots());
        assert_eq!(t.len(), 101);
        for i in (0..3000u64).filter(|i| i % 30 == 0) {
            assert_eq!(t[&TxId(i)].last_status, i as u16);
        }
        assert_eq!(t[&TxId(5000)].last_status, 5000);
        let ids: Vec<u64> = t.iter().map(|(id, _)| id.0).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "id order");
        for i in ids {
            assert!(t.remove(&TxId(i)).is_some());
        }
        t.clear_if_empty();
        assert_eq!((t.len(), t.slots()), (0, 0));
    }
}
