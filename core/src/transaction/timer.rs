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

/// All armed timers, earliest deadline first: a binary heap with lazy deletion. Arming pushes
/// an entry; cancelling only counts it out — the entry stays in the heap until it comes to
/// the top, where [`TimerQueue::purge`] or [`TimerQueue::pop_due`] drops it, the layer telling
/// a cancelled entry from an armed one (the transaction's own list of armed timers). Nothing
/// is allocated per timer once the heap has grown to the load (a `BTreeSet` allocated and
/// freed a node for every few timers), and a cancelled entry lives at most until its
/// deadline, or until cancelled entries outnumber armed ones and are swept.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// Armed entries (the heap also holds cancelled ones).
    live: usize,
}

impl TimerQueue {
    pub fn insert(&mut self, at: Instant, tx: TxId, t: Timer) {
        self.heap.push(Reverse((at, tx, t)));
        self.live += 1;
    }

    /// Counts out an armed entry (the caller has disarmed it: `is_live` no longer holds for
    /// it); call [`TimerQueue::purge`] afterwards.
    pub fn remove(&mut self) {
        debug_assert!(self.live > 0, "a timer counted out twice");
        self.live = self.live.saturating_sub(1);
    }

    /// Drops the cancelled entries at the top, so that [`TimerQueue::next`] is an armed
    /// timer's deadline.
    pub fn purge(&mut self, is_live: impl Fn(&Entry) -> bool) {
        // Cancelled entries outnumber the armed ones (Timer C, say, cancelled by the answer
        // 180 s before its deadline): sweep them all, so the heap stays within twice the armed
        // timers. O(n), once per n cancellations: O(1) amortized.
        if self.heap.len() > 2 * self.live + 64 {
            self.heap.retain(|Reverse(e)| is_live(e));
        }
        while let Some(Reverse(e)) = self.heap.peek() {
            if is_live(e) {
                return;
            }
            self.heap.pop();
        }
    }

    /// The earliest deadline (of an armed timer, when every removal was followed by a
    /// purge).
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.0)
    }

    /// Removes and returns the earliest armed timer due at or before `now`, dropping the
    /// cancelled entries it meets.
    pub fn pop_due(&mut self, now: Instant, is_live: impl Fn(&Entry) -> bool) -> Option<Entry> {
        while let Some(Reverse(e)) = self.heap.peek() {
            if e.0 > now {
                return None;
            }
            let Reverse(e) = self.heap.pop()?;
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
