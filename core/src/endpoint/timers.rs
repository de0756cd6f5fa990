//! The UA core's timers (those of calls and transfers: the 2xx retransmission of §13.3.1.4,
//! the glare retry of §14.1, a transfer's subscription timers, ...), earliest deadline first.
//!
//! As the transaction layer's (`transaction::timer`): a binary heap with lazy deletion, and
//! the deadline of each armed timer by `(call, timer)` in a hash table ([`Ids`]). Arming
//! pushes an entry; disarming only forgets the deadline — the entry stays in the heap until it
//! comes to the top, where it is dropped as no longer armed. An ordered set of the entries and
//! an ordered map of the deadlines cost a B-tree search or two each time a call armed, moved
//! or disarmed a timer (every call ends by disarming four).

use super::{CallId, Timer};
use crate::hashed::{Ids, Key};
use crate::time::Instant;
use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

/// Bits of a packed timer below its variant: a transfer's id.
const ID: u64 = (1 << 61) - 1;

impl Timer {
    /// The timer as one number that orders as the enum does: the variant in the top three
    /// bits, a transfer's id below (the endpoint counts them from 1: far below 2^61). An entry
    /// of the heap is then 24 bytes instead of 32, and one of the table of deadlines too.
    fn pack(self) -> u64 {
        match self {
            Timer::Retransmit2xx => 0,
            Timer::GlareRetry => 1 << 61,
            Timer::Transfer(t) => 2 << 61 | (t.0 & ID),
            Timer::ReferRefresh(t) => 3 << 61 | (t.0 & ID),
            Timer::ForgetDialog => 4 << 61,
            Timer::ReplacedGrace => 5 << 61,
            Timer::AnswerDue => 6 << 61,
        }
    }

    fn unpack(n: u64) -> Timer {
        match n >> 61 {
            0 => Timer::Retransmit2xx,
            1 => Timer::GlareRetry,
            2 => Timer::Transfer(super::TransferId(n & ID)),
            3 => Timer::ReferRefresh(super::TransferId(n & ID)),
            4 => Timer::ForgetDialog,
            5 => Timer::ReplacedGrace,
            _ => Timer::AnswerDue,
        }
    }
}

/// Timer [`Timer::pack`]ed of a call: the key of its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Armed(CallId, u64);

impl Key for Armed {
    fn raw(self) -> u64 {
        // Only hashed (the table compares whole keys), by a multiplication whose low bits —
        // the bucket — come from the low bits of this number only: those are the call's, so
        // that the timers of different calls spread over the table. The timer goes above
        // (its variant at bits 29–31, a transfer's id from bit 32). Call and timer the other
        // way round put every call's timer of one kind in one bucket, and each lookup then
        // probed past all of them.
        self.0 .0 ^ self.1.rotate_left(32)
    }
}

/// The armed timers (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, CallId, u64)>>,
    armed: Ids<Armed, Instant>,
}

impl Timers {
    /// Arms (or moves) timer `t` of `call` to fire at `at`.
    pub(crate) fn arm(&mut self, call: CallId, t: Timer, at: Instant) {
        let t = t.pack();
        let old = self.armed.insert(Armed(call, t), at);
        if old == Some(at) {
            // Armed for that instant already: its entry is in the heap.
            return;
        }
        self.heap.push(Reverse((at, call, t)));
        if let Some(old) = old {
            self.cancelled((old, call, t));
        }
    }

    /// Disarms timer `t` of `call`, if armed.
    pub(crate) fn disarm(&mut self, call: CallId, t: Timer) {
        let t = t.pack();
        if let Some(at) = self.armed.remove(&Armed(call, t)) {
            self.cancelled((at, call, t));
        }
    }

    /// Entry `e` was just disarmed: [`Timers::purge`] when it is the earliest (or the
    /// entries no longer armed are due a sweep). One further down stays until it surfaces;
    /// the earliest entry stays an armed timer's without a look at the table of deadlines
    /// after every disarm.
    fn cancelled(&mut self, e: (Instant, CallId, u64)) {
        if self.heap.peek() == Some(&Reverse(e)) || self.heap.len() > 2 * self.armed.len() + 64 {
            self.purge();
        }
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.0)
    }

    /// Removes and returns the earliest armed timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(CallId, Timer)> {
        let &Reverse((at, call, t)) = self.heap.peek()?;
        if at > now {
            return None;
        }
        self.heap.pop();
        self.armed.remove(&Armed(call, t));
        self.purge();
        Some((call, Timer::unpack(t)))
    }

    /// Armed timers.
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }

    fn is_armed(armed: &Ids<Armed, Instant>, e: &(Instant, CallId, u64)) -> bool {
        armed.get(&Armed(e.1, e.2)) == Some(&e.0)
    }

    /// Keeps an armed timer at the top (so that [`Timers::next`] is a deadline to wake up
    /// for), and the heap within about twice the armed timers: once the entries no longer
    /// armed outnumber the armed ones, they are swept (O(n), once per n disarms).
    fn purge(&mut self) {
        let armed = &self.armed;
        if self.heap.len() > 2 * armed.len() + 64 {
            self.heap.retain(|Reverse(e)| Self::is_armed(armed, e));
        }
        while let Some(Reverse(e)) = self.heap.peek() {
            if Self::is_armed(armed, e) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.is_empty() {
            // Back to nothing after a burst: give the memory back.
            self.heap = BinaryHeap::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::TransferId;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn earliest_armed_first_moved_and_disarmed_ones_skipped() {
        let mut t = Timers::default();
        let (a, b) = (CallId(1), CallId(2));
        t.arm(a, Timer::Retransmit2xx, at(500));
        t.arm(b, Timer::Transfer(TransferId(7)), at(300));
        t.arm(a, Timer::ForgetDialog, at(300));
        assert_eq!(t.next(), Some(at(300)));
        // Moved later, then disarmed: neither old entry fires.
        t.arm(b, Timer::Transfer(TransferId(7)), at(900));
        t.disarm(a, Timer::ForgetDialog);
        assert_eq!(t.next(), Some(at(500)), "the top is an armed timer");
        assert_eq!(t.len(), 2);
        // Armed twice for the same instant: fires once.
        t.arm(a, Timer::Retransmit2xx, at(500));
        assert_eq!(t.pop_due(at(400)), None);
        assert_eq!(t.pop_due(at(1000)), Some((a, Timer::Retransmit2xx)));
        assert_eq!(
            t.pop_due(at(1000)),
            Some((b, Timer::Transfer(TransferId(7))))
        );
        assert_eq!(t.pop_due(at(1000)), None);
        assert_eq!((t.next(), t.len()), (None, 0));
    }

    /// Whatever is armed, moved and disarmed in whatever order, the earliest entry is the
    /// earliest armed deadline (a disarm looks only at the top, see `Timers::cancelled`),
    /// and what falls due fires once.
    #[test]
    fn earliest_entry_stays_armed() {
        use alloc::collections::BTreeMap;
        let mut t = Timers::default();
        let mut model: BTreeMap<(u64, u64), Instant> = BTreeMap::new();
        let mut x: u64 = 11;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        let timers = [Timer::Retransmit2xx, Timer::GlareRetry, Timer::ForgetDialog];
        for step in 0..20_000u64 {
            let (call, k) = (next() % 40 + 1, next() % 3);
            let deadline = at(next() % 1_000);
            if next() % 3 == 0 {
                t.disarm(CallId(call), timers[k as usize]);
                model.remove(&(call, k));
            } else {
                t.arm(CallId(call), timers[k as usize], deadline);
                model.insert((call, k), deadline);
            }
            assert_eq!(t.next(), model.values().min().copied(), "step {step}");
            assert_eq!(t.len(), model.len());
            assert!(t.heap.len() <= 2 * model.len() + 65, "step {step}");
            if step % 997 == 0 {
                let now = at(next() % 1_000);
                while let Some((c, timer)) = t.pop_due(now) {
                    let k = timers.iter().position(|&x| x == timer).unwrap() as u64;
                    let due = model.remove(&(c.0, k)).expect("armed");
                    assert!(due <= now);
                }
                assert!(model.values().all(|&d| d > now));
            }
        }
    }

    #[test]
    fn packed_timers_come_back_and_order_as_the_enum() {
        let ids = [1u64, 7, ID];
        let mut all = alloc::vec![
            Timer::Retransmit2xx,
            Timer::GlareRetry,
            Timer::ForgetDialog,
            Timer::ReplacedGrace
        ];
        for &i in &ids {
            all.push(Timer::Transfer(TransferId(i)));
            all.push(Timer::ReferRefresh(TransferId(i)));
        }
        for &t in &all {
            assert_eq!(Timer::unpack(t.pack()), t);
        }
        let mut by_enum = all.clone();
        by_enum.sort();
        let mut by_number = all;
        by_number.sort_by_key(|t| t.pack());
        assert_eq!(by_enum, by_number);
    }

    #[test]
    fn timers_of_different_calls_spread_over_the_table() {
        // The bucket is the low bits of the hash: distinct for the same timer of many calls.
        let buckets: alloc::collections::BTreeSet<u64> = (1..=1024u64)
            .map(|c| crate::hashed::id_hash(Armed(CallId(c), Timer::ForgetDialog.pack())) & 1023)
            .collect();
        assert!(buckets.len() > 512, "{}", buckets.len());
    }

    #[test]
    fn stale_entries_swept() {
        let mut t = Timers::default();
        for i in 0..10_000u64 {
            t.arm(CallId(1), Timer::GlareRetry, at(1_000_000 - i));
        }
        assert_eq!(t.len(), 1);
        assert!(t.heap.len() <= 2 + 64 + 1, "{}", t.heap.len());
        // Same order as an ordered set: by deadline, then call, then timer.
        t.arm(CallId(3), Timer::ReplacedGrace, at(5));
        t.arm(CallId(2), Timer::ReplacedGrace, at(5));
        t.arm(CallId(2), Timer::GlareRetry, at(5));
        let due: alloc::vec::Vec<_> = core::iter::from_fn(|| t.pop_due(at(10))).collect();
        assert_eq!(
            due,
            [
                (CallId(2), Timer::GlareRetry),
                (CallId(2), Timer::ReplacedGrace),
                (CallId(3), Timer::ReplacedGrace)
            ]
        );
    }
}
