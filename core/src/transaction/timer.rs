//! The transaction timers (RFC 3261 §17, Table 4; RFC 6026 §8.4) in one ordered structure.
//!
//! Every armed timer is an entry `(deadline, transaction, timer)` in a `BTreeSet`, so the
//! earliest deadline, arming, cancelling and firing each cost O(log n) however many
//! transactions are live.

use super::TxId;
use crate::time::Instant;
use alloc::collections::BTreeSet;

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

/// All armed timers, ordered by deadline.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerQueue {
    set: BTreeSet<(Instant, TxId, Timer)>,
}

impl TimerQueue {
    pub fn insert(&mut self, at: Instant, tx: TxId, t: Timer) {
        self.set.insert((at, tx, t));
    }

    pub fn remove(&mut self, at: Instant, tx: TxId, t: Timer) {
        self.set.remove(&(at, tx, t));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.set.first().map(|e| e.0)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, TxId, Timer)> {
        match self.set.first() {
            Some(&e) if e.0 <= now => self.set.pop_first(),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// The armed timers, earliest first.
    pub fn iter(&self) -> impl Iterator<Item = &(Instant, TxId, Timer)> {
        self.set.iter()
    }
}
