//! The transaction timers (RFC 3261 §17, Table 4; RFC 6026 §8.4) in one ordered structure.
//!
//! Every armed timer is an entry `(deadline, transaction, timer)` in a binary heap, so the
//! earliest deadline costs O(1), arming and firing O(log n), cancelling O(1) (the entry is
//! dropped when it surfaces), however many transactions are live.

use super::TxId;
use crate::time::Instant;
use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

/// A transaction timer, named as in RFC 3261 §17 / RFC 6026 §8.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// INVITE client: request retransmission (T1, doubling), unreliable transports only.
    A,
    /// INVITE client: transaction timeout (64·T1) while Calling.
    B,
    /// INVITE client: give up waiting for a final response while Proceeding (§16.6's
    /// "more than 3 minutes", [`Timers::timer_c`](super::Timers::timer_c)); a CANCEL is sent
    /// and the transaction ends 64·T1 later if no final response arrives.
    C,
    /// INVITE client: wait for retransmitted finals in Completed (32 s; 0 on reliable).
    D,
    /// Non-INVITE client: request retransmission (T1 doubling, capped at T2).
    E,
    /// Non-INVITE client: transaction timeout (64·T1).
    F,
    /// INVITE server: final-response retransmission (T1 doubling, capped at T2).
    G,
    /// INVITE server: wait for ACK (64·T1).
    H,
    /// INVITE server: absorb ACK retransmissions in Confirmed (T4; 0 on reliable).
    I,
    /// Non-INVITE server: absorb request retransmissions in Completed (64·T1; 0 on reliable).
    J,
    /// Non-INVITE client: absorb response retransmissions in Completed (T4; 0 on reliable).
    K,
    /// INVITE server: Accepted state after a 2xx (64·T1, RFC 6026).
    L,
    /// INVITE client: Accepted state after a 2xx (64·T1, RFC 6026).
    M,
    /// INVITE server: send 100 Trying if the TU has not answered within 200 ms (§17.2.1).
    Trying,
}

/// One armed timer: deadline, transaction, which.
pub(crate) type Entry = (Instant, TxId, Timer);

/// Every timer, in the order of its discriminant.
const TIMERS: [Timer; 14] = [
    Timer::A,
    Timer::B,
    Timer::C,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
    Timer::Trying,
];

/// One armed timer of a transaction, `(t, at)` in one word: the deadline in microseconds
/// (below 2^59, eighteen thousand years; later ones are held as that) above the timer's
/// number. A transaction keeps up to three (8 bytes each instead of 16 for the pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Armed(u64);

impl Armed {
    pub fn new(t: Timer, at: Instant) -> Self {
        Armed(at.as_micros().min(u64::MAX >> 5) << 5 | t as u64)
    }

    pub fn timer(self) -> Timer {
        TIMERS
            .get((self.0 & 31) as usize)
            .copied()
            .unwrap_or(Timer::Trying)
    }
}

/// `(at, tx, t)` as one number that orders as the tuple does: the deadline (microseconds) in
/// the high 64 bits, then the transaction's number (below 2^56: one a microsecond for two
/// thousand years), then the timer.
fn pack((at, tx, t): Entry) -> u128 {
    debug_assert!(tx.0 < 1 << 56, "transaction numbers stay below 2^56");
    (u128::from(at.as_micros()) << 64) | (u128::from(tx.0) << 8) | t as u128
}

fn unpack(k: u128) -> Entry {
    let timer = TIMERS
        .get((k & 0xff) as usize)
        .copied()
        .unwrap_or(Timer::Trying);
    (
        Instant::from_micros((k >> 64) as u64),
        TxId((k as u64) >> 8),
        timer,
    )
}

/// All armed timers, earliest deadline first: a binary heap with lazy deletion. Arming pushes
/// an entry; cancelling only counts it out — the entry stays in the heap until it comes to
/// the top, where [`TimerQueue::purge`] or [`TimerQueue::pop_due`] drops it, the layer telling
/// a cancelled entry from an armed one (the transaction's own list of armed timers). Nothing
/// is allocated per timer once the heap has grown to the load (a `BTreeSet` allocated and
/// freed a node for every few timers), and a cancelled entry lives at most until its
/// deadline, or until cancelled entries outnumber armed ones and are swept.
///
/// The heap holds each entry packed in one `u128` (deadline, transaction, timer from the
/// most significant bits down: see [`pack`]), which orders as the tuple does and is compared
/// in one step, where the tuple's comparison is three.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<u128>>,
    /// Armed entries (the heap also holds cancelled ones).
    live: usize,
}

impl TimerQueue {
    pub fn insert(&mut self, at: Instant, tx: TxId, t: Timer) {
        self.heap.push(Reverse(pack((at, tx, t))));
        self.live += 1;
    }

    /// Counts out an armed entry (the caller has disarmed it: `is_live` no longer holds for
    /// it).
    fn remove(&mut self) {
        debug_assert!(self.live > 0, "a timer counted out twice");
        self.live = self.live.saturating_sub(1);
    }

    /// Counts out `armed`, an armed timer of `tx` the caller has just disarmed (`is_live` no
    /// longer holds for it). Only when it is the earliest entry are it and the cancelled
    /// entries under it dropped ([`TimerQueue::purge`]); one further down stays until it
    /// surfaces. The earliest entry stays an armed timer's, as it was, without asking the
    /// transaction of the earliest entry — the oldest, rarely in cache — after every
    /// cancellation whether it still is.
    #[inline]
    pub fn cancel(&mut self, tx: TxId, armed: Armed, is_live: impl Fn(&Entry) -> bool) {
        self.remove();
        let top = self.heap.peek().map(|&Reverse(k)| unpack(k));
        let is_top = top.is_some_and(|(at, id, t)| id == tx && Armed::new(t, at) == armed);
        if is_top || self.heap.len() > 2 * self.live + 64 {
            self.purge(is_live);
        }
    }

    /// Drops the cancelled entries at the top, so that [`TimerQueue::next`] is an armed
    /// timer's deadline.
    #[inline]
    pub fn purge(&mut self, is_live: impl Fn(&Entry) -> bool) {
        // Cancelled entries outnumber the armed ones (Timer C, say, cancelled by the answer
        // 180 s before its deadline): sweep them all, so the heap stays within twice the armed
        // timers. O(n), once per n cancellations: O(1) amortized.
        if self.heap.len() > 2 * self.live + 64 {
            self.heap.retain(|&Reverse(k)| is_live(&unpack(k)));
        }
        while let Some(&Reverse(k)) = self.heap.peek() {
            if is_live(&unpack(k)) {
                return;
            }
            self.heap.pop();
        }
    }

    /// The earliest deadline (of an armed timer, when every removal was followed by a
    /// purge).
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|&Reverse(k)| unpack(k).0)
    }

    /// Removes and returns the earliest armed timer due at or before `now`, dropping the
    /// cancelled entries it meets.
    #[inline]
    pub fn pop_due(&mut self, now: Instant, is_live: impl Fn(&Entry) -> bool) -> Option<Entry> {
        while let Some(&Reverse(k)) = self.heap.peek() {
            if unpack(k).0 > now {
                return None;
            }
            self.heap.pop();
            let e = unpack(k);
            if is_live(&e) {
                debug_assert!(self.live > 0, "a timer counted out twice");
                self.live = self.live.saturating_sub(1);
                return Some(e);
            }
        }
        None
    }

    /// Armed timers.
    pub fn len(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packing keeps every field and orders as the tuple does.
    #[test]
    fn packed_entries_order_as_tuples() {
        let mut entries = alloc::vec::Vec::new();
        for (k, &t) in TIMERS.iter().enumerate() {
            assert_eq!(t as usize, k, "TIMERS follows the discriminants");
            for at in [0u64, 1, 500_000, u64::MAX] {
                for id in [0u64, 1, 2, 255, 256, (1 << 56) - 1] {
                    entries.push((Instant::from_micros(at), TxId(id), t));
                }
            }
        }
        for &e in &entries {
            assert_eq!(unpack(pack(e)), e);
        }
        let mut by_tuple = entries.clone();
        by_tuple.sort();
        let mut by_key = entries;
        by_key.sort_by_key(|&e| pack(e));
        assert_eq!(by_tuple, by_key);
    }

    /// Whatever is armed and cancelled in whatever order, the earliest entry is an armed
    /// timer's: the earliest of them (cancelling only looks at the top, see
    /// [`TimerQueue::cancel`]), and the heap stays within twice the armed timers (plus 64).
    #[test]
    fn earliest_entry_stays_armed() {
        use alloc::collections::BTreeMap;
        let mut q = TimerQueue::default();
        let mut armed: BTreeMap<u64, Armed> = BTreeMap::new();
        // A small linear congruential sequence: deterministic, and mixed enough.
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for step in 0..20_000u64 {
            let id = next() % 50;
            let at = Instant::from_micros(next() % 1_000);
            match armed.get(&id).copied() {
                Some(a) if next() % 2 == 0 => {
                    armed.remove(&id);
                    let live = |e: &Entry| armed.get(&e.1 .0) == Some(&Armed::new(e.2, e.0));
                    q.cancel(TxId(id), a, live);
                }
                Some(a) => {
                    // Re-armed: the old entry is cancelled after the new one is pushed.
                    armed.insert(id, Armed::new(Timer::E, at));
                    q.insert(at, TxId(id), Timer::E);
                    let live = |e: &Entry| armed.get(&e.1 .0) == Some(&Armed::new(e.2, e.0));
                    q.cancel(TxId(id), a, live);
                }
                None => {
                    armed.insert(id, Armed::new(Timer::E, at));
                    q.insert(at, TxId(id), Timer::E);
                }
            }
            let earliest = armed.values().map(|a| a.0 >> 5).min();
            assert_eq!(q.next().map(|i| i.as_micros()), earliest, "step {step}");
            assert_eq!(q.len(), armed.len());
            assert!(q.heap.len() <= 2 * armed.len() + 65, "step {step}");
            if step % 1_000 == 999 {
                // Fire what is due at some instant.
                let now = Instant::from_micros(next() % 1_000);
                while let Some((_, id, _)) =
                    q.pop_due(now, |e| armed.get(&e.1 .0) == Some(&Armed::new(e.2, e.0)))
                {
                    armed.remove(&id.0);
                }
                q.purge(|e| armed.get(&e.1 .0) == Some(&Armed::new(e.2, e.0)));
                let earliest = armed.values().map(|a| a.0 >> 5).min();
                assert_eq!(q.next().map(|i| i.as_micros()), earliest);
            }
        }
    }

    #[test]
    fn armed_timers_keep_their_timer_and_tell_deadlines_apart() {
        let ats = [0u64, 1, 500_000, (1 << 59) - 1];
        for &t in &TIMERS {
            for &at in &ats {
                let a = Armed::new(t, Instant::from_micros(at));
                assert_eq!(a.timer(), t);
                for &other in &ats {
                    let b = Armed::new(t, Instant::from_micros(other));
                    assert_eq!(a == b, at == other);
                }
                for &u in TIMERS.iter().filter(|&&u| u != t) {
                    assert_ne!(Armed::new(u, Instant::from_micros(at)), a);
                }
            }
            // A deadline past 2^59 µs is held as that one.
            let far = Armed::new(t, Instant::from_micros(u64::MAX));
            assert_eq!(far.timer(), t);
            assert_eq!(far, Armed::new(t, Instant::from_micros((1 << 59) - 1)));
        }
    }
}
