//! A slab of values found by key: the live transactions of the transaction layer, the
//! calls of an endpoint.
//!
//! A transaction (a call) used to be a box of its own in a map: one allocation each (two to
//! four transactions per call, more per transfer) and a free when it ended. Here the values
//! live side by side in chunks of [`CHUNK`] slots whose free slots are reused, so adding one
//! allocates nothing once the slab has grown to the load, and growing allocates one chunk
//! per [`CHUNK`] values without moving the others (one `Vec` of slots would copy them all at
//! each growth, and keep up to as many again as slack). After a burst the slab compacts
//! itself once few of its slots are used, and gives all its memory back when empty
//! ([`Slab::clear_if_empty`]).
//!
//! The keys are the endpoint's own numbers (transaction and call ids, counted up from 1 and
//! never reused), found through a hash table of `(key, slot)` — O(1) whatever the load; an
//! ordered map cost a search of its nodes for every timer checked and every message. The
//! values are also linked in key order, so that iteration (and every output that follows
//! from it) stays in key order: adding a key larger than all (the rule) links it last in
//! O(1), removing one unlinks it in O(1).

use alloc::vec::Vec;
/// Slots per chunk: a chunk is about 5 KB, the slack of a table at most one chunk.
pub(crate) const CHUNK: usize = 8;

/// Below this many slots the table is never compacted.
pub(crate) const MIN_SLOTS: usize = 64;

/// The table is compacted once fewer than one slot in this many is used. Compacting moves
/// the live transactions and allocates no more chunks than they fill, so a table holds at
/// most about four times what its live transactions need (for a moment: the free slots are
/// the first reused). Four rather than two: as a burst drains, the values still live are
/// moved a third of a time each on average instead of once (n/4 + n/16 + … against n/2 +
/// n/4 + …), and a move is a copy of hundreds of bytes.
pub(crate) const SPARSE: usize = 4;

/// No slot (the ends of the key-order list).
const NIL: u32 = u32::MAX;

use crate::hashed::{id_hash as hash, Key};

/// A used slot: the value, its key and its neighbours in key order.
#[derive(Clone, Debug)]
struct Node<K, V> {
    key: K,
    prev: u32,
    next: u32,
    value: V,
}

/// One slot of the slab. A free slot is as large as a used one: the values sit side by
/// side on purpose (boxing them would be the allocation the slab removes).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Slot<K, V> {
    /// Free; the next free slot, if any.
    Free(Option<u32>),
    Used(Node<K, V>),
}

/// Moving a table's values into its first `live` slots, in place: as many used slots lie at
/// or past `live` as free ones below it, and each free one below gets the last used one
/// above. [`Compaction::next`] gives the moves one by one; the caller makes each (leaving
/// its source free) before asking for the next, then truncates the chunks to `live`.
pub(crate) struct Compaction {
    /// Below it every slot is used (or moved into).
    lo: u32,
    /// At or past it no slot is used any more.
    hi: u32,
    live: usize,
}

impl Compaction {
    /// The next move, `(from, to)`: the last used slot at or past `live` into the first
    /// free one below it (`used` tells a used slot).
    pub fn next<T>(&mut self, chunks: &Chunks<T>, used: impl Fn(&T) -> bool) -> Option<(u32, u32)> {
        let used = |n| chunks.get(n).is_some_and(&used);
        while (self.lo as usize) < self.live && used(self.lo) {
            self.lo += 1;
        }
        if self.lo as usize >= self.live {
            return None;
        }
        self.hi = self.hi.checked_sub(1)?;
        while self.hi > self.lo && !used(self.hi) {
            self.hi -= 1;
        }
        Some((self.hi, self.lo))
    }

    /// The slots the table keeps.
    pub fn live(&self) -> usize {
        self.live
    }
}

/// Slots side by side in chunks of [`CHUNK`], numbered from 0: the storage of a [`Slab`]
/// and of [`crate::slots::Slots`]. Slot `n` is `chunks[n / CHUNK][n % CHUNK]`; every chunk
/// but the last is full, so adding a slot moves none (but in the first chunk, which grows
/// as it fills).
#[derive(Clone, Debug)]
pub(crate) struct Chunks<T>(Vec<Vec<T>>);

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks(Vec::new())
    }
}

impl<T> Chunks<T> {
    /// Slots in all.
    pub fn len(&self) -> usize {
        self.0
            .last()
            .map_or(0, |c| (self.0.len() - 1) * CHUNK + c.len())
    }

    pub fn get(&self, n: u32) -> Option<&T> {
        let n = n as usize;
        self.0.get(n / CHUNK)?.get(n % CHUNK)
    }

    pub fn get_mut(&mut self, n: u32) -> Option<&mut T> {
        let n = n as usize;
        self.0.get_mut(n / CHUNK)?.get_mut(n % CHUNK)
    }

    /// Puts `t` in a new slot at the end; its number.
    #[inline]
    pub fn push(&mut self, t: T) -> u32 {
        // Bounded by `Config::max_transactions` / `max_dialogs`, far below u32::MAX.
        let n = self.len() as u32;
        match self.0.last_mut().filter(|c| c.len() < CHUNK) {
            Some(c) => c.push(t),
            None => {
                // The first chunk grows as it fills (an endpoint with a call or two — a
                // device's — holds no room for eight); the next ones are allocated whole.
                let mut c = if self.0.is_empty() {
                    Vec::new()
                } else {
                    Vec::with_capacity(CHUNK)
                };
                c.push(t);
                self.0.push(c);
            }
        }
        n
    }

    /// A compaction of a table with `live` of these slots used, once fewer than one in
    /// [`SPARSE`] is (and the table is past [`MIN_SLOTS`]): see [`Compaction`].
    pub fn compaction(&self, live: usize) -> Option<Compaction> {
        let slots = self.len();
        (slots > MIN_SLOTS && live * SPARSE < slots).then_some(Compaction {
            lo: 0,
            hi: slots as u32,
            live,
        })
    }

    /// Keeps the first `n` slots, dropping the chunks past them.
    pub fn truncate(&mut self, n: usize) {
        let chunks = n.div_ceil(CHUNK);
        self.0.truncate(chunks);
        if let Some(last) = self.0.last_mut() {
            last.truncate(n - (chunks - 1) * CHUNK);
        }
    }

    /// Chunks allocated (the tests' view of the memory held).
    #[cfg(test)]
    pub fn chunks(&self) -> usize {
        self.0.len()
    }

    /// Room for chunks held (0: the storage holds no memory).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

/// Values by key (see the module documentation).
#[derive(Clone, Debug)]
pub(crate) struct Slab<K, V> {
    /// `(key, slot)` of every value.
    index: hashbrown::HashTable<(K, u32)>,
    /// The slots.
    chunks: Chunks<Slot<K, V>>,
    /// The first free slot.
    free: Option<u32>,
    /// The slots of the smallest and the largest key.
    head: u32,
    tail: u32,
}

impl<K, V> Default for Slab<K, V> {
    fn default() -> Self {
        Slab {
            index: hashbrown::HashTable::new(),
            chunks: Chunks::default(),
            free: None,
            head: NIL,
            tail: NIL,
        }
    }
}

impl<K: Key, V> Slab<K, V> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Slots in all (used and free).
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.chunks.len()
    }

    fn slot(&self, n: u32) -> Option<&Slot<K, V>> {
        self.chunks.get(n)
    }

    fn slot_mut(&mut self, n: u32) -> Option<&mut Slot<K, V>> {
        self.chunks.get_mut(n)
    }

    fn node(&self, n: u32) -> Option<&Node<K, V>> {
        match self.slot(n) {
            Some(Slot::Used(node)) => Some(node),
            _ => None,
        }
    }

    fn node_mut(&mut self, n: u32) -> Option<&mut Node<K, V>> {
        match self.slot_mut(n) {
            Some(Slot::Used(node)) => Some(node),
            _ => None,
        }
    }

    /// The slot of `id`.
    fn find(&self, id: K) -> Option<u32> {
        self.index.find(hash(id), |e| e.0 == id).map(|&(_, n)| n)
    }

    pub fn get(&self, id: &K) -> Option<&V> {
        self.node(self.find(*id)?).map(|node| &node.value)
    }

    pub fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let n = self.find(*id)?;
        self.node_mut(n).map(|node| &mut node.value)
    }

    /// Adds `value` as `id` (a fresh key: the layer and the endpoint never reuse one, and
    /// count them up, so it goes last in key order).
    pub fn insert(&mut self, id: K, value: V) {
        // Its place in key order: after the largest key smaller than it (the last one, but
        // for a key numbered before another was added).
        let mut prev = self.tail;
        while let Some(p) = self.node(prev).filter(|p| p.key > id) {
            prev = p.prev;
        }
        let next = match self.node(prev) {
            Some(p) => p.next,
            None => self.head,
        };
        let node = Slot::Used(Node {
            key: id,
            prev,
            next,
            value,
        });
        let reuse = self.free.and_then(|n| match self.slot(n) {
            Some(Slot::Free(next)) => Some((n, *next)),
            _ => None,
        });
        let n = match reuse {
            Some((n, next_free)) => {
                self.free = next_free;
                if let Some(s) = self.slot_mut(n) {
                    *s = node;
                }
                n
            }
            None => self.chunks.push(node),
        };
        self.link(prev, n, next);
        self.index.insert_unique(hash(id), (id, n), |e| hash(e.0));
    }

    /// Links slot `n` between `prev` and `next` (either may be [`NIL`]).
    fn link(&mut self, prev: u32, n: u32, next: u32) {
        self.join(prev, n);
        self.join(n, next);
    }

    /// Makes `b` follow `a` in key order (`a` [`NIL`]: `b` is the first; `b` [`NIL`]: `a`
    /// is the last).
    fn join(&mut self, a: u32, b: u32) {
        match self.node_mut(a) {
            Some(p) => p.next = b,
            None => self.head = b,
        }
        match self.node_mut(b) {
            Some(x) => x.prev = a,
            None => self.tail = a,
        }
    }

    /// Removes `id` and hands its value back (the tests check what comes back; the layer and
    /// the endpoint take what they need in place and [`Slab::discard`] the rest).
    #[cfg(test)]
    pub fn remove(&mut self, id: &K) -> Option<V> {
        let n = self.unlink(id)?;
        let free = self.free;
        let s = core::mem::replace(self.slot_mut(n)?, Slot::Free(free));
        self.free = Some(n);
        self.settle();
        match s {
            Slot::Used(node) => Some(node.value),
            Slot::Free(_) => None,
        }
    }

    /// Removes `id` and drops its value where it lies: what the tests' `Slab::remove` does
    /// for a caller that has no use for the value, without moving it out (a transaction, a
    /// call: hundreds of bytes). Whether `id` was there.
    pub fn discard(&mut self, id: &K) -> bool {
        let Some(n) = self.unlink(id) else {
            return false;
        };
        let free = self.free;
        if let Some(s) = self.slot_mut(n) {
            *s = Slot::Free(free);
            self.free = Some(n);
        }
        self.settle();
        true
    }

    /// Takes `id` out of the index and of the key order; its slot, still holding the value.
    fn unlink(&mut self, id: &K) -> Option<u32> {
        let h = hash(*id);
        let (_, n) = self.index.find_entry(h, |e| e.0 == *id).ok()?.remove().0;
        let (prev, next) = self.node(n).map(|node| (node.prev, node.next))?;
        self.join(prev, next);
        Some(n)
    }

    /// After a removal: the index and the slots shrink as they empty.
    fn settle(&mut self) {
        crate::hashed::settle(&mut self.index, |e| hash(e.0));
        self.compact_if_sparse();
    }

    /// Once fewer than one slot in [`SPARSE`] is used (a burst has passed), moves the values
    /// that lie at or past slot `live` into the free slots below it and drops the chunks past
    /// `live`, so that the table holds about what its live values need and not what the
    /// burst did. In place: nothing is allocated, and only the values past `live` move (each
    /// keeps its key order: the list is relinked, the index pointed at the new slot). O(slots)
    /// each time, and a time only after most slots emptied since the last: O(1) per removal,
    /// amortized.
    fn compact_if_sparse(&mut self) {
        let Some(mut c) = self.chunks.compaction(self.index.len()) else {
            return;
        };
        while let Some((from, to)) = c.next(&self.chunks, |s| matches!(s, Slot::Used(_))) {
            let Some(Slot::Used(node)) = self
                .slot_mut(from)
                .map(|s| core::mem::replace(s, Slot::Free(None)))
            else {
                break;
            };
            let (key, prev, next) = (node.key, node.prev, node.next);
            if let Some(s) = self.slot_mut(to) {
                *s = Slot::Used(node);
            }
            self.link(prev, to, next);
            if let Some(e) = self.index.find_mut(hash(key), |e| e.0 == key) {
                e.1 = to;
            }
        }
        self.chunks.truncate(c.live());
        self.free = None;
    }

    pub fn contains_key(&self, id: &K) -> bool {
        self.find(*id).is_some()
    }

    /// The values in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        let mut at = self.head;
        core::iter::from_fn(move || {
            let node = self.node(at)?;
            at = node.next;
            Some((&node.key, &node.value))
        })
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(id, _)| id)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// With nothing left, gives back the chunks and the index.
    pub fn clear_if_empty(&mut self) {
        if self.is_empty() {
            *self = Slab::default();
        }
    }
}

impl<K: Key, V> core::ops::Index<&K> for Slab<K, V> {
    type Output = V;

    fn index(&self, id: &K) -> &V {
        self.get(id).expect("a live entry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{Tx, TxId};
    use alloc::rc::Rc;

    type Table = Slab<TxId, Tx>;

    /// A transaction told apart by its `last_status`.
    fn tx(n: u64) -> Tx {
        let addr = "192.0.2.2:5060".parse().unwrap();
        Tx {
            kind: crate::transaction::Kind::NonInviteClient,
            state: crate::transaction::State::Trying,
            dest: crate::transport::Destination::udp(addr),
            local: None,
            last: None,
            last_status: n as u16,
            rfc2543: None,
            interval_us: 500_000,
            armed: Default::default(),
            key: None,
            key_hash: 0,
            cancel_pending: false,
            cancelled: false,
            internal: false,
            sized_to_tcp: false,
            req: crate::slots::NONE,
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
            (t.len(), t.slots(), t.chunks.chunks()),
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

    /// Iteration follows key order, also for a key numbered before another was added, and
    /// across removals at either end and in the middle.
    #[test]
    fn key_order_kept() {
        let mut t = Table::default();
        for i in [1u64, 2, 4, 3, 7, 0] {
            t.insert(TxId(i), tx(i));
        }
        let ids = |t: &Table| t.keys().map(|id| id.0).collect::<Vec<_>>();
        assert_eq!(ids(&t), [0, 1, 2, 3, 4, 7]);
        for i in [0u64, 7, 3] {
            assert_eq!(t.remove(&TxId(i)).map(|x| x.last_status), Some(i as u16));
        }
        assert_eq!(ids(&t), [1, 2, 4]);
        assert!(t.remove(&TxId(3)).is_none());
        t.insert(TxId(9), tx(9));
        assert_eq!(ids(&t), [1, 2, 4, 9]);
        assert_eq!(
            t.values().map(|x| x.last_status).collect::<Vec<_>>(),
            [1, 2, 4, 9]
        );
    }

    /// Against an ordered map, through bursts that fill the slab and drain it (compacting it
    /// on the way): the same values found by id, in the same order, the slots bounded.
    #[test]
    fn matches_an_ordered_map_through_bursts() {
        let mut slab: Slab<TxId, u64> = Slab::default();
        let mut model = alloc::collections::BTreeMap::new();
        let mut next = 1u64;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..6 {
            let n = 200 + 150 * round;
            for _ in 0..n {
                slab.insert(TxId(next), next * 3);
                model.insert(next, next * 3);
                next += 1;
            }
            // Drain all but a few, in random order.
            let mut ids: Vec<u64> = model.keys().copied().collect();
            while ids.len() > 5 {
                let k = (rand() as usize) % ids.len();
                let id = ids.swap_remove(k);
                assert!(slab.discard(&TxId(id)));
                model.remove(&id);
                if rand() % 16 == 0 {
                    let got: Vec<(u64, u64)> = slab.iter().map(|(k, v)| (k.0, *v)).collect();
                    let want: Vec<(u64, u64)> = model.iter().map(|(k, v)| (*k, *v)).collect();
                    assert_eq!(got, want);
                }
            }
            for (id, v) in &model {
                assert_eq!(slab.get(&TxId(*id)), Some(v));
            }
            assert!(slab.slots() <= MIN_SLOTS.max(model.len() * SPARSE + CHUNK));
        }
    }

    /// `discard` drops the value where it lies (its heap goes with it), unlinks it from the
    /// key order, frees its slot for the next insert, and is false for a key not there.
    #[test]
    fn discard_drops_in_place() {
        let mut s: Slab<TxId, Rc<()>> = Slab::default();
        let live = Rc::new(());
        for i in [1u64, 2, 3] {
            s.insert(TxId(i), live.clone());
        }
        assert_eq!(Rc::strong_count(&live), 4);
        assert!(s.discard(&TxId(2)));
        assert!(!s.discard(&TxId(2)));
        assert_eq!(Rc::strong_count(&live), 3);
        assert_eq!(s.keys().map(|id| id.0).collect::<Vec<_>>(), [1, 3]);
        s.insert(TxId(4), live.clone());
        assert_eq!(s.slots(), 3, "the freed slot is reused");
        for i in [1u64, 3, 4] {
            assert!(s.discard(&TxId(i)));
        }
        assert_eq!(Rc::strong_count(&live), 1);
        assert!(s.is_empty());
    }
}
