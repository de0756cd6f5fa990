//! Tables keyed by text a peer chose: transaction keys (RFC 3261 §17.1.3, §17.2.3: branch,
//! sent-by, method) and dialog ids (§12: Call-ID and tags).
//!
//! These keys are long (a `ServerKey` is 64 bytes, a `DialogId` 96) and looked up, added and
//! removed for nearly every message. In an ordered map each of those operations compared
//! several keys and, adding or removing, moved the keys that follow in a node: ~1 500
//! instructions, and about 200 bytes of node per entry. Here they are hash tables (`hashbrown`):
//! one hash of the key and, almost always, one comparison. The transactions' tables
//! ([`Index`]) hold only each key's hash and the transaction's id (16 bytes), the
//! transaction holding its key, and so do the indexes of calls by their dialogs, confirmed
//! and early (a call's dialogs hold their ids); the other tables of dialog ids ([`Table`]:
//! ended dialogs, lingering ones, those of subscriptions) hold the ids themselves.
//!
//! A peer picks the keys, so a hash it could predict would let it send requests whose keys
//! all collide and make every lookup a scan. The hash is SipHash-1-3 (the keyed hash `std`'s
//! `HashMap` uses for that reason) with 128 bits of key drawn from the endpoint's seed
//! ([`crate::Config::seed`]) on a ChaCha stream of their own, so that the identifiers the
//! endpoint writes (branches, tags, Call-IDs) are the same with or without these tables.
//!
//! The tables keyed by the endpoint's own numbers (transaction, call and transfer ids:
//! [`Ids`] and the index of [`crate::slab`]) need no key: no peer chooses those
//! numbers, and a multiplication spreads them ([`id_hash`]).
//!
//! No table is iterated in an order anything depends on: what the endpoint does never
//! depends on the order of a hash. A table gives its memory back as it empties after a burst
//! ([`settle`]).

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use siphasher::sip::SipHasher13;

/// The ChaCha stream the hash keys come from (the identifiers use stream 0).
const STREAM: u64 = 1;

/// Smallest capacity a table shrinks to.
const MIN_CAPACITY: usize = 16;

/// Writes `parts` to `h`, each closed by 0xFF (a byte no UTF-8 text holds, so that parts end
/// where they ended), gathered on the stack and written at once while they fit: SipHash then
/// runs once over the whole key, where a `write` per part paid its set-up and tail handling
/// each time. Equal keys have equal parts, hence equal hashes.
pub(crate) fn write_parts<H: core::hash::Hasher>(h: &mut H, parts: &[&[u8]]) {
    let mut buf = [0u8; 96];
    let mut n = 0;
    for p in parts {
        if n + p.len() + 1 > buf.len() {
            h.write(&buf[..n]);
            n = 0;
            if p.len() + 1 > buf.len() {
                h.write(p);
                h.write(&[0xff]);
                continue;
            }
        }
        buf[n..n + p.len()].copy_from_slice(p);
        n += p.len();
        buf[n] = 0xff;
        n += 1;
    }
    h.write(&buf[..n]);
}

/// The SipHash-1-3 key of an endpoint's tables.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keys(u64, u64);

impl Keys {
    /// The key derived from an endpoint's 32-byte seed.
    pub(crate) fn from_seed(seed: [u8; 32]) -> Keys {
        let mut rng = ChaCha12Rng::from_seed(seed);
        rng.set_stream(STREAM);
        Keys(rng.next_u64(), rng.next_u64())
    }
}

impl BuildHasher for Keys {
    type Hasher = SipHasher13;

    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.0, self.1)
    }
}

/// After a removal: a table left less than an eighth full shrinks to twice what it holds
/// (once per as many removals: O(1) amortized) and an empty one gives all its memory back,
/// so that a burst's memory comes back as the burst ends, as it would from an ordered map's
/// nodes. `hash` gives an entry's hash (kept in it or cheap to compute again).
pub(crate) fn settle<T>(t: &mut hashbrown::HashTable<T>, hash: impl Fn(&T) -> u64) {
    if t.is_empty() {
        *t = hashbrown::HashTable::new();
    } else {
        shrink_if_sparse(t, hash);
    }
}

/// The shrinking half of [`settle`].
fn shrink_if_sparse<T>(t: &mut hashbrown::HashTable<T>, hash: impl Fn(&T) -> u64) {
    let (len, cap) = (t.len(), t.capacity());
    if cap > MIN_CAPACITY && len < cap / 8 {
        t.shrink_to((len * 2).max(MIN_CAPACITY), hash);
    }
}

/// A hash table from `K` to `V` (see the module documentation). Each entry keeps its key's
/// hash: growing or shrinking the table moves entries without hashing their keys again, and
/// a probe compares hashes before keys.
#[derive(Clone, Debug)]
pub(crate) struct Table<K, V> {
    keys: Keys,
    entries: hashbrown::HashTable<(u64, K, V)>,
}

impl<K: Hash + Eq, V> Table<K, V> {
    /// An empty table (allocates nothing until the first insertion).
    pub(crate) fn new(keys: Keys) -> Self {
        Table {
            keys,
            entries: hashbrown::HashTable::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The hash of `k` in this table — in every table made with the same [`Keys`]: an id
    /// going from one such table to another (a dialog that ends: from the dialogs to the
    /// ended ones) is hashed once, for the `_hashed` operations.
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, k: &Q) -> u64 {
        self.keys.hash_one(k)
    }

    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.get_hashed(self.hash(k), k)
    }

    /// Sets `k` to `v`; the value it had.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        let h = self.hash(&k);
        self.insert_hashed(h, k, v)
    }

    /// [`Table::insert`] with `h`, the [`Table::hash`] of `k`.
    pub(crate) fn insert_hashed(&mut self, h: u64, k: K, v: V) -> Option<V> {
        debug_assert_eq!(h, self.hash(&k), "the hash of the key");
        if let Some(e) = self.entries.find_mut(h, |e| e.0 == h && e.1 == k) {
            return Some(core::mem::replace(&mut e.2, v));
        }
        self.entries.insert_unique(h, (h, k, v), |e| e.0);
        None
    }

    /// Removes `k`; its value (the table then [`settle`]s).
    pub(crate) fn remove<Q: Hash + Eq + ?Sized>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let h = self.hash(k);
        self.remove_hashed(h, k)
    }

    /// [`Table::get`] with `h`, the [`Table::hash`] of `k`.
    pub(crate) fn get_hashed<Q: Hash + Eq + ?Sized>(&self, h: u64, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        debug_assert_eq!(h, self.hash(k), "the hash of the key");
        self.entries
            .find(h, |e| e.0 == h && e.1.borrow() == k)
            .map(|e| &e.2)
    }

    /// [`Table::remove`] with `h`, the [`Table::hash`] of `k`.
    pub(crate) fn remove_hashed<Q: Hash + Eq + ?Sized>(&mut self, h: u64, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        debug_assert_eq!(h, self.hash(k), "the hash of the key");
        let entry = self
            .entries
            .find_entry(h, |e| e.0 == h && e.1.borrow() == k)
            .ok()?;
        let ((_, _, v), _) = entry.remove();
        settle(&mut self.entries, |e| e.0);
        Some(v)
    }
}

/// A hash index of values that know their own key (transactions do; calls, through their
/// dialog): each entry is the key's hash and the value, 16 bytes, and a lookup confirms a
/// candidate with the caller's test, which compares the key the value holds. An entry is
/// one `(hash, value)` pair: a value may stand under several hashes (a call under the ids of
/// each of its early dialogs), and under one hash as many times as it was inserted there
/// (each [`Index::remove`] takes one away).
#[derive(Clone, Debug)]
pub(crate) struct Index<V> {
    keys: Keys,
    entries: hashbrown::HashTable<(u64, V)>,
}

impl<V: Copy + Eq> Index<V> {
    /// An empty index (allocates nothing until the first insertion).
    pub(crate) fn new(keys: Keys) -> Self {
        Index {
            keys,
            entries: hashbrown::HashTable::new(),
        }
    }

    /// The hash of `k` in this index.
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, k: &Q) -> u64 {
        self.keys.hash_one(k)
    }

    /// Entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The value under hash `h` that `is` accepts.
    pub(crate) fn find(&self, h: u64, mut is: impl FnMut(V) -> bool) -> Option<V> {
        self.entries.find(h, |e| e.0 == h && is(e.1)).map(|e| e.1)
    }

    /// Adds `v` under hash `h`.
    pub(crate) fn insert(&mut self, h: u64, v: V) {
        self.entries.insert_unique(h, (h, v), |e| e.0);
    }

    /// Removes `v`, found under hash `h` (the index then [`settle`]s).
    pub(crate) fn remove(&mut self, h: u64, v: V) {
        if let Ok(e) = self.entries.find_entry(h, |e| e.0 == h && e.1 == v) {
            e.remove();
        }
        settle(&mut self.entries, |e| e.0);
    }
}

/// A key the endpoint numbers itself (transaction, call and transfer ids: counted up from
/// 1, never reused), for [`Ids`] and [`crate::slab`].
pub(crate) trait Key: Copy + Ord {
    /// The number.
    fn raw(self) -> u64;
}

impl Key for crate::transaction::TxId {
    fn raw(self) -> u64 {
        self.0
    }
}

impl Key for crate::endpoint::CallId {
    fn raw(self) -> u64 {
        self.0
    }
}

impl Key for crate::endpoint::TransferId {
    fn raw(self) -> u64 {
        self.0
    }
}

/// The hash of one of the endpoint's own numbers. No peer chooses them, so a multiplication
/// spreads them: consecutive numbers land in consecutive buckets (the low bits place an
/// entry) and the high bits (which tag it) are mixed.
pub(crate) fn id_hash<K: Key>(k: K) -> u64 {
    k.raw().wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A table keyed by the endpoint's own numbers ([`Key`]): O(1), never iterated in an order
/// anything depends on (an ordered
/// map cost a search of its nodes for each of the several lookups a message makes). Shrinks
/// as the others do ([`settle`]).
#[derive(Clone, Debug)]
pub(crate) struct Ids<K, V>(hashbrown::HashTable<(K, V)>);

impl<K, V> Default for Ids<K, V> {
    fn default() -> Self {
        Ids(hashbrown::HashTable::new())
    }
}

impl<K: Key, V> Ids<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.0.find(id_hash(*k), |e| e.0 == *k).map(|e| &e.1)
    }

    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.0
            .find_mut(id_hash(*k), |e| e.0 == *k)
            .map(|e| &mut e.1)
    }

    pub(crate) fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// The values in no particular order: only for what does not depend on one (a count).
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.0.iter().map(|e| &e.1)
    }

    /// Sets `k` to `v`; the value it had.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        if let Some(old) = self.get_mut(&k) {
            return Some(core::mem::replace(old, v));
        }
        self.0.insert_unique(id_hash(k), (k, v), |e| id_hash(e.0));
        None
    }

    /// Removes `k`; its value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let ((_, v), _) = self.0.find_entry(id_hash(*k), |e| e.0 == *k).ok()?.remove();
        settle(&mut self.0, |e| id_hash(e.0));
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::Hasher;

    #[test]
    fn keys_depend_on_the_seed_only() {
        let h = |keys: Keys| {
            let mut s = keys.build_hasher();
            s.write(b"z9hG4bK776asdhds");
            s.finish()
        };
        assert_eq!(h(Keys::from_seed([7; 32])), h(Keys::from_seed([7; 32])));
        assert_ne!(h(Keys::from_seed([7; 32])), h(Keys::from_seed([8; 32])));
    }

    #[test]
    fn parts_end_where_they_ended() {
        let keys = Keys::from_seed([3; 32]);
        let h = |parts: &[&[u8]]| {
            let mut s = keys.build_hasher();
            write_parts(&mut s, parts);
            s.finish()
        };
        assert_eq!(h(&[b"ab", b"c"]), h(&[b"ab", b"c"]));
        assert_ne!(h(&[b"ab", b"c"]), h(&[b"a", b"bc"]));
        // Past the stack buffer: the same bytes, part by part.
        let long = [b'x'; 200];
        assert_eq!(h(&[&long, b"c"]), h(&[&long, b"c"]));
        assert_ne!(h(&[&long, b"c"]), h(&[&long[..199], b"xc"]));
        let mid = [b'y'; 90];
        assert_ne!(h(&[&mid, &mid]), h(&[&mid[..89], &mid, b"y"]));
    }

    #[test]
    fn a_table_shrinks_as_it_empties() {
        let mut t: Table<u32, u32> = Table::new(Keys::from_seed([1; 32]));
        for i in 0..10_000 {
            t.insert(i, i);
        }
        let full = t.entries.capacity();
        for i in 0..9_990 {
            assert_eq!(t.remove(&i), Some(i));
        }
        assert_eq!(t.len(), 10);
        assert!(
            t.entries.capacity() <= 64,
            "{} of {full}",
            t.entries.capacity()
        );
        for i in 9_990..10_000 {
            assert_eq!(t.get(&i), Some(&i));
            t.remove(&i);
        }
        assert_eq!(t.len(), 0);
        assert_eq!(t.entries.capacity(), 0, "an empty table holds no memory");
    }

    #[test]
    fn ids_and_sets() {
        use crate::transaction::TxId;
        let mut m: Ids<TxId, u32> = Ids::default();
        for i in 1..=1000u64 {
            assert_eq!(m.insert(TxId(i), i as u32), None);
        }
        assert_eq!(m.insert(TxId(7), 70), Some(7));
        assert_eq!(m.get(&TxId(7)), Some(&70));
        *m.get_mut(&TxId(8)).unwrap() += 1;
        assert_eq!(m.get(&TxId(8)), Some(&9));
        for i in 1..=995u64 {
            assert!(m.remove(&TxId(i)).is_some());
        }
        assert_eq!(m.remove(&TxId(1)), None);
        assert!(m.0.capacity() <= 64, "{}", m.0.capacity());
        assert_eq!(m.values().count(), 5);
        assert!(m.contains_key(&TxId(1000)) && !m.is_empty());
    }

    #[test]
    fn an_index_finds_what_the_test_confirms() {
        let keys = Keys::from_seed([2; 32]);
        let names = ["a", "b", "c"];
        let mut ix: Index<usize> = Index::new(keys);
        for (i, n) in names.iter().enumerate() {
            ix.insert(ix.hash(n), i);
        }
        let find = |ix: &Index<usize>, n: &str| ix.find(ix.hash(n), |i| names[i] == n);
        assert_eq!(find(&ix, "b"), Some(1));
        assert_eq!(find(&ix, "d"), None);
        // A value under another key's hash is not confirmed.
        assert_eq!(ix.find(ix.hash("a"), |i| i == 1), None);
        ix.remove(ix.hash("b"), 1);
        assert_eq!(find(&ix, "b"), None);
        assert_eq!(find(&ix, "c"), Some(2));
    }
}
