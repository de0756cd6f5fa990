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

impl Timer {
    /// A number for each timer of a call (the transfer's id in the upper bits).
    fn code(self) -> u64 {
        match self {
            Timer::Retransmit2xx => 0,
            Timer::GlareRetry => 1,
            Timer::ForgetDialog => 2,
            Timer::ReplacedGrace => 3,
            Timer::Transfer(t) => 4 | t.0 << 3,
            Timer::ReferRefresh(t) => 5 | t.0 << 3,
        }
    }
}

impl Key for (CallId, Timer) {
    fn raw(self) -> u64 {
        // Only hashed: the table compares whole keys.
        self.0 .0.rotate_left(32) ^ self.1.code()
    }
}

/// The armed timers (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, CallId, Timer)>>,
    armed: Ids<(CallId, Timer), Instant>,
}

impl Timers {
    /// Arms (or moves) timer `t` of `call` to fire at `at`.
    pub(crate) fn arm(&mut self, call: CallId, t: Timer, at: Instant) {
        if self.armed.insert((call, t), at) == Some(at) {
            // Armed for that instant already: its entry is in the heap.
            return;
        }
        self.heap.push(Reverse((at, call, t)));
        self.purge();
    }

    /// Disarms timer `t` of `call`, if armed.
    pub(crate) fn disarm(&mut self, call: CallId, t: Timer) {
        if self.armed.remove(&(call, t)).is_some() {
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
        self.armed.remove(&(call, t));
        self.purge();
        Some((call, t))
    }

    /// Armed timers.
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }

    fn is_armed(armed: &Ids<(CallId, Timer), Instant>, e: &(Instant, CallId, Timer)) -> bool {
        armed.get(&(e.1, e.2)) == Some(&e.0)
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
