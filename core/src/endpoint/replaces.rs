//! The transfer target's side of attended transfer: an INVITE with `Replaces` (RFC 3891 §3)
//! names a dialog of ours; this module decides which call it replaces, or how to refuse it.
//! The new call is then an ordinary incoming call that carries the link, and answering it
//! ends the replaced one (`calls::end_replaced`).

use super::{CallId, Endpoint};
use crate::dialog::DialogId;
use crate::hashed::{Keys, Table};
use crate::msg::{Header, Message};
use crate::time::Instant;
use alloc::collections::VecDeque;

/// Most ended dialogs remembered.
const MAX_ENDED: usize = 1024;

/// Dialogs that ended recently (for 64·T1, and at most [`MAX_ENDED`] of them): a `Replaces`
/// naming one is declined 603 rather than 481 (RFC 3891 §3).
#[derive(Clone, Debug)]
pub(crate) struct Ended {
    by_id: Table<DialogId, Instant>,
    order: VecDeque<(Instant, DialogId)>,
}

impl Ended {
    pub(crate) fn new(keys: Keys) -> Self {
        Ended {
            by_id: Table::new(keys),
            order: VecDeque::new(),
        }
    }

    /// `id` ended; remember it until `until` (a [`super::Timer::ForgetDialog`] fires then).
    pub(crate) fn insert(&mut self, id: DialogId, until: Instant) {
        if self.order.len() >= MAX_ENDED {
            if let Some((_, old)) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
        self.by_id.insert(id.clone(), until);
        self.order.push_back((until, id));
    }

    /// Forgets what is due at `now`.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some((until, _)) = self.order.front() {
            if *until > now {
                break;
            }
            let (_, id) = self.order.pop_front().expect("front");
            if self.by_id.get(&id).is_some_and(|&u| u <= now) {
                self.by_id.remove(&id);
            }
        }
        if self.order.is_empty() {
            // Back to nothing after a burst: give the memory back.
            self.order = VecDeque::new();
        }
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
        let mut all = request.headers.iter().filter_map(|h| match h {
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
        let id = DialogId {
            call_id: r.call_id.clone(),
            local_tag: r.to_tag().into(),
            remote_tag: r.from_tag().into(),
        };
        if let Some(&call) = self.early_dialogs.get(&id) {
            // Our own INVITE, still early: replaceable (it will be cancelled).
            return Ok(Some(call));
        }
        if let Some(&call) = self.dialogs.get(&id) {
            let c = self.calls.get(&call).ok_or(481u16)?;
            return match (c.confirmed(), r.early_only()) {
                (true, true) => Err(486),
                (true, false) => Ok(Some(call)),
                // An early dialog of an INVITE we received: not ours to replace.
                (false, _) => Err(481),
            };
        }
        if self.ended.contains(&id, self.now) {
            return Err(603);
        }
        Err(481)
    }
}
