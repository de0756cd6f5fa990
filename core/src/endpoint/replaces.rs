//! The transfer target's side of attended transfer: an INVITE with `Replaces` (RFC 3891 §3)
//! names a dialog of ours; this module decides which call it replaces, or how to refuse it.
//! The new call is then an ordinary incoming call that carries the link, and answering it
//! ends the replaced one (`calls::end_replaced`).

use super::{CallId, Endpoint};
use crate::dialog::{DialogId, DialogKey};
use crate::hashed::{Keys, Table};
use crate::msg::{Header, HeaderName, Message};
use crate::time::Instant;
use alloc::collections::VecDeque;

/// Most ended dialogs remembered.
const MAX_ENDED: usize = 1024;

/// Dialogs that ended recently (for 64·T1, and at most [`MAX_ENDED`] of them): a `Replaces`
/// naming one is declined 603 rather than 481 (RFC 3891 §3).
#[derive(Clone, Debug)]
pub(crate) struct Ended {
    by_id: Table<DialogId, Instant>,
    /// Oldest first, each with the hash it is kept under (to be found again without
    /// hashing it again).
    order: VecDeque<(Instant, u64, DialogId)>,
}

impl Ended {
    pub(crate) fn new(keys: Keys) -> Self {
        Ended {
            by_id: Table::new(keys),
            order: VecDeque::new(),
        }
    }

    /// `id` ended; remember it until `until`. `h` is its hash in any table of the
    /// endpoint's ([`Table::hash`]). Whether it is the only one: the caller then arms
    /// [`super::Timer::ForgetDialog`] for `until`, one timer for them all (they are
    /// remembered for the same time, so they go in the order they came).
    pub(crate) fn insert(&mut self, h: u64, id: DialogId, until: Instant) -> bool {
        let first = self.order.is_empty();
        if self.order.len() >= MAX_ENDED {
            if let Some((_, oh, old)) = self.order.pop_front() {
                self.by_id.remove_hashed(oh, &old);
            }
        }
        self.by_id.insert_hashed(h, id.clone(), until);
        self.order.push_back((until, h, id));
        first
    }

    /// Forgets what is due at `now`; when the next one is due, if any (the caller arms
    /// [`super::Timer::ForgetDialog`] again for then).
    pub(crate) fn prune(&mut self, now: Instant) -> Option<Instant> {
        while let Some((until, _, _)) = self.order.front() {
            if *until > now {
                break;
            }
            let (_, h, id) = self.order.pop_front().expect("front");
            // Unless remembered again since, with a later end.
            if self.by_id.get_hashed(h, &id).is_some_and(|&u| u <= now) {
                self.by_id.remove_hashed(h, &id);
            }
        }
        if self.order.is_empty() {
            // Back to nothing after a burst: give the memory back.
            self.order = VecDeque::new();
        }
        self.order.front().map(|e| e.0)
    }

    pub(crate) fn contains(&self, id: &DialogId, now: Instant) -> bool {
        self.by_id.get(id).is_some_and(|&until| until > now)
    }
}

impl Endpoint {
    /// RFC 3891 §3 for a new INVITE: `Ok(None)` without `Replaces`; `Ok(Some(call))` for the
    /// call it may replace; else the response that refuses it:
    /// - 400: more than one `Replaces`, or a `Join` beside it (contradictory semantics);
    /// - 481: no dialog of ours matches ("the to-tag parameter is compared to the local tag,
    ///   and the from-tag parameter is compared to the remote tag"), or it matches an early
    ///   dialog this UA did not initiate;
    /// - 486: it matches a confirmed dialog and carries `early-only`;
    /// - 603: it matches a dialog that has already terminated.
    ///
    /// Every dialog of ours was created by an INVITE, so the RFC's 481 for other dialogs
    /// cannot arise.
    pub(super) fn replaces_target(&self, request: &Message) -> Result<Option<CallId>, u16> {
        let mut all = request
            .headers
            .iter_for(HeaderName::Replaces)
            .filter_map(|h| match h {
                Header::Replaces(r) => Some(r),
                _ => None,
            });
        let Some(r) = all.next() else {
            return Ok(None);
        };
        let join = request.headers.iter().any(|h| {
            matches!(h, Header::Extension { name, .. } if name.as_str().eq_ignore_ascii_case("Join"))
        });
        if all.next().is_some() || join {
            return Err(400);
        }
        let id = DialogKey::new(&r.call_id, r.to_tag(), r.from_tag());
        if let Some(call) = self.early_dialog_call(id) {
            // Our own INVITE, still early: replaceable (it will be cancelled).
            return Ok(Some(call));
        }
        if let Some(call) = self.dialog_call(id) {
            let c = self.calls.get(&call).ok_or(481u16)?;
            return match (c.confirmed(), r.early_only()) {
                (true, true) => Err(486),
                (true, false) => Ok(Some(call)),
                // An early dialog of an INVITE we received: not ours to replace.
                (false, _) => Err(481),
            };
        }
        if self.ended.contains(&id.to_id(), self.now) {
            return Err(603);
        }
        Err(481)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::SipStr;

    fn id(n: u32) -> DialogId {
        DialogId {
            call_id: SipStr::from(alloc::format!("call-{n}@example.com").as_str()),
            local_tag: SipStr::from(alloc::format!("ours-{n}").as_str()),
            remote_tag: SipStr::from(alloc::format!("theirs-{n}").as_str()),
        }
    }

    fn at(s: u64) -> Instant {
        Instant::from_millis(s * 1000)
    }

    /// One timer serves them all: the first remembered asks for it, each prune says when the
    /// next is due, and what is due is forgotten, in the order it ended.
    #[test]
    fn ended_dialogs_are_forgotten_in_order_with_one_timer() {
        let mut e = Ended::new(Keys::from_seed([3; 32]));
        let h = |e: &Ended, n| e.by_id.hash(&id(n));
        assert!(
            e.insert(h(&e, 1), id(1), at(32)),
            "the first arms the timer"
        );
        assert!(!e.insert(h(&e, 2), id(2), at(40)));
        assert!(!e.insert(h(&e, 3), id(3), at(40)));
        assert!(e.contains(&id(1), at(31)) && !e.contains(&id(1), at(32)));
        assert_eq!(e.prune(at(32)), Some(at(40)));
        assert_eq!(e.by_id.len(), 2);
        assert!(e.contains(&id(2), at(39)) && e.contains(&id(3), at(39)));
        assert_eq!(e.prune(at(40)), None);
        assert_eq!(e.by_id.len(), 0);
        // Empty again: the next one arms the timer again.
        assert!(e.insert(h(&e, 4), id(4), at(80)));
        // Remembered again with a later end before its first end is pruned: kept.
        assert!(!e.insert(h(&e, 4), id(4), at(90)));
        assert_eq!(e.prune(at(80)), Some(at(90)));
        assert!(e.contains(&id(4), at(85)));
        assert_eq!(e.prune(at(90)), None);
        assert!(!e.contains(&id(4), at(85)));
    }

    #[test]
    fn at_most_max_ended_are_remembered() {
        let mut e = Ended::new(Keys::from_seed([4; 32]));
        for n in 0..MAX_ENDED as u32 + 10 {
            let h = e.by_id.hash(&id(n));
            e.insert(h, id(n), at(32));
        }
        assert_eq!(e.by_id.len(), MAX_ENDED);
        assert!(!e.contains(&id(9), at(0)) && e.contains(&id(10), at(0)));
        assert_eq!(e.prune(at(32)), None);
        assert_eq!(e.by_id.len(), 0);
    }
}
